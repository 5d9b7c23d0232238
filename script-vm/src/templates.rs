//! Standard script templates: build and recognise the locking scripts wallets use, and build
//! the matching unlocking scripts.
//!
//! | template | scriptPubKey | scriptSig |
//! |---|---|---|
//! | P2PKH | `DUP HASH160 <h160(pk)> EQUALVERIFY CHECKSIG` | `<sig> <pk>` |
//! | P2SH (BIP16) | `HASH160 <h160(redeem)> EQUAL` | `<args...> <redeem>` |
//! | bare multisig | `<m> <pk>... <n> CHECKMULTISIG` | `0 <sig>...` |
//! | timelocked P2PKH | `<t> CHECKLOCKTIMEVERIFY DROP` + P2PKH (or CSV) | `<sig> <pk>` |
//! | HTLC | `IF SHA256 <h> EQUALVERIFY DUP HASH160 <recipient> ELSE <t> CHECKLOCKTIMEVERIFY DROP DUP HASH160 <refund> ENDIF EQUALVERIFY CHECKSIG` | `<sig> <pk> <preimage> 1` / `<sig> <pk> 0` |
//! | null data | `RETURN <data>...` | unspendable |

use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

use crate::opcodes::*;
use crate::script::{Builder, Instruction, Script, ScriptBuf};
use crate::{MAX_PUBKEYS_PER_MULTISIG, ScriptNum};

/// RIPEMD-160 of SHA-256, the hash in P2PKH and P2SH.
pub fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(data)).into()
}

/// SHA-256, the hash of HTLC preimages.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Which kind of relative or absolute lock a timelocked output uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// BIP65 `CHECKLOCKTIMEVERIFY`: absolute height or time.
    Absolute,
    /// BIP112 `CHECKSEQUENCEVERIFY`: relative to the output's confirmation.
    Relative,
}

/// A recognised locking script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// Pay to public key hash.
    P2pkh {
        /// HASH160 of the public key.
        pubkey_hash: [u8; 20],
    },
    /// Pay to script hash.
    P2sh {
        /// HASH160 of the redeem script.
        script_hash: [u8; 20],
    },
    /// Bare m-of-n multisig.
    Multisig {
        /// Signatures required.
        required: u8,
        /// The public keys, in order.
        pubkeys: Vec<Vec<u8>>,
    },
    /// P2PKH behind a CLTV or CSV lock.
    TimelockedP2pkh {
        /// Absolute (CLTV) or relative (CSV).
        kind: LockKind,
        /// The lock value.
        lock: i64,
        /// HASH160 of the public key.
        pubkey_hash: [u8; 20],
    },
    /// Hash time-locked contract.
    Htlc {
        /// SHA-256 of the preimage that lets the recipient claim.
        payment_hash: [u8; 32],
        /// HASH160 of the recipient's key.
        recipient: [u8; 20],
        /// Absolute lock time after which the refund key may spend.
        timeout: i64,
        /// HASH160 of the refund key.
        refund: [u8; 20],
    },
    /// `OP_RETURN` followed by pushes only: provably unspendable data.
    NullData {
        /// The pushed items.
        data: Vec<Vec<u8>>,
    },
    /// Anything else.
    NonStandard,
}

/// `DUP HASH160 <pubkey_hash> EQUALVERIFY CHECKSIG`.
pub fn p2pkh(pubkey_hash: &[u8; 20]) -> ScriptBuf {
    p2pkh_tail(Builder::new(), pubkey_hash).into_script()
}

fn p2pkh_tail(b: Builder, pubkey_hash: &[u8; 20]) -> Builder {
    b.push_opcode(OP_DUP)
        .push_opcode(OP_HASH160)
        .push_slice(pubkey_hash)
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_CHECKSIG)
}

/// `HASH160 <script_hash> EQUAL`.
pub fn p2sh(script_hash: &[u8; 20]) -> ScriptBuf {
    Builder::new()
        .push_opcode(OP_HASH160)
        .push_slice(script_hash)
        .push_opcode(OP_EQUAL)
        .into_script()
}

/// P2SH output paying to `redeem_script`.
pub fn p2sh_for(redeem_script: &Script) -> ScriptBuf {
    p2sh(&hash160(redeem_script.as_bytes()))
}

