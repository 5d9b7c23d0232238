//! The transaction merkle root committed to by [`crate::Header::tx_root`].
//!
//! Each level pairs neighbours and hashes them as `sha256d(left || right)`. A node left without a
//! partner at the end of a level is **carried up unchanged**, not paired with itself.
//!
//! Bitcoin pairs an odd node with a copy of itself, so the lists `[a, b, c]` and `[a, b, c, c]`
//! have the same root; a block with a duplicated transaction then shares its header hash with
//! the valid block, and a node that marked the mutated block's hash invalid would also reject the
//! valid one (CVE-2012-2459). Carrying the odd node up gives the two lists different roots (the
//! first is `H(H(a‖b)‖c)`, the second `H(H(a‖b)‖H(c‖c))`).
//!
//! An empty list has root [`Hash256::ZERO`] (no block is empty, it always has a coinbase, but the
//! function is total). A single txid is its own root.
//!
//! # Caveat: 64-byte transactions
//! Leaves (txids, `sha256d` of a transaction's encoding) and inner nodes (`sha256d` of 64 bytes)
//! are hashed the same way. A transaction whose SCALE encoding is exactly 64 bytes therefore has
//! the txid of an inner node whose children are its two 32-byte halves, and a list holding those
//! two "txids" has the same root as one holding the transaction (see the test
//! `a_64_byte_transaction_has_the_txid_of_an_inner_node`). This is Bitcoin's 64-byte transaction
//! weakness; as in BIP54 (consensus cleanup), block validation must reject transactions whose
//! encoding is exactly [`INNER_NODE_PREIMAGE_LEN`] bytes. With that rule every hash in the tree is
//! unambiguously a leaf or an inner node, and distinct lists have distinct roots.

use crate::hash::{Hash256, Txid, sha256d};

/// Length of an inner node's preimage (two 32-byte hashes). Block validation must reject a
/// transaction whose SCALE encoding has exactly this length (see the module docs).
pub const INNER_NODE_PREIMAGE_LEN: usize = 64;

/// `sha256d(left || right)`.
fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut preimage = [0u8; INNER_NODE_PREIMAGE_LEN];
    preimage[..32].copy_from_slice(left);
    preimage[32..].copy_from_slice(right);
    sha256d(&preimage)
}

/// The merkle root of `txids` in order (see the module docs for the tree's shape).
pub fn merkle_root(txids: &[Txid]) -> Hash256 {
    let mut level: Vec<[u8; 32]> = txids.iter().map(|t| t.to_byte_array()).collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match *pair {
                [left, right] => next.push(hash_pair(&left, &right)),
                [odd] => next.push(odd),
                _ => {}
            }
        }
        level = next;
    }
    // One node left is the root; none means an empty list.
    level
        .first()
        .map_or(Hash256::ZERO, |root| Hash256::from_byte_array(*root))
}

#[cfg(test)]
mod tests {
    use i8o8i_script_vm::ScriptBuf;
    use parity_scale_codec::Encode;
    use proptest::prelude::*;

    use super::*;
    use crate::transaction::{OutPoint, Transaction, TxIn};

    fn leaf(n: u8) -> Txid {
        Txid::from_byte_array([n; 32])
    }

    fn h(left: [u8; 32], right: [u8; 32]) -> [u8; 32] {
        let mut v = left.to_vec();
        v.extend_from_slice(&right);
        sha256d(&v)
    }

    #[test]
    fn roots_of_small_lists_match_hand_computed_trees() {
        let [a, b, c, d, e] = [1, 2, 3, 4, 5].map(|n| [n; 32]);
        assert_eq!(merkle_root(&[]), Hash256::ZERO);
        assert_eq!(merkle_root(&[leaf(1)]), Hash256::from_byte_array(a));
        assert_eq!(
            merkle_root(&[leaf(1), leaf(2)]),
            Hash256::from_byte_array(h(a, b))
        );
        assert_eq!(
            merkle_root(&[leaf(1), leaf(2), leaf(3)]),
            Hash256::from_byte_array(h(h(a, b), c))
        );
        assert_eq!(
            merkle_root(&[leaf(1), leaf(2), leaf(3), leaf(4), leaf(5)]),
            Hash256::from_byte_array(h(h(h(a, b), h(c, d)), e))
        );
        // Pinned, so a change to the tree's shape or hash function is caught.
        assert_eq!(
            merkle_root(&[leaf(1), leaf(2), leaf(3), leaf(4), leaf(5)]).to_string(),
            "c0da3e026e4b3428038b6cc0c152f3756347e4e83ff8be563038d2b04d7a5227"
        );
    }

    #[test]
    fn duplicating_the_last_txid_changes_the_root() {
        let three = [leaf(1), leaf(2), leaf(3)];
        let four = [leaf(1), leaf(2), leaf(3), leaf(3)];
        assert_ne!(merkle_root(&three), merkle_root(&four));
        let five = [leaf(1), leaf(2), leaf(3), leaf(4), leaf(5)];
        let six = [leaf(1), leaf(2), leaf(3), leaf(4), leaf(5), leaf(5)];
        assert_ne!(merkle_root(&five), merkle_root(&six));
        // Bitcoin's rule (pair the odd node with itself) would give `three` this same root.
        let [a, b, c] = [1, 2, 3].map(|n| [n; 32]);
        assert_eq!(
            merkle_root(&four),
            Hash256::from_byte_array(h(h(a, b), h(c, c)))
        );
    }

    #[test]
    fn a_64_byte_transaction_has_the_txid_of_an_inner_node() {
        // One input with a 12-byte script_sig, no outputs, no payload: 64 bytes of SCALE.
        let tx = Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint {
                    txid: Txid::from_byte_array([7; 32]),
                    index: 0,
                },
                script_sig: ScriptBuf::from_bytes(vec![0x51; 12]),
                sequence: 0,
            }],
            outputs: vec![],
            lock_time: 0,
            payload: None,
        };
        let bytes = tx.encode();
        assert_eq!(bytes.len(), INNER_NODE_PREIMAGE_LEN);
        let mut halves = [[0u8; 32]; 2];
        halves[0].copy_from_slice(&bytes[..32]);
        halves[1].copy_from_slice(&bytes[32..]);
        assert_eq!(
            merkle_root(&[tx.txid()]),
            merkle_root(&halves.map(Txid::from_byte_array)),
            "why validation must reject 64-byte transactions"
        );
    }

    proptest! {
        #[test]
        fn appending_a_copy_of_the_last_txid_always_changes_the_root(
            leaves in proptest::collection::vec(any::<[u8; 32]>(), 1..40)
        ) {
            let txids: Vec<Txid> = leaves.into_iter().map(Txid::from_byte_array).collect();
            let mut longer = txids.clone();
            longer.push(txids[txids.len() - 1]);
            prop_assert_ne!(merkle_root(&txids), merkle_root(&longer));
        }
    }
}
