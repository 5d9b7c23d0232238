//! Transactions that are as expensive to verify as relay policy allows, and invalid only at
//! the end: the signature-operation flood of the resource-limits issue.
//!
//! Each input spends a P2SH output whose redeem script is `0 OVER 1 <15 keys> 15
//! CHECKMULTISIGVERIFY` (515 bytes, the most keys a redeem script's 520-byte push holds), with
//! a signature by the *last* key, so every input costs 15 signature checks. A spend of 90 such
//! inputs is 1,351 signature operations (under the 4,000 policy limit, so the pool verifies
//! it), about 57 kB; its last input's signature is by the wrong key, so the transaction is
//! invalid only after all 1,350 checks, its coins stay unspent and it can be sent again with a
//! different output value. The pool refuses a bare (non-P2SH) version outright: bare multisig
//! beyond 3 keys is not standard, and 20 × 9 bare checks per input is over the sigop limit.

use i8o8i_primitives::{
    Amount, Hash256, OutPoint, SighashCache, Transaction, TxIn, TxOut, p2pkh_script_sig_for,
};
use i8o8i_script_vm::opcodes::all::{OP_CHECKMULTISIGVERIFY, OP_OVER};
use i8o8i_script_vm::{Builder, SIGHASH_ALL, ScriptBuf, templates};
use secp256k1::{Message, PublicKey, SecretKey, ecdsa};

/// Keys in the redeem script.
pub const KEYS: usize = 15;

/// The redeem script over `keys` (the signer is the last of them).
pub fn redeem_script(keys: &[SecretKey; KEYS]) -> ScriptBuf {
    let mut b = Builder::new().push_int(0).push_opcode(OP_OVER).push_int(1);
    for key in keys {
        b = b.push_slice(&PublicKey::from_secret_key(key).serialize());
    }
    b.push_int(KEYS as i64)
        .push_opcode(OP_CHECKMULTISIGVERIFY)
        .into_script()
}

/// Spends the P2PKH coin `coin` (worth `value`, locked to `owner`) into `outputs` equal
/// P2SH outputs of `redeem`, paying `fee`.
pub fn funding(
    coin: OutPoint,
    value: Amount,
    owner: &SecretKey,
    redeem: &ScriptBuf,
    outputs: usize,
    fee: Amount,
    chain_id: &Hash256,
) -> Transaction {
    let each = value
        .checked_sub(fee)
        .map(|v| v.to_units() / outputs.max(1) as u64)
        .unwrap_or_default();
    let mut tx = Transaction {
        version: 2,
        inputs: vec![TxIn {
            prevout: coin,
            script_sig: ScriptBuf::default(),
            sequence: u32::MAX,
        }],
        outputs: (0..outputs)
            .map(|_| TxOut {
                value: Amount::from_units(each),
                script_pubkey: templates::p2sh_for(redeem),
            })
            .collect(),
        lock_time: 0,
        payload: None,
    };
    let script_sig = p2pkh_script_sig_for(
        &SighashCache::new(&tx),
        chain_id,
        0,
        owner,
        value,
        SIGHASH_ALL,
    )
    .expect("input 0 exists");
    tx.inputs[0].script_sig = script_sig;
    tx
}

/// A spend of the bomb `coins` (each worth `value`) to `pay_to`, paying everything but
/// `fee + variant` (so each variant has its own txid). Every input is signed by the last key
/// of `keys`, except the last input, signed by a key outside them (so all 15 checks fail
/// there): valid but for that signature.
pub fn spend(
    coins: &[OutPoint],
    value: Amount,
    keys: &[SecretKey; KEYS],
    pay_to: ScriptBuf,
    fee: Amount,
    variant: u64,
    chain_id: &Hash256,
) -> Transaction {
    let redeem = redeem_script(keys);
    let outsider = (1u8..)
        .filter_map(|b| SecretKey::from_secret_bytes([b; 32]).ok())
        .find(|k| !keys.contains(k))
        .expect("some key is not among 15");
    let total = value.to_units() * coins.len() as u64;
    let mut tx = Transaction {
        version: 2,
        inputs: coins
            .iter()
            .map(|c| TxIn {
                prevout: *c,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            })
            .collect(),
        outputs: vec![TxOut {
            value: Amount::from_units(total - fee.to_units() - variant),
            script_pubkey: pay_to,
        }],
        lock_time: 0,
        payload: None,
    };
    let cache = SighashCache::new(&tx);
    let script_sigs: Vec<ScriptBuf> = (0..coins.len())
        .map(|i| {
            let signer = if i + 1 == coins.len() {
                &outsider
            } else {
                &keys[KEYS - 1]
            };
            let hash = cache
                .signature_hash(chain_id, i, &redeem, value, SIGHASH_ALL)
                .expect("input exists");
            let mut sig = ecdsa::sign(Message::from_digest(hash), signer)
                .serialize_der()
                .to_vec();
            sig.push(SIGHASH_ALL);
            Builder::new()
                .push_slice(&sig)
                .push_slice(redeem.as_bytes())
                .into_script()
        })
        .collect();
    for (input, script_sig) in tx.inputs.iter_mut().zip(script_sigs) {
        input.script_sig = script_sig;
    }
    tx
}
