//! Who produces each slot under proof of stake and delegated proof of stake, as chain state.
//!
//! [`ProducerState`] is kept in the key/value state (`stake/slots`) and advanced by every
//! block sealed by a slot engine: at an epoch (PoS) or round (DPoS) boundary it rotates the
//! stake snapshot or the delegate round, derives the next seed from the parent's hash, and it
//! counts produced and missed slots and rewards. Because it is state, a reorganisation undoes
//! it with the block, and every node derives the same leader from the same parent.

use std::collections::BTreeMap;

use parity_scale_codec::{Decode, Encode};

use crate::consensus::HeaderError;
use crate::slots::{StakeSnapshot, StakingKey, next_seed, round_order};
use crate::spec::{DEFAULT_MAX_VALIDATORS, DposParams, EngineParams, PosParams, ScheduleEntry};
use crate::staking::StakeIndex;
use crate::staking::records::decode;
use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::StoreError;

/// State key of the [`ProducerState`].
pub const PRODUCERS_KEY: &[u8] = b"stake/slots";

/// The producer schedule of the running schedule entry.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Era {
    /// `from_height` of the schedule entry this belongs to.
    pub from_height: u64,
    /// Epoch (PoS) or round (DPoS) of the last block.
    pub period: u64,
    /// Slot of the last block.
    pub last_slot: u64,
    /// Seed of the current period.
    pub seed: [u8; 32],
    /// PoS: the stake snapshot `(key, stake)` in key order. DPoS: the round's delegates in
    /// production order with their votes.
    pub producers: Vec<(StakingKey, u64)>,
    /// PoS: the seed of the next epoch.
    pub next_seed: [u8; 32],
    /// PoS: the snapshot of the next epoch (one epoch of lag).
    pub next: Vec<(StakingKey, u64)>,
    /// The running period's mix of verified reveals ([`crate::randomness`]): the next
    /// period's seed is `sha256d(seed ‖ mix)`.
    pub mix: [u8; 32],
}

/// Producer bookkeeping, across schedule entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct ProducerState {
    /// The running entry's schedule; `None` before the first slot-engine block.
    pub era: Option<Era>,
    /// Blocks produced per key.
    pub produced: BTreeMap<StakingKey, u64>,
    /// Slots missed per key: the DPoS slot holder's, or the PoS leader drawn for an empty slot.
    pub missed: BTreeMap<StakingKey, u64>,
    /// Rewards (subsidy + fees) received per key.
    pub rewards: BTreeMap<StakingKey, u64>,
}

impl ProducerState {
    /// Reads the state (default if never written).
    ///
    /// # Errors
    /// Storage failures or a record that does not decode.
    pub fn load(state: &StateOverlay) -> Result<ProducerState, StoreError> {
        decode(state.get(PRODUCERS_KEY)?, "producer state")
    }

    /// Writes it.
    pub fn store(&self, state: &mut StateOverlay) {
        state.put(PRODUCERS_KEY.to_vec(), Some(self.encode()));
    }

    /// Whether `key` is among the producers the running era draws from (PoS: has stake in the
    /// snapshot; DPoS: is in the round), to tell "not your slot" from "not a producer at all".
    pub fn is_active(&self, key: &StakingKey) -> bool {
        self.era
            .as_ref()
            .is_some_and(|e| e.producers.iter().any(|(k, _)| k == key))
    }

    /// Number of producers the running era draws from (DPoS: the round's delegates).
    pub fn active_len(&self) -> usize {
        self.era.as_ref().map_or(0, |e| e.producers.len())
    }

