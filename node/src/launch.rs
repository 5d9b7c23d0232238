//! Starting and stopping a node: chain spec and data directory resolution, the dev-chain
//! conveniences, the RPC server and the miner.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use i8o8i_config::{NodeConfig, builtin_chain_spec};
use i8o8i_primitives::address::Address;
use i8o8i_rpc::{JwtSecret, Registry, RpcServer, ServerOptions};
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_wallet::{KdfParams, WalletStore};

pub use i8o8i_chain::clock::{SharedClock, SystemClock};

use crate::node::Node;

/// Name and password of the wallet a `--dev` node mines to.
pub const DEV_WALLET: (&str, &str) = ("dev", "dev");

/// The `--dev` wallet's recovery phrase: BIP39's first test vector, public on purpose (like
/// Substrate's `//Alice` or Hardhat's accounts) so that the `dev-stake` chain spec can name its
/// first key as the fallback validator and delegate. Never hold real value with it.
pub const DEV_MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
                                abandon abandon abandon about";

/// How long [`RunningNode::stop`] waits for in-flight work to release the node.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// How to start.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Resolved configuration.
    pub config: NodeConfig,
    /// `--dev`: temporary data directory unless given, a `dev` wallet receiving mined coins,
    /// and blocks paced at the chain's target block time.
    pub dev: bool,
    /// `--produce`: the wallet whose staking key produces blocks.
    pub producer: Option<ProducerOptions>,
    /// The node's clock; `None` is the machine's. Tests run nodes with a skewed clock here.
    pub clock: Option<SharedClock>,
}

/// Block production with a wallet's staking key (its first receive key).
#[derive(Clone)]
pub struct ProducerOptions {
    /// Wallet name (in `<data dir>/wallets`).
    pub wallet: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for ProducerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerOptions")
            .field("wallet", &self.wallet)
            .finish_non_exhaustive()
    }
}

/// A started node.
pub struct RunningNode {
    node: Arc<Node>,
    rpc: RpcServer,
    miner: Option<std::thread::JoinHandle<()>>,
    _temp_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for RunningNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningNode")
            .field("rpc", &self.rpc.local_addr())
            .finish()
    }
}

impl RunningNode {
    /// The node.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The bound RPC address.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc.local_addr()
    }

    /// Stops the miner and the RPC server; the store closes when the last handle drops.
    ///
    /// Returns once the store is closed, so a node can be reopened on the same data directory
    /// right away: RPC connections and handlers still running when the server stops hold the
    /// node for a moment after, and RocksDB refuses a second open while they do. (A caller that
    /// keeps its own clone of [`RunningNode::node`] delays this by up to [`STOP_GRACE`].)
    pub async fn stop(mut self) {
        self.node.shutdown();
        if let Some(miner) = self.miner.take() {
            let _ = tokio::task::spawn_blocking(move || miner.join()).await;
        }
        self.rpc.stop().await;
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        while Arc::strong_count(&self.node) > 1 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    handles = Arc::strong_count(&self.node) - 1,
                    "node still referenced after stop; the store closes when they finish"
                );
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

/// Reads the chain spec named by the configuration: a built-in name or a YAML file.
///
/// # Errors
/// Unknown name, unreadable file or invalid spec.
pub fn load_chain_spec(chain: &str) -> Result<ChainSpec> {
    let text = match builtin_chain_spec(chain) {
        Some(text) => text.to_owned(),
        None => std::fs::read_to_string(chain).with_context(|| {
            let names: Vec<&str> = i8o8i_config::BUILTIN_CHAINS
                .iter()
                .map(|(n, _)| *n)
                .collect();
            format!(
                "chain `{chain}` is neither a built-in chain ({}) nor a readable chain-spec file",
                names.join(", ")
            )
        })?,
    };
    ChainSpec::from_yaml(&text).with_context(|| format!("chain spec `{chain}`"))
}

