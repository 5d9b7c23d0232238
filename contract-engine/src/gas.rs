//! The gas schedule: what a contract pays besides Wasm fuel.
//!
//! Gas is one number: wasmtime fuel (about one unit per Wasm instruction; `memory.copy`,
//! `memory.fill` and `memory.init` one per byte) plus the host charges below, which are taken
//! from the fuel before the host does the work. Every figure here is consensus data: changing
//! one changes which blocks are valid, so they only change with a chain-spec upgrade.

/// Base units of the chain's coin paid per unit of gas. `gas_limit × GAS_PRICE` is reserved
/// from the fee; what the call did not use is refunded.
pub const GAS_PRICE: u64 = 1;

/// Most gas one transaction may reserve.
pub const MAX_TX_GAS: u64 = 50_000_000;

/// Most gas the transactions of one block may reserve together.
pub const MAX_BLOCK_GAS: u64 = 200_000_000;

/// Charged for every execution before any Wasm runs: instantiation (memory set-up, data
/// segments) is charged this fixed amount instead of the fuel it takes, which differs between
/// platforms (wasmtime issue #14331).
pub const INSTANTIATE: u64 = 20_000;

/// Per byte of code stored by a deploy (storage, and the compilation every node does).
pub const DEPLOY_PER_CODE_BYTE: u64 = 50;

/// Per host call, on top of its own charge.
pub const HOST_CALL: u64 = 50;

/// Per byte copied between the contract and the host (input, return data, caller).
pub const COPY_PER_BYTE: u64 = 1;

/// Storage read: base, per byte of key and value.
pub const STORAGE_READ: u64 = 2_000;
/// Storage read per byte.
pub const STORAGE_READ_PER_BYTE: u64 = 3;

/// Storage write: base, per byte of key and value (state every node keeps).
pub const STORAGE_WRITE: u64 = 10_000;
/// Storage write per byte.
pub const STORAGE_WRITE_PER_BYTE: u64 = 50;

/// Storage removal.
pub const STORAGE_REMOVE: u64 = 2_000;

/// Event: base, per topic, per data byte.
pub const EVENT: u64 = 1_000;
/// Event per topic.
pub const EVENT_PER_TOPIC: u64 = 500;
/// Event per data byte.
pub const EVENT_PER_BYTE: u64 = 10;

/// A transfer (it creates an unspent output every node keeps).
pub const TRANSFER: u64 = 20_000;

/// SHA-256 / RIPEMD-160: base and per input byte.
pub const HASH: u64 = 500;
/// Hash per input byte.
pub const HASH_PER_BYTE: u64 = 4;

/// One secp256k1 ECDSA verification.
pub const SECP256K1_VERIFY: u64 = 30_000;

/// A `call` or `query` of another contract, besides the callee's own instantiation
/// ([`INSTANTIATE`]) and execution, which its caller pays from the gas it forwards.
pub const CALL: u64 = 5_000;
