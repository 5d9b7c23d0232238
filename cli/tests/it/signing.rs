//! Signing requests on a real node: the node funds a payment from coins it cannot spend, the
//! CLI signs it offline from a keystore file (no node reachable), the node combines and
//! finalises, and the transaction confirms with exact balances. A 2-of-3 P2SH multisig coin is
//! spent by two signers that each sign their own copy. Bad requests get their specific errors.
//! A stuck payment is bumped with replace-by-fee.

use std::path::Path;
use std::process::Command;

use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::{BlockHash, Txid};
use i8o8i_rpc::client::RpcClient;
use i8o8i_script_vm::templates::{multisig, p2sh_for};
use jsonrpsee::rpc_params;
use serde_json::{Value, json};

use crate::common::{call, call_err, start};

const COIN: u64 = 100_000_000;
const PASSWORD: &str = "correct horse battery staple";

fn units(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{v} is not a number of units"))
}

/// Runs the CLI with no node reachable (its RPC URL is a closed port); returns stdout, stderr.
fn cli(dir: &Path, args: &[&str]) -> (String, String) {
    cli_at(dir, "http://127.0.0.1:9", args)
}

/// Runs the CLI in `dir` against the node at `rpc_url`, signing private calls with the node's
/// secret in `dir`; returns stdout (trimmed) and stderr.
fn cli_at(dir: &Path, rpc_url: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_i8o8icoin"))
        .args(args)
        .args(["--rpc-url", rpc_url, "--jwt-secret"])
        .arg(dir.join("jwt.hex"))
        .current_dir(dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "{args:?}: {stderr}");
    (stdout.trim().to_owned(), stderr)
}

/// Mines one block paying a third party, so the test's wallets only move by what it sends.
async fn mine_elsewhere(c: &RpcClient, network: Network) {
    let third_party = Address::p2pkh(network, [7; 20]).to_string();
    let _: Vec<BlockHash> = call(c, "mining_generate", rpc_params![1, third_party]).await;
}

