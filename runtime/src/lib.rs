//! The I8o8iCoin consensus rules: everything that decides whether a block or transaction is
//! valid and what it does to the state, with no I/O. Data types live in `i8o8i-primitives`,
//! contract execution in `i8o8i-contract-engine`; storage is reached through the reader traits
//! of [`state`] and [`consensus`], which the `i8o8i-chain` crate implements on RocksDB and tests
//! implement in memory.
//!
//! - [`checker`]: the [`SignatureChecker`](i8o8i_script_vm::SignatureChecker) for transaction
//!   inputs, [`CONSENSUS_SCRIPT_FLAGS`] and [`verify_input`].
//! - [`validation`]: context-free transaction and block rules.
//! - [`error`]: the typed errors of every validation stage.
//! - [`state`]: connecting blocks to the UTXO set (parallel script checks), undo data, the
//!   storage traits the node implements, and the UTXO-set hash.
//! - [`script_cache`]: verify once — transactions whose scripts verified at mempool
//!   admission, so the block that contains them does not run them again.
//! - [`contract`]: the contract payloads' rules — fee terms, the caller, applying a deploy or
//!   call through the contract engine.
//! - [`spec`]: chain specifications (YAML) and the genesis block.
//! - [`consensus`]: the consensus engine trait, proof of work (ASERT retargeting), the slot
//!   engines' header checks and the height schedule that picks the engine.
//! - [`slots`], [`producers`]: PoS / DPoS slot arithmetic, leader draws, delegate rounds and
//!   the producer schedule kept as chain state.
//! - [`staking`]: the staking ledger (bonds, unbonding, delegates, votes), its payload rules,
//!   and double-signing evidence and slashing.
//! - [`randomness`]: the hash-chain reveals slot-engine blocks contribute to the seeds.
//!
//! This crate has no feature flags; it does not depend on tokio, RocksDB, libp2p or jsonrpsee.

pub mod checker;
pub mod consensus;
pub mod contract;
pub mod error;
pub mod producers;
pub mod randomness;
pub mod script_cache;
pub mod slots;
pub mod spec;
pub mod staking;
pub mod state;
pub mod validation;

pub use checker::{CONSENSUS_SCRIPT_FLAGS, TransactionChecker, verify_input};
