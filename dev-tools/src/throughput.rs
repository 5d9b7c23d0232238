//! The end-to-end throughput run: real node processes on loopback (one, or a network where
//! node 0 mines a dev block every target block time and the rest follow), pre-signed one-in
//! one-out P2PKH payments submitted in `tx_submitBatch` calls (or one `tx_submit` each) at
//! controlled rates (round-robin over the nodes), one step per rate. It reports, per step, the offered and submitted rates, the transactions per
//! second confirmed on every node at steady state (the step's last three quarters), latency
//! from submission to confirmation on all nodes (p50, p99) and the backlog left; per block,
//! how long it took to reach every node and its bytes whole and compact; the ceiling (the
//! highest rate the nodes kept up with); and the machine's signature-verification rate on
//! all cores, the physical limit the confirmed rate is measured against.
//!
//! Confirmation is observed by polling every node's tip every 50 ms, so times are within that
//! of the truth.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use i8o8i_network::compact::CompactBlock;
use i8o8i_primitives::address::Address;
use i8o8i_primitives::{Block, OutPoint, Transaction, Txid};
use i8o8i_rpc::api;
use i8o8i_rpc::client::{RpcClient, call};
use i8o8i_runtime::spec::ChainSpec;
use parity_scale_codec::{Decode, Encode};

use crate::procs::{ChaosError, NodeProc, Wallet, boot, kill, raw, start};

/// What a run does.
#[derive(Debug, Clone)]
pub struct ThroughputConfig {
    /// The `i8o8icoin` binary.
    pub binary: PathBuf,
    /// Where the nodes' data directories and logs go.
    pub dir: PathBuf,
    /// Nodes (1 or more).
    pub nodes: usize,
    /// Offered rates, transactions per second, one step each, in order.
    pub rates: Vec<u32>,
    /// How long each step lasts.
    pub step: Duration,
    /// Chain spec of the nodes: a built-in name or a YAML file. Its block size and block
    /// time bound what any node can confirm (`dev`: 4 MB every 2 s, about 10,000 payments/s).
    pub chain: String,
    /// Transactions per `tx_submitBatch` call, at most; 1 submits each with `tx_submit`.
    pub batch: usize,
    /// Keep the nodes' data directories after the run (the logs are always kept).
    pub keep_data: bool,
}

/// One step's figures.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// Offered transactions per second.
    pub rate: u32,
    /// Submitted (accepted or not) per second: below `rate` when the client could not keep up.
    pub submitted_per_sec: f64,
    /// Refused by the node (a full pool, a node behind).
    pub refused: usize,
    /// Transactions per second that became confirmed on every node during the step's last
    /// three quarters.
    pub confirmed_per_sec: f64,
    /// Submission to confirmation on every node, of the step's last three quarters, ms.
    pub latency_p50_ms: u64,
    /// As `latency_p50_ms`, 99th percentile.
    pub latency_p99_ms: u64,
    /// Submitted, not refused (so far) and not confirmed on every node when the step ended.
    pub backlog: usize,
}

impl Step {
    /// Whether the nodes kept up: at least 90 % of the offered rate confirmed, and a backlog
    /// of at most three blocks' worth at the offered rate.
    pub fn kept_up(&self) -> bool {
        self.confirmed_per_sec >= 0.9 * f64::from(self.rate)
            && self.backlog <= self.rate as usize * 6
    }
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Nodes.
    pub nodes: usize,
    /// Per step.
    pub steps: Vec<Step>,
    /// Blocks with load transactions seen on every node.
    pub blocks: usize,
    /// First to last node seeing a block, ms.
    pub propagation_p50_ms: u64,
    /// As `propagation_p50_ms`, 99th percentile.
    pub propagation_p99_ms: u64,
    /// Mean encoded bytes of those blocks whole.
    pub block_bytes: u64,
    /// Mean encoded bytes of their compact announcements.
    pub compact_bytes: u64,
    /// Accepted transactions never confirmed on every node (after a 30 s drain).
    pub unconfirmed: usize,
    /// Signature verifications per second on all cores of this machine (libsecp256k1).
    pub signature_rate: u64,
    /// Why the first refused submission was refused.
    pub first_refusal: Option<String>,
}

