//! Block template construction from a full pool: 50,000 transactions, as independent spends
//! and as chains of children paying rising fee rates (the shape that made the old template
//! loop quadratic). The pool is built once per shape through `Mempool::accept`, with the
//! in-memory chain of `memory::MemoryChain`; only `Mempool::template` is timed.
//!
//! Run: `cargo bench -p i8o8i-chain --features test-utils --bench template`.
//! Inputs spend P2SH(`OP_TRUE`) outputs, so setting the pool up costs hashing rather than
//! 50,000 signature checks; the template does not look at scripts either way.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use i8o8i_chain::memory::{MemoryChain, anyone_can_spend_tx};
use i8o8i_chain::{ChainView, Mempool};
use i8o8i_config::MempoolConfig;
use i8o8i_primitives::OutPoint;

const POOL: usize = 50_000;
const NOW: u64 = 1_700_000_000;

/// A pool of `chains` chains of `length` transactions each (1 × `POOL` is independent
/// spends); along a chain each child pays a higher fee than its parent, and chains start at
/// varied fee rates.
fn pool(chains: usize, length: usize) -> (MemoryChain, Mempool) {
    let mut chain = MemoryChain::new();
    let heads: Vec<OutPoint> = (0..chains as u64)
        .map(|c| chain.fund_anyone(c, 10_000_000_000))
        .collect();
    let mut pool = Mempool::new(MempoolConfig {
        max_bytes: 1 << 30,
        ..MempoolConfig::default()
    });
    for (c, head) in heads.into_iter().enumerate() {
        let mut prevout = head;
        let mut value = 10_000_000_000u64;
        for k in 0..length {
            let fee = 100 + (c as u64 % 97) * 10 + k as u64 * 20;
            value -= fee;
            let tx = anyone_can_spend_tx(&[prevout], &[value]);
            let txid = pool.accept(tx, &chain, NOW).expect("pooled");
            prevout = OutPoint { txid, index: 0 };
        }
    }
    (chain, pool)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("template");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for (name, chains, length) in [
        ("50000 independent", POOL, 1),
        ("2000 chains of 25", POOL / 25, 25),
    ] {
        let (chain, pool) = pool(chains, length);
        assert_eq!(pool.info().count, POOL);
        let max = chain.spec().max_block_size;
        group.bench_function(name, |b| b.iter(|| black_box(pool.template(max))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
