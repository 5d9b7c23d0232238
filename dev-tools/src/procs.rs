//! Node processes on loopback for the chaos and throughput runs: starting `i8o8icoin node`
//! with free ports and lifted RPC limits (moving a node whose port another process took),
//! killing it, reading its memory; and the load's wallet, which signs P2PKH spends of one key.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use i8o8i_primitives::{
    Amount, OutPoint, SighashCache, Transaction, TxIn, TxOut, p2pkh_script_sig_for,
};
use i8o8i_rpc::api;
use i8o8i_rpc::client::{CallError, RpcClient, call, connect};
use i8o8i_script_vm::{SIGHASH_ALL, ScriptBuf};
use parity_scale_codec::Encode;
use secp256k1::SecretKey;
use tokio::process::{Child, Command};

/// Why a run could not be carried out (as opposed to a run that found a fault).
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// A node process could not be started or did not come up.
    #[error("node {index}: {reason}")]
    Node {
        /// Which node.
        index: usize,
        /// What happened.
        reason: String,
    },
    /// A call the run depends on failed.
    #[error("{0}")]
    Rpc(#[from] CallError),
    /// Files.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub(crate) struct NodeProc {
    pub(crate) index: usize,
    pub(crate) dir: PathBuf,
    pub(crate) rpc: String,
    pub(crate) p2p: String,
    pub(crate) miner: bool,
    /// Chain spec: a built-in name or a YAML file (`--chain`).
    pub(crate) chain: String,
    pub(crate) child: Option<Child>,
    pub(crate) client: Option<RpcClient>,
    pub(crate) peer_id: String,
    pub(crate) peak_rss: u64,
}

impl NodeProc {
    /// Node `index`, not started, with its directory under `dir` and fresh loopback ports.
    pub(crate) fn new(index: usize, dir: &Path, miner: bool) -> std::io::Result<NodeProc> {
        Ok(NodeProc {
            index,
            dir: dir.join(format!("node{index}")),
            rpc: format!("127.0.0.1:{}", free_port()?),
            p2p: format!("/ip4/127.0.0.1/tcp/{}", free_port()?),
            miner,
            chain: "dev".to_owned(),
            child: None,
            client: None,
            peer_id: String::new(),
            peak_rss: 0,
        })
    }

    pub(crate) fn alive(&self) -> bool {
        self.child.is_some() && self.client.is_some()
    }
}

/// A free loopback port (bound and released: another process can take it before the node
/// binds it, or while a killed node is down; [`start`] then moves the node to a new port).
pub(crate) fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts a node and waits for its RPC. A node that exits because one of its ports was taken
/// by another process (the test suite runs many nodes at once) is moved to a fresh port and
/// started again; any other exit, or no RPC within a minute, fails the run with the log.
pub(crate) async fn start(
    binary: &Path,
    node: &mut NodeProc,
    bootnodes: &[String],
    miner_address: &str,
) -> Result<(), ChaosError> {
    for _ in 0..5 {
        match start_once(binary, node, bootnodes, miner_address).await? {
            Started::Up => return Ok(()),
            Started::PortTaken { rpc } => {
                if rpc {
                    node.rpc = format!("127.0.0.1:{}", free_port()?);
                } else {
                    node.p2p = format!("/ip4/127.0.0.1/tcp/{}", free_port()?);
                }
            }
        }
    }
    Err(ChaosError::Node {
        index: node.index,
        reason: "no free port after 5 tries".into(),
    })
}

pub(crate) enum Started {
    Up,
    /// The node exited at once: its RPC (or else its P2P) port was in use.
    PortTaken {
        rpc: bool,
    },
}

