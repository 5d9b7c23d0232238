//! Transactions: Bitcoin-style inputs and outputs plus an optional [`Payload`] for the actions
//! that are not UTXO transfers (contracts, staking).
//!
//! # Encodings
//! - **SCALE** is the consensus encoding: the txid, the signature hash and the P2P wire all use
//!   it. Fields are encoded in declaration order; vectors carry a compact length prefix; enum
//!   variants carry the explicit `#[codec(index)]` shown on each variant, so reordering the source
//!   never changes the encoding.
//! - **JSON** (serde) is the RPC form: hashes, scripts and byte strings as lowercase hex, amounts
//!   as integers of base units, payloads tagged by `"type"`. Unknown fields are rejected.
//!
//! ```
//! use i8o8i_primitives::{Amount, OutPoint, Transaction, TxIn, TxOut};
//! use i8o8i_script_vm::ScriptBuf;
//!
//! let tx = Transaction {
//!     version: 2,
//!     inputs: vec![TxIn { prevout: OutPoint::NULL, script_sig: ScriptBuf::from_bytes(vec![0x51]), sequence: u32::MAX }],
//!     outputs: vec![TxOut { value: Amount::from_units(5), script_pubkey: ScriptBuf::new() }],
//!     lock_time: 0,
//!     payload: None,
//! };
//! assert!(tx.is_coinbase());
//! let bytes = parity_scale_codec::Encode::encode(&tx);
//! assert_eq!(Transaction::decode_strict(&bytes)?, tx);
//! # Ok::<(), i8o8i_primitives::DecodeError>(())
//! ```

use core::fmt;

use i8o8i_script_vm::ScriptBuf;
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::decode::{DecodeError, decode_strict};
use crate::hash::{ContractAddress, Hash256, Txid, sha256d};

/// Largest SCALE-encoded transaction [`Transaction::decode_strict`] will look at, in bytes.
/// A decoding limit against resource exhaustion, not a consensus size rule.
pub const MAX_TX_SIZE: usize = 1_000_000;

/// A reference to one output of an earlier transaction.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OutPoint {
    /// The transaction that created the output.
    pub txid: Txid,
    /// The output's position in that transaction's outputs.
    pub index: u32,
}

impl OutPoint {
    /// The prevout of a coinbase input: zero txid, index `u32::MAX` (as in Bitcoin).
    pub const NULL: OutPoint = OutPoint {
        txid: Txid::ZERO,
        index: u32::MAX,
    };

    /// Whether this is [`OutPoint::NULL`].
    pub fn is_null(&self) -> bool {
        *self == OutPoint::NULL
    }
}

impl fmt::Display for OutPoint {
    /// `txid:index`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.txid, self.index)
    }
}

/// A transaction input: spends `prevout` by satisfying its locking script with `script_sig`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxIn {
    /// The output being spent.
    pub prevout: OutPoint,
    /// The unlocking script, run before the spent output's `script_pubkey`.
    #[serde(with = "crate::serde_hex::script")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub script_sig: ScriptBuf,
    /// nSequence: relative lock time (BIP68 semantics) or `u32::MAX` for final.
    pub sequence: u32,
}

/// A transaction output: an amount locked by a script.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxOut {
    /// The amount locked.
    pub value: Amount,
    /// The locking script.
    #[serde(with = "crate::serde_hex::script")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub script_pubkey: ScriptBuf,
}

/// An unspent output with where it was created.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Coin {
    /// The output.
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u64,
    /// Whether a coinbase created it (maturity applies).
    pub coinbase: bool,
}

/// Summary of a UTXO set: equal on every node with the same tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UtxoSetInfo {
    /// Number of unspent outputs.
    pub count: u64,
    /// Sum of their values.
    pub total_amount: Amount,
    /// SHA-256 over every (key, SCALE(coin)) in key order.
    pub hash: Hash256,
}

