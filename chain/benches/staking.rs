//! Connecting a block that carries one bond, on a RocksDB chain where no bond exists and
//! where 100,000 bonds exist: the staking ledger's cost must not grow with the number of
//! bonds.
//!
//! Run: `cargo bench -p i8o8i-chain --features test-utils --bench staking`.
//! The chain is the dev chain (instant proof of work) with a proof-of-stake entry scheduled
//! far ahead, so bonds are accepted from the first block while blocks stay proof of work. The
//! 100,000 bonds are made by four blocks of 25,000 bonding transactions, each spending the
//! change of the one before it from a genesis allocation to P2SH(`OP_TRUE`): setting up
//! costs hashing, not signature checks. Only `Chain::import_block` is timed.

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use i8o8i_chain::memory::{anyone_can_spend_tx, dev_yaml_funding_anyone, mine_on_tip};
use i8o8i_chain::{Chain, Store, SystemClock};
use i8o8i_primitives::{Amount, OutPoint, Payload, Transaction};
use i8o8i_runtime::spec::ChainSpec;

const BONDS: usize = 100_000;
const PER_BLOCK: usize = 25_000;
const BOND: u64 = 100_000_000;
const ALLOCATION: u64 = 1_000_000 * BOND;

/// The dev chain with an allocation to P2SH(`OP_TRUE`), coinbase maturity 1 (so it is
/// spendable in block 1) and a proof-of-stake entry from height 1,000,000.
fn spec() -> ChainSpec {
    let yaml = dev_yaml_funding_anyone(ALLOCATION);
    let pos = format!(
        "  - from_height: 1000000\n    engine: pos\n    params:\n      slot_secs: 2\n      epoch_slots: 30\n      unbonding_period: 50\n      min_bond: {BOND}\n      genesis_validators:\n        - key: {}\n          stake: 1\n",
        hex::encode(staking_key(0))
    );
    ChainSpec::from_yaml(&format!("{}\n{pos}", yaml.trim_end())).unwrap()
}

fn staking_key(n: usize) -> [u8; 33] {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    let sk = secp256k1::SecretKey::from_secret_bytes(secret).unwrap();
    secp256k1::PublicKey::from_secret_key(&sk).serialize()
}

/// A chain of bonds: each spends the previous one's change and bonds `BOND` to the next key.
struct Bonder {
    coin: OutPoint,
    value: u64,
    next_key: usize,
}

impl Bonder {
    fn bond(&mut self) -> Transaction {
        self.value -= BOND;
        let mut tx = anyone_can_spend_tx(&[self.coin], &[self.value]);
        tx.payload = Some(Payload::Bond {
            staking_key: staking_key(self.next_key),
            value: Amount::from_units(BOND),
        });
        self.next_key += 1;
        self.coin = OutPoint {
            txid: tx.txid(),
            index: 0,
        };
        tx
    }
}

/// A chain in `dir` with `bonds` bonds made, and the bonder ready for the next.
fn chain_with_bonds(dir: &std::path::Path, bonds: usize) -> (Chain, Bonder) {
    let spec = spec();
    let genesis = spec.genesis_block();
    let store = Arc::new(Store::open(dir).unwrap());
    let chain = Chain::open(store, spec, 0, SystemClock::new().shared()).unwrap();
    let mut bonder = Bonder {
        coin: OutPoint {
            txid: genesis.transactions[0].txid(),
            index: 0,
        },
        value: ALLOCATION,
        next_key: 1,
    };
    // The genesis allocation matures at height 1.
    chain.import_block(mine_on_tip(&chain, Vec::new())).unwrap();
    let mut made = 0;
    while made < bonds {
        let n = PER_BLOCK.min(bonds - made);
        let txs = (0..n).map(|_| bonder.bond()).collect();
        chain.import_block(mine_on_tip(&chain, txs)).unwrap();
        made += n;
    }
    (chain, bonder)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("connect a block with one bond");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    for bonds in [0, BONDS] {
        let dir = tempfile::tempdir().unwrap();
        let (chain, mut bonder) = chain_with_bonds(dir.path(), bonds);
        group.bench_function(format!("after {bonds} bonds"), |b| {
            b.iter_batched(
                || mine_on_tip(&chain, vec![bonder.bond()]),
                |block| {
                    let outcome = chain.import_block(block).unwrap();
                    assert_eq!(outcome.connected.len(), 1);
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