    /// Advances the schedule to a block in `slot` of `entry` whose parent is `parent` and
    /// returns who must seal it. `stake` is read when a period begins. Counts the slots
    /// skipped since the last block as missed and the block as produced by the expected
    /// key, which the caller must check against the seal.
    ///
    /// # Errors
    /// Storage failures reading the ledger; [`HeaderError::NoProducers`] if nobody can produce.
    pub fn advance(
        &mut self,
        entry: &ScheduleEntry,
        slot: u64,
        parent: &[u8; 32],
        stake: &dyn StakeIndex,
    ) -> Result<StakingKey, HeaderError> {
        let storage = HeaderError::Storage;
        let expected = match &entry.engine {
            EngineParams::Pos(p) => self.advance_pos(p, entry.from_height, slot, parent, stake),
            EngineParams::Dpos(d) => self.advance_dpos(d, entry.from_height, slot, parent, stake),
            EngineParams::Pow(_) => return Err(HeaderError::NoProducers),
        }
        .map_err(storage)?
        .ok_or(HeaderError::NoProducers)?;
        Ok(expected)
    }

    /// Advances the schedule to a block in `slot` (as [`ProducerState::advance`]) and checks
    /// that `key` is the one who must seal it.
    ///
    /// # Errors
    /// [`HeaderError::NotLeader`] (in the active set, not its slot),
    /// [`HeaderError::NotActiveProducer`], and those of [`ProducerState::advance`].
    pub fn check_sealer(
        &mut self,
        entry: &ScheduleEntry,
        slot: u64,
        parent: &[u8; 32],
        key: &StakingKey,
        stake: &dyn StakeIndex,
    ) -> Result<(), HeaderError> {
        let expected = self.advance(entry, slot, parent, stake)?;
        if &expected == key {
            return Ok(());
        }
        Err(if self.is_active(key) {
            HeaderError::NotLeader {
                slot,
                expected: hex::encode(expected),
                got: hex::encode(key),
            }
        } else {
            HeaderError::NotActiveProducer {
                key: hex::encode(key),
            }
        })
    }

    fn advance_pos(
        &mut self,
        params: &PosParams,
        from_height: u64,
        slot: u64,
        parent: &[u8; 32],
        stake: &dyn StakeIndex,
    ) -> Result<Option<StakingKey>, StoreError> {
        let epoch = slot / params.epoch_slots.max(1);
        // Jailed (slashed) producers take no part from the next snapshot on.
        // The `max_validators` unjailed keys with the most stake (Cosmos's `MaxValidators`),
        // in key order; the genesis validators while nothing is bonded. Jailed (slashed)
        // producers take no part from the next snapshot on.
        let max = params.max_validators.unwrap_or(DEFAULT_MAX_VALIDATORS) as usize;
        let snapshot = || -> Result<Vec<(StakingKey, u64)>, StoreError> {
            let mut bonded = stake.top_bonded(max)?;
            if bonded.is_empty() {
                for (k, v) in genesis_validators(params) {
                    if !stake.is_jailed(&k)? {
                        bonded.push((k, v));
                    }
                }
            }
            bonded.sort();
            Ok(bonded)
        };
        match &mut self.era {
            Some(era) if era.from_height == from_height => {
                let epoch_end = (era.period + 1).saturating_mul(params.epoch_slots.max(1));
                let old_epoch_gap = era.last_slot + 1..slot.min(epoch_end);
                count_missed_draws(&mut self.missed, era, old_epoch_gap);
                if epoch > era.period {
                    let stakes = snapshot()?;
                    era.seed = era.next_seed;
                    era.producers = std::mem::replace(&mut era.next, stakes);
                    // The reveals of the epoch that just ended decide the epoch after next.
                    era.next_seed = next_seed(&era.seed, &era.mix);
                    era.mix = [0; 32];
                    era.period = epoch;
                    // Slots of epochs without blocks are charged to the new snapshot's draws.
                    count_missed_draws(&mut self.missed, era, epoch_end..slot);
                }
            }
            _ => {
                let stakes = snapshot()?;
                let seed = next_seed(&[0; 32], parent);
                self.era = Some(Era {
                    from_height,
                    period: epoch,
                    last_slot: slot,
                    seed,
                    producers: stakes.clone(),
                    next_seed: next_seed(&seed, parent),
                    next: stakes,
                    mix: [0; 32],
                });
            }
        }
        let era = self.era.as_mut().expect("set above");
        era.last_slot = slot;
        let snapshot = StakeSnapshot::new(era.producers.iter().copied());
        let leader = snapshot.leader(&era.seed, slot).copied();
        if let Some(key) = leader {
            *self.produced.entry(key).or_default() += 1;
        }
        Ok(leader)
    }

