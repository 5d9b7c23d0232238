//! Building a wallet transaction: coin selection, the size-based fee, change, and P2PKH
//! signing. The caller (the node's wallet RPC today) supplies the spendable coins; this module
//! decides which to use and signs with the wallet's keys, without knowing where coins come from.

use i8o8i_primitives::sign_p2pkh_input;
use i8o8i_primitives::{
    Amount, Hash256, OutPoint, Payload, SighashError, Transaction, TxIn, TxOut,
};
use i8o8i_script_vm::{SIGHASH_ALL, ScriptBuf};
use parity_scale_codec::Encode;

use crate::error::WalletError;
use crate::hd::Chain;
use crate::store::Wallet;

/// Outputs worth less than this many base units are not created (Bitcoin Core's dust limit
/// for P2PKH at its default relay fee): change below it goes to the fee.
pub const DUST_LIMIT: u64 = 546;

/// What a wallet transaction pays for.
#[derive(Debug, Clone)]
pub struct Spend {
    /// Declared outputs (change is added).
    pub outputs: Vec<TxOut>,
    /// The payload, if any.
    pub payload: Option<Payload>,
    /// What the inputs must cover besides the outputs and the size fee: a contract call's
    /// value plus the gas reservation.
    pub extra: Amount,
    /// For contract transactions: the script whose coin must be the first input, which makes
    /// it the caller contracts see. Change goes back to it, so the identity keeps funds.
    pub caller: Option<ScriptBuf>,
}

/// A coin the wallet may spend: where it is, what it is worth, and which key locks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The coin.
    pub outpoint: OutPoint,
    /// Its value.
    pub value: Amount,
    /// The key chain (receive / change) of the key it pays.
    pub chain: Chain,
    /// The key's index on that chain.
    pub index: u32,
    /// The P2PKH script it pays.
    pub script: ScriptBuf,
}

/// Why a transaction could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A contract transaction's caller has no spendable coin.
    #[error(
        "insufficient funds: no spendable coin at the caller address (contracts see the script \
         of the first input as the caller)"
    )]
    NoCallerCoin,
    /// The spendable coins do not cover outputs, extra and fee.
    #[error(
        "insufficient funds: need {needed} (outputs, value and gas {amount} + fee {fee}), spendable {spendable}"
    )]
    InsufficientFunds {
        /// Everything the inputs must cover.
        needed: Amount,
        /// Outputs plus extra.
        amount: Amount,
        /// The fee at the requested rate.
        fee: Amount,
        /// What the wallet can spend.
        spendable: Amount,
    },
    /// Amounts overflowed (outputs summing past the supply).
    #[error("amount overflow")]
    Overflow,
    /// The wallet could not derive a key.
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// Signing failed (an input index out of range: a bug).
    #[error("signing: {0}")]
    Sign(#[from] SighashError),
}

/// Estimated encoded size of a P2PKH-only transaction (signatures at their largest).
pub fn estimate_size(inputs: usize, outputs: usize) -> u64 {
    // version 4 + lock time 4 + payload 1 + two compact lengths (≤ 3 each)
    // input: outpoint 36 + script len 2 + sig push 74 + key push 34 + sequence 4 = 150
    // output: value 8 + script len 1 + P2PKH 25 = 34
    (15 + inputs * 150 + outputs * 34) as u64
}

/// Selects coins from `candidates` for `spend` at `fee_rate` (base units per byte), adds
/// change to a new change key (or back to the caller) and signs every input for `chain_id`.
///
/// Selection takes the largest coins first (fewest inputs, lowest fee); a contract
/// transaction's caller coin goes first of all.
///
/// # Errors
/// [`BuildError`] when funds are short or the wallet cannot derive a key.
pub fn build_signed(
    wallet: &mut Wallet,
    mut candidates: Vec<Candidate>,
    spend: Spend,
    fee_rate: u64,
    chain_id: &Hash256,
) -> Result<Transaction, BuildError> {
    candidates.sort_by(|a, b| b.value.cmp(&a.value).then(a.outpoint.cmp(&b.outpoint)));
    if let Some(caller) = &spend.caller {
        let pos = candidates
            .iter()
            .position(|c| &c.script == caller)
            .ok_or(BuildError::NoCallerCoin)?;
        let first = candidates.remove(pos);
        candidates.insert(0, first);
    }
    let payload_size = spend
        .payload
        .as_ref()
        .map_or(0, |p| p.encoded_size() as u64);
    let declared = spend.outputs.len();
    let amount = Amount::checked_sum(spend.outputs.iter().map(|o| o.value))
        .and_then(|a| a.checked_add(spend.extra))
        .ok_or(BuildError::Overflow)?;
    let mut selected = Vec::new();
    let mut total = Amount::ZERO;
    let mut fee = Amount::ZERO;
    for c in candidates {
        total = total.checked_add(c.value).ok_or(BuildError::Overflow)?;
        selected.push(c);
        let size = estimate_size(selected.len(), declared + 1) + payload_size;
        fee = Amount::from_units(size.saturating_mul(fee_rate));
        if total >= amount.checked_add(fee).unwrap_or(Amount::MAX) {
            break;
        }
    }
    let needed = amount.checked_add(fee).unwrap_or(Amount::MAX);
    if total < needed {
        return Err(BuildError::InsufficientFunds {
            needed,
            amount,
            fee,
            spendable: total,
        });
    }
    let mut outputs = spend.outputs;
    let change = total.checked_sub(needed).unwrap_or(Amount::ZERO);
    if change.to_units() >= DUST_LIMIT {
        let script_pubkey = match spend.caller {
            Some(caller) => caller,
            None => {
                let key = wallet.next_change()?;
                i8o8i_script_vm::templates::p2pkh(&key.pubkey_hash())
            }
        };
        outputs.push(TxOut {
            value: change,
            script_pubkey,
        });
    }
    let mut tx = Transaction {
        version: 2,
        inputs: selected
            .iter()
            .map(|c| TxIn {
                prevout: c.outpoint,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            })
            .collect(),
        outputs,
        lock_time: 0,
        payload: spend.payload,
    };
    for (i, c) in selected.iter().enumerate() {
        let key = wallet.key(c.chain, c.index)?;
        sign_p2pkh_input(&mut tx, i, key.secret_key(), c.value, chain_id, SIGHASH_ALL)?;
    }
    Ok(tx)
}
