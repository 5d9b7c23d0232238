//! Integration tests of the node: real RocksDB in a temporary directory, the RPC server on an
//! ephemeral port, and a real jsonrpsee HTTP client. One binary to save link time.

mod adversary;
mod bad_config;
mod bad_input;
mod common;
mod consensus;
mod contracts;
mod crash;
mod layout;
mod mempool_policy;
mod network;
mod node_flow;
mod pruning;
mod rpc_platform;
mod sdk;
mod signing;
mod standard_clients;
mod state;
mod webapp;
