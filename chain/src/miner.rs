//! Block production under proof of work: block templates from the mempool, and a nonce search
//! spread over threads.

use std::sync::atomic::{AtomicBool, Ordering};

use i8o8i_primitives::{Amount, Block, Hash256, Header, Payload, Seal, TxOut, merkle_root};
use i8o8i_runtime::consensus::coinbase_transaction;
use i8o8i_runtime::error::BlockError;
use i8o8i_runtime::spec::ChainSpec;
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

/// The bytes of pooled transactions a template takes: the block size less room for the
/// coinbase (what fee estimates count blocks in).
pub fn template_bytes(spec: &ChainSpec) -> u64 {
    spec.max_block_size.saturating_sub(COINBASE_RESERVE)
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
        mempool.template(template_bytes(chain.spec()))
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
    // The header commits to the state after the block, so every template is connected in
    // memory once (`Chain::preview_block`), which also finds what the pool's estimate cannot
    // know: contract transactions refund unused gas, so their fees are known only after
    // running them, and staking or contract transactions that conflict with each other only
    // show it when run in order. A coinbase may pay less than it could, never more: those
    // templates start paying nothing, pay what the preview reports and are previewed again
    // (the coinbase's coin is part of the state). Transactions that fail are dropped.
    if block.transactions.iter().any(|tx| tx.payload.is_some()) {
        block.transactions[0].outputs[0].value = Amount::ZERO;
    }
    for _ in 0..MAX_TEMPLATE_RETRIES {
        block.header.tx_root = merkle_root(&block.txids());
        match chain.preview_block(&block) {
            Ok((changes, root)) => {
                let pay = reward(changes.fees);
                if block.transactions[0].outputs[0].value == pay {
                    block.header.state_root = root;
                    return Template { block, parent: tip };
                }
                block.transactions[0].outputs[0].value = pay;
            }
            Err(BlockError::Tx { index, error, .. }) if index > 0 => {
                tracing::debug!(%error, "pooled transaction does not connect; left out");
                block.transactions.remove(index);
                block.transactions[0].outputs[0].value = Amount::ZERO;
            }
            Err(BlockError::Tx {
                index: 0, error, ..
            }) if block.transactions[0].payload.is_some() => {
                tracing::warn!(%error, "evidence does not connect; left out");
                block.transactions[0].payload = None;
            }
            Err(error) if block.transactions.len() > 1 => {
                tracing::warn!(%error, "template does not connect; producing without transactions");
                block.transactions.truncate(1);
                block.transactions[0].outputs[0].value = Amount::ZERO;
            }
            Err(error) => {
                // Only the coinbase and it does not connect: this node's storage, not the
                // block. Such a template is refused by this node too; nothing better exists.
                tracing::error!(%error, "an empty template does not connect");
                break;
            }
        }
    }
    tracing::warn!("no template connected within the retries; the block will be refused");
    Template { block, parent: tip }
}

/// How many previews a template may take (each dropped transaction costs one) before it is
/// given up on.
const MAX_TEMPLATE_RETRIES: usize = 20;

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
