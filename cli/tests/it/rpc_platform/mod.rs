//! The RPC platform against a real node: the OpenRPC document, JWT auth over HTTP and
//! WebSocket, rate limits and size limits, `/metrics`, subscriptions (and dropping a stalled
//! subscriber), hostile requests, the REST aliases, CORS and the docs page in Chromium.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use i8o8i_config::NodeConfig;
use i8o8i_node::launch::secret_in;
use i8o8i_rpc::api::METHODS;
use i8o8i_rpc::auth::unix_now;
use i8o8i_rpc::{JwtSecret, MethodTable, Registry};
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{HeaderMap, HeaderValue, WsClientBuilder};
use serde_json::{Value, json};

use crate::common::{call, call_err, start_with};

/// A raw HTTP client, optionally bound to a local source address.
fn http_client(local: Option<IpAddr>) -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_local_address(local);
    Client::builder(TokioExecutor::new()).build(connector)
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let mut request = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = client
        .request(request.body(Full::new(body.into())).unwrap())
        .await
        .expect("HTTP request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn post_json(addr: SocketAddr, body: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("authorization", b));
    }
    send(
        &http_client(None),
        "POST",
        &format!("http://{addr}/"),
        &headers,
        body.to_owned(),
    )
    .await
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    send(
        &http_client(None),
        "GET",
        &format!("http://{addr}{path}"),
        &[],
        Bytes::new(),
    )
    .await
}

/// An address of a fresh wallet on the node, to mine to.
async fn miner_address(client: &i8o8i_rpc::client::RpcClient) -> String {
    let created: Value = call(client, "wallet_create", rpc_params!["miner", "pw"]).await;
    created["address"].as_str().unwrap().to_owned()
}

