//! Crash consistency of the real binary: `i8o8icoin node --mine` on a dev chain is killed with
//! SIGKILL at pseudo-random moments while it mines flat out, and restarted on the same data
//! directory, many times.
//!
//! After every restart, over JSON-RPC: the node starts and answers; its tip height is at least
//! the height it reported just before it was killed (a tip the node ever showed is durable);
//! `chain_getBlockHash(tip height)` is `bestHash`; `chain_getUtxoSetInfo` (one consistent
//! snapshot) has exactly one coin per block above genesis (each dev block pays its subsidy to
//! one output; no premine, no other transactions), a `totalAmount` equal to the subsidies of
//! heights 1..=tip computed here independently, and a `hash` equal to the one recomputed from
//! the blocks themselves. The blocks are fetched over RPC with `chain_getBlocks` and checked on
//! the way (header hash, height, parent link, merkle root, txid, a coinbase paying exactly the
//! subsidy to the mining address); blocks verified after an earlier restart are kept, after
//! checking that the hash at the highest of them is unchanged (every block commits to its
//! parent, so that pins all of them), and the UTXO-set hash is always recomputed over the whole
//! set. At the end the whole chain is fetched and verified once more from nothing.
//!
//! Finally the node is killed once more and the data directory is opened in-process with
//! [`Store`], before any node code could repair it: the raw on-disk state must be consistent
//! (tip, height index, the chain of parents down to genesis, the UTXO set against a
//! recomputation from the stored blocks).
//!
//! Some restarts are also killed before their RPC server is up (during RocksDB recovery or
//! chain loading), to crash the start-up path too.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use i8o8i_chain::store::Store;
use i8o8i_primitives::Coin;
use i8o8i_primitives::UtxoSetInfo;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::{Block, BlockHash, Header, OutPoint, merkle_root};
use i8o8i_rpc::client::{RpcClient, connect};
use i8o8i_runtime::state::{UtxoSetHasher, utxo_key};
use i8o8i_script_vm::ScriptBuf;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use serde_json::Value;

use crate::common::{call, tx_from_json};

/// Kills while the node is serving (50–400 ms after its RPC answered).
const KILLS: usize = 12;
/// Seed of the kill schedule.
const SEED: u64 = 0x1808_c0de_dead_beef;
/// Bound on every wait.
const DEADLINE: Duration = Duration::from_secs(30);
const COIN: u64 = 100_000_000;

/// The dev chain's subsidy, from its spec (50 I8O, halved every 150 blocks), computed here
/// rather than by the runtime under test.
fn subsidy(height: u64) -> u64 {
    let halvings = height / 150;
    if halvings >= 64 {
        0
    } else {
        (50 * COIN) >> halvings
    }
}

/// Sum of the subsidies of heights 1..=`tip`.
fn total_subsidy(tip: u64) -> u64 {
    (1..=tip).map(subsidy).sum()
}

/// xorshift64*: a deterministic kill schedule without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().unwrap().port()
}

/// The last `n` lines of a log file, for failure messages.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A running `i8o8icoin node`; killed (SIGKILL) and reaped when dropped, so a failing test
/// never leaves it behind.
struct NodeProcess {
    child: Child,
    log: PathBuf,
    url: String,
}

