//! Bitcoin Core's `script_tests.json`, run through this crate with Bitcoin's legacy signature
//! hash (`bitcoin-compat`). Every test without witness data and without the WITNESS / TAPROOT
//! flags must produce exactly the expected result name.

use i8o8i_script_vm::bitcoin_compat::{BitcoinChecker, Transaction};
use i8o8i_script_vm::{VerifyFlags, parse_asm, verify_script};
use serde_json::Value;

const VECTORS: &str = include_str!("../data/script_tests.json");

enum Outcome {
    Pass,
    Fail(String),
    Skip,
}

fn run_one(entry: &[Value]) -> Outcome {
    if entry.first().is_some_and(Value::is_array) {
        return Outcome::Skip; // witness data
    }
    let text = |i: usize| entry.get(i).and_then(Value::as_str).unwrap_or_default();
    let (sig_asm, pubkey_asm, flags_str, expected) = (text(0), text(1), text(2), text(3));
    let mut flags: VerifyFlags = match flags_str.parse() {
        Ok(f) => f,
        Err(e) => return Outcome::Fail(format!("{e}")),
    };
    if flags.intersects(VerifyFlags::WITNESS | VerifyFlags::TAPROOT) {
        return Outcome::Skip;
    }
    // Core's harness adds these for CLEANSTACK, which it only defines together with them.
    if flags.contains(VerifyFlags::CLEANSTACK) {
        flags |= VerifyFlags::P2SH | VerifyFlags::WITNESS;
    }
    let (script_sig, script_pubkey) = match (parse_asm(sig_asm), parse_asm(pubkey_asm)) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) | (_, Err(e)) => return Outcome::Fail(format!("asm: {e}")),
    };
    let (_, spend) = Transaction::test_spend_pair(&script_sig, &script_pubkey, 0);
    let got = match verify_script(
        &script_sig,
        &script_pubkey,
        flags,
        &BitcoinChecker::new(&spend, 0),
    ) {
        Ok(()) => "OK",
        Err(e) => e.core_name(),
    };
    if got == expected {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("expected {expected}, got {got}"))
    }
}

#[test]
fn bitcoin_core_script_tests_pass() {
    let tests: Vec<Vec<Value>> = serde_json::from_str(VECTORS).expect("script_tests.json parses");
    let (mut passed, mut skipped) = (0usize, 0usize);
    let mut failures = Vec::new();
    for entry in tests.iter().filter(|e| e.len() > 1) {
        match run_one(entry) {
            Outcome::Pass => passed += 1,
            Outcome::Skip => skipped += 1,
            Outcome::Fail(why) => failures.push(format!("{why}: {}", Value::from(entry.clone()))),
        }
    }
    println!(
        "script_tests.json: {passed} passed, {} failed, {skipped} skipped",
        failures.len()
    );
    for f in failures.iter().take(50) {
        println!("  FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of Bitcoin Core's script tests failed",
        failures.len()
    );
    assert!(
        passed >= 1_000,
        "only {passed} tests ran: is the vector file complete?"
    );
}
