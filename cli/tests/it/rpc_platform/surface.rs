//! What a client sees of the server's edges: hostile requests answered with their codes,
//! the REST aliases and CORS, and the docs page in a real browser.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_their_json_rpc_codes_and_the_node_serves_on() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| {
        c.p2p.enabled = false;
        c.rpc.rate_limit.per_ip_per_second = 0;
        c.rpc.rate_limit.per_connection_calls_per_second = 0;
    })
    .await;
    let addr = running.rpc_addr();
    let token = secret_in(dir.path()).unwrap().token();
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    // (body, expected code)
    let mut cases: Vec<(String, i64)> = vec![
        ("{".into(), -32700),
        ("{\"jsonrpc\":\"2.0\",".into(), -32700),
        ("[1,2".into(), -32700),
        ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"chain_getInfo\"".into(), -32700),
        // Parsed as a request; the parameters exceed serde_json's nesting limit.
        (deep, -32602),
        // jsonrpsee answers an object that is not a request as a parse error.
        ("{}".into(), -32700),
        ("[]".into(), -32600),
        (r#"{"jsonrpc":"1.0","id":1,"method":"chain_getInfo"}"#.into(), -32600),
        (r#"{"jsonrpc":"2.0","id":1,"method":7}"#.into(), -32600),
        (r#"{"jsonrpc":"2.0","id":1,"method":null}"#.into(), -32600),
        (rpc_body("chain_nope", json!([])), -32601),
        (rpc_body("", json!([])), -32601),
        (rpc_body(&"x".repeat(10_000), json!([])), -32601),
        (rpc_body("rpc.secret", json!([])), -32601),
        (rpc_body("chain_getInfo", json!("string params")), -32602),
        (rpc_body("chain_getInfo", json!(7)), -32602),
        (rpc_body("chain_getInfo", json!([1])), -32602),
        (rpc_body("chain_getBlockHash", json!([-1])), -32602),
        (rpc_body("chain_getBlockHash", json!([1.5])), -32602),
        (rpc_body("chain_getBlockHash", json!(["18446744073709551616"])), -32602),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"chain_getBlockHash","params":[18446744073709551616]}"#.into(),
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"chain_getBlockHash","params":[1e400]}"#.into(),
            -32602,
        ),
        (rpc_body("chain_getBlockHash", json!([u64::MAX])), -32001),
        (rpc_body("chain_getBlock", json!(["zz"])), -32602),
        (rpc_body("chain_getBlock", json!(["00".repeat(33)])), -32602),
        (rpc_body("chain_getBlocks", json!([0, 101])), -32602),
        (rpc_body("chain_getBlocks", json!([0, 0])), -32602),
        (rpc_body("tx_submit", json!(["not hex"])), -32602),
        (rpc_body("tx_submit", json!(["00"])), -32602),
        (rpc_body("tx_submit", json!(["abc"])), -32602),
        (rpc_body("tx_get", json!(["00".repeat(32)])), -32001),
        (rpc_body("address_getBalance", json!(["bc1qnotours"])), -32030),
        (rpc_body("address_getBalance", json!([""])), -32030),
        (rpc_body("contract_getInfo", json!(["00".repeat(32)])), -32001),
        (rpc_body("contract_getStorage", json!(["00".repeat(32), "zz"])), -32602),
        (rpc_body("wallet_send", json!(["nope", "pw", "x", 1])), -32030),
        (rpc_body("wallet_create", json!(["../etc", "pw"])), -32602),
        (rpc_body("mining_generate", json!([0])), -32602),
        (rpc_body("mining_generate", json!([100_000])), -32602),
        (rpc_body("net_addPeer", json!(["/ip4/1.2.3.4"])), -32050),
        (rpc_body("net_ban", json!(["x", 0])), -32602),
    ];
    // Every method with parameters, each required parameter given an object instead. Over
    // HTTP, unsubscribing is refused before its parameters are looked at.
    let methods = MethodTable::new(METHODS);
    for m in methods
        .methods()
        .iter()
        .filter(|m| m.subscription.is_none())
    {
        let code = if m.name.contains("_unsubscribe") {
            -32600
        } else {
            -32602
        };
        let required = m.params.iter().filter(|p| !p.optional).count();
        if required == 0 {
            continue;
        }
        let params: Vec<Value> = (0..required).map(|_| json!({"x": [1, 2]})).collect();
        cases.push((rpc_body(m.name, Value::from(params)), code));
        let named: serde_json::Map<String, Value> = m
            .params
            .iter()
            .map(|p| (p.name.to_owned(), json!(true)))
            .collect();
        cases.push((rpc_body(m.name, Value::Object(named)), code));
    }
    // Every method without parameters, given one.
    for m in methods
        .methods()
        .iter()
        .filter(|m| m.params.is_empty() && m.subscription.is_none())
    {
        cases.push((rpc_body(m.name, json!([1])), -32602));
    }
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for (body, code) in &cases {
        let r = post_json(addr, body, Some(&token)).await;
        let reply: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        let got = reply["error"]["code"]
            .as_i64()
            .or_else(|| reply[0]["error"]["code"].as_i64());
        if got != Some(*code) {
            wrong.push(format!(
                "{} -> {} (expected {code})",
                &body[..body.len().min(100)],
                &r.body[..r.body.len().min(200)]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Subscriptions over HTTP are refused, and the node keeps serving.
    let (code, message) = call_err(&client, "chain_subscribeNewHeads", rpc_params![]).await;
    assert_eq!(code, -32600);
    assert!(message.contains("needs a WebSocket"), "{message}");
    let info: Value = call(&client, "chain_getInfo", rpc_params![]).await;
    assert_eq!(info["chain"], "dev");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_aliases_and_cors() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| {
        c.p2p.enabled = false;
        c.rpc.cors_origins = vec!["https://wallet.example".into()];
    })
    .await;
    let addr = running.rpc_addr();
    let base = format!("http://{addr}");
    let token = format!("Bearer {}", secret_in(dir.path()).unwrap().token());
    let http = http_client(None);
    let json_headers = [("content-type", "application/json")];
    let authed = [
        ("content-type", "application/json"),
        ("authorization", token.as_str()),
    ];

    let r = send(&http, "GET", &format!("{base}/health"), &[], Bytes::new()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(r.json()["height"], 0);

    let create = json!({"name": "alice", "password": "pw"}).to_string();
    let r = send(
        &http,
        "POST",
        &format!("{base}/wallet/create"),
        &json_headers,
        create.clone(),
    )
    .await;
    assert_eq!(
        r.status, 401,
        "same auth rules as wallet_create: {}",
        r.body
    );
    let r = send(
        &http,
        "POST",
        &format!("{base}/wallet/create"),
        &authed,
        create.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = r.json()["address"].as_str().unwrap().to_owned();
    let r = send(
        &http,
        "POST",
        &format!("{base}/wallet/create"),
        &authed,
        create,
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"]["code"], -32021);
    let r = send(
        &http,
        "POST",
        &format!("{base}/wallet/create"),
        &authed,
        "{oops",
    )
    .await;
    assert_eq!(r.status, 400);
    // A body a web page could send cross-site without a preflight is refused (CSRF).
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = send(
            &http,
            "POST",
            &format!("{base}/wallet/create"),
            &[
                ("content-type", content_type),
                ("authorization", token.as_str()),
            ],
            json!({"name": "csrf", "password": "pw"}).to_string(),
        )
        .await;
        assert_eq!(r.status, 415, "{content_type}: {}", r.body);
    }
    let r = send(
        &http,
        "POST",
        &format!("{base}/wallet/create"),
        &[("authorization", token.as_str())],
        json!({"name": "csrf", "password": "pw"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 415, "no content type: {}", r.body);

    // Fund the dev wallet, then send through the REST route.
    let _: Value = call(&client, "wallet_create", rpc_params!["miner", "pw"]).await;
    let miner: String = call(&client, "wallet_newAddress", rpc_params!["miner"]).await;
    let _: Vec<String> = call(&client, "mining_generate", rpc_params![101, &miner]).await;
    let send_body =
        json!({"name": "miner", "password": "pw", "toAddress": alice, "amount": 150_000_000u64})
            .to_string();
    let r = send(
        &http,
        "POST",
        &format!("{base}/transaction/send"),
        &authed,
        send_body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let txid = r.json().as_str().unwrap().to_owned();
    let _: Vec<String> = call(&client, "mining_generate", rpc_params![1, &miner]).await;
    let tx: Value = call(&client, "tx_get", rpc_params![txid]).await;
    assert_eq!(tx["status"]["state"], "confirmed");

    let r = send(
        &http,
        "GET",
        &format!("{base}/wallet/balance/{alice}"),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["confirmed"], 150_000_000u64);
    let r = send(
        &http,
        "GET",
        &format!("{base}/wallet/balance/nonsense"),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32030);

    let r = send(
        &http,
        "GET",
        &format!("{base}/blockchain/chain?fromHeight=100&count=3"),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 200);
    let blocks = r.json();
    assert_eq!(blocks.as_array().unwrap().len(), 3);
    assert_eq!(blocks[0]["height"], 100);
    let r = send(
        &http,
        "GET",
        &format!("{base}/blockchain/chain?count=x"),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 400);

    let peer = json!({"address": "/ip4/127.0.0.1/tcp/1"}).to_string();
    let r = send(
        &http,
        "POST",
        &format!("{base}/node/register"),
        &json_headers,
        peer.clone(),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = send(
        &http,
        "POST",
        &format!("{base}/node/register"),
        &authed,
        peer,
    )
    .await;
    assert_eq!(r.status, 503, "networking is off: {}", r.body);

    // CORS: the configured origin is allowed, with the Authorization header.
    let r = send(
        &http,
        "OPTIONS",
        &format!("{base}/"),
        &[
            ("origin", "https://wallet.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
        Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://wallet.example"
    );
    let allowed = r.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let r = send(
        &http,
        "POST",
        &format!("{base}/"),
        &[
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ],
        rpc_body("chain_getInfo", json!([])),
    )
    .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    running.stop().await;
}

/// The docs page in headless Chromium: the method list renders, and the form sends
/// `chain_getInfo` and shows the reply. Writes `target/apidocs.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_page_in_headless_chromium() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Chromium is installed by scripts/setup.sh (apt package chromium)");
    let dir = tempfile::tempdir().unwrap();
    let (running, _) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let url = format!("http://{}/apidocs?try=chain_getInfo", running.rpc_addr());
    let profile = tempfile::tempdir().unwrap();
    let shot = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("apidocs.png");
    let run = |extra: Vec<String>, url: String| {
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=5000".into(),
            "--window-size=1280,900".into(),
        ];
        args.extend(extra);
        args.push(url);
        let chromium = chromium.to_owned();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(chromium)
                .args(args)
                .output()
                .expect("run chromium")
        })
    };
    let dom = run(vec!["--dump-dom".into()], url.clone()).await.unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(r##"href="#wallet_send""##),
        "method list rendered"
    );
    assert!(dom.contains(r##"href="#chain_subscribeNewHeads""##));
    // The reply box of chain_getInfo shows the node's answer.
    let genesis = running.node().chain().genesis().to_string();
    assert!(
        dom.contains(&format!("\"genesis\": \"{genesis}\"")),
        "the form's reply is shown"
    );
    let out = run(
        vec![format!("--screenshot={}", shot.display())],
        url.clone(),
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    running.stop().await;
}

/// `GET /` is the web app (its page, script and style), other paths that serve nothing are
/// 404 (not jsonrpsee's 405 "POST is required"), and JSON-RPC over POST and WebSocket on `/`
/// is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_is_a_page_and_unknown_paths_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let (running, client) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let addr = running.rpc_addr();
    let home = get(addr, "/").await;
    assert_eq!(home.status, 200);
    assert_eq!(home.headers["content-type"], "text/html; charset=utf-8");
    assert!(
        home.body
            .contains(r#"<script type="module" src="app.js"></script>"#),
        "{}",
        home.body
    );
    assert!(
        home.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let script = get(addr, "/app.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        script.body.as_bytes(),
        &include_bytes!("../../../../clients/web/dist/app.js")[..]
    );
    assert_eq!(get(addr, "/app.css").await.status, 200);
    for path in ["/favicon.ico", "/nope", "/rpc/", "/metrics/x"] {
        let r = get(addr, path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.contains("/apidocs"), "{path}: {}", r.body);
    }
    let info: Value = call(&client, "chain_getInfo", rpc_params![]).await;
    assert_eq!(info["chain"], "dev");
    let ws = WsClientBuilder::default()
        .build(format!("ws://{addr}"))
        .await
        .unwrap();
    let info: Value = ws.request("chain_getInfo", rpc_params![]).await.unwrap();
    assert_eq!(info["chain"], "dev");
    running.stop().await;
}

/// With auth disabled, a request must name this node by an IP address, `localhost` or an
/// allowed name: a page on a domain rebound to 127.0.0.1 (DNS rebinding) gets 403, nothing runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auth_a_rebound_host_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = i8o8i_config::NodeConfig {
        chain: "dev".into(),
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    config.rpc.addr = "127.0.0.1:0".parse().unwrap();
    config.p2p.enabled = false;
    config.rpc.auth.enabled = false;
    config.rpc.allowed_hosts = vec!["node.example".into()];
    let running = i8o8i_node::launch::launch(i8o8i_node::launch::LaunchOptions {
        config,
        clock: None,
        dev: false,
        producer: None,
    })
    .await
    .unwrap();
    let url = format!("http://{}/", running.rpc_addr());
    let http = http_client(None);
    let call =
        json!({"jsonrpc": "2.0", "id": 1, "method": "wallet_create", "params": ["rebound", "pw"]})
            .to_string();
    for (host, status) in [
        ("evil.example:5000", 403),
        ("127.0.0.1.evil.example", 403),
        ("node.example:5000", 200),
        ("localhost:5000", 200),
    ] {
        let r = send(
            &http,
            "POST",
            &url,
            &[("content-type", "application/json"), ("host", host)],
            call.clone(),
        )
        .await;
        assert_eq!(r.status, status, "{host}: {}", r.body);
        if status == 403 {
            assert!(r.body.contains("allowed_hosts"), "{}", r.body);
        }
    }
    // The refused requests created nothing; the first allowed one created the wallet.
    let wallets = std::fs::read_dir(dir.path().join("wallets"))
        .unwrap()
        .count();
    assert_eq!(wallets, 1);
    running.stop().await;
}
