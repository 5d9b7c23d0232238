//! How the staking ledger lies in the key/value state: one record per key and purpose, plus
//! two ordered indexes, so that a block touching one bond reads and writes that bond and the
//! few records that depend on it — never the whole ledger, and its undo data is only what
//! changed.
//!
//! | key | value |
//! |---|---|
//! | `stake/bond/<key>` | bonded stake, `u64` (absent: none) |
//! | `stake/unbonding/<key>` | `(release height, amount)` queue, oldest first |
//! | `stake/delegate/<key>` | [`Delegate`] |
//! | `stake/name/<name>` | the delegate key holding a name |
//! | `stake/vote/<key>` | the delegates a key votes for |
//! | `stake/jailed/<key>` | empty: the key was slashed |
//! | `stake/tally/<key>` | a delegate's votes, `u128`: the bonds of the keys voting for it |
//! | `stake/owner/<hash160>` | the staking key of an address, for lookups by address |
//! | `stake/power/<!stake><key>` | empty: unjailed bonds, most stake first |
//! | `stake/rank/<!votes><key>` | empty: unjailed delegates with votes, most votes first |
//! | `stake/release/<height><key>` | empty: `key` has unbonded stake released at `height` |
//!
//! The two indexes hold the weight inverted (`u128::MAX − w`, big-endian) before the key, so
//! key order is "heaviest first, then by key": a proof-of-stake snapshot and a delegate round
//! read their first entries instead of sorting every bond. This is the layout of the Cosmos
//! SDK's `x/staking` (`ValidatorsByPowerIndexKey`); its cost per changed bond is a delete and
//! an insert in the power index, and one tally update per delegate the key votes for.

use std::collections::BTreeMap;

use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::StoreError;
use i8o8i_script_vm::templates::hash160;
use parity_scale_codec::{Decode, Encode};

use crate::slots::StakingKey;

/// Every staking record's key starts with this.
pub const PREFIX: &[u8] = b"stake/";
const BOND: &[u8] = b"stake/bond/";
const UNBONDING: &[u8] = b"stake/unbonding/";
const DELEGATE: &[u8] = b"stake/delegate/";
const NAME: &[u8] = b"stake/name/";
const VOTE: &[u8] = b"stake/vote/";
const JAILED: &[u8] = b"stake/jailed/";
const TALLY: &[u8] = b"stake/tally/";
const OWNER: &[u8] = b"stake/owner/";
const POWER: &[u8] = b"stake/power/";
const RANK: &[u8] = b"stake/rank/";
const RELEASE: &[u8] = b"stake/release/";

/// The single ledger record of earlier versions; a store holding it must be resynced.
pub const OLD_LEDGER_KEY: &[u8] = b"stake/ledger";

/// A registered delegate.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Delegate {
    /// Display name (unique).
    pub name: String,
    /// Height of the registering block.
    pub registered_at: u64,
}

/// Writes not yet in a [`StateOverlay`]: `None` deletes.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn keyed(prefix: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + suffix.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(suffix);
    key
}

/// Prefix of the release entries due at `height`.
fn releases_at(height: u64) -> Vec<u8> {
    keyed(RELEASE, &height.to_be_bytes())
}

