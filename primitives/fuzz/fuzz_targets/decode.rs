//! Fuzzes the decoders of untrusted chain data: `Transaction`, `Header` and `Block`
//! `decode_strict`.
//!
//! Checks, for every input:
//! - no decoder panics (or, under ASan, touches memory it should not);
//! - whatever decodes is canonical: re-encoding gives back exactly the input bytes;
//! - a decoded transaction's txid, JSON round trip and signature hashes (every input, every
//!   defined hash type) work without panicking, and the JSON round trip is lossless;
//! - a decoded block's hash, txids and merkle root compute without panicking.
//!
//! Run (from `primitives/`, see `fuzz/README.md` for details):
//! ```text
//! RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run decode -s none \
//!     --target-dir "$HOME/.cache/i8o8icoin/fuzz-target" \
//!     -- -max_total_time=120 -rss_limit_mb=2048 -max_len=65536
//! ```
#![no_main]

use i8o8i_primitives::{Amount, Block, Hash256, Header, SighashCache, Transaction};
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::Encode;

fn check_transaction(tx: &Transaction) {
    let _ = tx.txid();
    let _ = tx.is_coinbase();
    let json = serde_json::to_string(tx).expect("a transaction serializes");
    let back: Transaction = serde_json::from_str(&json).expect("its JSON deserializes");
    assert_eq!(&back, tx, "JSON round trip changed the transaction");
    let cache = SighashCache::new(tx);
    for index in 0..tx.inputs.len() + 1 {
        for hash_type in [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83, 0x84] {
            let _ = cache.signature_hash(
                &Hash256::ZERO,
                index,
                &tx.outputs.first().map(|o| o.script_pubkey.clone()).unwrap_or_default(),
                Amount::from_units(1),
                hash_type,
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::decode_strict(data) {
        assert_eq!(tx.encode(), data, "transaction encoding is not canonical");
        check_transaction(&tx);
    }
    if let Ok(header) = Header::decode_strict(data) {
        assert_eq!(header.encode(), data, "header encoding is not canonical");
        let _ = (header.hash(), header.signing_hash());
    }
    if let Ok(block) = Block::decode_strict(data) {
        assert_eq!(block.encode(), data, "block encoding is not canonical");
        let _ = (block.hash(), block.compute_tx_root());
        for tx in &block.transactions {
            check_transaction(tx);
        }
    }
});
