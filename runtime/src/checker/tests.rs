use i8o8i_script_vm::templates::{hash160, p2pkh, p2pkh_script_sig};
use i8o8i_script_vm::{ScriptBuf, ScriptError, SignatureChecker, VerifyFlags};
use secp256k1::{PublicKey, SecretKey, ecdsa};

use i8o8i_primitives::sighash::*;
use i8o8i_primitives::test_utils::sample_transaction;
use i8o8i_primitives::{
    Amount, Hash256, OutPoint, Payload, Transaction, TxIn, TxOut, Txid, sign_p2pkh_input,
};
use i8o8i_script_vm::{SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE};

use super::{CONSENSUS_SCRIPT_FLAGS, TransactionChecker, verify_input};

const CHAIN: Hash256 = Hash256::from_byte_array([0xc0; 32]);
const OTHER_CHAIN: Hash256 = Hash256::from_byte_array([0xc1; 32]);

/// Pinned so that any change to the preimage layout is caught.
const GOLDEN_SIGHASH: &str = "48b2e7abe681f5a1305e0869254105484b997f61bdbe7e66447ec524d25a4da6";

fn key(n: u8) -> SecretKey {
    SecretKey::from_secret_bytes([n; 32]).expect("valid secret key")
}

fn pubkey(sk: &SecretKey) -> [u8; 33] {
    PublicKey::from_secret_key(sk).serialize()
}

fn p2pkh_of(sk: &SecretKey) -> ScriptBuf {
    p2pkh(&hash160(&pubkey(sk)))
}

/// Two inputs spending P2PKH outputs of keys 1 and 2 (worth 10 and 20 coins), two outputs.
struct Fixture {
    tx: Transaction,
    spent: Vec<TxOut>,
    keys: Vec<SecretKey>,
}

fn fixture() -> Fixture {
    let keys = vec![key(1), key(2)];
    let spent = vec![
        TxOut {
            value: Amount::from_coins(10).expect("fits"),
            script_pubkey: p2pkh_of(&keys[0]),
        },
        TxOut {
            value: Amount::from_coins(20).expect("fits"),
            script_pubkey: p2pkh_of(&keys[1]),
        },
    ];
    let tx = Transaction {
        version: 2,
        inputs: (0..2u8)
            .map(|i| TxIn {
                prevout: OutPoint {
                    txid: Txid::from_byte_array([0xf0 + i; 32]),
                    index: u32::from(i),
                },
                script_sig: ScriptBuf::new(),
                sequence: 0xffff_fffd,
            })
            .collect(),
        outputs: vec![
            TxOut {
                value: Amount::from_coins(25).expect("fits"),
                script_pubkey: p2pkh_of(&key(3)),
            },
            TxOut {
                value: Amount::from_coins(4).expect("fits"),
                script_pubkey: p2pkh_of(&key(4)),
            },
        ],
        lock_time: 0,
        payload: None,
    };
    Fixture { tx, spent, keys }
}

impl Fixture {
    fn sign(&mut self, index: usize, hash_type: u8) {
        sign_p2pkh_input(
            &mut self.tx,
            index,
            &self.keys[index],
            self.spent[index].value,
            &CHAIN,
            hash_type,
        )
        .expect("signs");
    }

    fn verify(&self, index: usize) -> Result<(), ScriptError> {
        verify_input(
            &SighashCache::new(&self.tx),
            &CHAIN,
            index,
            &self.spent[index],
        )
    }
}

#[test]
fn golden_sighash_of_the_sample_transaction_is_stable() {
    let tx = sample_transaction();
    let cache = SighashCache::new(&tx);
    let h = cache
        .signature_hash(
            &CHAIN,
            0,
            &p2pkh(&[0xab; 20]),
            Amount::from_units(123),
            SIGHASH_ALL,
        )
        .unwrap();
    assert_eq!(hex::encode(h), GOLDEN_SIGHASH);
}

#[test]
fn a_signed_p2pkh_input_verifies_under_the_consensus_flags() {
    let mut f = fixture();
    f.sign(0, SIGHASH_ALL);
    f.sign(1, SIGHASH_ALL);
    assert_eq!(f.verify(0), Ok(()));
    assert_eq!(f.verify(1), Ok(()));
    // Input 1's key cannot spend input 0's output.
    let mut swapped = f.tx.clone();
    swapped.inputs[0].script_sig = swapped.inputs[1].script_sig.clone();
    assert_eq!(
        verify_input(&SighashCache::new(&swapped), &CHAIN, 0, &f.spent[0]),
        Err(ScriptError::EqualVerify)
    );
}

