//! The chain on a real RocksDB store in a temporary directory, with a clock the test sets.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use i8o8i_config::{MempoolConfig, builtin_chain_spec};
use i8o8i_primitives::test_utils::{p2pkh_script, secret_key};
use i8o8i_runtime::spec::ChainSpec;

use super::*;
use crate::clock::ManualClock;
use crate::mempool::Mempool;
use crate::miner::{pow_template, solve};

fn dev_spec() -> ChainSpec {
    ChainSpec::from_yaml(builtin_chain_spec("dev").expect("dev spec")).unwrap()
}

/// A dev-chain block on the tip, mined at `time`.
fn block_at(chain: &Chain, time: u64) -> Block {
    let pool = Mempool::new(MempoolConfig::default());
    let template = pow_template(chain, &pool, &p2pkh_script(&secret_key(1)), 0, time).unwrap();
    solve(chain, template, 1, &AtomicBool::new(false)).unwrap()
}

#[test]
fn a_block_ahead_of_the_injected_clock_is_refused_until_the_clock_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let spec = dev_spec();
    let start = spec.genesis_block().header.time + 1_000;
    let clock = Arc::new(ManualClock::at(start));
    let chain = Chain::open(store, spec, 0, clock.clone()).unwrap();
    let drift = chain.spec().max_future_block_time;

    let early = block_at(&chain, start + drift + 1);
    let hash = early.header.hash();
    // Early, not invalid: no verdict on the block, and when it becomes importable.
    assert_eq!(
        chain.import_block(early.clone()),
        Err(ImportError::Early {
            hash,
            error: HeaderError::TimeTooNew {
                time: start + drift + 1,
                max: start + drift,
            },
            ready_at: start + 1,
        })
    );
    assert!(chain.entry(&hash).is_none(), "an early block is not stored");
    assert_eq!(chain.tip().header.height, 0);

    // Not remembered as invalid: once this node's clock reaches it, the same block connects.
    clock.set(start + 1);
    let outcome = chain.import_block(early).unwrap();
    assert_eq!(outcome.connected.len(), 1);
    assert_eq!(chain.tip().hash, hash);
}

#[test]
fn a_store_of_another_chain_is_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let clock = || crate::clock::SystemClock::new().shared();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    drop(Chain::open(store.clone(), dev_spec(), 0, clock()).unwrap());
    let mut other = dev_spec();
    other.name = "other".into();
    other.genesis.time += 1;
    match Chain::open(store, other, 0, clock()) {
        Err(ChainOpenError::Store(StoreError::Inconsistent(why))) => {
            assert!(why.contains("genesis"), "{why}");
        }
        other => panic!("expected a genesis mismatch, got {other:?}"),
    }
}

/// A proof-of-stake chain from height 0 whose validators are `secret_key(7)` and
/// `secret_key(8)` with equal stake (so no block is final on its own).
fn pos_spec() -> ChainSpec {
    let key = |n| hex::encode(secp256k1::PublicKey::from_secret_key(&secret_key(n)).serialize());
    let dev = builtin_chain_spec("dev").expect("dev spec");
    let schedule = dev.find("consensus:").expect("a schedule");
    ChainSpec::from_yaml(&format!(
        "{}consensus:\n  - from_height: 0\n    engine: pos\n    params:\n      slot_secs: 1\n      epoch_slots: 10\n      unbonding_period: 5\n      min_bond: 1\n      genesis_validators:\n        - key: {}\n          stake: 1\n        - key: {}\n          stake: 1\n",
        &dev[..schedule],
        key(7),
        key(8)
    ))
    .unwrap()
}

