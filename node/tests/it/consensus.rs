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

use i8o8i_config::NodeConfig;
use i8o8i_node::chain::ImportError;
use i8o8i_node::client::{RpcClient, connect, secret_in};
use i8o8i_node::launch::{LaunchOptions, ProducerOptions, RunningNode, launch};
use i8o8i_runtime::address::{Address, Network};
use i8o8i_runtime::consensus::{HeaderError, SlotEngine, coinbase_height_prefix};
use i8o8i_runtime::validation::BlockError;
use i8o8i_runtime::{Amount, Block, Hash256, Header, OutPoint, Seal, Transaction, TxIn, TxOut};
use i8o8i_script_vm::templates::hash160;
use i8o8i_script_vm::Builder;
use i8o8i_wallet::{KdfParams, WalletStore};
use jsonrpsee::rpc_params;
use secp256k1::SecretKey;
use serde_json::Value;

use crate::common::{call, call_err};

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
    id: Identity,
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let allocations: String = ids
        .iter()
        .map(|i| format!("\n    - address: {}\n      amount: {}", i.address, 1_000 * COIN))
        .collect();
    let yaml = format!(
        "name: stake-test\nnetwork: dev\ngenesis:\n  time: {}\n  message: \"stake test\"\n  allocations:{allocations}\nblock_reward: 5000000000\nhalving_interval: 100000\ncoinbase_maturity: 1\ntarget_block_time: 1\nmax_block_size: 4000000\nmax_supply: 2100000000000000\nmax_future_block_time: 60\nconsensus:\n{schedule}",
        now - 5
    );
    let path = dir.join("stake-test.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// Starts a producing node for `id` on `spec`, dialling `bootnodes`.
async fn start_producer(id: Identity, spec: &str, bootnodes: Vec<String>) -> Producer {
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
        dev: false,
        producer: Some(ProducerOptions {
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
        id,
    }
}

/// Starts one producer per identity; the first is everyone's bootnode.
async fn start_all(ids: Vec<Identity>, spec: &str) -> Vec<Producer> {
    let mut out: Vec<Producer> = Vec::new();
    for id in ids {
        let boot = match out.first() {
            Some(first) => {
                let info: Value = call(&first.c, "net_getInfo", rpc_params![]).await;
                let addr = info["listenAddresses"][0].as_str().unwrap().to_owned();
                let peer = info["peerId"].as_str().unwrap().to_owned();
                vec![format!("{addr}/p2p/{peer}")]
            }
            None => Vec::new(),
        };
        out.push(start_producer(id, spec, boot).await);
    }
    out
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
    header["seal"]["pubkey"].as_str().unwrap_or("pow").to_owned()
}

/// Waits until every running producer has the same tip at height ≥ `h` and returns it.
async fn converge(ps: &[&Producer], h: u64) -> (u64, String) {
    poll(&format!("one tip at height ≥ {h} on every node"), || async {
        let mut tips = Vec::new();
        for p in ps {
            let info: Value = call(&p.c, "chain_getInfo", rpc_params![]).await;
            tips.push((
                info["height"].as_u64().unwrap(),
                info["bestHash"].as_str().unwrap().to_owned(),
            ));
        }
        (tips.windows(2).all(|w| w[0] == w[1]) && tips[0].0 >= h).then(|| tips[0].clone())
    })
    .await
}

async fn stop_all(ps: Vec<Producer>) {
    for mut p in ps {
        p.stop().await;
    }
}

fn validators(ids: &[&Identity], stake: u64) -> String {
    ids.iter()
        .map(|i| format!("\n        - key: {}\n          stake: {stake}", hex::encode(i.key)))
        .collect()
}

fn delegates(ids: &[&Identity]) -> String {
    ids.iter()
        .enumerate()
        .map(|(n, i)| format!("\n        - name: genesis-{n}\n          key: {}", hex::encode(i.key)))
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

/// Under PoS with bonds of 10, 20 and 30 I8O, every producer makes blocks roughly in
/// proportion; a producer that stops leaves empty slots and the others carry on; an unbond is
/// paid back exactly at its release height.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proof_of_stake_follows_bonded_stake_and_survives_an_offline_producer() {
    let ids = [identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        spec_dir.path(),
        &ids.iter().collect::<Vec<_>>(),
        &pos_entry(0, &ids.iter().collect::<Vec<_>>()),
    );
    let keys: Vec<String> = ids.iter().map(|i| hex::encode(i.key)).collect();
    let addresses: Vec<String> = ids.iter().map(|i| i.address.clone()).collect();
    let mut ps = start_all(ids.into_iter().collect(), &spec).await;

    // Genesis validators (equal weight) produce until the bonds are snapshotted.
    wait_height(&ps[0], 2).await;
    for (i, p) in ps.iter().enumerate() {
        let _: String = call(
            &p.c,
            "staking_bond",
            rpc_params![WALLET, PASSWORD, (i as u64 + 1) * 10 * COIN],
        )
        .await;
    }
    wait_for("the bonds to be confirmed", || async {
        let v: Value = call(&ps[0].c, "staking_getValidators", rpc_params![]).await;
        v["bonded"].as_array().unwrap().len() == 3
    })
    .await;
    for (i, a) in addresses.iter().enumerate() {
        let info = staking_info(&ps[0].c, a).await;
        assert_eq!(info["bonded"], (i as u64 + 1) * 10 * COIN, "{info}");
        assert_eq!(info["stakingKey"], keys[i]);
    }
    // The snapshot of the epoch after next carries them: wait until the active set is the bonds.
    let bonded: BTreeMap<String, u64> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), (i as u64 + 1) * 10 * COIN))
        .collect();
    wait_for("the bonded snapshot to be active", || async {
        let v: Value = call(&ps[0].c, "staking_getValidators", rpc_params![]).await;
        weights(&v["active"]) == bonded
    })
    .await;
    let start = height(&ps[0].c).await + 1;
    wait_height(&ps[0], start + 45).await;
    let end = converge(&[&ps[0], &ps[1], &ps[2]], start + 45).await.0;
    let window = headers(&ps[0].c, start, end).await;
    let mut made: BTreeMap<String, u64> = BTreeMap::new();
    for h in &window {
        *made.entry(producer_of(h)).or_default() += 1;
    }
    let n = window.len() as f64;
    for (i, key) in keys.iter().enumerate() {
        let count = made.get(key).copied().unwrap_or(0);
        let share = count as f64 / n;
        let expected = (i as f64 + 1.0) / 6.0;
        // Four binomial standard deviations: a wrong draw (uniform, or by key order) is far
        // outside it, chance alone almost never is.
        let tolerance = 4.0 * (expected * (1.0 - expected) / n).sqrt();
        assert!(count > 0, "producer {i} made no block in {n} blocks: {made:?}");
        assert!(
            (share - expected).abs() <= tolerance,
            "producer {i}: {count} of {n} blocks, expected share {expected:.3} ± {tolerance:.3}"
        );
    }

    // Unbond 5 I8O of producer 0: paid back at the release height, not before.
    let _: String = call(&ps[0].c, "staking_unbond", rpc_params![WALLET, PASSWORD, 5 * COIN]).await;
    let release = poll("the unbond to be confirmed", || async {
        let info = staking_info(&ps[0].c, &addresses[0]).await;
        let u = info["unbonding"].as_array().unwrap().first()?.clone();
        assert_eq!(u["amount"], 5 * COIN);
        assert_eq!(info["bonded"], 5 * COIN);
        u["releaseHeight"].as_u64()
    })
    .await;
    let paid_back = |utxos: &Vec<Value>| {
        utxos
            .iter()
            .filter(|u| u["value"] == 5 * COIN && u["height"] == release)
            .count()
    };
    let utxos: Vec<Value> = call(&ps[0].c, "address_getUtxos", rpc_params![&addresses[0]]).await;
    assert_eq!(paid_back(&utxos), 0, "nothing is released before height {release}");
    wait_height(&ps[0], release).await;
    let utxos: Vec<Value> = call(&ps[0].c, "address_getUtxos", rpc_params![&addresses[0]]).await;
    assert_eq!(paid_back(&utxos), 1, "{utxos:?}");
    let info = staking_info(&ps[0].c, &addresses[0]).await;
    assert_eq!(info["unbonding"].as_array().unwrap().len(), 0);

    // Producer 2 (half the stake) goes offline: its slots stay empty, the others go on.
    let mut offline = ps.pop().unwrap();
    offline.stop().await;
    let from = height(&ps[0].c).await + 1;
    let (end, _) = converge(&[&ps[0], &ps[1]], from + 10).await;
    let after = headers(&ps[0].c, from + 1, end).await;
    assert!(after.iter().all(|h| producer_of(h) != keys[2]));
    let slots: Vec<u64> = after
        .iter()
        .map(|h| h["seal"]["slot"].as_u64().unwrap())
        .collect();
    let gaps = slots.windows(2).filter(|w| w[1] > w[0] + 1).count();
    assert!(gaps > 0, "an offline producer leaves empty slots: {slots:?}");
    stop_all(ps).await;
}

/// `key → weight` of a `staking_getValidators` list.
fn weights(list: &Value) -> BTreeMap<String, u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_owned(),
                p["weight"].as_u64().unwrap(),
            )
        })
        .collect()
}
