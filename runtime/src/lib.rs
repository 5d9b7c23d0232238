//! The I8o8iCoin chain's data model and the consensus code that needs no storage.
//!
//! - [`hash`]: 32-byte hash newtypes ([`Txid`], [`BlockHash`], [`Hash256`], [`ContractAddress`])
//!   shown as hex in natural byte order, and [`sha256d`].
//! - [`amount`]: [`Amount`] in base units (10^8 per I8O) with checked arithmetic and exact,
//!   float-free coin strings.
//! - [`transaction`]: [`Transaction`] with Bitcoin-style inputs and outputs and an optional
//!   [`Payload`] (contract deploy / call, staking actions); txid = `sha256d` of the SCALE
//!   encoding; strict decoding of untrusted bytes.
//! - [`block`]: [`Header`] with a PoW or producer [`Seal`], [`Block`].
//! - [`pow`]: compact targets (`nBits`), the target check and chain work.
//! - [`merkle`]: the transaction merkle root (odd nodes carried up, not duplicated).
//! - [`sighash`]: the BIP143-style signature hash with chain-id replay protection.
//! - [`checker`]: the [`SignatureChecker`](i8o8i_script_vm::SignatureChecker) for transaction
//!   inputs, [`CONSENSUS_SCRIPT_FLAGS`] and [`verify_input`].
//! - [`signing`]: wallet helpers that sign P2PKH inputs.
//! - [`address`]: bech32m addresses (`i8o1…` / `ti8o1…`).
//! - [`spec`]: chain specifications (YAML) and the genesis block.
//! - [`consensus`]: the consensus engine trait, proof of work (ASERT retargeting), the slot
//!   engines' header checks and the height schedule that picks the engine.
//! - [`slots`], [`producers`]: PoS / DPoS slot arithmetic, leader draws, delegate rounds and
//!   the producer schedule kept as chain state.
//! - [`staking`]: the staking ledger (bonds, unbonding, delegates, votes) and its payload rules.
//! - [`contract`]: WebAssembly contracts — the deterministic wasmtime engine, gas, the host
//!   API, deploy-time module checks and contract state.
//! - [`validation`]: context-free transaction and block rules and the typed errors.
//! - [`state`]: connecting blocks to the UTXO set (parallel script checks), undo data, the
//!   storage traits the node implements, and the UTXO-set hash.
//!
//! SCALE (`parity-scale-codec`) is the consensus encoding (hashes and wire); serde gives the JSON
//! form used by RPC (hex for hashes, scripts and bytes; integers for amounts).
//!
//! This crate does no I/O and has no feature flags; it does not depend on tokio, RocksDB, libp2p
//! or jsonrpsee. wasmtime is pinned to one exact version: its fuel figures are consensus data.

pub mod address;
pub mod amount;
pub mod block;
pub mod checker;
pub mod consensus;
pub mod contract;
mod decode;
pub mod hash;
pub mod merkle;
pub mod pow;
pub mod producers;
#[cfg(feature = "schema")]
pub mod schema;
mod serde_hex;
pub mod sighash;
pub mod signing;
pub mod slots;
pub mod spec;
pub mod staking;
pub mod state;
pub mod transaction;
pub mod validation;

#[cfg(test)]
mod test_util;

pub use amount::{Amount, COIN, ParseAmountError};
pub use block::{Block, Header, MAX_BLOCK_DECODE_SIZE, MAX_HEADER_DECODE_SIZE, Seal};
pub use checker::{CONSENSUS_SCRIPT_FLAGS, TransactionChecker, verify_input};
pub use decode::{DecodeError, MAX_DECODE_DEPTH, decode_strict};
pub use hash::{BlockHash, ContractAddress, Hash256, ParseHashError, Txid, sha256d};
pub use merkle::merkle_root;
pub use pow::{
    U256, compact_to_target, hash_meets_target, target_to_compact, work_from_compact,
    work_from_target,
};
pub use sighash::{SIGHASH_TAG, SighashCache, SighashError};
pub use signing::{p2pkh_script_sig_for, sign_p2pkh_input};
pub use transaction::{MAX_TX_SIZE, OutPoint, Payload, Transaction, TxIn, TxOut};
