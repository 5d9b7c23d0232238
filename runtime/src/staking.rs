//! The staking ledger: bonded stake, unbonding queues, DPoS delegates and votes, and the
//! rules of the four staking payloads (`Bond`, `Unbond`, `RegisterDelegate`, `Vote`).
//!
//! The ledger lives in the node's key/value state beside contract state, one record per key
//! ([`records`] has the layout), so a block's staking changes are written in the block's atomic
//! batch with undo data of only what changed, and a reorganisation undoes them exactly, like
//! contract storage. The rules are in `docs/consensus.md`; every amount is checked integer
//! arithmetic.

pub mod records;

use i8o8i_script_vm::ScriptBuf;
use i8o8i_script_vm::templates::{hash160, p2pkh};

use crate::slots::StakingKey;
use crate::spec::{ChainSpec, EngineParams};
use i8o8i_primitives::StoreError;

use crate::consensus::producer_signer;
use crate::error::TxError;
use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::Coin;
use i8o8i_primitives::{Amount, Header, Payload, Seal, Transaction};

pub use records::{Delegate, StakeIndex, StakeRecords, StakeWrites, Writes};

/// Longest delegate name, in bytes.
pub const MAX_DELEGATE_NAME: usize = 32;

/// Most unbonds one key may have waiting for release (Substrate's `MaxUnlockingChunks`): each
/// unbond adds an entry to the key's queue, which is rewritten whole.
pub const MAX_UNBONDING: usize = 32;

/// Smallest bond under delegated proof of stake when the chain spec sets none: 1 I8O.
pub const DEFAULT_DPOS_MIN_BOND: Amount = Amount::from_units(100_000_000);

/// The staking parameters in force at a height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StakingRules {
    /// Smallest bond.
    pub min_bond: Amount,
    /// Blocks between an unbond and its release.
    pub unbonding_period: u64,
    /// Burnt by a delegate registration; `None` if the schedule has no DPoS (registrations
    /// and votes are refused).
    pub registration_fee: Option<Amount>,
    /// Most delegates one vote may name.
    pub max_votes: u32,
}

impl StakingRules {
    /// The rules at `height`: those of the stake engine in force, else of the next stake
    /// engine scheduled, else of the last one before. `None` on a chain whose schedule has no
    /// stake engine: staking payloads are refused there.
    pub fn at(spec: &ChainSpec, height: u64) -> Option<StakingRules> {
        let stake_entry = nearest(spec, height, |p| !matches!(p, EngineParams::Pow(_)))?;
        let dpos = nearest(spec, height, |p| matches!(p, EngineParams::Dpos(_)));
        let (registration_fee, max_votes) = match dpos {
            Some(EngineParams::Dpos(d)) => {
                (Some(d.registration_fee), d.max_votes.unwrap_or(d.delegates))
            }
            _ => (None, 0),
        };
        let (min_bond, unbonding_period) = match stake_entry {
            EngineParams::Pos(p) => (p.min_bond, p.unbonding_period),
            EngineParams::Dpos(d) => (
                d.min_bond.unwrap_or(DEFAULT_DPOS_MIN_BOND),
                d.unbonding_period,
            ),
            EngineParams::Pow(_) => return None,
        };
        Some(StakingRules {
            min_bond: min_bond.max(Amount::from_units(1)),
            unbonding_period,
            registration_fee,
            max_votes,
        })
    }
}

/// The schedule entry matching `pred` in force at `height`, else the first one after it, else
/// the last one before it.
fn nearest(
    spec: &ChainSpec,
    height: u64,
    pred: impl Fn(&EngineParams) -> bool,
) -> Option<&EngineParams> {
    let current = spec.engine_at(height);
    if pred(&current.engine) {
        return Some(&current.engine);
    }
    spec.consensus
        .iter()
        .find(|e| e.from_height > height && pred(&e.engine))
        .or_else(|| {
            spec.consensus
                .iter()
                .rev()
                .find(|e| e.from_height <= height && pred(&e.engine))
        })
        .map(|e| &e.engine)
}

/// Percentage of a producer's bond burnt when evidence of its double signing is included.
pub const SLASH_PERCENT: u64 = 10;

