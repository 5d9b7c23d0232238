//! Configuration of the I8o8iCoin node.
//!
//! A [`NodeConfig`] is assembled from layers, each overriding the one before (figment):
//! built-in defaults < a YAML file (`--config`) < `I8O8I_*` environment variables (nested keys
//! joined with `__`, e.g. `I8O8I_RPC__ADDR=0.0.0.0:5000`) < command-line flags. Every section
//! rejects unknown keys, and the error names the key and where it came from.
//!
//! The crate also ships the built-in chain specs (`dev`, `testnet`) as YAML text; their schema
//! is `i8o8i_runtime::ChainSpec`. This crate is a leaf: it knows nothing of chain types.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::Source;
use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Yaml};
use figment::value::Value;
use serde::{Deserialize, Serialize};

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "I8O8I_";

/// `I8O8I_*` variables that belong to the command-line client (`I8O8I_RPC_URL`,
/// `I8O8I_JWT_SECRET`), not to the node's configuration: a shell that exports them for the CLI
/// must still be able to start a node.
pub const CLIENT_ENV_KEYS: &[&str] = &["rpc_url", "jwt_secret"];

/// The environment layer: `I8O8I_<SECTION>__<KEY>`, without the client's variables.
pub fn env_layer() -> Env {
    Env::prefixed(ENV_PREFIX)
        .split("__")
        .ignore(CLIENT_ENV_KEYS)
}

/// The default JSON-RPC address: the seed prototype's port, on loopback only.
pub const DEFAULT_RPC_ADDR: &str = "127.0.0.1:5000";

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `--config` file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A layer has an unknown key, a wrong type or an invalid value. The message names the
    /// key, the layer it came from (file path, environment variable or flag) and the value.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl ConfigError {
    /// Describes `err`, one problem after another: the key as the user wrote it, where it came
    /// from, the offending value where there is one, and what is wrong. (figment's own rendering
    /// prefixes the profile, `default.`, names the environment by a dotted key rather than the
    /// variable, and never shows the value.)
    fn invalid(figment: &Figment, err: figment::Error) -> ConfigError {
        let problems: Vec<String> = err
            .into_iter()
            .map(|e| {
                let mut key: Vec<String> = e.path.clone();
                let what = match &e.kind {
                    Kind::UnknownField(field, expected) => {
                        if key.last() != Some(field) {
                            key.push(field.clone());
                        }
                        format!("unknown key; expected one of: {}", expected.join(", "))
                    }
                    kind => kind.to_string(),
                };
                let dotted = key.join(".");
                let place = match e.metadata.as_ref() {
                    Some(md) => match &md.source {
                        Some(Source::File(path)) if key.is_empty() => path.display().to_string(),
                        Some(Source::File(path)) => {
                            format!("key `{dotted}` in {}", path.display())
                        }
                        _ if md.name.contains("environment") => format!(
                            "environment variable {ENV_PREFIX}{}",
                            key.join("__").to_ascii_uppercase()
                        ),
                        // The built-in defaults always extract, so this is a flag.
                        _ => format!("command-line value for `{dotted}`"),
                    },
                    None if key.is_empty() => "configuration".to_owned(),
                    None => format!("`{dotted}`"),
                };
                let value = match &e.kind {
                    Kind::UnknownField(..) | Kind::MissingField(_) => None,
                    _ if key.is_empty() => None,
                    _ => figment.find_value(&dotted).ok().and_then(|v| match v {
                        Value::String(_, s) => Some(format!("{s:?}")),
                        Value::Bool(_, b) => Some(b.to_string()),
                        v => v
                            .to_u128()
                            .map(|n| n.to_string())
                            .or_else(|| v.to_i128().map(|n| n.to_string())),
                    }),
                };
                let value = value.map(|v| format!(" = {v}")).unwrap_or_default();
                format!("{place}{value}: {what}")
            })
            .collect();
        ConfigError::Invalid(problems.join("; "))
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Output format.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,i8o8i_node=debug`. `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Human,
            filter: "info".into(),
        }
    }
}

