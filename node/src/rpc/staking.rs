//! Staking, delegate and consensus methods: wallet-built `Bond` / `Unbond` /
//! `RegisterDelegate` / `Vote` transactions, and read views of the staking ledger, the producer
//! schedule and the consensus schedule.
//!
//! A wallet's staking key is its first receive key (`m/44'/8088'/0'/0/0`): its address receives
//! block rewards and released stake, and a coin of that address authorises unbonds,
//! registrations and votes (`docs/consensus.md`).

use std::sync::Arc;

use i8o8i_contract_engine::StateOverlay;
use i8o8i_primitives::address::Address;
use i8o8i_primitives::{Amount, Payload};
use i8o8i_rpc::{ErrorCode, Registry, RpcError, rpc_error};
use i8o8i_runtime::consensus::ScheduledEngine;
use i8o8i_runtime::producers::{ProducerState, genesis_delegates, parse_key};
use i8o8i_runtime::slots::StakingKey;
use i8o8i_runtime::spec::EngineParams;
use i8o8i_runtime::staking::{StakeIndex, StakeRecords, StakingRules, key_script};

use crate::node::Node;
use crate::rpc::common::{blocking, internal, invalid_param, parse_address, wallet_fee_rate};
use i8o8i_rpc::api;
use i8o8i_rpc::types::*;
use i8o8i_wallet::build::Spend;

use crate::rpc::wallet::{build_and_submit, wallet_error, wallet_store};

/// The staking key of wallet `name` (its first receive key).
pub fn wallet_staking_key(node: &Node, name: &str) -> Result<StakingKey, RpcError> {
    let info = wallet_store(node).info(name).map_err(wallet_error)?;
    info.keys().first().map(|k| k.public_key()).ok_or_else(|| {
        rpc_error(
            ErrorCode::InsufficientFunds,
            "the wallet has no address yet (wallet_newAddress); its first key stakes",
        )
    })
}

fn address_of(node: &Node, key: &StakingKey) -> String {
    Address::p2pkh(
        node.chain().spec().network,
        i8o8i_script_vm::templates::hash160(key),
    )
    .to_string()
}

/// The rules for a transaction entering the next block.
fn rules(node: &Node) -> Result<StakingRules, RpcError> {
    let next = node.chain().tip().header.height + 1;
    StakingRules::at(node.chain().spec(), next).ok_or_else(|| {
        rpc_error(
            ErrorCode::TxRejected,
            "staking is unavailable: this chain's consensus schedule has no stake engine",
        )
    })
}

/// Submits a staking payload from wallet `name`. `extra` is what the inputs must cover besides
/// the fee; `authorised` puts a coin of the staking key's address first (and sends change
/// back to it).
fn submit(
    node: &Node,
    name: &str,
    password: &str,
    payload: Payload,
    extra: Amount,
    key: &StakingKey,
    authorised: bool,
) -> Result<i8o8i_primitives::Txid, RpcError> {
    let script = key_script(key);
    let at_key = has_spendable_coin(node, &script)?;
    if authorised && !at_key {
        return Err(rpc_error(
            ErrorCode::InsufficientFunds,
            format!(
                "insufficient funds: this action must spend a coin of the staking key's address \
                 {}; none is spendable there now (send some coins to it first)",
                address_of(node, key)
            ),
        ));
    }
    // Whenever it can, the transaction spends a coin of the key's address first and returns
    // its change there, so that the address keeps a coin to authorise later actions.
    let spend = Spend {
        outputs: Vec::new(),
        payload: Some(payload),
        extra,
        caller: at_key.then_some(script),
    };
    let rate = wallet_fee_rate(node, None);
    build_and_submit(node, name, password, spend, rate)
}

/// Whether `script` has a confirmed coin that no pooled transaction spends.
fn has_spendable_coin(node: &Node, script: &i8o8i_script_vm::Script) -> Result<bool, RpcError> {
    let coins = node
        .chain()
        .store()
        .coins_for_script(script)
        .map_err(internal)?;
    let next = node.chain().tip().header.height + 1;
    let maturity = node.chain().spec().coinbase_maturity;
    let pool = node.mempool();
    Ok(coins.iter().any(|(op, coin)| {
        (!coin.coinbase || coin.height + maturity <= next) && pool.spender(op).is_none()
    }))
}

