//! The chain service of the I8o8iCoin node: everything between the consensus rules
//! (`i8o8i-runtime`, no I/O) and the outside world (network, RPC), usable without either.
//!
//! - [`store`]: RocksDB storage; connecting or disconnecting a block is one atomic batch;
//!   pruning deletes old bodies and undo data (`storage.prune`).
//! - [`chain`]: block import, the in-memory block index, fork choice by work, reorganisation,
//!   the consensus schedule's engines, DPoS's last irreversible block, refusal of double
//!   signing.
//! - [`state_tree`]: the state commitment on RocksDB — the tree of
//!   `i8o8i_primitives::state_tree` over the UTXO set and the key/value state, kept for the tip,
//!   updated in each block's batch and undone by the block's reverse changes.
//! - [`view`]: [`ChainView`], what the mempool reads of the chain (implemented by [`Chain`]
//!   and, in tests, in memory).
//! - [`mempool`]: the transaction pool (validation against UTXO set + pool, fee-rate order,
//!   size cap, expiry, reorg handling).
//! - [`miner`]: block templates and the multi-threaded nonce search.
//! - [`clock`]: the [`Clock`] that time-dependent validation reads, injectable for tests.
//!
//! - [`memory`] (feature `test-utils`): an in-memory [`ChainView`] for tests and benchmarks,
//!   and proof-of-work block builders on any parent.
//!
//! Feature `test-utils` only adds [`memory`]. The node (`i8o8i-node`) wires these together with the network and RPC.

pub mod chain;
pub mod clock;
#[cfg(any(test, feature = "test-utils"))]
pub mod memory;
pub mod mempool;
pub mod miner;
pub mod state_tree;
pub mod store;
pub mod view;

pub use chain::{Chain, ImportError, ImportOutcome, Tip};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use mempool::{Mempool, MempoolError};
pub use store::Store;
pub use view::ChainView;
