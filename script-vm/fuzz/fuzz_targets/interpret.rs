//! Fuzzes the script interpreter: `verify_script` and `eval_script` must never panic, whatever
//! the scripts and flags.
//!
//! Input layout:
//! - bytes 0..4: verification flags, `u32` little-endian, through `VerifyFlags::from_bits_truncate`
//!   (so every combination of Bitcoin Core's flags is reachable, including ones Core would
//!   reject such as CLEANSTACK without P2SH);
//! - bytes 4..6: scriptSig length, `u16` little-endian, clamped to what is left;
//! - then the scriptSig, and everything after it is the scriptPubKey.
//!
//! Checks, for every input:
//! - `verify_script(scriptSig, scriptPubKey, flags, BitcoinChecker)` returns (no panic), in the
//!   transaction pair of Bitcoin Core's script tests (`Transaction::test_spend_pair`), so real
//!   signature hashes, CHECKSIG / CHECKMULTISIG, FindAndDelete and CLTV / CSV are exercised;
//!   an error it returns has a non-empty Bitcoin Core name;
//! - `eval_script` of the scriptPubKey on a fresh stack with `NoSignatureChecker` returns, and
//!   on success leaves at most `MAX_STACK_SIZE` items of at most `MAX_SCRIPT_ELEMENT_SIZE` bytes.
//!
//! Run (from `script-vm/`, see `fuzz/README.md` for details):
//! ```text
//! RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run interpret -s none \
//!     --target-dir "$HOME/.cache/i8o8icoin/fuzz-target" \
//!     -- -max_total_time=600 -rss_limit_mb=2048 -max_len=4096
//! ```
#![no_main]

use i8o8i_script_vm::bitcoin_compat::{BitcoinChecker, Transaction};
use i8o8i_script_vm::{
    MAX_SCRIPT_ELEMENT_SIZE, MAX_STACK_SIZE, NoSignatureChecker, Script, Stack, VerifyFlags,
    eval_script, verify_script,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((flags, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let flags = VerifyFlags::from_bits_truncate(u32::from_le_bytes(*flags));
    let Some((sig_len, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let sig_len = usize::from(u16::from_le_bytes(*sig_len)).min(rest.len());
    let (script_sig, script_pubkey) = rest.split_at(sig_len);
    let script_sig = Script::from_bytes(script_sig);
    let script_pubkey = Script::from_bytes(script_pubkey);

    let (_credit, spend) = Transaction::test_spend_pair(script_sig, script_pubkey, 0);
    let checker = BitcoinChecker::new(&spend, 0);
    if let Err(e) = verify_script(script_sig, script_pubkey, flags, &checker) {
        assert!(!e.core_name().is_empty(), "{e:?} has an empty core_name()");
    }

    let mut stack = Stack::new();
    match eval_script(&mut stack, script_pubkey, flags, &NoSignatureChecker) {
        Ok(()) => {
            assert!(
                stack.len() <= MAX_STACK_SIZE,
                "eval_script succeeded with {} stack items",
                stack.len()
            );
            if let Some(item) = stack.iter().find(|i| i.len() > MAX_SCRIPT_ELEMENT_SIZE) {
                panic!(
                    "eval_script succeeded with a {}-byte stack item",
                    item.len()
                );
            }
        }
        Err(e) => assert!(!e.core_name().is_empty(), "{e:?} has an empty core_name()"),
    }
});
