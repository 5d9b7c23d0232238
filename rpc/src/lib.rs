//! The JSON-RPC platform of the I8o8iCoin node.
//!
//! The node's handlers live in `i8o8i-node`; this crate holds what every handler shares:
//! - [`methods::METHODS`], the table of every method with its parameters, summary and access
//!   level: registration checks handlers against it, and the API documentation is generated
//!   from it;
//! - [`params::RpcParams`], positional (or named) parameter decoding whose errors name the bad
//!   parameter, as JSON-RPC's -32602 should;
//! - [`error::ErrorCode`], the documented application error codes;
//! - [`server`], the jsonrpsee server (HTTP and WebSocket on one port) with the configured limits.

pub mod error;
pub mod methods;
pub mod params;
pub mod server;

pub use error::{ErrorCode, RpcError, rpc_error};
pub use methods::{Access, METHODS, MethodSpec, ParamSpec};
pub use params::RpcParams;
pub use server::{Registry, RpcServer};
