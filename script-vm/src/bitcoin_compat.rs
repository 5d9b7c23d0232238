//! Bitcoin's legacy transaction and signature hash (feature `bitcoin-compat`).
//!
//! The I8o8iCoin chain hashes transactions its own way; this module exists so that Bitcoin
//! Core's script test vectors (and Core's interpreter, as a differential oracle) can run against
//! this crate unchanged. It implements the original `SignatureHash`, quirks included:
//! `OP_CODESEPARATOR` removal from the script code, the SIGHASH_SINGLE "one" hash when the input
//! has no matching output, and the caller-side `FindAndDelete` done by the interpreter.

use sha2::{Digest, Sha256};

use crate::checker::{
    SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE, SignatureChecker, lock_time_satisfied,
    sequence_satisfied,
};
use crate::interpreter::verify_ecdsa_with_hashtype;
use crate::opcodes::OP_CODESEPARATOR;
use crate::script::{Script, ScriptBuf, read_op};

/// A transaction output reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutPoint {
    /// Txid of the funding transaction, in internal byte order.
    pub txid: [u8; 32],
    /// Output index.
    pub vout: u32,
}

/// A legacy (non-witness) transaction input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    /// The output spent.
    pub prevout: OutPoint,
    /// The unlocking script.
    pub script_sig: ScriptBuf,
    /// nSequence.
    pub sequence: u32,
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// Value in satoshis (signed, as in Bitcoin's serialization: the null output is -1).
    pub value: i64,
    /// The locking script.
    pub script_pubkey: ScriptBuf,
}

/// A legacy Bitcoin transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// nVersion.
    pub version: i32,
    /// Inputs.
    pub inputs: Vec<TxIn>,
    /// Outputs.
    pub outputs: Vec<TxOut>,
    /// nLockTime.
    pub lock_time: u32,
}

fn write_compact_size(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
    }
}

fn write_script(out: &mut Vec<u8>, script: &[u8]) {
    write_compact_size(out, script.len());
    out.extend_from_slice(script);
}

/// Bitcoin's double SHA-256.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

impl Transaction {
    /// Bitcoin's legacy serialization.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&self.version.to_le_bytes());
        write_compact_size(&mut out, self.inputs.len());
        for i in &self.inputs {
            out.extend_from_slice(&i.prevout.txid);
            out.extend_from_slice(&i.prevout.vout.to_le_bytes());
            write_script(&mut out, i.script_sig.as_bytes());
            out.extend_from_slice(&i.sequence.to_le_bytes());
        }
        write_compact_size(&mut out, self.outputs.len());
        for o in &self.outputs {
            out.extend_from_slice(&o.value.to_le_bytes());
            write_script(&mut out, o.script_pubkey.as_bytes());
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
        out
    }

    /// The txid: double SHA-256 of the serialization, internal byte order.
    pub fn txid(&self) -> [u8; 32] {
        sha256d(&self.serialize())
    }

    /// The transaction pair Bitcoin Core's script tests run in: a coinbase-like "crediting"
    /// transaction with one output locked by `script_pubkey`, and a "spending" transaction whose
    /// only input spends it with `script_sig`. Lock times 0, sequences final, version 1.
    pub fn test_spend_pair(
        script_sig: &Script,
        script_pubkey: &Script,
        value: i64,
    ) -> (Transaction, Transaction) {
        let credit = Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint {
                    txid: [0; 32],
                    vout: u32::MAX,
                },
                script_sig: ScriptBuf::from_bytes(vec![0x00, 0x00]),
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value,
                script_pubkey: script_pubkey.to_script_buf(),
            }],
            lock_time: 0,
        };
        let spend = Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint {
                    txid: credit.txid(),
                    vout: 0,
                },
                script_sig: script_sig.to_script_buf(),
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value,
                script_pubkey: ScriptBuf::new(),
            }],
            lock_time: 0,
        };
        (credit, spend)
    }

    /// Bitcoin's legacy `SignatureHash` for input `input` with `script_code` and `hash_type`
    /// (the full hash-type byte, as it is appended to the preimage).
    pub fn legacy_sighash(&self, input: usize, script_code: &Script, hash_type: u8) -> [u8; 32] {
        // Out-of-range cases hash to 1, a famous quirk that signatures can (and did) commit to.
        const ONE: [u8; 32] = {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        };
        let base = hash_type & 0x1f;
        if input >= self.inputs.len() || (base == SIGHASH_SINGLE && input >= self.outputs.len()) {
            return ONE;
        }
        let anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY != 0;
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&self.version.to_le_bytes());

        let inputs: Box<dyn Iterator<Item = (usize, &TxIn)>> = if anyone_can_pay {
            write_compact_size(&mut out, 1);
            Box::new(core::iter::once((input, &self.inputs[input])))
        } else {
            write_compact_size(&mut out, self.inputs.len());
            Box::new(self.inputs.iter().enumerate())
        };
        for (i, txin) in inputs {
            out.extend_from_slice(&txin.prevout.txid);
            out.extend_from_slice(&txin.prevout.vout.to_le_bytes());
            if i == input {
                write_script(&mut out, &without_codeseparators(script_code.as_bytes()));
            } else {
                write_compact_size(&mut out, 0);
            }
            let zero_sequence = i != input && (base == SIGHASH_NONE || base == SIGHASH_SINGLE);
            out.extend_from_slice(&if zero_sequence { 0 } else { txin.sequence }.to_le_bytes());
        }

        let n_outputs = match base {
            SIGHASH_NONE => 0,
            SIGHASH_SINGLE => input + 1,
            _ => self.outputs.len(),
        };
        write_compact_size(&mut out, n_outputs);
        for (i, o) in self.outputs.iter().take(n_outputs).enumerate() {
            if base == SIGHASH_SINGLE && i != input {
                // A "null" output: value -1, empty script.
                out.extend_from_slice(&(-1i64).to_le_bytes());
                write_compact_size(&mut out, 0);
            } else {
                out.extend_from_slice(&o.value.to_le_bytes());
                write_script(&mut out, o.script_pubkey.as_bytes());
            }
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
        out.extend_from_slice(&u32::from(hash_type).to_le_bytes());
        sha256d(&out)
    }
}

