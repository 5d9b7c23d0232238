//! Signature and lock-time checks: the [`SignatureChecker`] trait through which the interpreter
//! reaches the spending transaction, and the encoding rules (BIP66 DER, low S, hash types, public
//! key forms) that the interpreter applies before it asks the checker.

use secp256k1::{Message, PublicKey, ecdsa};

use crate::script::Script;

/// Sign all inputs and all outputs.
pub const SIGHASH_ALL: u8 = 0x01;
/// Sign all inputs and no outputs.
pub const SIGHASH_NONE: u8 = 0x02;
/// Sign all inputs and the output with the same index.
pub const SIGHASH_SINGLE: u8 = 0x03;
/// Modifier: sign only this input.
pub const SIGHASH_ANYONECANPAY: u8 = 0x80;

/// Lock times below this are block heights, at or above it UNIX times (BIP65, as in Bitcoin).
pub const LOCKTIME_THRESHOLD: i64 = 500_000_000;
/// An input with this sequence opts out of lock-time checks.
pub const SEQUENCE_FINAL: u32 = 0xffff_ffff;
/// BIP68: relative lock time disabled for this input.
pub const SEQUENCE_LOCKTIME_DISABLE_FLAG: u32 = 1 << 31;
/// BIP68: relative lock time counts 512-second units rather than blocks.
pub const SEQUENCE_LOCKTIME_TYPE_FLAG: u32 = 1 << 22;
/// BIP68: the bits of the sequence holding the relative lock time.
pub const SEQUENCE_LOCKTIME_MASK: u32 = 0x0000_ffff;

/// What the interpreter needs to know about the transaction that spends the script.
///
/// The defaults fail every check, like Bitcoin Core's `BaseSignatureChecker`: a checker that has
/// no transaction can run scripts that contain no signature or lock-time operations.
pub trait SignatureChecker {
    /// Whether `sig` (DER signature followed by one hash-type byte) is a valid signature by
    /// `pubkey` over this input's signature hash computed with `script_code`. Returning `false`
    /// means "the signature does not verify"; the interpreter decides whether that fails the
    /// script (CHECKSIGVERIFY, NULLFAIL) or pushes false (CHECKSIG).
    fn check_ecdsa_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &Script) -> bool {
        let _ = (sig, pubkey, script_code);
        false
    }

    /// BIP65: whether the spending transaction's lock time satisfies `lock_time` (a non-negative
    /// script number of up to 5 bytes). See [`lock_time_satisfied`].
    fn check_lock_time(&self, lock_time: i64) -> bool {
        let _ = lock_time;
        false
    }

    /// BIP112: whether the spending input's relative lock time satisfies `sequence` (a
    /// non-negative script number of up to 5 bytes, disable flag clear). See [`sequence_satisfied`].
    fn check_sequence(&self, sequence: i64) -> bool {
        let _ = sequence;
        false
    }
}

/// A checker with no transaction: every signature and lock-time check fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSignatureChecker;

impl SignatureChecker for NoSignatureChecker {}

impl<T: SignatureChecker + ?Sized> SignatureChecker for &T {
    fn check_ecdsa_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &Script) -> bool {
        (**self).check_ecdsa_signature(sig, pubkey, script_code)
    }
    fn check_lock_time(&self, lock_time: i64) -> bool {
        (**self).check_lock_time(lock_time)
    }
    fn check_sequence(&self, sequence: i64) -> bool {
        (**self).check_sequence(sequence)
    }
}

/// BIP65 comparison, as Bitcoin Core's `CheckLockTime`: the script's and the transaction's lock
/// times must be of the same kind (height or time), the script's must not be later, and the
/// input must not be final (a final input would let the transaction ignore its lock time).
pub fn lock_time_satisfied(script_lock_time: i64, tx_lock_time: u32, input_sequence: u32) -> bool {
    let tx_lock_time = i64::from(tx_lock_time);
    let same_kind = (tx_lock_time < LOCKTIME_THRESHOLD) == (script_lock_time < LOCKTIME_THRESHOLD);
    same_kind && script_lock_time <= tx_lock_time && input_sequence != SEQUENCE_FINAL
}

