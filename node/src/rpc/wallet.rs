//! Wallet methods: node-hosted HD wallets (keys encrypted at rest in `<data_dir>/wallets`),
//! balances over their addresses, and payments built, signed and submitted by the node.

use std::sync::Arc;

use i8o8i_primitives::address::Address;
use i8o8i_primitives::signing_request::SigningRequest;
use i8o8i_primitives::{Amount, TxOut, Txid};
use i8o8i_rpc::{ErrorCode, Registry, RpcError, rpc_error};
use i8o8i_script_vm::{Script, ScriptBuf};
use i8o8i_wallet::build::{BuildError, Candidate, DUST_LIMIT, Spend, build_signed};
use i8o8i_wallet::{
    Chain, Cosigner, DerivationPath, KdfParams, Policy, WalletAddress, WalletError, WalletStore,
    WalletView,
};

use crate::node::Node;
use crate::rpc::common::{
    at_one_tip, blocking, internal, mempool_error, scripts_balance, wallet_fee_rate,
};
use crate::rpc::signing::request_error;
use i8o8i_rpc::api;
use i8o8i_rpc::types::*;

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
        WalletError::WatchOnly { .. } => rpc_error(ErrorCode::WatchOnlyWallet, e.to_string()),
        WalletError::InvalidXpub { .. }
        | WalletError::InvalidPolicy { .. }
        | WalletError::PathMissingMaster { .. }
        | WalletError::PathComponent { .. }
        | WalletError::PathTooDeep { .. } => rpc_error(ErrorCode::InvalidParams, e.to_string()),
        _ => {
            tracing::error!(error = %e, "wallet failure");
            rpc_error(ErrorCode::InternalError, format!("wallet: {e}"))
        }
    }
}

/// The node's wallet directory.
pub fn wallet_store(node: &Node) -> WalletStore {
    WalletStore::new(node.data_dir().join("wallets"))
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
) -> Result<i8o8i_primitives::Txid, RpcError> {
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
) -> Result<i8o8i_primitives::Txid, RpcError> {
    let store = wallet_store(node);
    let mut wallet = store.open(name, password).map_err(wallet_error)?;
    let scripts: Vec<_> = wallet
        .info()
        .keys()
        .iter()
        .map(|key| Lock {
            script: i8o8i_script_vm::templates::p2pkh(&key.pubkey_hash()),
            key: Some((key.chain(), key.index())),
            redeem_script: None,
        })
        .collect();
    let candidates = spendable(node, &scripts)?;
    let chain_id = node.chain().chain_id();
    let tx =
        build_signed(&mut wallet, candidates, spend, fee_rate, &chain_id).map_err(|e| match e {
            BuildError::NoCallerCoin | BuildError::InsufficientFunds { .. } => {
                rpc_error(ErrorCode::InsufficientFunds, e.to_string())
            }
            BuildError::Wallet(w) => wallet_error(w),
            other => internal(other),
        })?;
    node.submit_transaction(tx).map_err(mempool_error)
}