async fn start_network(
    node: &Arc<Node>,
    config: &NodeConfig,
    data_dir: &std::path::Path,
) -> Result<i8o8i_network::NetworkHandle> {
    use i8o8i_network::{NetworkConfig, load_or_create_key, parse_multiaddr};
    let key_path = config
        .p2p
        .node_key_path
        .clone()
        .unwrap_or_else(|| data_dir.join("network").join("node_key"));
    let key = load_or_create_key(&key_path)?;
    let parse_all = |list: &[String], what: &str| -> Result<Vec<_>> {
        list.iter()
            .map(|a| parse_multiaddr(a).with_context(|| format!("p2p.{what}")))
            .collect()
    };
    let network = NetworkConfig {
        key,
        listen: parse_all(&config.p2p.listen, "listen")?,
        bootnodes: parse_all(&config.p2p.bootnodes, "bootnodes")?,
        max_peers: config.p2p.max_peers,
        redial: i8o8i_network::dialing::RedialPolicy {
            first: std::time::Duration::from_secs(config.p2p.redial_after_secs.max(1)),
            forget_after: config.p2p.forget_after_failed_dials.max(1),
        },
    };
    let access = Arc::new(crate::services::NodeChainAccess(node.clone()));
    let announcements = crate::services::announcements(node);
    Ok(i8o8i_network::start(access, announcements, network).await?)
}

/// Where the JWT secret lives: `rpc.auth.jwt_secret_path`, else `<data dir>/jwt.hex` — except
/// under `--dev` without a data directory, whose directory is temporary: there it is the dev
/// chain's default directory, so `i8o8icoin auth token` and the CLI find it.
pub fn jwt_secret_path(
    config: &NodeConfig,
    temporary_data_dir: bool,
    data_dir: &std::path::Path,
) -> PathBuf {
    if let Some(path) = &config.rpc.auth.jwt_secret_path {
        return path.clone();
    }
    if temporary_data_dir {
        return default_data_dir(&config.chain).join(JWT_FILE);
    }
    data_dir.join(JWT_FILE)
}

/// File name of the JWT secret in a data directory.
pub const JWT_FILE: &str = "jwt.hex";

/// The default data directory of `chain`: `$HOME/.i8o8icoin/<chain>`.
pub fn default_data_dir(chain: &str) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = std::path::Path::new(chain)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| chain.into());
    home.join(".i8o8icoin").join(name)
}

