//! `i8o8i-adversary`: mounts one attack on a running network (see `dev-tools/README.md`).

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use i8o8i_adversary::forge::{equivocation, forged_branch, low_work_chain, slot_at};
use i8o8i_adversary::{Event, Peer, Served};
use i8o8i_network::protocol::Request;
use i8o8i_network::topics::TopicKind;
use i8o8i_primitives::pow::work_from_compact;
use i8o8i_primitives::{BlockHash, Header, Seal, U256};
use i8o8i_runtime::spec::ChainSpec;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// How long a node may take to answer.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(
    name = "i8o8i-adversary",
    version,
    about = "A misbehaving I8o8iCoin peer: mounts one attack against a node"
)]
struct Cli {
    /// The target node, with its peer id: /ip4/127.0.0.1/tcp/30333/p2p/12D3...
    #[arg(long, global = true)]
    peer: Option<Multiaddr>,
    /// Chain spec: a built-in name (dev, dev-stake, testnet) or a YAML file.
    #[arg(long, global = true, default_value = "dev")]
    chain: String,
    #[command(subcommand)]
    attack: Attack,
}

#[derive(Subcommand)]
enum Attack {
    /// Claim far more work than we have and answer every headers request with nothing.
    LieStatus {
        /// The height to claim.
        #[arg(long, default_value_t = 1_000_000)]
        height: u64,
    },
    /// Serve a long branch of easiest-target proof-of-work blocks from genesis.
    LowWork {
        /// Blocks in the branch.
        #[arg(long, default_value_t = 10_000)]
        blocks: u64,
        /// Claim this much work (hex) instead of the branch's real work.
        #[arg(long)]
        claim_work: Option<String>,
    },
    /// Gossip a branch of slot blocks sealed by KEY (which owns no slot) from the node's block
    /// at FROM_HEIGHT, every slot filled up to the current slot + 1.
    ForgeBranch {
        /// The sealing secret key (hex).
        #[arg(long)]
        key: String,
        /// Height of the ancestor on the node's best chain.
        #[arg(long)]
        from_height: u64,
    },
    /// Seal two blocks for one slot on the node's tip with KEY and send one to --peer, the
    /// other to --second-peer.
    Equivocate {
        /// The producer's secret key (hex): it must hold the slot for the blocks to be valid.
        #[arg(long)]
        key: String,
        /// The node that gets the second block.
        #[arg(long)]
        second_peer: Multiaddr,
        /// The slot (default: the current one).
        #[arg(long)]
        slot: Option<u64>,
    },
    /// Publish undecodable bytes on both gossip topics and send a malformed request.
    Junk,
    /// Start NODES node processes on loopback and run the chaos: transaction load, SIGKILLs
    /// and restarts, partitions, lying peers; then check convergence and that nothing
    /// accepted was lost (exit status 1 if a check fails). No --peer.
    Chaos {
        /// How long the load and the faults last, in seconds.
        #[arg(long, default_value_t = 600)]
        duration: u64,
        /// Nodes.
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// Transactions per second.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        /// Seconds between faults.
        #[arg(long, default_value_t = 8)]
        fault_every: u64,
        /// The i8o8icoin binary.
        #[arg(long, default_value = "target/release/i8o8icoin")]
        binary: std::path::PathBuf,
        /// Work directory (node data and logs); default a new one under the temp dir.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Seed of the fault schedule.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Start NODES node processes of --chain on loopback (node 0 mines a block every target
    /// block time) and submit pre-signed P2PKH payments at each of RATES transactions/s for
    /// STEP seconds, in calls of up to BATCH, round-robin over the nodes; report confirmed
    /// transactions/s, latency to confirmation on every node, block propagation and bytes,
    /// and the ceiling. No --peer
    Throughput {
        /// Nodes.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Offered rates, transactions/s, comma-separated: one step each.
        #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,4000")]
        rates: Vec<u32>,
        /// Seconds per step.
        #[arg(long, default_value_t = 30)]
        step: u64,
        /// Transactions per `tx_submitBatch` call, at most (1: one `tx_submit` each).
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// The i8o8icoin binary.
        #[arg(long, default_value = "target/release/i8o8icoin")]
        binary: std::path::PathBuf,
        /// Work directory (node data and logs); default a new one under the temp dir.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Keep the nodes' data directories (a run of tens of thousands of transactions a
        /// second leaves gigabytes); the logs are always kept.
        #[arg(long)]
        keep_data: bool,
    },
}

fn peer_id(addr: &Multiaddr) -> anyhow::Result<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(id)) => Ok(id),
        _ => bail!("{addr} does not end in /p2p/<peer id>"),
    }
}

