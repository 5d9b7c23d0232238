//! JSON-RPC handlers: the node's side of the methods defined in [`i8o8i_rpc::api`].
//! This module holds the chain, transaction, address, mempool and mining namespaces and
//! [`register`]; the others have a module each, and [`common`] what they all share (no
//! namespace module imports another's handlers).

pub mod common;
pub mod contract;
pub mod net;
pub mod signing;
pub mod staking;
pub mod wallet;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use i8o8i_primitives::contract::Event;
use i8o8i_primitives::{
    Block, BlockHash, ContractAddress, StoreError, Transaction, Txid, U256, compact_to_target,
};
use i8o8i_rpc::{ErrorCode, Feed, Registry, RpcError, rpc_error};
use parity_scale_codec::Encode;
use serde_json::Value;

use crate::node::{Node, NodeEvent, Origin};
use common::{
    address_balance, address_history, at_one_tip, blocking, import_error, internal, invalid_param,
    mempool_error, not_found, parse_address, parse_outpoint, published,
};
use contract::event_json;
use i8o8i_chain::store::{EventRecord, StateAnswer};
use i8o8i_primitives::state_proof::{coin_key, kv_key};
use i8o8i_rpc::api;
use i8o8i_rpc::types::*;

fn state_proof_json(key: Vec<u8>, answer: StateAnswer) -> StateProofJson {
    StateProofJson {
        height: answer.height,
        block_hash: answer.block,
        state_root: answer.root,
        key: hex::encode(key),
        value: answer.value.map(hex::encode),
        proof: ProofJson::from(&answer.proof),
    }
}

/// Largest `count` of `chain_getBlocks`.
pub const MAX_BLOCKS_PER_CALL: u64 = 100;
/// Largest `limit` of `address_getHistory`.
const MAX_HISTORY_PER_CALL: u64 = 1_000;
/// `address_getHistory`'s `limit` when none is given.
const DEFAULT_HISTORY_PER_CALL: u64 = 100;

/// Largest `limit` of `address_getUtxos` (and its default).
pub const MAX_UTXOS_PER_CALL: u64 = 1_000;
/// Largest `count` of `mining_generate`.
pub const MAX_GENERATE: u32 = 1_000;
/// The farthest `fee_estimate` looks: a week of Bitcoin blocks, as `estimatesmartfee` allows.
const MAX_FEE_TARGET: u32 = 1_008;
/// Signature operations `tx_submit` verifies on the async worker that received the call
/// (about a millisecond); a costlier transaction is verified on the blocking pool.
const INLINE_SIGOPS: usize = 16;

/// Transactions one `tx_submitBatch` call takes: its pool lock and verification stay in the
/// tens of milliseconds, and 1,000 ordinary payments are well within a request's size limit.
const MAX_SUBMIT_BATCH: usize = 1_000;

fn submission_error(e: RpcError) -> SubmissionError {
    SubmissionError {
        code: e.code(),
        message: e.message().to_owned(),
    }
}

/// The difficulty bits the next block needs (0 when the next height is not proof of work).
fn next_bits(node: &Node) -> u32 {
    let tip = node.chain().tip();
    node.chain()
        .pow_engine_at(tip.header.height + 1)
        .map_or(0, |e| e.next_bits(&tip.header))
}

fn difficulty(node: &Node, bits: u32) -> u64 {
    let height = node.chain().tip().header.height + 1;
    let Some(engine) = node.chain().pow_engine_at(height) else {
        return 0;
    };
    let limit = engine.pow_limit();
    match compact_to_target(bits).map(|t| U256::from_big_endian(&t)) {
        Some(t) if !t.is_zero() => u64::try_from(limit / t).unwrap_or(u64::MAX),
        _ => 0,
    }
}

