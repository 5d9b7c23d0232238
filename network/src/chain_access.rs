//! [`ChainAccess`]: everything the network asks of the node, and the verdicts it acts on.
//!
//! The network never sees the node's types: it imports blocks and transactions through this
//! trait and turns the verdicts into gossip acceptance and peer scores (reth's `BlockImport`
//! and Lighthouse's `network_context` draw the same line). The node implements it; a test can
//! implement it on maps.

use i8o8i_primitives::{Block, BlockHash, Header, StoreError, Transaction, Txid, U256};

/// Persisted peer records: (key, value) pairs in key order.
pub type PeerRecords = Vec<(Vec<u8>, Vec<u8>)>;

/// The best chain's tip as peers are told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    /// Tip hash.
    pub hash: BlockHash,
    /// Tip height.
    pub height: u64,
    /// Cumulative work (slot blocks count a fixed weight each).
    pub work: U256,
    /// The lowest height whose block this node still has (0 unless it prunes).
    pub lowest_block: u64,
}

/// What importing a block a peer sent did: decides gossip acceptance and the peer's score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockVerdict {
    /// The block is now on the best chain: useful work by the sender.
    Connected,
    /// Valid and stored, but on a lighter branch.
    Stored,
    /// Already known: nothing learned.
    AlreadyKnown,
    /// Its parent is unknown: we are behind the sender and should sync from it.
    UnknownParent,
    /// It conflicts with our last final block: not stored, not relayed, and no penalty (an
    /// honest producer may have built it before it learned of finality).
    Stale,
    /// It is from the future on our clock (its slot has not begun here): held and imported
    /// when due, not relayed now, and no fault of the sender — our clock may be the one off.
    Early,
    /// It (or an ancestor) breaks a consensus rule: the sender relayed an invalid block.
    Invalid(String),
    /// The node failed (storage): not the sender's fault.
    Failed(String),
}

/// What submitting a transaction a peer sent did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxVerdict {
    /// Accepted into the pool: relay it.
    Accepted,
    /// Not accepted for a reason that is no fault of the sender (already known, a conflict
    /// from an honest race, pool policy, a parent still on its way): do not relay, no penalty.
    Ignored(String),
    /// It breaks a consensus rule: do not relay and penalise the sender.
    Invalid(String),
}

/// The node as the network sees it. Methods may block (RocksDB, validation): the network calls
/// the importing ones on the blocking pool, the cheap reads on its event loop.
pub trait ChainAccess: Send + Sync + 'static {
    /// The chain's genesis hash (gossip topics and the status handshake carry it).
    fn genesis(&self) -> BlockHash;
    /// The best chain's tip.
    fn tip(&self) -> ChainTip;
    /// The header of `hash` if the block index knows it (stored, on any branch).
    fn known_header(&self, hash: &BlockHash) -> Option<Header>;
    /// The cumulative work of a block the index knows (on any branch).
    fn known_work(&self, hash: &BlockHash) -> Option<U256>;
    /// The least work a chain must carry before any of its blocks is downloaded or stored
    /// (a public network's chain spec names it, as Bitcoin Core's `nMinimumChainWork`; zero
    /// otherwise).
    fn min_chain_work(&self) -> U256;
    /// Checks headers received in sync, `headers[0]` building on `parent`, without storing
    /// them, and returns the work they add to their chain.
    ///
    /// # Errors
    /// The index of the first bad header and why.
    fn check_headers(&self, parent: &Header, headers: &[Header]) -> Result<U256, (usize, String)>;
    /// A block locator of the best chain: at most `max` hashes, dense near the tip, then
    /// exponentially sparser, ending at genesis.
    ///
    /// # Errors
    /// Storage failures.
    fn locator(&self, max: usize) -> Result<Vec<BlockHash>, StoreError>;
    /// Best-chain headers after the first locator hash we know, at most `max`.
    ///
    /// # Errors
    /// Storage failures.
    fn headers_after(&self, locator: &[BlockHash], max: u32) -> Result<Vec<Header>, StoreError>;
    /// A stored block this node has not found invalid (what peers are served).
    ///
    /// # Errors
    /// Storage failures.
    fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError>;
    /// Pooled transactions in mining order (best ancestor fee rate first, parents before
    /// children), at most `max_count` of them and `max_bytes` encoded bytes together.
    fn pool_transactions(&self, max_count: usize, max_bytes: usize) -> Vec<Transaction>;
    /// The pooled transactions whose txid `select` picks (the ones a compact block announces).
    fn pool_matching(&self, select: &dyn Fn(&Txid) -> bool) -> Vec<Transaction>;
    /// How a compact block was rebuilt (for metrics; nothing by default).
    fn compact_block(&self, _outcome: CompactOutcome) {}
    /// A validly sealed header of a block that is not imported (it ends a branch lighter than
    /// ours): the node may still learn from it, e.g. that its producer double signed.
    fn saw_unimported_header(&self, _header: &Header) {}
    /// Imports a block received from a peer (blocking).
    fn import_block(&self, block: Block) -> BlockVerdict;
    /// Submits a transaction received from a peer (blocking).
    fn import_transaction(&self, tx: Transaction) -> TxVerdict;
    /// The node's clock, in Unix seconds (ban expiry).
    fn unix_now(&self) -> u64;
    /// Whether the node is stopping (the network's event loop ends).
    fn is_shutting_down(&self) -> bool;
    /// The number of connected peers changed (for metrics).
    fn peers_changed(&self, connected: usize);
    /// A dial failed (for metrics; nothing by default).
    fn dial_failed(&self) {}
    /// What became of a gossip transaction (for metrics; nothing by default).
    fn gossip_tx(&self, _outcome: GossipTx) {}
    /// Persisted peer records (bans, addresses) whose key starts with `prefix`.
    ///
    /// # Errors
    /// Storage failures.
    fn peer_records(&self, prefix: &[u8]) -> Result<PeerRecords, StoreError>;
    /// Stores a peer record.
    ///
    /// # Errors
    /// Storage failures.
    fn put_peer_record(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Deletes a peer record.
    ///
    /// # Errors
    /// Storage failures.
    fn delete_peer_record(&self, key: &[u8]) -> Result<(), StoreError>;
}

/// Something this node made (RPC, wallet, miner, producer) for the network to gossip.
#[derive(Debug, Clone)]
pub enum Announcement {
    /// Transactions accepted into the local pool together (one, or a batch's).
    Transactions(Vec<std::sync::Arc<Transaction>>),
    /// A block produced here and connected.
    Block(std::sync::Arc<Block>),
}

/// How a block announced compactly was rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactOutcome {
    /// Every transaction was in the pool (or sent whole).
    Complete,
    /// Some were missing and fetched from the relaying peer.
    Fetched,
    /// The block was fetched whole (a short-id collision, too many missing, a bad fill).
    Whole,
}

impl CompactOutcome {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            CompactOutcome::Complete => "complete",
            CompactOutcome::Fetched => "fetched",
            CompactOutcome::Whole => "whole",
        }
    }
}

/// What became of a transaction a peer gossiped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipTx {
    /// Verified and pooled.
    Accepted,
    /// Refused without blame (known, conflicting, policy).
    Ignored,
    /// Broke a consensus rule: its sender was penalised.
    Invalid,
    /// Never verified: its sender's queue was full, or the sender was banned first.
    Dropped,
}

impl GossipTx {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            GossipTx::Accepted => "accepted",
            GossipTx::Ignored => "ignored",
            GossipTx::Invalid => "invalid",
            GossipTx::Dropped => "dropped",
        }
    }
}
