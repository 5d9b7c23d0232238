//! The node's Prometheus metrics (`i8o8i_*`), exported by the RPC server's `/metrics` next to
//! its own. Gauges of state the node already keeps (height, mempool, memory) are read at scrape
//! time; events (block connects, reorganisations, contract gas) are counted where they happen.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Metric handles, owned by the [`Node`](crate::node::Node); read at scrape time by
/// [`crate::services::NodeMetricsSource`].
pub struct NodeMetrics {
    pub(crate) registry: Registry,
    pub(crate) height: Gauge,
    pub(crate) block_connect: Histogram,
    pub(crate) blocks_connected: Counter,
    pub(crate) reorgs: Counter,
    pub(crate) reorg_depth: Histogram,
    pub(crate) mempool_txs: Gauge,
    pub(crate) mempool_bytes: Gauge,
    /// Connected peers; the network service sets it.
    pub peers: Gauge,
    /// Dials that failed.
    pub(crate) dial_failures: Counter,
    pub(crate) contract_gas: Counter,
    /// Transactions a block connect found in the script cache / verified in full: brought
    /// up to the cache's own counts at scrape time.
    pub(crate) script_cache_hits: Counter,
    pub(crate) script_cache_misses: Counter,
    pub(crate) resident_bytes: Gauge,
    pub(crate) last_irreversible: Gauge,
    pub(crate) finality_lag: Gauge,
    /// Blocks this node produced (sealed in its slots or mined by `--produce`) and imported.
    pub blocks_produced: Counter,
    /// Gossip transactions by outcome.
    pub(crate) gossip_txs: Family<OutcomeLabel, Counter>,
    /// Blocks announced compactly, by how they were rebuilt.
    pub(crate) compact_blocks: Family<OutcomeLabel, Counter>,
}

/// The `outcome` label of `i8o8i_p2p_gossip_txs_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    pub(crate) outcome: &'static str,
}

impl std::fmt::Debug for NodeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeMetrics")
    }
}

impl Default for NodeMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("i8o8i");
        let height = Gauge::default();
        registry.register(
            "chain_height",
            "Height of the best chain's tip",
            height.clone(),
        );
        // 100 µs .. ~26 s.
        let block_connect = Histogram::new(exponential_buckets(0.000_1, 2.0, 18));
        registry.register(
            "block_connect_duration_seconds",
            "Time to validate and connect one block (a reorganisation's blocks share its time)",
            block_connect.clone(),
        );
        let blocks_connected = Counter::default();
        registry.register(
            "blocks_connected",
            "Blocks connected to the best chain",
            blocks_connected.clone(),
        );
        let reorgs = Counter::default();
        registry.register(
            "chain_reorgs",
            "Reorganisations (blocks of the best chain disconnected)",
            reorgs.clone(),
        );
        let reorg_depth = Histogram::new([1.0, 2.0, 3.0, 6.0, 10.0, 100.0, 1000.0]);
        registry.register(
            "chain_reorg_depth_blocks",
            "Blocks disconnected per reorganisation",
            reorg_depth.clone(),
        );
        let mempool_txs = Gauge::default();
        registry.register(
            "mempool_txs",
            "Transactions in the mempool",
            mempool_txs.clone(),
        );
        let mempool_bytes = Gauge::default();
        registry.register(
            "mempool_bytes",
            "Encoded size of the mempool's transactions",
            mempool_bytes.clone(),
        );
        let peers = Gauge::default();
        registry.register("p2p_peers", "Connected peers", peers.clone());
        let dial_failures = Counter::default();
        registry.register(
            "p2p_dial_failures",
            "Outgoing connections that failed (peers are dialled less often, then forgotten)",
            dial_failures.clone(),
        );
        let contract_gas = Counter::default();
        registry.register(
            "contract_gas_used",
            "Gas used by contract transactions in connected blocks",
            contract_gas.clone(),
        );
        let script_cache_hits = Counter::default();
        registry.register(
            "script_cache_hits",
            "Transactions of connected blocks whose scripts had verified at mempool admission (not run again)",
            script_cache_hits.clone(),
        );
        let script_cache_misses = Counter::default();
        registry.register(
            "script_cache_misses",
            "Transactions of connected blocks whose scripts were verified in full",
            script_cache_misses.clone(),
        );
        let resident_bytes = Gauge::default();
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the node process",
            resident_bytes.clone(),
        );
        let last_irreversible = Gauge::default();
        registry.register(
            "consensus_last_irreversible_height",
            "Height of the last irreversible (final) block under PoS / DPoS (0 while there is none)",
            last_irreversible.clone(),
        );
        let finality_lag = Gauge::default();
        registry.register(
            "consensus_finality_lag_blocks",
            "Blocks between the tip and the last irreversible block (0 while there is none)",
            finality_lag.clone(),
        );
        let blocks_produced = Counter::default();
        registry.register(
            "consensus_blocks_produced",
            "Blocks this node produced with --produce and imported",
            blocks_produced.clone(),
        );
        let gossip_txs = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "p2p_gossip_txs",
            "Transactions peers gossiped, by outcome: accepted, ignored (known, conflicting, policy), invalid (sender penalised), dropped (sender's queue full or sender banned)",
            gossip_txs.clone(),
        );
        let compact_blocks = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "p2p_compact_blocks",
            "Blocks peers announced compactly, by how they were rebuilt: complete (every transaction pooled), fetched (the missing ones asked of the relaying peer), whole (the block fetched whole)",
            compact_blocks.clone(),
        );
        NodeMetrics {
            gossip_txs,
            compact_blocks,
            registry,
            last_irreversible,
            finality_lag,
            blocks_produced,
            height,
            block_connect,
            blocks_connected,
            reorgs,
            reorg_depth,
            mempool_txs,
            mempool_bytes,
            peers,
            dial_failures,
            contract_gas,
            script_cache_hits,
            script_cache_misses,
            resident_bytes,
        }
    }
}

impl NodeMetrics {
    /// Gossip transactions counted with `outcome` (`accepted`, `ignored`, `invalid`,
    /// `dropped`).
    pub fn gossip_txs(&self, outcome: &'static str) -> u64 {
        self.gossip_txs
            .get_or_create(&OutcomeLabel { outcome })
            .get()
    }

    /// Compact blocks rebuilt with `outcome` (`complete`, `fetched`, `whole`).
    pub fn compact_blocks(&self, outcome: &'static str) -> u64 {
        self.compact_blocks
            .get_or_create(&OutcomeLabel { outcome })
            .get()
    }

    pub(crate) fn compact_block(&self, outcome: i8o8i_network::chain_access::CompactOutcome) {
        self.compact_blocks
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Records an import that connected `connected` blocks in `elapsed`, after disconnecting
    /// `disconnected`, with `gas` used by their contract transactions.
    pub(crate) fn imported(
        &self,
        connected: usize,
        disconnected: usize,
        elapsed: Duration,
        gas: u64,
    ) {
        if connected > 0 {
            let per_block = elapsed.as_secs_f64() / connected as f64;
            for _ in 0..connected {
                self.block_connect.observe(per_block);
            }
            self.blocks_connected.inc_by(connected as u64);
        }
        if disconnected > 0 {
            self.reorgs.inc();
            self.reorg_depth.observe(disconnected as f64);
        }
        self.contract_gas.inc_by(gas);
    }
}
