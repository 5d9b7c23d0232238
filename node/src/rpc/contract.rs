//! Contract methods: deploy and call through a node wallet, read-only queries and gas
//! estimates against the tip's state, account, storage, events and receipts.

use std::sync::Arc;

use i8o8i_contract_engine::engine::{Entry, ExecRequest};
use i8o8i_contract_engine::{StateKey, StateOverlay, abi_of, build_record_of, gas};
use i8o8i_primitives::contract::{
    ContractAccount, ExecStatus, Receipt, code_hash, contract_address,
};
use i8o8i_primitives::{Amount, ContractAddress, Hash256, Payload, Txid};
use i8o8i_rpc::{ErrorCode, Registry, RpcError, rpc_error};
use i8o8i_script_vm::ScriptBuf;

use crate::node::Node;
use crate::rpc::common::{
    blocking, internal, invalid_param, not_found, parse_address, wallet_fee_rate,
};
use i8o8i_chain::store::EventRecord;
use i8o8i_rpc::api;
use i8o8i_rpc::types::*;
use i8o8i_wallet::build::Spend;

use crate::rpc::wallet::{build_and_submit, wallet_error, wallet_store};

/// Most events one `contract_getEvents` call returns.
pub const MAX_EVENTS_PER_CALL: usize = 1_000;

/// The JSON form of a stored event.
pub(crate) fn event_json(r: EventRecord) -> EventJson {
    EventJson {
        txid: r.txid,
        height: r.height,
        event: r.event,
        removed: false,
    }
}

fn hex_param(raw: String, name: &str) -> Result<Vec<u8>, RpcError> {
    let raw = raw.trim().trim_start_matches("0x");
    hex::decode(raw).map_err(|e| invalid_param(name, format!("not hex: {e}")))
}