/// Why a template could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Multisig needs 1 <= m <= n <= 20 (16 for the OP_N encoding used here).
    #[error("multisig {required}-of-{keys} is out of range (1 <= m <= n <= 16)")]
    MultisigRange {
        /// m.
        required: usize,
        /// n.
        keys: usize,
    },
    /// A lock value must be non-negative and fit in 5 bytes.
    #[error("lock value {0} is out of range 0..2^39")]
    LockRange(i64),
}

/// `<m> <pk>... <n> CHECKMULTISIG`.
///
/// # Errors
/// [`TemplateError::MultisigRange`] unless `1 <= required <= pubkeys.len() <= 16`.
pub fn multisig(required: usize, pubkeys: &[&[u8]]) -> Result<ScriptBuf, TemplateError> {
    if required == 0 || required > pubkeys.len() || pubkeys.len() > 16 {
        return Err(TemplateError::MultisigRange {
            required,
            keys: pubkeys.len(),
        });
    }
    let mut b = Builder::new().push_int(required as i64);
    for pk in pubkeys {
        b = b.push_slice(pk);
    }
    Ok(b.push_int(pubkeys.len() as i64)
        .push_opcode(OP_CHECKMULTISIG)
        .into_script())
}

fn check_lock(lock: i64) -> Result<(), TemplateError> {
    if (0..1 << 39).contains(&lock) {
        Ok(())
    } else {
        Err(TemplateError::LockRange(lock))
    }
}

/// `<lock> CHECKLOCKTIMEVERIFY|CHECKSEQUENCEVERIFY DROP` then P2PKH.
///
/// # Errors
/// [`TemplateError::LockRange`] for a negative or over-long lock value.
pub fn timelocked_p2pkh(
    kind: LockKind,
    lock: i64,
    pubkey_hash: &[u8; 20],
) -> Result<ScriptBuf, TemplateError> {
    check_lock(lock)?;
    let op = match kind {
        LockKind::Absolute => OP_CHECKLOCKTIMEVERIFY,
        LockKind::Relative => OP_CHECKSEQUENCEVERIFY,
    };
    Ok(p2pkh_tail(
        Builder::new()
            .push_int(lock)
            .push_opcode(op)
            .push_opcode(OP_DROP),
        pubkey_hash,
    )
    .into_script())
}

/// The HTLC of the module table.
///
/// # Errors
/// [`TemplateError::LockRange`] for a negative or over-long timeout.
pub fn htlc(
    payment_hash: &[u8; 32],
    recipient: &[u8; 20],
    timeout: i64,
    refund: &[u8; 20],
) -> Result<ScriptBuf, TemplateError> {
    check_lock(timeout)?;
    Ok(Builder::new()
        .push_opcode(OP_IF)
        .push_opcode(OP_SHA256)
        .push_slice(payment_hash)
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_DUP)
        .push_opcode(OP_HASH160)
        .push_slice(recipient)
        .push_opcode(OP_ELSE)
        .push_int(timeout)
        .push_opcode(OP_CHECKLOCKTIMEVERIFY)
        .push_opcode(OP_DROP)
        .push_opcode(OP_DUP)
        .push_opcode(OP_HASH160)
        .push_slice(refund)
        .push_opcode(OP_ENDIF)
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_CHECKSIG)
        .into_script())
}

/// `RETURN <data>`.
pub fn null_data(data: &[u8]) -> ScriptBuf {
    Builder::new()
        .push_opcode(OP_RETURN)
        .push_slice(data)
        .into_script()
}

/// `<sig> <pubkey>`: unlocks P2PKH and timelocked P2PKH.
pub fn p2pkh_script_sig(sig: &[u8], pubkey: &[u8]) -> ScriptBuf {
    Builder::new()
        .push_slice(sig)
        .push_slice(pubkey)
        .into_script()
}

/// `0 <sig>...`: unlocks bare multisig (the leading empty item feeds CHECKMULTISIG's extra pop).
pub fn multisig_script_sig(sigs: &[&[u8]]) -> ScriptBuf {
    sigs.iter()
        .fold(Builder::new().push_int(0), |b, s| b.push_slice(s))
        .into_script()
}

/// Appends the serialized redeem script to an unlocking script for it, making a P2SH scriptSig.
pub fn p2sh_script_sig(redeem_args: &Script, redeem_script: &Script) -> ScriptBuf {
    Builder::new()
        .push_raw(redeem_args.as_bytes())
        .push_slice(redeem_script.as_bytes())
        .into_script()
}

