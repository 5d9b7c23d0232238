//! Packages: the unconfirmed ancestors and descendants of each pooled transaction.
//!
//! Every entry carries the totals (count, bytes, fees) of itself with its in-pool ancestors and
//! with its in-pool descendants, updated when a relative enters or leaves, so that
//! - admission enforces Bitcoin Core's package limits (`-limitancestorcount` and friends:
//!   25 transactions and 101 kB each way) before any script runs;
//! - the pool is ordered by *ancestor fee rate* (a child paying for its parent lifts both:
//!   child-pays-for-parent) and evicts by *descendant score*, both kept as sorted indexes;
//! - a block template is Core's `BlockAssembler::addPackageTxs`: take the best package, add its
//!   missing ancestors parents-first, lower its descendants' ancestor totals by what is now
//!   in the block, and go on — O(n · d · log n) for n transactions with at most d = 25
//!   relatives each, instead of one pass over the pool per generation of a chain.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};

use foldhash::{HashMap, HashSet};
use std::sync::Arc;

use i8o8i_contract_engine::gas;
use i8o8i_primitives::{Amount, Transaction, Txid};
use i8o8i_runtime::contract::payload_terms;
use i8o8i_runtime::validation::{MAX_BLOCK_SIGOPS, legacy_sigops};

use super::{Mempool, MempoolError};

/// Most transactions in a package with its unconfirmed ancestors, itself included (Core's
/// `DEFAULT_ANCESTOR_LIMIT`).
pub const MAX_ANCESTORS: u64 = 25;
/// Most bytes of a transaction with its unconfirmed ancestors (Core's
/// `DEFAULT_ANCESTOR_SIZE_LIMIT_KVB`, 101 kvB).
pub const MAX_ANCESTOR_BYTES: u64 = 101_000;
/// Most transactions a pooled transaction may have depending on it, itself included (Core's
/// `DEFAULT_DESCENDANT_LIMIT`).
pub const MAX_DESCENDANTS: u64 = 25;
/// Most bytes of a pooled transaction with its descendants (Core's
/// `DEFAULT_DESCENDANT_SIZE_LIMIT_KVB`).
pub const MAX_DESCENDANT_BYTES: u64 = 101_000;

/// Packages that do not fit, in a row, after which a nearly full selection stops (Core's
/// `MAX_CONSECUTIVE_FAILURES`).
const MAX_CONSECUTIVE_FAILURES: usize = 1_000;
/// "Nearly full": within this many bytes of the limit (Core's 4,000 weight units).
const NEARLY_FULL_BYTES: u64 = 4_000;
/// Signature operations a template leaves for the coinbase (Core reserves 400 as well).
const COINBASE_SIGOPS: usize = 400;

/// A fee rate as the exact fraction fee / size, ordered by cross-multiplication (no rounding,
/// no floats: two packages with the same rate compare equal whatever their sizes).
#[derive(Debug, Clone, Copy)]
pub struct FeeRate {
    fee: u64,
    size: u64,
}

impl FeeRate {
    /// `fee` units over `size` bytes (a zero size counts as one byte).
    pub fn new(fee: u64, size: u64) -> FeeRate {
        FeeRate {
            fee,
            size: size.max(1),
        }
    }

    /// The rate in thousandths of a base unit per byte, rounded down.
    pub fn milli_per_byte(self) -> u64 {
        (u128::from(self.fee) * 1000 / u128::from(self.size)).min(u128::from(u64::MAX)) as u64
    }
}

impl Ord for FeeRate {
    fn cmp(&self, other: &FeeRate) -> Ordering {
        (u128::from(self.fee) * u128::from(other.size))
            .cmp(&(u128::from(other.fee) * u128::from(self.size)))
    }
}

impl PartialOrd for FeeRate {
    fn partial_cmp(&self, other: &FeeRate) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for FeeRate {
    fn eq(&self, other: &FeeRate) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FeeRate {}

/// Totals of a set of pooled transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Transactions.
    pub count: u64,
    /// Encoded bytes.
    pub size: u64,
    /// Fees in base units.
    pub fee: u64,
}

impl Totals {
    pub(super) fn of(size: u64, fee: Amount) -> Totals {
        Totals {
            count: 1,
            size,
            fee: fee.to_units(),
        }
    }

    fn add(&mut self, other: Totals) {
        self.count += other.count;
        self.size += other.size;
        // Pooled fees are each below the money supply: a sum of 25 cannot overflow.
        self.fee = self.fee.saturating_add(other.fee);
    }

    fn sub(&mut self, other: Totals) {
        self.count -= other.count;
        self.size -= other.size;
        self.fee -= other.fee;
    }

    /// Their fee rate.
    pub fn rate(self) -> FeeRate {
        FeeRate::new(self.fee, self.size)
    }
}

/// Where an entry sits in the two score indexes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scores {
    ancestor: FeeRate,
    descendant: FeeRate,
}

