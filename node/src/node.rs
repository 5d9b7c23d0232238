//! The node service: the chain and the mempool behind one lock discipline, block production,
//! and the operations that RPC handlers and the network (through [`crate::services`]) call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use i8o8i_chain::chain::{Chain, ChainOpenError, ImportError, ImportOutcome};
use i8o8i_chain::clock::{SharedClock, SystemClock};
use i8o8i_chain::mempool::{Checked, Mempool, MempoolError};
use i8o8i_chain::miner::{build_template, pow_template, solve};
use i8o8i_chain::store::Store;
use i8o8i_config::{AssumeValid, NodeConfig};
use i8o8i_primitives::{Amount, Block, BlockHash, Seal, StoreError, Transaction, Txid};
use i8o8i_runtime::consensus::{ScheduledEngine, SlotEngine};
use i8o8i_runtime::randomness;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::staking::key_script;
use i8o8i_script_vm::ScriptBuf;

/// Where a transaction or block came from: the network relays what is local and lets gossip
/// forward what came from peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// RPC, the wallet or the miner of this node.
    Local,
    /// A peer.
    Peer,
}

/// A transaction the mempool took, with its fee.
#[derive(Debug, Clone)]
pub struct AcceptedTx {
    /// The transaction.
    pub tx: Arc<Transaction>,
    /// Its fee.
    pub fee: Amount,
}

/// What the node tells its services (the network, RPC subscriptions) about.
#[derive(Debug, Clone)]
pub enum NodeEvent {
    /// Transactions entered the mempool: one, or those of a `tx_submitBatch` run together (one
    /// event for hundreds keeps a busy subscriber, the network among them, from lagging
    /// behind and missing some).
    TxsAccepted {
        /// The transactions, in the order they were admitted.
        txs: Arc<[AcceptedTx]>,
        /// Where they came from.
        origin: Origin,
    },
    /// A block was stored and is now part of the best chain.
    BlockConnected {
        /// The block.
        block: Arc<Block>,
        /// Where it came from.
        origin: Origin,
    },
    /// A reorganisation took a block out of the best chain (sent before the blocks that
    /// replace it are connected).
    BlockDisconnected {
        /// The block.
        block: Arc<Block>,
        /// The contract events it had emitted, now undone.
        events: Arc<Vec<i8o8i_chain::store::EventRecord>>,
    },
}

/// Capacity of the event channel; a receiver lagging further behind misses events (and is told).
const EVENT_BUFFER: usize = 4096;

/// A running node's state.
pub struct Node {
    config: NodeConfig,
    data_dir: PathBuf,
    chain: Arc<Chain>,
    /// The pool. Held only for pool operations, never across block validation or a store
    /// scan (lock order: `import`, then the chain's own locks, then `mempool`; see
    /// `docs/layout.md`, Locks).
    mempool: Mutex<Mempool>,
    /// Serialises "import a block, then bring the pool in line with the new tip", so that
    /// pool updates apply in the order the tip moved.
    import: Mutex<()>,
    started: Instant,
    extra_nonce: AtomicU64,
    shutdown: AtomicBool,
    events: tokio::sync::broadcast::Sender<NodeEvent>,
    network: std::sync::OnceLock<i8o8i_network::NetworkHandle>,
    metrics: crate::metrics::NodeMetrics,
    /// Blocks from peers that arrived before their time on this node's clock, keyed by when
    /// they become importable: retried then, so a clock a few seconds slow follows the chain
    /// instead of refusing it.
    early: Mutex<BTreeMap<(u64, BlockHash), Block>>,
    /// Turns for submitted transactions' admission work on blocking threads, one per core.
    /// Unbounded, a client with 64 `tx_submitBatch` calls in flight past what the node can
    /// verify had 64 threads contend for the pool lock and the cores, and the miner thread,
    /// one among them, made blocks 6 to 34 s apart on a 1-second chain.
    admission: Arc<tokio::sync::Semaphore>,
}

