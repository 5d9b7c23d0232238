use std::collections::{BTreeMap, HashMap};

use jmt::storage::{LeafNode, Node as JmtNode, NodeKey, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash as JmtKey, OwnedValue, SimpleHasher, Version};

use super::*;
use crate::state_proof::ProofError;

/// The nodes of one tree, stored the way a node stores them.
#[derive(Default, Clone, PartialEq, Eq, Debug)]
struct Memory {
    root: Child,
    nodes: BTreeMap<NodePath, Node>,
}

impl NodeSource for Memory {
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError> {
        Ok(self.nodes.get(path).cloned())
    }
}

impl Memory {
    fn apply(&mut self, changes: &[(KeyHash, Option<ValueHash>)]) {
        let update = update(self, &self.root, changes).unwrap();
        for (path, node) in update.nodes {
            // Stored bytes, decoded again: the encoding is part of what is tested.
            match node {
                Some(node) => {
                    let bytes = node.encode();
                    assert_eq!(Node::decode(&bytes).as_ref(), Ok(&node));
                    self.nodes.insert(path, node)
                }
                None => self.nodes.remove(&path),
            };
        }
        self.root = update.root;
    }
}

/// `jmt` with SHA-256, in memory: the oracle for roots.
struct Sha(sha2::Sha256);

impl SimpleHasher for Sha {
    fn new() -> Self {
        use sha2::Digest;
        Sha(sha2::Sha256::new())
    }
    fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        self.0.update(data);
    }
    fn finalize(self) -> [u8; 32] {
        use sha2::Digest;
        self.0.finalize().into()
    }
}

#[derive(Default)]
struct JmtMemory {
    nodes: HashMap<NodeKey, JmtNode>,
    values: HashMap<(Version, JmtKey), Option<OwnedValue>>,
}

impl TreeReader for JmtMemory {
    fn get_node_option(&self, key: &NodeKey) -> anyhow::Result<Option<JmtNode>> {
        Ok(self.nodes.get(key).cloned())
    }
    fn get_value_option(&self, max: Version, key: JmtKey) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self
            .values
            .iter()
            .filter(|((v, k), _)| *k == key && *v <= max)
            .max_by_key(|((v, _), _)| *v)
            .and_then(|(_, value)| value.clone()))
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        unreachable!("not restored")
    }
}

impl JmtMemory {
    /// Applies `changes` (tree key → value) as `version`; the root.
    fn apply(&mut self, version: Version, changes: &[(Vec<u8>, Option<Vec<u8>>)]) -> [u8; 32] {
        let set: Vec<(JmtKey, Option<OwnedValue>)> = changes
            .iter()
            .map(|(k, v)| (JmtKey::with::<Sha>(k), v.clone()))
            .collect();
        let (root, batch) = JellyfishMerkleTree::<_, Sha>::new(&*self)
            .put_value_set(set, version)
            .unwrap();
        for (key, node) in batch.node_batch.nodes() {
            self.nodes.insert(key.clone(), node.clone());
        }
        for ((v, k), value) in batch.node_batch.values() {
            self.values.insert((*v, *k), value.clone());
        }
        root.0
    }
}

/// A deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn key(i: u64) -> Vec<u8> {
    format!("key {i}").into_bytes()
}

fn value(i: u64, round: u64) -> Vec<u8> {
    format!("value {i} of round {round}").into_bytes()
}

#[test]
fn roots_equal_jmt_and_the_layout_is_the_entries_alone_through_inserts_updates_and_removals() {
    let mut rng = Rng(7);
    let mut ours = Memory::default();
    let mut oracle = JmtMemory::default();
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    assert_eq!(ours.root.hash(), EMPTY_SUBTREE);
    for round in 0..40u64 {
        // Early rounds grow the tree; later ones shrink it back towards a single entry.
        let size = if round < 30 { 1 + rng.below(120) } else { 60 };
        let mut changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        for _ in 0..size {
            let i = rng.below(400);
            let remove = round >= 30 || rng.below(4) == 0;
            changes.push((key(i), (!remove).then(|| value(i, round))));
        }
        // Each key once (the last change wins, as in a block).
        let changes: Vec<_> = changes
            .into_iter()
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        for (k, v) in &changes {
            match v {
                Some(v) => model.insert(k.clone(), v.clone()),
                None => model.remove(k),
            };
        }
        ours.apply(&hashed_changes(
            changes.iter().map(|(k, v)| (k, v.as_ref())),
        ));
        let expected = oracle.apply(round, &changes);
        assert_eq!(ours.root.hash(), expected, "round {round}: jmt's root");
        assert_eq!(
            root_of_entries(&model).unwrap().to_byte_array(),
            expected,
            "round {round}: the root of the entries alone"
        );
        // The same nodes as a tree built from the entries at once.
        let mut fresh = Memory::default();
        fresh.apply(&hashed_changes(model.iter().map(|(k, v)| (k, Some(v)))));
        assert_eq!(
            fresh, ours,
            "round {round}: the layout depends on the entries only"
        );
    }
    // Down to one entry: a single leaf at the root, nothing stored.
    let last: Vec<(Vec<u8>, Option<Vec<u8>>)> =
        model.keys().skip(1).map(|k| (k.clone(), None)).collect();
    ours.apply(&hashed_changes(last.iter().map(|(k, v)| (k, v.as_ref()))));
    assert_eq!(ours.root.hash(), oracle.apply(40, &last));
    assert!(matches!(ours.root, Child::Leaf { .. }));
    assert!(ours.nodes.is_empty());
}

