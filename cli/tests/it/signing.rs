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

/// Runs the CLI's `tx sign` with the wallet file at `keystore`, offline.
fn cli_sign_file(dir: &Path, keystore: &Path, request: &str) -> (String, String) {
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

/// Creates wallet `name` on the node, then moves its file out of the node's reach into
/// `dir/cold`, as a signer that keeps its keys to itself would hold it. Returns the file.
async fn cold_wallet(c: &RpcClient, dir: &Path, name: &str) -> std::path::PathBuf {
    let _: Value = call(c, "wallet_create", rpc_params![name, PASSWORD]).await;
    let cold = dir.join("cold");
    std::fs::create_dir_all(&cold).unwrap();
    let file = cold.join(format!("{name}.json"));
    std::fs::rename(dir.join("wallets").join(format!("{name}.json")), &file).unwrap();
    file
}

/// The account xpub of the wallet file at `keystore`, from the CLI with no node.
fn offline_xpub(dir: &Path, keystore: &Path) -> String {
    let (out, _) = cli(
        dir,
        &[
            "wallet",
            "xpub",
            "--keystore",
            keystore.to_str().unwrap(),
            "--password-file",
            "password.txt",
        ],
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["path"], "m/44'/8088'/0'");
    json["xpub"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_only_wallet_tracks_a_balance_it_cannot_spend_and_its_key_holder_signs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password.txt"), PASSWORD).unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    let keystore = cold_wallet(&c, dir.path(), "alice").await;
    let cold = i8o8i_wallet::WalletStore::new(dir.path().join("cold"));
    let p2pkh = |key: i8o8i_wallet::AddressKey| Address::p2pkh(network, key.pubkey_hash());
    let first = p2pkh(cold.info("alice").unwrap().keys()[0]);
    // Alice hands out receive addresses 1 to 3 offline; only 0 and 3 get paid.
    for _ in 1..3 {
        cold.next_receive_address("alice").unwrap();
    }
    let third = p2pkh(cold.next_receive_address("alice").unwrap());
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![101, first.to_string()]).await;
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![1, third.to_string()]).await;

    let xpub = offline_xpub(dir.path(), &keystore);
    let watch: Value = call(&c, "wallet_importXpub", rpc_params!["watch", xpub.clone()]).await;
    assert_eq!(
        watch,
        json!({
            "name": "watch", "kind": "watchOnly", "threshold": 1,
            "cosigners": [{ "xpub": xpub, "path": "m/44'/8088'/0'" }],
            // The scan found index 3 paid, past the unused 1 and 2.
            "nextReceiveIndex": 4, "nextChangeIndex": 0,
            "createdAt": watch["createdAt"],
        })
    );
    // Tip 102: blocks 1 to 3 (index 0) are mature; 98 of index 0 and 1 of index 3 are not.
    let balance: Value = call(&c, "wallet_getBalance", rpc_params!["watch"]).await;
    assert_eq!(units(&balance["confirmed"]), 150 * COIN);
    assert_eq!(units(&balance["immature"]), 99 * 50 * COIN);
    assert_eq!(balance["watchOnly"], true);
    assert_eq!(balance["addresses"][0], json!(first.to_string()));
    assert_eq!(balance["addresses"][3], json!(third.to_string()));
    // The next address is the one alice's wallet hands out next.
    let next: String = call(&c, "wallet_newAddress", rpc_params!["watch"]).await;
    assert_eq!(
        next,
        p2pkh(cold.next_receive_address("alice").unwrap()).to_string()
    );

    // It cannot spend, sign or export keys: each refusal says it is watch-only.
    let bob = Address::p2pkh(network, [2; 20]).to_string();
    for (method, params) in [
        (
            "wallet_send",
            rpc_params!["watch", PASSWORD, bob.clone(), COIN],
        ),
        ("wallet_getXpub", rpc_params!["watch", PASSWORD]),
    ] {
        let (code, message) = call_err(&c, method, params).await;
        assert_eq!(code, -32026, "{method}: {message}");
    }
    let (code, message) = call_err(
        &c,
        "wallet_send",
        rpc_params!["watch", PASSWORD, bob.clone(), COIN],
    )
    .await;
    assert_eq!(
        (code, message.as_str()),
        (
            -32026,
            "wallet \"watch\" is watch-only: it holds extended public keys and cannot sign; \
             fund a signing request (`tx_fund`) and have its signers sign it"
        )
    );

    // It funds a request; the key holder signs it offline; it confirms.
    let funded: Value = call(
        &c,
        "tx_fund",
        rpc_params![
            json!([{ "address": bob, "amount": 60 * COIN }]),
            json!({ "wallet": "watch" }),
            json!({ "feeRate": 2 })
        ],
    )
    .await;
    let request = funded["request"].as_str().unwrap().to_owned();
    let fee = units(&funded["fee"]);
    let decoded: Value = call(&c, "tx_decodeRequest", rpc_params![request.clone()]).await;
    assert_eq!(
        decoded["inputs"][0]["keys"][0]["path"],
        "m/44'/8088'/0'/0/0"
    );
    // Change goes to the watched wallet's first change address: alice's change key 0.
    let change = Address::p2pkh(
        network,
        i8o8i_script_vm::templates::hash160(&cold_change_key(&cold)),
    );
    assert_eq!(decoded["outputs"][1]["address"], json!(change.to_string()));
    assert_eq!(decoded["outputs"][1]["change"], true);
    let (code, _) = call_err(
        &c,
        "wallet_signRequest",
        rpc_params!["watch", PASSWORD, request.clone()],
    )
    .await;
    assert_eq!(code, -32026);
    let (signed, report) = cli_sign_file(dir.path(), &keystore, &request);
    assert_eq!(report.trim(), "signed 2 input(s); the request is complete");
    let finalized: Value = call(&c, "tx_finalize", rpc_params![signed]).await;
    let txid: Txid = call(&c, "tx_submit", rpc_params![finalized["hex"].clone()]).await;
    mine_elsewhere(&c, network).await;
    let confirmed: Value = call(&c, "tx_get", rpc_params![txid]).await;
    assert_eq!(confirmed["status"]["state"], "confirmed");
    // Tip 103: blocks 1 to 4 mature (200 coins), 60 paid and the fee; 98 blocks immature.
    let balance: Value = call(&c, "wallet_getBalance", rpc_params!["watch"]).await;
    assert_eq!(units(&balance["confirmed"]), 200 * COIN - 60 * COIN - fee);
    assert_eq!(units(&balance["immature"]), 98 * 50 * COIN);
    assert_eq!(balance["unconfirmed"], 0);

    // Bad imports, each refused with its reason.
    let (code, message) =
        call_err(&c, "wallet_importXpub", rpc_params!["watch", xpub.clone()]).await;
    assert_eq!(
        (code, message.as_str()),
        (-32021, "wallet \"watch\" already exists")
    );
    let (code, message) = call_err(&c, "wallet_importXpub", rpc_params!["w2", "xpub123"]).await;
    assert_eq!(code, -32602);
    assert!(
        message.starts_with("invalid xpub: not Base58Check"),
        "{message}"
    );
    let (code, message) = call_err(
        &c,
        "wallet_importXpub",
        rpc_params!["w2", xpub.clone(), "m/44'/8088'"],
    )
    .await;
    assert_eq!(
        (code, message.as_str()),
        (
            -32602,
            "invalid xpub: the xpub is at depth 3 but its path m/44'/8088' has 2 levels"
        )
    );
    node.stop().await;
}