fn rpc_body(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

fn none_token() -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(format!(r#"{{"iat":{}}}"#, unix_now()))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openrpc_document_describes_exactly_the_served_methods_and_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| c.p2p.enabled = false).await;

    // The same registration the node ran, finished into an API: its method set.
    let mut registry = Registry::from_arc(running.node().clone(), METHODS);
    i8o8i_node::rpc::register(&mut registry);
    let api = registry.into_api();
    let served: BTreeSet<&str> = api.method_names().into_iter().collect();
    let doc: Value = serde_json::from_str(api.document()).unwrap();
    let documented: BTreeSet<&str> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(documented, served, "documented vs served methods");
    let methods = MethodTable::new(METHODS);
    let table: BTreeSet<&str> = methods.methods().iter().map(|m| m.name).collect();
    assert_eq!(table, served, "every table entry has a handler");
    for m in doc["methods"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let spec = methods.find(name).unwrap();
        let params: Vec<&str> = m["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, spec.param_names(), "{name} params");
        assert!(!m["summary"].as_str().unwrap().is_empty(), "{name} summary");
        assert!(m["result"]["schema"].is_object(), "{name} result schema");
        assert!(!m["errors"].as_array().unwrap().is_empty(), "{name} errors");
        assert!(
            !m["examples"].as_array().unwrap().is_empty(),
            "{name} examples"
        );
        for p in m["params"].as_array().unwrap() {
            assert!(p["schema"].is_object(), "{name}.{} schema", p["name"]);
        }
    }
    // The result schemas come from the handlers' types.
    let info = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "chain_getInfo")
        .unwrap();
    assert_eq!(
        info["result"]["schema"]["$ref"],
        "#/components/schemas/ChainInfo"
    );
    assert!(doc["components"]["schemas"]["ChainInfo"]["properties"]["bestHash"].is_object());

    // Valid against the OpenRPC 1.3 meta-schema.
    let meta: Value =
        serde_json::from_str(include_str!("../../data/openrpc-meta-schema-1.3.json")).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("urn:openrpc-meta", meta)
        .expect("meta-schema loads");
    let index = compiler
        .compile("urn:openrpc-meta", &mut schemas)
        .expect("meta-schema compiles");
    if let Err(e) = schemas.validate(&doc, index) {
        panic!("the OpenRPC document is invalid: {e:#}");
    }
    // Only JSON Schema's own formats: integer widths are ranges, not `uint64` & co.
    let text = doc.to_string();
    for odd in [
        "\"format\":\"uint",
        "\"format\":\"int",
        "\"format\":\"double",
    ] {
        assert!(!text.contains(odd), "{odd} in the document");
    }
    assert!(text.contains("\"maximum\":18446744073709551615"));

    // And a broken document is not (the validator really validates).
    let mut broken = doc.clone();
    broken["methods"][0]["params"] = json!("nope");
    assert!(schemas.validate(&broken, index).is_err());

    // Served as rpc.discover and as /openrpc.json, the same document.
    let discovered: Value = call(&client, "rpc.discover", rpc_params![]).await;
    assert_eq!(discovered, doc);
    let file = get(running.rpc_addr(), "/openrpc.json").await;
    assert_eq!(file.status, 200);
    assert_eq!(file.json(), doc);
    let page = get(running.rpc_addr(), "/apidocs").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("wallet_send"));
    // Self-contained: no scripts, styles or images from elsewhere.
    for external in ["src=\"http", "<link", "@import", "url(http"] {
        assert!(!page.body.contains(external), "{external}");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_matrix_over_http_and_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let addr = running.rpc_addr();
    let secret = secret_in(dir.path()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("jwt.hex"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let now = unix_now();
    let cases: Vec<(&str, Option<String>, bool)> = vec![
        ("no token", None, true),
        (
            "wrong secret",
            Some(JwtSecret::from_bytes([9; 32]).token()),
            false,
        ),
        ("alg none", Some(none_token()), false),
        (
            "expired",
            Some(secret.token_with(now - 10, Some(now - 1))),
            false,
        ),
        (
            "iat too far off",
            Some(secret.token_with(now - 120, None)),
            false,
        ),
        ("valid", Some(secret.token()), true),
    ];
    for (case, token, accepted) in &cases {
        let valid = *case == "valid";
        // HTTP, public method.
        let r = post_json(
            addr,
            &rpc_body("chain_getInfo", json!([])),
            token.as_deref(),
        )
        .await;
        if *accepted {
            assert_eq!(r.status, 200, "{case}: {}", r.body);
            assert_eq!(r.json()["result"]["chain"], "dev", "{case}");
        } else {
            assert_eq!(r.status, 401, "{case}: {}", r.body);
            assert_eq!(r.json()["error"]["code"], -32070, "{case}");
            assert_eq!(r.headers["www-authenticate"], "Bearer");
        }
        // HTTP, private method.
        let r = post_json(addr, &rpc_body("wallet_list", json!([])), token.as_deref()).await;
        match (accepted, valid) {
            (true, true) => assert!(r.json()["result"].is_array(), "{case}: {}", r.body),
            (true, false) => {
                assert_eq!(r.status, 200, "{case}");
                assert_eq!(r.json()["error"]["code"], -32070, "{case}: {}", r.body);
            }
            (false, _) => assert_eq!(r.status, 401, "{case}"),
        }
        // WebSocket: the token is checked at the handshake.
        let mut headers = HeaderMap::new();
        if let Some(t) = token {
            headers.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        let ws = WsClientBuilder::default()
            .set_headers(headers)
            .build(format!("ws://{addr}"))
            .await;
        if !*accepted {
            let err = ws
                .err()
                .unwrap_or_else(|| panic!("{case}: handshake accepted"));
            assert!(err.to_string().contains("401"), "{case}: {err}");
            continue;
        }
        let ws = ws.unwrap_or_else(|e| panic!("{case}: {e}"));
        let info: Value = ws.request("chain_getInfo", rpc_params![]).await.unwrap();
        assert_eq!(info["chain"], "dev");
        let private = ws.request::<Value, _>("wallet_list", rpc_params![]).await;
        if valid {
            assert!(private.unwrap().is_array());
        } else {
            match private {
                Err(jsonrpsee::core::client::Error::Call(e)) => {
                    assert_eq!(e.code(), -32070, "{case}");
                    assert!(e.message().contains("private method"), "{}", e.message());
                }
                other => panic!("{case}: {other:?}"),
            }
        }
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_size_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _) = start_with(dir.path(), |c: &mut NodeConfig| {
        c.p2p.enabled = false;
        c.rpc.rate_limit.per_ip_per_second = 20;
        c.rpc.rate_limit.per_ip_burst = 10;
        c.rpc.rate_limit.per_connection_calls_per_second = 5;
        c.rpc.rate_limit.per_connection_burst = 5;
        c.rpc.max_request_bytes = 4096;
        c.rpc.max_batch_len = 4;
    })
    .await;
    let addr = running.rpc_addr();
    let url = format!("http://{addr}/");
    let body = rpc_body("chain_getInfo", json!([]));
    let headers = [("content-type", "application/json")];

    // A burst from 127.0.0.1 trips the per-IP limit...
    let busy = http_client(Some("127.0.0.1".parse().unwrap()));
    let burst = (0..60).map(|_| send(&busy, "POST", &url, &headers, body.clone()));
    let replies = futures::future::join_all(burst).await;
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    let served = replies.iter().filter(|r| r.status == 200).count();
    assert!(!limited.is_empty(), "no 429 in a burst of 60");
    assert!(served >= 10, "the burst allowance is served: {served}");
    let retry: u64 = limited[0].headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(limited[0].json()["error"]["code"], -32071);
    // ...while a client from another address keeps being served.
    let other = http_client(Some("127.0.0.2".parse().unwrap()));
    for _ in 0..5 {
        let r = send(&other, "POST", &url, &headers, body.clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // Batch elements count against the per-connection call limit, one by one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calm = http_client(Some("127.0.0.3".parse().unwrap()));
    let batch: Vec<Value> = (0..4)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "chain_getInfo"}))
        .collect();
    let mut codes = Vec::new();
    for _ in 0..2 {
        let r = send(
            &calm,
            "POST",
            &url,
            &headers,
            Value::from(batch.clone()).to_string(),
        )
        .await;
        for item in r.json().as_array().unwrap() {
            codes.push(item["error"]["code"].as_i64());
        }
    }
    assert!(
        codes.contains(&None) && codes.contains(&Some(-32071)),
        "{codes:?}"
    );

    // A batch over max_batch_len and a body over max_request_bytes are refused.
    let long: Vec<Value> = (0..5)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "chain_getInfo"}))
        .collect();
    let fresh = http_client(Some("127.0.0.4".parse().unwrap()));
    let r = send(
        &fresh,
        "POST",
        &url,
        &headers,
        Value::from(long).to_string(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], -32010, "{}", r.body);
    let huge = rpc_body("tx_submit", json!(["00".repeat(4096)]));
    let r = send(&fresh, "POST", &url, &headers, huge).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], -32007);

    // WebSocket messages count against the per-connection limit too.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{addr}"))
        .await
        .unwrap();
    let mut limited = 0;
    for _ in 0..12 {
        if let Err(jsonrpsee::core::client::Error::Call(e)) =
            ws.request::<Value, _>("chain_getInfo", rpc_params![]).await
        {
            assert_eq!(e.code(), -32071);
            limited += 1;
        }
    }
    assert!(limited >= 5, "{limited} of 12 WebSocket calls limited");
    running.stop().await;
}

