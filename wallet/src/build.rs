//! Building a wallet transaction: coin selection, the size-based fee, change, and P2PKH
//! signing. The caller (the node's wallet RPC) supplies the spendable coins; this module
//! decides which to use ([`select`]) and either signs with the wallet's keys
//! ([`build_signed`]) or describes the transaction for signers elsewhere ([`request_for`]),
//! without knowing where coins come from.

use i8o8i_primitives::sign_p2pkh_input;
use i8o8i_primitives::signing_request::{
    DEFAULT_HASH_TYPE, KeyOrigin, RequestError, RequestInput, RequestOutput, SigningRequest,
};
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

/// A coin that may be spent: where it is, what it is worth, and what locks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The coin.
    pub outpoint: OutPoint,
    /// Its value.
    pub value: Amount,
    /// The script it pays (P2PKH, or P2SH with `redeem_script`).
    pub script: ScriptBuf,
    /// The wallet key that locks it (key chain and index), for the wallet's own P2PKH coins.
    pub key: Option<(Chain, u32)>,
    /// For a P2SH coin: the script it hashes.
    pub redeem_script: Option<ScriptBuf>,
}

impl Candidate {
    /// The encoded size of an input spending this coin, signatures at their largest.
    pub fn input_size(&self) -> u64 {
        let multisig = self.redeem_script.as_deref().and_then(|redeem| {
            match i8o8i_script_vm::templates::classify(redeem) {
                i8o8i_script_vm::templates::Template::Multisig { required, .. } => {
                    Some((u64::from(required), redeem.len() as u64))
                }
                _ => None,
            }
        });
        match multisig {
            // outpoint 36 + script length 3 + OP_0 1 + m signature pushes of 74 + the redeem
            // script's push (≤ 3 + its length) + sequence 4
            Some((required, redeem)) => 36 + 3 + 1 + required * 74 + 3 + redeem + 4,
            None => P2PKH_INPUT_SIZE,
        }
    }
}

/// The encoded size of an input spending a P2PKH coin (see [`estimate_size`]).
const P2PKH_INPUT_SIZE: u64 = 150;

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
    /// A coin selected for signing is not locked by one of the wallet's keys.
    #[error("coin {0} is not the wallet's own: it cannot sign it")]
    NotOurs(OutPoint),
    /// The request could not be made (a bug: selection gives consistent transactions).
    #[error("signing request: {0}")]
    Request(#[from] RequestError),
}

/// The coins chosen for a spend and the unsigned transaction they fund.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The coins, in input order.
    pub inputs: Vec<Candidate>,
    /// The transaction, every `script_sig` empty.
    pub tx: Transaction,
    /// Which output is change, if any.
    pub change: Option<usize>,
    /// The fee it pays.
    pub fee: Amount,
}

/// Estimated encoded size of a P2PKH-only transaction (signatures at their largest).
pub fn estimate_size(inputs: usize, outputs: usize) -> u64 {
    // version 4 + lock time 4 + payload 1 + two compact lengths (≤ 3 each)
    // input: outpoint 36 + script len 2 + sig push 74 + key push 34 + sequence 4 = 150
    // output: value 8 + script len 1 + P2PKH 25 = 34
    (15 + inputs * 150 + outputs * 34) as u64
}

/// Selects coins from `candidates` for `spend` at `fee_rate` (base units per byte) and adds
/// change, paid to `change_script()` (asked only if there is change) or back to the caller.
///
/// Selection takes the largest coins first (fewest inputs, lowest fee); a contract
/// transaction's caller coin goes first of all.
///
/// # Errors
/// [`BuildError`] when funds are short or the change script cannot be made.
pub fn select(
    mut candidates: Vec<Candidate>,
    spend: Spend,
    fee_rate: u64,
    change_script: &mut dyn FnMut() -> Result<ScriptBuf, WalletError>,
) -> Result<Selection, BuildError> {
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
    // The size with no inputs, then each input's own.
    let mut size = estimate_size(0, declared + 1) + payload_size;
    for c in candidates {
        total = total.checked_add(c.value).ok_or(BuildError::Overflow)?;
        size += c.input_size();
        selected.push(c);
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
    let change_value = total.checked_sub(needed).unwrap_or(Amount::ZERO);
    let mut change = None;
    if change_value.to_units() >= DUST_LIMIT {
        let script_pubkey = match spend.caller {
            Some(caller) => caller,
            None => change_script()?,
        };
        change = Some(outputs.len());
        outputs.push(TxOut {
            value: change_value,
            script_pubkey,
        });
    } else {
        fee = total.checked_sub(amount).ok_or(BuildError::Overflow)?;
    }
    let tx = Transaction {
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
    Ok(Selection {
        inputs: selected,
        tx,
        change,
        fee,
    })
}

/// [`select`]s coins for `spend`, adds change to a new change key of `wallet` (or back to the
/// caller) and signs every input for `chain_id`.
///
/// # Errors
/// [`BuildError`] when funds are short, the wallet cannot derive a key, or a selected coin is
/// not the wallet's.
pub fn build_signed(
    wallet: &mut Wallet,
    candidates: Vec<Candidate>,
    spend: Spend,
    fee_rate: u64,
    chain_id: &Hash256,
) -> Result<Transaction, BuildError> {
    let selection = select(candidates, spend, fee_rate, &mut || {
        let key = wallet.next_change()?;
        Ok(i8o8i_script_vm::templates::p2pkh(&key.pubkey_hash()))
    })?;
    let mut tx = selection.tx;
    for (i, c) in selection.inputs.iter().enumerate() {
        let (chain, index) = c.key.ok_or(BuildError::NotOurs(c.outpoint))?;
        let key = wallet.key(chain, index)?;
        sign_p2pkh_input(&mut tx, i, key.secret_key(), c.value, chain_id, SIGHASH_ALL)?;
    }
    Ok(tx)
}

/// The signing request for `selection` on `chain_id`: per input the coin it spends, its redeem
/// script and the keys `keys_of` names for it; per output, change marked and its keys as
/// `change_keys` names them.
///
/// # Errors
/// [`BuildError::Request`] (not for a selection [`select`] made).
pub fn request_for(
    selection: &Selection,
    chain_id: Hash256,
    keys_of: &dyn Fn(&Candidate) -> Vec<KeyOrigin>,
    change_keys: Vec<KeyOrigin>,
) -> Result<SigningRequest, BuildError> {
    let inputs = selection
        .inputs
        .iter()
        .map(|c| RequestInput {
            spent: TxOut {
                value: c.value,
                script_pubkey: c.script.clone(),
            },
            hash_type: DEFAULT_HASH_TYPE,
            redeem_script: c.redeem_script.clone(),
            keys: keys_of(c),
            signatures: Vec::new(),
        })
        .collect();
    let mut change_keys = Some(change_keys);
    let outputs = (0..selection.tx.outputs.len())
        .map(|i| {
            let change = selection.change == Some(i);
            RequestOutput {
                change,
                keys: if change {
                    change_keys.take().unwrap_or_default()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    Ok(SigningRequest::new(
        chain_id,
        selection.tx.clone(),
        inputs,
        outputs,
    )?)
}
