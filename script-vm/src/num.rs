//! Script numbers: Bitcoin's little-endian sign-magnitude integers.
//!
//! Operands of numeric opcodes are at most 4 bytes (5 for CHECKLOCKTIMEVERIFY and
//! CHECKSEQUENCEVERIFY), but results may be longer: `0x7fffffff 1ADD` leaves a 5-byte number that
//! is a valid stack item yet fails as the next operand. Zero is the empty array; "negative zero"
//! (`0x80`) and other padded encodings are accepted unless MINIMALDATA asks for the shortest form.

use thiserror::Error;

/// Why bytes could not be read as a script number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ScriptNumError {
    /// More bytes than the operand may have.
    #[error("script number of {len} bytes exceeds the {max}-byte limit")]
    Overflow {
        /// Length of the encoding.
        len: usize,
        /// Maximum allowed length.
        max: usize,
    },
    /// MINIMALDATA: the encoding has a needless zero (or sign-only) byte.
    #[error("script number is not minimally encoded")]
    NonMinimal,
}

/// A script number. Values decoded from operands fit in 40 bits; results of arithmetic on
/// 4-byte operands fit in 33 bits, so `i64` never overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ScriptNum(pub i64);

impl ScriptNum {
    /// Operand size limit of arithmetic opcodes.
    pub const DEFAULT_MAX_SIZE: usize = 4;
    /// Operand size limit of CHECKLOCKTIMEVERIFY / CHECKSEQUENCEVERIFY.
    pub const LOCKTIME_MAX_SIZE: usize = 5;

    /// Decodes `bytes` as a number of at most `max_size` bytes.
    ///
    /// # Errors
    /// [`ScriptNumError::Overflow`] if `bytes` is longer than `max_size`;
    /// [`ScriptNumError::NonMinimal`] if `require_minimal` and the encoding is padded.
    pub fn decode(
        bytes: &[u8],
        require_minimal: bool,
        max_size: usize,
    ) -> Result<Self, ScriptNumError> {
        if bytes.len() > max_size {
            return Err(ScriptNumError::Overflow {
                len: bytes.len(),
                max: max_size,
            });
        }
        if require_minimal && !is_minimally_encoded(bytes) {
            return Err(ScriptNumError::NonMinimal);
        }
        Ok(ScriptNum(decode_unchecked(bytes)))
    }

    /// The value.
    #[inline]
    pub const fn value(self) -> i64 {
        self.0
    }

    /// The value clamped to `i32`, as Bitcoin Core's `CScriptNum::getint`.
    #[inline]
    pub fn to_i32_saturating(self) -> i32 {
        self.0.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }

    /// The minimal encoding.
    pub fn encode(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9);
        self.encode_into(&mut out);
        out
    }

    /// Appends the minimal encoding to `out`.
    pub fn encode_into(self, out: &mut Vec<u8>) {
        if self.0 == 0 {
            return;
        }
        let negative = self.0 < 0;
        let mut abs = self.0.unsigned_abs();
        while abs > 0 {
            out.push((abs & 0xff) as u8);
            abs >>= 8;
        }
        // The top bit carries the sign: if the magnitude already uses it, add a sign byte.
        let last = out.len() - 1;
        if out[last] & 0x80 != 0 {
            out.push(if negative { 0x80 } else { 0x00 });
        } else if negative {
            out[last] |= 0x80;
        }
    }
}

/// Whether `bytes` is the shortest encoding of its value (the MINIMALDATA rule for numbers).
pub fn is_minimally_encoded(bytes: &[u8]) -> bool {
    match bytes {
        [] => true,
        // The last byte may only be 0x00 or 0x80 if the byte before needs its top bit for magnitude.
        [.., last] if last & 0x7f != 0 => true,
        [_] => false,
        [.., before, _] => before & 0x80 != 0,
    }
}

fn decode_unchecked(bytes: &[u8]) -> i64 {
    let Some((&last, _)) = bytes.split_last() else {
        return 0;
    };
    // At most 8 bytes reach here in practice (callers cap at 5); cap defensively.
    let mut result: i64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(8) {
        result |= i64::from(b) << (8 * i);
    }
    if last & 0x80 != 0 {
        let sign_bit = 0x80_i64 << (8 * (bytes.len().min(8) - 1));
        -(result & !sign_bit)
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: i64) {
        let enc = ScriptNum(v).encode();
        assert!(is_minimally_encoded(&enc), "{v} -> {enc:02x?}");
        assert_eq!(
            ScriptNum::decode(&enc, true, 9).unwrap().value(),
            v,
            "{enc:02x?}"
        );
    }

    #[test]
    fn encodings_match_bitcoin() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[]),
            (1, &[0x01]),
            (-1, &[0x81]),
            (127, &[0x7f]),
            (128, &[0x80, 0x00]),
            (-128, &[0x80, 0x80]),
            (255, &[0xff, 0x00]),
            (256, &[0x00, 0x01]),
            (-255, &[0xff, 0x80]),
            (0x7fff_ffff, &[0xff, 0xff, 0xff, 0x7f]),
            (-0x7fff_ffff, &[0xff, 0xff, 0xff, 0xff]),
            (0x8000_0000, &[0x00, 0x00, 0x00, 0x80, 0x00]),
        ];
        for (v, bytes) in cases {
            assert_eq!(ScriptNum(*v).encode(), *bytes, "{v}");
            assert_eq!(ScriptNum::decode(bytes, true, 5).unwrap().value(), *v);
        }
    }

    #[test]
    fn round_trips_across_the_range() {
        for v in [
            -1i64 << 39,
            -(1 << 31),
            -65536,
            -257,
            -1,
            0,
            1,
            16,
            17,
            0xffff,
            1 << 31,
            (1 << 39) - 1,
        ] {
            round_trip(v);
        }
        for v in (-70_000..70_000).step_by(7) {
            round_trip(v);
        }
    }

    #[test]
    fn negative_zero_and_padding_decode_but_are_not_minimal() {
        for bytes in [
            &[0x80][..],
            &[0x00],
            &[0x00, 0x80],
            &[0x01, 0x00],
            &[0xff, 0x00, 0x00],
        ] {
            assert!(!is_minimally_encoded(bytes), "{bytes:02x?}");
            assert_eq!(
                ScriptNum::decode(bytes, true, 4),
                Err(ScriptNumError::NonMinimal)
            );
            assert!(ScriptNum::decode(bytes, false, 4).is_ok());
        }
        assert_eq!(ScriptNum::decode(&[0x80], false, 4).unwrap().value(), 0);
        assert_eq!(
            ScriptNum::decode(&[0x00, 0x80], false, 4).unwrap().value(),
            0
        );
        assert_eq!(
            ScriptNum::decode(&[0x01, 0x80], false, 4).unwrap().value(),
            -1
        );
    }

    #[test]
    fn operand_size_limits() {
        assert_eq!(
            ScriptNum::decode(&[1, 2, 3, 4, 5], false, 4),
            Err(ScriptNumError::Overflow { len: 5, max: 4 })
        );
        assert_eq!(
            ScriptNum::decode(&[0xff, 0xff, 0xff, 0xff, 0x7f], false, 5)
                .unwrap()
                .value(),
            (1 << 39) - 1
        );
    }

    #[test]
    fn getint_saturates() {
        assert_eq!(ScriptNum(1 << 35).to_i32_saturating(), i32::MAX);
        assert_eq!(ScriptNum(-(1 << 35)).to_i32_saturating(), i32::MIN);
        assert_eq!(ScriptNum(-5).to_i32_saturating(), -5);
    }
}
