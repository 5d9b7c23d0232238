//! What the state commitment costs: importing a block of 1,000 transactions on a RocksDB chain
//! of 200,000 coins, the part of it that is the state tree's update, and checking a coin's
//! proof as a light client does.
//!
//! Run: `cargo bench -p i8o8i-chain --features test-utils --bench state`. The chain verifies
//! with one thread per core, as a node does.
//! The coins are P2PKH, and the block's transactions each spend one with a signature into one
//! output (a real block's work); the outputs that fund them come from P2SH(`OP_TRUE`) change,
//! which costs no signatures to set up. The tree update is timed on the changes
//! `Chain::preview_block` reports for the same kind of block, reading the tree from RocksDB
//! without writing it.

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use i8o8i_chain::memory::{
    anyone_can_spend, dev_yaml_funding_anyone, fan_out, mine_on, mine_on_tip,
};
use i8o8i_chain::state_tree;
use i8o8i_chain::{Chain, Store, SystemClock};
use i8o8i_primitives::StoreError;
use i8o8i_primitives::state_proof::{coin_key, sha256};
use i8o8i_primitives::state_tree::{self as tree, Node, NodePath, NodeSource};
use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
use i8o8i_primitives::{Amount, OutPoint, Transaction};
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::state::UtxoReader;
use parity_scale_codec::Encode;

const COINS: usize = 200_000;
const BLOCK_TXS: usize = 1_000;
const COIN_VALUE: u64 = 100_000;

/// The verification threads a node opens its chain with: one per core.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn spec() -> ChainSpec {
    ChainSpec::from_yaml(&dev_yaml_funding_anyone(
        (COINS as u64 + 1) * COIN_VALUE * 2,
    ))
    .unwrap()
}

/// A chain whose UTXO set holds `COINS` anyone-can-spend coins, and those coins.
fn chain_with_coins(dir: &std::path::Path) -> (Chain, Vec<OutPoint>) {
    let spec = spec();
    let store = Arc::new(Store::open(dir).unwrap());
    let chain = Chain::open(store, spec, threads(), SystemClock::new().shared()).unwrap();
    chain.import_block(mine_on_tip(&chain, Vec::new())).unwrap();
    let coins = fan_out(
        &chain,
        &p2pkh_script(&owner()),
        COINS,
        COIN_VALUE,
        (COINS as u64 + 1) * COIN_VALUE * 2,
    );
    (chain, coins)
}

/// The key every coin of the bench is locked to (P2PKH).
fn owner() -> secp256k1::SecretKey {
    secret_key(3)
}

/// `n` signed P2PKH spends of coins, each into one output to the same key.
fn spends_of(chain: &Chain, coins: &mut Vec<OutPoint>, n: usize) -> Vec<Transaction> {
    let chain_id = chain.chain_id();
    (0..n)
        .map(|_| {
            p2pkh_spend(
                coins.pop().expect("enough coins"),
                Amount::from_units(COIN_VALUE),
                &owner(),
                p2pkh_script(&owner()),
                Amount::from_units(1_000),
                &chain_id,
            )
        })
        .collect()
}

