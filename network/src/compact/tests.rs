use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
use i8o8i_primitives::{Amount, Block, Hash256, Header, OutPoint, Seal, Transaction, Txid};

use super::*;

/// A block of a coinbase and `n` one-in one-out P2PKH payments (the 1,000-transaction
/// block), its transaction root set.
fn block_of(n: usize) -> Block {
    let chain_id = Hash256::from_byte_array([9; 32]);
    let key = secret_key(1);
    let mut transactions = vec![coinbase()];
    for i in 0..n {
        let prevout = OutPoint {
            txid: Txid::from_byte_array([(i % 251) as u8; 32]),
            index: i as u32,
        };
        transactions.push(p2pkh_spend(
            prevout,
            Amount::from_units(100_000),
            &key,
            p2pkh_script(&secret_key(2)),
            Amount::from_units(1_000),
            &chain_id,
        ));
    }
    let mut block = Block {
        header: Header {
            version: 1,
            parent: BlockHash::from_byte_array([1; 32]),
            height: 7,
            time: 1_767_225_600,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal: Seal::Pow {
                bits: 0x207f_ffff,
                nonce: 3,
            },
        },
        transactions,
    };
    block.header.tx_root = block.compute_tx_root();
    block
}

/// A coinbase-shaped transaction (one input spending nothing), enough for relay tests.
fn coinbase() -> Transaction {
    Transaction {
        version: 2,
        inputs: vec![i8o8i_primitives::TxIn {
            prevout: OutPoint {
                txid: Txid::ZERO,
                index: u32::MAX,
            },
            script_sig: p2pkh_script(&secret_key(4)),
            sequence: u32::MAX,
        }],
        outputs: vec![i8o8i_primitives::TxOut {
            value: Amount::from_units(50),
            script_pubkey: p2pkh_script(&secret_key(3)),
        }],
        lock_time: 0,
        payload: None,
    }
}

#[test]
fn a_1000_transaction_block_travels_in_under_five_percent_of_its_bytes() {
    let block = block_of(1_000);
    let compact = CompactBlock::with_nonce(&block, 42);
    let (full, small) = (block.encode().len(), compact.encode().len());
    // Header, nonce, 1,000 six-byte ids and the coinbase.
    assert_eq!(compact.short_ids.len(), 1_000);
    assert_eq!(compact.prefilled.len(), 1);
    assert!(small * 100 < full * 5, "{small} bytes against {full}");
    eprintln!(
        "1,000-transaction block: {full} bytes whole, {small} compact ({:.2} %)",
        small as f64 * 100.0 / full as f64
    );
    assert_eq!(
        CompactBlock::decode_bytes(&compact.encode()),
        Ok(compact.clone())
    );
}