/// Signs `request` with the node wallet file `name` through the CLI, offline.
fn cli_sign(dir: &Path, name: &str, request: &str) -> (String, String) {
    let keystore = dir.join("wallets").join(format!("{name}.json"));
    cli(
        dir,
        &[
            "tx",
            "sign",
            request,
            "--keystore",
            keystore.to_str().unwrap(),
            "--password-file",
            "password.txt",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_funded_by_the_node_is_signed_offline_by_the_cli_and_confirms() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password.txt"), PASSWORD).unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    let alice: Value = call(&c, "wallet_create", rpc_params!["alice", PASSWORD]).await;
    let alice_addr = alice["address"].as_str().unwrap().to_owned();
    let bob = Address::p2pkh(network, [2; 20]).to_string();
    // Heights 1 and 2 are mature for block 102: 100 coins spendable.
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![101, alice_addr]).await;

    // An empty pool sets no bar: the estimate is the pool's minimum.
    let estimate: Value = call(&c, "fee_estimate", rpc_params![]).await;
    assert_eq!(
        estimate,
        json!({ "feeRate": 1, "targetBlocks": 6, "basis": "minimum", "mempoolBytes": 0 })
    );
    let (code, message) = call_err(&c, "fee_estimate", rpc_params![0]).await;
    assert_eq!(
        (code, message.as_str()),
        (-32602, "invalid parameter `targetBlocks`: must be 1..=1008")
    );

    let payment = json!([{ "address": bob, "amount": 60 * COIN }]);
    let funded: Value = call(
        &c,
        "tx_fund",
        rpc_params![
            payment.clone(),
            json!({ "wallet": "alice" }),
            json!({ "feeRate": 3 })
        ],
    )
    .await;
    let request = funded["request"].as_str().unwrap().to_owned();
    let fee = units(&funded["fee"]);
    let decoded: Value = call(&c, "tx_decodeRequest", rpc_params![request.clone()]).await;
    assert_eq!(decoded["complete"], false);
    assert_eq!(units(&decoded["fee"]), fee);
    // Two 50-coin coinbases for 60 coins; both locked by alice's first key, path and all.
    let inputs = decoded["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    for input in inputs {
        assert_eq!(units(&input["value"]), 50 * COIN);
        assert_eq!(input["keys"][0]["path"], "m/44'/8088'/0'/0/0");
        assert_eq!(input["keys"][0]["signed"], false);
        assert_eq!(
            (input["signatures"].as_u64(), input["needed"].as_u64()),
            (Some(0), Some(1))
        );
    }
    let outputs = decoded["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    assert_eq!(
        (&outputs[0]["address"], &outputs[0]["change"]),
        (&json!(bob), &json!(false))
    );
    assert_eq!(outputs[1]["change"], true);
    assert_eq!(units(&outputs[1]["amount"]), 40 * COIN - fee);
    // 2 inputs of 150 bytes, 2 outputs of 34, 15 more: 383 bytes at 3 units.
    assert_eq!(fee, 383 * 3);

    // Not signed: refused with what is missing.
    let (code, message) = call_err(&c, "tx_finalize", rpc_params![request.clone()]).await;
    assert_eq!(
        (code, message.as_str()),
        (-32025, "input 0 has 0 of the 1 signatures it needs")
    );

    // The CLI signs with the wallet file alone.
    let (signed, report) = cli_sign(dir.path(), "alice", &request);
    assert_eq!(report.trim(), "signed 2 input(s); the request is complete");
    let decoded: Value = call(&c, "tx_decodeRequest", rpc_params![signed.clone()]).await;
    assert_eq!(decoded["complete"], true);
    assert_eq!(decoded["inputs"][1]["keys"][0]["signed"], true);
    let (code, message) = call_err(
        &c,
        "tx_combine",
        rpc_params![vec![signed.clone(), signed.clone()]],
    )
    .await;
    assert_eq!(
        (code, message.as_str()),
        (
            -32024,
            "nothing to combine: every signature of the other request is in this one already"
        )
    );
    let finalized: Value = call(&c, "tx_finalize", rpc_params![signed.clone()]).await;
    let (offline_hex, _) = cli(dir.path(), &["tx", "finalize", &signed]);
    assert_eq!(finalized["hex"].as_str().unwrap(), offline_hex);
    let txid: Txid = call(&c, "tx_submit", rpc_params![offline_hex]).await;
    assert_eq!(json!(txid), finalized["txid"]);

    mine_elsewhere(&c, network).await;
    let confirmed: Value = call(&c, "tx_get", rpc_params![txid]).await;
    assert_eq!(confirmed["status"]["state"], "confirmed");
    let bob_balance: Value = call(&c, "address_getBalance", rpc_params![bob.clone()]).await;
    assert_eq!(units(&bob_balance["confirmed"]), 60 * COIN);
    // Change went to alice's first change key, which the node recorded as handed out.
    let wallet: Value = call(&c, "wallet_getBalance", rpc_params!["alice"]).await;
    assert_eq!(units(&wallet["confirmed"]), 3 * 50 * COIN - 60 * COIN - fee);

    // The CLI's own `wallet send --keystore`: the node selects coins, the CLI signs.
    let (sent, _) = cli_at(
        dir.path(),
        &format!("http://{}", node.rpc_addr()),
        &[
            "wallet",
            "send",
            "alice",
            &bob,
            "2.5",
            "--fee-rate",
            "2",
            "--keystore",
            "wallets/alice.json",
            "--password-file",
            "password.txt",
        ],
    );
    let sent: Txid = sent.trim_matches('"').parse().unwrap();
    let pooled: Value = call(&c, "tx_get", rpc_params![sent]).await;
    assert_eq!(pooled["status"]["state"], "mempool");
    let outputs = pooled["transaction"]["outputs"].as_array().unwrap();
    assert_eq!(units(&outputs[0]["value"]), 250_000_000);

    // Bad input, each with its own error.
    let (code, message) = call_err(&c, "tx_decodeRequest", rpc_params!["aTh"]).await;
    assert_eq!(code, -32024, "{message}");
    assert!(
        message.starts_with("a signing request is base64 text"),
        "{message}"
    );
    let (code, message) = call_err(
        &c,
        "tx_fund",
        rpc_params![
            payment.clone(),
            json!({ "wallet": "alice", "addresses": [bob] })
        ],
    )
    .await;
    assert_eq!(
        (code, message.as_str()),
        (
            -32602,
            "invalid parameter `from`: name addresses or a wallet, not both"
        )
    );
    let (code, message) = call_err(
        &c,
        "tx_fund",
        rpc_params![
            json!([{ "address": bob, "amount": 10_000 * COIN }]),
            json!({ "wallet": "alice" })
        ],
    )
    .await;
    assert_eq!(code, -32023, "{message}");
    let (code, _) = call_err(
        &c,
        "tx_fund",
        rpc_params![payment.clone(), json!({ "wallet": "nobody" })],
    )
    .await;
    assert_eq!(code, -32020);
    // Without a token: it would reveal a node wallet's keys and hand out its change addresses.
    let anonymous =
        i8o8i_rpc::client::connect(&format!("http://{}", node.rpc_addr()), None, None).unwrap();
    let (code, _) = call_err(
        &anonymous,
        "tx_fund",
        rpc_params![payment, json!({ "wallet": "alice" })],
    )
    .await;
    assert_eq!(code, -32070);
    let many: Vec<String> = (0..1_001u32)
        .map(|i| Address::p2pkh(network, [i as u8; 20]).to_string())
        .collect();
    let (code, message) = call_err(
        &c,
        "tx_fund",
        rpc_params![
            json!([{ "address": bob, "amount": COIN }]),
            json!({ "addresses": many })
        ],
    )
    .await;
    assert_eq!(
        (code, message.as_str()),
        (
            -32602,
            "invalid parameter `from.addresses`: at most 1000 addresses"
        )
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_of_three_multisig_coin_is_spent_by_two_signers_signing_apart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password.txt"), PASSWORD).unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    // Three signers' wallets; each one's first key goes into the 2-of-3 script.
    let mut pubkeys = Vec::new();
    for name in ["k1", "k2", "k3"] {
        let _: Value = call(&c, "wallet_create", rpc_params![name, PASSWORD]).await;
        let info = i8o8i_wallet::WalletStore::new(dir.path().join("wallets"))
            .info(name)
            .unwrap();
        pubkeys.push(info.keys()[0].public_key());
    }
    let refs: Vec<&[u8]> = pubkeys.iter().map(|k| &k[..]).collect();
    let redeem = multisig(2, &refs).unwrap();
    let vault = Address::from_script(network, &p2sh_for(&redeem))
        .unwrap()
        .to_string();
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![101, vault.clone()]).await;

    let carol = Address::p2pkh(network, [3; 20]).to_string();
    let funded: Value = call(
        &c,
        "tx_fund",
        rpc_params![
            json!([{ "address": carol, "amount": 30 * COIN }]),
            json!({ "addresses": [vault], "redeemScripts": [hex::encode(redeem.as_bytes())] })
        ],
    )
    .await;
    let request = funded["request"].as_str().unwrap().to_owned();
    let decoded: Value = call(&c, "tx_decodeRequest", rpc_params![request.clone()]).await;
    assert_eq!(decoded["inputs"].as_array().unwrap().len(), 1);
    assert_eq!(decoded["inputs"][0]["needed"], 2);
    assert_eq!(decoded["inputs"][0]["keys"].as_array().unwrap().len(), 3);
    assert_eq!(
        decoded["outputs"][1]["address"],
        json!(vault),
        "change back to the vault"
    );

    // Signers 3 and 1 each sign their own copy of the request, apart.
    let (third, report) = cli_sign(dir.path(), "k3", &request);
    assert_eq!(
        report.trim(),
        "signed 1 input(s); more signatures are needed"
    );
    let (first, _) = cli_sign(dir.path(), "k1", &request);
    let (code, message) = call_err(&c, "tx_finalize", rpc_params![third.clone()]).await;
    assert_eq!(
        (code, message.as_str()),
        (-32025, "input 0 has 1 of the 2 signatures it needs")
    );
    let combined: String = call(&c, "tx_combine", rpc_params![vec![third, first]]).await;
    let finalized: Value = call(&c, "tx_finalize", rpc_params![combined]).await;
    let txid: Txid = call(&c, "tx_submit", rpc_params![finalized["hex"].clone()]).await;
    assert_eq!(json!(txid), finalized["txid"]);
    mine_elsewhere(&c, network).await;
    let balance: Value = call(&c, "address_getBalance", rpc_params![carol]).await;
    assert_eq!(units(&balance["confirmed"]), 30 * COIN);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_payment_is_bumped_by_replace_by_fee_and_the_replacement_confirms() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    let alice: Value = call(&c, "wallet_create", rpc_params!["alice", PASSWORD]).await;
    let _: Value = call(&c, "wallet_create", rpc_params!["mallory", PASSWORD]).await;
    let alice_addr = alice["address"].as_str().unwrap().to_owned();
    let bob = Address::p2pkh(network, [2; 20]).to_string();
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![101, alice_addr]).await;

    let stuck: Txid = call(
        &c,
        "wallet_send",
        rpc_params!["alice", PASSWORD, bob.clone(), 10 * COIN, 1],
    )
    .await;
    let pooled: Value = call(&c, "tx_get", rpc_params![stuck]).await;
    let old_fee = units(&pooled["status"]["fee"]);

    // Another wallet cannot bump it.
    let (code, message) = call_err(
        &c,
        "wallet_bumpFee",
        rpc_params!["mallory", PASSWORD, stuck],
    )
    .await;
    assert_eq!(
        (code, message.as_str()),
        (
            -32602,
            "invalid parameter `txid`: it spends coins that are not this wallet's"
        )
    );
    let bumped: Value = call(&c, "wallet_bumpFee", rpc_params!["alice", PASSWORD, stuck]).await;
    let txid: Txid = serde_json::from_value(bumped["txid"].clone()).unwrap();
    assert_eq!(bumped["replaced"], json!(stuck));
    assert_eq!(units(&bumped["oldFee"]), old_fee);
    let fee = units(&bumped["fee"]);
    let replacement: Value = call(&c, "tx_get", rpc_params![txid]).await;
    let size = replacement["transaction"]["size"].as_u64().unwrap();
    // BIP125 rule 4: the old fee plus at least the minimum rate for the new bytes.
    assert!(fee >= old_fee + size, "{fee} < {old_fee} + {size}");
    assert_eq!(units(&replacement["status"]["fee"]), fee);
    // The stuck one is gone; bumping it again finds nothing.
    let (code, _) = call_err(&c, "tx_get", rpc_params![stuck]).await;
    assert_eq!(code, -32001);
    let (code, _) = call_err(&c, "wallet_bumpFee", rpc_params!["alice", PASSWORD, stuck]).await;
    assert_eq!(code, -32001);
    let pool: Vec<Txid> = call(&c, "mempool_getTxids", rpc_params![]).await;
    assert_eq!(pool, vec![txid]);

    mine_elsewhere(&c, network).await;
    let bob_balance: Value = call(&c, "address_getBalance", rpc_params![bob]).await;
    assert_eq!(units(&bob_balance["confirmed"]), 10 * COIN);
    let wallet: Value = call(&c, "wallet_getBalance", rpc_params!["alice"]).await;
    assert_eq!(units(&wallet["confirmed"]), 3 * 50 * COIN - 10 * COIN - fee);
    node.stop().await;
}
