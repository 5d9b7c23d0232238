//! The consensus-safety issue's attacks, mounted on real nodes over libp2p with the
//! `i8o8i-adversary` peer: each test is an attack that split, stalled or rewound the network
//! before its fix (the commit that fixed it says so), and asserts what the honest nodes do now.

use std::time::Instant;

use i8o8i_adversary::{Event, Peer, Served};
use i8o8i_network::protocol::Request;
use i8o8i_primitives::U256;
use jsonrpsee::rpc_params;
use serde_json::Value;

use crate::common::call;
use crate::network::{
    WAIT, genesis_and_id, listen_addr, mine, new_address, spawn, stop, tip, utxo_hash, wait_tip,
};

/// A peer that claims far more work than anyone and answers every headers request with
/// nothing is asked first; a node 500 blocks behind still catches up from an honest peer, and
/// the liar's score pays for the empty answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lying_peer_cannot_stall_sync() {
    let honest = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let alice = new_address(&honest, "alice").await;
    mine(&honest, 500, &alice).await;
    let expected = tip(&honest.c).await;

    let behind = spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let (genesis, behind_id) = genesis_and_id(&behind).await;
    let mut liar = Peer::start(Served::lying(genesis, 1_000_000, U256::MAX >> 1)).unwrap();
    let addr = listen_addr(&behind.c).await.parse().unwrap();
    liar.connect(addr, behind_id, WAIT).await.unwrap();
    liar.expect("a headers request to the liar", WAIT, |e| {
        matches!(e, Event::Asked(_, Request::Headers { .. }))
    })
    .await
    .unwrap();

    let started = Instant::now();
    let _: Value = call(
        &behind.c,
        "net_addPeer",
        rpc_params![listen_addr(&honest.c).await],
    )
    .await;
    wait_tip(&[&behind], &expected).await;
    eprintln!(
        "caught up 500 blocks with a lying peer connected in {:?}",
        started.elapsed()
    );
    assert_eq!(utxo_hash(&behind.c).await, utxo_hash(&honest.c).await);
    let peers: Vec<Value> = call(&behind.c, "net_peers", rpc_params![]).await;
    let liar_id = liar.id.to_string();
    let p = peers
        .iter()
        .find(|p| p["id"] == liar_id)
        .expect("one empty answer does not get the liar banned");
    assert_eq!(
        p["score"].as_i64().unwrap(),
        -50,
        "an undelivered claim costs the liar: {p}"
    );
    stop(vec![honest, behind]).await;
}
