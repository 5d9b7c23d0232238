//! Issue 7's flows with real producers over libp2p: proof of stake with bonded stake and an
//! offline producer, delegated proof of stake with votes, rounds and the last irreversible
//! block, a PoW → PoS → DPoS schedule, and blocks that break slot rules refused with their
//! typed errors.
//!
//! Every chain here is a test spec written to a file: a premine to each producer's wallet
//! (created before the node starts, so its key can be named in the spec), one-second slots
//! and a genesis time just behind the clock.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use i8o8i_chain::chain::ImportError;
use i8o8i_config::NodeConfig;
use i8o8i_node::launch::secret_in;
use i8o8i_node::launch::{
    LaunchOptions, ProducerOptions, RunningNode, SharedClock, SystemClock, launch,
};
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::{Amount, Block, BlockHash, Hash256, Header, Seal, TxOut};
use i8o8i_rpc::client::{RpcClient, connect};
use i8o8i_runtime::consensus::{HeaderError, ScheduledEngine, SlotEngine, coinbase_transaction};
use i8o8i_runtime::error::BlockError;
use i8o8i_script_vm::templates::hash160;
use i8o8i_wallet::{KdfParams, WalletStore};
use jsonrpsee::rpc_params;
use secp256k1::SecretKey;
use serde_json::Value;

use crate::common::{call, call_err, unix_now};
use crate::network::{RawCommand, RawEvent, RawPeer};
use i8o8i_network::topics::TopicKind;
use parity_scale_codec::Encode;

const COIN: u64 = 100_000_000;
const PASSWORD: &str = "producer password";
const WALLET: &str = "producer";
/// Generous: two cores run every test of this binary at once.
const WAIT: Duration = Duration::from_secs(180);

/// A producer's wallet, made before its node starts.
struct Identity {
    dir: tempfile::TempDir,
    key: [u8; 33],
    secret: SecretKey,
    address: String,
}

fn identity() -> Identity {
    let dir = tempfile::tempdir().unwrap();
    let store = WalletStore::new(dir.path().join("wallets"));
    let (mut wallet, _) = store
        .create(WALLET, PASSWORD, KdfParams::insecure_for_tests())
        .unwrap();
    // Hand out the first address: it is the staking key and the premine's recipient.
    let derived = wallet.next_receive().unwrap();
    let key = derived.public_key_bytes();
    Identity {
        dir,
        key,
        secret: *derived.secret_key(),
        address: Address::p2pkh(Network::Dev, hash160(&key)).to_string(),
    }
}

struct Producer {
    node: Option<RunningNode>,
    c: RpcClient,
    /// Keeps the data directory alive.
    _id: Identity,
}

impl Producer {
    fn running(&self) -> &RunningNode {
        self.node.as_ref().expect("running")
    }

    async fn stop(&mut self) {
        if let Some(n) = self.node.take() {
            n.stop().await;
        }
    }
}

/// A chain spec with a premine of 1,000 I8O to each identity, one-second slots, and
/// `schedule` (YAML list items, indented by two spaces) as its consensus schedule.
fn write_spec(dir: &Path, ids: &[&Identity], schedule: &str) -> String {
    write_spec_at(dir, ids, schedule, genesis_time())
}

/// A genesis time just behind the clock.
fn genesis_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5
}