/// The JSON-RPC server (HTTP and WebSocket on one port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    /// Listen address.
    pub addr: SocketAddr,
    /// Largest request body (HTTP) or message (WebSocket) accepted, in bytes.
    pub max_request_bytes: u32,
    /// Largest response produced, in bytes.
    pub max_response_bytes: u32,
    /// Most simultaneous connections (HTTP keep-alive and WebSocket together).
    pub max_connections: u32,
    /// Most calls in one batch request.
    pub max_batch_len: u32,
    /// Most open subscriptions on one WebSocket connection.
    pub max_subscriptions_per_connection: u32,
    /// Messages queued for one WebSocket connection; a subscriber that lets the queue fill up
    /// is dropped with a close reason.
    pub subscription_buffer: u32,
    /// Who may call private methods.
    pub auth: RpcAuthConfig,
    /// Request rate limits.
    pub rate_limit: RateLimitConfig,
    /// Origins allowed to call from a browser (CORS): `["*"]` for any, empty for none.
    pub cors_origins: Vec<String>,
    /// Host names (besides IP addresses and `localhost`) requests may name in their `Host`
    /// header while auth is disabled; others are refused, so a web page on a domain that
    /// resolves to this machine (DNS rebinding) cannot reach an unauthenticated node.
    pub allowed_hosts: Vec<String>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            addr: DEFAULT_RPC_ADDR.parse().expect("valid default address"),
            max_request_bytes: 10 * 1024 * 1024,
            max_response_bytes: 10 * 1024 * 1024,
            max_connections: 100,
            max_batch_len: 100,
            max_subscriptions_per_connection: 64,
            subscription_buffer: 1024,
            auth: RpcAuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
        }
    }
}

/// JWT authentication of private methods (HS256, as Ethereum's engine API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcAuthConfig {
    /// Require `Authorization: Bearer <JWT>` for private methods. Turning it off is meant for
    /// development; the node warns when it is off on a non-loopback address.
    pub enabled: bool,
    /// The hex-encoded 256-bit secret; default `<data dir>/jwt.hex` (`--dev`:
    /// `$HOME/.i8o8icoin/dev/jwt.hex`), created with mode 0600 on first start.
    pub jwt_secret_path: Option<PathBuf>,
}

impl Default for RpcAuthConfig {
    fn default() -> Self {
        RpcAuthConfig {
            enabled: true,
            jwt_secret_path: None,
        }
    }
}

/// Rate limits; 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// HTTP requests (and WebSocket handshakes) per second per client IP; over it the node
    /// answers 429 with `Retry-After`.
    pub per_ip_per_second: u32,
    /// Requests a client IP may send at once before the per-second rate applies.
    pub per_ip_burst: u32,
    /// Calls per second on one connection, counting every WebSocket message and every
    /// element of a batch; over it a call gets error -32071.
    pub per_connection_calls_per_second: u32,
    /// Calls one connection may make at once before the per-second rate applies.
    pub per_connection_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_ip_per_second: 1_000,
            per_ip_burst: 2_000,
            per_connection_calls_per_second: 1_000,
            per_connection_burst: 2_000,
        }
    }
}

/// Block production under proof of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MiningConfig {
    /// Mine continuously.
    pub enabled: bool,
    /// Address paid by mined coinbases; required when `enabled`.
    pub address: Option<String>,
    /// Mining threads; 0 means one per core.
    pub threads: usize,
}

/// Block production with a node wallet's staking key: sealing the node's PoS / DPoS slots and
/// mining under PoW.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerConfig {
    /// Produce blocks.
    pub enabled: bool,
    /// The wallet (in `<data_dir>/wallets`) whose first key produces; required when enabled
    /// (except with `--dev`, which uses the dev wallet).
    pub wallet: Option<String>,
    /// File whose first line is the wallet's password; prompted for when absent.
    pub password_file: Option<PathBuf>,
}

