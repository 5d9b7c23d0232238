//! `i8o8i_network::fuzzing::sync_message` on every input (what it checks is documented there; how to
//! run it is in docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| i8o8i_network::fuzzing::sync_message(data));
