//! The staking ledger: bonded stake, unbonding queues, DPoS delegates and votes, and the
//! rules of the four staking payloads (`Bond`, `Unbond`, `RegisterDelegate`, `Vote`).
//!
//! The ledger lives in the node's key/value state beside contract state (keys under `stake/`),
//! so a block's staking changes are written in the block's atomic batch with undo data and a
//! reorganisation undoes them exactly, like contract storage. The rules are in
//! `docs/consensus.md`; every amount is checked integer arithmetic.

use std::collections::{BTreeMap, BTreeSet};

use i8o8i_script_vm::ScriptBuf;
use i8o8i_script_vm::templates::{hash160, p2pkh};
use parity_scale_codec::{Decode, Encode};

use crate::slots::StakingKey;
use crate::spec::{ChainSpec, EngineParams};
use i8o8i_primitives::StoreError;

use crate::consensus::producer_signer;
use crate::error::TxError;
use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::Coin;
use i8o8i_primitives::{Amount, Header, Payload, Seal, Transaction};

/// State key of the [`Ledger`].
pub const LEDGER_KEY: &[u8] = b"stake/ledger";

/// Longest delegate name, in bytes.
pub const MAX_DELEGATE_NAME: usize = 32;

/// State key of the releases due at `height`: `stake/release/<height, big-endian>`. Kept apart
/// from the ledger so that a block reads one small key, not the ledger, to learn what it pays.
pub fn release_key(height: u64) -> Vec<u8> {
    let mut key = b"stake/release/".to_vec();
    key.extend_from_slice(&height.to_be_bytes());
    key
}

/// A registered delegate.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Delegate {
    /// Display name (unique).
    pub name: String,
    /// Height of the registering block.
    pub registered_at: u64,
}

/// Everything staking payloads change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Ledger {
    /// Bonded stake per key, in base units (no zero entries).
    pub bonds: BTreeMap<StakingKey, u64>,
    /// Stake on its way back per key: `(release height, amount)`, oldest first.
    pub unbonding: BTreeMap<StakingKey, Vec<(u64, u64)>>,
    /// Registered delegates.
    pub delegates: BTreeMap<StakingKey, Delegate>,
    /// Each voter's delegates.
    pub votes: BTreeMap<StakingKey, Vec<StakingKey>>,
    /// Producers slashed for double signing: out of every later snapshot and round, and not
    /// slashed twice.
    pub jailed: BTreeSet<StakingKey>,
}

impl Ledger {
    /// Reads the ledger from state (empty if never written).
    ///
    /// # Errors
    /// Storage failures or a record that does not decode.
    pub fn load(state: &StateOverlay) -> Result<Ledger, StoreError> {
        decode_or_default(state.get(LEDGER_KEY)?, "staking ledger")
    }

    /// Writes the ledger to `state`.
    pub fn store(&self, state: &mut StateOverlay) {
        state.put(LEDGER_KEY.to_vec(), Some(self.encode()));
    }

    /// Bonded stake of `key`.
    pub fn bonded(&self, key: &StakingKey) -> u64 {
        self.bonds.get(key).copied().unwrap_or(0)
    }

    /// Votes per registered delegate: the sum of the bonded stake of the keys voting for it.
    pub fn tallies(&self) -> BTreeMap<StakingKey, u128> {
        let mut tallies: BTreeMap<StakingKey, u128> =
            self.delegates.keys().map(|k| (*k, 0)).collect();
        for (voter, delegates) in &self.votes {
            let weight = u128::from(self.bonded(voter));
            for d in delegates {
                if let Some(t) = tallies.get_mut(d) {
                    *t += weight;
                }
            }
        }
        tallies
    }
}

/// Decodes a state record, or the default when absent.
pub(crate) fn decode_or_default<T: Decode + Default>(
    bytes: Option<Vec<u8>>,
    what: &'static str,
) -> Result<T, StoreError> {
    match bytes {
        None => Ok(T::default()),
        Some(b) => T::decode(&mut &b[..]).map_err(|e| StoreError::corrupt(what, e)),
    }
}

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
            EngineParams::Dpos(d) => (Amount::from_units(1), d.unbonding_period),
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

