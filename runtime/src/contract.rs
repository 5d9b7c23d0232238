//! Contract transactions under consensus: executing a `Deploy` or `Call` payload inside a block: fee and gas checks,
//! the execution, account and code updates, and the outputs it appends (transfers, refund).

use std::sync::Arc;

use i8o8i_contract_engine::engine::{Entry, ExecRequest, TraceRecord};
use i8o8i_contract_engine::limits::{MAX_CALLER_LEN, MAX_INPUT};
use i8o8i_contract_engine::{
    ContractEngine, ExecResult, Execution, StateKey, StateOverlay, gas, validate_module,
};
use i8o8i_primitives::contract::{
    CodeChange, ContractAccount, ExecStatus, GasBreakdown, Receipt, code_hash, contract_address,
};
use parity_scale_codec::{Decode, Encode};

use crate::error::TxError;
use i8o8i_primitives::{Amount, ContractAddress, Hash256, Payload, StoreError, Transaction, TxOut};
use i8o8i_script_vm::ScriptBuf;

/// The engine as a payload uses it: every execution traced into `trace` when one is given
/// (`tx_traceContract`), outcome and gas the same either way.
struct Runner<'a> {
    engine: &'a ContractEngine,
    trace: Option<&'a mut Option<TraceRecord>>,
}

impl Runner<'_> {
    fn execute(&mut self, overlay: StateOverlay, req: ExecRequest) -> Execution {
        match self.trace.as_deref_mut() {
            Some(slot) => {
                let (execution, record) = self.engine.execute_traced(overlay, req);
                *slot = Some(record);
                execution
            }
            None => self.engine.execute(overlay, req),
        }
    }
}

/// A contract payload's value, gas limit and the address it targets (derived for a deploy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTerms {
    /// Value moved into the contract.
    pub value: Amount,
    /// Gas limit.
    pub gas_limit: u64,
}

/// The value and gas limit of a contract payload, `None` for other transactions.
pub fn payload_terms(tx: &Transaction) -> Option<PayloadTerms> {
    match &tx.payload {
        Some(
            Payload::Deploy { gas_limit, .. }
            | Payload::Instantiate { gas_limit, .. }
            | Payload::Migrate { gas_limit, .. },
        ) => Some(PayloadTerms {
            value: Amount::ZERO,
            gas_limit: *gas_limit,
        }),
        // No code runs: a contract transaction (it has a receipt) that reserves no gas.
        Some(Payload::SetAdmin { .. }) => Some(PayloadTerms {
            value: Amount::ZERO,
            gas_limit: 0,
        }),
        Some(Payload::Call {
            value, gas_limit, ..
        }) => Some(PayloadTerms {
            value: *value,
            gas_limit: *gas_limit,
        }),
        _ => None,
    }
}

/// The fee a contract transaction must leave: the gas reservation. `paid` is inputs − outputs;
/// returns what is left after the value (the fee proper, which covers the reservation).
///
/// # Errors
/// [`TxError::ContractFee`] if `paid` does not cover value plus reservation.
pub fn check_payload_fee(tx: &Transaction, paid: Amount) -> Result<Amount, TxError> {
    let Some(terms) = payload_terms(tx) else {
        return Ok(paid);
    };
    let reserve = Amount::from_units(terms.gas_limit.saturating_mul(gas::GAS_PRICE));
    let needed = terms
        .value
        .checked_add(reserve)
        .ok_or(TxError::ValueOverflow)?;
    match paid.checked_sub(needed) {
        Some(_) => Ok(paid.checked_sub(terms.value).expect("covers value")),
        None => Err(TxError::ContractFee { needed, paid }),
    }
}

/// The caller of a contract transaction: the script of the first coin it spends.
///
/// # Errors
/// [`TxError::CallerScriptTooLong`].
pub fn caller_script(first_coin_script: &ScriptBuf) -> Result<Vec<u8>, TxError> {
    let bytes = first_coin_script.as_bytes();
    if bytes.len() > MAX_CALLER_LEN {
        return Err(TxError::CallerScriptTooLong(bytes.len()));
    }
    Ok(bytes.to_vec())
}

