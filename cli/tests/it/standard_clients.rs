//! Clients this project did not write, run unmodified against a real node. The JavaScript ones
//! live in `cli/tests/js` with their versions pinned in its `package-lock.json`; `npm ci`
//! installs them (once per test run) with the Node.js the README asks for.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::common::start_with;

/// `cli/tests/js` with its pinned packages installed.
pub(crate) fn js_harness() -> PathBuf {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js");
            crate::common::npm_ci(&dir);
            dir
        })
        .clone()
}

/// Runs `node script args` in the harness and parses the JSON line it prints.
pub(crate) fn run_node(script: &str, args: &[&str]) -> (bool, Value) {
    let dir = js_harness();
    let out = std::process::Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!(
                "{script} printed no JSON: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    (out.status.success(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_openrpc_client_accepts_every_method_s_valid_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _client) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let url = format!("http://{}", running.rpc_addr());
    let (ok, report) = tokio::task::spawn_blocking(move || run_node("check-openrpc.mjs", &[&url]))
        .await
        .unwrap();
    assert!(ok, "{report:#}");
    assert_eq!(report["refused"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["refs"], serde_json::json!([]), "{report:#}");
    assert_eq!(
        report["methods"].as_u64().unwrap() as usize,
        i8o8i_rpc::api::METHODS.len() + 1,
        "every method is in the document, and rpc.discover"
    );
    running.stop().await;
}

/// A standard js-libp2p node (Node.js, libp2p 3.3 and its packages pinned in `cli/tests/js`)
/// dials the node over TCP and stays connected, and identify works both ways. Before, the node
/// dropped it ~30 ms after connecting (its identify string is not ours).
///
/// Not yet asserted, because it does not work yet: this client receives no gossip from the
/// node (the node sends it its subscriptions, but never receives the client's), and its
/// Kademlia query is answered only in some runs (the script reports both as `blocks` and
/// `kad`); a Rust libp2p peer of the same shape does receive gossip
/// (`network::a_foreign_light_client_stays_and_gets_blocks_and_a_stranger_is_let_go`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_libp2p_peer_gets_gossip_and_dht_answers_over_tcp_and_websocket() {
    for listen in ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"] {
        let report = js_libp2p_report(listen).await;
        assert_eq!(report["stayed"], true, "{listen}: {report}");
        assert!(
            report["agent"].as_str().unwrap().starts_with("i8o8icoin/"),
            "{listen}: {report}"
        );
        assert_eq!(
            report["kad"], true,
            "{listen}: the node answers the DHT: {report}"
        );
        assert!(
            report["blocks"].as_u64().unwrap() >= 2,
            "{listen}: blocks arrive by gossip: {report}"
        );
    }
}

/// What `check-libp2p.mjs` reports against a node listening on `listen` that mines a block
/// every 400 ms meanwhile.
async fn js_libp2p_report(listen: &str) -> Value {
    use crate::network::{genesis_and_id, new_address, spawn};
    let a = spawn(listen, vec![]).await;
    let (genesis, _) = genesis_and_id(&a).await;
    let topic = i8o8i_network::topics::Topic {
        genesis,
        kind: i8o8i_network::topics::TopicKind::Blocks,
    }
    .to_string();
    let info: Value = crate::common::call(&a.c, "net_getInfo", jsonrpsee::rpc_params![]).await;
    let address = info["listenAddresses"][0].as_str().unwrap().to_owned();
    let miner = new_address(&a, "miner").await;
    let mining = {
        let c = a.c.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(400)).await;
                let _: Vec<String> =
                    crate::common::call(&c, "mining_generate", jsonrpsee::rpc_params![1, &miner])
                        .await;
            }
        })
    };
    let (ok, report) = tokio::task::spawn_blocking(move || {
        run_node("check-libp2p.mjs", &[&address, &topic, "8000"])
    })
    .await
    .unwrap();
    mining.abort();
    assert!(ok, "{report}");
    a.node.stop().await;
    report
}
