//! Adapters that plug the [`Node`] into the services around it without those services knowing
//! the node: [`ChainAccess`] for the network, the announcement feed it gossips, and the
//! [`MetricsSource`] the RPC server scrapes. Only [`crate::launch`] uses this module, so the
//! node itself imports neither the network's service nor the RPC server.

use std::sync::{Arc, Weak};

use i8o8i_chain::chain::ImportError;
use i8o8i_chain::mempool::MempoolError;
use i8o8i_chain::store::BlockStatus;
use i8o8i_network::chain_access::{CompactOutcome, GossipTx, PeerRecords};
use i8o8i_network::{Announcement, BlockVerdict, ChainAccess, ChainTip, TxVerdict};
use i8o8i_primitives::{Block, BlockHash, Header, StoreError, Transaction, Txid, U256};
use i8o8i_rpc::MetricsSource;
use i8o8i_runtime::consensus::HeaderError;
use i8o8i_runtime::error::{BlockError, TxError};
use prometheus_client::encoding::text::encode_registry;
use tokio::sync::{broadcast, mpsc};

use crate::node::{Node, NodeEvent, Origin};

/// The node as the network sees it.
#[derive(Debug, Clone)]
pub struct NodeChainAccess(pub Arc<Node>);

impl ChainAccess for NodeChainAccess {
    fn genesis(&self) -> BlockHash {
        self.0.chain().genesis()
    }

    fn tip(&self) -> ChainTip {
        let tip = self.0.chain().tip();
        ChainTip {
            hash: tip.hash,
            height: tip.header.height,
            work: tip.work,
            lowest_block: self.0.chain().lowest_block(),
        }
    }

    fn known_header(&self, hash: &BlockHash) -> Option<Header> {
        self.0.chain().entry(hash).map(|e| e.header)
    }

    fn known_work(&self, hash: &BlockHash) -> Option<U256> {
        self.0.chain().entry(hash).map(|e| e.work())
    }

    fn min_chain_work(&self) -> U256 {
        self.0.chain().spec().min_chain_work()
    }

    fn check_headers(&self, parent: &Header, headers: &[Header]) -> Result<U256, (usize, String)> {
        let chain = self.0.chain();
        chain
            .check_header_chain(parent, headers)
            .map_err(|(i, e)| (i, e.to_string()))?;
        Ok(headers.iter().fold(U256::zero(), |work, h| {
            work.saturating_add(chain.schedule().weight(h))
        }))
    }

    fn locator(&self, max: usize) -> Result<Vec<BlockHash>, StoreError> {
        self.0.chain().locator(max)
    }

    fn headers_after(&self, locator: &[BlockHash], max: u32) -> Result<Vec<Header>, StoreError> {
        self.0.chain().headers_after(locator, max)
    }

    fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        let chain = self.0.chain();
        match chain.entry(hash) {
            Some(e) if e.status != BlockStatus::Invalid => chain.store().block(hash),
            _ => Ok(None),
        }
    }

    fn pool_transactions(&self, max_count: usize, max_bytes: usize) -> Vec<Transaction> {
        let pool = self.0.mempool();
        // Mining order walks the pool's ancestor-score index: no sort of the whole pool, and
        // parents come before the children that spend them.
        let (txids, _) = pool.mining_order(max_bytes as u64, u64::MAX, usize::MAX, max_count);
        txids
            .iter()
            .filter_map(|txid| pool.get(txid).map(|e| (*e.tx).clone()))
            .collect()
    }

    fn pool_matching(&self, select: &dyn Fn(&Txid) -> bool) -> Vec<Transaction> {
        let pool = self.0.mempool();
        pool.entries()
            .filter(|(txid, _)| select(txid))
            .map(|(_, e)| (*e.tx).clone())
            .collect()
    }

    fn compact_block(&self, outcome: CompactOutcome) {
        self.0.metrics().compact_block(outcome);
    }

    fn saw_unimported_header(&self, header: &Header) {
        self.0.chain().note_sealed_header(header);
    }

    fn import_block(&self, block: Block) -> BlockVerdict {
        let hash = block.header.hash();
        match self.0.submit_block_from(block, Origin::Peer) {
            Ok(outcome) => {
                if let Some((_, error)) = outcome.invalid.iter().find(|(h, _)| *h == hash) {
                    BlockVerdict::Invalid(error.to_string())
                } else if outcome.already_known {
                    BlockVerdict::AlreadyKnown
                } else if outcome.connected.iter().any(|b| b.header.hash() == hash) {
                    BlockVerdict::Connected
                } else {
                    BlockVerdict::Stored
                }
            }
            Err(ImportError::Invalid { error, .. })
                if matches!(
                    *error,
                    BlockError::Header(HeaderError::BelowIrreversible { .. })
                ) =>
            {
                BlockVerdict::Stale
            }
            Err(e @ (ImportError::Invalid { .. } | ImportError::KnownInvalid(_))) => {
                BlockVerdict::Invalid(e.to_string())
            }
            Err(ImportError::UnknownParent { .. }) => BlockVerdict::UnknownParent,
            Err(ImportError::Early { .. }) => BlockVerdict::Early,
            // A third block for one slot and key: the evidence is already in hand.
            Err(ImportError::Redundant { .. }) => BlockVerdict::Stale,
            Err(ImportError::Storage(e)) => BlockVerdict::Failed(e.to_string()),
        }
    }

    fn import_transaction(&self, tx: Transaction) -> TxVerdict {
        match self.0.submit_transaction_from(tx, Origin::Peer) {
            Ok(_) => TxVerdict::Accepted,
            // Honest races and policy: not the sender's fault.
            Err(
                e @ (MempoolError::AlreadyKnown(_)
                | MempoolError::ReplacementFeeTooLow { .. }
                | MempoolError::ReplacementFeeRateTooLow { .. }
                | MempoolError::TooManyReplacements { .. }
                | MempoolError::ReplacementNewUnconfirmedInput { .. }
                | MempoolError::ReplacementSpendsReplaced { .. }
                | MempoolError::FeeTooLow { .. }
                | MempoolError::Full
                | MempoolError::TooManySigops { .. }
                | MempoolError::NonStandard(_)
                | MempoolError::TooManyAncestors { .. }
                | MempoolError::AncestorsTooLarge { .. }
                | MempoolError::TooManyDescendants { .. }
                | MempoolError::DescendantsTooLarge { .. }
                // The deploy it calls may still be on its way.
                | MempoolError::UnknownContract(_)
                | MempoolError::UnknownCode(_)
                | MempoolError::Invalid(TxError::MissingInput(_) | TxError::Storage(_))),
            ) => TxVerdict::Ignored(e.to_string()),
            Err(e @ MempoolError::Invalid(_)) => TxVerdict::Invalid(e.to_string()),
        }
    }

    fn unix_now(&self) -> u64 {
        self.0.unix_now()
    }

    fn is_shutting_down(&self) -> bool {
        self.0.is_shutting_down()
    }

    fn gossip_tx(&self, outcome: GossipTx) {
        self.0
            .metrics()
            .gossip_txs
            .get_or_create(&crate::metrics::OutcomeLabel {
                outcome: outcome.label(),
            })
            .inc();
    }

    fn dial_failed(&self) {
        self.0.metrics().dial_failures.inc();
    }

    fn peers_changed(&self, connected: usize) {
        self.0
            .metrics()
            .peers
            .set(i64::try_from(connected).unwrap_or(i64::MAX));
    }

    fn peer_records(&self, prefix: &[u8]) -> Result<PeerRecords, StoreError> {
        self.0.chain().store().peer_records(prefix)
    }

    fn put_peer_record(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.0.chain().store().put_peer_record(key, value)
    }

    fn delete_peer_record(&self, key: &[u8]) -> Result<(), StoreError> {
        self.0.chain().store().delete_peer_record(key)
    }
}

