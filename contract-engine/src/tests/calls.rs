//! Contracts calling contracts: return data, value, rollback of a failed callee while its
//! caller goes on, reentrancy refused, the depth cap, read-only queries, credits to contract
//! accounts, and gas that forwarding cannot mint — on hand-written modules with exact figures.

use std::sync::Arc;

use parity_scale_codec::Encode;

use super::{engine, wasm};
use crate::engine::{Entry, ExecRequest};
use crate::state::MemoryState;
use crate::*;
use i8o8i_primitives::contract::{ContractAccount, ExecStatus, code_hash, contract_script};
use i8o8i_primitives::{Amount, ContractAddress};

const A: ContractAddress = ContractAddress::from_byte_array([0xa1; 32]);
const B: ContractAddress = ContractAddress::from_byte_array([0xb2; 32]);

const IMPORTS: &str = r#"
    (import "env" "input_len" (func $input_len (result i32)))
    (import "env" "input_read" (func $input_read (param i32)))
    (import "env" "set_return" (func $set_return (param i32 i32)))
    (import "env" "revert" (func $revert (param i32 i32)))
    (import "env" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
    (import "env" "emit_event" (func $emit_event (param i32 i32 i32 i32)))
    (import "env" "caller" (func $caller (param i32) (result i32)))
    (import "env" "address" (func $address (param i32)))
    (import "env" "transfer" (func $transfer (param i32 i32 i64) (result i32)))
    (import "env" "call" (func $call (param i32 i32 i32 i64 i64) (result i32)))
    (import "env" "query" (func $query (param i32 i32 i32 i64) (result i32)))
    (import "env" "return_data_len" (func $return_data_len (result i32)))
    (import "env" "return_data_read" (func $return_data_read (param i32)))
"#;

/// The caller: input = callee address (32) ‖ value (8, LE) ‖ gas (8, LE) ‖ payload. It calls
/// (or with `query` queries) the callee with the payload, stores the status byte at storage
/// `s`, and returns the status byte followed by the callee's return data.
fn caller_module(query: bool) -> Vec<u8> {
    let invoke = if query {
        "(call $query (i32.const 0) (i32.const 48) (i32.sub (local.get $n) (i32.const 48)) (i64.load (i32.const 40)))"
    } else {
        "(call $call (i32.const 0) (i32.const 48) (i32.sub (local.get $n) (i32.const 48)) (i64.load (i32.const 32)) (i64.load (i32.const 40)))"
    };
    wasm(&format!(
        r#"(module {IMPORTS}
            (memory (export "memory") 1)
            (func (export "call") (local $n i32) (local $status i32) (local $len i32)
              (local.set $n (call $input_len))
              (call $input_read (i32.const 0))
              (local.set $status {invoke})
              (i32.store8 (i32.const 1000) (local.get $status))
              (i32.store8 (i32.const 1001) (i32.const 115))
              (call $storage_write (i32.const 1001) (i32.const 1) (i32.const 1000) (i32.const 1))
              (local.set $len (call $return_data_len))
              (call $return_data_read (i32.const 2001))
              (i32.store8 (i32.const 2000) (local.get $status))
              (call $set_return (i32.const 2000) (i32.add (local.get $len) (i32.const 1)))))"#
    ))
}

/// The callee: stores its input at `k`, emits it as an event, then by the input's first byte:
/// `r` reverts with the input, `l` loops until out of gas, `t` pays 3 to its caller; returns
/// its caller's script.
fn callee_module() -> Vec<u8> {
    wasm(&format!(
        r#"(module {IMPORTS}
            (memory (export "memory") 1)
            (func (export "call") (local $n i32) (local $first i32) (local $len i32)
              (local.set $n (call $input_len))
              (call $input_read (i32.const 0))
              (local.set $first (i32.load8_u (i32.const 0)))
              (i32.store8 (i32.const 900) (i32.const 107))
              (call $storage_write (i32.const 900) (i32.const 1) (i32.const 0) (local.get $n))
              (call $emit_event (i32.const 0) (i32.const 0) (i32.const 0) (local.get $n))
              (if (i32.eq (local.get $first) (i32.const 114))
                (then (call $revert (i32.const 0) (local.get $n))))
              (if (i32.eq (local.get $first) (i32.const 108))
                (then (loop $forever (br $forever))))
              (local.set $len (call $caller (i32.const 500)))
              (if (i32.eq (local.get $first) (i32.const 116))
                (then (drop (call $transfer (i32.const 500) (local.get $len) (i64.const 3)))))
              (call $set_return (i32.const 500) (local.get $len))))"#
    ))
}

