//! Load tool: block propagation across five nodes, headers-first sync speed and peak memory per
//! node, with real `i8o8icoin` processes talking libp2p over loopback.
//!
//! Run: `cargo bench -p i8o8i-cli --bench network` (or, reusing the dev build of RocksDB,
//! `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo bench -p i8o8i-cli --bench network --profile dev`).
//!
//! 1. Starts five dev-chain nodes (`--p2p-listen /ip4/127.0.0.1/tcp/0`), four of them with the
//!    first as their only bootnode, and waits until Kademlia has meshed them.
//! 2. Propagation: [`ROUNDS`] times, one node (in turn) mines a block through `mining_generate`;
//!    every node logs `new tip` in JSON with a microsecond timestamp. A block's propagation time
//!    is the gap between the miner's log line and the last other node's; the tool prints the
//!    median and the median per-node delay. Clocks are the same machine's, so the gaps are exact
//!    up to log-writing jitter.
//! 3. Sync: the first node mines [`SYNC_BLOCKS`] more blocks; a sixth node then starts with the
//!    first as bootnode and the tool times it from its first connected peer to its tip reaching
//!    the others'. The blocks hold only their coinbase, so the figure is the sync protocol's and
//!    block connection's rate; script verification of full blocks is the `block` bench's.
//! 4. Peak memory: `VmHWM` of every node process from `/proc/<pid>/status`.
//!
//! The client work (RPC calls, log parsing) is small next to the nodes', which share the
//! machine's cores, so the figures are for 6 nodes on one box, not for 6 machines.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use i8o8i_node::launch::secret_in;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_rpc::client::{RpcClient, connect};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use serde_json::Value;

const NODES: usize = 5;
const ROUNDS: usize = 30;
const SYNC_BLOCKS: u64 = 2_000;
const WAIT: Duration = Duration::from_secs(300);

/// One `new tip` log line: height and microseconds since midnight UTC.
type TipLog = Arc<Mutex<BTreeMap<u64, i64>>>;

struct Proc {
    child: Child,
    rpc: RpcClient,
    tips: TipLog,
    first_peer_us: Arc<Mutex<Option<i64>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Microseconds since midnight of an RFC 3339 UTC timestamp, e.g.
/// `2026-11-30T02:30:00.123456Z`.
fn micros_of_day(ts: &str) -> Option<i64> {
    let time = ts.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s = parts.next()?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<6}");
    let us: i64 = frac.get(..6)?.parse().ok()?;
    Some(((h * 60 + m) * 60 + whole.parse::<i64>().ok()?) * 1_000_000 + us)
}

fn spawn(bin: &Path, dir: &Path, bootnode: Option<&str>) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.args(["node", "--chain", "dev", "--rpc-addr", "127.0.0.1:0"])
        .args([
            "--p2p-listen",
            "/ip4/127.0.0.1/tcp/0",
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(b) = bootnode {
        cmd.args(["--bootnode", b]);
    }
    let mut child = cmd.spawn().expect("spawn i8o8icoin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read stdout");
    let url = line
        .trim()
        .strip_prefix("RPC listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let tips: TipLog = Arc::default();
    let first_peer_us = Arc::new(Mutex::new(None));
    let stderr = child.stderr.take().expect("stderr");
    {
        let (tips, first_peer_us) = (tips.clone(), first_peer_us.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let Some(t) = v["timestamp"].as_str().and_then(micros_of_day) else {
                    continue;
                };
                match v["fields"]["message"].as_str() {
                    Some("new tip") => {
                        if let Some(h) = v["fields"]["height"].as_u64() {
                            tips.lock().unwrap().entry(h).or_insert(t);
                        }
                    }
                    Some("peer connected") => {
                        first_peer_us.lock().unwrap().get_or_insert(t);
                    }
                    _ => {}
                }
            }
        });
    }
    let secret = secret_in(dir).expect("the node created its JWT secret");
    let rpc = connect(&url, Some(secret), Some(WAIT)).expect("client");
    Proc {
        child,
        rpc,
        tips,
        first_peer_us,
    }
}

