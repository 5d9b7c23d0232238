//! The network event loop: one task owning the swarm, answering peers' sync requests, driving
//! our own headers-first sync, relaying gossip after validation, and applying the peer
//! manager's verdicts. Block imports run on a separate task, in order, so the loop never waits
//! on validation.

use crate::dialing::{AfterFailure, Backoff, RedialPolicy};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use i8o8i_primitives::{Block, BlockHash, Header, Transaction};
use libp2p::core::ConnectedPoint;
use libp2p::gossipsub::{IdentTopic, MessageAcceptance, MessageId};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, identify, kad, noise, tcp, yamux};
use parity_scale_codec::Encode;
use tokio::sync::mpsc;

mod compact;
mod gossip;
mod requests;

use crate::behaviour::{Behaviour, BehaviourEvent};
use crate::chain_access::{Announcement, BlockVerdict, ChainAccess, GossipTx, TxVerdict};
use crate::codec::Bytes;
use crate::peers::{PeerAction, PeerBook, Verdict};
use crate::protocol::{
    MAX_BLOCKS_PER_REQUEST, MAX_HEADERS, MAX_LOCATOR, MAX_MEMPOOL_TXS, MAX_RESPONSE_BYTES, Request,
    Response, Status,
};
use crate::sync::{PeerTip, SYNC_STALL, Sync, SyncAction};
use crate::topics::{Topic, TopicKind};
use crate::verifier::{Job, TxVerifier, Verified};
use crate::{Command, NetInfo, NetworkError, NetworkHandle, PeerInfo};

/// How often peers are asked for their status (and bans expire, scores decay).
const STATUS_INTERVAL: Duration = Duration::from_secs(5);
/// Key prefixes in the store's peers family.
const BAN_PREFIX: &[u8] = b"ban/";
const ADDR_PREFIX: &[u8] = b"addr/";

/// What the network needs to start.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The node's identity.
    pub key: Keypair,
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start.
    pub bootnodes: Vec<Multiaddr>,
    /// Most connected peers.
    pub max_peers: u32,
    /// How peers that do not answer are dialled again, then forgotten.
    pub redial: RedialPolicy,
}

/// What a request we sent was for.
#[derive(Debug)]
enum Pending {
    Status,
    Headers {
        max: u32,
    },
    Blocks(Vec<BlockHash>),
    Mempool,
    /// The missing transactions of a compact block.
    BlockTxs(BlockHash),
    /// A compact block that could not be rebuilt, whole.
    WholeBlock(BlockHash),
}

/// A connected peer.
#[derive(Debug)]
struct Peer {
    address: Multiaddr,
    inbound: bool,
    agent: Option<String>,
    status: Option<Status>,
    /// Whether its pool transactions were asked for (once, when we caught up with it).
    mempool_asked: bool,
}

/// A block for the importer task, from sync or gossip.
struct ImportJob {
    peer: PeerId,
    block: Block,
    gossip: Option<MessageId>,
}

struct ImportResult {
    peer: PeerId,
    hash: BlockHash,
    height: u64,
    gossip: Option<MessageId>,
    from_sync: bool,
    verdict: BlockVerdict,
}

struct Service {
    swarm: Swarm<Behaviour>,
    chain: Arc<dyn ChainAccess>,
    genesis: BlockHash,
    blocks_topic: IdentTopic,
    txs_topic: IdentTopic,
    book: PeerBook,
    peers: BTreeMap<PeerId, Peer>,
    requests: HashMap<OutboundRequestId, (PeerId, Pending)>,
    sync: Sync,
    /// Blocks sync imported since the last progress line, and when that was.
    imported_since_log: u64,
    last_log: Option<Instant>,
    listen_addrs: Vec<Multiaddr>,
    imports: mpsc::Sender<ImportJob>,
    import_results: mpsc::UnboundedReceiver<ImportResult>,
    /// Gossip transactions queued per peer for the verifier threads, and their verdicts.
    verifier: TxVerifier,
    tx_results: mpsc::UnboundedReceiver<Verified>,
    /// Answers read from the store off the event loop, to send from it.
    answers_tx: mpsc::UnboundedSender<Answer>,
    answers: mpsc::UnboundedReceiver<Answer>,
    /// Per peer: block bytes served in the current upload window, and when it began.
    uploads: HashMap<PeerId, (Instant, usize)>,
    /// Per peer: when its pool was last served.
    pool_served: HashMap<PeerId, Instant>,
    /// Failed dials per peer, and when each may be dialled again.
    backoff: Backoff,
    /// Blocks announced compactly, waiting for their missing transactions.
    compact: HashMap<BlockHash, compact::CompactPending>,
}