/// A pooled transaction's place among its relatives.
#[derive(Debug, Clone, Default)]
pub(super) struct Links {
    /// Pooled transactions it spends outputs of.
    pub parents: Vec<Txid>,
    /// Pooled transactions spending its outputs.
    pub children: Vec<Txid>,
    /// Itself with its pooled ancestors.
    pub ancestors: Totals,
    /// Itself with its pooled descendants.
    pub descendants: Totals,
    scores: Option<Scores>,
}

impl Links {
    /// Core's descendant score: the better of its own rate and its package's, so that a
    /// parent whose children pay well is evicted last.
    fn descendant_score(&self, own: Totals) -> FeeRate {
        own.rate().max(self.descendants.rate())
    }
}

/// The sorted indexes over the pool's packages.
#[derive(Debug, Default)]
pub(super) struct Indexes {
    /// Best ancestor fee rate first: mining order.
    pub by_ancestor_score: BTreeSet<(Reverse<FeeRate>, u64, Txid)>,
    /// Lowest descendant score first: eviction order.
    pub by_descendant_score: BTreeSet<(FeeRate, u64, Txid)>,
}

impl Mempool {
    /// The pooled ancestors of a transaction spending outputs of `parents` and `size` bytes,
    /// refused if it would break a package limit.
    pub(super) fn ancestors_of(
        &self,
        parents: &[Txid],
        size: u64,
    ) -> Result<BTreeSet<Txid>, MempoolError> {
        let mut ancestors = BTreeSet::new();
        let mut stack = parents.to_vec();
        let mut bytes = size;
        while let Some(id) = stack.pop() {
            let Some(entry) = self.entries.get(&id) else {
                continue;
            };
            if !ancestors.insert(id) {
                continue;
            }
            let count = ancestors.len() as u64 + 1;
            if count > MAX_ANCESTORS {
                return Err(MempoolError::TooManyAncestors {
                    count,
                    max: MAX_ANCESTORS,
                });
            }
            bytes += entry.size;
            stack.extend_from_slice(&entry.links.parents);
        }
        if bytes > MAX_ANCESTOR_BYTES {
            return Err(MempoolError::AncestorsTooLarge {
                size: bytes,
                max: MAX_ANCESTOR_BYTES,
            });
        }
        for id in &ancestors {
            let totals = self.entries[id].links.descendants;
            if totals.count + 1 > MAX_DESCENDANTS {
                return Err(MempoolError::TooManyDescendants {
                    ancestor: *id,
                    count: totals.count + 1,
                    max: MAX_DESCENDANTS,
                });
            }
            if totals.size + size > MAX_DESCENDANT_BYTES {
                return Err(MempoolError::DescendantsTooLarge {
                    ancestor: *id,
                    size: totals.size + size,
                    max: MAX_DESCENDANT_BYTES,
                });
            }
        }
        Ok(ancestors)
    }

    /// The distinct pooled transactions whose outputs `tx` spends.
    pub(super) fn pooled_parents(&self, tx: &Transaction) -> Vec<Txid> {
        let mut parents: Vec<Txid> = tx
            .inputs
            .iter()
            .map(|i| i.prevout.txid)
            .filter(|id| self.entries.contains_key(id))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        parents
    }

    /// Links a new entry (already in `entries`, not indexed) to its `ancestors`.
    pub(super) fn link(&mut self, txid: Txid, ancestors: &BTreeSet<Txid>) {
        let own = self.entries[&txid].own();
        let mut totals = own;
        for id in ancestors {
            totals.add(self.entries[id].own());
        }
        let parents = self.pooled_parents(&self.entries[&txid].tx);
        for parent in &parents {
            if let Some(p) = self.entries.get_mut(parent) {
                p.links.children.push(txid);
            }
        }
        for id in ancestors {
            self.rescore(*id, |links| links.descendants.add(own));
        }
        let entry = self.entries.get_mut(&txid).expect("just inserted");
        entry.links = Links {
            parents,
            children: Vec::new(),
            ancestors: totals,
            descendants: own,
            scores: None,
        };
        self.rescore(txid, |_| {});
    }