fn write_spec_at(dir: &Path, ids: &[&Identity], schedule: &str, genesis: u64) -> String {
    let allocations: String = ids
        .iter()
        .map(|i| {
            format!(
                "\n    - address: {}\n      amount: {}",
                i.address,
                1_000 * COIN
            )
        })
        .collect();
    let yaml = format!(
        "name: stake-test\nnetwork: dev\ngenesis:\n  time: {}\n  message: \"stake test\"\n  allocations:{allocations}\nblock_reward: 5000000000\nhalving_interval: 100000\ncoinbase_maturity: 1\ntarget_block_time: 1\nmax_block_size: 4000000\nmax_supply: 2100000000000000\nmax_future_block_time: 60\nconsensus:\n{schedule}",
        genesis
    );
    let path = dir.join("stake-test.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// Starts a producing node for `id` on `spec`, dialling `bootnodes`.
async fn start_producer(id: Identity, spec: &str, bootnodes: Vec<String>) -> Producer {
    start_node(id, spec, bootnodes, true, None).await
}

/// Starts a node for `id` on `spec`, dialling `bootnodes`, producing or only following, on
/// `clock` (the machine's if `None`).
async fn start_node(
    id: Identity,
    spec: &str,
    bootnodes: Vec<String>,
    produce: bool,
    clock: Option<SharedClock>,
) -> Producer {
    let mut config = NodeConfig {
        chain: spec.to_owned(),
        data_dir: Some(id.dir.path().to_owned()),
        ..NodeConfig::default()
    };
    config.rpc.addr = "127.0.0.1:0".parse().unwrap();
    config.mining.threads = 1;
    config.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    config.p2p.bootnodes = bootnodes;
    let node = launch(LaunchOptions {
        config,
        clock,
        dev: false,
        producer: produce.then(|| ProducerOptions {
            wallet: WALLET.into(),
            password: PASSWORD.into(),
        }),
    })
    .await
    .expect("node starts");
    let secret = secret_in(id.dir.path()).unwrap();
    let c = connect(&format!("http://{}", node.rpc_addr()), Some(secret), None).unwrap();
    Producer {
        node: Some(node),
        c,
        _id: id,
    }
}

/// Starts one producer per identity; the first is everyone's bootnode.
async fn start_all(ids: Vec<Identity>, spec: &str) -> Vec<Producer> {
    let mut out: Vec<Producer> = Vec::new();
    for id in ids {
        let boot = match out.first() {
            Some(first) => vec![bootnode_of(first).await],
            None => Vec::new(),
        };
        out.push(start_producer(id, spec, boot).await);
    }
    out
}

/// The bootnode address (with peer id) of a running node.
async fn bootnode_of(p: &Producer) -> String {
    let info: Value = call(&p.c, "net_getInfo", rpc_params![]).await;
    let addr = info["listenAddresses"][0].as_str().unwrap().to_owned();
    let peer = info["peerId"].as_str().unwrap().to_owned();
    format!("{addr}/p2p/{peer}")
}

/// Polls `check` until it holds, panicking with `what` after [`WAIT`].
async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    poll(what, || {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await
}

/// Polls `check` until it returns a value, panicking with `what` after [`WAIT`].
async fn poll<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn height(c: &RpcClient) -> u64 {
    let info: Value = call(c, "chain_getInfo", rpc_params![]).await;
    info["height"].as_u64().unwrap()
}

async fn wait_height(p: &Producer, h: u64) {
    wait_for(&format!("height {h}"), || async { height(&p.c).await >= h }).await;
}

/// Best-chain headers `from..=to` of `c`.
async fn headers(c: &RpcClient, from: u64, to: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut h = from;
    while h <= to {
        let count = (to - h + 1).min(100);
        let blocks: Vec<Value> = call(c, "chain_getBlocks", rpc_params![h, count]).await;
        out.extend(blocks.into_iter().map(|b| b["header"].clone()));
        h += count;
    }
    out
}

fn producer_of(header: &Value) -> String {
    header["seal"]["pubkey"]
        .as_str()
        .unwrap_or("pow")
        .to_owned()
}

/// Waits until every running producer has the same tip at height ≥ `h` and returns it.
async fn converge(ps: &[&Producer], h: u64) -> (u64, String) {
    poll(
        &format!("one tip at height ≥ {h} on every node"),
        || async {
            let mut tips = Vec::new();
            for p in ps {
                let info: Value = call(&p.c, "chain_getInfo", rpc_params![]).await;
                tips.push((
                    info["height"].as_u64().unwrap(),
                    info["bestHash"].as_str().unwrap().to_owned(),
                ));
            }
            (tips.windows(2).all(|w| w[0] == w[1]) && tips[0].0 >= h).then(|| tips[0].clone())
        },
    )
    .await
}

async fn stop_all(ps: Vec<Producer>) {
    for mut p in ps {
        p.stop().await;
    }
}

fn validators(ids: &[&Identity], stake: u64) -> String {
    ids.iter()
        .map(|i| {
            format!(
                "\n        - key: {}\n          stake: {stake}",
                hex::encode(i.key)
            )
        })
        .collect()
}

fn delegates(ids: &[&Identity]) -> String {
    ids.iter()
        .enumerate()
        .map(|(n, i)| {
            format!(
                "\n        - name: genesis-{n}\n          key: {}",
                hex::encode(i.key)
            )
        })
        .collect()
}

fn pos_entry(from: u64, ids: &[&Identity]) -> String {
    format!(
        "  - from_height: {from}\n    engine: pos\n    params:\n      slot_secs: 1\n      epoch_slots: 5\n      unbonding_period: 6\n      min_bond: {COIN}\n      genesis_validators:{}\n",
        validators(ids, 1)
    )
}

fn dpos_entry(from: u64, ids: &[&Identity], size: u32) -> String {
    format!(
        "  - from_height: {from}\n    engine: dpos\n    params:\n      slot_secs: 1\n      delegates: {size}\n      unbonding_period: 6\n      registration_fee: {COIN}\n      genesis_delegates:{}\n",
        delegates(ids)
    )
}

async fn staking_info(c: &RpcClient, address: &str) -> Value {
    call(c, "staking_getInfo", rpc_params![address]).await
}

mod attacks;
mod dpos;
mod pos;
mod schedule;

/// The staking key of a `staking_getInfo` answer.
fn id_key(info: &Value) -> Vec<u8> {
    hex::decode(info["stakingKey"].as_str().unwrap()).unwrap()
}
