//! The state tree itself, with no I/O: how its nodes are laid out and encoded, a batched
//! update that visits each touched node once, proofs, and the root of a set of entries built
//! from nothing (the genesis root). The node keeps the nodes in RocksDB
//! (`i8o8i_chain::state_tree`); anything that can hand out nodes by path
//! ([`NodeSource`]) can update or prove.
//!
//! Logically the tree is the sparse binary Merkle tree of [`crate::state_proof`]: 256-bit key
//! hashes, a subtree holding one entry is that entry's leaf, an empty subtree is
//! [`EMPTY_SUBTREE`] (the hashing of Diem's Jellyfish Merkle tree, so roots equal those of the
//! `jmt` crate, which the tests use as an oracle).
//!
//! Physically, a [`Node`] is stored at every nibble-aligned position whose subtree holds two
//! entries or more; it lists its 16 child positions, each empty, a leaf (key hash and value
//! hash) or a stored node (its hash). So the layout is a function of the entries alone: two
//! stores holding the same state hold the same nodes, whatever order the changes came in. The
//! root position's content is a [`Child`] of its own (the tree may hold a single leaf).
//!
//! Nothing is versioned: a block's update overwrites the nodes on its paths, and undoing a
//! block applies the reverse changes (the block's undo data says what they are), which gives
//! back exactly the parent's nodes.

use std::collections::BTreeMap;

use crate::Hash256;
use crate::StoreError;
use crate::state_proof::{EMPTY_SUBTREE, ProofLeaf, StateProof, internal_hash, leaf_hash, sha256};

/// `sha256` of a tree key.
pub type KeyHash = [u8; 32];
/// `sha256` of a value.
pub type ValueHash = [u8; 32];
/// One change: a key hash and its new value hash (`None`: removed).
pub type Change = (KeyHash, Option<ValueHash>);

/// The deepest a stored node can be: two different 256-bit hashes differ within 64 nibbles.
const MAX_DEPTH: usize = 64;

/// A position in the tree: the first `len` nibbles (4-bit digits, most significant first) of a
/// key hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodePath {
    bytes: [u8; 32],
    len: u8,
}

impl NodePath {
    /// The root.
    pub const ROOT: NodePath = NodePath {
        bytes: [0; 32],
        len: 0,
    };

    /// How many nibbles deep.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether this is the root.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The child position at nibble `n`.
    fn child(&self, n: u8) -> NodePath {
        let mut bytes = self.bytes;
        let i = self.len as usize;
        if i.is_multiple_of(2) {
            bytes[i / 2] = n << 4;
        } else {
            bytes[i / 2] |= n;
        }
        NodePath {
            bytes,
            len: self.len + 1,
        }
    }

    /// The storage key: the depth, then the nibbles packed two to a byte (a last odd nibble in
    /// the high half).
    pub fn to_key(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(1 + self.len().div_ceil(2));
        key.push(self.len);
        key.extend_from_slice(&self.bytes[..self.len().div_ceil(2)]);
        key
    }

    /// The path stored under `key` ([`NodePath::to_key`]); `None` for anything else.
    pub fn from_key(key: &[u8]) -> Option<NodePath> {
        let (&len, packed) = key.split_first()?;
        if len as usize > MAX_DEPTH || packed.len() != (len as usize).div_ceil(2) {
            return None;
        }
        if len % 2 == 1 && packed.last().is_some_and(|b| b & 0x0f != 0) {
            return None;
        }
        let mut bytes = [0; 32];
        bytes[..packed.len()].copy_from_slice(packed);
        Some(NodePath { bytes, len })
    }
}

/// Nibble `i` of a key hash.
fn nibble(key: &KeyHash, i: usize) -> u8 {
    let b = key[i / 2];
    if i.is_multiple_of(2) {
        b >> 4
    } else {
        b & 0x0f
    }
}