fn optional_hex(raw: Option<String>, name: &str) -> Result<Vec<u8>, RpcError> {
    match raw {
        Some(h) => hex::decode(h.trim().trim_start_matches("0x"))
            .map_err(|e| invalid_param(name, format!("not hex: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// The `saltHex` parameter: 32 bytes, random when omitted.
fn salt_param(raw: Option<String>) -> Result<[u8; 32], RpcError> {
    let bytes = optional_hex(raw, "saltHex")?;
    if bytes.is_empty() {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(internal)?;
        return Ok(salt);
    }
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| invalid_param("saltHex", "must be 32 bytes"))
}

fn gas_param(gas_limit: u64) -> Result<u64, RpcError> {
    if gas_limit == 0 || gas_limit > gas::MAX_TX_GAS {
        return Err(invalid_param(
            "gasLimit",
            format!("must be 1..={}", gas::MAX_TX_GAS),
        ));
    }
    Ok(gas_limit)
}

fn execution_error(status: &ExecStatus, gas_used: u64) -> RpcError {
    let message = match status {
        ExecStatus::Reverted(r) => format!("execution reverted: {r} (gas used {gas_used})"),
        ExecStatus::OutOfGas => format!("out of gas (limit {gas_used})"),
        ExecStatus::Trapped(m) => format!("execution trapped: {m} (gas used {gas_used})"),
        ExecStatus::NoContract(m) => m.clone(),
        ExecStatus::Success => "success".into(),
    };
    rpc_error(ErrorCode::ContractFailed, message)
}

/// The script of the first receive address of wallet `name`: the caller identity the node's
/// wallet uses for contract transactions.
fn wallet_caller(node: &Node, name: &str) -> Result<ScriptBuf, RpcError> {
    let info = wallet_store(node).info(name).map_err(wallet_error)?;
    let key = info
        .keys()
        .first()
        .ok_or_else(|| internal("wallet has no keys"))?;
    Ok(i8o8i_script_vm::templates::p2pkh(&key.pubkey_hash()))
}

/// A call of `call` on `address` with `input` against the tip's state, and that state.
/// The tip's contract state and the account at `address` (NotFound when there is none).
fn contract_at(
    node: &Node,
    address: &ContractAddress,
) -> Result<(StateOverlay, ContractAccount), RpcError> {
    let overlay = StateOverlay::new(node.chain().contracts().state.clone());
    let account = overlay
        .account(address)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no contract at {address}")))?;
    Ok((overlay, account))
}

/// The code an account runs; its absence is a broken store, not a user error.
fn code_of(overlay: &StateOverlay, account: &ContractAccount) -> Result<Vec<u8>, RpcError> {
    overlay
        .get(&StateKey::code(&account.code_hash))
        .map_err(internal)?
        .ok_or_else(|| internal(format!("code {} missing", account.code_hash)))
}

fn dry_run_request(
    node: &Node,
    address: &ContractAddress,
    input: Vec<u8>,
    caller: Vec<u8>,
    value: u64,
    gas_limit: u64,
) -> Result<(StateOverlay, ExecRequest), RpcError> {
    let (overlay, account) = contract_at(node, address)?;
    let tip = node.chain().tip();
    let req = ExecRequest {
        code_hash: account.code_hash,
        code: None,
        entry: Entry::Call,
        address: *address,
        caller,
        value,
        balance: account.balance.to_units().saturating_add(value),
        input,
        gas_limit,
        gas_precharged: 0,
        height: tip.header.height + 1,
        time: tip.header.time,
    };
    Ok((overlay, req))
}

/// Runs `call` on `address` with `input` against the tip's state without keeping anything.
fn dry_run(
    node: &Node,
    address: &ContractAddress,
    input: Vec<u8>,
    caller: Vec<u8>,
    value: u64,
    gas_limit: u64,
) -> Result<QueryResult, RpcError> {
    let (overlay, req) = dry_run_request(node, address, input, caller, value, gas_limit)?;
    let (_, result) = node
        .chain()
        .contracts()
        .engine
        .execute_query(overlay, req)
        .map_err(|e| rpc_error(ErrorCode::InternalError, e.to_string()))?;
    if !result.status.is_success() {
        return Err(execution_error(&result.status, result.gas_used));
    }
    Ok(QueryResult {
        return_data: hex::encode(&result.return_data),
        gas_used: result.gas_used,
        gas_breakdown: result.gas,
        events: result.events,
    })
}

fn optional_caller(node: &Node, caller: Option<String>) -> Result<Vec<u8>, RpcError> {
    Ok(match caller {
        Some(a) => parse_address(node, "caller", &a)?
            .script_pubkey()
            .as_bytes()
            .to_vec(),
        None => Vec::new(),
    })
}

/// The parameters `contract_deploy` and `contract_instantiate` share: wallet, password, then
/// (after the code or its hash) gas limit, constructor input and salt.
struct DeploymentParams {
    wallet: String,
    password: String,
    gas_limit: u64,
    init_input: Vec<u8>,
    salt: [u8; 32],
    admin: Option<Vec<u8>>,
}

impl DeploymentParams {
    fn parse(
        node: &Node,
        wallet: String,
        password: String,
        gas_limit: u64,
        (init_input_hex, salt_hex, admin): (Option<String>, Option<String>, Option<String>),
    ) -> Result<DeploymentParams, RpcError> {
        Ok(DeploymentParams {
            wallet,
            password,
            gas_limit: gas_param(gas_limit)?,
            init_input: optional_hex(init_input_hex, "initInputHex")?,
            salt: salt_param(salt_hex)?,
            admin: admin_param(node, admin)?,
        })
    }
}

/// An optional `admin` address parameter as the script it names.
fn admin_param(node: &Node, admin: Option<String>) -> Result<Option<Vec<u8>>, RpcError> {
    admin
        .map(|a| parse_address(node, "admin", &a).map(|a| a.script_pubkey().as_bytes().to_vec()))
        .transpose()
}

/// Submits a deploy or instantiation of code `hash` from the wallet (its first address
/// deploys) and returns the txid with the address the contract gets.
fn submit_deployment(
    node: &Node,
    d: DeploymentParams,
    payload: Payload,
    hash: Hash256,
) -> Result<Deployed, RpcError> {
    let caller = wallet_caller(node, &d.wallet)?;
    let address = contract_address(caller.as_bytes(), &hash, &d.salt);
    let spend = Spend {
        outputs: Vec::new(),
        payload: Some(payload),
        extra: Amount::from_units(d.gas_limit.saturating_mul(gas::GAS_PRICE)),
        caller: Some(caller),
    };
    let rate = wallet_fee_rate(node, None);
    let txid = build_and_submit(node, &d.wallet, &d.password, spend, rate)?;
    Ok(Deployed { txid, address })
}

/// Submits an admin's migration or admin change from the wallet (its first address must be
/// the contract's admin: the receipt says so if it is not).
fn submit_admin_action(
    node: &Node,
    wallet: &str,
    password: &str,
    payload: Payload,
    gas_limit: u64,
) -> Result<Txid, RpcError> {
    let caller = wallet_caller(node, wallet)?;
    let spend = Spend {
        outputs: Vec::new(),
        payload: Some(payload),
        extra: Amount::from_units(gas_limit.saturating_mul(gas::GAS_PRICE)),
        caller: Some(caller),
    };
    let rate = wallet_fee_rate(node, None);
    build_and_submit(node, wallet, password, spend, rate)
}

/// Registers the contract methods and `tx_getReceipt`.
pub fn register(registry: &mut Registry<Node>) {
    registry.method::<api::ContractDeploy, _, _>(
        |(wallet, password, code_hex, gas_limit, init_input_hex, salt_hex, admin),
         node: Arc<Node>| async move {
            let code = hex_param(code_hex, "codeHex")?;
            i8o8i_contract_engine::validate_module(&code)
                .map_err(|e| invalid_param("codeHex", e))?;
            let d = DeploymentParams::parse(
                &node,
                wallet,
                password,
                gas_limit,
                (init_input_hex, salt_hex, admin),
            )?;
            let hash = code_hash(&code);
            let payload = Payload::Deploy {
                code,
                init_input: d.init_input.clone(),
                salt: d.salt,
                gas_limit: d.gas_limit,
                admin: d.admin.clone(),
            };
            blocking(move || submit_deployment(&node, d, payload, hash)).await
        },
    );

    registry.method::<api::ContractInstantiate, _, _>(
        |(wallet, password, code_hash, gas_limit, init_input_hex, salt_hex, admin),
         node: Arc<Node>| async move {
            let hash: Hash256 = code_hash;
            let d = DeploymentParams::parse(
                &node,
                wallet,
                password,
                gas_limit,
                (init_input_hex, salt_hex, admin),
            )?;
            let payload = Payload::Instantiate {
                code_hash: hash,
                init_input: d.init_input.clone(),
                salt: d.salt,
                gas_limit: d.gas_limit,
                admin: d.admin.clone(),
            };
            blocking(move || submit_deployment(&node, d, payload, hash)).await
        },
    );

    registry.method::<api::ContractMigrate, _, _>(
        |(wallet, password, address, code_hash, gas_limit, input_hex), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let contract: ContractAddress = address;
            let code_hash: Hash256 = code_hash;
            let input = optional_hex(input_hex, "inputHex")?;
            let gas_limit = gas_param(gas_limit)?;
            let payload = Payload::Migrate {
                contract,
                code_hash,
                input,
                gas_limit,
            };
            blocking(move || submit_admin_action(&node, &wallet, &password, payload, gas_limit))
                .await
        },
    );

    registry.method::<api::ContractSetAdmin, _, _>(
        |(wallet, password, address, admin), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let contract: ContractAddress = address;
            let admin = admin_param(&node, admin)?;
            let payload = Payload::SetAdmin { contract, admin };
            blocking(move || submit_admin_action(&node, &wallet, &password, payload, 0)).await
        },
    );

    registry.method::<api::ContractCall, _, _>(
        |(wallet, password, address, input_hex, gas_limit, value), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let contract: ContractAddress = address;
            let input = hex_param(input_hex, "inputHex")?;
            let gas_limit = gas_param(gas_limit)?;
            let value = Amount::from_units(value.unwrap_or(0));
            blocking(move || {
                let caller = wallet_caller(&node, &wallet)?;
                let reserve = Amount::from_units(gas_limit.saturating_mul(gas::GAS_PRICE));
                let spend = Spend {
                    outputs: Vec::new(),
                    payload: Some(Payload::Call {
                        contract,
                        input,
                        value,
                        gas_limit,
                    }),
                    extra: value
                        .checked_add(reserve)
                        .ok_or_else(|| invalid_param("value", "too large"))?,
                    caller: Some(caller),
                };
                let rate = wallet_fee_rate(&node, None);
                build_and_submit(&node, &wallet, &password, spend, rate)
            })
            .await
        },
    );

    registry.method::<api::ContractQuery, _, _>(
        |(address, input_hex, caller), node: Arc<Node>| async move {
            let contract: ContractAddress = address;
            let input = hex_param(input_hex, "inputHex")?;
            let caller = optional_caller(&node, caller)?;
            blocking(move || dry_run(&node, &contract, input, caller, 0, gas::MAX_TX_GAS)).await
        },
    );

    registry.method::<api::ContractEstimateGas, _, _>(
        |(address, input_hex, caller, value), node: Arc<Node>| async move {
            let contract: ContractAddress = address;
            let input = hex_param(input_hex, "inputHex")?;
            let caller = optional_caller(&node, caller)?;
            let value = value.unwrap_or(0);
            blocking(move || {
                dry_run(&node, &contract, input, caller, value, gas::MAX_TX_GAS).map(|r| {
                    GasEstimate {
                        gas_used: r.gas_used,
                        gas_breakdown: r.gas_breakdown,
                    }
                })
            })
            .await
        },
    );

    registry.method::<api::ContractTraceCall, _, _>(
        |(address, input_hex, caller, value), node: Arc<Node>| async move {
            let contract: ContractAddress = address;
            let input = hex_param(input_hex, "inputHex")?;
            let caller = optional_caller(&node, caller)?;
            let value = value.unwrap_or(0);
            blocking(move || {
                let (overlay, req) =
                    dry_run_request(&node, &contract, input, caller, value, gas::MAX_TX_GAS)?;
                let engine = &node.chain().contracts().engine;
                let _slot = engine
                    .query_slot()
                    .map_err(|e| rpc_error(ErrorCode::InternalError, e.to_string()))?;
                let ((_, result), record) = engine.execute_traced(overlay, req);
                if let Some(e) = result.storage_fault {
                    return Err(internal(e));
                }
                Ok(CallTrace {
                    gas_used: result.gas_used,
                    gas_breakdown: result.gas,
                    frames: record.frames,
                    truncated: record.truncated,
                })
            })
            .await
        },
    );

    registry.method::<api::ContractGetInfo, _, _>(|(address,), node: Arc<Node>| async move {
        let address: ContractAddress = address;
        blocking(move || {
            let (overlay, account) = contract_at(&node, &address)?;
            let code = code_of(&overlay, &account)?;
            let network = node.chain().spec().network;
            let deployer_address = i8o8i_primitives::address::Address::from_script(
                network,
                i8o8i_script_vm::Script::from_bytes(&account.deployer),
            )
            .map(|a| a.to_string());
            let admin_address = account.admin.as_ref().and_then(|script| {
                i8o8i_primitives::address::Address::from_script(
                    network,
                    i8o8i_script_vm::Script::from_bytes(script),
                )
                .map(|a| a.to_string())
            });
            let code_history = i8o8i_runtime::contract::code_history(&overlay, &address, &account)
                .map_err(internal)?;
            Ok(ContractInfo {
                address,
                deployer_address,
                admin_address,
                code_history,
                code_size: code.len(),
                abi: abi_of(&code),
                build: build_record_of(&code),
                account,
            })
        })
        .await
    });

    registry.method::<api::ContractGetStorage, _, _>(
        |(address, key_hex), node: Arc<Node>| async move {
            let address: ContractAddress = address;
            let key = hex_param(key_hex, "keyHex")?;
            blocking(move || {
                let (overlay, _) = contract_at(&node, &address)?;
                let value = overlay
                    .get(&StateKey::storage(&address, &key))
                    .map_err(internal)?;
                Ok(value.map(hex::encode))
            })
            .await
        },
    );

    registry.method::<api::ContractGetStorageRange, _, _>(
        |(address, from_key_hex, limit), node: Arc<Node>| async move {
            let address: ContractAddress = address;
            let from = optional_hex(from_key_hex, "fromKeyHex")?;
            let limit: u32 = limit.unwrap_or(100);
            if !(1..=1_000).contains(&limit) {
                return Err(invalid_param("limit", "must be 1..=1000"));
            }
            blocking(move || {
                let (overlay, _) = contract_at(&node, &address)?;
                let prefix = StateKey::storage(&address, &[]);
                // One entry more than asked says where the next page starts.
                let mut page = overlay
                    .scan_prefix(
                        &prefix,
                        &StateKey::storage(&address, &from),
                        limit as usize + 1,
                    )
                    .map_err(internal)?;
                let next_key = (page.len() > limit as usize)
                    .then(|| page.pop().map(|(k, _)| hex::encode(&k[prefix.len()..])))
                    .flatten();
                let entries = page
                    .into_iter()
                    .map(|(k, v)| StorageEntry {
                        key: hex::encode(&k[prefix.len()..]),
                        value: hex::encode(v),
                    })
                    .collect();
                Ok(StorageRange { entries, next_key })
            })
            .await
        },
    );

    registry.method::<api::ContractGetCode, _, _>(|(address,), node: Arc<Node>| async move {
        let address: ContractAddress = address;
        blocking(move || {
            let (overlay, account) = contract_at(&node, &address)?;
            Ok(hex::encode(code_of(&overlay, &account)?))
        })
        .await
    });

    registry.method::<api::ContractGetEvents, _, _>(
        |(address, from_height, to_height), node: Arc<Node>| async move {
            let address: ContractAddress = address;
            let from: u64 = from_height.unwrap_or(0);
            let to: u64 = to_height.unwrap_or(u64::MAX);
            if from > to {
                return Err(invalid_param("fromHeight", "is above toHeight"));
            }
            blocking(move || {
                let events = node
                    .chain()
                    .store()
                    .events(&address, from, to, MAX_EVENTS_PER_CALL)
                    .map_err(internal)?;
                Ok(events.into_iter().map(event_json).collect::<Vec<_>>())
            })
            .await
        },
    );

    registry.method::<api::TxGetReceipt, _, _>(|(txid,), node: Arc<Node>| async move {
        let txid: Txid = txid;
        blocking(move || {
            let receipt: Receipt = node
                .chain()
                .store()
                .receipt(&txid)
                .map_err(internal)?
                .ok_or_else(|| {
                    not_found(format!(
                        "no receipt for {txid} (not a mined contract transaction)"
                    ))
                })?;
            Ok(receipt)
        })
        .await
    });

    registry.method::<api::TxTraceContract, _, _>(|(txid,), node: Arc<Node>| async move {
        let txid: Txid = txid;
        blocking(move || {
            let engine = &node.chain().contracts().engine;
            let _slot = engine
                .query_slot()
                .map_err(|e| rpc_error(ErrorCode::InternalError, e.to_string()))?;
            let traced = node
                .chain()
                .trace_transaction(&txid)
                .map_err(internal)?
                .ok_or_else(|| not_found(format!("transaction {txid} is not in the best chain")))?;
            let receipt = traced.receipt.ok_or_else(|| {
                invalid_param("txid", format!("{txid} carries no contract payload"))
            })?;
            Ok(TxContractTrace {
                txid,
                block_hash: traced.block,
                height: traced.height,
                receipt,
                frames: traced.record.frames,
                truncated: traced.record.truncated,
            })
        })
        .await
    });
}