impl Report {
    /// The highest offered rate the nodes kept up with.
    pub fn ceiling(&self) -> Option<u32> {
        self.steps
            .iter()
            .filter(|s| s.kept_up())
            .map(|s| s.rate)
            .max()
    }

    /// The best confirmed rate of any step.
    pub fn best_confirmed(&self) -> f64 {
        self.steps
            .iter()
            .map(|s| s.confirmed_per_sec)
            .fold(0.0, f64::max)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "nodes: {}", self.nodes)?;
        writeln!(
            f,
            "{:>8} {:>10} {:>10} {:>8} {:>9} {:>9} {:>8}",
            "offered", "submitted", "confirmed", "refused", "p50 ms", "p99 ms", "backlog"
        )?;
        for s in &self.steps {
            writeln!(
                f,
                "{:>8} {:>10.1} {:>10.1} {:>8} {:>9} {:>9} {:>8}{}",
                s.rate,
                s.submitted_per_sec,
                s.confirmed_per_sec,
                s.refused,
                s.latency_p50_ms,
                s.latency_p99_ms,
                s.backlog,
                if s.kept_up() { "" } else { "  (fell behind)" }
            )?;
        }
        writeln!(
            f,
            "blocks: {} carrying load; reached every node in p50 {} ms, p99 {} ms",
            self.blocks, self.propagation_p50_ms, self.propagation_p99_ms
        )?;
        writeln!(
            f,
            "bytes per block: {} whole, {} compact ({:.2} %)",
            self.block_bytes,
            self.compact_bytes,
            self.compact_bytes as f64 * 100.0 / self.block_bytes.max(1) as f64
        )?;
        writeln!(
            f,
            "signature limit: {} verifications/s on all cores; best confirmed {:.0} tx/s = {:.1} %",
            self.signature_rate,
            self.best_confirmed(),
            self.best_confirmed() * 100.0 / self.signature_rate.max(1) as f64
        )?;
        match self.ceiling() {
            Some(rate) => writeln!(f, "ceiling: kept up at {rate} tx/s")?,
            None => writeln!(f, "ceiling: kept up at no offered rate")?,
        }
        if let Some(why) = &self.first_refusal {
            writeln!(f, "first refusal: {why}")?;
        }
        write!(f, "unconfirmed: {}", self.unconfirmed)
    }
}

/// Payments fanned out of one coinbase: `FIRST` outputs, each split into up to `SECOND`.
const FIRST: usize = 100;
const SECOND: usize = 500;
const FEE: u64 = 1_000;
/// Submissions under way at once: HTTP keep-alive connections, under a node's default limit
/// of 100 (past it, connections are refused and counted as refusals).
const IN_FLIGHT: usize = 64;

/// A block as the run saw it.
struct SeenBlock {
    txids: Vec<Txid>,
    bytes: usize,
    compact_bytes: usize,
    /// When each node's tip first reached it.
    seen: Vec<Option<Instant>>,
}

#[derive(Default)]
struct Observed {
    by_height: BTreeMap<u64, SeenBlock>,
}

impl Observed {
    /// When `height` was on every node.
    fn everywhere(&self, height: u64) -> Option<Instant> {
        let block = self.by_height.get(&height)?;
        block
            .seen
            .iter()
            .copied()
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }
}