/// What a child position holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Child {
    /// Nothing.
    #[default]
    Empty,
    /// Exactly one entry.
    Leaf {
        /// Its key hash.
        key: KeyHash,
        /// Its value hash.
        value: ValueHash,
    },
    /// Two entries or more: a stored [`Node`] with this hash.
    Node([u8; 32]),
}

impl Child {
    /// The hash this child contributes to its parent (for the root position: the state root).
    pub fn hash(&self) -> [u8; 32] {
        match self {
            Child::Empty => EMPTY_SUBTREE,
            Child::Leaf { key, value } => leaf_hash(key, value),
            Child::Node(hash) => *hash,
        }
    }

    /// Encoding: `0`, or `1 ‖ key hash ‖ value hash`, or `2 ‖ node hash`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(65);
        self.encode_to(&mut out, true);
        out
    }

    fn encode_to(&self, out: &mut Vec<u8>, tagged: bool) {
        match self {
            Child::Empty => {
                if tagged {
                    out.push(0);
                }
            }
            Child::Leaf { key, value } => {
                if tagged {
                    out.push(1);
                }
                out.extend_from_slice(key);
                out.extend_from_slice(value);
            }
            Child::Node(hash) => {
                if tagged {
                    out.push(2);
                }
                out.extend_from_slice(hash);
            }
        }
    }

    /// Decodes [`Child::encode`] exactly.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for anything else.
    pub fn decode(bytes: &[u8]) -> Result<Child, StoreError> {
        let bad = || StoreError::corrupt("state tree root", "not an encoded child");
        match bytes.split_first() {
            Some((0, [])) => Ok(Child::Empty),
            Some((1, rest)) if rest.len() == 64 => Ok(Child::Leaf {
                key: rest[..32].try_into().map_err(|_| bad())?,
                value: rest[32..].try_into().map_err(|_| bad())?,
            }),
            Some((2, rest)) if rest.len() == 32 => {
                Ok(Child::Node(rest.try_into().map_err(|_| bad())?))
            }
            _ => Err(bad()),
        }
    }
}

/// A stored node: its 16 child positions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The children, by nibble.
    pub children: [Child; 16],
}

/// What a range of a node's children amounts to.
#[derive(Clone, Copy)]
enum Summary {
    Empty,
    /// One leaf and nothing else: the subtree collapses to it (index of the child).
    One(usize),
    /// A real internal subtree with this hash.
    Many([u8; 32]),
}

impl Node {
    /// Encoding: a 16-bit map of the non-empty children and one of those that are leaves
    /// (little-endian), then each non-empty child in order: a leaf as key hash ‖ value hash, a
    /// node as its hash.
    pub fn encode(&self) -> Vec<u8> {
        let (mut present, mut leaves) = (0u16, 0u16);
        let mut out = Vec::with_capacity(4 + 16 * 48);
        out.extend_from_slice(&[0; 4]);
        for (i, child) in self.children.iter().enumerate() {
            match child {
                Child::Empty => {}
                Child::Leaf { .. } => {
                    present |= 1 << i;
                    leaves |= 1 << i;
                }
                Child::Node(_) => present |= 1 << i,
            }
            child.encode_to(&mut out, false);
        }
        out[..2].copy_from_slice(&present.to_le_bytes());
        out[2..4].copy_from_slice(&leaves.to_le_bytes());
        out
    }

    /// Decodes [`Node::encode`] exactly.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for anything else.
    pub fn decode(bytes: &[u8]) -> Result<Node, StoreError> {
        let bad = || StoreError::corrupt("state tree node", "not an encoded node");
        let (maps, mut rest) = bytes.split_at_checked(4).ok_or_else(bad)?;
        let present = u16::from_le_bytes([maps[0], maps[1]]);
        let leaves = u16::from_le_bytes([maps[2], maps[3]]);
        if leaves & !present != 0 {
            return Err(bad());
        }
        let mut node = Node::default();
        for i in 0..16 {
            if present & (1 << i) == 0 {
                continue;
            }
            let take = if leaves & (1 << i) != 0 { 64 } else { 32 };
            let (head, tail) = rest.split_at_checked(take).ok_or_else(bad)?;
            rest = tail;
            node.children[i] = if take == 64 {
                Child::Leaf {
                    key: head[..32].try_into().map_err(|_| bad())?,
                    value: head[32..].try_into().map_err(|_| bad())?,
                }
            } else {
                Child::Node(head.try_into().map_err(|_| bad())?)
            };
        }
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(node)
    }

