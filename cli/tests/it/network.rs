//! The network issue's flows on loopback with real libp2p swarms: discovery through a bootnode,
//! relay, headers-first sync of a late node, a partition that heals onto the heaviest chain with
//! no transaction lost, a WebSocket-only node, and a raw libp2p client sending an invalid block
//! and junk (it gets banned; the node carries on).

use std::future::Future;
use std::time::Duration;

use i8o8i_network::behaviour::{Behaviour, BehaviourEvent};
use i8o8i_network::protocol::MAX_REQUEST_BYTES;
use i8o8i_network::topics::{Topic, TopicKind};
use i8o8i_node::launch::RunningNode;
use i8o8i_primitives::{BlockHash, Hash256, Transaction};
use i8o8i_rpc::client::RpcClient;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::IdentTopic;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, SwarmBuilder, noise, tcp, yamux};
use parity_scale_codec::Encode;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::common::{build_block, call, call_err, start_with, with_state_root};

const COIN: u64 = 100_000_000;
const PASSWORD: &str = "correct horse battery staple";
/// Generous: two cores run every test of this binary at once.
pub(crate) const WAIT: Duration = Duration::from_secs(120);

pub(crate) struct Net {
    pub(crate) node: RunningNode,
    pub(crate) c: RpcClient,
    _dir: tempfile::TempDir,
}

impl Net {
    /// A node started elsewhere (its data directory is the caller's to keep).
    pub(crate) fn wrap(node: RunningNode, c: RpcClient) -> Net {
        Net {
            node,
            c,
            _dir: tempfile::tempdir().unwrap(),
        }
    }
}

/// A networked dev node listening on `listen`, dialling `bootnodes`.
pub(crate) async fn spawn(listen: &str, bootnodes: Vec<String>) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let listen = listen.to_owned();
    let (node, c) = start_with(dir.path(), move |cfg| {
        cfg.p2p.listen = vec![listen];
        cfg.p2p.bootnodes = bootnodes;
    })
    .await;
    Net { node, c, _dir: dir }
}

pub(crate) async fn stop(nodes: Vec<Net>) {
    for n in nodes {
        n.node.stop().await;
    }
}

/// Polls `check` every 100 ms until it holds, panicking with `what` after [`WAIT`].
pub(crate) async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn listen_addr(c: &RpcClient) -> String {
    let info: Value = call(c, "net_getInfo", rpc_params![]).await;
    info["listenAddresses"][0].as_str().unwrap().to_owned()
}

pub(crate) async fn peer_id(c: &RpcClient) -> String {
    let info: Value = call(c, "net_getInfo", rpc_params![]).await;
    info["peerId"].as_str().unwrap().to_owned()
}

