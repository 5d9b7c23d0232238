//! Where the epoch and round seeds get their randomness: a RANDAO-style mix of hash-chain
//! reveals (Ethereum's RANDAO, with a hash onion instead of BLS signatures as the unique
//! per-producer value).
//!
//! Every slot-engine block carries a *contribution* as the second push of its coinbase script
//! (after the BIP34 height): 33 bytes, a tag and a 32-byte value. A producer commits to the
//! end `v_N` of a hash chain `v_{i+1} = sha256(v_i)` and then reveals it backwards, one value
//! per block: each reveal must hash to the value recorded for its key, so a producer has
//! exactly one possible reveal per block and cannot grind it by varying the block. Verified
//! reveals are mixed into the running period's mix, and the next period's seed is
//! `sha256d(seed ‖ mix)` (see [`crate::producers`]); commitments (a key's first block, or a
//! fresh chain) mix in nothing. What is left to a producer is withholding: skipping its block
//! (or committing instead of revealing) leaves its reveal out — one bit of influence per slot
//! it holds, the residual bias of every RANDAO.

use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::{Block, StoreError};
use i8o8i_script_vm::Instruction;
use i8o8i_script_vm::Script;
use parity_scale_codec::{Decode, Encode};
use sha2::{Digest, Sha256};

use crate::slots::StakingKey;

/// Reveals a fresh commitment allows; the producer commits a new chain after the last.
pub const REVEALS_PER_COMMIT: u32 = 4_096;

/// State key prefix of each producer's [`RevealRecord`].
pub const REVEAL_PREFIX: &[u8] = b"stake/reveal/";

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

const TAG_REVEAL: u8 = 0;
const TAG_COMMIT: u8 = 1;

/// What a slot-engine block contributes to the randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contribution {
    /// The next value of the producer's hash chain: checked against its record and mixed in.
    Reveal([u8; 32]),
    /// A new chain's end: recorded, mixed in nowhere.
    Commit([u8; 32]),
}

impl Contribution {
    /// The 33 bytes a coinbase pushes.
    pub fn to_bytes(self) -> [u8; 33] {
        let (tag, value) = match self {
            Contribution::Reveal(v) => (TAG_REVEAL, v),
            Contribution::Commit(v) => (TAG_COMMIT, v),
        };
        let mut out = [0u8; 33];
        out[0] = tag;
        out[1..].copy_from_slice(&value);
        out
    }

    /// The contribution of a slot-engine block: the coinbase script's second push.
    ///
    /// # Errors
    /// What is missing or malformed.
    pub fn of_block(block: &Block) -> Result<Contribution, String> {
        let coinbase = block
            .transactions
            .first()
            .ok_or_else(|| "no coinbase".to_owned())?;
        let data = coinbase
            .inputs
            .first()
            .map_or(Script::from_bytes(&[]), |i| i.script_sig.as_script())
            .instructions()
            .nth(1)
            .and_then(|i| match i {
                Ok(Instruction::Push { data, .. }) => Some(data),
                _ => None,
            })
            .ok_or_else(|| "the coinbase does not push a randomness contribution".to_owned())?;
        let bytes: [u8; 33] = data
            .try_into()
            .map_err(|_| format!("a contribution is 33 bytes, not {}", data.len()))?;
        let mut value = [0u8; 32];
        value.copy_from_slice(&bytes[1..]);
        match bytes[0] {
            TAG_REVEAL => Ok(Contribution::Reveal(value)),
            TAG_COMMIT => Ok(Contribution::Commit(value)),
            tag => Err(format!("unknown contribution tag {tag}")),
        }
    }
}

/// A producer's hash chain as the chain knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct RevealRecord {
    /// The last value committed or revealed: the next reveal must hash to it.
    pub value: [u8; 32],
    /// Height of the block that committed the chain (the producer derives its chain from it).
    pub commit_height: u64,
    /// Reveals left before a new commitment is needed.
    pub left: u32,
}

fn record_key(key: &StakingKey) -> Vec<u8> {
    [REVEAL_PREFIX, &key[..]].concat()
}

/// The record of `key`, if it ever committed.
///
/// # Errors
/// Storage failures or a record that does not decode.
pub fn record_of(
    state: &StateOverlay,
    key: &StakingKey,
) -> Result<Option<RevealRecord>, StoreError> {
    match state.get(&record_key(key))? {
        None => Ok(None),
        Some(bytes) => RevealRecord::decode(&mut &bytes[..])
            .map(Some)
            .map_err(|e| StoreError::corrupt("reveal record", e)),
    }
}