/// BIP112 comparison, as Bitcoin Core's `CheckSequence`: the transaction must be version 2 or
/// later, the input's relative lock must be enabled, of the same kind (blocks or time) as the
/// script's, and not shorter.
pub fn sequence_satisfied(script_sequence: i64, tx_version: u32, input_sequence: u32) -> bool {
    if tx_version < 2 || input_sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
        return false;
    }
    let mask = i64::from(SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK);
    let type_flag = i64::from(SEQUENCE_LOCKTIME_TYPE_FLAG);
    let tx_masked = i64::from(input_sequence) & mask;
    let script_masked = script_sequence & mask;
    let same_kind = (tx_masked < type_flag) == (script_masked < type_flag);
    same_kind && script_masked <= tx_masked
}

/// BIP66 strict DER: `0x30 len 0x02 lenR R 0x02 lenS S hashtype` with minimal, positive R and S.
/// `sig` includes the hash-type byte.
pub fn is_valid_signature_encoding(sig: &[u8]) -> bool {
    let n = sig.len();
    if !(9..=73).contains(&n) || sig[0] != 0x30 || usize::from(sig[1]) != n - 3 {
        return false;
    }
    let len_r = usize::from(sig[3]);
    if 5 + len_r >= n {
        return false;
    }
    let len_s = usize::from(sig[5 + len_r]);
    if len_r + len_s + 7 != n {
        return false;
    }
    let r_ok = sig[2] == 0x02
        && len_r != 0
        && sig[4] & 0x80 == 0
        && !(len_r > 1 && sig[4] == 0 && sig[5] & 0x80 == 0);
    let s_ok = sig[len_r + 4] == 0x02
        && len_s != 0
        && sig[len_r + 6] & 0x80 == 0
        && !(len_s > 1 && sig[len_r + 6] == 0 && sig[len_r + 7] & 0x80 == 0);
    r_ok && s_ok
}

/// secp256k1's group order n, big-endian.
const CURVE_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
/// n / 2, big-endian.
const HALF_CURVE_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// A DER integer as a 32-byte big-endian scalar, or `None` if it does not fit in 32 bytes.
fn der_int_to_be32(int: &[u8]) -> Option<[u8; 32]> {
    let start = int.iter().position(|&b| b != 0).unwrap_or(int.len());
    let int = &int[start..];
    let mut out = [0u8; 32];
    out.get_mut(32usize.checked_sub(int.len())?..)?
        .copy_from_slice(int);
    Some(out)
}

/// BIP146 LOW_S, as Bitcoin Core's `CPubKey::CheckLowS` after a strict-DER check: S must not
/// exceed n/2. `sig` is a strictly DER-encoded signature *with* its hash-type byte. A signature
/// whose R or S overflows the group order parses as zero in libsecp256k1's lax parser and so
/// counts as low, as in Core.
pub fn is_low_der_signature(sig: &[u8]) -> bool {
    let len_r = usize::from(sig[3]);
    let r = &sig[4..4 + len_r];
    let len_s = usize::from(sig[5 + len_r]);
    let s = &sig[6 + len_r..6 + len_r + len_s];
    match (der_int_to_be32(r), der_int_to_be32(s)) {
        (Some(r), Some(s)) if r < CURVE_ORDER && s < CURVE_ORDER => s <= HALF_CURVE_ORDER,
        _ => true,
    }
}

/// STRICTENC: the hash type (last byte, without ANYONECANPAY) is ALL, NONE or SINGLE.
pub fn is_defined_hashtype_signature(sig: &[u8]) -> bool {
    match sig.last() {
        Some(&b) => (SIGHASH_ALL..=SIGHASH_SINGLE).contains(&(b & !SIGHASH_ANYONECANPAY)),
        None => false,
    }
}

/// STRICTENC: a 33-byte compressed (`02`/`03`) or 65-byte uncompressed (`04`) public key.
pub fn is_compressed_or_uncompressed_pubkey(pubkey: &[u8]) -> bool {
    match pubkey.first() {
        Some(0x04) => pubkey.len() == 65,
        Some(0x02 | 0x03) => pubkey.len() == 33,
        _ => false,
    }
}

