//! The state commitment on RocksDB: a Jellyfish Merkle tree (`jmt`) over the UTXO set and the
//! key/value state, one tree version per height of the best chain.
//!
//! Why this structure: it gives membership and non-membership proofs of ~log₂(n) hashes, and
//! connecting a block rewrites only the paths of what the block changed — about log₁₆(n)
//! nodes of up to 16 children per changed entry (six or seven at a million entries), never the
//! whole state. A MuHash-style accumulator (Bitcoin Core's `gettxoutsetinfo`) is cheaper per
//! change but proves nothing; a Merkle-Patricia trie (Ethereum) proves as much with larger
//! proofs. Entry keys and the proof format are `i8o8i_primitives::state_proof`.
//!
//! Storage: nodes in `state_tree` under `version (u64 BE) ‖ borsh(NodeKey)`, so a block's nodes
//! are one key range; the nodes each version replaced in `state_stale` under `stale since
//! (u64 BE) ‖ node key`. Disconnecting the tip deletes its version's nodes and stale marks in
//! the same batch (the parent's tree is whole again); history older than the pruning horizon
//! is deleted from the stale marks.

use std::collections::BTreeMap;

use borsh::BorshDeserialize;
use i8o8i_primitives::state_proof::{
    EMPTY_SUBTREE, HEIGHT_KEY, ProofLeaf, StateProof, coin_key, internal_hash, kv_key, leaf_hash,
};
use i8o8i_primitives::{Hash256, StoreError};
use i8o8i_runtime::state::BlockChanges;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, SimpleHasher, Version};
use parity_scale_codec::Encode;
use sha2::Digest;

/// SHA-256 as the tree hashes (`jmt` wants its own hasher trait).
pub struct Sha256(sha2::Sha256);

impl SimpleHasher for Sha256 {
    fn new() -> Self {
        Sha256(sha2::Sha256::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

type Tree<'a, R> = JellyfishMerkleTree<'a, R, Sha256>;

/// One entry of a block's change set: its key hash and new value (`None`: removed).
pub type Change = (KeyHash, Option<OwnedValue>);

/// The changes connecting a block at `height` makes to the committed state.
pub fn block_changes(height: u64, changes: &BlockChanges) -> Vec<Change> {
    let mut set: BTreeMap<KeyHash, Option<OwnedValue>> = BTreeMap::new();
    let mut put = |key: Vec<u8>, value: Option<Vec<u8>>| {
        set.insert(KeyHash::with::<Sha256>(&key), value);
    };
    // As the store applies them: spends first, then creations.
    for (op, _) in &changes.spent {
        put(coin_key(op), None);
    }
    for (op, coin) in &changes.created {
        put(coin_key(op), Some(coin.encode()));
    }
    for (key, value) in &changes.contracts.writes {
        put(kv_key(key), value.clone());
    }
    put(HEIGHT_KEY.to_vec(), Some(height.to_be_bytes().to_vec()));
    set.into_iter().collect()
}

/// A tree node's key in `state_tree`.
pub fn node_key_bytes(key: &NodeKey) -> Vec<u8> {
    let mut out = key.version().to_be_bytes().to_vec();
    // Borsh of a node key cannot fail (no I/O, no maps).
    out.extend(borsh::to_vec(key).unwrap_or_default());
    out
}

/// The first key of version `version`'s range (nodes or stale marks).
pub fn version_start(version: Version) -> [u8; 8] {
    version.to_be_bytes()
}

/// The key of a stale mark: the version it is stale since, then the node's key.
pub fn stale_key(since: Version, node: &NodeKey) -> Vec<u8> {
    let mut out = since.to_be_bytes().to_vec();
    out.extend(node_key_bytes(node));
    out
}

/// A raw read of one key (of the tree's column family, or any other, in one snapshot).
pub trait RawGet: Fn(&[u8]) -> Result<Option<Vec<u8>>, StoreError> {}

impl<F: Fn(&[u8]) -> Result<Option<Vec<u8>>, StoreError>> RawGet for F {}

/// Reads tree nodes through `get` (the store, or one snapshot of it). The values are not kept
/// with the tree (they are the UTXO set and the key/value state): a proof is asked for one key
/// whose value the caller read from the same snapshot and hands over as `proven`.
pub struct NodeReader<'a> {
    get: &'a dyn RawGet,
    proven: Option<(KeyHash, OwnedValue)>,
}

impl<'a> NodeReader<'a> {
    /// Nodes through `get`.
    pub fn new(get: &'a dyn RawGet) -> Self {
        NodeReader { get, proven: None }
    }
}

impl TreeReader for NodeReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match (self.get)(&node_key_bytes(node_key))? {
            None => Ok(None),
            Some(bytes) => Ok(Some(Node::try_from_slice(&bytes)?)),
        }
    }