/// The block `which` names: a best-chain height or a hash of any stored block.
fn find_block(node: &Node, which: &Value) -> Result<Block, RpcError> {
    let block = match which {
        Value::Number(n) => {
            let height = n.as_u64().ok_or_else(|| {
                invalid_param("hashOrHeight", "height must be a non-negative integer")
            })?;
            block_at(node, height)?
        }
        Value::String(s) => {
            let hash: BlockHash = s.parse().map_err(|e| invalid_param("hashOrHeight", e))?;
            stored_block(node, &hash)?
        }
        _ => {
            return Err(invalid_param(
                "hashOrHeight",
                "expected a block hash (hex string) or a height (integer)",
            ));
        }
    };
    block.ok_or_else(|| not_found(format!("no block {which}")))
}

fn block_json(node: &Node, block: Block) -> BlockJson {
    let hash = block.header.hash();
    let tip = node.chain().tip();
    let on_best = node
        .chain()
        .store()
        .hash_at(block.header.height)
        .ok()
        .flatten()
        == Some(hash);
    let confirmations = if on_best {
        (tip.header.height + 1).saturating_sub(block.header.height)
    } else {
        0
    };
    BlockJson {
        hash,
        height: block.header.height,
        confirmations,
        size: block.encoded_size(),
        header: block.header.clone(),
        transactions: block.transactions.into_iter().map(TxJson::new).collect(),
    }
}

fn block_at(node: &Node, height: u64) -> Result<Option<Block>, RpcError> {
    let Some(hash) = node.chain().store().hash_at(height).map_err(internal)? else {
        return Ok(None);
    };
    stored_block(node, &hash)
}

/// The stored block `hash`; a block this node pruned is a `NotFound` saying so.
fn stored_block(node: &Node, hash: &BlockHash) -> Result<Option<Block>, RpcError> {
    match node.chain().store().block(hash).map_err(internal)? {
        Some(block) => Ok(Some(block)),
        None => match node.chain().entry(hash) {
            Some(entry) if entry.header.height < node.chain().lowest_block() => Err(not_found(
                StoreError::Pruned {
                    height: entry.header.height,
                    lowest: node.chain().lowest_block(),
                }
                .to_string(),
            )),
            _ => Ok(None),
        },
    }
}

/// `chain_getInfo` of the current tip, from `cache` when the tip has not moved.
fn chain_info(node: &Node, cache: &Mutex<Option<ChainInfo>>) -> Result<ChainInfo, RpcError> {
    let tip = node.chain().tip();
    if let Some(info) = cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && info.best_hash == tip.hash
    {
        return Ok(info.clone());
    }
    let bits = next_bits(node);
    let info = ChainInfo {
        chain: node.chain().spec().name.clone(),
        genesis: node.chain().genesis(),
        height: tip.header.height,
        best_hash: tip.hash,
        bits: format!("{bits:08x}"),
        difficulty: difficulty(node, bits),
        chain_work: format!("{:x}", tip.work),
        median_time_past: node.chain().median_time_past(&tip.hash).map_err(internal)?,
        consensus: node
            .chain()
            .spec()
            .engine_at(tip.header.height + 1)
            .engine
            .kind()
            .to_string(),
        lowest_block: node.chain().lowest_block(),
        state_root: node.chain().state_root().map_err(internal)?,
    };
    *cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(info.clone());
    Ok(info)
}

