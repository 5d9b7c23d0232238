//! The I8o8iCoin contract engine: a deterministic wasmtime engine with gas, the host API,
//! deploy-time module checks, and the account state (code, balances, storage) beside the UTXO
//! set. What a contract *transaction* does (fees, the caller, applying a deploy or call in a
//! block) is consensus code in `i8o8i-runtime`'s `contract` module, which drives this engine.
//!
//! The data it produces (accounts, events, receipts) is defined in `i8o8i-primitives`'s
//! `contract` module, so clients read it without wasmtime. No feature flags.
//!
//! # Model
//! A contract is a Wasm module exporting `memory`, `call: () -> ()` and optionally
//! `deploy: () -> ()` (the constructor), importing only the host API of module `env` (see
//! [`host`]). A `Deploy` payload uploads code (stored once by its SHA-256, the code hash) and
//! instantiates it at an address derived from the deployer's script, the code hash and a salt
//! ([`contract_address`](i8o8i_primitives::contract::contract_address)); a `Call` payload runs `call` with an input and optional value. Each
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
//! Feature `fuzzing` adds `fuzzing`, the fuzz target's entry point (wasm-smith modules through
//! the deploy checks and two executions).
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
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod gas;
pub mod host;
pub mod limits;
pub mod state;
pub mod validate;

#[cfg(test)]
mod tests;

pub use engine::{ContractEngine, ExecRequest, ExecResult, Execution};
pub use state::{ContractStateReader, StateKey, StateOverlay};
pub use validate::{ALLOWED_FEATURES, ModuleError, abi_of, validate_module};
