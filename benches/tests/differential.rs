//! Differential tests: this crate's interpreter against Bitcoin Core's (libbitcoinconsensus,
//! Core 26) on generated scripts, flags and transactions. Both must accept or reject alike.
//!
//! libbitcoinconsensus reports only pass / fail, and only for the flags it exposes (P2SH, DERSIG,
//! NULLDUMMY, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY); error names are covered by
//! `script_tests.json` in the script-vm crate.

use bitcoinconsensus::verify_with_flags;
use i8o8i_benches::{SHARED_FLAGS, Spend, key, sign};
use i8o8i_script_vm::bitcoin_compat::Transaction;
use i8o8i_script_vm::{Builder, Opcode, ScriptBuf, VerifyFlags, templates};
use proptest::prelude::*;

/// One generated script element.
#[derive(Debug, Clone)]
enum Token {
    Op(u8),
    Int(i64),
    Push(Vec<u8>),
    /// A push with a non-minimal prefix.
    FatPush(Vec<u8>),
    /// A raw byte string (possibly a truncated push).
    Raw(Vec<u8>),
}

fn token() -> impl Strategy<Value = Token> {
    // Opcodes the interpreter gives meaning to, weighted towards the interesting ones.
    let ops = prop_oneof![
        8 => (0x61u8..=0xb9).prop_map(Token::Op),
        2 => prop::sample::select(vec![0x63u8, 0x64, 0x67, 0x68, 0x69, 0x6a, 0x87, 0x88, 0xac, 0xae, 0xb1, 0xb2]).prop_map(Token::Op),
        1 => prop::sample::select(vec![0x50u8, 0x62, 0x65, 0x66, 0x89, 0x8a, 0xba, 0xbb, 0xff]).prop_map(Token::Op),
    ];
    prop_oneof![
        6 => ops,
        4 => prop_oneof![(-1i64..=16), (-70_000i64..70_000), any::<i32>().prop_map(i64::from), (0i64..(1 << 39))].prop_map(Token::Int),
        3 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Token::Push),
        1 => prop::collection::vec(prop::sample::select(vec![0u8, 0x80, 0x01, 0xff]), 0..6).prop_map(Token::Push),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(Token::FatPush),
        1 => prop::collection::vec(any::<u8>(), 1..4).prop_map(Token::Raw),
        1 => prop::sample::select(vec![519usize, 520, 521]).prop_map(|n| Token::Push(vec![7; n])),
    ]
}

/// scriptSig elements: mostly data, as real unlocking scripts are.
fn sig_token() -> impl Strategy<Value = Token> {
    prop_oneof![
        6 => (-1i64..=16).prop_map(Token::Int),
        3 => prop::collection::vec(any::<u8>(), 0..6).prop_map(Token::Push),
        1 => token(),
    ]
}

fn assemble(tokens: &[Token]) -> ScriptBuf {
    tokens
        .iter()
        .fold(Builder::new(), |b, t| match t {
            Token::Op(op) => b.push_opcode(Opcode(*op)),
            Token::Int(n) => b.push_int(*n),
            Token::Push(d) => b.push_slice(d),
            Token::FatPush(d) => {
                let mut raw = vec![0x4c, d.len() as u8];
                raw.extend_from_slice(d);
                b.push_raw(&raw)
            }
            Token::Raw(r) => b.push_raw(r),
        })
        .into_script()
}

fn flags() -> impl Strategy<Value = VerifyFlags> {
    any::<u32>().prop_map(|bits| VerifyFlags::from_bits_truncate(bits) & SHARED_FLAGS)
}

/// Transaction fields the lock-time opcodes look at.
fn tx_params() -> impl Strategy<Value = (i32, u32, u32)> {
    (
        prop_oneof![Just(1i32), Just(2), any::<i32>()],
        prop_oneof![
            Just(0u32),
            0u32..1000,
            499_999_990u32..500_000_010,
            any::<u32>()
        ],
        prop_oneof![
            Just(u32::MAX),
            0u32..100,
            any::<u32>(),
            Just(1 << 22 | 5),
            Just(1 << 31)
        ],
    )
}

