//! Block production under proof of work: block templates from the mempool, and a nonce search
//! spread over threads.

use std::sync::atomic::{AtomicBool, Ordering};

use i8o8i_primitives::{Amount, Block, Hash256, Header, Payload, Seal, TxOut, merkle_root};
use i8o8i_runtime::consensus::coinbase_transaction;
use i8o8i_runtime::error::BlockError;
use i8o8i_script_vm::Script;

use crate::chain::{Chain, Tip};
use crate::mempool::Mempool;

/// Bytes kept free in a template for the coinbase and the header.
const COINBASE_RESERVE: u64 = 1_000;

/// A block ready for its nonce search, built on `tip`.
#[derive(Debug, Clone)]
pub struct Template {
    /// The block (nonce 0).
    pub block: Block,
    /// The tip it extends.
    pub parent: Tip,
}

/// Builds a template on `tip` (the one the seal was decided for): the mempool's best
/// transactions and a coinbase
/// paying subsidy plus fees to `payout`, sealed with `seal` (unsigned / nonce 0) at `time`.
/// `extra` is pushed after the height in the coinbase: under proof of work an extra nonce, so
/// that two templates for the same height never share a txid; for a slot-engine block the
/// producer's randomness contribution ([`i8o8i_runtime::randomness`]).
pub fn build_template(
    chain: &Chain,
    tip: Tip,
    mempool: &Mempool,
    payout: &Script,
    extra: &[u8],
    time: u64,
    seal: Seal,
) -> Template {
    let height = tip.header.height + 1;
    // A pool not yet brought in line with `tip` (a block just connected) may hold what `tip`
    // confirmed: that template would be invalid, an empty one is not.
    let (txs, fees) = if mempool.tip().is_none_or(|t| t == tip.hash) {
        mempool.template(chain.spec().max_block_size.saturating_sub(COINBASE_RESERVE))
    } else {
        (Vec::new(), Amount::ZERO)
    };
    let reward = |fees: Amount| {
        chain
            .spec()
            .subsidy(height)
            .checked_add(fees)
            .unwrap_or(chain.spec().subsidy(height))
    };
    let mut coinbase = coinbase_transaction(
        height,
        extra,
        vec![TxOut {
            value: reward(fees),
            script_pubkey: payout.to_script_buf(),
        }],
    );
    // A producer's block carries one piece of the double-signing evidence this node has seen
    // (the oldest), which slashes the offender when the block connects.
    if matches!(seal, Seal::Producer { .. })
        && let Some((first, second)) = chain
            .pending_evidence()
            .ok()
            .and_then(|e| e.into_iter().next())
    {
        coinbase.payload = Some(Payload::Evidence {
            first: Box::new(first),
            second: Box::new(second),
        });
    }
    let mut block = Block {
        header: Header {
            version: 1,
            parent: tip.hash,
            height,
            time,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal,
        },
        transactions: vec![coinbase],
    };
    block
        .transactions
        .extend(txs.iter().map(|tx| (**tx).clone()));
    if block.transactions.iter().any(|tx| tx.payload.is_some()) {
        // Contract transactions refund unused gas, so their fees are known only after running
        // them, and staking or contract transactions that conflict with each other only show
        // it when run in order: connect the template (coinbase paying nothing yet) and pay
        // what it reports, dropping transactions that fail.
        block.transactions[0].outputs[0].value = Amount::ZERO;
        let mut fees = Amount::ZERO;
        let mut connected = false;
        for _ in 0..MAX_TEMPLATE_RETRIES {
            block.header.tx_root = merkle_root(&block.txids());
            match chain.preview_connect(&block) {
                Ok(changes) => {
                    fees = changes.fees;
                    connected = true;
                    break;
                }
                Err(BlockError::Tx { index, error, .. }) if index > 0 => {
                    tracing::debug!(%error, "pooled transaction does not connect; left out");
                    block.transactions.remove(index);
                }
                Err(BlockError::Tx {
                    index: 0, error, ..
                }) if block.transactions[0].payload.is_some() => {
                    tracing::warn!(%error, "evidence does not connect; left out");
                    block.transactions[0].payload = None;
                }
                Err(error) => {
                    tracing::warn!(%error, "template does not connect; producing without transactions");
                    block.transactions.truncate(1);
                    break;
                }
            }
        }
        if !connected {
            block.transactions.truncate(1);
        }
        block.transactions[0].outputs[0].value = reward(fees);
    }
    block.header.tx_root = merkle_root(&block.txids());
    Template { block, parent: tip }
}

/// How many failing transactions a template drops before it gives up on the pool.
const MAX_TEMPLATE_RETRIES: usize = 16;

/// A proof-of-work template on the current tip, or `None` if the next height is not proof of
/// work.
pub fn pow_template(
    chain: &Chain,
    mempool: &Mempool,
    payout: &Script,
    extra: u64,
    now: u64,
) -> Option<Template> {
    let tip = chain.tip();
    let engine = chain.pow_engine_at(tip.header.height + 1)?;
    let mtp = chain.median_time_past(&tip.hash).unwrap_or(tip.header.time);
    let seal = Seal::Pow {
        bits: engine.next_bits(&tip.header),
        nonce: 0,
    };
    Some(build_template(
        chain,
        tip,
        mempool,
        payout,
        &extra.to_le_bytes(),
        now.max(mtp + 1),
        seal,
    ))
}

/// Searches the nonce space of `template` with `threads` threads until one meets the target,
/// `stop` is set, or the chain's tip moves away from the template's parent.
pub fn solve(
    chain: &Chain,
    template: Template,
    threads: usize,
    stop: &AtomicBool,
) -> Option<Block> {
    let threads = threads.max(1) as u64;
    let found = AtomicBool::new(false);
    let header = template.block.header.clone();
    let parent = template.parent.hash;
    let engine = chain.pow_engine_at(header.height)?;
    let should_stop = || {
        stop.load(Ordering::Relaxed) || found.load(Ordering::Relaxed) || chain.tip().hash != parent
    };
    let sealed = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let header = header.clone();
                let should_stop = &should_stop;
                let found = &found;
                scope.spawn(move || {
                    let mut start = i;
                    loop {
                        if should_stop() {
                            return None;
                        }
                        // Batches of 2^20 nonces per thread between stop checks.
                        let tries = 1 << 20;
                        if let Some(h) =
                            engine.mine(header.clone(), start, threads, tries, should_stop)
                        {
                            found.store(true, Ordering::Relaxed);
                            return Some(h);
                        }
                        start = start.wrapping_add(threads * tries);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .next()
    })?;
    Some(Block {
        header: sealed,
        transactions: template.block.transactions,
    })
}
