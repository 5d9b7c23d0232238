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
use i8o8i_node::launch::{LaunchOptions, ProducerOptions, RunningNode, launch};
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::{
    Amount, Block, BlockHash, Hash256, Header, OutPoint, Seal, Transaction, TxIn, TxOut,
};
use i8o8i_rpc::client::{RpcClient, connect};
use i8o8i_runtime::consensus::{HeaderError, ScheduledEngine, SlotEngine, coinbase_height_prefix};
use i8o8i_runtime::error::BlockError;
use i8o8i_script_vm::Builder;
use i8o8i_script_vm::templates::hash160;
use i8o8i_wallet::{KdfParams, WalletStore};
use jsonrpsee::rpc_params;
use secp256k1::SecretKey;
use serde_json::Value;

use crate::common::{call, call_err};
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
        clock: None,
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
        _id: id,
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
    let first_slot = window[0]["seal"]["slot"].as_u64().unwrap();
    let last_slot = window[window.len() - 1]["seal"]["slot"].as_u64().unwrap();
    println!(
        "blocks by stake 1 : 2 : 3 on three nodes: {:?} ({n} blocks in {} slots)",
        keys.iter()
            .map(|k| made.get(k).copied().unwrap_or(0))
            .collect::<Vec<_>>(),
        last_slot - first_slot + 1
    );
    for (i, key) in keys.iter().enumerate() {
        let count = made.get(key).copied().unwrap_or(0);
        let share = count as f64 / n;
        let expected = (i as f64 + 1.0) / 6.0;
        // Four binomial standard deviations: a wrong draw (uniform, or by key order) is far
        // outside it, chance alone almost never is.
        let tolerance = 4.0 * (expected * (1.0 - expected) / n).sqrt();
        assert!(
            count > 0,
            "producer {i} made no block in {n} blocks: {made:?}"
        );
        assert!(
            (share - expected).abs() <= tolerance,
            "producer {i}: {count} of {n} blocks, expected share {expected:.3} ± {tolerance:.3}"
        );
    }

    // Unbond 5 I8O of producer 0: paid back at the release height, not before.
    let _: String = call(
        &ps[0].c,
        "staking_unbond",
        rpc_params![WALLET, PASSWORD, 5 * COIN],
    )
    .await;
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
    assert_eq!(
        paid_back(&utxos),
        0,
        "nothing is released before height {release}"
    );
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
    assert!(
        gaps > 0,
        "an offline producer leaves empty slots: {slots:?}"
    );
    let missed = staking_info(&ps[0].c, &addresses[2]).await["missed"]
        .as_u64()
        .unwrap();
    assert!(missed > 0, "its empty slots are counted as missed");

    // Back online, it catches up (headers first, every seal checked) and produces again.
    let info: Value = call(&ps[0].c, "net_getInfo", rpc_params![]).await;
    let boot = format!(
        "{}/p2p/{}",
        info["listenAddresses"][0].as_str().unwrap(),
        info["peerId"].as_str().unwrap()
    );
    let before = staking_info(&ps[0].c, &addresses[2]).await["produced"]
        .as_u64()
        .unwrap();
    let back = start_producer(offline._id, &spec, vec![boot]).await;
    ps.push(back);
    let h = height(&ps[0].c).await;
    converge(&[&ps[0], &ps[1], &ps[2]], h + 3).await;
    wait_for("the returning producer to make a block", || async {
        staking_info(&ps[0].c, &addresses[2]).await["produced"]
            .as_u64()
            .unwrap()
            > before
    })
    .await;
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

/// A block on `parent` in `slot` sealed by `secret`, its coinbase paying the subsidy to the
/// sealing key's address (what an honest producer would make, whoever may seal the slot).
fn slot_block(parent: &Header, slot: u64, genesis: u64, secret: &SecretKey) -> Block {
    let height = parent.height + 1;
    let key = secp256k1::PublicKey::from_secret_key(secret).serialize();
    let mut script_sig = coinbase_height_prefix(height);
    script_sig.extend_from_slice(Builder::new().push_slice(b"test").as_bytes());
    let coinbase = Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: script_sig.into(),
            sequence: u32::MAX,
        }],
        outputs: vec![TxOut {
            value: Amount::from_units(50 * COIN),
            script_pubkey: i8o8i_runtime::staking::key_script(&key),
        }],
        lock_time: 0,
        payload: None,
    };
    let mut block = Block {
        header: Header {
            version: 1,
            parent: parent.hash(),
            height,
            time: genesis + slot,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal: Seal::Pow { bits: 0, nonce: 0 },
        },
        transactions: vec![coinbase],
    };
    block.header.tx_root = block.compute_tx_root();
    SlotEngine::seal(&mut block.header, slot, secret);
    block
}