fn register_subscriptions(registry: &mut Registry<Node>) {
    registry.subscription::<api::ChainSubscribeNewHeads, _, _>(|(), node: Arc<Node>| {
        Ok(Feed {
            events: node.subscribe(),
            map: Box::new(|event| match event {
                NodeEvent::BlockConnected { block, .. } => vec![NewHead {
                    hash: block.header.hash(),
                    height: block.header.height,
                    tx_count: block.transactions.len(),
                    header: block.header.clone(),
                }],
                NodeEvent::TxsAccepted { .. } | NodeEvent::BlockDisconnected { .. } => Vec::new(),
            }),
            initial: Vec::new(),
        })
    });
    registry.subscription::<api::MempoolSubscribePending, _, _>(|(), node: Arc<Node>| {
        Ok(Feed {
            events: node.subscribe(),
            map: Box::new(|event| match event {
                NodeEvent::TxsAccepted { txs, .. } => txs
                    .iter()
                    .map(|accepted| PendingTx {
                        txid: accepted.tx.txid(),
                        size: accepted.tx.encoded_size(),
                        fee: accepted.fee,
                    })
                    .collect(),
                NodeEvent::BlockConnected { .. } | NodeEvent::BlockDisconnected { .. } => {
                    Vec::new()
                }
            }),
            initial: Vec::new(),
        })
    });
    registry.subscription::<api::ContractSubscribeEvents, _, _>(
        |(address, topics, from_height), node: Arc<Node>| {
            let filter = EventFilter::new(address, topics)?;
            // Subscribe before reading the backfill: a block connected in between is in both,
            // and the feed skips it once (it remembers what the backfill sent by height and
            // hash), so nothing falls in a gap.
            let events = node.subscribe();
            let (initial, mut sent) = match from_height {
                Some(from) => backfill(&node, &filter, from)?,
                None => (Vec::new(), BTreeMap::new()),
            };
            let matching = move |records: &[EventRecord], removed: bool| {
                records
                    .iter()
                    .filter(|r| filter.matches(&r.event))
                    .map(|r| EventJson {
                        removed,
                        ..event_json(r.clone())
                    })
                    .collect::<Vec<_>>()
            };
            Ok(Feed {
                events,
                map: Box::new(move |event| match event {
                    NodeEvent::BlockConnected { block, .. } => {
                        let (height, hash) = (block.header.height, block.header.hash());
                        if sent.get(&height) == Some(&hash) {
                            sent.remove(&height);
                            return Vec::new();
                        }
                        let records =
                            node.chain()
                                .store()
                                .block_events(&block)
                                .unwrap_or_else(|e| {
                                    tracing::warn!(error = %e, "cannot read a block's events");
                                    Vec::new()
                                });
                        matching(&records, false)
                    }
                    NodeEvent::BlockDisconnected { block, events } => {
                        let height = block.header.height;
                        if sent.get(&height) == Some(&block.header.hash()) {
                            sent.remove(&height);
                        }
                        matching(&events, true)
                    }
                    NodeEvent::TxsAccepted { .. } => Vec::new(),
                }),
                initial,
            })
        },
    );
}

/// Most blocks a `contract_subscribeEvents` backfill reads (a public method: each block is
/// a read of its receipts).
const MAX_BACKFILL_BLOCKS: u64 = 1_000;

/// Most events a backfill sends; more is a job for `contract_getEvents`'s pages.
const MAX_BACKFILL_EVENTS: usize = 10_000;

/// What `contract_subscribeEvents` passes on: a contract, and topics by position.
struct EventFilter {
    contract: Option<ContractAddress>,
    topics: Vec<Option<[u8; 32]>>,
}

