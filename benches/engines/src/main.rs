//! The speed table of the contract platform: the node's engine (wasmtime, through the same
//! `Harness` the chain's execution path uses) against wasmi on the same modules, and the
//! example token's `transfer` against an ERC-20 `transfer` in revm. State in memory
//! everywhere; each timed run starts from the same state and drops what it wrote.
//!
//! Run (release, dependencies at full optimisation):
//! `cargo run --release --manifest-path benches/engines/Cargo.toml [runs]`.
//!
//! What each side does per call:
//! - **wasmtime (node)**: a fresh instance of the stack-height-instrumented module, fuel and
//!   every host charge of the chain's gas schedule, the journal of a real execution.
//! - **wasmi**: a fresh instance of the same module (not instrumented) with fuel on, and a
//!   minimal host for the token's nine imports doing the same reads and writes without gas
//!   accounting — so the ratio slightly favours wasmi.
//! - **revm**: `transact` of a call to `transfer(address,uint256)` of `erc20/ERC20.sol`
//!   (solc-js 0.8.28, optimizer on) deployed in an in-memory database, state dropped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use i8o8i_contract_engine::harness::Harness;
use parity_scale_codec::Encode;
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{Address, Bytes, TxKind, U256};
use revm::state::AccountInfo;
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};
use sha2::{Digest, Sha256};

// The node's allocator (`cli/src/main.rs`), so the engine's path is timed as the node runs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN_WASM: &[u8] = include_bytes!("../../../contracts/artifacts/token.wasm");
const ERC20_BIN: &str = include_str!("../erc20/ERC20.bin");

/// The compute loop `benches/benches/contracts.rs` times too: 1,000,000 rounds of xorshift.
const COMPUTE_WAT: &str = include_str!("../../compute.wat");

const ALICE: [u8; 25] = [0x76; 25];
const BOB: [u8; 25] = [0x77; 25];

/// A timed workload: one call per invocation.
type Workload<'a> = Box<dyn FnMut() + 'a>;

/// Median and 99th percentile of each workload's `runs` timed calls, after `runs / 10`
/// untimed ones. The workloads take turns in rounds of `runs / ROUNDS` calls, so a stretch
/// where this (shared, virtual) machine runs slow falls on all of them alike and their
/// ratios hold even when the absolute times drift.
fn time_together(runs: usize, workloads: &mut [Workload<'_>]) -> Vec<(Duration, Duration)> {
    const ROUNDS: usize = 20;
    let per_round = runs.div_ceil(ROUNDS).max(1);
    for f in workloads.iter_mut() {
        for _ in 0..runs / 10 {
            f();
        }
    }
    let mut times: Vec<Vec<Duration>> = workloads.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for (f, times) in workloads.iter_mut().zip(&mut times) {
            for _ in 0..per_round {
                let start = Instant::now();
                f();
                times.push(start.elapsed());
            }
        }
    }
    times
        .into_iter()
        .map(|mut times| {
            times.sort();
            let at = |pct: usize| times[((times.len() * pct).div_ceil(100)).max(1) - 1];
            (at(50), at(99))
        })
        .collect()
}

