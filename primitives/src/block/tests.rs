use parity_scale_codec::{Compact, Encode};
use proptest::prelude::*;

use super::*;
use crate::test_util::{arb_block, arb_header, largest_allocation_during, sample_transaction};

fn producer_header(signature: Vec<u8>) -> Header {
    Header {
        version: 1,
        parent: BlockHash::from_byte_array([9; 32]),
        height: 42,
        time: 1_700_000_000,
        tx_root: Hash256::from_byte_array([1; 32]),
        state_root: Hash256::ZERO,
        seal: Seal::Producer {
            slot: 7,
            pubkey: [2; 33],
            signature,
        },
    }
}

#[test]
fn header_hash_is_sha256d_of_its_scale_encoding() {
    let header = producer_header(vec![0xaa; 70]);
    assert_eq!(
        header.hash(),
        BlockHash::from_byte_array(sha256d(&header.encode()))
    );
    let block = Block {
        header: header.clone(),
        transactions: vec![],
    };
    assert_eq!(block.hash(), header.hash());
}

#[test]
fn signing_hash_ignores_the_signature_but_commits_to_everything_else() {
    let signed = producer_header(vec![0xaa; 70]);
    let unsigned = producer_header(vec![]);
    assert_eq!(signed.signing_hash(), unsigned.signing_hash());
    assert_eq!(
        signed.signing_hash(),
        Hash256::from_byte_array(unsigned.hash().to_byte_array())
    );
    assert_ne!(
        signed.hash(),
        unsigned.hash(),
        "the block hash covers the signature"
    );

    let mut other_slot = signed.clone();
    if let Seal::Producer { slot, .. } = &mut other_slot.seal {
        *slot = 8;
    }
    assert_ne!(other_slot.signing_hash(), signed.signing_hash());
    let mut other_time = signed.clone();
    other_time.time += 1;
    assert_ne!(other_time.signing_hash(), signed.signing_hash());

    let pow = Header {
        seal: Seal::Pow {
            bits: 0x1d00ffff,
            nonce: 5,
        },
        ..signed
    };
    assert_eq!(
        pow.signing_hash().to_byte_array(),
        pow.hash().to_byte_array()
    );
}

#[test]
fn header_encoding_has_the_documented_size() {
    let pow = Header {
        seal: Seal::Pow { bits: 0, nonce: 0 },
        ..producer_header(vec![])
    };
    assert_eq!(pow.encode().len(), 116 + 13);
    assert!(producer_header(vec![0; 72]).encode().len() < MAX_HEADER_DECODE_SIZE);
}

#[test]
fn block_tx_root_is_the_merkle_root_of_its_txids() {
    let tx = sample_transaction();
    let mut other = sample_transaction();
    other.lock_time = 0;
    let block = Block {
        header: producer_header(vec![]),
        transactions: vec![tx.clone(), other.clone()],
    };
    assert_eq!(block.txids(), vec![tx.txid(), other.txid()]);
    assert_eq!(
        block.compute_tx_root(),
        merkle_root(&[tx.txid(), other.txid()])
    );
}

#[test]
fn decode_strict_rejects_trailing_truncated_and_oversized_blocks() {
    let block = Block {
        header: producer_header(vec![1, 2, 3]),
        transactions: vec![sample_transaction()],
    };
    let bytes = block.encode();
    assert_eq!(Block::decode_strict(&bytes), Ok(block.clone()));
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(&[0, 0]);
    assert_eq!(
        Block::decode_strict(&trailing),
        Err(DecodeError::TrailingBytes {
            what: "block",
            count: 2
        })
    );
    for len in 0..bytes.len() {
        assert!(Block::decode_strict(&bytes[..len]).is_err(), "prefix {len}");
    }
    let header_bytes = block.header.encode();
    assert_eq!(Header::decode_strict(&header_bytes), Ok(block.header));
    assert!(matches!(
        Header::decode_strict(&vec![0; MAX_HEADER_DECODE_SIZE + 1]),
        Err(DecodeError::TooLarge { what: "header", .. })
    ));
    assert!(matches!(
        Block::decode_strict(&vec![0; MAX_BLOCK_DECODE_SIZE + 1]),
        Err(DecodeError::TooLarge { what: "block", .. })
    ));
}

#[test]
fn a_block_announcing_2_pow_30_transactions_fails_without_allocating_for_them() {
    let mut bytes = producer_header(vec![]).encode();
    Compact(1u32 << 30).encode_to(&mut bytes);
    let (result, largest) = largest_allocation_during(|| Block::decode_strict(&bytes));
    assert!(matches!(result, Err(DecodeError::Invalid { .. })));
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
}

#[test]
fn json_tags_seals_by_type() {
    let header = producer_header(vec![0xab]);
    let json = serde_json::to_value(&header).unwrap();
    assert_eq!(json["seal"]["type"], "producer");
    assert_eq!(json["seal"]["signature"], "ab");
    assert_eq!(json["seal"]["pubkey"], "02".repeat(33));
    assert_eq!(json["parent"], "09".repeat(32));
    assert_eq!(json["height"], 42);
    let pow = serde_json::to_value(Seal::Pow {
        bits: 0x1d00ffff,
        nonce: 3,
    })
    .unwrap();
    assert_eq!(
        pow,
        serde_json::json!({"type": "pow", "bits": 0x1d00ffffu32, "nonce": 3})
    );
}

proptest! {
    #[test]
    fn headers_round_trip_through_scale_and_json(header in arb_header()) {
        let bytes = header.encode();
        prop_assert_eq!(Header::decode_strict(&bytes), Ok(header.clone()));
        let json = serde_json::to_string(&header).unwrap();
        prop_assert_eq!(serde_json::from_str::<Header>(&json).unwrap(), header);
    }

    #[test]
    fn blocks_round_trip_through_scale(block in arb_block()) {
        let bytes = block.encode();
        prop_assert_eq!(Block::decode_strict(&bytes), Ok(block));
    }

    #[test]
    fn random_bytes_never_panic_the_block_and_header_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024)
    ) {
        let _ = Block::decode_strict(&bytes);
        let _ = Header::decode_strict(&bytes);
    }
}