/// Replaces wallet `name`'s pooled payment `txid` by the same payment paying more, the
/// difference taken from its change output, every input signed again.
///
/// # Errors
/// Wallet errors; [`ErrorCode::NotFound`] if `txid` is not pooled; invalid parameters for a
/// transaction that is not a plain payment of this wallet; [`ErrorCode::InsufficientFunds`]
/// if its change cannot cover the new fee; the mempool's refusal.
pub fn bump_fee(
    node: &Node,
    name: &str,
    password: &str,
    txid: Txid,
    fee_rate: Option<u64>,
) -> Result<BumpedFee, RpcError> {
    let wallet = wallet_store(node)
        .open(name, password)
        .map_err(wallet_error)?;
    let (tx, coins, old_fee, size) = {
        let pool = node.mempool();
        let entry = pool.get(&txid).ok_or_else(|| {
            rpc_error(
                ErrorCode::NotFound,
                format!(
                    "transaction {txid} is not in the mempool (confirmed, replaced or unknown)"
                ),
            )
        })?;
        (
            (*entry.tx).clone(),
            entry.coins().to_vec(),
            entry.fee,
            entry.size,
        )
    };
    let not_ours = |why: &str| {
        rpc_error(
            ErrorCode::InvalidParams,
            format!("invalid parameter `txid`: {why}"),
        )
    };
    if tx.payload.is_some() {
        return Err(not_ours("only plain payments can be bumped"));
    }
    let keys = wallet.info().keys().to_vec();
    let key_of = |script: &ScriptBuf| {
        keys.iter()
            .find(|k| *script == i8o8i_script_vm::templates::p2pkh(&k.pubkey_hash()))
    };
    let signers = coins
        .iter()
        .map(|c| key_of(&c.output.script_pubkey).copied())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| not_ours("it spends coins that are not this wallet's"))?;
    // Change: an output to the wallet's change chain, else to any of its keys.
    let change = tx
        .outputs
        .iter()
        .enumerate()
        .filter_map(|(i, o)| Some((i, key_of(&o.script_pubkey)?)))
        .max_by_key(|(_, k)| k.chain() == Chain::Change)
        .map(|(i, _)| i)
        .ok_or_else(|| {
            rpc_error(
                ErrorCode::InsufficientFunds,
                "the transaction has no change output to take a higher fee from",
            )
        })?;
    // Core's bumpfee: the old rate plus the incremental relay rate, or the estimate if higher;
    // and at least the old fee plus relay of the replacement's bytes (BIP125 rule 4). A
    // signature may come out a byte longer: count two per input.
    let min = node.mempool().min_fee_rate();
    let new_size = size + 2 * tx.inputs.len() as u64;
    let rate = fee_rate.unwrap_or_else(|| {
        old_fee.to_units().div_ceil(size).saturating_add(min).max(
            crate::rpc::common::fee_estimate(node, crate::rpc::common::DEFAULT_FEE_TARGET).fee_rate,
        )
    });
    let fee = Amount::from_units(
        rate.saturating_mul(new_size).max(
            old_fee
                .to_units()
                .saturating_add(min.saturating_mul(new_size)),
        ),
    );
    let extra = fee.checked_sub(old_fee).unwrap_or(Amount::ZERO);
    let mut bumped = tx.clone();
    let value = bumped.outputs[change]
        .value
        .checked_sub(extra)
        .filter(|v| v.to_units() >= DUST_LIMIT)
        .ok_or_else(|| {
            rpc_error(
                ErrorCode::InsufficientFunds,
                format!(
                    "the change output ({}) cannot pay {extra} more and stay above the dust limit",
                    bumped.outputs[change].value
                ),
            )
        })?;
    bumped.outputs[change].value = value;
    for input in &mut bumped.inputs {
        input.script_sig = ScriptBuf::default();
    }
    let chain_id = node.chain().chain_id();
    for (i, (key, coin)) in signers.iter().zip(&coins).enumerate() {
        let secret = wallet.key(key.chain(), key.index()).map_err(wallet_error)?;
        i8o8i_primitives::sign_p2pkh_input(
            &mut bumped,
            i,
            secret.secret_key(),
            coin.output.value,
            &chain_id,
            i8o8i_script_vm::SIGHASH_ALL,
        )
        .map_err(internal)?;
    }
    let new = node.submit_transaction(bumped).map_err(mempool_error)?;
    Ok(BumpedFee {
        txid: new,
        replaced: txid,
        fee,
        old_fee,
    })
}

/// A script whose coins may be spent, with what unlocks it.
#[derive(Debug, Clone)]
pub struct Lock {
    /// The script.
    pub script: ScriptBuf,
    /// The wallet key (chain, index) of a wallet's own P2PKH script.
    pub key: Option<(Chain, u32)>,
    /// The script a P2SH script hashes.
    pub redeem_script: Option<ScriptBuf>,
}

/// The spendable coins of `scripts`: confirmed, mature, not spent by a pooled transaction —
/// one snapshot of every script's coins, paired with the pool at its tip.
///
/// # Errors
/// Storage failures.
pub fn spendable(node: &Node, scripts: &[Lock]) -> Result<Vec<Candidate>, RpcError> {
    let next_height = node.chain().tip().header.height + 1;
    let maturity = node.chain().spec().coinbase_maturity;
    let refs: Vec<&i8o8i_script_vm::Script> =
        scripts.iter().map(|l| l.script.as_script()).collect();
    let (_, coins, spent) = at_one_tip(node, |store| store.coins_for_scripts(&refs))?;
    let of_script: std::collections::HashMap<&ScriptBuf, usize> = scripts
        .iter()
        .enumerate()
        .map(|(k, l)| (&l.script, k))
        .collect();
    let mut candidates = Vec::new();
    for (outpoint, coin) in coins {
        let mature = !coin.coinbase || coin.height + maturity <= next_height;
        let Some(&k) = of_script.get(&coin.output.script_pubkey) else {
            continue;
        };
        if mature && !spent.contains(&outpoint) {
            let lock = &scripts[k];
            candidates.push(Candidate {
                outpoint,
                value: coin.output.value,
                script: lock.script.clone(),
                key: lock.key,
                redeem_script: lock.redeem_script.clone(),
            });
        }
    }
    Ok(candidates)
}