fn method(name: &str, args: impl Encode) -> Vec<u8> {
    [name.to_owned().encode(), args.encode()].concat()
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let init = ("Bench".to_owned(), "B".to_owned(), u128::MAX / 2).encode();
    let transfer = method("transfer", (BOB.to_vec(), 1u128));
    let compute = wat::parse_str(COMPUTE_WAT).expect("valid WAT");

    // The node's engine.
    let mut h = Harness::new().expect("engine");
    // The loop burns about 15 million gas.
    h.gas_limit = 100_000_000;
    let (token, deployed) = h.deploy(&ALICE, TOKEN_WASM, &init).expect("a valid module");
    assert!(deployed.status.is_success(), "{:?}", deployed.status);
    let (req, _) = h.request(&ALICE, token, &transfer, 0).expect("deployed");
    let check = h.run(req.clone());
    assert!(check.status.is_success(), "{:?}", check.status);
    let (loop_at, _) = h.deploy(&ALICE, &compute, &[]).expect("a valid module");
    let (loop_req, _) = h.request(&ALICE, loop_at, &[], 0).expect("deployed");
    let looped = h.run(loop_req.clone());
    assert!(looped.status.is_success(), "{:?}", looped.status);
    let expected_loop = looped.return_data;

    // wasmi on the same modules.
    let wasmi = Wasmi::new();
    let token_module = wasmi.module(TOKEN_WASM);
    let deployed = wasmi.run(&token_module, "deploy", &init, &Arc::default());
    let storage = Arc::new(deployed.expect("the constructor runs in wasmi").storage);
    let ran = wasmi
        .run(&token_module, "call", &transfer, &storage)
        .expect("a transfer");
    assert!(
        ran.storage.len() > storage.len(),
        "the transfer wrote bob's balance"
    );
    let loop_module = wasmi.module(&compute);
    let empty = Arc::default();
    let looped = wasmi
        .run(&loop_module, "call", &[], &empty)
        .expect("the loop");
    assert_eq!(
        looped.returned, expected_loop,
        "both engines compute the same"
    );

    // revm's ERC-20.
    let mut revm_transfer = erc20_transfer();

    let transfers = time_together(
        runs,
        &mut [
            Box::new(|| {
                h.run(req.clone());
            }),
            Box::new(|| {
                wasmi
                    .run(&token_module, "call", &transfer, &storage)
                    .expect("a transfer");
            }),
            Box::new(&mut revm_transfer),
        ],
    );
    let (wasmtime_transfer, wasmi_transfer, revm_transfer) =
        (transfers[0], transfers[1], transfers[2]);
    let loops = time_together(
        runs / 20,
        &mut [
            Box::new(|| {
                h.run(loop_req.clone());
            }),
            Box::new(|| {
                wasmi
                    .run(&loop_module, "call", &[], &empty)
                    .expect("the loop");
            }),
        ],
    );
    let (wasmtime_loop, wasmi_loop) = (loops[0], loops[1]);

    let row = |name: &str, (m, p): (Duration, Duration)| {
        println!("| {name} | {:.2} µs | {:.2} µs |", us(m), us(p));
    };
    println!("| run ({runs} calls, release) | median | p99 |");
    println!("|---|---|---|");
    row("token transfer, wasmtime (node engine)", wasmtime_transfer);
    row("token transfer, wasmi", wasmi_transfer);
    row("ERC-20 transfer, revm", revm_transfer);
    row("compute loop (1M rounds), wasmtime", wasmtime_loop);
    row("compute loop (1M rounds), wasmi", wasmi_loop);
    println!();
    let ratio = |a: (Duration, Duration), b: (Duration, Duration)| us(a.0) / us(b.0);
    println!(
        "wasmi ÷ wasmtime: token transfer {:.1}×, compute loop {:.1}×",
        ratio(wasmi_transfer, wasmtime_transfer),
        ratio(wasmi_loop, wasmtime_loop)
    );
    println!(
        "wasmtime token transfer ÷ revm ERC-20 transfer: {:.2}×",
        ratio(wasmtime_transfer, revm_transfer)
    );
}

fn us(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1_000.0
}

/// wasmi with fuel on, and the token's imports.
struct Wasmi {
    engine: wasmi::Engine,
    linker: wasmi::Linker<Host>,
}