fn spend(
    script_sig: ScriptBuf,
    script_pubkey: ScriptBuf,
    (version, lock_time, sequence): (i32, u32, u32),
) -> Spend {
    let (_, mut tx) = Transaction::test_spend_pair(&script_sig, &script_pubkey, 0);
    tx.version = version;
    tx.lock_time = lock_time;
    tx.inputs[0].sequence = sequence;
    let tx_bytes = tx.serialize();
    Spend {
        script_pubkey,
        tx,
        tx_bytes,
    }
}

fn agree(spend: &Spend, flags: VerifyFlags) -> Result<(), TestCaseError> {
    let ours = spend.verify_ours(flags);
    let core = verify_with_flags(
        spend.script_pubkey.as_bytes(),
        0,
        &spend.tx_bytes,
        None,
        0,
        flags.bits(),
    );
    prop_assert_eq!(
        ours.is_ok(),
        core.is_ok(),
        "ours {:?}, core {:?}; flags {}; scriptSig `{}`; scriptPubKey `{}`",
        ours,
        core,
        flags,
        spend.script_sig().to_test_asm(),
        spend.script_pubkey.to_test_asm()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_scripts_agree_with_bitcoin_core(
        sig in prop::collection::vec(sig_token(), 0..8),
        pubkey in prop::collection::vec(token(), 0..16),
        flags in flags(),
        tx in tx_params(),
    ) {
        agree(&spend(assemble(&sig), assemble(&pubkey), tx), flags)?;
    }

    #[test]
    fn random_p2sh_redeem_scripts_agree_with_bitcoin_core(
        args in prop::collection::vec(sig_token(), 0..6),
        redeem in prop::collection::vec(token(), 0..16),
        flags in flags(),
        tx in tx_params(),
    ) {
        let redeem = assemble(&redeem);
        let script_sig = templates::p2sh_script_sig(&assemble(&args), &redeem);
        agree(&spend(script_sig, templates::p2sh_for(&redeem), tx), flags)?;
    }
}

/// How a valid signature is damaged before both interpreters see it.
#[derive(Debug, Clone)]
enum SigMutation {
    None,
    FlipBit(usize, u8),
    HashType(u8),
    HighS,
    PadR,
    Truncate(usize),
    Empty,
}

fn sig_mutation() -> impl Strategy<Value = SigMutation> {
    prop_oneof![
        2 => Just(SigMutation::None),
        2 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| SigMutation::FlipBit(i, b)),
        2 => any::<u8>().prop_map(SigMutation::HashType),
        2 => Just(SigMutation::HighS),
        1 => Just(SigMutation::PadR),
        1 => any::<usize>().prop_map(SigMutation::Truncate),
        1 => Just(SigMutation::Empty),
    ]
}

/// secp256k1's order n, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

fn der_parts(sig: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let len_r = sig[3] as usize;
    let r = sig[4..4 + len_r].to_vec();
    let len_s = sig[5 + len_r] as usize;
    (r, sig[6 + len_r..6 + len_r + len_s].to_vec())
}

fn der(r: &[u8], s: &[u8], hash_type: u8) -> Vec<u8> {
    let mut v = vec![0x30, (4 + r.len() + s.len()) as u8, 0x02, r.len() as u8];
    v.extend_from_slice(r);
    v.extend_from_slice(&[0x02, s.len() as u8]);
    v.extend_from_slice(s);
    v.push(hash_type);
    v
}

