//! Script byte strings: the borrowed [`Script`], the owned [`ScriptBuf`], a consuming
//! [`Builder`] and the [`Instructions`] iterator.

use core::{borrow::Borrow, fmt, ops::Deref};

use thiserror::Error;

use crate::num::ScriptNum;
use crate::opcodes::{self, Opcode};

/// A script as borrowed bytes. Any byte string is a `Script`; whether it parses is a question for
/// [`Script::instructions`] and the interpreter.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Script([u8]);

/// An owned script.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScriptBuf(Vec<u8>);

/// One parsed instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instruction<'a> {
    /// A data push: the opcode used (`OP_0`, a direct length, `OP_PUSHDATA1/2/4`) and the data.
    Push {
        /// The push opcode.
        opcode: Opcode,
        /// The pushed bytes.
        data: &'a [u8],
    },
    /// Any opcode that is not a data push (including `OP_1NEGATE` and `OP_1`..`OP_16`).
    Op(Opcode),
}

impl Instruction<'_> {
    /// The opcode of this instruction.
    pub fn opcode(&self) -> Opcode {
        match *self {
            Instruction::Push { opcode, .. } | Instruction::Op(opcode) => opcode,
        }
    }

    /// The pushed data, if this is a data push.
    pub fn push_data(&self) -> Option<&[u8]> {
        match self {
            Instruction::Push { data, .. } => Some(data),
            Instruction::Op(_) => None,
        }
    }
}

/// A malformed instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InstructionError {
    /// A push opcode whose length or data runs past the end of the script.
    #[error("push at byte {position} runs past the end of the script")]
    UnexpectedEnd {
        /// Offset of the push opcode.
        position: usize,
    },
    /// A push that does not use the shortest form (only from [`Script::instructions_minimal`]).
    #[error("push at byte {position} is not minimal")]
    NonMinimalPush {
        /// Offset of the push opcode.
        position: usize,
    },
}

/// Reads the instruction at `*pc`, advancing `*pc` past it. Returns `None` at the end of the
/// script or when a push runs past the end (then `*pc` is left somewhere inside that push).
#[inline]
pub(crate) fn read_op<'a>(script: &'a [u8], pc: &mut usize) -> Option<(Opcode, &'a [u8])> {
    let op = *script.get(*pc)?;
    *pc += 1;
    if op > opcodes::OP_PUSHDATA4.0 {
        return Some((Opcode(op), &[]));
    }
    let len = match op {
        0x4c => {
            let n = *script.get(*pc)?;
            *pc += 1;
            usize::from(n)
        }
        0x4d => {
            let n = script.get(*pc..*pc + 2)?;
            *pc += 2;
            usize::from(u16::from_le_bytes([n[0], n[1]]))
        }
        0x4e => {
            let n = script.get(*pc..*pc + 4)?;
            *pc += 4;
            usize::try_from(u32::from_le_bytes([n[0], n[1], n[2], n[3]])).ok()?
        }
        n => usize::from(n),
    };
    let data = script.get(*pc..pc.checked_add(len)?)?;
    *pc += len;
    Some((Opcode(op), data))
}

/// Whether `data` was pushed with the shortest possible opcode (the MINIMALDATA rule).
pub fn is_minimal_push(opcode: Opcode, data: &[u8]) -> bool {
    match data {
        [] => opcode == opcodes::OP_0,
        [b @ 1..=16] => opcode.0 == opcodes::OP_1.0 + (b - 1),
        [0x81] => opcode == opcodes::OP_1NEGATE,
        _ if data.len() <= 75 => usize::from(opcode.0) == data.len(),
        _ if data.len() <= 255 => opcode == opcodes::OP_PUSHDATA1,
        _ if data.len() <= 65535 => opcode == opcodes::OP_PUSHDATA2,
        _ => true,
    }
}

/// Iterator over the instructions of a script. Yields an error at the first malformed
/// instruction and then stops.
#[derive(Debug, Clone)]
pub struct Instructions<'a> {
    script: &'a [u8],
    pc: usize,
    enforce_minimal: bool,
    done: bool,
}

