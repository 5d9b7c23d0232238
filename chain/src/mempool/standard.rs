//! Standardness: which transactions the pool relays, beyond what consensus allows (Bitcoin
//! Core's `IsStandardTx`, `policy/policy.cpp`). Blocks may still hold anything consensus
//! accepts; the pool only refuses to carry shapes that are cheap to create and costly, or
//! useless, for everyone else to hold and verify.

use i8o8i_primitives::Transaction;
use i8o8i_script_vm::templates::{Template, classify};

/// Most keys in a bare (not P2SH) multisig output (Core: bare multisig beyond 3 keys is not
/// standard, so one output cannot make every verifier check 20 signatures).
pub const MAX_BARE_MULTISIG_KEYS: usize = 3;
/// Largest `OP_RETURN` output script (Core's `MAX_OP_RETURN_RELAY`: 80 bytes of data).
pub const MAX_NULL_DATA_SCRIPT: usize = 83;
/// Largest input script (Core's `MAX_STANDARD_SCRIPTSIG_SIZE`: a 15-of-15 P2SH multisig fits).
pub const MAX_SCRIPT_SIG: usize = 1_650;

/// Why a transaction is not standard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonStandard {
    /// An output script of no known template.
    #[error("output {0} has a script of no standard template")]
    OutputScript(usize),
    /// A bare multisig output with too many keys, or requiring none or more than it has.
    #[error("output {index} is a bare {required}-of-{keys} multisig (at most {max} keys)", max = MAX_BARE_MULTISIG_KEYS)]
    BareMultisig {
        /// The output.
        index: usize,
        /// Signatures it requires.
        required: usize,
        /// Keys it lists.
        keys: usize,
    },
    /// An `OP_RETURN` output over the size limit.
    #[error("output {index} carries a {size}-byte data script (at most {max})", max = MAX_NULL_DATA_SCRIPT)]
    DataTooLarge {
        /// The output.
        index: usize,
        /// Its script size.
        size: usize,
    },
    /// More than one `OP_RETURN` output.
    #[error("more than one data (OP_RETURN) output")]
    MultipleDataOutputs,
    /// An input script over the size limit.
    #[error("input {index} has a {size}-byte script (at most {max})", max = MAX_SCRIPT_SIG)]
    ScriptSigTooLarge {
        /// The input.
        index: usize,
        /// Its script size.
        size: usize,
    },
    /// An input script that does more than push data.
    #[error("input {0} has a script that is not push-only")]
    ScriptSigNotPushOnly(usize),
}

/// Checks `tx` against relay policy: every output of a standard template (bare multisig of at
/// most 3 keys, one `OP_RETURN` of at most 83 bytes), every input script push-only and at
/// most 1,650 bytes.
///
/// # Errors
/// The first [`NonStandard`] found.
pub fn check_standard(tx: &Transaction) -> Result<(), NonStandard> {
    let mut data_outputs = 0;
    for (index, output) in tx.outputs.iter().enumerate() {
        let script = output.script_pubkey.as_script();
        match classify(script) {
            Template::NonStandard => return Err(NonStandard::OutputScript(index)),
            Template::Multisig { required, pubkeys } => {
                let required = usize::from(required);
                if pubkeys.len() > MAX_BARE_MULTISIG_KEYS
                    || required == 0
                    || required > pubkeys.len()
                {
                    return Err(NonStandard::BareMultisig {
                        index,
                        required,
                        keys: pubkeys.len(),
                    });
                }
            }
            Template::NullData { .. } => {
                if script.len() > MAX_NULL_DATA_SCRIPT {
                    return Err(NonStandard::DataTooLarge {
                        index,
                        size: script.len(),
                    });
                }
                data_outputs += 1;
                if data_outputs > 1 {
                    return Err(NonStandard::MultipleDataOutputs);
                }
            }
            _ => {}
        }
    }
    for (index, input) in tx.inputs.iter().enumerate() {
        let size = input.script_sig.len();
        if size > MAX_SCRIPT_SIG {
            return Err(NonStandard::ScriptSigTooLarge { index, size });
        }
        if !input.script_sig.is_push_only() {
            return Err(NonStandard::ScriptSigNotPushOnly(index));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use i8o8i_primitives::test_utils::{public_key, sample_transaction, secret_key};
    use i8o8i_primitives::{Amount, TxOut};
    use i8o8i_script_vm::{ScriptBuf, templates};

    use super::*;

    fn with_outputs(scripts: &[ScriptBuf]) -> Transaction {
        let mut tx = sample_transaction();
        tx.outputs = scripts
            .iter()
            .map(|s| TxOut {
                value: Amount::from_units(1),
                script_pubkey: s.clone(),
            })
            .collect();
        tx
    }

    fn keys(n: u8) -> Vec<[u8; 33]> {
        (1..=n).map(|i| public_key(&secret_key(i))).collect()
    }

    fn multisig(required: usize, n: u8) -> ScriptBuf {
        let keys = keys(n);
        let refs: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        templates::multisig(required, &refs).unwrap()
    }

    #[test]
    fn bare_multisig_is_standard_up_to_three_keys() {
        assert_eq!(check_standard(&with_outputs(&[multisig(2, 3)])), Ok(()));
        assert_eq!(
            check_standard(&with_outputs(&[multisig(1, 4)])),
            Err(NonStandard::BareMultisig {
                index: 0,
                required: 1,
                keys: 4
            })
        );
        // Behind P2SH the same 20 keys are a 23-byte standard output.
        assert_eq!(
            check_standard(&with_outputs(&[templates::p2sh_for(&multisig(1, 15))])),
            Ok(())
        );
    }

    #[test]
    fn data_outputs_are_one_of_at_most_83_bytes() {
        let data = templates::null_data(&[7; 80]);
        assert_eq!(data.len(), 83);
        assert_eq!(
            check_standard(&with_outputs(std::slice::from_ref(&data))),
            Ok(())
        );
        assert_eq!(
            check_standard(&with_outputs(&[templates::null_data(&[7; 81])])),
            Err(NonStandard::DataTooLarge { index: 0, size: 84 })
        );
        assert_eq!(
            check_standard(&with_outputs(&[data.clone(), data])),
            Err(NonStandard::MultipleDataOutputs)
        );
    }

    #[test]
    fn unknown_output_scripts_and_non_push_input_scripts_are_not_standard() {
        let op_true = ScriptBuf::from_bytes(vec![0x51]);
        assert_eq!(
            check_standard(&with_outputs(&[op_true])),
            Err(NonStandard::OutputScript(0))
        );
        let mut tx = with_outputs(&[multisig(1, 1)]);
        // OP_DUP is not a push.
        tx.inputs[1].script_sig = ScriptBuf::from_bytes(vec![0x76]);
        assert_eq!(
            check_standard(&tx),
            Err(NonStandard::ScriptSigNotPushOnly(1))
        );
        tx.inputs[1].script_sig = ScriptBuf::from_bytes(vec![0x51; 1_651]);
        assert_eq!(
            check_standard(&tx),
            Err(NonStandard::ScriptSigTooLarge {
                index: 1,
                size: 1_651
            })
        );
    }
}