/// Checks evidence of double signing: two different headers of one slot-engine schedule entry,
/// for the same slot, both validly signed by the same key. Returns that key.
///
/// # Errors
/// [`TxError::Evidence`] saying what the evidence fails to prove.
pub fn check_evidence(
    spec: &ChainSpec,
    first: &Header,
    second: &Header,
) -> Result<StakingKey, TxError> {
    let bad = |m: &str| Err(TxError::Evidence(m.into()));
    let (
        Seal::Producer {
            slot: s1,
            pubkey: k1,
            ..
        },
        Seal::Producer {
            slot: s2,
            pubkey: k2,
            ..
        },
    ) = (&first.seal, &second.seal)
    else {
        return bad("both headers must be sealed by a producer");
    };
    if s1 != s2 || k1 != k2 {
        return bad("the headers are not of one slot and one key");
    }
    if first.hash() == second.hash() {
        return bad("the two headers are the same block");
    }
    let entry = spec.engine_at(first.height);
    if entry.from_height != spec.engine_at(second.height).from_height
        || matches!(entry.engine, EngineParams::Pow(_))
    {
        return bad("the headers are not of one slot-engine era");
    }
    for header in [first, second] {
        producer_signer(header).map_err(|e| TxError::Evidence(format!("a header's seal: {e}")))?;
    }
    Ok(*k1)
}

/// Whether `payload` is a staking action.
pub fn is_staking(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::Bond { .. }
            | Payload::Unbond { .. }
            | Payload::RegisterDelegate { .. }
            | Payload::Vote { .. }
    )
}

/// The P2PKH script of a staking key: where its rewards and releases are paid, and the script
/// whose coin authorises its unbonds, registration and votes.
pub fn key_script(key: &StakingKey) -> ScriptBuf {
    p2pkh(&hash160(key))
}

/// An amount as the people who send staking transactions write it: `12.50000000 I8O`.
fn in_i8o(amount: Amount) -> String {
    format!("{} I8O", amount.to_coin_string())
}

/// Whether `key` is a valid compressed secp256k1 public key.
pub fn is_valid_key(key: &StakingKey) -> bool {
    matches!(key[0], 2 | 3) && secp256k1::PublicKey::from_slice(key).is_ok()
}