fn indexed(prefix: &[u8], weight: u128, key: &StakingKey) -> Vec<u8> {
    let mut k = keyed(prefix, &(u128::MAX - weight).to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// `(key, weight)` of an index entry.
fn index_entry(prefix: &[u8], raw: &[u8]) -> Result<(StakingKey, u128), StoreError> {
    let rest = &raw[prefix.len()..];
    let bad = || StoreError::corrupt("staking index", hex::encode(raw));
    let inverted: [u8; 16] = rest
        .get(..16)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let key: StakingKey = rest
        .get(16..)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    Ok((key, u128::MAX - u128::from_be_bytes(inverted)))
}

fn decode_some<T: Decode>(
    bytes: Option<Vec<u8>>,
    what: &'static str,
) -> Result<Option<T>, StoreError> {
    bytes
        .map(|b| T::decode(&mut &b[..]).map_err(|e| StoreError::corrupt(what, e)))
        .transpose()
}

/// Decodes a record, or its type's default when absent.
pub(crate) fn decode<T: Decode + Default>(
    bytes: Option<Vec<u8>>,
    what: &'static str,
) -> Result<T, StoreError> {
    Ok(decode_some(bytes, what)?.unwrap_or_default())
}

/// Point reads of the staking records, over committed state or over writes in progress.
pub trait StakeRecords {
    /// The raw record at `key`.
    ///
    /// # Errors
    /// Storage failures.
    fn record(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Bonded stake of `key`.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn bonded(&self, key: &StakingKey) -> Result<u64, StoreError> {
        decode(self.record(&keyed(BOND, key))?, "bond")
    }

    /// Stake of `key` on its way back: `(release height, amount)`, oldest first.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn unbonding(&self, key: &StakingKey) -> Result<Vec<(u64, u64)>, StoreError> {
        decode(self.record(&keyed(UNBONDING, key))?, "unbonding queue")
    }

    /// The delegate registered with `key`.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn delegate(&self, key: &StakingKey) -> Result<Option<Delegate>, StoreError> {
        decode_some(self.record(&keyed(DELEGATE, key))?, "delegate")
    }

    /// The key of the delegate named `name`.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn delegate_named(&self, name: &str) -> Result<Option<StakingKey>, StoreError> {
        decode_some(self.record(&keyed(NAME, name.as_bytes()))?, "delegate name")
    }

    /// The delegates `key` votes for.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn votes(&self, key: &StakingKey) -> Result<Vec<StakingKey>, StoreError> {
        decode(self.record(&keyed(VOTE, key))?, "votes")
    }

    /// Whether `key` was slashed (jailed for good).
    ///
    /// # Errors
    /// Storage failures.
    fn is_jailed(&self, key: &StakingKey) -> Result<bool, StoreError> {
        Ok(self.record(&keyed(JAILED, key))?.is_some())
    }

    /// Votes of delegate `key`: the bonded stake of the keys voting for it.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn tally(&self, key: &StakingKey) -> Result<u128, StoreError> {
        decode(self.record(&keyed(TALLY, key))?, "vote tally")
    }

    /// The staking key paid at the P2PKH address of `hash`, if it ever bonded, registered or
    /// voted.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn key_of_address(&self, hash: &[u8; 20]) -> Result<Option<StakingKey>, StoreError> {
        decode_some(
            self.record(&keyed(OWNER, hash))?,
            "staking key of an address",
        )
    }
}

impl StakeRecords for StateOverlay {
    fn record(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(key)
    }
}

/// Ordered reads of committed staking state: what a producer schedule's period boundary and
/// the RPC listings need.
pub trait StakeIndex: StakeRecords {
    /// Up to `n` unjailed bonded keys, most stake first (ties: key order).
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn top_bonded(&self, n: usize) -> Result<Vec<(StakingKey, u64)>, StoreError>;

    /// Up to `n` unjailed delegates with votes, most votes first (ties: key order).
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn top_voted(&self, n: usize) -> Result<Vec<(StakingKey, u128)>, StoreError>;

    /// The keys with stake released at `height`, in key order.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn released_at(&self, height: u64) -> Result<Vec<StakingKey>, StoreError>;

    /// Up to `limit` registered delegates in key order, from the first key above `after`.
    ///
    /// # Errors
    /// Storage failures, a record that does not decode.
    fn delegates(
        &self,
        after: Option<&StakingKey>,
        limit: usize,
    ) -> Result<Vec<(StakingKey, Delegate)>, StoreError>;
}

impl StakeIndex for StateOverlay {
    fn top_bonded(&self, n: usize) -> Result<Vec<(StakingKey, u64)>, StoreError> {
        self.scan_prefix(POWER, POWER, n)?
            .iter()
            .map(|(k, _)| {
                let (key, weight) = index_entry(POWER, k)?;
                let stake = u64::try_from(weight)
                    .map_err(|_| StoreError::corrupt("staking index", "stake above u64"))?;
                Ok((key, stake))
            })
            .collect()
    }

