//! RocksDB storage of the chain.
//!
//! Column families:
//!
//! | family | key | value |
//! |---|---|---|
//! | `meta` | `tip`, `genesis` | block hash |
//! | `meta` | `utxo_stats/` ‖ height (BE) | [`UtxoStats`] after that best-chain block |
//! | `block_index` | block hash | [`IndexEntry`]: header, chain work, status |
//! | `blocks` | block hash | the block's transactions |
//! | `height` | height (big-endian u64) | best-chain block hash |
//! | `utxo` | txid ++ index (BE) | [`Coin`] |
//! | `undo` | block hash | [`BlockUndo`] |
//! | `tx_index` | txid | best-chain block hash and position |
//! | `addr_index` | sha256(script_pubkey) ++ utxo key | [`Coin`] |
//! | `contracts` | contract state key (`A`/`C`/`S` ‖ …, see `i8o8i_contract_engine::state`) | account, code or storage value |
//! | `receipts` | txid | [`Receipt`] |
//! | `events` | contract ‖ height (BE) ‖ tx position (BE u32) ‖ event index (BE u16) | [`EventRecord`] |
//! | `addr_history` | sha256(script_pubkey) ‖ height (BE) ‖ tx position (BE u32) | [`HistoryRecord`]: what the transaction paid and spent of the script ([`history`]) |
//! | `state_nodes` | a tree position (`NodePath::to_key`), `0xff` for the root, `0xfe` for the root the saved upper levels belong to | a tree node, or a root's content ([`state_tree`]) |
//!
//! Connecting or disconnecting a block is a single `WriteBatch` that also moves `tip`, so a
//! crash at any moment leaves the store at a block boundary: the UTXO set, the indexes and the
//! tip always describe the same chain.
//!
//! The state tree's upper levels (depth ≤ [`TREE_MEMORY_LEVELS`]) are the exception: every
//! block rewrites most of them, so they live in memory and reach the disk only when the store
//! closes, with the root they belong to. A store that did not close cleanly rebuilds them at
//! open from the state itself (a full scan, what `storage.verify_state` costs), and refuses to
//! open if the state does not give the stored root.

mod history;

use crate::state_tree::{self, StoredNodes};
use history::CF_HISTORY;
pub use history::{HistoryAtTip, HistoryEntry, HistoryRecord};
pub use i8o8i_contract_engine::state::KeyValues;
use i8o8i_primitives::state_proof;
use i8o8i_primitives::state_tree::{Child, Join, Node, NodePath, NodeSource, TreeUpdate};
use i8o8i_primitives::{Amount, Hash256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use i8o8i_contract_engine::ContractStateReader;
use i8o8i_primitives::Coin;
use i8o8i_primitives::contract::{Event, Receipt};
use i8o8i_primitives::{
    Block, BlockHash, ContractAddress, Header, OutPoint, Transaction, Txid, U256,
};
use i8o8i_primitives::{StoreError, UtxoSetInfo};
use i8o8i_runtime::consensus::HeaderReader;
use i8o8i_runtime::contract::payload_terms;
use i8o8i_runtime::state::{
    BlockChanges, BlockUndo, UtxoReader, UtxoSetHasher, is_unspendable, utxo_key,
};
use i8o8i_script_vm::Script;
use parity_scale_codec::{Decode, Encode};
use rocksdb::{ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch};
use sha2::{Digest, Sha256};

const CF_META: &str = "meta";
const CF_INDEX: &str = "block_index";
const CF_BLOCKS: &str = "blocks";
const CF_HEIGHT: &str = "height";
const CF_UTXO: &str = "utxo";
const CF_UNDO: &str = "undo";
const CF_TX_INDEX: &str = "tx_index";
const CF_ADDR_INDEX: &str = "addr_index";
/// Network bookkeeping (bans, known peers): not chain state, never in a block's write batch.
const CF_PEERS: &str = "peers";
const CF_CONTRACTS: &str = "contracts";
const CF_RECEIPTS: &str = "receipts";
const CF_EVENTS: &str = "events";
/// The state commitment's tree: its nodes by position and its root ([`state_tree`]).
const CF_TREE: &str = "state_nodes";
const COLUMN_FAMILIES: [&str; 14] = [
    CF_META,
    CF_INDEX,
    CF_BLOCKS,
    CF_HEIGHT,
    CF_UTXO,
    CF_UNDO,
    CF_TX_INDEX,
    CF_ADDR_INDEX,
    CF_PEERS,
    CF_CONTRACTS,
    CF_RECEIPTS,
    CF_EVENTS,
    CF_TREE,
    CF_HISTORY,
];

/// Families only read by prefix scans: no bloom filter.
const SCANNED_FAMILIES: [&str; 3] = [CF_ADDR_INDEX, CF_EVENTS, CF_HISTORY];

/// An event with where it was emitted.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct EventRecord {
    /// The transaction.
    pub txid: Txid,
    /// Height of its block.
    pub height: u64,
    /// The event.
    pub event: Event,
}

fn event_key(contract: &ContractAddress, height: u64, position: u32, index: u16) -> [u8; 46] {
    let mut k = [0u8; 46];
    k[..32].copy_from_slice(contract.as_bytes());
    k[32..40].copy_from_slice(&height.to_be_bytes());
    k[40..44].copy_from_slice(&position.to_be_bytes());
    k[44..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Coins read from one snapshot of the store, with the tip of that snapshot.
pub type CoinsAtTip = (Option<BlockHash>, Vec<(OutPoint, Coin)>);

const KEY_TIP: &[u8] = b"tip";
const KEY_GENESIS: &[u8] = b"genesis";
const KEY_IRREVERSIBLE: &[u8] = b"irreversible";
/// The lowest best-chain height whose body and undo data are still stored (absent: all are).
const KEY_LOWEST_BLOCK: &[u8] = b"lowest_block";
/// Prefix of the per-height UTXO-set counters ([`UtxoStats`]) in the meta family.
const UTXO_STATS_PREFIX: &[u8] = b"utxo_stats/";

fn utxo_stats_key(height: u64) -> Vec<u8> {
    [UTXO_STATS_PREFIX, &height.to_be_bytes()].concat()
}

/// How many coins the UTXO set holds and their total, after a block: kept per height of the
/// best chain in the block's write batch, so the summary needs no scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode)]
pub struct UtxoStats {
    /// Coins.
    pub count: u64,
    /// Their total value.
    pub total: Amount,
}

/// Prefix of the per-block producer schedule records in the meta family.
const ERA_PREFIX: &[u8] = b"era/";

fn era_key(hash: &BlockHash) -> Vec<u8> {
    [ERA_PREFIX, hash.as_bytes()].concat()
}

/// Validation status of a stored block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum BlockStatus {
    /// Header and body stored and context-free checks passed; not yet connected.
    Stored,
    /// Connected to the UTXO set at least once: fully valid.
    Valid,
    /// Failed validation; never to be connected, nor its descendants.
    Invalid,
}

/// What the store knows about a block besides its body.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct IndexEntry {
    /// The header.
    pub header: Header,
    /// Cumulative fork-choice weight from genesis to this block (big-endian U256).
    pub chain_work: [u8; 32],
    /// Validation status.
    pub status: BlockStatus,
}

