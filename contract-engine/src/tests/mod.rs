//! The engine against hand-written modules: deploy-time refusals, gas, traps, every host
//! function's bounds checks, and exact gas figures.

use std::sync::{Arc, OnceLock};

use parity_scale_codec::{Decode, Encode};

use crate::engine::{Entry, ExecRequest};
use crate::state::MemoryState;
use crate::*;
use i8o8i_primitives::ContractAddress;
use i8o8i_primitives::contract::{ExecStatus, code_hash};

fn engine() -> &'static ContractEngine {
    static ENGINE: OnceLock<ContractEngine> = OnceLock::new();
    ENGINE.get_or_init(|| ContractEngine::new().expect("engine"))
}

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("valid WAT")
}

const ADDRESS: ContractAddress = ContractAddress::from_byte_array([7; 32]);

/// A module exporting `memory` and `call` with `body` as call's body, `imports` before it and
/// `extra` after it.
fn module(imports: &str, body: &str, extra: &str) -> Vec<u8> {
    wasm(&format!(
        r#"(module {imports}
             (memory (export "memory") 1)
             (func (export "call") {body})
             {extra})"#
    ))
}

fn run_with(code: &[u8], input: &[u8], gas_limit: u64, base: Arc<MemoryState>) -> Execution {
    let hash = code_hash(code);
    let req = ExecRequest {
        code_hash: hash,
        code: Some(Arc::new(code.to_vec())),
        entry: Entry::Call,
        address: ADDRESS,
        caller: vec![0x51],
        value: 5,
        balance: 100,
        input: input.to_vec(),
        gas_limit,
        gas_precharged: 0,
        height: 42,
        time: 1_700_000_000,
    };
    engine().execute(StateOverlay::new(base), req)
}

fn run(code: &[u8], gas_limit: u64) -> ExecResult {
    run_with(code, b"hello", gas_limit, Arc::default()).1
}