    fn top_voted(&self, n: usize) -> Result<Vec<(StakingKey, u128)>, StoreError> {
        self.scan_prefix(RANK, RANK, n)?
            .iter()
            .map(|(k, _)| index_entry(RANK, k))
            .collect()
    }

    fn released_at(&self, height: u64) -> Result<Vec<StakingKey>, StoreError> {
        let prefix = releases_at(height);
        // Bounded by the unbonds of the block `unbonding_period` back.
        self.scan_prefix(&prefix, &prefix, usize::MAX)?
            .iter()
            .map(|(k, _)| {
                k[prefix.len()..]
                    .try_into()
                    .map_err(|_| StoreError::corrupt("release", hex::encode(k)))
            })
            .collect()
    }

    fn delegates(
        &self,
        after: Option<&StakingKey>,
        limit: usize,
    ) -> Result<Vec<(StakingKey, Delegate)>, StoreError> {
        let from = match after {
            // The first key above `after`: `after` followed by a zero byte.
            Some(k) => [&keyed(DELEGATE, k)[..], &[0]].concat(),
            None => DELEGATE.to_vec(),
        };
        self.scan_prefix(DELEGATE, &from, limit)?
            .into_iter()
            .map(|(k, v)| {
                let key: StakingKey = k[DELEGATE.len()..]
                    .try_into()
                    .map_err(|_| StoreError::corrupt("delegate", hex::encode(&k)))?;
                let d = Delegate::decode(&mut &v[..])
                    .map_err(|e| StoreError::corrupt("delegate", e))?;
                Ok((key, d))
            })
            .collect()
    }
}

/// Staking writes in progress over a [`StateOverlay`], read through: a staking action
/// computes every record it changes here and the caller merges them only if the action as a
/// whole is valid, so a refused action changes nothing.
pub struct StakeWrites<'a> {
    base: &'a StateOverlay,
    writes: Writes,
}

impl StakeRecords for StakeWrites<'_> {
    fn record(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }
}

fn inconsistent(what: &str, key: &StakingKey) -> StoreError {
    StoreError::Inconsistent(format!("{what} ({})", hex::encode(key)))
}

impl<'a> StakeWrites<'a> {
    /// No writes yet over `base`.
    pub fn new(base: &'a StateOverlay) -> StakeWrites<'a> {
        StakeWrites {
            base,
            writes: Writes::new(),
        }
    }

    /// The records changed.
    pub fn into_writes(self) -> Writes {
        self.writes
    }

    fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.writes.insert(key, value);
    }

    /// Writes `value` at `key`, or deletes the record when `value` is its type's default.
    fn put_or_delete<T: Encode + Default + PartialEq>(&mut self, key: Vec<u8>, value: &T) {
        let value = (*value != T::default()).then(|| value.encode());
        self.put(key, value);
    }

    /// Remembers which address `key` is paid at.
    fn note_owner(&mut self, key: &StakingKey) {
        self.put(keyed(OWNER, &hash160(key)), Some(key.to_vec()));
    }

    /// Sets the bond of `key` to `stake`, keeping the power index and the tallies of the
    /// delegates it votes for in line.
    ///
    /// # Errors
    /// Storage failures; tallies below a voter's bond (a store that contradicts itself).
    pub fn set_bond(&mut self, key: &StakingKey, stake: u64) -> Result<(), StoreError> {
        let old = self.bonded(key)?;
        if old == stake {
            return Ok(());
        }
        self.put_or_delete(keyed(BOND, key), &stake);
        if !self.is_jailed(key)? {
            if old > 0 {
                self.put(indexed(POWER, old.into(), key), None);
            }
            if stake > 0 {
                self.put(indexed(POWER, stake.into(), key), Some(Vec::new()));
            }
        }
        for delegate in self.votes(key)? {
            let tally = self
                .tally(&delegate)?
                .checked_sub(old.into())
                .ok_or_else(|| inconsistent("a tally below a voter's bond", &delegate))?;
            self.set_tally(&delegate, tally + u128::from(stake))?;
        }
        self.note_owner(key);
        Ok(())
    }

