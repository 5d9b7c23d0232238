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