#[test]
fn an_unsigned_or_out_of_range_input_fails() {
    let f = fixture();
    assert_eq!(f.verify(0), Err(ScriptError::InvalidStackOperation));
    assert_eq!(
        verify_input(&SighashCache::new(&f.tx), &CHAIN, 2, &f.spent[0]),
        Err(ScriptError::UnknownError)
    );
}

#[test]
fn changing_an_output_breaks_all_but_not_none() {
    let mut f = fixture();
    f.sign(0, SIGHASH_ALL);
    f.sign(1, SIGHASH_NONE);
    f.tx.outputs[0].value = Amount::from_coins(26).expect("fits");
    assert_eq!(f.verify(0), Err(ScriptError::SigNullFail));
    assert_eq!(f.verify(1), Ok(()));
    f.tx.outputs.push(f.tx.outputs[1].clone());
    assert_eq!(f.verify(1), Ok(()), "NONE signs no output at all");
}

#[test]
fn single_signs_only_the_output_at_its_index() {
    let mut f = fixture();
    f.sign(0, SIGHASH_SINGLE);
    f.tx.outputs[1].value = Amount::ZERO;
    assert_eq!(f.verify(0), Ok(()), "another output changed");
    f.tx.outputs[0].value = Amount::ZERO;
    assert_eq!(
        f.verify(0),
        Err(ScriptError::SigNullFail),
        "its own output changed"
    );
}

#[test]
fn changing_another_inputs_sequence_breaks_all_but_not_single_or_none() {
    for (hash_type, survives) in [
        (SIGHASH_ALL, false),
        (SIGHASH_SINGLE, true),
        (SIGHASH_NONE, true),
    ] {
        let mut f = fixture();
        f.sign(0, hash_type);
        assert_eq!(f.verify(0), Ok(()));
        f.tx.inputs[1].sequence = 5;
        let expected = if survives {
            Ok(())
        } else {
            Err(ScriptError::SigNullFail)
        };
        assert_eq!(f.verify(0), expected, "hash type {hash_type}");
        // Its own sequence is always signed.
        f.tx.inputs[0].sequence = 5;
        assert_eq!(
            f.verify(0),
            Err(ScriptError::SigNullFail),
            "hash type {hash_type}"
        );
    }
}

#[test]
fn anyonecanpay_lets_another_input_be_added() {
    for (hash_type, survives) in [
        (SIGHASH_ALL | SIGHASH_ANYONECANPAY, true),
        (SIGHASH_ALL, false),
    ] {
        let mut f = fixture();
        let extra = f.tx.inputs.pop().expect("two inputs");
        f.sign(0, hash_type);
        assert_eq!(f.verify(0), Ok(()));
        f.tx.inputs.push(extra);
        let expected = if survives {
            Ok(())
        } else {
            Err(ScriptError::SigNullFail)
        };
        assert_eq!(f.verify(0), expected, "hash type {hash_type:#x}");
    }
}

#[test]
fn single_without_a_matching_output_is_an_error() {
    let mut f = fixture();
    f.tx.outputs.truncate(1);
    let before = f.tx.clone();
    let err = sign_p2pkh_input(
        &mut f.tx,
        1,
        &f.keys[1],
        f.spent[1].value,
        &CHAIN,
        SIGHASH_SINGLE | SIGHASH_ANYONECANPAY,
    );
    assert_eq!(
        err,
        Err(SighashError::SingleWithoutOutput {
            index: 1,
            outputs: 1
        })
    );
    assert_eq!(f.tx, before, "the transaction is unchanged on error");
    // Whatever signature is presented for it, the checker refuses.
    let cache = SighashCache::new(&f.tx);
    let checker = TransactionChecker::new(&cache, &CHAIN, 1, f.spent[1].value);
    let sig_with_type = [
        0x30,
        0x06,
        0x02,
        0x01,
        0x01,
        0x02,
        0x01,
        0x01,
        SIGHASH_SINGLE,
    ];
    assert!(!checker.check_ecdsa_signature(
        &sig_with_type,
        &pubkey(&f.keys[1]),
        &f.spent[1].script_pubkey
    ));
}

#[test]
fn undefined_hash_types_and_bad_indices_are_errors() {
    let f = fixture();
    let cache = SighashCache::new(&f.tx);
    let code = &f.spent[0].script_pubkey;
    for hash_type in [0x00, 0x04, 0x41, 0x80, 0x84, 0xff] {
        assert_eq!(
            cache.signature_hash(&CHAIN, 0, code, Amount::ZERO, hash_type),
            Err(SighashError::UndefinedHashType(hash_type))
        );
    }
    assert_eq!(
        cache.signature_hash(&CHAIN, 2, code, Amount::ZERO, SIGHASH_ALL),
        Err(SighashError::InputIndexOutOfRange {
            index: 2,
            inputs: 2
        })
    );
}

