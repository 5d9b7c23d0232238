//! The error every storage reader trait returns (the UTXO set, headers, contract state), so
//! consensus code can tell a missing record from a failing disk without knowing the backend.
//!
//! A record that is simply absent is `Ok(None)` in those traits, not an error: `StoreError`
//! means the store could not answer, or answered with something that contradicts itself.

use crate::hash::BlockHash;

/// Why a store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A block (or its undo data) the index says is stored is not there.
    #[error("block {0} is missing from the store")]
    MissingBlock(BlockHash),
    /// A block this node pruned (it keeps bodies from `lowest` up only).
    #[error("block at height {height} is pruned: this node keeps blocks from height {lowest}")]
    Pruned {
        /// The height asked for.
        height: u64,
        /// The lowest height with a body.
        lowest: u64,
    },
    /// No block at this height on the chain being read.
    #[error("no block at height {0} on the chain being read")]
    MissingHeight(u64),
    /// A hash the caller expected in the block index is not in it.
    #[error("block {0} is not in the block index")]
    NotIndexed(BlockHash),
    /// A record exists but does not decode.
    #[error("corrupt {what} record: {reason}")]
    Corrupt {
        /// Which kind of record (e.g. "coin", "header", "contract account").
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// Stored records contradict each other or the chain spec (e.g. a data directory of
    /// another chain, a tip missing from the index).
    #[error("inconsistent store: {0}")]
    Inconsistent(String),
    /// The database itself failed (I/O, RocksDB status, a poisoned lock around it).
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    /// A [`StoreError::Backend`] from any displayable database error.
    pub fn backend(e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend(e.to_string())
    }

    /// A [`StoreError::Corrupt`] record of kind `what`.
    pub fn corrupt(what: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            what,
            reason: reason.to_string(),
        }
    }
}
