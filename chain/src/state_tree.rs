//! The state commitment on RocksDB: the tree of [`i8o8i_primitives::state_tree`] over the UTXO
//! set and the key/value state, kept for the tip of the best chain.
//!
//! Why this structure: it gives membership and non-membership proofs of ~log₂(n) hashes, and
//! connecting a block rewrites only the nodes on the paths of what the block changed — about
//! log₁₆(n) nodes per changed entry (five at 200,000 entries, the upper ones shared between
//! entries), each read and hashed once per block. A MuHash-style accumulator (Bitcoin Core's
//! `gettxoutsetinfo`) is cheaper per change but proves nothing; a Merkle-Patricia trie
//! (Ethereum) proves as much with larger proofs. Entry keys and the proof format are
//! `i8o8i_primitives::state_proof`.
//!
//! Storage: the `state_tree` column family holds each node under its position
//! ([`NodePath::to_key`]) and the root position's content under [`ROOT_KEY`]. A block's update
//! is written in the block's atomic batch; disconnecting it applies the reverse changes (from
//! the block and its undo data) in the disconnect's batch, which gives back the parent's nodes
//! exactly (the layout depends on the entries alone). So the tree reaches back as far as undo
//! data does, and costs no history of its own.

use i8o8i_primitives::state_proof::{HEIGHT_KEY, coin_key, kv_key};
use i8o8i_primitives::state_tree::{Change, Child, Join, Node, NodePath, NodeSource};
use i8o8i_primitives::{Block, OutPoint, StoreError};
use i8o8i_runtime::state::{BlockChanges, BlockUndo};
use parity_scale_codec::Encode;

/// Where the root position's content is stored (no node path encodes to it: a path key starts
/// with its depth, at most 64).
pub const ROOT_KEY: &[u8] = &[0xff];

/// A block's change set, as the tree takes it (hashed, sorted, each key once).
pub type Changes = Vec<Change>;

/// The changes connecting a block at `height` makes to the committed state.
pub fn block_changes(height: u64, changes: &BlockChanges) -> Changes {
    let mut set: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::with_capacity(
        changes.spent.len() + changes.created.len() + changes.contracts.writes.len() + 1,
    );
    // As the store applies them: spends first, then creations (a later change of a key wins).
    set.extend(changes.spent.iter().map(|(op, _)| (coin_key(op), None)));
    set.extend(
        changes
            .created
            .iter()
            .map(|(op, coin)| (coin_key(op), Some(coin.encode()))),
    );
    set.extend(
        changes
            .contracts
            .writes
            .iter()
            .map(|(key, value)| (kv_key(key), value.clone())),
    );
    set.push((HEIGHT_KEY.to_vec(), Some(height.to_be_bytes().to_vec())));
    i8o8i_primitives::state_tree::hashed_changes(set)
}

/// The changes disconnecting `block` (whose undo data is `undo`) makes: what connecting it did,
/// reversed, as the store applies them.
pub fn undo_changes(block: &Block, undo: &BlockUndo) -> Changes {
    let mut set: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    for tx in &block.transactions {
        let txid = tx.txid();
        set.extend(
            (0..tx.outputs.len() as u32).map(|index| (coin_key(&OutPoint { txid, index }), None)),
        );
    }
    set.extend(undo.appended.iter().map(|(op, _)| (coin_key(op), None)));
    set.extend(
        undo.contract_undo
            .iter()
            .map(|(key, value)| (kv_key(key), value.clone())),
    );
    set.extend(
        undo.spent
            .iter()
            .map(|(op, coin)| (coin_key(op), Some(coin.encode()))),
    );
    let parent = block.header.height.saturating_sub(1);
    set.push((HEIGHT_KEY.to_vec(), Some(parent.to_be_bytes().to_vec())));
    i8o8i_primitives::state_tree::hashed_changes(set)
}

/// A raw read of one key of the `state_nodes` column family (of the store, or one snapshot),
/// shared between the threads of a parallel update.
pub trait RawGet: Fn(&[u8]) -> Result<Option<Vec<u8>>, StoreError> + Sync {}

impl<F: Fn(&[u8]) -> Result<Option<Vec<u8>>, StoreError> + Sync> RawGet for F {}

/// A state tree update's halves on a rayon pool (the node's script-verification threads).
pub struct PoolJoin<'a>(pub &'a rayon::ThreadPool);

impl Join for PoolJoin<'_> {
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        self.0.join(a, b);
    }
}

/// The tree's nodes, read through a [`RawGet`].
pub struct StoredNodes<'a>(pub &'a dyn RawGet);

impl NodeSource for StoredNodes<'_> {
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError> {
        (self.0)(&path.to_key())?
            .map(|bytes| Node::decode(&bytes))
            .transpose()
    }
}

impl StoredNodes<'_> {
    /// The root position's content.
    ///
    /// # Errors
    /// Storage failures; a store without a tree ([`StoreError::Inconsistent`]).
    pub fn root(&self) -> Result<Child, StoreError> {
        match (self.0)(ROOT_KEY)? {
            Some(bytes) => Child::decode(&bytes),
            None => Err(StoreError::Inconsistent(
                "this data directory has no state tree: it was written by an older version; \
                 delete the data directory and sync again"
                    .into(),
            )),
        }
    }
}
