//! Who may produce a block when, under proof of stake and delegated proof of stake: slots,
//! stake snapshots, epoch seeds, stake-weighted leader selection, delegate rounds and the last
//! irreversible block. Pure functions over integers and hashes, as `docs/consensus.md` fixes
//! them; the engines call them with state read from the chain.

use std::collections::{BTreeMap, BTreeSet};

use i8o8i_primitives::sha256d;

/// A compressed secp256k1 public key identifying a validator or delegate.
pub type StakingKey = [u8; 33];

/// The slot a time falls in: `(time − genesis_time) / slot_secs`; `None` before genesis or
/// for a zero slot length.
pub fn slot_of(time: u64, genesis_time: u64, slot_secs: u64) -> Option<u64> {
    time.checked_sub(genesis_time)?.checked_div(slot_secs)
}

/// The first second of `slot`; `None` on overflow.
pub fn slot_start(slot: u64, genesis_time: u64, slot_secs: u64) -> Option<u64> {
    slot.checked_mul(slot_secs)?.checked_add(genesis_time)
}

/// The seed of the next epoch: `sha256d(seed ‖ hash of the deciding block)`.
pub fn next_seed(seed: &[u8; 32], deciding_block: &[u8; 32]) -> [u8; 32] {
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(seed);
    data[32..].copy_from_slice(deciding_block);
    sha256d(&data)
}

/// A uniform draw below `bound` (> 0) from `sha256d(seed ‖ domain ‖ index)`. The modulo bias
/// is below 2⁻⁶⁴ for any bound that fits in a `u64`.
fn draw(seed: &[u8; 32], domain: &[u8], index: u64, bound: u128) -> u128 {
    let mut data = Vec::with_capacity(32 + domain.len() + 8);
    data.extend_from_slice(seed);
    data.extend_from_slice(domain);
    data.extend_from_slice(&index.to_le_bytes());
    let hash = sha256d(&data);
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash[..16]);
    u128::from_be_bytes(first) % bound
}

/// Bonded stake per key, frozen for an epoch. Keys are kept in byte order, so every node walks
/// them the same way; zero stakes take no part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StakeSnapshot {
    // u128: sums of u64 stakes cannot overflow it.
    stakes: BTreeMap<StakingKey, u128>,
    total: u128,
}

impl StakeSnapshot {
    /// A snapshot of `stakes` (a key listed twice has the sum).
    pub fn new(stakes: impl IntoIterator<Item = (StakingKey, u64)>) -> StakeSnapshot {
        let mut map: BTreeMap<StakingKey, u128> = BTreeMap::new();
        for (key, stake) in stakes.into_iter().filter(|(_, s)| *s > 0) {
            *map.entry(key).or_default() += u128::from(stake);
        }
        let total = map.values().sum();
        StakeSnapshot { stakes: map, total }
    }

    /// Total stake.
    pub fn total(&self) -> u128 {
        self.total
    }

    /// Stake of `key`.
    pub fn stake_of(&self, key: &StakingKey) -> u128 {
        self.stakes.get(key).copied().unwrap_or(0)
    }

    /// The leader of `slot` under `seed`: a draw below the total stake, located by walking the
    /// keys in order. `None` if nobody has stake.
    pub fn leader(&self, seed: &[u8; 32], slot: u64) -> Option<&StakingKey> {
        if self.total == 0 {
            return None;
        }
        let mut r = draw(seed, b"pos-leader", slot, self.total);
        for (key, &stake) in &self.stakes {
            if r < stake {
                return Some(key);
            }
            r -= stake;
        }
        None
    }
}

/// The production order of a round: `delegates` shuffled (Fisher–Yates) by draws from
/// `seed` and the round number.
pub fn round_order(delegates: &[StakingKey], seed: &[u8; 32], round: u64) -> Vec<StakingKey> {
    let mut order = delegates.to_vec();
    let mut domain = b"dpos-round".to_vec();
    domain.extend_from_slice(&round.to_le_bytes());
    for i in (1..order.len()).rev() {
        let j = draw(seed, &domain, i as u64, i as u128 + 1) as usize;
        order.swap(i, j);
    }
    order
}

/// Distinct producers that make a block irreversible: more than two thirds of the round.
pub fn irreversibility_threshold(active: usize) -> usize {
    active * 2 / 3 + 1
}

/// The last irreversible block under DPoS: walking back from the tip over `(height, producer)`
/// pairs of the best chain, the first block whose own producer and its descendants' producers
/// reach [`irreversibility_threshold`] distinct keys. `None` while no block has.
pub fn last_irreversible<'a>(
    tip_first: impl IntoIterator<Item = (u64, &'a StakingKey)>,
    active: usize,
) -> Option<u64> {
    last_final(tip_first, |_| 1, active as u128)
}