/// Runs the steps and reports. Node processes are killed when it returns.
///
/// # Errors
/// [`ChaosError`] if the run itself cannot proceed (a node that does not start, a setup call
/// that fails).
pub async fn run(cfg: ThroughputConfig) -> Result<Report, ChaosError> {
    let text = match i8o8i_config::builtin_chain_spec(&cfg.chain) {
        Some(text) => text.to_owned(),
        None => std::fs::read_to_string(&cfg.chain)?,
    };
    let spec = ChainSpec::from_yaml(&text).map_err(|e| ChaosError::Node {
        index: 0,
        reason: format!("chain spec {}: {e}", cfg.chain),
    })?;
    let (wallet, address) = Wallet::dev(&spec);
    let miner_address = Address::p2pkh(spec.network, [0x99; 20]).to_string();
    std::fs::create_dir_all(&cfg.dir)?;
    // A spec file is read by the nodes from their own working directory: give them its path.
    let chain = match i8o8i_config::builtin_chain_spec(&cfg.chain) {
        Some(_) => cfg.chain.clone(),
        None => std::fs::canonicalize(&cfg.chain)?.display().to_string(),
    };
    let mut nodes = Vec::new();
    for index in 0..cfg.nodes.max(1) {
        let mut node = NodeProc::new(index, &cfg.dir, index == 0)?;
        node.chain = chain.clone();
        nodes.push(node);
    }
    let result = run_on(&cfg, &spec, &wallet, &address, &miner_address, &mut nodes).await;
    for node in &mut nodes {
        kill(node).await;
        if !cfg.keep_data {
            // Best effort: a directory that cannot be removed only costs disk.
            let _ = std::fs::remove_dir_all(&node.dir);
        }
    }
    result
}

