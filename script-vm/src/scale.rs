//! SCALE codec for [`ScriptBuf`] (feature `scale`): exactly the encoding of a `Vec<u8>` (compact
//! length prefix, then the bytes), so a script decodes with the codec's bounded, chunked
//! allocation and any byte string round-trips.

use parity_scale_codec::{Decode, Encode, EncodeLike, Error, Input, Output};

use crate::script::ScriptBuf;

impl Encode for ScriptBuf {
    fn size_hint(&self) -> usize {
        self.as_bytes().size_hint()
    }

    fn encode_to<T: Output + ?Sized>(&self, dest: &mut T) {
        self.as_bytes().encode_to(dest);
    }
}

impl EncodeLike for ScriptBuf {}

impl Decode for ScriptBuf {
    fn decode<I: Input>(input: &mut I) -> Result<Self, Error> {
        Vec::<u8>::decode(input).map(ScriptBuf::from_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_buf_encodes_as_a_byte_vector() {
        let script = ScriptBuf::from_bytes(vec![0x76, 0xa9, 0x14]);
        let encoded = script.encode();
        assert_eq!(encoded, vec![0x76u8, 0xa9, 0x14].encode());
        assert_eq!(encoded, [0x0c, 0x76, 0xa9, 0x14]);
        assert_eq!(ScriptBuf::decode(&mut &encoded[..]), Ok(script));
        assert!(ScriptBuf::decode(&mut &encoded[..3]).is_err());
    }
}
