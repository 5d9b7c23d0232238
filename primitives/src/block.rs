//! Blocks: a [`Header`] with a consensus [`Seal`], and the transactions (coinbase first).
//!
//! Encodings follow [`crate::transaction`]: SCALE for hashing and the wire, JSON (hex, integers,
//! `"type"`-tagged seals) for RPC.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeError, decode_strict};
use crate::hash::{BlockHash, Hash256, Txid, sha256d};
use crate::merkle::merkle_root;
use crate::transaction::Transaction;

/// Largest SCALE-encoded block [`Block::decode_strict`] will look at: 8 MiB. A decoding limit
/// against resource exhaustion; the consensus block size limit lives in the chain spec.
pub const MAX_BLOCK_DECODE_SIZE: usize = 8 * 1024 * 1024;

/// Largest SCALE-encoded header [`Header::decode_strict`] will look at, in bytes. A header is
/// 116 bytes plus its seal: 13 bytes for proof of work, about 115 with a DER producer signature.
pub const MAX_HEADER_DECODE_SIZE: usize = 1_024;

/// How a block proves it may extend the chain, per the consensus engine active at its height.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Seal {
    /// Proof of work: the header hash, read as a big-endian number, is at most the target.
    #[codec(index = 0)]
    Pow {
        /// The target in Bitcoin's compact `nBits` encoding (see [`crate::pow`]).
        bits: u32,
        /// Varied by the miner.
        nonce: u64,
    },
    /// Proof of stake / delegated proof of stake: signed by the producer entitled to `slot`.
    #[codec(index = 1)]
    Producer {
        /// The time slot the block was produced in.
        slot: u64,
        /// The producer's compressed secp256k1 public key.
        #[serde(with = "crate::serde_hex::array")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        pubkey: [u8; 33],
        /// The producer's signature over [`Header::signing_hash`] (format fixed by the engine).
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        signature: Vec<u8>,
    },
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    /// Header version.
    pub version: u32,
    /// Hash of the previous block's header ([`BlockHash::ZERO`] for genesis).
    pub parent: BlockHash,
    /// Height of this block (genesis is 0).
    pub height: u64,
    /// Block time, UNIX seconds.
    pub time: u64,
    /// [`merkle_root`] of the transactions' txids.
    pub tx_root: Hash256,
    /// Commitment to the state after this block (the UTXO set and the key/value state): the
    /// root of the state tree (`docs/state.md`), checked when the block connects.
    pub state_root: Hash256,
    /// The consensus seal.
    pub seal: Seal,
}

impl Header {
    /// The block hash: [`sha256d`] of the SCALE encoding of the header, seal included.
    pub fn hash(&self) -> BlockHash {
        BlockHash::from_byte_array(self.using_encoded(sha256d))
    }

    /// What a block producer signs: [`sha256d`] of the SCALE encoding of the header with the
    /// [`Seal::Producer`] signature emptied (its slot and public key stay committed). For a
    /// [`Seal::Pow`] header nothing is emptied, so this equals the bytes of [`Header::hash`].
    pub fn signing_hash(&self) -> Hash256 {
        let digest = match &self.seal {
            Seal::Producer { signature, .. } if !signature.is_empty() => {
                let mut unsigned = self.clone();
                if let Seal::Producer { signature, .. } = &mut unsigned.seal {
                    signature.clear();
                }
                unsigned.using_encoded(sha256d)
            }
            _ => self.using_encoded(sha256d),
        };
        Hash256::from_byte_array(digest)
    }

    /// Decodes a header from untrusted bytes (whole input, canonical SCALE).
    ///
    /// # Errors
    /// As [`Transaction::decode_strict`], with the limit [`MAX_HEADER_DECODE_SIZE`].
    pub fn decode_strict(bytes: &[u8]) -> Result<Header, DecodeError> {
        decode_strict(bytes, MAX_HEADER_DECODE_SIZE, "header")
    }
}

/// A block: header and transactions, coinbase first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions; the first is the coinbase.
    pub transactions: Vec<Transaction>,
}

impl Block {
    /// The block hash (of the header).
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// The txids, in block order.
    pub fn txids(&self) -> Vec<Txid> {
        self.transactions.iter().map(Transaction::txid).collect()
    }

    /// The merkle root of the transactions, to compare with [`Header::tx_root`].
    pub fn compute_tx_root(&self) -> Hash256 {
        merkle_root(&self.txids())
    }

    /// Decodes a block from untrusted bytes (whole input, canonical SCALE).
    ///
    /// # Errors
    /// As [`Transaction::decode_strict`], with the limit [`MAX_BLOCK_DECODE_SIZE`].
    pub fn decode_strict(bytes: &[u8]) -> Result<Block, DecodeError> {
        decode_strict(bytes, MAX_BLOCK_DECODE_SIZE, "block")
    }
}

#[cfg(test)]
mod tests;
