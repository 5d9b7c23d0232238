//! Wallet methods: node-hosted HD wallets (keys encrypted at rest in `<data_dir>/wallets`),
//! balances over their addresses, and payments built, signed and submitted by the node.

use std::sync::Arc;

use i8o8i_rpc::{ErrorCode, Registry, RpcError, RpcParams, rpc_error};
use i8o8i_runtime::address::Address;
use i8o8i_runtime::{Amount, Payload, Transaction, TxIn, TxOut, sign_p2pkh_input};
use i8o8i_script_vm::{SIGHASH_ALL, ScriptBuf};
use i8o8i_wallet::{KdfParams, WalletError, WalletStore};
use parity_scale_codec::Encode;
use schemars::JsonSchema;
use serde::Serialize;

use crate::node::Node;
use crate::rpc::{address_balance, blocking, mempool_error};

/// Outputs below this are not worth creating as change: they go to the fee instead.
pub const DUST_LIMIT: u64 = 546;

/// `wallet_create` result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWallet {
    /// Wallet name.
    pub name: String,
    /// First receive address.
    pub address: String,
    /// The 24-word recovery phrase: shown once, never stored in clear.
    pub mnemonic: String,
}

/// `wallet_getBalance` result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletBalance {
    /// Confirmed and spendable now.
    pub confirmed: Amount,
    /// Coinbase outputs not yet mature.
    pub immature: Amount,
    /// Net effect of pooled transactions (may be negative).
    pub unconfirmed: i64,
    /// Addresses of the wallet.
    pub addresses: Vec<String>,
}

/// Maps wallet errors to documented codes.
pub fn wallet_error(e: WalletError) -> RpcError {
    match &e {
        WalletError::WrongPassword => rpc_error(ErrorCode::WrongPassword, "wrong wallet password"),
        WalletError::WalletNotFound { .. } => rpc_error(ErrorCode::WalletNotFound, e.to_string()),
        WalletError::WalletExists { .. } => rpc_error(ErrorCode::WalletExists, e.to_string()),
        WalletError::InvalidName { .. } => rpc_error(
            ErrorCode::InvalidParams,
            format!("invalid parameter `name`: {e}"),
        ),
        WalletError::EmptyPassword => rpc_error(
            ErrorCode::InvalidParams,
            format!("invalid parameter `password`: {e}"),
        ),
        _ => {
            tracing::error!(error = %e, "wallet failure");
            rpc_error(ErrorCode::InternalError, format!("wallet: {e}"))
        }
    }
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    rpc_error(ErrorCode::InternalError, format!("internal error: {e}"))
}

/// The node's wallet directory.
pub fn wallet_store(node: &Node) -> WalletStore {
    WalletStore::new(node.data_dir().join("wallets"))
}

/// Estimated encoded size of a P2PKH-only transaction (signatures at their largest).
fn estimate_size(inputs: usize, outputs: usize) -> u64 {
    // version 4 + lock time 4 + payload 1 + two compact lengths (≤ 3 each)
    // input: outpoint 36 + script len 2 + sig push 74 + key push 34 + sequence 4 = 150
    // output: value 8 + script len 1 + P2PKH 25 = 34
    (15 + inputs * 150 + outputs * 34) as u64
}

/// Creates the wallet, returning its first address and phrase.
pub fn create_wallet(
    node: &Node,
    name: &str,
    password: &str,
    kdf: KdfParams,
) -> Result<CreatedWallet, RpcError> {
    let (mut wallet, mnemonic) = wallet_store(node)
        .create(name, password, kdf)
        .map_err(wallet_error)?;
    let key = wallet.next_receive().map_err(wallet_error)?;
    let address = Address::from_pubkey(node.chain().spec().network, &key.public_key_bytes());
    Ok(CreatedWallet {
        name: name.to_owned(),
        address: address.to_string(),
        mnemonic: mnemonic.phrase().to_string(),
    })
}