/// An answer prepared on the blocking pool.
struct Answer {
    peer: PeerId,
    channel: ResponseChannel<Bytes>,
    response: Response,
    /// Block bytes it carries (charged to the peer's upload window).
    bytes: usize,
}

/// Starts the network for `chain`: builds the swarm, listens, dials bootnodes and remembered
/// peers, and spawns the event loop, which gossips what arrives on `announcements` and stops
/// when the node shuts down (or `announcements` closes).
///
/// # Errors
/// [`NetworkError`] if the transport cannot be built or an address cannot be listened on.
pub async fn start(
    chain: Arc<dyn ChainAccess>,
    announcements: mpsc::Receiver<Announcement>,
    config: NetworkConfig,
) -> Result<NetworkHandle, NetworkError> {
    let peer_id = config.key.public().to_peer_id();
    let max_peers = config.max_peers;
    let mut swarm = SwarmBuilder::with_existing_identity(config.key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Setup(e.to_string()))?
        .with_dns()
        .map_err(|e| NetworkError::Setup(e.to_string()))?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(|e| NetworkError::Setup(e.to_string()))?
        .with_behaviour(|key| Behaviour::new(key, max_peers))
        .map_err(|e| NetworkError::Setup(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();

    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NetworkError::Listen {
                addr: addr.to_string(),
                reason: error_chain(&e),
            })?;
    }

    let genesis = chain.genesis();
    let topic = |kind| IdentTopic::new(Topic { genesis, kind }.to_string());
    let blocks_topic = topic(TopicKind::Blocks);
    let txs_topic = topic(TopicKind::Transactions);
    for t in [&blocks_topic, &txs_topic] {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(t)
            .map_err(|e| NetworkError::Setup(e.to_string()))?;
    }

    let mut book = PeerBook::new();
    let now = chain.unix_now();
    for (key, value) in chain.peer_records(BAN_PREFIX).unwrap_or_default() {
        let (Ok(peer), Ok(until)) = (
            PeerId::from_bytes(&key[BAN_PREFIX.len()..]),
            <[u8; 8]>::try_from(value.as_slice()).map(u64::from_be_bytes),
        ) else {
            continue;
        };
        if until > now {
            book.ban(peer, until);
            swarm.behaviour_mut().blocked.block_peer(peer);
        } else {
            let _ = chain.delete_peer_record(&key);
        }
    }

    let mut dials: Vec<Multiaddr> = config.bootnodes.clone();
    for (_, value) in chain.peer_records(ADDR_PREFIX).unwrap_or_default() {
        if let Ok(addr) = String::from_utf8(value)
            .unwrap_or_default()
            .parse::<Multiaddr>()
            && !dials.contains(&addr)
        {
            dials.push(addr);
        }
    }
    for addr in dials.into_iter().take(max_peers as usize) {
        if let Some(Protocol::P2p(peer)) = addr.iter().last() {
            if peer == peer_id {
                continue;
            }
            swarm.behaviour_mut().kad.add_address(&peer, addr.clone());
        }
        if let Err(e) = swarm.dial(addr.clone()) {
            tracing::warn!(%addr, error = %e, "cannot dial bootnode");
        }
    }

    let (imports, import_rx) = mpsc::channel(256);
    let (import_results_tx, import_results) = mpsc::unbounded_channel();
    tokio::spawn(run_importer(chain.clone(), import_rx, import_results_tx));
    let (tx_results_tx, tx_results) = mpsc::unbounded_channel();
    let verifier = TxVerifier::start(
        chain.clone(),
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        tx_results_tx,
    );
    let (answers_tx, answers) = mpsc::unbounded_channel();

    let (commands, command_rx) = mpsc::channel(64);
    let service = Service {
        swarm,
        chain,
        genesis,
        blocks_topic,
        txs_topic,
        book,
        peers: BTreeMap::new(),
        requests: HashMap::new(),
        sync: Sync::new(),
        imported_since_log: 0,
        last_log: None,
        listen_addrs: Vec::new(),
        imports,
        import_results,
        verifier,
        tx_results,
        answers_tx,
        answers,
        uploads: HashMap::new(),
        pool_served: HashMap::new(),
        backoff: Backoff::new(config.redial),
        compact: HashMap::new(),
    };
    tokio::spawn(service.run(command_rx, announcements));
    tracing::info!(%peer_id, "network started");
    Ok(NetworkHandle { commands, peer_id })
}