/// The transaction pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    /// Size cap of all pooled transactions, in bytes; the lowest fee rates are evicted beyond it.
    pub max_bytes: u64,
    /// Minimum fee rate for relay and mining, in base units per byte.
    pub min_fee_rate: u64,
    /// Transactions older than this many seconds are dropped.
    pub expiry_secs: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_bytes: 64 * 1024 * 1024,
            min_fee_rate: 1,
            expiry_secs: 14 * 24 * 3600,
        }
    }
}

/// Fewest blocks a pruned node keeps (Bitcoin Core's `MIN_BLOCKS_TO_KEEP`).
pub const MIN_PRUNE_BLOCKS: u64 = 288;

/// How many recent blocks a node keeps: 0 keeps every block; otherwise at least
/// [`MIN_PRUNE_BLOCKS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct PruneDepth(u64);

impl PruneDepth {
    /// Blocks kept, `None` for all of them.
    pub fn keep(self) -> Option<u64> {
        (self.0 > 0).then_some(self.0)
    }
}

impl TryFrom<u64> for PruneDepth {
    type Error = String;

    fn try_from(blocks: u64) -> Result<Self, Self::Error> {
        if blocks != 0 && blocks < MIN_PRUNE_BLOCKS {
            return Err(format!(
                "prune must be 0 (keep every block) or at least {MIN_PRUNE_BLOCKS} blocks, not {blocks}"
            ));
        }
        Ok(PruneDepth(blocks))
    }
}

impl From<PruneDepth> for u64 {
    fn from(depth: PruneDepth) -> u64 {
        depth.0
    }
}

/// Which block's ancestors connect without running their scripts while syncing (Bitcoin
/// Core's `-assumevalid`): the chain spec's block (the default), none (`"0"`: every script is
/// run), or the block with this hash (64 hex digits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AssumeValid {
    /// The chain spec's `assume_valid`.
    #[default]
    ChainSpec,
    /// Verify every script.
    Off,
    /// This block (its hash's bytes in the order it is displayed).
    Block([u8; 32]),
}

impl TryFrom<String> for AssumeValid {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let text = text.trim();
        match text {
            "" | "spec" => return Ok(AssumeValid::ChainSpec),
            "0" => return Ok(AssumeValid::Off),
            _ => {}
        }
        let bad = || {
            format!(
                "assume_valid must be a block hash (64 hex digits), \"0\" (verify every script) \
                 or \"spec\" (the chain spec's block), not {text:?}"
            )
        };
        if text.len() != 64 || !text.is_ascii() {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(AssumeValid::Block(bytes))
    }
}

impl From<AssumeValid> for String {
    fn from(value: AssumeValid) -> String {
        match value {
            AssumeValid::ChainSpec => "spec".into(),
            AssumeValid::Off => "0".into(),
            AssumeValid::Block(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The block store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Keep only the last this-many blocks' bodies and undo data (0: keep all). Never fewer
    /// than a reorganisation to the last irreversible / final block needs.
    pub prune: PruneDepth,
    /// At start, recompute the state root from the whole UTXO set and key/value state and
    /// refuse to run if it differs from the tip's (reads the whole state once).
    pub verify_state: bool,
    /// RocksDB's block cache in MiB, shared by every column family (Bitcoin Core's
    /// `-dbcache` plays this part): recently read data, index and filter blocks.
    pub cache_mb: CacheMb,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            prune: PruneDepth::default(),
            verify_state: true,
            cache_mb: CacheMb::default(),
        }
    }
}

/// The store's block cache size in MiB: [`CacheMb::MIN`] to [`CacheMb::MAX`], default
/// [`CacheMb::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct CacheMb(u64);

impl CacheMb {
    /// Smallest cache: RocksDB's own default is 32 MiB; below a few MiB every read goes to disk.
    pub const MIN: u64 = 4;
    /// Largest cache (64 GiB).
    pub const MAX: u64 = 64 * 1024;
    /// The default, near Bitcoin Core's `-dbcache` (450 MiB). At 128 MiB a node with about
    /// two million coins under 20,000 payments a second fell off a cliff: the coins and
    /// state-tree nodes it reads no longer fit, every read decompressed a block, and
    /// admission dropped from 16,000 to under 2,000 a second (`docs/throughput.md`).
    pub const DEFAULT: u64 = 512;

