//! The chaos run: real node processes on loopback under steady transaction load while nodes
//! are killed with SIGKILL and restarted, the network is partitioned and healed (bans), and
//! lying and junk peers attach. At the end every node must be on one tip with one UTXO set, no
//! accepted transaction may be lost, memory must have stayed bounded and no log may hold a
//! panic.
//!
//! The load is a wallet's: 2,000 coins of one key, each a lane of self-payments (a lane waits
//! while 20 of its transactions are unconfirmed, under the pool's 25-ancestor limit), signed
//! here and submitted with `tx_submit` to a random live node. Like a wallet it rebroadcasts
//! what it sent and has not seen confirmed, so a transaction that only a killed node knew is
//! offered again; "lost" means accepted and then neither confirmed, nor pooled, nor replaced
//! by a confirmed conflict.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use i8o8i_network::topics::TopicKind;
use i8o8i_primitives::address::Address;
use i8o8i_primitives::{BlockHash, OutPoint, Transaction, Txid};
use i8o8i_rpc::client::{CallError, RpcClient, call};
use i8o8i_rpc::types::TxStatus;
use i8o8i_rpc::{ErrorCode, api};
use i8o8i_runtime::spec::ChainSpec;

pub use crate::procs::ChaosError;
use crate::procs::{NodeProc, Wallet, boot, kill, raw, rss_of, start};
use crate::{Peer, Served};

/// What a run does.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// The `i8o8icoin` binary.
    pub binary: PathBuf,
    /// Where the nodes' data directories and logs go.
    pub dir: PathBuf,
    /// Nodes (at least 3).
    pub nodes: usize,
    /// How long the chaos lasts (load and faults); convergence checks follow.
    pub duration: Duration,
    /// Transactions per second submitted.
    pub rate: u32,
    /// Seconds between faults.
    pub fault_every: Duration,
    /// Seed of the fault schedule.
    pub seed: u64,
}

/// What a run found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Transactions a node accepted.
    pub accepted: usize,
    /// Of those, confirmed at the end.
    pub confirmed: usize,
    /// Of those, still pooled at the end.
    pub pooled: usize,
    /// Of those, replaced by a confirmed conflict.
    pub replaced: usize,
    /// Of those, none of the above.
    pub lost: usize,
    /// Why node 0 refused the first few lost ones when they were offered again.
    pub lost_reasons: Vec<String>,
    /// Submissions refused (a lane's parent not yet at that node, a node going down).
    pub refused: usize,
    /// Transactions offered again by the wallet's rebroadcast.
    pub rebroadcast: usize,
    /// SIGKILLs (each followed by a restart).
    pub kills: usize,
    /// Partitions (each healed).
    pub partitions: usize,
    /// Misbehaving peers attached.
    pub adversaries: usize,
    /// Peak resident memory of each node, bytes.
    pub peak_rss: Vec<u64>,
    /// Log lines with a panic, over all nodes.
    pub panics: usize,
    /// Every node on one tip with one UTXO set and one state root at the end.
    pub converged: bool,
    /// The common tip height at the end.
    pub height: u64,
    /// Seconds the load ran.
    pub seconds: u64,
}