impl<'a> Instructions<'a> {
    /// Byte offset of the next instruction.
    pub fn position(&self) -> usize {
        self.pc
    }
}

impl<'a> Iterator for Instructions<'a> {
    type Item = Result<Instruction<'a>, InstructionError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pc >= self.script.len() {
            return None;
        }
        let position = self.pc;
        let Some((opcode, data)) = read_op(self.script, &mut self.pc) else {
            self.done = true;
            return Some(Err(InstructionError::UnexpectedEnd { position }));
        };
        if !opcode.is_push_data() {
            return Some(Ok(Instruction::Op(opcode)));
        }
        if self.enforce_minimal && !is_minimal_push(opcode, data) {
            self.done = true;
            return Some(Err(InstructionError::NonMinimalPush { position }));
        }
        Some(Ok(Instruction::Push { opcode, data }))
    }
}

impl Script {
    /// Views bytes as a script.
    #[inline]
    pub fn from_bytes(bytes: &[u8]) -> &Script {
        // SAFETY: `Script` is `repr(transparent)` over `[u8]`, so the pointer cast keeps layout
        // and metadata (the slice length).
        unsafe { &*(bytes as *const [u8] as *const Script) }
    }

    /// The raw bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the script is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The instructions, malformed pushes reported as errors.
    pub fn instructions(&self) -> Instructions<'_> {
        Instructions {
            script: &self.0,
            pc: 0,
            enforce_minimal: false,
            done: false,
        }
    }

    /// The instructions, with non-minimal pushes also reported as errors (policy parsing).
    pub fn instructions_minimal(&self) -> Instructions<'_> {
        Instructions {
            script: &self.0,
            pc: 0,
            enforce_minimal: true,
            done: false,
        }
    }

    /// Bitcoin Core's `IsPushOnly`: every instruction parses and is at most `OP_16`. Note that
    /// `OP_RESERVED` (0x50) counts as a push here, exactly as in Core.
    pub fn is_push_only(&self) -> bool {
        let mut pc = 0;
        while pc < self.0.len() {
            match read_op(&self.0, &mut pc) {
                Some((op, _)) if op <= opcodes::OP_16 => {}
                _ => return false,
            }
        }
        true
    }

    /// BIP16 pay-to-script-hash: `OP_HASH160 <20 bytes> OP_EQUAL`, exactly 23 bytes.
    pub fn is_p2sh(&self) -> bool {
        let b = &self.0;
        b.len() == 23
            && b[0] == opcodes::OP_HASH160.0
            && b[1] == 0x14
            && b[22] == opcodes::OP_EQUAL.0
    }

    /// Pay-to-pubkey-hash: `OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY OP_CHECKSIG`.
    pub fn is_p2pkh(&self) -> bool {
        let b = &self.0;
        b.len() == 25
            && b[0] == opcodes::OP_DUP.0
            && b[1] == opcodes::OP_HASH160.0
            && b[2] == 0x14
            && b[23] == opcodes::OP_EQUALVERIFY.0
            && b[24] == opcodes::OP_CHECKSIG.0
    }

    /// Provably unspendable: starts with `OP_RETURN` (or is longer than the script size limit).
    pub fn is_op_return(&self) -> bool {
        self.0.first() == Some(&opcodes::OP_RETURN.0) || self.0.len() > crate::MAX_SCRIPT_SIZE
    }

    /// Copies into an owned script.
    pub fn to_script_buf(&self) -> ScriptBuf {
        ScriptBuf(self.0.to_vec())
    }
}

impl ScriptBuf {
    /// An empty script.
    pub const fn new() -> Self {
        ScriptBuf(Vec::new())
    }

    /// Wraps bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        ScriptBuf(bytes)
    }

    /// The script as a borrowed [`Script`].
    pub fn as_script(&self) -> &Script {
        Script::from_bytes(&self.0)
    }

    /// The raw bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Parses hex into a script.
    ///
    /// # Errors
    /// Fails if `s` is not hex.
    pub fn from_hex(s: &str) -> Result<Self, hex::FromHexError> {
        hex::decode(s).map(ScriptBuf)
    }

    /// Lowercase hex of the bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl Deref for ScriptBuf {
    type Target = Script;
    fn deref(&self) -> &Script {
        self.as_script()
    }
}

