//! Script verification of transaction inputs: the chain's [`SignatureChecker`] and the consensus
//! script flags.

use i8o8i_script_vm::checker::{lock_time_satisfied, sequence_satisfied, verify_ecdsa};
use i8o8i_script_vm::{Script, ScriptError, SignatureChecker, VerifyFlags, verify_script};

use i8o8i_primitives::amount::Amount;
use i8o8i_primitives::hash::Hash256;
use i8o8i_primitives::sighash::SighashCache;
use i8o8i_primitives::transaction::{Transaction, TxOut};

/// The script rules every input must satisfy. Beyond Bitcoin's consensus set they include the
/// rules Bitcoin leaves to policy — strict, low-S DER signatures, NULLDUMMY, push-only script_sig,
/// minimal pushes, clean stack, NULLFAIL — because the txid covers the whole transaction and
/// these rules are what close third-party malleability.
pub const CONSENSUS_SCRIPT_FLAGS: VerifyFlags = VerifyFlags::P2SH
    .union(VerifyFlags::STRICTENC)
    .union(VerifyFlags::DERSIG)
    .union(VerifyFlags::LOW_S)
    .union(VerifyFlags::NULLDUMMY)
    .union(VerifyFlags::SIGPUSHONLY)
    .union(VerifyFlags::MINIMALDATA)
    .union(VerifyFlags::CLEANSTACK)
    .union(VerifyFlags::CHECKLOCKTIMEVERIFY)
    .union(VerifyFlags::CHECKSEQUENCEVERIFY)
    .union(VerifyFlags::NULLFAIL);

/// The [`SignatureChecker`] for one input of a transaction: signatures are checked against this
/// chain's [signature hash](i8o8i_primitives::sighash), lock times against the transaction.
///
/// The transaction is the cache's, so the two cannot disagree.
#[derive(Debug, Clone, Copy)]
pub struct TransactionChecker<'a> {
    tx: &'a Transaction,
    cache: &'a SighashCache<'a>,
    chain_id: &'a Hash256,
    input_index: usize,
    spent_value: Amount,
}

impl<'a> TransactionChecker<'a> {
    /// A checker for input `input_index` of the cache's transaction, which spends an output worth
    /// `spent_value`, on the chain whose genesis hash is `chain_id`. An index past the inputs
    /// makes every check fail.
    pub fn new(
        cache: &'a SighashCache<'a>,
        chain_id: &'a Hash256,
        input_index: usize,
        spent_value: Amount,
    ) -> Self {
        TransactionChecker {
            tx: cache.transaction(),
            cache,
            chain_id,
            input_index,
            spent_value,
        }
    }

    /// The input's sequence, or `None` if the index is out of range.
    fn sequence(&self) -> Option<u32> {
        self.tx.inputs.get(self.input_index).map(|i| i.sequence)
    }
}

impl SignatureChecker for TransactionChecker<'_> {
    /// Splits off the hash-type byte, computes the signature hash (any [`i8o8i_primitives::SighashError`]
    /// means `false`) and verifies the DER signature. Encoding rules (strict DER, low S, defined
    /// hash type) are the interpreter's, applied before this is called.
    fn check_ecdsa_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &Script) -> bool {
        let Some((&hash_type, der)) = sig.split_last() else {
            return false;
        };
        match self.cache.signature_hash(
            self.chain_id,
            self.input_index,
            script_code,
            self.spent_value,
            hash_type,
        ) {
            Ok(sighash) => verify_ecdsa(der, pubkey, &sighash),
            Err(_) => false,
        }
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        self.sequence()
            .is_some_and(|seq| lock_time_satisfied(lock_time, self.tx.lock_time, seq))
    }

    fn check_sequence(&self, sequence: i64) -> bool {
        self.sequence()
            .is_some_and(|seq| sequence_satisfied(sequence, self.tx.version, seq))
    }
}

/// Verifies input `input_index` of the cache's transaction against the output it spends, under
/// [`CONSENSUS_SCRIPT_FLAGS`].
///
/// The transaction is taken from `cache` (there is no separate transaction argument that could
/// disagree with it).
///
/// # Errors
/// The [`ScriptError`] that makes the spend invalid; [`ScriptError::UnknownError`] if
/// `input_index` is out of range.
pub fn verify_input(
    cache: &SighashCache<'_>,
    chain_id: &Hash256,
    input_index: usize,
    spent: &TxOut,
) -> Result<(), ScriptError> {
    let input = cache
        .transaction()
        .inputs
        .get(input_index)
        .ok_or(ScriptError::UnknownError)?;
    let checker = TransactionChecker::new(cache, chain_id, input_index, spent.value);
    verify_script(
        &input.script_sig,
        &spent.script_pubkey,
        CONSENSUS_SCRIPT_FLAGS,
        &checker,
    )
}

#[cfg(test)]
mod tests;