/// BIP44's gap limit: a scan stops after this many unused addresses in a row.
const GAP_LIMIT: u32 = 20;

/// The text form of a wallet address.
fn address_text(node: &Node, address: &WalletAddress) -> Result<String, RpcError> {
    Address::from_script(node.chain().spec().network, address.script_pubkey())
        .map(|a| a.to_string())
        .ok_or_else(|| internal("a wallet address is neither P2PKH nor P2SH"))
}

fn info_json(view: &WalletView) -> WalletInfoJson {
    let (kind, name, created_at, threshold, cosigners) = match view {
        WalletView::Encrypted(info) => (
            WalletKind::Encrypted,
            info.name(),
            info.created_at(),
            1,
            Vec::new(),
        ),
        WalletView::WatchOnly(info) => (
            WalletKind::WatchOnly,
            info.name(),
            info.created_at(),
            info.policy().threshold() as u32,
            info.policy()
                .cosigners()
                .iter()
                .map(|c| CosignerJson {
                    xpub: c.xpub().to_xpub(),
                    path: Some(c.path().to_string()),
                })
                .collect(),
        ),
    };
    WalletInfoJson {
        name: name.to_owned(),
        kind,
        threshold,
        cosigners,
        next_receive_index: view.next_index(Chain::Receive),
        next_change_index: view.next_index(Chain::Change),
        created_at,
    }
}

