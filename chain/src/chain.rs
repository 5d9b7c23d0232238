//! The chain manager: imports blocks, keeps the block index in memory, chooses the heaviest
//! valid chain and moves the store's tip along it, disconnecting and connecting blocks as
//! needed (a reorganisation of any depth the store holds).

use i8o8i_contract_engine::ContractStateReader;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use i8o8i_contract_engine::ContractEngine;
use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::StoreError;
use i8o8i_primitives::state_tree::{Join, Sequential};
use i8o8i_primitives::{Block, BlockHash, Hash256, Header, Seal, U256};
use i8o8i_runtime::consensus::{
    HeaderError, HeaderReader, PowEngine, Schedule, ScheduledEngine, median_time_past,
};
use i8o8i_runtime::error::BlockError;
use i8o8i_runtime::producers::{Era, ProducerState};
use i8o8i_runtime::randomness::Contribution;
use i8o8i_runtime::script_cache::{self, ScriptCache};
use i8o8i_runtime::slots::{last_final, last_irreversible};
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::spec::EngineParams;
use i8o8i_runtime::staking::records::{OLD_LEDGER_KEY, Unavailable};
use i8o8i_runtime::staking::{StakeIndex, StakeRecords};
use i8o8i_runtime::state::{ChainTimeReader, ContractEnv};

use crate::state_tree::PoolJoin;
use i8o8i_runtime::validation::check_block;
use parity_scale_codec::{Decode, Encode};
use tokio::sync::watch;

mod assume_valid;
pub use assume_valid::BURIAL_SECS;
mod preview;
pub use preview::TxTrace;
mod reorg;

use crate::clock::SharedClock;
use crate::store::{BlockStatus, IndexEntry, Store};

/// Why a block was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The block breaks a consensus rule.
    #[error("block {hash} rejected: {error}")]
    Invalid {
        /// The block.
        hash: BlockHash,
        /// The rule broken (boxed: it is large and the error path is cold).
        error: Box<BlockError>,
    },
    /// The block, or an ancestor, was found invalid before.
    #[error("block {0} is known to be invalid")]
    KnownInvalid(BlockHash),
    /// The block is from the future on this node's clock: its slot has not begun or its time
    /// is beyond the allowed drift. Not stored and not invalid — no fault of the sender if
    /// this clock is behind; it may be imported from `ready_at` (Unix seconds, this clock).
    #[error("block {hash} is early: {error}")]
    Early {
        /// The block.
        hash: BlockHash,
        /// [`HeaderError::FutureSlot`] or [`HeaderError::TimeTooNew`].
        error: HeaderError,
        /// When it becomes importable.
        ready_at: u64,
    },
    /// A third block sealed by one key for one slot: the first two are already stored (and
    /// are the evidence); more would only fill the store. Not stored, no fault of the relayer.
    #[error("block {hash} not stored: {error}")]
    Redundant {
        /// The block.
        hash: BlockHash,
        /// [`HeaderError::Equivocation`].
        error: HeaderError,
    },
    /// The parent is not known (the network layer fetches it and retries).
    #[error("block {hash} has unknown parent {parent}")]
    UnknownParent {
        /// The block.
        hash: BlockHash,
        /// Its parent.
        parent: BlockHash,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
}

/// Why the chain could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ChainOpenError {
    /// The store failed or holds another chain.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The script-verification thread pool could not start.
    #[error("cannot start script-check threads: {0}")]
    Threads(String),
    /// The contract engine could not be configured.
    #[error("cannot create the contract engine: {0}")]
    ContractEngine(String),
}

/// What importing a block did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The block was already known.
    pub already_known: bool,
    /// Blocks disconnected from the best chain, tip first.
    pub disconnected: Vec<Block>,
    /// The contract events of each disconnected block (as `disconnected`), read before its
    /// receipts were removed: what event subscribers are told was undone.
    pub disconnected_events: Vec<Vec<crate::store::EventRecord>>,
    /// Blocks connected to the best chain, in order.
    pub connected: Vec<Block>,
    /// Gas used by the contract transactions of the connected blocks.
    pub contract_gas: u64,
    /// Blocks that failed to connect and are now marked invalid, with the reason.
    pub invalid: Vec<(BlockHash, BlockError)>,
}

/// A producer's slot: (first height of its schedule entry, slot, key).
type SealKey = (u64, u64, [u8; 33]);