impl AsRef<Script> for ScriptBuf {
    fn as_ref(&self) -> &Script {
        self
    }
}

impl AsRef<[u8]> for Script {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<Script> for Script {
    fn as_ref(&self) -> &Script {
        self
    }
}

impl Borrow<Script> for ScriptBuf {
    fn borrow(&self) -> &Script {
        self
    }
}

impl ToOwned for Script {
    type Owned = ScriptBuf;
    fn to_owned(&self) -> ScriptBuf {
        self.to_script_buf()
    }
}

impl From<Vec<u8>> for ScriptBuf {
    fn from(v: Vec<u8>) -> Self {
        ScriptBuf(v)
    }
}

impl From<ScriptBuf> for Vec<u8> {
    fn from(s: ScriptBuf) -> Self {
        s.0
    }
}

impl<'a> From<&'a [u8]> for &'a Script {
    fn from(b: &'a [u8]) -> Self {
        Script::from_bytes(b)
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Script({})", self.to_asm())
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_asm())
    }
}

impl fmt::Debug for ScriptBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_script(), f)
    }
}

impl fmt::Display for ScriptBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_script(), f)
    }
}

/// Appends a push of `data` with the shortest length prefix, as Bitcoin Core's
/// `CScript << std::vector<unsigned char>` does (an empty push is `OP_0`; one-byte values are
/// *not* turned into `OP_1`..`OP_16`: use [`Builder::push_slice_minimal`] for that).
pub(crate) fn push_data_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len();
    if len < usize::from(opcodes::OP_PUSHDATA1.0) {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[opcodes::OP_PUSHDATA1.0, len as u8]);
    } else if len <= 0xffff {
        out.push(opcodes::OP_PUSHDATA2.0);
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.push(opcodes::OP_PUSHDATA4.0);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(data);
}

/// A consuming script builder.
///
/// ```
/// use i8o8i_script_vm::{opcodes::*, Builder};
/// let script = Builder::new().push_int(2).push_opcode(OP_ADD).push_int(5).push_opcode(OP_EQUAL).into_script();
/// assert_eq!(script.to_test_asm(), "2 ADD 5 EQUAL");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder(Vec<u8>);

impl Builder {
    /// An empty builder.
    pub const fn new() -> Self {
        Builder(Vec::new())
    }

    /// Appends an opcode.
    pub fn push_opcode(mut self, op: Opcode) -> Self {
        self.0.push(op.0);
        self
    }

    /// Appends a number the way Bitcoin Core's `CScript << int64_t` does: `OP_1NEGATE`, `OP_0`,
    /// `OP_1`..`OP_16` where they fit, otherwise a push of the minimal script-number encoding.
    pub fn push_int(mut self, n: i64) -> Self {
        match n {
            -1 | 1..=16 => self.0.push((n + 0x50) as u8),
            0 => self.0.push(opcodes::OP_0.0),
            _ => push_data_prefixed(&mut self.0, &ScriptNum(n).encode()),
        }
        self
    }

    /// Appends a push of `data` with the shortest length prefix (Core's `CScript << vector`).
    pub fn push_slice(mut self, data: &[u8]) -> Self {
        push_data_prefixed(&mut self.0, data);
        self
    }

    /// Appends a push of `data` that satisfies MINIMALDATA (single bytes 1..=16 and 0x81 become
    /// `OP_1`..`OP_16` / `OP_1NEGATE`).
    pub fn push_slice_minimal(mut self, data: &[u8]) -> Self {
        match data {
            [b @ 1..=16] => self.0.push(opcodes::OP_1.0 + b - 1),
            [0x81] => self.0.push(opcodes::OP_1NEGATE.0),
            _ => push_data_prefixed(&mut self.0, data),
        }
        self
    }

