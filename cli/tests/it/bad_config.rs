//! Bad configuration through the real binary: the node refuses to start, exits non-zero within
//! a bounded time, and says on stderr exactly what is wrong — without creating a data directory
//! or leaving anything half-written.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `i8o8icoin node <args>` with a clean environment for the `I8O8I_*` layer and waits
/// (at most 60 s) for it to exit; a node that keeps running is a failure.
fn run_node(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_i8o8icoin"));
    cmd.arg("node")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("I8O8I_") {
            cmd.env_remove(key);
        }
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("spawn i8o8icoin");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("poll child").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "node with {args:?} did not exit: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts the node failed and its stderr contains every one of `needles`.
fn assert_refused(out: &Output, needles: &[&str], case: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{case}: node exited successfully");
    assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{case}: stderr does not mention {needle:?}:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("panicked"),
        "{case}: the node panicked:\n{stderr}"
    );
}

#[test]
fn bad_configuration_is_refused_with_an_error_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };

    // A misspelt nested key in the YAML file.
    let file = write("typo.yaml", "rpc:\n  adress: 127.0.0.1:5000\n");
    let out = run_node(
        &["--config", &file, "--data-dir", data_arg],
        &[],
        dir.path(),
    );
    assert_refused(
        &out,
        &[&format!(
            "key `rpc.adress` in {file}: unknown key; expected one of: addr,"
        )],
        "unknown nested key",
    );

    // An unknown top-level key.
    let file = write("top.yaml", "chain: dev\nminning:\n  enabled: true\n");
    let out = run_node(
        &["--config", &file, "--data-dir", data_arg],
        &[],
        dir.path(),
    );
    assert_refused(&out, &["minning"], "unknown top-level key");

    // A value of the wrong type.
    let file = write("type.yaml", "mining:\n  threads: many\n");
    let out = run_node(
        &["--config", &file, "--data-dir", data_arg],
        &[],
        dir.path(),
    );
    assert_refused(
        &out,
        &[&format!(
            "key `mining.threads` in {file} = \"many\": invalid type"
        )],
        "wrong type",
    );

    // Not YAML at all.
    let file = write("garbage.yaml", "rpc: [unclosed\n");
    let out = run_node(
        &["--config", &file, "--data-dir", data_arg],
        &[],
        dir.path(),
    );
    assert_refused(&out, &["garbage.yaml"], "malformed YAML");

    // A file that does not exist.
    let missing = dir.path().join("missing.yaml");
    let out = run_node(
        &[
            "--config",
            missing.to_str().unwrap(),
            "--data-dir",
            data_arg,
        ],
        &[],
        dir.path(),
    );
    assert_refused(&out, &["missing.yaml"], "missing file");

    // An unknown key in the environment layer.
    let out = run_node(
        &["--chain", "dev", "--data-dir", data_arg],
        &[("I8O8I_RPC__BOGUS", "1")],
        dir.path(),
    );
    assert_refused(&out, &["I8O8I_RPC__BOGUS"], "unknown environment key");

    // Invalid flag values.
    let out = run_node(
        &[
            "--chain",
            "dev",
            "--data-dir",
            data_arg,
            "--rpc-addr",
            "nowhere",
        ],
        &[],
        dir.path(),
    );
    assert_refused(
        &out,
        &["command-line value for `rpc.addr` = \"nowhere\""],
        "bad --rpc-addr",
    );
    let out = run_node(
        &["--chain", "no-such-chain", "--data-dir", data_arg],
        &[],
        dir.path(),
    );
    assert_refused(&out, &["no-such-chain"], "unknown chain");

    // A chain spec with an unknown key.
    let spec = write(
        "spec.yaml",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/chains/dev.yaml"
        ))
        .unwrap()
        .replacen("name:", "colour: blue\nname:", 1),
    );
    let out = run_node(&["--chain", &spec, "--data-dir", data_arg], &[], dir.path());
    assert_refused(&out, &["colour"], "unknown chain-spec key");

    // A consensus schedule that cannot run: a DPoS switch with nobody to produce.
    let spec = write(
        "stake.yaml",
        &format!(
            "{}\n  - from_height: 50\n    engine: dpos\n    params:\n      slot_secs: 2\n      delegates: 3\n      unbonding_period: 10\n      registration_fee: 1\n      genesis_delegates: []\n",
            std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../config/chains/dev.yaml"
            ))
            .unwrap()
            .trim_end()
        ),
    );
    let out = run_node(&["--chain", &spec, "--data-dir", data_arg], &[], dir.path());
    assert_refused(
        &out,
        &["dpos at height 50", "genesis_delegates"],
        "impossible schedule",
    );

    // Block production without a producer, or with a wallet the node does not have.
    let out = run_node(
        &["--chain", "dev", "--data-dir", data_arg, "--produce"],
        &[],
        dir.path(),
    );
    assert_refused(
        &out,
        &["--produce needs --producer-wallet"],
        "producer missing",
    );
    let password = write("password", "secret\n");
    let out = run_node(
        &[
            "--chain",
            "dev",
            "--data-dir",
            data_arg,
            "--produce",
            "--producer-wallet",
            "validator",
            "--producer-password-file",
            &password,
        ],
        &[],
        dir.path(),
    );
    assert_refused(
        &out,
        &["producer wallet `validator`", "not found"],
        "unknown producer wallet",
    );

    // A data directory that cannot be created (its parent is a file).
    let blocker = write("not-a-dir", "");
    let under_file = format!("{blocker}/data");
    let out = run_node(
        &["--chain", "dev", "--data-dir", &under_file],
        &[],
        dir.path(),
    );
    assert_refused(
        &out,
        &["cannot create data directory", &under_file],
        "uncreatable data directory",
    );

    assert!(
        !data.exists(),
        "a refused configuration must not create the data directory"
    );
}
