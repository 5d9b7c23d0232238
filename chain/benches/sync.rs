//! Full-block sync with and without assume-valid: a fresh RocksDB chain learns the headers of
//! 200 blocks of 1,000 signed P2PKH payments each (plus the blocks that fund them and 20 empty
//! blocks on top), then imports every block in order, as headers-first sync hands them over.
//! With assume-valid the last payment block is the assumed one; the chain spec's block time is
//! a day, so the 20 blocks on top bury every payment block under more than two weeks of work
//! and none of their scripts run. Criterion reports transactions per second.
//!
//! Run: `cargo bench -p i8o8i-chain --features test-utils --bench sync` (about three minutes;
//! building the source chain signs and verifies the 200,000 payments first).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use i8o8i_chain::memory::{dev_yaml_funding_anyone, fan_out, mine_on_tip};
use i8o8i_chain::{Chain, Store, SystemClock};
use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
use i8o8i_primitives::{Amount, Block};
use i8o8i_runtime::spec::ChainSpec;

const BLOCKS: usize = 200;
const BLOCK_TXS: usize = 1_000;
const BURY: usize = 20;
const COIN_VALUE: u64 = 100_000;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn spec() -> ChainSpec {
    let coins = (BLOCKS * BLOCK_TXS) as u64;
    let yaml = dev_yaml_funding_anyone((coins + 1) * COIN_VALUE * 2)
        .replace("target_block_time: 2 ", "target_block_time: 86400 ");
    let spec = ChainSpec::from_yaml(&yaml).unwrap();
    assert_eq!(
        spec.target_block_time, 86_400,
        "the dev spec's block time line changed"
    );
    spec
}

fn open(dir: &std::path::Path, spec: ChainSpec) -> Chain {
    let store = Arc::new(Store::open(dir).unwrap());
    Chain::open(store, spec, threads(), SystemClock::new().shared()).unwrap()
}

/// The source chain's blocks above genesis, and how many transactions they hold.
fn source_blocks() -> (Vec<Block>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec());
    let owner = secret_key(3);
    chain.import_block(mine_on_tip(&chain, Vec::new())).unwrap();
    let coins = fan_out(
        &chain,
        &p2pkh_script(&owner),
        BLOCKS * BLOCK_TXS,
        COIN_VALUE,
        ((BLOCKS * BLOCK_TXS) as u64 + 1) * COIN_VALUE * 2,
    );
    let chain_id = chain.chain_id();
    for block in coins.chunks(BLOCK_TXS) {
        let payments = block
            .iter()
            .map(|coin| {
                p2pkh_spend(
                    *coin,
                    Amount::from_units(COIN_VALUE),
                    &owner,
                    p2pkh_script(&owner),
                    Amount::from_units(1_000),
                    &chain_id,
                )
            })
            .collect();
        let outcome = chain.import_block(mine_on_tip(&chain, payments)).unwrap();
        assert_eq!(outcome.connected.len(), 1);
    }
    for _ in 0..BURY {
        chain.import_block(mine_on_tip(&chain, Vec::new())).unwrap();
    }
    let tip = chain.tip().header.height;
    let blocks: Vec<Block> = (1..=tip)
        .map(|height| {
            let hash = chain.store().hash_at(height).unwrap().unwrap();
            chain.store().block(&hash).unwrap().unwrap()
        })
        .collect();
    let txs = blocks.iter().map(|b| b.transactions.len() as u64).sum();
    (blocks, txs)
}

/// Headers first, then every block in order, on a fresh store; the time it took.
fn sync(blocks: &[Block], spec: ChainSpec) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec);
    let genesis = chain.tip().header;
    let headers: Vec<_> = blocks.iter().map(|b| b.header.clone()).collect();
    let started = Instant::now();
    chain.check_header_chain(&genesis, &headers).unwrap();
    for block in blocks {
        let outcome = chain.import_block(block.clone()).unwrap();
        assert!(outcome.invalid.is_empty());
    }
    let elapsed = started.elapsed();
    assert_eq!(chain.tip().hash, blocks.last().unwrap().header.hash());
    elapsed
}

fn bench(c: &mut Criterion) {
    let (blocks, txs) = source_blocks();
    let assumed = blocks[blocks.len() - BURY - 1].header.hash();
    let mut group = c.benchmark_group("full-block sync of 200 blocks of 1000 P2PKH payments");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(txs));
    group.bench_function("every script verified", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| sync(&blocks, spec())).sum())
    });
    let mut assuming = spec();
    assuming.assume_valid = Some(assumed);
    group.bench_function("assume-valid", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| sync(&blocks, assuming.clone())).sum())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
