//! The `i8o8icoin` command line: runs a full node (`i8o8icoin node`) and is a JSON-RPC client
//! of one (`wallet`, `chain`, `mine`, `tx`, `contract`, `staking`, `dpos`, `consensus`,
//! `auth`). One file per command under `commands/`; `main.rs` only starts the runtime.
//!
//! - [`Cli`]: the parsed command line and its dispatch.
//! - [`abi`]: contract ABIs; SCALE encoding of CLI arguments and decoding of results.
//! - [`contract_build`]: building contract crates to wasm32 (`i8o8icoin contract build`).
//!
//! The end-to-end tests of the product (real nodes, the real binary) live in this crate's
//! `tests/it`.

pub mod abi;
mod commands;
pub mod contract_bench;
pub mod contract_build;

pub use commands::Cli;
