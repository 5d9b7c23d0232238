//! What a block would do, and the state root after it, on any stored parent — the tip, an older
//! block of the best chain, or a block of a side branch — without writing anything. The state
//! at the parent is rebuilt in memory: the best chain's blocks above the fork are undone from
//! their undo data (newest first, so the oldest value of each record wins), then the side
//! branch's blocks below the parent are applied; the tree gets the same changes in the same
//! order, in memory on top of the stored (tip's) tree.
//!
//! Block producers need the root before sealing (it goes in the header), and so do tools and
//! tests that build a branch off an older block.
//!
//! A producer's block is previewed on the tip and then, sealed, imported: Bitcoin Core checks
//! a template with `TestBlockValidity` and connects the block again in `ProcessNewBlock`. Here
//! the last preview on the tip is kept ([`Prepared`]) and the import of that very block — the
//! same header but for its seal and state root, so the same transactions on the same parent —
//! uses its changes and state tree update instead of connecting it a second time. Connecting
//! does not read the seal's nonce or signature (nor the block hash), so the result is the
//! one the import would compute.

use i8o8i_runtime::script_cache::{CacheUse, Tally};
use std::collections::HashMap;
use std::sync::Arc;

use i8o8i_contract_engine::StateOverlay;
use i8o8i_contract_engine::engine::TraceRecord;
use i8o8i_primitives::contract::Receipt;
use i8o8i_primitives::state_tree::TreeUpdate;
use i8o8i_primitives::{Block, Coin, Hash256, Header, OutPoint, Seal, StoreError};
use i8o8i_primitives::{BlockHash, Txid};
use i8o8i_runtime::consensus::HeaderError;
use i8o8i_runtime::error::BlockError;
use i8o8i_runtime::state::{
    BlockChanges, ConnectContext, ContractEnv, TraceRequest, UtxoReader, connect_block,
};

use super::{BestChainTimes, Chain};
use crate::state_tree;
use crate::store::Store;
use i8o8i_primitives::state_tree::Overlay;

/// The UTXO set at another block: the store's, with the differences on top.
struct CoinsAt<'a> {
    store: &'a Store,
    diff: HashMap<OutPoint, Option<Coin>>,
}

impl UtxoReader for CoinsAt<'_> {
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        match self.diff.get(outpoint) {
            Some(coin) => Ok(coin.clone()),
            None => self.store.coin(outpoint),
        }
    }
}

/// A best-chain transaction's contract execution, traced ([`Chain::trace_transaction`]).
#[derive(Debug, Clone)]
pub struct TxTrace {
    /// Its block.
    pub block: BlockHash,
    /// The block's height.
    pub height: u64,
    /// Its receipt as the block produced it again (`None`: no contract payload).
    pub receipt: Option<Receipt>,
    /// The frames of its execution (empty when nothing ran: no payload, refused before
    /// running, or a payload that runs no code).
    pub record: TraceRecord,
}

fn storage(e: StoreError) -> BlockError {
    BlockError::ContractState(e)
}

/// A block's connection on the tip as its preview worked it out, kept for the block's import.
pub(super) struct Prepared {
    /// The previewed header without its seal's proof and its state root ([`unsealed`]).
    header: Header,
    /// What connecting the block changes.
    pub(super) changes: BlockChanges,
    /// The state tree's update for `changes` on the tip's tree.
    pub(super) tree: TreeUpdate,
    /// The preview's script-cache lookups, counted when the import uses this.
    pub(super) tally: Tally,
}

impl Prepared {
    /// Whether this was worked out for a block with `header` (on the same parent, with the
    /// same transactions and the same time and producer).
    pub(super) fn is_for(&self, header: &Header) -> bool {
        self.header == unsealed(header)
    }
}

/// `header` as it is before sealing and before its state root is known: what a preview and
/// the import of the sealed block have in common.
fn unsealed(header: &Header) -> Header {
    let mut header = header.clone();
    header.state_root = Hash256::ZERO;
    match &mut header.seal {
        Seal::Pow { nonce, .. } => *nonce = 0,
        Seal::Producer { signature, .. } => signature.clear(),
    }
    header
}

