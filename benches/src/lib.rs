//! Shared fixtures for I8o8iCoin's criterion benchmarks (`benches/`) and for the differential
//! tests that run Bitcoin Core's own interpreter (`bitcoinconsensus`, Core 26) beside ours.
//!
//! Every fixture is a Bitcoin legacy spend: a crediting transaction whose output holds the
//! locking script and a one-input spending transaction, signed where the script needs it, so
//! that both interpreters verify exactly the same bytes.
//!
//! Run the benchmarks with `cargo bench -p i8o8i-benches`.

use i8o8i_script_vm::bitcoin_compat::{BitcoinChecker, Transaction};
use i8o8i_script_vm::{
    SIGHASH_ALL, Script, ScriptBuf, VerifyFlags, parse_asm, templates, verify_script,
};
use secp256k1::{Message, PublicKey, SecretKey, ecdsa};

/// The flags both interpreters understand: the ones libbitcoinconsensus exposes, pre-taproot.
pub const SHARED_FLAGS: VerifyFlags = VerifyFlags::P2SH
    .union(VerifyFlags::DERSIG)
    .union(VerifyFlags::NULLDUMMY)
    .union(VerifyFlags::CHECKLOCKTIMEVERIFY)
    .union(VerifyFlags::CHECKSEQUENCEVERIFY);

/// One spend, ready for either interpreter.
#[derive(Debug, Clone)]
pub struct Spend {
    /// The locking script of the spent output.
    pub script_pubkey: ScriptBuf,
    /// The spending transaction (its input 0 carries the scriptSig).
    pub tx: Transaction,
    /// `tx` in Bitcoin's serialization, as libbitcoinconsensus takes it.
    pub tx_bytes: Vec<u8>,
}

impl Spend {
    /// Builds the crediting/spending pair for `script_pubkey` and fills in the scriptSig that
    /// `unlock` makes from the spending transaction (which it may sign).
    pub fn new(script_pubkey: ScriptBuf, unlock: impl FnOnce(&Transaction) -> ScriptBuf) -> Spend {
        let (_, mut tx) = Transaction::test_spend_pair(Script::from_bytes(&[]), &script_pubkey, 0);
        let script_sig = unlock(&tx);
        tx.inputs[0].script_sig = script_sig;
        let tx_bytes = tx.serialize();
        Spend {
            script_pubkey,
            tx,
            tx_bytes,
        }
    }

    /// The scriptSig of input 0.
    pub fn script_sig(&self) -> &Script {
        &self.tx.inputs[0].script_sig
    }

    /// Verifies with this crate's interpreter.
    pub fn verify_ours(&self, flags: VerifyFlags) -> Result<(), i8o8i_script_vm::ScriptError> {
        verify_script(
            self.script_sig(),
            &self.script_pubkey,
            flags,
            &BitcoinChecker::new(&self.tx, 0),
        )
    }
}

/// A deterministic key pair.
pub fn key(seed: u8) -> (SecretKey, PublicKey) {
    let mut bytes = [0x11; 32];
    bytes[31] = seed;
    let sk = SecretKey::from_secret_bytes(bytes).expect("far below the group order");
    (sk, PublicKey::from_secret_key(&sk))
}

/// A DER signature plus SIGHASH_ALL over input 0 of `tx` with `script_code`.
pub fn sign(tx: &Transaction, script_code: &Script, sk: &SecretKey) -> Vec<u8> {
    let digest = tx.legacy_sighash(0, script_code, SIGHASH_ALL);
    let mut sig = ecdsa::sign(Message::from_digest(digest), sk)
        .serialize_der()
        .to_vec();
    sig.push(SIGHASH_ALL);
    sig
}

/// A signed pay-to-pubkey-hash spend with a compressed key.
pub fn p2pkh() -> Spend {
    let (sk, pk) = key(1);
    let pk = pk.serialize();
    let spk = templates::p2pkh(&templates::hash160(&pk));
    let code = spk.clone();
    Spend::new(spk, |tx| {
        templates::p2pkh_script_sig(&sign(tx, &code, &sk), &pk)
    })
}

/// A signed bare 2-of-3 multisig spend.
pub fn multisig_2_of_3() -> Spend {
    let keys: Vec<_> = (1..=3).map(key).collect();
    let pks: Vec<[u8; 33]> = keys.iter().map(|(_, pk)| pk.serialize()).collect();
    let pk_refs: Vec<&[u8]> = pks.iter().map(|p| p.as_slice()).collect();
    let spk = templates::multisig(2, &pk_refs).expect("2-of-3 is in range");
    let code = spk.clone();
    Spend::new(spk, |tx| {
        let (s1, s3) = (sign(tx, &code, &keys[0].0), sign(tx, &code, &keys[2].0));
        templates::multisig_script_sig(&[&s1, &s3])
    })
}

/// A SHA-256 hash puzzle: `SHA256 <h> EQUAL`, unlocked by the preimage.
pub fn hash_puzzle() -> Spend {
    let preimage = b"I8o8iCoin hash puzzle preimage";
    let spk = parse_asm(&format!(
        "SHA256 0x20 0x{} EQUAL",
        hex(&templates::sha256(preimage))
    ))
    .expect("valid asm");
    Spend::new(spk, |_| {
        i8o8i_script_vm::Builder::new()
            .push_slice(preimage)
            .into_script()
    })
}

/// Arithmetic and stack work without signatures.
pub fn arithmetic() -> Spend {
    let spk = parse_asm("DUP 3 ADD OVER 2 SUB 2DUP GREATERTHAN VERIFY SUB 5 NUMEQUALVERIFY 50 200 WITHIN 7 8 MAX 8 NUMEQUAL BOOLAND")
        .expect("valid asm");
    Spend::new(spk, |_| parse_asm("100").expect("valid asm"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_verifies_and_fails_when_tampered() {
        for spend in [p2pkh(), multisig_2_of_3(), hash_puzzle(), arithmetic()] {
            assert_eq!(
                spend.verify_ours(SHARED_FLAGS),
                Ok(()),
                "{}",
                spend.script_pubkey
            );
            let mut bad = spend.clone();
            bad.tx.inputs[0].script_sig = ScriptBuf::from_bytes(vec![0x51]);
            assert!(
                bad.verify_ours(SHARED_FLAGS).is_err(),
                "{}",
                spend.script_pubkey
            );
        }
    }
}