/// A block of the validator in `slot` on genesis, committing to a chain derived from `tag`.
fn pos_block(chain: &Chain, slot: u64, tag: &[u8]) -> Block {
    let spec = chain.spec();
    let secret = secret_key(7);
    let key = secp256k1::PublicKey::from_secret_key(&secret).serialize();
    let genesis = spec.genesis_block().header;
    let contribution =
        i8o8i_runtime::randomness::Contribution::Commit(i8o8i_primitives::sha256d(tag));
    let coinbase = i8o8i_runtime::consensus::coinbase_transaction(
        1,
        &contribution.to_bytes(),
        vec![i8o8i_primitives::TxOut {
            value: spec.subsidy(1),
            script_pubkey: i8o8i_runtime::staking::key_script(&key),
        }],
    );
    let mut block = Block {
        header: Header {
            version: 1,
            parent: genesis.hash(),
            height: 1,
            time: genesis.time + slot,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal: Seal::Pow { bits: 0, nonce: 0 },
        },
        transactions: vec![coinbase],
    };
    // The state depends on the seal's slot and key (the producer records), the signature on
    // the state root: seal, commit, seal again.
    i8o8i_runtime::consensus::SlotEngine::seal(&mut block.header, slot, &secret);
    // (A block for a slot that is not validator 7's does not connect: only its header is used.)
    let _ = chain.commit_to_state(&mut block);
    i8o8i_runtime::consensus::SlotEngine::seal(&mut block.header, slot, &secret);
    block
}

#[test]
fn double_signing_is_evidence_whether_the_second_block_is_stored_or_only_seen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let spec = pos_spec();
    let clock = Arc::new(ManualClock::at(spec.genesis.time + 100));
    let chain = Chain::open(store, spec.clone(), 0, clock).unwrap();
    let ours = secp256k1::PublicKey::from_secret_key(&secret_key(7)).serialize();
    let slot = (1..60)
        .find(|s| chain.slot_producer(&chain.tip(), *s).unwrap() == Some(ours))
        .expect("a slot of validator 7");
    let (a, b, c) = (
        pos_block(&chain, slot, b"a"),
        pos_block(&chain, slot, b"b"),
        pos_block(&chain, slot, b"c"),
    );
    let outcome = chain.import_block(a.clone()).unwrap();
    assert_eq!(outcome.invalid, vec![]);
    assert_eq!(outcome.connected.len(), 1);
    assert_eq!(chain.pending_evidence().unwrap(), vec![]);
    // Seen only (a lighter branch's header, not imported): the pair is evidence.
    chain.note_sealed_header(&b.header);
    assert_eq!(
        chain.pending_evidence().unwrap(),
        vec![(a.header.clone(), b.header.clone())]
    );
    // Stored: kept beside the first (not connected: equal work keeps the first seen).
    let outcome = chain.import_block(b.clone()).unwrap();
    assert!(outcome.connected.is_empty());
    assert!(chain.entry(&b.header.hash()).is_some());
    // A third block of the slot is not stored, and blames nobody.
    assert!(matches!(
        chain.import_block(c.clone()),
        Err(ImportError::Redundant { .. })
    ));
    assert!(chain.entry(&c.header.hash()).is_none());
    // A header of another slot is no evidence.
    let other = pos_block(&chain, slot + 1, b"d");
    chain.note_sealed_header(&other.header);
    assert_eq!(chain.pending_evidence().unwrap().len(), 1);
}

/// A proof-of-work dev block on `parent` (anywhere), its coinbase made distinct by `tag`.
fn pow_block_on(chain: &Chain, parent: &Header, tag: u64) -> Block {
    crate::memory::mine_on(
        chain,
        parent,
        &p2pkh_script(&secret_key(1)),
        tag,
        Vec::new(),
    )
}

/// `block` committing to the state root `[7; 32]` instead, mined again; and its right root.
fn with_wrong_state_root(chain: &Chain, mut block: Block) -> (Block, Hash256) {
    let right = block.header.state_root;
    block.header.state_root = Hash256::from_byte_array([7; 32]);
    let engine = chain.pow_engine_at(block.header.height).unwrap();
    block.header = engine
        .mine(block.header.clone(), 0, 1, 1 << 24, &|| false)
        .unwrap();
    (block, right)
}