/// Builds, signs and submits a payment of `amount` to `to` from wallet `name`.
///
/// # Errors
/// Wallet errors, [`ErrorCode::InsufficientFunds`], or the mempool's refusal.
pub fn send(
    node: &Node,
    name: &str,
    password: &str,
    to: &Address,
    amount: Amount,
    fee_rate: u64,
) -> Result<i8o8i_runtime::Txid, RpcError> {
    if amount.to_units() < DUST_LIMIT {
        return Err(rpc_error(
            ErrorCode::InvalidParams,
            format!("invalid parameter `amount`: below the dust limit {DUST_LIMIT}"),
        ));
    }
    let spend = Spend {
        outputs: vec![TxOut {
            value: amount,
            script_pubkey: to.script_pubkey(),
        }],
        payload: None,
        extra: Amount::ZERO,
        caller: None,
    };
    build_and_submit(node, name, password, spend, fee_rate)
}

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

/// Selects coins of wallet `name` for `spend`, adds change, signs and submits.
///
/// # Errors
/// Wallet errors, [`ErrorCode::InsufficientFunds`], or the mempool's refusal.
pub fn build_and_submit(
    node: &Node,
    name: &str,
    password: &str,
    spend: Spend,
    fee_rate: u64,
) -> Result<i8o8i_runtime::Txid, RpcError> {
    let store = wallet_store(node);
    let mut wallet = store.open(name, password).map_err(wallet_error)?;
    let info = wallet.info();
    let next_height = node.chain().tip().header.height + 1;
    let maturity = node.chain().spec().coinbase_maturity;

    // Spendable coins of every key: confirmed, mature, not spent by a pooled transaction.
    let mut candidates = Vec::new();
    {
        let pool = node.mempool();
        for key in info.keys() {
            let script = i8o8i_script_vm::templates::p2pkh(&key.pubkey_hash());
            for (op, coin) in node
                .chain()
                .store()
                .coins_for_script(&script)
                .map_err(internal)?
            {
                let mature = !coin.coinbase || coin.height + maturity <= next_height;
                if mature && pool.spender(&op).is_none() {
                    candidates.push((
                        op,
                        coin.output.value,
                        key.chain(),
                        key.index(),
                        script.clone(),
                    ));
                }
            }
        }
    }
    // Largest first: fewest inputs, lowest fee. The caller's largest coin goes first of all.
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(caller) = &spend.caller {
        let Some(pos) = candidates.iter().position(|c| &c.4 == caller) else {
            return Err(rpc_error(
                ErrorCode::InsufficientFunds,
                "insufficient funds: no spendable coin at the caller address (contracts see the \
                 script of the first input as the caller)",
            ));
        };
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
        .ok_or_else(|| internal("amount overflow"))?;
    let mut selected = Vec::new();
    let mut total = Amount::ZERO;
    let mut fee = Amount::ZERO;
    for c in candidates {
        total = total
            .checked_add(c.1)
            .ok_or_else(|| internal("amount overflow"))?;
        selected.push(c);
        let size = estimate_size(selected.len(), declared + 1) + payload_size;
        fee = Amount::from_units(size * fee_rate);
        if total >= amount.checked_add(fee).unwrap_or(Amount::MAX) {
            break;
        }
    }
    let needed = amount.checked_add(fee).unwrap_or(Amount::MAX);
    if total < needed {
        return Err(rpc_error(
            ErrorCode::InsufficientFunds,
            format!(
                "insufficient funds: need {needed} (outputs, value and gas {amount} + fee {fee}), spendable {total}"
            ),
        ));
    }
    let mut outputs = spend.outputs;
    let change = total.checked_sub(needed).unwrap_or(Amount::ZERO);
    if change.to_units() >= DUST_LIMIT {
        let script_pubkey = match spend.caller {
            Some(caller) => caller,
            None => {
                let key = wallet.next_change().map_err(wallet_error)?;
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
            .map(|(op, ..)| TxIn {
                prevout: *op,
                script_sig: Default::default(),
                sequence: u32::MAX,
            })
            .collect(),
        outputs,
        lock_time: 0,
        payload: spend.payload,
    };
    let chain_id = node.chain().chain_id();
    for (i, (_, value, chain, index, _)) in selected.iter().enumerate() {
        let key = wallet.key(*chain, *index).map_err(wallet_error)?;
        sign_p2pkh_input(&mut tx, i, key.secret_key(), *value, &chain_id, SIGHASH_ALL)
            .map_err(internal)?;
    }
    node.submit_transaction(tx).map_err(mempool_error)
}

/// Registers the wallet methods.
pub fn register(registry: &mut Registry<Node>) {
    registry.register(
        "wallet_create",
        |p: RpcParams, node: Arc<Node>| async move {
            let name: String = p.required(0, "name")?;
            let password: String = p.required(1, "password")?;
            blocking(move || create_wallet(&node, &name, &password, KdfParams::default())).await
        },
    );

    registry.register("wallet_list", |_p: RpcParams, node: Arc<Node>| async move {
        wallet_store(&node).list().map_err(wallet_error)
    });

    registry.register(
        "wallet_newAddress",
        |p: RpcParams, node: Arc<Node>| async move {
            let name: String = p.required(0, "name")?;
            blocking(move || {
                let key = wallet_store(&node)
                    .next_receive_address(&name)
                    .map_err(wallet_error)?;
                Ok(Address::p2pkh(node.chain().spec().network, key.pubkey_hash()).to_string())
            })
            .await
        },
    );

    registry.register(
        "wallet_getBalance",
        |p: RpcParams, node: Arc<Node>| async move {
            let name: String = p.required(0, "name")?;
            blocking(move || {
                let info = wallet_store(&node).info(&name).map_err(wallet_error)?;
                let network = node.chain().spec().network;
                let next_height = node.chain().tip().header.height + 1;
                let maturity = node.chain().spec().coinbase_maturity;
                let (mut confirmed, mut immature, mut unconfirmed) = (0u64, 0u64, 0i64);
                let mut addresses = Vec::new();
                for key in info.keys() {
                    let script = i8o8i_script_vm::templates::p2pkh(&key.pubkey_hash());
                    addresses.push(Address::p2pkh(network, key.pubkey_hash()).to_string());
                    let balance = address_balance(&node, &script)?;
                    unconfirmed += balance.unconfirmed;
                    for (_, coin) in node
                        .chain()
                        .store()
                        .coins_for_script(&script)
                        .map_err(internal)?
                    {
                        if coin.coinbase && coin.height + maturity > next_height {
                            immature += coin.output.value.to_units();
                        } else {
                            confirmed += coin.output.value.to_units();
                        }
                    }
                }
                Ok(WalletBalance {
                    confirmed: Amount::from_units(confirmed),
                    immature: Amount::from_units(immature),
                    unconfirmed,
                    addresses,
                })
            })
            .await
        },
    );

    registry.register("wallet_send", |p: RpcParams, node: Arc<Node>| async move {
        let name: String = p.required(0, "name")?;
        let password: String = p.required(1, "password")?;
        let to: String = p.required(2, "toAddress")?;
        let amount: u64 = p.required(3, "amount")?;
        let fee_rate: Option<u64> = p.optional(4, "feeRate")?;
        let to = Address::parse_for(&to, node.chain().spec().network).map_err(|e| {
            rpc_error(
                ErrorCode::InvalidAddress,
                format!("invalid parameter `toAddress`: {e}"),
            )
        })?;
        blocking(move || {
            let min = node.mempool().min_fee_rate();
            let rate = fee_rate.unwrap_or(min).max(min);
            send(
                &node,
                &name,
                &password,
                &to,
                Amount::from_units(amount),
                rate,
            )
        })
        .await
    });
}