/// Halves on two threads, as the node's pool does.
struct Threads;

impl Join for Threads {
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        std::thread::scope(|s| {
            s.spawn(a);
            b();
        });
    }
}

#[test]
fn a_parallel_update_writes_what_the_sequential_one_does() {
    let mut tree = Memory::default();
    tree.apply(&hashed_changes(
        (0..3_000).map(|i| (key(i), Some(value(i, 0)))),
    ));
    let changes = hashed_changes(
        (0..1_500)
            .map(|i| (key(i * 2), (i % 4 != 0).then(|| value(i, 1))))
            .chain((5_000..5_400).map(|i| (key(i), Some(value(i, 1))))),
    );
    let sequential = update(&tree, &tree.root, &changes).unwrap();
    for join in [&Threads as &dyn Join, &Sequential] {
        let mut parallel = update_parallel(&tree, &tree.root, &changes, join).unwrap();
        let mut expected = sequential.clone();
        parallel.nodes.sort_by_key(|(path, _)| *path);
        expected.nodes.sort_by_key(|(path, _)| *path);
        assert_eq!(parallel, expected);
    }
    // Small change sets and unsorted ones take the plain path and its checks.
    let mut unsorted = changes.clone();
    unsorted.swap(3, 4);
    assert!(update_parallel(&tree, &tree.root, &unsorted, &Threads).is_err());
}

#[test]
fn the_reverse_changes_give_back_the_same_nodes() {
    let mut tree = Memory::default();
    let entries: Vec<_> = (0..500).map(|i| (key(i), Some(value(i, 0)))).collect();
    tree.apply(&hashed_changes(entries));
    let before = tree.clone();
    // A "block": updates, removals, insertions; then its undo.
    let forward: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..40)
        .map(|i| (key(i * 13), (i % 3 != 0).then(|| value(i, 1))))
        .chain((600..620).map(|i| (key(i), Some(value(i, 1)))))
        .collect();
    let backward: Vec<(Vec<u8>, Option<Vec<u8>>)> = forward
        .iter()
        .map(|(k, _)| {
            let i: u64 = String::from_utf8_lossy(&k[4..]).parse().unwrap();
            (k.clone(), (i < 500).then(|| value(i, 0)))
        })
        .collect();
    tree.apply(&hashed_changes(forward));
    assert_ne!(tree.root, before.root);
    tree.apply(&hashed_changes(backward));
    assert_eq!(tree, before);
}

#[test]
fn small_trees_have_the_expected_roots() {
    assert_eq!(
        root_of_entries(Vec::<(Vec<u8>, Vec<u8>)>::new()),
        Ok(Hash256::from_byte_array(EMPTY_SUBTREE))
    );
    let one = root_of_entries([(b"k".to_vec(), b"v".to_vec())]).unwrap();
    assert_eq!(
        one.to_byte_array(),
        leaf_hash(&sha256(b"k"), &sha256(b"v")),
        "a single entry is its own leaf"
    );
    let mut tree = Memory::default();
    tree.apply(&hashed_changes([(b"k", Some(b"v")), (b"l", Some(b"w"))]));
    assert_eq!(
        tree.nodes.len(),
        1,
        "two entries: one stored node, at the root"
    );
    tree.apply(&hashed_changes([(b"l", None::<&[u8]>)]));
    assert_eq!(tree.root.hash(), one.to_byte_array());
    assert!(
        tree.nodes.is_empty(),
        "back to a single leaf, nothing stored"
    );
    tree.apply(&hashed_changes([
        (&b"k"[..], None::<&[u8]>),
        (&b"absent"[..], None),
    ]));
    assert_eq!(tree, Memory::default());
}