/// Imports blocks one at a time, in the order received, off the event loop.
async fn run_importer(
    chain: Arc<dyn ChainAccess>,
    mut jobs: mpsc::Receiver<ImportJob>,
    results: mpsc::UnboundedSender<ImportResult>,
) {
    while let Some(job) = jobs.recv().await {
        let hash = job.block.header.hash();
        let height = job.block.header.height;
        let c = chain.clone();
        let block = job.block;
        let verdict = match tokio::task::spawn_blocking(move || c.import_block(block)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "block import task failed");
                continue;
            }
        };
        let from_sync = job.gossip.is_none();
        if results
            .send(ImportResult {
                peer: job.peer,
                hash,
                height,
                gossip: job.gossip,
                from_sync,
                verdict,
            })
            .is_err()
        {
            return;
        }
    }
}

impl Service {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut announcements: mpsc::Receiver<Announcement>,
    ) {
        let mut tick = tokio::time::interval(STATUS_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                event = libp2p::futures::StreamExt::select_next_some(&mut self.swarm) => {
                    self.on_swarm_event(event);
                }
                Some(cmd) = commands.recv() => self.on_command(cmd),
                announcement = announcements.recv() => match announcement {
                    Some(a) => self.on_announcement(a),
                    None => return,
                },
                Some(result) = self.import_results.recv() => self.on_import_result(result),
                Some(result) = self.tx_results.recv() => self.on_tx_result(result),
                Some(answer) = self.answers.recv() => self.on_answer(answer),
                _ = tick.tick() => self.on_tick(),
                _ = shutdown.tick() => {
                    if self.chain.is_shutting_down() {
                        tracing::info!("network stopped");
                        return;
                    }
                }
            }
            self.drive_sync();
        }
    }

    fn now(&self) -> u64 {
        self.chain.unix_now()
    }

    fn our_status(&self) -> Status {
        let tip = self.chain.tip();
        Status {
            genesis: self.genesis,
            best_hash: tip.hash,
            best_height: tip.height,
            best_work: tip.work.to_big_endian(),
            lowest_block: tip.lowest_block,
        }
    }

    fn send(&mut self, peer: PeerId, request: Request, pending: Pending) {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, request.encode());
        self.requests.insert(id, (peer, pending));
    }

    /// Applies `action` by `peer`, banning it if its score says so.
    fn report(&mut self, peer: PeerId, action: PeerAction) {
        let now = self.now();
        if let Verdict::Ban { until } = self.book.report(peer, action, now) {
            tracing::warn!(%peer, ?action, "banning peer");
            self.apply_ban(peer, until);
        } else if action != PeerAction::UsefulBlock {
            tracing::debug!(%peer, ?action, "peer penalised");
        }
    }

    fn apply_ban(&mut self, peer: PeerId, until: u64) {
        self.book.ban(peer, until);
        // Its queued gossip transactions are dropped unverified.
        for job in self.verifier.forget(&peer) {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(
                    &job.message_id,
                    &peer,
                    MessageAcceptance::Ignore,
                );
            self.chain.gossip_tx(GossipTx::Dropped);
        }
        self.swarm.behaviour_mut().blocked.block_peer(peer);
        self.swarm.behaviour_mut().kad.remove_peer(&peer);
        let mut key = BAN_PREFIX.to_vec();
        key.extend(peer.to_bytes());
        if let Err(e) = self.chain.put_peer_record(&key, &until.to_be_bytes()) {
            tracing::warn!(error = %e, "cannot persist ban");
        }
        let mut key = ADDR_PREFIX.to_vec();
        key.extend(peer.to_bytes());
        let _ = self.chain.delete_peer_record(&key);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn on_tick(&mut self) {
        let now = self.now();
        for peer in self.book.update_at(now) {
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            let mut key = BAN_PREFIX.to_vec();
            key.extend(peer.to_bytes());
            let _ = self.chain.delete_peer_record(&key);
        }
        if self.sync.stalled(Instant::now()) {
            tracing::warn!(
                queued = self.sync.queued(),
                "sync made no progress for {} s; starting again from the tip",
                SYNC_STALL.as_secs()
            );
            self.sync.reset();
        }
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.send(peer, Request::Status, Pending::Status);
        }
        if self.peers.len() < 2 {
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
        }
        self.redial_known_peers(now);
    }

    /// Below the outbound target, dials peers the routing table knows but we are not
    /// connected to. Kademlia only reports routing *changes*, so without this a peer that
    /// dropped (or whose ban lapsed) would never be dialled again, and a healed partition
    /// could stay split.
    fn redial_known_peers(&mut self, now: u64) {
        let wanted = self.max_outbound().saturating_sub(self.peers.len());
        if wanted == 0 {
            return;
        }
        let known: Vec<PeerId> = self
            .swarm
            .behaviour_mut()
            .kad
            .kbuckets()
            .flat_map(|bucket| {
                bucket
                    .iter()
                    .map(|entry| *entry.node.key.preimage())
                    .collect::<Vec<_>>()
            })
            .collect();
        let local = *self.swarm.local_peer_id();
        let instant = Instant::now();
        for peer in known
            .into_iter()
            .filter(|p| {
                *p != local
                    && !self.peers.contains_key(p)
                    && !self.book.is_banned(p, now)
                    && self.backoff.may_dial(p, instant)
            })
            .take(wanted)
        {
            let _ = self.swarm.dial(peer);
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Info(reply) => {
                let peer_id = *self.swarm.local_peer_id();
                let listen_addresses = self
                    .listen_addrs
                    .iter()
                    .map(|a| a.clone().with(Protocol::P2p(peer_id)))
                    .collect();
                let known_peers = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .kbuckets()
                    .map(|b| b.num_entries())
                    .sum();
                let _ = reply.send(NetInfo {
                    peer_id,
                    listen_addresses,
                    peers: self.peers.len(),
                    known_peers,
                });
            }
            Command::Peers(reply) => {
                let now = self.now();
                let list = self
                    .peers
                    .iter()
                    .map(|(id, p)| PeerInfo {
                        id: *id,
                        address: p.address.clone(),
                        inbound: p.inbound,
                        score: self.book.score(id, now),
                        agent: p.agent.clone(),
                        best_height: p.status.as_ref().map(|s| s.best_height),
                    })
                    .collect();
                let _ = reply.send(list);
            }
            Command::AddPeer(addr, reply) => {
                if let Some(Protocol::P2p(peer)) = addr.iter().last() {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer, addr.clone());
                }
                let result = self
                    .swarm
                    .dial(addr.clone())
                    .map_err(|e| NetworkError::Dial {
                        addr: addr.to_string(),
                        reason: e.to_string(),
                    });
                let _ = reply.send(result);
            }
            Command::RemovePeer(peer, reply) => {
                let _ = reply.send(self.swarm.disconnect_peer_id(peer).is_ok());
            }
            Command::Ban(peer, secs, reply) => {
                let until = self.now().saturating_add(secs);
                self.apply_ban(peer, until);
                let _ = reply.send(());
            }
        }
    }

    fn on_announcement(&mut self, announcement: Announcement) {
        match announcement {
            Announcement::Transactions(txs) => {
                for tx in txs {
                    self.publish(self.txs_topic.clone(), tx.encode());
                }
            }
            Announcement::Block(block) => self.publish(
                self.blocks_topic.clone(),
                crate::compact::CompactBlock::new(&block).encode(),
            ),
        }
    }

    fn publish(&mut self, topic: IdentTopic, data: Vec<u8>) {
        // Gossipsub signs a message before it looks for peers: with nobody subscribed, that
        // signature (an Ed25519 one per transaction) was 13 % of a lone node's CPU under load.
        let hash = topic.hash();
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        if !gossip
            .all_peers()
            .any(|(_, topics)| topics.contains(&&hash))
        {
            return;
        }
        if let Err(e) = gossip.publish(topic, data) {
            // No peers yet, or a duplicate: gossip is best effort, sync catches up.
            tracing::debug!(error = %e, "gossip publish skipped");
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                if self.book.is_banned(&peer_id, self.now()) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                self.backoff.connected(&peer_id);
                if num_established.get() > 1 {
                    return;
                }
                let (address, inbound) = match &endpoint {
                    ConnectedPoint::Dialer { address, .. } => (address.clone(), false),
                    ConnectedPoint::Listener { send_back_addr, .. } => {
                        (send_back_addr.clone(), true)
                    }
                };
                if !inbound {
                    let mut key = ADDR_PREFIX.to_vec();
                    key.extend(peer_id.to_bytes());
                    let full = address.clone().with_p2p(peer_id).unwrap_or(address.clone());
                    let _ = self
                        .chain
                        .put_peer_record(&key, full.to_string().as_bytes());
                }
                tracing::info!(peer = %peer_id, %address, inbound, "peer connected");
                self.peers.insert(
                    peer_id,
                    Peer {
                        address,
                        inbound,
                        agent: None,
                        status: None,
                        mempool_asked: false,
                    },
                );
                self.chain.peers_changed(self.peers.len());
                self.send(peer_id, Request::Status, Pending::Status);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                tracing::info!(peer = %peer_id, "peer disconnected");
                self.peers.remove(&peer_id);
                self.chain.peers_changed(self.peers.len());
                self.forget_requests_of(peer_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                // What makes a peer ours is what it speaks, not its identify string (js-libp2p
                // and other implementations send their own): this chain's sync protocol (whose
                // status handshake then checks the genesis), its Kademlia protocol, or
                // gossipsub (whose topics carry the genesis). Light clients and browser peers
                // that speak only some of them stay; only peers in our DHT are added to it.
                let speaks = |name: &str| info.protocols.iter().any(|p| p.as_ref() == name);
                let kad = speaks(super::behaviour::KAD_PROTOCOL);
                let gossip = info
                    .protocols
                    .iter()
                    .any(|p| p.as_ref().starts_with("/meshsub/"));
                if !kad && !gossip && !speaks(crate::protocol::SYNC_PROTOCOL) {
                    tracing::info!(
                        peer = %peer_id,
                        version = %info.protocol_version,
                        agent = %info.agent_version,
                        "peer speaks none of this chain's protocols (sync, Kademlia, gossipsub); disconnecting"
                    );
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if kad {
                    for addr in info.listen_addrs {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
                if let Some(p) = self.peers.get_mut(&peer_id) {
                    p.agent = Some(info.agent_version);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, ..
            })) if !self.peers.contains_key(&peer)
                && self.peers.len() < self.max_outbound()
                && !self.book.is_banned(&peer, self.now())
                && self.backoff.may_dial(&peer, Instant::now()) =>
            {
                let _ = self.swarm.dial(peer);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                libp2p::gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                },
            )) => self.on_gossip(propagation_source, message_id, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync_event(event),
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                self.chain.dial_failed();
                let Some(peer) = peer_id else {
                    tracing::debug!(error = %error, "dial failed");
                    return;
                };
                match self.backoff.failed(peer, Instant::now()) {
                    AfterFailure::Retry(wait) => {
                        tracing::debug!(%peer, error = %error, ?wait, "dial failed");
                    }
                    AfterFailure::Forget => {
                        tracing::info!(%peer, error = %error, "peer unreachable; forgetting it");
                        self.swarm.behaviour_mut().kad.remove_peer(&peer);
                        let mut key = ADDR_PREFIX.to_vec();
                        key.extend(peer.to_bytes());
                        let _ = self.chain.delete_peer_record(&key);
                    }
                }
            }
            _ => {}
        }
    }

    fn max_outbound(&self) -> usize {
        // Leave room for inbound peers.
        8
    }

    fn forget_requests_of(&mut self, peer: PeerId) {
        self.requests.retain(|_, (p, _)| *p != peer);
        self.sync.peer_gone(peer);
        self.pool_served.remove(&peer);
        // The upload window is kept (it expires by itself): reconnecting must not reset it.
        let now = Instant::now();
        self.uploads
            .retain(|_, (start, _)| now.duration_since(*start) < requests::UPLOAD_WINDOW);
    }
}

/// An error with its sources, as libp2p's transport errors print nothing of their own (the
/// "address in use" underneath would otherwise be lost).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
