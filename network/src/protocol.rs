//! The sync protocol's messages: SCALE-encoded requests and responses over libp2p
//! request-response, each direction size-capped before decoding.
//!
//! Headers-first sync: a node asks a peer for its [`Status`], then for headers after a
//! [locator](crate::ChainAccess::locator) of its best chain, checks them, and downloads the
//! bodies in batches from every peer that has them.

use i8o8i_primitives::{Block, BlockHash, DecodeError, Header, Transaction, U256, decode_strict};
use parity_scale_codec::{Decode, Encode};

/// The request-response protocol name; the genesis hash is part of the gossip topics instead,
/// and a status exchange refuses peers of another chain.
pub const SYNC_PROTOCOL: &str = "/i8o8i/sync/1";

/// Most headers in one response (as Bitcoin's `headers` message).
pub const MAX_HEADERS: u32 = 2_000;
/// Most blocks asked for in one request.
pub const MAX_BLOCKS_PER_REQUEST: usize = 16;
/// Most hashes a locator may carry.
pub const MAX_LOCATOR: usize = 64;
/// Cap on an encoded request.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Most transactions in a [`Response::Txs`].
pub const MAX_MEMPOOL_TXS: usize = 5_000;
/// Cap on an encoded response: a batch of blocks (each at most 4 MB by consensus) is cut short
/// by the server at this size, so a response never needs more.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// What a node tells a peer about itself.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Status {
    /// Its genesis hash: peers of another chain are disconnected.
    pub genesis: BlockHash,
    /// Its best block.
    pub best_hash: BlockHash,
    /// Its best height.
    pub best_height: u64,
    /// The cumulative work of its best chain (big-endian).
    pub best_work: [u8; 32],
    /// The lowest best-chain height whose block it serves (0 for an archival node; a pruned
    /// node keeps only recent blocks and is not asked for older ones).
    pub lowest_block: u64,
}

impl Status {
    /// The best chain's work as a number.
    pub fn work(&self) -> U256 {
        U256::from_big_endian(&self.best_work)
    }
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Request {
    /// "Tell me your status."
    Status,
    /// Headers following the first locator hash found on the responder's best chain, at most
    /// `max` (capped at [`MAX_HEADERS`]).
    Headers {
        /// Hashes of the requester's best chain, newest first, spaced exponentially.
        locator: Vec<BlockHash>,
        /// How many at most.
        max: u32,
    },
    /// These blocks, in order (at most [`MAX_BLOCKS_PER_REQUEST`]).
    Blocks(Vec<BlockHash>),
    /// The sender's pool transactions, in mining order, parents first (at most
    /// [`MAX_MEMPOOL_TXS`]). Asked once per peer, when we have caught up with it, so a node that joins late also
    /// learns what is waiting for a block.
    MempoolTxs,
    /// Transactions of a block announced compactly, by index (at most
    /// [`MAX_BLOCK_TXS_REQUEST`]): the ones the requester's pool lacked.
    BlockTxs {
        /// The block.
        block: BlockHash,
        /// Indexes in the block, increasing.
        indexes: Vec<u32>,
    },
}

/// Most transaction indexes in one [`Request::BlockTxs`]; a receiver missing more asks for the
/// whole block.
pub const MAX_BLOCK_TXS_REQUEST: usize = 10_000;

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Response {
    /// The responder's status.
    Status(Status),
    /// Consecutive headers, oldest first; empty if the locator shares nothing or the
    /// requester is up to date.
    Headers(Vec<Header>),
    /// The blocks the responder has, in the order asked, stopping early at the size cap.
    Blocks(Vec<Block>),
    /// The request was malformed (too many hashes, a locator too long).
    Refused(String),
    /// Answer to [`Request::MempoolTxs`], stopping early at the size cap.
    Txs(Vec<Transaction>),
    /// Answer to [`Request::BlockTxs`]: the transactions at the indexes asked, in order.
    BlockTxs(Vec<Transaction>),
}

impl Request {
    /// Decodes a request from a peer.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but one canonical request within the cap.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Request, DecodeError> {
        decode_strict(bytes, MAX_REQUEST_BYTES, "sync request")
    }
}

impl Response {
    /// Decodes a response from a peer.
    ///
    /// # Errors
    /// [`DecodeError`] for anything but one canonical response within the cap.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Response, DecodeError> {
        decode_strict(bytes, MAX_RESPONSE_BYTES, "sync response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_junk_is_an_error() {
        let requests = [
            Request::Status,
            Request::Headers {
                locator: vec![BlockHash::from_byte_array([7; 32])],
                max: 10,
            },
            Request::Blocks(vec![BlockHash::from_byte_array([1; 32]); 3]),
            Request::MempoolTxs,
            Request::BlockTxs {
                block: BlockHash::from_byte_array([3; 32]),
                indexes: vec![1, 5, 9],
            },
        ];
        for r in requests {
            assert_eq!(Request::decode_bytes(&r.encode()), Ok(r));
        }
        assert!(Request::decode_bytes(&[]).is_err());
        assert!(Request::decode_bytes(&[9]).is_err(), "unknown tag");
        let mut trailing = Request::Status.encode();
        trailing.push(0);
        assert!(matches!(
            Request::decode_bytes(&trailing),
            Err(DecodeError::TrailingBytes { .. })
        ));
        // A length prefix claiming a billion hashes fails without allocating them.
        let mut huge = vec![2u8];
        huge.extend(parity_scale_codec::Compact(1_000_000_000u32).encode());
        assert!(Request::decode_bytes(&huge).is_err());
        assert!(matches!(
            Request::decode_bytes(&vec![0; MAX_REQUEST_BYTES + 1]),
            Err(DecodeError::TooLarge { .. })
        ));
    }
}