async fn run_on(
    cfg: &ThroughputConfig,
    spec: &ChainSpec,
    wallet: &Wallet,
    address: &str,
    miner_address: &str,
    nodes: &mut [NodeProc],
) -> Result<Report, ChaosError> {
    start(&cfg.binary, &mut nodes[0], &[], miner_address).await?;
    for i in 1..nodes.len() {
        let bootnodes = boot(nodes, i);
        start(&cfg.binary, &mut nodes[i], &bootnodes, miner_address).await?;
    }
    let clients: Vec<RpcClient> = nodes
        .iter()
        .map(|n| n.client.clone().expect("started"))
        .collect();
    let c0 = clients[0].clone();

    let need: usize = cfg
        .rates
        .iter()
        .map(|r| *r as usize * cfg.step.as_secs() as usize)
        .sum();
    let coins = fan_out(&c0, spec, wallet, address, need).await?;
    let payments = presign(wallet, &coins);
    wait_same_tip(&clients).await;

    let observed = Arc::new(Mutex::new(Observed::default()));
    let watching = tokio::spawn(watch(clients.clone(), observed.clone()));

    let mut report = Report {
        nodes: nodes.len(),
        ..Report::default()
    };
    let mut submitted: HashMap<Txid, Instant> = HashMap::new();
    let mut next = 0usize;
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    // Refused submissions by txid: they can never confirm, so they are neither backlog nor
    // unconfirmed.
    let refused: Arc<Mutex<HashSet<Txid>>> = Arc::default();
    let first_refusal: Arc<Mutex<Option<String>>> = Arc::default();
    let mut target = 0usize;
    let mut windows = Vec::new();
    for &rate in &cfg.rates {
        let started = Instant::now();
        let refused_before = refused.lock().unwrap_or_else(|p| p.into_inner()).len();
        let mut sent = 0usize;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        // Exactly rate × step offered: the last tick may fall a little past the step.
        let total = (u128::from(rate) * cfg.step.as_millis() / 1_000) as usize;
        while sent < total && started.elapsed() < cfg.step + Duration::from_secs(1) {
            tick.tick().await;
            let due =
                ((started.elapsed().as_millis() * u128::from(rate) / 1_000) as usize).min(total);
            while sent < due && next < payments.len() {
                let Ok(permit) = gate.clone().try_acquire_owned() else {
                    // The client is saturated: this step offers less than asked.
                    break;
                };
                let take = (due - sent)
                    .min(cfg.batch.max(1))
                    .min(payments.len() - next);
                let chunk: Vec<(Txid, String)> = payments[next..next + take].to_vec();
                next += take;
                sent += take;
                let now = Instant::now();
                submitted.extend(chunk.iter().map(|(txid, _)| (*txid, now)));
                let client = clients[target % clients.len()].clone();
                target += 1;
                let refusals = Refusals {
                    txids: refused.clone(),
                    first: first_refusal.clone(),
                };
                tokio::spawn(async move {
                    submit(&client, chunk, &refusals).await;
                    drop(permit);
                });
            }
        }
        let ended = Instant::now();
        let warm = started + cfg.step / 4;
        let observed = observed.lock().unwrap_or_else(|p| p.into_inner());
        let confirmed_at = confirmation_times(&observed);
        let window = ended.duration_since(warm).as_secs_f64();
        let confirmed = confirmed_at
            .iter()
            .filter(|(txid, at)| submitted.contains_key(txid) && **at >= warm && **at <= ended)
            .count();
        let refused_now = refused.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let backlog = submitted
            .iter()
            .filter(|(txid, at)| **at <= ended && confirmed_at.get(txid).is_none_or(|c| *c > ended))
            .filter(|(txid, _)| !refused_now.contains(*txid))
            .count();
        report.steps.push(Step {
            rate,
            submitted_per_sec: sent as f64 / cfg.step.as_secs_f64(),
            refused: refused_now.len() - refused_before,
            confirmed_per_sec: confirmed as f64 / window,
            // Filled in after the drain, when late confirmations are known.
            latency_p50_ms: 0,
            latency_p99_ms: 0,
            backlog,
        });
        windows.push((warm, ended));
    }

    // Drain: what was accepted gets 30 s to be confirmed everywhere.
    let drain_until = Instant::now() + Duration::from_secs(30);
    loop {
        let pending = {
            let observed = observed.lock().unwrap_or_else(|p| p.into_inner());
            let confirmed_at = confirmation_times(&observed);
            let refused = refused.lock().unwrap_or_else(|p| p.into_inner());
            submitted
                .keys()
                .filter(|txid| !confirmed_at.contains_key(*txid) && !refused.contains(*txid))
                .count()
        };
        if pending == 0 || Instant::now() > drain_until {
            report.unconfirmed = pending;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    watching.abort();
    report.first_refusal = first_refusal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    summarise(
        &mut report,
        &observed.lock().unwrap_or_else(|p| p.into_inner()),
        &submitted,
        windows,
    );
    report.signature_rate = tokio::task::spawn_blocking(signature_rate)
        .await
        .unwrap_or_default();
    Ok(report)
}

/// What the nodes refused: by txid, and the first reason.
struct Refusals {
    txids: Arc<Mutex<HashSet<Txid>>>,
    first: Arc<Mutex<Option<String>>>,
}

impl Refusals {
    fn add(&self, txid: Txid, why: impl FnOnce() -> String) {
        self.txids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(txid);
        self.first
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(why);
    }
}

/// Submits `chunk` to one node: alone with `tx_submit`, or else with one `tx_submitBatch`.
async fn submit(client: &RpcClient, chunk: Vec<(Txid, String)>, refusals: &Refusals) {
    if let [(txid, hex)] = &chunk[..] {
        if let Err(e) = call::<api::TxSubmit>(client, (hex.clone(),)).await {
            refusals.add(*txid, || e.to_string());
        }
        return;
    }
    let (txids, hexes): (Vec<Txid>, Vec<String>) = chunk.into_iter().unzip();
    match call::<api::TxSubmitBatch>(client, (hexes,)).await {
        Ok(results) => {
            for (txid, result) in txids.into_iter().zip(results) {
                if let Some(e) = result.error {
                    refusals.add(txid, || format!("{} ({})", e.message, e.code));
                }
            }
        }
        Err(e) => {
            for txid in txids {
                refusals.add(txid, || e.to_string());
            }
        }
    }
}

/// Latencies, propagation and block bytes from what was observed.
fn summarise(
    report: &mut Report,
    observed: &Observed,
    submitted: &HashMap<Txid, Instant>,
    windows: Vec<(Instant, Instant)>,
) {
    let confirmed_at = confirmation_times(observed);
    for (step, (from, to)) in report.steps.iter_mut().zip(windows) {
        let mut latencies: Vec<u64> = submitted
            .iter()
            .filter(|(_, at)| **at >= from && **at <= to)
            .filter_map(|(txid, at)| confirmed_at.get(txid).map(|c| c.duration_since(*at)))
            .map(|d| d.as_millis() as u64)
            .collect();
        latencies.sort_unstable();
        step.latency_p50_ms = percentile(&latencies, 50);
        step.latency_p99_ms = percentile(&latencies, 99);
    }
    let mut propagation = Vec::new();
    let (mut bytes, mut compact_bytes, mut blocks) = (0u64, 0u64, 0u64);
    for block in observed.by_height.values() {
        if block.txids.len() < 2 {
            continue;
        }
        let seen: Option<Vec<Instant>> = block.seen.iter().copied().collect();
        let Some(seen) = seen else { continue };
        let (first, last) = (
            seen.iter().min().expect("a node"),
            seen.iter().max().expect("a node"),
        );
        propagation.push(last.duration_since(*first).as_millis() as u64);
        bytes += block.bytes as u64;
        compact_bytes += block.compact_bytes as u64;
        blocks += 1;
    }
    propagation.sort_unstable();
    report.blocks = blocks as usize;
    report.propagation_p50_ms = percentile(&propagation, 50);
    report.propagation_p99_ms = percentile(&propagation, 99);
    report.block_bytes = bytes / blocks.max(1);
    report.compact_bytes = compact_bytes / blocks.max(1);
}

/// Coins of `wallet` for `need` payments, fanned out of fresh coinbases (node 0 mines them):
/// each coinbase into [`FIRST`] outputs, each of those into up to [`SECOND`].
async fn fan_out(
    c0: &RpcClient,
    spec: &ChainSpec,
    wallet: &Wallet,
    address: &str,
    need: usize,
) -> Result<Vec<(OutPoint, u64)>, ChaosError> {
    let coinbases = need.div_ceil(FIRST * SECOND).max(1);
    let second = need.div_ceil(FIRST * coinbases).clamp(1, SECOND);
    let blocks = u32::try_from(spec.coinbase_maturity + coinbases as u64).unwrap_or(u32::MAX);
    call::<api::MiningGenerate>(c0, (blocks, Some(address.to_owned()))).await?;
    let mut first = Vec::new();
    for height in 1..=coinbases as u64 {
        let block = call::<api::ChainGetBlock>(c0, (serde_json::json!(height),)).await?;
        let coinbase = &block.transactions[0];
        let value = coinbase.tx.outputs[0].value.to_units();
        let each = (value - 100 * FEE) / FIRST as u64;
        let tx = wallet.spend(
            &[(
                OutPoint {
                    txid: coinbase.txid,
                    index: 0,
                },
                value,
            )],
            &vec![each; FIRST],
        );
        let txid = call::<api::TxSubmit>(c0, (raw(&tx),)).await?;
        first.extend((0..FIRST as u32).map(|index| (OutPoint { txid, index }, each)));
    }
    confirm(c0, address, &[first[0].0.txid]).await?;
    let mut coins = Vec::with_capacity(first.len() * second);
    let mut splits = Vec::new();
    for (outpoint, value) in first {
        let each = (value - 100 * FEE) / second as u64;
        let tx = wallet.spend(&[(outpoint, value)], &vec![each; second]);
        let txid = call::<api::TxSubmit>(c0, (raw(&tx),)).await?;
        coins.extend((0..second as u32).map(|index| (OutPoint { txid, index }, each)));
        splits.push(txid);
    }
    confirm(c0, address, &splits).await?;
    coins.truncate(need);
    Ok(coins)
}

/// Mines on node 0 until every one of `txids` is confirmed.
async fn confirm(c0: &RpcClient, address: &str, txids: &[Txid]) -> Result<(), ChaosError> {
    for _ in 0..20 {
        call::<api::MiningGenerate>(c0, (1, Some(address.to_owned()))).await?;
        let mut all = true;
        for txid in txids {
            let status = call::<api::TxGet>(c0, (*txid,)).await?.status;
            all &= matches!(status, i8o8i_rpc::types::TxStatus::Confirmed { .. });
        }
        if all {
            return Ok(());
        }
    }
    Err(ChaosError::Node {
        index: 0,
        reason: "the fan-out transactions were not confirmed after 20 blocks".into(),
    })
}

/// One payment per coin (to the wallet itself, less the fee), signed ahead on every core:
/// what the load submits is only RPC.
fn presign(wallet: &Wallet, coins: &[(OutPoint, u64)]) -> Vec<(Txid, String)> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = coins.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = coins
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(outpoint, value)| {
                            let tx: Transaction =
                                wallet.spend(&[(*outpoint, *value)], &[value - FEE]);
                            (tx.txid(), raw(&tx))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("signing thread"))
            .collect()
    })
}

