//! Contract engine benchmarks (criterion):
//! - `call/noop`: a call to a module whose `call` does nothing — the fixed cost of an
//!   execution with a warm module cache (fresh `Store`, instantiation, fuel, one call).
//! - `call/token_transfer`: the token example's `transfer`, warm cache, state in memory.
//! - `call/token_transfer_rocksdb`: the same with the token's state in RocksDB, read through
//!   the chain's `Store` as a block's executions read it (a fresh overlay over the store).
//! - `compile/token`: first call of the token module (cranelift compile + link + call), each
//!   iteration with a module that differs only in a custom section, so the cache never hits.
//! - `compute/wasm` vs `compute/native`: the same xorshift loop (1,000,000 rounds) in Wasm
//!   with fuel metering and in native Rust.
//!
//! Run: `cargo bench -p i8o8i-benches --bench contracts`. The token module is the committed
//! build in `contracts/artifacts/token.wasm`, so the figures do not depend on which compiler
//! built the example.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use i8o8i_contract_engine::engine::{Entry, ExecRequest};
use i8o8i_contract_engine::state::MemoryState;
use i8o8i_contract_engine::{ContractEngine, StateOverlay};
use i8o8i_primitives::ContractAddress;
use i8o8i_primitives::contract::code_hash;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::state::BlockChanges;
use parity_scale_codec::Encode;

const ALICE: [u8; 25] = [0x76; 25];
const BOB: [u8; 25] = [0x77; 25];
const ROUNDS: i64 = 1_000_000;

const TOKEN_WASM: &[u8] = include_bytes!("../../contracts/artifacts/token.wasm");

fn request(code: &Arc<Vec<u8>>, entry: Entry, input: Vec<u8>) -> ExecRequest {
    ExecRequest {
        code_hash: code_hash(code),
        code: Some(code.clone()),
        entry,
        address: ContractAddress::from_byte_array([9; 32]),
        caller: ALICE.to_vec(),
        value: 0,
        balance: 0,
        input,
        gas_limit: 50_000_000,
        gas_precharged: 0,
        height: 1,
        time: 0,
    }
}

const COMPUTE_WAT: &str = include_str!("../compute.wat");

fn native_xorshift(rounds: i64) -> u64 {
    let mut x: u64 = 88172645463325252;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn benches(c: &mut Criterion) {
    let engine = ContractEngine::new().expect("engine");
    let base: Arc<MemoryState> = Arc::default();

    let noop = Arc::new(
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "call")))"#).unwrap(),
    );
    let noop_req = request(&noop, Entry::Call, Vec::new());
    c.bench_function("call/noop", |b| {
        b.iter(|| {
            let (_, r) = engine.execute(StateOverlay::new(base.clone()), noop_req.clone());
            assert!(r.status.is_success());
        })
    });

    let token = Arc::new(TOKEN_WASM.to_vec());
    let init = ("Bench".to_owned(), "B".to_owned(), u128::MAX / 2).encode();
    let (deployed, r) = engine.execute(
        StateOverlay::new(base.clone()),
        request(&token, Entry::Deploy, init),
    );
    assert!(r.status.is_success(), "{:?}", r.status);
    let transfer = [
        "transfer".to_owned().encode(),
        (BOB.to_vec(), 1u128).encode(),
    ]
    .concat();
    let (_, r) = engine.execute(
        deployed.clone(),
        request(&token, Entry::Call, transfer.clone()),
    );
    assert!(r.status.is_success(), "{:?}", r.status);
    println!("token transfer: {} gas", r.gas_used);
    // The request is built once: hashing the 23 KB module for each call (the node reads the
    // code hash from the account) was a third of what this measured.
    let req = request(&token, Entry::Call, transfer.clone());
    c.bench_function("call/token_transfer", |b| {
        b.iter(|| {
            let (_, r) = engine.execute(deployed.clone(), req.clone());
            assert!(r.status.is_success());
        })
    });

    // The token's state written to a real store, as a connected block writes it.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(i8o8i_chain::Store::open(dir.path()).expect("RocksDB opens"));
    let changes = BlockChanges {
        contracts: deployed.clone().into_changes().expect("in memory"),
        ..BlockChanges::default()
    };
    let spec = ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).expect("spec");
    let tree = i8o8i_primitives::state_tree::update(
        &i8o8i_primitives::state_tree::NoNodes,
        &i8o8i_primitives::state_tree::Child::Empty,
        &i8o8i_chain::state_tree::block_changes(0, &changes),
    )
    .expect("a tree");
    store
        .connect(&spec.genesis_block(), &changes, &tree)
        .expect("written");
    let on_disk = StateOverlay::new(store.clone());
    let (_, r) = engine.execute(on_disk.clone(), req.clone());
    assert!(r.status.is_success(), "{:?}", r.status);
    c.bench_function("call/token_transfer_rocksdb", |b| {
        b.iter(|| {
            let (_, r) = engine.execute(StateOverlay::new(store.clone()), req.clone());
            assert!(r.status.is_success());
        })
    });

    let mut n = 0u64;
    c.bench_function("compile/token", |b| {
        b.iter(|| {
            n += 1;
            // A custom section: id 0, size, name "n" (len 1), 8 bytes of counter.
            let mut code = (*token).clone();
            code.extend_from_slice(&[0, 10, 1, b'n']);
            code.extend_from_slice(&n.to_le_bytes());
            let code = Arc::new(code);
            let (_, r) = engine.execute(
                deployed.clone(),
                request(&code, Entry::Call, transfer.clone()),
            );
            assert!(r.status.is_success());
        })
    });

    let compute = Arc::new(wat::parse_str(COMPUTE_WAT).unwrap());
    let (_, r) = engine.execute(
        StateOverlay::new(base.clone()),
        request(&compute, Entry::Call, Vec::new()),
    );
    assert_eq!(
        r.return_data,
        native_xorshift(ROUNDS).to_le_bytes(),
        "wasm and native compute the same"
    );
    let mut group = c.benchmark_group("compute");
    group.bench_function("wasm", |b| {
        b.iter(|| {
            engine.execute(
                StateOverlay::new(base.clone()),
                request(&compute, Entry::Call, Vec::new()),
            )
        })
    });
    group.bench_function("native", |b| b.iter(|| native_xorshift(black_box(ROUNDS))));
    group.finish();
}

criterion_group!(contracts, benches);
criterion_main!(contracts);
