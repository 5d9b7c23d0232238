//! Proof-of-work arithmetic: Bitcoin's compact target encoding (`nBits`), the target check and
//! chain work.
//!
//! Targets are 256-bit unsigned numbers held as 32 **big-endian** bytes. A block hash meets a
//! target when the hash, read as a big-endian number, is at most the target
//! ([`hash_meets_target`]). Bitcoin reads the digest as little-endian instead and therefore prints
//! hashes reversed; reading it big-endian lets this chain print hashes in natural byte order (see
//! [`crate::hash`]) and still see a hard-won hash start with zeros. The two conventions are
//! equally strong: each compares all 256 bits of the digest.
//!
//! 256-bit arithmetic (chain work) uses [`U256`], built with the `uint` crate's
//! `construct_uint!` from parity-common: the same macro and arithmetic that back
//! `primitive-types::U256` (Substrate, Ethereum clients), without `primitive-types`' codec, serde,
//! RLP and scale-info glue. The type is local to this crate, so codec impls can be added where
//! chain work is stored. (`ruint` was the other candidate; its optional integrations put about a
//! hundred crates into `Cargo.lock`.)

pub use u256::U256;

mod u256 {
    // Generated code, documented and linted upstream in the `uint` crate: some generated methods
    // carry no doc comment, and its bit-length helper spells out `div_ceil`.
    #![allow(missing_docs, clippy::manual_div_ceil)]

    uint::construct_uint! {
        /// An unsigned 256-bit integer (four 64-bit limbs, little-endian limb order). Used for
        /// targets and chain work; bytes go in and out big-endian (`from_big_endian`,
        /// `to_big_endian`).
        pub struct U256(4);
    }
}

use crate::hash::BlockHash;

/// Decodes Bitcoin's compact target encoding (`nBits`, Bitcoin Core's `arith_uint256::SetCompact`):
/// the top byte is a length in bytes, the low 23 bits a mantissa, bit 23 a sign.
///
/// Returns `None` for what Core flags as negative (sign bit set with a non-zero mantissa) or
/// overflowing (the value does not fit in 256 bits). A zero target decodes to `Some` of zeros; it
/// is valid as an encoding but no engine accepts it (only the zero hash would meet it, and
/// [`work_from_target`] gives it no work).
pub fn compact_to_target(bits: u32) -> Option<[u8; 32]> {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    if size <= 3 {
        // As in Core, the sign and overflow checks look at the mantissa after this shift.
        word >>= 8 * (3 - size);
    }
    if word == 0 {
        return Some([0; 32]);
    }
    let negative = bits & 0x0080_0000 != 0;
    let overflow = size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32);
    if negative || overflow {
        return None;
    }
    let value = if size <= 3 {
        U256::from(word)
    } else {
        // Fits: the overflow rules above leave at most 256 significant bits.
        U256::from(word) << (8 * (size as usize - 3))
    };
    Some(value.to_big_endian())
}

/// Encodes a target in compact form (Bitcoin Core's `arith_uint256::GetCompact`), keeping its
/// three most significant bytes: [`compact_to_target`] of the result is the target rounded down
/// to that precision. The result never has the sign bit set.
pub fn target_to_compact(target: &[u8; 32]) -> u32 {
    let Some(first) = target.iter().position(|&b| b != 0) else {
        return 0;
    };
    let byte = |i: usize| u32::from(target.get(i).copied().unwrap_or(0));
    let mut size = (32 - first) as u32;
    let mut mantissa = (byte(first) << 16) | (byte(first + 1) << 8) | byte(first + 2);
    if mantissa & 0x0080_0000 != 0 {
        // The top bit would read as a sign: move one byte into the exponent.
        mantissa >>= 8;
        size += 1;
    }
    (size << 24) | mantissa
}

/// Whether `hash`, read as a 256-bit big-endian number, is at most `target` (see the module docs
/// for why big-endian).
pub fn hash_meets_target(hash: &BlockHash, target: &[u8; 32]) -> bool {
    // Bytewise comparison of equal-length arrays is big-endian numeric comparison.
    hash.as_bytes() <= target
}

/// The expected number of hashes to find a block at `target`: ⌊2^256 / (target + 1)⌋, computed
/// as Bitcoin Core's `GetBlockProof` does (`~target / (target + 1) + 1`) so 2^256 never needs to
/// be represented. Chain work is the sum of this over the chain. A zero target has zero work
/// (it is invalid, and its work would not fit in 256 bits).
pub fn work_from_target(target: &[u8; 32]) -> U256 {
    let target = U256::from_big_endian(target);
    if target.is_zero() {
        return U256::zero();
    }
    match target.checked_add(U256::one()) {
        // The divisor is non-zero and `!target / divisor < 2^256 - 1`, so neither the division
        // nor the increment can panic.
        Some(divisor) => (!target / divisor) + U256::one(),
        // target = 2^256 - 1: exactly one expected hash.
        None => U256::one(),
    }
}