/// Checks `contribution` by `key` at `height` against its record and records it. Returns
/// whether it is a verified reveal (to be mixed in).
///
/// # Errors
/// `Ok(Err(reason))` for a reveal that does not hash to the record (or has none left);
/// storage failures as the outer error.
pub fn apply(
    state: &mut StateOverlay,
    key: &StakingKey,
    contribution: Contribution,
    height: u64,
) -> Result<Result<bool, String>, StoreError> {
    let record = match contribution {
        Contribution::Commit(value) => RevealRecord {
            value,
            commit_height: height,
            left: REVEALS_PER_COMMIT,
        },
        Contribution::Reveal(value) => {
            let Some(old) = record_of(state, key)? else {
                return Ok(Err("a reveal without a commitment".into()));
            };
            if old.left == 0 {
                return Ok(Err(
                    "the committed chain is used up: commit a new one".into()
                ));
            }
            if sha256(&value) != old.value {
                return Ok(Err("the reveal does not hash to the recorded value".into()));
            }
            RevealRecord {
                value,
                commit_height: old.commit_height,
                left: old.left - 1,
            }
        }
    };
    state.put(record_key(key), Some(record.encode()));
    Ok(Ok(matches!(contribution, Contribution::Reveal(_))))
}

/// Value `index` of the hash chain a producer with `secret` committed at `commit_height`.
pub fn chain_value(secret: &[u8; 32], commit_height: u64, index: u32) -> [u8; 32] {
    let mut seed = Vec::with_capacity(32 + 13 + 8);
    seed.extend_from_slice(secret);
    seed.extend_from_slice(b"i8o8i/randao");
    seed.extend_from_slice(&commit_height.to_le_bytes());
    let mut value = sha256(&seed);
    for _ in 0..index {
        value = sha256(&value);
    }
    value
}

/// What a producer with `secret` contributes to a block at `height`, given its record: the
/// next reveal of its chain, or a new commitment when it has none, has used it up, or the
/// record is not of a chain it derived (another implementation's, a lost key's).
pub fn next_contribution(
    secret: &[u8; 32],
    record: Option<&RevealRecord>,
    height: u64,
) -> Contribution {
    if let Some(r) = record
        && r.left > 0
        && r.left <= REVEALS_PER_COMMIT
        && chain_value(secret, r.commit_height, r.left) == r.value
    {
        return Contribution::Reveal(chain_value(secret, r.commit_height, r.left - 1));
    }
    Contribution::Commit(chain_value(secret, height, REVEALS_PER_COMMIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::coinbase_transaction;
    use i8o8i_contract_engine::state::MemoryState;
    use i8o8i_primitives::{BlockHash, Hash256, Header, Seal};

    fn block_with(extra: &[u8]) -> Block {
        Block {
            header: Header {
                version: 1,
                parent: BlockHash::ZERO,
                height: 5,
                time: 0,
                tx_root: Hash256::ZERO,
                state_root: Hash256::ZERO,
                seal: Seal::Pow { bits: 0, nonce: 0 },
            },
            transactions: vec![coinbase_transaction(5, extra, Vec::new())],
        }
    }

    #[test]
    fn a_contribution_is_the_coinbase_s_second_push() {
        for c in [Contribution::Reveal([7; 32]), Contribution::Commit([9; 32])] {
            assert_eq!(Contribution::of_block(&block_with(&c.to_bytes())), Ok(c));
        }
        assert!(Contribution::of_block(&block_with(b"short")).is_err());
        let mut unknown = Contribution::Reveal([1; 32]).to_bytes();
        unknown[0] = 7;
        assert!(Contribution::of_block(&block_with(&unknown)).is_err());
    }

    #[test]
    fn reveals_walk_the_committed_chain_backwards_and_nothing_else_passes() {
        let secret = [42u8; 32];
        let key = [2u8; 33];
        let mut state = StateOverlay::new(std::sync::Arc::new(MemoryState::default()));
        // No record: the producer commits; a reveal is refused.
        assert_eq!(
            apply(&mut state, &key, Contribution::Reveal([0; 32]), 1).unwrap(),
            Err("a reveal without a commitment".into())
        );
        let commit = next_contribution(&secret, None, 1);
        assert!(matches!(commit, Contribution::Commit(_)));
        assert_eq!(apply(&mut state, &key, commit, 1).unwrap(), Ok(false));
        // Then each block has exactly one valid reveal: the previous chain value.
        for height in 2..6 {
            let record = record_of(&state, &key).unwrap();
            let reveal = next_contribution(&secret, record.as_ref(), height);
            let Contribution::Reveal(value) = reveal else {
                panic!("a reveal was due at {height}")
            };
            let mut other = value;
            other[0] ^= 1;
            assert!(
                apply(&mut state, &key, Contribution::Reveal(other), height)
                    .unwrap()
                    .is_err()
            );
            assert_eq!(apply(&mut state, &key, reveal, height).unwrap(), Ok(true));
        }
        let record = record_of(&state, &key).unwrap().unwrap();
        assert_eq!(record.left, REVEALS_PER_COMMIT - 4);
        assert_eq!(record.commit_height, 1);
        // A used-up chain takes no more reveals; a new commitment is always allowed.
        let mut used = record;
        used.left = 0;
        state.put(record_key(&key), Some(used.encode()));
        assert!(matches!(
            next_contribution(&secret, Some(&used), 9),
            Contribution::Commit(_)
        ));
        assert!(
            apply(&mut state, &key, Contribution::Reveal([0; 32]), 9)
                .unwrap()
                .is_err()
        );
    }
}