/// Verifies an ECDSA signature exactly as Bitcoin Core's `CPubKey::Verify`: the public key may be
/// compressed, uncompressed or hybrid; the signature (DER, *without* the hash-type byte) is parsed
/// with libsecp256k1's lax DER parser and normalised to low S before verification, so encoding
/// strictness is left to the interpreter's flags.
pub fn verify_ecdsa(der_sig: &[u8], pubkey: &[u8], sighash: &[u8; 32]) -> bool {
    let Ok(pubkey) = PublicKey::from_slice(pubkey) else {
        return false;
    };
    let Ok(mut sig) = ecdsa::Signature::from_der_lax(der_sig) else {
        return false;
    };
    sig.normalize_s();
    ecdsa::verify(&sig, Message::from_digest(*sighash), &pubkey).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut v = vec![0x30, (4 + r.len() + s.len()) as u8, 0x02, r.len() as u8];
        v.extend_from_slice(r);
        v.extend_from_slice(&[0x02, s.len() as u8]);
        v.extend_from_slice(s);
        v.push(SIGHASH_ALL);
        v
    }

    #[test]
    fn strict_der_rules() {
        assert!(is_valid_signature_encoding(&der(&[1], &[1])));
        assert!(
            !is_valid_signature_encoding(&der(&[0x80], &[1])),
            "negative R"
        );
        assert!(is_valid_signature_encoding(&der(&[0, 0x80], &[1])));
        assert!(
            !is_valid_signature_encoding(&der(&[0, 0x7f], &[1])),
            "padded R"
        );
        assert!(
            !is_valid_signature_encoding(&der(&[1], &[0, 1])),
            "padded S"
        );
        assert!(!is_valid_signature_encoding(&der(&[], &[1])), "empty R");
        let mut wrong_len = der(&[1], &[1]);
        wrong_len[1] += 1;
        assert!(!is_valid_signature_encoding(&wrong_len));
        assert!(!is_valid_signature_encoding(&[0x30; 74]));
    }

    #[test]
    fn low_s_boundary_is_half_the_order() {
        assert!(is_low_der_signature(&der(&[1], &HALF_CURVE_ORDER)));
        let mut above = HALF_CURVE_ORDER;
        above[31] += 1;
        let mut above_der = vec![0];
        above_der.extend_from_slice(&above);
        assert!(!is_low_der_signature(&der(&[1], &above)));
        // S >= n parses as zero in the lax parser: counted as low, as in Core.
        let mut order = vec![0];
        order.extend_from_slice(&CURVE_ORDER);
        assert!(is_low_der_signature(&der(&[1], &order)));
    }

    #[test]
    fn hashtypes_and_pubkey_forms() {
        assert!(is_defined_hashtype_signature(&[0x30, 0x81]));
        assert!(is_defined_hashtype_signature(&[0x30, 0x03]));
        assert!(!is_defined_hashtype_signature(&[0x30, 0x04]));
        assert!(!is_defined_hashtype_signature(&[0x30, 0x00]));
        assert!(is_compressed_or_uncompressed_pubkey(&[0x02; 33]));
        assert!(
            !is_compressed_or_uncompressed_pubkey(&[0x06; 65]),
            "hybrid keys are not STRICTENC"
        );
        assert!(!is_compressed_or_uncompressed_pubkey(&[0x04; 33]));
    }

    #[test]
    fn lock_time_rules() {
        assert!(lock_time_satisfied(100, 100, 0));
        assert!(!lock_time_satisfied(101, 100, 0));
        assert!(!lock_time_satisfied(100, 100, SEQUENCE_FINAL));
        assert!(!lock_time_satisfied(100, 600_000_000, 0), "height vs time");
        assert!(lock_time_satisfied(500_000_000, 600_000_000, 0));
    }

    #[test]
    fn sequence_rules() {
        assert!(sequence_satisfied(10, 2, 10));
        assert!(!sequence_satisfied(10, 1, 10), "version 1");
        assert!(!sequence_satisfied(11, 2, 10));
        assert!(!sequence_satisfied(
            10,
            2,
            10 | SEQUENCE_LOCKTIME_DISABLE_FLAG
        ));
        let time = i64::from(SEQUENCE_LOCKTIME_TYPE_FLAG);
        assert!(!sequence_satisfied(time | 1, 2, 5), "time vs blocks");
        assert!(sequence_satisfied(
            time | 1,
            2,
            SEQUENCE_LOCKTIME_TYPE_FLAG | 1
        ));
    }
}
