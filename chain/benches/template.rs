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
use i8o8i_chain::memory::MemoryChain;
use i8o8i_chain::{ChainView, Mempool};
use i8o8i_config::MempoolConfig;
use i8o8i_primitives::{Amount, OutPoint, Transaction, TxIn, TxOut, Txid};
use i8o8i_script_vm::{Builder, ScriptBuf, opcodes, templates};

const POOL: usize = 50_000;
const NOW: u64 = 1_700_000_000;

fn redeem() -> ScriptBuf {
    Builder::new().push_opcode(opcodes::OP_TRUE).into_script()
}

fn anyone_can_spend() -> ScriptBuf {
    templates::p2sh_for(&redeem())
}

/// A spend of `prevout` (worth `value`) to one P2SH(`OP_TRUE`) output, paying `fee`.
fn spend(prevout: OutPoint, value: u64, fee: u64) -> Transaction {
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout,
            script_sig: Builder::new().push_slice(redeem().as_bytes()).into_script(),
            sequence: u32::MAX,
        }],
        outputs: vec![TxOut {
            value: Amount::from_units(value - fee),
            script_pubkey: anyone_can_spend(),
        }],
        lock_time: 0,
        payload: None,
    }
}

/// A pool of `chains` chains of `length` transactions each (1 × `POOL` is independent
/// spends); along a chain each child pays a higher fee than its parent, and chains start at
/// varied fee rates.
fn pool(chains: usize, length: usize) -> (MemoryChain, Mempool) {
    let mut chain = MemoryChain::new();
    for c in 0..chains {
        let mut txid = [0u8; 32];
        txid[..8].copy_from_slice(&(c as u64).to_le_bytes());
        chain.add_coin(
            OutPoint {
                txid: Txid::from_byte_array(txid),
                index: 0,
            },
            TxOut {
                value: Amount::from_units(10_000_000_000),
                script_pubkey: anyone_can_spend(),
            },
        );
    }
    let mut pool = Mempool::new(MempoolConfig {
        max_bytes: 1 << 30,
        ..MempoolConfig::default()
    });
    let heads: Vec<OutPoint> = chain.coins.keys().copied().collect();
    for (c, head) in heads.into_iter().enumerate() {
        let mut prevout = head;
        let mut value = 10_000_000_000u64;
        for k in 0..length {
            let fee = 100 + (c as u64 % 97) * 10 + k as u64 * 20;
            let tx = spend(prevout, value, fee);
            value -= fee;
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
