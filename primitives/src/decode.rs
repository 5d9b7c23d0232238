//! Strict SCALE decoding of untrusted bytes: a size cap checked before any work, a nesting-depth
//! limit, and no trailing bytes.

use parity_scale_codec::{Decode, DecodeLimit};
use thiserror::Error;

/// Maximum nesting depth of the codec's collection decoders (`Vec`, `Box`, ...) when decoding
/// untrusted bytes. The chain's types are not recursive (a block nests at most four levels:
/// block → transactions → inputs → script), so this only guards against future recursive types.
pub const MAX_DECODE_DEPTH: u32 = 16;

/// Bytes that are not the canonical SCALE encoding of the expected value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input is longer than the limit for this kind of value; nothing was decoded.
    #[error("{what} of {got} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Input length.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// A value decoded from a prefix of the input and bytes were left over.
    #[error("{what} is followed by {count} trailing bytes")]
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// Number of bytes left after the value.
        count: usize,
    },
    /// The codec rejected the input (truncated, bad enum tag, invalid UTF-8, too deep, ...).
    #[error("invalid {what} encoding: {message}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// The codec's message, with its cause chain flattened onto one line.
        message: String,
    },
}

/// Decodes exactly one `T` from all of `bytes` (what: its name in errors), as [`DecodeLimit::decode_all_with_depth_limit`]
/// does, but reports trailing bytes as their own error and refuses inputs over `max` bytes before
/// touching them. Never panics; the codec preallocates at most what the remaining input could
/// hold, so a huge length prefix fails on the first missing byte instead of allocating.
///
/// # Errors
/// [`DecodeError`] saying what is wrong.
pub fn decode_strict<T: Decode>(
    bytes: &[u8],
    max: usize,
    what: &'static str,
) -> Result<T, DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            what,
            got: bytes.len(),
            max,
        });
    }
    let mut input = bytes;
    let value = T::decode_with_depth_limit(MAX_DECODE_DEPTH, &mut input).map_err(|e| {
        DecodeError::Invalid {
            what,
            message: flatten_codec_message(&e.to_string()),
        }
    })?;
    if !input.is_empty() {
        return Err(DecodeError::TrailingBytes {
            what,
            count: input.len(),
        });
    }
    Ok(value)
}

/// The codec prints its cause chain on indented lines; join them into one line for logs and RPC.
fn flatten_codec_message(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_cause_chains_are_flattened_onto_one_line() {
        assert_eq!(
            flatten_codec_message(
                "Could not decode `Transaction::inputs`:\n\tNot enough data to fill buffer\n"
            ),
            "Could not decode `Transaction::inputs`: Not enough data to fill buffer"
        );
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        let err = decode_strict::<u8>(&[0; 3], 2, "thing").unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "thing",
                got: 3,
                max: 2
            }
        );
    }

    #[test]
    fn nesting_beyond_the_depth_limit_is_rejected() {
        // Seventeen vectors deep: the sixteen outer ones descend (a `Vec<u8>` is read flat).
        type Depth16 =
            Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<Vec<u8>>>>>>>>>>>>>>>>>;
        let mut ok = vec![4u8; 16];
        ok.push(0);
        assert!(decode_strict::<Depth16>(&ok, 1000, "deep").is_ok());
        let mut too_deep = vec![4u8; 17];
        too_deep.push(0);
        let err = decode_strict::<Vec<Depth16>>(&too_deep, 1000, "deep").unwrap_err();
        assert!(
            matches!(&err, DecodeError::Invalid { message, .. } if message.contains("depth")),
            "{err}"
        );
    }
}
