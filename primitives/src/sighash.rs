//! The signature hash: what an input's ECDSA signature commits to.
//!
//! A [BIP143]-style digest over SCALE encodings. The parts shared by every input (all prevouts,
//! all sequences, all outputs, the payload) are hashed once in a [`SighashCache`], so signing or
//! verifying every input of a transaction is linear in its size, not quadratic as Bitcoin's
//! legacy signature hash is.
//!
//! The digest is `sha256d(SCALE(preimage))` where the preimage is, in order:
//!
//! | field | value |
//! |---|---|
//! | tag | the 16 bytes [`SIGHASH_TAG`] (`I8O8I-SIGHASH-V1`) |
//! | chain id | the chain's genesis block hash: a signature on one chain is invalid on another |
//! | version | `tx.version` (`u32`) |
//! | hash_prevouts | `sha256d(SCALE(Vec<OutPoint>))` of all inputs; zero with ANYONECANPAY |
//! | hash_sequences | `sha256d(SCALE(Vec<u32>))` of all sequences; zero with ANYONECANPAY, NONE or SINGLE |
//! | outpoint | this input's prevout |
//! | script code | the script being executed, as a SCALE byte vector (compact length, bytes) |
//! | spent value | the spent output's [`Amount`] (`u64`) |
//! | sequence | this input's sequence (`u32`) |
//! | hash_outputs | ALL: `sha256d(SCALE(Vec<TxOut>))`; SINGLE: `sha256d(SCALE(TxOut))` of the output at this input's index; NONE: zero |
//! | lock time | `tx.lock_time` (`u32`) |
//! | hash_payload | `sha256d(SCALE(Option<Payload>))`, always |
//! | hash type | the hash-type byte, widened to `u32` |
//!
//! Differences from Bitcoin: SINGLE without an output at the input's index is an error
//! ([`SighashError::SingleWithoutOutput`]), not Bitcoin's signature over the constant 1 (which
//! lets anyone reuse the signature); hash types whose base type is not ALL, NONE or SINGLE are
//! an error rather than treated as ALL; the chain id and the payload are committed.
//!
//! [BIP143]: https://github.com/bitcoin/bips/blob/master/bip-0143.mediawiki

use i8o8i_script_vm::{SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE, Script};
use parity_scale_codec::{Compact, Encode};
use thiserror::Error;

use crate::amount::Amount;
use crate::hash::{Hash256, sha256d};
use crate::transaction::{OutPoint, Transaction};

/// Domain-separation tag at the start of every signature-hash preimage (version 1).
pub const SIGHASH_TAG: [u8; 16] = *b"I8O8I-SIGHASH-V1";

/// Why a signature hash cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SighashError {
    /// The input index is past the transaction's inputs.
    #[error("input index {index} out of range: the transaction has {inputs} inputs")]
    InputIndexOutOfRange {
        /// The requested input.
        index: usize,
        /// Number of inputs.
        inputs: usize,
    },
    /// The hash type's base (without ANYONECANPAY) is not ALL (1), NONE (2) or SINGLE (3).
    #[error("undefined signature hash type {0:#04x}")]
    UndefinedHashType(u8),
    /// SIGHASH_SINGLE on an input with no output at the same index.
    #[error("SIGHASH_SINGLE on input {index} but the transaction has only {outputs} outputs")]
    SingleWithoutOutput {
        /// The input signed.
        index: usize,
        /// Number of outputs.
        outputs: usize,
    },
}

/// The fixed-order preimage of the signature hash (see the module docs).
#[derive(Encode)]
struct Preimage<'a> {
    tag: [u8; 16],
    chain_id: &'a Hash256,
    version: u32,
    hash_prevouts: [u8; 32],
    hash_sequences: [u8; 32],
    prevout: &'a OutPoint,
    script_code: &'a [u8],
    spent_value: Amount,
    sequence: u32,
    hash_outputs: [u8; 32],
    lock_time: u32,
    hash_payload: [u8; 32],
    hash_type: u32,
}

