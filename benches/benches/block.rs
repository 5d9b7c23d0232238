//! Connecting a block of 1,000 signed P2PKH transactions: script checks on one thread vs on
//! every core (the rayon pool `connect_block` uses), with RocksDB out of the picture (an
//! in-memory UTXO set), so the figure is the validation work itself.
//!
//! `…_pooled`: the same block after every transaction went through the mempool, so the
//! script cache (verify once) holds them all.
//!
//! Run: `cargo bench -p i8o8i-benches --bench block`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use i8o8i_benches::key;
use i8o8i_primitives::Coin;
use i8o8i_primitives::StoreError;
use i8o8i_primitives::{
    Amount, Block, Hash256, Header, OutPoint, Seal, Transaction, TxIn, TxOut, Txid, merkle_root,
    sign_p2pkh_input,
};
use i8o8i_runtime::consensus::coinbase_transaction;
use i8o8i_runtime::script_cache::{CacheUse, ScriptCache, consensus_key};
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::state::{ChainTimeReader, ConnectContext, UtxoReader, connect_block};
use i8o8i_script_vm::{Builder, SIGHASH_ALL, templates};

struct Utxos(BTreeMap<OutPoint, Coin>);
impl UtxoReader for Utxos {
    fn coin(&self, op: &OutPoint) -> Result<Option<Coin>, StoreError> {
        Ok(self.0.get(op).cloned())
    }
}
struct Times;
impl ChainTimeReader for Times {
    fn median_time_past_at(&self, _: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}

const TXS: usize = 1_000;
const HEIGHT: u64 = 500;

fn fixture() -> (ChainSpec, Utxos, Block, Hash256) {
    let spec =
        ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).expect("dev spec");
    let chain_id = Hash256::from_byte_array([7; 32]);
    let keys: Vec<_> = (0..16u8).map(key).collect();
    let mut utxos = BTreeMap::new();
    let mut txs = Vec::with_capacity(TXS);
    for i in 0..TXS {
        let (sk, pk) = &keys[i % keys.len()];
        let script = templates::p2pkh(&templates::hash160(&pk.serialize()));
        let op = OutPoint {
            txid: Txid::from_byte_array([(i % 251) as u8; 32]),
            index: i as u32,
        };
        let value = Amount::from_units(100_000);
        utxos.insert(
            op,
            Coin {
                output: TxOut {
                    value,
                    script_pubkey: script.clone(),
                },
                height: 1,
                coinbase: false,
            },
        );
        let mut tx = Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout: op,
                script_sig: Default::default(),
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value: Amount::from_units(99_000),
                script_pubkey: script,
            }],
            lock_time: 0,
            payload: None,
        };
        sign_p2pkh_input(&mut tx, 0, sk, value, &chain_id, SIGHASH_ALL).expect("signs");
        txs.push(tx);
    }
    let fees = 1_000 * TXS as u64;
    let coinbase = coinbase_transaction(
        HEIGHT,
        &[0; 8],
        vec![TxOut {
            value: Amount::from_units(spec.subsidy(HEIGHT).to_units() + fees),
            script_pubkey: Builder::new().push_int(1).into_script(),
        }],
    );
    let mut transactions = vec![coinbase];
    transactions.extend(txs);
    let header = Header {
        version: 1,
        parent: i8o8i_primitives::BlockHash::ZERO,
        height: HEIGHT,
        time: 1,
        tx_root: merkle_root(
            &transactions
                .iter()
                .map(Transaction::txid)
                .collect::<Vec<_>>(),
        ),
        state_root: Hash256::ZERO,
        seal: Seal::Pow {
            bits: 0x207fffff,
            nonce: 0,
        },
    };
    (
        spec,
        Utxos(utxos),
        Block {
            header,
            transactions,
        },
        chain_id,
    )
}

fn bench_connect(c: &mut Criterion) {
    let (spec, utxos, block, chain_id) = fixture();
    let ctx = ConnectContext {
        spec: &spec,
        chain_id,
        median_time_past: 0,
        contracts: None,
        script_cache: None,
        assume_valid: false,
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let all = rayon::ThreadPoolBuilder::new()
        .num_threads(cores)
        .build()
        .expect("pool");
    let changes =
        connect_block(&block, &ctx, &utxos, &Times, Some(&all)).expect("the block is valid");
    assert_eq!(changes.spent.len(), TXS);

    let mut g = c.benchmark_group("connect_block_1000_p2pkh");
    g.sample_size(20);
    g.bench_function("1_thread", |b| {
        b.iter(|| connect_block(black_box(&block), &ctx, &utxos, &Times, Some(&one)))
    });
    g.bench_function(format!("{cores}_threads"), |b| {
        b.iter(|| connect_block(black_box(&block), &ctx, &utxos, &Times, Some(&all)))
    });
    // Every transaction admitted to the pool first (verify once): the connect finds each in
    // the script cache and runs no scripts.
    let cache = ScriptCache::new(2 * TXS);
    for tx in &block.transactions[1..] {
        let coins: Vec<Coin> = tx
            .inputs
            .iter()
            .map(|i| utxos.0[&i.prevout].clone())
            .collect();
        cache.insert(consensus_key(&chain_id, &tx.txid(), &coins));
    }
    let cached = ConnectContext {
        script_cache: Some(CacheUse {
            cache: &cache,
            tally: None,
        }),
        assume_valid: false,
        ..ctx
    };
    assert_eq!(
        connect_block(&block, &cached, &utxos, &Times, Some(&all)),
        Ok(changes)
    );
    g.bench_function(format!("{cores}_threads_pooled"), |b| {
        b.iter(|| connect_block(black_box(&block), &cached, &utxos, &Times, Some(&all)))
    });
    g.finish();
}

criterion_group!(benches, bench_connect);
criterion_main!(benches);
