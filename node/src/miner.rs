//! Block production under proof of work: block templates from the mempool, and a nonce search
//! spread over threads.

use std::sync::atomic::{AtomicBool, Ordering};

use i8o8i_runtime::consensus::coinbase_height_prefix;
use i8o8i_runtime::contract::apply::payload_terms;
use i8o8i_runtime::{
    Amount, Block, Hash256, Header, OutPoint, Seal, Transaction, TxIn, TxOut, merkle_root,
};
use i8o8i_script_vm::{Builder, Script};

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

/// Builds a template on the current tip: the mempool's best transactions and a coinbase
/// paying subsidy plus fees to `payout`. `extra` varies the coinbase so that two templates for
/// the same height never share a txid.
pub fn build_template(
    chain: &Chain,
    mempool: &Mempool,
    payout: &Script,
    extra: u64,
    now: u64,
) -> Template {
    let tip = chain.tip();
    let height = tip.header.height + 1;
    let mtp = chain.median_time_past(&tip.hash).unwrap_or(tip.header.time);
    let time = now.max(mtp + 1);
    let (txs, fees) =
        mempool.template(chain.spec().max_block_size.saturating_sub(COINBASE_RESERVE));
    let reward = chain
        .spec()
        .subsidy(height)
        .checked_add(fees)
        .unwrap_or(chain.spec().subsidy(height));
    let mut script_sig = coinbase_height_prefix(height);
    script_sig.extend_from_slice(Builder::new().push_slice(&extra.to_le_bytes()).as_bytes());
    let coinbase = Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: script_sig.into(),
            sequence: u32::MAX,
        }],
        outputs: vec![TxOut {
            value: reward,
            script_pubkey: payout.to_script_buf(),
        }],
        lock_time: 0,
        payload: None,
    };
    let mut transactions = vec![coinbase];
    transactions.extend(txs.iter().map(|tx| (**tx).clone()));
    if transactions.iter().any(|tx| payload_terms(tx).is_some()) {
        // Contract transactions refund unused gas, so their fees are known only after running
        // them: connect the template (coinbase paying nothing yet) and pay what it reports.
        let mut block = Block {
            header: Header {
                version: 1,
                parent: tip.hash,
                height,
                time,
                tx_root: Hash256::ZERO,
                state_root: Hash256::ZERO,
                seal: Seal::Pow { bits: 0, nonce: 0 },
            },
            transactions,
        };
        block.transactions[0].outputs[0].value = Amount::ZERO;
        block.header.tx_root = merkle_root(
            &block
                .transactions
                .iter()
                .map(Transaction::txid)
                .collect::<Vec<_>>(),
        );
        let fees = match chain.preview_connect(&block) {
            Ok(changes) => changes.fees,
            Err(error) => {
                // A pool transaction that no longer connects: mine an empty block rather than
                // an invalid one; the pool drops it on the next tip change.
                tracing::warn!(%error, "template does not connect; mining without transactions");
                block.transactions.truncate(1);
                Amount::ZERO
            }
        };
        transactions = block.transactions;
        transactions[0].outputs[0].value = chain
            .spec()
            .subsidy(height)
            .checked_add(fees)
            .unwrap_or(chain.spec().subsidy(height));
    }
    let tx_root = merkle_root(
        &transactions
            .iter()
            .map(Transaction::txid)
            .collect::<Vec<_>>(),
    );
    let header = Header {
        version: 1,
        parent: tip.hash,
        height,
        time,
        tx_root,
        state_root: Hash256::ZERO,
        seal: Seal::Pow {
            bits: chain.engine().next_bits(&tip.header),
            nonce: 0,
        },
    };
    Template {
        block: Block {
            header,
            transactions,
        },
        parent: tip,
    }
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
                            chain
                                .engine()
                                .mine(header.clone(), start, threads, tries, should_stop)
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