/// The [`SealKey`] of a slot-engine header.
fn seal_key(spec: &ChainSpec, header: &Header) -> Option<SealKey> {
    match &header.seal {
        Seal::Producer { slot, pubkey, .. } => {
            Some((spec.engine_at(header.height).from_height, *slot, *pubkey))
        }
        Seal::Pow { .. } => None,
    }
}

/// The best chain's tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    /// Tip hash.
    pub hash: BlockHash,
    /// Tip header.
    pub header: Header,
    /// Cumulative work.
    pub work: U256,
}

/// The chain manager.
pub struct Chain {
    store: Arc<Store>,
    spec: ChainSpec,
    schedule: Schedule,
    genesis: BlockHash,
    /// The last irreversible (final) block `(height, hash)` of PoS / DPoS: no reorganisation
    /// goes below it.
    irreversible: RwLock<Option<(u64, BlockHash)>>,
    /// Every stored slot-engine block by (schedule entry, slot, producer). A producer may seal
    /// one block per slot; a second one is stored too (both are valid candidates and fork
    /// choice decides) and the pair is evidence; a third is not stored (signing is free under
    /// stake, unlike work, and would otherwise fill the store).
    sealed: Mutex<HashMap<SealKey, Vec<BlockHash>>>,
    /// Double signing seen here, by slot: the two headers, for a block of ours to include.
    evidence: Mutex<BTreeMap<SealKey, (Header, Header)>>,
    index: RwLock<HashMap<BlockHash, IndexEntry>>,
    tip: watch::Sender<Tip>,
    /// Serialises imports: one tip movement at a time.
    import_lock: Mutex<()>,
    /// Block validation's parallel work: script checks and the state-tree update.
    script_pool: Option<rayon::ThreadPool>,
    /// Mempool admission's script checks ([`Chain::for_each_parallel`]), apart from blocks:
    /// in one shared pool a flood of submissions queued ahead of the block being built or
    /// connected, and block production slowed to one block in ten seconds under a load the
    /// node could otherwise keep up with. With two pools the operating system shares the
    /// cores between them.
    admission_pool: Option<rayon::ThreadPool>,
    /// Transactions whose scripts verified at mempool admission (verify once).
    script_cache: ScriptCache,
    contracts: ContractEnv,
    /// What "now" is for the future-time rules of headers and slots.
    clock: SharedClock,
    /// Blocks whose bodies and undo data are kept (0: all of them).
    prune: AtomicU64,
    /// The lowest best-chain height with a stored body (the store's record, cached).
    lowest_block: AtomicU64,
    /// Checked headers and the assumed-valid block (`assume_valid`).
    headers: Mutex<assume_valid::HeaderChain>,
    /// The last preview of a block on the tip, for that block's import (`preview`).
    prepared: Mutex<Option<preview::Prepared>>,
    /// Blocks connected from their preview.
    previews_used: AtomicU64,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain", &self.spec.name)
            .field("tip", &self.tip.borrow().hash)
            .finish()
    }
}

/// Headers by hash from the in-memory index.
struct IndexView<'a>(&'a HashMap<BlockHash, IndexEntry>);

impl HeaderReader for IndexView<'_> {
    fn header(&self, hash: &BlockHash) -> Result<Option<Header>, StoreError> {
        Ok(self.0.get(hash).map(|e| e.header.clone()))
    }
}

/// Median times past along the store's current best chain.
struct BestChainTimes<'a> {
    store: &'a Store,
    index: &'a HashMap<BlockHash, IndexEntry>,
}

impl ChainTimeReader for BestChainTimes<'_> {
    fn median_time_past_at(&self, height: u64) -> Result<u64, StoreError> {
        let hash = self
            .store
            .hash_at(height)?
            .ok_or(StoreError::MissingHeight(height))?;
        let header = self
            .index
            .get(&hash)
            .map(|e| e.header.clone())
            .ok_or(StoreError::NotIndexed(hash))?;
        median_time_past(&header, &IndexView(self.index))
            .map_err(|e| StoreError::Inconsistent(e.to_string()))
    }
}