#[test]
fn the_root_previewed_on_a_side_branch_is_the_root_after_reorganising_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let chain = Chain::open(
        store,
        dev_spec(),
        0,
        crate::clock::SystemClock::new().shared(),
    )
    .unwrap();
    let genesis = chain.tip().header;
    let a1 = pow_block_on(&chain, &genesis, 1);
    chain.import_block(a1.clone()).unwrap();
    let mut parent = a1.header.clone();
    for tag in 2..=3 {
        let a = pow_block_on(&chain, &parent, tag);
        chain.import_block(a.clone()).unwrap();
        parent = a.header;
    }
    assert_eq!(chain.tip().header.height, 3);

    // A branch off a1, its roots previewed while the best chain is elsewhere (two best-chain
    // blocks undone in memory, then the branch's own): the reorganisation to it checks each.
    let mut parent = a1.header.clone();
    for tag in [20, 30, 40] {
        let b = pow_block_on(&chain, &parent, tag);
        let (changes, root) = chain.preview_block(&b).unwrap();
        assert_eq!(changes.created.len(), 1, "the coinbase output");
        assert_eq!(b.header.state_root, root);
        chain.import_block(b.clone()).unwrap();
        parent = b.header;
    }
    assert_eq!(chain.tip().hash, parent.hash(), "the longer branch won");
    assert_eq!(chain.state_root().unwrap(), parent.state_root);
    let (_, committed, recomputed) = chain.store().recompute_state_root().unwrap();
    assert_eq!(committed, recomputed);

    // A block whose header commits to another state is invalid, however well mined.
    let (wrong, right) = with_wrong_state_root(&chain, pow_block_on(&chain, &parent, 50));
    let outcome = chain.import_block(wrong.clone()).unwrap();
    assert!(outcome.connected.is_empty());
    assert_eq!(
        outcome.invalid,
        vec![(
            wrong.header.hash(),
            BlockError::BadStateRoot {
                got: Hash256::from_byte_array([7; 32]),
                expected: right,
            }
        )]
    );
    assert_eq!(chain.tip().hash, parent.hash());
    assert_eq!(chain.state_root().unwrap(), parent.state_root);
    // The same block with the right root connects.
    let next = pow_block_on(&chain, &parent, 50);
    assert_eq!(next.header.state_root, right);
    assert_eq!(chain.import_block(next).unwrap().connected.len(), 1);
    // A parent this node does not have.
    let mut orphan = pow_block_on(&chain, &parent, 60);
    orphan.header.parent = BlockHash::from_byte_array([9; 32]);
    assert!(matches!(
        chain.preview_block(&orphan),
        Err(BlockError::Header(HeaderError::UnknownParent(_)))
    ));
}

/// A dev chain whose genesis premines `coins` coins of 1,000 units to `secret_key(1)`.
fn spec_with_coins(coins: usize) -> ChainSpec {
    let mut spec = dev_spec();
    let owner = i8o8i_primitives::test_utils::public_key(&secret_key(1));
    let address = i8o8i_primitives::address::Address::from_pubkey(spec.network, &owner).to_string();
    spec.genesis.allocations = (0..coins)
        .map(|_| i8o8i_runtime::spec::Allocation {
            address: address.clone(),
            amount: i8o8i_primitives::Amount::from_units(1_000),
        })
        .collect();
    spec
}

