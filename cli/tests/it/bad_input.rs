//! Bad input over real HTTP and WebSocket against a real node: malformed JSON, requests that
//! are not request objects, unknown methods, wrong parameters, undecodable and invalid
//! transactions, bad addresses, unknown blocks and transactions, wallet misuse. Every case
//! asserts the exact error code (and where documented, that the message names the parameter),
//! and the node keeps serving afterwards.
//!
//! What jsonrpsee 0.26 answers to bodies that are not a request object, as observed here:
//! - a body whose first non-whitespace byte is neither `{` nor `[` (`42`, `"x"`, `null`, plain
//!   text, an empty body) never reaches JSON parsing: HTTP 400 with a -32700 parse error;
//! - `{...}` that is invalid JSON: HTTP 200, -32700 (but see below for invalid UTF-8);
//! - `{...}` that is valid JSON with an `id` but is not a valid request (no `method`, a
//!   non-string `method`, `"jsonrpc": "1.0"`): -32600 with that `id`;
//! - `{"jsonrpc":"2.0"}`, valid JSON with no `id` and no `method`: -32700, not -32600, because
//!   jsonrpsee only reports "invalid request" when it can extract an `id` to answer to;
//! - `[]`, the empty batch: a single (non-array) -32600 error object with `id: null`;
//! - `[42]`: an array holding one -32600 error with `id: null`;
//! - an object with an `id` and invalid UTF-8 in another string: -32600 with that `id`, not
//!   -32700 (jsonrpsee's fallback parse extracts only the `id` and skips the rest unvalidated);
//! - a notification (no `id`): HTTP 200 with the body `null`.

use std::net::SocketAddr;
use std::time::Duration;

use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::{Amount, OutPoint, Transaction, TxIn, TxOut, Txid};
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{call, call_err, start, tx_from_json};

const PASSWORD: &str = "pw for bad input";

/// One HTTP response, read off the socket.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    content_type: String,
    body: String,
}

