//! The I8o8iCoin full node.
//!
//! - [`store`]: RocksDB storage; connecting or disconnecting a block is one atomic batch.
//! - [`chain`]: block import, the in-memory block index, fork choice by work, reorganisation,
//!   the consensus schedule's engines, DPoS's last irreversible block, refusal of double
//!   signing.
//! - [`mempool`]: the transaction pool (validation against UTXO set + pool, fee-rate order,
//!   size cap, expiry, reorg handling).
//! - [`miner`]: block templates and the multi-threaded nonce search.
//! - [`node`]: the service tying them together under one lock discipline, and block
//!   production (`--produce`: mining under PoW, sealing the node's slots under PoS / DPoS).
//! - [`p2p`]: the libp2p network: discovery, gossip relay, headers-first sync, peer scoring.
//! - [`rpc`], [`wallet_rpc`], [`contract_rpc`], [`staking_rpc`]: JSON-RPC handlers.
//! - [`abi`]: contract ABIs; SCALE encoding of CLI arguments and decoding of results.
//! - [`contract_build`]: building contract crates to wasm32 (`i8o8icoin contract build`).
//! - [`launch`]: start-up (chain spec, data directory, dev conveniences, RPC server, miner or
//!   producer).
//!
//! The binary `i8o8icoin` (`src/main.rs`) runs a node and is a JSON-RPC client for it.

pub mod abi;
pub mod chain;
pub mod client;
pub mod contract_build;
pub mod contract_rpc;
pub mod launch;
pub mod mempool;
pub mod metrics;
pub mod miner;
pub mod node;
pub mod p2p;
pub mod rpc;
pub mod staking_rpc;
pub mod store;
pub mod wallet_rpc;