/// The script code with every `OP_CODESEPARATOR` removed, as the legacy serializer writes it.
/// A malformed tail is copied as it is.
fn without_codeseparators(code: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(code.len());
    let (mut pc, mut start) = (0usize, 0usize);
    while let Some((op, _)) = read_op(code, &mut pc) {
        if op == OP_CODESEPARATOR {
            out.extend_from_slice(&code[start..pc - 1]);
            start = pc;
        }
    }
    out.extend_from_slice(&code[start..]);
    out
}

/// Bitcoin Core's `GenericTransactionSignatureChecker` for legacy inputs.
#[derive(Debug, Clone, Copy)]
pub struct BitcoinChecker<'a> {
    tx: &'a Transaction,
    input: usize,
}

impl<'a> BitcoinChecker<'a> {
    /// A checker for input `input` of `tx`.
    pub fn new(tx: &'a Transaction, input: usize) -> Self {
        BitcoinChecker { tx, input }
    }
}

impl SignatureChecker for BitcoinChecker<'_> {
    fn check_ecdsa_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &Script) -> bool {
        let Some(&hash_type) = sig.last() else {
            return false;
        };
        // Core parses the public key before hashing; skip the hash for obviously bad keys.
        if !matches!(
            (pubkey.first(), pubkey.len()),
            (Some(2 | 3), 33) | (Some(4 | 6 | 7), 65)
        ) {
            return false;
        }
        let sighash = self.tx.legacy_sighash(self.input, script_code, hash_type);
        verify_ecdsa_with_hashtype(sig, pubkey, &sighash)
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        let Some(input) = self.tx.inputs.get(self.input) else {
            return false;
        };
        lock_time_satisfied(lock_time, self.tx.lock_time, input.sequence)
    }

    fn check_sequence(&self, sequence: i64) -> bool {
        let Some(input) = self.tx.inputs.get(self.input) else {
            return false;
        };
        sequence_satisfied(sequence, self.tx.version as u32, input.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codeseparators_are_removed_at_instruction_boundaries_only() {
        assert_eq!(
            without_codeseparators(&[0xab, 0x51, 0xab, 0xab, 0x01, 0xab]),
            vec![0x51, 0x01, 0xab]
        );
        assert_eq!(without_codeseparators(&[0x05, 0xab]), vec![0x05, 0xab]);
    }

    #[test]
    fn sighash_single_without_matching_output_is_one() {
        let (_, mut spend) =
            Transaction::test_spend_pair(Script::from_bytes(&[]), Script::from_bytes(&[0x51]), 0);
        spend.outputs.clear();
        let h = spend.legacy_sighash(0, Script::from_bytes(&[]), SIGHASH_SINGLE);
        assert_eq!(h[0], 1);
        assert!(h[1..].iter().all(|&b| b == 0));
        assert_eq!(spend.legacy_sighash(5, Script::from_bytes(&[]), 1)[0], 1);
    }

    #[test]
    fn compact_size_boundaries() {
        for (n, len) in [(0xfc, 1), (0xfd, 3), (0xffff, 3), (0x1_0000, 5)] {
            let mut v = Vec::new();
            write_compact_size(&mut v, n);
            assert_eq!(v.len(), len, "{n}");
        }
    }
}