/// Most entries a staking listing returns.
const MAX_LISTED: usize = 1_000;

fn ledger(node: &Node) -> StateOverlay {
    node.chain().tip_state()
}

fn producers(node: &Node) -> Result<ProducerState, RpcError> {
    node.chain().producer_state().map_err(internal)
}

fn producer(node: &Node, p: &ProducerState, key: &StakingKey, weight: u64) -> Producer {
    Producer {
        key: hex::encode(key),
        address: address_of(node, key),
        weight: Amount::from_units(weight),
        produced: p.produced.get(key).copied().unwrap_or(0),
        missed: p.missed.get(key).copied().unwrap_or(0),
    }
}

fn staking_info(node: &Node, address: &Address) -> Result<StakingInfo, RpcError> {
    let ledger = ledger(node);
    let p = producers(node)?;
    let script = address.script_pubkey();
    let spec = node.chain().spec();
    let schedule_keys = spec.consensus.iter().flat_map(|e| match &e.engine {
        EngineParams::Pos(pos) => pos
            .genesis_validators
            .iter()
            .filter_map(|v| parse_key(&v.key))
            .collect::<Vec<_>>(),
        EngineParams::Dpos(d) => genesis_delegates(d),
        EngineParams::Pow(_) => Vec::new(),
    });
    // A P2PKH address names its key's hash: the ledger remembers which key that is once the
    // key bonds, registers or votes; producers that never did are in the schedule or the
    // reward records.
    let recorded = match p2pkh_hash(&script) {
        Some(hash) => ledger.key_of_address(&hash).map_err(internal)?,
        None => None,
    };
    let key = recorded.or_else(|| {
        p.rewards
            .keys()
            .copied()
            .chain(schedule_keys)
            .find(|k| key_script(k) == script)
    });
    let Some(key) = key else {
        return Ok(StakingInfo {
            address: address.to_string(),
            staking_key: None,
            bonded: Amount::ZERO,
            unbonding: Vec::new(),
            rewards: Amount::ZERO,
            produced: 0,
            missed: 0,
            delegate: None,
            votes: Vec::new(),
        });
    };
    Ok(StakingInfo {
        address: address.to_string(),
        staking_key: Some(hex::encode(key)),
        bonded: Amount::from_units(ledger.bonded(&key).map_err(internal)?),
        unbonding: ledger
            .unbonding(&key)
            .map_err(internal)?
            .iter()
            .map(|(h, a)| Unbonding {
                amount: Amount::from_units(*a),
                release_height: *h,
            })
            .collect(),
        rewards: Amount::from_units(p.rewards.get(&key).copied().unwrap_or(0)),
        produced: p.produced.get(&key).copied().unwrap_or(0),
        missed: p.missed.get(&key).copied().unwrap_or(0),
        delegate: ledger.delegate(&key).map_err(internal)?.map(|d| d.name),
        votes: ledger
            .votes(&key)
            .map_err(internal)?
            .iter()
            .map(hex::encode)
            .collect(),
    })
}

/// The key hash of a P2PKH script.
fn p2pkh_hash(script: &i8o8i_script_vm::Script) -> Option<[u8; 20]> {
    let hash: [u8; 20] = script.as_bytes().get(3..23)?.try_into().ok()?;
    (i8o8i_script_vm::templates::p2pkh(&hash).as_bytes() == script.as_bytes()).then_some(hash)
}

fn validators(node: &Node) -> Result<Validators, RpcError> {
    let ledger = ledger(node);
    let p = producers(node)?;
    let next_height = node.chain().tip().header.height + 1;
    let entry = node.chain().spec().engine_at(next_height);
    let era = p
        .era
        .as_ref()
        .filter(|e| e.from_height == entry.from_height);
    let list = |v: &[(StakingKey, u64)]| -> Vec<Producer> {
        v.iter().map(|(k, w)| producer(node, &p, k, *w)).collect()
    };
    Ok(Validators {
        engine: entry.engine.kind().to_string(),
        period: era.map(|e| e.period),
        active: era.map(|e| list(&e.producers)).unwrap_or_default(),
        next: era.map(|e| list(&e.next)).unwrap_or_default(),
        bonded: ledger
            .top_bonded(MAX_LISTED)
            .map_err(internal)?
            .iter()
            .map(|(k, v)| producer(node, &p, k, *v))
            .collect(),
    })
}

