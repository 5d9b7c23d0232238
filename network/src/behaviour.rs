//! The composed libp2p behaviour. Field order is the order in which every behaviour is asked
//! about a new connection, so the cheap gatekeepers come first: connection limits, then the
//! block list of banned peers, before anything spends work on the peer.

use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify, identity, kad, ping,
    request_response,
};
use sha2::{Digest, Sha256};

use super::codec::SyncCodec;
use super::protocol::SYNC_PROTOCOL;

/// Identify's protocol version: peers of another network are told apart by it.
pub const IDENTIFY_PROTOCOL: &str = "/i8o8i/id/1";
/// Our own Kademlia protocol, so the DHT holds only I8o8iCoin nodes (not the IPFS network).
pub const KAD_PROTOCOL: &str = "/i8o8i/kad/1";
/// Largest gossip message: a 4 MB block with room for the envelope.
pub const MAX_GOSSIP_BYTES: usize = 4 * 1024 * 1024 + 64 * 1024;
/// How long a sync request may take before the peer is penalised.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything the node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Refuses connections beyond the configured peer count before anything else pays for them.
    pub limits: connection_limits::Behaviour,
    /// Refuses banned peers (bans come from the peer manager).
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Learns peers' listen addresses, agent and protocols (feeds Kademlia).
    pub identify: identify::Behaviour,
    /// Keeps idle connections alive and measures round trips.
    pub ping: ping::Behaviour,
    /// Peer discovery through bootnodes.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Block and transaction relay, with gossipsub's own peer scoring.
    pub gossipsub: gossipsub::Behaviour,
    /// Headers-first sync and block download.
    pub sync: request_response::Behaviour<SyncCodec>,
}

impl Behaviour {
    /// Builds the behaviour for `key`, accepting at most `max_peers` connections.
    ///
    /// # Errors
    /// A gossipsub configuration error (a bug in the constants below).
    pub fn new(
        key: &identity::Keypair,
        max_peers: u32,
    ) -> Result<Behaviour, Box<dyn std::error::Error + Send + Sync>> {
        let peer_id = key.public().to_peer_id();
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(max_peers))
            .with_max_established_per_peer(Some(2))
            .with_max_pending_incoming(Some(max_peers));

        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(format!("i8o8icoin/{}", env!("CARGO_PKG_VERSION"))),
        );

        let mut kad = kad::Behaviour::with_config(
            peer_id,
            kad::store::MemoryStore::new(peer_id),
            kad::Config::new(StreamProtocol::new(KAD_PROTOCOL)),
        );
        // Answer DHT queries even without a confirmed external address (loopback test
        // networks, nodes behind NAT that were dialled directly).
        kad.set_mode(Some(kad::Mode::Server));

        let gossip_config = gossipsub::ConfigBuilder::default()
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .validation_mode(gossipsub::ValidationMode::Strict)
            // We validate every message (decode + consensus checks) before it is forwarded.
            .validate_messages()
            // Content-addressed ids: the same block from two publishers is one message.
            .message_id_fn(|m: &gossipsub::Message| {
                gossipsub::MessageId::from(&Sha256::digest(&m.data)[..20])
            })
            .heartbeat_interval(Duration::from_millis(700))
            // Small networks (tests, a few validators) still form a mesh.
            .mesh_n_low(1)
            .mesh_n(4)
            .mesh_n_high(8)
            .mesh_outbound_min(1)
            .build()
            .map_err(|e| format!("gossipsub config: {e}"))?;
        let mut gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_config,
        )?;
        gossipsub.with_peer_score(
            gossipsub::PeerScoreParams::default(),
            gossipsub::PeerScoreThresholds::default(),
        )?;

        let sync = request_response::Behaviour::with_codec(
            SyncCodec,
            [(
                StreamProtocol::new(SYNC_PROTOCOL),
                request_response::ProtocolSupport::Full,
            )],
            request_response::Config::default()
                .with_request_timeout(REQUEST_TIMEOUT)
                .with_max_concurrent_streams(64),
        );

        Ok(Behaviour {
            limits: connection_limits::Behaviour::new(limits),
            blocked: allow_block_list::Behaviour::default(),
            identify,
            ping: ping::Behaviour::new(ping::Config::new()),
            kad,
            gossipsub,
            sync,
        })
    }
}