fn spends(chain: &Chain, coins: &mut Vec<OutPoint>) -> Vec<Transaction> {
    spends_of(chain, coins, BLOCK_TXS)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut coins) = chain_with_coins(dir.path());
    let mut group = c.benchmark_group("state commitment");
    // Every import spends 1,000 of the coins: flat sampling keeps the count of iterations
    // (and of coins spent) near what the time allows, well under `COINS`.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));

    group.bench_function("import a block of 1000 transactions", |b| {
        b.iter_batched(
            || mine_on_tip(&chain, spends(&chain, &mut coins)),
            |block| assert_eq!(chain.import_block(block).unwrap().connected.len(), 1),
            BatchSize::PerIteration,
        )
    });

    let next = mine_on_tip(&chain, spends(&chain, &mut coins));
    let (changes, _) = chain.preview_block(&next).unwrap();
    let height = next.header.height;
    let store = chain.store();
    let set = state_tree::block_changes(height, &changes);
    let mut written = store.tree_update(&set, &tree::Sequential).unwrap();
    let changed = written.nodes.len();
    // The store writes only the nodes below the levels it keeps in memory.
    written
        .nodes
        .retain(|(path, _)| path.len() > i8o8i_chain::store::TREE_MEMORY_LEVELS);
    println!(
        "the block's tree update: {} changed entries, {changed} nodes changed, of which {} written \
         or deleted on disk, {} bytes of nodes",
        set.len(),
        written.nodes.len(),
        written
            .nodes
            .iter()
            .map(|(path, node)| path.to_key().len() + node.as_ref().map_or(0, |n| n.encode().len()))
            .sum::<usize>()
    );
    // What writing those nodes adds to the block's batch, measured apart: the same puts and
    // deletes as a batch of their own on a RocksDB with the store's options.
    let scratch = tempfile::tempdir().unwrap();
    let mut options = rocksdb::Options::default();
    options.create_if_missing(true);
    options.set_compression_type(rocksdb::DBCompressionType::Lz4);
    let db = rocksdb::DB::open(&options, scratch.path()).unwrap();
    let encoded: Vec<(Vec<u8>, Option<Vec<u8>>)> = written
        .nodes
        .iter()
        .map(|(path, node)| (path.to_key(), node.as_ref().map(|n| n.encode())))
        .collect();
    group.bench_function(
        "writing that update's nodes (a RocksDB batch of their own)",
        |b| {
            b.iter(|| {
                let mut batch = rocksdb::WriteBatch::default();
                for (key, node) in &encoded {
                    match node {
                        Some(bytes) => batch.put(key, bytes),
                        None => batch.delete(key),
                    }
                }
                db.write(batch).unwrap()
            })
        },
    );
    group.bench_function("state tree update of that block, one thread", |b| {
        b.iter(|| store.tree_update(&set, &tree::Sequential).unwrap())
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads())
        .build()
        .unwrap();
    group.bench_function(
        "state tree update of that block, as the node splits it",
        |b| {
            b.iter(|| {
                store
                    .tree_update(&set, &state_tree::PoolJoin(&pool))
                    .unwrap()
            })
        },
    );

    // The same update over nodes held in memory: what is hashing, what is reading RocksDB.
    let key_of = |i: u32| {
        let op = OutPoint {
            txid: i8o8i_primitives::Txid::from_byte_array(i8o8i_primitives::sha256d(
                &i.to_le_bytes(),
            )),
            index: 0,
        };
        sha256(&coin_key(&op))
    };
    let mut entries: Vec<_> = (0..COINS as u32).map(|i| (key_of(i), [7u8; 32])).collect();
    entries.sort();
    let built = tree::build(&entries).unwrap();
    let memory = InMemory(
        built
            .nodes
            .into_iter()
            .filter_map(|(path, node)| Some((path, node?)))
            .collect(),
    );
    // As a block of 1,000 one-in-one-out spends: 1,000 coins go, 1,000 come.
    let mut in_memory: Vec<_> = (0..BLOCK_TXS as u32)
        .map(|i| (key_of(i), None))
        .chain((0..BLOCK_TXS as u32).map(|i| (key_of(COINS as u32 + i), Some([8u8; 32]))))
        .collect();
    in_memory.sort();
    group.bench_function("the same update over nodes in memory", |b| {
        b.iter(|| tree::update(&memory, &built.root, &in_memory).unwrap())
    });

    let coin = coins[0];
    let answer = store.coin_proof(&coin).unwrap();
    let value = answer.value.clone().unwrap();
    let key = coin_key(&coin);
    println!(
        "coin proof: {} siblings, {} bytes (leaf 64 + siblings), value {} bytes; {} entries",
        answer.proof.siblings.len(),
        64 + 32 * answer.proof.siblings.len(),
        value.len(),
        COINS
    );
    group.bench_function("verify a coin proof", |b| {
        b.iter(|| {
            answer
                .proof
                .verify(&answer.root, &key, Some(&value))
                .unwrap()
        })
    });
    let absent = OutPoint {
        txid: coin.txid,
        index: u32::MAX,
    };
    let none = store.coin_proof(&absent).unwrap();
    assert!(none.value.is_none());
    let none_key = coin_key(&absent);
    group.bench_function("verify an absence proof", |b| {
        b.iter(|| none.proof.verify(&none.root, &none_key, None).unwrap())
    });
    assert_eq!(value, chain.store().coin(&coin).unwrap().unwrap().encode());

    // A reorganisation of 10 blocks: a branch of 11 blocks off the block 10 below the tip, its
    // first 10 stored (no more work than the best chain, so not connected); importing the 11th
    // disconnects 10 blocks and connects 11, the tree updated both ways. Each block of either
    // chain carries 20 spends, so the trees have something to undo and redo.
    group.bench_function("reorganise 10 blocks (disconnect 10, connect 11)", |b| {
        b.iter_batched(
            || {
                for _ in 0..10 {
                    chain
                        .import_block(mine_on_tip(&chain, spends_of(&chain, &mut coins, 20)))
                        .unwrap();
                }
                let tip = chain.tip().header.height;
                let fork = chain.store().hash_at(tip - 10).unwrap().unwrap();
                let mut parent = chain.entry(&fork).unwrap().header;
                // Each stored before the next is built on it (a block's state root is
                // computed on its stored parent); none outweighs the tip until the 11th.
                for tag in 0..10u64 {
                    let next = mine_on(
                        &chain,
                        &parent,
                        &anyone_can_spend(),
                        tag,
                        spends_of(&chain, &mut coins, 20),
                    );
                    parent = next.header.clone();
                    assert!(chain.import_block(next).unwrap().connected.is_empty());
                }
                let last = mine_on(
                    &chain,
                    &parent,
                    &anyone_can_spend(),
                    10,
                    spends_of(&chain, &mut coins, 20),
                );
                (tip, last)
            },
            |(tip, last)| {
                let outcome = chain.import_block(last).unwrap();
                assert_eq!(outcome.disconnected.len(), 10);
                assert_eq!(outcome.connected.len(), 11);
                assert_eq!(chain.tip().header.height, tip + 1);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Tree nodes in a map.
struct InMemory(std::collections::HashMap<NodePath, Node>);

impl NodeSource for InMemory {
    fn node(&self, path: &NodePath) -> Result<Option<Node>, StoreError> {
        Ok(self.0.get(path).cloned())
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