    /// The size in bytes.
    pub fn bytes(self) -> usize {
        usize::try_from(self.0.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

impl Default for CacheMb {
    fn default() -> Self {
        CacheMb(Self::DEFAULT)
    }
}

impl TryFrom<u64> for CacheMb {
    type Error = String;

    fn try_from(mb: u64) -> Result<Self, Self::Error> {
        if !(Self::MIN..=Self::MAX).contains(&mb) {
            return Err(format!(
                "cache_mb must be {} to {} MiB, not {mb}",
                Self::MIN,
                Self::MAX
            ));
        }
        Ok(CacheMb(mb))
    }
}

impl From<CacheMb> for u64 {
    fn from(mb: CacheMb) -> u64 {
        mb.0
    }
}

/// Default P2P port (TCP; WebSocket listens on the next port).
pub const DEFAULT_P2P_PORT: u16 = 30_808;

/// The peer-to-peer network (libp2p).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Run the network at all; off, the node is a standalone chain.
    pub enabled: bool,
    /// Listen multiaddrs: `/ip4/…/tcp/PORT` for TCP, `/ip4/…/tcp/PORT/ws` for WebSocket;
    /// port 0 picks a free port (`net_getInfo` reports the bound addresses).
    pub listen: Vec<String>,
    /// Peers dialled at start and used to join the Kademlia DHT, as multiaddrs ending in
    /// `/p2p/<peer id>` (the id may be omitted).
    pub bootnodes: Vec<String>,
    /// Most connected peers (inbound plus outbound).
    pub max_peers: u32,
    /// The node's ed25519 identity key; default `<data dir>/network/node_key` (created on first
    /// start, so the peer id is stable across restarts).
    pub node_key_path: Option<PathBuf>,
    /// Seconds to wait before dialling again a peer whose dial failed; doubles with each
    /// failure in a row, at most ten minutes.
    pub redial_after_secs: u64,
    /// Failed dials in a row after which a peer is forgotten (out of the routing table and the
    /// remembered addresses).
    pub forget_after_failed_dials: u32,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            enabled: true,
            listen: vec![
                format!("/ip4/0.0.0.0/tcp/{DEFAULT_P2P_PORT}"),
                format!("/ip4/0.0.0.0/tcp/{}/ws", DEFAULT_P2P_PORT + 1),
            ],
            bootnodes: Vec::new(),
            max_peers: 50,
            node_key_path: None,
            redial_after_secs: 5,
            forget_after_failed_dials: 8,
        }
    }
}

/// The whole node configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Chain: `dev`, `testnet`, or the path of a chain-spec YAML file.
    pub chain: String,
    /// Data directory; default `$HOME/.i8o8icoin/<chain>` (a fresh temporary one for `--dev`).
    pub data_dir: Option<PathBuf>,
    /// Logging.
    pub log: LogConfig,
    /// JSON-RPC.
    pub rpc: RpcConfig,
    /// Mining.
    pub mining: MiningConfig,
    /// Block production (PoS / DPoS slots, PoW mining) with a wallet's key.
    pub producer: ProducerConfig,
    /// Mempool.
    pub mempool: MempoolConfig,
    /// Peer-to-peer network.
    pub p2p: P2pConfig,
    /// Block store.
    pub storage: StorageConfig,
    /// The block whose ancestors skip script checks while syncing (`--assume-valid`).
    pub assume_valid: AssumeValid,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            chain: "testnet".into(),
            data_dir: None,
            log: LogConfig::default(),
            rpc: RpcConfig::default(),
            mining: MiningConfig::default(),
            producer: ProducerConfig::default(),
            mempool: MempoolConfig::default(),
            p2p: P2pConfig::default(),
            storage: StorageConfig::default(),
            assume_valid: AssumeValid::default(),
        }
    }
}