/// A state with `contracts` installed: (address, code, balance).
fn state(contracts: &[(ContractAddress, &[u8], u64)]) -> Arc<MemoryState> {
    let base = Arc::new(MemoryState::default());
    let mut entries = Vec::new();
    for (address, code, balance) in contracts {
        let hash = code_hash(code);
        entries.push((StateKey::code(&hash), Some(code.to_vec())));
        let account = ContractAccount {
            code_hash: hash,
            balance: Amount::from_units(*balance),
            deployer: vec![0x51],
            height: 1,
            admin: None,
        };
        entries.push((StateKey::account(address), Some(account.encode())));
    }
    base.apply(&entries);
    base
}

fn call(base: &Arc<MemoryState>, at: ContractAddress, input: Vec<u8>, gas_limit: u64) -> Execution {
    let overlay = StateOverlay::new(base.clone());
    let account = overlay.account(&at).unwrap().expect("installed");
    let req = ExecRequest {
        code_hash: account.code_hash,
        code: None,
        entry: Entry::Call,
        address: at,
        caller: vec![0x51],
        value: 0,
        balance: account.balance.to_units(),
        input,
        gas_limit,
        gas_precharged: 0,
        height: 42,
        time: 1_700_000_000,
    };
    engine().execute(overlay, req)
}

/// The caller's input for calling `callee` with `payload`.
fn input(callee: ContractAddress, value: u64, gas: u64, payload: &[u8]) -> Vec<u8> {
    [
        callee.as_bytes().as_slice(),
        &value.to_le_bytes(),
        &gas.to_le_bytes(),
        payload,
    ]
    .concat()
}

fn stored(overlay: &StateOverlay, at: &ContractAddress, key: &[u8]) -> Option<Vec<u8>> {
    overlay.get(&StateKey::storage(at, key)).unwrap()
}

fn balance(overlay: &StateOverlay, at: &ContractAddress) -> u64 {
    overlay.account(at).unwrap().unwrap().balance.to_units()
}

#[test]
fn a_contract_calls_another_moves_value_and_reads_its_return_data() {
    let (caller, callee) = (caller_module(false), callee_module());
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    let (overlay, result) = call(&base, A, input(B, 5, 0, b"hi"), 1_000_000);
    assert_eq!(result.status, ExecStatus::Success);
    // Status 0, then what the callee returned: its caller, A's account script.
    assert_eq!(
        result.return_data,
        [&[0u8][..], &contract_script(&A)].concat()
    );
    assert_eq!(stored(&overlay, &B, b"k").as_deref(), Some(&b"hi"[..]));
    assert_eq!(stored(&overlay, &A, b"s"), Some(vec![0]));
    assert_eq!(result.events.len(), 1);
    assert_eq!(
        (result.events[0].contract, &result.events[0].data[..]),
        (B, &b"hi"[..])
    );
    // The value left A's frame and reached B's account.
    assert_eq!(result.balance, 95);
    assert_eq!(balance(&overlay, &B), 15);
    assert_eq!(result.gas_used, 67_207);
    // Where it went, summing to the total: two frames instantiated, the call's charge and its
    // 2-byte input, B's event (2 data bytes), B's write of `k` = "hi" and A's of `s`.
    let gas = result.gas;
    assert_eq!(gas.total(), 67_207);
    assert_eq!(gas.instantiation, 2 * gas::INSTANTIATE);
    assert_eq!(gas.nested_calls, gas::CALL + 2);
    assert_eq!(gas.events, gas::EVENT + 2 * gas::EVENT_PER_BYTE);
    assert_eq!(
        gas.storage_writes,
        2 * gas::STORAGE_WRITE + (3 + 2) * gas::STORAGE_WRITE_PER_BYTE
    );
    assert_eq!((gas.transfers, gas.hashing, gas.code), (0, 0, 0));
    assert!(gas.execution > 0 && gas.host_calls > 0);
    // The same call again costs the same.
    assert_eq!(
        call(&base, A, input(B, 5, 0, b"hi"), 1_000_000).1.gas_used,
        67_207
    );
}