/// The header error a block was refused with, whether at import or when it connected.
fn refusal(
    result: Result<i8o8i_chain::chain::ImportOutcome, ImportError>,
    hash: BlockHash,
) -> HeaderError {
    match result {
        Err(ImportError::Invalid { error, .. }) => match *error {
            BlockError::Header(e) => e,
            other => panic!("refused for {other}, not a header rule"),
        },
        Ok(outcome) => match outcome.invalid.into_iter().find(|(h, _)| *h == hash) {
            Some((_, BlockError::Header(e))) => e,
            other => panic!("not refused as expected: {other:?}"),
        },
        Err(e) => panic!("refused for {e}"),
    }
}

fn tip_header(p: &Producer) -> Header {
    p.running().node().chain().tip().header
}

/// Under DPoS a registered delegate voted in by bonded stake replaces a fallback delegate;
/// rounds are produced in shuffled order by distinct delegates; the last irreversible block
/// advances and a branch below it is refused by every node; blocks that break slot rules are
/// refused with their typed errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delegated_proof_of_stake_rounds_votes_and_irreversibility() {
    let ids = [identity(), identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let genesis = genesis_time();
    let all: Vec<&Identity> = ids.iter().collect();
    let spec = write_spec_at(spec_dir.path(), &all, &dpos_entry(0, &all[..3], 3), genesis);
    let keys: Vec<String> = ids.iter().map(|i| hex::encode(i.key)).collect();
    let secrets: Vec<SecretKey> = ids.iter().map(|i| i.secret).collect();
    let addresses: Vec<String> = ids.iter().map(|i| i.address.clone()).collect();
    let mut ps = start_all(ids.into_iter().collect(), &spec).await;

    wait_height(&ps[0], 3).await;
    let ds: Vec<Value> = call(&ps[0].c, "dpos_getDelegates", rpc_params![]).await;
    assert_eq!(ds.len(), 3);
    assert!(
        ds.iter()
            .all(|d| d["active"] == true && d["genesis"] == true),
        "{ds:?}"
    );

    // The fourth node registers "dave", bonds 100 I8O and votes for itself.
    let d = &ps[3];
    let _: String = call(
        &d.c,
        "dpos_registerDelegate",
        rpc_params![WALLET, PASSWORD, "dave"],
    )
    .await;
    wait_for("dave's registration", || async {
        staking_info(&d.c, &addresses[3]).await["delegate"] == "dave"
    })
    .await;
    let (code, message) = call_err(
        &d.c,
        "dpos_registerDelegate",
        rpc_params![WALLET, PASSWORD, "dave"],
    )
    .await;
    assert_eq!(code, -32010, "{message}");
    assert!(message.contains("already a delegate"), "{message}");
    let _: String = call(
        &d.c,
        "staking_bond",
        rpc_params![WALLET, PASSWORD, 100 * COIN],
    )
    .await;
    wait_for("dave's bond", || async {
        staking_info(&d.c, &addresses[3]).await["bonded"] == 100 * COIN
    })
    .await;
    let _: String = call(&d.c, "dpos_vote", rpc_params![WALLET, PASSWORD, ["dave"]]).await;
    wait_for("dave voted into the round", || async {
        let ds: Vec<Value> = call(&ps[0].c, "dpos_getDelegates", rpc_params![]).await;
        let by_key = |k: &str| ds.iter().find(|d| d["key"] == k).cloned().unwrap();
        by_key(&keys[3])["active"] == true && by_key(&keys[2])["active"] == false
    })
    .await;
    let dave = by_name(
        &call::<Vec<Value>>(&ps[0].c, "dpos_getDelegates", rpc_params![]).await,
        "dave",
    );
    assert_eq!(dave["votes"], 100 * COIN);

    // Rounds: each is produced by distinct members of the active set {A, B, dave}.
    let start = height(&ps[0].c).await + 1;
    let end = converge(&[&ps[0], &ps[1], &ps[2], &ps[3]], start + 15)
        .await
        .0;
    let window = headers(&ps[0].c, start, end).await;
    let mut rounds: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for h in &window {
        let slot = h["seal"]["slot"].as_u64().unwrap();
        rounds.entry(slot / 3).or_default().push(producer_of(h));
    }
    let active = [&keys[0], &keys[1], &keys[3]];
    for (round, producers) in &rounds {
        assert!(
            producers.iter().all(|p| active.contains(&p)),
            "round {round}: {producers:?}"
        );
        let mut unique = producers.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            producers.len(),
            "round {round}: {producers:?}"
        );
    }
    assert!(
        window.iter().any(|h| producer_of(h) == keys[3]),
        "dave produced"
    );
    let orders: Vec<&Vec<String>> = rounds.values().filter(|p| p.len() == 3).collect();
    assert!(
        orders.windows(2).any(|w| w[0] != w[1]),
        "the order changes between rounds: {orders:?}"
    );

    // The last irreversible block trails the tip and advances, on every node.
    let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
    assert_eq!(info["engine"], "dpos");
    let now_producer = info["slotProducer"].as_str().unwrap().to_owned();
    assert!(
        active.contains(&&now_producer),
        "the current slot belongs to a delegate of the round: {info}"
    );
    let lib = info["lastIrreversible"]["height"].as_u64().unwrap();
    assert!(
        info["finalityLag"].as_u64().unwrap() <= 9,
        "three rounds at most: {info}"
    );
    wait_for("the irreversible block to advance", || async {
        let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
        info["lastIrreversible"]["height"].as_u64().unwrap() > lib
    })
    .await;

    // Validators watch the same figures in Prometheus.
    let m = crate::rpc_platform::scrape(ps[0].running().rpc_addr()).await;
    let metric = |name| crate::rpc_platform::sample(&m, name);
    assert!(metric("i8o8i_consensus_last_irreversible_height") > lib as f64);
    assert!(metric("i8o8i_consensus_finality_lag_blocks") <= 9.0);
    assert!(metric("i8o8i_consensus_blocks_produced_total") >= 1.0);

    // A branch that replaces an irreversible block is refused by every node.
    let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
    let lib_height = info["lastIrreversible"]["height"].as_u64().unwrap();
    let lib_block: Value = call(&ps[0].c, "chain_getBlock", rpc_params![lib_height]).await;
    let lib_parent: Value = call(&ps[0].c, "chain_getBlock", rpc_params![lib_height - 1]).await;
    let parent: Header = serde_json::from_value(lib_parent["header"].clone()).unwrap();
    let slot = lib_block["header"]["seal"]["slot"].as_u64().unwrap();
    let producer = keys
        .iter()
        .position(|k| *k == producer_of(&lib_block["header"]))
        .unwrap();
    let rival = slot_block(&parent, slot, genesis, &secrets[producer]);
    let hash = rival.header.hash();
    for p in &ps {
        let e = refusal(p.running().node().submit_block(rival.clone()), hash);
        assert!(matches!(e, HeaderError::BelowIrreversible { .. }), "{e}");
    }

    // Slot rules, each with its typed error (checked on node 0 against its tip).
    let node = ps[0].running().node().clone();
    let tip = tip_header(&ps[0]);
    let Seal::Producer { slot: tip_slot, .. } = tip.seal else {
        panic!("slot seal")
    };
    let current = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - genesis)
        .max(tip_slot + 1);
    // Past slot: the tip's own slot again.
    let b = slot_block(&tip, tip_slot, genesis, &secrets[0]);
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert!(matches!(e, HeaderError::PastSlot { .. }), "{e}");
    // Double signing: the tip's producer signs a second block for the tip's slot.
    let tip_parent = node.chain().entry(&tip.parent).unwrap().header;
    let signer = keys
        .iter()
        .position(|k| match &tip.seal {
            Seal::Producer { pubkey, .. } => *k == hex::encode(pubkey),
            Seal::Pow { .. } => false,
        })
        .unwrap();
    let b = slot_block(&tip_parent, tip_slot, genesis, &secrets[signer]);
    assert_ne!(b.header.hash(), tip.hash());
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert!(
        matches!(&e, HeaderError::Equivocation { first, .. } if *first == tip.hash()),
        "{e}"
    );
    // Future slot: ten slots ahead of the clock.
    let b = slot_block(&tip, current + 10, genesis, &secrets[0]);
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert!(matches!(e, HeaderError::FutureSlot { .. }), "{e}");
    // Bad signature: one bit of the signature flipped.
    let mut b = slot_block(&tip, current, genesis, &secrets[0]);
    if let Seal::Producer { signature, .. } = &mut b.header.seal {
        signature[10] ^= 1;
    }
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert_eq!(e, HeaderError::BadSignature);
    // A delegate voted out of the round (C), and one in the round but not in its slot: both
    // are found when the block connects, so it must extend the tip, which the producers keep
    // moving; retry until a block lands on the tip of the moment.
    let on_tip = |signer: &dyn Fn(&Header, u64) -> usize| {
        for _ in 0..20 {
            let tip = tip_header(&ps[0]);
            let Seal::Producer { slot: tip_slot, .. } = tip.seal else {
                panic!("slot seal")
            };
            let slot = (unix_now() - genesis).max(tip_slot + 1);
            let b = slot_block(&tip, slot, genesis, &secrets[signer(&tip, slot)]);
            let hash = b.header.hash();
            match node.submit_block(b) {
                Err(ImportError::Invalid { error, .. }) => match *error {
                    // Our own earlier attempt for this slot was stored beside a moved tip.
                    BlockError::Header(HeaderError::Equivocation { .. }) => {}
                    BlockError::Header(e) => return e,
                    other => panic!("refused for {other}"),
                },
                Ok(outcome) => {
                    if let Some((_, error)) = outcome.invalid.into_iter().find(|(h, _)| *h == hash)
                    {
                        match error {
                            BlockError::Header(e) => return e,
                            other => panic!("refused for {other}"),
                        }
                    }
                    // Stored beside a tip that moved meanwhile: try again on the new tip.
                }
                Err(e) => panic!("{e}"),
            }
        }
        panic!("no block landed on the tip in 20 tries");
    };
    let e = on_tip(&|_, _| 2);
    assert!(matches!(e, HeaderError::NotActiveProducer { .. }), "{e}");
    let engine = match node.chain().schedule().at(tip.height + 1) {
        ScheduledEngine::Slot(e) => e.clone(),
        ScheduledEngine::Pow(_) => panic!("DPoS runs here"),
    };
    let e = on_tip(&|_, slot| {
        // Any active delegate but the slot's producer.
        [0, 1, 3]
            .into_iter()
            .find(|&i| matches!(node.produce_in_slot(&engine, slot, &secrets[i]), Ok(None)))
            .unwrap()
    });
    assert!(matches!(e, HeaderError::NotLeader { .. }), "{e}");
    drop(node);

    // From a peer over gossip (a forged signature, refused whatever the tip is by then): the
    // peer is banned for it. Blocks that fail when they connect take the same path
    // (network::a_peer_sending_an_invalid_block_is_banned…).
    let info: Value = call(&ps[0].c, "net_getInfo", rpc_params![]).await;
    let node_id: libp2p::PeerId = info["peerId"].as_str().unwrap().parse().unwrap();
    let addr: libp2p::Multiaddr = info["listenAddresses"][0]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let genesis_hash = ps[0].running().node().chain().genesis();
    let mut raw = RawPeer::start(genesis_hash, node_id);
    raw.send(RawCommand::Dial(addr));
    raw.expect(
        "connection",
        |e| matches!(e, RawEvent::Connected(p) if *p == node_id),
    )
    .await;
    raw.expect("the node's subscriptions", |e| {
        matches!(e, RawEvent::Subscribed)
    })
    .await;
    let tip = tip_header(&ps[0]);
    let Seal::Producer { slot: tip_slot, .. } = tip.seal else {
        panic!("slot seal")
    };
    let mut forged = slot_block(&tip, tip_slot + 1, genesis, &secrets[0]);
    if let Seal::Producer { signature, .. } = &mut forged.header.seal {
        signature[20] ^= 1;
    }
    raw.send(RawCommand::Publish(TopicKind::Blocks, forged.encode()));
    raw.expect(
        "the ban to disconnect us",
        |e| matches!(e, RawEvent::Closed(p) if *p == node_id),
    )
    .await;

    // A producer that stops misses its slots; the chain goes on without it.
    let missed_before = by_name(
        &call::<Vec<Value>>(&ps[0].c, "dpos_getDelegates", rpc_params![]).await,
        "genesis-1",
    )["missed"]
        .as_u64()
        .unwrap();
    let mut b = ps.remove(1);
    b.stop().await;
    let h = height(&ps[0].c).await;
    converge(&[&ps[0], &ps[2]], h + 6).await;
    let b_info = by_name(
        &call::<Vec<Value>>(&ps[0].c, "dpos_getDelegates", rpc_params![]).await,
        "genesis-1",
    );
    assert!(
        b_info["missed"].as_u64().unwrap() > missed_before,
        "{b_info}"
    );

    // Its store recorded the irreversible block, for the next start to keep refusing
    // reorganisations below it.
    let store = i8o8i_chain::store::Store::open(&b._id.dir.path().join("chaindata")).unwrap();
    let (lib_height, lib_hash) = store.irreversible().unwrap().expect("recorded");
    assert!(lib_height > 0);
    assert_eq!(store.hash_at(lib_height).unwrap(), Some(lib_hash));
    drop(store);
    ps.push(b);
    stop_all(ps).await;
}