/// The block context of an execution.
#[derive(Debug, Clone, Copy)]
pub struct BlockEnv {
    /// Height.
    pub height: u64,
    /// Header time.
    pub time: u64,
}

/// Executes `tx`'s contract payload over `overlay`. `paid` is inputs − outputs. Returns the
/// receipt and the outputs to append to the transaction.
///
/// # Errors
/// [`TxError`] when the transaction is invalid (fee, caller, storage failure); a failed
/// execution is not an error but a receipt.
pub fn apply_payload(
    engine: &ContractEngine,
    overlay: StateOverlay,
    tx: &Transaction,
    caller: Vec<u8>,
    paid: Amount,
    block: BlockEnv,
    trace: Option<&mut Option<TraceRecord>>,
) -> Result<(StateOverlay, Receipt, Vec<TxOut>), TxError> {
    let mut engine = Runner { engine, trace };
    let engine = &mut engine;
    let fee = check_payload_fee(tx, paid)?;
    let storage = TxError::Storage;
    let deployment = match &tx.payload {
        Some(Payload::Deploy {
            code,
            init_input,
            salt,
            gas_limit,
            admin,
        }) => Some(Instantiation {
            hash: code_hash(code),
            code: Some(Arc::new(code.clone())),
            init_input,
            salt,
            gas_limit: *gas_limit,
            precharge: gas::DEPLOY_PER_CODE_BYTE.saturating_mul(code.len() as u64),
            admin,
        }),
        Some(Payload::Instantiate {
            code_hash,
            init_input,
            salt,
            gas_limit,
            admin,
        }) => Some(Instantiation {
            hash: *code_hash,
            code: None,
            init_input,
            salt,
            gas_limit: *gas_limit,
            precharge: 0,
            admin,
        }),
        Some(Payload::Migrate {
            contract,
            code_hash,
            input,
            gas_limit,
        }) => {
            return migrate(
                engine,
                overlay,
                tx,
                Migration {
                    contract: *contract,
                    code_hash: *code_hash,
                    input,
                    gas_limit: *gas_limit,
                },
                caller,
                fee,
                block,
            );
        }
        Some(Payload::SetAdmin { contract, admin }) => {
            return set_admin(overlay, tx, *contract, admin, caller, fee);
        }
        _ => None,
    };
    let (overlay, address, result, value) = match (deployment, &tx.payload) {
        (Some(at), _) => match instantiate(engine, overlay, at, &caller, block)? {
            Ok(done) => done,
            Err((overlay, address, status, used)) => {
                return finish(
                    overlay,
                    tx,
                    address,
                    status,
                    GasBreakdown::instantiation_only(used),
                    fee,
                    &caller,
                    Amount::ZERO,
                );
            }
        },
        (
            None,
            Some(Payload::Call {
                contract,
                input,
                value,
                gas_limit,
            }),
        ) => {
            let Some(mut account) = overlay.account(contract).map_err(storage)? else {
                let used = gas::INSTANTIATE.min(*gas_limit);
                let status = ExecStatus::NoContract(format!("no contract at {contract}"));
                let gas = GasBreakdown::instantiation_only(used);
                return finish(overlay, tx, *contract, status, gas, fee, &caller, *value);
            };
            let balance = account
                .balance
                .checked_add(*value)
                .ok_or(TxError::ValueOverflow)?;
            let req = ExecRequest {
                code_hash: account.code_hash,
                code: None,
                entry: Entry::Call,
                address: *contract,
                caller: caller.clone(),
                value: value.to_units(),
                balance: balance.to_units(),
                input: input.clone(),
                gas_limit: *gas_limit,
                gas_precharged: 0,
                height: block.height,
                time: block.time,
            };
            let (mut overlay, result) = engine.execute(overlay, req);
            if let Some(e) = result.storage_fault {
                return Err(TxError::Storage(e));
            }
            if result.status.is_success() {
                account.balance = Amount::from_units(result.balance);
                overlay.put_account(contract, &account);
            }
            (overlay, *contract, result, *value)
        }
        _ => {
            return Err(TxError::Storage(StoreError::Inconsistent(
                "a contract payload was expected".into(),
            )));
        }
    };
    finish_execution(overlay, tx, address, result, fee, &caller, value)
}

