//! Compact block relay (BIP152's encoding, carried by gossip): a new block travels as its
//! header, a 6-byte short id per transaction and the transactions the receiver cannot have
//! (the coinbase). A receiver rebuilds the block from its pool, asks the peer that relayed it
//! for only the transactions it lacks ([`crate::protocol::Request::BlockTxs`]), and falls back
//! to the whole block when the rebuilt one does not match its header's transaction root (a
//! short-id collision). Short ids are SipHash-2-4 of the txid under a key drawn from the
//! header and a per-announcement nonce, as in BIP152, so nobody can make transactions collide
//! across the network ahead of time.
//!
//! Every message on the blocks topic is a [`CompactBlock`]; one with every transaction
//! prefilled ([`CompactBlock::full`]) is how a peer sends a block whole.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use i8o8i_primitives::{Block, BlockHash, DecodeError, Header, Transaction, Txid, decode_strict};
use parity_scale_codec::{Decode, Encode};
use sha2::{Digest, Sha256};
use siphasher::sip::SipHasher24;

/// Bytes of a short transaction id (BIP152: 6).
pub const SHORT_ID_BYTES: usize = 6;

/// A short transaction id.
pub type ShortId = [u8; SHORT_ID_BYTES];

/// Most transactions a compact block may announce: more than a block of the largest size the
/// decoder accepts can hold (a transaction is over 50 bytes).
pub const MAX_COMPACT_TXS: usize = i8o8i_primitives::block::MAX_BLOCK_DECODE_SIZE / 50;

/// A block as announced by gossip.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct CompactBlock {
    /// The block's header (its seal is checked before anything is rebuilt).
    pub header: Header,
    /// Drawn per announcement; keys the short ids with the header hash.
    pub nonce: u64,
    /// The short ids of the transactions not prefilled, in block order.
    pub short_ids: Vec<ShortId>,
    /// Transactions sent whole, with their index in the block, in increasing index order.
    pub prefilled: Vec<Prefilled>,
}

/// A transaction sent whole inside a [`CompactBlock`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Prefilled {
    /// Its index in the block.
    pub index: u32,
    /// The transaction.
    pub tx: Transaction,
}

/// Why a compact block cannot be used at all (its sender is at fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// Not one canonical encoding within the size cap.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// More transactions than any block can hold, or none.
    #[error("a compact block announcing {0} transactions")]
    BadCount(usize),
    /// Prefilled indexes out of order, repeated or beyond the block.
    #[error("prefilled transaction index {index} out of order or beyond {count} transactions")]
    BadIndex {
        /// The index.
        index: u32,
        /// Transactions in the block.
        count: usize,
    },
    /// The transactions sent for the missing ones are not as many as asked.
    #[error("{got} transactions sent for {missing} missing")]
    WrongFill {
        /// Sent.
        got: usize,
        /// Missing.
        missing: usize,
    },
}

/// The SipHash key of one announcement's short ids: the first 16 bytes of
/// SHA-256(header hash ‖ nonce), as two little-endian words (BIP152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortIdKey {
    k0: u64,
    k1: u64,
}

impl ShortIdKey {
    /// The key for `header` announced with `nonce`.
    pub fn new(header: &BlockHash, nonce: u64) -> ShortIdKey {
        let digest = Sha256::new()
            .chain_update(header.as_bytes())
            .chain_update(nonce.to_le_bytes())
            .finalize();
        let word = |i: usize| {
            u64::from_le_bytes(
                digest[i..i + 8]
                    .try_into()
                    .expect("8 bytes of a 32-byte digest"),
            )
        };
        ShortIdKey {
            k0: word(0),
            k1: word(8),
        }
    }

    /// The short id of `txid`: the low 6 bytes of its SipHash-2-4, little-endian.
    pub fn short_id(&self, txid: &Txid) -> ShortId {
        let mut hasher = SipHasher24::new_with_keys(self.k0, self.k1);
        hasher.write(txid.as_bytes());
        let bytes = hasher.finish().to_le_bytes();
        let mut id = [0u8; SHORT_ID_BYTES];
        id.copy_from_slice(&bytes[..SHORT_ID_BYTES]);
        id
    }
}

impl CompactBlock {
    /// `block` announced with the coinbase prefilled and short ids for the rest, under a
    /// fresh random nonce.
    pub fn new(block: &Block) -> CompactBlock {
        // A random word from the standard library's per-process hasher keys.
        let nonce = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        CompactBlock::with_nonce(block, nonce)
    }

    /// As [`CompactBlock::new`] with a given nonce.
    pub fn with_nonce(block: &Block, nonce: u64) -> CompactBlock {
        let key = ShortIdKey::new(&block.header.hash(), nonce);
        let mut prefilled = Vec::new();
        let mut short_ids = Vec::with_capacity(block.transactions.len().saturating_sub(1));
        for (index, tx) in block.transactions.iter().enumerate() {
            if index == 0 {
                prefilled.push(Prefilled {
                    index: 0,
                    tx: tx.clone(),
                });
            } else {
                short_ids.push(key.short_id(&tx.txid()));
            }
        }
        CompactBlock {
            header: block.header.clone(),
            nonce,
            short_ids,
            prefilled,
        }
    }