impl IndexEntry {
    /// Chain work as a number.
    pub fn work(&self) -> U256 {
        U256::from_big_endian(&self.chain_work)
    }
}

/// Where a confirmed transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct TxLocation {
    /// The block containing it.
    pub block: BlockHash,
    /// Its position in the block.
    pub position: u32,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(e)
}

fn decode<T: Decode>(bytes: &[u8], what: &'static str) -> Result<T, StoreError> {
    T::decode(&mut &bytes[..]).map_err(|e| StoreError::corrupt(what, e))
}

/// The key prefix grouping a script's outputs in the address index.
pub fn script_key(script: &Script) -> [u8; 32] {
    Sha256::digest(script.as_bytes()).into()
}

/// The chain store.
pub struct Store {
    db: DB,
    /// The state tree's upper levels, encoded, as of the tip: every block's update passes
    /// through them. Held (for reading) while a snapshot is taken and (for writing) across a
    /// block's write and their update, so a snapshot and these levels always belong together.
    /// Lookups only (no iteration), so the map's order reaches nothing.
    top_nodes: RwLock<HashMap<NodePath, Box<[u8]>>>,
    /// Whether `top_nodes` were loaded: a store that failed to open must not save them.
    top_loaded: std::sync::atomic::AtomicBool,
}

/// How many nibbles deep the store keeps tree nodes in memory instead of on disk: levels 0 to
/// 4, at most 69,905 nodes however large the state grows (~15 MB encoded at 200,000 entries,
/// ~40 MB from about a million on; 67 MB if every node held 16 leaves). A full block changes
/// nearly all of levels 0 to 3 and thousands of level 4: writing them each time was nearly
/// all of the commitment's write cost, and reading level 4 a third of its computation.
pub const TREE_MEMORY_LEVELS: usize = 4;

/// A committed state entry: tree key, value.
type Entry = (Vec<u8>, Vec<u8>);

