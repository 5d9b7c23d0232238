//! The I8o8iCoin chain's data types: what a wallet, an RPC client or a light client needs to
//! read, build, hash and sign transactions and blocks, without the consensus engines or the
//! contract runtime (no wasmtime here).
//!
//! - [`hash`]: 32-byte hash newtypes ([`Txid`], [`BlockHash`], [`Hash256`], [`ContractAddress`])
//!   shown as hex in natural byte order, and [`sha256d`].
//! - [`amount`]: [`Amount`] in base units (10^8 per I8O) with checked arithmetic and exact,
//!   float-free coin strings.
//! - [`transaction`]: [`Transaction`] with Bitcoin-style inputs and outputs and an optional
//!   [`Payload`] (contract deploy / call, staking actions); txid = `sha256d` of the SCALE
//!   encoding; strict decoding of untrusted bytes ([`decode_strict`]).
//! - [`block`]: [`Header`] with a PoW or producer [`Seal`], [`Block`].
//! - [`contract`]: contract accounts, events, execution status and receipts as recorded.
//! - [`pow`]: compact targets (`nBits`), the target check and chain work.
//! - [`merkle`]: the transaction merkle root (odd nodes carried up, not duplicated).
//! - [`sighash`]: the BIP143-style signature hash with chain-id replay protection.
//! - [`signing`]: signing P2PKH inputs (wallets, tests).
//! - [`address`]: bech32m addresses (`i8o1…` / `ti8o1…`).
//! - [`storage`]: [`StoreError`], the typed error of every storage reader trait.
//! - [`state_proof`]: the state commitment's keys and the check of its membership and
//!   non-membership proofs.
//! - [`state_tree`]: the state tree itself — node layout and encoding, the batched (optionally
//!   parallel) update, proofs, the root of a set of entries (genesis) — over any
//!   [`state_tree::NodeSource`].
//! - [`serde_hex`], `schema`: the JSON forms (hex for hashes, scripts and bytes) and their JSON
//!   Schemas.
//!
//! SCALE (`parity-scale-codec`) is the consensus encoding (hashes and wire); serde gives the JSON
//! form used by RPC (hex for hashes, scripts and bytes; integers for amounts).
//!
//! Features: `schema` derives JSON Schemas (schemars) for the OpenRPC document; `test-utils`
//! exposes [`test_utils`], the keys / signed spends / blocks other crates' tests share.

pub mod address;
pub mod amount;
pub mod block;
pub mod contract;
mod decode;
pub mod hash;
pub mod merkle;
pub mod pow;
#[cfg(feature = "schema")]
pub mod schema;
pub mod serde_hex;
pub mod sighash;
pub mod signing;
pub mod signing_request;
pub mod state_proof;
pub mod state_tree;
pub mod storage;
pub mod transaction;

#[cfg(test)]
mod test_util;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use amount::{Amount, COIN, ParseAmountError};
pub use block::{Block, Header, MAX_BLOCK_DECODE_SIZE, MAX_HEADER_DECODE_SIZE, Seal};
pub use decode::{DecodeError, MAX_DECODE_DEPTH, decode_strict};
pub use hash::{BlockHash, ContractAddress, Hash256, ParseHashError, Txid, sha256d};
pub use merkle::merkle_root;
pub use pow::{
    U256, compact_to_target, hash_meets_target, target_to_compact, work_from_compact,
    work_from_target,
};
pub use sighash::{SIGHASH_TAG, SighashCache, SighashError};
pub use signing::{p2pkh_script_sig_for, sign_p2pkh_input};
pub use storage::StoreError;
pub use transaction::{
    Coin, MAX_TX_SIZE, OutPoint, Payload, Transaction, TxIn, TxOut, UtxoSetInfo,
};
