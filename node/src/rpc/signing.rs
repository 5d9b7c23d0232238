//! Signing requests for signers that keep their own keys — a browser or hardware wallet, an
//! exchange's signer, the CLI with its own keystore: `tx_fund` selects coins and describes the
//! transaction ([`i8o8i_primitives::signing_request`]), `tx_decodeRequest` shows what a request
//! asks, `tx_combine` merges signatures made apart, `tx_finalize` turns a complete request into a
//! transaction for `tx_submit`. The node never sees a key.

use std::collections::BTreeMap;
use std::sync::Arc;

use i8o8i_primitives::address::Address;
use i8o8i_primitives::signing_request::{KeyOrigin, RequestError, SigningRequest};
use i8o8i_primitives::{Amount, TxOut};
use i8o8i_rpc::types::*;
use i8o8i_rpc::{ErrorCode, Registry, RpcError, api, rpc_error};
use i8o8i_script_vm::ScriptBuf;
use i8o8i_script_vm::templates::{self, Template, hash160};
use i8o8i_wallet::build::{BuildError, Candidate, DUST_LIMIT, Spend, request_for, select};
use i8o8i_wallet::{Chain, DerivationPath, WalletView};

use crate::node::Node;
use crate::rpc::common::{blocking, internal, parse_address, wallet_fee_rate};
use crate::rpc::wallet::{Lock, spendable, wallet_error, wallet_store};

/// Most addresses one `tx_fund` reads the coins of (each is a scan of the address index).
const MAX_FUND_ADDRESSES: usize = 1_000;

/// Maps a request's refusal to its documented code.
pub fn request_error(e: RequestError) -> RpcError {
    let code = match e {
        RequestError::Incomplete { .. } => ErrorCode::SigningRequestIncomplete,
        _ => ErrorCode::SigningRequestInvalid,
    };
    rpc_error(code, e.to_string())
}

fn parse_request(text: &str) -> Result<SigningRequest, RpcError> {
    SigningRequest::from_text(text).map_err(request_error)
}

fn invalid(name: &str, message: impl std::fmt::Display) -> RpcError {
    rpc_error(
        ErrorCode::InvalidParams,
        format!("invalid parameter `{name}`: {message}"),
    )
}

/// The coins `tx_fund` may spend: each script with what unlocks it and the keys that sign for
/// it, and where change goes.
struct Source {
    owned: Vec<Owned>,
    change: Option<Address>,
    wallet: Option<String>,
}

struct Owned {
    lock: Lock,
    keys: Vec<KeyOrigin>,
}

fn source(node: &Node, from: FundSource) -> Result<Source, RpcError> {
    match (from.wallet, from.addresses.is_empty()) {
        (Some(_), false) => Err(invalid("from", "name addresses or a wallet, not both")),
        (None, true) => Err(invalid("from", "names no address and no wallet")),
        (Some(name), true) => {
            if !from.redeem_scripts.is_empty() {
                return Err(invalid("from", "redeemScripts go with addresses"));
            }
            let view = wallet_store(node).view(&name).map_err(wallet_error)?;
            let encrypted = matches!(view, WalletView::Encrypted(_));
            let owned = view
                .addresses()
                .map_err(wallet_error)?
                .into_iter()
                .map(|address| Owned {
                    lock: Lock {
                        script: address.script_pubkey().clone(),
                        key: encrypted.then_some((address.chain(), address.index())),
                        redeem_script: address.redeem_script().cloned(),
                    },
                    keys: address.keys().to_vec(),
                })
                .collect();
            Ok(Source {
                owned,
                change: None,
                wallet: Some(name),
            })
        }
        (None, false) => {
            if from.addresses.len() > MAX_FUND_ADDRESSES {
                return Err(invalid(
                    "from.addresses",
                    format!("at most {MAX_FUND_ADDRESSES} addresses"),
                ));
            }
            let mut redeem = BTreeMap::new();
            for hex_script in &from.redeem_scripts {
                let bytes = hex::decode(hex_script)
                    .map_err(|e| invalid("from.redeemScripts", format!("not hex: {e}")))?;
                redeem.insert(hash160(&bytes), ScriptBuf::from_bytes(bytes));
            }
            let mut owned = Vec::new();
            let mut first = None;
            for text in &from.addresses {
                let address = parse_address(node, "from.addresses", text)?;
                let script = address.script_pubkey();
                let (redeem_script, keys) = match templates::classify(&script) {
                    Template::P2pkh { .. } => (None, Vec::new()),
                    Template::P2sh { script_hash } => {
                        let redeem_script = redeem.get(&script_hash).cloned().ok_or_else(|| {
                            invalid(
                                "from.redeemScripts",
                                format!("no redeem script for the P2SH address {text}"),
                            )
                        })?;
                        let Template::Multisig { pubkeys, .. } =
                            templates::classify(&redeem_script)
                        else {
                            return Err(invalid(
                                "from.redeemScripts",
                                format!("the redeem script of {text} is not a multisig script"),
                            ));
                        };
                        let keys = pubkeys
                            .iter()
                            .filter_map(|k| {
                                Some(KeyOrigin {
                                    pubkey: k.as_slice().try_into().ok()?,
                                    path: Vec::new(),
                                })
                            })
                            .collect();
                        (Some(redeem_script), keys)
                    }
                    _ => {
                        return Err(invalid(
                            "from.addresses",
                            format!("{text} is neither P2PKH nor P2SH"),
                        ));
                    }
                };
                first.get_or_insert(address);
                owned.push(Owned {
                    lock: Lock {
                        script,
                        key: None,
                        redeem_script,
                    },
                    keys,
                });
            }
            Ok(Source {
                owned,
                change: first,
                wallet: None,
            })
        }
    }
}