async fn call(c: &RpcClient, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Value {
    c.request(method, params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

async fn height(p: &Proc) -> u64 {
    call(&p.rpc, "chain_getInfo", rpc_params![]).await["height"]
        .as_u64()
        .expect("height")
}

async fn wait_until<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median(v: &mut [i64]) -> i64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let bin = Path::new(env!("CARGO_BIN_EXE_i8o8icoin"));
    let root = tempfile::tempdir().expect("tempdir");
    let payout = Address::from_pubkey(Network::Dev, &[2; 33]).to_string();

    let mut nodes = vec![spawn(bin, &root.path().join("n0"), None)];
    let info = call(&nodes[0].rpc, "net_getInfo", rpc_params![]).await;
    let boot = info["listenAddresses"][0]
        .as_str()
        .expect("listen address")
        .to_owned();
    for i in 1..NODES {
        nodes.push(spawn(bin, &root.path().join(format!("n{i}")), Some(&boot)));
    }
    for (i, n) in nodes.iter().enumerate() {
        wait_until(
            &format!("node {i} to have {} peers", NODES - 1),
            async || {
                call(&n.rpc, "net_peers", rpc_params![])
                    .await
                    .as_array()
                    .map_or(0, Vec::len)
                    >= NODES - 1
            },
        )
        .await;
    }
    // Let gossipsub's mesh form (one heartbeat is a second).
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("{NODES} nodes meshed");

    let mut all = Vec::new();
    let mut per_node = Vec::new();
    for round in 0..ROUNDS {
        let miner = round % NODES;
        let h = height(&nodes[miner]).await + 1;
        call(
            &nodes[miner].rpc,
            "mining_generate",
            rpc_params![1, &payout],
        )
        .await;
        for n in &nodes {
            wait_until(&format!("height {h} everywhere"), async || {
                n.tips.lock().unwrap().contains_key(&h)
            })
            .await;
        }
        let t0 = nodes[miner].tips.lock().unwrap()[&h];
        let delays: Vec<i64> = nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != miner)
            .map(|(_, n)| n.tips.lock().unwrap()[&h] - t0)
            .collect();
        per_node.extend(&delays);
        all.push(*delays.iter().max().expect("other nodes"));
    }
    println!(
        "propagation over {ROUNDS} blocks: median to all {} nodes {:.2} ms (max {:.2} ms), median per node {:.2} ms",
        NODES - 1,
        median(&mut all) as f64 / 1e3,
        all.iter().max().copied().unwrap_or(0) as f64 / 1e3,
        median(&mut per_node) as f64 / 1e3,
    );

    let target = height(&nodes[0]).await + SYNC_BLOCKS;
    let mut left = SYNC_BLOCKS;
    while left > 0 {
        let n = left.min(500);
        call(&nodes[0].rpc, "mining_generate", rpc_params![n, &payout]).await;
        left -= n;
    }
    for n in &nodes {
        wait_until("the mined blocks everywhere", async || {
            height(n).await >= target
        })
        .await;
    }
    let late = spawn(bin, &root.path().join("late"), Some(&boot));
    wait_until(&format!("the late node at {target}"), async || {
        height(&late).await >= target
    })
    .await;
    let start = late
        .first_peer_us
        .lock()
        .unwrap()
        .expect("late node connected");
    let end = late.tips.lock().unwrap()[&target];
    let secs = (end - start) as f64 / 1e6;
    println!(
        "sync: {target} blocks in {secs:.2} s from first peer = {:.0} blocks/s",
        target as f64 / secs
    );

    for (i, n) in nodes.iter().chain([&late]).enumerate() {
        println!(
            "node {i}: peak RSS {:.1} MiB",
            peak_rss_kib(n.child.id()) as f64 / 1024.0
        );
    }
}