/// Waits (at most two minutes) until every node has the same tip.
async fn wait_same_tip(clients: &[RpcClient]) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let mut tips = Vec::new();
        for c in clients {
            if let Ok(info) = call::<api::ChainGetInfo>(c, ()).await {
                tips.push(info.best_hash);
            }
        }
        if tips.len() == clients.len() && tips.windows(2).all(|w| w[0] == w[1]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls every node's tip every 50 ms, records when each block reached each node, and reads
/// each block once.
async fn watch(clients: Vec<RpcClient>, observed: Arc<Mutex<Observed>>) {
    let mut last = Vec::new();
    for c in &clients {
        last.push(
            call::<api::ChainGetInfo>(c, ())
                .await
                .map_or(0, |info| info.height),
        );
    }
    loop {
        for (i, c) in clients.iter().enumerate() {
            let Ok(info) = call::<api::ChainGetInfo>(c, ()).await else {
                continue;
            };
            let now = Instant::now();
            for height in last[i] + 1..=info.height {
                let known = observed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .by_height
                    .contains_key(&height);
                if !known {
                    // Raw, not JSON: the client shares the nodes' cores, and a block of
                    // 30,000 payments is tens of megabytes of JSON.
                    let Ok(raw) =
                        call::<api::ChainGetRawBlock>(c, (serde_json::json!(height),)).await
                    else {
                        break;
                    };
                    let Some(block) = hex::decode(&raw)
                        .ok()
                        .and_then(|bytes| Block::decode(&mut &bytes[..]).ok())
                    else {
                        break;
                    };
                    let seen = SeenBlock {
                        txids: block.transactions.iter().map(Transaction::txid).collect(),
                        bytes: raw.len() / 2,
                        compact_bytes: CompactBlock::with_nonce(&block, 0).encoded_size(),
                        seen: vec![None; clients.len()],
                    };
                    observed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .by_height
                        .insert(height, seen);
                }
                if let Some(block) = observed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .by_height
                    .get_mut(&height)
                {
                    block.seen[i].get_or_insert(now);
                }
                last[i] = height;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// When each transaction of a block on every node became confirmed on every node.
fn confirmation_times(observed: &Observed) -> HashMap<Txid, Instant> {
    let mut at = HashMap::new();
    for (height, block) in &observed.by_height {
        if let Some(when) = observed.everywhere(*height) {
            for txid in &block.txids {
                at.insert(*txid, when);
            }
        }
    }
    at
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    match sorted.len() {
        0 => 0,
        n => sorted[(n - 1) * p / 100],
    }
}

/// P2PKH signature checks (parse key and signature, verify) per second on every core, each
/// core verifying for half a second.
fn signature_rate() -> u64 {
    let key = secp256k1::SecretKey::from_secret_bytes([0x42; 32]).expect("a valid key");
    let pubkey = secp256k1::PublicKey::from_secret_key(&key).serialize();
    let digest = [7u8; 32];
    let sig = secp256k1::ecdsa::sign(secp256k1::Message::from_digest(digest), &key)
        .serialize_der()
        .to_vec();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let run = Duration::from_millis(500);
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let started = Instant::now();
                    let mut n = 0u64;
                    while started.elapsed() < run {
                        for _ in 0..100 {
                            assert!(i8o8i_script_vm::checker::verify_ecdsa(
                                &sig, &pubkey, &digest
                            ));
                        }
                        n += 100;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    total * 1_000 / run.as_millis() as u64
}

/// Where a run keeps its nodes unless told.
pub fn default_dir() -> PathBuf {
    std::env::temp_dir().join(format!("i8o8i-throughput-{}", std::process::id()))
}
