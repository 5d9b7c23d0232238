//! [`Amount`]: a quantity of I8O in base units, with checked arithmetic only.

use core::fmt;

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Base units in one I8O (10^8, like satoshis in a bitcoin).
pub const COIN: u64 = 100_000_000;

/// Number of decimal places in a coin amount.
pub const COIN_DECIMALS: usize = 8;

/// A quantity of I8O in base units (1 I8O = [`COIN`] units).
///
/// Arithmetic is checked only: there is no `Add` and, on purpose, no `Sum` (an unchecked fold
/// over outputs is how inflation bugs happen); use [`Amount::checked_sum`]. There are no floats
/// anywhere: [`Amount::from_coin_str`] and [`Amount::to_coin_string`] are exact.
///
/// Displays as the integer number of base units; serializes (serde) as a JSON integer of base
/// units and SCALE-encodes as a little-endian `u64`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Amount(u64);

/// A string that is not a coin amount with at most 8 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ParseAmountError {
    /// The string is empty, or one side of the decimal point is.
    #[error("empty amount or missing digits around the decimal point")]
    Empty,
    /// A character other than ASCII digits and one decimal point.
    #[error("invalid character {0:?} in amount")]
    InvalidCharacter(char),
    /// More than eight digits after the decimal point.
    #[error("amount has {got} decimals, at most 8 are allowed")]
    TooManyDecimals {
        /// Number of digits after the decimal point.
        got: usize,
    },
    /// The amount does not fit in a `u64` of base units.
    #[error("amount does not fit in 64 bits of base units")]
    Overflow,
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);
    /// One I8O.
    pub const ONE_COIN: Amount = Amount(COIN);
    /// The largest representable amount (not the maximum supply, which is in the chain spec).
    pub const MAX: Amount = Amount(u64::MAX);

    /// An amount of `units` base units.
    pub const fn from_units(units: u64) -> Amount {
        Amount(units)
    }

    /// The amount in base units.
    pub const fn to_units(self) -> u64 {
        self.0
    }

    /// `coins` whole I8O, or `None` on overflow.
    pub const fn from_coins(coins: u64) -> Option<Amount> {
        match coins.checked_mul(COIN) {
            Some(units) => Some(Amount(units)),
            None => None,
        }
    }

    /// `self + rhs`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, rhs: Amount) -> Option<Amount> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` if `rhs` is larger.
    #[must_use]
    pub const fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self * factor`, or `None` on overflow.
    #[must_use]
    pub const fn checked_mul(self, factor: u64) -> Option<Amount> {
        match self.0.checked_mul(factor) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// The sum of `amounts`, or `None` if it overflows at any step. This is the only way to sum
    /// amounts: `Amount` does not implement [`core::iter::Sum`].
    pub fn checked_sum<I: IntoIterator<Item = Amount>>(amounts: I) -> Option<Amount> {
        amounts
            .into_iter()
            .try_fold(Amount::ZERO, Amount::checked_add)
    }

    /// The amount in I8O with exactly eight decimals: `1234500000` units → `"12.34500000"`.
    pub fn to_coin_string(self) -> String {
        format!(
            "{}.{:0width$}",
            self.0 / COIN,
            self.0 % COIN,
            width = COIN_DECIMALS
        )
    }

    /// Parses an amount in I8O: ASCII digits with an optional decimal point followed by one to
    /// eight digits (`"21000000"`, `"1.5"`, `"0.00000001"`). No sign, exponent, whitespace or
    /// separators. Integer arithmetic only, so every accepted string is exact.
    ///
    /// # Errors
    /// [`ParseAmountError`] if the string is malformed, has more than 8 decimals or overflows.
    pub fn from_coin_str(s: &str) -> Result<Amount, ParseAmountError> {
        let (whole, frac) = match s.split_once('.') {
            Some((whole, frac)) => (whole, Some(frac)),
            None => (s, None),
        };
        let whole_units = parse_digits(whole)?
            .checked_mul(COIN)
            .ok_or(ParseAmountError::Overflow)?;
        let frac_units = match frac {
            None => 0,
            Some(frac) => {
                if let Some(c) = frac.chars().find(|c| !c.is_ascii_digit()) {
                    return Err(ParseAmountError::InvalidCharacter(c));
                }
                if frac.len() > COIN_DECIMALS {
                    return Err(ParseAmountError::TooManyDecimals { got: frac.len() });
                }
                let value = parse_digits(frac)?;
                // frac.len() is 1..=8, so the scale is a power of ten at most 10^7.
                let scale = 10u64.pow((COIN_DECIMALS - frac.len()) as u32);
                value * scale
            }
        };
        whole_units
            .checked_add(frac_units)
            .map(Amount)
            .ok_or(ParseAmountError::Overflow)
    }
}

/// Parses a non-empty run of ASCII digits into a `u64`.
fn parse_digits(s: &str) -> Result<u64, ParseAmountError> {
    if s.is_empty() {
        return Err(ParseAmountError::Empty);
    }
    s.chars().try_fold(0u64, |acc, c| {
        let d = c
            .to_digit(10)
            .ok_or(ParseAmountError::InvalidCharacter(c))?;
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u64::from(d)))
            .ok_or(ParseAmountError::Overflow)
    })
}

impl fmt::Display for Amount {
    /// The integer number of base units.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn overflow_returns_none() {
        assert_eq!(Amount::MAX.checked_add(Amount::from_units(1)), None);
        assert_eq!(Amount::ZERO.checked_sub(Amount::from_units(1)), None);
        assert_eq!(Amount::MAX.checked_mul(2), None);
        assert_eq!(Amount::from_coins(u64::MAX / COIN + 1), None);
        assert_eq!(
            Amount::checked_sum([Amount::MAX, Amount::from_units(1)]),
            None
        );
        assert_eq!(
            Amount::checked_sum([Amount::from_units(2), Amount::from_units(3)]),
            Some(Amount::from_units(5))
        );
        assert_eq!(Amount::checked_sum([]), Some(Amount::ZERO));
        assert_eq!(
            Amount::from_units(7).checked_mul(3),
            Some(Amount::from_units(21))
        );
    }

    #[test]
    fn coin_strings_parse_exactly() {
        assert_eq!(
            Amount::from_coin_str("21000000"),
            Ok(Amount::from_units(21_000_000 * COIN))
        );
        assert_eq!(
            Amount::from_coin_str("1.5"),
            Ok(Amount::from_units(150_000_000))
        );
        assert_eq!(
            Amount::from_coin_str("0.00000001"),
            Ok(Amount::from_units(1))
        );
        assert_eq!(
            Amount::from_coin_str("184467440737.09551615"),
            Ok(Amount::MAX)
        );
        assert_eq!(
            Amount::from_coin_str("007.10"),
            Ok(Amount::from_units(710_000_000))
        );
    }

    #[test]
    fn malformed_coin_strings_are_rejected() {
        assert_eq!(
            Amount::from_coin_str("0.000000001"),
            Err(ParseAmountError::TooManyDecimals { got: 9 })
        );
        assert_eq!(
            Amount::from_coin_str("0.1234567890123456789012345"),
            Err(ParseAmountError::TooManyDecimals { got: 25 })
        );
        assert_eq!(
            Amount::from_coin_str("184467440737.09551616"),
            Err(ParseAmountError::Overflow)
        );
        assert_eq!(
            Amount::from_coin_str("99999999999999999999"),
            Err(ParseAmountError::Overflow)
        );
        for empty in ["", ".", "1.", ".5"] {
            assert_eq!(
                Amount::from_coin_str(empty),
                Err(ParseAmountError::Empty),
                "{empty:?}"
            );
        }
        for (s, c) in [
            ("-1", '-'),
            ("+1", '+'),
            ("1e8", 'e'),
            (" 1", ' '),
            ("1.2.3", '.'),
            ("1,5", ','),
        ] {
            assert_eq!(
                Amount::from_coin_str(s),
                Err(ParseAmountError::InvalidCharacter(c)),
                "{s:?}"
            );
        }
        // Non-ASCII digits are not digits here.
        assert!(Amount::from_coin_str("١").is_err());
    }

    #[test]
    fn display_is_base_units_and_coin_string_has_eight_decimals() {
        let a = Amount::from_units(1_234_500_000);
        assert_eq!(a.to_string(), "1234500000");
        assert_eq!(a.to_coin_string(), "12.34500000");
        assert_eq!(Amount::ZERO.to_coin_string(), "0.00000000");
        assert_eq!(Amount::MAX.to_coin_string(), "184467440737.09551615");
    }

    #[test]
    fn serde_is_an_integer_and_scale_is_a_u64() {
        let a = Amount::from_units(42);
        assert_eq!(serde_json::to_string(&a).unwrap(), "42");
        assert_eq!(serde_json::from_str::<Amount>("42").unwrap(), a);
        assert!(serde_json::from_str::<Amount>("-1").is_err());
        assert!(serde_json::from_str::<Amount>("1.5").is_err());
        assert_eq!(a.encode(), 42u64.to_le_bytes());
    }

    proptest! {
        #[test]
        fn to_coin_string_round_trips(units in any::<u64>()) {
            let a = Amount::from_units(units);
            prop_assert_eq!(Amount::from_coin_str(&a.to_coin_string()), Ok(a));
        }
    }
}