#[test]
fn a_signature_for_another_chain_is_rejected() {
    let mut f = fixture();
    f.sign(0, SIGHASH_ALL);
    let cache = SighashCache::new(&f.tx);
    assert_eq!(verify_input(&cache, &CHAIN, 0, &f.spent[0]), Ok(()));
    assert_eq!(
        verify_input(&cache, &OTHER_CHAIN, 0, &f.spent[0]),
        Err(ScriptError::SigNullFail)
    );
}

#[test]
fn a_wrong_spent_value_breaks_the_signature() {
    let mut f = fixture();
    f.sign(0, SIGHASH_ALL | SIGHASH_ANYONECANPAY);
    let mut claimed = f.spent[0].clone();
    claimed.value = Amount::from_coins(11).expect("fits");
    assert_eq!(
        verify_input(&SighashCache::new(&f.tx), &CHAIN, 0, &claimed),
        Err(ScriptError::SigNullFail)
    );
}

#[test]
fn changing_the_payload_breaks_every_hash_type() {
    for hash_type in [SIGHASH_ALL, SIGHASH_NONE | SIGHASH_ANYONECANPAY] {
        let mut f = fixture();
        f.sign(0, hash_type);
        f.tx.payload = Some(Payload::Bond {
            staking_key: pubkey(&f.keys[0]),
            value: Amount::ONE_COIN,
        });
        assert_eq!(f.verify(0), Err(ScriptError::SigNullFail));
    }
}

/// secp256k1's group order n, big-endian.
const CURVE_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// `a - b` for 32-byte big-endian numbers with `a >= b`.
fn sub_be(a: &[u8; 32], b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

#[test]
fn a_high_s_signature_is_rejected() {
    let mut f = fixture();
    f.sign(0, SIGHASH_ALL);
    let script_sig = f.tx.inputs[0].script_sig.as_bytes().to_vec();
    let sig_len = usize::from(script_sig[0]);
    let (der, hash_type) = script_sig[1..1 + sig_len].split_at(sig_len - 1);
    assert_eq!(hash_type, [SIGHASH_ALL]);
    let compact = ecdsa::Signature::from_der(der)
        .expect("valid DER")
        .serialize_compact();
    let mut high = compact;
    high[32..].copy_from_slice(&sub_be(&CURVE_ORDER, &compact[32..]));
    let mut high_sig = ecdsa::Signature::from_compact(&high)
        .expect("valid")
        .serialize_der()
        .to_vec();
    high_sig.push(SIGHASH_ALL);
    f.tx.inputs[0].script_sig = p2pkh_script_sig(&high_sig, &pubkey(&f.keys[0]));
    assert_eq!(f.verify(0), Err(ScriptError::SigHighS));
    // The same signature is valid apart from its S form: without LOW_S it verifies.
    let cache = SighashCache::new(&f.tx);
    let checker = TransactionChecker::new(&cache, &CHAIN, 0, f.spent[0].value);
    assert_eq!(
        i8o8i_script_vm::verify_script(
            &f.tx.inputs[0].script_sig,
            &f.spent[0].script_pubkey,
            CONSENSUS_SCRIPT_FLAGS.difference(VerifyFlags::LOW_S),
            &checker,
        ),
        Ok(())
    );
}

#[test]
fn the_checker_reads_lock_time_and_sequence_from_the_transaction() {
    let mut f = fixture();
    f.tx.lock_time = 500;
    f.tx.inputs[0].sequence = 10;
    let cache = SighashCache::new(&f.tx);
    let checker = TransactionChecker::new(&cache, &CHAIN, 0, Amount::ZERO);
    assert!(checker.check_lock_time(500));
    assert!(!checker.check_lock_time(501));
    assert!(checker.check_sequence(10));
    assert!(!checker.check_sequence(11));
    let out_of_range = TransactionChecker::new(&cache, &CHAIN, 9, Amount::ZERO);
    assert!(!out_of_range.check_lock_time(0));
    assert!(!out_of_range.check_sequence(0));
    assert!(!checker.check_ecdsa_signature(&[], &pubkey(&f.keys[0]), &f.spent[0].script_pubkey));
}

#[test]
fn consensus_flags_are_the_documented_set() {
    let expected: VerifyFlags = "P2SH,STRICTENC,DERSIG,LOW_S,NULLDUMMY,SIGPUSHONLY,MINIMALDATA,\
                                 CLEANSTACK,CHECKLOCKTIMEVERIFY,CHECKSEQUENCEVERIFY,NULLFAIL"
        .parse()
        .unwrap();
    assert_eq!(CONSENSUS_SCRIPT_FLAGS, expected);
}