    fn advance_dpos(
        &mut self,
        params: &DposParams,
        from_height: u64,
        slot: u64,
        parent: &[u8; 32],
        stake: &dyn StakeIndex,
    ) -> Result<Option<StakingKey>, StoreError> {
        let n = u64::from(params.delegates.max(1));
        let round = slot / n;
        // The most voted unjailed delegates, then genesis delegates to fill the round.
        let new_round = |seed: [u8; 32]| -> Result<Vec<(StakingKey, u64)>, StoreError> {
            let mut active = stake.top_voted(n as usize)?;
            for g in genesis_delegates(params) {
                if active.len() >= n as usize {
                    break;
                }
                if !active.iter().any(|(k, _)| *k == g) && !stake.is_jailed(&g)? {
                    active.push((g, stake.tally(&g)?));
                }
            }
            let keys: Vec<StakingKey> = active.iter().map(|(k, _)| *k).collect();
            Ok(round_order(&keys, &seed, round)
                .into_iter()
                .map(|k| {
                    let votes = active.iter().find(|(a, _)| *a == k).map_or(0, |(_, v)| *v);
                    (k, u64::try_from(votes).unwrap_or(u64::MAX))
                })
                .collect())
        };
        match &mut self.era {
            Some(era) if era.from_height == from_height => {
                if round > era.period {
                    // Slots of the old round after the last block were missed by their holders.
                    let round_end = (era.period + 1) * n;
                    count_missed(
                        &mut self.missed,
                        &era.producers,
                        n,
                        era.last_slot + 1,
                        round_end,
                    );
                    // The reveals of the round that just ended decide the next order.
                    let seed = next_seed(&era.seed, &era.mix);
                    era.mix = [0; 32];
                    era.producers = new_round(seed)?;
                    era.seed = seed;
                    era.period = round;
                    // Whole rounds without blocks are charged to the new round's order.
                    count_missed(&mut self.missed, &era.producers, n, round_end, slot);
                } else {
                    count_missed(&mut self.missed, &era.producers, n, era.last_slot + 1, slot);
                }
            }
            _ => {
                let seed = next_seed(&[0; 32], parent);
                self.era = Some(Era {
                    from_height,
                    period: round,
                    last_slot: slot,
                    seed,
                    producers: new_round(seed)?,
                    next_seed: [0; 32],
                    next: Vec::new(),
                    mix: [0; 32],
                });
            }
        }
        let era = self.era.as_mut().expect("set above");
        era.last_slot = slot;
        if era.producers.is_empty() {
            return Ok(None);
        }
        let position = (slot % n) as usize % era.producers.len();
        let key = era.producers[position].0;
        *self.produced.entry(key).or_default() += 1;
        Ok(Some(key))
    }

    /// Mixes a verified reveal into the running period's mix.
    pub fn mix_in(&mut self, reveal: &[u8; 32]) {
        if let Some(era) = &mut self.era {
            era.mix = next_seed(&era.mix, reveal);
        }
    }

    /// Credits `amount` of rewards to `key`.
    pub fn reward(&mut self, key: &StakingKey, amount: u64) {
        let r = self.rewards.entry(*key).or_default();
        *r = r.saturating_add(amount);
    }
}

/// Most empty PoS slots one block charges as missed: each costs a leader draw, and a chain
/// that stood still for long must not make its next block expensive to validate.
pub const MAX_MISSED_DRAWS: u64 = 10_000;

/// Adds one missed slot to the drawn leader of every slot in `slots` (at most
/// [`MAX_MISSED_DRAWS`] of them, the earliest).
fn count_missed_draws(
    missed: &mut BTreeMap<StakingKey, u64>,
    era: &Era,
    slots: std::ops::Range<u64>,
) {
    if slots.is_empty() {
        return;
    }
    let snapshot = StakeSnapshot::new(era.producers.iter().copied());
    for s in slots.take(MAX_MISSED_DRAWS as usize) {
        if let Some(key) = snapshot.leader(&era.seed, s) {
            *missed.entry(*key).or_default() += 1;
        }
    }
}

