//! Load tool: the time to produce and to import a block under each consensus engine, and the
//! finality lag of DPoS's last irreversible block.
//!
//! Run: `cargo bench -p i8o8i-node --bench consensus` (or, reusing the dev build of RocksDB,
//! `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo bench -p i8o8i-node --bench consensus --profile dev`).
//!
//! For each engine it opens two real nodes (RocksDB in temporary directories, no network) on
//! a chain spec run by that engine alone, then [`BLOCKS`] times: the producing node builds and
//! seals the next block (`Node::mine_one` under PoW at the dev difficulty, so the nonce search
//! is a few hashes; `Node::produce_in_slot` under PoS / DPoS, which draws the slot's producer
//! from the producer state and signs), imports it, and the second node imports it as a peer's
//! block would be. The genesis time lies far in the past so that slot blocks can be made
//! back to back (one slot apart) without waiting for the clock. Blocks hold only their
//! coinbase: the figures are the engines' costs (leader draw, signature, producer-state
//! update, LIB tracking), not script verification, which the `block` bench measures.
//!
//! DPoS finality: with every delegate producing, and again with one delegate of the round
//! offline, it records after each block how far the last irreversible block trails the tip.

use std::time::{Duration, Instant};

use i8o8i_config::NodeConfig;
use i8o8i_node::node::Node;
use i8o8i_primitives::Seal;
use i8o8i_runtime::consensus::ScheduledEngine;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_script_vm::templates;
use secp256k1::{PublicKey, SecretKey};

// The node binary's allocator, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BLOCKS: usize = 300;

fn secret(i: u8) -> SecretKey {
    SecretKey::from_secret_bytes([i + 1; 32]).expect("valid")
}

fn key_hex(s: &SecretKey) -> String {
    hex::encode(PublicKey::from_secret_key(s).serialize())
}

fn spec(engine: &str, producers: usize) -> ChainSpec {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let params = match engine {
        "pow" => "    params:\n      initial_bits: 0x207fffff\n      retarget: none\n".to_owned(),
        "pos" => format!(
            "    params:\n      slot_secs: 1\n      epoch_slots: 20\n      unbonding_period: 10\n      min_bond: 1\n      genesis_validators:\n{}",
            (0..producers)
                .map(|i| format!(
                    "        - key: {}\n          stake: 1\n",
                    key_hex(&secret(i as u8))
                ))
                .collect::<String>()
        ),
        _ => format!(
            "    params:\n      slot_secs: 1\n      delegates: {producers}\n      unbonding_period: 10\n      registration_fee: 1\n      genesis_delegates:\n{}",
            (0..producers)
                .map(|i| format!(
                    "        - name: d{i}\n          key: {}\n",
                    key_hex(&secret(i as u8))
                ))
                .collect::<String>()
        ),
    };
    let yaml = format!(
        "name: bench\nnetwork: dev\ngenesis:\n  time: {}\n  message: bench\nblock_reward: 5000000000\nhalving_interval: 150000\ncoinbase_maturity: 100\ntarget_block_time: 1\nmax_block_size: 4000000\nmax_supply: 2100000000000000\nmax_future_block_time: 60\nconsensus:\n  - from_height: 0\n    engine: {}\n{params}",
        now - 10_000_000,
        if engine == "pow" {
            "pow"
        } else {
            engine.trim_end_matches(char::is_numeric)
        }
    );
    ChainSpec::from_yaml(&yaml).expect("bench spec")
}

fn open(spec: &ChainSpec, dir: &std::path::Path) -> std::sync::Arc<Node> {
    let config = NodeConfig {
        chain: "bench".into(),
        data_dir: Some(dir.to_owned()),
        ..NodeConfig::default()
    };
    Node::open(config, spec.clone(), dir).expect("node opens")
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Run {
    produce: Duration,
    import_own: Duration,
    import_peer: Duration,
    lag: Vec<u64>,
}

/// Produces and imports [`BLOCKS`] blocks; under DPoS, delegate `offline` (if any) skips its
/// slots.
fn run(engine: &str, producers: usize, offline: Option<usize>) -> Run {
    let spec = spec(engine, producers);
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (open(&spec, da.path()), open(&spec, db.path()));
    let secrets: Vec<SecretKey> = (0..producers).map(|i| secret(i as u8)).collect();
    let payout = templates::p2pkh(&[7; 20]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut produce, mut own, mut peer, mut lag) = (vec![], vec![], vec![], vec![]);
    let mut slot = 0u64;
    while own.len() < BLOCKS {
        let tip = a.chain().tip();
        let (block, took) = match a.chain().schedule().at(tip.header.height + 1).clone() {
            ScheduledEngine::Pow(_) => {
                let t = Instant::now();
                let block = a.mine_one(&payout, 1, &stop).expect("mined");
                (block, t.elapsed())
            }
            ScheduledEngine::Slot(e) => {
                if let Seal::Producer { slot: s, .. } = tip.header.seal {
                    slot = slot.max(s);
                }
                slot += 1;
                let mut found = None;
                for (i, s) in secrets.iter().enumerate() {
                    let t = Instant::now();
                    if let Some(block) = a.produce_in_slot(&e, slot, s).expect("produce") {
                        found = Some((i, block, t.elapsed()));
                        break;
                    }
                }
                let (who, block, took) = found.expect("every slot has a producer");
                if offline == Some(who) {
                    continue;
                }
                (block, took)
            }
        };
        produce.push(took);
        let t = Instant::now();
        let outcome = a.submit_block(block.clone()).expect("own block imports");
        own.push(t.elapsed());
        assert!(outcome.invalid.is_empty(), "{:?}", outcome.invalid);
        let t = Instant::now();
        b.submit_block(block).expect("peer block imports");
        peer.push(t.elapsed());
        if let Some((h, _)) = b.chain().last_irreversible() {
            lag.push(b.chain().tip().header.height - h);
        }
    }
    Run {
        produce: median(&mut produce),
        import_own: median(&mut own),
        import_peer: median(&mut peer),
        lag,
    }
}

fn main() {
    println!("consensus: {BLOCKS} coinbase-only blocks per engine, medians");
    println!(
        "{:<18} {:>12} {:>16} {:>16}",
        "engine", "produce", "import (own)", "import (peer)"
    );
    let mut pow_peer = None;
    for (label, engine, producers) in [
        ("pow", "pow", 1),
        ("pos (3 validators)", "pos", 3),
        ("dpos (3 delegates)", "dpos", 3),
        ("dpos (21 delegates)", "dpos", 21),
    ] {
        let r = run(engine, producers, None);
        let base = *pow_peer.get_or_insert(r.import_peer);
        println!(
            "{label:<18} {:>10.0}µs {:>14.0}µs {:>14.0}µs  (peer import {:.2}x pow)",
            r.produce.as_secs_f64() * 1e6,
            r.import_own.as_secs_f64() * 1e6,
            r.import_peer.as_secs_f64() * 1e6,
            r.import_peer.as_secs_f64() / base.as_secs_f64(),
        );
    }
    println!("\nDPoS finality lag (tip height − last irreversible height), after each block:");
    for (delegates, offline) in [(3, None), (21, None), (21, Some(5))] {
        let mut r = run("dpos", delegates, offline);
        r.lag.sort_unstable();
        let median = r.lag[r.lag.len() / 2];
        let max = *r.lag.last().expect("lag samples");
        println!(
            "  {delegates} delegates{}: median {median} blocks, max {max} blocks",
            if offline.is_some() {
                ", one offline"
            } else {
                ""
            }
        );
    }
}