/// Whether a delegate name is 1–32 bytes of `[A-Za-z0-9_-]`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=MAX_DELEGATE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Context-free checks of a staking payload (keys, name shape, vote list shape).
///
/// # Errors
/// [`TxError::Staking`] naming the problem.
pub fn check_staking_payload(payload: &Payload) -> Result<(), TxError> {
    let bad = |m: String| Err(TxError::Staking(m));
    match payload {
        Payload::Bond { staking_key, value } | Payload::Unbond { staking_key, value } => {
            if !is_valid_key(staking_key) {
                return bad("the staking key is not a compressed secp256k1 public key".into());
            }
            if *value == Amount::ZERO {
                return bad("the amount must be positive".into());
            }
        }
        Payload::RegisterDelegate { name, key } => {
            if !is_valid_key(key) {
                return bad("the delegate key is not a compressed secp256k1 public key".into());
            }
            if !is_valid_name(name) {
                return bad(format!(
                    "delegate name must be 1–{MAX_DELEGATE_NAME} characters of A–Z a–z 0–9 _ -"
                ));
            }
        }
        Payload::Vote {
            voter_key,
            delegates,
        } => {
            if !is_valid_key(voter_key) {
                return bad("the voter key is not a compressed secp256k1 public key".into());
            }
            let mut seen = std::collections::BTreeSet::new();
            if let Some(d) = delegates.iter().find(|d| !seen.insert(**d)) {
                return bad(format!("delegate {} is voted for twice", hex::encode(d)));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The part of `inputs − outputs` a staking transaction does not pay as fee: a bond's value or
/// a registration's fee. `None` for other transactions.
pub fn locked_value(tx: &Transaction, spec: &ChainSpec, height: u64) -> Option<Amount> {
    match &tx.payload {
        Some(Payload::Bond { value, .. }) => Some(*value),
        Some(Payload::RegisterDelegate { .. }) => Some(
            StakingRules::at(spec, height)
                .and_then(|r| r.registration_fee)
                .unwrap_or(Amount::ZERO),
        ),
        Some(Payload::Unbond { .. } | Payload::Vote { .. }) => Some(Amount::ZERO),
        _ => None,
    }
}

/// Checks a staking transaction at `height` against `state` and returns its fee and the
/// records it changes, for the caller to merge into `state` (a block) or to drop (a pool
/// check). `coins` are the coins its inputs spend; `paid` is inputs − outputs.
///
/// # Errors
/// [`TxError::Staking`] for a broken rule, [`TxError::StakeFee`] when the inputs do not cover
/// the locked value, [`TxError::Storage`] when the state cannot be read.
pub fn apply_staking(
    state: &StateOverlay,
    tx: &Transaction,
    coins: &[Coin],
    paid: Amount,
    height: u64,
    spec: &ChainSpec,
) -> Result<(Amount, Writes), TxError> {
    let Some(payload) = &tx.payload else {
        return Ok((paid, Writes::new()));
    };
    check_staking_payload(payload)?;
    let rules = StakingRules::at(spec, height).ok_or_else(|| {
        TxError::Staking("this chain's consensus schedule has no stake engine".into())
    })?;
    let locked = locked_value(tx, spec, height).unwrap_or(Amount::ZERO);
    let fee = paid.checked_sub(locked).ok_or(TxError::StakeFee {
        needed: locked,
        paid,
    })?;
    let authorised = |key: &StakingKey| {
        let script = key_script(key);
        coins.iter().any(|c| c.output.script_pubkey == script)
    };
    let unauthorised = |what: &str, key: &StakingKey| {
        TxError::Staking(format!(
            "{what} must spend a coin of the key's own address (key {})",
            hex::encode(key)
        ))
    };
    let staking = |m: String| Err(TxError::Staking(m));
    let mut w = StakeWrites::new(state);
    match payload {
        Payload::Bond { staking_key, value } => {
            if *value < rules.min_bond {
                return staking(format!(
                    "bond of {} is below the minimum {}",
                    in_i8o(*value),
                    in_i8o(rules.min_bond)
                ));
            }
            let bond = w
                .bonded(staking_key)?
                .checked_add(value.to_units())
                .filter(|b| *b <= spec.max_supply.to_units())
                .ok_or(TxError::ValueOverflow)?;
            w.set_bond(staking_key, bond)?;
        }
        Payload::Unbond { staking_key, value } => {
            if !authorised(staking_key) {
                return Err(unauthorised("an unbond", staking_key));
            }
            let bonded = w.bonded(staking_key)?;
            let Some(left) = bonded.checked_sub(value.to_units()) else {
                return staking(format!(
                    "unbond of {} exceeds the bonded {}",
                    in_i8o(*value),
                    in_i8o(Amount::from_units(bonded))
                ));
            };
            // Substrate's rule: what stays bonded is nothing or a whole minimum bond, so the
            // minimum also bounds how many bonds can exist.
            if left != 0 && left < rules.min_bond.to_units() {
                return staking(format!(
                    "an unbond must leave nothing or at least the minimum bond {} bonded ({} would stay)",
                    in_i8o(rules.min_bond),
                    in_i8o(Amount::from_units(left))
                ));
            }
            let mut queue = w.unbonding(staking_key)?;
            if queue.len() >= MAX_UNBONDING {
                return staking(format!(
                    "key {} already has {MAX_UNBONDING} unbonds waiting for release",
                    hex::encode(staking_key)
                ));
            }
            w.set_bond(staking_key, left)?;
            let release = height.saturating_add(rules.unbonding_period.max(1));
            queue.push((release, value.to_units()));
            w.set_unbonding(staking_key, &queue);
            w.set_release(release, staking_key, true);
        }
        Payload::RegisterDelegate { name, key } => {
            if rules.registration_fee.is_none() {
                return staking(
                    "this chain's consensus schedule has no delegated proof of stake".into(),
                );
            }
            if !authorised(key) {
                return Err(unauthorised("a delegate registration", key));
            }
            if w.delegate(key)?.is_some() {
                return staking(format!("key {} is already a delegate", hex::encode(key)));
            }
            if w.delegate_named(name)?.is_some() {
                return staking(format!("delegate name `{name}` is taken"));
            }
            w.register(
                key,
                &Delegate {
                    name: name.clone(),
                    registered_at: height,
                },
            );
        }
        Payload::Vote {
            voter_key,
            delegates,
        } => {
            if rules.registration_fee.is_none() {
                return staking(
                    "this chain's consensus schedule has no delegated proof of stake".into(),
                );
            }
            if !authorised(voter_key) {
                return Err(unauthorised("a vote", voter_key));
            }
            if delegates.len() > rules.max_votes as usize {
                return staking(format!(
                    "{} delegates voted for, at most {} allowed",
                    delegates.len(),
                    rules.max_votes
                ));
            }
            for d in delegates {
                if w.delegate(d)?.is_none() {
                    return staking(format!("{} is not a registered delegate", hex::encode(d)));
                }
            }
            w.set_votes(voter_key, delegates)?;
        }
        _ => return Ok((paid, Writes::new())),
    }
    Ok((fee, w.into_writes()))
}

/// Pays the releases due at `height`: takes them off their keys' unbonding queues and
/// returns `(key, amount)` per key in key order, for the caller to append to the coinbase.
///
/// # Errors
/// Storage failures.
pub fn take_releases(
    state: &mut StateOverlay,
    height: u64,
) -> Result<Vec<(StakingKey, u64)>, StoreError> {
    let keys = state.released_at(height)?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut w = StakeWrites::new(state);
    let mut paid = Vec::with_capacity(keys.len());
    for key in keys {
        let mut queue = w.unbonding(&key)?;
        let mut due = 0u64;
        queue.retain(|(h, amount)| {
            if *h == height {
                // Unbonds never exceed the bond, itself at most the maximum supply.
                due = due.saturating_add(*amount);
            }
            *h != height
        });
        w.set_unbonding(&key, &queue);
        w.set_release(height, &key, false);
        if due > 0 {
            paid.push((key, due));
        }
    }
    let writes = w.into_writes();
    state.merge(writes);
    Ok(paid)
}

/// Slashes `key` for double signing: burns [`SLASH_PERCENT`] of its bond (rounded down) and
/// jails it. Returns the amount burnt.
///
/// # Errors
/// [`TxError::Evidence`] if the key is already jailed; storage failures.
pub fn slash(state: &mut StateOverlay, key: &StakingKey) -> Result<u64, TxError> {
    let mut w = StakeWrites::new(state);
    if !w.jail(key)? {
        return Err(TxError::Evidence(format!(
            "{} was already slashed",
            hex::encode(key)
        )));
    }
    let bond = w.bonded(key)?;
    let burnt = bond / 100 * SLASH_PERCENT + bond % 100 * SLASH_PERCENT / 100;
    w.set_bond(key, bond - burnt)?;
    let writes = w.into_writes();
    state.merge(writes);
    Ok(burnt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use i8o8i_contract_engine::state::MemoryState;
    use i8o8i_primitives::{OutPoint, TxIn, TxOut, Txid};
    use std::collections::BTreeSet;
    use std::sync::Arc;

    const COIN: u64 = 100_000_000;

    fn key(seed: u8) -> StakingKey {
        let sk = secp256k1::SecretKey::from_secret_bytes([seed; 32]).unwrap();
        secp256k1::PublicKey::from_secret_key(&sk).serialize()
    }

    /// A chain whose schedule has PoW until 100, then DPoS with 3 delegates (max 2 votes).
    fn spec() -> ChainSpec {
        let yaml = format!(
            "{}\n  - from_height: 100\n    engine: dpos\n    params:\n      slot_secs: 2\n      delegates: 3\n      max_votes: 2\n      unbonding_period: 10\n      registration_fee: 1000\n      genesis_delegates:\n        - name: g\n          key: {}\n",
            include_str!("../../config/chains/dev.yaml").trim_end(),
            hex::encode(key(9))
        );
        ChainSpec::from_yaml(&yaml).unwrap()
    }

    fn coin_of(owner: &StakingKey, value: u64) -> Coin {
        Coin {
            output: TxOut {
                value: Amount::from_units(value),
                script_pubkey: key_script(owner),
            },
            height: 1,
            coinbase: false,
        }
    }

    fn tx(payload: Payload) -> Transaction {
        Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout: OutPoint {
                    txid: Txid::from_byte_array([7; 32]),
                    index: 0,
                },
                script_sig: Default::default(),
                sequence: u32::MAX,
            }],
            outputs: Vec::new(),
            lock_time: 0,
            payload: Some(payload),
        }
    }

    fn empty_state() -> StateOverlay {
        StateOverlay::new(Arc::new(MemoryState::default()))
    }

    /// Applies `payload` paid by a coin of `spender` worth `paid` at height 50, merging what
    /// it writes.
    fn apply(
        state: &mut StateOverlay,
        payload: Payload,
        spender: &StakingKey,
        paid: u64,
    ) -> Result<Amount, TxError> {
        let (fee, writes) = apply_staking(
            state,
            &tx(payload),
            &[coin_of(spender, paid)],
            Amount::from_units(paid),
            50,
            &spec(),
        )?;
        state.merge(writes);
        Ok(fee)
    }

    fn set_bond(state: &mut StateOverlay, key: &StakingKey, units: u64) {
        let mut w = StakeWrites::new(state);
        w.set_bond(key, units).unwrap();
        let writes = w.into_writes();
        state.merge(writes);
    }

    fn register(state: &mut StateOverlay, key: &StakingKey, name: &str) {
        let mut w = StakeWrites::new(state);
        w.register(
            key,
            &Delegate {
                name: name.into(),
                registered_at: 1,
            },
        );
        let writes = w.into_writes();
        state.merge(writes);
    }

    fn staking_error(r: Result<Amount, TxError>) -> String {
        match r {
            Err(TxError::Staking(m)) => m,
            other => panic!("expected a staking error, got {other:?}"),
        }
    }

    #[test]
    fn bonds_take_value_from_inputs_and_fees_are_the_rest() {
        let (a, b) = (key(1), key(2));
        let mut state = empty_state();
        // Anyone may bond to any key; the fee is what is left after the value.
        let bond = Payload::Bond {
            staking_key: a,
            value: Amount::from_units(10 * COIN),
        };
        let fee = apply(&mut state, bond.clone(), &b, 10 * COIN + 500);
        assert_eq!(fee, Ok(Amount::from_units(500)));
        assert_eq!(state.bonded(&a), Ok(10 * COIN));
        let short = apply(&mut state, bond, &b, COIN);
        assert_eq!(
            short,
            Err(TxError::StakeFee {
                needed: Amount::from_units(10 * COIN),
                paid: Amount::from_units(COIN),
            })
        );
        assert_eq!(
            state.bonded(&a),
            Ok(10 * COIN),
            "a refused bond changes nothing"
        );
        // The DPoS default minimum (1 I8O) applies when the spec names none.
        let m = staking_error(apply(
            &mut state,
            Payload::Bond {
                staking_key: a,
                value: Amount::from_units(COIN - 1),
            },
            &b,
            COIN,
        ));
        assert!(m.contains("below the minimum"), "{m}");
    }

    #[test]
    fn unbonds_need_the_key_s_own_coin_and_queue_a_release() {
        let (a, b) = (key(1), key(2));
        let mut state = empty_state();
        set_bond(&mut state, &a, 10 * COIN);
        let unbond = |value| Payload::Unbond {
            staking_key: a,
            value: Amount::from_units(value),
        };
        let m = staking_error(apply(&mut state, unbond(COIN), &b, 100));
        assert!(
            m.contains("must spend a coin of the key's own address"),
            "{m}"
        );
        let m = staking_error(apply(&mut state, unbond(11 * COIN), &a, 100));
        assert!(m.contains("exceeds the bonded"), "{m}");
        // What stays bonded is nothing or at least the minimum.
        let m = staking_error(apply(&mut state, unbond(10 * COIN - 1), &a, 100));
        assert!(m.contains("leave nothing or at least the minimum"), "{m}");
        assert_eq!(
            apply(&mut state, unbond(4 * COIN), &a, 100),
            Ok(Amount::from_units(100))
        );
        assert_eq!(state.bonded(&a), Ok(6 * COIN));
        // Released at 50 + the unbonding period of the DPoS entry (10).
        assert_eq!(state.unbonding(&a), Ok(vec![(60, 4 * COIN)]));
        assert_eq!(state.released_at(60), Ok(vec![a]));
    }

    #[test]
    fn a_key_may_have_at_most_max_unbonding_unbonds_waiting() {
        let a = key(1);
        let mut state = empty_state();
        set_bond(&mut state, &a, 100 * COIN);
        let unbond = Payload::Unbond {
            staking_key: a,
            value: Amount::from_units(COIN),
        };
        for _ in 0..MAX_UNBONDING {
            apply(&mut state, unbond.clone(), &a, 100).unwrap();
        }
        let m = staking_error(apply(&mut state, unbond, &a, 100));
        assert!(m.contains("32 unbonds waiting"), "{m}");
        assert_eq!(state.bonded(&a), Ok(68 * COIN));
    }

    #[test]
    fn releases_are_paid_once_per_key_in_key_order() {
        let (a, b) = (key(1), key(2));
        let mut state = empty_state();
        set_bond(&mut state, &a, 10 * COIN);
        set_bond(&mut state, &b, 10 * COIN);
        let unbond = |k, value| Payload::Unbond {
            staking_key: k,
            value: Amount::from_units(value),
        };
        for (k, v) in [(b, COIN), (a, 2 * COIN), (b, 3 * COIN)] {
            apply(&mut state, unbond(k, v), &k, 100).unwrap();
        }
        assert_eq!(take_releases(&mut state, 59), Ok(Vec::new()));
        let mut expected = vec![(a, 2 * COIN), (b, 4 * COIN)];
        expected.sort();
        assert_eq!(take_releases(&mut state, 60), Ok(expected));
        assert_eq!(state.unbonding(&a), Ok(Vec::new()));
        assert_eq!(state.unbonding(&b), Ok(Vec::new()));
        assert_eq!(state.released_at(60), Ok(Vec::new()));
        assert_eq!(take_releases(&mut state, 60), Ok(Vec::new()), "paid once");
    }

    #[test]
    fn registrations_and_votes_follow_their_rules() {
        let (a, b, c) = (key(1), key(2), key(3));
        let mut state = empty_state();
        let reg = |name: &str, key| Payload::RegisterDelegate {
            name: name.into(),
            key,
        };
        // The registration fee (1000) is burnt, not paid as fee.
        assert_eq!(
            apply(&mut state, reg("alpha", a), &a, 1_300),
            Ok(Amount::from_units(300))
        );
        let m = staking_error(apply(&mut state, reg("beta", b), &a, 2_000));
        assert!(m.contains("must spend a coin"), "{m}");
        let m = staking_error(apply(&mut state, reg("alpha", b), &b, 2_000));
        assert!(m.contains("is taken"), "{m}");
        let m = staking_error(apply(&mut state, reg("again", a), &a, 2_000));
        assert!(m.contains("already a delegate"), "{m}");
        assert_eq!(
            apply(&mut state, reg("beta", b), &b, 999),
            Err(TxError::StakeFee {
                needed: Amount::from_units(1000),
                paid: Amount::from_units(999),
            })
        );
        apply(&mut state, reg("beta", b), &b, 1_000).unwrap();
        assert_eq!(state.delegate_named("beta"), Ok(Some(b)));

        let vote = |delegates: Vec<StakingKey>| Payload::Vote {
            voter_key: c,
            delegates,
        };
        let m = staking_error(apply(&mut state, vote(vec![a, key(4)]), &c, 100));
        assert!(m.contains("not a registered delegate"), "{m}");
        let m = staking_error(apply(&mut state, vote(vec![a, b, a]), &c, 100));
        assert!(m.contains("voted for twice"), "{m}");
        register(&mut state, &key(5), "gamma");
        let m = staking_error(apply(&mut state, vote(vec![a, b, key(5)]), &c, 100));
        assert!(m.contains("at most 2"), "{m}");
        set_bond(&mut state, &c, 7 * COIN);
        apply(&mut state, vote(vec![a, b]), &c, 100).unwrap();
        assert_eq!(state.tally(&a), Ok(u128::from(7 * COIN)));
        assert_eq!(state.tally(&b), Ok(u128::from(7 * COIN)));
        assert_eq!(state.tally(&key(5)), Ok(0));
        // A new vote replaces the old one; an empty one withdraws.
        apply(&mut state, vote(vec![b]), &c, 100).unwrap();
        assert_eq!(state.tally(&a), Ok(0));
        apply(&mut state, vote(vec![]), &c, 100).unwrap();
        assert_eq!(state.votes(&c), Ok(Vec::new()));
        assert_eq!(state.tally(&b), Ok(0));
        assert_eq!(state.top_voted(10), Ok(Vec::new()));
    }

    #[test]
    fn tallies_follow_the_bonds_of_the_voters() {
        let (d1, d2, v1, v2) = (key(1), key(2), key(3), key(4));
        let mut state = empty_state();
        register(&mut state, &d1, "one");
        register(&mut state, &d2, "two");
        set_bond(&mut state, &v1, 5 * COIN);
        let vote = |voter, delegates| Payload::Vote {
            voter_key: voter,
            delegates,
        };
        apply(&mut state, vote(v1, vec![d1, d2]), &v1, 100).unwrap();
        apply(&mut state, vote(v2, vec![d2]), &v2, 100).unwrap();
        // A bond made after the vote counts, as does an unbond.
        apply(
            &mut state,
            Payload::Bond {
                staking_key: v2,
                value: Amount::from_units(9 * COIN),
            },
            &v1,
            9 * COIN,
        )
        .unwrap();
        apply(
            &mut state,
            Payload::Unbond {
                staking_key: v1,
                value: Amount::from_units(COIN),
            },
            &v1,
            100,
        )
        .unwrap();
        assert_eq!(state.tally(&d1), Ok(u128::from(4 * COIN)));
        assert_eq!(state.tally(&d2), Ok(u128::from(13 * COIN)));
        assert_eq!(
            state.top_voted(10),
            Ok(vec![
                (d2, u128::from(13 * COIN)),
                (d1, u128::from(4 * COIN))
            ])
        );
        // A slashed voter's bond shrinks its delegates' tallies; a slashed delegate leaves the
        // ranking but keeps its tally.
        assert_eq!(slash(&mut state, &v2), Ok(9 * COIN / 10));
        assert_eq!(
            state.tally(&d2),
            Ok(u128::from(4 * COIN + 9 * COIN - 9 * COIN / 10))
        );
        slash(&mut state, &d1).unwrap();
        assert_eq!(state.top_voted(10).unwrap().len(), 1);
        assert_eq!(state.tally(&d1), Ok(u128::from(4 * COIN)));
    }

    #[test]
    fn rounds_are_shuffled_permutations_of_the_top_delegates() {
        use crate::slots::round_order;
        // Delegate `b` gets the vote of voter `100 + b`, who bonds (b % 10) × 1,000.
        let mut state = empty_state();
        let mut w = StakeWrites::new(&state);
        for b in 1..=30u8 {
            let name = format!("d{b}");
            w.register(
                &key(b),
                &Delegate {
                    name,
                    registered_at: 1,
                },
            );
            w.set_bond(&key(100 + b), u64::from(b % 10) * 1_000)
                .unwrap();
            w.set_votes(&key(100 + b), &[key(b)]).unwrap();
        }
        let writes = w.into_writes();
        state.merge(writes);
        let top: Vec<StakingKey> = state
            .top_voted(21)
            .unwrap()
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(top.len(), 21);
        // 9_000 first (keys 9, 19, 29 in key order), then 8_000, ...
        let mut nines = [key(9), key(19), key(29)];
        nines.sort();
        assert_eq!(&top[..3], &nines[..]);
        assert!(!top.contains(&key(10)), "zero votes do not rank");
        let seed = i8o8i_primitives::sha256d(b"round seed");
        let order = round_order(&top, &seed, 7);
        assert_eq!(order.len(), 21);
        let as_set = |v: &[StakingKey]| v.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(as_set(&order), as_set(&top), "a permutation");
        assert_ne!(order, top, "shuffled");
        assert_eq!(order, round_order(&top, &seed, 7), "deterministic");
        assert_ne!(order, round_order(&top, &seed, 8), "per round");
        assert!(round_order(&[], &seed, 1).is_empty());
    }

    #[test]
    fn the_power_index_ranks_unjailed_bonds_by_stake_then_key() {
        let mut state = empty_state();
        for (k, stake) in [(1, 300), (2, 500), (3, 300), (4, 100)] {
            set_bond(&mut state, &key(k), stake);
        }
        let mut ties = vec![(key(1), 300), (key(3), 300)];
        ties.sort();
        let mut expected = vec![(key(2), 500)];
        expected.extend(ties);
        assert_eq!(state.top_bonded(3), Ok(expected));
        // A bond's change moves its entry; a jailed key leaves the index for good.
        set_bond(&mut state, &key(4), 900);
        set_bond(&mut state, &key(1), 0);
        assert_eq!(state.top_bonded(2), Ok(vec![(key(4), 900), (key(2), 500)]));
        slash(&mut state, &key(4)).unwrap();
        set_bond(&mut state, &key(4), 1_000);
        assert_eq!(state.top_bonded(1), Ok(vec![(key(2), 500)]));
        assert_eq!(state.top_bonded(10).unwrap().len(), 2);
    }

    #[test]
    fn a_bond_among_many_writes_only_its_own_records() {
        let mut state = empty_state();
        for k in 1..=200u8 {
            set_bond(&mut state, &key(k), u64::from(k) * COIN);
        }
        let (_, writes) = apply_staking(
            &state,
            &tx(Payload::Bond {
                staking_key: key(7),
                value: Amount::from_units(COIN),
            }),
            &[coin_of(&key(1), COIN)],
            Amount::from_units(COIN),
            50,
            &spec(),
        )
        .unwrap();
        // The bond, the old and new power-index entries, and the address lookup.
        // `stake/<kind>/…`: up to the second slash.
        let kind = |k: &[u8]| {
            let end = k
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'/')
                .nth(1)
                .unwrap()
                .0;
            String::from_utf8_lossy(&k[..=end]).into_owned()
        };
        let kinds: BTreeSet<String> = writes.keys().map(|k| kind(k)).collect();
        assert_eq!(writes.len(), 4, "{kinds:?}");
        assert_eq!(
            kinds,
            BTreeSet::from([
                "stake/bond/".into(),
                "stake/owner/".into(),
                "stake/power/".into()
            ])
        );
    }

    #[test]
    fn chains_without_a_stake_engine_refuse_staking() {
        let dev = ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).unwrap();
        let a = key(1);
        let r = apply_staking(
            &empty_state(),
            &tx(Payload::Bond {
                staking_key: a,
                value: Amount::from_units(COIN),
            }),
            &[coin_of(&a, 2 * COIN)],
            Amount::from_units(2 * COIN),
            5,
            &dev,
        )
        .map(|(fee, _)| fee);
        let m = staking_error(r);
        assert!(m.contains("no stake engine"), "{m}");
    }

    #[test]
    fn malformed_payloads_are_refused_before_any_state() {
        let bad_key = [4u8; 33];
        for (payload, expect) in [
            (
                Payload::Bond {
                    staking_key: bad_key,
                    value: Amount::from_units(1),
                },
                "not a compressed",
            ),
            (
                Payload::Bond {
                    staking_key: key(1),
                    value: Amount::ZERO,
                },
                "must be positive",
            ),
            (
                Payload::RegisterDelegate {
                    name: "has space".into(),
                    key: key(1),
                },
                "delegate name",
            ),
            (
                Payload::RegisterDelegate {
                    name: "x".repeat(33),
                    key: key(1),
                },
                "delegate name",
            ),
        ] {
            let m = match check_staking_payload(&payload) {
                Err(TxError::Staking(m)) => m,
                other => panic!("{payload:?}: {other:?}"),
            };
            assert!(m.contains(expect), "{m}");
        }
    }

    fn sealed_header(slot: u64, secret: u8, tag: u8) -> Header {
        let mut header = Header {
            version: 1,
            parent: i8o8i_primitives::BlockHash::from_byte_array([tag; 32]),
            height: 101,
            time: 0,
            tx_root: i8o8i_primitives::Hash256::ZERO,
            state_root: i8o8i_primitives::Hash256::ZERO,
            seal: Seal::Pow { bits: 0, nonce: 0 },
        };
        let sk = secp256k1::SecretKey::from_secret_bytes([secret; 32]).unwrap();
        crate::consensus::SlotEngine::seal(&mut header, slot, &sk);
        header
    }

    #[test]
    fn evidence_proves_double_signing_and_nothing_else() {
        let spec = spec();
        let (a, b) = (sealed_header(7, 1, 1), sealed_header(7, 1, 2));
        assert_eq!(check_evidence(&spec, &a, &b), Ok(key(1)));
        let refused = |first: &Header, second: &Header| {
            matches!(
                check_evidence(&spec, first, second),
                Err(TxError::Evidence(_))
            )
        };
        assert!(refused(&a, &a), "one block twice");
        assert!(refused(&a, &sealed_header(8, 1, 2)), "another slot");
        assert!(refused(&a, &sealed_header(7, 2, 2)), "another key");
        let mut forged = b.clone();
        if let Seal::Producer { signature, .. } = &mut forged.seal {
            signature[5] ^= 1;
        }
        assert!(refused(&a, &forged), "a signature that does not verify");
        let mut pow = b.clone();
        pow.height = 50;
        assert!(refused(&a, &pow), "another era (proof of work)");
    }

    #[test]
    fn slashing_burns_a_tenth_of_the_bond_once_and_jails() {
        let mut state = empty_state();
        set_bond(&mut state, &key(1), 1_005);
        assert_eq!(slash(&mut state, &key(1)), Ok(100));
        assert!(matches!(
            slash(&mut state, &key(1)),
            Err(TxError::Evidence(_))
        ));
        // A key without a bond (a genesis validator) is jailed, nothing burnt.
        assert_eq!(slash(&mut state, &key(2)), Ok(0));
        assert_eq!(state.bonded(&key(1)), Ok(905));
        assert_eq!(state.is_jailed(&key(1)), Ok(true));
        assert_eq!(state.is_jailed(&key(2)), Ok(true));
        assert_eq!(state.is_jailed(&key(3)), Ok(false));
        assert_eq!(state.top_bonded(10), Ok(Vec::new()));
    }
}
