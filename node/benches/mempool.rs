//! Load tool: mempool acceptance of signed P2PKH transactions, in-process and through
//! `tx_submit` over loopback HTTP, against the single-core rate of the signature verification
//! every acceptance must do.
//!
//! Run: `cargo bench -p i8o8i-node --bench mempool` (or, reusing the dev build of RocksDB,
//! `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo bench -p i8o8i-node --bench mempool --profile dev`).
//! It starts a real node (RocksDB in a temporary directory, dev chain), mines coins, fans them
//! out to 40,000 outputs, pre-signs one spend per output, then measures five rounds of 2,000
//! transactions per mode and prints the median rate of each mode and its ratio to the
//! verification rate. Modes: in-process (`Node::submit_transaction`, one thread); `tx_submit`
//! from 8 jsonrpsee HTTP clients; from 8 lean keep-alive connections (a wrk-style client whose
//! own cost is small — the client shares the machine's cores with the node); from the same
//! connections in JSON-RPC batches; and from them with `tx_submitBatch` (one call of many
//! transactions, verified on every core). The empty-call rates show the transport's ceiling.

use std::time::Instant;

use i8o8i_benches::key;
use i8o8i_config::NodeConfig;
use i8o8i_node::launch::{LaunchOptions, launch};
use i8o8i_primitives::test_utils::p2pkh_split;
use i8o8i_primitives::{Amount, OutPoint, SighashCache, Transaction};
use i8o8i_script_vm::{SIGHASH_ALL, templates};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use parity_scale_codec::Encode;
use secp256k1::{Message, PublicKey, ecdsa};

// The node binary's allocator, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUND: usize = 2_000;
const ROUNDS: usize = 5;
const FANOUT_TXS: usize = 20;
/// Modes measured, each on its own transactions: in-process, jsonrpsee client, lean client,
/// lean client with JSON-RPC batches, lean client with `tx_submitBatch`.
const MODES: usize = 5;
/// Calls per JSON-RPC batch in the batched mode.
const BATCH: usize = 25;
/// Transactions per `tx_submitBatch` call.
const SUBMIT_BATCH: usize = 25;
const FANOUT_OUTPUTS: usize = MODES * ROUND * ROUNDS / FANOUT_TXS;
const CLIENTS: usize = 8;