/// Adds one missed slot to the holder of every slot in `from..to`, by position in `order`.
fn count_missed(
    missed: &mut BTreeMap<StakingKey, u64>,
    order: &[(StakingKey, u64)],
    n: u64,
    from: u64,
    to: u64,
) {
    if order.is_empty() || from >= to {
        return;
    }
    // Slots s in [from, to) with s mod n == p, counted without walking them (a long outage
    // spans many slots).
    let below = |x: u64, p: u64| x / n + u64::from(x % n > p);
    for p in 0..n {
        let count = below(to, p) - below(from, p);
        if count > 0 {
            let key = order[(p as usize) % order.len()].0;
            let m = missed.entry(key).or_default();
            *m = m.saturating_add(count);
        }
    }
}

/// The genesis validators of a PoS entry as a snapshot (validated keys; an unparsable one is
/// skipped, which start-up validation rules out).
pub fn genesis_validators(params: &PosParams) -> Vec<(StakingKey, u64)> {
    params
        .genesis_validators
        .iter()
        .filter_map(|v| Some((parse_key(&v.key)?, v.stake.to_units())))
        .collect()
}

/// The genesis delegates of a DPoS entry, in listed order.
pub fn genesis_delegates(params: &DposParams) -> Vec<StakingKey> {
    params
        .genesis_delegates
        .iter()
        .filter_map(|d| parse_key(&d.key))
        .collect()
}