/// Applies a staking transaction to `ledger` at `height` and returns its fee; on error nothing
/// was changed. `coins` are the
/// coins its inputs spend; `paid` is inputs − outputs. Releases of unbonds are queued in
/// `releases` (release height → entries), which the caller writes with [`release_key`].
///
/// # Errors
/// [`TxError::Staking`] for a broken rule, [`TxError::StakeFee`] when the inputs do not cover
/// the locked value.
pub fn apply_staking(
    ledger: &mut Ledger,
    releases: &mut BTreeMap<u64, Vec<(StakingKey, u64)>>,
    tx: &Transaction,
    coins: &[Coin],
    paid: Amount,
    height: u64,
    spec: &ChainSpec,
) -> Result<Amount, TxError> {
    let Some(payload) = &tx.payload else {
        return Ok(paid);
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
    match payload {
        Payload::Bond { staking_key, value } => {
            if *value < rules.min_bond {
                return Err(TxError::Staking(format!(
                    "bond of {value} is below the minimum {}",
                    rules.min_bond
                )));
            }
            let bond = ledger
                .bonded(staking_key)
                .checked_add(value.to_units())
                .filter(|b| *b <= spec.max_supply.to_units())
                .ok_or(TxError::ValueOverflow)?;
            ledger.bonds.insert(*staking_key, bond);
        }
        Payload::Unbond { staking_key, value } => {
            if !authorised(staking_key) {
                return Err(unauthorised("an unbond", staking_key));
            }
            let bonded = ledger.bonded(staking_key);
            let left = bonded.checked_sub(value.to_units()).ok_or_else(|| {
                TxError::Staking(format!(
                    "unbond of {value} exceeds the bonded {}",
                    Amount::from_units(bonded)
                ))
            })?;
            if left == 0 {
                ledger.bonds.remove(staking_key);
            } else {
                ledger.bonds.insert(*staking_key, left);
            }
            let release = height.saturating_add(rules.unbonding_period.max(1));
            ledger
                .unbonding
                .entry(*staking_key)
                .or_default()
                .push((release, value.to_units()));
            releases
                .entry(release)
                .or_default()
                .push((*staking_key, value.to_units()));
        }
        Payload::RegisterDelegate { name, key } => {
            if rules.registration_fee.is_none() {
                return Err(TxError::Staking(
                    "this chain's consensus schedule has no delegated proof of stake".into(),
                ));
            }
            if !authorised(key) {
                return Err(unauthorised("a delegate registration", key));
            }
            if ledger.delegates.contains_key(key) {
                return Err(TxError::Staking(format!(
                    "key {} is already a delegate",
                    hex::encode(key)
                )));
            }
            if ledger.delegates.values().any(|d| &d.name == name) {
                return Err(TxError::Staking(format!("delegate name `{name}` is taken")));
            }
            ledger.delegates.insert(
                *key,
                Delegate {
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
                return Err(TxError::Staking(
                    "this chain's consensus schedule has no delegated proof of stake".into(),
                ));
            }
            if !authorised(voter_key) {
                return Err(unauthorised("a vote", voter_key));
            }
            if delegates.len() > rules.max_votes as usize {
                return Err(TxError::Staking(format!(
                    "{} delegates voted for, at most {} allowed",
                    delegates.len(),
                    rules.max_votes
                )));
            }
            if let Some(d) = delegates
                .iter()
                .find(|d| !ledger.delegates.contains_key(*d))
            {
                return Err(TxError::Staking(format!(
                    "{} is not a registered delegate",
                    hex::encode(d)
                )));
            }
            if delegates.is_empty() {
                ledger.votes.remove(voter_key);
            } else {
                ledger.votes.insert(*voter_key, delegates.clone());
            }
        }
        _ => return Ok(paid),
    }
    Ok(fee)
}

/// What a block does to the staking ledger: staking payloads run in block order over the
/// ledger as of the parent, and the releases due at the block's height are paid.
#[derive(Debug)]
pub struct BlockStaking {
    ledger: Option<Ledger>,
    releases: BTreeMap<u64, Vec<(StakingKey, u64)>>,
    changed: bool,
}

impl BlockStaking {
    /// Nothing loaded yet: blocks without staking payloads or releases never read the ledger.
    pub fn new() -> BlockStaking {
        BlockStaking {
            ledger: None,
            releases: BTreeMap::new(),
            changed: false,
        }
    }

    /// The ledger as of the parent plus this block's changes so far.
    ///
    /// # Errors
    /// Storage failures.
    pub fn ledger(&mut self, state: &StateOverlay) -> Result<&mut Ledger, StoreError> {
        if self.ledger.is_none() {
            self.ledger = Some(Ledger::load(state)?);
        }
        Ok(self.ledger.as_mut().expect("just loaded"))
    }

    /// Applies a staking transaction (see [`apply_staking`]).
    ///
    /// # Errors
    /// As [`apply_staking`]; storage failures as [`TxError::Storage`].
    pub fn apply(
        &mut self,
        state: &StateOverlay,
        tx: &Transaction,
        coins: &[Coin],
        paid: Amount,
        height: u64,
        spec: &ChainSpec,
    ) -> Result<Amount, TxError> {
        self.ledger(state).map_err(TxError::Storage)?;
        let ledger = self.ledger.as_mut().expect("loaded");
        // `apply_staking` checks everything before it changes anything.
        let fee = apply_staking(ledger, &mut self.releases, tx, coins, paid, height, spec)?;
        self.changed = true;
        Ok(fee)
    }

    /// Pays the releases due at `height`: removes them from the ledger and returns `(key,
    /// amount)` in queue order, for the caller to append to the coinbase.
    ///
    /// # Errors
    /// Storage failures.
    pub fn take_releases(
        &mut self,
        state: &mut StateOverlay,
        height: u64,
    ) -> Result<Vec<(StakingKey, u64)>, StoreError> {
        let key = release_key(height);
        let due: Vec<(StakingKey, u64)> = decode_or_default(state.get(&key)?, "releases")?;
        if due.is_empty() {
            return Ok(due);
        }
        state.put(key, None);
        let ledger = self.ledger(state)?;
        for (k, amount) in &due {
            if let Some(queue) = ledger.unbonding.get_mut(k) {
                if let Some(pos) = queue.iter().position(|(h, a)| *h == height && a == amount) {
                    queue.remove(pos);
                }
                if queue.is_empty() {
                    ledger.unbonding.remove(k);
                }
            }
        }
        self.changed = true;
        Ok(due)
    }

    /// Slashes `key` for double signing: burns [`SLASH_PERCENT`] of its bond (rounded down)
    /// and jails it. Returns the amount burnt.
    ///
    /// # Errors
    /// [`TxError::Evidence`] if the key is already jailed; storage failures.
    pub fn slash(&mut self, state: &StateOverlay, key: &StakingKey) -> Result<u64, TxError> {
        let ledger = self.ledger(state).map_err(TxError::Storage)?;
        if !ledger.jailed.insert(*key) {
            return Err(TxError::Evidence(format!(
                "{} was already slashed",
                hex::encode(key)
            )));
        }
        let burnt = match ledger.bonds.get_mut(key) {
            Some(bond) => {
                let burnt = *bond / 100 * SLASH_PERCENT + *bond % 100 * SLASH_PERCENT / 100;
                *bond -= burnt;
                if *bond == 0 {
                    ledger.bonds.remove(key);
                }
                burnt
            }
            None => 0,
        };
        self.changed = true;
        Ok(burnt)
    }

    /// Writes what changed into `state`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn finish(self, state: &mut StateOverlay) -> Result<(), StoreError> {
        if !self.changed {
            return Ok(());
        }
        if let Some(ledger) = &self.ledger {
            ledger.store(state);
        }
        for (height, entries) in self.releases {
            let key = release_key(height);
            let mut due: Vec<(StakingKey, u64)> = decode_or_default(state.get(&key)?, "releases")?;
            due.extend(entries);
            state.put(key, Some(due.encode()));
        }
        Ok(())
    }
}

impl Default for BlockStaking {
    fn default() -> Self {
        BlockStaking::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use i8o8i_primitives::{OutPoint, TxIn, TxOut, Txid};

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

    fn apply(
        ledger: &mut Ledger,
        payload: Payload,
        spender: &StakingKey,
        paid: u64,
    ) -> Result<Amount, TxError> {
        let mut releases = BTreeMap::new();
        apply_staking(
            ledger,
            &mut releases,
            &tx(payload),
            &[coin_of(spender, paid)],
            Amount::from_units(paid),
            50,
            &spec(),
        )
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
        let mut ledger = Ledger::default();
        // Anyone may bond to any key; the fee is what is left after the value.
        let fee = apply(
            &mut ledger,
            Payload::Bond {
                staking_key: a,
                value: Amount::from_units(10 * COIN),
            },
            &b,
            10 * COIN + 500,
        );
        assert_eq!(fee, Ok(Amount::from_units(500)));
        assert_eq!(ledger.bonded(&a), 10 * COIN);
        let short = apply(
            &mut ledger,
            Payload::Bond {
                staking_key: a,
                value: Amount::from_units(10 * COIN),
            },
            &b,
            COIN,
        );
        assert_eq!(
            short,
            Err(TxError::StakeFee {
                needed: Amount::from_units(10 * COIN),
                paid: Amount::from_units(COIN),
            })
        );
        assert_eq!(
            ledger.bonded(&a),
            10 * COIN,
            "a refused bond changes nothing"
        );
    }

    #[test]
    fn unbonds_need_the_key_s_own_coin_and_queue_a_release() {
        let (a, b) = (key(1), key(2));
        let mut ledger = Ledger::default();
        ledger.bonds.insert(a, 10 * COIN);
        let unbond = |value| Payload::Unbond {
            staking_key: a,
            value: Amount::from_units(value),
        };
        let m = staking_error(apply(&mut ledger, unbond(COIN), &b, 100));
        assert!(
            m.contains("must spend a coin of the key's own address"),
            "{m}"
        );
        let m = staking_error(apply(&mut ledger, unbond(11 * COIN), &a, 100));
        assert!(m.contains("exceeds the bonded"), "{m}");
        let mut releases = BTreeMap::new();
        let fee = apply_staking(
            &mut ledger,
            &mut releases,
            &tx(unbond(4 * COIN)),
            &[coin_of(&a, 100)],
            Amount::from_units(100),
            50,
            &spec(),
        );
        assert_eq!(fee, Ok(Amount::from_units(100)));
        assert_eq!(ledger.bonded(&a), 6 * COIN);
        // Released at 50 + the unbonding period of the DPoS entry (10).
        assert_eq!(ledger.unbonding[&a], vec![(60, 4 * COIN)]);
        assert_eq!(releases[&60], vec![(a, 4 * COIN)]);
    }

    #[test]
    fn registrations_and_votes_follow_their_rules() {
        let (a, b, c) = (key(1), key(2), key(3));
        let mut ledger = Ledger::default();
        let register = |name: &str, key| Payload::RegisterDelegate {
            name: name.into(),
            key,
        };
        // The registration fee (1000) is burnt, not paid as fee.
        assert_eq!(
            apply(&mut ledger, register("alpha", a), &a, 1_300),
            Ok(Amount::from_units(300))
        );
        let m = staking_error(apply(&mut ledger, register("beta", b), &a, 2_000));
        assert!(m.contains("must spend a coin"), "{m}");
        let m = staking_error(apply(&mut ledger, register("alpha", b), &b, 2_000));
        assert!(m.contains("is taken"), "{m}");
        let m = staking_error(apply(&mut ledger, register("again", a), &a, 2_000));
        assert!(m.contains("already a delegate"), "{m}");
        assert_eq!(
            apply(&mut ledger, register("beta", b), &b, 999),
            Err(TxError::StakeFee {
                needed: Amount::from_units(1000),
                paid: Amount::from_units(999),
            })
        );
        apply(&mut ledger, register("beta", b), &b, 1_000).unwrap();

        let vote = |delegates: Vec<StakingKey>| Payload::Vote {
            voter_key: c,
            delegates,
        };
        let m = staking_error(apply(&mut ledger, vote(vec![a, key(4)]), &c, 100));
        assert!(m.contains("not a registered delegate"), "{m}");
        let m = staking_error(apply(&mut ledger, vote(vec![a, b, a]), &c, 100));
        assert!(m.contains("voted for twice"), "{m}");
        ledger.delegates.insert(
            key(5),
            Delegate {
                name: "gamma".into(),
                registered_at: 1,
            },
        );
        let m = staking_error(apply(&mut ledger, vote(vec![a, b, key(5)]), &c, 100));
        assert!(m.contains("at most 2"), "{m}");
        ledger.bonds.insert(c, 7 * COIN);
        apply(&mut ledger, vote(vec![a, b]), &c, 100).unwrap();
        let tallies = ledger.tallies();
        assert_eq!(tallies[&a], u128::from(7 * COIN));
        assert_eq!(tallies[&b], u128::from(7 * COIN));
        assert_eq!(tallies[&key(5)], 0);
        // A new vote replaces the old one; an empty one withdraws.
        apply(&mut ledger, vote(vec![b]), &c, 100).unwrap();
        assert_eq!(ledger.tallies()[&a], 0);
        apply(&mut ledger, vote(vec![]), &c, 100).unwrap();
        assert!(!ledger.votes.contains_key(&c));
    }

    #[test]
    fn chains_without_a_stake_engine_refuse_staking() {
        let dev = ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).unwrap();
        let a = key(1);
        let r = apply_staking(
            &mut Ledger::default(),
            &mut BTreeMap::new(),
            &tx(Payload::Bond {
                staking_key: a,
                value: Amount::from_units(COIN),
            }),
            &[coin_of(&a, 2 * COIN)],
            Amount::from_units(2 * COIN),
            5,
            &dev,
        );
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
        let base = std::sync::Arc::new(i8o8i_contract_engine::state::MemoryState::default());
        let mut state = StateOverlay::new(base);
        let mut ledger = Ledger::default();
        ledger.bonds.insert(key(1), 1_005);
        ledger.store(&mut state);
        let mut staking = BlockStaking::new();
        assert_eq!(staking.slash(&state, &key(1)), Ok(100));
        assert!(matches!(
            staking.slash(&state, &key(1)),
            Err(TxError::Evidence(_))
        ));
        // A key without a bond (a genesis validator) is jailed, nothing burnt.
        assert_eq!(staking.slash(&state, &key(2)), Ok(0));
        staking.finish(&mut state).unwrap();
        let ledger = Ledger::load(&state).unwrap();
        assert_eq!(ledger.bonds[&key(1)], 905);
        assert_eq!(ledger.jailed, BTreeSet::from([key(1), key(2)]));
    }
}