#[test]
fn the_tree_levels_kept_in_memory_survive_a_clean_close_and_are_rebuilt_after_a_crash() {
    // 3,000 coins: a few pairs of key hashes share five nibbles, so some stored nodes sit
    // below the levels the store keeps in memory.
    let spec = spec_with_coins(3_000);
    let premine = spec.genesis_block().transactions[0].txid();
    let dir = tempfile::tempdir().unwrap();
    let (clean, crashed, damaged) = (
        dir.path().join("clean"),
        dir.path().join("crashed"),
        dir.path().join("damaged"),
    );
    let open = |path: &std::path::Path| {
        let store = Arc::new(Store::open(path)?);
        let clock = crate::clock::SystemClock::new().shared();
        Ok::<_, Box<dyn std::error::Error>>(Chain::open(store, spec.clone(), 0, clock)?)
    };
    let coin = |index| i8o8i_primitives::OutPoint {
        txid: premine,
        index,
    };
    let (deep, deep_proof, root) = {
        let chain = open(&clean).unwrap();
        let siblings = |index| {
            chain
                .store()
                .coin_proof(&coin(index))
                .unwrap()
                .proof
                .siblings
                .len()
        };
        let deep = (0..3_000).max_by_key(|&i| siblings(i)).unwrap();
        // Below nibble 5 (20 bits) the path runs through a node stored on disk.
        assert!(siblings(deep) > 20, "{}", siblings(deep));
        // Spend the deep coin and two others, so on-disk and in-memory nodes both change.
        let spends = [deep, 0, 1]
            .into_iter()
            .map(|index| {
                i8o8i_primitives::test_utils::p2pkh_spend(
                    coin(index),
                    i8o8i_primitives::Amount::from_units(1_000),
                    &secret_key(1),
                    p2pkh_script(&secret_key(2)),
                    i8o8i_primitives::Amount::from_units(100),
                    &chain.chain_id(),
                )
            })
            .collect();
        let tip = chain.tip().header;
        let block = crate::memory::mine_on(&chain, &tip, &p2pkh_script(&secret_key(1)), 1, spends);
        assert_eq!(chain.import_block(block).unwrap().connected.len(), 1);
        // What a crash now would leave behind.
        chain.store().checkpoint(&crashed).unwrap();
        chain.store().checkpoint(&damaged).unwrap();
        let deep = coin(deep + 1);
        let answer = chain.store().coin_proof(&deep).unwrap();
        assert!(answer.value.is_some());
        (deep, answer.proof, chain.state_root().unwrap())
    };

    // Closed cleanly, reopened from the saved levels; as if crashed, rebuilt from the state:
    // the same root and proofs either way, and both go on connecting blocks (each one's root
    // checked against its header).
    for path in [&clean, &crashed] {
        let chain = open(path).unwrap();
        assert_eq!(chain.state_root().unwrap(), root);
        assert_eq!(chain.store().coin_proof(&deep).unwrap().proof, deep_proof);
        let tip = chain.tip().header;
        let block = crate::memory::mine_on(&chain, &tip, &p2pkh_script(&secret_key(1)), 2, vec![]);
        assert_eq!(chain.import_block(block).unwrap().connected.len(), 1);
        let (_, committed, recomputed) = chain.store().recompute_state_root().unwrap();
        assert_eq!(committed, recomputed);
    }

    // A crashed store whose state was changed behind the node's back cannot rebuild the
    // tree's root: it refuses to open.
    {
        let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), &damaged).unwrap();
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &damaged, cfs).unwrap();
        let utxo = db.cf_handle("utxo").unwrap();
        db.delete_cf(utxo, i8o8i_runtime::state::utxo_key(&deep))
            .unwrap();
    }
    let refused = Store::open(&damaged).unwrap_err().to_string();
    assert!(
        refused.contains("does not give the state root stored with its tip (height 1")
            && refused.contains("delete the data directory"),
        "{refused}"
    );
}

#[test]
fn a_block_previewed_on_the_tip_connects_from_its_preview_and_no_other_block_does() {
    let spec = spec_with_coins(4);
    let premine = spec.genesis_block().transactions[0].txid();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let chain = Chain::open(store, spec, 0, crate::clock::SystemClock::new().shared()).unwrap();
    let pay = |index| {
        i8o8i_primitives::test_utils::p2pkh_spend(
            i8o8i_primitives::OutPoint {
                txid: premine,
                index,
            },
            i8o8i_primitives::Amount::from_units(1_000),
            &secret_key(1),
            p2pkh_script(&secret_key(2)),
            i8o8i_primitives::Amount::from_units(100),
            &chain.chain_id(),
        )
    };
    let payout = p2pkh_script(&secret_key(1));
    let check_state = |chain: &Chain| {
        let (_, committed, recomputed) = chain.store().recompute_state_root().unwrap();
        assert_eq!(committed, recomputed);
        assert_eq!(committed, chain.tip().header.state_root);
    };

    // Previewed (to learn its state root), sealed, imported: connected from the preview.
    let genesis = chain.tip().header;
    let first = crate::memory::mine_on(&chain, &genesis, &payout, 1, vec![pay(0)]);
    assert_eq!(
        chain.import_block(first.clone()).unwrap().connected.len(),
        1
    );
    assert_eq!(chain.previews_used(), 1);
    check_state(&chain);
    let paid = i8o8i_primitives::OutPoint {
        txid: first.transactions[1].txid(),
        index: 0,
    };
    use i8o8i_runtime::state::UtxoReader;
    assert_eq!(
        chain.store().coin(&paid).unwrap().unwrap().output.value,
        i8o8i_primitives::Amount::from_units(900)
    );

    // Only the last preview is kept: a block previewed before another is connected afresh.
    let tip = chain.tip().header;
    let earlier = crate::memory::mine_on(&chain, &tip, &payout, 2, vec![pay(1)]);
    let later = crate::memory::mine_on(&chain, &tip, &payout, 3, vec![pay(2)]);
    assert_eq!(
        chain.import_block(earlier.clone()).unwrap().connected.len(),
        1
    );
    assert_eq!(chain.previews_used(), 1);
    check_state(&chain);

    // The later block's preview was for a tip that is gone (the import took it): the later
    // block connects afresh when a reorganisation makes it best.
    chain.import_block(later.clone()).unwrap();
    assert_eq!(
        chain.tip().hash,
        earlier.header.hash(),
        "first seen wins a tie"
    );
    let on_later = crate::memory::mine_on(&chain, &later.header, &payout, 4, vec![pay(3)]);
    let outcome = chain.import_block(on_later.clone()).unwrap();
    assert_eq!(outcome.connected.len(), 2);
    assert_eq!(chain.tip().hash, on_later.header.hash());
    assert_eq!(chain.previews_used(), 1);
    check_state(&chain);

    // The previewed block with another state root in its header is refused for it.
    let tip = chain.tip().header;
    let (wrong, right) = with_wrong_state_root(
        &chain,
        crate::memory::mine_on(&chain, &tip, &payout, 5, vec![]),
    );
    let outcome = chain.import_block(wrong.clone()).unwrap();
    assert_eq!(
        outcome.invalid,
        vec![(
            wrong.header.hash(),
            BlockError::BadStateRoot {
                got: Hash256::from_byte_array([7; 32]),
                expected: right,
            }
        )]
    );
    // Its preview was used, and its root still checked against the header.
    assert_eq!(chain.previews_used(), 2);
    assert_eq!(chain.tip().hash, on_later.header.hash());
    check_state(&chain);
}