    fn get_value_option(
        &self,
        _max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        match &self.proven {
            Some((k, v)) if *k == key_hash => Ok(Some(v.clone())),
            _ => Err(anyhow::anyhow!(
                "the state tree keeps no values; read them from the state"
            )),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Err(anyhow::anyhow!(
            "the state tree is never restored leaf by leaf"
        ))
    }
}

fn tree_error(e: anyhow::Error) -> StoreError {
    StoreError::Inconsistent(format!("state tree: {e:#}"))
}

/// Applies `changes` as version `version` over version `version − 1` (or the empty tree, at
/// 0): the new root and the nodes to write and mark stale.
///
/// # Errors
/// Storage failures; a missing parent version ([`StoreError::Inconsistent`]).
pub fn update(
    reader: &NodeReader<'_>,
    version: Version,
    changes: Vec<Change>,
) -> Result<(Hash256, TreeUpdateBatch), StoreError> {
    let (root, batch) = Tree::new(reader)
        .put_value_set(changes, version)
        .map_err(tree_error)?;
    Ok((Hash256::from_byte_array(root.0), batch))
}

/// Applies each change set as one version, from `first_version` on, over version
/// `first_version − 1`, in memory: the roots, nothing written (a branch's roots).
///
/// # Errors
/// Storage failures; a missing base version ([`StoreError::Inconsistent`]).
pub fn update_many(
    reader: &NodeReader<'_>,
    first_version: Version,
    sets: Vec<Vec<Change>>,
) -> Result<Vec<Hash256>, StoreError> {
    let (roots, _) = Tree::new(reader)
        .put_value_sets(sets, first_version)
        .map_err(tree_error)?;
    Ok(roots
        .into_iter()
        .map(|r| Hash256::from_byte_array(r.0))
        .collect())
}

/// The root of a tree holding exactly `entries` (tree key, value), built from nothing in
/// memory: what the incrementally kept tree must equal (a Jellyfish Merkle tree's root depends
/// only on its entries, not on the order they came in). Memory grows with the entries.
///
/// # Errors
/// A tree the library refuses to build ([`StoreError::Inconsistent`]).
pub fn root_of_entries(
    entries: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
) -> Result<Hash256, StoreError> {
    let set: BTreeMap<KeyHash, Option<OwnedValue>> = entries
        .into_iter()
        .map(|(k, v)| (KeyHash::with::<Sha256>(&k), Some(v)))
        .collect();
    // A fresh tree at version 0 reads nothing from storage.
    let get = |_: &[u8]| Ok(None);
    Ok(update(&NodeReader::new(&get), 0, set.into_iter().collect())?.0)
}

/// The root of version `version`, if the store has it.
///
/// # Errors
/// Storage failures, undecodable nodes.
pub fn root(reader: &NodeReader<'_>, version: Version) -> Result<Option<Hash256>, StoreError> {
    let root: Option<RootHash> = Tree::new(reader)
        .get_root_hash_option(version)
        .map_err(tree_error)?;
    Ok(root.map(|r| Hash256::from_byte_array(r.0)))
}

/// The proof for tree key `key` at version `version`, whose value the caller read from the
/// state of that version (`None`: absent).
///
/// # Errors
/// Storage failures, a tree that does not match the value given.
pub fn prove(
    get: &dyn RawGet,
    version: Version,
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<StateProof, StoreError> {
    let key_hash = KeyHash::with::<Sha256>(key);
    let reader = NodeReader {
        get,
        proven: value.map(|v| (key_hash, v.to_vec())),
    };
    let (found, proof) = Tree::new(&reader)
        .get_with_proof(key_hash, version)
        .map_err(tree_error)?;
    if found.is_some() != value.is_some() {
        return Err(StoreError::Inconsistent(format!(
            "state tree at version {version} and the state disagree on key {}",
            hex::encode(key)
        )));
    }
    from_jmt(&borsh::to_vec(&proof).map_err(|e| tree_error(e.into()))?)
}

/// Our [`StateProof`] from the borsh encoding of `jmt`'s `SparseMerkleProof` (an optional
/// leaf, then the sibling nodes deepest first, each null / internal / leaf): the siblings
/// become their hashes.
fn from_jmt(bytes: &[u8]) -> Result<StateProof, StoreError> {
    let bad = || StoreError::corrupt("state proof", "unexpected encoding");
    let mut r = bytes;
    let mut take = |n: usize| -> Result<&[u8], StoreError> {
        let (head, rest) = r.split_at_checked(n).ok_or_else(bad)?;
        r = rest;
        Ok(head)
    };
    let pair = |b: &[u8]| -> ([u8; 32], [u8; 32]) {
        let mut a = [0; 32];
        let mut c = [0; 32];
        a.copy_from_slice(&b[..32]);
        c.copy_from_slice(&b[32..64]);
        (a, c)
    };
    let leaf = match take(1)?[0] {
        0 => None,
        1 => {
            let (k, v) = pair(take(64)?);
            Some(ProofLeaf {
                key_hash: Hash256::from_byte_array(k),
                value_hash: Hash256::from_byte_array(v),
            })
        }
        _ => return Err(bad()),
    };
    let count = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
    if count > 256 {
        return Err(bad());
    }
    let mut siblings = Vec::with_capacity(count);
    for _ in 0..count {
        let hash = match take(1)?[0] {
            0 => EMPTY_SUBTREE,
            1 => {
                let (l, r) = pair(take(64)?);
                internal_hash(&l, &r)
            }
            2 => {
                let (k, v) = pair(take(64)?);
                leaf_hash(&k, &v)
            }
            _ => return Err(bad()),
        };
        siblings.push(Hash256::from_byte_array(hash));
    }
    Ok(StateProof { leaf, siblings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A tree in memory, written the way the store writes it.
    #[derive(Default)]
    struct Memory(RefCell<BTreeMap<Vec<u8>, Vec<u8>>>);

    impl Memory {
        fn apply(&self, version: Version, entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Hash256 {
            let changes: Vec<Change> = entries
                .iter()
                .map(|(k, v)| (KeyHash::with::<Sha256>(k), v.clone()))
                .collect();
            let get = |k: &[u8]| Ok(self.0.borrow().get(k).cloned());
            let (root, batch) = update(&NodeReader::new(&get), version, changes).unwrap();
            for (key, node) in batch.node_batch.nodes() {
                self.0
                    .borrow_mut()
                    .insert(node_key_bytes(key), borsh::to_vec(node).unwrap());
            }
            root
        }

        fn prove(&self, version: Version, key: &[u8], value: Option<&[u8]>) -> StateProof {
            let get = |k: &[u8]| Ok(self.0.borrow().get(k).cloned());
            prove(&get, version, key, value).unwrap()
        }
    }

    fn entry(i: u32) -> (Vec<u8>, Vec<u8>) {
        (kv_key(&i.to_be_bytes()), format!("value {i}").into_bytes())
    }

    #[test]
    fn proofs_from_the_tree_verify_with_the_light_client_check_and_fail_on_any_change() {
        let tree = Memory::default();
        let entries: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            (0..500).map(entry).map(|(k, v)| (k, Some(v))).collect();
        tree.apply(0, &entries);
        // Version 1 changes one value and removes another.
        let (k7, _) = entry(7);
        let (k8, _) = entry(8);
        let root = tree.apply(
            1,
            &[(k7.clone(), Some(b"new".to_vec())), (k8.clone(), None)],
        );
        assert_eq!(
            root,
            tree.apply(
                1,
                &[(k7.clone(), Some(b"new".to_vec())), (k8.clone(), None)]
            ),
            "the same changes give the same root"
        );

        let (k3, v3) = entry(3);
        let present = tree.prove(1, &k3, Some(&v3));
        assert!(present.leaf.is_some());
        assert_eq!(present.verify(&root, &k3, Some(&v3)), Ok(()));
        assert_eq!(
            tree.prove(1, &k7, Some(b"new"))
                .verify(&root, &k7, Some(b"new")),
            Ok(())
        );
        let absent = tree.prove(1, &k8, None);
        assert_eq!(absent.verify(&root, &k8, None), Ok(()));
        let never = kv_key(b"never written");
        assert_eq!(
            tree.prove(1, &never, None).verify(&root, &never, None),
            Ok(())
        );

        // Any changed byte breaks the proof.
        use i8o8i_primitives::state_proof::ProofError;
        assert_eq!(
            present.verify(&root, &k3, Some(b"value 4")),
            Err(ProofError::OtherValue)
        );
        assert_eq!(present.verify(&root, &k3, None), Err(ProofError::Present));
        assert_eq!(
            absent.verify(&root, &k8, Some(b"value 8")),
            Err(ProofError::Absent)
        );
        for i in 0..present.siblings.len() {
            let mut bent = present.clone();
            let mut bytes = bent.siblings[i].to_byte_array();
            bytes[i % 32] ^= 1;
            bent.siblings[i] = Hash256::from_byte_array(bytes);
            assert_eq!(
                bent.verify(&root, &k3, Some(&v3)),
                Err(ProofError::RootMismatch)
            );
        }
        let mut other_root = root.to_byte_array();
        other_root[0] ^= 1;
        assert_eq!(
            present.verify(&Hash256::from_byte_array(other_root), &k3, Some(&v3)),
            Err(ProofError::RootMismatch)
        );
        // The old version still proves the old values.
        let old = tree.prove(0, &k8, Some(b"value 8"));
        let root0 = root_of(&tree, 0);
        assert_eq!(old.verify(&root0, &k8, Some(b"value 8")), Ok(()));
    }

    fn root_of(tree: &Memory, version: Version) -> Hash256 {
        let get = |k: &[u8]| Ok(tree.0.borrow().get(k).cloned());
        root(&NodeReader::new(&get), version).unwrap().unwrap()
    }

    #[test]
    fn the_incremental_root_is_the_root_of_the_entries_alone() {
        let tree = Memory::default();
        let entries: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            (0..300).map(entry).map(|(k, v)| (k, Some(v))).collect();
        tree.apply(0, &entries[..150]);
        tree.apply(1, &entries[150..]);
        let (k5, _) = entry(5);
        let root = tree.apply(2, &[(k5.clone(), None)]);
        let remaining = (0..300).map(entry).filter(|(k, _)| *k != k5);
        assert_eq!(root_of_entries(remaining), Ok(root));
        assert_ne!(root_of_entries((0..300).map(entry)), Ok(root));
    }

    #[test]
    fn a_value_the_tree_does_not_hold_is_refused_when_proving() {
        let tree = Memory::default();
        let (k, v) = entry(1);
        tree.apply(0, &[(k.clone(), Some(v))]);
        let get = |key: &[u8]| Ok(tree.0.borrow().get(key).cloned());
        assert!(matches!(
            prove(&get, 0, &k, None),
            Err(StoreError::Inconsistent(_))
        ));
    }
}