pub(crate) fn sample(scrape: &prometheus_parse::Scrape, name: &str) -> f64 {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{name} is not a scalar"),
        })
        .unwrap_or_else(|| panic!("no sample {name}"))
}

/// `/metrics` as a client that sends no `Accept` header gets it: the classic text format.
pub(crate) async fn scrape(addr: SocketAddr) -> prometheus_parse::Scrape {
    let r = get(addr, "/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(!r.body.contains("# EOF"));
    prometheus_parse::Scrape::parse(r.body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// Runs `program args` with `input` on stdin; its exit status and what it printed.
fn run_with_stdin(program: &str, args: &[&str], input: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is installed by scripts/setup.sh --test: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_and_the_openmetrics_parser() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let addr = running.rpc_addr();
    // Some calls, so that counters and histograms have samples.
    let miner = miner_address(&client).await;
    let _: Vec<String> = call(&client, "mining_generate", rpc_params![2, &miner]).await;
    let _ = call_err(&client, "chain_getBlockHash", rpc_params![999]).await;

    // Classic text format, as curl or an old scraper gets it: promtool's checker (Prometheus's
    // own parser and lint) passes it with nothing to say.
    let classic = get(addr, "/metrics").await;
    assert!(
        classic
            .body
            .contains("# TYPE i8o8i_rpc_calls_total counter")
    );
    let (ok, said) = run_with_stdin("promtool", &["check", "metrics"], &classic.body);
    assert!(ok && said.trim().is_empty(), "promtool: {said}");

    // OpenMetrics, as Prometheus asks for it: the reference parser of the Python client
    // (Debian's python3-prometheus-client) reads every family.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let open = send(
        &http_client(None),
        "GET",
        &format!("http://{addr}/metrics"),
        &[("accept", accept)],
        Bytes::new(),
    )
    .await;
    assert_eq!(
        open.headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(open.body.ends_with("# EOF\n"));
    let parse = "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as p\nprint(len(list(p(sys.stdin.read()))))";
    let (ok, said) = run_with_stdin("/usr/bin/python3", &["-c", parse], &open.body);
    assert!(ok, "OpenMetrics parser: {said}");
    // What the issue saw: promtool reads OpenMetrics counters as untyped and fails, which is
    // why a client that does not ask for OpenMetrics gets the classic format.
    let (ok, said_promtool) = run_with_stdin("promtool", &["check", "metrics"], &open.body);
    assert!(
        !ok && said_promtool.contains("no help text"),
        "{said_promtool}"
    );
    let families: usize = said.trim().parse().unwrap();
    assert_eq!(
        families,
        classic.body.matches("# TYPE ").count(),
        "the same families in both formats"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_when_blocks_are_mined() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let addr = running.rpc_addr();
    let before = scrape(addr).await;
    let height = sample(&before, "i8o8i_chain_height");
    let miner = miner_address(&client).await;
    let _: Vec<String> = call(&client, "mining_generate", rpc_params![3, &miner]).await;
    let after = scrape(addr).await;
    assert_eq!(sample(&after, "i8o8i_chain_height"), height + 3.0);
    assert_eq!(
        sample(&after, "i8o8i_blocks_connected_total")
            - before
                .samples
                .iter()
                .find(|s| s.metric == "i8o8i_blocks_connected_total")
                .map_or(0.0, |_| sample(&before, "i8o8i_blocks_connected_total")),
        3.0
    );
    assert!(sample(&after, "i8o8i_block_connect_duration_seconds_count") >= 3.0);
    assert!(sample(&after, "i8o8i_process_resident_memory_bytes") > 1e6);
    assert_eq!(sample(&after, "i8o8i_mempool_txs"), 0.0);
    assert_eq!(sample(&after, "i8o8i_p2p_peers"), 0.0);
    for name in [
        "i8o8i_chain_reorgs_total",
        "i8o8i_contract_gas_used_total",
        "i8o8i_mempool_bytes",
        "i8o8i_rpc_subscriptions_open",
        "i8o8i_rpc_subscriptions_dropped_total",
    ] {
        sample(&after, name);
    }
    let mined = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "i8o8i_rpc_calls_total"
                && s.labels.get("method") == Some("mining_generate")
                && s.labels.get("outcome") == Some("ok")
        })
        .expect("mining_generate counted");
    assert!(matches!(mined.value, prometheus_parse::Value::Counter(v) if v == 1.0));
    assert!(
        after
            .samples
            .iter()
            .any(|s| s.metric == "i8o8i_rpc_call_duration_seconds_count"
                && s.labels.get("method") == Some("mining_generate"))
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_arrive_and_a_stalled_subscriber_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| {
        c.p2p.enabled = false;
        c.rpc.subscription_buffer = 8;
    })
    .await;
    let addr = running.rpc_addr();
    let ws = WsClientBuilder::default()
        .build(format!("ws://{addr}"))
        .await
        .unwrap();
    let mut heads = ws
        .subscribe::<Value, _>(
            "chain_subscribeNewHeads",
            rpc_params![],
            "chain_unsubscribeNewHeads",
        )
        .await
        .unwrap();
    let miner = miner_address(&client).await;
    let hashes: Vec<String> = call(&client, "mining_generate", rpc_params![3, &miner]).await;
    for (i, hash) in hashes.iter().enumerate() {
        let head = tokio::time::timeout(Duration::from_secs(2), heads.next())
            .await
            .expect("a head within one block interval")
            .unwrap()
            .unwrap();
        assert_eq!(head["hash"], *hash);
        assert_eq!(head["height"], i as u64 + 1);
    }
    heads.unsubscribe().await.unwrap();

    // A subscriber that never reads. The kernel's socket buffers (the server's send buffer is
    // fixed at 256 KiB, the client's receive buffer is tiny) absorb some hundreds of heads
    // before the server's write blocks; then its queue of 8 messages fills and the
    // subscription is dropped.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut stalled = Stalled::connect(stream, addr).await;
    stalled
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"chain_subscribeNewHeads","params":[]}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut dropped = 0.0;
    for _ in 0..60 {
        let _: Vec<String> = call(&client, "mining_generate", rpc_params![100, &miner]).await;
        dropped = sample(&scrape(addr).await, "i8o8i_rpc_subscriptions_dropped_total");
        if dropped >= 1.0 {
            break;
        }
    }
    assert_eq!(dropped, 1.0, "the stalled subscriber was dropped");
    // Reading now, it finds the close notification with the reason after its backlog.
    let reason = stalled.find("subscription dropped").await;
    assert!(reason.contains("too slow"), "{reason}");
    // The node serves on.
    let info: Value = call(&client, "chain_getInfo", rpc_params![]).await;
    assert!(info["height"].as_u64().unwrap() >= 103);
    running.stop().await;
}

/// A raw WebSocket client that reads only when told to.
struct Stalled {
    sender: soketto::Sender<tokio_util::compat::Compat<tokio::net::TcpStream>>,
    receiver: soketto::Receiver<tokio_util::compat::Compat<tokio::net::TcpStream>>,
}

impl Stalled {
    async fn connect(stream: tokio::net::TcpStream, addr: SocketAddr) -> Stalled {
        use tokio_util::compat::TokioAsyncReadCompatExt;
        let host = addr.to_string();
        let mut client = soketto::handshake::Client::new(stream.compat(), &host, "/");
        match client.handshake().await.unwrap() {
            soketto::handshake::ServerResponse::Accepted { .. } => {}
            other => panic!("{other:?}"),
        }
        let (sender, receiver) = client.into_builder().finish();
        Stalled { sender, receiver }
    }

    async fn send(&mut self, text: &str) {
        self.sender.send_text(text).await.unwrap();
        self.sender.flush().await.unwrap();
    }

    /// Reads messages until one contains `needle`.
    async fn find(&mut self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let mut data = Vec::new();
            let got = tokio::time::timeout_at(deadline, self.receiver.receive_data(&mut data))
                .await
                .unwrap_or_else(|_| panic!("no message containing {needle:?}"));
            got.unwrap();
            let text = String::from_utf8_lossy(&data);
            if text.contains(needle) {
                return text.into_owned();
            }
        }
    }
}

