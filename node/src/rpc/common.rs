//! What every namespace's handlers share: error mapping to the documented codes, the blocking
//! pool, parameter parsing, address balances, and reading coins and the pool at one tip.

use std::collections::BTreeSet;

use i8o8i_chain::chain::ImportError;
use i8o8i_chain::mempool::MempoolError;
use i8o8i_chain::store::CoinsAtTip;
use i8o8i_primitives::address::Address;
use i8o8i_primitives::{Amount, BlockHash, Coin, OutPoint, StoreError, Txid};
use i8o8i_rpc::{ErrorCode, RpcError, rpc_error};

use crate::node::Node;
use i8o8i_rpc::types::*;

pub(crate) fn internal(e: impl std::fmt::Display) -> RpcError {
    tracing::error!(error = %e, "RPC internal error");
    rpc_error(ErrorCode::InternalError, format!("internal error: {e}"))
}

/// Runs `f` on the blocking pool: handlers that touch RocksDB, unlock wallets or execute
/// contracts must not hold up the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RpcError> + Send + 'static,
) -> Result<T, RpcError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

pub(crate) fn not_found(what: impl Into<String>) -> RpcError {
    rpc_error(ErrorCode::NotFound, what)
}

pub(crate) fn invalid_param(name: &str, why: impl std::fmt::Display) -> RpcError {
    rpc_error(
        ErrorCode::InvalidParams,
        format!("invalid parameter `{name}`: {why}"),
    )
}

/// Maps mempool refusals to their documented codes.
pub fn mempool_error(e: MempoolError) -> RpcError {
    match e {
        MempoolError::AlreadyKnown(_) => rpc_error(ErrorCode::TxAlreadyKnown, e.to_string()),
        other => rpc_error(
            ErrorCode::TxRejected,
            format!("transaction rejected: {other}"),
        ),
    }
}

pub(crate) fn import_error(e: ImportError) -> RpcError {
    match e {
        ImportError::Storage(s) => internal(s),
        other => rpc_error(ErrorCode::BlockRejected, other.to_string()),
    }
}

pub(crate) fn parse_address(node: &Node, name: &str, s: &str) -> Result<Address, RpcError> {
    Address::parse_for(s, node.chain().spec().network).map_err(|e| {
        rpc_error(
            ErrorCode::InvalidAddress,
            format!("invalid parameter `{name}`: {e}"),
        )
    })
}

/// Confirmed and pooled balance of outputs locked by `script`.
///
/// # Errors
/// Internal errors from storage.
pub fn address_balance(node: &Node, script: &i8o8i_script_vm::Script) -> Result<Balance, RpcError> {
    let (_, coins, spent) = at_one_tip(node, |store| {
        store.coins_for_script_page(script, None, usize::MAX)
    })?;
    let received: u64 = node
        .mempool()
        .outputs_paying(|s| s == script)
        .iter()
        .map(|(_, o)| o.value.to_units())
        .sum();
    let confirmed = Amount::checked_sum(coins.iter().map(|(_, c)| c.output.value))
        .ok_or_else(|| internal("balance overflow"))?;
    let spent_by_pool: u64 = coins
        .iter()
        .filter(|(op, _)| spent.contains(op))
        .map(|(_, c)| c.output.value.to_units())
        .sum();
    let unconfirmed = i64::try_from(received).unwrap_or(i64::MAX)
        - i64::try_from(spent_by_pool).unwrap_or(i64::MAX);
    Ok(Balance {
        confirmed,
        unconfirmed,
    })
}

/// What a wallet's scripts hold, read from one snapshot and the pool at its tip.
#[derive(Debug, Default)]
pub struct ScriptsBalance {
    /// Confirmed and spendable: mature, whether or not the pool spends it.
    pub confirmed: u64,
    /// Coinbase outputs not yet mature.
    pub immature: u64,
    /// Pooled receipts minus confirmed coins that pooled transactions spend.
    pub unconfirmed: i64,
    /// The scripts that hold a confirmed coin or a pooled output.
    pub used: BTreeSet<Vec<u8>>,
}