/// `<sig> <pubkey> <preimage> 1`: the recipient's HTLC claim.
pub fn htlc_claim_script_sig(sig: &[u8], pubkey: &[u8], preimage: &[u8]) -> ScriptBuf {
    Builder::new()
        .push_slice(sig)
        .push_slice(pubkey)
        .push_slice(preimage)
        .push_int(1)
        .into_script()
}

/// `<sig> <pubkey> 0`: the HTLC refund after the timeout.
pub fn htlc_refund_script_sig(sig: &[u8], pubkey: &[u8]) -> ScriptBuf {
    Builder::new()
        .push_slice(sig)
        .push_slice(pubkey)
        .push_int(0)
        .into_script()
}

/// The opcodes and pushes of a script, or `None` if it does not parse.
fn parse(script: &Script) -> Option<Vec<Instruction<'_>>> {
    script.instructions().collect::<Result<Vec<_>, _>>().ok()
}

fn hash20(data: &[u8]) -> Option<[u8; 20]> {
    data.try_into().ok()
}

fn small_or_num(i: &Instruction<'_>) -> Option<i64> {
    match i {
        Instruction::Op(op) => op.small_int().map(i64::from),
        Instruction::Push { opcode, data } => {
            if *opcode == OP_0 {
                Some(0)
            } else {
                ScriptNum::decode(data, true, ScriptNum::LOCKTIME_MAX_SIZE)
                    .ok()
                    .map(ScriptNum::value)
            }
        }
    }
}

