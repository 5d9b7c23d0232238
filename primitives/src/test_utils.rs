//! Helpers shared by other crates' tests and benchmarks (feature `test-utils`): deterministic
//! keys, their P2PKH scripts, signed one-input spends, and a fixed sample transaction. One copy here instead of one per test
//! file, so a change of the signing rules changes every test at once.

use i8o8i_script_vm::templates::{hash160, p2pkh};
use i8o8i_script_vm::{SIGHASH_ALL, ScriptBuf};
use secp256k1::{PublicKey, SecretKey};

use crate::amount::Amount;
use crate::hash::{ContractAddress, Hash256, Txid};
use crate::signing::sign_p2pkh_input;
use crate::transaction::{OutPoint, Payload, Transaction, TxIn, TxOut};

/// A deterministic secret key: 32 bytes of `seed` (any seed but 0 gives a valid key).
///
/// # Panics
/// If `seed` is 0 (not a valid secret key).
pub fn secret_key(seed: u8) -> SecretKey {
    SecretKey::from_secret_bytes([seed; 32]).expect("a non-zero seed is a valid key")
}

/// The compressed public key of `sk`.
pub fn public_key(sk: &SecretKey) -> [u8; 33] {
    PublicKey::from_secret_key(sk).serialize()
}

/// The P2PKH output script of `sk`'s compressed public key.
pub fn p2pkh_script(sk: &SecretKey) -> ScriptBuf {
    p2pkh(&hash160(&public_key(sk)))
}

/// A version-2 transaction spending the P2PKH coin `prevout` (worth `value`, locked to `sk`)
/// into one output paying `to` everything but `fee`, signed with `SIGHASH_ALL`.
///
/// # Panics
/// If `fee` exceeds `value`.
pub fn p2pkh_spend(
    prevout: OutPoint,
    value: Amount,
    sk: &SecretKey,
    to: ScriptBuf,
    fee: Amount,
    chain_id: &Hash256,
) -> Transaction {
    p2pkh_split(prevout, value, sk, to, 1, fee, chain_id)
}

/// A signed spend of `prevout` (worth `value`, locked to `sk`'s P2PKH script) into `count`
/// equal outputs to `to`, paying `fee` and what the division leaves over: how tests and
/// benchmarks make many coins from one.
///
/// # Panics
/// If `fee` exceeds `value` or `count` is 0.
pub fn p2pkh_split(
    prevout: OutPoint,
    value: Amount,
    sk: &SecretKey,
    to: ScriptBuf,
    count: usize,
    fee: Amount,
    chain_id: &Hash256,
) -> Transaction {
    let each = value.checked_sub(fee).expect("fee within value").to_units() / count as u64;
    let mut tx = Transaction {
        version: 2,
        inputs: vec![TxIn {
            prevout,
            script_sig: ScriptBuf::default(),
            sequence: u32::MAX,
        }],
        outputs: vec![
            TxOut {
                value: Amount::from_units(each),
                script_pubkey: to,
            };
            count
        ],
        lock_time: 0,
        payload: None,
    };
    sign_p2pkh_input(&mut tx, 0, sk, value, chain_id, SIGHASH_ALL).expect("input 0 exists");
    tx
}

/// A transaction exercising every field, with fixed contents (the golden txid test pins its hash).
pub fn sample_transaction() -> Transaction {
    Transaction {
        version: 2,
        inputs: vec![
            TxIn {
                prevout: OutPoint {
                    txid: Txid::from_byte_array([0x11; 32]),
                    index: 0,
                },
                script_sig: ScriptBuf::from_bytes(vec![0x51]),
                sequence: 0xffff_fffe,
            },
            TxIn {
                prevout: OutPoint {
                    txid: Txid::from_byte_array([0x22; 32]),
                    index: 7,
                },
                script_sig: ScriptBuf::new(),
                sequence: 10,
            },
        ],
        outputs: vec![
            TxOut {
                value: Amount::from_units(50 * crate::COIN),
                script_pubkey: ScriptBuf::from_bytes(vec![0x76, 0xa9]),
            },
            TxOut {
                value: Amount::from_units(1),
                script_pubkey: ScriptBuf::from_bytes(vec![0x6a, 0x01, 0x2a]),
            },
        ],
        lock_time: 500,
        payload: Some(Payload::Call {
            contract: ContractAddress::from_byte_array([0x33; 32]),
            input: b"transfer".to_vec(),
            value: Amount::from_units(1_000),
            gas_limit: 100_000,
        }),
    }
}