#[test]
fn proofs_verify_for_present_and_absent_keys_and_fail_on_any_change() {
    let mut tree = Memory::default();
    tree.apply(&hashed_changes(
        (0..300).map(|i| (key(i), Some(value(i, 0)))),
    ));
    let root = Hash256::from_byte_array(tree.root.hash());
    for i in [0, 1, 77, 299] {
        let proof = prove(&tree, &tree.root, &sha256(&key(i))).unwrap();
        assert_eq!(proof.verify(&root, &key(i), Some(&value(i, 0))), Ok(()));
        assert_eq!(
            proof.verify(&root, &key(i), Some(&value(i, 1))),
            Err(ProofError::OtherValue)
        );
        assert_eq!(proof.verify(&root, &key(i), None), Err(ProofError::Present));
        for s in 0..proof.siblings.len() {
            let mut bent = proof.clone();
            let mut bytes = bent.siblings[s].to_byte_array();
            bytes[s % 32] ^= 1;
            bent.siblings[s] = Hash256::from_byte_array(bytes);
            assert_eq!(
                bent.verify(&root, &key(i), Some(&value(i, 0))),
                Err(ProofError::RootMismatch)
            );
        }
    }
    for i in 300..400 {
        let proof = prove(&tree, &tree.root, &sha256(&key(i))).unwrap();
        assert_eq!(proof.verify(&root, &key(i), None), Ok(()), "absent key {i}");
        assert_eq!(
            proof.verify(&root, &key(i), Some(&value(i, 0))),
            Err(ProofError::Absent)
        );
    }
    // Proofs in a tree of one entry, and in the empty tree.
    let mut single = Memory::default();
    single.apply(&hashed_changes([(b"k", Some(b"v"))]));
    let root = Hash256::from_byte_array(single.root.hash());
    let present = prove(&single, &single.root, &sha256(b"k")).unwrap();
    assert!(present.siblings.is_empty());
    assert_eq!(present.verify(&root, b"k", Some(b"v")), Ok(()));
    let absent = prove(&single, &single.root, &sha256(b"x")).unwrap();
    assert_eq!(absent.verify(&root, b"x", None), Ok(()));
    let empty = Memory::default();
    let proof = prove(&empty, &empty.root, &sha256(b"x")).unwrap();
    assert_eq!(
        proof.verify(&Hash256::from_byte_array(EMPTY_SUBTREE), b"x", None),
        Ok(())
    );
}

#[test]
fn encodings_decode_exactly_and_refuse_anything_else() {
    let mut tree = Memory::default();
    tree.apply(&hashed_changes(
        (0..50).map(|i| (key(i), Some(value(i, 0)))),
    ));
    let node = tree.nodes.values().next().unwrap().clone();
    let bytes = node.encode();
    assert_eq!(Node::decode(&bytes), Ok(node));
    for bad in [
        &bytes[..bytes.len() - 1],
        &[bytes.as_slice(), &[0]].concat()[..],
        &bytes[..3],
    ] {
        assert!(matches!(Node::decode(bad), Err(StoreError::Corrupt { .. })));
    }
    // A leaf bit without its presence bit.
    assert!(Node::decode(&[0, 0, 1, 0]).is_err());
    for child in [
        Child::Empty,
        Child::Node([3; 32]),
        Child::Leaf {
            key: [1; 32],
            value: [2; 32],
        },
    ] {
        assert_eq!(Child::decode(&child.encode()), Ok(child));
    }
    assert!(Child::decode(&[2; 32]).is_err());
    assert!(Child::decode(&[]).is_err());
    for path in tree.nodes.keys() {
        assert_eq!(NodePath::from_key(&path.to_key()), Some(*path));
    }
    assert_eq!(NodePath::from_key(&[1, 0x11]), None, "stray low nibble");
    assert_eq!(NodePath::from_key(&[65]), None);
    assert_eq!(NodePath::from_key(&[2, 0x12, 0x34]), None, "too long");
}

#[test]
fn unsorted_changes_and_missing_nodes_are_errors_not_wrong_roots() {
    let mut changes = hashed_changes((0..4).map(|i| (key(i), Some(value(i, 0)))));
    changes.swap(0, 1);
    assert!(matches!(
        update(&NoNodes, &Child::Empty, &changes),
        Err(StoreError::Inconsistent(_))
    ));
    let mut tree = Memory::default();
    tree.apply(&hashed_changes(
        (0..40).map(|i| (key(i), Some(value(i, 0)))),
    ));
    let root = tree.root;
    tree.nodes.clear();
    assert!(matches!(
        update(&tree, &root, &hashed_changes([(key(1), None::<Vec<u8>>)])),
        Err(StoreError::Inconsistent(_))
    ));
}
