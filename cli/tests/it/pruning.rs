//! Pruning (`storage.prune`): a node that keeps only its last blocks syncs, says what it keeps,
//! serves what it keeps, reorganises, and does not get asked — nor blamed — for the rest.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use serde_json::Value;

use crate::common::{call, call_err, start_with};
use crate::network::{
    Net, listen_addr, mine, new_address, peer_id, peer_ids, stop, tip, utxo_hash, wait_for,
    wait_tip,
};

const KEEP: u64 = 288;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pruned_node_syncs_reorganises_and_is_asked_only_for_what_it_keeps() {
    let archival = crate::network::spawn("/ip4/127.0.0.1/tcp/0", vec![]).await;
    let alice = new_address(&archival, "alice").await;
    mine(&archival, 400, &alice).await;
    let boot = listen_addr(&archival.c).await;

    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start_with(dir.path(), {
        let boot = boot.clone();
        move |cfg| {
            cfg.storage.prune = KEEP.try_into().unwrap();
            cfg.p2p.bootnodes = vec![boot];
        }
    })
    .await;
    let pruned = Net::wrap(node, c);
    wait_tip(&[&pruned], &tip(&archival.c).await).await;
    assert_eq!(utxo_hash(&pruned.c).await, utxo_hash(&archival.c).await);

    // It keeps heights 113..=400 and says so.
    let info: Value = call(&pruned.c, "chain_getInfo", rpc_params![]).await;
    assert_eq!(info["lowestBlock"], 400 - KEEP + 1);
    let chain = pruned.node.node().chain();
    let store = chain.store();
    for height in [1, 112] {
        let hash = store.hash_at(height).unwrap().unwrap();
        assert!(store.block(&hash).unwrap().is_none(), "height {height}");
        assert!(chain.entry(&hash).is_some(), "the header stays");
    }
    assert!(
        store
            .block(&store.hash_at(113).unwrap().unwrap())
            .unwrap()
            .is_some()
    );
    let (code, msg) = call_err(&pruned.c, "chain_getBlock", rpc_params![50]).await;
    assert_eq!(code, -32001, "{msg}");
    assert!(
        msg.contains("pruned: this node keeps blocks from height 113"),
        "{msg}"
    );
    let recent: Value = call(&pruned.c, "chain_getBlock", rpc_params![300]).await;
    assert_eq!(recent["header"]["height"], 300);

    // A newcomer syncing from both gets the old blocks from the archival node and does not
    // blame the pruned one for not having them.
    let pruned_addr = listen_addr(&pruned.c).await;
    let newcomer = crate::network::spawn("/ip4/127.0.0.1/tcp/0", vec![pruned_addr]).await;
    let pruned_id = peer_id(&pruned.c).await;
    wait_for("the newcomer connected to the pruned node", || async {
        peer_ids(&newcomer.c).await.contains(&pruned_id)
    })
    .await;
    // The pruned node alone cannot give it heights 1..=112: it waits for the archival node
    // (which it may also have found through the pruned node's routing table by now).
    let archival_id = peer_id(&archival.c).await;
    if !peer_ids(&newcomer.c).await.contains(&archival_id) {
        // An "already dialling" refusal is as good.
        let _ = newcomer
            .c
            .request::<Value, _>("net_addPeer", rpc_params![boot])
            .await;
    }
    wait_tip(&[&newcomer], &tip(&archival.c).await).await;
    let peers: Vec<Value> = call(&newcomer.c, "net_peers", rpc_params![]).await;
    let score = peers
        .iter()
        .find(|p| p["id"] == pruned_id)
        .map(|p| p["score"].as_i64().unwrap());
    assert!(score.is_some_and(|s| s >= 0), "{peers:?}");

    // Split: the pruned node mines 3 blocks alone, the archival node 5; healed, the pruned
    // node disconnects its 3 (undo data is kept for recent blocks) and follows.
    let newcomer_id = peer_id(&newcomer.c).await;
    for other in [&archival_id, &newcomer_id] {
        let _: bool = call(&pruned.c, "net_ban", rpc_params![other, 3]).await;
    }
    wait_for("the pruned node alone", || async {
        peer_ids(&pruned.c).await.is_empty()
    })
    .await;
    let bob = new_address(&pruned, "bob").await;
    mine(&pruned, 3, &bob).await;
    mine(&archival, 5, &alice).await;
    let heavier = tip(&archival.c).await;
    assert_eq!(heavier.0, 405);
    // Healed once the bans lapse.
    let archival_addr = listen_addr(&archival.c).await;
    wait_for("the pruned node reconnects", || async {
        if peer_ids(&pruned.c).await.contains(&archival_id) {
            return true;
        }
        let _ = pruned
            .c
            .request::<Value, _>("net_addPeer", rpc_params![archival_addr.clone()])
            .await;
        false
    })
    .await;
    wait_tip(&[&pruned], &heavier).await;
    assert_eq!(utxo_hash(&pruned.c).await, utxo_hash(&archival.c).await);
    let info: Value = call(&pruned.c, "chain_getInfo", rpc_params![]).await;
    assert_eq!(info["lowestBlock"], 405 - KEEP + 1);
    stop(vec![archival, pruned, newcomer]).await;
}
