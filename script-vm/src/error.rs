//! The script error type: one variant per Bitcoin Core `ScriptError`.

use thiserror::Error;

macro_rules! script_errors {
    ($( $(#[doc = $doc:literal])* $variant:ident => $core:literal, $msg:literal; )*) => {
        /// Why a script failed, with one variant for each of Bitcoin Core's `ScriptError` values
        /// (`src/script/script_error.h`). [`ScriptError::core_name`] gives the name used in Core's
        /// test vectors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
        #[non_exhaustive]
        pub enum ScriptError {
            $( $(#[doc = $doc])* #[error($msg)] $variant, )*
        }

        impl ScriptError {
            /// Every variant, in Bitcoin Core's order.
            pub const ALL: &'static [ScriptError] = &[$(ScriptError::$variant,)*];

            /// The name Bitcoin Core's `script_tests.json` uses for this error (`EVAL_FALSE`, ...).
            pub const fn core_name(self) -> &'static str {
                match self { $(ScriptError::$variant => $core,)* }
            }

            /// Looks an error up by its Bitcoin Core name.
            pub fn from_core_name(name: &str) -> Option<ScriptError> {
                Self::ALL.iter().copied().find(|e| e.core_name() == name)
            }
        }
    };
}

script_errors! {
    /// An unexpected internal condition.
    UnknownError => "UNKNOWN_ERROR", "unknown error";
    /// The script finished with an empty stack or a false top item.
    EvalFalse => "EVAL_FALSE", "script evaluated without error but finished with a false/empty top stack element";
    /// OP_RETURN was executed.
    OpReturn => "OP_RETURN", "OP_RETURN was encountered";
    /// A numeric operand was too long, or not minimal under MINIMALDATA.
    ScriptNum => "SCRIPTNUM", "script number overflow or non-minimal encoding";
    /// The script is longer than 10,000 bytes.
    ScriptSize => "SCRIPT_SIZE", "script is too big";
    /// A push is larger than 520 bytes.
    PushSize => "PUSH_SIZE", "push value size limit exceeded";
    /// More than 201 non-push operations.
    OpCount => "OP_COUNT", "operation limit exceeded";
    /// Stack plus alt stack exceed 1,000 items.
    StackSize => "STACK_SIZE", "stack size limit exceeded";
    /// CHECKMULTISIG signature count out of range.
    SigCount => "SIG_COUNT", "signature count negative or greater than pubkey count";
    /// CHECKMULTISIG key count out of range (0..=20).
    PubkeyCount => "PUBKEY_COUNT", "pubkey count negative or limit exceeded";
    /// OP_VERIFY found a false value.
    Verify => "VERIFY", "script failed an OP_VERIFY operation";
    /// OP_EQUALVERIFY found unequal items.
    EqualVerify => "EQUALVERIFY", "script failed an OP_EQUALVERIFY operation";
    /// OP_CHECKMULTISIGVERIFY failed.
    CheckMultisigVerify => "CHECKMULTISIGVERIFY", "script failed an OP_CHECKMULTISIGVERIFY operation";
    /// OP_CHECKSIGVERIFY failed.
    CheckSigVerify => "CHECKSIGVERIFY", "script failed an OP_CHECKSIGVERIFY operation";
    /// OP_NUMEQUALVERIFY failed.
    NumEqualVerify => "NUMEQUALVERIFY", "script failed an OP_NUMEQUALVERIFY operation";
    /// An unknown or reserved opcode was executed, or a push ran past the end of the script.
    BadOpcode => "BAD_OPCODE", "opcode missing or not understood";
    /// A disabled opcode (OP_CAT, OP_MUL, ...) appears in the script.
    DisabledOpcode => "DISABLED_OPCODE", "attempted to use a disabled opcode";
    /// An operation needed more stack items than there are.
    InvalidStackOperation => "INVALID_STACK_OPERATION", "operation not valid with the current stack size";
    /// OP_FROMALTSTACK on an empty alt stack.
    InvalidAltstackOperation => "INVALID_ALTSTACK_OPERATION", "operation not valid with the current altstack size";
    /// IF/ELSE/ENDIF do not balance.
    UnbalancedConditional => "UNBALANCED_CONDITIONAL", "invalid OP_IF construction";
    /// CLTV/CSV operand is negative.
    NegativeLocktime => "NEGATIVE_LOCKTIME", "negative locktime";
    /// CLTV/CSV lock is not satisfied by the spending transaction.
    UnsatisfiedLocktime => "UNSATISFIED_LOCKTIME", "locktime requirement not satisfied";
    /// STRICTENC: undefined signature hash type.
    SigHashtype => "SIG_HASHTYPE", "signature hash type missing or not understood";
    /// A signature is not strict DER.
    SigDer => "SIG_DER", "non-canonical DER signature";
    /// MINIMALDATA: a push did not use the shortest form.
    MinimalData => "MINIMALDATA", "data push larger than necessary";
    /// The scriptSig contains non-push operations.
    SigPushOnly => "SIG_PUSHONLY", "only push operators allowed in signatures";
    /// LOW_S: the signature's S value is in the upper half of the curve order.
    SigHighS => "SIG_HIGH_S", "non-canonical signature: S value is unnecessarily high";
    /// NULLDUMMY: CHECKMULTISIG's extra item is not empty.
    SigNullDummy => "SIG_NULLDUMMY", "dummy CHECKMULTISIG argument must be zero";
    /// STRICTENC: public key is neither compressed nor uncompressed.
    PubkeyType => "PUBKEYTYPE", "public key is neither compressed or uncompressed";
    /// CLEANSTACK: more than one item left after evaluation.
    CleanStack => "CLEANSTACK", "stack size must be exactly one after execution";
    /// Witness MINIMALIF (never raised outside witness scripts).
    MinimalIf => "MINIMALIF", "OP_IF/NOTIF argument must be minimal";
    /// NULLFAIL: a failing signature check had a non-empty signature.
    SigNullFail => "NULLFAIL", "signature must be zero for failed CHECK(MULTI)SIG operation";
    /// DISCOURAGE_UPGRADABLE_NOPS: an upgradable NOP was executed.
    DiscourageUpgradableNops => "DISCOURAGE_UPGRADABLE_NOPS", "NOPx reserved for soft-fork upgrades";
    /// Witness only.
    DiscourageUpgradableWitnessProgram => "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM", "witness version reserved for soft-fork upgrades";
    /// Taproot only.
    DiscourageUpgradableTaprootVersion => "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION", "taproot version reserved for soft-fork upgrades";
    /// Tapscript only.
    DiscourageOpSuccess => "DISCOURAGE_OP_SUCCESS", "OP_SUCCESSx reserved for soft-fork upgrades";
    /// Tapscript only.
    DiscourageUpgradablePubkeyType => "DISCOURAGE_UPGRADABLE_PUBKEYTYPE", "public key version reserved for soft-fork upgrades";
    /// Witness only.
    WitnessProgramWrongLength => "WITNESS_PROGRAM_WRONG_LENGTH", "witness program has incorrect length";
    /// Witness only.
    WitnessProgramWitnessEmpty => "WITNESS_PROGRAM_WITNESS_EMPTY", "witness program was passed an empty witness";
    /// Witness only.
    WitnessProgramMismatch => "WITNESS_PROGRAM_MISMATCH", "witness program hash mismatch";
    /// Witness only.
    WitnessMalleated => "WITNESS_MALLEATED", "witness requires empty scriptSig";
    /// Witness only.
    WitnessMalleatedP2sh => "WITNESS_MALLEATED_P2SH", "witness requires only-redeemscript scriptSig";
    /// Witness only.
    WitnessUnexpected => "WITNESS_UNEXPECTED", "witness provided for non-witness script";
    /// Witness only.
    WitnessPubkeyType => "WITNESS_PUBKEYTYPE", "using non-compressed keys in segwit";
    /// Taproot only.
    SchnorrSigSize => "SCHNORR_SIG_SIZE", "invalid Schnorr signature size";
    /// Taproot only.
    SchnorrSigHashtype => "SCHNORR_SIG_HASHTYPE", "invalid Schnorr signature hash type";
    /// Taproot only.
    SchnorrSig => "SCHNORR_SIG", "invalid Schnorr signature";
    /// Taproot only.
    TaprootWrongControlSize => "TAPROOT_WRONG_CONTROL_SIZE", "invalid Taproot control block size";
    /// Tapscript only.
    TapscriptValidationWeight => "TAPSCRIPT_VALIDATION_WEIGHT", "too much signature validation relative to witness weight";
    /// Tapscript only.
    TapscriptCheckMultisig => "TAPSCRIPT_CHECKMULTISIG", "OP_CHECKMULTISIG(VERIFY) is not available in tapscript";
    /// Tapscript only.
    TapscriptMinimalIf => "TAPSCRIPT_MINIMALIF", "OP_IF/NOTIF argument must be minimal in tapscript";
    /// Tapscript only.
    TapscriptEmptyPubkey => "TAPSCRIPT_EMPTY_PUBKEY", "empty public key in tapscript";
    /// CONST_SCRIPTCODE: OP_CODESEPARATOR in a legacy script.
    OpCodeseparator => "OP_CODESEPARATOR", "using OP_CODESEPARATOR in non-witness script";
    /// CONST_SCRIPTCODE: the signature appears in the script code (FindAndDelete would change it).
    SigFindAndDelete => "SIG_FINDANDDELETE", "signature is found in scriptCode";
}

#[cfg(test)]
mod tests {
    use super::ScriptError;

    #[test]
    fn core_names_are_unique_and_round_trip() {
        for e in ScriptError::ALL {
            assert_eq!(ScriptError::from_core_name(e.core_name()), Some(*e));
        }
        assert_eq!(ScriptError::from_core_name("OK"), None);
    }
}