    /// The node's hash: the binary subtree over its 16 children.
    pub fn hash(&self) -> [u8; 32] {
        self.summary(0, 16).hash(self)
    }

    /// The binary subtree over children `lo..hi` (a power-of-two aligned range).
    fn summary(&self, lo: usize, hi: usize) -> Summary {
        if hi - lo == 1 {
            return match self.children[lo] {
                Child::Empty => Summary::Empty,
                Child::Leaf { .. } => Summary::One(lo),
                Child::Node(hash) => Summary::Many(hash),
            };
        }
        let mid = (lo + hi) / 2;
        match (self.summary(lo, mid), self.summary(mid, hi)) {
            (Summary::Empty, Summary::Empty) => Summary::Empty,
            (Summary::Empty, Summary::One(i)) | (Summary::One(i), Summary::Empty) => {
                Summary::One(i)
            }
            (left, right) => Summary::Many(internal_hash(&left.hash(self), &right.hash(self))),
        }
    }
}

impl Summary {
    fn hash(self, node: &Node) -> [u8; 32] {
        match self {
            Summary::Empty => EMPTY_SUBTREE,
            Summary::One(i) => node.children[i].hash(),
            Summary::Many(hash) => hash,
        }
    }
}

/// Where an update or a proof reads stored nodes (shared between the threads of a parallel
/// update).
pub trait NodeSource: Sync {
    /// The node stored at `path` (`None`: there is none).
    ///
    /// # Errors
    /// Storage failures, undecodable nodes.
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError>;
}

/// No stored nodes: the source for a tree built from nothing.
pub struct NoNodes;

impl NodeSource for NoNodes {
    fn node(&self, _: &NodePath) -> Result<Option<Node>, StoreError> {
        Ok(None)
    }
}

/// A source with writes on top of another: what a tree looks like after updates not stored.
pub struct Overlay<'a> {
    base: &'a dyn NodeSource,
    /// The root after the writes.
    pub root: Child,
    nodes: BTreeMap<NodePath, Option<Node>>,
}

impl<'a> Overlay<'a> {
    /// `base`, whose root is `root`, with nothing written yet.
    pub fn new(base: &'a dyn NodeSource, root: Child) -> Self {
        Overlay {
            base,
            root,
            nodes: BTreeMap::new(),
        }
    }

    /// Applies `changes` on top; the new root.
    ///
    /// # Errors
    /// As [`update`].
    pub fn apply(&mut self, changes: &[Change]) -> Result<Child, StoreError> {
        let update = update(self, &self.root, changes)?;
        self.nodes.extend(update.nodes);
        self.root = update.root;
        Ok(self.root)
    }
}

impl NodeSource for Overlay<'_> {
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError> {
        match self.nodes.get(path) {
            Some(node) => Ok(node.clone()),
            None => self.base.node(path),
        }
    }
}

/// What an update writes: the new root and, per position, the node to store there or `None`
/// to delete what was there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeUpdate {
    /// The root position's new content.
    pub root: Child,
    /// Nodes to store (`Some`) or delete (`None`), each position once.
    pub nodes: Vec<(NodePath, Option<Node>)>,
}

/// The change set for `changes` (tree key, new value or `None` for removed): key and value
/// hashed, sorted by key hash, the last change of a key winning.
pub fn hashed_changes<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    changes: impl IntoIterator<Item = (K, Option<V>)>,
) -> Vec<Change> {
    let set: BTreeMap<KeyHash, Option<ValueHash>> = changes
        .into_iter()
        .map(|(k, v)| (sha256(k.as_ref()), v.map(|v| sha256(v.as_ref()))))
        .collect();
    set.into_iter().collect()
}