/// The receipt and outputs of an execution the engine ran: [`finish`] (refunding `value`
/// carried in if it failed), then a successful one's transfers as outputs before the refund,
/// its return data and events.
fn finish_execution(
    overlay: StateOverlay,
    tx: &Transaction,
    contract: ContractAddress,
    result: ExecResult,
    fee: Amount,
    caller: &[u8],
    value: Amount,
) -> Result<(StateOverlay, Receipt, Vec<TxOut>), TxError> {
    let success = result.status.is_success();
    let returned = if success { Amount::ZERO } else { value };
    let (overlay, mut receipt, mut outputs) = finish(
        overlay,
        tx,
        contract,
        result.status,
        result.gas,
        fee,
        caller,
        returned,
    )?;
    if !success {
        return Ok((overlay, receipt, outputs));
    }
    let declared = tx.outputs.len() as u32;
    let transfers: Vec<TxOut> = result
        .transfers
        .into_iter()
        .map(|(script, amount)| TxOut {
            value: Amount::from_units(amount),
            script_pubkey: ScriptBuf::from_bytes(script),
        })
        .collect();
    outputs.splice(0..0, transfers);
    receipt.outputs = (declared..declared + outputs.len() as u32).collect();
    receipt.return_data = result.return_data;
    receipt.events = result.events;
    Ok((overlay, receipt, outputs))
}

/// A deployment: new code (with its per-byte charge) or stored code by hash.
struct Instantiation<'a> {
    hash: i8o8i_primitives::Hash256,
    code: Option<Arc<Vec<u8>>>,
    init_input: &'a [u8],
    salt: &'a [u8; 32],
    gas_limit: u64,
    precharge: u64,
    admin: &'a Option<Vec<u8>>,
}

/// A [`Payload::Migrate`]'s terms.
struct Migration<'a> {
    contract: ContractAddress,
    code_hash: Hash256,
    input: &'a [u8],
    gas_limit: u64,
}

/// The contract's admin check: `Ok(account)` if `caller` may change the contract at
/// `contract`, else the receipt status saying why not.
fn admin_check(
    overlay: &StateOverlay,
    contract: &ContractAddress,
    caller: &[u8],
) -> Result<Result<ContractAccount, ExecStatus>, TxError> {
    let Some(account) = overlay.account(contract).map_err(TxError::Storage)? else {
        return Ok(Err(ExecStatus::NoContract(format!(
            "no contract at {contract}"
        ))));
    };
    match &account.admin {
        None => Ok(Err(ExecStatus::Reverted(
            "the contract has no admin: its code can never change".into(),
        ))),
        Some(admin) if admin.as_slice() != caller => Ok(Err(ExecStatus::Reverted(
            "only the contract's admin may do this".into(),
        ))),
        Some(_) => Ok(Ok(account)),
    }
}