fn load_spec(chain: &str) -> anyhow::Result<ChainSpec> {
    let text = match i8o8i_config::builtin_chain_spec(chain) {
        Some(text) => text.to_owned(),
        None => std::fs::read_to_string(chain).with_context(|| format!("chain spec {chain}"))?,
    };
    Ok(ChainSpec::from_yaml(&text)?)
}

fn secret(hex_key: &str) -> anyhow::Result<secp256k1::SecretKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes).context("--key must be 64 hex digits")?;
    Ok(secp256k1::SecretKey::from_secret_bytes(bytes)?)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Connects a fresh peer serving `served` to `addr`.
async fn connected(addr: &Multiaddr, served: Served) -> anyhow::Result<(Peer, PeerId)> {
    let node = peer_id(addr)?;
    let mut peer = Peer::start(served)?;
    peer.connect(addr.clone(), node, TIMEOUT).await?;
    println!("connected to {node} as {}", peer.id);
    Ok((peer, node))
}

/// The node's best chain, genesis excluded.
async fn node_chain(
    peer: &mut Peer,
    node: PeerId,
    genesis: BlockHash,
) -> anyhow::Result<Vec<Header>> {
    Ok(peer.fetch_chain(node, genesis, u64::MAX, TIMEOUT).await?)
}

/// Prints what the node asks until Ctrl-C or the node drops us.
async fn watch(mut peer: Peer) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            event = peer.next_event() => match event {
                Some(Event::Asked(p, request)) => println!("{p} asked {}", describe(&request)),
                Some(Event::Closed(p)) => {
                    println!("{p} closed the connection (banned, or shut down)");
                    return Ok(());
                }
                Some(_) => {}
                None => return Ok(()),
            },
        }
    }
}