/// Applies `changes` (sorted by key hash, each key once: [`hashed_changes`]) to the tree whose
/// root position holds `root`, reading each node on the changed paths once from `source`.
/// Removing a key that is absent changes nothing.
///
/// # Errors
/// Storage failures; a node the root or a parent names but `source` lacks, or changes not
/// sorted ([`StoreError::Inconsistent`]).
pub fn update(
    source: &dyn NodeSource,
    root: &Child,
    changes: &[Change],
) -> Result<TreeUpdate, StoreError> {
    if changes.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(StoreError::Inconsistent(
            "state tree changes must be sorted by key hash, each key once".into(),
        ));
    }
    let mut updater = Updater {
        source,
        writes: Vec::new(),
    };
    let root = updater.child(NodePath::ROOT, *root, changes)?;
    Ok(TreeUpdate {
        root,
        nodes: updater.writes,
    })
}

/// Runs two pieces of work, in parallel where the caller has threads for it (the node:
/// `rayon`'s `join` on its verification pool). Part of no consensus result: an update's
/// outcome is the same however it is split.
pub trait Join: Sync {
    /// Runs `a` and `b`, both to completion.
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send));
}

/// Both on the calling thread.
pub struct Sequential;

impl Join for Sequential {
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        a();
        b();
    }
}

/// Changes of fewer entries are not worth splitting.
const PARALLEL_FROM: usize = 256;

/// [`update`], the root's 16 subtrees updated through `join` (each subtree's nodes read and
/// hashed by whichever thread takes it): the same result.
///
/// # Errors
/// As [`update`].
pub fn update_parallel(
    source: &dyn NodeSource,
    root: &Child,
    changes: &[Change],
    join: &dyn Join,
) -> Result<TreeUpdate, StoreError> {
    if changes.len() < PARALLEL_FROM || !matches!(root, Child::Node(_)) {
        return update(source, root, changes);
    }
    if changes.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(StoreError::Inconsistent(
            "state tree changes must be sorted by key hash, each key once".into(),
        ));
    }
    let mut node = source
        .node(&NodePath::ROOT)?
        .ok_or_else(|| StoreError::Inconsistent("state tree root node is missing".into()))?;
    let mut groups = Vec::with_capacity(16);
    let mut rest = changes;
    while let Some((first, _)) = rest.first() {
        let n = nibble(first, 0);
        let end = rest.partition_point(|(k, _)| nibble(k, 0) <= n);
        let (group, tail) = rest.split_at(end);
        groups.push((n, group));
        rest = tail;
    }
    let updated = subtrees(source, &node, &groups, join)
        .into_iter()
        .map(|(n, result)| result.map(|subtree| (n, subtree)))
        .collect::<Result<Vec<_>, _>>()?;
    // Sized once: a write holds a whole node (about a kilobyte), a large block writes
    // tens of thousands, and growing the vector by doubling copied them over and over into
    // fresh pages the kernel had to zero (7 % of a loaded node's time).
    let total = updated
        .iter()
        .map(|(_, (_, writes))| writes.len())
        .sum::<usize>();
    let mut updater = Updater {
        source,
        writes: Vec::with_capacity(total + 1),
    };
    for (n, (child, writes)) in updated {
        node.children[n as usize] = child;
        updater.writes.extend(writes);
    }
    let root = updater.settle(NodePath::ROOT, node, true);
    Ok(TreeUpdate {
        root,
        nodes: updater.writes,
    })
}

/// What updating one subtree of the root gives: its new content and its writes.
type Subtree = (Child, Vec<(NodePath, Option<Node>)>);