pub(crate) async fn peer_ids(c: &RpcClient) -> Vec<String> {
    let peers: Vec<Value> = call(c, "net_peers", rpc_params![]).await;
    peers
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn tip(c: &RpcClient) -> (u64, String) {
    let info: Value = call(c, "chain_getInfo", rpc_params![]).await;
    (
        info["height"].as_u64().unwrap(),
        info["bestHash"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn utxo_hash(c: &RpcClient) -> String {
    // The set's own hash and the state root at the same tip: equal sets and equal states.
    let info: Value = call(c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
    format!("{} {}", info["hash"], info["stateRoot"])
}

/// Waits until every node reports `expected` as its tip.
pub(crate) async fn wait_tip(nodes: &[&Net], expected: &(u64, String)) {
    for (i, n) in nodes.iter().enumerate() {
        wait_for(&format!("node {i} at height {}", expected.0), || async {
            tip(&n.c).await == *expected
        })
        .await;
    }
}

pub(crate) async fn mine(n: &Net, count: u32, address: &str) -> Vec<BlockHash> {
    call(&n.c, "mining_generate", rpc_params![count, address]).await
}

pub(crate) async fn new_address(n: &Net, wallet: &str) -> String {
    let w: Value = call(&n.c, "wallet_create", rpc_params![wallet, PASSWORD]).await;
    w["address"].as_str().unwrap().to_owned()
}

async fn in_mempool(c: &RpcClient, txid: &str) -> bool {
    let ids: Vec<String> = call(c, "mempool_getTxids", rpc_params![]).await;
    ids.iter().any(|t| t == txid)
}

async fn confirmed_height(c: &RpcClient, txid: &str) -> Option<u64> {
    let tx: Value = call(c, "tx_get", rpc_params![txid]).await;
    (tx["status"]["state"] == "confirmed").then(|| tx["status"]["height"].as_u64().unwrap())
}

async fn balance(c: &RpcClient, address: &str) -> u64 {
    let b: Value = call(c, "address_getBalance", rpc_params![address]).await;
    b["confirmed"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_through_one_bootnode_agree_and_relay_transactions() {
    let a = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let boot = listen_addr(&a.c).await;
    let b = spawn("/ip4/127.0.0.1/tcp/0", vec![boot.clone()]).await;
    let c = spawn("/ip4/127.0.0.1/tcp/0", vec![boot]).await;

    // B and C only know A; Kademlia introduces them to each other.
    let (b_id, c_id) = (peer_id(&b.c).await, peer_id(&c.c).await);
    wait_for("C discovers B through the DHT", || async {
        peer_ids(&c.c).await.contains(&b_id) && peer_ids(&b.c).await.contains(&c_id)
    })
    .await;

    let alice = new_address(&a, "alice").await;
    let bob = new_address(&c, "bob").await;
    mine(&a, 101, &alice).await;
    wait_tip(&[&a, &b, &c], &tip(&a.c).await).await;
    // Mining on different nodes: each block reaches the other two.
    mine(&b, 2, &alice).await;
    wait_tip(&[&a, &b, &c], &tip(&b.c).await).await;
    mine(&c, 3, &alice).await;
    let expected = tip(&c.c).await;
    assert_eq!(expected.0, 106);
    wait_tip(&[&a, &b, &c], &expected).await;
    let hash = utxo_hash(&a.c).await;
    assert_eq!(utxo_hash(&b.c).await, hash);
    assert_eq!(utxo_hash(&c.c).await, hash);

    // A transaction submitted to A is relayed to B, mined there, and confirmed everywhere.
    let txid: String = call(
        &a.c,
        "wallet_send",
        rpc_params!["alice", PASSWORD, bob.clone(), 7 * COIN, 2],
    )
    .await;
    wait_for("the transaction reaches B's mempool", || async {
        in_mempool(&b.c, &txid).await
    })
    .await;
    mine(&b, 1, &alice).await;
    let expected = tip(&b.c).await;
    wait_tip(&[&a, &b, &c], &expected).await;
    for n in [&a, &b, &c] {
        assert_eq!(confirmed_height(&n.c, &txid).await, Some(107));
        assert_eq!(balance(&n.c, &bob).await, 7 * COIN);
        assert!(!in_mempool(&n.c, &txid).await);
    }

    let peers: Vec<Value> = call(&a.c, "net_peers", rpc_params![]).await;
    assert_eq!(peers.len(), 2, "{peers:?}");
    for p in &peers {
        assert_eq!(p["direction"], "inbound");
        assert!(p["agent"].as_str().unwrap().starts_with("i8o8icoin/"));
        assert!(p["score"].as_i64().unwrap() >= 0);
    }
    stop(vec![a, b, c]).await;
}

/// New blocks travel as compact blocks (BIP152's encoding over gossip): a node whose pool holds
/// the block's transactions rebuilds it with nothing asked; one whose pool refused them (its
/// minimum fee rate is above theirs) asks the relaying peer for exactly those and ends on the
/// same tip and state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocks_travel_compactly_and_missing_transactions_are_fetched() {
    let a = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let boot = listen_addr(&a.c).await;
    let pooled = spawn("/ip4/127.0.0.1/tcp/0", vec![boot.clone()]).await;
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start_with(dir.path(), move |cfg| {
        cfg.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
        cfg.p2p.bootnodes = vec![boot];
        cfg.mempool.min_fee_rate = 1_000_000;
    })
    .await;
    let strict = Net { node, c, _dir: dir };
    let alice = new_address(&a, "alice").await;
    let bob = new_address(&a, "bob").await;
    // Three mature coinbases: one per payment.
    mine(&a, 103, &alice).await;
    wait_tip(&[&a, &pooled, &strict], &tip(&a.c).await).await;

    let mut txids = Vec::new();
    for amount in 1..=3u64 {
        let txid: String = call(
            &a.c,
            "wallet_send",
            rpc_params!["alice", PASSWORD, bob.clone(), amount * COIN, 2],
        )
        .await;
        txids.push(txid);
    }
    for txid in &txids {
        wait_for("the payment in the pooling node's pool", || async {
            in_mempool(&pooled.c, txid).await
        })
        .await;
        assert!(!in_mempool(&strict.c, txid).await);
    }
    let count = |n: &Net, outcome| n.node.node().metrics().compact_blocks(outcome);
    let before = [
        count(&pooled, "complete"),
        count(&strict, "fetched"),
        count(&strict, "whole"),
    ];
    mine(&a, 1, &alice).await;
    let expected = tip(&a.c).await;
    assert_eq!(expected.0, 104);
    wait_tip(&[&a, &pooled, &strict], &expected).await;
    assert_eq!(count(&pooled, "complete"), before[0] + 1);
    assert_eq!(count(&strict, "fetched"), before[1] + 1);
    assert_eq!(count(&strict, "whole"), before[2]);
    for n in [&pooled, &strict] {
        for txid in &txids {
            assert_eq!(confirmed_height(&n.c, txid).await, Some(104));
        }
        assert_eq!(balance(&n.c, &bob).await, 6 * COIN);
        assert_eq!(utxo_hash(&n.c).await, utxo_hash(&a.c).await);
    }
    stop(vec![a, pooled, strict]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_late_node_syncs_500_blocks_headers_first() {
    let a = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let alice = new_address(&a, "alice").await;
    mine(&a, 500, &alice).await;
    let expected = tip(&a.c).await;
    assert_eq!(expected.0, 500);
    // Waiting in A's pool when D arrives: D learns of it once it has caught up.
    let pending: String = call(
        &a.c,
        "wallet_send",
        rpc_params!["alice", PASSWORD, alice.clone(), COIN, 2],
    )
    .await;

    let d = spawn("/ip4/127.0.0.1/tcp/0", vec![listen_addr(&a.c).await]).await;
    wait_tip(&[&d], &expected).await;
    wait_for("A's pool transaction in D's pool", || async {
        in_mempool(&d.c, &pending).await
    })
    .await;
    assert_eq!(utxo_hash(&d.c).await, utxo_hash(&a.c).await);
    let peers: Vec<Value> = call(&d.c, "net_peers", rpc_params![]).await;
    assert_eq!(peers[0]["bestHeight"], 500);
    assert!(
        peers[0]["score"].as_i64().unwrap() > 0,
        "useful blocks raise the score: {peers:?}"
    );
    stop(vec![a, d]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_listening_only_on_websocket_take_full_part() {
    let w = spawn("/ip4/127.0.0.1/tcp/0/ws", vec![]).await;
    let w_addr = listen_addr(&w.c).await;
    assert!(w_addr.contains("/ws/p2p/"), "{w_addr}");
    let x = spawn("/ip4/127.0.0.1/tcp/0/ws", vec![w_addr]).await;
    let alice = new_address(&w, "alice").await;
    mine(&w, 101, &alice).await;
    wait_tip(&[&w, &x], &tip(&w.c).await).await;
    let txid: String = call(
        &w.c,
        "wallet_send",
        rpc_params!["alice", PASSWORD, alice.clone(), COIN, 2],
    )
    .await;
    wait_for("the transaction reaches X over WebSocket", || async {
        in_mempool(&x.c, &txid).await
    })
    .await;
    mine(&x, 1, &alice).await;
    wait_tip(&[&w, &x], &tip(&x.c).await).await;
    assert_eq!(confirmed_height(&w.c, &txid).await, Some(102));
    let peers: Vec<Value> = call(&w.c, "net_peers", rpc_params![]).await;
    assert!(
        peers[0]["address"].as_str().unwrap().contains("/ws"),
        "{peers:?}"
    );
    stop(vec![w, x]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_healed_partition_ends_on_the_heaviest_chain_and_loses_no_transaction() {
    let a = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let boot = listen_addr(&a.c).await;
    let b = spawn("/ip4/127.0.0.1/tcp/0", vec![boot.clone()]).await;
    let c = spawn("/ip4/127.0.0.1/tcp/0", vec![boot.clone()]).await;
    let d = spawn("/ip4/127.0.0.1/tcp/0", vec![boot.clone()]).await;
    let all = [&a, &b, &c, &d];

    let carol = new_address(&c, "carol").await;
    let dave = new_address(&d, "dave").await;
    let miner = new_address(&a, "miner").await;
    mine(&a, 101, &carol).await;
    wait_tip(&all, &tip(&a.c).await).await;
    let (c_id, d_id) = (peer_id(&c.c).await, peer_id(&d.c).await);
    wait_for("C and D connected", || async {
        peer_ids(&c.c).await.contains(&d_id)
    })
    .await;

    // Partition {A, B} | {C, D}: each side bans the other for a short while.
    const PARTITION_SECS: u64 = 3;
    let (a_id, b_id) = (peer_id(&a.c).await, peer_id(&b.c).await);
    for (n, others) in [
        (&a, [&c_id, &d_id]),
        (&b, [&c_id, &d_id]),
        (&c, [&a_id, &b_id]),
        (&d, [&a_id, &b_id]),
    ] {
        for other in others {
            let _: bool = call(&n.c, "net_ban", rpc_params![other, PARTITION_SECS]).await;
        }
    }
    for (n, others) in [(&a, [&c_id, &d_id]), (&c, [&a_id, &b_id])] {
        let ids = peer_ids(&n.c).await;
        assert!(others.iter().all(|o| !ids.contains(o)), "{ids:?}");
    }

    // The light side {C, D}: two transactions, relayed C → D and mined by D.
    let mut txids = Vec::new();
    for amount in [3 * COIN, 4 * COIN] {
        let txid: String = call(
            &c.c,
            "wallet_send",
            rpc_params!["carol", PASSWORD, dave.clone(), amount, 2],
        )
        .await;
        txids.push(txid);
    }
    for txid in &txids {
        wait_for("the transaction reaches D", || async {
            in_mempool(&d.c, txid).await
        })
        .await;
    }
    mine(&d, 2, &dave).await;
    let light = tip(&d.c).await;
    wait_tip(&[&c, &d], &light).await;
    assert_eq!(confirmed_height(&c.c, &txids[0]).await, Some(102));
    assert!(balance(&c.c, &dave).await > 7 * COIN);

    // The heavy side {A, B}: more blocks, none of those transactions.
    mine(&a, 5, &miner).await;
    let heavy = tip(&a.c).await;
    wait_tip(&[&a, &b], &heavy).await;
    assert_eq!(tip(&c.c).await, light, "the partition held");

    // Heal once the bans lapse: C dials A again.
    wait_for("C reconnects to A", || async {
        if peer_ids(&c.c).await.contains(&a_id) {
            return true;
        }
        let _ =
            c.c.request::<Value, _>("net_addPeer", rpc_params![boot.clone()])
                .await;
        false
    })
    .await;
    wait_tip(&all, &heavy).await;
    for txid in &txids {
        assert_eq!(confirmed_height(&c.c, txid).await, None);
        assert!(in_mempool(&c.c, txid).await, "{txid} back in C's mempool");
    }
    let hash = utxo_hash(&a.c).await;
    for n in all {
        assert_eq!(utxo_hash(&n.c).await, hash);
    }

    // And later confirmed: C mines on the heavy chain.
    mine(&c, 1, &miner).await;
    let end = tip(&c.c).await;
    assert_eq!(end.0, heavy.0 + 1);
    wait_tip(&all, &end).await;
    for n in all {
        for txid in &txids {
            assert_eq!(confirmed_height(&n.c, txid).await, Some(end.0));
        }
        assert_eq!(balance(&n.c, &dave).await, 7 * COIN);
    }
    stop(vec![a, b, c, d]).await;
}

/// What the raw client is told to do.
pub(crate) enum RawCommand {
    Publish(TopicKind, Vec<u8>),
    Request(Vec<u8>),
    Dial(Multiaddr),
}

/// What the raw client saw.
#[derive(Debug)]
pub(crate) enum RawEvent {
    Connected(PeerId),
    Closed(PeerId),
    /// The node's subscription to a topic arrived (publishing now reaches it).
    Subscribed,
    Response(Result<usize, String>),
    DialFailed,
}

/// A libp2p client speaking the node's protocols, driven from the test through channels.
pub(crate) struct RawPeer {
    pub(crate) id: PeerId,
    commands: mpsc::UnboundedSender<RawCommand>,
    events: mpsc::UnboundedReceiver<RawEvent>,
}

impl RawPeer {
    pub(crate) fn start(genesis: BlockHash, target: PeerId) -> RawPeer {
        let mut swarm = SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|key| Behaviour::new(key, 8))
            .unwrap()
            .build();
        let id = *swarm.local_peer_id();
        let topic = move |kind| IdentTopic::new(Topic { genesis, kind }.to_string());
        for kind in [TopicKind::Blocks, TopicKind::Transactions] {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&topic(kind))
                .unwrap();
        }
        let (commands, mut command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    cmd = command_rx.recv() => match cmd {
                        None => return,
                        Some(RawCommand::Publish(kind, data)) => {
                            // Junk may be refused locally (too large): that is the test's point
                            // for the remote side only when it is sent, so ignore errors here.
                            let _ = swarm.behaviour_mut().gossipsub.publish(topic(kind), data);
                        }
                        Some(RawCommand::Request(bytes)) => {
                            swarm.behaviour_mut().sync.send_request(&target, bytes);
                        }
                        Some(RawCommand::Dial(addr)) => {
                            if swarm.dial(addr).is_err() {
                                let _ = event_tx.send(RawEvent::DialFailed);
                            }
                        }
                    },
                    event = swarm.select_next_some() => {
                        let report = match event {
                            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                                Some(RawEvent::Connected(peer_id))
                            }
                            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                                Some(RawEvent::Closed(peer_id))
                            }
                            SwarmEvent::OutgoingConnectionError { .. } => Some(RawEvent::DialFailed),
                            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                                libp2p::gossipsub::Event::Subscribed { .. },
                            )) => Some(RawEvent::Subscribed),
                            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                                libp2p::request_response::Event::Message {
                                    message: libp2p::request_response::Message::Response { response, .. },
                                    ..
                                },
                            )) => Some(RawEvent::Response(Ok(response.len()))),
                            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                                libp2p::request_response::Event::OutboundFailure { error, .. },
                            )) => Some(RawEvent::Response(Err(error.to_string()))),
                            _ => None,
                        };
                        if let Some(r) = report && event_tx.send(r).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        RawPeer {
            id,
            commands,
            events,
        }
    }

    /// A raw peer dialled to `target` at `addr`, once connected and told the node's gossip
    /// subscriptions (so that what it publishes reaches the node).
    pub(crate) async fn subscribed_to(
        genesis: BlockHash,
        target: PeerId,
        addr: Multiaddr,
    ) -> RawPeer {
        let mut raw = RawPeer::start(genesis, target);
        raw.send(RawCommand::Dial(addr));
        raw.expect(
            "connection",
            |e| matches!(e, RawEvent::Connected(p) if *p == target),
        )
        .await;
        raw.expect("the node's subscriptions", |e| {
            matches!(e, RawEvent::Subscribed)
        })
        .await;
        raw
    }

    pub(crate) fn send(&self, cmd: RawCommand) {
        self.commands.send(cmd).unwrap();
    }

    /// The next event matching `want`, skipping others.
    pub(crate) async fn expect(
        &mut self,
        what: &str,
        want: impl Fn(&RawEvent) -> bool,
    ) -> RawEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if want(&e) => return e,
                Ok(Some(_)) => {}
                Ok(None) => panic!("raw peer stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }
}

pub(crate) async fn genesis_and_id(n: &Net) -> (BlockHash, PeerId) {
    let info: Value = call(&n.c, "chain_getInfo", rpc_params![]).await;
    let genesis: BlockHash = info["genesis"].as_str().unwrap().parse().unwrap();
    (genesis, peer_id(&n.c).await.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn junk_from_a_raw_client_is_refused_and_the_node_carries_on() {
    let a = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let (genesis, a_id) = genesis_and_id(&a).await;
    let addr: Multiaddr = listen_addr(&a.c).await.parse().unwrap();
    let mut raw = RawPeer::subscribed_to(genesis, a_id, addr.clone()).await;

    // Requests that do not decode are answered with a refusal, not a crash; an oversized one is
    // cut off by the size cap.
    raw.send(RawCommand::Request(vec![0xff; 40]));
    let e = raw
        .expect("a refusal", |e| matches!(e, RawEvent::Response(_)))
        .await;
    assert!(matches!(e, RawEvent::Response(Ok(n)) if n > 0), "{e:?}");
    raw.send(RawCommand::Request(vec![0; MAX_REQUEST_BYTES + 1]));
    let e = raw
        .expect("the oversized request to fail", |e| {
            matches!(e, RawEvent::Response(_))
        })
        .await;
    assert!(matches!(e, RawEvent::Response(Err(_))), "{e:?}");
    // A well-formed request after all that is still answered.
    raw.send(RawCommand::Request(
        i8o8i_network::protocol::Request::Status.encode(),
    ));
    let e = raw
        .expect("a status", |e| matches!(e, RawEvent::Response(_)))
        .await;
    assert!(matches!(e, RawEvent::Response(Ok(n)) if n > 32), "{e:?}");

    // A flood of transactions that decode but spend nothing that exists: ignored (an honest
    // node can relay a transaction whose parent it has and we lack), never admitted.
    for i in 0..2_000u32 {
        let tx = Transaction {
            version: 1,
            inputs: vec![i8o8i_primitives::TxIn {
                prevout: i8o8i_primitives::OutPoint {
                    txid: i8o8i_primitives::Txid::from_byte_array([(i % 251) as u8; 32]),
                    index: i,
                },
                script_sig: vec![0x51].into(),
                sequence: u32::MAX,
            }],
            outputs: vec![i8o8i_primitives::TxOut {
                value: i8o8i_primitives::Amount::from_units(1_000),
                script_pubkey: vec![0x51].into(),
            }],
            lock_time: 0,
            payload: None,
        };
        raw.send(RawCommand::Publish(TopicKind::Transactions, tx.encode()));
    }
    // Still answering, still mining, nothing admitted.
    let miner = new_address(&a, "miner").await;
    mine(&a, 3, &miner).await;
    assert_eq!(tip(&a.c).await.0, 3);
    let pool: Value = call(&a.c, "mempool_getInfo", rpc_params![]).await;
    assert_eq!(pool["size"], 0);

    // Undecodable gossip on both topics costs score; enough of it gets the client banned.
    for i in 0..20u8 {
        raw.send(RawCommand::Publish(TopicKind::Blocks, vec![i; 100]));
        raw.send(RawCommand::Publish(TopicKind::Transactions, vec![i; 7]));
    }
    raw.expect(
        "the ban to disconnect us",
        |e| matches!(e, RawEvent::Closed(p) if *p == a_id),
    )
    .await;
    // The client may see the connection close before the node's event loop has processed it.
    let raw_id = raw.id.to_string();
    wait_for("the banned client to leave net_peers", || async {
        !peer_ids(&a.c).await.contains(&raw_id)
    })
    .await;
    let (code, _) = call_err(&a.c, "net_ban", rpc_params!["not-a-peer", 10]).await;
    assert_eq!(code, -32602);
    stop(vec![a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_sending_an_invalid_block_is_banned_across_restarts_and_others_keep_syncing() {
    let dir_a = tempfile::tempdir().unwrap();
    let config =
        |cfg: &mut i8o8i_config::NodeConfig| cfg.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    let (node_a, c_a) = start_with(dir_a.path(), config).await;
    let a = Net {
        node: node_a,
        c: c_a,
        _dir: tempfile::tempdir().unwrap(),
    };
    let b = spawn("/ip4/127.0.0.1/tcp/0", vec![listen_addr(&a.c).await]).await;
    let miner = new_address(&a, "miner").await;
    mine(&a, 2, &miner).await;
    wait_tip(&[&a, &b], &tip(&a.c).await).await;

    let (genesis, a_id) = genesis_and_id(&a).await;
    let addr: Multiaddr = listen_addr(&a.c).await.parse().unwrap();
    let mut raw = RawPeer::subscribed_to(genesis, a_id, addr.clone()).await;

    // Valid proof of work on the tip, but the coinbase claims more than the subsidy.
    let parent = a.node.node().chain().tip().header.clone();
    let payout = i8o8i_script_vm::Script::from_bytes(&[0x51]);
    let bad = build_block(&a.node, &parent, vec![], payout, 51 * COIN, 1);
    raw.send(RawCommand::Publish(
        TopicKind::Blocks,
        i8o8i_network::compact::CompactBlock::full(&bad).encode(),
    ));
    raw.expect(
        "the ban to disconnect us",
        |e| matches!(e, RawEvent::Closed(p) if *p == a_id),
    )
    .await;
    assert_eq!(
        a.node.node().chain().tip().hash,
        parent.hash(),
        "the bad block never became the tip"
    );

    // The honest peer keeps syncing.
    mine(&a, 2, &miner).await;
    let expected = tip(&a.c).await;
    assert_eq!(expected.0, 4);
    wait_tip(&[&b], &expected).await;

    // Another peer sends a block whose only fault is the state its header commits to: it is
    // refused when connected, marked invalid, and its sender banned the same way.
    // (In a scope: the chain handle must go before the node restarts below.)
    {
        let mut liar = RawPeer::subscribed_to(genesis, a_id, addr.clone()).await;
        let chain = a.node.node().chain().clone();
        let parent = chain.tip().header.clone();
        let subsidy = chain.spec().subsidy(parent.height + 1).to_units();
        let honest = build_block(&a.node, &parent, vec![], payout, subsidy, 2);
        let lie = Hash256::from_byte_array([7; 32]);
        assert_ne!(honest.header.state_root, lie);
        let wrong = with_state_root(&a.node, honest, lie);
        liar.send(RawCommand::Publish(
            TopicKind::Blocks,
            i8o8i_network::compact::CompactBlock::full(&wrong).encode(),
        ));
        liar.expect(
            "the ban to disconnect the liar",
            |e| matches!(e, RawEvent::Closed(p) if *p == a_id),
        )
        .await;
        assert_eq!(chain.tip().hash, parent.hash());
        assert_eq!(
            chain.entry(&wrong.header.hash()).map(|e| e.status),
            Some(i8o8i_chain::store::BlockStatus::Invalid)
        );
    }

    // The ban is persisted: after a restart the node still refuses the client.
    let Net { node, c, _dir } = a;
    drop(c);
    node.stop().await;
    let (node_a, c_a) = start_with(dir_a.path(), config).await;
    let addr: Multiaddr = listen_addr(&c_a).await.parse().unwrap();
    raw.send(RawCommand::Dial(addr));
    let e = raw
        .expect("the dial to be refused", |e| {
            matches!(e, RawEvent::DialFailed | RawEvent::Closed(_))
        })
        .await;
    assert!(matches!(e, RawEvent::DialFailed | RawEvent::Closed(_)));
    assert!(!peer_ids(&c_a).await.contains(&raw.id.to_string()));
    node_a.stop().await;
    stop(vec![b]).await;
}

/// A peer that went away is dialled with growing waits and then forgotten: out of the
/// Kademlia table (so no longer handed to others) and never dialled again. Before, it was
/// dialled twice every 5 s for as long as the node ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_peer_is_dialled_less_often_then_forgotten() {
    let b = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let b_addr = listen_addr(&b.c).await;
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start_with(dir.path(), move |cfg| {
        cfg.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
        cfg.p2p.bootnodes = vec![b_addr];
        cfg.p2p.redial_after_secs = 1;
        cfg.p2p.forget_after_failed_dials = 3;
    })
    .await;
    let a = Net { node, c, _dir: dir };
    let info = |c: &RpcClient| {
        let c = c.clone();
        async move {
            let info: Value = call(&c, "net_getInfo", rpc_params![]).await;
            (
                info["peers"].as_u64().unwrap(),
                info["knownPeers"].as_u64().unwrap(),
            )
        }
    };
    wait_for("a connected to b", || async { info(&a.c).await == (1, 1) }).await;
    let addr = a.node.rpc_addr();
    let failures = || async move {
        crate::rpc_platform::sample(
            &crate::rpc_platform::scrape(addr).await,
            "i8o8i_p2p_dial_failures_total",
        )
    };
    let before = failures().await;
    b.node.stop().await;
    wait_for("b forgotten", || async { info(&a.c).await == (0, 0) }).await;
    let at_forget = failures().await - before;
    assert!(
        (3.0..=6.0).contains(&at_forget),
        "{at_forget} failed dials before forgetting (limit 3, plus dials already in flight)"
    );
    // Two more redial rounds (every 5 s): nobody dials b again.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        failures().await - before,
        at_forget,
        "b was dialled after being forgotten"
    );
    assert_eq!(info(&a.c).await, (0, 0));
    a.node.stop().await;
}

/// A peer of another libp2p implementation (the shape of a js-libp2p light client: identify
/// with its own protocol string, gossipsub, ping; no Kademlia, no sync).
#[derive(libp2p::swarm::NetworkBehaviour)]
struct ForeignPeer {
    identify: libp2p::identify::Behaviour,
    ping: libp2p::ping::Behaviour,
    gossipsub: libp2p::swarm::behaviour::toggle::Toggle<libp2p::gossipsub::Behaviour>,
}

fn foreign_peer(gossip: bool) -> libp2p::Swarm<ForeignPeer> {
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| ForeignPeer {
            // js-libp2p's default identify protocol version and an agent of its own.
            identify: libp2p::identify::Behaviour::new(
                libp2p::identify::Config::new("ipfs/0.1.0".into(), key.public())
                    .with_agent_version("js-libp2p/2.0.0 UserAgent=node".into()),
            ),
            ping: libp2p::ping::Behaviour::default(),
            gossipsub: gossip
                .then(|| {
                    libp2p::gossipsub::Behaviour::new(
                        libp2p::gossipsub::MessageAuthenticity::Signed(key.clone()),
                        libp2p::gossipsub::Config::default(),
                    )
                    .unwrap()
                })
                .into(),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// A peer is ours by what it speaks, not by its identify string: a gossip-only light client
/// announcing `ipfs/0.1.0` stays connected and receives blocks (before, the node dropped any
/// peer whose identify protocol was not `/i8o8i/id/1`, ~30 ms after connecting); a peer that
/// speaks none of the chain's protocols is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_light_client_stays_and_gets_blocks_and_a_stranger_is_let_go() {
    let a = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let (genesis, _) = genesis_and_id(&a).await;
    let addr: Multiaddr = listen_addr(&a.c).await.parse().unwrap();
    let blocks = IdentTopic::new(
        Topic {
            genesis,
            kind: TopicKind::Blocks,
        }
        .to_string(),
    );

    let mut light = foreign_peer(true);
    light
        .behaviour_mut()
        .gossipsub
        .as_mut()
        .unwrap()
        .subscribe(&blocks)
        .unwrap();
    light.dial(addr.clone()).unwrap();
    let miner =
        i8o8i_primitives::address::Address::p2pkh(i8o8i_primitives::address::Network::Dev, [7; 20])
            .to_string();
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut subscribed, mut received) = (false, false);
    while !received {
        let event = tokio::time::timeout_at(deadline, light.select_next_some())
            .await
            .expect("a block by gossip before the deadline");
        match event {
            SwarmEvent::ConnectionClosed { cause, .. } => {
                panic!("the node dropped the light client: {cause:?}")
            }
            SwarmEvent::Behaviour(ForeignPeerEvent::Gossipsub(
                libp2p::gossipsub::Event::Subscribed { .. },
            )) if !subscribed => {
                subscribed = true;
                let _: Vec<Value> = call(&a.c, "mining_generate", rpc_params![1, &miner]).await;
            }
            SwarmEvent::Behaviour(ForeignPeerEvent::Gossipsub(
                libp2p::gossipsub::Event::Message { message, .. },
            )) => {
                assert_eq!(message.topic, blocks.hash());
                received = true;
            }
            _ => {}
        }
    }
    let peers: Vec<Value> = call(&a.c, "net_peers", rpc_params![]).await;
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0]["agent"], "js-libp2p/2.0.0 UserAgent=node");

    // Identify and ping only: none of the chain's protocols.
    let mut stranger = foreign_peer(false);
    stranger.dial(addr).unwrap();
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            if let SwarmEvent::ConnectionClosed { .. } = stranger.select_next_some().await {
                return;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the stranger was not disconnected");
    drop(light);
    a.node.stop().await;
}
