//! The peer-to-peer network: a libp2p swarm (TCP and WebSocket, noise, yamux) that discovers
//! peers (identify + Kademlia through bootnodes), relays blocks (as compact blocks) and
//! transactions (gossipsub, validated before forwarding), syncs headers-first with block download from several peers
//! (request-response), and scores peers, banning those that send invalid data.
//!
//! The network sees the node only through [`ChainAccess`] (blocks, headers, the pool, imports
//! with their verdicts) and receives what to gossip as [`Announcement`]s; it has no dependency
//! on the chain service, the RPC or the node.
//!
//! - [`chain_access`]: the trait and the verdicts the network acts on.
//! - [`behaviour`]: the composed libp2p behaviour.
//! - [`protocol`], [`codec`]: the sync protocol's messages and framing.
//! - [`topics`]: gossip topic names.
//! - [`compact`]: compact blocks (BIP152's encoding), what new blocks travel as.
//! - [`peers`]: the application score and bans.
//! - [`sync`]: headers-first sync as a state machine returning the requests it wants sent.
//! - `testing`, `fuzzing` (feature `fuzzing`): a map-based chain and the fuzz targets' entry
//!   points (sync messages and answers, gossip payloads).
//! - [`verifier`]: gossip transactions verified off the event loop, a bounded queue per peer
//!   served round-robin by one thread per core.
//! - [`service`]: the event loop; [`NetworkHandle`] is how RPC talks to it.

// The `NetworkBehaviour` derive generates an undocumented public event enum.
#[allow(missing_docs)]
pub mod behaviour;
pub mod chain_access;
pub mod codec;
pub mod compact;
pub mod dialing;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod peers;
pub mod protocol;
pub mod service;
pub mod sync;
#[cfg(any(test, feature = "fuzzing"))]
pub mod testing;
pub mod topics;
pub mod verifier;

use std::path::Path;

use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

pub use chain_access::{Announcement, BlockVerdict, ChainAccess, ChainTip, TxVerdict};
pub use service::{NetworkConfig, start};

/// Why the network could not start or a command failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The node key file could not be read or written.
    #[error("node key {path}: {message}")]
    NodeKey {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A listen address or bootnode is not a valid multiaddr (or not one we can use).
    #[error("invalid multiaddr {addr:?}: {reason}")]
    BadAddress {
        /// The text.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Listening failed (address in use, unsupported protocol).
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Building the transport or the behaviour failed.
    #[error("network setup: {0}")]
    Setup(String),
    /// Dialling failed at once.
    #[error("cannot dial {addr}: {reason}")]
    Dial {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The network service has stopped.
    #[error("the network service is not running")]
    Stopped,
}

/// One connected peer, as `net_peers` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its peer id.
    pub id: PeerId,
    /// The remote address of the connection.
    pub address: Multiaddr,
    /// `inbound` or `outbound`.
    pub inbound: bool,
    /// Application score (points).
    pub score: i64,
    /// Its agent string from identify, once known.
    pub agent: Option<String>,
    /// Its best height from the last status exchange, once known.
    pub best_height: Option<u64>,
}

/// This node on the network, as `net_getInfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInfo {
    /// The node's peer id.
    pub peer_id: PeerId,
    /// Bound listen addresses, each ending in `/p2p/<peer id>`.
    pub listen_addresses: Vec<Multiaddr>,
    /// Connected peers.
    pub peers: usize,
    /// Peers in the Kademlia routing table (what this node hands out when asked).
    pub known_peers: usize,
}

pub(crate) enum Command {
    Info(oneshot::Sender<NetInfo>),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    AddPeer(Multiaddr, oneshot::Sender<Result<(), NetworkError>>),
    RemovePeer(PeerId, oneshot::Sender<bool>),
    Ban(PeerId, u64, oneshot::Sender<()>),
}

/// A handle on the running network service (cheap to clone).
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    commands: mpsc::Sender<Command>,
    peer_id: PeerId,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Info(_) => "Info",
            Command::Peers(_) => "Peers",
            Command::AddPeer(..) => "AddPeer",
            Command::RemovePeer(..) => "RemovePeer",
            Command::Ban(..) => "Ban",
        })
    }
}