#[test]
fn a_failing_callee_is_rolled_back_and_its_caller_goes_on() {
    let (caller, callee) = (caller_module(false), callee_module());
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    let (overlay, result) = call(&base, A, input(B, 5, 0, b"rx"), 1_000_000);
    assert_eq!(result.status, ExecStatus::Success, "the caller goes on");
    assert_eq!(
        result.return_data, b"\x01rx",
        "status 1 and the revert reason"
    );
    assert_eq!(
        stored(&overlay, &B, b"k"),
        None,
        "the callee's write is undone"
    );
    assert_eq!(stored(&overlay, &A, b"s"), Some(vec![1]));
    assert!(result.events.is_empty(), "so is its event");
    assert_eq!(
        (result.balance, balance(&overlay, &B)),
        (100, 10),
        "and the value"
    );

    // Out of gas: the callee is charged its whole limit, the caller continues with the rest.
    let (_, looped) = call(&base, A, input(B, 0, 100_000, b"l"), 1_000_000);
    assert_eq!(looped.status, ExecStatus::Success);
    assert_eq!(looped.return_data, b"\x02out of gas");
    // The caller's own share is what it pays calling no contract at all, plus copying the
    // 10-byte reason twice (return_data_read, set_return).
    let nobody = ContractAddress::from_byte_array([9; 32]);
    let (_, missing) = call(&base, A, input(nobody, 0, 100_000, b"l"), 1_000_000);
    assert_eq!(missing.return_data, [3]);
    assert_eq!(looped.gas_used, missing.gas_used + 100_000 + 2 * 10);
}

#[test]
fn reentrancy_is_refused_and_nothing_runs() {
    let caller = caller_module(false);
    let callee = callee_module();
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    // A calling itself: A is on the stack already.
    let (overlay, result) = call(&base, A, input(A, 0, 0, b"x"), 1_000_000);
    assert_eq!(result.status, ExecStatus::Success);
    assert_eq!(result.return_data, [4]);
    assert_eq!(stored(&overlay, &A, b"s"), Some(vec![4]));
    // No contract, and a value above the balance: refused before anything runs.
    let nobody = ContractAddress::from_byte_array([9; 32]);
    assert_eq!(
        call(&base, A, input(nobody, 0, 0, b"x"), 1_000_000)
            .1
            .return_data,
        [3]
    );
    assert_eq!(
        call(&base, A, input(B, 101, 0, b"x"), 1_000_000)
            .1
            .return_data,
        [6]
    );
}

/// Input: addresses to call in turn; each frame recurses `dive` Wasm calls deep, then calls
/// the first address with the rest and returns the status byte followed by what that call
/// returned.
fn chain_module(dive: u32) -> Vec<u8> {
    wasm(&format!(
        r#"(module {IMPORTS}
            (memory (export "memory") 1)
            (func (export "call") (call $dive (i32.const {dive})))
            (func $dive (param $d i32)
              (if (local.get $d)
                (then (call $dive (i32.sub (local.get $d) (i32.const 1))) (return)))
              (call $next))
            (func $next (local $n i32) (local $status i32) (local $len i32)
              (local.set $n (call $input_len))
              (if (i32.eqz (local.get $n)) (then (return)))
              (call $input_read (i32.const 0))
              (local.set $status (call $call (i32.const 0) (i32.const 32)
                (i32.sub (local.get $n) (i32.const 32)) (i64.const 0) (i64.const 0)))
              (local.set $len (call $return_data_len))
              (call $return_data_read (i32.const 4001))
              (i32.store8 (i32.const 4000) (local.get $status))
              (call $set_return (i32.const 4000) (i32.add (local.get $len) (i32.const 1)))))"#
    ))
}