    /// Takes `txid` out of the package structure before it leaves the pool: its pooled
    /// ancestors lose it as a descendant, its pooled descendants lose it as an ancestor, and
    /// its relatives forget the link. A caller removing a transaction with its descendants
    /// unlinks the descendants first (see [`Mempool::unlink_all`]).
    pub(super) fn unlink(&mut self, txid: Txid) {
        let Some(entry) = self.entries.get(&txid) else {
            return;
        };
        let own = entry.own();
        let parents = entry.links.parents.clone();
        let children = entry.links.children.clone();
        if let Some(scores) = entry.links.scores {
            self.unindex_scores(txid, entry.seq, scores);
        }
        for id in self.relatives(&parents, |links| &links.parents) {
            self.rescore(id, |links| links.descendants.sub(own));
        }
        for id in self.relatives(&children, |links| &links.children) {
            self.rescore(id, |links| links.ancestors.sub(own));
        }
        for parent in &parents {
            if let Some(p) = self.entries.get_mut(parent) {
                p.links.children.retain(|c| *c != txid);
            }
        }
        for child in &children {
            if let Some(c) = self.entries.get_mut(child) {
                c.links.parents.retain(|p| *p != txid);
            }
        }
    }

    /// `txid` with all its pooled descendants, each unlinked, descendants before ancestors so
    /// that every ancestor outside the set loses each of them exactly once.
    pub(super) fn unlink_all(&mut self, txid: Txid) -> Vec<Txid> {
        let mut set: Vec<Txid> = self
            .relatives(&[txid], |links| &links.children)
            .into_iter()
            .collect();
        // A descendant has strictly more pooled ancestors than any of its ancestors.
        set.sort_unstable_by_key(|id| (Reverse(self.entries[id].links.ancestors.count), *id));
        for id in &set {
            self.unlink(*id);
        }
        set
    }

    /// `start` and everything reachable from it through `next` (parents or children).
    pub(super) fn relatives(
        &self,
        start: &[Txid],
        next: impl Fn(&Links) -> &Vec<Txid>,
    ) -> BTreeSet<Txid> {
        let mut seen = BTreeSet::new();
        let mut stack = start.to_vec();
        while let Some(id) = stack.pop() {
            if let Some(entry) = self.entries.get(&id)
                && seen.insert(id)
            {
                stack.extend_from_slice(next(&entry.links));
            }
        }
        seen
    }

    /// Changes an entry's links through `change` and moves it in the score indexes.
    fn rescore(&mut self, txid: Txid, change: impl FnOnce(&mut Links)) {
        let Some(entry) = self.entries.get_mut(&txid) else {
            return;
        };
        let old = entry.links.scores.take();
        change(&mut entry.links);
        let own = entry.own();
        let seq = entry.seq;
        let scores = Scores {
            ancestor: entry.links.ancestors.rate(),
            descendant: entry.links.descendant_score(own),
        };
        entry.links.scores = Some(scores);
        if let Some(old) = old {
            self.unindex_scores(txid, seq, old);
        }
        self.indexes
            .by_ancestor_score
            .insert((Reverse(scores.ancestor), seq, txid));
        self.indexes
            .by_descendant_score
            .insert((scores.descendant, seq, txid));
    }

    fn unindex_scores(&mut self, txid: Txid, seq: u64, scores: Scores) {
        self.indexes
            .by_ancestor_score
            .remove(&(Reverse(scores.ancestor), seq, txid));
        self.indexes
            .by_descendant_score
            .remove(&(scores.descendant, seq, txid));
    }

    /// The pooled transaction evicted first when the pool is over its size: the lowest
    /// descendant score.
    pub(super) fn eviction_candidate(&self) -> Option<Txid> {
        self.indexes
            .by_descendant_score
            .first()
            .map(|(_, _, txid)| *txid)
    }