#[test]
fn blocks_rebuild_with_none_some_or_all_transactions_missing() {
    let block = block_of(50);
    let compact = CompactBlock::new(&block);
    let pool: Vec<Transaction> = block.transactions[1..].to_vec();

    // Everything pooled (plus unrelated pool transactions): nothing to ask for.
    let mut everything = pool.clone();
    everything.extend(block_of(5).transactions[1..].iter().map(|tx| {
        let mut other = tx.clone();
        other.lock_time = 1;
        other
    }));
    let partial = compact.rebuild(everything);
    assert!(partial.missing().is_empty());
    assert_eq!(
        partial.complete(vec![]),
        Ok(Rebuilt::Block(Box::new(block.clone())))
    );

    // The odd ones pooled: exactly the even indexes (past the coinbase) are missing.
    let odd: Vec<Transaction> = (1..=50)
        .filter(|i| i % 2 == 1)
        .map(|i| block.transactions[i].clone())
        .collect();
    let partial = compact.rebuild(odd);
    let even: Vec<u32> = (1..=50).filter(|i| i % 2 == 0).collect();
    assert_eq!(partial.missing(), even.as_slice());
    let fill = even
        .iter()
        .map(|i| block.transactions[*i as usize].clone())
        .collect();
    assert_eq!(
        partial.complete(fill),
        Ok(Rebuilt::Block(Box::new(block.clone())))
    );

    // An empty pool: all but the coinbase missing.
    let partial = compact.rebuild(Vec::new());
    assert_eq!(partial.missing(), (1..=50).collect::<Vec<u32>>().as_slice());
    assert_eq!(
        partial.clone().complete(pool.clone()),
        Ok(Rebuilt::Block(Box::new(block.clone())))
    );

    // A wrong transaction for a slot: the root gives it away; a short fill is an error.
    let mut wrong = pool.clone();
    wrong[3].lock_time = 9;
    assert_eq!(partial.clone().complete(wrong), Ok(Rebuilt::Mismatch));
    assert_eq!(
        partial.complete(pool[..49].to_vec()),
        Err(CompactError::WrongFill {
            got: 49,
            missing: 50
        })
    );

    // Sent whole: nothing to look up.
    let whole = CompactBlock::full(&block).rebuild(Vec::new());
    assert_eq!(whole.complete(vec![]), Ok(Rebuilt::Block(Box::new(block))));
}

#[test]
fn two_pool_transactions_sharing_a_short_id_count_as_missing() {
    let block = block_of(3);
    let compact = CompactBlock::new(&block);
    let key = compact.key();
    // Search for a transaction whose short id equals block transaction 2's, by varying its
    // lock time, would take 2^48 tries; instead offer block transaction 2 twice (the same
    // short id twice is what a collision looks like to the pool scan).
    let twice = vec![
        block.transactions[1].clone(),
        block.transactions[2].clone(),
        block.transactions[2].clone(),
        block.transactions[3].clone(),
    ];
    assert_eq!(
        key.short_id(&block.transactions[2].txid()),
        compact.short_ids[1]
    );
    let partial = compact.rebuild(twice);
    assert_eq!(partial.missing(), &[2]);
}

#[test]
fn malformed_compact_blocks_are_typed_errors() {
    let block = block_of(4);
    let good = CompactBlock::new(&block);

    let mut empty = good.clone();
    empty.short_ids.clear();
    empty.prefilled.clear();
    assert_eq!(
        CompactBlock::decode_bytes(&empty.encode()),
        Err(CompactError::BadCount(0))
    );

    let mut beyond = good.clone();
    beyond.prefilled.push(Prefilled {
        index: 6,
        tx: block.transactions[1].clone(),
    });
    assert_eq!(
        CompactBlock::decode_bytes(&beyond.encode()),
        Err(CompactError::BadIndex { index: 6, count: 6 })
    );

    let mut repeated = CompactBlock::full(&block);
    repeated.prefilled[2].index = 1;
    assert_eq!(
        CompactBlock::decode_bytes(&repeated.encode()),
        Err(CompactError::BadIndex { index: 1, count: 5 })
    );

    assert!(matches!(
        CompactBlock::decode_bytes(&[0xff; 100]),
        Err(CompactError::Decode(_))
    ));
    let mut trailing = good.encode();
    trailing.push(0);
    assert!(matches!(
        CompactBlock::decode_bytes(&trailing),
        Err(CompactError::Decode(DecodeError::TrailingBytes { .. }))
    ));
}

#[test]
fn short_ids_depend_on_the_nonce_and_the_header() {
    let block = block_of(1);
    let txid = block.transactions[1].txid();
    let hash = block.header.hash();
    let a = ShortIdKey::new(&hash, 1).short_id(&txid);
    assert_eq!(a, ShortIdKey::new(&hash, 1).short_id(&txid));
    assert_ne!(a, ShortIdKey::new(&hash, 2).short_id(&txid));
    assert_ne!(
        a,
        ShortIdKey::new(&BlockHash::from_byte_array([2; 32]), 1).short_id(&txid)
    );
}