/// [`work_from_target`] of a compact target, or `None` if the compact value is negative,
/// overflows or is zero.
pub fn work_from_compact(bits: u32) -> Option<U256> {
    let target = compact_to_target(bits)?;
    let work = work_from_target(&target);
    (!work.is_zero()).then_some(work)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn target_hex(bits: u32) -> Option<String> {
        compact_to_target(bits).map(hex::encode)
    }

    /// `value` as a 32-byte big-endian target.
    fn target_of(value: u128) -> [u8; 32] {
        U256::from(value).to_big_endian()
    }

    #[test]
    fn bitcoin_genesis_bits_decode_to_the_difficulty_one_target() {
        assert_eq!(
            target_hex(0x1d00ffff).unwrap(),
            "00000000ffff0000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(
            target_to_compact(&compact_to_target(0x1d00ffff).unwrap()),
            0x1d00ffff
        );
    }

    #[test]
    fn bitcoin_core_set_compact_vectors_decode_as_in_core() {
        // From Bitcoin Core's src/test/arith_uint256_tests.cpp (`bignum_SetCompact`): the
        // decoded value and Core's GetCompact of it. Negative and overflowing values are None.
        let cases: &[(u32, Option<u128>, u32)] = &[
            (0x0000_0000, Some(0), 0),
            (0x0012_3456, Some(0), 0),
            (0x0100_3456, Some(0), 0),
            (0x0200_0056, Some(0), 0),
            (0x0300_0000, Some(0), 0),
            (0x0400_0000, Some(0), 0),
            (0x0092_3456, Some(0), 0),
            (0x0180_3456, Some(0), 0),
            (0x0280_0056, Some(0), 0),
            (0x0380_0000, Some(0), 0),
            (0x0480_0000, Some(0), 0),
            (0x0112_3456, Some(0x12), 0x0112_0000),
            (0x0200_8000, Some(0x80), 0x0200_8000),
            (0x01fe_dcba, None, 0),
            (0x0212_3456, Some(0x1234), 0x0212_3400),
            (0x0312_3456, Some(0x12_3456), 0x0312_3456),
            (0x0412_3456, Some(0x1234_5600), 0x0412_3456),
            (0x0492_3456, None, 0),
            (0x0500_9234, Some(0x9234_0000), 0x0500_9234),
        ];
        for &(bits, value, compact) in cases {
            let got = compact_to_target(bits);
            assert_eq!(got, value.map(target_of), "bits {bits:#010x}");
            if let Some(target) = got {
                assert_eq!(target_to_compact(&target), compact, "bits {bits:#010x}");
            }
        }
        // 0x20123456: 0x123456 followed by 29 zero bytes.
        let mut expected = [0u8; 32];
        expected[..3].copy_from_slice(&[0x12, 0x34, 0x56]);
        assert_eq!(compact_to_target(0x2012_3456), Some(expected));
        assert_eq!(target_to_compact(&expected), 0x2012_3456);
        assert_eq!(compact_to_target(0xff12_3456), None, "overflow");
    }

    #[test]
    fn overflow_rules_match_core_at_the_boundaries() {
        assert!(
            compact_to_target(0x2100_ffff).is_some(),
            "33 bytes, 2-byte mantissa"
        );
        assert_eq!(compact_to_target(0x2101_0000), None);
        assert!(
            compact_to_target(0x2200_00ff).is_some(),
            "34 bytes, 1-byte mantissa"
        );
        assert_eq!(compact_to_target(0x2200_0100), None);
        assert_eq!(compact_to_target(0x2300_0001), None);
        assert_eq!(
            compact_to_target(0xff00_0000),
            Some([0; 32]),
            "zero mantissa"
        );
        let mut top = [0u8; 32];
        top[0] = 0xff;
        assert_eq!(compact_to_target(0x2200_00ff), Some(top));
    }

    #[test]
    fn hashes_compare_as_big_endian_numbers() {
        let target = compact_to_target(0x1d00ffff).unwrap();
        // Bitcoin's genesis block hash as Bitcoin prints it (reversed), i.e. as a big-endian number.
        let genesis: BlockHash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
            .parse()
            .unwrap();
        assert!(hash_meets_target(&genesis, &target));
        assert!(
            hash_meets_target(&BlockHash::from_byte_array(target), &target),
            "equal meets"
        );
        let mut above = target;
        above[31] = 1;
        assert!(!hash_meets_target(
            &BlockHash::from_byte_array(above),
            &target
        ));
        let mut reversed = *genesis.as_bytes();
        reversed.reverse();
        assert!(
            !hash_meets_target(&BlockHash::from_byte_array(reversed), &target),
            "the little-endian reading of the same bytes is a different number"
        );
    }

    #[test]
    fn work_is_two_to_the_256_over_target_plus_one() {
        // Bitcoin's genesis chainwork: 0x100010001.
        assert_eq!(
            work_from_compact(0x1d00ffff),
            Some(U256::from(0x1_0001_0001u64))
        );
        assert_eq!(work_from_target(&[0xff; 32]), U256::one());
        assert_eq!(work_from_target(&[0; 32]), U256::zero());
        assert_eq!(work_from_target(&target_of(1)), U256::one() << 255);
        assert_eq!(work_from_target(&target_of(2)), U256::MAX / U256::from(3u8));
        assert_eq!(work_from_compact(0), None);
        assert_eq!(work_from_compact(0x0492_3456), None);
        // A harder target means more work.
        assert!(work_from_compact(0x1c00ffff) > work_from_compact(0x1d00ffff));
    }

    proptest! {
        #[test]
        fn compact_round_trip_rounds_down_to_three_significant_bytes(target in any::<[u8; 32]>()) {
            let compact = target_to_compact(&target);
            let decoded = compact_to_target(compact);
            prop_assert!(decoded.is_some());
            let decoded = decoded.unwrap_or_default();
            prop_assert!(decoded <= target);
            prop_assert_eq!(target_to_compact(&decoded), compact);
            // Equal in the first three significant bytes (two if the first has its top bit set,
            // since the mantissa's top bit would be the sign).
            if let Some(first) = target.iter().position(|&b| b != 0) {
                let kept = if target[first] & 0x80 != 0 { 2 } else { 3 };
                let end = (first + kept).min(32);
                prop_assert_eq!(&decoded[..end], &target[..end]);
                prop_assert!(decoded[end..].iter().all(|&b| b == 0));
            }
        }
    }
}
