//! The adversary's libp2p peer: the node's behaviour (gossipsub, request-response sync,
//! identify, Kademlia) on a fresh identity, with an event loop that does what the caller says
//! and answers the node's sync requests from a [`Served`] script instead of a chain.

use std::collections::HashMap;
use std::time::Duration;

use i8o8i_network::behaviour::{Behaviour, BehaviourEvent};
use i8o8i_network::protocol::{MAX_HEADERS, Request, Response, Status};
use i8o8i_network::topics::{Topic, TopicKind};
use i8o8i_primitives::{Block, BlockHash, Header, U256};
use libp2p::futures::StreamExt;
use libp2p::gossipsub::IdentTopic;
use libp2p::request_response::{self, Message};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use parity_scale_codec::Encode;
use tokio::sync::mpsc;

/// Why the adversary could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum AdversaryError {
    /// The libp2p swarm could not be built.
    #[error("libp2p setup: {0}")]
    Setup(String),
    /// The event loop has stopped.
    #[error("the adversary peer has stopped")]
    Stopped,
    /// Nothing matching arrived in time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The node answered something else than expected.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// How the peer answers a headers request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeadersAnswer {
    /// The served chain's headers after the first locator hash it holds (genesis otherwise),
    /// as an honest node would.
    #[default]
    Chain,
    /// `Headers([])` whatever is asked: the lying peer.
    Nothing,
}

/// What the peer tells the node about itself and serves when asked.
#[derive(Debug, Clone)]
pub struct Served {
    /// The chain's genesis.
    pub genesis: BlockHash,
    /// The blocks after genesis it serves, in chain order.
    pub chain: Vec<Block>,
    /// The tip its status claims (the last served block unless told otherwise).
    pub tip: (BlockHash, u64),
    /// The work its status claims.
    pub work: U256,
    /// How it answers headers requests.
    pub headers: HeadersAnswer,
}

impl Served {
    /// Serves nothing and says so: a status at genesis with no work.
    pub fn nothing(genesis: BlockHash) -> Served {
        Served {
            genesis,
            chain: Vec::new(),
            tip: (genesis, 0),
            work: U256::zero(),
            headers: HeadersAnswer::Chain,
        }
    }

    /// Claims a tip nobody has, `height` high with `work`, and answers every headers request
    /// with nothing.
    pub fn lying(genesis: BlockHash, height: u64, work: U256) -> Served {
        let invented = BlockHash::from_byte_array(i8o8i_primitives::sha256d(b"a tip nobody has"));
        Served {
            genesis,
            chain: Vec::new(),
            tip: (invented, height),
            work,
            headers: HeadersAnswer::Nothing,
        }
    }

    /// Serves `chain` (blocks after genesis, in order) honestly, claiming `work` for its tip.
    pub fn chain(genesis: BlockHash, chain: Vec<Block>, work: U256) -> Served {
        let tip = chain
            .last()
            .map_or((genesis, 0), |b| (b.header.hash(), b.header.height));
        Served {
            genesis,
            chain,
            tip,
            work,
            headers: HeadersAnswer::Chain,
        }
    }

    fn status(&self) -> Status {
        Status {
            genesis: self.genesis,
            best_hash: self.tip.0,
            best_height: self.tip.1,
            best_work: self.work.to_big_endian(),
            lowest_block: 0,
        }
    }

    /// Up to `max` headers after the first locator hash on the served chain (genesis if none).
    fn headers_after(&self, locator: &[BlockHash], max: u32) -> Vec<Header> {
        if self.headers == HeadersAnswer::Nothing {
            return Vec::new();
        }
        let start = locator
            .iter()
            .find_map(|h| {
                if *h == self.genesis {
                    Some(0)
                } else {
                    self.chain
                        .iter()
                        .position(|b| b.header.hash() == *h)
                        .map(|p| p + 1)
                }
            })
            .unwrap_or(0);
        self.chain
            .iter()
            .skip(start)
            .take(max.min(MAX_HEADERS) as usize)
            .map(|b| b.header.clone())
            .collect()
    }
}

/// What the peer saw.
#[derive(Debug)]
pub enum Event {
    /// A connection to `0` is up.
    Connected(PeerId),
    /// The last connection to `0` closed (a ban shows up as this).
    Closed(PeerId),
    /// `0` subscribed to one of our topics: publishing now reaches it.
    Subscribed(PeerId),
    /// The answer to a request we sent to `0`, or why there was none.
    Response(PeerId, Result<Response, String>),
    /// `0` asked us for something; we answered from the script.
    Asked(PeerId, Request),
    /// A dial failed.
    DialFailed(String),
}

enum Command {
    Dial(Multiaddr),
    Publish(TopicKind, Vec<u8>),
    Request(PeerId, Request),
    Serve(Box<Served>),
}