impl Chain {
    /// Opens the chain in `store`, writing the genesis block of `spec` on first use.
    /// `script_threads` verify scripts in parallel, that many for blocks and as many again for
    /// mempool admission (0: on the calling thread); `clock` is
    /// what header and slot time rules compare with.
    ///
    /// # Errors
    /// Storage failures, or a store created for a different chain (genesis mismatch).
    pub fn open(
        store: Arc<Store>,
        spec: ChainSpec,
        script_threads: usize,
        clock: SharedClock,
    ) -> Result<Chain, ChainOpenError> {
        let schedule = Schedule::new(&spec);
        let genesis_block = spec.genesis_block();
        let genesis = genesis_block.header.hash();
        match store.genesis()? {
            None => store.init_genesis(&genesis_block, schedule.weight(&genesis_block.header))?,
            Some(stored) if stored != genesis => {
                return Err(StoreError::Inconsistent(format!(
                    "data directory holds chain with genesis {stored}, but chain `{}` has genesis {genesis}",
                    spec.name
                ))
                .into());
            }
            Some(_) => {}
        }
        if ContractStateReader::get(&*store, OLD_LEDGER_KEY)?.is_some() {
            return Err(StoreError::Inconsistent(
                "this data directory keeps the staking ledger in the single record of an older \
                 version; delete the data directory and sync again"
                    .into(),
            )
            .into());
        }
        let index: HashMap<_, _> = store.index_entries()?.into_iter().collect();
        let mut sealed: HashMap<SealKey, Vec<BlockHash>> = HashMap::new();
        for (hash, e) in &index {
            if let Some(key) = seal_key(&spec, &e.header) {
                sealed.entry(key).or_default().push(*hash);
            }
        }
        let tip_hash = store
            .tip()?
            .ok_or_else(|| StoreError::Inconsistent("the store has a genesis but no tip".into()))?;
        // A recorded irreversible block stays so across restarts (if the index still has it).
        let irreversible = store
            .irreversible()?
            .filter(|(_, hash)| index.contains_key(hash));
        let tip_entry = index
            .get(&tip_hash)
            .ok_or(StoreError::NotIndexed(tip_hash))?;
        // The stored tree is the tip's: its root is what the tip's header commits to (a store
        // written before headers committed to state has no tree, and says so).
        let root = store.state_root()?;
        if root != tip_entry.header.state_root {
            return Err(StoreError::Inconsistent(format!(
                "the state tree's root {root} is not the one the tip (height {}) commits to, {}; \
                 delete the data directory and sync again",
                tip_entry.header.height, tip_entry.header.state_root
            ))
            .into());
        }
        let tip = Tip {
            hash: tip_hash,
            header: tip_entry.header.clone(),
            work: tip_entry.work(),
        };
        let pool = |name: &'static str| match script_threads {
            0 => Ok(None),
            n => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(move |i| format!("{name}-{i}"))
                .build()
                .map(Some)
                .map_err(|e| ChainOpenError::Threads(e.to_string())),
        };
        let script_pool = pool("script-check")?;
        let admission_pool = pool("tx-verify")?;
        let engine_contracts = Arc::new(
            ContractEngine::new().map_err(|e| ChainOpenError::ContractEngine(e.to_string()))?,
        );
        let contracts = ContractEnv {
            engine: engine_contracts,
            state: store.clone(),
            trace: None,
        };
        let spec_assume_valid = spec.assume_valid;
        let chain = Chain {
            store,
            contracts,
            spec,
            schedule,
            genesis,
            irreversible: RwLock::new(irreversible),
            sealed: Mutex::new(sealed),
            evidence: Mutex::new(BTreeMap::new()),
            index: RwLock::new(index),
            tip: watch::channel(tip).0,
            import_lock: Mutex::new(()),
            script_pool,
            admission_pool,
            script_cache: ScriptCache::new(script_cache::DEFAULT_CAPACITY),
            clock,
            prune: AtomicU64::new(0),
            lowest_block: AtomicU64::new(0),
            headers: Mutex::new(assume_valid::HeaderChain::new(spec_assume_valid)),
            prepared: Mutex::new(None),
            previews_used: AtomicU64::new(0),
        };
        chain
            .lowest_block
            .store(chain.store.lowest_block()?, Ordering::Relaxed);
        chain.update_irreversible()?;
        // A crash between storing a heavier block and connecting it leaves work to finish.
        chain.activate_best_chain()?;
        Ok(chain)
    }

    /// Keeps only the last `keep` blocks' bodies and undo data from now on (`None`: all), and
    /// prunes what is already older. Never below what a reorganisation to the last
    /// irreversible / final block needs.
    ///
    /// # Errors
    /// Storage failures.
    pub fn set_prune(&self, keep: Option<u64>) -> Result<(), StoreError> {
        self.prune.store(keep.unwrap_or(0), Ordering::Relaxed);
        let _guard = self.import_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.prune_old_blocks()
    }

    /// The lowest best-chain height whose block this node still has (0 unless it prunes):
    /// peers are not asked for blocks below it.
    pub fn lowest_block(&self) -> u64 {
        self.lowest_block.load(Ordering::Relaxed)
    }

    /// Blocks whose import used their preview's connection instead of connecting again (a
    /// producer's own blocks: [`Chain::preview_block`]).
    pub fn previews_used(&self) -> u64 {
        self.previews_used.load(Ordering::Relaxed)
    }

    /// Runs `f` with the state tree's work split over the verification pool (if there is one).
    pub(crate) fn with_join<R>(&self, f: impl FnOnce(&dyn Join) -> R) -> R {
        match &self.script_pool {
            Some(pool) => f(&PoolJoin(pool)),
            None => f(&Sequential),
        }
    }

    /// Runs `f` on every item, split over the admission pool (if there is one): how a batch
    /// of submitted transactions verifies its scripts on every core without queueing ahead
    /// of a block's checks.
    pub fn for_each_parallel<T: Send>(&self, items: &mut [T], f: impl Fn(&mut T) + Sync + Send) {
        use rayon::prelude::*;
        match &self.admission_pool {
            Some(pool) => pool.install(|| items.par_iter_mut().for_each(f)),
            None => items.iter_mut().for_each(f),
        }
    }

    /// The state root after the tip (of the stored tree, which the tip's header commits to).
    ///
    /// # Errors
    /// Storage failures; a store without a tree.
    pub fn state_root(&self) -> Result<Hash256, StoreError> {
        self.store.state_root()
    }

    /// Deletes bodies and undo data below the prune point, if pruning is on.
    pub(crate) fn prune_old_blocks(&self) -> Result<(), StoreError> {
        let keep = self.prune.load(Ordering::Relaxed);
        let tip = self.tip().header.height;
        if keep == 0 {
            return Ok(());
        }
        let mut below = (tip + 1).saturating_sub(keep);
        // Blocks above the last irreversible one may still be disconnected.
        if let Some((lib, _)) = self.last_irreversible() {
            below = below.min(lib + 1);
        }
        // In bounded writes, so that switching pruning on for a long chain does not build
        // one huge batch.
        while self.store.prune_below(below, 1_000)? > 0 {}
        let lowest = self.store.lowest_block()?;
        if lowest != self.lowest_block.swap(lowest, Ordering::Relaxed) {
            tracing::debug!(lowest, "pruned old blocks");
        }
        Ok(())
    }

    /// Transactions whose scripts verified at mempool admission: a block that contains them
    /// does not run their scripts again.
    pub fn script_cache(&self) -> &ScriptCache {
        &self.script_cache
    }

    /// The contract engine and committed contract state (of the tip, between imports).
    pub fn contracts(&self) -> &ContractEnv {
        &self.contracts
    }

    /// The clock this chain's time rules read.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The chain spec.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The consensus schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The proof-of-work engine of `height`, if proof of work runs there.
    pub fn pow_engine_at(&self, height: u64) -> Option<&PowEngine> {
        match self.schedule.at(height) {
            ScheduledEngine::Pow(e) => Some(e),
            ScheduledEngine::Slot(_) => None,
        }
    }

    /// The last irreversible (final) block `(height, hash)` under PoS / DPoS (`None` before
    /// one has become final).
    pub fn last_irreversible(&self) -> Option<(u64, BlockHash)> {
        *self.irreversible.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The producer state (slots, rounds, counters) as of the tip.
    ///
    /// # Errors
    /// Storage failures.
    pub fn producer_state(&self) -> Result<ProducerState, StoreError> {
        ProducerState::load(&self.tip_state())
    }

    /// Who may seal `slot` on top of `tip` under the slot engine of the next height: the
    /// producer state of `tip` advanced to `slot`. `None` under proof of work or when nobody
    /// can be drawn.
    ///
    /// # Errors
    /// Storage failures.
    pub fn slot_producer(&self, tip: &Tip, slot: u64) -> Result<Option<[u8; 33]>, StoreError> {
        let entry = self.spec.engine_at(tip.header.height + 1);
        if matches!(entry.engine, EngineParams::Pow(_)) {
            return Ok(None);
        }
        let state = self.tip_state();
        let mut producers = ProducerState::load(&state)?;
        match producers.advance(entry, slot, tip.hash.as_bytes(), &state) {
            Ok(expected) => Ok(Some(expected)),
            Err(HeaderError::NoProducers) => Ok(None),
            Err(e) => Err(StoreError::Inconsistent(e.to_string())),
        }
    }

    /// Records double signing shown by a header this node does not store (one ending a branch
    /// lighter than ours, whose seal the caller has checked): if another block of the same
    /// key and slot is stored, the two headers are evidence.
    pub fn note_sealed_header(&self, header: &Header) {
        let Some(key) = seal_key(&self.spec, header) else {
            return;
        };
        let hash = header.hash();
        let first = self
            .sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .and_then(|stored| stored.iter().find(|h| **h != hash).copied());
        if let Some(first) = first.and_then(|h| self.entry(&h)) {
            self.evidence
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key)
                .or_insert((first.header, header.clone()));
        }
    }

    /// Evidence of double signing seen by this node whose producer the tip's ledger has not
    /// jailed yet, oldest slot first: what a block produced here includes.
    ///
    /// # Errors
    /// Storage failures.
    pub fn pending_evidence(&self) -> Result<Vec<(Header, Header)>, StoreError> {
        let state = self.tip_state();
        let evidence = self.evidence.lock().unwrap_or_else(|p| p.into_inner());
        let mut pending = Vec::new();
        for ((_, _, key), pair) in evidence.iter() {
            if !state.is_jailed(key)? {
                pending.push(pair.clone());
            }
        }
        Ok(pending)
    }

    /// A read view of the committed key/value state (contracts and staking) of the tip.
    pub fn tip_state(&self) -> StateOverlay {
        StateOverlay::new(self.contracts.state.clone())
    }

    /// Recomputes the last irreversible (final) block after the tip moved: under DPoS the
    /// newest block that blocks of more than 2/3 of the round's delegates build on, under PoS
    /// the newest one that blocks sealed by more than 2/3 of the epoch snapshot's stake build
    /// on ([`last_final`]). It only moves forward.
    fn update_irreversible(&self) -> Result<(), StoreError> {
        let tip = self.tip();
        let entry = self.spec.engine_at(tip.header.height);
        // A few rounds / epochs back at most: further, nothing became final anyway.
        let window = match &entry.engine {
            EngineParams::Dpos(params) => u64::from(params.delegates).saturating_mul(10),
            EngineParams::Pos(params) => params.epoch_slots.saturating_mul(4),
            EngineParams::Pow(_) => return Ok(()),
        }
        .max(10);
        let state = ProducerState::load(&self.tip_state())?;
        let Some(era) = state.era.filter(|e| e.from_height == entry.from_height) else {
            return Ok(());
        };
        let weights: BTreeMap<[u8; 33], u128> = era
            .producers
            .iter()
            .map(|(key, stake)| match &entry.engine {
                EngineParams::Pos(_) => (*key, u128::from(*stake)),
                _ => (*key, 1),
            })
            .collect();
        let total: u128 = weights.values().sum();
        if total == 0 {
            return Ok(());
        }
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let mut producers = Vec::new();
        let mut cursor = tip.hash;
        while let Some(e) = index.get(&cursor) {
            let h = &e.header;
            if h.height < entry.from_height || tip.header.height - h.height > window {
                break;
            }
            if let Seal::Producer { pubkey, .. } = &h.seal {
                producers.push((h.height, *pubkey, cursor));
            }
            cursor = h.parent;
        }
        drop(index);
        let tip_first = producers.iter().map(|(h, k, _)| (*h, k));
        let last = match &entry.engine {
            // Every delegate of the window counts, as before the PoS rule existed.
            EngineParams::Dpos(_) => last_irreversible(tip_first, weights.len()),
            _ => last_final(tip_first, |k| weights.get(k).copied().unwrap_or(0), total),
        };
        let Some(height) = last else {
            return Ok(());
        };
        let hash = producers
            .iter()
            .find(|(h, ..)| *h == height)
            .map(|(.., hash)| *hash)
            .expect("found among them");
        let mut lib = self.irreversible.write().unwrap_or_else(|p| p.into_inner());
        if lib.is_none_or(|(old, _)| height > old) {
            *lib = Some((height, hash));
            self.store.put_irreversible(height, &hash)?;
        }
        Ok(())
    }

    /// Whether a block at `height` whose parent is `parent` keeps the last irreversible block
    /// in its history.
    fn check_irreversible(
        &self,
        height: u64,
        parent: BlockHash,
        index: &HashMap<BlockHash, IndexEntry>,
    ) -> Result<(), HeaderError> {
        let Some((lib_height, lib_hash)) = self.last_irreversible() else {
            return Ok(());
        };
        let refused = HeaderError::BelowIrreversible {
            height,
            irreversible: lib_height,
        };
        if height <= lib_height {
            return Err(refused);
        }
        let mut cursor = parent;
        while let Some(e) = index.get(&cursor) {
            if e.header.height == lib_height {
                return if cursor == lib_hash {
                    Ok(())
                } else {
                    Err(refused)
                };
            }
            cursor = e.header.parent;
        }
        Err(refused)
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Genesis hash.
    pub fn genesis(&self) -> BlockHash {
        self.genesis
    }

    /// Replay-protection id committed to by signatures: the genesis hash.
    pub fn chain_id(&self) -> Hash256 {
        Hash256::from_byte_array(*self.genesis.as_bytes())
    }

    /// The current tip.
    pub fn tip(&self) -> Tip {
        self.tip.borrow().clone()
    }

    /// A receiver that sees every tip change.
    pub fn subscribe_tip(&self) -> watch::Receiver<Tip> {
        self.tip.subscribe()
    }

    /// The index entry of a block.
    pub fn entry(&self, hash: &BlockHash) -> Option<IndexEntry> {
        self.index.read().ok()?.get(hash).cloned()
    }

    /// Median time past of the block `hash`.
    ///
    /// # Errors
    /// Unknown block.
    pub fn median_time_past(&self, hash: &BlockHash) -> Result<u64, HeaderError> {
        let index = self
            .index
            .read()
            .map_err(|_| HeaderError::Storage(StoreError::Backend("index lock poisoned".into())))?;
        let header = index
            .get(hash)
            .map(|e| e.header.clone())
            .ok_or(HeaderError::UnknownParent(*hash))?;
        median_time_past(&header, &IndexView(&index))
    }

    /// A [`ChainTimeReader`] over the current best chain (for mempool checks).
    pub fn with_times<R>(&self, f: impl FnOnce(&dyn ChainTimeReader) -> R) -> R {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        f(&BestChainTimes {
            store: &self.store,
            index: &index,
        })
    }

    /// A block locator of the best chain: the tip, its nine ancestors, then hashes spaced
    /// ever further apart back to genesis (as Bitcoin's `getheaders`); at most
    /// `max` hashes, genesis always last.
    ///
    /// # Errors
    /// Storage failures.
    pub fn locator(&self, max: usize) -> Result<Vec<BlockHash>, StoreError> {
        let tip = self.tip().header.height;
        let mut hashes = Vec::new();
        let mut height = tip;
        let mut step = 1u64;
        while height > 0 && hashes.len() + 1 < max {
            if let Some(hash) = self.store.hash_at(height)? {
                hashes.push(hash);
            }
            if hashes.len() >= 10 {
                step = step.saturating_mul(2);
            }
            height = height.saturating_sub(step);
        }
        hashes.push(self.genesis);
        Ok(hashes)
    }

    /// Up to `max` best-chain headers following the first `locator` hash that is on the best
    /// chain (genesis if none is), oldest first — the answer to a peer's headers request.
    ///
    /// # Errors
    /// Storage failures.
    pub fn headers_after(
        &self,
        locator: &[BlockHash],
        max: u32,
    ) -> Result<Vec<Header>, StoreError> {
        let mut start = 0;
        for hash in locator {
            if let Some(entry) = self.entry(hash)
                && self.store.hash_at(entry.header.height)? == Some(*hash)
            {
                start = entry.header.height;
                break;
            }
        }
        let tip = self.tip().header.height;
        let end = tip.min(start.saturating_add(u64::from(max)));
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let mut headers = Vec::new();
        for height in start + 1..=end {
            let Some(hash) = self.store.hash_at(height)? else {
                break;
            };
            match index.get(&hash) {
                Some(entry) => headers.push(entry.header.clone()),
                None => break,
            }
        }
        Ok(headers)
    }

    /// Checks headers from a peer before their bodies are fetched: consecutive heights, each
    /// linked to the one before, the first to `parent` (a known block's header or one checked
    /// before), and each sealed with valid proof of work or a valid producer signature in its
    /// slot window. Timestamps against median-time-past are checked on import, where the
    /// ancestors are at hand. Headers that pass are remembered for assume-valid.
    ///
    /// # Errors
    /// The first header that fails, with its index.
    pub fn check_header_chain(
        &self,
        parent: &Header,
        headers: &[Header],
    ) -> Result<(), (usize, HeaderError)> {
        let mut prev = parent.clone();
        for (i, header) in headers.iter().enumerate() {
            if header.parent != prev.hash() {
                return Err((i, HeaderError::UnknownParent(header.parent)));
            }
            let expected = prev.height + 1;
            if header.height != expected {
                return Err((
                    i,
                    HeaderError::BadHeight {
                        got: header.height,
                        expected,
                    },
                ));
            }
            // Early headers are not checked against the clock here: their blocks are held on
            // import until this clock gets there, and a peer ahead of us is not at fault.
            self.schedule
                .check_seal(header, &prev)
                .map_err(|e| (i, e))?;
            prev = header.clone();
        }
        self.note_headers(parent, headers);
        Ok(())
    }

    /// Header checks against the parent: height, time window, seal.
    fn check_header(
        &self,
        header: &Header,
        parent: &IndexEntry,
        index: &HashMap<BlockHash, IndexEntry>,
    ) -> Result<(), HeaderError> {
        let expected = parent.header.height + 1;
        if header.height != expected {
            return Err(HeaderError::BadHeight {
                got: header.height,
                expected,
            });
        }
        let mtp = median_time_past(&parent.header, &IndexView(index))?;
        if header.time <= mtp {
            return Err(HeaderError::TimeTooOld {
                time: header.time,
                median_time_past: mtp,
            });
        }
        // The only use of the wall clock in validation, as in Bitcoin: a bound on future times.
        let max = self
            .clock
            .unix_now()
            .saturating_add(self.spec.max_future_block_time);
        if header.time > max {
            return Err(HeaderError::TimeTooNew {
                time: header.time,
                max,
            });
        }
        self.schedule.check_seal(header, &parent.header)?;
        self.check_not_future(header)?;
        self.check_irreversible(header.height, header.parent, index)
    }

    /// Whether the key sealing `header` owns its slot, checked against the parent's producer
    /// schedule before the block is stored: the tip's (exact, its stake ledger at hand) or the
    /// one recorded for the parent. Returns the schedule as of `header`, to record, or `None`
    /// when it cannot be known before the block connects: the parent's schedule was never
    /// recorded, or a new period begins on a side branch whose stake ledger is not at hand
    /// (the connect check then decides, as it always does).
    ///
    /// # Errors
    /// [`HeaderError::NotLeader`], [`HeaderError::NotActiveProducer`],
    /// [`HeaderError::Storage`].
    fn check_slot_owner(&self, block: &Block) -> Result<Option<Vec<u8>>, HeaderError> {
        let header = &block.header;
        let Seal::Producer { slot, pubkey, .. } = &header.seal else {
            return Ok(None);
        };
        let entry = self.spec.engine_at(header.height);
        let on_tip = header.parent == self.tip().hash;
        let mut producers = if on_tip {
            ProducerState::load(&self.tip_state())?
        } else {
            match self.store.producer_era(&header.parent)? {
                Some(bytes) => ProducerState {
                    era: Some(
                        Era::decode(&mut &bytes[..])
                            .map_err(|e| StoreError::corrupt("producer era", e))?,
                    ),
                    ..ProducerState::default()
                },
                None => return Ok(None),
            }
        };
        let state = self.tip_state();
        let unavailable = Unavailable::default();
        let stake: &dyn StakeIndex = if on_tip { &state } else { &unavailable };
        let result = producers.check_sealer(entry, *slot, header.parent.as_bytes(), pubkey, stake);
        match result {
            Err(HeaderError::Storage(_)) if unavailable.was_asked() => Ok(None),
            Err(e) => Err(e),
            Ok(()) => {
                // As the connect will, unverified: a bad reveal makes the block invalid there,
                // and this record then only serves blocks built on an invalid one.
                if let Ok(Contribution::Reveal(value)) = Contribution::of_block(block) {
                    producers.mix_in(&value);
                }
                Ok(producers.era.map(|e| e.encode()))
            }
        }
    }

    /// Whether `header` is early on this node's clock — its time beyond the allowed drift
    /// ([`HeaderError::TimeTooNew`]) or its slot not yet begun ([`HeaderError::FutureSlot`]) —
    /// and from when it may be imported (Unix seconds on this clock); `None` if it is not.
    pub fn early(&self, header: &Header) -> Option<(HeaderError, u64)> {
        let now = self.clock.unix_now();
        let max = now.saturating_add(self.spec.max_future_block_time);
        let mut early = (header.time > max).then(|| {
            let ready = header.time - self.spec.max_future_block_time;
            (
                HeaderError::TimeTooNew {
                    time: header.time,
                    max,
                },
                ready,
            )
        });
        if let Err(e) = self.check_not_future(header)
            && let (ScheduledEngine::Slot(engine), Seal::Producer { slot, .. }) =
                (self.schedule.at(header.height), &header.seal)
        {
            let ready = engine.ready_at(*slot);
            if early.as_ref().is_none_or(|(_, r)| ready > *r) {
                early = Some((e, ready));
            }
        }
        early
    }

    /// Slot engines refuse blocks of slots that have not begun on this node's clock.
    fn check_not_future(&self, header: &Header) -> Result<(), HeaderError> {
        match self.schedule.at(header.height) {
            ScheduledEngine::Slot(engine) => engine.check_not_future(header, self.clock.unix_now()),
            ScheduledEngine::Pow(_) => Ok(()),
        }
    }

    /// Validates and stores `block`, then moves the tip to the heaviest valid chain. Header and
    /// context-free failures are errors; a block that fails only when connected is reported in
    /// [`ImportOutcome::invalid`] (the tip may still have moved, and the caller must apply
    /// `disconnected` / `connected` to the mempool either way).
    ///
    /// # Errors
    /// [`ImportError`] if the block was refused before being stored.
    pub fn import_block(&self, block: Block) -> Result<ImportOutcome, ImportError> {
        let _guard = self.import_lock.lock().unwrap_or_else(|p| p.into_inner());
        let hash = block.header.hash();
        {
            let index = self.index.read().unwrap_or_else(|p| p.into_inner());
            if let Some(entry) = index.get(&hash) {
                if entry.status == BlockStatus::Invalid {
                    return Err(ImportError::KnownInvalid(hash));
                }
                return Ok(ImportOutcome {
                    already_known: true,
                    ..ImportOutcome::default()
                });
            }
            let parent = index
                .get(&block.header.parent)
                .ok_or(ImportError::UnknownParent {
                    hash,
                    parent: block.header.parent,
                })?;
            if parent.status == BlockStatus::Invalid {
                return Err(ImportError::KnownInvalid(block.header.parent));
            }
            // A storage fault while checking is this node's failure, never the block's; a
            // block from the future may be valid once this clock gets there.
            let invalid = |e: HeaderError| match e {
                HeaderError::Storage(e) => ImportError::Storage(e),
                e @ (HeaderError::TimeTooNew { .. } | HeaderError::FutureSlot { .. }) => {
                    ImportError::Early {
                        hash,
                        ready_at: self.early(&block.header).map_or(0, |(_, r)| r),
                        error: e,
                    }
                }
                e => ImportError::Invalid {
                    hash,
                    error: Box::new(BlockError::Header(e)),
                },
            };
            self.check_header(&block.header, parent, &index)
                .map_err(invalid)?;
            let seal = seal_key(&self.spec, &block.header);
            let mut double_signed = None;
            if let Some(key @ (_, slot, pubkey)) = &seal
                && let Some(earlier) = self
                    .sealed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(key)
                && let Some(first) = earlier.first()
            {
                if earlier.len() >= 2 {
                    return Err(ImportError::Redundant {
                        hash,
                        error: HeaderError::Equivocation {
                            slot: *slot,
                            key: hex::encode(pubkey),
                            first: *first,
                        },
                    });
                }
                double_signed = index.get(first).map(|e| e.header.clone());
            }
            check_block(&block, &self.spec).map_err(|error| ImportError::Invalid {
                hash,
                error: Box::new(error),
            })?;
            let era = self.check_slot_owner(&block).map_err(invalid)?;
            let work = parent
                .work()
                .saturating_add(self.schedule.weight(&block.header));
            let entry = IndexEntry {
                header: block.header.clone(),
                chain_work: work.to_big_endian(),
                status: BlockStatus::Stored,
            };
            drop(index);
            self.store.put_block(&block, &entry)?;
            if let Some(era) = era {
                self.store.put_producer_era(&hash, &era)?;
            }
            self.index
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(hash, entry);
            if let Some(key) = seal {
                self.sealed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(key)
                    .or_default()
                    .push(hash);
                if let Some(first) = double_signed {
                    tracing::warn!(slot = key.1, key = %hex::encode(key.2), first = %first.hash(), second = %hash, "double signing: both blocks kept, evidence recorded");
                    self.evidence
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(key, (first, block.header.clone()));
                }
            }
        }
        Ok(self.activate_best_chain()?)
    }
}

#[cfg(test)]
mod tests;