impl Report {
    /// Whether the run passed: converged, nothing lost, no panic, every node's memory under
    /// [`MAX_RSS`].
    pub fn passed(&self) -> bool {
        self.converged
            && self.lost == 0
            && self.panics == 0
            && self.accepted > 0
            && self.peak_rss.iter().all(|rss| *rss < MAX_RSS)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seconds: {}", self.seconds)?;
        writeln!(
            f,
            "load: {:.1} accepted transactions/s",
            self.accepted as f64 / self.seconds.max(1) as f64
        )?;
        writeln!(f, "kills: {} (all restarted)", self.kills)?;
        writeln!(f, "partitions: {} (all healed)", self.partitions)?;
        writeln!(f, "adversaries: {}", self.adversaries)?;
        for (i, rss) in self.peak_rss.iter().enumerate() {
            writeln!(f, "peak rss node {i}: {} MiB", rss / (1024 * 1024))?;
        }
        writeln!(f, "panics: {}", self.panics)?;
        writeln!(f, "converged: {} at height {}", self.converged, self.height)?;
        writeln!(f, "refused: {}", self.refused)?;
        writeln!(f, "rebroadcast: {}", self.rebroadcast)?;
        writeln!(f, "accepted: {}", self.accepted)?;
        writeln!(f, "confirmed: {}", self.confirmed)?;
        writeln!(f, "pooled: {}", self.pooled)?;
        writeln!(f, "replaced: {}", self.replaced)?;
        for reason in &self.lost_reasons {
            writeln!(f, "lost {reason}")?;
        }
        write!(f, "lost: {}", self.lost)
    }
}

/// The memory bound a node must stay under during a run (dev nodes stay under 200 MiB in a
/// ten-minute run; a leak shows up long before this).
pub const MAX_RSS: u64 = 1024 * 1024 * 1024;

const LANES: usize = 2_000;
const FANOUTS: usize = 10;
const MAX_UNCONFIRMED_PER_LANE: usize = 20;
const FEE: u64 = 1_000;

/// A tiny deterministic generator for the fault schedule (xorshift).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

struct Lane {
    coin: OutPoint,
    value: u64,
    /// Accepted, not yet seen confirmed, oldest first, with when they were accepted.
    unconfirmed: Vec<(Txid, Instant)>,
    /// A submission of this lane is under way.
    busy: bool,
}

/// Submissions under way at once.
const IN_FLIGHT: usize = 32;