/// `tx_fund`.
fn fund(
    node: &Node,
    outputs: Vec<PaymentJson>,
    from: FundSource,
    options: FundOptions,
) -> Result<FundedRequest, RpcError> {
    if outputs.is_empty() {
        return Err(invalid("outputs", "no payment"));
    }
    let mut payments = Vec::with_capacity(outputs.len());
    for payment in &outputs {
        let address = parse_address(node, "outputs.address", &payment.address)?;
        if payment.amount.to_units() < DUST_LIMIT {
            return Err(invalid(
                "outputs.amount",
                format!("below the dust limit {DUST_LIMIT}"),
            ));
        }
        payments.push(TxOut {
            value: payment.amount,
            script_pubkey: address.script_pubkey(),
        });
    }
    let change_address = options
        .change_address
        .as_deref()
        .map(|a| parse_address(node, "options.changeAddress", a))
        .transpose()?;
    let source = source(node, from)?;
    let fee_rate = wallet_fee_rate(node, options.fee_rate);

    let scripts: Vec<Lock> = source.owned.iter().map(|o| o.lock.clone()).collect();
    let candidates = spendable(node, &scripts)?;
    let mut change_keys = Vec::new();
    let mut change_script = || -> Result<ScriptBuf, i8o8i_wallet::WalletError> {
        if let Some(address) = change_address.as_ref().or(source.change.as_ref()) {
            return Ok(address.script_pubkey());
        }
        // A wallet source: its next change key, recorded in its file as handed out.
        let name = source.wallet.as_deref().unwrap_or_default();
        let address = wallet_store(node).next_wallet_address(name, Chain::Change)?;
        change_keys.extend_from_slice(address.keys());
        Ok(address.script_pubkey().clone())
    };
    let spend = Spend {
        outputs: payments,
        payload: None,
        extra: Amount::ZERO,
        caller: None,
    };
    let selection =
        select(candidates, spend, fee_rate, &mut change_script).map_err(|e| match e {
            BuildError::InsufficientFunds { .. } => {
                rpc_error(ErrorCode::InsufficientFunds, e.to_string())
            }
            BuildError::Wallet(w) => wallet_error(w),
            other => internal(other),
        })?;
    let keys_of = |c: &Candidate| {
        source
            .owned
            .iter()
            .find(|o| o.lock.script == c.script)
            .map(|o| o.keys.clone())
            .unwrap_or_default()
    };
    let request = request_for(&selection, node.chain().chain_id(), &keys_of, change_keys)
        .map_err(internal)?;
    Ok(FundedRequest {
        request: request.to_text(),
        fee: selection.fee,
        change_index: selection.change.map(|i| i as u32),
    })
}

