//! The opcode table.
//!
//! An [`Opcode`] is any byte: every value is representable, and the interpreter, not the type,
//! decides what an unassigned byte means (it fails with `BAD_OPCODE` when executed). Names and
//! documentation of the assigned opcodes come from one table, so the constants, the asm parser and
//! the printer cannot drift apart.

use core::fmt;

/// One script opcode: a single byte.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Opcode(pub u8);

macro_rules! opcodes {
    ($( $(#[doc = $doc:literal])* $name:ident = $val:literal, )*) => {
        /// The named opcode constants (`OP_*`), as in Bitcoin Core's `script.h`.
        pub mod all {
            use super::Opcode;
            $( $(#[doc = $doc])* pub const $name: Opcode = Opcode($val); )*
        }

        /// Canonical names of assigned opcodes, indexed by byte; `None` for unassigned bytes.
        static NAMES: [Option<&str>; 256] = {
            let mut names: [Option<&str>; 256] = [None; 256];
            $( names[$val] = Some(stringify!($name)); )*
            names
        };
    };
}

opcodes! {
    /// Push an empty array (false).
    OP_0 = 0x00,
    /// Push the next 1 byte as an array.
    OP_PUSHBYTES_1 = 0x01,
    /// Push the next byte as the length of an array to push.
    OP_PUSHDATA1 = 0x4c,
    /// Push the next two bytes (little endian) as the length of an array to push.
    OP_PUSHDATA2 = 0x4d,
    /// Push the next four bytes (little endian) as the length of an array to push.
    OP_PUSHDATA4 = 0x4e,
    /// Push the number -1.
    OP_1NEGATE = 0x4f,
    /// Reserved: fails the script when executed.
    OP_RESERVED = 0x50,
    /// Push the number 1 (true).
    OP_1 = 0x51,
    /// Push the number 2.
    OP_2 = 0x52,
    /// Push the number 3.
    OP_3 = 0x53,
    /// Push the number 4.
    OP_4 = 0x54,
    /// Push the number 5.
    OP_5 = 0x55,
    /// Push the number 6.
    OP_6 = 0x56,
    /// Push the number 7.
    OP_7 = 0x57,
    /// Push the number 8.
    OP_8 = 0x58,
    /// Push the number 9.
    OP_9 = 0x59,
    /// Push the number 10.
    OP_10 = 0x5a,
    /// Push the number 11.
    OP_11 = 0x5b,
    /// Push the number 12.
    OP_12 = 0x5c,
    /// Push the number 13.
    OP_13 = 0x5d,
    /// Push the number 14.
    OP_14 = 0x5e,
    /// Push the number 15.
    OP_15 = 0x5f,
    /// Push the number 16.
    OP_16 = 0x60,
    /// Do nothing.
    OP_NOP = 0x61,
    /// Reserved: fails the script when executed.
    OP_VER = 0x62,
    /// Pop the top item; execute the following branch if it is true.
    OP_IF = 0x63,
    /// Pop the top item; execute the following branch if it is false.
    OP_NOTIF = 0x64,
    /// Reserved: fails the script even in an unexecuted branch.
    OP_VERIF = 0x65,
    /// Reserved: fails the script even in an unexecuted branch.
    OP_VERNOTIF = 0x66,
    /// Switch execution of the innermost IF branch.
    OP_ELSE = 0x67,
    /// Close the innermost IF branch.
    OP_ENDIF = 0x68,
    /// Fail unless the top item is true; pop it.
    OP_VERIFY = 0x69,
    /// Fail the script immediately.
    OP_RETURN = 0x6a,
    /// Move the top item to the alt stack.
    OP_TOALTSTACK = 0x6b,
    /// Move the top alt-stack item to the main stack.
    OP_FROMALTSTACK = 0x6c,
    /// Drop the top two items.
    OP_2DROP = 0x6d,
    /// Duplicate the top two items.
    OP_2DUP = 0x6e,
    /// Duplicate the top three items.
    OP_3DUP = 0x6f,
    /// Copy the third and fourth items to the top.
    OP_2OVER = 0x70,
    /// Move the fifth and sixth items to the top.
    OP_2ROT = 0x71,
    /// Swap the top two pairs of items.
    OP_2SWAP = 0x72,
    /// Duplicate the top item if it is true.
    OP_IFDUP = 0x73,
    /// Push the stack depth.
    OP_DEPTH = 0x74,
    /// Drop the top item.
    OP_DROP = 0x75,
    /// Duplicate the top item.
    OP_DUP = 0x76,
    /// Drop the second item.
    OP_NIP = 0x77,
    /// Copy the second item to the top.
    OP_OVER = 0x78,
    /// Pop n; copy the item n back to the top.
    OP_PICK = 0x79,
    /// Pop n; move the item n back to the top.
    OP_ROLL = 0x7a,
    /// Rotate the top three items to the left.
    OP_ROT = 0x7b,
    /// Swap the top two items.
    OP_SWAP = 0x7c,
    /// Copy the top item below the second item.
    OP_TUCK = 0x7d,
    /// Disabled: concatenate two strings.
    OP_CAT = 0x7e,
    /// Disabled: substring.
    OP_SUBSTR = 0x7f,
    /// Disabled: left part of a string.
    OP_LEFT = 0x80,
    /// Disabled: right part of a string.
    OP_RIGHT = 0x81,
    /// Push the length of the top item (without popping it).
    OP_SIZE = 0x82,
    /// Disabled: bitwise not.
    OP_INVERT = 0x83,
    /// Disabled: bitwise and.
    OP_AND = 0x84,
    /// Disabled: bitwise or.
    OP_OR = 0x85,
    /// Disabled: bitwise xor.
    OP_XOR = 0x86,
    /// Push true if the top two items are byte-for-byte equal, else false.
    OP_EQUAL = 0x87,
    /// OP_EQUAL then OP_VERIFY.
    OP_EQUALVERIFY = 0x88,
    /// Reserved: fails the script when executed.
    OP_RESERVED1 = 0x89,
    /// Reserved: fails the script when executed.
    OP_RESERVED2 = 0x8a,
    /// Add 1 to the top number.
    OP_1ADD = 0x8b,
    /// Subtract 1 from the top number.
    OP_1SUB = 0x8c,
    /// Disabled: multiply by 2.
    OP_2MUL = 0x8d,
    /// Disabled: divide by 2.
    OP_2DIV = 0x8e,
    /// Negate the top number.
    OP_NEGATE = 0x8f,
    /// Absolute value of the top number.
    OP_ABS = 0x90,
    /// 1 if the top number is 0, else 0.
    OP_NOT = 0x91,
    /// 0 if the top number is 0, else 1.
    OP_0NOTEQUAL = 0x92,
    /// a + b.
    OP_ADD = 0x93,
    /// a - b.
    OP_SUB = 0x94,
    /// Disabled: a * b.
    OP_MUL = 0x95,
    /// Disabled: a / b.
    OP_DIV = 0x96,
    /// Disabled: a % b.
    OP_MOD = 0x97,
    /// Disabled: a << b.
    OP_LSHIFT = 0x98,
    /// Disabled: a >> b.
    OP_RSHIFT = 0x99,
    /// 1 if both numbers are non-zero, else 0.
    OP_BOOLAND = 0x9a,
    /// 1 if either number is non-zero, else 0.
    OP_BOOLOR = 0x9b,
    /// 1 if the numbers are equal, else 0.
    OP_NUMEQUAL = 0x9c,
    /// OP_NUMEQUAL then OP_VERIFY.
    OP_NUMEQUALVERIFY = 0x9d,
    /// 1 if the numbers differ, else 0.
    OP_NUMNOTEQUAL = 0x9e,
    /// 1 if a < b, else 0.
    OP_LESSTHAN = 0x9f,
    /// 1 if a > b, else 0.
    OP_GREATERTHAN = 0xa0,
    /// 1 if a <= b, else 0.
    OP_LESSTHANOREQUAL = 0xa1,
    /// 1 if a >= b, else 0.
    OP_GREATERTHANOREQUAL = 0xa2,
    /// The smaller of a and b.
    OP_MIN = 0xa3,
    /// The larger of a and b.
    OP_MAX = 0xa4,
    /// 1 if min <= x < max, else 0.
    OP_WITHIN = 0xa5,
    /// RIPEMD-160 of the top item.
    OP_RIPEMD160 = 0xa6,
    /// SHA-1 of the top item.
    OP_SHA1 = 0xa7,
    /// SHA-256 of the top item.
    OP_SHA256 = 0xa8,
    /// RIPEMD-160 of the SHA-256 of the top item.
    OP_HASH160 = 0xa9,
    /// Double SHA-256 of the top item.
    OP_HASH256 = 0xaa,
    /// Signature checks hash only the script after the most recent OP_CODESEPARATOR.
    OP_CODESEPARATOR = 0xab,
    /// Pop a public key and a signature; push whether the signature is valid.
    OP_CHECKSIG = 0xac,
    /// OP_CHECKSIG then OP_VERIFY.
    OP_CHECKSIGVERIFY = 0xad,
    /// m-of-n signature check (pops one extra item: the NULLDUMMY element).
    OP_CHECKMULTISIG = 0xae,
    /// OP_CHECKMULTISIG then OP_VERIFY.
    OP_CHECKMULTISIGVERIFY = 0xaf,
    /// Upgradable no-op.
    OP_NOP1 = 0xb0,
    /// BIP65: fail unless the transaction's lock time has passed the top number (formerly OP_NOP2).
    OP_CHECKLOCKTIMEVERIFY = 0xb1,
    /// BIP112: fail unless the input's relative lock time has passed the top number (formerly OP_NOP3).
    OP_CHECKSEQUENCEVERIFY = 0xb2,
    /// Upgradable no-op.
    OP_NOP4 = 0xb3,
    /// Upgradable no-op.
    OP_NOP5 = 0xb4,
    /// Upgradable no-op.
    OP_NOP6 = 0xb5,
    /// Upgradable no-op.
    OP_NOP7 = 0xb6,
    /// Upgradable no-op.
    OP_NOP8 = 0xb7,
    /// Upgradable no-op.
    OP_NOP9 = 0xb8,
    /// Upgradable no-op.
    OP_NOP10 = 0xb9,
    /// Tapscript only (BIP342); a bad opcode in legacy scripts.
    OP_CHECKSIGADD = 0xba,
    /// Not an opcode: used internally by Bitcoin Core for "invalid"; a bad opcode.
    OP_INVALIDOPCODE = 0xff,
}

pub use all::*;

/// `OP_FALSE`: alias of [`OP_0`].
pub const OP_FALSE: Opcode = OP_0;
/// `OP_TRUE`: alias of [`OP_1`].
pub const OP_TRUE: Opcode = OP_1;
/// `OP_NOP2`: the pre-BIP65 name of [`OP_CHECKLOCKTIMEVERIFY`].
pub const OP_NOP2: Opcode = OP_CHECKLOCKTIMEVERIFY;
/// `OP_NOP3`: the pre-BIP112 name of [`OP_CHECKSEQUENCEVERIFY`].
pub const OP_NOP3: Opcode = OP_CHECKSEQUENCEVERIFY;

impl Opcode {
    /// The byte value.
    #[inline]
    pub const fn to_u8(self) -> u8 {
        self.0
    }

    /// The canonical name with the `OP_` prefix, or `None` for an unassigned byte or a direct
    /// push length (0x01..=0x4b other than 0x01 have no name of their own).
    pub fn name(self) -> Option<&'static str> {
        NAMES[self.0 as usize]
    }

    /// Whether this opcode pushes data (`OP_0`, a direct push of 1..=75 bytes, or `OP_PUSHDATA1/2/4`).
    #[inline]
    pub const fn is_push_data(self) -> bool {
        self.0 <= OP_PUSHDATA4.0
    }

    /// The small integer pushed by `OP_1NEGATE`, `OP_0` and `OP_1` ..= `OP_16`.
    pub const fn small_int(self) -> Option<i8> {
        match self.0 {
            0x00 => Some(0),
            0x4f => Some(-1),
            0x51..=0x60 => Some((self.0 - 0x50) as i8),
            _ => None,
        }
    }

    /// `OP_0` for 0 and `OP_1` ..= `OP_16` for 1..=16.
    ///
    /// # Panics
    /// Panics if `n > 16`.
    pub const fn from_small_int(n: u8) -> Opcode {
        assert!(n <= 16, "small int out of range");
        if n == 0 { OP_0 } else { Opcode(0x50 + n) }
    }

    /// Whether Bitcoin disabled this opcode (CVE-2010-5137 and friends): a script containing it
    /// fails even if it is never executed.
    #[inline]
    pub const fn is_disabled(self) -> bool {
        matches!(self.0, 0x7e..=0x81 | 0x83..=0x86 | 0x8d | 0x8e | 0x95..=0x99)
    }

    /// Looks an opcode up by name, with or without the `OP_` prefix, as Bitcoin Core's script
    /// parser does: push opcodes (`OP_0`, `OP_1`..`OP_16`, `OP_PUSHDATA*`) are not accepted by
    /// name there, and `accept_push_names` adds them (plus `OP_FALSE` / `OP_TRUE` / `OP_NOP2` /
    /// `OP_NOP3`) for the `OP_`-style assembly.
    pub fn from_name(name: &str, accept_push_names: bool) -> Option<Opcode> {
        let bare = name.strip_prefix("OP_");
        let full_match = |n: &str| {
            (0..=0xffu8).map(Opcode).find(|op| {
                op.name().is_some_and(|full| {
                    let short = &full[3..];
                    short == n
                })
            })
        };
        let op = full_match(bare.unwrap_or(name))?;
        let is_push_name = op.0 < OP_NOP.0 && op != OP_RESERVED;
        if is_push_name && !accept_push_names {
            return None;
        }
        // `OP_PUSHBYTES_1` and `OP_INVALIDOPCODE` are not names Bitcoin Core parses.
        if op == OP_PUSHBYTES_1 || op == OP_INVALIDOPCODE {
            return None;
        }
        Some(op)
    }

    /// Like [`Opcode::from_name`], also accepting the pre-BIP65/112 names `NOP2` / `NOP3` and,
    /// with `accept_push_names`, `OP_FALSE` / `OP_TRUE`.
    pub(crate) fn from_name_with_aliases(name: &str, accept_push_names: bool) -> Option<Opcode> {
        let bare = name.strip_prefix("OP_").unwrap_or(name);
        match bare {
            "FALSE" if accept_push_names => Some(OP_FALSE),
            "TRUE" if accept_push_names => Some(OP_TRUE),
            "NOP2" => Some(OP_NOP2),
            "NOP3" => Some(OP_NOP3),
            _ => Opcode::from_name(name, accept_push_names),
        }
    }
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None if (0x02..=0x4b).contains(&self.0) => write!(f, "OP_PUSHBYTES_{}", self.0),
            None => write!(f, "OP_UNKNOWN_{:#04x}", self.0),
        }
    }
}

impl From<u8> for Opcode {
    fn from(b: u8) -> Self {
        Opcode(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_named_opcode() {
        for b in 0..=0xffu8 {
            let op = Opcode(b);
            if let Some(name) = op.name() {
                if op == OP_PUSHBYTES_1 || op == OP_INVALIDOPCODE {
                    continue;
                }
                assert_eq!(Opcode::from_name(name, true), Some(op), "{name}");
                assert_eq!(Opcode::from_name(&name[3..], true), Some(op), "{name}");
            }
        }
    }

    #[test]
    fn core_parser_rejects_push_opcode_names_but_accepts_reserved() {
        assert_eq!(Opcode::from_name("OP_1", false), None);
        assert_eq!(Opcode::from_name("PUSHDATA1", false), None);
        assert_eq!(Opcode::from_name("RESERVED", false), Some(OP_RESERVED));
        assert_eq!(Opcode::from_name("NOP2", false), None);
        assert_eq!(
            Opcode::from_name("CHECKLOCKTIMEVERIFY", false),
            Some(OP_CHECKLOCKTIMEVERIFY)
        );
        assert_eq!(
            Opcode::from_name_with_aliases("OP_NOP2", true),
            Some(OP_CHECKLOCKTIMEVERIFY)
        );
        assert_eq!(
            Opcode::from_name_with_aliases("NOP3", false),
            Some(OP_CHECKSEQUENCEVERIFY)
        );
        assert_eq!(Opcode::from_name_with_aliases("TRUE", false), None);
    }

    #[test]
    fn disabled_set_is_bitcoins() {
        let disabled: Vec<u8> = (0..=0xffu8).filter(|b| Opcode(*b).is_disabled()).collect();
        assert_eq!(
            disabled,
            vec![
                0x7e, 0x7f, 0x80, 0x81, 0x83, 0x84, 0x85, 0x86, 0x8d, 0x8e, 0x95, 0x96, 0x97, 0x98,
                0x99
            ]
        );
    }

    #[test]
    fn small_ints() {
        assert_eq!(OP_16.small_int(), Some(16));
        assert_eq!(OP_1NEGATE.small_int(), Some(-1));
        assert_eq!(OP_RESERVED.small_int(), None);
        assert_eq!(Opcode::from_small_int(7), OP_7);
    }
}