/// The public key of the first change address of the cold wallet `alice` (recorded by the
/// node's funding through its watch-only copy, so derived here from the account xpub).
fn cold_change_key(cold: &i8o8i_wallet::WalletStore) -> [u8; 33] {
    cold.next_change_address("alice").unwrap().public_key()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_hosted_multisig_wallet_collects_its_cosigners_signatures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password.txt"), PASSWORD).unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    let url = format!("http://{}", node.rpc_addr());
    // Cosigner 1's keys stay on the node, 2's in a file the CLI holds, 3's on the node too.
    let _: Value = call(&c, "wallet_create", rpc_params!["k1", PASSWORD]).await;
    let k2 = cold_wallet(&c, dir.path(), "k2").await;
    let _: Value = call(&c, "wallet_create", rpc_params!["k3", PASSWORD]).await;
    let x1: Value = call(&c, "wallet_getXpub", rpc_params!["k1", PASSWORD]).await;
    let x1 = x1["xpub"].as_str().unwrap().to_owned();
    let x2 = offline_xpub(dir.path(), &k2);
    let (x3, _) = cli_at(
        dir.path(),
        &url,
        &["wallet", "xpub", "k3", "--password-file", "password.txt"],
    );
    let x3: Value = serde_json::from_str(&x3).unwrap();
    let x3 = x3["xpub"].as_str().unwrap().to_owned();

    let (created, _) = cli_at(
        dir.path(),
        &url,
        &[
            "wallet",
            "create-multisig",
            "vault",
            "--threshold",
            "2",
            &x1,
            &x2,
            &x3,
        ],
    );
    let created: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(
        (
            &created["kind"],
            &created["threshold"],
            &created["nextReceiveIndex"]
        ),
        (&json!("watchOnly"), &json!(2), &json!(0))
    );
    assert_eq!(created["cosigners"][1]["xpub"], json!(x2));
    let info: Value = call(&c, "wallet_getInfo", rpc_params!["vault"]).await;
    assert_eq!(info, created);
    // Its address is the sorted 2-of-3 P2SH every cosigner derives.
    let cosigners = [&x1, &x2, &x3]
        .map(|x| i8o8i_wallet::Cosigner::parse(x, None).unwrap())
        .to_vec();
    let policy = i8o8i_wallet::Policy::multisig(2, cosigners).unwrap();
    let at = |chain, index| {
        let address = policy.address(chain, index).unwrap();
        Address::from_script(network, address.script_pubkey())
            .unwrap()
            .to_string()
    };
    let vault: String = call(&c, "wallet_newAddress", rpc_params!["vault"]).await;
    assert_eq!(vault, at(i8o8i_wallet::Chain::Receive, 0));
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![101, vault.clone()]).await;
    let balance: Value = call(&c, "wallet_getBalance", rpc_params!["vault"]).await;
    assert_eq!(units(&balance["confirmed"]), 100 * COIN);

    let carol = Address::p2pkh(network, [3; 20]).to_string();
    let funded: Value = call(
        &c,
        "tx_fund",
        rpc_params![
            json!([{ "address": carol, "amount": 30 * COIN }]),
            json!({ "wallet": "vault" })
        ],
    )
    .await;
    let request = funded["request"].as_str().unwrap().to_owned();
    let fee = units(&funded["fee"]);
    let decoded: Value = call(&c, "tx_decodeRequest", rpc_params![request.clone()]).await;
    let input = &decoded["inputs"][0];
    assert_eq!(input["needed"], 2);
    let keys = input["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k["path"] == "m/44'/8088'/0'/0/0"));
    assert_eq!(
        decoded["outputs"][1]["address"],
        json!(at(i8o8i_wallet::Chain::Change, 0)),
        "change to the vault's first change address"
    );

    // Cosigner 1 signs on the node, cosigner 2 with the CLI, offline; either order works.
    let first: Value = call(
        &c,
        "wallet_signRequest",
        rpc_params!["k1", PASSWORD, request.clone()],
    )
    .await;
    assert_eq!(
        (&first["signed"], &first["complete"]),
        (&json!(1), &json!(false))
    );
    let first = first["request"].as_str().unwrap().to_owned();
    let (code, message) = call_err(&c, "tx_finalize", rpc_params![first.clone()]).await;
    assert_eq!(
        (code, message.as_str()),
        (-32025, "input 0 has 1 of the 2 signatures it needs")
    );
    let (both, report) = cli_sign_file(dir.path(), &k2, &first);
    assert_eq!(report.trim(), "signed 1 input(s); the request is complete");
    let finalized: Value = call(&c, "tx_finalize", rpc_params![both]).await;
    let txid: Txid = call(&c, "tx_submit", rpc_params![finalized["hex"].clone()]).await;
    mine_elsewhere(&c, network).await;
    let confirmed: Value = call(&c, "tx_get", rpc_params![txid]).await;
    assert_eq!(confirmed["status"]["state"], "confirmed");
    let paid: Value = call(&c, "address_getBalance", rpc_params![carol]).await;
    assert_eq!(units(&paid["confirmed"]), 30 * COIN);
    // Tip 102: blocks 1 to 3 mature (150 coins) less 30 and the fee, change included.
    let balance: Value = call(&c, "wallet_getBalance", rpc_params!["vault"]).await;
    assert_eq!(units(&balance["confirmed"]), 150 * COIN - 30 * COIN - fee);
    assert_eq!(balance["addresses"].as_array().unwrap().len(), 2);

    // Bad policies and requests, each refused with its reason.
    let cosigner = |x: &str| json!({ "xpub": x });
    for (threshold, list, expected) in [
        (
            4,
            json!([cosigner(&x1), cosigner(&x2), cosigner(&x3)]),
            "invalid signing policy: threshold 4 of 3; it must be 1 to 3",
        ),
        (
            1,
            json!([cosigner(&x1), cosigner(&x1)]),
            "invalid signing policy: cosigners 0 and 1 are the same xpub",
        ),
        (
            1,
            json!([cosigner(&x1), cosigner("xpub0")]),
            "invalid parameter `cosigners[1]`: invalid xpub: not Base58Check: provided string \
             contained invalid character '0' at byte 4",
        ),
    ] {
        let (code, message) = call_err(
            &c,
            "wallet_createMultisig",
            rpc_params!["bad", threshold, list],
        )
        .await;
        assert_eq!((code, message.as_str()), (-32602, expected));
    }
    let (code, message) = call_err(
        &c,
        "wallet_signRequest",
        rpc_params!["k1", PASSWORD, "not base64!"],
    )
    .await;
    assert_eq!(code, -32024, "{message}");
    let (code, _) = call_err(
        &c,
        "wallet_signRequest",
        rpc_params!["k1", "wrong password", request],
    )
    .await;
    assert_eq!(code, -32022);
    node.stop().await;
}