impl Chain {
    /// What connecting `block` on its parent would change, and the state root after it. The
    /// parent must be stored (on the best chain or a side branch), and the best chain's blocks
    /// above the fork still have their undo data (not pruned).
    ///
    /// # Errors
    /// [`BlockError`] if the block would not connect; [`HeaderError::UnknownParent`] for a
    /// parent this node does not have; storage failures as [`BlockError::ContractState`].
    pub fn preview_block(&self, block: &Block) -> Result<(BlockChanges, Hash256), BlockError> {
        let _guard = self.import_lock.lock().unwrap_or_else(|p| p.into_inner());
        let tip = self.tip();
        // The side branch from the parent back to the best chain.
        let mut side = Vec::new();
        let mut cursor = block.header.parent;
        let fork_height = loop {
            let entry = self
                .entry(&cursor)
                .ok_or(BlockError::Header(HeaderError::UnknownParent(cursor)))?;
            if self.store.hash_at(entry.header.height).map_err(storage)? == Some(cursor) {
                break entry.header.height;
            }
            side.push(cursor);
            cursor = entry.header.parent;
        };
        side.reverse();
        if side.is_empty() && block.header.parent == tip.hash {
            return self.prepare_on_tip(block);
        }
        let (mut coins, mut state, mut tree_sets) =
            self.undo_down_to(fork_height + 1, tip.header.height)?;
        let side_blocks = side
            .iter()
            .map(|hash| {
                self.store
                    .block(hash)
                    .map_err(storage)?
                    .ok_or(storage(StoreError::MissingBlock(*hash)))
            })
            .collect::<Result<Vec<Block>, BlockError>>()?;
        let mut last = None;
        for current in side_blocks.iter().chain(std::iter::once(block)) {
            let changes = self.connect_on(current, &coins, &state, None, None)?;
            tree_sets.push(state_tree::block_changes(current.header.height, &changes));
            for (outpoint, _) in &changes.spent {
                coins.diff.insert(*outpoint, None);
            }
            for (outpoint, coin) in &changes.created {
                coins.diff.insert(*outpoint, Some(coin.clone()));
            }
            state.merge(changes.contracts.writes.iter().cloned().collect());
            last = Some(changes);
        }
        let nodes = self.store.tip_tree();
        let mut tree = Overlay::new(&nodes, nodes.root().map_err(storage)?);
        for set in &tree_sets {
            tree.apply(set).map_err(storage)?;
        }
        let root = Hash256::from_byte_array(tree.root.hash());
        match last {
            Some(changes) => Ok((changes, root)),
            None => Err(storage(StoreError::Inconsistent(
                "no state root for the previewed block".into(),
            ))),
        }
    }

    /// [`Chain::preview_block`] of a block on the tip, the result kept for the block's import
    /// ([`Prepared`]; one is kept, the last). The caller holds the import lock.
    fn prepare_on_tip(&self, block: &Block) -> Result<(BlockChanges, Hash256), BlockError> {
        let coins = CoinsAt {
            store: &self.store,
            diff: HashMap::new(),
        };
        let state = StateOverlay::new(self.contracts.state.clone());
        let tally = Tally::default();
        let changes = self.connect_on(block, &coins, &state, None, Some(&tally))?;
        let set = state_tree::block_changes(block.header.height, &changes);
        let tree = self
            .with_join(|join| self.store.tree_update(&set, join))
            .map_err(storage)?;
        let root = Hash256::from_byte_array(tree.root.hash());
        *self.prepared.lock().unwrap_or_else(|p| p.into_inner()) = Some(Prepared {
            header: unsealed(&block.header),
            changes: changes.clone(),
            tree,
            tally,
        });
        Ok((changes, root))
    }

    /// Sets `block`'s transaction root and state root to what its transactions and its
    /// connection on its parent make them ([`Chain::preview_block`]): for tools and tests that
    /// assemble blocks themselves. The seal (nonce, signature) must be made afterwards.
    ///
    /// # Errors
    /// As [`Chain::preview_block`]; the block is left with its new transaction root.
    pub fn commit_to_state(&self, block: &mut Block) -> Result<(), BlockError> {
        block.header.tx_root = block.compute_tx_root();
        let (_, root) = self.preview_block(block)?;
        block.header.state_root = root;
        Ok(())
    }