mod surface;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_of_pooled_transactions_connects_without_running_their_scripts_again() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let addr = running.rpc_addr();
    let miner = miner_address(&client).await;
    // Three mature coinbases: one coin for each payment (the wallet spends no unconfirmed
    // change).
    let _: Vec<String> = call(&client, "mining_generate", rpc_params![103, &miner]).await;
    let payee: Value = call(&client, "wallet_create", rpc_params!["payee", "pw"]).await;
    let payee = payee["address"].as_str().unwrap().to_owned();
    let counts = |s: &prometheus_parse::Scrape| {
        (
            sample(s, "i8o8i_script_cache_hits_total"),
            sample(s, "i8o8i_script_cache_misses_total"),
        )
    };
    // Coinbase-only blocks have no scripts to verify.
    assert_eq!(counts(&scrape(addr).await), (0.0, 0.0));
    for _ in 0..3 {
        let _: String = call(
            &client,
            "wallet_send",
            rpc_params!["miner", "pw", &payee, 100_000_000u64],
        )
        .await;
    }
    let _: Vec<String> = call(&client, "mining_generate", rpc_params![1, &miner]).await;
    let block: Value = call(&client, "chain_getBlock", rpc_params![104]).await;
    assert_eq!(
        block["transactions"].as_array().unwrap().len(),
        4,
        "{block}"
    );
    // The three payments verified when the pool admitted them: the block's import found all
    // three in the cache and ran none of their scripts (the miner's preview of its template
    // is not counted).
    assert_eq!(counts(&scrape(addr).await), (3.0, 0.0));
    let balance: Value = call(&client, "wallet_getBalance", rpc_params!["payee"]).await;
    assert_eq!(balance["confirmed"], 300_000_000u64, "{balance}");
}
