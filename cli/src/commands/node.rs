//! `i8o8icoin node`: run a full node. Flags are validated into the node's layered
//! configuration (defaults < YAML < `I8O8I_*` environment < flags).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use i8o8i_config::{LogFormat, NodeConfig};
use i8o8i_node::launch::{LaunchOptions, ProducerOptions, launch};
use i8o8i_node::launch::{SharedClock, SystemClock};
use serde_json::Value;

use super::common::{PasswordArg, password};

#[derive(Args)]
pub(crate) struct NodeArgs {
    /// Development chain: instant proof of work, a block every 2 s, a fresh temporary data
    /// directory unless --data-dir is given, and a "dev" wallet (password "dev") that receives
    /// the mined coins.
    #[arg(long)]
    dev: bool,
    /// Chain: dev, testnet, or the path of a chain-spec YAML file.
    #[arg(long)]
    chain: Option<String>,
    /// Data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// YAML configuration file (see config/node.example.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long)]
    rpc_addr: Option<String>,
    /// Mine continuously.
    #[arg(long)]
    mine: bool,
    /// Address receiving mined coins.
    #[arg(long)]
    mining_address: Option<String>,
    /// Mining threads (0 = one per core).
    #[arg(long)]
    mining_threads: Option<usize>,
    /// Log format: human or json.
    #[arg(long)]
    log_format: Option<String>,
    /// P2P listen multiaddr, e.g. /ip4/0.0.0.0/tcp/30808 or /ip4/127.0.0.1/tcp/0/ws (port 0
    /// picks a free port); repeatable, replaces p2p.listen.
    #[arg(long = "p2p-listen", value_name = "MULTIADDR")]
    p2p_listen: Vec<String>,
    /// Peer to dial at start, e.g. /ip4/127.0.0.1/tcp/30808/p2p/12D3Koo…; repeatable, replaces
    /// p2p.bootnodes.
    #[arg(long = "bootnode", value_name = "MULTIADDR")]
    bootnodes: Vec<String>,
    /// Run without networking (a standalone chain).
    #[arg(long)]
    no_p2p: bool,
    /// Produce blocks: seal this node's slots under PoS / DPoS and mine under PoW, with the
    /// staking key (first address) of --producer-wallet (with --dev: the dev wallet).
    #[arg(long)]
    produce: bool,
    /// Wallet in the node's data directory whose first key produces (with --produce).
    #[arg(long)]
    producer_wallet: Option<String>,
    /// Read the producer wallet's password from this file (first line) instead of prompting.
    #[arg(long)]
    producer_password_file: Option<PathBuf>,
    /// While syncing, skip the scripts of this block's ancestors once it is buried deep in
    /// the best header chain (a block hash; 0 verifies every script; default: the chain
    /// spec's block).
    #[arg(long, value_name = "HASH")]
    assume_valid: Option<String>,
}

/// Runs a node until Ctrl-C.
pub(crate) async fn execute(args: NodeArgs) -> Result<()> {
    let options = node_options(args)?;
    init_logging(options.config.log.format, &options.config.log.filter);
    let running = launch(options).await?;
    println!("RPC listening on http://{}", running.rpc_addr());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

fn node_options(args: NodeArgs) -> Result<LaunchOptions> {
    let mut overrides = serde_json::Map::new();
    let mut set = |path: &[&str], value: Value| {
        let mut map = &mut overrides;
        for key in &path[..path.len() - 1] {
            map = map
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()))
                .as_object_mut()
                .expect("override sections are objects");
        }
        map.insert(path[path.len() - 1].to_owned(), value);
    };
    if args.dev {
        set(&["chain"], "dev".into());
    }
    if let Some(c) = args.chain {
        set(&["chain"], c.into());
    }
    if let Some(d) = &args.data_dir {
        set(&["data_dir"], d.display().to_string().into());
    }
    if let Some(a) = args.rpc_addr {
        set(&["rpc", "addr"], a.into());
    }
    if args.mine || args.dev {
        set(&["mining", "enabled"], true.into());
    }
    if let Some(a) = args.mining_address {
        set(&["mining", "address"], a.into());
    }
    if let Some(t) = args.mining_threads {
        set(&["mining", "threads"], t.into());
    }
    if let Some(f) = args.log_format {
        set(&["log", "format"], f.into());
    }
    if !args.p2p_listen.is_empty() {
        set(&["p2p", "listen"], args.p2p_listen.into());
    }
    if !args.bootnodes.is_empty() {
        set(&["p2p", "bootnodes"], args.bootnodes.into());
    }
    if args.no_p2p {
        set(&["p2p", "enabled"], false.into());
    }
    if args.produce {
        set(&["producer", "enabled"], true.into());
    }
    if let Some(block) = args.assume_valid {
        set(&["assume_valid"], block.into());
    }
    let wallet_flag = args.producer_wallet.is_some();
    if let Some(w) = args.producer_wallet {
        set(&["producer", "wallet"], w.into());
    }
    if let Some(f) = &args.producer_password_file {
        set(
            &["producer", "password_file"],
            f.display().to_string().into(),
        );
    }
    // ConfigError's message already says "invalid configuration" and names the key.
    let config = NodeConfig::load(args.config.as_deref(), &Value::Object(overrides))?;
    let producer = &config.producer;
    let producer = match (producer.enabled, &producer.wallet) {
        (true, Some(wallet)) => {
            let password = password(
                &PasswordArg {
                    password_file: producer.password_file.clone(),
                },
                false,
            )?;
            Some(ProducerOptions {
                wallet: wallet.clone(),
                password,
            })
        }
        (true, None) if args.dev => {
            let (wallet, password) = i8o8i_node::launch::DEV_WALLET;
            Some(ProducerOptions {
                wallet: wallet.into(),
                password: password.into(),
            })
        }
        (true, None) => {
            bail!("--produce needs --producer-wallet NAME (producer.wallet): a wallet of this node")
        }
        (false, Some(_)) if wallet_flag => {
            bail!("--producer-wallet is used with --produce")
        }
        (false, _) => None,
    };
    Ok(LaunchOptions {
        config,
        clock: clock_from_env()?,
        dev: args.dev,
        producer,
    })
}

/// Environment setting that runs the node on a clock this many seconds off (may be negative):
/// for testing how a network copes with skewed clocks, never for production.
pub(crate) const CLOCK_SKEW_ENV: &str = "I8O8I_CLOCK_SKEW_SECS";

fn clock_from_env() -> Result<Option<SharedClock>> {
    match std::env::var(CLOCK_SKEW_ENV) {
        Err(_) => Ok(None),
        Ok(text) => {
            let secs: i64 = text
                .trim()
                .parse()
                .with_context(|| format!("{CLOCK_SKEW_ENV}={text:?} is not a number of seconds"))?;
            tracing::warn!(secs, "running on a skewed clock ({CLOCK_SKEW_ENV})");
            Ok(Some(SystemClock::skewed(secs).shared()))
        }
    }
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
