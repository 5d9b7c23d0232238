//! A Bitcoin-compatible script interpreter: the locking language of I8o8iCoin outputs.
//!
//! Every output on the chain is locked by a script, and spending it means running the input's
//! `script_sig` followed by the output's `script_pubkey` here. The interpreter follows Bitcoin
//! Core's `EvalScript` / `VerifyScript` for legacy (non-witness) scripts opcode for opcode,
//! including its limits (10,000-byte scripts, 520-byte elements, 201 non-push operations, 1,000
//! stack items, 20 keys per multisig), its quirks (CHECKMULTISIG's extra pop, FindAndDelete,
//! OP_CODESEPARATOR) and its error names, and it passes Bitcoin Core's `script_tests.json`.
//!
//! The crate does no I/O and knows nothing of the chain: signatures and lock times are checked
//! through the [`SignatureChecker`] trait, so the chain plugs in its own signature hash.
//!
//! # Example
//! ```
//! use i8o8i_script_vm::{parse_asm, verify_script, NoSignatureChecker, ScriptError, VerifyFlags};
//!
//! let script_pubkey = parse_asm("SHA256 0x20 0x2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 EQUAL")?;
//! let flags: VerifyFlags = "P2SH,STRICTENC,MINIMALDATA".parse()?;
//! assert_eq!(verify_script(&parse_asm("'hello'")?, &script_pubkey, flags, &NoSignatureChecker), Ok(()));
//! assert_eq!(
//!     verify_script(&parse_asm("'hullo'")?, &script_pubkey, flags, &NoSignatureChecker),
//!     Err(ScriptError::EvalFalse)
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//! - `bitcoin-compat`: Bitcoin's legacy transaction format, signature hash and a
//!   [`SignatureChecker`] over them (`bitcoin_compat::BitcoinChecker`), used to run Bitcoin
//!   Core's test vectors and to compare against Core's own interpreter.
//! - `scale`: SCALE (`parity-scale-codec`) `Encode` / `Decode` for [`ScriptBuf`], encoded exactly
//!   as a SCALE `Vec<u8>`, so chain types that hold scripts can derive the codec.

pub mod asm;
#[cfg(feature = "bitcoin-compat")]
pub mod bitcoin_compat;
pub mod checker;
mod error;
mod flags;
pub mod interpreter;
mod num;
pub mod opcodes;
#[cfg(feature = "scale")]
mod scale;
mod script;
pub mod templates;

pub use asm::{AsmError, parse_asm};
pub use checker::{
    NoSignatureChecker, SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE,
    SignatureChecker,
};
pub use error::ScriptError;
pub use flags::{UnknownFlag, VerifyFlags};
pub use interpreter::{Stack, cast_to_bool, eval_script, sig_op_count, verify_script};
pub use num::{ScriptNum, ScriptNumError, is_minimally_encoded};
pub use opcodes::Opcode;
pub use script::{
    Builder, Instruction, InstructionError, Instructions, Script, ScriptBuf, is_minimal_push,
};

/// Maximum script length in bytes.
pub const MAX_SCRIPT_SIZE: usize = 10_000;
/// Maximum size of a stack element (and of a push) in bytes.
pub const MAX_SCRIPT_ELEMENT_SIZE: usize = 520;
/// Maximum number of non-push operations per script (multisig keys count too).
pub const MAX_OPS_PER_SCRIPT: usize = 201;
/// Maximum number of items on the stack and alt stack together.
pub const MAX_STACK_SIZE: usize = 1_000;
/// Maximum number of public keys in one CHECKMULTISIG.
pub const MAX_PUBKEYS_PER_MULTISIG: i32 = 20;