#[test]
fn validation_refuses_what_the_engine_must_not_see() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (module("", "f32.const 1 drop", ""), "floating-point"),
        (
            module("", "", "(func $s) (start $s)"),
            "start functions are not allowed",
        ),
        (
            module(r#"(import "env" "launch_missiles" (func))"#, "", ""),
            "no such host function",
        ),
        (
            module(r#"(import "env" "input_len" (func (result i64)))"#, "", ""),
            "signature",
        ),
        (
            module(r#"(import "wasi" "fd_write" (func))"#, "", ""),
            "module `env`",
        ),
        (
            wasm(r#"(module (memory 1) (func (export "call")))"#),
            "export it as `memory`",
        ),
        (
            wasm(r#"(module (memory (export "memory") 1))"#),
            "export `call`: missing",
        ),
        (
            wasm(r#"(module (memory (export "memory") 1) (func (export "call") (param i32)))"#),
            "must be `() -> ()`",
        ),
        (
            wasm(r#"(module (memory (export "memory") 33) (func (export "call")))"#),
            "initial pages",
        ),
        (
            module("", "", "(func (local v128))"),
            "invalid or unsupported",
        ),
        (module("", "", "(memory 1) "), "invalid or unsupported"),
        (
            module("", "", r#"(func (export "migrate") (param i64))"#),
            "export `migrate`: must be `() -> ()`",
        ),
        (
            module("", "", r#"(global (export "migrate") i32 (i32.const 0))"#),
            "export `migrate`: exported with the wrong kind",
        ),
    ];
    for (code, expected) in cases {
        let err = validate_module(&code).expect_err(expected).to_string();
        assert!(
            err.contains(expected),
            "{err:?} should mention {expected:?}"
        );
    }
    let huge = vec![0u8; limits::MAX_CODE_SIZE + 1];
    assert!(matches!(
        validate_module(&huge),
        Err(ModuleError::TooLarge { .. })
    ));
    let many_locals = module(
        "",
        "",
        "(func (local i64 i64) (local i32) (local i64) (local i32))",
    );
    validate_module(&many_locals).expect("few locals are fine");
    validate_module(&module("", "", r#"(func (export "migrate"))"#)).expect("a migration");
    let too_many = module("", "", &format!("(func {})", "(local i64)".repeat(1_025)));
    assert!(
        validate_module(&too_many)
            .unwrap_err()
            .to_string()
            .contains("locals")
    );
}

#[test]
fn an_infinite_loop_runs_out_of_gas_and_charges_the_limit() {
    let code = module("", "(loop $l (br $l))", "");
    validate_module(&code).unwrap();
    let r = run(&code, 1_000_000);
    assert_eq!(r.status, ExecStatus::OutOfGas);
    assert_eq!(r.gas_used, 1_000_000);
}

#[test]
fn unbounded_recursion_stops_at_the_stack_height_limit_and_pays_its_gas() {
    // `$f` holds 16 slots (no locals, no operands): 2,047 calls of it fit beside `call`'s.
    let code = module("", "call $f", "(func $f call $f)");
    let r = run(&code, 40_000_000);
    assert_eq!(r.status, ExecStatus::Trapped(host::STACK_EXHAUSTED.into()));
    assert_eq!(r.gas_used, 42_539);
}

/// `call` recurses as deep as its input says (4 bytes, little-endian) through a function with
/// a few locals.
fn recursion_module() -> Vec<u8> {
    module(
        r#"(import "env" "input_read" (func $input_read (param i32)))"#,
        "(call $input_read (i32.const 0)) (call $rec (i32.load (i32.const 0)))",
        "(func $rec (param $d i32) (local $a i64) (local $b i64)
           (if (local.get $d) (then (call $rec (i32.sub (local.get $d) (i32.const 1))))))",
    )
}

fn recurse(engine: &ContractEngine, code: &[u8], depth: u32) -> ExecResult {
    let req = ExecRequest {
        code_hash: code_hash(code),
        code: Some(Arc::new(code.to_vec())),
        entry: Entry::Call,
        address: ADDRESS,
        caller: vec![0x51],
        value: 0,
        balance: 0,
        input: depth.to_le_bytes().to_vec(),
        gas_limit: 50_000_000,
        gas_precharged: 0,
        height: 42,
        time: 1_700_000_000,
    };
    engine
        .execute(StateOverlay::new(Arc::<MemoryState>::default()), req)
        .1
}

#[test]
fn how_deep_a_recursion_goes_does_not_depend_on_the_native_stack() {
    // Two platforms whose frames differ in size look to a contract like one engine with
    // twice the native stack of the other. The deepest recursion that succeeds, and the
    // outcome and gas one level deeper, must be the same on both: consensus.
    let code = recursion_module();
    let twice = ContractEngine::with_wasm_stack(2 * limits::MAX_WASM_STACK).unwrap();
    let (mut ok, mut failed) = (0u32, 1_000_000u32);
    while failed - ok > 1 {
        let mid = ok + (failed - ok) / 2;
        if recurse(engine(), &code, mid).status.is_success() {
            ok = mid;
        } else {
            failed = mid;
        }
    }
    for depth in [ok, failed] {
        let here = recurse(engine(), &code, depth);
        // And on a thread with a small stack of its own.
        let there = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, || recurse(&twice, &code, depth))
                .unwrap()
                .join()
                .unwrap()
        });
        assert_eq!(here, there, "a recursion {depth} deep");
    }
    // `call` holds 16 + 1 slots (one operand), each `$rec` 16 + 3 (a parameter, two locals)
    // + 2 (operands): 17 + 21 × 1,559 ≤ 32,768 < 17 + 21 × 1,560.
    assert_eq!(ok, 1_558);
    let over = recurse(engine(), &code, failed);
    assert_eq!(
        over.status,
        ExecStatus::Trapped(host::STACK_EXHAUSTED.into())
    );
    assert!(
        over.gas_used < 50_000_000,
        "charged what it used, not its limit"
    );
}

/// A function that recurses until something stops it, shaped to use as much native stack per
/// counted slot as it can: `kind` says how.
fn greedy_module(kind: &str) -> Vec<u8> {
    let n = 200;
    let (params, locals, before, after) = match kind {
        // Nothing but the frame.
        "bare" => (String::new(), String::new(), String::new(), String::new()),
        // Many parameters, all passed on.
        "params" => (
            format!("(param{})", " i64".repeat(n)),
            String::new(),
            (0..n).map(|i| format!("(local.get {i})")).collect(),
            String::new(),
        ),
        // Many locals, each a different value live across the call.
        "locals" => (
            "(param $x i64)".to_string(),
            format!("(local{})", " i64".repeat(n)),
            (1..=n)
                .map(|i| format!("(local.set {i} (i64.add (local.get 0) (i64.const {i})))"))
                .collect::<String>()
                + "(local.get 0)",
            (1..=n)
                .map(|i| format!("(local.set 0 (i64.xor (local.get 0) (local.get {i})))"))
                .collect(),
        ),
        // A deep operand stack of different values across the call.
        "operands" => (
            "(param $x i64)".to_string(),
            String::new(),
            (1..=n)
                .map(|i| format!("(i64.add (local.get 0) (i64.const {i}))"))
                .collect::<String>()
                + "(local.get 0)",
            "(drop)".repeat(n),
        ),
        // Through the table: `call_indirect` reaches the counting prologue too.
        "indirect" => {
            return module(
                "",
                "(call $f)",
                "(type $t (func)) (table 1 funcref) (elem (i32.const 0) $f)
                 (func $f (call_indirect (type $t) (i32.const 0)))",
            );
        }
        other => panic!("no shape {other}"),
    };
    let args = match kind {
        "bare" => String::new(),
        "params" => "(i64.const 1)".repeat(n),
        _ => "(i64.const 1)".to_string(),
    };
    module(
        "",
        &format!("(call $f {args})"),
        &format!("(func $f {params} {locals} {before} (call $f) {after})"),
    )
}

#[test]
fn the_stack_height_limit_trips_long_before_the_native_stack_runs_out() {
    // On half the native stack the chain has, the counter still stops every shape first:
    // where the native stack would end never decides an outcome.
    let half = ContractEngine::with_wasm_stack(limits::MAX_WASM_STACK / 2).unwrap();
    for kind in ["bare", "params", "locals", "operands", "indirect"] {
        let code = greedy_module(kind);
        validate_module(&code).unwrap();
        let r = recurse(&half, &code, 0);
        assert_eq!(
            r.status,
            ExecStatus::Trapped(host::STACK_EXHAUSTED.into()),
            "{kind}"
        );
        assert_eq!(r, recurse(engine(), &code, 0), "{kind}");
    }
}

#[test]
fn memory_cannot_grow_past_the_cap() {
    // memory.grow returns -1 past the cap; the contract returns what it got.
    let code = module(
        r#"(import "env" "set_return" (func $ret (param i32 i32)))"#,
        "(i32.store (i32.const 0) (memory.grow (i32.const 40)))
         (i32.store (i32.const 4) (memory.grow (i32.const 31)))
         (call $ret (i32.const 0) (i32.const 8))",
        "",
    );
    let r = run(&code, 1_000_000);
    assert_eq!(r.status, ExecStatus::Success);
    assert_eq!(r.return_data[..4], (-1i32).to_le_bytes());
    assert_eq!(r.return_data[4..], 1i32.to_le_bytes(), "31 more pages fit");
}

#[test]
fn a_data_segment_past_memory_fails_instantiation_cleanly() {
    let code = module("", "", r#"(data (i32.const 65530) "0123456789")"#);
    validate_module(&code).unwrap();
    let r = run(&code, 1_000_000);
    assert!(matches!(r.status, ExecStatus::Trapped(_)), "{r:?}");
    assert_eq!(r.gas_used, gas::INSTANTIATE);
}

#[test]
fn a_huge_data_segment_is_refused_or_fails_cleanly() {
    // 200 KB of data for a 64 KiB memory: within the code cap, so it deploys, and every
    // execution fails at instantiation, charged only the fixed instantiation gas.
    let data = "\\00".repeat(200_000);
    let code = module("", "", &format!(r#"(data (i32.const 0) "{data}")"#));
    validate_module(&code).unwrap();
    let r = run(&code, 1_000_000);
    assert!(matches!(r.status, ExecStatus::Trapped(_)), "{r:?}");
    assert_eq!(r.gas_used, gas::INSTANTIATE);
    // Past the code cap it never gets that far.
    let data = "\\00".repeat(limits::MAX_CODE_SIZE);
    let code = module("", "", &format!(r#"(data (i32.const 0) "{data}")"#));
    assert!(matches!(
        validate_module(&code),
        Err(ModuleError::TooLarge { .. })
    ));
}

#[test]
fn every_host_function_bounds_checks_its_pointers() {
    // Each host function called with a pointer just past the single 64 KiB page.
    let calls: &[(&str, &str, &str)] = &[
        ("input_read", "(param i32)", "(i32.const 65535)"),
        (
            "set_return",
            "(param i32 i32)",
            "(i32.const 65535) (i32.const 2)",
        ),
        (
            "revert",
            "(param i32 i32)",
            "(i32.const 65535) (i32.const 2)",
        ),
        (
            "storage_read",
            "(param i32 i32 i32 i32) (result i32)",
            "(i32.const 65535) (i32.const 2) (i32.const 0) (i32.const 4)",
        ),
        (
            "storage_write",
            "(param i32 i32 i32 i32)",
            "(i32.const 0) (i32.const 1) (i32.const 65535) (i32.const 2)",
        ),
        (
            "storage_remove",
            "(param i32 i32)",
            "(i32.const 65535) (i32.const 2)",
        ),
        ("caller", "(param i32) (result i32)", "(i32.const 65536)"),
        ("address", "(param i32)", "(i32.const 65530)"),
        (
            "transfer",
            "(param i32 i32 i64) (result i32)",
            "(i32.const 65535) (i32.const 25) (i64.const 1)",
        ),
        (
            "emit_event",
            "(param i32 i32 i32 i32)",
            "(i32.const 65535) (i32.const 1) (i32.const 0) (i32.const 0)",
        ),
        (
            "sha256",
            "(param i32 i32 i32)",
            "(i32.const 0) (i32.const 4) (i32.const 65530)",
        ),
        (
            "ripemd160",
            "(param i32 i32 i32)",
            "(i32.const 65535) (i32.const 4) (i32.const 0)",
        ),
        (
            "secp256k1_verify",
            "(param i32 i32 i32 i32 i32) (result i32)",
            "(i32.const 65535) (i32.const 0) (i32.const 70) (i32.const 0) (i32.const 33)",
        ),
    ];
    for (name, sig, args) in calls {
        let code = module(
            &format!(r#"(import "env" "{name}" (func $h {sig}))"#),
            &format!(
                "(call $h {args}) {}",
                if sig.contains("result") { "drop" } else { "" }
            ),
            "",
        );
        validate_module(&code).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = run(&code, 1_000_000);
        match &r.status {
            ExecStatus::Trapped(m) => assert!(m.contains("out of bounds"), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
        assert!(
            r.gas_used > gas::INSTANTIATE && r.gas_used < 1_000_000,
            "{name}"
        );
    }
    // Negative and oversized lengths are faults too.
    let code = module(
        r#"(import "env" "storage_write" (func $w (param i32 i32 i32 i32)))"#,
        "(call $w (i32.const 0) (i32.const 129) (i32.const 0) (i32.const 1))",
        "",
    );
    let r = run(&code, 1_000_000);
    assert_eq!(
        r.status,
        ExecStatus::Trapped("storage key of 129 bytes exceeds 128".into())
    );
    let code = module(
        r#"(import "env" "set_return" (func $r (param i32 i32)))"#,
        "(call $r (i32.const 0) (i32.const -1))",
        "",
    );
    assert_eq!(
        run(&code, 1_000_000).status,
        ExecStatus::Trapped("negative return data length".into())
    );
}

/// Host imports of the echo module: it returns its input, stores it under key "k", emits it as
/// an event and pays 30 and then 60 of its balance of 100 to script 0x51.
const ECHO: &str = r#"
    (import "env" "input_len" (func $len (result i32)))
    (import "env" "input_read" (func $read (param i32)))
    (import "env" "set_return" (func $ret (param i32 i32)))
    (import "env" "storage_write" (func $put (param i32 i32 i32 i32)))
    (import "env" "emit_event" (func $emit (param i32 i32 i32 i32)))
    (import "env" "transfer" (func $pay (param i32 i32 i64) (result i32)))
    (import "env" "block_height" (func $height (result i64)))
"#;

fn echo_module(tail: &str) -> Vec<u8> {
    module(
        ECHO,
        &format!(
            r#"(call $read (i32.const 100))
               (call $ret (i32.const 100) (call $len))
               (call $put (i32.const 0) (i32.const 1) (i32.const 100) (call $len))
               (call $emit (i32.const 200) (i32.const 1) (i32.const 100) (call $len))
               (i32.store (i32.const 300) (call $pay (i32.const 1) (i32.const 1) (i64.const 30)))
               (i32.store (i32.const 304) (call $pay (i32.const 1) (i32.const 1) (i64.const 60)))
               (if (i64.ne (call $height) (i64.const 42)) (then unreachable))
               {tail}"#
        ),
        r#"(data (i32.const 0) "kQ") (data (i32.const 200) "topic-topic-topic-topic-topic-32")"#,
    )
}

#[test]
fn a_successful_call_commits_storage_events_and_transfers() {
    let code = echo_module("");
    validate_module(&code).unwrap();
    let (overlay, r) = run_with(&code, b"hello", 1_000_000, Arc::default());
    assert_eq!(r.status, ExecStatus::Success);
    assert_eq!(r.return_data, b"hello");
    assert_eq!(
        overlay.get(&StateKey::storage(&ADDRESS, b"k")).unwrap(),
        Some(b"hello".to_vec())
    );
    assert_eq!(r.events.len(), 1);
    assert_eq!(&r.events[0].topics[0], b"topic-topic-topic-topic-topic-32");
    assert_eq!(r.events[0].contract, ADDRESS);
    assert_eq!(r.transfers, [(vec![0x51], 30), (vec![0x51], 60)]);
    assert_eq!(r.balance, 10);
}

#[test]
fn a_revert_discards_every_change_but_charges_gas() {
    let code = module(
        &format!(
            "{ECHO}{}",
            r#"(import "env" "revert" (func $revert (param i32 i32)))"#
        ),
        r#"(call $put (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
           (call $revert (i32.const 400) (i32.const 6))"#,
        r#"(data (i32.const 0) "k") (data (i32.const 400) "nope!!")"#,
    );
    let base = Arc::new(MemoryState::default());
    let (overlay, r) = run_with(&code, b"", 1_000_000, base);
    assert_eq!(r.status, ExecStatus::Reverted("nope!!".into()));
    assert!(r.gas_used > gas::INSTANTIATE + gas::STORAGE_WRITE);
    assert_eq!(
        overlay.get(&StateKey::storage(&ADDRESS, b"k")).unwrap(),
        None
    );
    assert!(r.transfers.is_empty() && r.events.is_empty());
}

#[test]
fn a_transfer_beyond_the_balance_returns_one() {
    let code = module(
        ECHO,
        r#"(i32.store (i32.const 0) (call $pay (i32.const 8) (i32.const 1) (i64.const 101)))
           (call $ret (i32.const 0) (i32.const 4))"#,
        "",
    );
    let r = run(&code, 1_000_000);
    assert_eq!(r.return_data, 1i32.to_le_bytes());
    assert!(r.transfers.is_empty());
    assert_eq!(r.balance, 100);
}

#[test]
fn gas_is_exact_and_repeatable() {
    let code = echo_module("");
    let first = run(&code, 1_000_000).gas_used;
    for _ in 0..3 {
        assert_eq!(run(&code, 1_000_000).gas_used, first);
    }
    // Instantiation 20,000; host calls 50 each plus: input copies 5 + 5, storage write
    // 10,000 + 50 × 6 bytes, event 1,000 + 500 + 50, two transfers 20,000 each; the rest is
    // fuel (9 of it `call`'s stack-height prologue). A change here changes consensus.
    assert_eq!(first, 72_401);
    // Short of the last transfer's charge: out of gas, charged the limit. (Fuel is checked at
    // wasmtime's metering points, so a call a few units short of its straight-line tail
    // completes and is charged exactly its limit: never more than the limit either way.)
    let limit = first - gas::TRANSFER;
    let r = run(&code, limit);
    assert_eq!((r.status, r.gas_used), (ExecStatus::OutOfGas, limit));
}

#[test]
fn a_call_without_enough_gas_to_instantiate_fails_at_once() {
    let r = run(&echo_module(""), gas::INSTANTIATE - 1);
    assert_eq!(
        (r.status, r.gas_used),
        (ExecStatus::OutOfGas, gas::INSTANTIATE - 1)
    );
}

#[test]
fn the_abi_section_is_read_back() {
    let code = wasm(
        r#"(module (memory (export "memory") 1) (func (export "call"))
             (@custom "i8o8i_abi" "transfer(to: Account, amount: u128, )\n"))"#,
    );
    assert_eq!(
        abi_of(&code).as_deref(),
        Some("transfer(to: Account, amount: u128, )\n")
    );
    assert_eq!(abi_of(&module("", "", "")), None);
}

/// The example contracts as committed in `contracts/artifacts` (built from
/// `contracts/examples` with the `contract` profile; the suite also builds them from source).
/// Gas depends on the exact module bytes, so the table below is for these bytes.
const TOKEN_WASM: &[u8] = include_bytes!("../../../contracts/artifacts/token.wasm");
const ESCROW_WASM: &[u8] = include_bytes!("../../../contracts/artifacts/escrow.wasm");

struct Session {
    code: Arc<Vec<u8>>,
    overlay: StateOverlay,
    balance: u64,
    height: u64,
}

impl Session {
    fn new(code: &[u8]) -> Session {
        Session {
            code: Arc::new(code.to_vec()),
            overlay: StateOverlay::new(Arc::new(MemoryState::default())),
            balance: 0,
            height: 1,
        }
    }

    fn run(&mut self, entry: Entry, caller: u8, input: Vec<u8>, value: u64) -> ExecResult {
        let req = ExecRequest {
            code_hash: code_hash(&self.code),
            code: Some(self.code.clone()),
            entry,
            address: ADDRESS,
            caller: vec![0x76, 0xa9, 0x14, caller],
            value,
            balance: self.balance + value,
            input,
            gas_limit: 10_000_000,
            gas_precharged: 0,
            height: self.height,
            time: 1_700_000_000,
        };
        let overlay = std::mem::replace(
            &mut self.overlay,
            StateOverlay::new(Arc::new(MemoryState::default())),
        );
        let (overlay, result) = engine().execute(overlay, req);
        self.overlay = overlay;
        if result.status.is_success() {
            self.balance = result.balance;
        }
        result
    }
}

fn account(n: u8) -> Vec<u8> {
    vec![0x76, 0xa9, 0x14, n]
}

fn method(name: &str, args: impl parity_scale_codec::Encode) -> Vec<u8> {
    [name.to_owned().encode(), args.encode()].concat()
}

#[test]
fn example_gas_is_recorded_and_must_not_change() {
    let mut gas = Vec::new();
    let mut t = Session::new(TOKEN_WASM);
    let mut record = |label: &str, r: ExecResult, ok: bool| {
        assert_eq!(r.status.is_success(), ok, "{label}: {:?}", r.status);
        gas.push((label.to_owned(), r.gas_used));
    };
    let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000u128).encode();
    record("token init", t.run(Entry::Deploy, 1, init, 0), true);
    record(
        "token name",
        t.run(Entry::Call, 1, method("name", ()), 0),
        true,
    );
    record(
        "token total_supply",
        t.run(Entry::Call, 1, method("total_supply", ()), 0),
        true,
    );
    let r = t.run(Entry::Call, 1, method("balance_of", (account(1),)), 0);
    assert_eq!(r.return_data, 1_000u128.encode());
    record("token balance_of", r, true);
    record(
        "token transfer",
        t.run(Entry::Call, 1, method("transfer", (account(2), 300u128)), 0),
        true,
    );
    record(
        "token mint",
        t.run(Entry::Call, 1, method("mint", (account(2), 5u128)), 0),
        true,
    );
    record(
        "token mint (not owner)",
        t.run(Entry::Call, 2, method("mint", (account(2), 5u128)), 0),
        false,
    );
    record(
        "token burn",
        t.run(Entry::Call, 1, method("burn", (100u128,)), 0),
        true,
    );
    record(
        "token approve",
        t.run(Entry::Call, 1, method("approve", (account(2), 100u128)), 0),
        true,
    );
    record(
        "token allowance",
        t.run(
            Entry::Call,
            1,
            method("allowance", (account(1), account(2))),
            0,
        ),
        true,
    );
    record(
        "token transfer_from",
        t.run(
            Entry::Call,
            2,
            method("transfer_from", (account(1), account(3), 60u128)),
            0,
        ),
        true,
    );
    let r = t.run(Entry::Call, 1, method("balance_of", (account(3),)), 0);
    assert_eq!(r.return_data, 60u128.encode());

    let mut e = Session::new(ESCROW_WASM);
    let init = (account(2), account(3), 100u64).encode();
    record("escrow init", e.run(Entry::Deploy, 1, init, 0), true);
    record(
        "escrow deposit",
        e.run(Entry::Call, 1, method("deposit", ()), 5_000),
        true,
    );
    record(
        "escrow reclaim (too early)",
        e.run(Entry::Call, 1, method("reclaim", ()), 0),
        false,
    );
    let r = e.run(Entry::Call, 2, method("release", ()), 0);
    assert_eq!(r.transfers, [(account(3), 5_000)]);
    record("escrow release", r, true);
    record(
        "escrow info",
        e.run(Entry::Call, 1, method("info", ()), 0),
        true,
    );

    let expected: &[(&str, u64)] = &[
        ("token init", 95_694),
        ("token name", 24_052),
        ("token total_supply", 23_688),
        ("token balance_of", 24_352),
        ("token transfer", 53_660),
        ("token mint", 55_794),
        ("token mint (not owner)", 24_398),
        ("token burn", 52_537),
        ("token approve", 37_106),
        ("token allowance", 24_874),
        ("token transfer_from", 69_272),
        ("escrow init", 63_852),
        ("escrow deposit", 23_640),
        ("escrow reclaim (too early)", 26_459),
        ("escrow release", 49_340),
        ("escrow info", 32_309),
    ];
    let got: Vec<(&str, u64)> = gas.iter().map(|(l, g)| (l.as_str(), *g)).collect();
    assert_eq!(got, expected, "gas table changed: a consensus change");
}

/// A base state whose every read fails, as a disk that stopped answering would.
struct BrokenDisk;

impl crate::state::ContractStateReader for BrokenDisk {
    fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>, i8o8i_primitives::StoreError> {
        Err(i8o8i_primitives::StoreError::Backend(
            "disk unreadable".into(),
        ))
    }

    fn scan(
        &self,
        _: &[u8],
        _: &[u8],
        _: usize,
    ) -> Result<crate::state::KeyValues, i8o8i_primitives::StoreError> {
        Err(i8o8i_primitives::StoreError::Backend(
            "disk unreadable".into(),
        ))
    }
}

#[test]
fn a_storage_failure_under_a_call_is_a_fault_of_the_node_not_a_trap() {
    let code = module(
        r#"(import "env" "storage_read" (func $get (param i32 i32 i32 i32) (result i32)))"#,
        "(drop (call $get (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 32)))",
        r#"(data (i32.const 0) "k")"#,
    );
    let req = |code: &[u8], with_code: bool| ExecRequest {
        code_hash: code_hash(code),
        code: with_code.then(|| Arc::new(code.to_vec())),
        entry: Entry::Call,
        address: ADDRESS,
        caller: vec![0x51],
        value: 0,
        balance: 0,
        input: Vec::new(),
        gas_limit: 1_000_000,
        gas_precharged: 0,
        height: 1,
        time: 1,
    };
    let broken = || StateOverlay::new(Arc::new(BrokenDisk));
    let expected = Some(i8o8i_primitives::StoreError::Backend(
        "disk unreadable".into(),
    ));
    // Reading contract storage.
    let (_, r) = engine().execute(broken(), req(&code, true));
    assert_eq!(r.storage_fault, expected);
    // Reading the contract's code (another module, so the compiled cache does not have it).
    let other = module("", "nop", "");
    let (_, r) = engine().execute(broken(), req(&other, false));
    assert_eq!(r.storage_fault, expected);
    // A healthy disk: the same call succeeds and reports no fault.
    let (_, r) = run_with(&code, b"", 1_000_000, Arc::default());
    assert_eq!((r.status, r.storage_fault), (ExecStatus::Success, None));
}

#[test]
fn an_overlay_scan_sees_its_writes_and_fills_the_limit_past_its_deletions() {
    let base = crate::state::MemoryState::default();
    base.apply(&[b"p/1", b"p/2", b"p/3", b"p/4", b"q/1"].map(|k| (k.to_vec(), Some(k.to_vec()))));
    let mut overlay = StateOverlay::new(std::sync::Arc::new(base));
    overlay.put(b"p/1".to_vec(), None);
    overlay.put(b"p/2".to_vec(), None);
    overlay.put(b"p/25".to_vec(), Some(b"new".to_vec()));
    overlay.put(b"p/3".to_vec(), Some(b"changed".to_vec()));
    let scan = |from: &[u8], limit| overlay.scan_prefix(b"p/", from, limit).unwrap();
    let kv = |k: &[u8], v: &[u8]| (k.to_vec(), v.to_vec());
    assert_eq!(
        scan(b"p/", 3),
        vec![
            kv(b"p/25", b"new"),
            kv(b"p/3", b"changed"),
            kv(b"p/4", b"p/4")
        ]
    );
    assert_eq!(
        scan(b"p/3", 10),
        vec![kv(b"p/3", b"changed"), kv(b"p/4", b"p/4")]
    );
    assert_eq!(scan(b"p/", 0), Vec::new());
}

mod calls;
#[cfg(feature = "wasmi")]
mod wasmi;

/// The exchange example as committed in `contracts/artifacts` (see [`TOKEN_WASM`]).
const EXCHANGE_WASM: &[u8] = include_bytes!("../../../contracts/artifacts/exchange.wasm");

/// Contracts installed side by side, run as the runtime runs them: the account's balance is
/// written back after each successful execution.
struct World {
    overlay: StateOverlay,
}

impl World {
    fn new(contracts: &[(ContractAddress, &[u8])]) -> World {
        let base = Arc::new(MemoryState::default());
        let mut entries = Vec::new();
        for (address, code) in contracts {
            let hash = code_hash(code);
            entries.push((crate::StateKey::code(&hash), Some(code.to_vec())));
            let account = i8o8i_primitives::contract::ContractAccount {
                code_hash: hash,
                balance: i8o8i_primitives::Amount::ZERO,
                deployer: account(1),
                height: 1,
                admin: None,
            };
            entries.push((crate::StateKey::account(address), Some(account.encode())));
        }
        base.apply(&entries);
        World {
            overlay: StateOverlay::new(base),
        }
    }

    fn run(
        &mut self,
        at: ContractAddress,
        entry: Entry,
        caller: u8,
        input: Vec<u8>,
        value: u64,
    ) -> ExecResult {
        let mut record = self.overlay.account(&at).unwrap().unwrap();
        let req = ExecRequest {
            code_hash: record.code_hash,
            code: None,
            entry,
            address: at,
            caller: account(caller),
            value,
            balance: record.balance.to_units() + value,
            input,
            gas_limit: 10_000_000,
            gas_precharged: 0,
            height: 2,
            time: 1_700_000_000,
        };
        let overlay = std::mem::replace(
            &mut self.overlay,
            StateOverlay::new(Arc::new(MemoryState::default())),
        );
        let (mut overlay, result) = engine().execute(overlay, req);
        if result.status.is_success() {
            record.balance = i8o8i_primitives::Amount::from_units(result.balance);
            overlay.put_account(&at, &record);
        }
        self.overlay = overlay;
        result
    }
}

#[test]
fn exchange_gas_is_recorded_and_must_not_change() {
    const TOKEN: ContractAddress = ContractAddress::from_byte_array([0x70; 32]);
    const EXCHANGE: ContractAddress = ContractAddress::from_byte_array([0xe0; 32]);
    let pool = i8o8i_primitives::contract::contract_script(&EXCHANGE);
    let mut w = World::new(&[(TOKEN, TOKEN_WASM), (EXCHANGE, EXCHANGE_WASM)]);
    let mut gas = Vec::new();
    let mut record = |label: &str, r: ExecResult| {
        assert!(r.status.is_success(), "{label}: {:?}", r.status);
        gas.push((label.to_owned(), r.gas_used));
        r
    };
    let coin = 100_000_000u64;
    let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000_000u128).encode();
    record("token init", w.run(TOKEN, Entry::Deploy, 1, init, 0));
    record(
        "exchange init",
        w.run(EXCHANGE, Entry::Deploy, 1, TOKEN.as_bytes().encode(), 0),
    );
    let approve = method("approve", (pool.clone(), 500_000u128));
    record("token approve", w.run(TOKEN, Entry::Call, 1, approve, 0));
    record(
        "exchange add_liquidity (first)",
        w.run(
            EXCHANGE,
            Entry::Call,
            1,
            method("add_liquidity", (500_000u128,)),
            10 * coin,
        ),
    );
    let quote = record(
        "exchange quote_coins_for_tokens",
        w.run(
            EXCHANGE,
            Entry::Call,
            2,
            method("quote_coins_for_tokens", (coin,)),
            0,
        ),
    );
    let tokens = u128::decode(&mut &quote.return_data[..]).unwrap();
    assert_eq!(tokens, 45_330);
    let bought = record(
        "exchange swap_coins_for_tokens",
        w.run(
            EXCHANGE,
            Entry::Call,
            2,
            method("swap_coins_for_tokens", (tokens,)),
            coin,
        ),
    );
    assert_eq!(bought.events.len(), 2, "the token's Transfer, then Swap");
    let approve = method("approve", (pool.clone(), tokens));
    w.run(TOKEN, Entry::Call, 2, approve, 0);
    let sold = record(
        "exchange swap_tokens_for_coins",
        w.run(
            EXCHANGE,
            Entry::Call,
            2,
            method("swap_tokens_for_coins", (tokens, 0u64)),
            0,
        ),
    );
    assert_eq!(sold.transfers.len(), 1, "the coins paid out as an output");
    record(
        "exchange reserves",
        w.run(EXCHANGE, Entry::Call, 1, method("reserves", ()), 0),
    );
    record(
        "exchange remove_liquidity",
        w.run(
            EXCHANGE,
            Entry::Call,
            1,
            method("remove_liquidity", (u128::from(coin),)),
            0,
        ),
    );
    let got: Vec<(&str, u64)> = gas.iter().map(|(l, g)| (l.as_str(), *g)).collect();
    // Each exchange figure includes the token frames it calls (20,000 to instantiate each).
    let expected: &[(&str, u64)] = &[
        ("token init", 95_694),
        ("exchange init", 32_460),
        ("token approve", 39_414),
        ("exchange add_liquidity (first)", 161_673),
        ("exchange quote_coins_for_tokens", 26_882),
        ("exchange swap_coins_for_tokens", 116_962),
        ("exchange swap_tokens_for_coins", 155_506),
        ("exchange reserves", 26_200),
        ("exchange remove_liquidity", 165_570),
    ];
    assert_eq!(got, expected, "gas table changed: a consensus change");
}

#[test]
fn the_harness_runs_the_real_exchange_and_token_with_exact_balances_and_gas() {
    use crate::harness::{Harness, HarnessError};
    let mut h = Harness::new().unwrap();
    let (alice, bob) = (account(1), account(2));
    let coin = 100_000_000u64;
    let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000_000u128).encode();
    let (token, deployed) = h.deploy(&alice, TOKEN_WASM, &init).unwrap();
    // A deployment pays for its code by the byte on top of the constructor's gas, which is
    // the pinned table's.
    assert_eq!(
        deployed.gas_used,
        95_694 + gas::DEPLOY_PER_CODE_BYTE * TOKEN_WASM.len() as u64
    );
    let (exchange, _) = h
        .deploy(&alice, EXCHANGE_WASM, &token.as_bytes().encode())
        .unwrap();
    let pool = i8o8i_primitives::contract::contract_script(&exchange);
    let balance_of = |h: &Harness, who: &[u8]| {
        let r = h
            .query(&bob, token, &method("balance_of", (who.to_vec(),)))
            .unwrap();
        u128::decode(&mut &r.return_data[..]).unwrap()
    };

    let ok = |r: Result<ExecResult, HarnessError>| {
        let r = r.unwrap();
        assert!(r.status.is_success(), "{:?}", r.status);
        r
    };
    ok(h.call(
        &alice,
        token,
        &method("approve", (pool.clone(), 500_000u128)),
        0,
    ));
    let added = ok(h.call(
        &alice,
        exchange,
        &method("add_liquidity", (500_000u128,)),
        10 * coin,
    ));
    // The same gas as the pinned table: the harness runs what a block runs.
    assert_eq!(added.gas_used, 161_673);
    assert_eq!(balance_of(&h, &pool), 500_000);
    assert_eq!(balance_of(&h, &alice), 500_000);
    assert_eq!(
        h.account(&exchange).unwrap().unwrap().balance.to_units(),
        10 * coin
    );

    let bought = ok(h.call(
        &bob,
        exchange,
        &method("swap_coins_for_tokens", (45_330u128,)),
        coin,
    ));
    assert_eq!(bought.gas_used, 116_962);
    assert_eq!(balance_of(&h, &bob), 45_330);
    assert_eq!(balance_of(&h, &pool), 500_000 - 45_330);
    assert_eq!(
        h.account(&exchange).unwrap().unwrap().balance.to_units(),
        11 * coin
    );

    // Asking for more than the price gives: reverted, and nothing moved.
    let greedy = h
        .call(
            &bob,
            exchange,
            &method("swap_coins_for_tokens", (1_000_000u128,)),
            coin,
        )
        .unwrap();
    assert!(
        matches!(greedy.status, ExecStatus::Reverted(_)),
        "{greedy:?}"
    );
    assert_eq!(balance_of(&h, &bob), 45_330);
    assert_eq!(
        h.account(&exchange).unwrap().unwrap().balance.to_units(),
        11 * coin
    );

    // What the chain refuses, the harness refuses with the same error.
    assert!(matches!(
        h.deploy(&alice, &module("", "f32.const 1 drop", ""), &[]),
        Err(HarnessError::Module(ModuleError::Invalid(_)))
    ));
    let nowhere = ContractAddress::from_byte_array([9; 32]);
    assert!(matches!(
        h.call(&alice, nowhere, &[], 0),
        Err(HarnessError::NoContract(a)) if a == nowhere
    ));
}

const TOKEN_ESCROW_WASM: &[u8] = include_bytes!("../../../contracts/artifacts/token-escrow.wasm");

#[test]
fn token_escrow_gas_is_recorded_and_must_not_change() {
    const TOKEN: ContractAddress = ContractAddress::from_byte_array([0x70; 32]);
    const ESCROW: ContractAddress = ContractAddress::from_byte_array([0xe5; 32]);
    let vault = i8o8i_primitives::contract::contract_script(&ESCROW);
    let mut w = World::new(&[(TOKEN, TOKEN_WASM), (ESCROW, TOKEN_ESCROW_WASM)]);
    let mut gas = Vec::new();
    let mut record = |label: &str, r: ExecResult, ok: bool| {
        assert_eq!(r.status.is_success(), ok, "{label}: {:?}", r.status);
        gas.push((label.to_owned(), r.gas_used));
        r
    };
    let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000u128).encode();
    record("token init", w.run(TOKEN, Entry::Deploy, 1, init, 0), true);
    let init = (TOKEN.as_bytes(), account(3), account(4)).encode();
    record(
        "token-escrow init",
        w.run(ESCROW, Entry::Deploy, 1, init, 0),
        true,
    );
    let approve = method("approve", (vault.clone(), 300u128));
    w.run(TOKEN, Entry::Call, 1, approve, 0);
    let deposited = record(
        "token-escrow deposit",
        w.run(ESCROW, Entry::Call, 1, method("deposit", (300u128,)), 0),
        true,
    );
    assert_eq!(
        deposited.events.len(),
        2,
        "the token's Transfer, then Deposited"
    );
    record(
        "token-escrow held",
        w.run(ESCROW, Entry::Call, 2, method("held", ()), 0),
        true,
    );
    record(
        "token-escrow release (not the arbiter)",
        w.run(ESCROW, Entry::Call, 1, method("release", ()), 0),
        false,
    );
    record(
        "token-escrow release",
        w.run(ESCROW, Entry::Call, 3, method("release", ()), 0),
        true,
    );
    let balance = w.run(
        TOKEN,
        Entry::Call,
        9,
        method("balance_of", (account(4),)),
        0,
    );
    assert_eq!(u128::decode(&mut &balance.return_data[..]).unwrap(), 300);
    let got: Vec<(&str, u64)> = gas.iter().map(|(l, g)| (l.as_str(), *g)).collect();
    // Deposit and release include the token frame they call (20,000 to instantiate it).
    let expected: &[(&str, u64)] = &[
        ("token init", 95_694),
        ("token-escrow init", 54_402),
        ("token-escrow deposit", 132_861),
        ("token-escrow held", 23_564),
        ("token-escrow release (not the arbiter)", 26_680),
        ("token-escrow release", 107_695),
    ];
    assert_eq!(got, expected, "gas table changed: a consensus change");
}

#[test]
fn the_stack_height_pass_is_deterministic_and_keeps_every_example_valid() {
    for code in [TOKEN_WASM, ESCROW_WASM, EXCHANGE_WASM, TOKEN_ESCROW_WASM] {
        let once = instrument::instrument(code).unwrap();
        // Consensus: the same module gives the same bytes, so the same gas, everywhere.
        assert_eq!(instrument::instrument(code).unwrap(), once);
        wasmparser::Validator::new_with_features(ALLOWED_FEATURES)
            .validate_all(&once)
            .unwrap();
        // Custom sections (the ABI, the build record) stay with the stored module only.
        assert_eq!(abi_of(&once), None);
        assert!(abi_of(code).is_some());
    }
}