fn key_json(origin: &KeyOrigin, signed: bool) -> RequestKeyJson {
    RequestKeyJson {
        pubkey: hex::encode(origin.pubkey),
        path: (!origin.path.is_empty())
            .then(|| DerivationPath::from_raw(&origin.path).ok())
            .flatten()
            .map(|p| p.to_string()),
        signed,
    }
}

/// `tx_decodeRequest`.
pub fn describe(node: &Node, request: &SigningRequest) -> Result<RequestJson, RpcError> {
    let network = node.chain().spec().network;
    let address = |script: &ScriptBuf| Address::from_script(network, script).map(|a| a.to_string());
    let status = request.status();
    let inputs = request
        .inputs
        .iter()
        .zip(&request.tx.inputs)
        .zip(status)
        .map(|((data, txin), status)| {
            let mut keys: Vec<RequestKeyJson> = data
                .keys
                .iter()
                .map(|k| key_json(k, data.signatures.iter().any(|s| s.pubkey == k.pubkey)))
                .collect();
            // Signatures by keys the funder did not list (a P2PKH coin's key) are shown too.
            for sig in &data.signatures {
                if !data.keys.iter().any(|k| k.pubkey == sig.pubkey) {
                    let origin = KeyOrigin {
                        pubkey: sig.pubkey,
                        path: Vec::new(),
                    };
                    keys.push(key_json(&origin, true));
                }
            }
            RequestInputJson {
                outpoint: format!("{}:{}", txin.prevout.txid, txin.prevout.index),
                value: data.spent.value,
                address: address(&data.spent.script_pubkey),
                script_pubkey: hex::encode(data.spent.script_pubkey.as_bytes()),
                hash_type: data.hash_type,
                redeem_script: data
                    .redeem_script
                    .as_ref()
                    .map(|r| hex::encode(r.as_bytes())),
                keys,
                signatures: status.have,
                needed: status.need,
            }
        })
        .collect();
    let outputs = request
        .tx
        .outputs
        .iter()
        .zip(&request.outputs)
        .map(|(out, data)| RequestOutputJson {
            address: address(&out.script_pubkey),
            script_pubkey: hex::encode(out.script_pubkey.as_bytes()),
            amount: out.value,
            change: data.change,
        })
        .collect();
    Ok(RequestJson {
        unsigned_txid: request.unsigned_txid(),
        chain_id: request.chain_id,
        fee: request.fee().map_err(request_error)?,
        complete: request.is_complete(),
        inputs,
        outputs,
    })
}

/// Registers the signing-request methods.
pub fn register(registry: &mut Registry<Node>) {
    registry.method::<api::TxFund, _, _>(|(outputs, from, options), node: Arc<Node>| async move {
        let outputs: Vec<PaymentJson> = outputs;
        let from: FundSource = from;
        let options: Option<FundOptions> = options;
        blocking(move || fund(&node, outputs, from, options.unwrap_or_default())).await
    });

    registry.method::<api::TxDecodeRequest, _, _>(|(request,), node: Arc<Node>| async move {
        let request: String = request;
        blocking(move || describe(&node, &parse_request(&request)?)).await
    });

    registry.method::<api::TxCombine, _, _>(|(requests,), _node: Arc<Node>| async move {
        let requests: Vec<String> = requests;
        blocking(move || {
            if requests.len() < 2 {
                return Err(invalid("requests", "combine takes two requests or more"));
            }
            let mut combined = parse_request(&requests[0])?;
            for other in &requests[1..] {
                combined
                    .combine(&parse_request(other)?)
                    .map_err(request_error)?;
            }
            Ok(combined.to_text())
        })
        .await
    });

    registry.method::<api::TxFinalize, _, _>(|(request,), _node: Arc<Node>| async move {
        let request: String = request;
        blocking(move || {
            let tx = parse_request(&request)?.finalize().map_err(request_error)?;
            Ok(FinalizedTx {
                hex: hex::encode(parity_scale_codec::Encode::encode(&tx)),
                txid: tx.txid(),
            })
        })
        .await
    });
}