#[test]
fn call_depth_is_capped_at_eight_frames() {
    let code = chain_module(0);
    let links: Vec<ContractAddress> = (1..=10u8)
        .map(|i| ContractAddress::from_byte_array([i; 32]))
        .collect();
    let installed: Vec<(ContractAddress, &[u8], u64)> =
        links.iter().map(|a| (*a, &code[..], 0)).collect();
    let base = state(&installed);
    let rest: Vec<u8> = links[1..]
        .iter()
        .flat_map(|a| a.as_bytes().to_vec())
        .collect();
    let (_, result) = call(&base, links[0], rest, 5_000_000);
    assert_eq!(result.status, ExecStatus::Success);
    // Frames 1 to 7 called on; frame 8 could not call a ninth.
    assert_eq!(result.return_data, [0, 0, 0, 0, 0, 0, 0, 5]);
}

#[test]
fn a_query_cannot_change_state() {
    let (caller, callee) = (caller_module(true), callee_module());
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    let (overlay, result) = call(&base, A, input(B, 0, 0, b"hi"), 1_000_000);
    assert_eq!(result.status, ExecStatus::Success);
    assert_eq!(
        result.return_data,
        b"\x02storage_write in a read-only query"
    );
    assert_eq!(stored(&overlay, &B, b"k"), None);
}

#[test]
fn a_transfer_to_a_contract_account_credits_its_balance() {
    let (caller, callee) = (caller_module(false), callee_module());
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    // B pays 3 back to its caller, A, whose frame is running: A's balance, not an output.
    let (overlay, result) = call(&base, A, input(B, 5, 0, b"t"), 1_000_000);
    assert_eq!(result.status, ExecStatus::Success);
    assert!(result.transfers.is_empty());
    assert_eq!((result.balance, balance(&overlay, &B)), (98, 12));
}

#[test]
fn forwarding_gas_cannot_mint_it() {
    let (caller, callee) = (caller_module(false), callee_module());
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    // Asking for more gas than is left gives the callee what is left; it burns it all, and the
    // caller then runs out at its next host call: the whole execution used exactly its limit.
    let (_, result) = call(&base, A, input(B, 0, u64::MAX, b"l"), 300_000);
    assert_eq!(result.status, ExecStatus::OutOfGas);
    assert_eq!(result.gas_used, 300_000);
    // With the default (0), a 64th stays with the caller, which finishes.
    let (_, kept) = call(&base, A, input(B, 0, 0, b"l"), 3_000_000);
    assert_eq!(kept.status, ExecStatus::Success);
    assert_eq!(kept.return_data, b"\x02out of gas");
    assert!(kept.gas_used < 3_000_000);
}

