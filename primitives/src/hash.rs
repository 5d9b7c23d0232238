//! 32-byte hash newtypes ([`Txid`], [`BlockHash`], [`Hash256`], [`ContractAddress`]) and the
//! chain's hash function, [`sha256d`].
//!
//! # Byte order
//! Every hash is shown and parsed as lowercase hex **in natural byte order**: the first byte of
//! the digest is the first two hex digits. This is *not* Bitcoin's convention, which prints txids
//! and block hashes byte-reversed (because Bitcoin reads the digest as a little-endian number).
//! Here the proof-of-work comparison reads the digest as a big-endian number instead (see
//! [`crate::pow::hash_meets_target`]), so a block hash that meets a hard target still *shows* its
//! leading zeros, exactly as it is stored and hashed.

use core::{fmt, str::FromStr};

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Double SHA-256, the hash of transactions, headers and merkle nodes.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// A string that is not a 64-digit hex hash.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParseHashError {
    /// The string does not have 64 characters.
    #[error("a hash is 64 hex digits, got {got} characters")]
    InvalidLength {
        /// Length of the string, in bytes.
        got: usize,
    },
    /// A character is not a hex digit.
    #[error("invalid hex digit in hash: {0}")]
    InvalidHex(#[from] hex::FromHexError),
    /// A hex digit is uppercase: only the canonical lowercase form parses, so one hash has
    /// exactly one spelling (and one cache key, one log line, one RPC argument).
    #[error("hashes are lowercase hex; found an uppercase digit")]
    Uppercase,
}

/// Parses 64 lowercase hex digits.
fn parse_hex32(s: &str) -> Result<[u8; 32], ParseHashError> {
    if s.len() != 64 {
        return Err(ParseHashError::InvalidLength { got: s.len() });
    }
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ParseHashError::Uppercase);
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)?;
    Ok(out)
}

/// Defines a 32-byte newtype with the hash API: constants, conversions, hex `Display` /
/// `FromStr` / `Debug`, hex-string serde and raw 32-byte SCALE encoding.
macro_rules! hash_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// Displays, parses and serializes (serde) as 64 lowercase hex digits in natural byte
        /// order (not reversed as in Bitcoin; see the [module docs](crate::hash)); SCALE-encodes
        /// as the raw 32 bytes. Ordered bytewise, which is also big-endian numeric order.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
        pub struct $name([u8; 32]);

        impl $name {
            /// All 32 bytes zero.
            pub const ZERO: Self = Self([0; 32]);

            /// Wraps 32 bytes.
            pub const fn from_byte_array(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The 32 bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// The 32 bytes, by value.
            pub const fn to_byte_array(self) -> [u8; 32] {
                self.0
            }

            /// Whether all bytes are zero.
            pub fn is_zero(&self) -> bool {
                self.0 == [0; 32]
            }
        }

        impl From<[u8; 32]> for $name {
            fn from(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }
        }

        impl From<$name> for [u8; 32] {
            fn from(hash: $name) -> Self {
                hash.0
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; 64];
                // Cannot fail: the buffer is exactly twice the input length.
                hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
                // Hex digits are ASCII.
                f.write_str(core::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = ParseHashError;

            /// Parses 64 lowercase hex digits in natural byte order.
            fn from_str(s: &str) -> Result<Self, ParseHashError> {
                parse_hex32(s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::serde_hex::deserialize_from_str(deserializer)
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Hash".into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                crate::schema::hash32()
            }
        }
    };
}

hash_newtype! {
    /// A transaction id: [`sha256d`] of the SCALE encoding of the whole transaction (inputs'
    /// `script_sig` included; malleability is closed by the consensus script flags instead).
    Txid
}

hash_newtype! {
    /// A block hash: [`sha256d`] of the SCALE encoding of the block header.
    BlockHash
}

hash_newtype! {
    /// A generic 32-byte hash: merkle roots, state roots, chain ids.
    Hash256
}

hash_newtype! {
    /// The address of a contract account: 32 bytes derived deterministically from the deployer,
    /// the code hash and a salt (the derivation belongs to the contract executor). Users see
    /// contract addresses in bech32m; this type's hex form is the raw, unambiguous one used in
    /// logs and JSON.
    ContractAddress
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256d_of_empty_input_matches_the_known_digest() {
        assert_eq!(
            hex::encode(sha256d(b"")),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }

    #[test]
    fn display_and_parse_use_natural_byte_order() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[31] = 0x01;
        let txid = Txid::from_byte_array(bytes);
        let s = txid.to_string();
        assert_eq!(
            s,
            "ab00000000000000000000000000000000000000000000000000000000000001"
        );
        assert_eq!(s.parse::<Txid>(), Ok(txid));
        assert_eq!(format!("{txid:?}"), format!("Txid({s})"));
    }

    #[test]
    fn parse_rejects_wrong_length_bad_digits_and_uppercase() {
        assert_eq!(
            "00".parse::<BlockHash>(),
            Err(ParseHashError::InvalidLength { got: 2 })
        );
        let bad_digit = format!("{}g", "0".repeat(63));
        assert!(matches!(
            bad_digit.parse::<BlockHash>(),
            Err(ParseHashError::InvalidHex(_))
        ));
        let upper = format!("{}A", "0".repeat(63));
        assert_eq!(upper.parse::<Hash256>(), Err(ParseHashError::Uppercase));
        // A multi-byte character makes the byte length right but is still rejected.
        let multibyte = format!("{}é", "0".repeat(62));
        assert!(multibyte.parse::<Hash256>().is_err());
    }

    #[test]
    fn serde_uses_hex_strings_and_scale_uses_raw_bytes() {
        let h = Hash256::from_byte_array([0x11; 32]);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{}\"", "11".repeat(32)));
        assert_eq!(serde_json::from_str::<Hash256>(&json).unwrap(), h);
        assert!(serde_json::from_str::<Hash256>("\"11\"").is_err());
        assert!(serde_json::from_str::<Hash256>("17").is_err());
        assert_eq!(h.encode(), vec![0x11; 32]);
        assert_eq!(Hash256::decode(&mut &[0x11; 32][..]), Ok(h));
    }

    #[test]
    fn ordering_is_big_endian_numeric() {
        let mut low = [0u8; 32];
        low[31] = 0xff;
        let mut high = [0u8; 32];
        high[0] = 0x01;
        assert!(BlockHash::from_byte_array(low) < BlockHash::from_byte_array(high));
        assert!(BlockHash::ZERO.is_zero());
    }
}
