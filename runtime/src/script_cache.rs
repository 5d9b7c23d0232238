//! Verify each signature once: a bounded set of transactions whose scripts all passed, filled
//! when the mempool admits a transaction and consulted when a block containing it connects, so
//! a pooled transaction's signatures are not checked a second time. Bitcoin Core's script
//! execution cache (`validation.cpp`, `CheckInputScripts` with `g_scriptExecutionCache`) is the
//! model.
//!
//! The key commits to everything verification reads: the chain (its genesis hash, which every
//! signature hash covers), the script flags, the transaction id (which covers the inputs,
//! their script_sigs and the outputs) and every coin spent — value and script. So an entry can
//! never vouch for a verification that would have gone differently: other flags, another
//! chain, or a coin that a reorganisation changed under the same outpoint all give another
//! key, and such a transaction is verified in full. A hit only skips work; whether a block is
//! valid never depends on what this node's cache holds.
//!
//! Bounded: at most `capacity` entries, the oldest dropped first.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use i8o8i_primitives::hash::Hash256;
use i8o8i_primitives::{Coin, Txid};
use i8o8i_script_vm::VerifyFlags;
use sha2::{Digest, Sha256};

/// Entries a node keeps by default: 32 bytes each (plus the set's overhead), a few MiB.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// What an entry is: the hash of (chain, flags, transaction, spent coins).
pub type CacheKey = [u8; 32];

/// Transactions whose scripts all verified, and how often a block found its transactions here.
#[derive(Debug)]
pub struct ScriptCache {
    inner: Mutex<Entries>,
    tally: Tally,
}

/// Lookups counted: found (a transaction whose scripts were not run again) or not.
#[derive(Debug, Default)]
pub struct Tally {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Tally {
    /// Counts one lookup.
    pub fn record(&self, found: bool) {
        let counter = if found { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `other`'s counts: the lookups of a block's preview, counted when the block's
    /// import uses the preview's result instead of connecting again.
    pub fn add(&self, other: &Tally) {
        self.hits.fetch_add(other.hits(), Ordering::Relaxed);
        self.misses.fetch_add(other.misses(), Ordering::Relaxed);
    }

    /// Lookups that found their transaction.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Lookups that did not.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct Entries {
    set: HashSet<CacheKey>,
    order: VecDeque<CacheKey>,
    capacity: usize,
}

impl ScriptCache {
    /// An empty cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> ScriptCache {
        ScriptCache {
            inner: Mutex::new(Entries {
                set: HashSet::new(),
                order: VecDeque::new(),
                capacity: capacity.max(1),
            }),
            tally: Tally::default(),
        }
    }

    /// The key of `tx` spending `coins` (in input order) under `flags` on chain `chain_id`.
    pub fn key(chain_id: &Hash256, flags: VerifyFlags, txid: &Txid, coins: &[Coin]) -> CacheKey {
        let mut h = Sha256::new();
        h.update(b"i8o8i/script-cache/v1");
        h.update(chain_id.as_bytes());
        h.update(flags.bits().to_le_bytes());
        h.update(txid.as_bytes());
        for coin in coins {
            h.update(coin.output.value.to_units().to_le_bytes());
            let script = coin.output.script_pubkey.as_bytes();
            h.update((script.len() as u64).to_le_bytes());
            h.update(script);
        }
        h.finalize().into()
    }

    /// Remembers that the scripts behind `key` verified.
    pub fn insert(&self, key: CacheKey) {
        let mut e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !e.set.insert(key) {
            return;
        }
        e.order.push_back(key);
        while e.order.len() > e.capacity {
            if let Some(old) = e.order.pop_front() {
                e.set.remove(&old);
            }
        }
    }

    /// Whether the scripts behind `key` verified before.
    pub fn check(&self, key: &CacheKey) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set
            .contains(key)
    }

    /// What block imports found here: the counts `/metrics` reports.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set
            .len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Transactions a block import found here (their scripts not run again).
    pub fn hits(&self) -> u64 {
        self.tally.hits()
    }

    /// Transactions a block import verified in full.
    pub fn misses(&self) -> u64 {
        self.tally.misses()
    }
}

/// How [`connect_block`](crate::state::connect_block) consults a cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheUse<'a> {
    /// The cache.
    pub cache: &'a ScriptCache,
    /// Where hits and misses are counted: the cache's own tally for a block connecting for
    /// the chain, so the counts say what imports saved; a preview counts apart (or not at
    /// all), and its counts join the cache's only if an import uses its result.
    pub tally: Option<&'a Tally>,
}

impl<'a> CacheUse<'a> {
    /// Lookups in `cache`, counted in its own tally.
    pub fn counted(cache: &'a ScriptCache) -> CacheUse<'a> {
        CacheUse {
            cache,
            tally: Some(&cache.tally),
        }
    }

    /// Whether the scripts behind `key` verified before, counted where this use counts.
    pub fn check(&self, key: &CacheKey) -> bool {
        let found = self.cache.check(key);
        if let Some(tally) = self.tally {
            tally.record(found);
        }
        found
    }
}

/// The key of transaction `txid` spending `coins` under the consensus flags: what the mempool
/// records and what a block connect looks up.
pub fn consensus_key(chain_id: &Hash256, txid: &Txid, coins: &[Coin]) -> CacheKey {
    ScriptCache::key(chain_id, crate::CONSENSUS_SCRIPT_FLAGS, txid, coins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_go_first_and_the_count_stays_bounded() {
        let cache = ScriptCache::new(2);
        for k in 1..=3u8 {
            cache.insert([k; 32]);
        }
        cache.insert([3; 32]);
        assert_eq!(cache.len(), 2);
        let counted = CacheUse::counted(&cache);
        assert!(!counted.check(&[1; 32]));
        assert!(counted.check(&[2; 32]) && counted.check(&[3; 32]));
        let aside = Tally::default();
        let apart = CacheUse {
            cache: &cache,
            tally: Some(&aside),
        };
        assert!(apart.check(&[3; 32]) && !apart.check(&[4; 32]));
        assert_eq!((cache.hits(), cache.misses()), (2, 1));
        cache.tally().add(&aside);
        assert_eq!((cache.hits(), cache.misses()), (3, 2));
    }
}
