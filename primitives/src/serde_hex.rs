//! Serde helpers for the JSON (RPC) form: byte strings, fixed-size keys and scripts as lowercase
//! hex strings. Used through `#[serde(with = "...")]`; SCALE is unaffected.

use core::{fmt, marker::PhantomData, str::FromStr};

use i8o8i_script_vm::ScriptBuf;
use serde::{Deserialize, Deserializer, Serializer, de};

/// Deserializes any `FromStr` type from a string, borrowed or owned.
pub(crate) fn deserialize_from_str<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    struct Visitor<T>(PhantomData<T>);
    impl<T: FromStr> de::Visitor<'_> for Visitor<T>
    where
        T::Err: fmt::Display,
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.parse().map_err(E::custom)
        }
    }
    deserializer.deserialize_str(Visitor(PhantomData))
}

/// Decodes lowercase (or mixed-case) hex into bytes.
fn decode_hex<E: de::Error>(s: &str) -> Result<Vec<u8>, E> {
    hex::decode(s).map_err(|e| E::custom(format_args!("invalid hex: {e}")))
}

/// Deserializes a hex string into bytes.
fn deserialize_hex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    struct Visitor;
    impl de::Visitor<'_> for Visitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a hex string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            decode_hex(v)
        }
    }
    deserializer.deserialize_str(Visitor)
}

/// `Vec<u8>` as a hex string.
pub mod bytes {
    use super::*;

    /// Serializes as lowercase hex.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    /// Deserializes from hex (either case).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        deserialize_hex(d)
    }
}

/// `Option<Vec<u8>>` as a hex string or `null`.
pub mod option_bytes {
    use super::*;

    /// Serializes as lowercase hex, or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&hex::encode(v)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes from hex (either case) or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Deserialize::deserialize(d)?;
        text.map(|t| decode_hex(&t)).transpose()
    }
}

/// [`ScriptBuf`] as a hex string.
pub mod script {
    use super::*;

    /// Serializes as lowercase hex.
    pub fn serialize<S: Serializer>(v: &ScriptBuf, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_hex())
    }

    /// Deserializes from hex (either case).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ScriptBuf, D::Error> {
        deserialize_hex(d).map(ScriptBuf::from_bytes)
    }
}

/// `[u8; N]` as a hex string of exactly `2 * N` digits (serde's own array support stops at 32).
pub mod array {
    use super::*;

    /// Serializes as lowercase hex.
    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    /// Deserializes from hex (either case).
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let bytes = deserialize_hex(d)?;
        let got = bytes.len();
        bytes.try_into().map_err(|_| {
            de::Error::custom(format_args!("expected {N} bytes of hex, got {got} bytes"))
        })
    }
}

/// `Vec<[u8; N]>` as an array of hex strings.
pub mod array_vec {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    struct Hex<const N: usize>(#[serde(with = "super::array")] [u8; N]);

    /// Serializes as lowercase hex.
    pub fn serialize<S: Serializer, const N: usize>(
        v: &[[u8; N]],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|k| Hex(*k)))
    }

    /// Deserializes from hex (either case).
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Vec<[u8; N]>, D::Error> {
        let v: Vec<Hex<N>> = Deserialize::deserialize(d)?;
        Ok(v.into_iter().map(|h| h.0).collect())
    }
}