/// The root's subtrees `groups` (nibble, its changes) updated, halves through `join`.
fn subtrees(
    source: &dyn NodeSource,
    node: &Node,
    groups: &[(u8, &[Change])],
    join: &dyn Join,
) -> Vec<(u8, Result<Subtree, StoreError>)> {
    if let [(n, changes)] = groups {
        let mut updater = Updater {
            source,
            writes: Vec::new(),
        };
        let result = updater
            .child(
                NodePath::ROOT.child(*n),
                node.children[*n as usize],
                changes,
            )
            .map(|child| (child, updater.writes));
        return vec![(*n, result)];
    }
    let (left, right) = groups.split_at(groups.len() / 2);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    join.join(&mut || a = subtrees(source, node, left, join), &mut || {
        b = subtrees(source, node, right, join)
    });
    a.extend(b);
    a
}

/// The root of a tree holding exactly `entries` (key hash, value hash; sorted, each key once),
/// with the nodes it would store.
///
/// # Errors
/// Entries not sorted ([`StoreError::Inconsistent`]).
pub fn build(entries: &[(KeyHash, ValueHash)]) -> Result<TreeUpdate, StoreError> {
    let changes: Vec<_> = entries.iter().map(|(k, v)| (*k, Some(*v))).collect();
    update(&NoNodes, &Child::Empty, &changes)
}

/// The state root of a tree holding exactly `entries` (tree key, value), in any order: what a
/// chain spec's genesis header commits to, and what a store's incrementally kept root must
/// equal.
///
/// # Errors
/// The same key twice ([`StoreError::Inconsistent`]).
pub fn root_of_entries<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    entries: impl IntoIterator<Item = (K, V)>,
) -> Result<Hash256, StoreError> {
    Ok(Hash256::from_byte_array(
        build_of_entries(entries)?.root.hash(),
    ))
}

/// [`build`] for `entries` (tree key, value) in any order: the root and every node of the
/// tree holding exactly them (how a store rebuilds the nodes it keeps only in memory).
///
/// # Errors
/// The same key twice ([`StoreError::Inconsistent`]).
pub fn build_of_entries<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    entries: impl IntoIterator<Item = (K, V)>,
) -> Result<TreeUpdate, StoreError> {
    let mut hashed: Vec<(KeyHash, ValueHash)> = entries
        .into_iter()
        .map(|(k, v)| (sha256(k.as_ref()), sha256(v.as_ref())))
        .collect();
    hashed.sort_unstable_by_key(|e| e.0);
    build(&hashed)
}

struct Updater<'a> {
    source: &'a dyn NodeSource,
    writes: Vec<(NodePath, Option<Node>)>,
}