impl NetworkHandle {
    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetworkError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| NetworkError::Stopped)?;
        rx.await.map_err(|_| NetworkError::Stopped)
    }

    /// Peer id and bound addresses.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn info(&self) -> Result<NetInfo, NetworkError> {
        self.ask(Command::Info).await
    }

    /// Connected peers.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetworkError> {
        self.ask(Command::Peers).await
    }

    /// Dials `addr` (the seed's `POST /node/register`).
    ///
    /// # Errors
    /// [`NetworkError::Dial`] if the dial cannot even start; [`NetworkError::Stopped`].
    pub async fn add_peer(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.ask(|tx| Command::AddPeer(addr, tx)).await?
    }

    /// Disconnects `peer`; false if it was not connected.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn remove_peer(&self, peer: PeerId) -> Result<bool, NetworkError> {
        self.ask(|tx| Command::RemovePeer(peer, tx)).await
    }

    /// Bans `peer` for `secs` seconds (persisted) and disconnects it.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn ban(&self, peer: PeerId, secs: u64) -> Result<(), NetworkError> {
        self.ask(|tx| Command::Ban(peer, secs, tx)).await
    }
}

/// Loads the node's ed25519 key from `path`, creating it (mode 0600) on first use, so the
/// peer id survives restarts.
///
/// # Errors
/// [`NetworkError::NodeKey`] if the file cannot be read, written or decoded.
pub fn load_or_create_key(path: &Path) -> Result<Keypair, NetworkError> {
    let fail = |message: String| NetworkError::NodeKey {
        path: path.display().to_string(),
        message,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            Keypair::from_protobuf_encoding(&bytes).map_err(|e| fail(format!("corrupt key: {e}")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Keypair::generate_ed25519();
            let bytes = key
                .to_protobuf_encoding()
                .map_err(|e| fail(e.to_string()))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            }
            match write_private(path, &bytes, None) {
                Ok(()) => Ok(key),
                // Another process created it meanwhile: use that one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_key(path),
                Err(e) => Err(fail(e.to_string())),
            }
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Writes `bytes` to a new file at `path` (mode 0600) so that `path` never exists with part of
/// them: a temporary file is written and synced, then linked in place (which fails if `path`
/// exists). A crash leaves at most the temporary file, never a truncated key that would stop
/// the next start. `crash_after` (tests) stops after that many bytes, as a crash would.
fn write_private(path: &Path, bytes: &[u8], crash_after: Option<usize>) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    if let Some(n) = crash_after {
        file.write_all(&bytes[..n.min(bytes.len())])?;
        return Err(std::io::Error::other("simulated crash"));
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked
}

/// Parses a multiaddr from configuration or RPC.
///
/// # Errors
/// [`NetworkError::BadAddress`].
pub fn parse_multiaddr(text: &str) -> Result<Multiaddr, NetworkError> {
    let fail = |reason: String| NetworkError::BadAddress {
        addr: text.chars().take(200).collect(),
        reason,
    };
    let addr = text
        .trim()
        .parse::<Multiaddr>()
        .map_err(|e| fail(e.to_string()))?;
    if addr.is_empty() {
        return Err(fail("empty multiaddr".into()));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_key_is_created_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("network").join("node_key");
        let a = load_or_create_key(&path).unwrap();
        let b = load_or_create_key(&path).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(NetworkError::NodeKey { .. })
        ));
    }

    #[test]
    fn a_crash_while_writing_the_node_key_leaves_no_truncated_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node_key");
        let bytes = Keypair::generate_ed25519().to_protobuf_encoding().unwrap();
        assert!(write_private(&path, &bytes, Some(bytes.len() / 2)).is_err());
        // Written in place, half a key would make the next start fail ("corrupt key").
        assert!(!path.exists());
        let key = load_or_create_key(&path).unwrap();
        assert_eq!(
            load_or_create_key(&path).unwrap().public().to_peer_id(),
            key.public().to_peer_id()
        );
    }

    #[test]
    fn bad_multiaddrs_are_typed_errors() {
        assert!(parse_multiaddr("/ip4/127.0.0.1/tcp/1").is_ok());
        for bad in ["", "127.0.0.1:1", "/ip4/999.0.0.1/tcp/1", "/tcp/x"] {
            assert!(matches!(
                parse_multiaddr(bad),
                Err(NetworkError::BadAddress { .. })
            ));
        }
    }
}