pub(crate) async fn start_once(
    binary: &Path,
    node: &mut NodeProc,
    bootnodes: &[String],
    miner_address: &str,
) -> Result<Started, ChaosError> {
    let log_path = node.dir.with_extension("log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let log_from = log.metadata()?.len();
    let this_start = || {
        let text = std::fs::read(&log_path).unwrap_or_default();
        let from = (log_from as usize).min(text.len());
        String::from_utf8_lossy(&text[from..]).into_owned()
    };
    let failed = |what: String, log: &str| {
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        ChaosError::Node {
            index: node.index,
            reason: format!("{what}; the end of its log:\n{tail}"),
        }
    };
    let mut command = Command::new(binary);
    command
        .arg("node")
        .args(["--chain", &node.chain, "--data-dir"])
        .arg(&node.dir)
        .args(["--rpc-addr", &node.rpc, "--p2p-listen", &node.p2p])
        .args(["--mining-threads", "1"])
        .env("RUST_LOG", "info")
        // The load client is trusted: its calls are not what the run is about.
        .env(
            "I8O8I_RPC__RATE_LIMIT__PER_CONNECTION_CALLS_PER_SECOND",
            "1000000",
        )
        .env("I8O8I_RPC__RATE_LIMIT__PER_CONNECTION_BURST", "1000000")
        .env("I8O8I_RPC__RATE_LIMIT__PER_IP_PER_SECOND", "1000000")
        .env("I8O8I_RPC__RATE_LIMIT__PER_IP_BURST", "1000000")
        // Whole blocks of a throughput chain (32 MB, twice that in hex).
        .env("I8O8I_RPC__MAX_RESPONSE_BYTES", "100000000")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    for boot in bootnodes {
        command.args(["--bootnode", boot]);
    }
    if node.miner {
        // Dev mining: a block every target block time, paid to an address nobody spends from
        // (the `--chain` given above wins over `--dev`'s).
        command.args(["--dev", "--mining-address", miner_address]);
    }
    let child = command.spawn().map_err(|e| ChaosError::Node {
        index: node.index,
        reason: format!("cannot start {}: {e}", binary.display()),
    })?;
    node.child = Some(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let exited = match node.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(status),
            _ => None,
        };
        if let Some(status) = exited {
            node.child = None;
            let log = this_start();
            if log.contains("Address already in use") {
                return Ok(Started::PortTaken {
                    rpc: log.contains("starting the RPC server"),
                });
            }
            return Err(failed(format!("exited at start ({status})"), &log));
        }
        if let Ok(secret) = i8o8i_rpc::JwtSecret::read(&node.dir.join("jwt.hex"))
            && let Ok(client) = connect(
                &format!("http://{}", node.rpc),
                Some(secret),
                Some(Duration::from_secs(20)),
            )
            && let Ok(info) = call::<api::NetGetInfo>(&client, ()).await
        {
            node.peer_id = info.peer_id;
            node.client = Some(client);
            return Ok(Started::Up);
        }
        if Instant::now() > deadline {
            return Err(failed(
                "RPC did not come up within 60 s".into(),
                &this_start(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every other node's P2P address (current: a node may have moved to a new port).
pub(crate) fn boot(nodes: &[NodeProc], i: usize) -> Vec<String> {
    nodes
        .iter()
        .filter(|n| n.index != i)
        .map(|n| n.p2p.clone())
        .collect()
}

pub(crate) async fn kill(node: &mut NodeProc) {
    node.client = None;
    if let Some(mut child) = node.child.take() {
        // SIGKILL: no shutdown path runs. Reaped before anything reuses its data directory.
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
    }
}

pub(crate) fn rss_of(node: &NodeProc) -> Option<u64> {
    let pid = node.child.as_ref()?.id()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

pub(crate) struct Wallet {
    pub(crate) key: SecretKey,
    pub(crate) script: ScriptBuf,
    pub(crate) chain_id: i8o8i_primitives::Hash256,
}

impl Wallet {
    /// The load's key on the dev chain of `spec`, and its address.
    pub(crate) fn dev(spec: &i8o8i_runtime::spec::ChainSpec) -> (Wallet, String) {
        let key = SecretKey::from_secret_bytes([0x42; 32]).expect("a valid key");
        let pubkey = secp256k1::PublicKey::from_secret_key(&key).serialize();
        let hash = i8o8i_script_vm::templates::hash160(&pubkey);
        let address = i8o8i_primitives::address::Address::p2pkh(spec.network, hash).to_string();
        let wallet = Wallet {
            key,
            script: i8o8i_script_vm::templates::p2pkh(&hash),
            chain_id: i8o8i_primitives::Hash256::from_byte_array(
                *spec.genesis_block().header.hash().as_bytes(),
            ),
        };
        (wallet, address)
    }

    pub(crate) fn spend(&self, inputs: &[(OutPoint, u64)], outputs: &[u64]) -> Transaction {
        let mut tx = Transaction {
            version: 2,
            inputs: inputs
                .iter()
                .map(|(prevout, _)| TxIn {
                    prevout: *prevout,
                    script_sig: ScriptBuf::default(),
                    sequence: u32::MAX,
                })
                .collect(),
            outputs: outputs
                .iter()
                .map(|v| TxOut {
                    value: Amount::from_units(*v),
                    script_pubkey: self.script.clone(),
                })
                .collect(),
            lock_time: 0,
            payload: None,
        };
        let cache = SighashCache::new(&tx);
        let sigs: Vec<ScriptBuf> = inputs
            .iter()
            .enumerate()
            .map(|(i, (_, value))| {
                p2pkh_script_sig_for(
                    &cache,
                    &self.chain_id,
                    i,
                    &self.key,
                    Amount::from_units(*value),
                    SIGHASH_ALL,
                )
                .expect("input exists")
            })
            .collect();
        for (input, sig) in tx.inputs.iter_mut().zip(sigs) {
            input.script_sig = sig;
        }
        tx
    }
}

pub(crate) fn raw(tx: &Transaction) -> String {
    hex::encode(tx.encode())
}