impl NodeConfig {
    /// Loads the configuration: defaults, then `file` (if any), then the process environment
    /// (`I8O8I_*`), then `overrides` (typically the command-line flags that were given, as a
    /// nested map of only the keys to override).
    ///
    /// # Errors
    /// [`ConfigError::Read`] if `file` cannot be read; [`ConfigError::Invalid`] for unknown
    /// keys, wrong types or bad values in any layer.
    pub fn load<T: Serialize>(
        file: Option<&Path>,
        overrides: &T,
    ) -> Result<NodeConfig, ConfigError> {
        Self::extract(&Self::figment(file, env_layer(), overrides)?)
    }

    /// Extracts the configuration from the layered `figment`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] describing every problem found.
    pub fn extract(figment: &Figment) -> Result<NodeConfig, ConfigError> {
        figment
            .extract()
            .map_err(|e| ConfigError::invalid(figment, e))
    }

    /// The layered figment, with the environment layer given explicitly (tests pass their own).
    ///
    /// # Errors
    /// [`ConfigError::Read`] if `file` cannot be read.
    pub fn figment<T: Serialize>(
        file: Option<&Path>,
        env: Env,
        overrides: &T,
    ) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(NodeConfig::default()));
        if let Some(path) = file {
            // Check it ourselves: figment's file provider treats a missing file as empty.
            std::fs::File::open(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            // `file_exact`: no search of parent directories, and errors name the path.
            figment = figment.merge(Yaml::file_exact(path));
        }
        Ok(figment.merge(env).merge(Serialized::defaults(overrides)))
    }
}

/// The built-in chain specs, by name.
pub const BUILTIN_CHAINS: &[(&str, &str)] = &[
    ("dev", include_str!("../chains/dev.yaml")),
    ("testnet", include_str!("../chains/testnet.yaml")),
    ("dev-stake", include_str!("../chains/dev-stake.yaml")),
];

/// The YAML text of a built-in chain spec.
pub fn builtin_chain_spec(name: &str) -> Option<&'static str> {
    BUILTIN_CHAINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, yaml)| *yaml)
}

/// The example node configuration shipped in `config/node.example.yaml`.
pub const EXAMPLE_CONFIG: &str = include_str!("../node.example.yaml");