fn delegates(node: &Node) -> Result<Vec<DelegateInfo>, RpcError> {
    let ledger = ledger(node);
    let p = producers(node)?;
    let active: Vec<StakingKey> = p
        .era
        .as_ref()
        .map(|e| e.producers.iter().map(|(k, _)| *k).collect())
        .unwrap_or_default();
    let info = |key: &StakingKey, name: &str, genesis: bool| -> Result<DelegateInfo, RpcError> {
        let votes = ledger.tally(key).map_err(internal)?;
        Ok(DelegateInfo {
            name: name.to_owned(),
            key: hex::encode(key),
            address: address_of(node, key),
            votes: Amount::from_units(u64::try_from(votes).unwrap_or(u64::MAX)),
            active: active.contains(key),
            genesis,
            produced: p.produced.get(key).copied().unwrap_or(0),
            missed: p.missed.get(key).copied().unwrap_or(0),
        })
    };
    let mut out: Vec<DelegateInfo> = ledger
        .delegates(None, MAX_LISTED)
        .map_err(internal)?
        .iter()
        .map(|(k, d)| info(k, &d.name, false))
        .collect::<Result<_, _>>()?;
    for entry in &node.chain().spec().consensus {
        if let EngineParams::Dpos(d) = &entry.engine {
            for g in &d.genesis_delegates {
                if let Some(key) = parse_key(&g.key)
                    && !out.iter().any(|o| o.key == g.key)
                {
                    out.push(info(&key, &g.name, true)?);
                }
            }
        }
    }
    out.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.key.cmp(&b.key)));
    Ok(out)
}

fn consensus_info(node: &Node) -> Result<ConsensusInfo, RpcError> {
    let chain = node.chain();
    let tip = chain.tip();
    let spec = chain.spec();
    let next = spec.engine_at(tip.header.height + 1);
    let (slot, slot_secs) = match chain.schedule().at(tip.header.height + 1) {
        ScheduledEngine::Slot(e) => (Some(e.slot_of(node.unix_now())), Some(e.slot_secs())),
        ScheduledEngine::Pow(_) => (None, None),
    };
    let (epoch, round) = match (&next.engine, slot) {
        (EngineParams::Pos(p), Some(s)) => (Some(s / p.epoch_slots.max(1)), None),
        (EngineParams::Dpos(d), Some(s)) => (None, Some(s / u64::from(d.delegates.max(1)))),
        _ => (None, None),
    };
    let lib = chain.last_irreversible();
    let slot_producer = match slot {
        Some(s) => chain
            .slot_producer(&tip, s)
            .map_err(internal)?
            .map(hex::encode),
        None => None,
    };
    Ok(ConsensusInfo {
        engine: spec.engine_at(tip.header.height).engine.kind().to_string(),
        next_engine: next.engine.kind().to_string(),
        height: tip.header.height,
        slot,
        slot_secs,
        epoch,
        round,
        last_irreversible: lib.map(|(height, hash)| Irreversible { height, hash }),
        finality_lag: lib.map(|(h, _)| tip.header.height.saturating_sub(h)),
        slot_producer,
    })
}