/// The non-UTXO action a transaction carries, if any.
///
/// The inputs pay for any `value` moved into account state plus the fee, exactly as they pay for
/// outputs: fee = inputs − outputs − value moved into state. Public keys are 33-byte compressed
/// secp256k1 keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Payload {
    /// Upload a Wasm contract and instantiate it. The contract's address is derived from the
    /// deployer, the code hash and `salt`; `init_input` is passed to its constructor, which may
    /// spend at most `gas_limit` gas.
    #[codec(index = 0)]
    Deploy {
        /// The Wasm module.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        code: Vec<u8>,
        /// Input for the constructor.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        init_input: Vec<u8>,
        /// Chosen by the deployer so the same code can be deployed at several addresses.
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        salt: [u8; 32],
        /// Most gas the instantiation may use.
        gas_limit: u64,
        /// The account (script) that may replace the contract's code ([`Payload::Migrate`])
        /// and hand this right on ([`Payload::SetAdmin`]); without one the code never changes.
        #[serde(default, with = "crate::serde_hex::option_bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
        admin: Option<Vec<u8>>,
    },
    /// Call a deployed contract with `input`, transferring `value` into its balance.
    #[codec(index = 1)]
    Call {
        /// The contract called.
        contract: ContractAddress,
        /// The call's input data.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        input: Vec<u8>,
        /// Amount moved from the inputs into the contract's balance.
        value: Amount,
        /// Most gas the call may use.
        gas_limit: u64,
    },
    /// Lock `value` as stake for the validator (PoS) or voter (DPoS) identified by `staking_key`.
    #[codec(index = 2)]
    Bond {
        /// The staking public key the stake is credited to.
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        staking_key: [u8; 33],
        /// Amount moved from the inputs into bonded stake.
        value: Amount,
    },
    /// Start unbonding `value` of the stake of `staking_key`; it is paid out after the chain's
    /// unbonding delay. Authorised by a signature of the staking key (checked by validation).
    #[codec(index = 3)]
    Unbond {
        /// The staking public key whose stake is released.
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        staking_key: [u8; 33],
        /// Amount to release.
        value: Amount,
    },
    /// Register `key` as a DPoS delegate (block producer candidate) under a display `name`.
    #[codec(index = 4)]
    RegisterDelegate {
        /// Human-readable delegate name (UTF-8; length and uniqueness rules are validation's).
        name: String,
        /// The delegate's block-signing public key.
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        key: [u8; 33],
    },
    /// Replace the DPoS votes of `voter_key`'s bonded stake with votes for `delegates`.
    #[codec(index = 5)]
    Vote {
        /// The voter's staking public key (its bonded stake is the vote weight).
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        voter_key: [u8; 33],
        /// The delegates voted for, by key.
        #[serde(with = "crate::serde_hex::array_vec")]
        #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::Hex>"))]
        delegates: Vec<[u8; 33]>,
    },
    /// Instantiate code already on chain (stored by an earlier `Deploy`) by its hash: the
    /// transaction carries no code and pays no per-byte deploy charge. The address is derived
    /// as for a deploy.
    #[codec(index = 6)]
    Instantiate {
        /// SHA-256 of the stored code.
        code_hash: Hash256,
        /// Input for the constructor.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        init_input: Vec<u8>,
        /// Chosen by the deployer so the same code can be instantiated at several addresses.
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        salt: [u8; 32],
        /// Most gas the instantiation may use.
        gas_limit: u64,
        /// The contract's admin, as for [`Payload::Deploy`].
        #[serde(default, with = "crate::serde_hex::option_bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
        admin: Option<Vec<u8>>,
    },
    /// Proof that a producer sealed two different blocks for one slot (double signing). Only
    /// a coinbase may carry it; the block that does slashes the producer's bond and removes it
    /// from the producer set (see `docs/consensus.md`).
    #[codec(index = 7)]
    Evidence {
        /// One header.
        first: Box<crate::Header>,
        /// Another header of the same slot and key.
        second: Box<crate::Header>,
    },
    /// Replace a contract's code by code already on chain, and run the new code's `migrate`
    /// entry point with `input` in the same transaction (CosmWasm's `Migrate`). Only the
    /// contract's admin may: the transaction's caller must be it. Storage and balance stay; if
    /// `migrate` fails, nothing changes.
    #[codec(index = 8)]
    Migrate {
        /// The contract.
        contract: ContractAddress,
        /// SHA-256 of the new code, stored by an earlier deploy.
        code_hash: Hash256,
        /// Input for `migrate`.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        input: Vec<u8>,
        /// Most gas the migration may use.
        gas_limit: u64,
    },
    /// Hand a contract's admin right to another account, or drop it (`None`: the code can
    /// then never change again). Only the current admin may.
    #[codec(index = 9)]
    SetAdmin {
        /// The contract.
        contract: ContractAddress,
        /// The new admin's script.
        #[serde(default, with = "crate::serde_hex::option_bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
        admin: Option<Vec<u8>>,
    },
}

/// A transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transaction {
    /// Version; 2 or later enables relative lock times (BIP68/112), as in Bitcoin.
    pub version: u32,
    /// The inputs; a coinbase has exactly one, spending [`OutPoint::NULL`].
    pub inputs: Vec<TxIn>,
    /// The outputs.
    pub outputs: Vec<TxOut>,
    /// nLockTime: block height (below 500,000,000) or UNIX time before which the transaction
    /// cannot be included, unless every input is final.
    pub lock_time: u32,
    /// The non-UTXO action, if any.
    pub payload: Option<Payload>,
}

impl Transaction {
    /// The txid: [`sha256d`] of the SCALE encoding of the whole transaction.
    pub fn txid(&self) -> Txid {
        Txid::from_byte_array(self.using_encoded(sha256d))
    }

    /// Whether this is a coinbase: exactly one input, spending [`OutPoint::NULL`].
    pub fn is_coinbase(&self) -> bool {
        matches!(self.inputs.as_slice(), [only] if only.prevout.is_null())
    }

    /// Decodes a transaction from untrusted bytes: the whole input must be exactly one canonical
    /// SCALE encoding.
    ///
    /// # Errors
    /// [`DecodeError::TooLarge`] past [`MAX_TX_SIZE`] (checked before decoding),
    /// [`DecodeError::TrailingBytes`] if bytes remain, [`DecodeError::Invalid`] for anything the
    /// codec rejects (truncation, a length prefix longer than the input, an unknown payload tag,
    /// invalid UTF-8, nesting past [`crate::MAX_DECODE_DEPTH`]).
    pub fn decode_strict(bytes: &[u8]) -> Result<Transaction, DecodeError> {
        decode_strict(bytes, MAX_TX_SIZE, "transaction")
    }
}

#[cfg(test)]
mod tests;