/// A minimal HTTP/1.1 keep-alive JSON-RPC client, the way load generators (wrk, oha) are
/// written: one connection, hand-built requests, responses framed by `Content-Length`. It
/// shows what the node sustains when the client's own cost is small; the jsonrpsee client
/// measured alongside costs about as much CPU per call as the server, on the same two cores.
struct LeanClient {
    stream: tokio::net::TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl LeanClient {
    async fn connect(addr: std::net::SocketAddr) -> LeanClient {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        LeanClient {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(4096),
        }
    }

    /// Posts `body` (one call or a batch of `calls`), asserting HTTP 200, a `result` for
    /// every call and no error anywhere.
    async fn call(&mut self, body: &str, calls: usize) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        self.buf.clear();
        let (head_end, content_length) = loop {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).expect("ASCII head");
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().expect("length"))
                    })
                    .expect("Content-Length");
                break (end + 4, length);
            }
        };
        while self.buf.len() < head_end + content_length {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let body = &self.buf[head_end..head_end + content_length];
        // No call failed, and no transaction of a `tx_submitBatch` was refused.
        assert!(
            !body.windows(8).any(|w| w == b"\"error\":"),
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(
            body.windows(9).filter(|w| w == b"\"result\":").count(),
            calls,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

/// Sends `calls` (JSON request objects) through `CLIENTS` lean connections, `batch` calls per
/// HTTP request (1: one call per request; more: JSON-RPC batches); returns calls/s.
async fn lean_rate(addr: std::net::SocketAddr, calls: Vec<String>, batch: usize) -> f64 {
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(LeanClient::connect(addr).await);
    }
    let n = calls.len();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let mine: Vec<String> = calls.iter().skip(i).step_by(CLIENTS).cloned().collect();
        let bodies: Vec<(String, usize)> = mine
            .chunks(batch)
            .map(|group| match group {
                [one] => (one.clone(), 1),
                many => (format!("[{}]", many.join(",")), many.len()),
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            for (body, n) in bodies {
                client.call(&body, n).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// One `tx_submit` request object per transaction, ids counting from 0.
fn tx_submit_calls(txs: &[Transaction]) -> Vec<String> {
    txs.iter()
        .enumerate()
        .map(|(id, tx)| {
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tx_submit","params":["{}"]}}"#,
                hex::encode(tx.encode())
            )
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = NodeConfig {
        chain: "dev".into(),
        data_dir: Some(dir.path().to_owned()),
        ..NodeConfig::default()
    };
    config.rpc.addr = "127.0.0.1:0".parse().expect("addr");
    config.mempool.max_bytes = 1 << 30;
    // The load client is trusted: what is measured is acceptance, not the rate limiter.
    let limits = &mut config.rpc.rate_limit;
    limits.per_ip_per_second = 1_000_000;
    limits.per_ip_burst = 1_000_000;
    limits.per_connection_calls_per_second = 1_000_000;
    limits.per_connection_burst = 1_000_000;
    let running = launch(LaunchOptions {
        config,
        clock: None,
        dev: false,
        producer: None,
    })
    .await
    .expect("node");
    let node = running.node().clone();
    let chain_id = node.chain().chain_id();
    let (sk, pk) = key(1);
    let script = templates::p2pkh(&templates::hash160(&pk.serialize()));

    // Coins: 120 coinbases, the first twenty mature; fan each out to many small outputs
    // (2,500 each: a fan-out stays under the 101,000-byte package limit).
    node.generate(100 + FANOUT_TXS as u32, &script, 2)
        .expect("mine");
    let mut coins = node
        .chain()
        .store()
        .coins_for_script(&script)
        .expect("coins");
    coins.sort_by_key(|(_, c)| c.height);
    for (op, coin) in coins.iter().take(FANOUT_TXS) {
        let tx = p2pkh_split(
            *op,
            coin.output.value,
            &sk,
            script.clone(),
            FANOUT_OUTPUTS,
            Amount::from_units(1_000_000),
            &chain_id,
        );
        node.submit_transaction(tx).expect("fan-out accepted");
    }
    node.generate(1, &script, 2).expect("mine");
    let small: Vec<_> = node
        .chain()
        .store()
        .coins_for_script(&script)
        .expect("coins")
        .into_iter()
        .filter(|(_, c)| !c.coinbase)
        .collect();
    assert!(
        small.len() >= MODES * ROUND * ROUNDS,
        "{} small coins",
        small.len()
    );

    let signed: Vec<Transaction> = small
        .iter()
        .take(MODES * ROUND * ROUNDS)
        .map(|(op, coin)| spend(*op, coin.output.value, &script, &sk, &chain_id))
        .collect();

    // Baseline: parse + verify of the same kind of signature, one core.
    let samples: Vec<_> = signed
        .iter()
        .take(ROUND)
        .map(|tx| {
            let cache = SighashCache::new(tx);
            let digest = cache
                .signature_hash(&chain_id, 0, &script, small[0].1.output.value, SIGHASH_ALL)
                .expect("digest");
            let items: Vec<Vec<u8>> = tx.inputs[0]
                .script_sig
                .instructions()
                .map(|i| i.expect("push").push_data().expect("push").to_vec())
                .collect();
            (
                items[0][..items[0].len() - 1].to_vec(),
                items[1].clone(),
                digest,
            )
        })
        .collect();
    let mut verify_rates = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for (der, pubkey, digest) in &samples {
            let key = PublicKey::from_slice(pubkey).expect("key");
            let sig = ecdsa::Signature::from_der_lax(der).expect("sig");
            let _ = std::hint::black_box(ecdsa::verify(&sig, Message::from_digest(*digest), &key));
        }
        verify_rates.push(samples.len() as f64 / start.elapsed().as_secs_f64());
    }
    let verify = median(verify_rates);

    let mut sets = signed.chunks(ROUND * ROUNDS);
    let mut next_set = || sets.next().expect("a set of transactions per mode");
    let (in_process, over_rpc, over_lean, over_batch, over_submit_batch) =
        (next_set(), next_set(), next_set(), next_set(), next_set());
    let mut rates = Vec::new();
    for round in in_process.chunks(ROUND) {
        let start = Instant::now();
        for tx in round {
            node.submit_transaction(tx.clone()).expect("accepted");
        }
        rates.push(round.len() as f64 / start.elapsed().as_secs_f64());
    }
    let in_proc = median(rates);

    let url = format!("http://{}", running.rpc_addr());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| HttpClientBuilder::default().build(&url).expect("client"))
        .collect();
    let mut rates = Vec::new();
    for round in over_rpc.chunks(ROUND) {
        let raws: Vec<String> = round.iter().map(|tx| hex::encode(tx.encode())).collect();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (i, client) in clients.iter().enumerate() {
            let mine: Vec<String> = raws.iter().skip(i).step_by(CLIENTS).cloned().collect();
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for raw in mine {
                    let _: String = client
                        .request("tx_submit", rpc_params![raw])
                        .await
                        .expect("accepted");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        rates.push(round.len() as f64 / start.elapsed().as_secs_f64());
    }
    let rpc = median(rates);

    // The floor set by the transport alone: the same clients calling a method that does no
    // work (`chain_getBlockHash(0)`).
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for client in &clients {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..ROUND / CLIENTS {
                    let _: String = client
                        .request("chain_getBlockHash", rpc_params![0])
                        .await
                        .expect("answered");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        rates.push((ROUND / CLIENTS * CLIENTS) as f64 / start.elapsed().as_secs_f64());
    }
    let noop = median(rates);

    let addr = running.rpc_addr();
    let mut rates = Vec::new();
    for round in over_lean.chunks(ROUND) {
        let calls = tx_submit_calls(round);
        rates.push(lean_rate(addr, calls, 1).await);
    }
    let lean = median(rates);
    let mut rates = Vec::new();
    for round in over_batch.chunks(ROUND) {
        let calls = tx_submit_calls(round);
        rates.push(lean_rate(addr, calls, BATCH).await);
    }
    let batched = median(rates);
    let mut rates = Vec::new();
    for round in over_submit_batch.chunks(ROUND) {
        let calls: Vec<String> = round
            .chunks(SUBMIT_BATCH)
            .enumerate()
            .map(|(id, txs)| {
                let raws: Vec<String> = txs
                    .iter()
                    .map(|tx| format!("\"{}\"", hex::encode(tx.encode())))
                    .collect();
                format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"method":"tx_submitBatch","params":[[{}]]}}"#,
                    raws.join(",")
                )
            })
            .collect();
        // Calls per second, each of SUBMIT_BATCH transactions (the last of a round may be
        // shorter: ROUND is a multiple of it).
        rates.push(lean_rate(addr, calls, 1).await * SUBMIT_BATCH as f64);
    }
    let submit_batched = median(rates);
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        let calls = (0..ROUND)
            .map(|id| {
                format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"method":"chain_getBlockHash","params":[0]}}"#
                )
            })
            .collect();
        rates.push(lean_rate(addr, calls, 1).await);
    }
    let lean_noop = median(rates);

    println!("signature verification (parse + verify, 1 core): {verify:>9.0} /s");
    println!(
        "mempool acceptance, in-process:                  {in_proc:>9.0} tx/s  ({:.2} x verify)",
        in_proc / verify
    );
    println!(
        "mempool acceptance, tx_submit over HTTP ({CLIENTS} clients): {rpc:>9.0} tx/s  ({:.2} x verify)",
        rpc / verify
    );
    println!("  empty calls, same clients (transport ceiling): {noop:>9.0} calls/s");
    println!(
        "mempool acceptance, tx_submit over HTTP ({CLIENTS} lean keep-alive connections): {lean:>9.0} tx/s  ({:.2} x verify)",
        lean / verify
    );
    println!("  empty calls, same connections (transport ceiling): {lean_noop:>9.0} calls/s");
    println!(
        "mempool acceptance, tx_submit in JSON-RPC batches of {BATCH} (same connections): {batched:>9.0} tx/s  ({:.2} x verify)",
        batched / verify
    );
    println!(
        "mempool acceptance, tx_submitBatch of {SUBMIT_BATCH} (same connections): {submit_batched:>9.0} tx/s  ({:.2} x verify)",
        submit_batched / verify
    );
    println!("mempool: {} transactions", node.mempool().info().count);
    running.stop().await;
}

fn spend(
    op: OutPoint,
    value: Amount,
    script: &i8o8i_script_vm::ScriptBuf,
    sk: &secp256k1::SecretKey,
    chain_id: &i8o8i_primitives::Hash256,
) -> Transaction {
    i8o8i_primitives::test_utils::p2pkh_spend(
        op,
        value,
        sk,
        script.clone(),
        Amount::from_units(500),
        chain_id,
    )
}
