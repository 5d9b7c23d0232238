//! Fuzzes script assembly printing and parsing, and the script inspection helpers.
//!
//! Checks, for every input:
//! - the bytes, as a `Script`: `parse_asm(&script.to_test_asm())` gives back exactly the same
//!   bytes (the documented round trip of Bitcoin Core's test-vector assembly), and `to_asm()`,
//!   `templates::classify` and a full walk of `instructions()` / `instructions_minimal()` do not
//!   panic;
//! - the bytes, if they are UTF-8, as assembly text: `parse_asm` does not panic, and a script it
//!   accepts also round-trips through `to_test_asm()`.
//!
//! Run (from `script-vm/`, see `fuzz/README.md` for details):
//! ```text
//! RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run asm_roundtrip -s none \
//!     --target-dir "$HOME/.cache/i8o8icoin/fuzz-target" \
//!     -- -max_total_time=120 -rss_limit_mb=2048 -max_len=4096
//! ```
#![no_main]

use i8o8i_script_vm::{Script, parse_asm, templates};
use libfuzzer_sys::fuzz_target;

fn check_script(script: &Script) {
    let asm = script.to_test_asm();
    match parse_asm(&asm) {
        Ok(parsed) => assert_eq!(
            parsed.as_bytes(),
            script.as_bytes(),
            "to_test_asm() did not round-trip: {asm:?}"
        ),
        Err(e) => panic!("parse_asm rejected to_test_asm() output {asm:?}: {e}"),
    }
    let _ = script.to_asm();
    let _ = templates::classify(script);
    for _ in script.instructions() {}
    for _ in script.instructions_minimal() {}
}

fuzz_target!(|data: &[u8]| {
    check_script(Script::from_bytes(data));

    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(script) = parse_asm(text)
    {
        check_script(&script);
    }
});
