//! The wasmi engine (`contract bench --engine wasmi`) runs the chain's host semantics: the
//! same outcomes, return data, events, transfers and host charges as the chain's engine, on
//! the example contracts (nested calls included) and at the stack-height limit. Only the
//! execution part of the gas may differ (see `wasmi_engine`).

use parity_scale_codec::Encode;

use super::{EXCHANGE_WASM, TOKEN_WASM, account, method, module};
use crate::harness::Harness;
use crate::host;
use crate::wasmi_engine::WasmiEngine;
use i8o8i_primitives::contract::ExecStatus;

/// Runs `input` as `caller` on `contract` in both engines and checks they agree.
fn agree(
    h: &Harness,
    wasmi: &WasmiEngine,
    caller: &[u8],
    contract: i8o8i_primitives::ContractAddress,
    input: &[u8],
    value: u64,
) -> (crate::ExecResult, crate::ExecResult) {
    let (req, _) = h.request(caller, contract, input, value).unwrap();
    let chain = h.run(req.clone());
    let interpreted = h.run_in(wasmi, req);
    assert_eq!(interpreted.status, chain.status);
    assert_eq!(interpreted.return_data, chain.return_data);
    assert_eq!(interpreted.events, chain.events);
    assert_eq!(interpreted.transfers, chain.transfers);
    assert_eq!(interpreted.balance, chain.balance);
    // Every host charge is the same; only what the Wasm itself costs is metered differently.
    let (mut a, mut b) = (chain.gas, interpreted.gas);
    assert!(a.execution > 0 && b.execution > 0);
    (a.execution, b.execution) = (0, 0);
    assert_eq!(a, b);
    (chain, interpreted)
}

#[test]
fn wasmi_runs_the_examples_with_the_chains_host_semantics() {
    let wasmi = WasmiEngine::new().unwrap();
    let mut h = Harness::new().unwrap();
    let (alice, bob) = (account(1), account(2));
    let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000_000u128).encode();
    let (token, _) = h.deploy(&alice, TOKEN_WASM, &init).unwrap();
    let (exchange, _) = h
        .deploy(&alice, EXCHANGE_WASM, &token.as_bytes().encode())
        .unwrap();
    let pool = i8o8i_primitives::contract::contract_script(&exchange);

    let (chain, _) = agree(
        &h,
        &wasmi,
        &alice,
        token,
        &method("transfer", (bob.clone(), 250u128)),
        0,
    );
    assert_eq!(chain.status, ExecStatus::Success);
    assert_eq!(chain.events.len(), 1);
    let (refused, _) = agree(
        &h,
        &wasmi,
        &bob,
        token,
        &method("transfer", (alice.clone(), 1u128)),
        0,
    );
    assert!(
        matches!(refused.status, ExecStatus::Reverted(_)),
        "{refused:?}"
    );

    // Nested calls: the exchange pulls the approved tokens from the token contract.
    assert!(
        h.call(&alice, token, &method("approve", (pool, 500_000u128)), 0)
            .unwrap()
            .status
            .is_success()
    );
    let (added, _) = agree(
        &h,
        &wasmi,
        &alice,
        exchange,
        &method("add_liquidity", (500_000u128,)),
        1_000_000_000,
    );
    assert_eq!(added.status, ExecStatus::Success);
    assert!(added.gas.nested_calls > 0);
}

#[test]
fn wasmi_stops_unbounded_recursion_at_the_same_stack_height_limit() {
    let wasmi = WasmiEngine::new().unwrap();
    let mut h = Harness::new().unwrap();
    h.gas_limit = 40_000_000;
    let code = module("", "call $f", "(func $f call $f)");
    let (at, _) = h.deploy(&account(1), &code, &[]).unwrap();
    let (chain, interpreted) = agree(&h, &wasmi, &account(1), at, &[], 0);
    assert_eq!(
        chain.status,
        ExecStatus::Trapped(host::STACK_EXHAUSTED.into())
    );
    assert_eq!(interpreted.status, chain.status);
}