    /// Pooled transactions in mining order — best ancestor fee rate first, every parent before
    /// its children — while they fit in `max_bytes`, `max_gas` and `max_sigops` (legacy
    /// signature operations, what the block limit counts; Core's `BlockAssembler::TestPackage`
    /// checks the same) and up to `max_count`, with their total fee.
    pub fn mining_order(
        &self,
        max_bytes: u64,
        max_gas: u64,
        max_sigops: usize,
        max_count: usize,
    ) -> (Vec<Txid>, Amount) {
        let mut picked: Vec<Txid> = Vec::new();
        // Scratch sets of this call only, seeded per process: foldhash rather than SipHash.
        let mut included: HashSet<Txid> = HashSet::default();
        let mut failed: HashSet<Txid> = HashSet::default();
        // Ancestor totals lowered by what is in the block already, for the descendants of
        // included transactions (Core's `mapModifiedTx`); the heap holds every version pushed
        // and stale ones are skipped when they surface.
        let mut modified: HashMap<Txid, Totals> = HashMap::default();
        let mut heap: BinaryHeap<(FeeRate, Reverse<u64>, Txid)> = BinaryHeap::new();
        let mut main = self.indexes.by_ancestor_score.iter().peekable();
        let (mut bytes, mut gas_used, mut fees) = (0u64, 0u64, 0u64);
        let mut sigops_used = 0usize;
        let mut consecutive_failures = 0usize;
        loop {
            if picked.len() >= max_count {
                break;
            }
            // Drop heap tops that are stale, included or failed.
            while let Some(&(rate, _, id)) = heap.peek() {
                let current = modified.get(&id).map(|t| t.rate());
                if included.contains(&id) || failed.contains(&id) || current != Some(rate) {
                    heap.pop();
                } else {
                    break;
                }
            }
            // Main-index entries already in the block, failed, or superseded by a modified
            // version are skipped.
            while let Some(&&(_, _, id)) = main.peek() {
                if included.contains(&id) || failed.contains(&id) || modified.contains_key(&id) {
                    main.next();
                } else {
                    break;
                }
            }
            let from_main = main
                .peek()
                .map(|&&(Reverse(rate), seq, id)| (rate, seq, id));
            let from_heap = heap.peek().map(|&(rate, Reverse(seq), id)| (rate, seq, id));
            let (id, took_heap) = match (from_main, from_heap) {
                (None, None) => break,
                (Some((_, _, id)), None) => (id, false),
                (None, Some((_, _, id))) => (id, true),
                (Some((mr, ms, mid)), Some((hr, hs, hid))) => {
                    if (Reverse(hr), hs) < (Reverse(mr), ms) {
                        (hid, true)
                    } else {
                        (mid, false)
                    }
                }
            };
            if took_heap {
                heap.pop();
            } else {
                main.next();
            }
            // The package: `id` and its ancestors not yet in the block, parents first.
            let entry = &self.entries[&id];
            let package: Vec<Txid> = if entry.links.parents.is_empty() {
                vec![id]
            } else {
                let mut package: Vec<Txid> = self
                    .relatives(&[id], |links| &links.parents)
                    .into_iter()
                    .filter(|a| !included.contains(a))
                    .collect();
                package.sort_unstable_by_key(|a| (self.entries[a].links.ancestors.count, *a));
                package
            };
            let (size, gas, sigops) = package.iter().fold((0u64, 0u64, 0usize), |(s, g, o), a| {
                let entry = &self.entries[a];
                (
                    s + entry.size,
                    g + entry.gas(),
                    o.saturating_add(legacy_sigops(&entry.tx)),
                )
            });
            if bytes.saturating_add(size) > max_bytes
                || gas_used.saturating_add(gas) > max_gas
                || sigops_used.saturating_add(sigops) > max_sigops
                || picked.len() + package.len() > max_count
            {
                failed.insert(id);
                // Core's `BlockAssembler`: once nearly full, stop trying the rest of the pool
                // one package at a time.
                consecutive_failures += 1;
                if consecutive_failures >= MAX_CONSECUTIVE_FAILURES
                    && bytes.saturating_add(NEARLY_FULL_BYTES) > max_bytes
                {
                    break;
                }
                continue;
            }
            consecutive_failures = 0;
            for a in &package {
                let entry = &self.entries[a];
                included.insert(*a);
                bytes += entry.size;
                gas_used = gas_used.saturating_add(entry.gas());
                sigops_used = sigops_used.saturating_add(legacy_sigops(&entry.tx));
                fees = fees.saturating_add(entry.fee.to_units());
                picked.push(*a);
                modified.remove(a);
            }
            for a in &package {
                let entry = &self.entries[a];
                if entry.links.children.is_empty() {
                    continue;
                }
                let own = entry.own();
                for d in self.relatives(&entry.links.children, |l| &l.children) {
                    if included.contains(&d) {
                        continue;
                    }
                    let entry = &self.entries[&d];
                    let totals = modified.entry(d).or_insert(entry.links.ancestors);
                    totals.sub(own);
                    heap.push((totals.rate(), Reverse(entry.seq), d));
                }
            }
        }
        (picked, Amount::from_units(fees))
    }

    /// Transactions for a block template of at most `max_bytes`, the block gas limit and the
    /// block's signature-operation limit (less what the coinbase may hold), in mining order,
    /// with their total fee.
    pub fn template(&self, max_bytes: u64) -> (Vec<Arc<Transaction>>, Amount) {
        let (ids, fees) = self.mining_order(
            max_bytes,
            gas::MAX_BLOCK_GAS,
            MAX_BLOCK_SIGOPS - COINBASE_SIGOPS,
            usize::MAX,
        );
        let txs = ids.iter().map(|id| self.entries[id].tx.clone()).collect();
        (txs, fees)
    }
}

impl super::Entry {
    /// Its own totals.
    pub(super) fn own(&self) -> Totals {
        Totals::of(self.size, self.fee)
    }

    /// The gas its contract payload reserves.
    fn gas(&self) -> u64 {
        payload_terms(&self.tx).map_or(0, |t| t.gas_limit)
    }

    /// Itself with its pooled ancestors.
    pub fn ancestors(&self) -> Totals {
        self.links.ancestors
    }

    /// Itself with its pooled descendants.
    pub fn descendants(&self) -> Totals {
        self.links.descendants
    }
}
