//! Script verification: this crate's interpreter against a bare secp256k1 verify of the same
//! signature, and against Bitcoin Core's own interpreter (libbitcoinconsensus, Core 26) on the
//! same spends.
//!
//! Run: `cargo bench -p i8o8i-benches --bench script`. Groups:
//! - `p2pkh`: `secp256k1_parse_verify` (parse pubkey + lax-DER signature, verify a precomputed
//!   digest), `secp256k1_verify` (pre-parsed, verify only), `i8o8i` (`verify_script` with
//!   Bitcoin's legacy sighash: interpreter + sighash + parse + verify),
//!   and `bitcoin_core` (which also deserializes the transaction: its API takes bytes).
//! - `scripts/*`: hash puzzle, arithmetic and 2-of-3 multisig, ours against Core's.

use std::hint::black_box;

use bitcoinconsensus::verify_with_flags;
use criterion::{Criterion, criterion_group, criterion_main};
use i8o8i_benches::{SHARED_FLAGS, Spend, arithmetic, hash_puzzle, multisig_2_of_3, p2pkh};
use i8o8i_script_vm::SIGHASH_ALL;
use i8o8i_script_vm::bitcoin_compat::BitcoinChecker;
use i8o8i_script_vm::verify_script;
use secp256k1::{Message, PublicKey, ecdsa};

fn core_verify(spend: &Spend) -> bool {
    verify_with_flags(
        spend.script_pubkey.as_bytes(),
        0,
        &spend.tx_bytes,
        None,
        0,
        SHARED_FLAGS.bits(),
    )
    .is_ok()
}

fn bench_p2pkh(c: &mut Criterion) {
    let spend = p2pkh();
    assert_eq!(spend.verify_ours(SHARED_FLAGS), Ok(()));
    assert!(core_verify(&spend));

    // The signature and key exactly as they sit in the scriptSig.
    let items: Vec<_> = spend
        .script_sig()
        .instructions()
        .map(|i| i.unwrap().push_data().unwrap().to_vec())
        .collect();
    let (sig, pubkey) = (&items[0], &items[1]);
    let der = &sig[..sig.len() - 1];
    let digest = spend
        .tx
        .legacy_sighash(0, &spend.script_pubkey, SIGHASH_ALL);
    let parsed_sig = ecdsa::Signature::from_der_lax(der).unwrap();
    let parsed_key = PublicKey::from_slice(pubkey).unwrap();

    let mut g = c.benchmark_group("p2pkh");
    g.bench_function("secp256k1_verify", |b| {
        b.iter(|| {
            ecdsa::verify(
                black_box(&parsed_sig),
                Message::from_digest(black_box(digest)),
                black_box(&parsed_key),
            )
        })
    });
    g.bench_function("secp256k1_parse_verify", |b| {
        b.iter(|| {
            let key = PublicKey::from_slice(black_box(pubkey)).unwrap();
            let mut sig = ecdsa::Signature::from_der_lax(black_box(der)).unwrap();
            sig.normalize_s();
            ecdsa::verify(&sig, Message::from_digest(black_box(digest)), &key)
        })
    });
    g.bench_function("i8o8i", |b| {
        b.iter(|| {
            verify_script(
                black_box(spend.script_sig()),
                black_box(&spend.script_pubkey),
                SHARED_FLAGS,
                &BitcoinChecker::new(black_box(&spend.tx), 0),
            )
        })
    });
    g.bench_function("bitcoin_core", |b| {
        b.iter(|| core_verify(black_box(&spend)))
    });
    g.finish();
}

fn bench_scripts(c: &mut Criterion) {
    for (name, spend) in [
        ("hash_puzzle", hash_puzzle()),
        ("arithmetic", arithmetic()),
        ("multisig_2_of_3", multisig_2_of_3()),
    ] {
        assert_eq!(spend.verify_ours(SHARED_FLAGS), Ok(()), "{name}");
        assert!(core_verify(&spend), "{name}");
        let mut g = c.benchmark_group(format!("scripts/{name}"));
        g.bench_function("i8o8i", |b| {
            b.iter(|| {
                verify_script(
                    black_box(spend.script_sig()),
                    black_box(&spend.script_pubkey),
                    SHARED_FLAGS,
                    &BitcoinChecker::new(black_box(&spend.tx), 0),
                )
            })
        });
        g.bench_function("bitcoin_core", |b| {
            b.iter(|| core_verify(black_box(&spend)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench_p2pkh, bench_scripts);
criterion_main!(benches);