/// A running adversary peer; dropping it stops its event loop.
pub struct Peer {
    /// Its libp2p identity.
    pub id: PeerId,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Peer {
    /// Starts a peer with a fresh identity on the chain `served.genesis`, answering as
    /// `served` says. Call from a Tokio runtime.
    ///
    /// # Errors
    /// [`AdversaryError::Setup`] if the swarm cannot be built.
    pub fn start(served: Served) -> Result<Peer, AdversaryError> {
        let setup = |e: &dyn std::fmt::Display| AdversaryError::Setup(e.to_string());
        let mut swarm = SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| setup(&e))?
            .with_behaviour(|key| Behaviour::new(key, 16))
            .map_err(|e| setup(&e))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        let id = *swarm.local_peer_id();
        let genesis = served.genesis;
        for kind in [TopicKind::Blocks, TopicKind::Transactions] {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&topic(genesis, kind))
                .map_err(|e| setup(&e))?;
        }
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        tokio::spawn(run(swarm, served, command_rx, event_tx));
        Ok(Peer {
            id,
            commands,
            events,
        })
    }

    fn send(&self, command: Command) -> Result<(), AdversaryError> {
        self.commands
            .send(command)
            .map_err(|_| AdversaryError::Stopped)
    }

    /// Dials `addr`.
    ///
    /// # Errors
    /// [`AdversaryError::Stopped`].
    pub fn dial(&self, addr: Multiaddr) -> Result<(), AdversaryError> {
        self.send(Command::Dial(addr))
    }

    /// Publishes raw bytes on a topic (junk included: nothing is checked here).
    ///
    /// # Errors
    /// [`AdversaryError::Stopped`].
    pub fn publish(&self, kind: TopicKind, data: Vec<u8>) -> Result<(), AdversaryError> {
        self.send(Command::Publish(kind, data))
    }

    /// Publishes a block on the blocks topic, whole (every transaction prefilled).
    ///
    /// # Errors
    /// [`AdversaryError::Stopped`].
    pub fn publish_block(&self, block: &Block) -> Result<(), AdversaryError> {
        self.publish(
            TopicKind::Blocks,
            i8o8i_network::compact::CompactBlock::full(block).encode(),
        )
    }

    /// Sends a sync request to `to`; the answer arrives as [`Event::Response`].
    ///
    /// # Errors
    /// [`AdversaryError::Stopped`].
    pub fn request(&self, to: PeerId, request: Request) -> Result<(), AdversaryError> {
        self.send(Command::Request(to, request))
    }

    /// Answers from now on as `served` says.
    ///
    /// # Errors
    /// [`AdversaryError::Stopped`].
    pub fn serve(&self, served: Served) -> Result<(), AdversaryError> {
        self.send(Command::Serve(Box::new(served)))
    }

    /// The next event, or `None` once the event loop stopped.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// The next event `want` accepts within `timeout`, skipping others.
    ///
    /// # Errors
    /// [`AdversaryError::Timeout`] naming `what`, [`AdversaryError::Stopped`].
    pub async fn expect(
        &mut self,
        what: &str,
        timeout: Duration,
        want: impl Fn(&Event) -> bool,
    ) -> Result<Event, AdversaryError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if want(&e) => return Ok(e),
                Ok(Some(_)) => {}
                Ok(None) => return Err(AdversaryError::Stopped),
                Err(_) => return Err(AdversaryError::Timeout(what.to_owned())),
            }
        }
    }

    /// Dials `addr` and waits until `node` has subscribed to our topics (publishing reaches it).
    ///
    /// # Errors
    /// [`AdversaryError::Timeout`] if that takes longer than `timeout`.
    pub async fn connect(
        &mut self,
        addr: Multiaddr,
        node: PeerId,
        timeout: Duration,
    ) -> Result<(), AdversaryError> {
        self.dial(addr)?;
        self.expect(
            "the node's subscription",
            timeout,
            |e| matches!(e, Event::Subscribed(p) if *p == node),
        )
        .await
        .map(|_| ())
    }

    /// Asks `node` for up to `max` headers after `locator` and waits for them.
    ///
    /// # Errors
    /// [`AdversaryError::Unexpected`] for a refusal or another answer; a timeout.
    pub async fn fetch_headers(
        &mut self,
        node: PeerId,
        locator: Vec<BlockHash>,
        max: u32,
        timeout: Duration,
    ) -> Result<Vec<Header>, AdversaryError> {
        self.request(node, Request::Headers { locator, max })?;
        match self
            .expect(
                "a headers answer",
                timeout,
                |e| matches!(e, Event::Response(p, _) if *p == node),
            )
            .await?
        {
            Event::Response(_, Ok(Response::Headers(h))) => Ok(h),
            other => Err(AdversaryError::Unexpected(format!("{other:?}"))),
        }
    }

    /// The node's best-chain headers from height 1 up to `height` (its tip if lower).
    ///
    /// # Errors
    /// As [`Peer::fetch_headers`].
    pub async fn fetch_chain(
        &mut self,
        node: PeerId,
        genesis: BlockHash,
        height: u64,
        timeout: Duration,
    ) -> Result<Vec<Header>, AdversaryError> {
        let mut headers: Vec<Header> = Vec::new();
        while (headers.len() as u64) < height {
            let locator = vec![headers.last().map_or(genesis, Header::hash)];
            let want = (height - headers.len() as u64).min(u64::from(MAX_HEADERS)) as u32;
            let more = self.fetch_headers(node, locator, want, timeout).await?;
            if more.is_empty() {
                break;
            }
            headers.extend(more);
        }
        Ok(headers)
    }
}