fn mutate(sig: Vec<u8>, m: &SigMutation) -> Vec<u8> {
    let hash_type = *sig.last().unwrap();
    let (r, s) = der_parts(&sig);
    match *m {
        SigMutation::None => sig,
        SigMutation::FlipBit(i, b) => {
            let mut sig = sig;
            let i = i % sig.len();
            sig[i] ^= 1 << b;
            sig
        }
        SigMutation::HashType(t) => {
            let mut sig = sig;
            *sig.last_mut().unwrap() = t;
            sig
        }
        SigMutation::HighS => {
            // s' = n - s: an equally valid signature with S in the upper half.
            let mut padded = [0u8; 32];
            let s_digits = s
                .iter()
                .skip_while(|&&b| b == 0)
                .copied()
                .collect::<Vec<_>>();
            padded[32 - s_digits.len()..].copy_from_slice(&s_digits);
            let mut out = [0u8; 32];
            let mut borrow = 0i16;
            for i in (0..32).rev() {
                let d = i16::from(N[i]) - i16::from(padded[i]) - borrow;
                borrow = i16::from(d < 0);
                out[i] = (d + if d < 0 { 256 } else { 0 }) as u8;
            }
            let mut high = out
                .iter()
                .skip_while(|&&b| b == 0)
                .copied()
                .collect::<Vec<_>>();
            if high[0] & 0x80 != 0 {
                high.insert(0, 0);
            }
            der(&r, &high, hash_type)
        }
        SigMutation::PadR => {
            let mut padded = vec![0];
            padded.extend_from_slice(&r);
            der(&padded, &s, hash_type)
        }
        SigMutation::Truncate(n) => sig[..n % sig.len()].to_vec(),
        SigMutation::Empty => Vec::new(),
    }
}

fn key_form(uncompressed: bool, hybrid: bool, pk: &secp256k1::PublicKey) -> Vec<u8> {
    if !uncompressed {
        return pk.serialize().to_vec();
    }
    let mut k = pk.serialize_uncompressed().to_vec();
    if hybrid {
        // 0x06 / 0x07 by the parity of y: accepted by libsecp256k1 unless STRICTENC.
        k[0] = 6 | (k[64] & 1);
    }
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_p2pkh_signatures_agree_with_bitcoin_core(
        m in sig_mutation(),
        uncompressed in any::<bool>(),
        hybrid in any::<bool>(),
        flags in flags(),
        seed in 1u8..=255,
    ) {
        let (sk, pk) = key(seed);
        let pk = key_form(uncompressed, hybrid, &pk);
        let spk = templates::p2pkh(&templates::hash160(&pk));
        let code = spk.clone();
        let s = Spend::new(spk, |tx| templates::p2pkh_script_sig(&mutate(sign(tx, &code, &sk), &m), &pk));
        agree(&s, flags)?;
    }

    #[test]
    fn damaged_multisig_signatures_agree_with_bitcoin_core(
        m1 in sig_mutation(),
        m2 in sig_mutation(),
        dummy in prop_oneof![Just(vec![]), Just(vec![0u8]), Just(vec![1u8])],
        flags in flags(),
        order in any::<bool>(),
    ) {
        let keys: Vec<_> = (1..=3).map(key).collect();
        let pks: Vec<Vec<u8>> = keys.iter().map(|(_, pk)| pk.serialize().to_vec()).collect();
        let refs: Vec<&[u8]> = pks.iter().map(Vec::as_slice).collect();
        let spk = templates::multisig(2, &refs).unwrap();
        let code = spk.clone();
        let s = Spend::new(spk, |tx| {
            let a = mutate(sign(tx, &code, &keys[0].0), &m1);
            let b = mutate(sign(tx, &code, &keys[2].0), &m2);
            let (a, b) = if order { (a, b) } else { (b, a) };
            Builder::new().push_slice(&dummy).push_slice(&a).push_slice(&b).into_script()
        });
        agree(&s, flags)?;
    }
}

/// The generators must produce both valid and invalid spends in fair numbers, or the tests
/// above could pass by comparing failures only.
#[test]
fn generated_spends_cover_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (
        prop::collection::vec(sig_token(), 0..8),
        prop::collection::vec(token(), 0..16),
        flags(),
        tx_params(),
    );
    let (mut ok, total) = (0, 5_000);
    for _ in 0..total {
        let (sig, pubkey, flags, tx) = strategy.new_tree(&mut runner).unwrap().current();
        let s = spend(assemble(&sig), assemble(&pubkey), tx);
        let ours = s.verify_ours(flags).is_ok();
        let core = verify_with_flags(
            s.script_pubkey.as_bytes(),
            0,
            &s.tx_bytes,
            None,
            0,
            flags.bits(),
        )
        .is_ok();
        assert_eq!(ours, core);
        ok += usize::from(ours);
    }
    println!("random scripts: {ok} of {total} valid");
    assert!(
        ok * 20 > total && ok * 20 < total * 19,
        "{ok} of {total} valid: the generator is lopsided"
    );
}
