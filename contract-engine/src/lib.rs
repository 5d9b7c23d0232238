//! The I8o8iCoin contract engine: a deterministic wasmtime engine with gas, the host API,
//! deploy-time module checks, and the account state (code, balances, storage) beside the UTXO
//! set. What a contract *transaction* does (fees, the caller, applying a deploy or call in a
//! block) is consensus code in `i8o8i-runtime`'s `contract` module, which drives this engine.
//!
//! Feature `schema`: JSON Schemas of receipts, events and accounts for the RPC document.
//!
//! # Model
//! A contract is a Wasm module exporting `memory`, `call: () -> ()` and optionally
//! `deploy: () -> ()` (the constructor), importing only the host API of module `env` (see
//! [`host`]). A `Deploy` payload uploads code (stored once by its SHA-256, the code hash) and
//! instantiates it at an address derived from the deployer's script, the code hash and a salt
//! ([`contract_address`]); a `Call` payload runs `call` with an input and optional value. Each
//! execution gets a fresh instance: nothing but storage survives a call.
//!
//! Accounts are output scripts. The caller is the script of the first coin the transaction
//! spends (at most [`limits::MAX_CALLER_LEN`] bytes); transfers pay scripts by appending outputs
//! to the transaction after its declared ones, so they are spent like any output.
//!
//! # Gas and value
//! `gas_limit × GAS_PRICE` must be covered by the fee (inputs − outputs − value). Gas used is
//! fuel plus the host charges of [`gas`]; instantiation costs a fixed amount. What the call does
//! not use is refunded in an output to the caller; a failed call (revert, trap, out of gas)
//! reverts every state change and also refunds the value it carried, but still pays for the gas
//! it used. Receipts record the outcome.
//!
//! # Determinism
//! One engine configuration (fuel on, NaN canonicalisation, only [`ALLOWED_FEATURES`]),
//! wasmtime pinned to one exact version, floats refused at deploy, no start functions, memory
//! and tables capped through `StoreLimits`. One gap remains: a guest that recurses until the
//! native stack is exhausted traps with `StackOverflow` at a depth that depends on the
//! platform's frame sizes; such a call is charged its whole gas limit so the charge at least
//! does not depend on where it stopped, but whether a deep-but-bounded recursion succeeds can
//! differ between platforms. Stack-height instrumentation would close it.

pub mod engine;
pub mod gas;
pub mod host;
pub mod limits;
pub mod state;
pub mod validate;

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use i8o8i_primitives::{Amount, ContractAddress, Hash256};

#[cfg(test)]
mod tests;

pub use engine::{ContractEngine, ExecRequest, ExecResult, Execution};
pub use state::{ContractStateReader, StateKey, StateOverlay};
pub use validate::{ALLOWED_FEATURES, ModuleError, abi_of, validate_module};

/// A contract's account record.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContractAccount {
    /// SHA-256 of its code.
    pub code_hash: Hash256,
    /// Coins it holds.
    pub balance: Amount,
    /// Script of the deployer.
    #[serde(with = "i8o8i_primitives::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "i8o8i_primitives::schema::Hex"))]
    pub deployer: Vec<u8>,
    /// Height of the block that deployed it.
    pub height: u64,
}

/// An event a contract emitted.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The emitting contract.
    pub contract: ContractAddress,
    /// Indexed topics (at most [`limits::MAX_TOPICS`]).
    #[serde(with = "i8o8i_primitives::serde_hex::array_vec")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Vec<i8o8i_primitives::schema::Hex>")
    )]
    pub topics: Vec<[u8; 32]>,
    /// Data.
    #[serde(with = "i8o8i_primitives::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "i8o8i_primitives::schema::Hex"))]
    pub data: Vec<u8>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", content = "reason", rename_all = "camelCase")]
pub enum ExecStatus {
    /// Completed; its state changes are kept.
    Success,
    /// The contract reverted with this reason.
    Reverted(String),
    /// Gas ran out.
    OutOfGas,
    /// A Wasm trap or a host-function fault (bad pointer, oversized argument, …).
    Trapped(String),
    /// The call named an address with no contract, or a deploy's address is taken.
    NoContract(String),
}

impl ExecStatus {
    /// Whether the execution succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, ExecStatus::Success)
    }
}

/// The outcome of a contract transaction, stored by txid.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The contract deployed or called.
    pub contract: ContractAddress,
    /// How it ended.
    #[serde(flatten)]
    pub status: ExecStatus,
    /// Gas charged.
    pub gas_used: u64,
    /// Return data (empty unless successful).
    #[serde(with = "i8o8i_primitives::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "i8o8i_primitives::schema::Hex"))]
    pub return_data: Vec<u8>,
    /// Events (empty unless successful).
    pub events: Vec<Event>,
    /// Indices of the outputs execution appended to the transaction (transfers, then the
    /// refund).
    pub outputs: Vec<u32>,
    /// Fee kept by the block producer: gas used × price plus the non-gas part of the fee.
    pub fee: Amount,
}

/// SHA-256 of contract code: its code hash.
pub fn code_hash(code: &[u8]) -> Hash256 {
    Hash256::from_byte_array(Sha256::digest(code).into())
}

/// The address a deploy creates: SHA-256 of a domain tag, the deployer's script, the code hash
/// and the salt.
pub fn contract_address(deployer: &[u8], code_hash: &Hash256, salt: &[u8; 32]) -> ContractAddress {
    let mut h = Sha256::new();
    h.update(b"i8o8i/contract-address");
    h.update((deployer.len() as u32).to_le_bytes());
    h.update(deployer);
    h.update(code_hash.as_bytes());
    h.update(salt);
    ContractAddress::from_byte_array(h.finalize().into())
}