/// Runs a migration: the admin's contract gets the stored code `code_hash` and runs its
/// `migrate` with the input over its storage and balance; the code changes only if that
/// succeeds, and the change goes into the contract's code history.
fn migrate(
    engine: &mut Runner<'_>,
    overlay: StateOverlay,
    tx: &Transaction,
    at: Migration<'_>,
    caller: Vec<u8>,
    fee: Amount,
    block: BlockEnv,
) -> Result<(StateOverlay, Receipt, Vec<TxOut>), TxError> {
    let fixed = gas::INSTANTIATE.min(at.gas_limit);
    let refused = |overlay, status| {
        finish(
            overlay,
            tx,
            at.contract,
            status,
            GasBreakdown::instantiation_only(fixed),
            fee,
            &caller,
            Amount::ZERO,
        )
    };
    let mut account = match admin_check(&overlay, &at.contract, &caller)? {
        Ok(account) => account,
        Err(status) => return refused(overlay, status),
    };
    if overlay
        .get(&StateKey::code(&at.code_hash))
        .map_err(TxError::Storage)?
        .is_none()
    {
        let status = ExecStatus::NoContract(format!("no code with hash {}", at.code_hash));
        return refused(overlay, status);
    }
    let req = ExecRequest {
        code_hash: at.code_hash,
        code: None,
        entry: Entry::Migrate,
        address: at.contract,
        caller: caller.clone(),
        value: 0,
        balance: account.balance.to_units(),
        input: at.input.to_vec(),
        gas_limit: at.gas_limit,
        gas_precharged: 0,
        height: block.height,
        time: block.time,
    };
    let (mut overlay, result) = engine.execute(overlay, req);
    if let Some(e) = result.storage_fault {
        return Err(TxError::Storage(e));
    }
    if result.status.is_success() {
        let mut history = code_history(&overlay, &at.contract, &account)?;
        history.push(CodeChange {
            code_hash: at.code_hash,
            height: block.height,
        });
        overlay.put(StateKey::code_history(&at.contract), Some(history.encode()));
        account.code_hash = at.code_hash;
        account.balance = Amount::from_units(result.balance);
        overlay.put_account(&at.contract, &account);
    }
    finish_execution(overlay, tx, at.contract, result, fee, &caller, Amount::ZERO)
}

/// Hands the admin right on (or drops it). No code runs and no gas is used.
fn set_admin(
    overlay: StateOverlay,
    tx: &Transaction,
    contract: ContractAddress,
    admin: &Option<Vec<u8>>,
    caller: Vec<u8>,
    fee: Amount,
) -> Result<(StateOverlay, Receipt, Vec<TxOut>), TxError> {
    let mut overlay = overlay;
    let status = match admin_check(&overlay, &contract, &caller)? {
        Ok(mut account) => {
            account.admin.clone_from(admin);
            overlay.put_account(&contract, &account);
            ExecStatus::Success
        }
        Err(status) => status,
    };
    let gas = GasBreakdown::default();
    finish(
        overlay,
        tx,
        contract,
        status,
        gas,
        fee,
        &caller,
        Amount::ZERO,
    )
}

/// A contract's code history: what is stored, or else its deployment alone.
///
/// # Errors
/// Storage failures, or a stored history that does not decode.
pub fn code_history(
    overlay: &StateOverlay,
    contract: &ContractAddress,
    account: &ContractAccount,
) -> Result<Vec<CodeChange>, TxError> {
    match overlay
        .get(&StateKey::code_history(contract))
        .map_err(TxError::Storage)?
    {
        Some(bytes) => Vec::<CodeChange>::decode(&mut &bytes[..]).map_err(|e| {
            TxError::Storage(StoreError::corrupt(
                "code history",
                format!("{contract}: {e}"),
            ))
        }),
        None => Ok(vec![CodeChange {
            code_hash: account.code_hash,
            height: account.height,
        }]),
    }
}

/// What [`apply_payload`] continues with after a deployment ran, or why none ran.
type Instantiated = Result<
    (StateOverlay, ContractAddress, ExecResult, Amount),
    (StateOverlay, ContractAddress, ExecStatus, u64),
>;