/// Where the root the saved upper levels belong to is stored (no node path encodes to it).
const TOP_ROOT_KEY: &[u8] = &[0xfe];

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.db.path())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` with the default block cache.
    ///
    /// # Errors
    /// If RocksDB cannot open the directory (in use by another process, corrupt, no permission).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(path, i8o8i_config::CacheMb::default().bytes())
    }

    /// Opens (creating if needed) the store at `path` with a block cache of `cache_bytes`
    /// (`storage.cache_mb`).
    ///
    /// Point lookups — a coin, a transaction's place, a block, a state-tree node — go through
    /// a bloom filter per table file (10 bits a key, about 1 % false positives; Bitcoin Core
    /// gives its LevelDB the same): a key that is not there, as most looked-up transaction ids
    /// and spent coins are not, costs a filter probe per file instead of an index and data
    /// block read. Filters and indexes live in the one block cache, so memory stays what the
    /// operator set.
    ///
    /// # Errors
    /// If RocksDB cannot open the directory (in use by another process, corrupt, no permission).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        opts.set_max_open_files(512);
        let cache = rocksdb::Cache::new_lru_cache(cache_bytes);
        let cfs = COLUMN_FAMILIES.iter().map(|name| {
            let mut table = rocksdb::BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_cache_index_and_filter_blocks(true);
            table.set_pin_l0_filter_and_index_blocks_in_cache(true);
            // Families read by prefix scans (an address's coins and history, a contract's
            // events) gain nothing from whole-key filters.
            if !SCANNED_FAMILIES.contains(name) {
                table.set_bloom_filter(10.0, false);
            }
            let mut cf_opts = Options::default();
            cf_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
            cf_opts.set_block_based_table_factory(&table);
            ColumnFamilyDescriptor::new(*name, cf_opts)
        });
        // A family this version does not know (an older layout's) would make RocksDB refuse
        // with a message naming neither the cause nor the way out.
        if let Ok(existing) = DB::list_cf(&opts, path)
            && let Some(unknown) = existing
                .iter()
                .find(|name| *name != "default" && !COLUMN_FAMILIES.contains(&name.as_str()))
        {
            return Err(StoreError::Inconsistent(format!(
                "the data directory {} was written by another version of this node (it has the \
                 column family `{unknown}`); delete it and sync again",
                path.display()
            )));
        }
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(|e| {
            StoreError::Backend(format!("cannot open database at {}: {e}", path.display()))
        })?;
        let store = Store {
            db,
            top_nodes: RwLock::default(),
            top_loaded: false.into(),
        };
        store.load_tree_top()?;
        store.fill_history()?;
        Ok(store)
    }

    /// Fills the tree's upper levels in memory: as saved when the store last closed if they
    /// belong to the stored root, or else rebuilt from the state (which must give that root).
    fn load_tree_top(&self) -> Result<(), StoreError> {
        let Some(root) = self.get(CF_TREE, state_tree::ROOT_KEY)? else {
            // A new store: genesis writes the first root.
            self.top_loaded
                .store(true, std::sync::atomic::Ordering::Release);
            return Ok(());
        };
        let mut top = HashMap::new();
        if self.get(CF_TREE, TOP_ROOT_KEY)?.as_deref() == Some(&root[..]) {
            let upper = [TREE_MEMORY_LEVELS as u8 + 1];
            let mode = IteratorMode::Start;
            for item in self.db.iterator_cf(self.cf(CF_TREE), mode) {
                let (key, node) = item.map_err(err)?;
                if key[..] >= upper[..] {
                    break;
                }
                let path = NodePath::from_key(&key)
                    .ok_or_else(|| StoreError::corrupt("state tree", "a node key"))?;
                top.insert(path, node);
            }
        } else {
            let snapshot = self.db.snapshot();
            let tip = self
                .snapshot_tip_and_root(&snapshot)?
                .ok_or_else(|| StoreError::Inconsistent("a state tree but no tip".into()))?;
            let started = std::time::Instant::now();
            let built = i8o8i_primitives::state_tree::build_of_entries(
                self.state_entries(&snapshot, tip.height)?,
            )?;
            if built.root.hash() != *tip.state_root.as_bytes() {
                return Err(StoreError::Inconsistent(format!(
                    "the state in this data directory does not give the state root stored with \
                     its tip (height {}: stored {}, the state hashes to {}): it was changed \
                     outside the node or damaged; delete the data directory and sync again",
                    tip.height,
                    tip.state_root,
                    Hash256::from_byte_array(built.root.hash())
                )));
            }
            top.extend(built.nodes.into_iter().filter_map(|(path, node)| {
                Some((path, node?.encode().into())).filter(|_| path.len() <= TREE_MEMORY_LEVELS)
            }));
            tracing::info!(height = tip.height, elapsed = ?started.elapsed(), "the store was not closed cleanly: rebuilt the state tree's upper levels from the state");
        }
        *self.top_nodes.write().unwrap_or_else(|p| p.into_inner()) = top;
        self.top_loaded
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// A copy of the store at `path` as it is now on disk: what a crash at this moment would
    /// leave behind (the in-memory tree levels not saved).
    #[cfg(test)]
    pub(crate) fn checkpoint(&self, path: &Path) -> Result<(), StoreError> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(path))
            .map_err(err)
    }

    /// Saves the tree's upper levels with the root they belong to, so the next open need not
    /// rebuild them (done when the store closes).
    ///
    /// # Errors
    /// Storage failures (the next open then rebuilds them).
    pub fn save_tree_top(&self) -> Result<(), StoreError> {
        if !self.top_loaded.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(());
        }
        let top = self.top_nodes.write().unwrap_or_else(|p| p.into_inner());
        let Some(root) = self.get(CF_TREE, state_tree::ROOT_KEY)? else {
            return Ok(());
        };
        let mut batch = WriteBatch::default();
        let cf = self.cf(CF_TREE);
        batch.delete_range_cf(cf, [0u8], [TREE_MEMORY_LEVELS as u8 + 1]);
        for (path, node) in top.iter() {
            batch.put_cf(cf, path.to_key(), node);
        }
        batch.put_cf(cf, TOP_ROOT_KEY, root);
        self.db.write(batch).map_err(err)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        // Every family is created in `open`; a missing one is a broken invariant, not bad input.
        self.db
            .cf_handle(name)
            .expect("column family created at open")
    }

    fn get(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.cf(cf), key).map_err(err)
    }

    fn get_hash(&self, cf: &str, key: &[u8]) -> Result<Option<BlockHash>, StoreError> {
        match self.get(cf, key)? {
            Some(v) => {
                let bytes: [u8; 32] = v.as_slice().try_into().map_err(|_| {
                    StoreError::corrupt("block hash", format!("{} bytes in {cf}", v.len()))
                })?;
                Ok(Some(BlockHash::from_byte_array(bytes)))
            }
            None => Ok(None),
        }
    }

    /// The genesis hash this store was created with.
    ///
    /// # Errors
    /// Storage failures.
    pub fn genesis(&self) -> Result<Option<BlockHash>, StoreError> {
        self.get_hash(CF_META, KEY_GENESIS)
    }

    /// The best-chain tip.
    ///
    /// # Errors
    /// Storage failures.
    pub fn tip(&self) -> Result<Option<BlockHash>, StoreError> {
        self.get_hash(CF_META, KEY_TIP)
    }

    /// The lowest best-chain height whose block body and undo data are stored: 0 unless the
    /// node prunes.
    ///
    /// # Errors
    /// Storage failures or a corrupt record.
    pub fn lowest_block(&self) -> Result<u64, StoreError> {
        match self.get(CF_META, KEY_LOWEST_BLOCK)? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::corrupt("lowest block", "not 8 bytes")),
        }
    }

    /// Deletes the bodies and undo data of the best-chain blocks from the current lowest
    /// block up to (not including) `height`, at most `max` of them in one write, and records
    /// the new lowest block. Headers, the height index, receipts and events stay. Returns how
    /// many blocks were pruned.
    ///
    /// # Errors
    /// Storage failures; nothing is deleted then.
    pub fn prune_below(&self, height: u64, max: u64) -> Result<u64, StoreError> {
        let from = self.lowest_block()?;
        let to = height.min(from.saturating_add(max));
        if to <= from {
            return Ok(0);
        }
        let mut batch = WriteBatch::default();
        for h in from..to {
            // Genesis keeps its body: every node can serve it.
            if h == 0 {
                continue;
            }
            if let Some(hash) = self.hash_at(h)? {
                batch.delete_cf(self.cf(CF_BLOCKS), hash.as_bytes());
                batch.delete_cf(self.cf(CF_UNDO), hash.as_bytes());
            }
        }
        batch.put_cf(self.cf(CF_META), KEY_LOWEST_BLOCK, to.to_be_bytes());
        self.db.write(batch).map_err(err)?;
        Ok(to - from)
    }

    /// The last irreversible (final) block `(height, hash)` of PoS / DPoS as last recorded.
    ///
    /// # Errors
    /// Storage failures or a corrupt record.
    pub fn irreversible(&self) -> Result<Option<(u64, BlockHash)>, StoreError> {
        let Some(v) = self.get(CF_META, KEY_IRREVERSIBLE)? else {
            return Ok(None);
        };
        let (height, hash) = <(u64, [u8; 32])>::decode(&mut &v[..])
            .map_err(|e| StoreError::corrupt("irreversible block", e))?;
        Ok(Some((height, BlockHash::from_byte_array(hash))))
    }

    /// Records the last irreversible (final) block, so a restart keeps refusing reorganisations
    /// below it. Written on its own after the tip moved: a crash in between leaves an older
    /// (still irreversible) record.
    ///
    /// # Errors
    /// Storage failures.
    pub fn put_irreversible(&self, height: u64, hash: &BlockHash) -> Result<(), StoreError> {
        self.db
            .put_cf(
                self.cf(CF_META),
                KEY_IRREVERSIBLE,
                (height, hash.to_byte_array()).encode(),
            )
            .map_err(StoreError::backend)
    }

    /// The producer schedule (an encoded `Era`) as of the slot-engine block `hash`, if
    /// recorded: what checking a child's producer at import needs when the child does not
    /// build on the tip.
    ///
    /// # Errors
    /// Storage failures.
    pub fn producer_era(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(CF_META, &era_key(hash))
    }

    /// Records the producer schedule as of the slot-engine block `hash`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn put_producer_era(&self, hash: &BlockHash, era: &[u8]) -> Result<(), StoreError> {
        self.db
            .put_cf(self.cf(CF_META), era_key(hash), era)
            .map_err(StoreError::backend)
    }

    /// Stores the genesis block and connects it (its premine outputs become coins).
    ///
    /// # Errors
    /// Storage failures.
    pub fn init_genesis(&self, genesis: &Block, work: U256) -> Result<(), StoreError> {
        let hash = genesis.header.hash();
        let entry = IndexEntry {
            header: genesis.header.clone(),
            chain_work: work.to_big_endian(),
            status: BlockStatus::Valid,
        };
        self.put_block(genesis, &entry)?;
        let coinbase = &genesis.transactions[0];
        let txid = coinbase.txid();
        // The premine is spendable at once: it is an allocation, not a mined reward.
        let created = coinbase
            .outputs
            .iter()
            .enumerate()
            .filter(|(_, o)| !is_unspendable(o))
            .map(|(i, o)| {
                (
                    OutPoint {
                        txid,
                        index: i as u32,
                    },
                    Coin {
                        output: o.clone(),
                        height: 0,
                        coinbase: false,
                    },
                )
            })
            .collect();
        let changes = BlockChanges {
            spent: Vec::new(),
            created,
            fees: i8o8i_primitives::Amount::ZERO,
            ..BlockChanges::default()
        };
        let tree = i8o8i_primitives::state_tree::update(
            &i8o8i_primitives::state_tree::NoNodes,
            &i8o8i_primitives::state_tree::Child::Empty,
            &state_tree::block_changes(0, &changes),
        )?;
        if tree.root.hash() != *genesis.header.state_root.as_bytes() {
            return Err(StoreError::Inconsistent(format!(
                "the genesis header commits to state root {}, its allocations make {}",
                genesis.header.state_root,
                Hash256::from_byte_array(tree.root.hash())
            )));
        }
        self.connect(genesis, &changes, &tree)?;
        self.db
            .put_cf(self.cf(CF_META), KEY_GENESIS, hash.as_bytes())
            .map_err(err)
    }

    /// Stores a block's header, body and index entry (not connected).
    ///
    /// # Errors
    /// Storage failures.
    pub fn put_block(&self, block: &Block, entry: &IndexEntry) -> Result<(), StoreError> {
        let hash = block.header.hash();
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(CF_BLOCKS),
            hash.as_bytes(),
            block.transactions.encode(),
        );
        batch.put_cf(self.cf(CF_INDEX), hash.as_bytes(), entry.encode());
        self.db.write(batch).map_err(err)
    }

    /// Updates a block's index entry (status changes).
    ///
    /// # Errors
    /// Storage failures.
    pub fn put_index_entry(&self, hash: &BlockHash, entry: &IndexEntry) -> Result<(), StoreError> {
        self.db
            .put_cf(self.cf(CF_INDEX), hash.as_bytes(), entry.encode())
            .map_err(err)
    }

    /// Every index entry (loaded into memory at start-up).
    ///
    /// # Errors
    /// Storage failures or corrupt records.
    pub fn index_entries(&self) -> Result<Vec<(BlockHash, IndexEntry)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_INDEX), IteratorMode::Start) {
            let (k, v) = item.map_err(err)?;
            let key: [u8; 32] = k
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::corrupt("block index key", "not 32 bytes"))?;
            out.push((BlockHash::from_byte_array(key), decode(&v, "block index")?));
        }
        Ok(out)
    }

    /// A block's index entry.
    ///
    /// # Errors
    /// Storage failures or a corrupt record.
    pub fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError> {
        self.get(CF_INDEX, hash.as_bytes())?
            .map(|v| decode(&v, "block index"))
            .transpose()
    }

    /// A stored block.
    ///
    /// # Errors
    /// Storage failures or a corrupt record.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        let Some(entry) = self.index_entry(hash)? else {
            return Ok(None);
        };
        let Some(body) = self.get(CF_BLOCKS, hash.as_bytes())? else {
            return Ok(None);
        };
        let transactions: Vec<Transaction> = decode(&body, "block body")?;
        Ok(Some(Block {
            header: entry.header,
            transactions,
        }))
    }

    /// The best-chain block hash at `height`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn hash_at(&self, height: u64) -> Result<Option<BlockHash>, StoreError> {
        self.get_hash(CF_HEIGHT, &height.to_be_bytes())
    }

    /// Where a best-chain transaction is.
    ///
    /// # Errors
    /// Storage failures.
    pub fn tx_location(&self, txid: &Txid) -> Result<Option<TxLocation>, StoreError> {
        self.get(CF_TX_INDEX, txid.as_bytes())?
            .map(|v| decode(&v, "tx index"))
            .transpose()
    }

    /// Unspent outputs locked by `script`, in outpoint order.
    ///
    /// # Errors
    /// Storage failures or corrupt records.
    pub fn coins_for_script(&self, script: &Script) -> Result<Vec<(OutPoint, Coin)>, StoreError> {
        Ok(self.coins_for_script_page(script, None, usize::MAX)?.1)
    }

    /// At most `limit` unspent outputs locked by `script` that come after `after` in outpoint
    /// order, read from one snapshot of the store, with the tip of that snapshot: a reader
    /// pairs them with the pool only if the pool is in line with that tip.
    ///
    /// # Errors
    /// Storage failures or corrupt records.
    pub fn coins_for_script_page(
        &self,
        script: &Script,
        after: Option<&OutPoint>,
        limit: usize,
    ) -> Result<CoinsAtTip, StoreError> {
        let snapshot = self.db.snapshot();
        let mut out = Vec::new();
        self.scan_script(&snapshot, script, after, limit, &mut out)?;
        Ok((self.snapshot_tip(&snapshot)?, out))
    }

    /// Unspent outputs locked by any of `scripts` (script by script, each in outpoint order),
    /// read from one snapshot, with its tip.
    ///
    /// # Errors
    /// Storage failures or corrupt records.
    pub fn coins_for_scripts(&self, scripts: &[&Script]) -> Result<CoinsAtTip, StoreError> {
        let snapshot = self.db.snapshot();
        let mut out = Vec::new();
        for script in scripts {
            self.scan_script(&snapshot, script, None, usize::MAX, &mut out)?;
        }
        Ok((self.snapshot_tip(&snapshot)?, out))
    }

    fn snapshot_tip(
        &self,
        snapshot: &rocksdb::Snapshot<'_>,
    ) -> Result<Option<BlockHash>, StoreError> {
        snapshot
            .get_cf(self.cf(CF_META), KEY_TIP)
            .map_err(err)?
            .map(|v| {
                <[u8; 32]>::try_from(v.as_slice())
                    .map(BlockHash::from_byte_array)
                    .map_err(|_| StoreError::corrupt("block hash", "tip of the wrong length"))
            })
            .transpose()
    }

    /// Appends to `out` at most `limit` coins of `script` after `after`, from `snapshot`.
    fn scan_script(
        &self,
        snapshot: &rocksdb::Snapshot<'_>,
        script: &Script,
        after: Option<&OutPoint>,
        limit: usize,
        out: &mut Vec<(OutPoint, Coin)>,
    ) -> Result<(), StoreError> {
        let prefix = script_key(script);
        let mut start = prefix.to_vec();
        if let Some(after) = after {
            start.extend_from_slice(&utxo_key(after));
            // The first key after `after`'s own.
            start.push(0);
        }
        let iter = snapshot.iterator_cf(
            self.cf(CF_ADDR_INDEX),
            IteratorMode::From(&start, Direction::Forward),
        );
        for (taken, item) in iter.enumerate() {
            if taken >= limit {
                break;
            }
            let (k, v) = item.map_err(err)?;
            if !k.starts_with(&prefix) {
                break;
            }
            let (txid, index) = k[32..].split_at(32);
            let txid: [u8; 32] = txid
                .try_into()
                .map_err(|_| StoreError::corrupt("address index key", "bad length"))?;
            let index: [u8; 4] = index
                .try_into()
                .map_err(|_| StoreError::corrupt("address index key", "bad length"))?;
            out.push((
                OutPoint {
                    txid: Txid::from_byte_array(txid),
                    index: u32::from_be_bytes(index),
                },
                decode(&v, "coin")?,
            ));
        }
        Ok(())
    }

    fn put_coin(&self, batch: &mut WriteBatch, op: &OutPoint, coin: &Coin) {
        let key = utxo_key(op);
        let value = coin.encode();
        batch.put_cf(self.cf(CF_UTXO), key, &value);
        let mut addr_key = script_key(&coin.output.script_pubkey).to_vec();
        addr_key.extend_from_slice(&key);
        batch.put_cf(self.cf(CF_ADDR_INDEX), addr_key, &value);
    }

    fn delete_coin(&self, batch: &mut WriteBatch, op: &OutPoint, script: &Script) {
        let key = utxo_key(op);
        batch.delete_cf(self.cf(CF_UTXO), key);
        let mut addr_key = script_key(script).to_vec();
        addr_key.extend_from_slice(&key);
        batch.delete_cf(self.cf(CF_ADDR_INDEX), addr_key);
    }

    /// Connects `block` (already validated, `changes` from `connect_block`, `tree` the state
    /// tree's update for them from [`Store::tree_update`]) and makes it the tip, in one atomic
    /// write.
    ///
    /// # Errors
    /// Storage failures; nothing is written then.
    pub fn connect(
        &self,
        block: &Block,
        changes: &BlockChanges,
        tree: &TreeUpdate,
    ) -> Result<(), StoreError> {
        let hash = block.header.hash();
        let mut batch = WriteBatch::default();
        self.write_tree(&mut batch, tree);
        let height = block.header.height;
        let before = match height {
            0 => UtxoStats::default(),
            h => self.utxo_stats(h - 1)?.ok_or_else(|| {
                StoreError::Inconsistent(format!("no UTXO-set counters at height {}", h - 1))
            })?,
        };
        let after = before.after(changes).ok_or_else(|| {
            StoreError::Inconsistent(format!("UTXO-set counters out of range at height {height}"))
        })?;
        batch.put_cf(self.cf(CF_META), utxo_stats_key(height), after.encode());
        for (op, coin) in &changes.spent {
            self.delete_coin(&mut batch, op, &coin.output.script_pubkey);
        }
        for (op, coin) in &changes.created {
            self.put_coin(&mut batch, op, coin);
        }
        // Hashed once here for the history and the transaction index (a block connect is
        // the hot path of a busy node).
        let txids: Vec<Txid> = block.transactions.iter().map(|tx| tx.txid()).collect();
        self.put_history(&mut batch, block, &txids, &changes.spent, &changes.appended)?;
        for (key, value) in &changes.contracts.writes {
            match value {
                Some(v) => batch.put_cf(self.cf(CF_CONTRACTS), key, v),
                None => batch.delete_cf(self.cf(CF_CONTRACTS), key),
            }
        }
        for r in &changes.receipts {
            batch.put_cf(self.cf(CF_RECEIPTS), r.txid.as_bytes(), r.receipt.encode());
            for (i, event) in r.receipt.events.iter().enumerate() {
                let record = EventRecord {
                    txid: r.txid,
                    height: block.header.height,
                    event: event.clone(),
                };
                let key = event_key(&event.contract, block.header.height, r.position, i as u16);
                batch.put_cf(self.cf(CF_EVENTS), key, record.encode());
            }
        }
        batch.put_cf(
            self.cf(CF_UNDO),
            hash.as_bytes(),
            BlockUndo {
                spent: changes.spent.clone(),
                appended: changes.appended.clone(),
                contract_undo: changes.contracts.undo.clone(),
            }
            .encode(),
        );
        batch.put_cf(
            self.cf(CF_HEIGHT),
            block.header.height.to_be_bytes(),
            hash.as_bytes(),
        );
        for (position, txid) in (0u32..).zip(&txids) {
            let loc = TxLocation {
                block: hash,
                position,
            };
            batch.put_cf(self.cf(CF_TX_INDEX), txid.as_bytes(), loc.encode());
        }
        batch.put_cf(self.cf(CF_META), KEY_TIP, hash.as_bytes());
        self.write_with_tree(batch, tree)
    }

    /// The undo data of a connected block (`None` if it is not connected or was pruned).
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    pub fn block_undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StoreError> {
        self.get(CF_UNDO, hash.as_bytes())?
            .map(|v| decode(&v, "undo"))
            .transpose()
    }

    /// Disconnects the tip `block`, restoring the coins it spent and making its parent the
    /// tip, in one atomic write. Returns the undo data it applied.
    ///
    /// # Errors
    /// Storage failures, or missing undo data (the block is not connected).
    pub fn disconnect(&self, block: &Block, join: &dyn Join) -> Result<BlockUndo, StoreError> {
        let hash = block.header.hash();
        let undo: BlockUndo = self
            .get(CF_UNDO, hash.as_bytes())?
            .map(|v| decode(&v, "undo"))
            .transpose()?
            .ok_or(StoreError::MissingBlock(hash))?;
        let mut batch = WriteBatch::default();
        let tree = self.tree_update(&state_tree::undo_changes(block, &undo), join)?;
        if tree.root.hash() != *self.parent_state_root(block)?.as_bytes() {
            return Err(StoreError::Inconsistent(format!(
                "undoing block {hash} does not give back its parent's state root"
            )));
        }
        self.write_tree(&mut batch, &tree);
        let txids: Vec<Txid> = block.transactions.iter().map(|tx| tx.txid()).collect();
        self.delete_history(&mut batch, block, &txids, &undo.spent, &undo.appended)?;
        for (op, out) in &undo.appended {
            self.delete_coin(&mut batch, op, &out.script_pubkey);
        }
        for (key, value) in &undo.contract_undo {
            match value {
                Some(v) => batch.put_cf(self.cf(CF_CONTRACTS), key, v),
                None => batch.delete_cf(self.cf(CF_CONTRACTS), key),
            }
        }
        for ((position, tx), &txid) in block.transactions.iter().enumerate().zip(&txids) {
            // Only contract transactions have receipts: no read for the others.
            let receipt = match payload_terms(tx) {
                Some(_) => self.receipt(&txid)?,
                None => None,
            };
            if let Some(receipt) = receipt {
                for (i, event) in receipt.events.iter().enumerate() {
                    let key = event_key(
                        &event.contract,
                        block.header.height,
                        position as u32,
                        i as u16,
                    );
                    batch.delete_cf(self.cf(CF_EVENTS), key);
                }
                batch.delete_cf(self.cf(CF_RECEIPTS), txid.as_bytes());
            }
            for (i, out) in tx.outputs.iter().enumerate() {
                self.delete_coin(
                    &mut batch,
                    &OutPoint {
                        txid,
                        index: i as u32,
                    },
                    &out.script_pubkey,
                );
            }
            batch.delete_cf(self.cf(CF_TX_INDEX), txid.as_bytes());
        }
        for (op, coin) in &undo.spent {
            self.put_coin(&mut batch, op, coin);
        }
        batch.delete_cf(self.cf(CF_UNDO), hash.as_bytes());
        batch.delete_cf(self.cf(CF_HEIGHT), block.header.height.to_be_bytes());
        batch.delete_cf(self.cf(CF_META), utxo_stats_key(block.header.height));
        batch.put_cf(self.cf(CF_META), KEY_TIP, block.header.parent.as_bytes());
        self.write_with_tree(batch, &tree)?;
        Ok(undo)
    }

    /// Summary and hash of the whole UTXO set (a full scan in key order) with the tip it is
    /// of, read from one snapshot: imports go on while it runs.
    ///
    /// # Errors
    /// Storage failures or corrupt records.
    pub fn utxo_set_info(&self) -> Result<(Option<SnapshotTip>, UtxoSetInfo), StoreError> {
        let snapshot = self.db.snapshot();
        let tip = self.snapshot_tip_and_root(&snapshot)?;
        let mut hasher = UtxoSetHasher::default();
        for item in snapshot.iterator_cf(self.cf(CF_UTXO), IteratorMode::Start) {
            let (k, v) = item.map_err(err)?;
            let key: [u8; 36] = k
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::corrupt("utxo key", "not txid ++ index"))?;
            hasher.add(&key, &decode::<Coin>(&v, "coin")?);
        }
        Ok((tip, hasher.finish()))
    }

    /// The UTXO set's counters after the best-chain block at `height` (`None`: not connected).
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    pub fn utxo_stats(&self, height: u64) -> Result<Option<UtxoStats>, StoreError> {
        self.get(CF_META, &utxo_stats_key(height))?
            .map(|v| decode(&v, "UTXO-set counters"))
            .transpose()
    }

    /// The tip with its state root and the UTXO set's counters, from one snapshot: the
    /// summary of the set without reading it.
    ///
    /// # Errors
    /// Storage failures, missing or corrupt records.
    pub fn utxo_summary(&self) -> Result<(SnapshotTip, UtxoStats), StoreError> {
        let snapshot = self.db.snapshot();
        let tip = self
            .snapshot_tip_and_root(&snapshot)?
            .ok_or_else(|| StoreError::Inconsistent("no tip".into()))?;
        let stats = snapshot
            .get_cf(self.cf(CF_META), utxo_stats_key(tip.height))
            .map_err(err)?
            .map(|v| decode(&v, "UTXO-set counters"))
            .transpose()?
            .ok_or_else(|| {
                StoreError::Inconsistent(format!("no UTXO-set counters at height {}", tip.height))
            })?;
        Ok((tip, stats))
    }

    /// The tip of `snapshot` with its height and state root.
    fn snapshot_tip_and_root(
        &self,
        snapshot: &rocksdb::Snapshot<'_>,
    ) -> Result<Option<SnapshotTip>, StoreError> {
        let Some(hash) = self.snapshot_tip(snapshot)? else {
            return Ok(None);
        };
        let entry: IndexEntry = snapshot
            .get_cf(self.cf(CF_INDEX), hash.as_bytes())
            .map_err(err)?
            .map(|v| decode(&v, "index entry"))
            .transpose()?
            .ok_or(StoreError::NotIndexed(hash))?;
        let height = entry.header.height;
        let get = |k: &[u8]| snapshot.get_cf(self.cf(CF_TREE), k).map_err(err);
        let state_root = Hash256::from_byte_array(StoredNodes(&get).root()?.hash());
        Ok(Some(SnapshotTip {
            hash,
            height,
            state_root,
        }))
    }
}

impl UtxoStats {
    /// The counters after `changes` (`None` if they would leave the range: a broken store).
    fn after(self, changes: &BlockChanges) -> Option<UtxoStats> {
        let count = self
            .count
            .checked_add(changes.created.len() as u64)?
            .checked_sub(changes.spent.len() as u64)?;
        let mut total = self.total;
        for (_, coin) in &changes.created {
            total = total.checked_add(coin.output.value)?;
        }
        for (_, coin) in &changes.spent {
            total = total.checked_sub(coin.output.value)?;
        }
        Some(UtxoStats { count, total })
    }
}

/// The tip a snapshot read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotTip {
    /// Its hash.
    pub hash: BlockHash,
    /// Its height.
    pub height: u64,
    /// The state root after it.
    pub state_root: Hash256,
}

/// The state commitment ([`state_tree`]).
impl Store {
    /// The state root after the tip: the root of the stored tree.
    ///
    /// # Errors
    /// Storage failures; a store without a tree.
    pub fn state_root(&self) -> Result<Hash256, StoreError> {
        let get = |k: &[u8]| self.get(CF_TREE, k);
        Ok(Hash256::from_byte_array(StoredNodes(&get).root()?.hash()))
    }

    /// The state tree's update for `changes` on the stored tree (the tip's), split through
    /// `join`: nothing written.
    ///
    /// # Errors
    /// Storage failures, a damaged tree.
    pub fn tree_update(
        &self,
        changes: &state_tree::Changes,
        join: &dyn Join,
    ) -> Result<TreeUpdate, StoreError> {
        let tree = self.tip_tree();
        i8o8i_primitives::state_tree::update_parallel(&tree, &tree.root()?, changes, join)
    }

    /// The stored tree (the tip's), with its upper levels from memory: for reading a tree
    /// with updates on top ([`i8o8i_primitives::state_tree::Overlay`]).
    pub fn tip_tree(&self) -> TipTree<'_> {
        TipTree { store: self }
    }

    /// Writes `batch`, which holds `tree`'s stored part ([`Store::write_tree`]), and brings
    /// the in-memory upper levels in line, both under their lock.
    fn write_with_tree(&self, batch: WriteBatch, tree: &TreeUpdate) -> Result<(), StoreError> {
        let mut top = self.top_nodes.write().unwrap_or_else(|p| p.into_inner());
        self.db.write(batch).map_err(err)?;
        for (path, node) in &tree.nodes {
            if path.len() <= TREE_MEMORY_LEVELS {
                match node {
                    Some(node) => top.insert(*path, node.encode().into()),
                    None => top.remove(path),
                };
            }
        }
        Ok(())
    }

    /// Puts `tree`'s nodes below the in-memory levels and its root into `batch`.
    fn write_tree(&self, batch: &mut WriteBatch, tree: &TreeUpdate) {
        for (path, node) in &tree.nodes {
            if path.len() <= TREE_MEMORY_LEVELS {
                continue;
            }
            match node {
                Some(node) => batch.put_cf(self.cf(CF_TREE), path.to_key(), node.encode()),
                None => batch.delete_cf(self.cf(CF_TREE), path.to_key()),
            }
        }
        batch.put_cf(self.cf(CF_TREE), state_tree::ROOT_KEY, tree.root.encode());
    }

    /// The state root `block`'s parent's header commits to.
    fn parent_state_root(&self, block: &Block) -> Result<Hash256, StoreError> {
        let parent = block.header.parent;
        Ok(self
            .get(CF_INDEX, parent.as_bytes())?
            .map(|v| decode::<IndexEntry>(&v, "index entry"))
            .transpose()?
            .ok_or(StoreError::NotIndexed(parent))?
            .header
            .state_root)
    }

    /// The tip's height, its stored state root, and the root recomputed from the UTXO set and
    /// the key/value state alone (one snapshot; reads everything, memory grows with the
    /// state): equal unless the state or the tree was changed behind the node's back.
    ///
    /// # Errors
    /// Storage failures, corrupt records.
    pub fn recompute_state_root(&self) -> Result<(u64, Hash256, Hash256), StoreError> {
        let snapshot = self.db.snapshot();
        let tip = self
            .snapshot_tip_and_root(&snapshot)?
            .ok_or_else(|| StoreError::Inconsistent("no tip".into()))?;
        let recomputed = i8o8i_primitives::state_tree::root_of_entries(
            self.state_entries(&snapshot, tip.height)?,
        )?;
        Ok((tip.height, tip.state_root, recomputed))
    }

    /// Every entry of the committed state in `snapshot`, whose tip is at `height`, as (tree
    /// key, value).
    fn state_entries(
        &self,
        snapshot: &rocksdb::Snapshot<'_>,
        height: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut entries = Vec::new();
        for item in snapshot.iterator_cf(self.cf(CF_UTXO), IteratorMode::Start) {
            let (k, v) = item.map_err(err)?;
            entries.push(([&b"u"[..], &k].concat(), v.to_vec()));
        }
        for item in snapshot.iterator_cf(self.cf(CF_CONTRACTS), IteratorMode::Start) {
            let (k, v) = item.map_err(err)?;
            entries.push((state_proof::kv_key(&k), v.to_vec()));
        }
        entries.push((
            state_proof::HEIGHT_KEY.to_vec(),
            height.to_be_bytes().to_vec(),
        ));
        Ok(entries)
    }

    /// The tip, its height and state root, the value at tree key `key` (read by `read` from
    /// the same snapshot) and its proof: one consistent answer while imports go on.
    ///
    /// # Errors
    /// Storage failures; a tree that disagrees with the state.
    pub fn state_proof(
        &self,
        key: &[u8],
        read: impl Fn(
            &dyn Fn(&str, &[u8]) -> Result<Option<Vec<u8>>, StoreError>,
        ) -> Result<Option<Vec<u8>>, StoreError>,
    ) -> Result<StateAnswer, StoreError> {
        // The upper levels are the snapshot's while their lock is held (see `top_nodes`).
        let top = self.top_nodes.read().unwrap_or_else(|p| p.into_inner());
        let snapshot = self.db.snapshot();
        let tip = self
            .snapshot_tip_and_root(&snapshot)?
            .ok_or_else(|| StoreError::Inconsistent("no tip".into()))?;
        let get_cf = |cf: &str, k: &[u8]| snapshot.get_cf(self.cf(cf), k).map_err(err);
        let value = read(&get_cf)?;
        let get = |k: &[u8]| get_cf(CF_TREE, k);
        let nodes = Layered {
            top: &top,
            deep: StoredNodes(&get),
        };
        let proof = i8o8i_primitives::state_tree::prove(
            &nodes,
            &nodes.deep.root()?,
            &state_proof::sha256(key),
        )?;
        drop(top);
        // A proof the node would serve wrong is its own fault, said as such.
        proof
            .verify(&tip.state_root, key, value.as_deref())
            .map_err(|e| {
                StoreError::Inconsistent(format!(
                    "the state tree and the state disagree on key {}: {e}",
                    hex::encode(key)
                ))
            })?;
        Ok(StateAnswer {
            height: tip.height,
            block: tip.hash,
            root: tip.state_root,
            value,
            proof,
        })
    }

    /// [`Store::state_proof`] for the coin at `outpoint` (its value: the SCALE-encoded coin).
    ///
    /// # Errors
    /// As [`Store::state_proof`].
    pub fn coin_proof(&self, outpoint: &OutPoint) -> Result<StateAnswer, StoreError> {
        let key = utxo_key(outpoint);
        self.state_proof(&state_proof::coin_key(outpoint), |get| get(CF_UTXO, &key))
    }

    /// [`Store::state_proof`] for the key/value record `key` (contracts, staking).
    ///
    /// # Errors
    /// As [`Store::state_proof`].
    pub fn record_proof(&self, key: &[u8]) -> Result<StateAnswer, StoreError> {
        self.state_proof(&state_proof::kv_key(key), |get| get(CF_CONTRACTS, key))
    }
}

/// The stored state tree, its upper levels read through the store's memory.
pub struct TipTree<'a> {
    store: &'a Store,
}

impl TipTree<'_> {
    /// The root position's content.
    ///
    /// # Errors
    /// Storage failures; a store without a tree.
    pub fn root(&self) -> Result<Child, StoreError> {
        let get = |k: &[u8]| self.store.get(CF_TREE, k);
        StoredNodes(&get).root()
    }
}

impl NodeSource for TipTree<'_> {
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError> {
        if path.len() > TREE_MEMORY_LEVELS {
            let get = |k: &[u8]| self.store.get(CF_TREE, k);
            return StoredNodes(&get).node(path);
        }
        let top = self
            .store
            .top_nodes
            .read()
            .unwrap_or_else(|p| p.into_inner());
        top.get(path).map(|bytes| Node::decode(bytes)).transpose()
    }
}

/// The tree as one snapshot has it: the upper levels from the store's memory, the rest read
/// from the snapshot.
struct Layered<'a> {
    top: &'a HashMap<NodePath, Box<[u8]>>,
    deep: StoredNodes<'a>,
}

impl NodeSource for Layered<'_> {
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError> {
        if path.len() > TREE_MEMORY_LEVELS {
            return self.deep.node(path);
        }
        self.top
            .get(path)
            .map(|bytes| Node::decode(bytes))
            .transpose()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.save_tree_top() {
            tracing::warn!(error = %e, "could not save the state tree's upper levels: the next start rebuilds them");
        }
    }
}

/// A value of the committed state with its proof, as of one tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateAnswer {
    /// Height of the tip.
    pub height: u64,
    /// The tip.
    pub block: BlockHash,
    /// The state root after it.
    pub root: Hash256,
    /// The value (`None`: absent).
    pub value: Option<Vec<u8>>,
    /// Its proof under `root`.
    pub proof: state_proof::StateProof,
}

/// Network records kept by the peer manager.
impl Store {
    /// Stores `value` under `key` in the peers family.
    ///
    /// # Errors
    /// Storage failures.
    pub fn put_peer_record(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db.put_cf(self.cf(CF_PEERS), key, value).map_err(err)
    }

    /// Deletes `key` from the peers family.
    ///
    /// # Errors
    /// Storage failures.
    pub fn delete_peer_record(&self, key: &[u8]) -> Result<(), StoreError> {
        self.db.delete_cf(self.cf(CF_PEERS), key).map_err(err)
    }

    /// Every (key, value) in the peers family whose key starts with `prefix`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn peer_records(&self, prefix: &[u8]) -> Result<KeyValues, StoreError> {
        let mut out = Vec::new();
        let mode = IteratorMode::From(prefix, rocksdb::Direction::Forward);
        for item in self.db.iterator_cf(self.cf(CF_PEERS), mode) {
            let (k, v) = item.map_err(err)?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}

impl Store {
    /// The receipt of contract transaction `txid`, if it is in the best chain.
    ///
    /// # Errors
    /// Storage failures.
    pub fn receipt(&self, txid: &Txid) -> Result<Option<Receipt>, StoreError> {
        self.get(CF_RECEIPTS, txid.as_bytes())?
            .map(|v| decode(&v, "receipt"))
            .transpose()
    }

    /// The events of `block`'s contract transactions, in order, from their receipts (which
    /// exist while the block is in the best chain).
    ///
    /// # Errors
    /// Storage failures.
    pub fn block_events(&self, block: &Block) -> Result<Vec<EventRecord>, StoreError> {
        let mut events = Vec::new();
        for tx in &block.transactions {
            if payload_terms(tx).is_none() {
                continue;
            }
            let txid = tx.txid();
            if let Some(receipt) = self.receipt(&txid)? {
                events.extend(receipt.events.into_iter().map(|event| EventRecord {
                    txid,
                    height: block.header.height,
                    event,
                }));
            }
        }
        Ok(events)
    }

    /// Events of `contract` emitted in blocks `from..=to`, in chain order, at most `limit`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn events(
        &self,
        contract: &ContractAddress,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let start = event_key(contract, from, 0, 0);
        let mode = IteratorMode::From(&start, Direction::Forward);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_EVENTS), mode) {
            let (k, v) = item.map_err(err)?;
            if k.len() != 46 || &k[..32] != contract.as_bytes() {
                break;
            }
            let height = u64::from_be_bytes(k[32..40].try_into().expect("8 bytes"));
            if height > to || out.len() >= limit {
                break;
            }
            out.push(decode(&v, "event")?);
        }
        Ok(out)
    }

    /// Every storage entry of `contract` whose key starts with `prefix`, at most `limit`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn contract_storage(
        &self,
        contract: &ContractAddress,
        prefix: &[u8],
        limit: usize,
    ) -> Result<KeyValues, StoreError> {
        let start = i8o8i_contract_engine::StateKey::storage(contract, prefix);
        let mode = IteratorMode::From(&start, Direction::Forward);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_CONTRACTS), mode) {
            let (k, v) = item.map_err(err)?;
            if !k.starts_with(&start) || out.len() >= limit {
                break;
            }
            out.push((k[33..].to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}

impl ContractStateReader for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Store::get(self, CF_CONTRACTS, key)
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<KeyValues, StoreError> {
        let mode = IteratorMode::From(from, Direction::Forward);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_CONTRACTS), mode) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(err)?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}

impl UtxoReader for Store {
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.get(CF_UTXO, &utxo_key(outpoint))?
            .map(|v| decode(&v, "coin"))
            .transpose()
    }
}

impl HeaderReader for Store {
    fn header(&self, hash: &BlockHash) -> Result<Option<Header>, StoreError> {
        Ok(self.index_entry(hash)?.map(|e| e.header))
    }
}
