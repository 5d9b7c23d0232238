//! Verification flags, with Bitcoin Core's names and bit values.

use core::{fmt, str::FromStr};

bitflags::bitflags! {
    /// Script verification flags (`SCRIPT_VERIFY_*` in Bitcoin Core's `interpreter.h`), with the
    /// same bit values, so a flags word is interchangeable with Core's and libbitcoinconsensus'.
    ///
    /// The witness and taproot flags are accepted so that flag strings from Bitcoin tooling parse,
    /// but they have no effect: this interpreter has no witness context.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct VerifyFlags: u32 {
        /// BIP16: evaluate P2SH redeem scripts.
        const P2SH = 1 << 0;
        /// Strict signature and public key encoding, defined hash types.
        const STRICTENC = 1 << 1;
        /// BIP66: strict DER signatures.
        const DERSIG = 1 << 2;
        /// BIP146: S values in the lower half of the curve order.
        const LOW_S = 1 << 3;
        /// BIP147: CHECKMULTISIG's dummy element must be empty.
        const NULLDUMMY = 1 << 4;
        /// scriptSig may contain only pushes.
        const SIGPUSHONLY = 1 << 5;
        /// Pushes and numeric operands must use the shortest encoding.
        const MINIMALDATA = 1 << 6;
        /// Executing an upgradable NOP fails.
        const DISCOURAGE_UPGRADABLE_NOPS = 1 << 7;
        /// Exactly one stack item must remain after evaluation.
        const CLEANSTACK = 1 << 8;
        /// BIP65: OP_CHECKLOCKTIMEVERIFY.
        const CHECKLOCKTIMEVERIFY = 1 << 9;
        /// BIP112: OP_CHECKSEQUENCEVERIFY.
        const CHECKSEQUENCEVERIFY = 1 << 10;
        /// BIP141 (accepted, no effect here).
        const WITNESS = 1 << 11;
        /// Witness only (accepted, no effect here).
        const DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 1 << 12;
        /// Witness only (accepted, no effect here).
        const MINIMALIF = 1 << 13;
        /// BIP146: a failing signature check must use an empty signature.
        const NULLFAIL = 1 << 14;
        /// Witness only (accepted, no effect here).
        const WITNESS_PUBKEYTYPE = 1 << 15;
        /// OP_CODESEPARATOR and FindAndDelete hits make legacy scripts fail.
        const CONST_SCRIPTCODE = 1 << 16;
        /// BIP341/342 (accepted, no effect here).
        const TAPROOT = 1 << 17;
        /// Taproot only (accepted, no effect here).
        const DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 1 << 18;
        /// Tapscript only (accepted, no effect here).
        const DISCOURAGE_OP_SUCCESS = 1 << 19;
        /// Tapscript only (accepted, no effect here).
        const DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 1 << 20;
    }
}

/// A flag name in a flags string that is not one of Bitcoin Core's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown script verification flag `{0}`")]
pub struct UnknownFlag(pub String);

impl FromStr for VerifyFlags {
    type Err = UnknownFlag;

    /// Parses Bitcoin Core's comma-separated form (`"P2SH,STRICTENC"`); `""` and `"NONE"` are no flags.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut flags = VerifyFlags::empty();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "NONE" {
                continue;
            }
            flags |= VerifyFlags::from_name(name).ok_or_else(|| UnknownFlag(name.to_owned()))?;
        }
        Ok(flags)
    }
}

impl fmt::Display for VerifyFlags {
    /// Bitcoin Core's comma-separated form; `NONE` for no flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("NONE");
        }
        for (i, (name, _)) in self.iter_names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_flag_strings() {
        let f: VerifyFlags = "P2SH,STRICTENC".parse().unwrap();
        assert_eq!(f, VerifyFlags::P2SH | VerifyFlags::STRICTENC);
        assert_eq!("".parse::<VerifyFlags>().unwrap(), VerifyFlags::empty());
        assert_eq!("NONE".parse::<VerifyFlags>().unwrap(), VerifyFlags::empty());
        assert_eq!(
            " DERSIG , LOW_S ".parse::<VerifyFlags>().unwrap(),
            VerifyFlags::DERSIG | VerifyFlags::LOW_S
        );
    }

    #[test]
    fn unknown_flag_is_named_in_the_error() {
        let err = "P2SH,SEGWIT".parse::<VerifyFlags>().unwrap_err();
        assert_eq!(err, UnknownFlag("SEGWIT".into()));
        assert_eq!(err.to_string(), "unknown script verification flag `SEGWIT`");
    }

    #[test]
    fn display_round_trips_every_flag() {
        for (name, flag) in VerifyFlags::all().iter_names() {
            assert_eq!(flag.to_string(), name);
            assert_eq!(name.parse::<VerifyFlags>().unwrap(), flag);
        }
        let all = VerifyFlags::all();
        assert_eq!(all.to_string().parse::<VerifyFlags>().unwrap(), all);
        assert_eq!(VerifyFlags::empty().to_string(), "NONE");
    }

    #[test]
    fn bit_values_match_bitcoin_core() {
        assert_eq!(VerifyFlags::P2SH.bits(), 1);
        assert_eq!(VerifyFlags::NULLDUMMY.bits(), 16);
        assert_eq!(VerifyFlags::CHECKLOCKTIMEVERIFY.bits(), 512);
        assert_eq!(VerifyFlags::CHECKSEQUENCEVERIFY.bits(), 1024);
        assert_eq!(VerifyFlags::WITNESS.bits(), 2048);
        assert_eq!(VerifyFlags::TAPROOT.bits(), 1 << 17);
    }
}