#[test]
fn the_address_history_follows_connects_and_reorganisations_and_is_built_for_older_stores() {
    use i8o8i_primitives::{Amount, OutPoint};
    let spec = spec_with_coins(4);
    let premine = spec.genesis_block().transactions[0].txid();
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let store = Arc::new(Store::open(dir.path()).unwrap());
        Chain::open(
            store,
            spec.clone(),
            0,
            crate::clock::SystemClock::new().shared(),
        )
        .unwrap()
    };
    let chain = open();
    let (one, two, three) = (
        p2pkh_script(&secret_key(1)),
        p2pkh_script(&secret_key(2)),
        p2pkh_script(&secret_key(3)),
    );
    // (height, position, txid, received, sent) of each entry, newest first.
    let history = |chain: &Chain, script: &i8o8i_script_vm::ScriptBuf, before, limit| {
        let (tip, entries) = chain.store().history(script, before, limit).unwrap();
        assert_eq!(tip, Some(chain.tip().hash));
        entries
            .into_iter()
            .map(|e| {
                assert_eq!(chain.store().hash_at(e.height).unwrap(), Some(e.block));
                let r = e.record;
                (
                    e.height,
                    e.position,
                    r.txid,
                    r.received.to_units(),
                    r.sent.to_units(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(chain.store().history_from().unwrap(), 0);
    assert_eq!(
        history(&chain, &one, None, 10),
        vec![(0, 0, premine, 4_000, 0)],
        "the premine's four outputs are one entry"
    );

    // Block 1: A pays two 900 from a premine coin; B, in the same block, pays three 800 of
    // A's output.
    let a = i8o8i_primitives::test_utils::p2pkh_spend(
        OutPoint {
            txid: premine,
            index: 0,
        },
        Amount::from_units(1_000),
        &secret_key(1),
        two.clone(),
        Amount::from_units(100),
        &chain.chain_id(),
    );
    let b = i8o8i_primitives::test_utils::p2pkh_spend(
        OutPoint {
            txid: a.txid(),
            index: 0,
        },
        Amount::from_units(900),
        &secret_key(2),
        three.clone(),
        Amount::from_units(100),
        &chain.chain_id(),
    );
    let genesis = chain.tip().header;
    let first = crate::memory::mine_on(&chain, &genesis, &one, 1, vec![a.clone(), b.clone()]);
    let reward = first.transactions[0].outputs[0].value.to_units();
    let coinbase = first.transactions[0].txid();
    assert_eq!(
        chain.import_block(first.clone()).unwrap().connected.len(),
        1
    );
    assert_eq!(
        history(&chain, &one, None, 10),
        vec![
            (1, 1, a.txid(), 0, 1_000),
            (1, 0, coinbase, reward, 0),
            (0, 0, premine, 4_000, 0)
        ]
    );
    assert_eq!(
        history(&chain, &two, None, 10),
        vec![(1, 2, b.txid(), 0, 900), (1, 1, a.txid(), 900, 0)],
        "an output made and spent in one block counts on both sides"
    );
    assert_eq!(
        history(&chain, &three, None, 10),
        vec![(1, 2, b.txid(), 800, 0)]
    );
    // Pages: newest first, then older than the last one returned.
    assert_eq!(
        history(&chain, &one, None, 2),
        history(&chain, &one, None, 10)[..2]
    );
    assert_eq!(
        history(&chain, &one, Some((1, 0)), 2),
        vec![(0, 0, premine, 4_000, 0)]
    );
    assert_eq!(history(&chain, &one, Some((0, 0)), 2), vec![]);

    // A longer branch without them: their entries go with the block.
    let mut parent = genesis;
    for tag in [10, 11] {
        let block = crate::memory::mine_on(&chain, &parent, &one, tag, vec![]);
        chain.import_block(block.clone()).unwrap();
        parent = block.header;
    }
    assert_eq!(chain.tip().hash, parent.hash(), "the branch won");
    assert_eq!(history(&chain, &two, None, 10), vec![]);
    assert_eq!(history(&chain, &three, None, 10), vec![]);
    let after_reorg = history(&chain, &one, None, 10);
    assert_eq!(
        after_reorg
            .iter()
            .map(|(h, p, _, r, s)| (*h, *p, *r, *s))
            .collect::<Vec<_>>(),
        vec![(2, 0, reward, 0), (1, 0, reward, 0), (0, 0, 4_000, 0)]
    );
    drop(chain);

    // A data directory from before the index: the index emptied, its marker removed. The next
    // open builds it again from the blocks and their undo data.
    {
        let opts = rocksdb::Options::default();
        let cfs = rocksdb::DB::list_cf(&opts, dir.path()).unwrap();
        let db = rocksdb::DB::open_cf(&opts, dir.path(), cfs).unwrap();
        let cf = db.cf_handle("addr_history").unwrap();
        let keys: Vec<_> = db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|kv| kv.unwrap().0)
            .collect();
        assert_eq!(keys.len(), 3, "one per transaction paying `one`");
        for key in keys {
            db.delete_cf(cf, key).unwrap();
        }
        db.delete_cf(db.cf_handle("meta").unwrap(), b"history_from")
            .unwrap();
    }
    let chain = open();
    assert_eq!(chain.store().history_from().unwrap(), 0);
    assert_eq!(history(&chain, &one, None, 10), after_reorg);
}

/// Mempool admission verifies on threads of its own: a block connects while every admission
/// thread is busy. (With one pool for both, the block's checks queued behind the admission
/// work: under a flood of `tx_submitBatch` calls a 1-second chain made a block every ten
/// seconds; here, with the only verification thread held, the import never finished.)
#[test]
fn a_block_connects_while_every_admission_thread_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let chain = Arc::new(
        Chain::open(
            store,
            dev_spec(),
            1,
            crate::clock::SystemClock::new().shared(),
        )
        .unwrap(),
    );
    // Mined elsewhere: a block this chain previewed would connect from its preview.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Chain::open(
        Arc::new(Store::open(other_dir.path()).unwrap()),
        dev_spec(),
        0,
        crate::clock::SystemClock::new().shared(),
    )
    .unwrap();
    let block = pow_block_on(&other, &other.tip().header, 1);
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (busy, started) = std::sync::mpsc::channel::<()>();
    let admission = {
        let chain = chain.clone();
        let held = std::sync::Mutex::new(held);
        std::thread::spawn(move || {
            chain.for_each_parallel(&mut [()], |_| {
                busy.send(()).unwrap();
                held.lock().unwrap().recv().unwrap();
            });
        })
    };
    started.recv().unwrap();
    let (done, imported) = std::sync::mpsc::channel();
    {
        let chain = chain.clone();
        std::thread::spawn(move || done.send(chain.import_block(block).map(|o| o.connected.len())));
    }
    // Not a timing: before the fix the import waits for ever, so a minute means "never".
    let connected = imported.recv_timeout(std::time::Duration::from_secs(60));
    release.send(()).unwrap();
    admission.join().unwrap();
    assert_eq!(connected.expect("the import finished").unwrap(), 1);
    assert_eq!(chain.tip().header.height, 1);
}