    fn set_tally(&mut self, delegate: &StakingKey, votes: u128) -> Result<(), StoreError> {
        let old = self.tally(delegate)?;
        self.put_or_delete(keyed(TALLY, delegate), &votes);
        if !self.is_jailed(delegate)? {
            if old > 0 {
                self.put(indexed(RANK, old, delegate), None);
            }
            if votes > 0 {
                self.put(indexed(RANK, votes, delegate), Some(Vec::new()));
            }
        }
        Ok(())
    }

    /// Replaces the votes of `voter`, moving its bond's weight from the old delegates'
    /// tallies to the new ones'.
    ///
    /// # Errors
    /// Storage failures; a tally below the voter's bond.
    pub fn set_votes(
        &mut self,
        voter: &StakingKey,
        delegates: &[StakingKey],
    ) -> Result<(), StoreError> {
        let weight = u128::from(self.bonded(voter)?);
        for d in self.votes(voter)? {
            let tally = self
                .tally(&d)?
                .checked_sub(weight)
                .ok_or_else(|| inconsistent("a tally below a voter's bond", &d))?;
            self.set_tally(&d, tally)?;
        }
        for d in delegates {
            let tally = self.tally(d)? + weight;
            self.set_tally(d, tally)?;
        }
        self.put_or_delete(keyed(VOTE, voter), &delegates.to_vec());
        self.note_owner(voter);
        Ok(())
    }

    /// Registers delegate `key` under `delegate.name` (the caller checked both are free).
    pub fn register(&mut self, key: &StakingKey, delegate: &Delegate) {
        self.put(keyed(NAME, delegate.name.as_bytes()), Some(key.to_vec()));
        self.put(keyed(DELEGATE, key), Some(delegate.encode()));
        self.note_owner(key);
    }

    /// Sets the unbonding queue of `key`.
    pub fn set_unbonding(&mut self, key: &StakingKey, queue: &Vec<(u64, u64)>) {
        self.put_or_delete(keyed(UNBONDING, key), queue);
    }

    /// Records that `key` has stake released at `height` (or no longer has, `due: false`).
    pub fn set_release(&mut self, height: u64, key: &StakingKey, due: bool) {
        let mut k = releases_at(height);
        k.extend_from_slice(key);
        self.put(k, due.then(Vec::new));
    }

    /// Jails `key`: out of both indexes from now on. `false` if it already was.
    ///
    /// # Errors
    /// Storage failures.
    pub fn jail(&mut self, key: &StakingKey) -> Result<bool, StoreError> {
        if self.is_jailed(key)? {
            return Ok(false);
        }
        let stake = self.bonded(key)?;
        if stake > 0 {
            self.put(indexed(POWER, stake.into(), key), None);
        }
        let votes = self.tally(key)?;
        if votes > 0 {
            self.put(indexed(RANK, votes, key), None);
        }
        self.put(keyed(JAILED, key), Some(Vec::new()));
        Ok(true)
    }
}

/// The staking state of a branch this node does not hold (a side branch's block checked
/// against the producer era recorded for its parent): every read fails, and
/// [`Unavailable::was_asked`] tells whether the check needed the state at all.
#[derive(Debug, Default)]
pub struct Unavailable {
    asked: std::cell::Cell<bool>,
}

impl Unavailable {
    /// Whether anything was read.
    pub fn was_asked(&self) -> bool {
        self.asked.get()
    }

    fn fail<T>(&self) -> Result<T, StoreError> {
        self.asked.set(true);
        Err(StoreError::Inconsistent(
            "no staking state for a side branch".into(),
        ))
    }
}

impl StakeRecords for Unavailable {
    fn record(&self, _: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.fail()
    }
}

impl StakeIndex for Unavailable {
    fn top_bonded(&self, _: usize) -> Result<Vec<(StakingKey, u64)>, StoreError> {
        self.fail()
    }

    fn top_voted(&self, _: usize) -> Result<Vec<(StakingKey, u128)>, StoreError> {
        self.fail()
    }

    fn released_at(&self, _: u64) -> Result<Vec<StakingKey>, StoreError> {
        self.fail()
    }

    fn delegates(
        &self,
        _: Option<&StakingKey>,
        _: usize,
    ) -> Result<Vec<(StakingKey, Delegate)>, StoreError> {
        self.fail()
    }
}