#[cfg(test)]
// figment::Jail's closure returns figment::Error, whose size is figment's choice.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_env() -> Env {
        Env::prefixed("I8O8I_TEST_UNUSED_PREFIX_")
    }

    fn load_with(
        file: Option<&Path>,
        env: Env,
        overrides: serde_json::Value,
    ) -> Result<NodeConfig, ConfigError> {
        NodeConfig::extract(&NodeConfig::figment(file, env, &overrides)?)
    }

    fn yaml(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn defaults_serve_rpc_on_loopback_port_5000() {
        let c = load_with(None, no_env(), json!({})).unwrap();
        assert_eq!(c.rpc.addr.to_string(), "127.0.0.1:5000");
        assert!(!c.mining.enabled);
    }

    #[test]
    fn layers_override_in_order() {
        let f = yaml(
            "chain: dev\nrpc:\n  addr: 127.0.0.1:6000\n  max_connections: 7\nmining:\n  threads: 3\n",
        );
        figment::Jail::expect_with(|jail| {
            jail.set_env("I8O8I_RPC__ADDR", "127.0.0.1:7000");
            jail.set_env("I8O8I_MINING__THREADS", "4");
            let env = Env::prefixed(ENV_PREFIX).split("__");
            let c = load_with(Some(f.path()), env, json!({"mining": {"threads": 5}})).unwrap();
            assert_eq!(c.chain, "dev", "file beats defaults");
            assert_eq!(
                c.rpc.max_connections, 7,
                "file value kept where nothing overrides it"
            );
            assert_eq!(c.rpc.addr.to_string(), "127.0.0.1:7000", "env beats file");
            assert_eq!(c.mining.threads, 5, "CLI beats env");
            Ok(())
        });
    }

    #[test]
    fn prune_is_zero_or_at_least_288_blocks() {
        let c = load_with(None, no_env(), json!({})).unwrap();
        assert_eq!(c.storage.prune.keep(), None);
        let f = yaml("storage:\n  prune: 1000\n");
        let c = load_with(Some(f.path()), no_env(), json!({})).unwrap();
        assert_eq!(c.storage.prune.keep(), Some(1_000));
        let f = yaml("storage:\n  prune: 100\n");
        let err = load_with(Some(f.path()), no_env(), json!({}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("storage.prune") && err.contains("at least 288 blocks, not 100"),
            "{err}"
        );
    }

    #[test]
    fn the_store_cache_is_4_mib_to_64_gib() {
        let c = load_with(None, no_env(), json!({})).unwrap();
        assert_eq!(c.storage.cache_mb.bytes(), 512 << 20);
        let f = yaml("storage:\n  cache_mb: 1024\n");
        let c = load_with(Some(f.path()), no_env(), json!({})).unwrap();
        assert_eq!(c.storage.cache_mb.bytes(), 1 << 30);
        let f = yaml("storage:\n  cache_mb: 2\n");
        let err = load_with(Some(f.path()), no_env(), json!({}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("storage.cache_mb") && err.contains("must be 4 to 65536 MiB, not 2"),
            "{err}"
        );
    }

    #[test]
    fn assume_valid_is_the_spec_s_off_or_a_block_hash() {
        let c = load_with(None, no_env(), json!({})).unwrap();
        assert_eq!(c.assume_valid, AssumeValid::ChainSpec);
        let c = load_with(None, no_env(), json!({"assume_valid": "0"})).unwrap();
        assert_eq!(c.assume_valid, AssumeValid::Off);
        let hash = "00ff".repeat(16);
        let c = load_with(None, no_env(), json!({"assume_valid": hash})).unwrap();
        assert_eq!(
            c.assume_valid,
            AssumeValid::Block([0x00, 0xff].repeat(16).try_into().unwrap())
        );
        assert_eq!(String::from(c.assume_valid), hash);
        let err = load_with(None, no_env(), json!({"assume_valid": "00zz"}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("assume_valid")
                && err.contains("64 hex digits")
                && err.contains("\"00zz\""),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_in_file_is_an_error_naming_it() {
        let f = yaml("rpc:\n  adress: 127.0.0.1:1\n");
        let err = load_with(Some(f.path()), no_env(), json!({}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "key `rpc.adress` in {}: unknown key",
                f.path().display()
            )),
            "{err}"
        );
        let f = yaml("colour: blue\n");
        let err = load_with(Some(f.path()), no_env(), json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn the_client_s_variables_do_not_stop_a_node() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("I8O8I_RPC_URL", "http://127.0.0.1:5001");
            jail.set_env("I8O8I_JWT_SECRET", "/tmp/jwt.hex");
            jail.set_env("I8O8I_RPC__ADDR", "127.0.0.1:7001");
            let c = load_with(None, env_layer(), json!({})).unwrap();
            assert_eq!(c.rpc.addr.to_string(), "127.0.0.1:7001");
            Ok(())
        });
    }

    #[test]
    fn unknown_env_key_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("I8O8I_RPC__PORTT", "1");
            let err = load_with(None, Env::prefixed(ENV_PREFIX).split("__"), json!({}))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("environment variable I8O8I_RPC__PORTT: unknown key"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn wrong_type_and_missing_file_are_errors() {
        let f = yaml("rpc:\n  addr: not-an-address\n");
        assert!(load_with(Some(f.path()), no_env(), json!({})).is_err());
        let err = load_with(
            Some(Path::new("/nonexistent/i8o8i.yaml")),
            no_env(),
            json!({}),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn shipped_example_config_loads() {
        let f = yaml(EXAMPLE_CONFIG);
        let c = load_with(Some(f.path()), no_env(), json!({})).unwrap();
        assert_eq!(c.rpc.addr.to_string(), "127.0.0.1:5000");
    }

    #[test]
    fn builtin_chains_are_present() {
        assert!(builtin_chain_spec("dev").unwrap().contains("name: dev"));
        assert!(builtin_chain_spec("testnet").is_some());
        assert!(builtin_chain_spec("mainnet").is_none());
    }
}