/// Most early blocks held at once; more are dropped (the sender is not at fault, and sync
/// fetches them again once they are due).
pub const MAX_EARLY_BLOCKS: usize = 64;

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("data_dir", &self.data_dir)
            .field("chain", &self.chain)
            .finish()
    }
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store failed to open or is of another chain.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The chain could not be opened over the store.
    #[error("{0}")]
    Chain(#[from] ChainOpenError),
    /// The stored state does not hash to the tip's state root (`storage.verify_state`).
    #[error(
        "the state in this data directory does not match its tip's state root (height {height}: \
         committed {committed}, the state hashes to {recomputed}): it was changed outside the \
         node or damaged; delete the data directory and sync again"
    )]
    StateMismatch {
        /// Height of the tip.
        height: u64,
        /// The root committed when the tip connected.
        committed: i8o8i_primitives::Hash256,
        /// The root of the state as it is now.
        recomputed: i8o8i_primitives::Hash256,
    },
}

impl Node {
    /// Opens (or creates) the node's state in `data_dir` for `spec`.
    ///
    /// # Errors
    /// [`StartError`] if the directory or the database cannot be used.
    pub fn open(
        config: NodeConfig,
        spec: ChainSpec,
        data_dir: &Path,
    ) -> Result<Arc<Node>, StartError> {
        Node::open_with_clock(config, spec, data_dir, SystemClock::new().shared())
    }

