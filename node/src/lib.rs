//! The I8o8iCoin full node: the service that ties the chain (`i8o8i-chain`), the network
//! (`i8o8i-network`) and the RPC server (`i8o8i-rpc`) together, and the RPC handlers.
//!
//! - [`node`]: the service tying chain and mempool together under one lock discipline, and
//!   block production (`--produce`: mining under PoW, sealing the node's slots under PoS /
//!   DPoS).
//! - [`services`]: the adapters the network ([`i8o8i_network::ChainAccess`]) and the metrics
//!   endpoint see the node through.
//! - [`metrics`]: the node's Prometheus metrics.
//! - [`rpc`]: the JSON-RPC handlers, a module per namespace.
//! - [`launch`]: start-up (chain spec, data directory, dev conveniences, RPC server, miner or
//!   producer).
//!
//! The binary `i8o8icoin` (crate `i8o8i-cli`) starts a node through [`launch`] and is a
//! JSON-RPC client of one.

pub mod launch;
pub mod metrics;
pub mod node;
pub mod rpc;
pub mod services;
