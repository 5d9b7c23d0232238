//! The state commitment's keys and the check of its proofs, with no I/O: what a light client (or
//! the TypeScript SDK, which mirrors this file) needs to trust a coin or a stored value that a
//! node shows it.
//!
//! After each block, a node commits to its whole state — the UTXO set and the key/value state
//! (contract accounts, code and storage, the staking ledger, the producer state) — as one tree
//! with the hashing of Diem's Jellyfish Merkle tree ([`crate::state_tree`]), a sparse Merkle
//! tree over 256-bit key hashes in which a subtree holding one entry is that entry's leaf; the
//! block's header carries its root (`state_root`). Entry
//! keys are [`coin_key`] for a coin, [`kv_key`] for a key/value record and [`HEIGHT_KEY`] for the
//! height; the value of a coin is its SCALE encoding ([`crate::Coin`]), of a record its bytes.
//!
//! Hashes (SHA-256 throughout):
//! - key hash `k = sha256(key)`, value hash `v = sha256(value)`;
//! - leaf `sha256("JMT::LeafNode" ‖ k ‖ v)`, internal node `sha256("JMT::IntrnalNode" ‖ left ‖
//!   right)`, empty subtree [`EMPTY_SUBTREE`].
//!
//! A [`StateProof`] for key `k` lists the sibling hashes on the path from the entry (or from the
//! empty subtree, or the other entry, where `k` would be) up to the root, deepest first: bit `i`
//! of `k` (most significant first) says whether the path goes right at depth `i`.

use sha2::{Digest, Sha256};

use crate::{Hash256, OutPoint};

/// The hash of an empty subtree.
pub const EMPTY_SUBTREE: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";
const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";

/// The entry whose value is the height of the block the state is after (big-endian `u64`): it
/// changes with every block, so every block has its own root.
pub const HEIGHT_KEY: &[u8] = b"h";

/// Tree key of the coin at `outpoint`: `u ‖ txid ‖ index (u32, big-endian)`.
pub fn coin_key(outpoint: &OutPoint) -> Vec<u8> {
    let mut key = Vec::with_capacity(37);
    key.push(b'u');
    key.extend_from_slice(outpoint.txid.as_bytes());
    key.extend_from_slice(&outpoint.index.to_be_bytes());
    key
}

/// Tree key of a key/value state record (the node's contract column family: `A‖address`,
/// `C‖code hash`, `S‖address‖key`, `stake/…`): `k ‖ key`.
pub fn kv_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(b'k');
    k.extend_from_slice(key);
    k
}

/// `sha256(data)`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn hash_pair(domain: &[u8], a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(domain);
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// The hash of a leaf holding key hash `key_hash` and value hash `value_hash`.
pub fn leaf_hash(key_hash: &[u8; 32], value_hash: &[u8; 32]) -> [u8; 32] {
    hash_pair(LEAF_DOMAIN, key_hash, value_hash)
}

/// The hash of an internal node with children `left` and `right`.
pub fn internal_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    hash_pair(INTERNAL_DOMAIN, left, right)
}

/// A proof that a key has a value, or has none, under a state root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateProof {
    /// The leaf where the path ends: the key's own (membership), another key's sharing the
    /// path so far (non-membership), or none (an empty subtree, non-membership).
    pub leaf: Option<ProofLeaf>,
    /// Sibling hashes from the deepest up to the root's children (at most 256).
    pub siblings: Vec<Hash256>,
}

/// A leaf in a [`StateProof`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofLeaf {
    /// `sha256(key)`.
    pub key_hash: Hash256,
    /// `sha256(value)`.
    pub value_hash: Hash256,
}

/// Why a [`StateProof`] does not prove what it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// More than 256 siblings.
    #[error("a proof has at most 256 siblings, this one {0}")]
    TooLong(usize),
    /// A value was claimed but the proof ends elsewhere.
    #[error("the proof shows the key absent, not holding the value")]
    Absent,
    /// The proof's leaf is the key's, with another value.
    #[error("the key holds another value under this proof")]
    OtherValue,
    /// Absence was claimed but the proof's leaf is the key's own.
    #[error("the proof shows the key present")]
    Present,
    /// The leaf of a non-membership proof is not on the key's path.
    #[error("the proof's leaf is not where the key would be")]
    WrongPath,
    /// The path does not hash to the root.
    #[error("the proof does not hash to the state root")]
    RootMismatch,
}

fn bit(key_hash: &[u8; 32], i: usize) -> bool {
    key_hash[i / 8] >> (7 - i % 8) & 1 == 1
}

fn common_prefix_bits(a: &[u8; 32], b: &[u8; 32]) -> usize {
    (0..256).take_while(|i| bit(a, *i) == bit(b, *i)).count()
}

impl StateProof {
    /// Checks that under `root`, tree key `key` holds `value` (`Some`) or nothing (`None`).
    ///
    /// # Errors
    /// [`ProofError`] saying what does not hold.
    pub fn verify(
        &self,
        root: &Hash256,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), ProofError> {
        let depth = self.siblings.len();
        if depth > 256 {
            return Err(ProofError::TooLong(depth));
        }
        let key_hash = sha256(key);
        match (value, &self.leaf) {
            (Some(_), None) => return Err(ProofError::Absent),
            (Some(value), Some(leaf)) => {
                if *leaf.key_hash.as_bytes() != key_hash {
                    return Err(ProofError::Absent);
                }
                if *leaf.value_hash.as_bytes() != sha256(value) {
                    return Err(ProofError::OtherValue);
                }
            }
            (None, Some(leaf)) => {
                if *leaf.key_hash.as_bytes() == key_hash {
                    return Err(ProofError::Present);
                }
                if common_prefix_bits(&key_hash, leaf.key_hash.as_bytes()) < depth {
                    return Err(ProofError::WrongPath);
                }
            }
            (None, None) => {}
        }
        let start = self.leaf.map_or(EMPTY_SUBTREE, |l| {
            leaf_hash(l.key_hash.as_bytes(), l.value_hash.as_bytes())
        });
        let computed = self
            .siblings
            .iter()
            .enumerate()
            .fold(start, |hash, (i, sibling)| {
                if bit(&key_hash, depth - 1 - i) {
                    internal_hash(sibling.as_bytes(), &hash)
                } else {
                    internal_hash(&hash, sibling.as_bytes())
                }
            });
        if computed == *root.as_bytes() {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        }
    }
}