/// Starts a node: opens the chain, starts the RPC server and, if configured, the miner.
///
/// # Errors
/// Bad configuration, an unusable data directory or an address already in use.
pub async fn launch(options: LaunchOptions) -> Result<RunningNode> {
    let LaunchOptions {
        mut config,
        dev,
        producer,
        clock,
    } = options;
    let spec = load_chain_spec(&config.chain)?;
    let mut temp_dir = None;
    let data_dir = match (&config.data_dir, dev) {
        (Some(dir), _) => dir.clone(),
        (None, true) => {
            let dir = tempfile::Builder::new()
                .prefix("i8o8icoin-dev-")
                .tempdir()
                .context("temporary data directory")?;
            let path = dir.path().to_owned();
            temp_dir = Some(dir);
            path
        }
        (None, false) => default_data_dir(&config.chain),
    };
    config.data_dir = Some(data_dir.clone());
    let mut payout = match &config.mining.address {
        Some(a) => Some(Address::parse_for(a, spec.network).context("mining.address")?),
        None => None,
    };
    if dev && payout.is_none() {
        let store = WalletStore::new(data_dir.join("wallets"));
        let (name, password) = DEV_WALLET;
        if !store.exists(name)? {
            let mut wallet = store.restore(name, password, DEV_MNEMONIC, KdfParams::default())?;
            wallet.next_receive()?;
        }
        let info = store.info(name)?;
        let key = info.keys().first().context("dev wallet has no address")?;
        let address = Address::p2pkh(spec.network, key.pubkey_hash());
        tracing::warn!(%address, "dev mode: mining to wallet `dev` (password `dev`)");
        config.mining.address = Some(address.to_string());
        payout = Some(address);
    }

    // Unlocked before anything starts, so a wrong name or password stops the node at once.
    let producer_key = match &producer {
        Some(p) => {
            let store = WalletStore::new(data_dir.join("wallets"));
            let wallet = store
                .open(&p.wallet, &p.password)
                .with_context(|| format!("producer wallet `{}`", p.wallet))?;
            Some(*wallet.receive_key(0)?.secret_key())
        }
        None => None,
    };
    let node = tokio::task::spawn_blocking({
        let (config, spec, data_dir) = (config.clone(), spec.clone(), data_dir.clone());
        move || {
            let clock = clock.unwrap_or_else(|| SystemClock::new().shared());
            Node::open_with_clock(config, spec, &data_dir, clock)
        }
    })
    .await??;
    tracing::info!(data_dir = %data_dir.display(), "data directory");

    if config.p2p.enabled {
        let handle = start_network(&node, &config, &data_dir).await?;
        node.set_network(handle);
        // Peers' blocks that were early on this clock are imported when due.
        let n = node.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
            while !n.is_shutting_down() {
                tick.tick().await;
                if n.early_blocks() > 0 {
                    let n = n.clone();
                    let _ = tokio::task::spawn_blocking(move || n.import_due_blocks()).await;
                }
            }
        });
    }

    let secret = if config.rpc.auth.enabled {
        let path = jwt_secret_path(&config, temp_dir.is_some(), &data_dir);
        let secret = JwtSecret::load_or_create(&path)?;
        tracing::info!(path = %path.display(), "private RPC methods need a JWT signed with this secret (`i8o8icoin auth token`)");
        Some(secret)
    } else {
        None
    };
    let mut registry = Registry::from_arc(node.clone(), i8o8i_rpc::api::METHODS);
    crate::rpc::register(&mut registry);
    let options = ServerOptions {
        secret,
        metrics_sources: vec![crate::services::source(&node)],
    };
    let rpc = RpcServer::start(&config.rpc, registry.into_api(), options)
        .await
        .with_context(|| format!("starting the RPC server on {}", config.rpc.addr))?;

    if producer_key.is_some() && config.mining.enabled && !dev {
        tracing::warn!("mining.enabled is ignored: --produce mines under proof of work itself");
    }
    let miner = if let Some(secret) = producer_key {
        let threads = node.mining_threads();
        let pace = dev.then_some(spec.target_block_time);
        let n = node.clone();
        Some(
            std::thread::Builder::new()
                .name("producer".into())
                .spawn(move || n.run_producer(secret, threads, pace))?,
        )
    } else if config.mining.enabled {
        let Some(payout) = payout else {
            bail!("mining is enabled but mining.address is not set")
        };
        let threads = node.mining_threads();
        let pace = dev.then_some(spec.target_block_time);
        let n = node.clone();
        Some(
            std::thread::Builder::new()
                .name("miner".into())
                .spawn(move || n.run_miner(payout.script_pubkey(), threads, pace))?,
        )
    } else {
        None
    };
    Ok(RunningNode {
        node,
        rpc,
        miner,
        _temp_dir: temp_dir,
    })
}

/// The JWT secret of a node whose data directory is `data_dir`.
///
/// # Errors
/// The file is missing or malformed.
pub fn secret_in(data_dir: &std::path::Path) -> Result<JwtSecret, i8o8i_rpc::auth::SecretError> {
    JwtSecret::read(&data_dir.join(JWT_FILE))
}

/// Where a chain's node keeps its secret by default (`$HOME/.i8o8icoin/<chain>/jwt.hex`).
pub fn default_secret_path(chain: &str) -> PathBuf {
    default_data_dir(chain).join(JWT_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_wallet_key_is_the_dev_stake_fallback_producer() {
        let dir = tempfile::tempdir().unwrap();
        let store = WalletStore::new(dir.path());
        let wallet = store
            .restore("dev", "dev", DEV_MNEMONIC, KdfParams::insecure_for_tests())
            .unwrap();
        let key = hex::encode(wallet.receive_key(0).unwrap().public_key_bytes());
        let spec = builtin_chain_spec("dev-stake").expect("built in");
        assert_eq!(
            spec.matches(&key).count(),
            2,
            "validator and delegate: {key}"
        );
    }
}