/// How many local announcements may wait for the network's event loop; beyond that they are
/// dropped (gossip is best effort: peers sync what they miss).
const ANNOUNCEMENT_BUFFER: usize = 1024;

/// The feed of what this node made (local transactions, local blocks) for the network to
/// gossip, forwarded from the node's events by a task that ends with the node.
pub fn announcements(node: &Node) -> mpsc::Receiver<Announcement> {
    let (tx, rx) = mpsc::channel(ANNOUNCEMENT_BUFFER);
    let mut events = node.subscribe();
    tokio::spawn(async move {
        loop {
            let announcement = match events.recv().await {
                Ok(NodeEvent::TxsAccepted {
                    txs,
                    origin: Origin::Local,
                }) => Announcement::Transactions(txs.iter().map(|a| a.tx.clone()).collect()),
                Ok(NodeEvent::BlockConnected {
                    block,
                    origin: Origin::Local,
                }) => Announcement::Block(block),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "network fell behind node events");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            match tx.try_send(announcement) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::debug!("network busy; local announcement dropped");
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
    });
    rx
}

/// Resident set size of this process, from `/proc/self/status` (Linux); 0 elsewhere.
fn resident_bytes() -> i64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map_or(0, |kb| kb.saturating_mul(1024))
}

/// The node as a [`MetricsSource`]; holds it weakly so the server does not keep it alive.
pub struct NodeMetricsSource(pub Weak<Node>);

impl MetricsSource for NodeMetricsSource {
    fn encode(&self, out: &mut String) -> std::fmt::Result {
        let Some(node) = self.0.upgrade() else {
            return Ok(());
        };
        let m = node.metrics();
        let height = node.chain().tip().header.height;
        m.height.set(i64::try_from(height).unwrap_or(i64::MAX));
        let lib = node.chain().last_irreversible().map_or(0, |(h, _)| h);
        m.last_irreversible
            .set(i64::try_from(lib).unwrap_or(i64::MAX));
        let lag = if lib == 0 {
            0
        } else {
            height.saturating_sub(lib)
        };
        m.finality_lag.set(i64::try_from(lag).unwrap_or(i64::MAX));
        let info = node.mempool().info();
        m.mempool_txs.set(info.count as i64);
        m.mempool_bytes
            .set(i64::try_from(info.bytes).unwrap_or(i64::MAX));
        m.resident_bytes.set(resident_bytes());
        let cache = node.chain().script_cache();
        for (counter, now) in [
            (&m.script_cache_hits, cache.hits()),
            (&m.script_cache_misses, cache.misses()),
        ] {
            // Set, not added: two scrapes at once must not count the same hits twice.
            counter
                .inner()
                .fetch_max(now, std::sync::atomic::Ordering::Relaxed);
        }
        encode_registry(out, &m.registry)
    }
}

/// The source for `node`.
pub fn source(node: &Arc<Node>) -> Arc<dyn MetricsSource> {
    Arc::new(NodeMetricsSource(Arc::downgrade(node)))
}
