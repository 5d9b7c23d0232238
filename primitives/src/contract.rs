//! Contract data as the chain records and serves it: accounts, events, how an execution
//! ended, receipts, and the two derivations everyone needs (a code hash, a contract address).
//! The engine that produces them is `i8o8i-contract-engine`; these are here so clients read
//! them without wasmtime.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::amount::Amount;
use crate::hash::{ContractAddress, Hash256};

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
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub deployer: Vec<u8>,
    /// Height of the block that deployed it.
    pub height: u64,
    /// The account that may replace its code and hand the right on; `None`: the code never
    /// changes.
    #[serde(with = "crate::serde_hex::option_bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
    pub admin: Option<Vec<u8>>,
}

/// One code a contract ran, from the height of the block that installed it: its deployment or
/// a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeChange {
    /// SHA-256 of the code.
    pub code_hash: Hash256,
    /// Height of the block that installed it.
    pub height: u64,
}

/// An event a contract emitted.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The emitting contract.
    pub contract: ContractAddress,
    /// Indexed topics (at most the engine's `MAX_TOPICS`).
    #[serde(with = "crate::serde_hex::array_vec")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::Hex>"))]
    pub topics: Vec<[u8; 32]>,
    /// Data.
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
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
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
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

/// First bytes of a contract's account script: `OP_RETURN`, then a push of 32 bytes.
const CONTRACT_SCRIPT_PREFIX: [u8; 2] = [0x6a, 0x20];

/// The account (script) a contract acts as: what `caller()` returns to a contract it calls,
/// and the account other contracts (a token's balances) credit it under. `OP_RETURN <address>`,
/// so no key can spend it and no output pays it: a contract's `transfer` to such a script
/// credits the contract's balance instead of creating an output.
pub fn contract_script(address: &ContractAddress) -> Vec<u8> {
    let mut script = Vec::with_capacity(34);
    script.extend_from_slice(&CONTRACT_SCRIPT_PREFIX);
    script.extend_from_slice(address.as_bytes());
    script
}

/// The contract whose account script `script` is ([`contract_script`]), if it is one.
pub fn contract_of_script(script: &[u8]) -> Option<ContractAddress> {
    let address: [u8; 32] = script
        .strip_prefix(&CONTRACT_SCRIPT_PREFIX)?
        .try_into()
        .ok()?;
    Some(ContractAddress::from_byte_array(address))
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