fn by_name(delegates: &[Value], name: &str) -> Value {
    delegates
        .iter()
        .find(|d| d["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no delegate {name} in {delegates:?}"))
}

/// PoW for four blocks, PoS from height 5, DPoS from height 15: every node ends on one chain
/// with the same UTXO set, a payment made under PoW arrives exactly, and the supply is the
/// premine plus every block's subsidy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pow_pos_dpos_schedule_switches_on_every_node_at_the_same_heights() {
    let ids = [identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let all: Vec<&Identity> = ids.iter().collect();
    let schedule = format!(
        "  - from_height: 0\n    engine: pow\n    params:\n      initial_bits: 0x207fffff\n      retarget: none\n{}{}",
        pos_entry(5, &all),
        dpos_entry(15, &all, 3)
    );
    let spec = write_spec(spec_dir.path(), &all, &schedule);
    let addresses: Vec<String> = ids.iter().map(|i| i.address.clone()).collect();
    let ps = start_all(ids.into_iter().collect(), &spec).await;
    let schedule: Vec<Value> = call(&ps[0].c, "consensus_getSchedule", rpc_params![]).await;
    assert_eq!(
        schedule
            .iter()
            .map(|e| (
                e["fromHeight"].as_u64().unwrap(),
                e["engine"].as_str().unwrap().to_owned()
            ))
            .collect::<Vec<_>>(),
        [
            (0, "pow".to_owned()),
            (5, "pos".to_owned()),
            (15, "dpos".to_owned())
        ]
    );

    let recipient = "recipient";
    let w: Value = call(&ps[0].c, "wallet_create", rpc_params![recipient, PASSWORD]).await;
    let to = w["address"].as_str().unwrap().to_owned();
    let _: String = call(
        &ps[0].c,
        "wallet_send",
        rpc_params![WALLET, PASSWORD, &to, 7 * COIN],
    )
    .await;

    let (end, _) = converge(&[&ps[0], &ps[1], &ps[2]], 25).await;
    let chain = headers(&ps[0].c, 1, end).await;
    for h in &chain {
        let height = h["height"].as_u64().unwrap();
        let kind = h["seal"]["type"].as_str().unwrap();
        assert_eq!(
            kind,
            if height < 5 { "pow" } else { "producer" },
            "height {height}"
        );
    }
    let info: Value = call(&ps[1].c, "consensus_getInfo", rpc_params![]).await;
    assert_eq!(info["engine"], "dpos");

    // Blocks keep coming: read each node's UTXO set between two reads of the same tip, and
    // compare nodes that stand on the same tip.
    let sets = poll("the same tip and UTXO set on every node", || async {
        let mut sets = Vec::new();
        for p in &ps {
            let before: Value = call(&p.c, "chain_getInfo", rpc_params![]).await;
            let set: Value = call(&p.c, "chain_getUtxoSetInfo", rpc_params![]).await;
            let after: Value = call(&p.c, "chain_getInfo", rpc_params![]).await;
            if before["bestHash"] != after["bestHash"] {
                return None;
            }
            sets.push((
                after["height"].as_u64().unwrap(),
                after["bestHash"].clone(),
                set,
            ));
        }
        sets.windows(2).all(|w| w[0].1 == w[1].1).then_some(sets)
    })
    .await;
    let tip = sets[0].0;
    assert!(
        sets.windows(2).all(|w| w[0].2["hash"] == w[1].2["hash"]),
        "{sets:?}"
    );
    assert_eq!(
        sets[0].2["totalAmount"].as_u64().unwrap(),
        3 * 1_000 * COIN + tip * 50 * COIN,
        "premine plus every block's subsidy (fees move, nothing burns)"
    );
    // Every slot-engine block paid its producer: the rewards the ledger counts are the
    // subsidies of those blocks plus the fees they collected (at most the one payment's).
    let (slot_blocks, rewards, produced) = poll("a steady tip to read rewards at", || async {
        let before = height(&ps[0].c).await;
        let (mut rewards, mut produced) = (0, 0);
        for a in &addresses {
            let info = staking_info(&ps[0].c, a).await;
            rewards += info["rewards"].as_u64().unwrap();
            produced += info["produced"].as_u64().unwrap();
        }
        (height(&ps[0].c).await == before).then_some((before - 4, rewards, produced))
    })
    .await;
    assert_eq!(produced, slot_blocks);
    assert!(
        (slot_blocks * 50 * COIN..=slot_blocks * 50 * COIN + COIN).contains(&rewards),
        "rewards {rewards} for {slot_blocks} blocks"
    );
    let balance: Value = call(&ps[2].c, "address_getBalance", rpc_params![&to]).await;
    assert_eq!(balance["confirmed"], 7 * COIN, "{balance}");
    stop_all(ps).await;
}

