//! Script assembly: parsing Bitcoin Core's test-vector assembly and the usual `OP_` form, and
//! printing both.
//!
//! The parser accepts, separated by whitespace:
//! - decimal numbers in -0xffffffff..=0xffffffff (`-1`, `0`..`16` become opcodes, other values a
//!   minimal script-number push), as Core's `ParseScript`;
//! - `0x`-prefixed hex, inserted as raw bytes (so `0x14 0x<20 bytes>` is a push);
//! - `'text'`, a push of the text's bytes;
//! - opcode names with or without `OP_` (`DUP`, `OP_DUP`, and `NOP2` / `NOP3` for CLTV / CSV),
//!   plus in `OP_` form the push names `OP_0`..`OP_16`, `OP_1NEGATE`, `OP_FALSE`, `OP_TRUE`;
//! - `<hex>` or bare hex containing a letter (as `decodescript` prints data), a minimal push.

use core::fmt::Write as _;

use thiserror::Error;

use crate::num::ScriptNum;
use crate::opcodes::{self, Opcode};
use crate::script::{Builder, Script, ScriptBuf, read_op};

/// Why assembly could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AsmError {
    /// A decimal number outside -0xffffffff..=0xffffffff.
    #[error("number `{0}` is outside -0xffffffff..=0xffffffff")]
    NumberOutOfRange(String),
    /// A word that is not a number, hex, quoted text or an opcode name.
    #[error("unknown opcode or malformed word `{0}`")]
    UnknownWord(String),
}

/// Parses script assembly (see the module docs for the accepted forms).
///
/// ```
/// let s = i8o8i_script_vm::parse_asm("DUP HASH160 0x14 0x89abcdefabbaabbaabbaabbaabbaabbaabbaabba EQUALVERIFY CHECKSIG")?;
/// assert!(s.is_p2pkh());
/// # Ok::<(), i8o8i_script_vm::AsmError>(())
/// ```
///
/// # Errors
/// [`AsmError`] naming the first word that could not be read.
pub fn parse_asm(asm: &str) -> Result<ScriptBuf, AsmError> {
    let mut b = Builder::new();
    for word in asm.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
        b = parse_word(b, word)?;
    }
    Ok(b.into_script())
}

