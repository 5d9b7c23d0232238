//! Assume-valid (Bitcoin Core's `-assumevalid`, the rule in `validation.cpp`'s
//! `ConnectBlock`): a block whose scripts are not run while syncing. A release names a block
//! its makers checked ([`ChainSpec::assume_valid`], overridable by the operator); a block
//! connects without running scripts only when all of these hold, and otherwise it is verified
//! in full:
//!
//! - the named block's header is known and the block being connected is its ancestor (or it);
//! - the best header known descends from the named block, and carries at least the chain's
//!   minimum work (so a node cut off from the real chain verifies everything);
//! - more than two weeks' worth of proof-equivalent time lies on top of the block being
//!   connected in the best header chain (so a miner cannot make users set the flag for a
//!   fresh invalid block; Core's `GetBlockProofEquivalentTime` > 2 weeks).
//!
//! Amounts, coins, lock times, contract execution and the state root are still checked: the
//! assumption covers signatures only. Headers reach the chain through
//! [`Chain::check_header_chain`], which remembers the ones it checked.
//!
//! [`ChainSpec::assume_valid`]: i8o8i_runtime::spec::ChainSpec::assume_valid

use std::collections::HashMap;

use i8o8i_primitives::{BlockHash, Header, U256};

use super::Chain;

/// Core's two weeks (`60 * 60 * 24 * 7 * 2`) of proof-equivalent time.
pub const BURIAL_SECS: u64 = 60 * 60 * 24 * 7 * 2;

/// Most checked headers remembered. Past it the memory is dropped and rebuilt from the next
/// headers sync hands over (until then blocks are verified in full).
const MAX_HEADERS: usize = 250_000;

/// A checked header not necessarily stored as a block.
#[derive(Debug, Clone, Copy)]
struct Noted {
    parent: BlockHash,
    height: u64,
    /// Cumulative work of the chain ending here.
    work: U256,
    /// This header's own work (its weight under the schedule).
    weight: U256,
}

/// What the chain knows of headers for assume-valid.
#[derive(Debug, Default)]
pub(crate) struct HeaderChain {
    /// The block assumed valid, if any.
    assumed: Option<BlockHash>,
    headers: HashMap<BlockHash, Noted>,
    /// The heaviest header noted.
    best: Option<(BlockHash, Noted)>,
    /// The assumed-valid block's ancestors down to where they join this node's best chain:
    /// the height of the first, then the hashes upwards (the assumed block last). Built once
    /// its header is known.
    ancestors: Option<(u64, Vec<BlockHash>)>,
    /// Whether the best header descends from the assumed-valid block.
    best_descends: bool,
    /// The assumed-valid block is on this node's best chain: nothing below it is connected
    /// again short of a reorganisation that deep (then everything is verified), so headers
    /// are no longer remembered.
    reached: bool,
}

impl HeaderChain {
    pub(crate) fn new(assumed: Option<BlockHash>) -> HeaderChain {
        HeaderChain {
            assumed,
            ..HeaderChain::default()
        }
    }
}

impl Chain {
    /// The block this node assumes valid (from the chain spec or the operator).
    pub fn assume_valid(&self) -> Option<BlockHash> {
        self.headers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .assumed
    }

    /// Replaces the chain spec's assumed-valid block (`None`: verify every script), as Core's
    /// `-assumevalid=<hash>` / `-assumevalid=0` do.
    pub fn set_assume_valid(&self, block: Option<BlockHash>) {
        let mut headers = self.headers.lock().unwrap_or_else(|p| p.into_inner());
        headers.assumed = block;
        headers.ancestors = None;
        headers.best_descends = false;
        headers.reached = false;
        self.refresh_assumed(&mut headers);
    }

