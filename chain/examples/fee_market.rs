//! How well `Mempool::fee_estimate` does on a simulated fee market: the share of transactions
//! that pay the estimate for a target and are mined within that many blocks (one run: 89.1 %;
//! 85.3 / 89.0 / 89.6 / 92.3 % for targets 1 / 2 / 3 / 6, median rates paid 7 units per byte;
//! the mempool depth alone gave 39.7 %).
//!
//! `cargo run --release -p i8o8i-chain --features test-utils --example fee_market`
//!
//! The market (deterministic: a fixed xorshift seed): blocks hold 100 transactions' bytes;
//! between two blocks, background transactions arrive with fee rates from 1 to 100 units per
//! byte (most of them cheap: the rate is 1 + 99·u³ for a uniform u), 60 per block in calm
//! stretches and 160 in rushes, alternating every 25 blocks, so the pool drains and fills.
//! With them, 8 wallet transactions per block each ask `fee_estimate` for a target of 1, 2, 3
//! or 6 blocks and pay exactly that. A block takes the pool's best by ancestor fee rate, as
//! templates do. Wallet transactions still unmined when the run ends count as late.

use i8o8i_chain::memory::{MemoryChain, anyone_can_spend_tx};
use i8o8i_chain::mempool::Mempool;
use i8o8i_config::MempoolConfig;
use i8o8i_primitives::{Block, Transaction, Txid};
use parity_scale_codec::Encode;
use std::collections::BTreeMap;

const BLOCKS: u64 = 600;
const BACKGROUND_CALM: u64 = 60;
const BACKGROUND_RUSH: u64 = 160;
const STRETCH: u64 = 25;
const WALLET_PER_BLOCK: u64 = 8;
const TARGETS: [u32; 4] = [1, 2, 3, 6];
const COIN_VALUE: u64 = 1_000_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() {
    let mut chain = MemoryChain::new();
    let mut pool = Mempool::new(MempoolConfig::default());
    let mut rng = Rng(0x1808_2026);
    let mut next_coin = 0u64;
    // Every transaction here is one anyone-can-spend input and one output: the same size.
    let size = anyone_can_spend_tx(&[chain.fund_anyone(u64::MAX, COIN_VALUE)], &[1]).encoded_size();
    let block_bytes = 100 * size as u64;
    let mut spend = |chain: &mut MemoryChain, rate: u64| -> Transaction {
        next_coin += 1;
        let coin = chain.fund_anyone(next_coin, COIN_VALUE);
        anyone_can_spend_tx(&[coin], &[COIN_VALUE - rate * size as u64])
    };
    // Wallet transactions waiting: txid → (block they arrived before, target).
    let mut waiting: BTreeMap<Txid, (u64, u32)> = BTreeMap::new();
    // Per target: (within target, late, the estimates paid).
    let mut outcome: BTreeMap<u32, (u64, u64, Vec<u64>)> = BTreeMap::new();
    for block in 0..BLOCKS {
        let rush = (block / STRETCH) % 2 == 1;
        let background = if rush {
            BACKGROUND_RUSH
        } else {
            BACKGROUND_CALM
        };
        let arrivals = background + WALLET_PER_BLOCK;
        for i in 0..arrivals {
            // Wallet transactions are spread among the background ones.
            if i % (arrivals / WALLET_PER_BLOCK) == 0
                && i / (arrivals / WALLET_PER_BLOCK) < WALLET_PER_BLOCK
            {
                let target = TARGETS[rng.below(TARGETS.len() as u64) as usize];
                let rate = pool.fee_estimate(target, block_bytes).fee_rate;
                let tx = spend(&mut chain, rate);
                let txid = pool
                    .accept(tx, &chain, 0)
                    .expect("a wallet transaction is accepted");
                waiting.insert(txid, (block, target));
                outcome.entry(target).or_default().2.push(rate);
            } else {
                let u = rng.below(1_000);
                let rate = 1 + 99 * u * u * u / 1_000_000_000;
                let tx = spend(&mut chain, rate);
                pool.accept(tx, &chain, 0)
                    .expect("a background transaction is accepted");
            }
        }
        let (txs, _) = pool.template(block_bytes);
        let mut transactions = vec![anyone_can_spend_tx(&[], &[])];
        transactions.extend(txs.iter().map(|tx| (**tx).clone()));
        for tx in &transactions[1..] {
            if let Some((arrived, target)) = waiting.remove(&tx.txid()) {
                let entry = outcome.entry(target).or_default();
                // Mined in block `block`, the (block - arrived + 1)-th after it arrived.
                if block - arrived < u64::from(target) {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
        pool.block_connected(&Block {
            header: chain_header(&chain),
            transactions,
        });
    }
    for (_, target) in waiting.values() {
        outcome.entry(*target).or_default().1 += 1;
    }
    println!(
        "{BLOCKS} blocks of {} bytes ({size}-byte transactions), background {BACKGROUND_CALM} / {BACKGROUND_RUSH} per block alternating every {STRETCH} blocks",
        block_bytes
    );
    println!("| target | wallet transactions | mined within target | median rate paid |");
    println!("|---|---|---|---|");
    let (mut all_in, mut all) = (0, 0);
    for (target, (within, late, mut rates)) in outcome {
        rates.sort_unstable();
        let total = within + late;
        all_in += within;
        all += total;
        println!(
            "| {target} | {total} | {:.1} % | {} |",
            within as f64 * 100.0 / total as f64,
            rates[rates.len() / 2]
        );
    }
    println!(
        "| all | {all} | {:.1} % | |",
        all_in as f64 * 100.0 / all as f64
    );
}

fn chain_header(chain: &MemoryChain) -> i8o8i_primitives::Header {
    use i8o8i_chain::view::ChainView;
    chain.tip().header
}