fn p2pkh_hash(ins: &[Instruction<'_>]) -> Option<[u8; 20]> {
    match ins {
        [
            Instruction::Op(OP_DUP),
            Instruction::Op(OP_HASH160),
            Instruction::Push { data, .. },
            Instruction::Op(OP_EQUALVERIFY),
            Instruction::Op(OP_CHECKSIG),
        ] => hash20(data),
        _ => None,
    }
}

/// Recognises a locking script.
pub fn classify(script: &Script) -> Template {
    if script.is_p2sh() {
        return Template::P2sh {
            script_hash: hash20(&script.as_bytes()[2..22]).expect("20 bytes"),
        };
    }
    let Some(ins) = parse(script) else {
        return Template::NonStandard;
    };
    if let Some(pubkey_hash) = p2pkh_hash(&ins) {
        return Template::P2pkh { pubkey_hash };
    }
    if let [Instruction::Op(OP_RETURN), rest @ ..] = ins.as_slice() {
        if let Some(data) = rest
            .iter()
            .map(|i| i.push_data().map(<[u8]>::to_vec))
            .collect::<Option<Vec<_>>>()
        {
            return Template::NullData { data };
        }
        return Template::NonStandard;
    }
    if let [
        lock,
        Instruction::Op(op @ (OP_CHECKLOCKTIMEVERIFY | OP_CHECKSEQUENCEVERIFY)),
        Instruction::Op(OP_DROP),
        tail @ ..,
    ] = ins.as_slice()
        && let (Some(lock), Some(pubkey_hash)) = (small_or_num(lock), p2pkh_hash(tail))
    {
        let kind = if *op == OP_CHECKLOCKTIMEVERIFY {
            LockKind::Absolute
        } else {
            LockKind::Relative
        };
        return Template::TimelockedP2pkh {
            kind,
            lock,
            pubkey_hash,
        };
    }
    if let [
        Instruction::Op(OP_IF),
        Instruction::Op(OP_SHA256),
        Instruction::Push {
            data: payment_hash, ..
        },
        Instruction::Op(OP_EQUALVERIFY),
        Instruction::Op(OP_DUP),
        Instruction::Op(OP_HASH160),
        Instruction::Push {
            data: recipient, ..
        },
        Instruction::Op(OP_ELSE),
        timeout,
        Instruction::Op(OP_CHECKLOCKTIMEVERIFY),
        Instruction::Op(OP_DROP),
        Instruction::Op(OP_DUP),
        Instruction::Op(OP_HASH160),
        Instruction::Push { data: refund, .. },
        Instruction::Op(OP_ENDIF),
        Instruction::Op(OP_EQUALVERIFY),
        Instruction::Op(OP_CHECKSIG),
    ] = ins.as_slice()
        && let (Ok(payment_hash), Some(recipient), Some(timeout), Some(refund)) = (
            (*payment_hash).try_into(),
            hash20(recipient),
            small_or_num(timeout),
            hash20(refund),
        )
    {
        return Template::Htlc {
            payment_hash,
            recipient,
            timeout,
            refund,
        };
    }
    if let [
        Instruction::Op(m),
        keys @ ..,
        Instruction::Op(n),
        Instruction::Op(OP_CHECKMULTISIG),
    ] = ins.as_slice()
    {
        let (Some(m), Some(n)) = (m.small_int(), n.small_int()) else {
            return Template::NonStandard;
        };
        let pubkeys: Option<Vec<Vec<u8>>> = keys
            .iter()
            .map(|k| {
                k.push_data()
                    .filter(|d| crate::checker::is_compressed_or_uncompressed_pubkey(d))
                    .map(<[u8]>::to_vec)
            })
            .collect();
        if let Some(pubkeys) = pubkeys
            && m >= 1
            && m <= n
            && usize::try_from(n).ok() == Some(pubkeys.len())
            && i32::from(n) <= MAX_PUBKEYS_PER_MULTISIG
        {
            return Template::Multisig {
                required: m as u8,
                pubkeys,
            };
        }
    }
    Template::NonStandard
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{SignatureChecker, lock_time_satisfied, sequence_satisfied};
    use crate::{ScriptError, VerifyFlags, verify_script};
    use secp256k1::{Message, PublicKey, SecretKey, ecdsa};

    /// Signs over SHA-256 of the script code: enough to exercise the templates end to end.
    struct Checker {
        lock_time: u32,
        sequence: u32,
    }
    impl Checker {
        fn digest(script_code: &Script) -> [u8; 32] {
            sha256(script_code.as_bytes())
        }
    }
    impl SignatureChecker for Checker {
        fn check_ecdsa_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &Script) -> bool {
            crate::interpreter::verify_ecdsa_with_hashtype(sig, pubkey, &Self::digest(script_code))
        }
        fn check_lock_time(&self, lock_time: i64) -> bool {
            lock_time_satisfied(lock_time, self.lock_time, self.sequence)
        }
        fn check_sequence(&self, sequence: i64) -> bool {
            sequence_satisfied(sequence, 2, self.sequence)
        }
    }

    fn key(i: u8) -> (SecretKey, Vec<u8>) {
        let sk = SecretKey::from_secret_bytes([i; 32]).unwrap();
        let pk = PublicKey::from_secret_key(&sk).serialize().to_vec();
        (sk, pk)
    }

    fn sign(sk: &SecretKey, script_code: &Script) -> Vec<u8> {
        let mut sig = ecdsa::sign(Message::from_digest(Checker::digest(script_code)), sk)
            .serialize_der()
            .to_vec();
        sig.push(crate::SIGHASH_ALL);
        sig
    }

    const FLAGS: VerifyFlags = VerifyFlags::all();
    const NOW: Checker = Checker {
        lock_time: 1000,
        sequence: 10,
    };

    #[test]
    fn p2pkh_spends_with_the_right_key_only() {
        let (sk, pk) = key(1);
        let spk = p2pkh(&hash160(&pk));
        assert_eq!(
            classify(&spk),
            Template::P2pkh {
                pubkey_hash: hash160(&pk)
            }
        );
        let ok = p2pkh_script_sig(&sign(&sk, &spk), &pk);
        assert_eq!(verify_script(&ok, &spk, FLAGS, &NOW), Ok(()));
        let (other, _) = key(2);
        let wrong = p2pkh_script_sig(&sign(&other, &spk), &pk);
        assert_eq!(
            verify_script(&wrong, &spk, FLAGS, &NOW),
            Err(ScriptError::SigNullFail)
        );
        assert_eq!(
            verify_script(&wrong, &spk, VerifyFlags::P2SH, &NOW),
            Err(ScriptError::EvalFalse)
        );
    }

    #[test]
    fn p2sh_multisig_two_of_three() {
        let keys: Vec<_> = (1..=3).map(key).collect();
        let pks: Vec<&[u8]> = keys.iter().map(|(_, pk)| pk.as_slice()).collect();
        let redeem = multisig(2, &pks).unwrap();
        assert_eq!(
            classify(&redeem),
            Template::Multisig {
                required: 2,
                pubkeys: pks.iter().map(|p| p.to_vec()).collect()
            }
        );
        let spk = p2sh_for(&redeem);
        assert!(matches!(classify(&spk), Template::P2sh { .. }));
        let s1 = sign(&keys[0].0, &redeem);
        let s3 = sign(&keys[2].0, &redeem);
        let sig = p2sh_script_sig(&multisig_script_sig(&[&s1, &s3]), &redeem);
        assert_eq!(verify_script(&sig, &spk, FLAGS, &NOW), Ok(()));
        // Out of order fails: CHECKMULTISIG walks keys and signatures in one direction.
        let sig = p2sh_script_sig(&multisig_script_sig(&[&s3, &s1]), &redeem);
        assert_eq!(
            verify_script(&sig, &spk, VerifyFlags::P2SH, &NOW),
            Err(ScriptError::EvalFalse)
        );
        assert_eq!(
            multisig(0, &pks),
            Err(TemplateError::MultisigRange {
                required: 0,
                keys: 3
            })
        );
    }

    #[test]
    fn timelocks_release_only_after_the_lock() {
        let (sk, pk) = key(4);
        for (kind, lock_ok, lock_late) in [
            (LockKind::Absolute, 1000, 1001),
            (LockKind::Relative, 10, 11),
        ] {
            let spk = timelocked_p2pkh(kind, lock_ok, &hash160(&pk)).unwrap();
            assert_eq!(
                classify(&spk),
                Template::TimelockedP2pkh {
                    kind,
                    lock: lock_ok,
                    pubkey_hash: hash160(&pk)
                }
            );
            let sig = p2pkh_script_sig(&sign(&sk, &spk), &pk);
            assert_eq!(verify_script(&sig, &spk, FLAGS, &NOW), Ok(()), "{kind:?}");
            let spk = timelocked_p2pkh(kind, lock_late, &hash160(&pk)).unwrap();
            let sig = p2pkh_script_sig(&sign(&sk, &spk), &pk);
            assert_eq!(
                verify_script(&sig, &spk, FLAGS, &NOW),
                Err(ScriptError::UnsatisfiedLocktime),
                "{kind:?}"
            );
        }
        assert_eq!(
            timelocked_p2pkh(LockKind::Absolute, -1, &[0; 20]),
            Err(TemplateError::LockRange(-1))
        );
    }

    #[test]
    fn htlc_claim_with_preimage_or_refund_after_timeout() {
        let (rsk, rpk) = key(5);
        let (fsk, fpk) = key(6);
        let preimage = b"the secret";
        let spk = htlc(&sha256(preimage), &hash160(&rpk), 900, &hash160(&fpk)).unwrap();
        assert_eq!(
            classify(&spk),
            Template::Htlc {
                payment_hash: sha256(preimage),
                recipient: hash160(&rpk),
                timeout: 900,
                refund: hash160(&fpk)
            }
        );
        let claim = htlc_claim_script_sig(&sign(&rsk, &spk), &rpk, preimage);
        assert_eq!(verify_script(&claim, &spk, FLAGS, &NOW), Ok(()));
        let bad = htlc_claim_script_sig(&sign(&rsk, &spk), &rpk, b"wrong");
        assert_eq!(
            verify_script(&bad, &spk, FLAGS, &NOW),
            Err(ScriptError::EqualVerify)
        );
        let refund = htlc_refund_script_sig(&sign(&fsk, &spk), &fpk);
        assert_eq!(verify_script(&refund, &spk, FLAGS, &NOW), Ok(()));
        let early = Checker {
            lock_time: 899,
            sequence: 0,
        };
        assert_eq!(
            verify_script(&refund, &spk, FLAGS, &early),
            Err(ScriptError::UnsatisfiedLocktime)
        );
        // The recipient's key cannot take the refund path.
        let stolen = htlc_refund_script_sig(&sign(&rsk, &spk), &rpk);
        assert_eq!(
            verify_script(&stolen, &spk, FLAGS, &NOW),
            Err(ScriptError::EqualVerify)
        );
    }

    #[test]
    fn null_data_is_unspendable_and_recognised() {
        let spk = null_data(b"hello");
        assert!(spk.is_op_return());
        assert_eq!(
            classify(&spk),
            Template::NullData {
                data: vec![b"hello".to_vec()]
            }
        );
        assert_eq!(
            verify_script(Script::from_bytes(&[]), &spk, FLAGS, &NOW),
            Err(ScriptError::OpReturn)
        );
    }

    #[test]
    fn junk_is_non_standard() {
        for bytes in [&[][..], &[0x51], &[0x05, 0x01], &[0x6a, 0x61]] {
            assert_eq!(
                classify(Script::from_bytes(bytes)),
                Template::NonStandard,
                "{bytes:02x?}"
            );
        }
    }
}