/// Bonds, a registration, a vote and an unbond, then a heavier branch without them: the
/// reorganisation restores the staking ledger and producer state byte for byte, and the
/// transactions return to the pool and apply again on the new branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorganisation_undoes_bonds_votes_and_unbonds_exactly() {
    let id = identity();
    let spec_dir = tempfile::tempdir().unwrap();
    // Proof of work now, a DPoS era far ahead: staking is open, blocks are mined on demand.
    let schedule = format!(
        "  - from_height: 0\n    engine: pow\n    params:\n      initial_bits: 0x207fffff\n      retarget: none\n{}",
        dpos_entry(10_000, &[&id], 3)
    );
    let spec = write_spec(spec_dir.path(), &[&id], &schedule);
    let address = id.address.clone();
    let (running, c) = crate::common::start_with(id.dir.path(), |cfg| {
        cfg.chain = spec.clone();
        cfg.p2p.enabled = false;
    })
    .await;
    let node = running.node().clone();
    // Mined coins go elsewhere: the staking transactions chain on the premine and their own
    // change only, so all of them can return to the pool when their blocks are disconnected.
    let miner = Address::p2pkh(Network::Dev, [0x11; 20]).to_string();
    let mine = |n: u32| {
        let c = &c;
        let miner = miner.clone();
        async move {
            let _: Vec<Value> = call(c, "mining_generate", rpc_params![n, miner]).await;
        }
    };
    mine(2).await;
    let fork = node.chain().tip().header;
    let ledger_before = node.chain().staking_ledger().unwrap();
    let producers_before = node.chain().producer_state().unwrap();

    let _: String = call(&c, "staking_bond", rpc_params![WALLET, PASSWORD, 10 * COIN]).await;
    mine(1).await;
    let _: String = call(
        &c,
        "dpos_registerDelegate",
        rpc_params![WALLET, PASSWORD, "alice"],
    )
    .await;
    mine(1).await;
    let _: String = call(&c, "dpos_vote", rpc_params![WALLET, PASSWORD, ["alice"]]).await;
    mine(1).await;
    let _: String = call(
        &c,
        "staking_unbond",
        rpc_params![WALLET, PASSWORD, 3 * COIN],
    )
    .await;
    mine(1).await;
    let staked = staking_info(&c, &address).await;
    assert_eq!(staked["bonded"], 7 * COIN, "{staked}");
    assert_eq!(staked["delegate"], "alice");
    assert_eq!(
        staked["votes"],
        serde_json::json!([hex::encode(id_key(&staked))])
    );
    assert_eq!(staked["unbonding"][0]["releaseHeight"], 6 + 6);
    let ledger_after = node.chain().staking_ledger().unwrap();
    assert_ne!(ledger_after, ledger_before);

    // Five empty blocks on the fork point outweigh the four that staked.
    let payout = i8o8i_script_vm::templates::p2pkh(&[0x22; 20]);
    let mut parent = fork.clone();
    for tag in 0..5 {
        let block =
            crate::common::build_block(&running, &parent, vec![], &payout, 50 * COIN, 900 + tag);
        parent = block.header.clone();
        node.submit_block(block).unwrap();
    }
    assert_eq!(
        node.chain().tip().hash,
        parent.hash(),
        "the empty branch won"
    );
    assert_eq!(node.chain().staking_ledger().unwrap(), ledger_before);
    assert_eq!(node.chain().producer_state().unwrap(), producers_before);
    let release = node
        .chain()
        .tip_state()
        .get(&i8o8i_runtime::staking::release_key(12))
        .unwrap();
    assert_eq!(release, None, "the queued release went with the unbond");
    let info = staking_info(&c, &address).await;
    assert_eq!(info["bonded"], 0);
    assert_eq!(info["delegate"], Value::Null);

    // The four transactions went back to the pool and apply again, in order.
    let pooled: Vec<Value> = call(&c, "mempool_getTxids", rpc_params![]).await;
    assert_eq!(pooled.len(), 4, "{pooled:?}");
    mine(1).await;
    let again = staking_info(&c, &address).await;
    assert_eq!(again["bonded"], 7 * COIN, "{again}");
    assert_eq!(again["delegate"], "alice");
    assert_eq!(again["unbonding"][0]["releaseHeight"], 8 + 6);
    drop(node);
    running.stop().await;
}

