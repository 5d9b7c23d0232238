//! The I8o8iCoin contract engine: a deterministic wasmtime engine with gas, the host API,
//! deploy-time module checks, and the account state (code, balances, storage) beside the UTXO
//! set. What a contract *transaction* does (fees, the caller, applying a deploy or call in a
//! block) is consensus code in `i8o8i-runtime`'s `contract` module, which drives this engine.
//!
//! The data it produces (accounts, events, receipts) is defined in `i8o8i-primitives`'s
//! `contract` module, so clients read it without wasmtime.
//!
//! Features: `wasmi` adds [`wasmi_engine`], the same executions in the wasmi interpreter for
//! `contract bench --engine wasmi` (the chain never runs it); `fuzzing` exposes the fuzz
//! targets' entry point.
//!
//! # Model
//! A contract is a Wasm module exporting `memory`, `call: () -> ()` and optionally
//! `deploy: () -> ()` (the constructor) and `migrate: () -> ()` (run when an admin moves a
//! contract to this code: a `Migrate` payload, CosmWasm's `Migrate` being the model),
//! importing only the host API of module `env` (see [`host`]). A `Deploy` payload uploads code (stored once by its SHA-256, the code hash) and
//! instantiates it at an address derived from the deployer's script, the code hash and a salt
//! ([`contract_address`](i8o8i_primitives::contract::contract_address)); a `Call` payload runs `call` with an input and optional value. Each
//! execution gets a fresh instance: nothing but storage survives a call.
//!
//! Accounts are output scripts. The caller is the script of the first coin the transaction
//! spends (at most [`limits::MAX_CALLER_LEN`] bytes); transfers pay scripts by appending outputs
//! to the transaction after its declared ones, so they are spent like any output. A contract's
//! own account is the script `OP_RETURN <address>`
//! ([`contract_script`](i8o8i_primitives::contract::contract_script)): what a contract it calls
//! sees as `caller()`, and what a transfer credits to that contract's balance instead of
//! creating an output.
//!
//! # Contracts calling contracts
//! The host functions `call` and `query` ([`host`]) run another contract in a nested frame,
//! CosmWasm's `WasmMsg::Execute` / ink!'s `build_call` being the models:
//! - **gas**: the callee gets at most what the caller asks of its remaining gas (asking 0 gives
//!   all but a 64th, EIP-150's rule, so a caller can still handle a failure), and the caller is
//!   charged what the callee used, never more than it had;
//! - **failure**: a callee that reverts, traps or runs out of gas is rolled back — its storage
//!   writes, events, transfers, the value it received and any credits it made — and the
//!   caller gets a status code and the reason, and decides whether to fail too;
//! - **reentrancy** is refused: a contract appears at most once on the call stack (ink!'s
//!   default), so a contract never runs while one of its own frames is half done;
//! - **depth** is capped at [`limits::MAX_CALL_DEPTH`] frames; each frame may use
//!   [`limits::MAX_WASM_STACK`] of native stack and is given it on a fresh stack segment when
//!   the running thread's stack is short, so the cap, not the thread, decides how deep a call
//!   chain goes;
//! - **queries** (`query`) are read-only all the way down: a storage write, event, transfer or
//!   value in a query frame traps that frame.
//!
//! # Gas you can explain
//! Every host charge is counted by what it paid for ([`GasBreakdown`](i8o8i_primitives::contract::GasBreakdown):
//! storage reads and writes, events, transfers, hashing, signatures, nested calls, host-call
//! overhead, instantiation, a deployment's code), Wasm execution being the rest, so the parts
//! of a receipt always sum to its `gas_used`. [`ContractEngine::execute_traced`] also records
//! each frame's host calls with their gas, the storage values they read and replaced, events,
//! transfers and nested frames, as a flat list of
//! [`TraceFrame`](i8o8i_primitives::contract::TraceFrame)s (a nested call names its frame by
//! index: no recursive types, which OpenRPC client generators cannot dereference).
//!
//! # Gas and value
//! `gas_limit × GAS_PRICE` must be covered by the fee (inputs − outputs − value). Gas used is
//! fuel plus the host charges of [`gas`]; instantiation costs a fixed amount. What the call does
//! not use is refunded in an output to the caller; a failed call (revert, trap, out of gas)
//! reverts every state change and also refunds the value it carried, but still pays for the gas
//! it used. Receipts record the outcome.
//!
//! [`harness::Harness`] runs real modules in this engine with state in memory, for contract
//! authors' end-to-end tests and `i8o8icoin contract bench`.
//!
//! Feature `fuzzing` adds `fuzzing`, the fuzz target's entry point (wasm-smith modules through
//! the deploy checks and two executions).
//!
//! # Determinism
//! One engine configuration (fuel on, NaN canonicalisation, only [`ALLOWED_FEATURES`]),
//! wasmtime pinned to one exact version, floats refused at deploy, no start functions, memory
//! and tables capped through `StoreLimits`. How deep calls nest is counted by the module itself:
//! the [`instrument`] pass (pallet-contracts' stack-height metering, from `wasm-instrument`)
//! gives every function a cost in stack slots and traps a call that would take a frame past
//! [`limits::MAX_STACK_HEIGHT`] with "call stack exhausted", charged the gas it used, the same on
//! every platform. The native stack (`limits::MAX_WASM_STACK`, four times the counted budget)
//! never runs out first; if it ever did, the frame would be charged its whole gas limit so the
//! charge at least would not depend on where it stopped.

mod context;
pub mod engine;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod gas;
pub mod harness;
pub mod host;
pub mod instrument;
pub mod limits;
pub mod state;
pub mod validate;
#[cfg(feature = "wasmi")]
pub mod wasmi_engine;

#[cfg(test)]
mod tests;

pub use engine::{ContractEngine, ExecRequest, ExecResult, Execution};
pub use state::{ContractStateReader, StateKey, StateOverlay};
pub use validate::{ALLOWED_FEATURES, ModuleError, abi_of, build_record_of, validate_module};
