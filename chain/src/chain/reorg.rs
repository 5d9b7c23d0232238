//! Fork choice and reorganisation: which stored block is the best candidate, and moving the
//! tip to it by disconnecting and connecting blocks (each one atomic write), marking blocks
//! that fail to connect invalid along with their descendants.

use i8o8i_runtime::script_cache::CacheUse;
use std::collections::HashMap;

use i8o8i_primitives::state_tree::TreeUpdate;
use i8o8i_primitives::{Block, BlockHash, Hash256, Seal, StoreError, U256};
use i8o8i_runtime::error::BlockError;
use i8o8i_runtime::producers::ProducerState;
use i8o8i_runtime::state::{BlockChanges, ConnectContext, connect_block};
use parity_scale_codec::Encode;

use i8o8i_runtime::consensus::HeaderError;

use super::{BestChainTimes, Chain, ImportOutcome, Tip};
use crate::state_tree;
use crate::store::{BlockStatus, IndexEntry};

impl Chain {
    /// Whether `hash` or an ancestor is marked invalid.
    pub(super) fn has_invalid_ancestry(
        index: &HashMap<BlockHash, IndexEntry>,
        mut hash: BlockHash,
    ) -> bool {
        while let Some(entry) = index.get(&hash) {
            match entry.status {
                BlockStatus::Invalid => return true,
                // Valid blocks only have valid ancestors.
                BlockStatus::Valid => return false,
                BlockStatus::Stored => hash = entry.header.parent,
            }
        }
        false
    }

    /// The heaviest block not known to be invalid. Ties keep the current tip (first seen wins,
    /// as in Bitcoin), otherwise go to the lower hash so every node picks the same.
    pub(super) fn best_candidate(&self) -> BlockHash {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let tip = self.tip();
        let mut best = (tip.work, tip.hash);
        for (hash, entry) in index.iter() {
            let work = entry.work();
            let better = work > best.0 || (work == best.0 && best.1 != tip.hash && *hash < best.1);
            if better
                && entry.status != BlockStatus::Invalid
                && !Self::has_invalid_ancestry(&index, *hash)
            {
                best = (work, *hash);
            }
        }
        // The tip itself may have become invalid; never return an invalid block.
        if Self::has_invalid_ancestry(&index, best.1) {
            self.genesis
        } else {
            best.1
        }
    }

    pub(super) fn set_tip(&self, hash: BlockHash) -> Result<(), StoreError> {
        let entry = self.entry(&hash).ok_or(StoreError::NotIndexed(hash))?;
        self.tip.send_replace(Tip {
            hash,
            header: entry.header.clone(),
            work: entry.work(),
        });
        Ok(())
    }

    pub(super) fn set_status(
        &self,
        hash: &BlockHash,
        status: BlockStatus,
    ) -> Result<(), StoreError> {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = index.get_mut(hash) {
            entry.status = status;
            self.store.put_index_entry(hash, entry)?;
        }
        Ok(())
    }