/// The newest final block: walking back from the tip over `(height, producer)` pairs of the
/// best chain, the first block that blocks sealed by keys holding more than two thirds of
/// `total` weight build on (its own producer included; each key counted once). DPoS weighs
/// every delegate 1; PoS weighs keys by their stake in the epoch's snapshot, so a block is
/// final once a stake supermajority has built on it (the rule of Tendermint's and Casper
/// FFG's 2/3 quorums, counted over blocks instead of votes). `None` while no block is.
pub fn last_final<'a>(
    tip_first: impl IntoIterator<Item = (u64, &'a StakingKey)>,
    weight: impl Fn(&StakingKey) -> u128,
    total: u128,
) -> Option<u64> {
    if total == 0 {
        return None;
    }
    let mut seen: BTreeSet<&StakingKey> = BTreeSet::new();
    let mut weight_seen = 0u128;
    for (height, producer) in tip_first {
        if seen.insert(producer) {
            weight_seen = weight_seen.saturating_add(weight(producer));
        }
        if weight_seen.saturating_mul(3) > total.saturating_mul(2) {
            return Some(height);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> StakingKey {
        let mut k = [b; 33];
        k[0] = 2;
        k
    }

    #[test]
    fn slots_count_from_genesis() {
        assert_eq!(slot_of(100, 100, 5), Some(0));
        assert_eq!(slot_of(104, 100, 5), Some(0));
        assert_eq!(slot_of(105, 100, 5), Some(1));
        assert_eq!(slot_of(99, 100, 5), None);
        assert_eq!(slot_of(200, 100, 0), None);
        assert_eq!(slot_start(3, 100, 5), Some(115));
        assert_eq!(slot_start(u64::MAX, 100, 5), None);
    }

    #[test]
    fn leaders_are_drawn_in_proportion_to_stake() {
        let snapshot =
            StakeSnapshot::new([(key(1), 100), (key(2), 200), (key(3), 300), (key(4), 0)]);
        assert_eq!(snapshot.total(), 600);
        let seed = sha256d(b"epoch");
        let mut counts: BTreeMap<StakingKey, u64> = BTreeMap::new();
        let slots = 60_000u64;
        for slot in 0..slots {
            *counts
                .entry(*snapshot.leader(&seed, slot).unwrap())
                .or_default() += 1;
        }
        assert!(!counts.contains_key(&key(4)), "no stake, no slots");
        for (k, share) in [(key(1), 1u64), (key(2), 2), (key(3), 3)] {
            let expected = slots * share / 6;
            let got = counts[&k];
            // Within 3 % of the expectation (about 6 standard deviations here).
            assert!(
                got.abs_diff(expected) * 100 <= expected * 3,
                "{got} vs {expected}"
            );
        }
        // Deterministic, and another seed gives another sequence.
        let again: Vec<_> = (0..50)
            .map(|s| *snapshot.leader(&seed, s).unwrap())
            .collect();
        let first: Vec<_> = (0..50)
            .map(|s| *snapshot.leader(&seed, s).unwrap())
            .collect();
        assert_eq!(again, first);
        let other = sha256d(b"other epoch");
        let different: Vec<_> = (0..50)
            .map(|s| *snapshot.leader(&other, s).unwrap())
            .collect();
        assert_ne!(different, first);
        assert_eq!(StakeSnapshot::default().leader(&seed, 0), None);
    }

    #[test]
    fn a_block_becomes_irreversible_with_more_than_two_thirds_of_the_producers() {
        assert_eq!(irreversibility_threshold(3), 3);
        assert_eq!(irreversibility_threshold(21), 15);
        let (a, b, c) = (key(1), key(2), key(3));
        // Tip first: heights 10 (c), 9 (b), 8 (b), 7 (a).
        let chain = [(10, &c), (9, &b), (8, &b), (7, &a), (6, &c)];
        assert_eq!(last_irreversible(chain, 3), Some(7));
        assert_eq!(last_irreversible(chain[..3].iter().copied(), 3), None);
        // With one delegate, every block is final at once.
        assert_eq!(last_irreversible([(4, &a)], 1), Some(4));
    }

    #[test]
    fn a_pos_block_is_final_once_a_stake_supermajority_built_on_it() {
        let (a, b, c) = (key(1), key(2), key(3));
        let stakes: BTreeMap<StakingKey, u128> = [(a, 50), (b, 30), (c, 20)].into();
        let weight = |k: &StakingKey| stakes.get(k).copied().unwrap_or(0);
        // Tip first: 9 (a), 8 (a), 7 (b), 6 (c). a + b = 80 of 100 > 2/3 at height 7.
        let chain = [(9, &a), (8, &a), (7, &b), (6, &c)];
        assert_eq!(last_final(chain, weight, 100), Some(7));
        // a + c = 70 > 66.6: final at 6 when b is not among them.
        let chain = [(9, &a), (8, &c), (7, &a)];
        assert_eq!(last_final(chain, weight, 100), Some(8));
        // b + c = 50: nothing is final, however long the chain.
        let chain = [(9, &b), (8, &c), (7, &b), (6, &c)];
        assert_eq!(last_final(chain, weight, 100), None);
        // Exactly two thirds is not more than two thirds.
        let even: BTreeMap<StakingKey, u128> = [(a, 2), (b, 1)].into();
        let chain = [(5, &a), (4, &a)];
        assert_eq!(last_final(chain, |k| even[k], 3), None);
        // Keys outside the snapshot weigh nothing; no stake at all finalises nothing.
        let outsider = key(9);
        assert_eq!(last_final([(3, &outsider)], weight, 100), None);
        assert_eq!(last_final([(3, &a)], weight, 0), None);
    }

    #[test]
    fn seeds_chain() {
        let s0 = [0u8; 32];
        let s1 = next_seed(&s0, &[1; 32]);
        assert_ne!(s1, s0);
        assert_eq!(s1, next_seed(&s0, &[1; 32]));
        assert_ne!(s1, next_seed(&s0, &[2; 32]));
    }
}