#[test]
fn a_deep_call_chain_runs_on_a_small_thread() {
    // Eight frames each 1,500 Wasm calls deep (near the stack-height limit: about 1 MiB of
    // native stack together), started on a thread of 256 KiB: every frame gets its native
    // stack on a fresh segment when the thread's runs short, so nothing overflows natively.
    let code = chain_module(1_500);
    let links: Vec<ContractAddress> = (1..=8u8)
        .map(|i| ContractAddress::from_byte_array([i; 32]))
        .collect();
    let installed: Vec<(ContractAddress, &[u8], u64)> =
        links.iter().map(|a| (*a, &code[..], 0)).collect();
    let base = state(&installed);
    let rest: Vec<u8> = links[1..]
        .iter()
        .flat_map(|a| a.as_bytes().to_vec())
        .collect();
    let first = links[0];
    let result = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || call(&base, first, rest, 5_000_000).1)
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result.return_data, [0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn a_trace_shows_every_host_call_with_its_gas_and_the_nested_frame() {
    use i8o8i_primitives::contract::TraceDetail;
    let (caller, callee) = (caller_module(false), callee_module());
    let base = state(&[(A, &caller, 100), (B, &callee, 10)]);
    let overlay = StateOverlay::new(base.clone());
    let account = overlay.account(&A).unwrap().unwrap();
    let req = ExecRequest {
        code_hash: account.code_hash,
        code: None,
        entry: Entry::Call,
        address: A,
        caller: vec![0x51],
        value: 0,
        balance: 100,
        input: input(B, 5, 0, b"hi"),
        gas_limit: 1_000_000,
        gas_precharged: 0,
        height: 42,
        time: 1_700_000_000,
    };
    let ((_, result), record) = engine().execute_traced(overlay, req);
    assert!(!record.truncated);
    let frames = record.frames;
    assert_eq!(frames.len(), 2);
    let trace = &frames[0];
    assert_eq!((trace.parent, frames[1].parent), (None, Some(0)));
    // Tracing changes nothing the execution does.
    let (_, untraced) = call(&base, A, input(B, 5, 0, b"hi"), 1_000_000);
    assert_eq!(result, untraced);
    assert_eq!((trace.contract, trace.gas_used), (A, result.gas_used));
    let functions: Vec<&str> = trace.steps.iter().map(|s| s.function.as_str()).collect();
    assert_eq!(
        functions,
        [
            "input_len",
            "input_read",
            "call",
            "storage_write",
            "return_data_len",
            "return_data_read",
            "set_return"
        ]
    );
    assert_eq!(
        trace.steps[2].detail,
        Some(TraceDetail::Call {
            frame: Some(1),
            status: 0
        })
    );
    let callee = &frames[1];
    assert_eq!((callee.contract, callee.value), (B, 5));
    assert_eq!(callee.caller, contract_script(&A));
    // The call step's gas is its charge plus everything the callee used.
    assert_eq!(
        trace.steps[2].gas,
        gas::HOST_CALL + gas::CALL + 2 + callee.gas_used
    );
    assert_eq!(
        callee.steps[2].detail,
        Some(TraceDetail::StorageWrite {
            key: b"k".to_vec(),
            old: None,
            new: Some(b"hi".to_vec())
        })
    );
    assert!(matches!(
        callee.steps[3].detail,
        Some(TraceDetail::Event { .. })
    ));
    // Host calls plus Wasm execution and instantiation make up the frame's gas.
    let steps: u64 = trace.steps.iter().map(|s| s.gas).sum();
    assert!(steps < trace.gas_used);
}

#[test]
fn a_trace_stops_recording_at_its_budget_and_says_so() {
    // 20,000 host calls: a trace records the first 10,000 and is marked truncated; the
    // execution itself is the same as untraced.
    let code = wasm(
        r#"(module
            (import "env" "gas_left" (func $gas_left (result i64)))
            (memory (export "memory") 1)
            (func (export "call") (local $i i32)
              (loop $again
                (drop (call $gas_left))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $again (i32.lt_u (local.get $i) (i32.const 20000))))))"#,
    );
    let base = state(&[(A, &code, 0)]);
    let overlay = StateOverlay::new(base.clone());
    let req = ExecRequest {
        code_hash: code_hash(&code),
        code: None,
        entry: Entry::Call,
        address: A,
        caller: vec![0x51],
        value: 0,
        balance: 0,
        input: Vec::new(),
        gas_limit: 5_000_000,
        gas_precharged: 0,
        height: 42,
        time: 1_700_000_000,
    };
    let ((_, traced), record) = engine().execute_traced(overlay, req);
    let (_, untraced) = call(&base, A, Vec::new(), 5_000_000);
    assert_eq!(traced, untraced);
    assert_eq!(traced.status, ExecStatus::Success);
    assert!(record.truncated);
    assert_eq!(record.frames.len(), 1);
    assert_eq!(record.frames[0].steps.len(), 10_000);
    assert_eq!(record.frames[0].gas_used, traced.gas_used);
}
