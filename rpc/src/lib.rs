//! The JSON-RPC platform of the I8o8iCoin node.
//!
//! The node's handlers live in `i8o8i-node` (`node/src/rpc/`); this crate holds what every
//! handler shares, and depends on `i8o8i-primitives` and `i8o8i-config` only:
//! - [`api`]: every method of the node, defined once, with its result [`types`];
//! - [`methods`]: [`rpc_api!`] defines each method once (name, parameters with their JSON
//!   Schemas, result type, errors, access) as a [`Method`]; that definition yields the table
//!   the server checks access against, the OpenRPC entry, the typed registration
//!   ([`Registry::method`]) and the typed client call (`client::call`);
//! - [`openrpc`], the OpenRPC document generated from the table and the registered handlers'
//!   result types, served as `rpc.discover`, `GET /openrpc.json` and the `GET /apidocs` page;
//! - [`params::RpcParams`], positional (or named) parameter decoding whose errors name the bad
//!   parameter, as JSON-RPC's -32602 should;
//! - [`error::ErrorCode`], the documented application error codes;
//! - [`auth`], JWT (HS256) authentication of private methods;
//! - [`metrics`], the Prometheus exposition at `GET /metrics` (OpenMetrics or classic text);
//! - [`webapp`], the web app (dashboard and explorer) at `GET /`, embedded from `clients/web`;
//! - `client` (feature `client`): an HTTP client that signs each request with a fresh JWT;
//! - `fuzzing` (feature `fuzzing`): the fuzz target's entry point (any JSON as every
//!   method's parameters);
//! - [`registry`]: handlers registered against their definitions, finished into an [`RpcApi`];
//! - [`server`], HTTP and WebSocket on one port: per-IP and per-connection rate limits, size,
//!   batch, connection and subscription limits, CORS, subscriptions that drop slow
//!   subscribers, and the seed prototype's REST routes as aliases ([`rest`]).

pub mod api;
pub mod apidocs;
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod methods;
pub mod metrics;
pub mod openrpc;
pub mod params;
pub mod registry;
mod reply;
pub mod rest;
pub mod server;
pub mod types;
pub mod webapp;

pub use auth::{AuthError, BearerLayer, JwtSecret};
pub use error::{ErrorCode, RpcError, rpc_error};
pub use methods::{Access, Method, MethodSpec, MethodTable, ParamSpec};
pub use metrics::MetricsSource;
pub use params::RpcParams;
pub use registry::{Feed, Registry, RpcApi};
pub use server::{RpcServer, ServerOptions};