/// `value` with its object keys in camelCase: chain specs are YAML in snake_case, the API's
/// JSON is camelCase throughout.
fn camel_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut out = String::with_capacity(k.len());
                    let mut upper = false;
                    for c in k.chars() {
                        if c == '_' {
                            upper = true;
                        } else if upper {
                            out.extend(c.to_uppercase());
                            upper = false;
                        } else {
                            out.push(c);
                        }
                    }
                    (out, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

fn schedule(node: &Node) -> Vec<ScheduleEntryJson> {
    let spec = node.chain().spec();
    let current = spec
        .engine_at(node.chain().tip().header.height + 1)
        .from_height;
    spec.consensus
        .iter()
        .map(|e| {
            let value = serde_json::to_value(&e.engine).unwrap_or_default();
            ScheduleEntryJson {
                from_height: e.from_height,
                engine: e.engine.kind().to_string(),
                params: camel_keys(value.get("params").cloned().unwrap_or_default()),
                current: e.from_height == current,
            }
        })
        .collect()
}

fn amount_param(units: u64, name: &str) -> Result<Amount, RpcError> {
    if units == 0 {
        return Err(invalid_param(name, "must be positive"));
    }
    Ok(Amount::from_units(units))
}

/// Registers the staking, delegate and consensus methods.
pub fn register(registry: &mut Registry<Node>) {
    registry.method::<api::StakingBond, _, _>(
        |(wallet, password, amount), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let amount = amount_param(amount, "amount")?;
            blocking(move || {
                let rules = rules(&node)?;
                if amount < rules.min_bond {
                    return Err(invalid_param(
                        "amount",
                        format!(
                            "below the minimum bond {} I8O",
                            rules.min_bond.to_coin_string()
                        ),
                    ));
                }
                let key = wallet_staking_key(&node, &wallet)?;
                let payload = Payload::Bond {
                    staking_key: key,
                    value: amount,
                };
                submit(&node, &wallet, &password, payload, amount, &key, false)
            })
            .await
        },
    );

    registry.method::<api::StakingUnbond, _, _>(
        |(wallet, password, amount), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let amount = amount_param(amount, "amount")?;
            blocking(move || {
                rules(&node)?;
                let key = wallet_staking_key(&node, &wallet)?;
                let payload = Payload::Unbond {
                    staking_key: key,
                    value: amount,
                };
                submit(&node, &wallet, &password, payload, Amount::ZERO, &key, true)
            })
            .await
        },
    );

    registry.method::<api::StakingGetInfo, _, _>(|(address,), node: Arc<Node>| async move {
        let address: String = address;
        let address = parse_address(&node, "address", &address)?;
        blocking(move || staking_info(&node, &address)).await
    });

    registry.method::<api::StakingGetValidators, _, _>(|(), node: Arc<Node>| async move {
        blocking(move || validators(&node)).await
    });

    registry.method::<api::DposRegisterDelegate, _, _>(
        |(wallet, password, name), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let name: String = name;
            if !i8o8i_runtime::staking::is_valid_name(&name) {
                return Err(invalid_param(
                    "name",
                    "must be 1–32 characters of A–Z a–z 0–9 _ -",
                ));
            }
            blocking(move || {
                let fee = rules(&node)?.registration_fee.ok_or_else(|| {
                    rpc_error(
                        ErrorCode::TxRejected,
                        "this chain's consensus schedule has no delegated proof of stake",
                    )
                })?;
                let key = wallet_staking_key(&node, &wallet)?;
                let payload = Payload::RegisterDelegate { name, key };
                submit(&node, &wallet, &password, payload, fee, &key, true)
            })
            .await
        },
    );

    registry.method::<api::DposVote, _, _>(
        |(wallet, password, delegates), node: Arc<Node>| async move {
            let wallet: String = wallet;
            let password: String = password;
            let names: Vec<String> = delegates;
            blocking(move || {
                let max = rules(&node)?.max_votes as usize;
                if names.len() > max {
                    return Err(invalid_param(
                        "delegates",
                        format!("{} named, at most {max} allowed", names.len()),
                    ));
                }
                let ledger = ledger(&node);
                let delegates = names
                    .iter()
                    .map(|n| {
                        let by_key = match parse_key(n) {
                            Some(k) => ledger.delegate(&k).map_err(internal)?.map(|_| k),
                            None => None,
                        };
                        let found = match by_key {
                            Some(k) => Some(k),
                            None => ledger.delegate_named(n).map_err(internal)?,
                        };
                        found.ok_or_else(|| {
                            invalid_param(
                                "delegates",
                                format!("`{n}` is not a registered delegate's name or key"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let key = wallet_staking_key(&node, &wallet)?;
                let payload = Payload::Vote {
                    voter_key: key,
                    delegates,
                };
                submit(&node, &wallet, &password, payload, Amount::ZERO, &key, true)
            })
            .await
        },
    );

    registry.method::<api::DposGetDelegates, _, _>(|(), node: Arc<Node>| async move {
        blocking(move || delegates(&node)).await
    });

    registry.method::<api::ConsensusGetInfo, _, _>(|(), node: Arc<Node>| async move {
        blocking(move || consensus_info(&node)).await
    });

    registry.method::<api::ConsensusGetSchedule, _, _>(|(), node: Arc<Node>| async move {
        Ok(schedule(&node))
    });
}
