//! Contracts on a real node: the token and escrow examples, built to wasm32 by the suite itself,
//! deployed and called through wallets, with exact balances, receipts, events, a reorganisation
//! that removes a deployment, a restart that keeps them, and hostile modules.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use i8o8i_primitives::address::{Address, Network};
use i8o8i_rpc::client::RpcClient;
use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;
use serde_json::{Value, json};

use crate::common::{build_block, call, call_err, start};

const COIN: u64 = 100_000_000;
const PASSWORD: &str = "correct horse battery staple";
const GAS: u64 = 5_000_000;

/// Modules built so far: (example name, wasm).
type Built = Mutex<Vec<(String, Vec<u8>)>>;

/// The example `name` built to wasm32 (once per test process).
pub(crate) fn example(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<Built> = OnceLock::new();
    let built = BUILT.get_or_init(Mutex::default);
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, code)) = built.iter().find(|(n, _)| n == name) {
        return code.clone();
    }
    let wasm = i8o8i_cli::contract_build::build(
        &repository().join("contracts/examples").join(name),
        &contracts_target(),
    )
    .unwrap_or_else(|e| panic!("building the {name} example: {e}"));
    let code = std::fs::read(wasm).unwrap();
    built.push((name.to_owned(), code.clone()));
    code
}

/// The repository this test runs from.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the tests build contracts (shared, so the wasm toolchain's work is done once).
fn contracts_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("target"))
        .join("contracts")
}

fn units(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

fn script(address: &str) -> Vec<u8> {
    Address::parse_for(address, Network::Dev)
        .unwrap()
        .script_pubkey()
        .as_bytes()
        .to_vec()
}

/// Call input: SCALE(method name) followed by the SCALE arguments.
fn input(method: &str, args: impl Encode) -> String {
    hex::encode([method.to_owned().encode(), args.encode()].concat())
}

async fn mine(c: &RpcClient, n: u32, to: &str) {
    let _: Value = call(c, "mining_generate", rpc_params![n, to]).await;
}

async fn query(c: &RpcClient, contract: &str, method: &str, args: impl Encode) -> Value {
    call(
        c,
        "contract_query",
        rpc_params![contract, input(method, args)],
    )
    .await
}

async fn query_u128(c: &RpcClient, contract: &str, method: &str, args: impl Encode) -> u128 {
    let reply = query(c, contract, method, args).await;
    let bytes = hex::decode(reply["returnData"].as_str().unwrap()).unwrap();
    u128::from_le_bytes(bytes.try_into().expect("a u128"))
}

/// Confirmed plus immature: what a wallet holds in blocks, whatever matures meanwhile.
async fn confirmed(c: &RpcClient, wallet: &str) -> u64 {
    let b: Value = call(c, "wallet_getBalance", rpc_params![wallet]).await;
    units(&b["confirmed"]) + units(&b["immature"])
}

async fn contract_call(
    c: &RpcClient,
    wallet: &str,
    contract: &str,
    input: String,
    value: u64,
    miner: &str,
) -> Value {
    let txid: String = call(
        c,
        "contract_call",
        rpc_params![wallet, PASSWORD, contract, input, GAS, value],
    )
    .await;
    mine(c, 1, miner).await;
    call(c, "tx_getReceipt", rpc_params![txid]).await
}

struct World {
    c: RpcClient,
    alice: String,
    bob: String,
    carol: String,
    miner: String,
}

/// Wallets alice (funded with two mature coinbases), bob (funded with 20 I8O), carol (empty)
/// and a miner address that collects every later block, so wallet balances move only by
/// what the test does.
async fn world(c: RpcClient) -> World {
    let mut addrs = Vec::new();
    for name in ["alice", "bob", "carol", "miner"] {
        let w: Value = call(&c, "wallet_create", rpc_params![name, PASSWORD]).await;
        addrs.push(w["address"].as_str().unwrap().to_owned());
    }
    mine(&c, 101, &addrs[0]).await;
    let _: String = call(
        &c,
        "wallet_send",
        rpc_params!["alice", PASSWORD, addrs[1].clone(), 20 * COIN],
    )
    .await;
    mine(&c, 1, &addrs[3]).await;
    World {
        c,
        alice: addrs[0].clone(),
        bob: addrs[1].clone(),
        carol: addrs[2].clone(),
        miner: addrs[3].clone(),
    }
}

/// The next notification of `s`, within 5 s.
async fn next(s: &mut jsonrpsee::core::client::Subscription<Value>) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(5), s.next())
        .await
        .expect("a notification")
        .unwrap()
        .unwrap()
}