    /// Appends raw bytes (no length prefix).
    pub fn push_raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Finishes the script.
    pub fn into_script(self) -> ScriptBuf {
        ScriptBuf(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opcodes::*;

    #[test]
    fn instructions_report_truncated_pushes_and_stop() {
        let s = Script::from_bytes(&[OP_DUP.0, 0x05, 0x01, 0x02]);
        let mut it = s.instructions();
        assert_eq!(it.next(), Some(Ok(Instruction::Op(OP_DUP))));
        assert_eq!(
            it.next(),
            Some(Err(InstructionError::UnexpectedEnd { position: 1 }))
        );
        assert_eq!(it.next(), None);
        for bad in [
            &[0x4c][..],
            &[0x4d, 0x01],
            &[0x4e, 1, 0, 0],
            &[0x4e, 1, 0, 0, 0],
        ] {
            assert!(
                Script::from_bytes(bad).instructions().any(|i| i.is_err()),
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn pushdata_forms_parse() {
        let s = Script::from_bytes(&[
            0x4c, 0x02, 0xaa, 0xbb, 0x4d, 0x01, 0x00, 0xcc, 0x4e, 0, 0, 0, 0,
        ]);
        let got: Vec<_> = s.instructions().map(Result::unwrap).collect();
        assert_eq!(
            got,
            vec![
                Instruction::Push {
                    opcode: OP_PUSHDATA1,
                    data: &[0xaa, 0xbb]
                },
                Instruction::Push {
                    opcode: OP_PUSHDATA2,
                    data: &[0xcc]
                },
                Instruction::Push {
                    opcode: OP_PUSHDATA4,
                    data: &[]
                },
            ]
        );
        let errs: Vec<_> = s.instructions_minimal().collect();
        assert_eq!(
            errs,
            vec![Err(InstructionError::NonMinimalPush { position: 0 })]
        );
    }

    #[test]
    fn minimal_push_rules() {
        assert!(is_minimal_push(OP_0, &[]));
        assert!(!is_minimal_push(OP_PUSHDATA1, &[]));
        assert!(!is_minimal_push(Opcode(1), &[5]));
        assert!(is_minimal_push(OP_5, &[5]));
        assert!(!is_minimal_push(Opcode(1), &[0x81]));
        assert!(is_minimal_push(Opcode(1), &[0x82]));
        assert!(is_minimal_push(Opcode(75), &[0; 75]));
        assert!(!is_minimal_push(OP_PUSHDATA1, &[0; 75]));
        assert!(is_minimal_push(OP_PUSHDATA1, &[0; 76]));
        assert!(is_minimal_push(OP_PUSHDATA2, &[0; 256]));
        assert!(!is_minimal_push(OP_PUSHDATA4, &[0; 256]));
    }

    #[test]
    fn builder_matches_cores_encoding() {
        let s = Builder::new()
            .push_int(0)
            .push_int(-1)
            .push_int(16)
            .push_int(17)
            .push_int(-2)
            .push_int(1000)
            .into_script();
        assert_eq!(
            s.as_bytes(),
            &[0x00, 0x4f, 0x60, 0x01, 0x11, 0x01, 0x82, 0x02, 0xe8, 0x03]
        );
        let big = Builder::new().push_slice(&[7; 80]).into_script();
        assert_eq!(&big.as_bytes()[..2], &[0x4c, 80]);
        assert_eq!(
            Builder::new()
                .push_slice_minimal(&[3])
                .into_script()
                .as_bytes(),
            &[OP_3.0]
        );
        assert_eq!(
            Builder::new().push_slice(&[3]).into_script().as_bytes(),
            &[1, 3]
        );
    }

    #[test]
    fn push_only_follows_core_including_reserved() {
        assert!(Script::from_bytes(&[0x00, 0x51, 0x50, 0x01, 0xff]).is_push_only());
        assert!(!Script::from_bytes(&[0x61]).is_push_only());
        assert!(!Script::from_bytes(&[0x02, 0xff]).is_push_only());
    }
}