impl RawResponse {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {:?}", self.body))
    }
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .unwrap_or_else(|e| panic!("bad chunk size {size_text:?}: {e}"));
        rest = &rest[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Sends one hand-written HTTP/1.1 request and reads the whole response (the request asks the
/// server to close the connection, so the response ends at EOF). Bounded by a 10 s timeout.
async fn http(
    addr: SocketAddr,
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> RawResponse {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut request = format!("{method} / HTTP/1.1\r\nHost: {addr}\r\n");
        if let Some(ct) = content_type {
            request.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        request.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).await.expect("write request");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("read response");
        response
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("HTTP exchange timed out");
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&response)));
    let head = std::str::from_utf8(&response[..head_end]).expect("ASCII headers");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.split(' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
    let status: u16 = parts.next().unwrap().parse().unwrap();
    let mut content_type = String::new();
    let mut chunked = false;
    let mut content_length = None;
    for line in lines {
        let (name, value) = line.split_once(':').expect("header line");
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.to_owned(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "content-length" => content_length = Some(value.parse::<usize>().unwrap()),
            _ => {}
        }
    }
    let raw_body = &response[head_end + 4..];
    let body = if chunked {
        dechunk(raw_body)
    } else {
        let len = content_length.unwrap_or(raw_body.len());
        assert_eq!(raw_body.len(), len, "body length matches Content-Length");
        raw_body.to_vec()
    };
    RawResponse {
        status,
        content_type,
        body: String::from_utf8(body).expect("UTF-8 body"),
    }
}

/// POSTs `body` as `application/json`.
async fn post(addr: SocketAddr, body: &[u8]) -> RawResponse {
    http(addr, "POST", Some("application/json"), body).await
}

/// Asserts `v` is a JSON-RPC 2.0 error response with `id`; returns (code, message).
fn error_of(v: &Value, id: &Value) -> (i32, String) {
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert_eq!(&v["id"], id, "{v}");
    assert!(
        v.get("result").is_none(),
        "error responses carry no result: {v}"
    );
    let code = v["error"]["code"]
        .as_i64()
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or_else(|| panic!("no error code in {v}"));
    let message = v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (code, message)
}

/// POSTs a single request `{"jsonrpc":"2.0","id":1,"method":method,"params":<params>}` with
/// `params` spliced in verbatim, expecting an error; returns (code, message).
async fn raw_call_err(addr: SocketAddr, method: &str, params: &str) -> (i32, String) {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let rsp = post(addr, body.as_bytes()).await;
    assert_eq!(rsp.status, 200, "{method}({params}): {rsp:?}");
    error_of(&rsp.json(), &json!(1))
}

/// Asserts a -32602 naming `param` (in backticks, as every parameter error does).
fn assert_invalid_param((code, msg): (i32, String), param: &str, case: &str) {
    assert_eq!(code, -32602, "{case}: {msg}");
    assert!(
        msg.contains(&format!("`{param}`")),
        "{case}: message {msg:?} does not name `{param}`"
    );
}

/// A well-formed, non-coinbase transaction spending an output that does not exist.
fn spends_missing_output(payee: &Address) -> Transaction {
    Transaction {
        version: 2,
        inputs: vec![TxIn {
            prevout: OutPoint {
                txid: Txid::from_byte_array([0x77; 32]),
                index: 0,
            },
            script_sig: Default::default(),
            sequence: u32::MAX,
        }],
        outputs: vec![TxOut {
            value: Amount::from_units(10_000),
            script_pubkey: payee.script_pubkey(),
        }],
        lock_time: 0,
        payload: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_exact_errors_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let addr = node.rpc_addr();
    let network = node.node().chain().spec().network;
    assert_eq!(network, Network::Dev);
    let payee = Address::p2pkh(network, [3; 20]);
    let hashes: Vec<String> = call(&c, "mining_generate", rpc_params![2, payee.to_string()]).await;
    assert_eq!(hashes.len(), 2);

    // (a) Malformed JSON: -32700, `id: null`.
    for (body, status) in [
        (&b"{"[..], 200),
        (br#"{"jsonrpc":"2.0","id":1,"method":"chain_getInfo""#, 200),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":"chain_getInfo",}"#,
            200,
        ),
        (br#"{"jsonrpc":"2.0","id":1,"method":'chain_getInfo'}"#, 200),
        (
            br#"[{"jsonrpc":"2.0","id":1,"method":"chain_getInfo"}"#,
            200,
        ),
        (b"[1,", 200),
        // Not starting with `{` or `[`: refused before parsing, with HTTP 400.
        (b"not json at all", 400),
        (b"", 400),
        (b"   ", 400),
    ] {
        let rsp = post(addr, body).await;
        let case = String::from_utf8_lossy(body);
        assert_eq!(rsp.status, status, "{case:?}: {rsp:?}");
        assert!(
            rsp.content_type.starts_with("application/json"),
            "{case:?}: {rsp:?}"
        );
        let (code, msg) = error_of(&rsp.json(), &Value::Null);
        assert_eq!(code, -32700, "{case:?}: {msg}");
        assert_eq!(msg, "Parse error", "{case:?}");
    }

    // (a) JSON values that are not request objects.
    // Scalars never get parsed (see the module docs): HTTP 400, -32700.
    for body in ["42", "\"x\"", "null", "true"] {
        let rsp = post(addr, body.as_bytes()).await;
        assert_eq!(rsp.status, 400, "{body}: {rsp:?}");
        assert_eq!(error_of(&rsp.json(), &Value::Null).0, -32700, "{body}");
    }
    // An object with neither id nor method: -32700 too (no id to answer an invalid request to).
    let rsp = post(addr, br#"{"jsonrpc":"2.0"}"#).await;
    assert_eq!(rsp.status, 200);
    assert_eq!(error_of(&rsp.json(), &Value::Null).0, -32700);
    // Objects with an id that are not valid requests: -32600 answering that id.
    for (body, id) in [
        (r#"{"jsonrpc":"2.0","id":7}"#, json!(7)),
        (r#"{"jsonrpc":"2.0","id":"q","method":42}"#, json!("q")),
        (
            r#"{"jsonrpc":"1.0","id":8,"method":"chain_getInfo"}"#,
            json!(8),
        ),
        (r#"{"id":9,"method":"chain_getInfo"}"#, json!(9)),
    ] {
        let rsp = post(addr, body.as_bytes()).await;
        assert_eq!(rsp.status, 200, "{body}: {rsp:?}");
        let (code, msg) = error_of(&rsp.json(), &id);
        assert_eq!((code, msg.as_str()), (-32600, "Invalid request"), "{body}");
    }
    // Invalid UTF-8 inside a string is not reported as a parse error: jsonrpsee's fallback
    // only extracts the `id` (skipping other values unvalidated) and answers -32600 to it.
    let rsp = post(addr, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}").await;
    assert_eq!(rsp.status, 200, "{rsp:?}");
    assert_eq!(error_of(&rsp.json(), &json!(1)).0, -32600);
    // The empty batch: one -32600 object, not an array.
    let v = post(addr, b"[]").await.json();
    assert!(v.is_object(), "{v}");
    assert_eq!(error_of(&v, &Value::Null).0, -32600);
    // A batch of a non-request: an array with one -32600.
    let v = post(addr, b"[42]").await.json();
    let items = v.as_array().unwrap_or_else(|| panic!("array: {v}"));
    assert_eq!(items.len(), 1);
    assert_eq!(error_of(&items[0], &Value::Null).0, -32600);
    // `params` that is neither an array nor an object: the node's own -32602.
    let (code, msg) = raw_call_err(addr, "chain_getBlockHash", "5").await;
    assert_eq!(code, -32602, "{msg}");
    assert!(msg.contains("array or an object"), "{msg}");
    // Transport-level refusals: wrong content type, wrong HTTP method.
    let rsp = http(
        addr,
        "POST",
        Some("text/plain"),
        br#"{"jsonrpc":"2.0","id":1,"method":"chain_getInfo"}"#,
    )
    .await;
    assert_eq!(rsp.status, 415, "{rsp:?}");
    let rsp = http(addr, "PUT", Some("application/json"), b"{}").await;
    assert_eq!(rsp.status, 405, "{rsp:?}");
    // A notification (no id) gets no response object: jsonrpsee acknowledges it with HTTP 200
    // and the body `null`.
    let rsp = post(addr, br#"{"jsonrpc":"2.0","method":"chain_getInfo"}"#).await;
    assert_eq!((rsp.status, rsp.body.as_str()), (200, "null"), "{rsp:?}");

    // (b) Unknown methods.
    for method in ["chain_nope", "", "CHAIN_GETINFO", "rpc.secret"] {
        let (code, msg) = call_err(&c, method, rpc_params![]).await;
        assert_eq!(
            (code, msg.as_str()),
            (-32601, "Method not found"),
            "{method}"
        );
    }

    // (c) Wrong parameter types and values: -32602 naming the parameter.
    for params in [
        r#"["x"]"#,
        "[-1]",
        "[1.5]",
        "[18446744073709551616]",
        "[true]",
    ] {
        let err = raw_call_err(addr, "chain_getBlockHash", params).await;
        assert_invalid_param(err, "height", &format!("chain_getBlockHash {params}"));
    }
    let (code, msg) = call_err(&c, "chain_getBlockHash", rpc_params![]).await;
    assert_eq!(
        (code, msg.as_str()),
        (-32602, "missing parameter `height` (position 0)")
    );
    let err = raw_call_err(addr, "chain_getBlockHash", r#"{"hieght":1}"#).await;
    assert_invalid_param(err, "hieght", "unknown named parameter");
    for count in [0, 101] {
        let err = call_err(&c, "chain_getBlocks", rpc_params![0, count]).await;
        assert_invalid_param(err, "count", &format!("chain_getBlocks count {count}"));
    }
    let err = call_err(&c, "chain_getBlocks", rpc_params!["a", 1]).await;
    assert_invalid_param(err, "fromHeight", "chain_getBlocks fromHeight");
    for count in [0, 1001] {
        let err = call_err(&c, "mining_generate", rpc_params![count]).await;
        assert_invalid_param(err, "count", &format!("mining_generate {count}"));
    }
    let err = call_err(&c, "mining_generate", rpc_params![-3]).await;
    assert_invalid_param(err, "count", "mining_generate -3");
    // Too many parameters.
    let (code, msg) = call_err(&c, "chain_getInfo", rpc_params![1]).await;
    assert_eq!(
        (code, msg.as_str()),
        (-32602, "expected at most 0 parameters, got 1")
    );
    let (code, msg) = call_err(&c, "chain_getBlockHash", rpc_params![1, 2]).await;
    assert_eq!(
        (code, msg.as_str()),
        (-32602, "expected at most 1 parameters, got 2")
    );
    let (code, msg) = call_err(&c, "chain_getBlocks", rpc_params![0, 1, 2]).await;
    assert_eq!(
        (code, msg.as_str()),
        (-32602, "expected at most 2 parameters, got 3")
    );

    // (d) tx_submit: undecodable input is -32602 naming `rawHex`.
    let block1: Value = call(&c, "chain_getBlock", rpc_params![1]).await;
    let coinbase = tx_from_json(&block1["transactions"][0]);
    let real = coinbase.encode();
    let invalid_tx = spends_missing_output(&payee);
    let invalid = invalid_tx.encode();
    let mut with_trailing = invalid.clone();
    with_trailing.push(0);
    let mut coinbase_trailing = real.clone();
    coinbase_trailing.extend_from_slice(&[1, 2, 3]);
    for (case, raw) in [
        ("non-hex", json!("zz")),
        ("odd-length hex", json!("abc")),
        ("empty", json!("")),
        ("garbage bytes", json!("deadbeef")),
        ("garbage bytes 2", json!("ff".repeat(300))),
        (
            "truncated coinbase",
            json!(hex::encode(&real[..real.len() - 1])),
        ),
        (
            "truncated transaction",
            json!(hex::encode(&invalid[..invalid.len() / 2])),
        ),
        ("trailing byte", json!(hex::encode(&with_trailing))),
        ("trailing bytes", json!(hex::encode(&coinbase_trailing))),
        ("not a string", json!(1234)),
        ("an array", json!(["00"])),
    ] {
        let err = call_err(&c, "tx_submit", rpc_params![raw]).await;
        assert_invalid_param(err, "rawHex", case);
    }
    // Well-formed but invalid: its input does not exist.
    let (code, msg) = call_err(&c, "tx_submit", rpc_params![hex::encode(&invalid)]).await;
    assert_eq!(code, -32010, "{msg}");
    assert!(msg.contains("missing"), "{msg}");
    assert!(
        msg.contains(&format!("{}:0", Txid::from_byte_array([0x77; 32]))),
        "{msg}"
    );
    // A coinbase is never accepted on its own.
    let (code, msg) = call_err(&c, "tx_submit", rpc_params![hex::encode(&real)]).await;
    assert_eq!(code, -32010, "{msg}");
    let pool: Value = call(&c, "mempool_getInfo", rpc_params![]).await;
    assert_eq!(pool["size"], 0, "nothing entered the pool");

    // (e) Addresses: malformed or of another network is -32030 naming the parameter.
    let mainnet = Address::p2pkh(Network::Mainnet, [1; 20]).to_string();
    assert!(mainnet.starts_with("i8o1"), "{mainnet}");
    for method in ["address_getBalance", "address_getUtxos"] {
        for bad in [
            "nope",
            "",
            "ti8o1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            mainnet.as_str(),
        ] {
            let (code, msg) = call_err(&c, method, rpc_params![bad]).await;
            assert_eq!(code, -32030, "{method}({bad:?}): {msg}");
            assert!(msg.contains("`address`"), "{method}({bad:?}): {msg}");
        }
        let (code, msg) = call_err(&c, method, rpc_params![mainnet.clone()]).await;
        assert!(msg.contains("i8o") && msg.contains("ti8o"), "{code} {msg}");
        let err = call_err(&c, method, rpc_params![42]).await;
        assert_invalid_param(err, "address", &format!("{method}(42)"));
    }
    let (code, msg) = call_err(&c, "mining_generate", rpc_params![1, mainnet.clone()]).await;
    assert_eq!(code, -32030, "{msg}");
    // With no address and no configured mining address, mining is unavailable.
    let (code, _) = call_err(&c, "mining_generate", rpc_params![1]).await;
    assert_eq!(code, -32040);

    // (f) Unknown blocks and transactions are -32001; wrong shapes are -32602.
    let unknown = "ab".repeat(32);
    for which in [json!(unknown), json!(999_999)] {
        let (code, msg) = call_err(&c, "chain_getBlock", rpc_params![which.clone()]).await;
        assert_eq!(code, -32001, "chain_getBlock({which}): {msg}");
    }
    let (code, msg) = call_err(&c, "chain_getBlockHash", rpc_params![999_999]).await;
    assert_eq!((code, msg.as_str()), (-32001, "no block at height 999999"));
    for which in [json!(true), json!(-1), json!(1.5), json!("xyz"), json!({})] {
        let err = call_err(&c, "chain_getBlock", rpc_params![which.clone()]).await;
        assert_invalid_param(err, "hashOrHeight", &format!("chain_getBlock({which})"));
    }
    let (code, msg) = call_err(&c, "tx_get", rpc_params![unknown.clone()]).await;
    assert_eq!(code, -32001, "{msg}");
    assert!(msg.contains(&unknown), "{msg}");
    for txid in [json!("xyz"), json!(5), json!("ab".repeat(31))] {
        let err = call_err(&c, "tx_get", rpc_params![txid.clone()]).await;
        assert_invalid_param(err, "txid", &format!("tx_get({txid})"));
    }
    // The well-formed invalid transaction is not findable either.
    let (code, _) = call_err(&c, "tx_get", rpc_params![invalid_tx.txid().to_string()]).await;
    assert_eq!(code, -32001);

    // (g) Wallets.
    let long_name = "n".repeat(65);
    for name in ["../x", "", "a/b", "white space", long_name.as_str()] {
        let err = call_err(&c, "wallet_create", rpc_params![name, PASSWORD]).await;
        assert_invalid_param(err, "name", &format!("wallet_create({name:?})"));
    }
    assert!(
        !dir.path().join("x.json").exists(),
        "no file escaped the wallet directory"
    );
    let err = call_err(&c, "wallet_create", rpc_params!["w", ""]).await;
    assert_invalid_param(err, "password", "empty password");
    let created: Value = call(&c, "wallet_create", rpc_params!["w", PASSWORD]).await;
    assert_eq!(created["name"], "w");
    let (code, msg) = call_err(&c, "wallet_create", rpc_params!["w", PASSWORD]).await;
    assert_eq!(code, -32021, "{msg}");
    let (code, msg) = call_err(&c, "wallet_create", rpc_params!["w", "other"]).await;
    assert_eq!(code, -32021, "{msg}");
    let to = payee.to_string();
    let (code, msg) = call_err(
        &c,
        "wallet_send",
        rpc_params!["nobody", PASSWORD, to.clone(), 100_000],
    )
    .await;
    assert_eq!(code, -32020, "{msg}");
    for method in ["wallet_getBalance", "wallet_newAddress"] {
        let (code, msg) = call_err(&c, method, rpc_params!["nobody"]).await;
        assert_eq!(code, -32020, "{method}: {msg}");
    }
    let (code, msg) = call_err(
        &c,
        "wallet_send",
        rpc_params!["w", "wrong", to.clone(), 100_000],
    )
    .await;
    assert_eq!((code, msg.as_str()), (-32022, "wrong wallet password"));
    let (code, msg) = call_err(
        &c,
        "wallet_send",
        rpc_params!["w", PASSWORD, mainnet.clone(), 100_000],
    )
    .await;
    assert_eq!(code, -32030, "{msg}");
    assert!(msg.contains("`toAddress`"), "{msg}");
    let err = call_err(
        &c,
        "wallet_send",
        rpc_params!["w", PASSWORD, to.clone(), -5],
    )
    .await;
    assert_invalid_param(err, "amount", "negative amount");
    let err = call_err(&c, "wallet_send", rpc_params!["w", PASSWORD, to.clone()]).await;
    assert_invalid_param(err, "amount", "missing amount");
    let (code, msg) = call_err(&c, "wallet_send", rpc_params!["w", PASSWORD, to, 100_000]).await;
    assert_eq!(code, -32023, "an empty wallet cannot pay: {msg}");
    let wallets: Vec<String> = call(&c, "wallet_list", rpc_params![]).await;
    assert_eq!(wallets, vec!["w".to_owned()]);

    // (h) A batch of three valid calls, answered in one array (matched by id).
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "chain_getInfo", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "chain_getBlockHash", "params": [0]},
        {"jsonrpc": "2.0", "id": 3, "method": "mempool_getInfo"},
    ]);
    let rsp = post(addr, batch.to_string().as_bytes()).await;
    assert_eq!(rsp.status, 200, "{rsp:?}");
    let v = rsp.json();
    let items = v.as_array().unwrap_or_else(|| panic!("batch answer {v}"));
    assert_eq!(items.len(), 3, "{v}");
    let by_id = |id: u64| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("no answer for id {id}: {v}"))
            .get("result")
            .unwrap_or_else(|| panic!("id {id} failed: {v}"))
            .clone()
    };
    let info = by_id(1);
    assert_eq!(info["height"], 2);
    assert_eq!(info["bestHash"].as_str(), Some(hashes[1].as_str()));
    assert_eq!(by_id(2), info["genesis"]);
    assert_eq!(by_id(3)["size"], 0);
    // A batch mixing a valid call, an unknown method and a bad parameter answers each.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "chain_getBlockHash", "params": [1]},
        {"jsonrpc": "2.0", "id": 2, "method": "chain_nope", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "chain_getBlockHash", "params": ["x"]},
    ]);
    let v = post(addr, batch.to_string().as_bytes()).await.json();
    let items = v.as_array().unwrap_or_else(|| panic!("batch answer {v}"));
    assert_eq!(items.len(), 3, "{v}");
    let get = |id: u64| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(get(1)["result"].as_str(), Some(hashes[0].as_str()));
    assert_eq!(error_of(&get(2), &json!(2)).0, -32601);
    assert_eq!(error_of(&get(3), &json!(3)).0, -32602);

    // WebSocket on the same port.
    let ws = tokio::time::timeout(
        Duration::from_secs(10),
        WsClientBuilder::default().build(format!("ws://{addr}")),
    )
    .await
    .expect("WebSocket connect timed out")
    .expect("WebSocket connects");
    let info: Value = ws
        .request("chain_getInfo", rpc_params![])
        .await
        .expect("chain_getInfo over WebSocket");
    assert_eq!(info["height"], 2);
    assert_eq!(info["chain"], "dev");
    match ws.request::<Value, _>("chain_nope", rpc_params![]).await {
        Err(ClientError::Call(obj)) => {
            assert_eq!((obj.code(), obj.message()), (-32601, "Method not found"))
        }
        other => panic!("unknown method over WebSocket: {other:?}"),
    }
    match ws
        .request::<Value, _>("chain_getBlockHash", rpc_params!["x"])
        .await
    {
        Err(ClientError::Call(obj)) => {
            assert_eq!(obj.code(), -32602);
            assert!(obj.message().contains("`height`"), "{}", obj.message());
        }
        other => panic!("bad param over WebSocket: {other:?}"),
    }
    let hash: String = ws
        .request("chain_getBlockHash", rpc_params![2])
        .await
        .expect("the WebSocket connection survives errors");
    assert_eq!(hash, hashes[1]);
    drop(ws);

    // After all of this the node still answers, with the chain unchanged.
    let info: Value = call(&c, "chain_getInfo", rpc_params![]).await;
    assert_eq!(info["height"], 2);
    assert_eq!(info["bestHash"].as_str(), Some(hashes[1].as_str()));
    node.stop().await;
}