/// Runs a constructor at the address derived from the caller, code hash and salt, and on
/// success stores the code (if new) and the account.
fn instantiate(
    engine: &mut Runner<'_>,
    overlay: StateOverlay,
    at: Instantiation<'_>,
    caller: &[u8],
    block: BlockEnv,
) -> Result<Instantiated, TxError> {
    let storage = TxError::Storage;
    let address = contract_address(caller, &at.hash, at.salt);
    let fixed = gas::INSTANTIATE.min(at.gas_limit);
    if overlay.account(&address).map_err(storage)?.is_some() {
        let status = ExecStatus::NoContract(format!("address {address} is in use"));
        return Ok(Err((overlay, address, status, fixed)));
    }
    let code_key = StateKey::code(&at.hash);
    let stored = overlay.get(&code_key).map_err(storage)?.is_some();
    if at.code.is_none() && !stored {
        let status = ExecStatus::NoContract(format!("no code with hash {}", at.hash));
        return Ok(Err((overlay, address, status, fixed)));
    }
    let req = ExecRequest {
        code_hash: at.hash,
        code: at.code.clone(),
        entry: Entry::Deploy,
        address,
        caller: caller.to_vec(),
        value: 0,
        balance: 0,
        input: at.init_input.to_vec(),
        gas_limit: at.gas_limit,
        gas_precharged: at.precharge,
        height: block.height,
        time: block.time,
    };
    let (mut overlay, result) = engine.execute(overlay, req);
    if let Some(e) = result.storage_fault {
        return Err(TxError::Storage(e));
    }
    if result.status.is_success() {
        if let (Some(code), false) = (&at.code, stored) {
            overlay.put(code_key, Some(code.to_vec()));
        }
        overlay.put_account(
            &address,
            &ContractAccount {
                code_hash: at.hash,
                balance: Amount::from_units(result.balance),
                deployer: caller.to_vec(),
                height: block.height,
                admin: at.admin.clone(),
            },
        );
    }
    Ok(Ok((overlay, address, result, Amount::ZERO)))
}

/// The receipt and refund output of an execution whose gas went as `gas` says.
#[allow(clippy::too_many_arguments)]
fn finish(
    overlay: StateOverlay,
    tx: &Transaction,
    contract: ContractAddress,
    status: ExecStatus,
    gas: GasBreakdown,
    fee: Amount,
    caller: &[u8],
    returned_value: Amount,
) -> Result<(StateOverlay, Receipt, Vec<TxOut>), TxError> {
    let used = gas.total();
    let terms = payload_terms(tx).expect("a contract transaction");
    let unused = terms.gas_limit.saturating_sub(used);
    let gas_refund = Amount::from_units(unused.saturating_mul(gas::GAS_PRICE));
    let refund = gas_refund
        .checked_add(returned_value)
        .ok_or(TxError::ValueOverflow)?;
    let kept = fee.checked_sub(gas_refund).ok_or(TxError::ValueOverflow)?;
    let mut outputs = Vec::new();
    if refund > Amount::ZERO {
        outputs.push(TxOut {
            value: refund,
            script_pubkey: ScriptBuf::from_bytes(caller.to_vec()),
        });
    }
    let declared = tx.outputs.len() as u32;
    let receipt = Receipt {
        contract,
        status,
        gas_used: used,
        gas_breakdown: gas,
        return_data: Vec::new(),
        events: Vec::new(),
        outputs: (declared..declared + outputs.len() as u32).collect(),
        fee: kept,
    };
    Ok((overlay, receipt, outputs))
}

/// Checks a contract payload without executing it: sizes and gas limit.
///
/// # Errors
/// The first [`TxError`].
pub fn check_payload(payload: &Payload) -> Result<(), TxError> {
    let (gas_limit, input_len) = match payload {
        Payload::Deploy {
            code,
            init_input,
            gas_limit,
            ..
        } => {
            validate_module(code).map_err(TxError::InvalidContract)?;
            (*gas_limit, init_input.len())
        }
        Payload::Call {
            input, gas_limit, ..
        } => (*gas_limit, input.len()),
        Payload::Instantiate {
            init_input,
            gas_limit,
            ..
        } => (*gas_limit, init_input.len()),
        Payload::Migrate {
            input, gas_limit, ..
        } => (*gas_limit, input.len()),
        Payload::SetAdmin { .. } => (0, 0),
        _ => return Ok(()),
    };
    if let Payload::Deploy { admin, .. }
    | Payload::Instantiate { admin, .. }
    | Payload::SetAdmin { admin, .. } = payload
        && let Some(admin) = admin
        && admin.len() > MAX_CALLER_LEN
    {
        return Err(TxError::CallerScriptTooLong(admin.len()));
    }
    if gas_limit > gas::MAX_TX_GAS {
        return Err(TxError::GasLimitTooHigh {
            limit: gas_limit,
            max: gas::MAX_TX_GAS,
        });
    }
    if input_len > MAX_INPUT {
        return Err(TxError::ContractInputTooLarge {
            size: input_len,
            max: MAX_INPUT,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