fn describe(request: &Request) -> String {
    match request {
        Request::Status => "our status".into(),
        Request::Headers { locator, max } => {
            format!("{max} headers after a {}-hash locator", locator.len())
        }
        Request::Blocks(h) => format!("{} blocks", h.len()),
        Request::MempoolTxs => "our pool".into(),
        Request::BlockTxs { indexes, .. } => {
            format!("{} transactions of a compact block", indexes.len())
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    if let Attack::Chaos {
        duration,
        nodes,
        rate,
        fault_every,
        binary,
        dir,
        seed,
    } = cli.attack
    {
        let dir = dir.unwrap_or_else(i8o8i_adversary::chaos::default_dir);
        println!(
            "chaos: {nodes} nodes, {rate} tx/s, {duration} s, logs in {}",
            dir.display()
        );
        let report = i8o8i_adversary::chaos::run(i8o8i_adversary::chaos::ChaosConfig {
            binary,
            dir,
            nodes,
            duration: Duration::from_secs(duration),
            rate,
            fault_every: Duration::from_secs(fault_every),
            seed,
        })
        .await?;
        println!("{report}");
        if !report.passed() {
            bail!("the chaos run failed its checks");
        }
        return Ok(());
    }
    if let Attack::Throughput {
        nodes,
        rates,
        step,
        batch,
        binary,
        dir,
        keep_data,
    } = cli.attack
    {
        let dir = dir.unwrap_or_else(i8o8i_adversary::throughput::default_dir);
        println!(
            "throughput: {nodes} node(s) of chain {}, {rates:?} tx/s, {step} s a step, \
             batches of up to {batch}, logs in {}",
            cli.chain,
            dir.display()
        );
        let report =
            i8o8i_adversary::throughput::run(i8o8i_adversary::throughput::ThroughputConfig {
                binary,
                dir,
                nodes,
                rates,
                step: Duration::from_secs(step),
                chain: cli.chain,
                batch,
                keep_data,
            })
            .await?;
        println!("{report}");
        return Ok(());
    }
    let spec = load_spec(&cli.chain)?;
    let genesis = spec.genesis_block().header.hash();
    let addr = cli.peer.context("--peer is required")?;
    match cli.attack {
        Attack::LieStatus { height } => {
            let work = U256::MAX >> 1;
            let (peer, _) = connected(&addr, Served::lying(genesis, height, work)).await?;
            println!("claiming height {height} and answering headers requests with nothing");
            watch(peer).await
        }
        Attack::LowWork { blocks, claim_work } => {
            println!("mining {blocks} easiest-target blocks from genesis");
            let chain = low_work_chain(&spec, blocks);
            let real = chain.iter().fold(U256::zero(), |w, b| match b.header.seal {
                Seal::Pow { bits, .. } => w + work_from_compact(bits).unwrap_or_default(),
                Seal::Producer { .. } => w,
            });
            let work = match claim_work {
                Some(hex) => U256::from_str_radix(&hex, 16).context("--claim-work")?,
                None => real,
            };
            let (peer, _) = connected(&addr, Served::chain(genesis, chain, work)).await?;
            println!("serving them, claiming work {work:#x} (real {real:#x})");
            watch(peer).await
        }
        Attack::ForgeBranch { key, from_height } => {
            let secret = secret(&key)?;
            let (mut peer, node) = connected(&addr, Served::nothing(genesis)).await?;
            let chain = node_chain(&mut peer, node, genesis).await?;
            let ancestor = match from_height {
                0 => spec.genesis_block().header,
                h => chain
                    .get(h as usize - 1)
                    .cloned()
                    .with_context(|| format!("the node has no block at height {h}"))?,
            };
            let now_slot = slot_at(&spec, ancestor.height + 1, unix_now())
                .context("proof of work runs after that height: no slots to forge")?;
            let branch = forged_branch(&spec, &ancestor, &secret, now_slot + 1);
            println!(
                "gossiping {} forged blocks from height {} (slots up to {})",
                branch.len(),
                ancestor.height,
                now_slot + 1
            );
            peer.serve(Served::chain(genesis, branch.clone(), U256::MAX >> 1))?;
            for block in &branch {
                peer.publish_block(block)?;
            }
            watch(peer).await
        }
        Attack::Equivocate {
            key,
            second_peer,
            slot,
        } => {
            let secret = secret(&key)?;
            let (mut first, node) = connected(&addr, Served::nothing(genesis)).await?;
            let (second, _) = connected(&second_peer, Served::nothing(genesis)).await?;
            let chain = node_chain(&mut first, node, genesis).await?;
            let tip = chain
                .last()
                .cloned()
                .unwrap_or_else(|| spec.genesis_block().header);
            let slot = match slot {
                Some(s) => s,
                None => slot_at(&spec, tip.height + 1, unix_now())
                    .context("proof of work runs at the next height")?,
            };
            // No state here to compute the blocks' roots from: they carry zero roots, which
            // is enough for evidence (signed headers) but makes a node that tries to connect
            // one refuse it and mark this peer down.
            let (a, b) = equivocation(&spec, &tip, slot, &secret, &|_| None);
            first.publish_block(&a)?;
            second.publish_block(&b)?;
            println!(
                "slot {slot} on {}: sent {} to {addr} and {} to {second_peer}",
                tip.hash(),
                a.header.hash(),
                b.header.hash()
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
            Ok(())
        }
        Attack::Junk => {
            let (peer, node) = connected(&addr, Served::nothing(genesis)).await?;
            peer.publish(TopicKind::Blocks, vec![0xff; 1_000])?;
            peer.publish(TopicKind::Transactions, vec![0x00, 0x13, 0x37])?;
            peer.request(node, Request::Blocks(vec![genesis; 1_000]))?;
            println!("sent junk blocks, a junk transaction and an oversized request");
            watch(peer).await
        }
        Attack::Chaos { .. } | Attack::Throughput { .. } => {
            unreachable!("handled before a --peer is needed")
        }
    }
}