    /// Remembers a chain of headers [`Chain::check_header_chain`] accepted on `parent`, while
    /// an assumed-valid block is named and not yet reached.
    pub(super) fn note_headers(&self, parent: &Header, checked: &[Header]) {
        let parent_hash = parent.hash();
        let mut headers = self.headers.lock().unwrap_or_else(|p| p.into_inner());
        if headers.assumed.is_none() || self.assumed_reached(&mut headers) {
            return;
        }
        let parent_work = match self.entry(&parent_hash) {
            Some(entry) => entry.work(),
            None => match headers.headers.get(&parent_hash) {
                Some(noted) => noted.work,
                None => return,
            },
        };
        if headers.headers.len() + checked.len() > MAX_HEADERS {
            headers.headers.clear();
            headers.best = None;
            headers.best_descends = false;
        }
        let mut work = parent_work;
        let mut parent = parent_hash;
        for header in checked {
            let weight = self.schedule.weight(header);
            work = work.saturating_add(weight);
            let hash = header.hash();
            let noted = Noted {
                parent,
                height: header.height,
                work,
                weight,
            };
            headers.headers.insert(hash, noted);
            if headers.best.is_none_or(|(_, best)| noted.work > best.work) {
                headers.best = Some((hash, noted));
            }
            parent = hash;
        }
        self.refresh_assumed(&mut headers);
    }

    /// Whether the assumed-valid block is on the best chain (remembered once it is, and the
    /// noted headers dropped).
    fn assumed_reached(&self, headers: &mut HeaderChain) -> bool {
        if !headers.reached
            && let (Some(assumed), Some((from, ancestors))) = (headers.assumed, &headers.ancestors)
        {
            let height = from + ancestors.len() as u64 - 1;
            if self.store.hash_at(height).ok().flatten() == Some(assumed) {
                headers.reached = true;
                headers.headers = HashMap::new();
                headers.best = None;
            }
        }
        headers.reached
    }

    /// A header's parent and height, from the noted headers or the block index.
    fn header_link(&self, headers: &HeaderChain, hash: &BlockHash) -> Option<(BlockHash, u64)> {
        match headers.headers.get(hash) {
            Some(noted) => Some((noted.parent, noted.height)),
            None => self.entry(hash).map(|e| (e.header.parent, e.header.height)),
        }
    }

    /// Recomputes the assumed block's ancestry (once) and whether the best header descends
    /// from it.
    fn refresh_assumed(&self, headers: &mut HeaderChain) {
        let Some(assumed) = headers.assumed else {
            return;
        };
        if headers.ancestors.is_none() {
            let mut path = Vec::new();
            let mut cursor = assumed;
            let mut lowest = None;
            while let Some((parent, height)) = self.header_link(headers, &cursor) {
                path.push(cursor);
                lowest = Some(height);
                let on_best = self.store.hash_at(height).ok().flatten() == Some(cursor);
                if on_best || height == 0 {
                    break;
                }
                cursor = parent;
            }
            if let Some(lowest) = lowest {
                path.reverse();
                headers.ancestors = Some((lowest, path));
            }
        }
        let Some((ancestors_from, ancestors)) = &headers.ancestors else {
            return;
        };
        let assumed_height = ancestors_from + ancestors.len() as u64 - 1;
        headers.best_descends = match headers.best {
            Some((mut cursor, best)) if best.height >= assumed_height => {
                let mut height = best.height;
                while height > assumed_height {
                    match self.header_link(headers, &cursor) {
                        Some((parent, _)) => cursor = parent,
                        None => break,
                    }
                    height -= 1;
                }
                height == assumed_height && cursor == assumed
            }
            _ => false,
        };
    }

    /// Whether `header` (whose chain has cumulative `work`) connects without running its
    /// scripts under the rules in this module's documentation.
    pub(super) fn scripts_assumed_valid(&self, header: &Header, work: U256) -> bool {
        let headers = self.headers.lock().unwrap_or_else(|p| p.into_inner());
        let (Some((from, ancestors)), Some((_, best))) = (&headers.ancestors, headers.best) else {
            return false;
        };
        if !headers.best_descends || best.work < self.spec.min_chain_work() || best.weight.is_zero()
        {
            return false;
        }
        let is_ancestor = header
            .height
            .checked_sub(*from)
            .and_then(|i| ancestors.get(i as usize))
            == Some(&header.hash());
        if !is_ancestor {
            return false;
        }
        // Proof-equivalent time on top: (best work - work) / best block's work × spacing, compared
        // without dividing.
        let on_top = best.work.saturating_sub(work);
        on_top.saturating_mul(U256::from(self.spec.target_block_time))
            > best.weight.saturating_mul(U256::from(BURIAL_SECS))
    }
}

#[cfg(test)]
mod tests;