impl NodeProcess {
    fn spawn(data_dir: &Path, log: PathBuf, mining_address: &str) -> NodeProcess {
        let port = free_port();
        let out = File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file handle");
        let child = Command::new(env!("CARGO_BIN_EXE_i8o8icoin"))
            .args(["node", "--chain", "dev", "--data-dir"])
            .arg(data_dir)
            .args(["--rpc-addr", &format!("127.0.0.1:{port}")])
            .args(["--mine", "--mining-address", mining_address])
            .args(["--mining-threads", "1", "--no-p2p"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn i8o8icoin");
        NodeProcess {
            child,
            log,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Panics with the log's tail if the process has exited on its own.
    fn assert_running(&mut self, what: &str) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!(
                "node exited by itself ({status}) {what}; log:\n{}",
                tail(&self.log, 40)
            );
        }
    }

    /// SIGKILL and reap. Checks the process was still running until then.
    fn kill(&mut self) {
        self.assert_running("before being killed");
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap killed node");
        // Nothing went wrong while it ran: no panic, no error, no refused block.
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        for bad in ["panicked", "ERROR", "WARN"] {
            assert!(
                !log.contains(bad),
                "node log {} contains {bad}:\n{}",
                self.log.display(),
                tail(&self.log, 40)
            );
        }
    }

    /// Whether the process exited by itself because its RPC port was taken after
    /// [`free_port`] probed it (a benign race); the caller then starts another one.
    fn lost_port_race(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
            && std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .contains("Address already in use")
    }

    /// Polls `chain_getInfo` until it answers (bounded by [`DEADLINE`]); returns a client and
    /// the moment RPC came up, or `None` if the node lost the race for its port.
    async fn wait_rpc(&mut self) -> Option<(RpcClient, Instant)> {
        // Only public methods are called: no secret needed.
        let client = connect(&self.url, None, Some(Duration::from_secs(10))).expect("client");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.lost_port_race() {
                return None;
            }
            self.assert_running("while starting");
            if client
                .request::<Value, _>("chain_getInfo", rpc_params![])
                .await
                .is_ok()
            {
                return Some((client, Instant::now()));
            }
            assert!(
                Instant::now() < deadline,
                "RPC did not come up within {DEADLINE:?}; log:\n{}",
                tail(&self.log, 40)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

/// Hashes a UTXO set given in any order, as the node does (key order).
fn utxo_info<'a>(coins: impl Iterator<Item = &'a ([u8; 36], Coin)>) -> UtxoSetInfo {
    let mut sorted: Vec<_> = coins.collect();
    sorted.sort_by_key(|a| a.0);
    let mut hasher = UtxoSetHasher::default();
    for (key, coin) in sorted {
        hasher.add(key, coin);
    }
    hasher.finish()
}

/// Checks a best-chain block at `height` on `parent` and returns the coin its coinbase creates.
/// The only transactions on this chain are coinbases paying the subsidy to `payout`.
fn check_block(block: &Block, height: u64, parent: BlockHash, payout: &ScriptBuf) -> Coin {
    let header = &block.header;
    assert_eq!(header.height, height, "height of {}", header.hash());
    assert_eq!(header.parent, parent, "parent of block {height}");
    assert_eq!(
        block.transactions.len(),
        1,
        "block {height}: only a coinbase"
    );
    let coinbase = &block.transactions[0];
    assert!(coinbase.is_coinbase(), "block {height}");
    assert_eq!(header.tx_root, merkle_root(&[coinbase.txid()]), "{height}");
    assert_eq!(coinbase.outputs.len(), 1, "block {height}");
    let output = coinbase.outputs[0].clone();
    assert_eq!(output.value.to_units(), subsidy(height), "block {height}");
    assert_eq!(&output.script_pubkey, payout, "block {height}");
    Coin {
        output,
        height,
        coinbase: true,
    }
}

/// The best chain as verified over RPC: block hashes from genesis, and the coin of each block.
struct Replica {
    payout: ScriptBuf,
    hashes: Vec<BlockHash>,
    coins: Vec<([u8; 36], Coin)>,
}

impl Replica {
    /// Starts from the genesis block, which must create no coin (no premine on dev).
    async fn new(c: &RpcClient, payout: ScriptBuf) -> Replica {
        let info: Value = call(c, "chain_getInfo", rpc_params![]).await;
        let genesis: Value = call(c, "chain_getBlock", rpc_params![0]).await;
        let header: Header = serde_json::from_value(genesis["header"].clone()).unwrap();
        assert_eq!(header.hash().to_string(), info["genesis"].as_str().unwrap());
        assert_eq!(genesis["hash"], info["genesis"]);
        let coinbase = tx_from_json(&genesis["transactions"][0]);
        assert!(coinbase.outputs.is_empty(), "dev genesis pays nobody");
        Replica {
            payout,
            hashes: vec![header.hash()],
            coins: Vec::new(),
        }
    }

    /// Extends the verified chain to `height` with blocks fetched in pages of 100.
    async fn sync_to(&mut self, c: &RpcClient, height: u64) {
        // The highest verified block is still on the best chain: it commits to all below it.
        let top = self.hashes.len() as u64 - 1;
        let at_top: BlockHash = call(c, "chain_getBlockHash", rpc_params![top]).await;
        assert_eq!(at_top, self.hashes[top as usize], "block {top} changed");
        while (self.hashes.len() as u64) <= height {
            let from = self.hashes.len() as u64;
            let count = (height + 1 - from).min(100);
            let page: Vec<Value> = call(c, "chain_getBlocks", rpc_params![from, count]).await;
            assert_eq!(
                page.len() as u64,
                count,
                "blocks {from}.. of a chain at {height}"
            );
            for (i, json) in page.iter().enumerate() {
                let h = from + i as u64;
                let header: Header = serde_json::from_value(json["header"].clone())
                    .unwrap_or_else(|e| panic!("header of block {h}: {e}"));
                let hash = header.hash();
                assert_eq!(
                    json["hash"].as_str(),
                    Some(hash.to_string().as_str()),
                    "{h}"
                );
                assert_eq!(u64_of(&json["height"]), h);
                let transactions = json["transactions"]
                    .as_array()
                    .unwrap_or_else(|| panic!("transactions of block {h}"))
                    .iter()
                    .map(tx_from_json)
                    .collect();
                let block = Block {
                    header,
                    transactions,
                };
                let parent = *self.hashes.last().unwrap();
                let coin = check_block(&block, h, parent, &self.payout);
                let op = OutPoint {
                    txid: block.transactions[0].txid(),
                    index: 0,
                };
                self.coins.push((utxo_key(&op), coin));
                self.hashes.push(hash);
            }
        }
    }

    /// The UTXO set at `height` (one coin per block), hashed from scratch.
    fn utxo_info_at(&self, height: u64) -> UtxoSetInfo {
        utxo_info(self.coins[..height as usize].iter())
    }
}

/// The post-restart checks; returns the snapshot height.
async fn check_node(c: &RpcClient, replica: &mut Replica, min_height: u64) -> u64 {
    // One consistent snapshot: the scan runs under the import lock.
    let snap: Value = call(c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
    let height = u64_of(&snap["height"]);
    assert!(
        height >= min_height,
        "tip went back from {min_height} to {height}"
    );
    let at: String = call(c, "chain_getBlockHash", rpc_params![height]).await;
    assert_eq!(Some(at.as_str()), snap["bestHash"].as_str());
    let info: Value = call(c, "chain_getInfo", rpc_params![]).await;
    let info_height = u64_of(&info["height"]);
    assert!(info_height >= height, "{info_height} < {height}");
    let at: String = call(c, "chain_getBlockHash", rpc_params![info_height]).await;
    assert_eq!(Some(at.as_str()), info["bestHash"].as_str());

    assert_eq!(u64_of(&snap["count"]), height, "one coin per block");
    assert_eq!(
        u64_of(&snap["totalAmount"]),
        total_subsidy(height),
        "subsidies of 1..={height}"
    );
    replica.sync_to(c, height).await;
    let expected = replica.utxo_info_at(height);
    assert_eq!(expected.count, height);
    assert_eq!(expected.total_amount.to_units(), total_subsidy(height));
    assert_eq!(
        snap["hash"].as_str(),
        Some(expected.hash.to_string().as_str()),
        "UTXO-set hash at {height} against the blocks"
    );
    height
}

/// Checks the store a killed node left behind, before any node code opens it again.
fn check_store_on_disk(chaindata: &Path, payout: &ScriptBuf, min_height: u64) -> u64 {
    let store = Store::open(chaindata).expect("the store opens after SIGKILL");
    let tip = store.tip().unwrap().expect("a tip");
    let tip_header = store
        .index_entry(&tip)
        .unwrap()
        .expect("tip indexed")
        .header;
    let height = tip_header.height;
    assert!(height >= min_height, "on-disk tip {height} < {min_height}");
    assert_eq!(
        store.hash_at(height).unwrap(),
        Some(tip),
        "height index at tip"
    );
    assert_eq!(
        store.hash_at(height + 1).unwrap(),
        None,
        "height index past tip"
    );
    let genesis = store.genesis().unwrap().expect("genesis");
    let mut coins = Vec::with_capacity(height as usize);
    let mut hash = tip;
    for h in (1..=height).rev() {
        assert_eq!(store.hash_at(h).unwrap(), Some(hash), "height index at {h}");
        let block = store.block(&hash).unwrap().expect("stored block");
        assert_eq!(block.header.hash(), hash);
        let coin = check_block(&block, h, block.header.parent, payout);
        let op = OutPoint {
            txid: block.transactions[0].txid(),
            index: 0,
        };
        coins.push((utxo_key(&op), coin));
        hash = block.header.parent;
    }
    assert_eq!(hash, genesis, "the chain of parents ends at genesis");
    assert_eq!(store.hash_at(0).unwrap(), Some(genesis));
    let expected = utxo_info(coins.iter());
    let (_, actual) = store.utxo_set_info().unwrap();
    assert_eq!(
        actual, expected,
        "on-disk UTXO set against the stored blocks"
    );
    assert_eq!(actual.count, height);
    assert_eq!(actual.total_amount.to_units(), total_subsidy(height));
    let (tree_height, committed, recomputed) = store.recompute_state_root().unwrap();
    assert_eq!(tree_height, height);
    assert_eq!(
        committed, recomputed,
        "the state tree against the state on disk"
    );
    height
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_mining_never_loses_or_corrupts_state() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let payout_address = Address::p2pkh(Network::Dev, [0x42; 20]);
    let mining_address = payout_address.to_string();
    assert!(mining_address.starts_with("ti8o1"), "{mining_address}");
    let payout = payout_address.script_pubkey();
    let mut rng = Rng(SEED);

    let mut kills = 0usize;
    let mut early_kills = 0usize;
    let mut late_kills = 0usize;
    let mut min_height = 0u64;
    let mut runs = 0usize;
    let spawn = |runs: &mut usize| {
        *runs += 1;
        NodeProcess::spawn(
            &data_dir,
            dir.path().join(format!("node-{runs}.log")),
            &mining_address,
        )
    };

    let mut replica: Option<Replica> = None;
    for round in 0..=KILLS {
        // Every third restart is also killed once before its RPC server is up.
        if round > 0 && round % 3 == 0 {
            let mut node = spawn(&mut runs);
            tokio::time::sleep(Duration::from_millis(rng.between(0, 40))).await;
            if !node.lost_port_race() {
                node.kill();
                kills += 1;
                early_kills += 1;
            }
        }
        let (mut node, c, up) = loop {
            let mut node = spawn(&mut runs);
            if let Some((c, up)) = node.wait_rpc().await {
                break (node, c, up);
            }
        };
        if replica.is_none() {
            replica = Some(Replica::new(&c, payout.clone()).await);
        }
        let verified = replica.as_mut().expect("set above");
        let height = check_node(&c, verified, min_height).await;
        min_height = height;
        if round == KILLS {
            // Last run: verify the whole chain once more from nothing.
            let mut fresh = Replica::new(&c, payout.clone()).await;
            let snap: Value = call(&c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
            let h = u64_of(&snap["height"]);
            fresh.sync_to(&c, h).await;
            assert_eq!(
                snap["hash"].as_str(),
                Some(fresh.utxo_info_at(h).hash.to_string().as_str())
            );
        }
        let delay = Duration::from_millis(rng.between(50, 400));
        if up.elapsed() > delay {
            late_kills += 1;
        }
        tokio::time::sleep_until((up + delay).into()).await;
        // The tip the node shows right before the kill must survive it.
        let info: Value = call(&c, "chain_getInfo", rpc_params![]).await;
        min_height = min_height.max(u64_of(&info["height"]));
        node.kill();
        kills += 1;
    }

    // The state on disk right after the last SIGKILL, read without the node's start-up code.
    let final_height = check_store_on_disk(&data_dir.join("chaindata"), &payout, min_height);
    println!(
        "crash test: {kills} SIGKILLs ({early_kills} before RPC was up, {late_kills} later \
         than scheduled because of the checks), {runs} starts, final height {final_height}, \
         {:.1?}",
        started.elapsed()
    );
    assert!(kills >= 10);
    assert!(final_height > 0, "the node mined");
}