    /// Moves the store's tip to the best candidate: disconnect to the fork point, connect the
    /// new branch; a block that fails to connect is marked invalid and the search repeats.
    pub(super) fn activate_best_chain(&self) -> Result<ImportOutcome, StoreError> {
        let mut outcome = ImportOutcome::default();
        loop {
            let target = self.best_candidate();
            if target == self.tip().hash {
                self.update_irreversible()?;
                self.prune_old_blocks()?;
                return Ok(outcome);
            }
            // The new branch, from its fork with the best chain up to `target`.
            let mut branch = Vec::new();
            let mut cursor = target;
            let fork = loop {
                let entry = self.entry(&cursor).ok_or(StoreError::NotIndexed(cursor))?;
                if self.store.hash_at(entry.header.height)? == Some(cursor) {
                    break cursor;
                }
                branch.push(cursor);
                cursor = entry.header.parent;
            };
            branch.reverse();
            if let (Some((lib, _)), Some(first)) = (self.last_irreversible(), branch.first()) {
                let fork_height = self.entry(&fork).map_or(0, |e| e.header.height);
                if fork_height < lib {
                    // Stored before the block it conflicts with became irreversible.
                    let error = BlockError::Header(HeaderError::BelowIrreversible {
                        height: fork_height + 1,
                        irreversible: lib,
                    });
                    tracing::warn!(hash = %first, %error, "branch refused");
                    self.set_status(first, BlockStatus::Invalid)?;
                    outcome.invalid.push((*first, error));
                    continue;
                }
            }
            let fork_height = self.entry(&fork).map_or(0, |e| e.header.height);
            if fork_height + 1 < self.lowest_block() {
                // Deeper than a pruned node can go: the blocks to disconnect are gone.
                tracing::error!(fork_height, lowest = self.lowest_block(), %target, "a heavier branch forks below the pruned blocks; this node cannot follow it without a full copy of the chain");
                return Err(StoreError::Pruned {
                    height: fork_height + 1,
                    lowest: self.lowest_block(),
                });
            }
            while self.tip().hash != fork {
                let tip = self.tip();
                let block = self
                    .store
                    .block(&tip.hash)?
                    .ok_or(StoreError::MissingBlock(tip.hash))?;
                let events = self.store.block_events(&block)?;
                self.with_join(|join| self.store.disconnect(&block, join))?;
                self.set_tip(block.header.parent)?;
                tracing::debug!(height = block.header.height, hash = %tip.hash, "disconnected block");
                outcome.disconnected.push(block);
                outcome.disconnected_events.push(events);
            }
            for hash in branch {
                let block = self
                    .store
                    .block(&hash)?
                    .ok_or(StoreError::MissingBlock(hash))?;
                let parent = self.tip();
                let mtp = self
                    .median_time_past(&parent.hash)
                    .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
                let work = self.entry(&hash).map_or(U256::zero(), |e| e.work());
                let assume_valid = self.scripts_assumed_valid(&block.header, work);
                let ctx = ConnectContext {
                    spec: &self.spec,
                    chain_id: self.chain_id(),
                    median_time_past: mtp,
                    contracts: Some(&self.contracts),
                    script_cache: Some(CacheUse::counted(&self.script_cache)),
                    assume_valid,
                };
                // The block this node just previewed on this tip (its own, sealed): that
                // preview's connection, not a second one (`preview`).
                let prepared = self
                    .prepared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .filter(|p| p.is_for(&block.header));
                let connected = match prepared {
                    Some(p) => {
                        self.script_cache.tally().add(&p.tally);
                        self.previews_used
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Ok((p.changes, p.tree))
                    }
                    None => self.connect_fresh(&block, &ctx),
                };
                let result = connected.and_then(|(changes, tree)| {
                    // The header commits to the state after the block (docs/state.md).
                    let expected = Hash256::from_byte_array(tree.root.hash());
                    if expected != block.header.state_root {
                        return Err(BlockError::BadStateRoot {
                            got: block.header.state_root,
                            expected,
                        });
                    }
                    Ok((changes, tree))
                });
                match result {
                    Ok((changes, tree)) => {
                        outcome.contract_gas = changes
                            .receipts
                            .iter()
                            .fold(outcome.contract_gas, |sum, r| {
                                sum.saturating_add(r.receipt.gas_used)
                            });
                        self.store.connect(&block, &changes, &tree)?;
                        if matches!(block.header.seal, Seal::Producer { .. })
                            && let Some(era) = ProducerState::load(&self.tip_state())?.era
                        {
                            self.store.put_producer_era(&hash, &era.encode())?;
                        }
                        self.set_status(&hash, BlockStatus::Valid)?;
                        self.set_tip(hash)?;
                        tracing::debug!(height = block.header.height, %hash, txs = block.transactions.len(), "connected block");
                        outcome.connected.push(block);
                    }
                    // This node's storage failed: no verdict on the block, which stays stored
                    // and is tried again on the next activation.
                    Err(
                        BlockError::Tx {
                            error: i8o8i_runtime::error::TxError::Storage(e),
                            ..
                        }
                        | BlockError::ContractState(e)
                        | BlockError::Header(HeaderError::Storage(e)),
                    ) => {
                        return Err(e);
                    }
                    Err(error) => {
                        tracing::warn!(%hash, %error, "block failed to connect; marked invalid");
                        self.set_status(&hash, BlockStatus::Invalid)?;
                        outcome.invalid.push((hash, error));
                        break;
                    }
                }
            }
        }
    }

    /// Connects `block` on the tip: its changes and the state tree's update for them.
    fn connect_fresh(
        &self,
        block: &Block,
        ctx: &ConnectContext<'_>,
    ) -> Result<(BlockChanges, TreeUpdate), BlockError> {
        let changes = {
            let index = self.index.read().unwrap_or_else(|p| p.into_inner());
            let times = BestChainTimes {
                store: &self.store,
                index: &index,
            };
            connect_block(block, ctx, &*self.store, &times, self.script_pool.as_ref())?
        };
        let set = state_tree::block_changes(block.header.height, &changes);
        let tree = self
            .with_join(|join| self.store.tree_update(&set, join))
            .map_err(BlockError::ContractState)?;
        Ok((changes, tree))
    }
}