/// Runs the chaos and reports. Node processes are killed when it returns.
///
/// # Errors
/// [`ChaosError`] if the run itself cannot proceed (a node that does not start).
pub async fn run(cfg: ChaosConfig) -> Result<Report, ChaosError> {
    let spec = ChainSpec::from_yaml(
        i8o8i_config::builtin_chain_spec("dev").expect("the dev chain is built in"),
    )
    .expect("the dev spec parses");
    let (wallet, address) = Wallet::dev(&spec);
    let miner_address = Address::p2pkh(spec.network, [0x99; 20]).to_string();
    std::fs::create_dir_all(&cfg.dir)?;
    let mut nodes = Vec::new();
    for index in 0..cfg.nodes.max(3) {
        // Two miners: competing blocks, and mining survives one kill.
        nodes.push(NodeProc::new(index, &cfg.dir, index == 1 || index == 2)?);
    }
    // Node 0 alone mines the coins the load spends, and fans them out into lanes.
    start(&cfg.binary, &mut nodes[0], &[], &miner_address).await?;
    let c0 = nodes[0].client.clone().expect("started");
    call::<api::MiningGenerate>(&c0, (110, Some(address.clone()))).await?;
    let mut lanes = Vec::with_capacity(LANES);
    let per_fanout = LANES / FANOUTS;
    for height in 1..=FANOUTS as u64 {
        let block = call::<api::ChainGetBlock>(&c0, (serde_json::json!(height),)).await?;
        let coinbase = &block.transactions[0];
        let value = coinbase.tx.outputs[0].value.to_units();
        let each = (value - 20 * FEE) / per_fanout as u64;
        let tx = wallet.spend(
            &[(
                OutPoint {
                    txid: coinbase.txid,
                    index: 0,
                },
                value,
            )],
            &vec![each; per_fanout],
        );
        let txid = call::<api::TxSubmit>(&c0, (raw(&tx),)).await?;
        for index in 0..per_fanout as u32 {
            lanes.push(Lane {
                coin: OutPoint { txid, index },
                value: each,
                unconfirmed: Vec::new(),
                busy: false,
            });
        }
    }
    call::<api::MiningGenerate>(&c0, (1, Some(miner_address.clone()))).await?;
    for i in 1..nodes.len() {
        let bootnodes = boot(&nodes, i);
        start(&cfg.binary, &mut nodes[i], &bootnodes, &miner_address).await?;
    }

    let mut report = Report::default();
    // In acceptance order: parents before children.
    let mut accepted: Vec<(Txid, Transaction)> = Vec::new();
    let mut lane_of: BTreeMap<Txid, usize> = BTreeMap::new();
    let mut seen_height = 0u64;
    let mut inflight: tokio::task::JoinSet<(usize, Transaction, Result<Txid, CallError>)> =
        tokio::task::JoinSet::new();
    let mut dice = Dice(cfg.seed | 1);
    let started = Instant::now();
    let mut next_fault = started + cfg.fault_every;
    let mut next_rebroadcast = started + Duration::from_secs(10);
    let mut restarts: Vec<(Instant, usize)> = Vec::new();
    let mut adversary: Option<(Instant, Peer)> = None;
    let mut lane = 0usize;
    let interval = Duration::from_secs(1) / cfg.rate.max(1);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_sample = Instant::now();
    while started.elapsed() < cfg.duration {
        tick.tick().await;
        let now = Instant::now();
        if now - last_sample > Duration::from_secs(1) {
            last_sample = now;
            for node in nodes.iter_mut() {
                if let Some(rss) = rss_of(node) {
                    node.peak_rss = node.peak_rss.max(rss);
                }
            }
        }
        // Restarts that are due.
        let mut due = Vec::new();
        restarts.retain(|(at, i)| {
            if *at <= now {
                due.push(*i);
                false
            } else {
                true
            }
        });
        for i in due {
            let bootnodes = boot(&nodes, i);
            start(&cfg.binary, &mut nodes[i], &bootnodes, &miner_address).await?;
        }
        if let Some((until, _)) = &adversary
            && *until <= now
        {
            adversary = None;
        }
        if now >= next_fault {
            next_fault = now + cfg.fault_every;
            fault(
                &mut dice,
                &mut nodes,
                &mut restarts,
                &mut adversary,
                &spec,
                &mut report,
            )
            .await;
        }
        while let Some(done) = inflight.try_join_next() {
            let Ok((l, tx, result)) = done else { continue };
            let lane = &mut lanes[l];
            lane.busy = false;
            match result {
                Ok(txid) => {
                    lane.coin = OutPoint { txid, index: 0 };
                    lane.value -= FEE;
                    lane.unconfirmed.push((txid, Instant::now()));
                    lane_of.insert(txid, l);
                    accepted.push((txid, tx));
                }
                Err(_) => report.refused += 1,
            }
        }
        if now >= next_rebroadcast {
            next_rebroadcast = now + Duration::from_secs(10);
            seen_height = mark_confirmed(&nodes, seen_height, &mut lanes, &lane_of).await;
            rebroadcast_lanes(&nodes, &lanes, &accepted, &lane_of, &mut dice, &mut report);
        }
        // One transaction on the next lane with room.
        let live: Vec<usize> = nodes
            .iter()
            .filter(|n| n.alive())
            .map(|n| n.index)
            .collect();
        if live.is_empty() || inflight.len() >= IN_FLIGHT {
            continue;
        }
        let target = live[dice.below(live.len())];
        let Some(l) = (0..LANES)
            .map(|k| (lane + k) % LANES)
            .find(|l| !lanes[*l].busy && lanes[*l].unconfirmed.len() < MAX_UNCONFIRMED_PER_LANE)
        else {
            continue;
        };
        lane = (l + 1) % LANES;
        let current = &mut lanes[l];
        current.busy = true;
        let tx = wallet.spend(&[(current.coin, current.value)], &[current.value - FEE]);
        let client = nodes[target].client.clone().expect("live");
        inflight.spawn(async move {
            let result = call::<api::TxSubmit>(&client, (raw(&tx),)).await;
            (l, tx, result)
        });
    }
    while let Some(done) = inflight.join_next().await {
        if let Ok((_, tx, Ok(txid))) = done {
            accepted.push((txid, tx));
        }
    }
    report.seconds = started.elapsed().as_secs();
    report.accepted = accepted.len();
    drop(adversary);

    // Heal: restart whatever is down, let bans lapse, reconnect everyone to node 0.
    for (_, i) in std::mem::take(&mut restarts) {
        let bootnodes = boot(&nodes, i);
        start(&cfg.binary, &mut nodes[i], &bootnodes, &miner_address).await?;
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    for node in &nodes {
        if let Some(c) = &node.client {
            for other in &nodes {
                if other.index != node.index {
                    let _ = call::<api::NetAddPeer>(c, (other.p2p.clone(),)).await;
                }
            }
        }
    }
    // Stop mining so that the tips can settle, then let the last pool transactions in.
    for i in 0..nodes.len() {
        if nodes[i].miner {
            kill(&mut nodes[i]).await;
            nodes[i].miner = false;
            let bootnodes = boot(&nodes, i);
            start(&cfg.binary, &mut nodes[i], &bootnodes, &miner_address).await?;
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    // Like a wallet after its node restarts: offer what is unconfirmed, and again after each
    // block (a chain of more than 25 unconfirmed, which a reorganisation can make, enters the
    // pool 25 at a time), until nothing more is taken.
    for _ in 0..20 {
        let taken = rebroadcast_all(&nodes, &accepted, &mut report).await;
        let _ = call::<api::MiningGenerate>(&c0, (1, Some(miner_address.clone()))).await;
        if taken == 0 {
            break;
        }
    }
    report.converged = converge(&nodes, &mut report.height).await;

    // Classify every accepted transaction against node 0.
    let utxos = our_coins(&c0, &address).await?;
    for (txid, tx) in &accepted {
        match lookup(&c0, *txid).await? {
            Some(TxStatus::Confirmed { .. }) => report.confirmed += 1,
            Some(TxStatus::Mempool { .. }) => report.pooled += 1,
            None => {
                if spent_by_confirmed(&c0, tx, &utxos).await {
                    report.replaced += 1;
                } else {
                    report.lost += 1;
                    if report.lost_reasons.len() < 5 {
                        let why = match call::<api::TxSubmit>(&c0, (raw(tx),)).await {
                            Ok(_) => "accepted when offered again".to_owned(),
                            Err(e) => e.to_string(),
                        };
                        report.lost_reasons.push(format!("{txid}: {why}"));
                    }
                }
            }
        }
    }
    for node in nodes.iter_mut() {
        if let Some(rss) = rss_of(node) {
            node.peak_rss = node.peak_rss.max(rss);
        }
        kill(node).await;
    }
    report.peak_rss = nodes.iter().map(|n| n.peak_rss).collect();
    for node in &nodes {
        let log = std::fs::read_to_string(node.dir.with_extension("log")).unwrap_or_default();
        report.panics += log.lines().filter(|l| l.contains("panicked at")).count();
    }
    Ok(report)
}

/// One fault: a SIGKILL (restarted 3 s later), a partition of one node from the rest (bans
/// for 5 s both ways), or a lying peer attached to a node for 5 s.
async fn fault(
    dice: &mut Dice,
    nodes: &mut [NodeProc],
    restarts: &mut Vec<(Instant, usize)>,
    adversary: &mut Option<(Instant, Peer)>,
    spec: &ChainSpec,
    report: &mut Report,
) {
    let live: Vec<usize> = nodes
        .iter()
        .filter(|n| n.alive())
        .map(|n| n.index)
        .collect();
    // Node 0 is the reference the end checks ask; it is partitioned but never killed.
    let victim = live[dice.below(live.len())];
    match dice.below(3) {
        0 if victim != 0 && live.len() > 2 => {
            tracing::info!(node = victim, "chaos: SIGKILL");
            kill(&mut nodes[victim]).await;
            restarts.push((Instant::now() + Duration::from_secs(3), victim));
            report.kills += 1;
        }
        1 => {
            tracing::info!(node = victim, "chaos: partition");
            let ids: Vec<(usize, String)> =
                nodes.iter().map(|n| (n.index, n.peer_id.clone())).collect();
            for (i, id) in &ids {
                if *i == victim {
                    continue;
                }
                if let Some(c) = &nodes[victim].client {
                    let _ = call::<api::NetBan>(c, (id.clone(), 5)).await;
                }
                if let Some(c) = &nodes[*i].client {
                    let _ = call::<api::NetBan>(c, (nodes[victim].peer_id.clone(), 5)).await;
                }
            }
            report.partitions += 1;
        }
        _ => {
            if adversary.is_some() {
                return;
            }
            tracing::info!(node = victim, "chaos: lying peer");
            let genesis = spec.genesis_block().header.hash();
            let work = i8o8i_primitives::U256::MAX >> 1;
            let Ok(mut peer) = Peer::start(Served::lying(genesis, 1_000_000, work)) else {
                return;
            };
            let Ok(addr) = format!("{}/p2p/{}", nodes[victim].p2p, nodes[victim].peer_id).parse()
            else {
                return;
            };
            let Ok(id) = nodes[victim].peer_id.parse() else {
                return;
            };
            if peer.connect(addr, id, Duration::from_secs(5)).await.is_ok() {
                let _ = peer.publish(TopicKind::Transactions, vec![0x00, 0x13, 0x37]);
                *adversary = Some((Instant::now() + Duration::from_secs(5), peer));
                report.adversaries += 1;
            }
        }
    }
}

/// Reads the blocks above `seen_height` from a live node and drops the transactions they
/// confirm from their lanes; returns the new height seen. (A transaction of a block later
/// reorganised away is not watched again: the final pass over every accepted transaction
/// still offers it.)
async fn mark_confirmed(
    nodes: &[NodeProc],
    mut seen_height: u64,
    lanes: &mut [Lane],
    lane_of: &BTreeMap<Txid, usize>,
) -> u64 {
    let Some(client) = nodes.iter().find_map(|n| n.client.clone()) else {
        return seen_height;
    };
    while let Ok(blocks) = call::<api::ChainGetBlocks>(&client, (seen_height + 1, 100)).await {
        for block in &blocks {
            for tx in &block.transactions {
                if let Some(l) = lane_of.get(&tx.txid) {
                    lanes[*l].unconfirmed.retain(|(t, _)| *t != tx.txid);
                }
            }
            seen_height = block.height;
        }
        if blocks.len() < 100 {
            break;
        }
    }
    seen_height
}

/// Like a wallet: offers each lane's transactions unconfirmed for 10 s again, in order, to a
/// random live node, without holding up the load.
fn rebroadcast_lanes(
    nodes: &[NodeProc],
    lanes: &[Lane],
    accepted: &[(Txid, Transaction)],
    lane_of: &BTreeMap<Txid, usize>,
    dice: &mut Dice,
    report: &mut Report,
) {
    let live: Vec<RpcClient> = nodes.iter().filter_map(|n| n.client.clone()).collect();
    if live.is_empty() {
        return;
    }
    let stale = Instant::now() - Duration::from_secs(10);
    let wanted: std::collections::BTreeSet<Txid> = lanes
        .iter()
        .flat_map(|l| l.unconfirmed.iter())
        .filter(|(_, at)| *at < stale)
        .map(|(t, _)| *t)
        .collect();
    let txs: Vec<String> = accepted
        .iter()
        .filter(|(t, _)| wanted.contains(t) && lane_of.contains_key(t))
        .map(|(_, tx)| raw(tx))
        .collect();
    report.rebroadcast += txs.len();
    let client = live[dice.below(live.len())].clone();
    tokio::spawn(async move {
        for tx in txs {
            let _ = call::<api::TxSubmit>(&client, (tx,)).await;
        }
    });
}

/// Where node `client` has `txid`: `Ok(None)` when it does not know it, an error when it
/// could not say (after retries).
async fn lookup(client: &RpcClient, txid: Txid) -> Result<Option<TxStatus>, CallError> {
    let mut attempt = 0;
    loop {
        match call::<api::TxGet>(client, (txid,)).await {
            Ok(t) => return Ok(Some(t.status)),
            Err(CallError::Rpc { code, .. }) if code == ErrorCode::NotFound as i32 => {
                return Ok(None);
            }
            Err(e) if attempt >= 5 => return Err(e),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Offers node 0, in acceptance order, every accepted transaction it has neither confirmed
/// nor pooled; returns how many it took.
async fn rebroadcast_all(
    nodes: &[NodeProc],
    accepted: &[(Txid, Transaction)],
    report: &mut Report,
) -> usize {
    let Some(client) = nodes[0].client.clone() else {
        return 0;
    };
    let mut taken = 0;
    for (txid, tx) in accepted {
        if matches!(lookup(&client, *txid).await, Ok(None))
            && call::<api::TxSubmit>(&client, (raw(tx),)).await.is_ok()
        {
            taken += 1;
        }
    }
    report.rebroadcast += taken;
    taken
}

/// Waits up to 90 s for every node to report one tip, one UTXO set and one state root; returns
/// whether they
/// did, and the height.
async fn converge(nodes: &[NodeProc], height: &mut u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let mut tips: Vec<(u64, BlockHash)> = Vec::new();
        for node in nodes {
            if let Some(c) = &node.client
                && let Ok(info) = call::<api::ChainGetInfo>(c, ()).await
            {
                tips.push((info.height, info.best_hash));
            }
        }
        if tips.len() == nodes.len() && tips.windows(2).all(|w| w[0] == w[1]) {
            let mut sets = Vec::new();
            for node in nodes {
                if let Some(c) = &node.client
                    && let Ok(set) = call::<api::ChainGetUtxoSetInfo>(
                        c,
                        (Some(i8o8i_rpc::types::UtxoHashType::Serialized),),
                    )
                    .await
                {
                    sets.push((set.best_hash, set.hash, set.state_root));
                }
            }
            if sets.len() == nodes.len() && sets.windows(2).all(|w| w[0] == w[1]) {
                *height = tips[0].0;
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// Whether an input of `tx` (which is not confirmed) is a coin that a confirmed transaction
/// spent: its parent is confirmed and the coin is no longer unspent.
async fn spent_by_confirmed(
    client: &RpcClient,
    tx: &Transaction,
    utxos: &std::collections::BTreeSet<OutPoint>,
) -> bool {
    for input in &tx.inputs {
        if utxos.contains(&input.prevout) {
            continue;
        }
        if let Ok(Some(TxStatus::Confirmed { .. })) = lookup(client, input.prevout.txid).await {
            return true;
        }
    }
    false
}

/// Every unspent coin of `address`, page by page.
async fn our_coins(
    client: &RpcClient,
    address: &str,
) -> Result<std::collections::BTreeSet<OutPoint>, ChaosError> {
    let mut coins = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let page =
            call::<api::AddressGetUtxos>(client, (address.to_owned(), after.clone(), None)).await?;
        let done = page.len() < 1_000;
        for u in &page {
            coins.insert(OutPoint {
                txid: u.txid,
                index: u.index,
            });
        }
        after = page.last().map(|u| format!("{}:{}", u.txid, u.index));
        if done {
            return Ok(coins);
        }
    }
}

/// The default work directory of a run.
pub fn default_dir() -> PathBuf {
    std::env::temp_dir().join(format!("i8o8i-chaos-{}", std::process::id()))
}