/// A 33-byte key from hex.
pub fn parse_key(hex_key: &str) -> Option<StakingKey> {
    let mut key = [0u8; 33];
    hex::decode_to_slice(hex_key, &mut key).ok()?;
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ScheduleEntry;
    use crate::spec::{DposParams, GenesisDelegate, GenesisValidator, PosParams};
    use crate::staking::{Delegate, StakeWrites};
    use i8o8i_contract_engine::state::MemoryState;
    use i8o8i_primitives::Amount;
    use std::sync::Arc;

    fn key(seed: u8) -> StakingKey {
        let sk = secp256k1::SecretKey::from_secret_bytes([seed; 32]).unwrap();
        secp256k1::PublicKey::from_secret_key(&sk).serialize()
    }

    fn pos(from_height: u64) -> ScheduleEntry {
        ScheduleEntry {
            from_height,
            engine: EngineParams::Pos(PosParams {
                slot_secs: 1,
                epoch_slots: 10,
                unbonding_period: 5,
                min_bond: Amount::from_units(1),
                max_validators: Some(2),
                genesis_validators: vec![GenesisValidator {
                    key: hex::encode(key(9)),
                    stake: Amount::from_units(1),
                }],
            }),
        }
    }

    fn dpos(from_height: u64) -> ScheduleEntry {
        ScheduleEntry {
            from_height,
            engine: EngineParams::Dpos(DposParams {
                slot_secs: 1,
                delegates: 3,
                max_votes: None,
                unbonding_period: 5,
                registration_fee: Amount::from_units(1),
                min_bond: None,
                genesis_delegates: [7u8, 8, 9]
                    .iter()
                    .map(|s| GenesisDelegate {
                        name: format!("g{s}"),
                        key: hex::encode(key(*s)),
                    })
                    .collect(),
            }),
        }
    }

    fn empty() -> StateOverlay {
        StateOverlay::new(Arc::new(MemoryState::default()))
    }

    /// `f` applied to `state` through the staking records' own writers.
    fn with(state: &mut StateOverlay, f: impl FnOnce(&mut StakeWrites<'_>)) {
        let mut w = StakeWrites::new(state);
        f(&mut w);
        let writes = w.into_writes();
        state.merge(writes);
    }

    fn active(state: &ProducerState) -> Vec<StakingKey> {
        let mut keys: Vec<StakingKey> = state
            .era
            .as_ref()
            .unwrap()
            .producers
            .iter()
            .map(|(k, _)| *k)
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn missed_slots_are_counted_by_position_without_walking_them() {
        let order: Vec<(StakingKey, u64)> = [1u8, 2, 3].iter().map(|s| (key(*s), 0)).collect();
        let mut missed = BTreeMap::new();
        // Slots 4..=10 hold positions 1 2 0 1 2 0 1.
        count_missed(&mut missed, &order, 3, 4, 11);
        assert_eq!(missed[&key(1)], 2);
        assert_eq!(missed[&key(2)], 3);
        assert_eq!(missed[&key(3)], 2);
        // A day of one-second slots is arithmetic, not a loop.
        let mut missed = BTreeMap::new();
        count_missed(&mut missed, &order, 3, 0, 86_400 * 365);
        assert_eq!(missed.values().sum::<u64>(), 86_400 * 365);
    }

    #[test]
    fn a_bond_joins_the_draw_one_full_epoch_after_the_epoch_it_was_made_in() {
        let entry = pos(0);
        let mut state = ProducerState::default();
        let empty = empty();
        let mut bonded = self::empty();
        with(&mut bonded, |w| w.set_bond(&key(1), 100).unwrap());
        let genesis = vec![key(9)];
        // Epoch 0: the genesis validator (nothing is bonded).
        let e = state.advance(&entry, 3, &[1; 32], &empty).unwrap();
        assert_eq!(e, key(9));
        // A bond made in epoch 0 is in the ledger when epoch 1 starts, so it is snapshotted
        // then, for epoch 2.
        state.advance(&entry, 12, &[2; 32], &bonded).unwrap();
        assert_eq!(active(&state), genesis);
        let e = state.advance(&entry, 25, &[3; 32], &bonded).unwrap();
        assert_eq!(active(&state), vec![key(1)]);
        assert_eq!(e, key(1));
        assert_eq!(state.produced[&key(9)], 2);
        assert_eq!(state.produced[&key(1)], 1);
    }

    #[test]
    fn a_pos_snapshot_holds_the_max_validators_with_the_most_stake() {
        let entry = pos(0);
        let mut stake = empty();
        with(&mut stake, |w| {
            for (k, v) in [(1, 100), (2, 300), (3, 200)] {
                w.set_bond(&key(k), v).unwrap();
            }
        });
        let sorted = |mut keys: Vec<StakingKey>| {
            keys.sort();
            keys
        };
        let mut state = ProducerState::default();
        state.advance(&entry, 1, &[1; 32], &stake).unwrap();
        // `max_validators: 2`: the two largest bonds.
        assert_eq!(active(&state), sorted(vec![key(2), key(3)]));
        // A jailed key leaves the next snapshot and the next largest takes its place.
        with(&mut stake, |w| assert!(w.jail(&key(2)).unwrap()));
        state.advance(&entry, 11, &[2; 32], &stake).unwrap();
        let next: Vec<StakingKey> = state
            .era
            .as_ref()
            .unwrap()
            .next
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(next, sorted(vec![key(1), key(3)]));
        state.advance(&entry, 21, &[3; 32], &stake).unwrap();
        assert_eq!(active(&state), sorted(vec![key(1), key(3)]));
    }

    #[test]
    fn empty_pos_slots_are_charged_to_their_drawn_leaders() {
        let entry = pos(0);
        let mut ledger = empty();
        with(&mut ledger, |w| {
            w.set_bond(&key(1), 100).unwrap();
            w.set_bond(&key(2), 300).unwrap();
        });
        let mut state = ProducerState::default();
        state.advance(&entry, 1, &[1; 32], &ledger).unwrap();
        let era = state.era.clone().unwrap();
        let snapshot = StakeSnapshot::new(era.producers.iter().copied());
        let mut expected: BTreeMap<StakingKey, u64> = BTreeMap::new();
        for s in 2..9 {
            *expected
                .entry(*snapshot.leader(&era.seed, s).unwrap())
                .or_default() += 1;
        }
        // Slots 2..=8 stay empty; the next block is in slot 9 of the same epoch.
        state.advance(&entry, 9, &[2; 32], &ledger).unwrap();
        assert_eq!(state.missed, expected);
        assert_eq!(state.missed.values().sum::<u64>(), 7);
        // A long silence is charged at most MAX_MISSED_DRAWS slots.
        state.advance(&entry, 1_000_000, &[3; 32], &ledger).unwrap();
        assert!(state.missed.values().sum::<u64>() <= 7 + 2 * MAX_MISSED_DRAWS);
    }

    #[test]
    fn the_seed_depends_on_the_chain_that_led_to_the_epoch() {
        let entry = pos(0);
        let ledger = empty();
        let mut a = ProducerState::default();
        let mut b = ProducerState::default();
        a.advance(&entry, 1, &[1; 32], &ledger).unwrap();
        b.advance(&entry, 1, &[2; 32], &ledger).unwrap();
        assert_ne!(a.era.as_ref().unwrap().seed, b.era.as_ref().unwrap().seed);
    }

    #[test]
    fn dpos_rounds_take_the_top_voted_delegates_then_genesis_ones() {
        let entry = dpos(0);
        let mut state = ProducerState::default();
        let mut ledger = empty();
        let e = state.advance(&entry, 0, &[1; 32], &ledger).unwrap();
        let mut genesis = vec![key(7), key(8), key(9)];
        genesis.sort();
        assert_eq!(active(&state), genesis);
        assert!(state.is_active(&e));
        // A voted delegate enters at the next round, replacing the last genesis delegate.
        with(&mut ledger, |w| {
            let one = Delegate {
                name: "one".into(),
                registered_at: 1,
            };
            w.register(&key(1), &one);
            w.set_bond(&key(2), 50).unwrap();
            w.set_votes(&key(2), &[key(1)]).unwrap();
        });
        state.advance(&entry, 2, &[2; 32], &ledger).unwrap();
        assert_eq!(active(&state), genesis, "same round, same set");
        state.advance(&entry, 3, &[3; 32], &ledger).unwrap();
        let mut expected = vec![key(1), key(7), key(8)];
        expected.sort();
        assert_eq!(active(&state), expected);
        // Slot 1 of round 0 was skipped: its holder missed it.
        assert_eq!(state.missed.values().sum::<u64>(), 1);
    }

    #[test]
    fn the_block_that_ends_an_epoch_cannot_choose_the_next_seed() {
        // Two variants of the last block of epoch 0 (another coinbase, other transactions: a
        // different hash) by the same producer, with its one possible reveal.
        let entry = pos(0);
        let ledger = empty();
        let mut base = ProducerState::default();
        base.advance(&entry, 3, &[1; 32], &ledger).unwrap();
        let next_seed_after = |variant_hash: [u8; 32], reveal: Option<[u8; 32]>| {
            let mut s = base.clone();
            s.advance(&entry, 9, &[2; 32], &ledger).unwrap();
            if let Some(r) = reveal {
                s.mix_in(&r);
            }
            // The first block of epoch 1 builds on the variant.
            s.advance(&entry, 10, &variant_hash, &ledger).unwrap();
            s.era.unwrap().next_seed
        };
        let reveal = Some([5; 32]);
        assert_eq!(
            next_seed_after([0xaa; 32], reveal),
            next_seed_after([0xbb; 32], reveal),
            "block contents do not reach the seed"
        );
        // What the producer can still do: withhold its reveal (the residual bias).
        assert_ne!(
            next_seed_after([0xaa; 32], reveal),
            next_seed_after([0xaa; 32], None)
        );
    }

    #[test]
    fn a_new_schedule_entry_starts_a_new_era() {
        let mut state = ProducerState::default();
        let ledger = empty();
        state.advance(&pos(0), 5, &[1; 32], &ledger).unwrap();
        state.advance(&dpos(20), 30, &[2; 32], &ledger).unwrap();
        let era = state.era.as_ref().unwrap();
        assert_eq!(era.from_height, 20);
        assert_eq!(era.producers.len(), 3);
    }
}