/// Deploys and mines; returns (address, receipt, txid).
async fn deploy(
    w: &World,
    wallet: &str,
    code: &[u8],
    init: impl Encode,
) -> (String, Value, String) {
    let deployed: Value = call(
        &w.c,
        "contract_deploy",
        rpc_params![
            wallet,
            PASSWORD,
            hex::encode(code),
            GAS,
            hex::encode(init.encode())
        ],
    )
    .await;
    mine(&w.c, 1, &w.miner).await;
    let receipt: Value = call(&w.c, "tx_getReceipt", rpc_params![deployed["txid"].clone()]).await;
    (
        deployed["address"].as_str().unwrap().to_owned(),
        receipt,
        deployed["txid"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_transfers_allowances_events_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let code = example("token");

    let (token, receipt, _) = deploy(
        &w,
        "alice",
        &code,
        ("Seed".to_owned(), "SEED".to_owned(), 1_000u128),
    )
    .await;
    assert_eq!(receipt["status"], "success", "{receipt}");
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![token.clone()]).await;
    assert_eq!(info["deployerAddress"], w.alice);
    assert_eq!(info["codeSize"], code.len());
    assert!(
        info["abi"]
            .as_str()
            .unwrap()
            .contains("transfer(to: Account, amount: u128")
    );

    let alice = script(&w.alice);
    let bob = script(&w.bob);
    let carol = script(&w.carol);

    // The code is on chain now: bob instantiates a second token from its hash, without
    // uploading it again and without the per-byte charge.
    let init = hex::encode(("Two".to_owned(), "TWO".to_owned(), 7u128).encode());
    let second: Value = call(
        &w.c,
        "contract_instantiate",
        rpc_params!["bob", PASSWORD, info["codeHash"].clone(), GAS, init.clone()],
    )
    .await;
    mine(&w.c, 1, &w.miner).await;
    let r: Value = call(&w.c, "tx_getReceipt", rpc_params![second["txid"].clone()]).await;
    assert_eq!(r["status"], "success", "{r}");
    let second = second["address"].as_str().unwrap().to_owned();
    assert_ne!(second, token);
    assert!(
        r["gasUsed"].as_u64().unwrap() + 50 * code.len() as u64
            <= receipt["gasUsed"].as_u64().unwrap() + 1_000,
        "instantiating skips the per-byte charge: {r} vs {receipt}"
    );
    assert_eq!(
        query_u128(&w.c, &second, "balance_of", (bob.clone(),)).await,
        7
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (bob.clone(),)).await,
        0
    );
    let (err, message) = call_err(
        &w.c,
        "contract_instantiate",
        rpc_params!["bob", PASSWORD, "22".repeat(32), GAS, init],
    )
    .await;
    assert_eq!(err, -32010, "{message}");
    assert!(message.contains("no contract code"), "{message}");
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (alice.clone(),)).await,
        1_000
    );
    assert_eq!(query_u128(&w.c, &token, "total_supply", ()).await, 1_000);

    // Subscribers over WebSocket: events of this token, events of the second token only,
    // and pending transactions.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.rpc_addr()))
        .await
        .unwrap();
    let mut events = ws
        .subscribe::<Value, _>(
            "contract_subscribeEvents",
            rpc_params![token.clone()],
            "contract_unsubscribeEvents",
        )
        .await
        .unwrap();
    let mut other_events = ws
        .subscribe::<Value, _>(
            "contract_subscribeEvents",
            rpc_params![second.clone()],
            "contract_unsubscribeEvents",
        )
        .await
        .unwrap();
    let mut pending = ws
        .subscribe::<Value, _>(
            "mempool_subscribePending",
            rpc_params![],
            "mempool_unsubscribePending",
        )
        .await
        .unwrap();

    // alice → bob 300
    let r = contract_call(
        &w.c,
        "alice",
        &token,
        input("transfer", (bob.clone(), 300u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let tx = next(&mut pending).await;
    let confirmed_tx: Value = call(&w.c, "tx_get", rpc_params![tx["txid"].clone()]).await;
    assert_eq!(confirmed_tx["status"]["state"], "confirmed");
    assert!(tx["fee"].as_u64().unwrap() > 0, "{tx}");
    assert_eq!(
        tx["size"], confirmed_tx["transaction"]["size"],
        "the pending notification is of the call transaction"
    );
    let event = next(&mut events).await;
    assert_eq!(event["contract"], token);
    assert_eq!(event["txid"], tx["txid"]);
    assert_eq!(event["topics"], r["events"][0]["topics"]);
    assert_eq!(event["data"], r["events"][0]["data"]);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), other_events.next())
            .await
            .is_err(),
        "a filtered subscription sees nothing of another contract"
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (alice.clone(),)).await,
        700
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (bob.clone(),)).await,
        300
    );
    assert_eq!(r["events"].as_array().unwrap().len(), 1);

    // The CLI decodes events with the ABI the contract embeds (its `event` lines), for its
    // events and for a receipt; the raw topics and data stay beside.
    let url = format!("http://{}", node.rpc_addr());
    let cli = |args: &[&str]| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_i8o8icoin"))
            .args(args)
            .args(["--rpc-url", &url])
            .output()
            .expect("the CLI runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    };
    let transfer = serde_json::json!({
        "event": "Transfer", "from": w.alice, "to": w.bob, "amount": "300"
    });
    let listed = cli(&["contract", "events", &token]);
    let last = listed.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["decoded"], transfer, "{last}");
    assert_eq!(last["topics"], r["events"][0]["topics"]);
    let txid = tx["txid"].as_str().unwrap();
    let receipt = cli(&["contract", "receipt", txid]);
    assert_eq!(receipt["events"][0]["decoded"], transfer, "{receipt}");

    // bob may not mint: the call reverts with the contract's reason and still pays for gas.
    let before = confirmed(&w.c, "bob").await;
    let r = contract_call(
        &w.c,
        "bob",
        &token,
        input("mint", (bob.clone(), 5u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "reverted");
    assert_eq!(r["reason"], "only the owner may mint");
    let gas_used = r["gasUsed"].as_u64().unwrap();
    assert!(gas_used > 20_000 && gas_used < GAS, "{r}");
    let fee = units(&r["fee"]);
    assert!(fee >= gas_used, "the fee covers the gas used: {r}");
    assert_eq!(
        confirmed(&w.c, "bob").await,
        before - fee,
        "bob pays exactly the fee"
    );
    assert_eq!(query_u128(&w.c, &token, "total_supply", ()).await, 1_000);

    // Allowances: alice lets bob move 100, bob moves 60 of it to carol.
    let r = contract_call(
        &w.c,
        "alice",
        &token,
        input("approve", (bob.clone(), 100u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success");
    let r = contract_call(
        &w.c,
        "bob",
        &token,
        input("transfer_from", (alice.clone(), carol.clone(), 60u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (carol.clone(),)).await,
        60
    );
    assert_eq!(
        query_u128(&w.c, &token, "allowance", (alice.clone(), bob.clone())).await,
        40
    );
    let r = contract_call(
        &w.c,
        "bob",
        &token,
        input("transfer_from", (alice.clone(), carol.clone(), 41u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["reason"], "transfer amount exceeds allowance");

    // Events: the mint at deploy, alice → bob, the approval, alice → carol.
    let events: Value = call(&w.c, "contract_getEvents", rpc_params![token.clone()]).await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 4, "{events:?}");
    let transfer_topic = hex::encode(i8o8i_contract_sdk::topic("Transfer"));
    let approval_topic = hex::encode(i8o8i_contract_sdk::topic("Approval"));
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["topics"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            &transfer_topic,
            &transfer_topic,
            &approval_topic,
            &transfer_topic
        ]
    );
    assert_eq!(events[1]["data"], hex::encode(300u128.encode()));

    // Queries are repeatable to the unit of gas, and so across a restart.
    let q1 = query(&w.c, &token, "balance_of", (bob.clone(),)).await;
    let q2 = query(&w.c, &token, "balance_of", (bob.clone(),)).await;
    assert_eq!(q1["gasUsed"], q2["gasUsed"]);
    let storage_key = [b"b".to_vec(), bob.encode()].concat();
    let stored: Value = call(
        &w.c,
        "contract_getStorage",
        rpc_params![token.clone(), hex::encode(&storage_key)],
    )
    .await;
    assert_eq!(stored, hex::encode(300u128.encode()));
    node.stop().await;

    let (node, c) = start(dir.path()).await;
    let q3: Value = call(
        &c,
        "contract_query",
        rpc_params![token.clone(), input("balance_of", (bob.clone(),))],
    )
    .await;
    assert_eq!(q3, q1);
    let events: Value = call(&c, "contract_getEvents", rpc_params![token.clone()]).await;
    assert_eq!(events.as_array().unwrap().len(), 4);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escrow_release_and_reclaim_move_real_coins() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let code = example("escrow");
    let height = |v: &Value| v["height"].as_u64().unwrap();
    let tip: Value = call(&w.c, "chain_getInfo", rpc_params![]).await;

    // Release: bob (arbiter) pays carol (beneficiary) the 10 I8O alice deposited.
    let (escrow, r, _) = deploy(
        &w,
        "alice",
        &code,
        (script(&w.bob), script(&w.carol), height(&tip) + 100),
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let r = contract_call(
        &w.c,
        "alice",
        &escrow,
        input("deposit", ()),
        10 * COIN,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![escrow.clone()]).await;
    assert_eq!(units(&info["balance"]), 10 * COIN);
    let (err, _) = call_err(
        &w.c,
        "contract_call",
        rpc_params!["carol", PASSWORD, escrow.clone(), input("release", ()), GAS],
    )
    .await;
    assert_eq!(err, -32023, "carol has no coins to pay for a call");
    let r = contract_call(&w.c, "bob", &escrow, input("release", ()), 0, &w.miner).await;
    assert_eq!(r["status"], "success", "{r}");
    let carol: Value = call(&w.c, "address_getBalance", rpc_params![w.carol.clone()]).await;
    assert_eq!(units(&carol["confirmed"]), 10 * COIN);
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![escrow.clone()]).await;
    assert_eq!(units(&info["balance"]), 0);

    // Reclaim: too early reverts (the deposit stays), at the height alice gets it back.
    let tip: Value = call(&w.c, "chain_getInfo", rpc_params![]).await;
    let reclaim_at = height(&tip) + 4;
    let (escrow, _, _) = deploy(
        &w,
        "alice",
        &code,
        (script(&w.bob), script(&w.carol), reclaim_at),
    )
    .await;
    let r = contract_call(
        &w.c,
        "alice",
        &escrow,
        input("deposit", ()),
        5 * COIN,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success");
    let r = contract_call(&w.c, "alice", &escrow, input("reclaim", ()), 0, &w.miner).await;
    assert_eq!(r["reason"], "too early to reclaim", "{r}");
    mine(&w.c, 2, &w.miner).await;
    let before = confirmed(&w.c, "alice").await;
    let r = contract_call(&w.c, "alice", &escrow, input("reclaim", ()), 0, &w.miner).await;
    assert_eq!(r["status"], "success", "{r}");
    let fee = units(&r["fee"]);
    assert_eq!(confirmed(&w.c, "alice").await, before - fee + 5 * COIN);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_that_drops_the_deploy_block_removes_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let parent = node.node().chain().tip().header;
    let (token, r, txid) = deploy(
        &w,
        "alice",
        &example("token"),
        ("T".to_owned(), "T".to_owned(), 5u128),
    )
    .await;
    assert_eq!(r["status"], "success");
    let key = hex::encode([b"s".to_vec()].concat());
    let supply: Value = call(
        &w.c,
        "contract_getStorage",
        rpc_params![token.clone(), key.clone()],
    )
    .await;
    assert_eq!(supply, hex::encode(5u128.encode()));

    // Two empty blocks on the deploy block's parent outweigh it.
    let spec = node.node().chain().spec().clone();
    let payout = Address::parse_for(&w.miner, Network::Dev)
        .unwrap()
        .script_pubkey();
    let a = build_block(
        &node,
        &parent,
        vec![],
        &payout,
        spec.subsidy(parent.height + 1).to_units(),
        1,
    );
    // Stored before its child is built (the child's state root is computed on it).
    node.node().submit_block(a.clone()).unwrap();
    let b = build_block(
        &node,
        &a.header,
        vec![],
        &payout,
        spec.subsidy(parent.height + 2).to_units(),
        2,
    );
    node.node().submit_block(b).unwrap();
    let (code, _) = call_err(&w.c, "contract_getInfo", rpc_params![token.clone()]).await;
    assert_eq!(code, -32001);
    let (code, _) = call_err(&w.c, "contract_getStorage", rpc_params![token.clone(), key]).await;
    assert_eq!(code, -32001);
    let (code, _) = call_err(&w.c, "tx_getReceipt", rpc_params![txid]).await;
    assert_eq!(code, -32001);
    node.stop().await;
}

fn wat(text: &str) -> String {
    hex::encode(wat::parse_str(text).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_modules_get_clean_errors_and_the_node_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let deploy_params = |code: String| -> ArrayParams { rpc_params!["alice", PASSWORD, code, GAS] };

    for (module, expected) in [
        (
            r#"(module (memory (export "memory") 1) (func (export "call") f64.const 1 drop))"#,
            "floating-point",
        ),
        (
            r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "call")))"#,
            "start functions",
        ),
        (
            r#"(module (import "env" "nope" (func)) (memory (export "memory") 1) (func (export "call")))"#,
            "no such host function",
        ),
        (r#"(module (func (export "call")))"#, "memory"),
    ] {
        let (code, message) = call_err(&w.c, "contract_deploy", deploy_params(wat(module))).await;
        assert_eq!(code, -32602, "{message}");
        assert!(
            message.contains(expected),
            "{message} should mention {expected}"
        );
    }
    let (code, _) = call_err(&w.c, "contract_deploy", deploy_params("zz".into())).await;
    assert_eq!(code, -32602);

    // An infinite loop deploys, and calling it burns exactly its gas limit.
    let looping =
        wat(r#"(module (memory (export "memory") 1) (func (export "call") (loop $l (br $l))))"#);
    let deployed: Value = call(&w.c, "contract_deploy", deploy_params(looping)).await;
    mine(&w.c, 1, &w.miner).await;
    let address = deployed["address"].as_str().unwrap().to_owned();
    let r = contract_call(&w.c, "alice", &address, String::new(), 0, &w.miner).await;
    assert_eq!(r["status"], "outOfGas");
    assert_eq!(r["gasUsed"], GAS);
    let (code, message) = call_err(&w.c, "contract_query", rpc_params![address.clone(), ""]).await;
    assert_eq!(code, -32060, "{message}");

    // Calls to nowhere are refused before they cost anything.
    let nowhere = "11".repeat(32);
    let (code, message) = call_err(
        &w.c,
        "contract_call",
        rpc_params!["alice", PASSWORD, nowhere, "", GAS],
    )
    .await;
    assert_eq!(code, -32010, "{message}");
    assert!(message.contains("no contract"), "{message}");

    // The node still works.
    mine(&w.c, 1, &w.miner).await;
    let info: Value = call(&w.c, "chain_getInfo", rpc_params![]).await;
    assert!(info["height"].as_u64().unwrap() > 101);
    node.stop().await;
}

/// The account script of a contract (hex address): `OP_RETURN <address>`.
fn contract_account(address: &str) -> Vec<u8> {
    [vec![0x6a, 0x20], hex::decode(address).unwrap()].concat()
}

/// The constant-product output, as the exchange computes it.
fn swap_output(amount: u128, reserve_in: u128, reserve_out: u128) -> u128 {
    amount * 997 * reserve_out / (reserve_in * 1000 + amount * 997)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_trades_tokens_and_coins_through_cross_contract_calls() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let (token, r, _) = deploy(
        &w,
        "alice",
        &example("token"),
        ("Seed".to_owned(), "SEED".to_owned(), 1_000_000u128),
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let token_bytes: [u8; 32] = hex::decode(&token).unwrap().try_into().unwrap();
    let (exchange, r, _) = deploy(&w, "alice", &example("exchange"), (token_bytes,)).await;
    assert_eq!(r["status"], "success", "{r}");
    let pool = contract_account(&exchange);
    let (alice, bob) = (script(&w.alice), script(&w.bob));

    // Alice approves the exchange and adds 10 I8O with 500,000 tokens: the exchange pulls
    // the tokens by calling the token.
    let r = contract_call(
        &w.c,
        "alice",
        &token,
        input("approve", (pool.clone(), 500_000u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let r = contract_call(
        &w.c,
        "alice",
        &exchange,
        input("add_liquidity", (500_000u128,)),
        10 * COIN,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    // The token's Transfer (alice → pool) and the exchange's event, in call order.
    let events = r["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{r}");
    assert_eq!(
        (&events[0]["contract"], &events[1]["contract"]),
        (&json!(token), &json!(exchange))
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (pool.clone(),)).await,
        500_000
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (alice.clone(),)).await,
        500_000
    );
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![exchange.clone()]).await;
    assert_eq!(units(&info["balance"]), 10 * COIN);

    // Bob buys tokens with 1 I8O at the quoted price; the exchange pays him by calling the
    // token, as its own account.
    let expected = swap_output(u128::from(COIN), u128::from(10 * COIN), 500_000);
    assert_eq!(expected, 45_330);
    let quote = query(&w.c, &exchange, "quote_coins_for_tokens", (COIN,)).await;
    assert_eq!(quote["returnData"], hex::encode(expected.encode()));
    let r = contract_call(
        &w.c,
        "bob",
        &exchange,
        input("swap_coins_for_tokens", (expected,)),
        COIN,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    // The receipt says where the gas went; the parts sum to gasUsed, the token call included.
    let parts = r["gasBreakdown"].as_object().unwrap();
    let sum: u64 = parts.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, r["gasUsed"].as_u64().unwrap(), "{r}");
    assert_eq!(parts["instantiation"], json!(2 * 20_000), "two frames");
    assert!(parts["nestedCalls"].as_u64().unwrap() >= 5_000, "{r}");
    assert!(parts["storageWrites"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (bob.clone(),)).await,
        expected
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (pool.clone(),)).await,
        500_000 - expected
    );
    // The same split comes before sending: estimateGas dry-runs a quote.
    let estimate: Value = call(
        &w.c,
        "contract_estimateGas",
        rpc_params![
            exchange.clone(),
            input("quote_tokens_for_coins", (expected,))
        ],
    )
    .await;
    let parts = estimate["gasBreakdown"].as_object().unwrap();
    let sum: u64 = parts.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, estimate["gasUsed"].as_u64().unwrap(), "{estimate}");
    assert_eq!(parts["instantiation"], json!(20_000), "{estimate}");
    // The trace of another purchase shows the exchange's call into the token, the token's
    // frame and the balances it rewrote, old and new.
    let traced: Value = call(
        &w.c,
        "contract_traceCall",
        rpc_params![
            exchange.clone(),
            input("swap_coins_for_tokens", (0u128,)),
            w.carol.clone(),
            COIN
        ],
    )
    .await;
    assert_eq!(traced["truncated"], json!(false));
    let frames = traced["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 2, "the exchange, then the token: {traced}");
    assert_eq!(frames[0]["outcome"]["status"], "success", "{traced}");
    assert_eq!(frames[0]["gasUsed"], traced["gasUsed"]);
    let steps = frames[0]["steps"].as_array().unwrap();
    let into_token = steps
        .iter()
        .find(|s| s["function"] == "call")
        .expect("a call step");
    let detail = &into_token["detail"];
    assert_eq!(
        (&detail["kind"], &detail["status"], &detail["frame"]),
        (&json!("call"), &json!(0), &json!(1))
    );
    let frame = &frames[1];
    assert_eq!(frame["parent"], json!(0));
    assert_eq!(frame["contract"], json!(token));
    assert_eq!(frame["caller"], json!(hex::encode(&pool)));
    let writes: Vec<&Value> = frame["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["detail"]["kind"] == "storageWrite")
        .collect();
    assert_eq!(writes.len(), 2, "the pool's and carol's balances: {frame}");
    assert_eq!(
        writes[0]["detail"]["old"],
        json!(hex::encode((500_000 - expected).encode()))
    );

    // Selling them back without an approval: the token refuses, the exchange reverts, and
    // nothing moved.
    let r = contract_call(
        &w.c,
        "bob",
        &exchange,
        input("swap_tokens_for_coins", (expected, 0u64)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "reverted", "{r}");
    assert_eq!(
        r["reason"],
        "token transfer_from: the callee reverted: transfer amount exceeds allowance"
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (bob.clone(),)).await,
        expected
    );

    // With the approval: bob gets the coins the formula gives, as an output of his call.
    let r = contract_call(
        &w.c,
        "bob",
        &token,
        input("approve", (pool.clone(), expected)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let coins_back = swap_output(expected, 500_000 - expected, u128::from(11 * COIN)) as u64;
    let before = confirmed(&w.c, "bob").await;
    let r = contract_call(
        &w.c,
        "bob",
        &exchange,
        input("swap_tokens_for_coins", (expected, coins_back)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(r["returnData"], hex::encode(coins_back.encode()));
    let fee = units(&r["fee"]);
    assert_eq!(confirmed(&w.c, "bob").await, before - fee + coins_back);
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (bob.clone(),)).await,
        0
    );
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![exchange.clone()]).await;
    assert_eq!(units(&info["balance"]), 11 * COIN - coins_back);
    let reserves = query(&w.c, &exchange, "reserves", ()).await;
    assert_eq!(
        reserves["returnData"],
        hex::encode((11 * COIN - coins_back, 500_000u128).encode())
    );
    node.stop().await;
}

/// A module whose `call` stores its input at key `v` and returns what was there, with
/// `migrate_body` as its `migrate` export (none when empty).
fn versioned(migrate: &str) -> Vec<u8> {
    let migrate = if migrate.is_empty() {
        String::new()
    } else {
        format!(r#"(func (export "migrate") {migrate})"#)
    };
    wat::parse_str(format!(
        r#"(module
            (import "env" "input_len" (func $input_len (result i32)))
            (import "env" "input_read" (func $input_read (param i32)))
            (import "env" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
            (import "env" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
            (import "env" "set_return" (func $set_return (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "v")
            (func (export "call") (local $old i32) (local $n i32)
              (local.set $old (call $storage_read (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 100)))
              (local.set $n (call $input_len))
              (call $input_read (i32.const 300))
              (call $storage_write (i32.const 0) (i32.const 1) (i32.const 300) (local.get $n))
              (if (i32.ge_s (local.get $old) (i32.const 0))
                (then (call $set_return (i32.const 100) (local.get $old)))))
            {migrate})"#
    ))
    .unwrap()
}

/// `migrate` of version 2: the stored value becomes the migration's input followed by it.
const PREPEND_INPUT: &str = r#"(local $old i32) (local $n i32)
    (local.set $n (call $input_len))
    (call $input_read (i32.const 100))
    (local.set $old (call $storage_read (i32.const 0) (i32.const 1)
      (i32.add (i32.const 100) (local.get $n)) (i32.const 100)))
    (call $storage_write (i32.const 0) (i32.const 1) (i32.const 100)
      (i32.add (local.get $n) (local.get $old)))"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_migrates_a_contract_and_a_contract_without_one_never_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let deploy_with = |code: Vec<u8>, admin: Option<String>| {
        let c = &w.c;
        let miner = w.miner.clone();
        async move {
            let salt = hex::encode(rand_salt());
            let deployed: Value = call(
                c,
                "contract_deploy",
                rpc_params!["alice", PASSWORD, hex::encode(code), GAS, "", salt, admin],
            )
            .await;
            mine(c, 1, &miner).await;
            let r: Value = call(c, "tx_getReceipt", rpc_params![deployed["txid"].clone()]).await;
            assert_eq!(r["status"], "success", "{r}");
            deployed["address"].as_str().unwrap().to_owned()
        }
    };
    let v1 = versioned("");
    let v2 = versioned(PREPEND_INPUT);
    let contract = deploy_with(v1.clone(), Some(w.alice.clone())).await;
    // Version 2's code goes on chain with a deployment of its own (no admin).
    let other = deploy_with(v2.clone(), None).await;
    let v2_hash = hex::encode(i8o8i_primitives::contract::code_hash(&v2).as_bytes());
    let v1_hash = hex::encode(i8o8i_primitives::contract::code_hash(&v1).as_bytes());
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![contract.clone()]).await;
    assert_eq!(info["adminAddress"], json!(w.alice));
    let deployed_at = info["height"].clone();
    assert_eq!(
        info["codeHistory"],
        json!([{ "codeHash": v1_hash, "height": deployed_at }])
    );
    let r = contract_call(&w.c, "alice", &contract, hex::encode(b"one"), 0, &w.miner).await;
    assert_eq!(r["status"], "success", "{r}");

    let migrate = |wallet: &'static str, target: String, input: &'static [u8]| {
        let c = &w.c;
        let miner = w.miner.clone();
        let hash = v2_hash.clone();
        async move {
            let txid: String = call(
                c,
                "contract_migrate",
                rpc_params![wallet, PASSWORD, target, hash, GAS, hex::encode(input)],
            )
            .await;
            mine(c, 1, &miner).await;
            let r: Value = call(c, "tx_getReceipt", rpc_params![txid]).await;
            r
        }
    };
    // Bob is not the admin; the contract without an admin can never change.
    let r = migrate("bob", contract.clone(), b"two:").await;
    assert_eq!(
        (&r["status"], &r["reason"]),
        (
            &json!("reverted"),
            &json!("only the contract's admin may do this")
        )
    );
    let r = migrate("alice", other.clone(), b"two:").await;
    assert_eq!(
        r["reason"],
        "the contract has no admin: its code can never change"
    );

    // Alice migrates: the new code's `migrate` ran over the old storage, in the same
    // transaction, and the code changed.
    let r = migrate("alice", contract.clone(), b"two:").await;
    assert_eq!(r["status"], "success", "{r}");
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![contract.clone()]).await;
    assert_eq!(info["codeHash"], json!(v2_hash));
    let history = info["codeHistory"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0],
        json!({ "codeHash": v1_hash, "height": deployed_at })
    );
    assert_eq!(history[1]["codeHash"], json!(v2_hash));
    let stored: Option<String> = call(
        &w.c,
        "contract_getStorage",
        rpc_params![contract.clone(), hex::encode(b"v")],
    )
    .await;
    assert_eq!(stored, Some(hex::encode(b"two:one")));

    // Migrating to code with no `migrate` fails and changes nothing.
    let v3 = versioned("");
    let v3_hash = hex::encode(i8o8i_primitives::contract::code_hash(&v3).as_bytes());
    assert_eq!(v3_hash, v1_hash, "version 1's code, already on chain");
    let txid: String = call(
        &w.c,
        "contract_migrate",
        rpc_params!["alice", PASSWORD, contract.clone(), v3_hash, GAS],
    )
    .await;
    mine(&w.c, 1, &w.miner).await;
    let r: Value = call(&w.c, "tx_getReceipt", rpc_params![txid]).await;
    assert_eq!(
        (&r["status"], &r["reason"]),
        (
            &json!("trapped"),
            &json!("the code has no `migrate` entry point")
        )
    );
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![contract.clone()]).await;
    assert_eq!(info["codeHash"], json!(v2_hash));

    // Alice drops the admin right: from then on the code never changes.
    let txid: String = call(
        &w.c,
        "contract_setAdmin",
        rpc_params!["alice", PASSWORD, contract.clone()],
    )
    .await;
    mine(&w.c, 1, &w.miner).await;
    let r: Value = call(&w.c, "tx_getReceipt", rpc_params![txid]).await;
    assert_eq!(r["status"], "success", "{r}");
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![contract.clone()]).await;
    assert_eq!(
        (&info["admin"], &info["adminAddress"]),
        (&Value::Null, &Value::Null)
    );
    let r = migrate("alice", contract.clone(), b"three:").await;
    assert_eq!(
        r["reason"],
        "the contract has no admin: its code can never change"
    );
    node.stop().await;
}

fn rand_salt() -> [u8; 32] {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(1);
    [NEXT.fetch_add(1, Ordering::Relaxed); 32]
}

/// The amount (`u128`) in a token Transfer event notification.
fn transfer_amount(event: &Value) -> u128 {
    let data = hex::decode(event["data"].as_str().unwrap()).unwrap();
    u128::from_le_bytes(data.try_into().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_resumes_from_a_height_and_reports_what_a_reorganisation_removes() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let (token, _, _) = deploy(
        &w,
        "alice",
        &example("token"),
        ("T".to_owned(), "T".to_owned(), 1_000u128),
    )
    .await;
    let send = |to: &str, amount: u128| {
        let input = input("transfer", (script(to), amount));
        let (c, token, miner) = (&w.c, token.clone(), w.miner.clone());
        async move {
            let r = contract_call(c, "alice", &token, input, 0, &miner).await;
            assert_eq!(r["status"], "success", "{r}");
        }
    };
    send(&w.bob, 1).await;
    let first = node.node().chain().tip().header.height;
    send(&w.carol, 2).await;
    let parent = node.node().chain().tip().header;

    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.rpc_addr()))
        .await
        .unwrap();
    let subscribe = |params: ArrayParams| {
        let ws = &ws;
        async move {
            ws.subscribe::<Value, _>(
                "contract_subscribeEvents",
                params,
                "contract_unsubscribeEvents",
            )
            .await
            .unwrap()
        }
    };
    // Resuming from the first transfer's height: both transfers are sent, in order, once.
    let mut resumed = subscribe(rpc_params![token.clone(), Value::Null, first]).await;
    for (amount, height) in [(1, first), (2, first + 1)] {
        let e = next(&mut resumed).await;
        assert_eq!(
            (
                transfer_amount(&e),
                e["height"].as_u64().unwrap(),
                &e["removed"]
            ),
            (amount, height, &json!(false))
        );
    }
    // Only transfers to carol: topic 0 the event's name, 1 any sender, 2 carol.
    let mut topic = [0u8; 32];
    topic[..8].copy_from_slice(b"Transfer");
    let mut carol_topic = [0u8; 32];
    let carol = script(&w.carol);
    carol_topic[..carol.len()].copy_from_slice(&carol);
    let mut to_carol = subscribe(rpc_params![
        token.clone(),
        json!([hex::encode(topic), null, hex::encode(carol_topic)])
    ])
    .await;

    // A transfer to bob in a block a reorganisation then takes out.
    send(&w.bob, 3).await;
    let e = next(&mut resumed).await;
    assert_eq!((transfer_amount(&e), &e["removed"]), (3, &json!(false)));
    let spec = node.node().chain().spec().clone();
    let payout = Address::parse_for(&w.miner, Network::Dev)
        .unwrap()
        .script_pubkey();
    let a = build_block(
        &node,
        &parent,
        vec![],
        &payout,
        spec.subsidy(parent.height + 1).to_units(),
        7,
    );
    node.node().submit_block(a.clone()).unwrap();
    let b = build_block(
        &node,
        &a.header,
        vec![],
        &payout,
        spec.subsidy(parent.height + 2).to_units(),
        8,
    );
    node.node().submit_block(b).unwrap();
    let e = next(&mut resumed).await;
    assert_eq!(
        (
            transfer_amount(&e),
            e["height"].as_u64().unwrap(),
            &e["removed"]
        ),
        (3, parent.height + 1, &json!(true)),
        "the undone transfer comes again, removed"
    );

    // The undone transfer went back to the pool (as in Bitcoin Core), so the next block
    // carries it again beside a transfer to carol; the topic filter passes only carol's.
    let pooled: Vec<String> = call(&w.c, "mempool_getTxids", rpc_params![]).await;
    send(&w.carol, 4).await;
    let e = next(&mut to_carol).await;
    assert_eq!((transfer_amount(&e), &e["removed"]), (4, &json!(false)));
    let mut amounts: Vec<u128> = Vec::new();
    for _ in 0..=pooled.len() {
        let e = next(&mut resumed).await;
        assert_eq!(e["removed"], json!(false));
        amounts.push(transfer_amount(&e));
    }
    amounts.sort_unstable();
    let expected: &[u128] = if pooled.is_empty() { &[4] } else { &[3, 4] };
    assert_eq!(amounts, expected);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), resumed.next())
            .await
            .is_err(),
        "no duplicate"
    );
    // Bad filters are refused.
    let refused = ws
        .subscribe::<Value, _>(
            "contract_subscribeEvents",
            rpc_params![token.clone(), json!(["zz"])],
            "contract_unsubscribeEvents",
        )
        .await;
    assert!(refused.is_err());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_escrow_holds_tokens_and_the_arbiter_releases_them() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let (token, _, _) = deploy(
        &w,
        "alice",
        &example("token"),
        ("T".to_owned(), "T".to_owned(), 1_000u128),
    )
    .await;
    let token_bytes: [u8; 32] = hex::decode(&token).unwrap().try_into().unwrap();
    let (alice, bob, carol) = (script(&w.alice), script(&w.bob), script(&w.carol));
    let (escrow, r, _) = deploy(
        &w,
        "alice",
        &example("token-escrow"),
        (token_bytes, bob.clone(), carol.clone()),
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let vault = contract_account(&escrow);
    let call_ok = |wallet: &'static str, contract: String, input: String| {
        let (c, miner) = (&w.c, w.miner.clone());
        async move {
            let r = contract_call(c, wallet, &contract, input, 0, &miner).await;
            assert_eq!(r["status"], "success", "{r}");
        }
    };
    call_ok(
        "alice",
        token.clone(),
        input("approve", (vault.clone(), 300u128)),
    )
    .await;
    call_ok("alice", escrow.clone(), input("deposit", (300u128,))).await;
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (vault.clone(),)).await,
        300
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (alice.clone(),)).await,
        700
    );
    assert_eq!(query_u128(&w.c, &escrow, "held", ()).await, 300);
    // Only the arbiter pays out: the depositor cannot release (or take back) the tokens.
    let r = contract_call(&w.c, "alice", &escrow, input("release", ()), 0, &w.miner).await;
    assert_eq!(r["reason"], "only the arbiter may pay out", "{r}");
    call_ok("bob", escrow.clone(), input("release", ())).await;
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (carol.clone(),)).await,
        300
    );
    assert_eq!(
        query_u128(&w.c, &token, "balance_of", (vault.clone(),)).await,
        0
    );
    assert_eq!(query_u128(&w.c, &escrow, "held", ()).await, 0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_verify_matches_the_example_and_refuses_a_modified_source() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let (token, _, _) = deploy(
        &w,
        "alice",
        &example("token"),
        ("Verified".to_owned(), "VRF".to_owned(), 1u128),
    )
    .await;
    let info: Value = call(&w.c, "contract_getInfo", rpc_params![token.clone()]).await;
    assert_eq!(info["build"]["package"], "i8o8i-token", "{info}");
    assert_eq!(info["build"]["profile"], "contract");

    let url = format!("http://{}", node.rpc_addr());
    let target = contracts_target();
    let verify = |crate_dir: &Path| -> (bool, Value, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_i8o8icoin"))
            .args(["contract", "verify", &token])
            .arg(crate_dir)
            .arg("--target-dir")
            .arg(&target)
            .args(["--rpc-url", &url])
            .output()
            .expect("the CLI runs");
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
        });
        (
            out.status.success(),
            report,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // The example's own directory rebuilds the deployed code byte for byte.
    let (ok, report, stderr) = verify(&repository().join("contracts/examples/token"));
    assert!(ok, "{report} {stderr}");
    assert_eq!(report["verified"], true);
    assert_eq!(report["codeHash"], info["codeHash"]);
    assert_eq!(report["builtCodeHash"], info["codeHash"]);
    assert_eq!(report["deployed"], info["build"]);
    assert_eq!(report["differences"], serde_json::json!([]));

    // A copy of the repository elsewhere with one line of the token changed: refused, and the
    // sources named as what differs (same package, same compiler, same files).
    let copy = tempfile::tempdir().unwrap();
    let files = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repository())
        .output()
        .expect("git runs");
    assert!(files.status.success());
    for file in files.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = Path::new(std::str::from_utf8(file).unwrap());
        let from = repository().join(file);
        if !from.is_file() {
            continue;
        }
        let to = copy.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    // Unchanged, the copy builds the same bytes in another directory.
    let (ok, report, stderr) = verify(&copy.path().join("contracts/examples/token"));
    assert!(ok, "{report} {stderr}");
    let lib = copy.path().join("contracts/examples/token/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let changed = source.replacen(
        "pub fn name() -> String {",
        "pub fn name() -> String {\n    let _ = 1;",
        1,
    );
    assert_ne!(source, changed);
    std::fs::write(&lib, changed).unwrap();
    let (ok, report, stderr) = verify(&copy.path().join("contracts/examples/token"));
    assert!(!ok, "{report}");
    assert_eq!(report["verified"], false);
    assert_ne!(report["builtCodeHash"], info["codeHash"]);
    assert_eq!(report["built"]["rustc"], info["build"]["rustc"]);
    assert_eq!(report["built"]["files"], info["build"]["files"]);
    let differences = report["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{report}");
    assert!(
        differences[0]
            .as_str()
            .unwrap()
            .starts_with("sources: deployed "),
        "{report}"
    );
    assert!(
        stderr.contains("does not run the code this crate builds"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_bench_runs_a_module_or_a_copy_of_a_nodes_contract_in_the_chains_engine() {
    use i8o8i_contract_engine::harness::Harness;
    let bench = |args: &[&str]| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_i8o8icoin"))
            .args(["contract", "bench"])
            .args(args)
            .args(["--iterations", "20", "--warmup", "2", "--json"])
            .output()
            .expect("the CLI runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    };
    let code = example("token");
    let module = contracts_target().join("i8o8i_token.wasm");
    let pool = format!("contract:{}", "07".repeat(32));
    let pool_script = i8o8i_primitives::contract::contract_script(
        &i8o8i_primitives::ContractAddress::from_byte_array([7; 32]),
    );

    // A module, deployed fresh with constructor arguments and a kept setup call: the gas is
    // what the engine gives the same execution, to the unit.
    let setup = format!("transfer {pool} 10");
    let transfer_args = [
        module.to_str().unwrap(),
        "transfer",
        &pool,
        "5",
        "--init",
        "Seed",
        "--init",
        "SEED",
        "--init",
        "1000",
        "--setup",
        &setup,
    ];
    let report = bench(&transfer_args);
    let mut h = Harness::new().unwrap();
    let caller = [&[0x76, 0xa9, 0x14][..], &[0x42; 20], &[0x88, 0xac]].concat();
    let init = ("Seed".to_owned(), "SEED".to_owned(), 1_000u128).encode();
    let (token, _) = h.deploy(&caller, &code, &init).unwrap();
    let transfer = |n: u128| [input("transfer", (pool_script.clone(), n))].concat();
    let transfer = |n| hex::decode(transfer(n)).unwrap();
    assert!(
        h.call(&caller, token, &transfer(10), 0)
            .unwrap()
            .status
            .is_success()
    );
    let expected = h.query(&caller, token, &transfer(5)).unwrap();
    assert_eq!(report["status"]["status"], "success", "{report}");
    assert_eq!(report["contract"], token.to_string());
    assert_eq!(report["gasUsed"], expected.gas_used);
    assert_eq!(
        report["gasBreakdown"],
        serde_json::to_value(expected.gas).unwrap()
    );
    assert_eq!(report["iterations"], 20);
    assert_eq!(report["engine"], "wasmtime");
    assert_eq!(report["chainGasUsed"], expected.gas_used);
    assert!(report["medianNs"].as_u64().unwrap() > 0);
    assert!(report["p99Ns"].as_u64().unwrap() >= report["medianNs"].as_u64().unwrap());

    // The same call in wasmi: the same outcome and host charges, the Wasm part metered by
    // wasmi, and the chain's gas beside it.
    let interpreted = bench(&[&transfer_args[..], &["--engine", "wasmi"]].concat());
    assert_eq!(interpreted["engine"], "wasmi");
    assert_eq!(interpreted["status"]["status"], "success", "{interpreted}");
    assert_eq!(interpreted["returnData"], report["returnData"]);
    assert_eq!(interpreted["chainGasUsed"], expected.gas_used);
    let mut parts = interpreted["gasBreakdown"].clone();
    let mut chain_parts = report["gasBreakdown"].clone();
    assert!(parts["execution"].as_u64().unwrap() > 0);
    parts["execution"] = 0.into();
    chain_parts["execution"] = 0.into();
    assert_eq!(parts, chain_parts, "host charges are the chain's");
    assert_eq!(
        interpreted["gasUsed"].as_u64().unwrap(),
        interpreted["gasBreakdown"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
    );

    // A contract copied from a node, storage and all: a query gives what the node's gives.
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let w = world(c).await;
    let (token, _, _) = deploy(
        &w,
        "alice",
        &code,
        ("Copied".to_owned(), "CPY".to_owned(), 1_000u128),
    )
    .await;
    let bob = script(&w.bob);
    let r = contract_call(
        &w.c,
        "alice",
        &token,
        input("transfer", (bob.clone(), 250u128)),
        0,
        &w.miner,
    )
    .await;
    assert_eq!(r["status"], "success");
    let on_node: Value = call(
        &w.c,
        "contract_query",
        rpc_params![token.clone(), input("balance_of", (bob,)), w.alice.clone()],
    )
    .await;
    let url = format!("http://{}", node.rpc_addr());
    let report = bench(&[
        &token,
        "balance_of",
        &w.bob,
        "--caller",
        &w.alice,
        "--rpc-url",
        &url,
    ]);
    assert_eq!(report["returnData"], on_node["returnData"], "{report}");
    assert_eq!(
        report["returnData"],
        hex::encode(250u128.to_le_bytes()),
        "{report}"
    );
    assert_eq!(report["gasUsed"], on_node["gasUsed"]);

    // The storage it copied, a page at a time: one entry per page walks the same entries.
    let all: Value = call(
        &w.c,
        "contract_getStorageRange",
        rpc_params![token.clone(), Value::Null, 1_000],
    )
    .await;
    let all = all["entries"].as_array().unwrap().clone();
    assert!(
        all.len() >= 4,
        "name, symbol, supply, two balances: {all:?}"
    );
    let mut walked = Vec::new();
    let mut from = Value::Null;
    loop {
        let page: Value = call(
            &w.c,
            "contract_getStorageRange",
            rpc_params![token.clone(), from, 1],
        )
        .await;
        walked.extend(page["entries"].as_array().unwrap().iter().cloned());
        match &page["nextKey"] {
            Value::Null => break,
            next => from = next.clone(),
        }
    }
    assert_eq!(walked, all);
    let (code, message) = call_err(
        &w.c,
        "contract_getStorageRange",
        rpc_params![token.clone(), Value::Null, 0],
    )
    .await;
    assert_eq!(code, -32602, "{message}");
    assert!(message.contains("limit"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mined_transaction_is_traced_on_its_blocks_state_with_the_transactions_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, c) = start(dir.path()).await;
    let w = world(c).await;
    let (token, _, _) = deploy(
        &w,
        "alice",
        &example("token"),
        ("Traced".to_owned(), "TRC".to_owned(), 1_000u128),
    )
    .await;
    // Two transfers of alice's in one block: whichever runs second reads the balance the
    // first wrote, so its trace is right only if the first is replayed before it.
    let mut txids = Vec::new();
    for (to, amount) in [(&w.bob, 300u128), (&w.carol, 100u128)] {
        let txid: String = call(
            &w.c,
            "contract_call",
            rpc_params![
                "alice",
                PASSWORD,
                token.clone(),
                input("transfer", (script(to), amount)),
                GAS,
                0
            ],
        )
        .await;
        txids.push((txid, amount));
    }
    mine(&w.c, 1, &w.miner).await;
    let info: Value = call(&w.c, "chain_getInfo", rpc_params![]).await;
    let block: Value = call(&w.c, "chain_getBlock", rpc_params![info["height"].clone()]).await;
    let order: Vec<String> = block["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["txid"].as_str().unwrap().to_owned())
        .collect();
    txids.sort_by_key(|(t, _)| order.iter().position(|o| o == t).expect("in the block"));
    // The traced block is no longer the tip: its state comes back from undo data.
    mine(&w.c, 2, &w.miner).await;

    let alice_key = {
        let mut key = b"b".to_vec();
        key.extend(script(&w.alice).encode());
        key
    };
    let mut alice_before = 1_000u128;
    for (txid, amount) in &txids {
        let traced: Value = call(&w.c, "tx_traceContract", rpc_params![txid.clone()]).await;
        let stored: Value = call(&w.c, "tx_getReceipt", rpc_params![txid.clone()]).await;
        assert_eq!(traced["receipt"], stored, "the receipt comes out the same");
        assert_eq!(traced["blockHash"], block["hash"]);
        let frames = traced["frames"].as_array().unwrap();
        assert_eq!(frames.len(), 1, "{traced}");
        assert_eq!(frames[0]["gasUsed"], stored["gasUsed"]);
        assert_eq!(frames[0]["outcome"]["status"], "success");
        let write = frames[0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["detail"].as_object())
            .find(|d| d["kind"] == "storageWrite" && d["key"] == hex::encode(&alice_key))
            .unwrap_or_else(|| panic!("alice's balance written: {traced}"));
        assert_eq!(write["old"], hex::encode(alice_before.encode()), "{traced}");
        alice_before -= amount;
        assert_eq!(write["new"], hex::encode(alice_before.encode()), "{traced}");
    }

    let coinbase = order[0].clone();
    let (code, message) = call_err(&w.c, "tx_traceContract", rpc_params![coinbase]).await;
    assert_eq!(
        (code, message.contains("no contract payload")),
        (-32602, true),
        "{message}"
    );
    let (code, _) = call_err(&w.c, "tx_traceContract", rpc_params!["ab".repeat(32)]).await;
    assert_eq!(code, -32001);
}