impl Updater<'_> {
    /// The new content of position `path`, which holds `child`, after `changes` (all under
    /// `path`).
    fn child(
        &mut self,
        path: NodePath,
        child: Child,
        changes: &[Change],
    ) -> Result<Child, StoreError> {
        if changes.is_empty() {
            return Ok(child);
        }
        match child {
            Child::Empty => self.fresh(path, changes.iter().filter_map(|(k, v)| Some((*k, (*v)?)))),
            Child::Leaf { key, value } => {
                // The old leaf merged into the changes (which win), in key order.
                let at = changes.partition_point(|(k, _)| *k < key);
                let old = (changes.get(at).map(|(k, _)| *k) != Some(key)).then_some((key, value));
                let before = changes[..at].iter().filter_map(|(k, v)| Some((*k, (*v)?)));
                let after = changes[at..].iter().filter_map(|(k, v)| Some((*k, (*v)?)));
                self.fresh(path, before.chain(old).chain(after))
            }
            Child::Node(_) => {
                let node = self.source.node(&path)?.ok_or_else(|| {
                    StoreError::Inconsistent(format!(
                        "state tree node at depth {} is missing",
                        path.len()
                    ))
                })?;
                self.node(path, node, changes, true)
            }
        }
    }

    /// The node at `path` after `changes`; `stored`: whether it is in the store now.
    fn node(
        &mut self,
        path: NodePath,
        mut node: Node,
        changes: &[Change],
        stored: bool,
    ) -> Result<Child, StoreError> {
        let depth = path.len();
        if depth >= MAX_DEPTH {
            return Err(StoreError::Inconsistent(
                "state tree deeper than a key hash".into(),
            ));
        }
        let mut rest = changes;
        while let Some((first, _)) = rest.first() {
            let n = nibble(first, depth);
            let end = rest.partition_point(|(k, _)| nibble(k, depth) <= n);
            let (group, tail) = rest.split_at(end);
            rest = tail;
            node.children[n as usize] =
                self.child(path.child(n), node.children[n as usize], group)?;
        }
        Ok(self.settle(path, node, stored))
    }

    /// A subtree at `path` holding exactly `entries` (sorted), where nothing is stored yet.
    fn fresh(
        &mut self,
        path: NodePath,
        entries: impl Iterator<Item = (KeyHash, ValueHash)>,
    ) -> Result<Child, StoreError> {
        let entries: Vec<_> = entries.collect();
        match entries.as_slice() {
            [] => Ok(Child::Empty),
            [(key, value)] => Ok(Child::Leaf {
                key: *key,
                value: *value,
            }),
            _ => {
                let changes: Vec<_> = entries.into_iter().map(|(k, v)| (k, Some(v))).collect();
                self.node(path, Node::default(), &changes, false)
            }
        }
    }

    /// What a parent sees of the node at `path`: nothing, a single leaf moved up (the node is
    /// no longer stored), or the stored node's hash.
    fn settle(&mut self, path: NodePath, node: Node, stored: bool) -> Child {
        let mut present = node.children.iter().filter(|c| **c != Child::Empty);
        let only = match (present.next(), present.next()) {
            (None, _) => Some(Child::Empty),
            (Some(leaf @ Child::Leaf { .. }), None) => Some(*leaf),
            _ => None,
        };
        match only {
            Some(child) => {
                if stored {
                    self.writes.push((path, None));
                }
                child
            }
            None => {
                let hash = node.hash();
                self.writes.push((path, Some(node)));
                Child::Node(hash)
            }
        }
    }
}

/// The proof for `key_hash` in the tree whose root position holds `root`.
///
/// # Errors
/// Storage failures; a node the tree names but `source` lacks.
pub fn prove(
    source: &dyn NodeSource,
    root: &Child,
    key_hash: &KeyHash,
) -> Result<StateProof, StoreError> {
    let mut siblings = Vec::new();
    let mut current = *root;
    let mut path = NodePath::ROOT;
    let leaf = loop {
        match current {
            Child::Empty => break None,
            Child::Leaf { key, value } => {
                break Some(ProofLeaf {
                    key_hash: Hash256::from_byte_array(key),
                    value_hash: Hash256::from_byte_array(value),
                });
            }
            Child::Node(_) => {
                let node = source.node(&path)?.ok_or_else(|| {
                    StoreError::Inconsistent(format!(
                        "state tree node at depth {} is missing",
                        path.len()
                    ))
                })?;
                let n = nibble(key_hash, path.len()) as usize;
                let (mut lo, mut hi) = (0, 16);
                // Down the node's four binary levels until the key's subtree is a single
                // child, empty, or one leaf.
                current = loop {
                    if hi - lo == 1 {
                        path = path.child(lo as u8);
                        break node.children[lo];
                    }
                    match node.summary(lo, hi) {
                        Summary::Empty => break Child::Empty,
                        Summary::One(i) => break node.children[i],
                        Summary::Many(_) => {}
                    }
                    let mid = (lo + hi) / 2;
                    let sibling = if n < mid {
                        let s = node.summary(mid, hi).hash(&node);
                        hi = mid;
                        s
                    } else {
                        let s = node.summary(lo, mid).hash(&node);
                        lo = mid;
                        s
                    };
                    siblings.push(Hash256::from_byte_array(sibling));
                };
            }
        }
    };
    siblings.reverse();
    Ok(StateProof { leaf, siblings })
}

#[cfg(test)]
mod tests;