impl EventFilter {
    fn new(
        contract: Option<ContractAddress>,
        topics: Option<Vec<Option<String>>>,
    ) -> Result<Self, RpcError> {
        let topics = topics.unwrap_or_default();
        if topics.len() > 4 {
            return Err(invalid_param("topics", "at most 4 positions"));
        }
        let topics = topics
            .into_iter()
            .map(|t| {
                t.map(|hex_topic| {
                    hex::decode(&hex_topic)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .ok_or_else(|| {
                            invalid_param("topics", format!("{hex_topic} is not 32 bytes of hex"))
                        })
                })
                .transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { contract, topics })
    }

    fn matches(&self, event: &Event) -> bool {
        self.contract.is_none_or(|c| c == event.contract)
            && self
                .topics
                .iter()
                .enumerate()
                .all(|(i, want)| want.is_none_or(|t| event.topics.get(i) == Some(&t)))
    }
}

/// The stored events matching `filter` of best-chain blocks from `from` to the tip, and the
/// blocks read (height → hash), which the live feed then skips.
fn backfill(
    node: &Node,
    filter: &EventFilter,
    from: u64,
) -> Result<(Vec<EventJson>, BTreeMap<u64, BlockHash>), RpcError> {
    let tip = node.chain().tip().header.height;
    if tip.saturating_sub(from) >= MAX_BACKFILL_BLOCKS {
        return Err(invalid_param(
            "fromHeight",
            format!(
                "at most {MAX_BACKFILL_BLOCKS} blocks back from the tip ({tip}); page older \
                 events with contract_getEvents"
            ),
        ));
    }
    let mut out = Vec::new();
    let mut sent = BTreeMap::new();
    for height in from..=tip {
        let Some(block) = block_at(node, height)? else {
            break;
        };
        let records = node
            .chain()
            .store()
            .block_events(&block)
            .map_err(internal)?;
        sent.insert(height, block.header.hash());
        out.extend(
            records
                .into_iter()
                .filter(|r| filter.matches(&r.event))
                .map(event_json),
        );
        if out.len() > MAX_BACKFILL_EVENTS {
            return Err(invalid_param(
                "fromHeight",
                format!(
                    "more than {MAX_BACKFILL_EVENTS} events since then; page them with \
                     contract_getEvents and subscribe from a later height"
                ),
            ));
        }
    }
    Ok((out, sent))
}

/// Registers every node method on `registry`.
pub fn register(registry: &mut Registry<Node>) {
    register_subscriptions(registry);
    // chain_getInfo is what dashboards poll: its answer changes only with the tip.
    let info_cache: Arc<Mutex<Option<ChainInfo>>> = Arc::default();
    registry.method::<api::ChainGetInfo, _, _>(move |(), node: Arc<Node>| {
        let cache = info_cache.clone();
        async move { chain_info(&node, &cache) }
    });

    registry.method::<api::ChainGetBlockHash, _, _>(|(height,), node: Arc<Node>| async move {
        let height: u64 = height;
        node.chain()
            .store()
            .hash_at(height)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no block at height {height}")))
    });

    registry.method::<api::ChainGetBlock, _, _>(|(hash_or_height,), node: Arc<Node>| async move {
        let block = find_block(&node, &hash_or_height)?;
        Ok(block_json(&node, block))
    });

    registry.method::<api::ChainGetRawBlock, _, _>(
        |(hash_or_height,), node: Arc<Node>| async move {
            let block = find_block(&node, &hash_or_height)?;
            Ok(hex::encode(block.encode()))
        },
    );

    registry.method::<api::ChainGetBlocks, _, _>(
        |(from_height, count), node: Arc<Node>| async move {
            let from: u64 = from_height;
            let count: u64 = count;
            if !(1..=MAX_BLOCKS_PER_CALL).contains(&count) {
                return Err(invalid_param(
                    "count",
                    format!("must be 1..={MAX_BLOCKS_PER_CALL}"),
                ));
            }
            let mut blocks = Vec::new();
            for height in from..from.saturating_add(count) {
                match block_at(&node, height)? {
                    Some(b) => blocks.push(block_json(&node, b)),
                    None => break,
                }
            }
            Ok(blocks)
        },
    );

    // The summary is a few reads. A hash is one scan at a time, from a store snapshot (imports
    // go on meanwhile), and none while the tip has not moved since the last.
    let last_scan: Arc<tokio::sync::Mutex<Option<UtxoSetJson>>> = Arc::default();
    registry.method::<api::ChainGetUtxoSetInfo, _, _>(move |(hash_type,), node: Arc<Node>| {
        let last_scan = last_scan.clone();
        async move {
            if hash_type.unwrap_or_default() == UtxoHashType::None {
                let (tip, stats) = node.chain().store().utxo_summary().map_err(internal)?;
                published(&node, tip.height).await;
                return Ok(UtxoSetJson {
                    height: tip.height,
                    best_hash: tip.hash,
                    state_root: tip.state_root,
                    count: stats.count,
                    total_amount: stats.total,
                    hash: None,
                });
            }
            let mut last = last_scan.lock().await;
            if let Some(json) = &*last
                && json.best_hash == node.chain().tip().hash
            {
                return Ok(json.clone());
            }
            let n = node.clone();
            let (tip, info) =
                tokio::task::spawn_blocking(move || n.chain().store().utxo_set_info())
                    .await
                    .map_err(internal)?
                    .map_err(internal)?;
            let tip = tip.ok_or_else(|| internal("the store has no tip"))?;
            published(&node, tip.height).await;
            let json = UtxoSetJson {
                height: tip.height,
                best_hash: tip.hash,
                state_root: tip.state_root,
                count: info.count,
                total_amount: info.total_amount,
                hash: Some(info.hash),
            };
            *last = Some(json.clone());
            Ok(json)
        }
    });

    registry.method::<api::TxSubmit, _, _>(|(raw_hex,), node: Arc<Node>| async move {
        let raw: String = raw_hex;
        let bytes = hex::decode(raw.trim())
            .map_err(|e| invalid_param("rawHex", format!("not hex: {e}")))?;
        let tx = Transaction::decode_strict(&bytes).map_err(|e| invalid_param("rawHex", e))?;
        let checked = node.check_transaction(tx).map_err(mempool_error)?;
        if checked.sigops() <= INLINE_SIGOPS {
            // Inline on the RPC worker: a few signature checks (~50 µs each) cost less than
            // handing the call to the blocking pool and back (futex wake-ups and context
            // switches that halved tx_submit throughput on two cores).
            node.verify_and_admit(checked, Origin::Local)
                .map_err(mempool_error)
        } else {
            // Up to 4,000 signature checks: not on a worker that serves other connections.
            let turn = node.admission_turn().await;
            tokio::task::spawn_blocking(move || {
                let _turn = turn;
                node.verify_and_admit(checked, Origin::Local)
            })
            .await
            .map_err(internal)?
            .map_err(mempool_error)
        }
    });

    registry.method::<api::TxSubmitBatch, _, _>(|(raw_hexes,), node: Arc<Node>| async move {
        let raw: Vec<String> = raw_hexes;
        if raw.is_empty() || raw.len() > MAX_SUBMIT_BATCH {
            return Err(invalid_param(
                "rawHexes",
                format!(
                    "{} transactions: 1 to {MAX_SUBMIT_BATCH} per call",
                    raw.len()
                ),
            ));
        }
        // Those that decode go to the pool; the others keep their place with their error.
        let mut answers: Vec<Option<Submission>> = Vec::with_capacity(raw.len());
        let mut txs = Vec::new();
        for hex_tx in &raw {
            let decoded = hex::decode(hex_tx.trim())
                .map_err(|e| format!("not hex: {e}"))
                .and_then(|bytes| Transaction::decode_strict(&bytes).map_err(|e| e.to_string()));
            match decoded {
                Ok(tx) => {
                    txs.push(tx);
                    answers.push(None);
                }
                Err(e) => answers.push(Some(Submission {
                    txid: None,
                    error: Some(submission_error(invalid_param("rawHexes", e))),
                })),
            }
        }
        let ids: Vec<Txid> = txs.iter().map(Transaction::txid).collect();
        let turn = node.admission_turn().await;
        let results = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            node.submit_batch(txs, Origin::Local)
        })
        .await
        .map_err(internal)?;
        let mut pooled = ids.into_iter().zip(results);
        let mut submissions = Vec::with_capacity(answers.len());
        for answer in answers {
            let submission = match answer {
                Some(undecodable) => undecodable,
                None => {
                    let (txid, result) = pooled
                        .next()
                        .ok_or_else(|| internal("a transaction without its result"))?;
                    Submission {
                        txid: Some(txid),
                        error: result.err().map(|e| submission_error(mempool_error(e))),
                    }
                }
            };
            submissions.push(submission);
        }
        Ok(submissions)
    });

    registry.method::<api::TxGet, _, _>(|(txid,), node: Arc<Node>| async move {
        let txid: Txid = txid;
        if let Some(entry) = node.mempool().get(&txid) {
            return Ok(TxWithStatus {
                status: TxStatus::Mempool { fee: entry.fee },
                transaction: TxJson::new((*entry.tx).clone()),
            });
        }
        let loc = node
            .chain()
            .store()
            .tx_location(&txid)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no transaction {txid}")))?;
        let block =
            stored_block(&node, &loc.block)?.ok_or_else(|| internal("indexed block missing"))?;
        let height = block.header.height;
        let tx = block
            .transactions
            .into_iter()
            .nth(loc.position as usize)
            .ok_or_else(|| internal("indexed position missing"))?;
        let confirmations = (node.chain().tip().header.height + 1).saturating_sub(height);
        Ok(TxWithStatus {
            status: TxStatus::Confirmed {
                block_hash: loc.block,
                height,
                confirmations,
            },
            transaction: TxJson::new(tx),
        })
    });

    registry.method::<api::AddressGetBalance, _, _>(|(address,), node: Arc<Node>| async move {
        let s: String = address;
        let script = parse_address(&node, "address", &s)?.script_pubkey();
        common::blocking(move || address_balance(&node, &script)).await
    });

    registry.method::<api::StateGetProof, _, _>(|(key_hex,), node: Arc<Node>| async move {
        let raw: String = key_hex;
        let key = hex::decode(raw.trim().trim_start_matches("0x"))
            .map_err(|e| invalid_param("keyHex", format!("not hex: {e}")))?;
        if key.is_empty() {
            return Err(invalid_param("keyHex", "empty key"));
        }
        let n = node.clone();
        let json = blocking(move || {
            let answer = n.chain().store().record_proof(&key).map_err(internal)?;
            Ok(state_proof_json(kv_key(&key), answer))
        })
        .await?;
        published(&node, json.height).await;
        Ok(json)
    });

    registry.method::<api::AddressGetUtxoProof, _, _>(|(outpoint,), node: Arc<Node>| async move {
        let s: String = outpoint;
        let op = parse_outpoint(&s).map_err(|e| invalid_param("outpoint", e))?;
        let n = node.clone();
        let json = blocking(move || {
            let answer = n.chain().store().coin_proof(&op).map_err(internal)?;
            Ok(state_proof_json(coin_key(&op), answer))
        })
        .await?;
        published(&node, json.height).await;
        Ok(json)
    });

    registry.method::<api::AddressGetUtxos, _, _>(
        |(address, after, limit), node: Arc<Node>| async move {
            let s: String = address;
            let script = parse_address(&node, "address", &s)?.script_pubkey();
            let after = after
                .map(|a: String| parse_outpoint(&a))
                .transpose()
                .map_err(|e| invalid_param("after", e))?;
            let limit: u64 = limit.unwrap_or(MAX_UTXOS_PER_CALL);
            if !(1..=MAX_UTXOS_PER_CALL).contains(&limit) {
                return Err(invalid_param(
                    "limit",
                    format!("must be 1..={MAX_UTXOS_PER_CALL}"),
                ));
            }
            let n = node.clone();
            tokio::task::spawn_blocking(move || {
                at_one_tip(&n, |store| {
                    store.coins_for_script_page(&script, after.as_ref(), limit as usize)
                })
                .map(|(tip, coins, pool)| {
                    let height = n.chain().entry(&tip).map_or(0, |e| e.header.height);
                    let maturity = n.chain().spec().coinbase_maturity;
                    coins
                        .into_iter()
                        .map(|(op, coin)| UtxoJson {
                            txid: op.txid,
                            index: op.index,
                            value: coin.output.value,
                            height: coin.height,
                            coinbase: coin.coinbase,
                            confirmations: (height + 1).saturating_sub(coin.height),
                            mature: !coin.coinbase
                                || coin.height.saturating_add(maturity) <= height + 1,
                            spent_in_mempool: pool.contains(&op),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .await
            .map_err(internal)?
        },
    );

    registry.method::<api::AddressGetHistory, _, _>(
        |(address, before, limit), node: Arc<Node>| async move {
            let s: String = address;
            let script = parse_address(&node, "address", &s)?.script_pubkey();
            let limit: u64 = limit.unwrap_or(DEFAULT_HISTORY_PER_CALL);
            if !(1..=MAX_HISTORY_PER_CALL).contains(&limit) {
                return Err(invalid_param(
                    "limit",
                    format!("must be 1..={MAX_HISTORY_PER_CALL}"),
                ));
            }
            let n = node.clone();
            let history = blocking(move || address_history(&n, &script, before, limit as usize));
            let history = history.await?;
            if let Some(newest) = history.confirmed.first() {
                published(&node, newest.height).await;
            }
            Ok(history)
        },
    );

    registry.method::<api::MempoolGetInfo, _, _>(|(), node: Arc<Node>| async move {
        let pool = node.mempool();
        let info = pool.info();
        Ok(MempoolInfo {
            size: info.count,
            bytes: info.bytes,
            total_fee: info.total_fee,
            min_fee_rate: pool.min_fee_rate(),
            max_bytes: node.config().mempool.max_bytes,
        })
    });

    registry.method::<api::FeeEstimate, _, _>(|(target,), node: Arc<Node>| async move {
        let target: Option<u32> = target;
        let target = target.unwrap_or(common::DEFAULT_FEE_TARGET);
        if !(1..=MAX_FEE_TARGET).contains(&target) {
            return Err(invalid_param(
                "targetBlocks",
                format!("must be 1..={MAX_FEE_TARGET}"),
            ));
        }
        let estimate = common::fee_estimate(&node, target);
        Ok(FeeEstimateJson {
            fee_rate: estimate.fee_rate,
            target_blocks: target,
            basis: if estimate.from_pool {
                FeeBasis::Mempool
            } else {
                FeeBasis::Minimum
            },
            mempool_bytes: node.mempool().info().bytes,
        })
    });

    registry.method::<api::MempoolGetTxids, _, _>(|(), node: Arc<Node>| async move {
        Ok(node.mempool().txids_in_mining_order())
    });

    registry.method::<api::MiningGenerate, _, _>(|(count, address), node: Arc<Node>| async move {
            let count: u32 = count;
            if !(1..=MAX_GENERATE).contains(&count) {
                return Err(invalid_param(
                    "count",
                    format!("must be 1..={MAX_GENERATE}"),
                ));
            }
            let address = match address {
                Some(s) => parse_address(&node, "address", &s)?,
                None => match &node.config().mining.address {
                    Some(s) => parse_address(&node, "mining.address", s)?,
                    None => {
                        return Err(rpc_error(
                            ErrorCode::MiningUnavailable,
                            "no address given and mining.address is not configured",
                        ));
                    }
                },
            };
            let next = node.chain().tip().header.height + 1;
            if node.chain().pow_engine_at(next).is_none() {
                return Err(rpc_error(
                    ErrorCode::MiningUnavailable,
                    format!(
                        "height {next} is sealed by {} producers, not mined (see consensus_getSchedule)",
                        node.chain().spec().engine_at(next).engine.kind()
                    ),
                ));
            }
            let threads = node.mining_threads();
            let n = node.clone();
            tokio::task::spawn_blocking(move || {
                n.generate(count, &address.script_pubkey(), threads)
            })
            .await
            .map_err(internal)?
            .map_err(import_error)
        },
    );

    registry.method::<api::MiningGetInfo, _, _>(|(), node: Arc<Node>| async move {
        let tip = node.chain().tip();
        let bits = next_bits(&node);
        Ok(MiningInfo {
            mining: node.config().mining.enabled,
            threads: node.mining_threads(),
            height: tip.header.height,
            bits: format!("{bits:08x}"),
            target: compact_to_target(bits).map(hex::encode).unwrap_or_default(),
            difficulty: difficulty(&node, bits),
            pooled_tx: node.mempool().info().count,
        })
    });

    registry.method::<api::NodeGetInfo, _, _>(|(), node: Arc<Node>| async move {
        Ok(NodeInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_secs: node.uptime_secs(),
            data_dir: node.data_dir().display().to_string(),
            chain: node.chain().spec().name.clone(),
        })
    });

    net::register(registry);
    wallet::register(registry);
    signing::register(registry);
    contract::register(registry);
    staking::register(registry);
}
