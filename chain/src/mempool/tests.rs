//! Mempool policy against an in-memory [`ChainView`]: no RocksDB, no node.

use i8o8i_config::MempoolConfig;
use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
use i8o8i_primitives::{Amount, OutPoint, Transaction, Txid};
use i8o8i_primitives::{TxIn, TxOut};

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
fn a_second_spend_of_a_pooled_coin_replaces_it_only_by_paying_more_under_core_s_rules() {
    let mut chain = MemoryChain::new();
    let coin = chain.fund(1, 7, 100_000);
    let other = chain.fund(2, 7, 100_000);
    let mut pool = pool();
    let first = spend(&chain, coin, 100_000, 7, 8, 1_000);
    let size = first.encoded_size() as u64;
    let first = pool.accept(first, &chain, NOW).unwrap();
    // A child of the first: evicted with it.
    let child_coin = OutPoint {
        txid: first,
        index: 0,
    };
    let child = spend(&chain, child_coin, 99_000, 8, 9, 2_000);
    let child = pool.accept(child, &chain, NOW).unwrap();

    // Paying no better rate than the transaction it conflicts with (rule 6).
    let same = spend(&chain, coin, 100_000, 7, 9, 1_000);
    assert_eq!(
        pool.accept(same, &chain, NOW),
        Err(MempoolError::ReplacementFeeRateTooLow { conflict: first })
    );
    // A better rate, but less than what the first and its child pay plus its own relay
    // (rules 3 and 4).
    let short = spend(&chain, coin, 100_000, 7, 9, 3_000);
    assert_eq!(
        pool.accept(short, &chain, NOW),
        Err(MempoolError::ReplacementFeeTooLow {
            replaced: 2,
            replaced_fee: Amount::from_units(3_000),
            required: Amount::from_units(3_000 + size),
            fee: Amount::from_units(3_000),
        })
    );
    // A new unconfirmed input (the child's output) is not allowed (rule 2).
    let pooled = pool
        .accept(spend(&chain, other, 100_000, 7, 8, 1_000), &chain, NOW)
        .unwrap();
    let mut mixed = spend(&chain, coin, 100_000, 7, 9, 10_000);
    mixed.inputs.push(TxIn {
        prevout: OutPoint {
            txid: pooled,
            index: 0,
        },
        script_sig: Default::default(),
        sequence: u32::MAX,
    });
    assert_eq!(
        pool.check(mixed, &chain).unwrap_err(),
        MempoolError::ReplacementNewUnconfirmedInput {
            outpoint: OutPoint {
                txid: pooled,
                index: 0
            }
        }
    );
    // Spending an output of what it replaces.
    let mut circular = spend(&chain, coin, 100_000, 7, 9, 10_000);
    circular.inputs.push(TxIn {
        prevout: child_coin,
        script_sig: Default::default(),
        sequence: u32::MAX,
    });
    assert_eq!(
        pool.check(circular, &chain).unwrap_err(),
        MempoolError::ReplacementSpendsReplaced { txid: first }
    );
    // A rival of the child alone replaces the child alone.
    let rival = spend(&chain, child_coin, 99_000, 8, 9, 50_000);
    assert_eq!(
        pool.check(rival, &chain).map(|c| c.replaces().clone()),
        Ok([child].into())
    );

    // Enough: the first and its child leave, their coin is the replacement's.
    let better = spend(&chain, coin, 100_000, 7, 9, 3_000 + size);
    let checked = pool.check(better.clone(), &chain).unwrap();
    assert_eq!(checked.replaces(), &[first, child].into());
    let better = pool.admit(checked, &chain, NOW).unwrap();
    assert!(pool.get(&first).is_none() && pool.get(&child).is_none());
    assert_eq!(pool.spender(&coin), Some(better));
    assert_eq!(pool.spender(&child_coin), None);
    assert_eq!(pool.info().count, 2);
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
    assert_eq!(pool.txids_in_mining_order().len(), 2);
    assert!(pool.get(&child_id).is_some());

    // Confirmed: the parent's coin is spent and its own output is a coin.
    chain.coins.remove(&coin);
    chain.confirmed.insert(parent.txid());
    chain.add_coin(
        OutPoint {
            txid: parent.txid(),
            index: 0,
        },
        parent.outputs[0].clone(),
    );
    let mut fresh = Mempool::new(MempoolConfig::default());
    assert_eq!(
        fresh.accept(parent.clone(), &chain, NOW),
        Err(MempoolError::AlreadyKnown(parent.txid()))
    );
    // An input missing for any other reason is just that.
    let stranger = spend(&chain, coin, 100_000, 7, 8, 2_000);
    assert_eq!(
        fresh.accept(stranger, &chain, NOW),
        Err(MempoolError::Invalid(TxError::MissingInput(coin)))
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

mod packages {
    //! Package limits, ancestor / descendant totals, eviction by descendant score and
    //! templates by ancestor fee rate, on anyone-can-spend chains (no signatures to make).

    use super::*;
    use crate::memory::anyone_can_spend_tx;

    const VALUE: u64 = 1_000_000_000;

    /// Pools `tx`.
    fn pooled(pool: &mut Mempool, chain: &MemoryChain, tx: Transaction) -> Txid {
        pool.accept(tx, chain, NOW).expect("pooled")
    }

    fn out(txid: Txid, index: u32) -> OutPoint {
        OutPoint { txid, index }
    }

    /// A chain of `length` single-output spends from `coin`, each paying `fee(k)`.
    fn chain_of(
        pool: &mut Mempool,
        chain: &MemoryChain,
        coin: OutPoint,
        length: usize,
        fee: impl Fn(usize) -> u64,
    ) -> Vec<Txid> {
        let mut value = VALUE;
        let mut prevout = coin;
        let mut ids = Vec::new();
        for k in 0..length {
            value -= fee(k);
            let id = pooled(pool, chain, anyone_can_spend_tx(&[prevout], &[value]));
            prevout = out(id, 0);
            ids.push(id);
        }
        ids
    }

    #[test]
    fn a_chain_of_25_enters_and_the_26th_is_refused_before_its_scripts_run() {
        let mut chain = MemoryChain::new();
        let coin = chain.fund_anyone(1, VALUE);
        let mut pool = pool();
        let ids = chain_of(&mut pool, &chain, coin, 25, |_| 1_000);
        let last = pool.get(&ids[24]).unwrap();
        assert_eq!(last.ancestors().count, 25);
        assert_eq!(last.ancestors().fee, 25_000);
        assert_eq!(pool.get(&ids[0]).unwrap().descendants().count, 25);
        assert_eq!(
            pool.get(&ids[0]).unwrap().descendants().size,
            25 * last.size
        );

        // Its input script is garbage: refused for the package, not for the script.
        let mut next = anyone_can_spend_tx(&[out(ids[24], 0)], &[VALUE - 26_000]);
        next.inputs[0].script_sig = i8o8i_script_vm::ScriptBuf::from_bytes(vec![0x01, 0x6a]);
        assert_eq!(
            pool.check(next, &chain).unwrap_err(),
            MempoolError::TooManyAncestors { count: 26, max: 25 }
        );
    }

    #[test]
    fn a_pooled_transaction_takes_at_most_24_descendants() {
        let mut chain = MemoryChain::new();
        let coin = chain.fund_anyone(1, VALUE);
        let mut pool = pool();
        let half = VALUE / 2 - 500;
        let root = pooled(
            &mut pool,
            &chain,
            anyone_can_spend_tx(&[coin], &[half, half]),
        );
        // 23 down one output, one down the other: the root has 24 descendants with itself.
        let mut prevout = out(root, 0);
        let mut value = half;
        for _ in 0..23 {
            value -= 1_000;
            prevout = out(
                pooled(&mut pool, &chain, anyone_can_spend_tx(&[prevout], &[value])),
                0,
            );
        }
        let b1 = pooled(
            &mut pool,
            &chain,
            anyone_can_spend_tx(&[out(root, 1)], &[half - 1_000]),
        );
        assert_eq!(pool.get(&root).unwrap().descendants().count, 25);
        let b2 = anyone_can_spend_tx(&[out(b1, 0)], &[half - 2_000]);
        assert_eq!(
            pool.accept(b2, &chain, NOW).unwrap_err(),
            MempoolError::TooManyDescendants {
                ancestor: root,
                count: 26,
                max: 25
            }
        );
    }

    #[test]
    fn a_child_paying_for_its_parent_is_mined_before_and_evicted_after_a_better_single() {
        let mut chain = MemoryChain::new();
        let (a, b) = (chain.fund_anyone(1, VALUE), chain.fund_anyone(2, VALUE));
        let mut pool = pool();
        // Sizes are equal (one input, one output each), so fees compare as rates.
        let parent = pooled(&mut pool, &chain, anyone_can_spend_tx(&[a], &[VALUE - 100]));
        let single = pooled(
            &mut pool,
            &chain,
            anyone_can_spend_tx(&[b], &[VALUE - 4_000]),
        );
        let child = pooled(
            &mut pool,
            &chain,
            anyone_can_spend_tx(&[out(parent, 0)], &[VALUE - 100 - 10_000]),
        );
        // Parent with child: 10,100 over two transactions beats 4,000 alone.
        assert_eq!(pool.txids_in_mining_order(), vec![parent, child, single]);
        let size = pool.get(&parent).unwrap().size;
        let (txs, fees) = pool.template(2 * size);
        assert_eq!(
            txs.iter().map(|t| t.txid()).collect::<Vec<_>>(),
            vec![parent, child]
        );
        assert_eq!(fees, Amount::from_units(10_100));

        // Full by one transaction: the single goes, although the parent pays less alone.
        let mut small = Mempool::new(MempoolConfig {
            max_bytes: 2 * size,
            ..MempoolConfig::default()
        });
        for tx in [parent, single, child].map(|id| (*pool.get(&id).unwrap().tx).clone()) {
            let _ = small.accept(tx, &chain, NOW);
        }
        assert_eq!(small.txids_in_mining_order(), vec![parent, child]);
    }

    #[test]
    fn totals_follow_confirmation_and_conflicts() {
        let mut chain = MemoryChain::new();
        let coin = chain.fund_anyone(1, VALUE);
        let mut pool = pool();
        let ids = chain_of(&mut pool, &chain, coin, 3, |k| 1_000 * (k as u64 + 1));
        let size = pool.get(&ids[0]).unwrap().size;

        // The first is confirmed: the others lose it as an ancestor.
        let first = (*pool.get(&ids[0]).unwrap().tx).clone();
        chain.coins.remove(&coin);
        chain.coins.insert(
            out(ids[0], 0),
            i8o8i_primitives::Coin {
                output: first.outputs[0].clone(),
                height: 1,
                coinbase: false,
            },
        );
        pool.block_connected(&i8o8i_primitives::Block {
            header: chain.tip.header.clone(),
            transactions: vec![first.clone(), first],
        });
        let second = pool.get(&ids[1]).unwrap();
        assert_eq!(
            second.ancestors(),
            Totals {
                count: 1,
                size,
                fee: 2_000
            }
        );
        assert_eq!(
            second.descendants(),
            Totals {
                count: 2,
                size: 2 * size,
                fee: 5_000
            }
        );
        assert_eq!(pool.get(&ids[2]).unwrap().ancestors().fee, 5_000);

        // A block spends the second's output otherwise: the third goes as a conflict and the
        // second is alone again.
        let conflict = anyone_can_spend_tx(&[out(ids[1], 0)], &[1]);
        pool.block_connected(&i8o8i_primitives::Block {
            header: chain.tip.header.clone(),
            transactions: vec![conflict.clone(), conflict],
        });
        assert_eq!(pool.txids_in_mining_order(), vec![ids[1]]);
        assert_eq!(pool.get(&ids[1]).unwrap().descendants().count, 1);
        assert_eq!(pool.get(&ids[1]).unwrap().descendants().fee, 2_000);
    }

    #[test]
    fn a_template_of_rising_chains_takes_every_transaction_parents_first() {
        let mut chain = MemoryChain::new();
        let mut pool = pool();
        let mut all = Vec::new();
        for c in 0..40u64 {
            let coin = chain.fund_anyone(c, VALUE);
            all.extend(chain_of(&mut pool, &chain, coin, 25, |k| {
                500 + c * 7 + k as u64 * 20
            }));
        }
        let (txs, fees) = pool.template(u64::MAX);
        assert_eq!(txs.len(), 1_000);
        let expected: u64 = (0..40u64)
            .map(|c| (0..25u64).map(|k| 500 + c * 7 + k * 20).sum::<u64>())
            .sum();
        assert_eq!(fees, Amount::from_units(expected));
        let mut seen = BTreeSet::new();
        for tx in &txs {
            for input in &tx.inputs {
                assert!(
                    pool.get(&input.prevout.txid).is_none() || seen.contains(&input.prevout.txid),
                    "a child before its parent"
                );
            }
            seen.insert(tx.txid());
        }
        assert_eq!(seen, all.into_iter().collect());
    }
}

/// After a reorganisation a pooled transaction whose spent outputs are unchanged is admitted
/// again without running its scripts. Shown with the in-memory chain, whose chain id follows
/// its tip: its signatures no longer verify against the new tip's id, yet it stays, while a
/// transaction returning from a disconnected block is verified (and, signed for the old id,
/// dropped).
#[test]
fn a_reorganisation_does_not_rerun_the_scripts_of_unchanged_pooled_transactions() {
    let mut chain = MemoryChain::new();
    let pooled_coin = chain.fund(1, 7, 100_000);
    let returning_coin = chain.fund(2, 7, 100_000);
    let pooled = spend(&chain, pooled_coin, 100_000, 7, 8, 1_000);
    let returning = spend(&chain, returning_coin, 100_000, 7, 9, 1_000);
    let mut pool = pool();
    let id = pool.accept(pooled, &chain, NOW).unwrap();

    let disconnected = i8o8i_primitives::Block {
        header: chain.tip.header.clone(),
        transactions: vec![returning.clone(), returning.clone()],
    };
    chain.tip.header.time += 1;
    chain.tip.hash = chain.tip.header.hash();
    pool.reorganised(&[disconnected], &[], &chain, NOW);
    assert_eq!(pool.txids_in_mining_order(), vec![id]);
    assert_eq!(pool.tip(), Some(chain.tip.hash));
}

#[test]
fn the_fee_estimate_is_one_unit_above_the_transaction_at_the_target_depth() {
    let mut chain = MemoryChain::new();
    let mut pool = pool();
    // Three spends of the same size paying 10,000, 2,000 and 500 units.
    let mut size = 0;
    for (n, fee) in [(1u8, 10_000u64), (2, 2_000), (3, 500)] {
        let coin = chain.fund(n, 7, 100_000);
        let tx = spend(&chain, coin, 100_000, 7, 8, fee);
        size = tx.encoded_size() as u64;
        pool.accept(tx, &chain, NOW).unwrap();
    }
    let minimum = pool.min_fee_rate();
    // One transaction per block: to be in the next block, beat the second best.
    assert_eq!(
        pool.fee_estimate(1, size),
        FeeEstimate {
            fee_rate: 2_000 / size + 1,
            from_pool: true
        }
    );
    assert_eq!(
        pool.fee_estimate(2, size).fee_rate,
        (500 / size + 1).max(minimum)
    );
    // Room for all three within the target: the pool does not compete.
    for (target, block) in [(3, size), (1, 10 * size)] {
        assert_eq!(
            pool.fee_estimate(target, block),
            FeeEstimate {
                fee_rate: minimum,
                from_pool: false
            }
        );
    }
    assert_eq!(
        pool.fee_estimate(0, size),
        pool.fee_estimate(1, size),
        "0 counts as 1"
    );
}

#[test]
fn recent_full_blocks_raise_the_estimate_to_what_their_cheapest_transaction_paid() {
    let mut chain = MemoryChain::new();
    let mut pool = pool();
    let header = chain.tip().header;
    let mut size = 0;
    // Three blocks, each filled by one pooled transaction paying 10,000, 2,000 and 500 units.
    for (n, fee) in [(1u8, 10_000u64), (2, 2_000), (3, 500)] {
        let coin = chain.fund(n, 7, 100_000);
        let tx = spend(&chain, coin, 100_000, 7, 8, fee);
        size = tx.encoded_size() as u64;
        pool.accept(tx.clone(), &chain, NOW).unwrap();
        pool.block_connected(&i8o8i_primitives::Block {
            header: header.clone(),
            transactions: vec![tx.clone(), tx],
        });
    }
    assert_eq!(pool.info().count, 0);
    // Full blocks of `size` bytes: the median of their lowest rates (2,000 / size) sets the bar.
    assert_eq!(
        pool.fee_estimate(1, size),
        FeeEstimate {
            fee_rate: 2_000 / size + 1,
            from_pool: false
        }
    );
    // Blocks ten times larger were not full: nothing competed.
    assert_eq!(
        pool.fee_estimate(1, 10 * size).fee_rate,
        pool.min_fee_rate()
    );
}

/// Found by the throughput run: a pool of fan-out transactions (thousands of P2PKH outputs
/// each, every output one legacy signature operation) gave templates over the block's limit of
/// 80,000; every template failed to connect and the miner produced empty blocks while the pool
/// never drained. Templates now stop at the limit less the coinbase's reserve.
#[test]
fn a_template_stays_within_the_block_signature_operation_limit() {
    let mut chain = MemoryChain::new();
    let mut pool = pool();
    for n in 0..35u8 {
        let coin = chain.fund(n, 7, 100_000_000);
        let mut tx = Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout: coin,
                script_sig: Default::default(),
                sequence: u32::MAX,
            }],
            outputs: vec![
                TxOut {
                    value: Amount::from_units(30_000),
                    script_pubkey: p2pkh_script(&secret_key(8)),
                };
                2_500
            ],
            lock_time: 0,
            payload: None,
        };
        i8o8i_primitives::sign_p2pkh_input(
            &mut tx,
            0,
            &secret_key(7),
            Amount::from_units(100_000_000),
            &chain.chain_id(),
            i8o8i_script_vm::SIGHASH_ALL,
        )
        .unwrap();
        pool.accept(tx, &chain, NOW).unwrap();
    }
    let (txs, _) = pool.template(4_000_000);
    let sigops: usize = txs
        .iter()
        .map(|tx| i8o8i_runtime::validation::legacy_sigops(tx))
        .sum();
    // 35 × 2,500 would be 87,500; 31 of them (77,500) fit under 80,000 − 400.
    assert_eq!((txs.len(), sigops), (31, 77_500));
}