/// One wasmi execution's state: reads from the base storage, writes kept apart.
struct Host {
    memory: Option<wasmi::Memory>,
    input: Vec<u8>,
    returned: Vec<u8>,
    base: Arc<BTreeMap<Vec<u8>, Vec<u8>>>,
    writes: BTreeMap<Vec<u8>, Vec<u8>>,
    events: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What a wasmi run left.
struct Ran {
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
    returned: Vec<u8>,
}

type HostResult<T> = Result<T, wasmi::Error>;

fn memory(c: &wasmi::Caller<'_, Host>) -> HostResult<wasmi::Memory> {
    c.data()
        .memory
        .ok_or_else(|| wasmi::Error::new("no memory"))
}

fn read(c: &wasmi::Caller<'_, Host>, ptr: i32, len: i32) -> HostResult<Vec<u8>> {
    let mut buf = vec![0u8; len as u32 as usize];
    memory(c)?.read(c, ptr as u32 as usize, &mut buf)?;
    Ok(buf)
}

fn write(c: &mut wasmi::Caller<'_, Host>, ptr: i32, data: &[u8]) -> HostResult<()> {
    let mem = memory(c)?;
    mem.write(c, ptr as u32 as usize, data)?;
    Ok(())
}

impl Wasmi {
    fn new() -> Wasmi {
        let mut config = wasmi::Config::default();
        config
            .consume_fuel(true)
            .compilation_mode(wasmi::CompilationMode::Eager);
        let engine = wasmi::Engine::new(&config);
        let mut linker = wasmi::Linker::new(&engine);
        linker
            .func_wrap("env", "input_len", |c: wasmi::Caller<'_, Host>| -> i32 {
                c.data().input.len() as i32
            })
            .unwrap();
        linker
            .func_wrap(
                "env",
                "input_read",
                |mut c: wasmi::Caller<'_, Host>, out: i32| -> HostResult<()> {
                    let input = std::mem::take(&mut c.data_mut().input);
                    let done = write(&mut c, out, &input);
                    c.data_mut().input = input;
                    done
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "set_return",
                |mut c: wasmi::Caller<'_, Host>, ptr: i32, len: i32| -> HostResult<()> {
                    let data = read(&c, ptr, len)?;
                    c.data_mut().returned = data;
                    Ok(())
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "revert",
                |c: wasmi::Caller<'_, Host>, ptr: i32, len: i32| -> HostResult<()> {
                    let reason = read(&c, ptr, len)?;
                    Err(wasmi::Error::new(
                        String::from_utf8_lossy(&reason).into_owned(),
                    ))
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "caller",
                |mut c: wasmi::Caller<'_, Host>, out: i32| -> HostResult<i32> {
                    write(&mut c, out, &ALICE)?;
                    Ok(ALICE.len() as i32)
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "sha256",
                |mut c: wasmi::Caller<'_, Host>, ptr: i32, len: i32, out: i32| -> HostResult<()> {
                    let data = read(&c, ptr, len)?;
                    let digest: [u8; 32] = Sha256::digest(&data).into();
                    write(&mut c, out, &digest)
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "storage_read",
                |mut c: wasmi::Caller<'_, Host>,
                 key: i32,
                 key_len: i32,
                 out: i32,
                 cap: i32|
                 -> HostResult<i32> {
                    let key = read(&c, key, key_len)?;
                    let host = c.data();
                    let Some(value) = host
                        .writes
                        .get(&key)
                        .or_else(|| host.base.get(&key))
                        .cloned()
                    else {
                        return Ok(-1);
                    };
                    let n = value.len().min(cap as u32 as usize);
                    write(&mut c, out, &value[..n])?;
                    Ok(value.len() as i32)
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "storage_write",
                |mut c: wasmi::Caller<'_, Host>,
                 key: i32,
                 key_len: i32,
                 value: i32,
                 value_len: i32|
                 -> HostResult<()> {
                    let key = read(&c, key, key_len)?;
                    let value = read(&c, value, value_len)?;
                    c.data_mut().writes.insert(key, value);
                    Ok(())
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "env",
                "emit_event",
                |mut c: wasmi::Caller<'_, Host>,
                 topics: i32,
                 count: i32,
                 data: i32,
                 len: i32|
                 -> HostResult<()> {
                    let topics = read(&c, topics, count * 32)?;
                    let data = read(&c, data, len)?;
                    c.data_mut().events.push((topics, data));
                    Ok(())
                },
            )
            .unwrap();
        Wasmi { engine, linker }
    }

    fn module(&self, code: &[u8]) -> wasmi::Module {
        wasmi::Module::new(&self.engine, code).expect("wasmi compiles it")
    }

    /// Runs `entry` of a fresh instance of `module` over `storage`.
    fn run(
        &self,
        module: &wasmi::Module,
        entry: &str,
        input: &[u8],
        storage: &Arc<BTreeMap<Vec<u8>, Vec<u8>>>,
    ) -> Result<Ran, wasmi::Error> {
        let host = Host {
            memory: None,
            input: input.to_vec(),
            returned: Vec::new(),
            base: storage.clone(),
            writes: BTreeMap::new(),
            events: Vec::new(),
        };
        let mut store = wasmi::Store::new(&self.engine, host);
        store.set_fuel(u64::MAX / 2)?;
        let instance = self.linker.instantiate_and_start(&mut store, module)?;
        store.data_mut().memory = instance.get_memory(&store, "memory");
        instance
            .get_typed_func::<(), ()>(&store, entry)?
            .call(&mut store, ())?;
        let host = store.into_data();
        let mut all = (*host.base).clone();
        all.extend(host.writes);
        Ok(Ran {
            storage: all,
            returned: host.returned,
        })
    }
}

/// revm: deploys `ERC20.bin` with a supply for ALICE; the workload is `transfer(BOB, 1)`.
fn erc20_transfer() -> impl FnMut() {
    let alice = Address::repeat_byte(0xa1);
    let bob = Address::repeat_byte(0xb0);
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        alice,
        AccountInfo {
            balance: U256::from(10u64).pow(U256::from(24u64)),
            ..AccountInfo::default()
        },
    );
    let mut evm = Context::mainnet().with_db(db).build_mainnet();
    // constructor(string name, string symbol, uint256 supply): two dynamic strings.
    let word = |v: U256| v.to_be_bytes::<32>().to_vec();
    let text = |s: &str| {
        let mut padded = s.as_bytes().to_vec();
        padded.resize(32, 0);
        [word(U256::from(s.len())), padded].concat()
    };
    let mut data = hex::decode(ERC20_BIN.trim()).expect("hex bytecode");
    data.extend(word(U256::from(0x60)));
    data.extend(word(U256::from(0xa0)));
    data.extend(word(U256::MAX >> 1));
    data.extend(text("Bench"));
    data.extend(text("B"));
    let create = TxEnv::builder()
        .caller(alice)
        .kind(TxKind::Create)
        .data(Bytes::from(data))
        .gas_limit(5_000_000)
        .nonce(0)
        .build()
        .expect("a create transaction");
    let created = evm.transact_commit(create).expect("the ERC-20 deploys");
    let contract = match created {
        revm::context::result::ExecutionResult::Success { output, .. } => {
            output.address().copied().expect("an address")
        }
        other => panic!("deploy failed: {other:?}"),
    };
    let mut call = hex::decode("a9059cbb").expect("selector");
    call.extend([0u8; 12]);
    call.extend(bob.as_slice());
    call.extend(word(U256::from(1u64)));
    let tx = TxEnv::builder()
        .caller(alice)
        .kind(TxKind::Call(contract))
        .data(Bytes::from(call))
        .gas_limit(100_000)
        .nonce(1)
        .build()
        .expect("a call transaction");
    let checked = evm.transact(tx.clone()).expect("the transfer runs");
    assert!(checked.result.is_success(), "{:?}", checked.result);
    move || {
        let out = evm.transact(tx.clone()).expect("the transfer runs");
        std::hint::black_box(out);
    }
}