/// Creates watch-only wallet `name` for `policy`, with every address up to the last one that
/// holds coins (confirmed or pooled) handed out: on each chain, addresses are read
/// [`GAP_LIMIT`] at a time until a whole window is unused (BIP44's account discovery). There is
/// no index of spent outputs by address, so an address whose coins were all spent looks unused.
fn import(node: &Node, name: &str, policy: Policy) -> Result<WalletInfoJson, RpcError> {
    let store = wallet_store(node);
    if store.exists(name).map_err(wallet_error)? {
        return Err(wallet_error(WalletError::WalletExists {
            name: name.to_owned(),
        }));
    }
    let mut next = [0u32; 2];
    for (chain, next) in [Chain::Receive, Chain::Change].into_iter().zip(&mut next) {
        let mut start = 0u32;
        loop {
            let end = start
                .saturating_add(GAP_LIMIT)
                .min(i8o8i_wallet::hd::HARDENED);
            let window = (start..end)
                .map(|i| policy.address(chain, i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(wallet_error)?;
            let scripts: Vec<&Script> = window
                .iter()
                .map(|a| a.script_pubkey().as_script())
                .collect();
            let used = scripts_balance(node, &scripts)?.used;
            if let Some(last) = window
                .iter()
                .rev()
                .find(|a| used.contains(a.script_pubkey().as_bytes()))
            {
                *next = last.index() + 1;
            }
            if *next <= start || end == i8o8i_wallet::hd::HARDENED {
                break;
            }
            start = end;
        }
    }
    let info = store
        .import_watch_only(name, policy, next[0], next[1])
        .map_err(wallet_error)?;
    Ok(info_json(&WalletView::WatchOnly(info)))
}

/// Registers the wallet methods.
pub fn register(registry: &mut Registry<Node>) {
    registry.method::<api::WalletCreate, _, _>(|(name, password), node: Arc<Node>| async move {
        let name: String = name;
        let password: String = password;
        blocking(move || create_wallet(&node, &name, &password, KdfParams::default())).await
    });

    registry.method::<api::WalletList, _, _>(|(), node: Arc<Node>| async move {
        wallet_store(&node).list().map_err(wallet_error)
    });

    registry.method::<api::WalletNewAddress, _, _>(|(name,), node: Arc<Node>| async move {
        let name: String = name;
        blocking(move || {
            let address = wallet_store(&node)
                .next_wallet_address(&name, Chain::Receive)
                .map_err(wallet_error)?;
            address_text(&node, &address)
        })
        .await
    });

    registry.method::<api::WalletGetBalance, _, _>(|(name,), node: Arc<Node>| async move {
        let name: String = name;
        blocking(move || {
            let view = wallet_store(&node).view(&name).map_err(wallet_error)?;
            let addresses = view.addresses().map_err(wallet_error)?;
            let scripts: Vec<&Script> = addresses
                .iter()
                .map(|a| a.script_pubkey().as_script())
                .collect();
            let balance = scripts_balance(&node, &scripts)?;
            Ok(WalletBalance {
                confirmed: Amount::from_units(balance.confirmed),
                immature: Amount::from_units(balance.immature),
                unconfirmed: balance.unconfirmed,
                addresses: addresses
                    .iter()
                    .map(|a| address_text(&node, a))
                    .collect::<Result<_, _>>()?,
                watch_only: matches!(view, WalletView::WatchOnly(_)),
            })
        })
        .await
    });

    registry.method::<api::WalletGetInfo, _, _>(|(name,), node: Arc<Node>| async move {
        let name: String = name;
        blocking(move || {
            let view = wallet_store(&node).view(&name).map_err(wallet_error)?;
            Ok(info_json(&view))
        })
        .await
    });

    registry.method::<api::WalletImportXpub, _, _>(
        |(name, xpub, path), node: Arc<Node>| async move {
            let name: String = name;
            let xpub: String = xpub;
            let path: Option<String> = path;
            blocking(move || {
                let cosigner = Cosigner::parse(&xpub, path.as_deref()).map_err(wallet_error)?;
                import(&node, &name, Policy::single(cosigner))
            })
            .await
        },
    );

    registry.method::<api::WalletCreateMultisig, _, _>(
        |(name, threshold, cosigners), node: Arc<Node>| async move {
            let name: String = name;
            let threshold: u32 = threshold;
            let cosigners: Vec<CosignerJson> = cosigners;
            blocking(move || {
                let cosigners = cosigners
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        Cosigner::parse(&c.xpub, c.path.as_deref()).map_err(|e| {
                            rpc_error(
                                ErrorCode::InvalidParams,
                                format!("invalid parameter `cosigners[{i}]`: {e}"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let policy =
                    Policy::multisig(threshold as usize, cosigners).map_err(wallet_error)?;
                import(&node, &name, policy)
            })
            .await
        },
    );

    registry.method::<api::WalletGetXpub, _, _>(|(name, password), node: Arc<Node>| async move {
        let name: String = name;
        let password: String = password;
        blocking(move || {
            let wallet = wallet_store(&node)
                .open(&name, &password)
                .map_err(wallet_error)?;
            Ok(AccountXpubJson {
                xpub: wallet.account_xpub().to_xpub(),
                path: DerivationPath::account(i8o8i_wallet::ACCOUNT)
                    .map_err(internal)?
                    .to_string(),
            })
        })
        .await
    });

    registry.method::<api::WalletSignRequest, _, _>(
        |(name, password, request), node: Arc<Node>| async move {
            let name: String = name;
            let password: String = password;
            let request: String = request;
            blocking(move || {
                let mut request = SigningRequest::from_text(&request).map_err(request_error)?;
                if request.chain_id != node.chain().chain_id() {
                    return Err(rpc_error(
                        ErrorCode::SigningRequestInvalid,
                        "the request is for another chain",
                    ));
                }
                let wallet = wallet_store(&node)
                    .open(&name, &password)
                    .map_err(wallet_error)?;
                let signed = wallet.sign_request(&mut request).map_err(|e| match e {
                    WalletError::Sign(_) => {
                        rpc_error(ErrorCode::SigningRequestInvalid, e.to_string())
                    }
                    other => wallet_error(other),
                })?;
                Ok(SignedRequestJson {
                    request: request.to_text(),
                    signed: signed as u32,
                    complete: request.is_complete(),
                })
            })
            .await
        },
    );

    registry.method::<api::WalletBumpFee, _, _>(
        |(name, password, txid, fee_rate), node: Arc<Node>| async move {
            let name: String = name;
            let password: String = password;
            let txid: Txid = txid;
            let fee_rate: Option<u64> = fee_rate;
            blocking(move || bump_fee(&node, &name, &password, txid, fee_rate)).await
        },
    );

    registry.method::<api::WalletSend, _, _>(
        |(name, password, to_address, amount, fee_rate), node: Arc<Node>| async move {
            let name: String = name;
            let password: String = password;
            let to: String = to_address;
            let amount: u64 = amount;
            let fee_rate: Option<u64> = fee_rate;
            let to = Address::parse_for(&to, node.chain().spec().network).map_err(|e| {
                rpc_error(
                    ErrorCode::InvalidAddress,
                    format!("invalid parameter `toAddress`: {e}"),
                )
            })?;
            blocking(move || {
                let rate = wallet_fee_rate(&node, fee_rate);
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
        },
    );
}
