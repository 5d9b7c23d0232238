//! Mempool policy against an in-memory [`ChainView`]: no RocksDB, no node.

use i8o8i_config::MempoolConfig;
use i8o8i_primitives::TxOut;
use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
use i8o8i_primitives::{Amount, OutPoint, Transaction, Txid};

use super::*;
use crate::memory::MemoryChain;
use crate::view::ChainView;

const NOW: u64 = 1_700_000_000;

fn pool() -> Mempool {
    Mempool::new(MempoolConfig::default())
}

/// A spend of `coin` (worth `value` units, locked to key `from`) paying key `to` all but `fee`.
fn spend(
    chain: &MemoryChain,
    coin: OutPoint,
    value: u64,
    from: u8,
    to: u8,
    fee: u64,
) -> Transaction {
    p2pkh_spend(
        coin,
        Amount::from_units(value),
        &secret_key(from),
        p2pkh_script(&secret_key(to)),
        Amount::from_units(fee),
        &chain.chain_id(),
    )
}

#[test]
fn a_signed_spend_is_admitted_with_its_exact_fee() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let tx = spend(&chain, coin, 100_000, 7, 8, 1_000);
    let mut pool = pool();
    let txid = pool.accept(tx, &chain, NOW).unwrap();
    let entry = pool.get(&txid).unwrap();
    assert_eq!(entry.fee, Amount::from_units(1_000));
    assert_eq!(pool.info().count, 1);
    assert_eq!(pool.spender(&coin), Some(txid));
}

#[test]
fn a_second_spend_of_a_pooled_coin_is_a_conflict() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let mut pool = pool();
    let first = spend(&chain, coin, 100_000, 7, 8, 1_000);
    let first = pool.accept(first, &chain, NOW).unwrap();
    let second = spend(&chain, coin, 100_000, 7, 9, 5_000);
    let err = pool.accept(second, &chain, NOW).unwrap_err();
    assert_eq!(
        err,
        MempoolError::Conflict {
            outpoint: coin,
            spent_by: first
        }
    );
}

#[test]
fn a_fee_below_the_minimum_rate_is_refused_with_the_required_fee() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let tx = spend(&chain, coin, 100_000, 7, 8, 10);
    let size = tx.encoded_size() as u64;
    let err = pool().accept(tx, &chain, NOW).unwrap_err();
    assert_eq!(
        err,
        MempoolError::FeeTooLow {
            fee: Amount::from_units(10),
            required: Amount::from_units(size),
            size,
        }
    );
}

#[test]
fn a_spend_of_an_unknown_coin_or_with_a_wrong_key_is_invalid() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let missing = OutPoint {
        txid: Txid::from_byte_array([9; 32]),
        index: 0,
    };
    let mut pool = pool();
    assert!(matches!(
        pool.accept(spend(&chain, missing, 100_000, 7, 8, 1_000), &chain, NOW),
        Err(MempoolError::Invalid(TxError::MissingInput(op))) if op == missing
    ));
    assert!(matches!(
        pool.accept(spend(&chain, coin, 100_000, 6, 8, 1_000), &chain, NOW),
        Err(MempoolError::Invalid(_))
    ));
    assert_eq!(pool.info().count, 0);
}

#[test]
fn a_confirmed_transaction_is_already_known_and_a_child_may_spend_a_pooled_parent() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let parent = spend(&chain, coin, 100_000, 7, 8, 1_000);
    let child = spend(
        &chain,
        OutPoint {
            txid: parent.txid(),
            index: 0,
        },
        99_000,
        8,
        9,
        1_000,
    );
    let mut pool = pool();
    pool.accept(parent.clone(), &chain, NOW).unwrap();
    let child_id = pool.accept(child, &chain, NOW).unwrap();
    assert_eq!(pool.info().count, 2);
    assert_eq!(pool.txids_by_fee_rate().len(), 2);
    assert!(pool.get(&child_id).is_some());

    chain.confirmed.insert(parent.txid());
    let mut fresh = Mempool::new(MempoolConfig::default());
    assert_eq!(
        fresh.accept(parent.clone(), &chain, NOW),
        Err(MempoolError::AlreadyKnown(parent.txid()))
    );
}

#[test]
fn expiry_drops_transactions_older_than_the_limit() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let tx = spend(&chain, coin, 100_000, 7, 8, 1_000);
    let config = MempoolConfig::default();
    let mut pool = Mempool::new(config.clone());
    pool.accept(tx, &chain, NOW).unwrap();
    assert_eq!(pool.expire(NOW + config.expiry_secs), 0);
    assert_eq!(pool.expire(NOW + config.expiry_secs + 1), 1);
    assert_eq!(pool.info().count, 0);
}

/// The signature-operations bomb: nine times `0 OVER 1 <20 keys> 20 CHECKMULTISIGVERIFY`, which
/// costs 180 signature checks per input when the signature matches only the last key.
fn sigop_bomb() -> i8o8i_script_vm::ScriptBuf {
    use i8o8i_script_vm::Builder;
    use i8o8i_script_vm::opcodes::all::{OP_CHECKMULTISIGVERIFY, OP_OVER};
    let key = i8o8i_primitives::test_utils::public_key(&secret_key(3));
    let mut b = Builder::new();
    for _ in 0..9 {
        b = b.push_int(0).push_opcode(OP_OVER).push_int(1);
        for _ in 0..20 {
            b = b.push_slice(&key);
        }
        b = b.push_int(20).push_opcode(OP_CHECKMULTISIGVERIFY);
    }
    b.into_script()
}

#[test]
fn a_transaction_over_the_sigop_policy_is_refused_before_any_signature_is_checked() {
    let mut chain = MemoryChain::new();
    let bomb = sigop_bomb();
    assert_eq!(i8o8i_script_vm::sig_op_count(&bomb, true), 180);
    let mut inputs = Vec::new();
    for n in 0..23u8 {
        let outpoint = OutPoint {
            txid: Txid::from_byte_array([100 + n; 32]),
            index: 0,
        };
        chain.coins.insert(
            outpoint,
            Coin {
                output: TxOut {
                    value: Amount::from_units(10_000),
                    script_pubkey: bomb.clone(),
                },
                height: 0,
                coinbase: false,
            },
        );
        inputs.push(i8o8i_primitives::TxIn {
            prevout: outpoint,
            // Garbage where the signature goes: policy refuses before it is looked at.
            script_sig: i8o8i_script_vm::Builder::new()
                .push_slice(&[0x30; 71])
                .into_script(),
            sequence: u32::MAX,
        });
    }
    let tx = Transaction {
        version: 1,
        inputs,
        outputs: vec![TxOut {
            value: Amount::from_units(200_000),
            script_pubkey: p2pkh_script(&secret_key(4)),
        }],
        lock_time: 0,
        payload: None,
    };
    // 23 inputs × 180 + 1 (the P2PKH output) = 4,141.
    assert_eq!(
        pool().check(tx.clone(), &chain).map(|_| ()),
        Err(MempoolError::TooManySigops {
            count: 4_141,
            max: MAX_STANDARD_TX_SIGOPS
        })
    );
    // Under the limit the same spend gets as far as its scripts (which fail: a script error,
    // found only by running them).
    let mut small = tx;
    small.inputs.truncate(22);
    assert!(matches!(
        pool().accept(small, &chain, NOW),
        Err(MempoolError::Invalid(TxError::Script { .. }))
    ));
}