/// [`ScriptsBalance`] of `scripts`: one snapshot of their coins, one pass over the pool.
///
/// # Errors
/// Storage failures; an overflowing sum.
pub fn scripts_balance(
    node: &Node,
    scripts: &[&i8o8i_script_vm::Script],
) -> Result<ScriptsBalance, RpcError> {
    let (_, coins, spent) = at_one_tip(node, |store| store.coins_for_scripts(scripts))?;
    let wanted: BTreeSet<&[u8]> = scripts.iter().map(|s| s.as_bytes()).collect();
    let next_height = node.chain().tip().header.height + 1;
    let maturity = node.chain().spec().coinbase_maturity;
    let overflow = || internal("balance overflow");
    let mut balance = ScriptsBalance::default();
    let mut spent_by_pool = 0u64;
    for (outpoint, coin) in &coins {
        let value = coin.output.value.to_units();
        let sum = if coin.coinbase && coin.height + maturity > next_height {
            &mut balance.immature
        } else {
            &mut balance.confirmed
        };
        *sum = sum.checked_add(value).ok_or_else(overflow)?;
        if spent.contains(outpoint) {
            spent_by_pool = spent_by_pool.checked_add(value).ok_or_else(overflow)?;
        }
        balance
            .used
            .insert(coin.output.script_pubkey.as_bytes().to_vec());
    }
    let mut received = 0u64;
    for (_, output) in node
        .mempool()
        .outputs_paying(|s| wanted.contains(s.as_bytes()))
    {
        received = received
            .checked_add(output.value.to_units())
            .ok_or_else(overflow)?;
        balance
            .used
            .insert(output.script_pubkey.as_bytes().to_vec());
    }
    balance.unconfirmed = i64::try_from(received).map_err(|_| overflow())?
        - i64::try_from(spent_by_pool).map_err(|_| overflow())?;
    Ok(balance)
}

/// `address_getHistory`: the pool's transactions touching `script` (unless paging with
/// `before`) and at most `limit` confirmed ones older than `before`, the pool in line with
/// the snapshot the confirmed ones were read from (so none is in both or neither).
///
/// # Errors
/// `before` not a best-chain transaction; storage failures.
pub fn address_history(
    node: &Node,
    script: &i8o8i_script_vm::Script,
    before: Option<Txid>,
    limit: usize,
) -> Result<AddressHistory, RpcError> {
    let store = node.chain().store();
    let before = before
        .map(|txid| {
            let loc = store.tx_location(&txid).map_err(internal)?.ok_or_else(|| {
                invalid_param("before", format!("{txid} is not a confirmed transaction"))
            })?;
            let height = node
                .chain()
                .entry(&loc.block)
                .ok_or_else(|| internal("indexed block missing"))?
                .header
                .height;
            Ok::<_, RpcError>((height, loc.position))
        })
        .transpose()?;
    let indexed_from = store.history_from().map_err(internal)?;
    let (tip, entries, pending) = with_pool_at_snapshot_tip(
        node,
        |store| store.history(script, before, limit),
        |pool, _| match before {
            Some(_) => Vec::new(),
            None => pool
                .touching(|s| s == script)
                .into_iter()
                .map(|t| PendingHistoryJson {
                    txid: t.txid,
                    time: t.time,
                    received: t.received,
                    sent: t.sent,
                })
                .collect(),
        },
    )?;
    let tip_height = node.chain().entry(&tip).map_or(0, |e| e.header.height);
    let confirmed = entries
        .into_iter()
        .map(|e| HistoryJson {
            txid: e.record.txid,
            block_hash: e.block,
            height: e.height,
            position: e.position,
            confirmations: (tip_height + 1).saturating_sub(e.height),
            received: e.record.received,
            sent: e.record.sent,
        })
        .collect();
    Ok(AddressHistory {
        pending,
        confirmed,
        indexed_from,
    })
}

/// Coins with their outpoints.
pub type Coins = Vec<(OutPoint, Coin)>;

/// How often [`with_pool_at_snapshot_tip`] reads again when a block connected in between.
const ONE_TIP_ATTEMPTS: usize = 100;