    /// `block` with every transaction prefilled: how a block is sent whole.
    pub fn full(block: &Block) -> CompactBlock {
        CompactBlock {
            header: block.header.clone(),
            nonce: 0,
            short_ids: Vec::new(),
            prefilled: block
                .transactions
                .iter()
                .enumerate()
                .map(|(index, tx)| Prefilled {
                    index: index as u32,
                    tx: tx.clone(),
                })
                .collect(),
        }
    }

    /// Decodes and checks the shape of a compact block from a peer.
    ///
    /// # Errors
    /// [`CompactError`] for anything but one canonical, well-formed compact block.
    pub fn decode_bytes(bytes: &[u8]) -> Result<CompactBlock, CompactError> {
        let compact: CompactBlock = decode_strict(
            bytes,
            i8o8i_primitives::block::MAX_BLOCK_DECODE_SIZE,
            "compact block",
        )?;
        compact.check()?;
        Ok(compact)
    }

    /// Transactions in the block.
    pub fn tx_count(&self) -> usize {
        self.short_ids.len() + self.prefilled.len()
    }

    /// The short-id key of this announcement.
    pub fn key(&self) -> ShortIdKey {
        ShortIdKey::new(&self.header.hash(), self.nonce)
    }

    fn check(&self) -> Result<(), CompactError> {
        let count = self.tx_count();
        if count == 0 || count > MAX_COMPACT_TXS {
            return Err(CompactError::BadCount(count));
        }
        let mut next = 0u64;
        for p in &self.prefilled {
            if u64::from(p.index) < next || p.index as usize >= count {
                return Err(CompactError::BadIndex {
                    index: p.index,
                    count,
                });
            }
            next = u64::from(p.index) + 1;
        }
        Ok(())
    }

    /// The block rebuilt as far as `pool` allows: `pool` holds candidate transactions (those
    /// of the local pool whose short id is announced; see [`CompactBlock::wanted`]). A short id
    /// that two candidates share counts as missing.
    pub fn rebuild(&self, pool: Vec<Transaction>) -> PartialBlock {
        let key = self.key();
        let mut by_id: HashMap<ShortId, Option<Transaction>> = HashMap::new();
        for tx in pool {
            let id = key.short_id(&tx.txid());
            by_id
                .entry(id)
                .and_modify(|slot| *slot = None)
                .or_insert(Some(tx));
        }
        // `decode_bytes` checked the shape (indexes in range, one id per other slot); a
        // compact block built by hand that breaks it rebuilds into missing slots, not a panic.
        let mut slots: Vec<Option<Transaction>> = vec![None; self.tx_count()];
        for p in &self.prefilled {
            if let Some(slot) = slots.get_mut(p.index as usize) {
                *slot = Some(p.tx.clone());
            }
        }
        let empty = slots.iter_mut().filter(|s| s.is_none());
        for (slot, id) in empty.zip(&self.short_ids) {
            *slot = by_id.get(id).cloned().flatten();
        }
        let missing = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(i, _)| i as u32)
            .collect();
        PartialBlock {
            header: self.header.clone(),
            slots,
            missing,
        }
    }

    /// The short ids announced, for picking pool candidates.
    pub fn wanted(&self) -> std::collections::HashSet<ShortId> {
        self.short_ids.iter().copied().collect()
    }
}

/// A block being rebuilt from a compact announcement.
#[derive(Debug, Clone)]
pub struct PartialBlock {
    header: Header,
    slots: Vec<Option<Transaction>>,
    missing: Vec<u32>,
}

/// The outcome of completing a [`PartialBlock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebuilt {
    /// The block, its transactions matching its header's transaction root.
    Block(Box<Block>),
    /// Every slot is filled but the transaction root differs (a short-id collision picked the
    /// wrong transaction, or the sender lied): fetch the whole block.
    Mismatch,
}

impl PartialBlock {
    /// The block's hash.
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// Indexes of the transactions still missing.
    pub fn missing(&self) -> &[u32] {
        &self.missing
    }

    /// Fills the missing transactions (in the order of [`PartialBlock::missing`]) and checks
    /// the result against the header.
    ///
    /// # Errors
    /// [`CompactError::WrongFill`] when `txs` are not as many as missing.
    pub fn complete(mut self, txs: Vec<Transaction>) -> Result<Rebuilt, CompactError> {
        if txs.len() != self.missing.len() {
            return Err(CompactError::WrongFill {
                got: txs.len(),
                missing: self.missing.len(),
            });
        }
        for (index, tx) in self.missing.iter().zip(txs) {
            self.slots[*index as usize] = Some(tx);
        }
        let block = Block {
            header: self.header,
            transactions: self.slots.into_iter().flatten().collect(),
        };
        if block.compute_tx_root() == block.header.tx_root {
            Ok(Rebuilt::Block(Box::new(block)))
        } else {
            Ok(Rebuilt::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests;