fn is_decimal(w: &str) -> bool {
    let digits = w.strip_prefix('-').unwrap_or(w);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

fn is_hex(w: &str) -> bool {
    !w.is_empty() && w.len().is_multiple_of(2) && w.bytes().all(|c| c.is_ascii_hexdigit())
}

fn parse_word(b: Builder, word: &str) -> Result<Builder, AsmError> {
    if is_decimal(word) {
        let n: i64 = word
            .parse()
            .map_err(|_| AsmError::NumberOutOfRange(word.to_owned()))?;
        if !(-0xffff_ffff..=0xffff_ffff).contains(&n) {
            return Err(AsmError::NumberOutOfRange(word.to_owned()));
        }
        return Ok(b.push_int(n));
    }
    if let Some(hex) = word.strip_prefix("0x").filter(|h| is_hex(h)) {
        return Ok(b.push_raw(&hex::decode(hex).expect("checked hex")));
    }
    if word.len() >= 2 && word.starts_with('\'') && word.ends_with('\'') {
        return Ok(b.push_slice(&word.as_bytes()[1..word.len() - 1]));
    }
    // Core's parser accepts push opcodes only as numbers; the `OP_` form names them too.
    let op = Opcode::from_name_with_aliases(word, word.starts_with("OP_"));
    if let Some(op) = op {
        return Ok(b.push_opcode(op));
    }
    let hex = word
        .strip_prefix('<')
        .and_then(|w| w.strip_suffix('>'))
        .unwrap_or(word);
    if is_hex(hex) {
        return Ok(b.push_slice_minimal(&hex::decode(hex).expect("checked hex")));
    }
    Err(AsmError::UnknownWord(word.to_owned()))
}

/// Core's test-vector form; every byte string round-trips through [`parse_asm`].
pub(crate) fn to_test_asm(script: &Script) -> String {
    let bytes = script.as_bytes();
    let mut out = String::new();
    let mut pc = 0;
    while pc < bytes.len() {
        if !out.is_empty() {
            out.push(' ');
        }
        let start = pc;
        let Some((op, data)) = read_op(bytes, &mut pc) else {
            let _ = write!(out, "0x{}", hex::encode(&bytes[start..]));
            break;
        };
        match op {
            opcodes::OP_0 => out.push('0'),
            _ if op.small_int().is_some() => {
                let _ = write!(out, "{}", op.small_int().expect("checked"));
            }
            _ if op.is_push_data() => {
                let prefix_end = pc - data.len();
                let _ = write!(out, "0x{}", hex::encode(&bytes[start..prefix_end]));
                if !data.is_empty() {
                    let _ = write!(out, " 0x{}", hex::encode(data));
                }
            }
            _ => match Opcode::from_name(op.name().unwrap_or(""), false).and(op.name()) {
                Some(name) => out.push_str(&name[3..]),
                None => {
                    let _ = write!(out, "0x{:02x}", op.0);
                }
            },
        }
    }
    out
}

/// The `OP_` form, as Bitcoin Core's `ScriptToAsmStr` (`decodescript`): pushes of up to 4
/// bytes as decimal numbers, longer pushes as hex, a malformed tail as `[error]`.
pub(crate) fn to_asm(script: &Script) -> String {
    let bytes = script.as_bytes();
    let mut out = String::new();
    let mut pc = 0;
    while pc < bytes.len() {
        if !out.is_empty() {
            out.push(' ');
        }
        let Some((op, data)) = read_op(bytes, &mut pc) else {
            out.push_str("[error]");
            break;
        };
        if op.is_push_data() {
            if data.len() <= 4 {
                let n = ScriptNum::decode(data, false, 4)
                    .map(ScriptNum::value)
                    .unwrap_or_default();
                let _ = write!(out, "{n}");
            } else {
                out.push_str(&hex::encode(data));
            }
        } else {
            match op.small_int() {
                Some(n) => {
                    let _ = write!(out, "{n}");
                }
                None => {
                    let _ = write!(out, "{op}");
                }
            }
        }
    }
    out
}

// The printers are methods of `Script` for callers, defined here so that `script` does not
// import `asm` (which imports `script`).
impl Script {
    /// Bitcoin Core's test-vector assembly (`DUP HASH160 0x14 0x.. EQUALVERIFY`), which
    /// [`crate::parse_asm`] reads back to exactly these bytes.
    pub fn to_test_asm(&self) -> String {
        to_test_asm(self)
    }

    /// `OP_`-style assembly as Bitcoin Core's `decodescript` shows it
    /// (`OP_DUP OP_HASH160 <hex> OP_EQUALVERIFY OP_CHECKSIG`).
    pub fn to_asm(&self) -> String {
        to_asm(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_core_test_asm() {
        let s = parse_asm("0x4c 0x01 0x07 'Az' -1 0 16 17 -2 NOP2 CHECKLOCKTIMEVERIFY RESERVED")
            .unwrap();
        assert_eq!(
            s.as_bytes(),
            &[
                0x4c, 0x01, 0x07, 0x02, b'A', b'z', 0x4f, 0x00, 0x60, 0x01, 0x11, 0x01, 0x82, 0xb1,
                0xb1, 0x50
            ][..]
        );
        assert_eq!(parse_asm("  1  2  ").unwrap().as_bytes(), &[0x51, 0x52]);
        assert_eq!(parse_asm("").unwrap().as_bytes(), &[] as &[u8]);
        assert_eq!(
            parse_asm("4294967295").unwrap().as_bytes(),
            &[0x05, 0xff, 0xff, 0xff, 0xff, 0x00]
        );
    }

    #[test]
    fn core_names_without_op_exclude_push_opcodes() {
        assert_eq!(
            parse_asm("PUSHDATA1"),
            Err(AsmError::UnknownWord("PUSHDATA1".into()))
        );
        assert_eq!(parse_asm("OP_PUSHDATA1").unwrap().as_bytes(), &[0x4c]);
        assert_eq!(
            parse_asm("OP_1 OP_TRUE OP_FALSE OP_16").unwrap().as_bytes(),
            &[0x51, 0x51, 0x00, 0x60]
        );
    }

    #[test]
    fn rejects_bad_words_with_their_text() {
        assert_eq!(parse_asm("1 FOO"), Err(AsmError::UnknownWord("FOO".into())));
        assert_eq!(
            parse_asm("4294967296"),
            Err(AsmError::NumberOutOfRange("4294967296".into()))
        );
        assert_eq!(
            parse_asm("99999999999999999999999"),
            Err(AsmError::NumberOutOfRange("99999999999999999999999".into()))
        );
        assert_eq!(parse_asm("0x1"), Err(AsmError::UnknownWord("0x1".into())));
        assert_eq!(parse_asm("'"), Err(AsmError::UnknownWord("'".into())));
    }

    #[test]
    fn op_form_round_trips_standard_scripts() {
        let h = "89abcdefabbaabbaabbaabbaabbaabbaabbaabba";
        let s = parse_asm(&format!("OP_DUP OP_HASH160 {h} OP_EQUALVERIFY OP_CHECKSIG")).unwrap();
        assert!(s.is_p2pkh());
        assert_eq!(
            s.to_asm(),
            format!("OP_DUP OP_HASH160 {h} OP_EQUALVERIFY OP_CHECKSIG")
        );
        assert_eq!(parse_asm(&s.to_asm()).unwrap(), s);
        assert!(
            parse_asm(&format!("OP_HASH160 <{h}> OP_EQUAL"))
                .unwrap()
                .is_p2sh()
        );
        assert_eq!(
            parse_asm("OP_RETURN 0x02 0xabcd").unwrap().to_asm(),
            "OP_RETURN -19883"
        );
        assert_eq!(Script::from_bytes(&[0x05, 1]).to_asm(), "[error]");
    }

    #[test]
    fn test_asm_prints_pushes_with_their_prefix() {
        let s = Script::from_bytes(&[
            0x4c, 0x02, 0xab, 0xcd, 0x76, 0x00, 0x4f, 0x5a, 0xba, 0xff, 0x4e, 0, 0, 0, 0,
        ]);
        assert_eq!(
            s.to_test_asm(),
            "0x4c02 0xabcd DUP 0 -1 10 CHECKSIGADD 0xff 0x4e00000000"
        );
    }

    proptest! {
        #[test]
        fn test_asm_round_trips_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let s = Script::from_bytes(&bytes);
            let asm = s.to_test_asm();
            let parsed = parse_asm(&asm).unwrap();
            prop_assert_eq!(parsed.as_bytes(), &bytes[..], "{}", asm);
        }
    }
}