/// `sha256d` of the SCALE encoding of a sequence of `len` items (compact length, then items), as
/// `Vec<T>` would encode, without collecting the items first.
fn hash_scale_seq<T: Encode>(len: usize, items: impl Iterator<Item = T>) -> [u8; 32] {
    let mut buf = Vec::new();
    // Slices are shorter than 2^32 elements in any transaction that decoded under MAX_TX_SIZE;
    // saturate rather than truncate if someone builds a larger one in memory.
    Compact(u32::try_from(len).unwrap_or(u32::MAX)).encode_to(&mut buf);
    for item in items {
        item.encode_to(&mut buf);
    }
    sha256d(&buf)
}

/// The per-transaction parts of the signature hash, computed once and shared by all inputs.
#[derive(Debug, Clone)]
pub struct SighashCache<'a> {
    tx: &'a Transaction,
    hash_prevouts: [u8; 32],
    hash_sequences: [u8; 32],
    hash_outputs: [u8; 32],
    hash_payload: [u8; 32],
}

impl<'a> SighashCache<'a> {
    /// Hashes `tx`'s prevouts, sequences, outputs and payload.
    pub fn new(tx: &'a Transaction) -> Self {
        SighashCache {
            tx,
            hash_prevouts: hash_scale_seq(tx.inputs.len(), tx.inputs.iter().map(|i| &i.prevout)),
            hash_sequences: hash_scale_seq(tx.inputs.len(), tx.inputs.iter().map(|i| i.sequence)),
            hash_outputs: tx.outputs.using_encoded(sha256d),
            hash_payload: tx.payload.using_encoded(sha256d),
        }
    }

    /// The transaction this cache was built for.
    pub fn transaction(&self) -> &'a Transaction {
        self.tx
    }

    /// The signature hash of input `input_index` spending an output worth `spent_value`, with
    /// `script_code` as the executed script, on the chain whose genesis hash is `chain_id`.
    ///
    /// # Errors
    /// [`SighashError::InputIndexOutOfRange`], [`SighashError::UndefinedHashType`] if
    /// `hash_type & !SIGHASH_ANYONECANPAY` is not 1..=3, [`SighashError::SingleWithoutOutput`].
    pub fn signature_hash(
        &self,
        chain_id: &Hash256,
        input_index: usize,
        script_code: &Script,
        spent_value: Amount,
        hash_type: u8,
    ) -> Result<[u8; 32], SighashError> {
        let tx = self.tx;
        let input = tx
            .inputs
            .get(input_index)
            .ok_or(SighashError::InputIndexOutOfRange {
                index: input_index,
                inputs: tx.inputs.len(),
            })?;
        let anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY != 0;
        let base = hash_type & !SIGHASH_ANYONECANPAY;
        let hash_outputs = match base {
            SIGHASH_ALL => self.hash_outputs,
            SIGHASH_NONE => [0; 32],
            SIGHASH_SINGLE => tx
                .outputs
                .get(input_index)
                .ok_or(SighashError::SingleWithoutOutput {
                    index: input_index,
                    outputs: tx.outputs.len(),
                })?
                .using_encoded(sha256d),
            _ => return Err(SighashError::UndefinedHashType(hash_type)),
        };
        let hash_prevouts = if anyone_can_pay {
            [0; 32]
        } else {
            self.hash_prevouts
        };
        let hash_sequences = if anyone_can_pay || base != SIGHASH_ALL {
            [0; 32]
        } else {
            self.hash_sequences
        };
        let preimage = Preimage {
            tag: SIGHASH_TAG,
            chain_id,
            version: tx.version,
            hash_prevouts,
            hash_sequences,
            prevout: &input.prevout,
            script_code: script_code.as_bytes(),
            spent_value,
            sequence: input.sequence,
            hash_outputs,
            lock_time: tx.lock_time,
            hash_payload: self.hash_payload,
            hash_type: u32::from(hash_type),
        };
        Ok(preimage.using_encoded(sha256d))
    }
}