    /// As [`Node::open`], with `clock` as the node's idea of the time (tests run nodes with
    /// skewed clocks this way).
    ///
    /// # Errors
    /// [`StartError`] if the directory or the database cannot be used.
    pub fn open_with_clock(
        config: NodeConfig,
        spec: ChainSpec,
        data_dir: &Path,
        clock: SharedClock,
    ) -> Result<Arc<Node>, StartError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.into(),
            source,
        })?;
        let store = Arc::new(Store::open_with_cache(
            &data_dir.join("chaindata"),
            config.storage.cache_mb.bytes(),
        )?);
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut spec = spec;
        match config.assume_valid {
            AssumeValid::ChainSpec => {}
            AssumeValid::Off => spec.assume_valid = None,
            AssumeValid::Block(hash) => spec.assume_valid = Some(BlockHash::from_byte_array(hash)),
        }
        if let Some(block) = spec.assume_valid {
            tracing::info!(%block, "assuming the scripts of this block's ancestors valid while syncing");
        }
        let chain = Arc::new(Chain::open(store, spec, threads, clock)?);
        chain.set_prune(config.storage.prune.keep())?;
        if config.storage.verify_state {
            let started = Instant::now();
            let (height, committed, recomputed) = chain.store().recompute_state_root()?;
            if committed != recomputed {
                return Err(StartError::StateMismatch {
                    height,
                    committed,
                    recomputed,
                });
            }
            tracing::info!(height, root = %committed, elapsed = ?started.elapsed(), "state matches the tip's state root");
        }
        let tip = chain.tip();
        tracing::info!(chain = %chain.spec().name, genesis = %chain.genesis(), height = tip.header.height, tip = %tip.hash, "chain loaded");
        let mut mempool = Mempool::new(config.mempool.clone());
        mempool.set_tip(tip.hash);
        Ok(Arc::new(Node {
            mempool: Mutex::new(mempool),
            import: Mutex::new(()),
            config,
            data_dir: data_dir.to_owned(),
            chain,
            started: Instant::now(),
            extra_nonce: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            events: tokio::sync::broadcast::channel(EVENT_BUFFER).0,
            network: std::sync::OnceLock::new(),
            metrics: crate::metrics::NodeMetrics::default(),
            early: Mutex::new(BTreeMap::new()),
            admission: Arc::new(tokio::sync::Semaphore::new(threads)),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The chain.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Locks the mempool. Block import does not wait for it except to update the pool, so a
    /// caller pairing pool contents with chain state checks [`Mempool::tip`].
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &crate::metrics::NodeMetrics {
        &self.metrics
    }

    /// The receipts of `block`'s contract transactions, in block order (empty if the block is
    /// not in the best chain).
    pub fn receipts_of(&self, block: &Block) -> Vec<(Txid, i8o8i_primitives::contract::Receipt)> {
        block
            .transactions
            .iter()
            .filter(|tx| i8o8i_runtime::contract::payload_terms(tx).is_some())
            .filter_map(|tx| {
                let txid = tx.txid();
                match self.chain.store().receipt(&txid) {
                    Ok(r) => r.map(|r| (txid, r)),
                    Err(e) => {
                        tracing::warn!(%txid, error = %e, "cannot read receipt");
                        None
                    }
                }
            })
            .collect()
    }

    /// The network service, when it runs.
    pub fn network(&self) -> Option<&i8o8i_network::NetworkHandle> {
        self.network.get()
    }

    /// Attaches the network service (once, at start-up).
    pub fn set_network(&self, handle: i8o8i_network::NetworkHandle) {
        let _ = self.network.set(handle);
    }

    /// The node's clock, in Unix seconds (the chain's clock: one time for validation,
    /// production, mempool expiry and peer bans).
    pub fn unix_now(&self) -> u64 {
        self.chain.clock().unix_now()
    }

    /// Threads used for mining: `mining.threads`, or one per core when 0.
    pub fn mining_threads(&self) -> usize {
        match self.config.mining.threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n,
        }
    }

    /// Whether [`Node::shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Validates `tx` (a local one) and adds it to the mempool.
    ///
    /// # Errors
    /// [`MempoolError`] with the reason.
    pub fn submit_transaction(&self, tx: Transaction) -> Result<Txid, MempoolError> {
        self.submit_transaction_from(tx, Origin::Local)
    }

    /// Validates `tx` from `origin` and adds it to the mempool.
    ///
    /// # Errors
    /// [`MempoolError`] with the reason.
    pub fn submit_transaction_from(
        &self,
        tx: Transaction,
        origin: Origin,
    ) -> Result<Txid, MempoolError> {
        let checked = self.check_transaction(tx)?;
        self.verify_and_admit(checked, origin)
    }

    /// The cheap part of accepting `tx`: every mempool check but its scripts, under the pool
    /// lock. [`Checked::sigops`] says what verifying it will cost, so a caller on an async
    /// worker can move an expensive one to a blocking thread for [`Node::verify_and_admit`].
    ///
    /// # Errors
    /// [`MempoolError`] with the reason.
    pub fn check_transaction(&self, tx: Transaction) -> Result<Checked, MempoolError> {
        self.mempool().check(tx, &*self.chain)
    }

    /// Verifies the scripts of a [`Node::check_transaction`]ed transaction without the pool
    /// lock (so that submissions verify in parallel), then admits it under the lock; `admit`
    /// re-checks what may have changed meanwhile.
    ///
    /// # Errors
    /// [`MempoolError`] with the reason.
    pub fn verify_and_admit(
        &self,
        mut checked: Checked,
        origin: Origin,
    ) -> Result<Txid, MempoolError> {
        checked.verify_scripts(&self.chain.chain_id())?;
        let mut pool = self.mempool();
        let now = self.unix_now();
        pool.expire(now);
        let mut accepted = Vec::with_capacity(1);
        let txid = self.admit(&mut pool, checked, now, &mut accepted)?;
        drop(pool);
        self.announce(accepted, origin);
        Ok(txid)
    }

    /// Waits for a turn to run admission work (a batch, or a transaction with many signature
    /// checks) on a blocking thread; the turn ends when the permit is dropped. Callers queue
    /// here, on no thread, instead of on the cores the miner needs.
    pub async fn admission_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        // The semaphore is never closed.
        self.admission.clone().acquire_owned().await.ok()
    }

    /// Validates `txs` in order and adds those that pass to the mempool, one result per
    /// transaction. A transaction may spend outputs of those before it in the batch. The pool
    /// lock is taken once per run of independent transactions rather than once per
    /// transaction, and their scripts verify on every core in between: what lets one client
    /// submit thousands a second (`tx_submitBatch`).
    pub fn submit_batch(
        &self,
        txs: Vec<Transaction>,
        origin: Origin,
    ) -> Vec<Result<Txid, MempoolError>> {
        let mut results = Vec::with_capacity(txs.len());
        let mut run = Vec::new();
        let mut in_run = std::collections::HashSet::new();
        for tx in txs {
            // A child must see its parent pooled when it is checked: its parent's run ends
            // before it.
            if tx.inputs.iter().any(|i| in_run.contains(&i.prevout.txid)) {
                results.extend(self.submit_run(std::mem::take(&mut run), origin));
                in_run.clear();
            }
            in_run.insert(tx.txid());
            run.push(tx);
        }
        results.extend(self.submit_run(run, origin));
        results
    }

    /// [`Node::submit_batch`] for transactions none of which spends another's outputs.
    fn submit_run(&self, txs: Vec<Transaction>, origin: Origin) -> Vec<Result<Txid, MempoolError>> {
        if txs.is_empty() {
            return Vec::new();
        }
        let mut checked: Vec<Result<Checked, MempoolError>> = {
            let pool = self.mempool();
            txs.into_iter()
                .map(|tx| pool.check(tx, &*self.chain))
                .collect()
        };
        let chain_id = self.chain.chain_id();
        self.chain.for_each_parallel(&mut checked, |result| {
            if let Ok(c) = result
                && let Err(e) = c.verify_scripts(&chain_id)
            {
                *result = Err(e.into());
            }
        });
        let mut pool = self.mempool();
        let now = self.unix_now();
        pool.expire(now);
        let mut accepted = Vec::with_capacity(checked.len());
        let results = checked
            .into_iter()
            .map(|c| self.admit(&mut pool, c?, now, &mut accepted))
            .collect();
        drop(pool);
        self.announce(accepted, origin);
        results
    }

    /// Admits a verified transaction under the pool lock, adding it to `accepted`.
    fn admit(
        &self,
        pool: &mut Mempool,
        checked: Checked,
        now: u64,
        accepted: &mut Vec<AcceptedTx>,
    ) -> Result<Txid, MempoolError> {
        let txid = pool.admit(checked, &*self.chain, now)?;
        if let Some(entry) = pool.get(&txid) {
            accepted.push(AcceptedTx {
                tx: entry.tx.clone(),
                fee: entry.fee,
            });
        }
        tracing::debug!(%txid, "transaction accepted to mempool");
        Ok(txid)
    }

    /// Tells the services (the network, RPC subscriptions) what the pool took, in one event.
    fn announce(&self, accepted: Vec<AcceptedTx>, origin: Origin) {
        if accepted.is_empty() {
            return;
        }
        // No receiver is not an error: nothing listens on a node without network or RPC
        // subscriptions.
        let _ = self.events.send(NodeEvent::TxsAccepted {
            txs: accepted.into(),
            origin,
        });
    }

    /// Imports `block` (a local one) and brings the mempool in line with the new tip.
    ///
    /// # Errors
    /// [`ImportError`] if the block was refused before being stored.
    pub fn submit_block(&self, block: Block) -> Result<ImportOutcome, ImportError> {
        self.submit_block_from(block, Origin::Local)
    }

    /// Holds a block from a peer that is early on this clock (up to [`MAX_EARLY_BLOCKS`], and
    /// only if due within `max_future_block_time`) for [`Node::import_due_blocks`].
    fn hold_early(&self, block: Block, ready_at: u64) {
        let horizon = self
            .unix_now()
            .saturating_add(self.chain.spec().max_future_block_time);
        let mut early = self.early.lock().unwrap_or_else(|p| p.into_inner());
        if ready_at <= horizon && early.len() < MAX_EARLY_BLOCKS {
            tracing::debug!(hash = %block.header.hash(), ready_at, "early block held");
            early.insert((ready_at, block.header.hash()), block);
        }
    }

    /// Imports the held early blocks that are now due on this node's clock, oldest first.
    pub fn import_due_blocks(&self) {
        let now = self.unix_now();
        loop {
            let due = {
                let mut early = self.early.lock().unwrap_or_else(|p| p.into_inner());
                match early.first_key_value() {
                    Some(((ready_at, _), _)) if *ready_at <= now => early.pop_first(),
                    _ => None,
                }
            };
            let Some(((_, hash), block)) = due else {
                return;
            };
            if let Err(e) = self.submit_block_from(block, Origin::Peer) {
                tracing::debug!(%hash, error = %e, "held block not imported");
            }
        }
    }

    /// Blocks held until they are due.
    pub fn early_blocks(&self) -> usize {
        self.early.lock().map_or(0, |e| e.len())
    }

    /// Imports `block` from `origin` and brings the mempool in line with the new tip. A
    /// peer's block from the future on this clock is held and imported when due (the error
    /// still says [`ImportError::Early`]).
    ///
    /// # Errors
    /// [`ImportError`] if the block was refused before being stored.
    pub fn submit_block_from(
        &self,
        block: Block,
        origin: Origin,
    ) -> Result<ImportOutcome, ImportError> {
        if origin == Origin::Peer
            && let Some((error, ready_at)) = self.chain.early(&block.header)
        {
            let hash = block.header.hash();
            self.hold_early(block, ready_at);
            return Err(ImportError::Early {
                hash,
                error,
                ready_at,
            });
        }
        let importing = self.import.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        let outcome = match self.chain.import_block(block) {
            Ok(outcome) => outcome,
            Err(e) => {
                // A storage fault can stop a reorganisation half way, with the tip moved: the
                // pool is brought in line with wherever the tip is, or it would stay behind it
                // (and readers pairing it with the store would wait for it in vain).
                let mut pool = self.mempool();
                if pool.tip() != Some(self.chain.tip().hash) {
                    pool.reorganised(&[], &[], &*self.chain, self.unix_now());
                }
                return Err(e);
            }
        };
        let elapsed = started.elapsed();
        let mut pool = self.mempool();
        if outcome.disconnected.is_empty() {
            for b in &outcome.connected {
                pool.block_connected(b);
            }
        } else {
            tracing::info!(
                disconnected = outcome.disconnected.len(),
                connected = outcome.connected.len(),
                "chain reorganised"
            );
            pool.reorganised(
                &outcome.disconnected,
                &outcome.connected,
                &*self.chain,
                self.unix_now(),
            );
        }
        drop(pool);
        drop(importing);
        self.metrics.imported(
            outcome.connected.len(),
            outcome.disconnected.len(),
            elapsed,
            outcome.contract_gas,
        );
        for (b, events) in outcome
            .disconnected
            .iter()
            .zip(&outcome.disconnected_events)
        {
            let _ = self.events.send(NodeEvent::BlockDisconnected {
                block: Arc::new(b.clone()),
                events: Arc::new(events.clone()),
            });
        }
        for b in &outcome.connected {
            let _ = self.events.send(NodeEvent::BlockConnected {
                block: Arc::new(b.clone()),
                origin,
            });
        }
        if let Some(b) = outcome.connected.last() {
            tracing::info!(height = b.header.height, hash = %b.header.hash(), txs = b.transactions.len(), "new tip");
        }
        Ok(outcome)
    }

    /// Mines `count` blocks paying `payout` now, each on the previous, and returns their hashes.
    ///
    /// # Errors
    /// [`ImportError`] if a mined block is refused (a bug), or mining was interrupted.
    pub fn generate(
        &self,
        count: u32,
        payout: &ScriptBuf,
        threads: usize,
    ) -> Result<Vec<BlockHash>, ImportError> {
        let mut hashes = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let Some(block) = self.mine_one(payout, threads, &self.shutdown) else {
                break;
            };
            let hash = block.header.hash();
            let outcome = self.submit_block(block)?;
            if let Some((_, error)) = outcome.invalid.into_iter().find(|(h, _)| *h == hash) {
                return Err(ImportError::Invalid {
                    hash,
                    error: Box::new(error),
                });
            }
            hashes.push(hash);
        }
        Ok(hashes)
    }

    /// Builds a template and searches its nonce; `None` if `stop` was set or the tip moved.
    /// `None` too when the next height is not proof of work.
    pub fn mine_one(&self, payout: &ScriptBuf, threads: usize, stop: &AtomicBool) -> Option<Block> {
        let template = {
            let pool = self.mempool();
            let extra = self.extra_nonce.fetch_add(1, Ordering::Relaxed);
            pow_template(&self.chain, &pool, payout, extra, self.unix_now())?
        };
        solve(&self.chain, template, threads, stop)
    }

    /// The block this node's `secret` key would seal in `slot` on the current tip, if the key
    /// is the slot's producer and the slot can still hold a block (after the parent's slot,
    /// with a time after the median time past). The block is signed and not yet imported.
    ///
    /// # Errors
    /// Storage failures, or a slot engine with nobody to draw from.
    pub fn produce_in_slot(
        &self,
        engine: &SlotEngine,
        slot: u64,
        secret: &secp256k1::SecretKey,
    ) -> Result<Option<Block>, StoreError> {
        let pubkey = secp256k1::PublicKey::from_secret_key(secret).serialize();
        let tip = self.chain.tip();
        let entry = self.chain.spec().engine_at(tip.header.height + 1);
        if let Seal::Producer { slot: parent, .. } = tip.header.seal
            && tip.header.height >= entry.from_height
            && parent >= slot
        {
            return Ok(None);
        }
        if self.chain.slot_producer(&tip, slot)? != Some(pubkey) {
            return Ok(None);
        }
        let mtp = self
            .chain
            .median_time_past(&tip.hash)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        let start = engine.slot_start(slot);
        let time = start.max(mtp + 1);
        if time >= start.saturating_add(engine.slot_secs()) {
            return Ok(None);
        }
        let seal = Seal::Producer {
            slot,
            pubkey,
            signature: Vec::new(),
        };
        // The next value of this key's hash chain (or a new commitment): the only
        // contribution to the seeds this block can make.
        let record = randomness::record_of(&self.chain.tip_state(), &pubkey)?;
        let contribution = randomness::next_contribution(
            &secret.to_secret_bytes(),
            record.as_ref(),
            tip.header.height + 1,
        )
        .to_bytes();
        let mut block = {
            let pool = self.mempool();
            let payout = key_script(&pubkey);
            build_template(&self.chain, tip, &pool, &payout, &contribution, time, seal).block
        };
        SlotEngine::seal(&mut block.header, slot, secret);
        Ok(Some(block))
    }

    /// Produces blocks with `secret` until [`Node::shutdown`]: mines under proof of work
    /// (paying the key's address), and under PoS / DPoS seals a block in each slot the key
    /// is drawn for.
    pub fn run_producer(
        self: Arc<Self>,
        secret: secp256k1::SecretKey,
        threads: usize,
        pace: Option<u64>,
    ) {
        let pubkey = secp256k1::PublicKey::from_secret_key(&secret).serialize();
        tracing::info!(key = %hex::encode(pubkey), "block production started");
        let payout = key_script(&pubkey);
        let mut last_slot = None;
        let mut pace = Pace::new(pace, self.chain.tip().hash);
        while !self.shutdown.load(Ordering::Relaxed) {
            let tip = self.chain.tip();
            match self.chain.schedule().at(tip.header.height + 1) {
                ScheduledEngine::Pow(_) => {
                    if !pace.due(tip.hash) {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        continue;
                    }
                    let started = Instant::now();
                    if let Some(block) = self.mine_one(&payout, threads, &self.shutdown) {
                        let hash = block.header.hash();
                        if self.submit_own(block, started) {
                            pace.mined(hash, started);
                        }
                    }
                }
                ScheduledEngine::Slot(engine) => {
                    let slot = engine.slot_of(self.unix_now());
                    if last_slot.is_some_and(|s| s >= slot) {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        continue;
                    }
                    let started = Instant::now();
                    match self.produce_in_slot(engine, slot, &secret) {
                        Ok(Some(block)) => {
                            self.submit_own(block, started);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, slot, "cannot produce"),
                    }
                    last_slot = Some(slot);
                }
            }
        }
        tracing::info!("block production stopped");
    }

    /// Mines continuously until [`Node::shutdown`], on dev chains (whose difficulty never
    /// rises) at the `pace` of one block every so many seconds ([`Pace`]).
    pub fn run_miner(self: Arc<Self>, payout: ScriptBuf, threads: usize, pace: Option<u64>) {
        tracing::info!(threads, ?pace, "mining started");
        let mut pace = Pace::new(pace, self.chain.tip().hash);
        while !self.shutdown.load(Ordering::Relaxed) {
            if !pace.due(self.chain.tip().hash) {
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
            if self
                .chain
                .pow_engine_at(self.chain.tip().header.height + 1)
                .is_none()
            {
                // The schedule moved on to a stake engine: only `--produce` seals there.
                std::thread::sleep(std::time::Duration::from_millis(500));
                continue;
            }
            let started = Instant::now();
            if let Some(block) = self.mine_one(&payout, threads, &self.shutdown) {
                let hash = block.header.hash();
                if self.submit_own(block, started) {
                    pace.mined(hash, started);
                }
            }
        }
        tracing::info!("mining stopped");
    }

    /// Imports a block this node produced and says how it went: counted (and `true`) once it
    /// is on the best chain; a block that lost a race (the tip moved while it was made) is
    /// only logged.
    fn submit_own(&self, block: Block, started: Instant) -> bool {
        let hash = block.header.hash();
        let height = block.header.height;
        match self.submit_block(block) {
            Ok(outcome) if outcome.connected.iter().any(|b| b.header.hash() == hash) => {
                self.metrics.blocks_produced.inc();
                tracing::debug!(height, %hash, elapsed = ?started.elapsed(), "produced block");
                return true;
            }
            Ok(outcome) => match outcome.invalid.iter().find(|(h, _)| *h == hash) {
                Some((_, error)) => tracing::warn!(%error, height, "produced block refused"),
                None => tracing::debug!(height, %hash, "produced block is not on the best chain"),
            },
            Err(e) => tracing::warn!(error = %e, height, "produced block refused"),
        }
        false
    }

    /// Asks background work (the miner) to stop.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Relaxed);
    }
}

/// A dev chain's block pace: a block every `secs` seconds of local time (header times can run
/// ahead of the clock after a burst of `mining_generate`, because each must exceed the median
/// time past). The interval runs from when the tip's block was started if this node made it —
/// so the time taken to build and connect a block is part of the interval, as on a network
/// whose difficulty sets the pace — and from when it became the tip otherwise.
struct Pace {
    secs: Option<u64>,
    tip: BlockHash,
    since: Instant,
}

impl Pace {
    fn new(secs: Option<u64>, tip: BlockHash) -> Pace {
        Pace {
            secs,
            tip,
            since: Instant::now(),
        }
    }

    /// Whether the next block on `tip` is due.
    fn due(&mut self, tip: BlockHash) -> bool {
        if tip != self.tip {
            (self.tip, self.since) = (tip, Instant::now());
        }
        self.secs
            .is_none_or(|secs| self.since.elapsed() >= std::time::Duration::from_secs(secs))
    }

    /// This node's block `tip`, started at `started`, is the tip.
    fn mined(&mut self, tip: BlockHash, started: Instant) {
        (self.tip, self.since) = (tip, started);
    }
}