fn topic(genesis: BlockHash, kind: TopicKind) -> IdentTopic {
    IdentTopic::new(Topic { genesis, kind }.to_string())
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    mut served: Served,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut pending: HashMap<request_response::OutboundRequestId, PeerId> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(Command::Dial(addr)) => {
                    if let Err(e) = swarm.dial(addr) {
                        let _ = events.send(Event::DialFailed(e.to_string()));
                    }
                }
                Some(Command::Publish(kind, data)) => {
                    // Refusals here (no peer subscribed yet, too large) are the caller's
                    // business: the attack goes out or it does not.
                    let _ = swarm.behaviour_mut().gossipsub.publish(topic(served.genesis, kind), data);
                }
                Some(Command::Request(to, request)) => {
                    let id = swarm.behaviour_mut().sync.send_request(&to, request.encode());
                    pending.insert(id, to);
                }
                Some(Command::Serve(s)) => served = *s,
            },
            event = swarm.select_next_some() => {
                let report = match event {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } => Some(Event::Connected(peer_id)),
                    SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                        Some(Event::Closed(peer_id))
                    }
                    SwarmEvent::OutgoingConnectionError { error, .. } => {
                        Some(Event::DialFailed(error.to_string()))
                    }
                    SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                        libp2p::gossipsub::Event::Subscribed { peer_id, .. },
                    )) => Some(Event::Subscribed(peer_id)),
                    SwarmEvent::Behaviour(BehaviourEvent::Sync(e)) => {
                        on_sync(&mut swarm, &served, &mut pending, e)
                    }
                    _ => None,
                };
                if let Some(r) = report && events.send(r).is_err() {
                    return;
                }
            }
        }
    }
}

fn on_sync(
    swarm: &mut Swarm<Behaviour>,
    served: &Served,
    pending: &mut HashMap<request_response::OutboundRequestId, PeerId>,
    event: request_response::Event<Vec<u8>, Vec<u8>>,
) -> Option<Event> {
    match event {
        request_response::Event::Message {
            peer,
            message: Message::Request {
                request, channel, ..
            },
            ..
        } => {
            let request = Request::decode_bytes(&request).ok()?;
            let response = match &request {
                Request::Status => Response::Status(served.status()),
                Request::Headers { locator, max } => {
                    Response::Headers(served.headers_after(locator, *max))
                }
                Request::Blocks(hashes) => Response::Blocks(
                    hashes
                        .iter()
                        .filter_map(|h| served.chain.iter().find(|b| b.header.hash() == *h))
                        .cloned()
                        .collect(),
                ),
                Request::MempoolTxs => Response::Txs(Vec::new()),
                Request::BlockTxs { block, indexes } => {
                    match served.chain.iter().find(|b| b.header.hash() == *block) {
                        Some(b) => Response::BlockTxs(
                            indexes
                                .iter()
                                .filter_map(|i| b.transactions.get(*i as usize).cloned())
                                .collect(),
                        ),
                        None => Response::Refused("unknown block".into()),
                    }
                }
            };
            let _ = swarm
                .behaviour_mut()
                .sync
                .send_response(channel, response.encode());
            Some(Event::Asked(peer, request))
        }
        request_response::Event::Message {
            peer,
            message:
                Message::Response {
                    request_id,
                    response,
                },
            ..
        } => {
            pending.remove(&request_id);
            Some(Event::Response(
                peer,
                Response::decode_bytes(&response).map_err(|e| e.to_string()),
            ))
        }
        request_response::Event::OutboundFailure {
            peer,
            request_id,
            error,
            ..
        } => {
            pending.remove(&request_id);
            Some(Event::Response(peer, Err(error.to_string())))
        }
        _ => None,
    }
}