/// What `read` finds in one store snapshot, and what `ask` then finds in the pool while it is
/// in line with that snapshot's tip (so nothing is in both or in neither). The store is read
/// without the pool lock; a block connecting in between (the pool not yet updated) makes it
/// read again. Returns the tip with both answers.
///
/// # Errors
/// Storage failures, or the tip moving on every attempt.
pub fn with_pool_at_snapshot_tip<T, P>(
    node: &Node,
    read: impl Fn(&i8o8i_chain::Store) -> Result<(Option<BlockHash>, T), StoreError>,
    ask: impl FnOnce(&i8o8i_chain::mempool::Mempool, &T) -> P,
) -> Result<(BlockHash, T, P), RpcError> {
    for _ in 0..ONE_TIP_ATTEMPTS {
        let (tip, found) = read(node.chain().store()).map_err(internal)?;
        let tip = tip.ok_or_else(|| internal("the store has no tip"))?;
        let pool = node.mempool();
        if pool.tip() == Some(tip) {
            let answer = ask(&pool, &found);
            return Ok((tip, found, answer));
        }
        drop(pool);
        // A block is between its write and the pool's update: moments.
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Err(internal("the chain kept moving while it was read"))
}

/// Coins read by `read` from one store snapshot, paired with the pool at the same tip: the
/// outpoints among them that pooled transactions spend (the pool is asked only about the
/// coins read). Returns the tip, the coins and the pool-spent outpoints.
///
/// # Errors
/// Storage failures, or the tip moving on every attempt.
pub fn at_one_tip(
    node: &Node,
    read: impl Fn(&i8o8i_chain::Store) -> Result<CoinsAtTip, StoreError>,
) -> Result<(BlockHash, Coins, BTreeSet<OutPoint>), RpcError> {
    with_pool_at_snapshot_tip(node, read, |pool, coins: &Coins| {
        coins
            .iter()
            .map(|(op, _)| *op)
            .filter(|op| pool.spender(op).is_some())
            .collect()
    })
}

/// Waits (moments at most) until the chain's published tip reaches `height`, the height of a
/// tip read from a store snapshot: a block is durable before it is published as the tip, so a
/// snapshot may be a block ahead. Answers wait for it, so that a client asking
/// `chain_getInfo` next never sees an older tip than the answer it just got.
pub async fn published(node: &Node, height: u64) {
    for _ in 0..PUBLISH_WAIT_MS {
        if node.chain().tip().header.height >= height {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Longest [`published`] waits, in milliseconds (a reorganisation to a shorter chain never
/// reaches the height; it only costs this).
const PUBLISH_WAIT_MS: u32 = 500;

/// Parses `txid:index`.
///
/// # Errors
/// What is wrong with it.
pub fn parse_outpoint(s: &str) -> Result<OutPoint, String> {
    let (txid, index) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not txid:index"))?;
    Ok(OutPoint {
        txid: txid.parse().map_err(|e| format!("bad txid: {e}"))?,
        index: index.parse().map_err(|e| format!("bad index: {e}"))?,
    })
}

/// Blocks a wallet's fee aims at when no rate is given.
pub const DEFAULT_FEE_TARGET: u32 = 6;

/// [`i8o8i_chain::mempool::Mempool::fee_estimate`] for `target` blocks of this chain's
/// template size.
pub fn fee_estimate(node: &Node, target: u32) -> i8o8i_chain::mempool::FeeEstimate {
    let block_bytes = i8o8i_chain::miner::template_bytes(node.chain().spec());
    node.mempool().fee_estimate(target, block_bytes)
}

/// The rate a wallet transaction pays: `asked` (raised to the pool's minimum), or else the
/// estimate for [`DEFAULT_FEE_TARGET`] blocks.
pub fn wallet_fee_rate(node: &Node, asked: Option<u64>) -> u64 {
    match asked {
        Some(rate) => rate.max(node.mempool().min_fee_rate()),
        None => fee_estimate(node, DEFAULT_FEE_TARGET).fee_rate,
    }
}