    /// The best chain's state below height `lowest`: the blocks from `tip_height` down to
    /// `lowest` undone from their undo data, newest first (so the oldest value of each record
    /// wins), with the state tree's change sets for the same undoing.
    fn undo_down_to(
        &self,
        lowest: u64,
        tip_height: u64,
    ) -> Result<(CoinsAt<'_>, StateOverlay, Vec<state_tree::Changes>), BlockError> {
        let mut coins = CoinsAt {
            store: &self.store,
            diff: HashMap::new(),
        };
        let mut state = StateOverlay::new(self.contracts.state.clone());
        let mut tree_sets = Vec::new();
        for height in (lowest..=tip_height).rev() {
            let hash = self
                .store
                .hash_at(height)
                .map_err(storage)?
                .ok_or(storage(StoreError::MissingHeight(height)))?;
            let best = self
                .store
                .block(&hash)
                .map_err(storage)?
                .ok_or(storage(StoreError::MissingBlock(hash)))?;
            let undo = self
                .store
                .block_undo(&hash)
                .map_err(storage)?
                .ok_or(storage(StoreError::MissingBlock(hash)))?;
            for tx in &best.transactions {
                let txid = tx.txid();
                for index in 0..tx.outputs.len() as u32 {
                    coins.diff.insert(OutPoint { txid, index }, None);
                }
            }
            tree_sets.push(state_tree::undo_changes(&best, &undo));
            for (outpoint, _) in &undo.appended {
                coins.diff.insert(*outpoint, None);
            }
            for (outpoint, coin) in undo.spent {
                coins.diff.insert(outpoint, Some(coin));
            }
            for (key, value) in undo.contract_undo {
                state.put(key, value);
            }
        }
        Ok((coins, state, tree_sets))
    }

    /// The contract trace of best-chain transaction `txid` (`tx_traceContract`): its block
    /// connected again on its parent's state — rebuilt from undo data — with that
    /// transaction's execution recorded. `Ok(None)` when the transaction is not in the best
    /// chain's index; the receipt is `None` when it carries no contract payload.
    ///
    /// # Errors
    /// Storage failures, and undo data that is gone (pruned), as [`BlockError`].
    pub fn trace_transaction(&self, txid: &Txid) -> Result<Option<TxTrace>, BlockError> {
        let _guard = self.import_lock.lock().unwrap_or_else(|p| p.into_inner());
        let Some(at) = self.store.tx_location(txid).map_err(storage)? else {
            return Ok(None);
        };
        let block = self
            .store
            .block(&at.block)
            .map_err(storage)?
            .ok_or(storage(StoreError::MissingBlock(at.block)))?;
        let height = block.header.height;
        if self.store.hash_at(height).map_err(storage)? != Some(at.block) {
            return Ok(None);
        }
        let tip = self.tip();
        let (coins, state, _) = self.undo_down_to(height, tip.header.height)?;
        let request = Arc::new(TraceRequest {
            position: at.position,
            record: std::sync::Mutex::default(),
        });
        let changes = self.connect_on(&block, &coins, &state, Some(request.clone()), None)?;
        let receipt = changes
            .receipts
            .into_iter()
            .find(|r| r.position == at.position)
            .map(|r| r.receipt);
        let record = request
            .record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        Ok(Some(TxTrace {
            block: at.block,
            height,
            receipt,
            record,
        }))
    }

    /// `connect_block` on the state `coins` / `state` (the block's parent's), tracing the
    /// transaction `trace` asks for and counting script-cache lookups in `tally`.
    fn connect_on(
        &self,
        block: &Block,
        coins: &CoinsAt<'_>,
        state: &StateOverlay,
        trace: Option<Arc<TraceRequest>>,
        tally: Option<&Tally>,
    ) -> Result<BlockChanges, BlockError> {
        let mtp = self
            .median_time_past(&block.header.parent)
            .map_err(BlockError::Header)?;
        let env = ContractEnv {
            engine: self.contracts.engine.clone(),
            state: Arc::new(state.clone()),
            trace,
        };
        let ctx = ConnectContext {
            spec: &self.spec,
            chain_id: self.chain_id(),
            median_time_past: mtp,
            contracts: Some(&env),
            // Uses the cache (a producer previews its template before sealing it), counted
            // apart: the cache's counts are what imports saved.
            script_cache: Some(CacheUse {
                cache: &self.script_cache,
                tally,
            }),
            assume_valid: false,
        };
        // Relative time locks read the best chain's times: exact on it, approximate on a side
        // branch above the fork.
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let times = BestChainTimes {
            store: &self.store,
            index: &index,
        };
        connect_block(block, &ctx, coins, &times, self.script_pool.as_ref())
    }
}
