//! Test harness: start nodes, call them, build blocks by hand.

use std::path::Path;

use i8o8i_config::NodeConfig;
use i8o8i_node::launch::secret_in;
use i8o8i_node::launch::{LaunchOptions, RunningNode, launch};
use i8o8i_primitives::{Block, Hash256, Header, Seal, Transaction, TxOut};
use i8o8i_rpc::client::{RpcClient, connect};
use i8o8i_runtime::consensus::coinbase_transaction;
use i8o8i_script_vm::Script;
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::ArrayParams;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A standalone node (no network) on a dev chain in `dir`, RPC on an ephemeral loopback port,
/// no background mining.
pub(crate) async fn start(dir: &Path) -> (RunningNode, RpcClient) {
    start_with(dir, |c| c.p2p.enabled = false).await
}

/// A dev-chain node in `dir` like [`start`], networked on an ephemeral loopback TCP port unless
/// `adjust` says otherwise.
pub(crate) async fn start_with(
    dir: &Path,
    adjust: impl FnOnce(&mut NodeConfig),
) -> (RunningNode, RpcClient) {
    let mut config = NodeConfig {
        chain: "dev".into(),
        data_dir: Some(dir.to_owned()),
        ..NodeConfig::default()
    };
    config.rpc.addr = "127.0.0.1:0".parse().unwrap();
    config.mining.threads = 1;
    config.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    adjust(&mut config);
    let node = launch(LaunchOptions {
        config,
        clock: None,
        dev: false,
        producer: None,
    })
    .await
    .expect("node starts");
    let secret = secret_in(dir).expect("the node created its JWT secret");
    let client = connect(&format!("http://{}", node.rpc_addr()), Some(secret), None).unwrap();
    (node, client)
}

/// Calls `method`, panicking with the server's message on error.
pub(crate) async fn call<T: DeserializeOwned>(
    c: &RpcClient,
    method: &str,
    params: ArrayParams,
) -> T {
    match c.request::<T, _>(method, params).await {
        Ok(v) => v,
        Err(e) => panic!("{method} failed: {e}"),
    }
}

/// Calls `method` expecting a JSON-RPC error; returns (code, message).
pub(crate) async fn call_err(c: &RpcClient, method: &str, params: ArrayParams) -> (i32, String) {
    match c.request::<Value, _>(method, params).await {
        Ok(v) => panic!("{method} unexpectedly succeeded: {v}"),
        Err(ClientError::Call(obj)) => (obj.code(), obj.message().to_owned()),
        Err(e) => panic!("{method}: transport error {e}"),
    }
}

/// The transaction of a `transactions` entry of an RPC block (the object minus the `txid`
/// and `size` the node adds), checked against the reported txid.
pub(crate) fn tx_from_json(v: &Value) -> Transaction {
    let mut obj = v.as_object().expect("transaction object").clone();
    let txid: i8o8i_primitives::Txid = obj
        .remove("txid")
        .and_then(|t| t.as_str().map(|s| s.parse().expect("txid hex")))
        .expect("txid");
    obj.remove("size").expect("size");
    let tx: Transaction = serde_json::from_value(Value::Object(obj)).expect("transaction JSON");
    assert_eq!(tx.txid(), txid, "txid of the decoded transaction");
    tx
}

/// A block on `parent` with a coinbase paying `reward` to `payout` (plus `tag` for a unique
/// txid) and `txs`, committing to the state it makes (when it connects) and sealed with a real
/// nonce search at the dev chain's difficulty.
pub(crate) fn build_block(
    node: &RunningNode,
    parent: &Header,
    txs: Vec<Transaction>,
    payout: &Script,
    reward: u64,
    tag: u64,
) -> Block {
    let chain = node.node().chain();
    let height = parent.height + 1;
    let engine = chain.pow_engine_at(height).expect("a proof-of-work height");
    let coinbase = coinbase_transaction(
        height,
        &tag.to_le_bytes(),
        vec![TxOut {
            value: i8o8i_primitives::Amount::from_units(reward),
            script_pubkey: payout.to_script_buf(),
        }],
    );
    let mut transactions = vec![coinbase];
    transactions.extend(txs);
    let mut block = Block {
        header: Header {
            version: 1,
            parent: parent.hash(),
            height,
            time: parent.time + 2,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal: Seal::Pow {
                bits: engine.next_bits(parent),
                nonce: 0,
            },
        },
        transactions,
    };
    // The state root the block makes; a block meant to be refused (that does not connect)
    // keeps a zero root and is refused for what it is.
    if chain.commit_to_state(&mut block).is_err() {
        block.header.tx_root = block.compute_tx_root();
    }
    mined(node, block)
}

/// `block` (a dev-chain proof-of-work block) committing to `state_root` instead, mined again.
pub(crate) fn with_state_root(node: &RunningNode, mut block: Block, state_root: Hash256) -> Block {
    block.header.state_root = state_root;
    mined(node, block)
}

/// `block` with a nonce found at the dev chain's difficulty.
fn mined(node: &RunningNode, mut block: Block) -> Block {
    let engine = node
        .node()
        .chain()
        .pow_engine_at(block.header.height)
        .expect("a proof-of-work height");
    block.header = engine
        .mine(block.header, 0, 1, 10_000_000, &|| false)
        .expect("dev difficulty is trivial");
    block
}

/// The wall clock a default node reads.
pub(crate) fn unix_now() -> u64 {
    use i8o8i_chain::clock::Clock;
    i8o8i_chain::clock::SystemClock::new().unix_now()
}

/// Installs the npm packages pinned in `dir`'s `package-lock.json` (`npm ci`), once per test
/// run: `npm ci` starts by deleting `node_modules`, so two tests installing one directory at
/// the same time (the SDK's and the web app's both need `clients/ts`) would break each other.
pub(crate) fn npm_ci(dir: &Path) {
    static INSTALLED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if installed.iter().any(|d| d == dir) {
        return;
    }
    let out = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .expect("npm (Node.js 20) is a prerequisite of the test suite");
    assert!(
        out.status.success(),
        "npm ci in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    installed.push(dir.to_owned());
}
