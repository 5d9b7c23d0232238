//! The web app (`clients/web`) the node serves at `/`: the committed `dist/` must be the build
//! of its sources (type-checked), and in headless Chromium (Debian's `chromium`, driven by
//! `playwright-core`) against a real node the dashboard updates live when a block is mined,
//! the explorer pages render a block, a payment and an address with exact amounts, a wallet
//! made in one browser profile receives mined coins and pays a wallet of another profile
//! with both seeing it confirm live (exact balances), and bad input is refused in words. The page tests are `clients/web/test/*.test.mjs`; they write a
//! screenshot of each page (into `docs/screenshots` with `I8O8I_WRITE_SCREENSHOTS=1`).

use std::path::{Path, PathBuf};
use std::process::Command;

use jsonrpsee::rpc_params;
use serde_json::Value;

use crate::common::{call, npm_ci, start_with};

fn clients() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("clients")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{report}");
    report
}

/// Schedule entry appended to the dev chain for the browser tests (a 1 I8O registration fee).
const DPOS_AHEAD: &str = "
  - from_height: 1000000
    engine: dpos
    params:
      slot_secs: 2
      delegates: 3
      unbonding_period: 20
      registration_fee: 100000000
      genesis_delegates:
        - name: dev
          key: 025c72973f8fa49fa1a586bcb31e4d7e8497065856f333cce4dc8a9a2a72d3eef5
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_is_the_build_of_its_sources_and_works_in_chromium() {
    let web = clients().join("web");
    npm_ci(&clients().join("ts"));
    npm_ci(&web);
    run(Command::new("npx")
        .args(["tsc", "-p", "."])
        .current_dir(&web));
    run(Command::new("node")
        .args(["build.mjs", "--check"])
        .current_dir(&web));

    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Chromium is installed by scripts/setup.sh (apt package chromium)");
    let dir = tempfile::tempdir().unwrap();
    // The example token built from its source (its ABI declares its events; the pinned
    // artifact predates event declarations).
    let token = dir.path().join("token.wasm");
    std::fs::write(&token, crate::contracts::example("token")).unwrap();
    // The dev chain with delegated proof of stake scheduled far ahead: staking transactions
    // are valid from the start (the rules of the next stake engine apply) while blocks are
    // still mined on demand, so the staking page's forms run against real bonds and votes.
    let spec = dir.path().join("dev-dpos-ahead.yaml");
    let dev = i8o8i_config::builtin_chain_spec("dev").unwrap();
    std::fs::write(&spec, format!("{dev}{DPOS_AHEAD}")).unwrap();
    let (node, c) = start_with(dir.path(), |c| {
        c.p2p.enabled = false;
        c.chain = spec.display().to_string();
    })
    .await;
    // A payment of exactly 1.5 I8O to a fresh wallet's address, confirmed.
    let miner: Value = call(&c, "wallet_create", rpc_params!["miner", "pw"]).await;
    let miner = miner["address"].as_str().unwrap().to_owned();
    let _: Vec<String> = call(&c, "mining_generate", rpc_params![101, &miner]).await;
    let payee: Value = call(&c, "wallet_create", rpc_params!["payee", "pw"]).await;
    let payee = payee["address"].as_str().unwrap().to_owned();
    let txid: String = call(
        &c,
        "wallet_send",
        rpc_params!["miner", "pw", &payee, 150_000_000u64],
    )
    .await;
    let mined: Vec<String> = call(&c, "mining_generate", rpc_params![1, &miner]).await;

    let shots = match std::env::var_os("I8O8I_WRITE_SCREENSHOTS") {
        Some(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
    };
    std::fs::create_dir_all(&shots).unwrap();
    let report = run(Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-reporter=tap",
            "test/",
        ])
        .env("I8O8I_NODE_URL", format!("http://{}", node.rpc_addr()))
        .env("I8O8I_CHROMIUM", chromium)
        .env("I8O8I_JWT_SECRET", dir.path().join("jwt.hex"))
        .env("I8O8I_SCREENSHOTS", &shots)
        .env("I8O8I_MINER", &miner)
        .env("I8O8I_PAYEE", &payee)
        .env("I8O8I_PAYMENT", &txid)
        .env("I8O8I_PAYMENT_BLOCK", &mined[0])
        .env("I8O8I_TOKEN_WASM", &token)
        .current_dir(&web));
    assert!(report.contains("# fail 0"), "{report}");
    assert!(report.contains("# skipped 0"), "{report}");
    for page in [
        "dashboard",
        "block",
        "transaction",
        "address",
        "wallet",
        "wallet-receiver",
        "contract",
        "network",
        "staking",
        "phone",
    ] {
        let png = std::fs::read(shots.join(format!("{page}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{page}");
    }
    node.stop().await;
}