fn id_key(info: &Value) -> Vec<u8> {
    hex::decode(info["stakingKey"].as_str().unwrap()).unwrap()
}

/// Over thousands of real blocks (made back to back in past slots, one node, no network),
/// each validator's share of the chain is its share of the stake: 1 : 2 : 3 within four
/// binomial standard deviations (under 3.7 percentage points), with the seed changing every
/// ten slots from the blocks themselves.
#[test]
fn over_thousands_of_slots_production_follows_stake() {
    const BLOCKS: usize = 3_000;
    let secrets: Vec<SecretKey> = (1..=3u8)
        .map(|i| SecretKey::from_secret_bytes([i; 32]).unwrap())
        .collect();
    let validators: String = secrets
        .iter()
        .zip([1, 2, 3])
        .map(|(s, stake)| {
            let key = secp256k1::PublicKey::from_secret_key(s).serialize();
            format!(
                "\n        - key: {}\n          stake: {stake}",
                hex::encode(key)
            )
        })
        .collect();
    let schedule = format!(
        "  - from_height: 0\n    engine: pos\n    params:\n      slot_secs: 1\n      epoch_slots: 10\n      unbonding_period: 6\n      min_bond: {COIN}\n      genesis_validators:{validators}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec_at(dir.path(), &[], &schedule, genesis_time() - 1_000_000);
    let spec = i8o8i_node::launch::load_chain_spec(&spec).unwrap();
    let config = NodeConfig {
        data_dir: Some(dir.path().join("node")),
        ..NodeConfig::default()
    };
    let node = i8o8i_node::node::Node::open(config, spec, &dir.path().join("node")).unwrap();
    let ScheduledEngine::Slot(engine) = node.chain().schedule().at(1).clone() else {
        panic!("a slot engine")
    };
    let mut made = [0usize; 3];
    for slot in 1..=BLOCKS as u64 {
        let (who, block) = secrets
            .iter()
            .enumerate()
            .find_map(|(i, s)| Some((i, node.produce_in_slot(&engine, slot, s).unwrap()?)))
            .expect("every slot has a leader among the validators");
        made[who] += 1;
        let hash = block.header.hash();
        let outcome = node.submit_block(block).unwrap();
        assert!(outcome.invalid.is_empty() && node.chain().tip().hash == hash);
    }
    println!("blocks by stake 1 : 2 : 3 over {BLOCKS} slots: {made:?}");
    for (i, count) in made.iter().enumerate() {
        let share = *count as f64 / BLOCKS as f64;
        let expected = (i as f64 + 1.0) / 6.0;
        let sigma = (expected * (1.0 - expected) / BLOCKS as f64).sqrt();
        assert!(
            (share - expected).abs() <= 4.0 * sigma,
            "validator {i}: {count} of {BLOCKS}, expected {expected:.3} ± {:.3}",
            4.0 * sigma
        );
    }
    let state = node.chain().producer_state().unwrap();
    assert_eq!(state.produced.values().sum::<u64>(), BLOCKS as u64);
}

/// The wall clock a default node reads.
fn unix_now() -> u64 {
    use i8o8i_chain::clock::Clock;
    i8o8i_chain::clock::SystemClock::new().unix_now()
}
