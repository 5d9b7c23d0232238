//! The transaction pool: fully validated transactions waiting for a block, chains of
//! unconfirmed transactions included.
//!
//! Policy (not consensus): standard scripts only ([`standard`]), a minimum fee rate, full
//! replace-by-fee under Bitcoin Core's rules (a spend of a pooled transaction's input replaces
//! it and its descendants only by paying more, see [`MempoolError::ReplacementFeeTooLow`] and
//! the errors after it), Bitcoin Core's package limits (25 transactions / 101 kB of unconfirmed
//! ancestors and of descendants, see [`packages`]), a byte cap enforced by evicting the lowest
//! descendant score with its descendants, and expiry. Templates take packages by ancestor fee
//! rate (a child pays for its parent). Fee estimates read the pool's depth
//! ([`Mempool::fee_estimate`]). Blocks remove what they confirm and what conflicts with them; a
//! reorganisation puts the transactions of disconnected blocks back and re-validates the whole
//! pool.

use std::cell::{RefCell, RefMut};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use i8o8i_config::MempoolConfig;
use i8o8i_contract_engine::{StateKey, StateOverlay, gas};
use i8o8i_primitives::Coin;
use i8o8i_primitives::contract::{code_hash, contract_address};
use i8o8i_primitives::{
    Amount, Block, BlockHash, ContractAddress, Hash256, OutPoint, Payload, Transaction, TxOut, Txid,
};
use i8o8i_runtime::contract::{caller_script, check_payload_fee, payload_terms};
use i8o8i_runtime::error::TxError;
use i8o8i_runtime::script_cache;
use i8o8i_runtime::staking::{apply_staking, is_staking};
use i8o8i_runtime::state::{UtxoReader, check_tx_inputs, verify_tx_scripts};
use i8o8i_runtime::validation::{check_transaction, legacy_sigops};
use i8o8i_script_vm::{Script, sig_op_count};
use parity_scale_codec::Encode;

use crate::view::ChainView;

pub mod packages;
pub mod standard;

pub use standard::{NonStandard, check_standard};

pub use packages::{
    FeeRate, MAX_ANCESTOR_BYTES, MAX_ANCESTORS, MAX_DESCENDANT_BYTES, MAX_DESCENDANTS, Totals,
};

/// Why a transaction was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// Already in the pool or confirmed.
    #[error("transaction {0} is already known")]
    AlreadyKnown(Txid),
    /// Breaks a consensus rule.
    #[error("{0}")]
    Invalid(#[from] TxError),
    /// Valid, but of a shape relay policy does not carry ([`standard`]).
    #[error("not standard: {0}")]
    NonStandard(#[from] NonStandard),
    /// Spends what pooled transactions spend, without paying enough to replace them (BIP125
    /// rules 3 and 4: at least their fees, plus the minimum relay rate for its own size).
    #[error(
        "replacing {replaced} pooled transaction(s) that pay {replaced_fee} needs a fee of at least {required}; it pays {fee}"
    )]
    ReplacementFeeTooLow {
        /// Pooled transactions it would evict (its conflicts and their descendants).
        replaced: usize,
        /// What they pay together.
        replaced_fee: Amount,
        /// The least it must pay.
        required: Amount,
        /// What it pays.
        fee: Amount,
    },
    /// Spends what a pooled transaction spends at no better fee rate (BIP125 rule 6).
    #[error(
        "its fee rate must be higher than that of pooled transaction {conflict}, which spends the same output"
    )]
    ReplacementFeeRateTooLow {
        /// The conflicting transaction paying as well or better.
        conflict: Txid,
    },
    /// Would evict more pooled transactions than a replacement may (BIP125 rule 5).
    #[error(
        "a replacement may evict at most {max} pooled transactions; this one would evict {count}"
    )]
    TooManyReplacements {
        /// Its conflicts and their descendants.
        count: usize,
        /// [`MAX_REPLACEMENTS`].
        max: usize,
    },
    /// A replacement spending an unconfirmed output none of the replaced transactions spent
    /// (BIP125 rule 2).
    #[error(
        "a replacement may spend unconfirmed outputs only where the transactions it replaces did; {outpoint} is new"
    )]
    ReplacementNewUnconfirmedInput {
        /// The new unconfirmed input.
        outpoint: OutPoint,
    },
    /// A replacement spending an output of a transaction it would evict.
    #[error("it spends an output of {txid}, which it would replace")]
    ReplacementSpendsReplaced {
        /// The transaction both spent and replaced.
        txid: Txid,
    },
    /// Pays less than the minimum relay fee.
    #[error("fee {fee} is below the minimum {required} for {size} bytes")]
    FeeTooLow {
        /// Fee paid.
        fee: Amount,
        /// Minimum fee for its size.
        required: Amount,
        /// Its size.
        size: u64,
    },
    /// The pool is full of transactions paying a higher fee rate.
    #[error("mempool full: fee rate too low to enter")]
    Full,
    /// A call to an address where no contract is deployed (nor being deployed by a pool
    /// transaction).
    #[error("no contract at {0}")]
    UnknownContract(ContractAddress),
    /// An instantiation of code that is neither on chain nor uploaded by a pool transaction.
    #[error("no contract code with hash {0}")]
    UnknownCode(Hash256),
    /// It would have more unconfirmed ancestors than a package may.
    #[error("{count} transactions with its unconfirmed ancestors, more than {max}")]
    TooManyAncestors {
        /// It and its pooled ancestors.
        count: u64,
        /// [`MAX_ANCESTORS`].
        max: u64,
    },
    /// It and its unconfirmed ancestors are larger than a package may be.
    #[error("{size} bytes with its unconfirmed ancestors, more than {max}")]
    AncestorsTooLarge {
        /// Bytes of it and its pooled ancestors.
        size: u64,
        /// [`MAX_ANCESTOR_BYTES`].
        max: u64,
    },
    /// A pooled ancestor would have more descendants than a package may.
    #[error(
        "pooled transaction {ancestor} would have {count} descendants with itself, more than {max}"
    )]
    TooManyDescendants {
        /// The ancestor over the limit.
        ancestor: Txid,
        /// Its descendants with itself, this transaction included.
        count: u64,
        /// [`MAX_DESCENDANTS`].
        max: u64,
    },
    /// A pooled ancestor's descendants would be larger than a package may be.
    #[error(
        "pooled transaction {ancestor} would have {size} bytes of descendants with itself, more than {max}"
    )]
    DescendantsTooLarge {
        /// The ancestor over the limit.
        ancestor: Txid,
        /// Bytes of its descendants with itself, this transaction included.
        size: u64,
        /// [`MAX_DESCENDANT_BYTES`].
        max: u64,
    },
    /// More signature operations than relay policy allows one transaction (checked before any
    /// signature is verified).
    #[error("{count} signature operations, more than the {max} a pooled transaction may have")]
    TooManySigops {
        /// Counted: the scripts it spends (accurately, P2SH redeem scripts included), its
        /// input scripts and its outputs.
        count: usize,
        /// The policy limit.
        max: usize,
    },
}

/// Most pooled transactions one replacement may evict, counting its conflicts and their
/// descendants (Bitcoin Core's `MAX_REPLACEMENT_CANDIDATES`, BIP125 rule 5).
pub const MAX_REPLACEMENTS: usize = 100;

/// Most signature operations relay policy lets one transaction make validators run (Bitcoin
/// Core's `MAX_STANDARD_TX_SIGOPS_COST` of 16,000 is 4,000 legacy operations).
pub const MAX_STANDARD_TX_SIGOPS: usize = 4_000;

/// The signature operations spending `coins` with `tx` can cost: every spent script counted
/// accurately (a P2SH input by its redeem script, the last push of its input script), plus
/// `tx`'s own input and output scripts the legacy way.
pub fn policy_sigops(tx: &Transaction, coins: &[Coin]) -> usize {
    let spent: usize = tx
        .inputs
        .iter()
        .zip(coins)
        .map(|(input, coin)| {
            let script = &coin.output.script_pubkey;
            if script.is_p2sh() {
                let redeem = input
                    .script_sig
                    .instructions()
                    .filter_map(|i| i.ok().and_then(|i| i.push_data().map(<[u8]>::to_vec)))
                    .last()
                    .unwrap_or_default();
                sig_op_count(Script::from_bytes(&redeem), true)
            } else {
                sig_op_count(script, true)
            }
        })
        .fold(0usize, usize::saturating_add);
    spent.saturating_add(legacy_sigops(tx))
}

/// A pooled transaction.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The transaction.
    pub tx: Arc<Transaction>,
    /// Its fee.
    pub fee: Amount,
    /// Encoded size in bytes.
    pub size: u64,
    /// Arrival time (UNIX seconds).
    pub time: u64,
    /// Arrival order.
    seq: u64,
    /// The contract address a deploy creates.
    deploys: Option<ContractAddress>,
    /// The coins it spends, as verified: a staking transaction's authorisation when it is
    /// replayed over the tip's ledger, and what lets a reorganisation re-admit it without
    /// running its scripts again when they are unchanged.
    coins: Arc<[Coin]>,
    /// Its pooled parents and children and the totals of its package.
    links: packages::Links,
}

impl Entry {
    /// The coins it spends, as verified.
    pub fn coins(&self) -> &[Coin] {
        &self.coins
    }

    /// Fee rate in thousandths of a base unit per byte, rounded down.
    pub fn fee_rate_milli(&self) -> u64 {
        self.own().rate().milli_per_byte()
    }
}

/// What a pooled transaction does to some scripts ([`Mempool::touching`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PooledTouch {
    /// The transaction.
    pub txid: Txid,
    /// What it pays them.
    pub received: Amount,
    /// What their coins it spends held.
    pub sent: Amount,
    /// When it arrived (UNIX seconds).
    pub time: u64,
}

/// What [`Mempool::fee_estimate`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeEstimate {
    /// Base units per byte.
    pub fee_rate: u64,
    /// Whether the pool set it (it holds more than the target's blocks); otherwise it is the
    /// pool's minimum.
    pub from_pool: bool,
}

/// A transaction that passed every mempool check except its scripts, with the coins it
/// spends as seen at the tip it was checked against.
#[derive(Debug, Clone)]
pub struct Checked {
    txid: Txid,
    tx: Transaction,
    coins: Vec<Coin>,
    fee: Amount,
    size: u64,
    sigops: usize,
    tip: BlockHash,
    /// Pooled transactions spending what it spends.
    conflicts: BTreeSet<Txid>,
    /// Those with their descendants: what admitting it evicts.
    replaces: BTreeSet<Txid>,
    /// Its scripts verified against `coins` ([`Checked::verify_scripts`]): only then does
    /// admitting it vouch for them in the chain's script cache.
    scripts_verified: bool,
}

impl Checked {
    /// Runs its scripts against the coins it spends (the expensive part of admission, done
    /// without the pool lock).
    ///
    /// # Errors
    /// [`TxError::Script`] for the first failing input.
    pub fn verify_scripts(&mut self, chain_id: &Hash256) -> Result<(), TxError> {
        verify_tx_scripts(&self.tx, &self.coins, chain_id)?;
        self.scripts_verified = true;
        Ok(())
    }

    /// The pooled transactions admitting it would evict: those spending what it spends, with
    /// their descendants (empty unless it is a replacement).
    pub fn replaces(&self) -> &BTreeSet<Txid> {
        &self.replaces
    }

    /// The signature operations its scripts may run (what [`MAX_STANDARD_TX_SIGOPS`] bounds):
    /// what verifying it will cost.
    pub fn sigops(&self) -> usize {
        self.sigops
    }

    /// The transaction.
    pub fn tx(&self) -> &Transaction {
        &self.tx
    }

    /// The coins it spends, one per input.
    pub fn coins(&self) -> &[Coin] {
        &self.coins
    }
}

/// Summary for `mempool_getInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolInfo {
    /// Transactions.
    pub count: usize,
    /// Their encoded bytes.
    pub bytes: u64,
    /// Their fees.
    pub total_fee: Amount,
}

/// The pool.
#[derive(Debug)]
pub struct Mempool {
    config: MempoolConfig,
    entries: HashMap<Txid, Entry>,
    /// Which pooled transaction spends each outpoint.
    spent_by: HashMap<OutPoint, Txid>,
    /// Mining and eviction order.
    indexes: packages::Indexes,
    /// (arrival time, arrival order): expiry order, so expiring never scans the pool.
    by_time: BTreeSet<(u64, u64, Txid)>,
    bytes: u64,
    next_seq: u64,
    /// The tip the pool was last brought in line with: a reader that pairs pool contents with
    /// a store snapshot checks that they are of one tip.
    tip: Option<BlockHash>,
    /// Pooled staking transactions by arrival.
    staking: BTreeMap<u64, Txid>,
    /// The tip's staking ledger with the pooled staking transactions applied, kept between
    /// submissions so that each one applies only what arrived since, instead of replaying the
    /// whole pool over a fresh ledger (quadratic in pooled staking transactions). Dropped when
    /// a staking transaction leaves the pool or the tip moves.
    staking_view: RefCell<Option<StakingView>>,
    /// The last blocks connected, newest last: bytes of their pooled transactions and the
    /// lowest fee rate among them (milli-units per byte), for [`Mempool::fee_estimate`].
    recent_blocks: std::collections::VecDeque<(u64, u64)>,
}

/// How many recent blocks [`Mempool::fee_estimate`] reads.
const RECENT_BLOCKS: usize = 6;

/// See [`Mempool::staking_view`].
#[derive(Debug)]
struct StakingView {
    tip: BlockHash,
    height: u64,
    /// Staking transactions of arrival order below this are applied.
    applied: u64,
    /// The records they changed, over the tip's state.
    state: StateOverlay,
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: MempoolConfig) -> Mempool {
        Mempool {
            config,
            entries: HashMap::new(),
            spent_by: HashMap::new(),
            indexes: packages::Indexes::default(),
            by_time: BTreeSet::new(),
            bytes: 0,
            next_seq: 0,
            tip: None,
            staking: BTreeMap::new(),
            staking_view: RefCell::new(None),
            recent_blocks: std::collections::VecDeque::with_capacity(RECENT_BLOCKS + 1),
        }
    }

    /// The tip the pool is in line with (set by [`Mempool::set_tip`], [`Mempool::block_connected`]
    /// and [`Mempool::reorganised`]).
    pub fn tip(&self) -> Option<BlockHash> {
        self.tip
    }

    /// Records that the pool is in line with `tip` (at start-up).
    pub fn set_tip(&mut self, tip: BlockHash) {
        self.tip = Some(tip);
    }

    /// Minimum fee rate in base units per byte.
    pub fn min_fee_rate(&self) -> u64 {
        self.config.min_fee_rate
    }

    /// The entry for `txid`.
    pub fn get(&self, txid: &Txid) -> Option<&Entry> {
        self.entries.get(txid)
    }

    /// Every pooled transaction, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&Txid, &Entry)> {
        self.entries.iter()
    }

    /// Whether `outpoint` is spent by a pooled transaction.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spent_by.get(outpoint).copied()
    }

    /// Summary numbers.
    pub fn info(&self) -> PoolInfo {
        let total_fee =
            Amount::checked_sum(self.entries.values().map(|e| e.fee)).unwrap_or(Amount::MAX);
        PoolInfo {
            count: self.entries.len(),
            bytes: self.bytes,
            total_fee,
        }
    }

    /// Every pooled txid in mining order: best ancestor fee rate first, parents before
    /// children.
    pub fn txids_in_mining_order(&self) -> Vec<Txid> {
        self.mining_order(u64::MAX, u64::MAX, usize::MAX, usize::MAX)
            .0
    }

    /// The fee rate (base units per byte) a transaction needs to be mined within `target`
    /// blocks of `block_bytes` each. Two signals, the higher wins:
    /// - the pool's depth (Electrum's method): in ancestor-score order (mining order before
    ///   templates discount what they already took), the package whose bytes cross
    ///   `target × block_bytes` sets the bar, one unit per byte above its rate;
    /// - recent blocks: if most of the last six were full, one unit above the median of the
    ///   lowest rate each of them included — what kept the rest out while arrivals outpaced
    ///   blocks, which the depth alone misses (it assumes nothing more arrives).
    ///
    /// Never below the pool's minimum. On the simulated market of `examples/fee_market.rs`,
    /// 89.1 % of transactions paying it are mined within their target (39.7 % with the depth
    /// alone). Bitcoin Core's `estimatesmartfee` learns from how long pooled transactions took
    /// to confirm, which needs hours of history before it answers; this answers at once.
    pub fn fee_estimate(&self, target: u32, block_bytes: u64) -> FeeEstimate {
        let depth = block_bytes.saturating_mul(u64::from(target.max(1)));
        let minimum = self.min_fee_rate();
        // Recent full blocks: what their cheapest pooled transaction paid is what kept the
        // others out (a pool that is filling faster than blocks empty it).
        let full: Vec<u64> = self
            .recent_blocks
            .iter()
            .filter(|(bytes, _)| bytes.saturating_mul(100) >= block_bytes.saturating_mul(95))
            .map(|(_, lowest)| *lowest)
            .collect();
        let recent = if full.len() * 2 > self.recent_blocks.len() {
            let mut sorted = full;
            sorted.sort_unstable();
            sorted[sorted.len() / 2] / 1_000 + 1
        } else {
            0
        };
        // A public call on the pool lock: walk the ancestor-score index only as deep as the
        // target (the order templates start from), never building a whole mining order.
        let crossing = if self.bytes > depth {
            let mut ahead = 0u64;
            self.indexes
                .by_ancestor_score
                .iter()
                .find(|(_, _, txid)| {
                    ahead = ahead.saturating_add(self.entries[txid].size);
                    ahead > depth
                })
                .map(|(Reverse(rate), _, _)| rate.milli_per_byte() / 1_000 + 1)
        } else {
            None
        };
        FeeEstimate {
            fee_rate: crossing.unwrap_or(0).max(recent).max(minimum),
            from_pool: crossing.is_some(),
        }
    }

    /// Pooled outputs whose script `pays` accepts (unconfirmed receipts) that no pooled
    /// transaction spends, in outpoint order: one pass over the pool for any number of scripts.
    pub fn outputs_paying(&self, pays: impl Fn(&Script) -> bool) -> Vec<(OutPoint, TxOut)> {
        let mut out: Vec<_> = self
            .entries
            .iter()
            .flat_map(|(txid, e)| {
                e.tx.outputs
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| pays(o.script_pubkey.as_script()))
                    .map(|(i, o)| {
                        (
                            OutPoint {
                                txid: *txid,
                                index: i as u32,
                            },
                            o.clone(),
                        )
                    })
            })
            .filter(|(op, _)| !self.spent_by.contains_key(op))
            .collect();
        out.sort_unstable_by_key(|(op, _)| *op);
        out
    }

    /// Pooled transactions that pay or spend a script `touches` accepts, newest arrival
    /// first: each with what it pays those scripts and what their coins it spends held.
    pub fn touching(&self, touches: impl Fn(&Script) -> bool) -> Vec<PooledTouch> {
        // What the outputs among `outs` locked by a touched script hold, if there are any.
        let sum = |outs: &mut dyn Iterator<Item = &TxOut>| {
            outs.filter(|o| touches(o.script_pubkey.as_script()))
                .map(|o| o.value)
                .fold(None, |a: Option<Amount>, v| {
                    Some(
                        a.unwrap_or(Amount::ZERO)
                            .checked_add(v)
                            .unwrap_or(Amount::MAX),
                    )
                })
        };
        let mut out: Vec<(u64, PooledTouch)> = self
            .entries
            .iter()
            .filter_map(|(txid, e)| {
                let received = sum(&mut e.tx.outputs.iter());
                let sent = sum(&mut e.coins.iter().map(|c| &c.output));
                (received.is_some() || sent.is_some()).then(|| {
                    let touch = PooledTouch {
                        txid: *txid,
                        received: received.unwrap_or(Amount::ZERO),
                        sent: sent.unwrap_or(Amount::ZERO),
                        time: e.time,
                    };
                    (e.seq, touch)
                })
            })
            .collect();
        out.sort_unstable_by_key(|(seq, _)| Reverse(*seq));
        out.into_iter().map(|(_, t)| t).collect()
    }

    /// Pooled transactions spending what `tx` spends (what it would replace directly).
    fn conflicts(&self, tx: &Transaction) -> BTreeSet<Txid> {
        tx.inputs
            .iter()
            .filter_map(|i| self.spent_by.get(&i.prevout).copied())
            .collect()
    }

    /// The coins `tx` spends, from the chain or from pooled parents.
    fn input_coins(
        &self,
        tx: &Transaction,
        utxos: &dyn UtxoReader,
        next_height: u64,
    ) -> Result<Vec<Coin>, MempoolError> {
        let mut coins = Vec::with_capacity(tx.inputs.len());
        for input in &tx.inputs {
            let op = input.prevout;
            let coin = match self.entries.get(&op.txid) {
                Some(parent) => parent.tx.outputs.get(op.index as usize).map(|o| Coin {
                    output: o.clone(),
                    height: next_height,
                    coinbase: false,
                }),
                None => utxos.coin(&op).map_err(TxError::Storage)?,
            };
            coins.push(coin.ok_or(TxError::MissingInput(op))?);
        }
        Ok(coins)
    }

    /// Validates `tx` against the chain tip and the pool and adds it.
    ///
    /// # Errors
    /// [`MempoolError`] saying why it was refused.
    pub fn accept(
        &mut self,
        tx: Transaction,
        chain: &impl ChainView,
        now: u64,
    ) -> Result<Txid, MempoolError> {
        let mut checked = self.check(tx, chain)?;
        checked.verify_scripts(&chain.chain_id())?;
        self.admit(checked, chain, now)
    }

    /// Every check of [`Mempool::accept`] except the scripts, which are the expensive part:
    /// the node's `submit_transaction` runs them without holding the pool, then hands
    /// the result to [`Mempool::admit`].
    ///
    /// # Errors
    /// [`MempoolError`] saying why it was refused.
    pub fn check(&self, tx: Transaction, chain: &impl ChainView) -> Result<Checked, MempoolError> {
        let txid = tx.txid();
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::AlreadyKnown(txid));
        }
        check_transaction(&tx, chain.spec())?;
        if tx.is_coinbase() {
            return Err(TxError::UnexpectedCoinbase.into());
        }
        check_standard(&tx)?;
        let tip = chain.tip();
        let next_height = tip.header.height + 1;
        // A confirmed transaction spent its inputs, so only a transaction with an input
        // missing can be one; asking the transaction index only then (Bitcoin Core's
        // `PreChecks` order) spares admission an index lookup per transaction, almost always
        // for an id that is not there.
        let coins = match self.input_coins(&tx, chain.utxos(), next_height) {
            Err(MempoolError::Invalid(TxError::MissingInput(_)))
                if chain.is_confirmed(&txid).map_err(TxError::Storage)? =>
            {
                return Err(MempoolError::AlreadyKnown(txid));
            }
            coins => coins?,
        };
        let size = tx.encoded_size() as u64;
        self.ancestors_of(&self.pooled_parents(&tx), size)?;
        // Before anything verifies a signature: a script that makes validators run thousands
        // of them for one input is refused for what it would cost.
        let sigops = policy_sigops(&tx, &coins);
        if sigops > MAX_STANDARD_TX_SIGOPS {
            return Err(MempoolError::TooManySigops {
                count: sigops,
                max: MAX_STANDARD_TX_SIGOPS,
            });
        }
        let mtp = chain.tip_median_time_past().map_err(TxError::Storage)?;
        let paid = chain.with_times(|times| {
            check_tx_inputs(&tx, &coins, next_height, mtp, chain.spec(), times)
        })?;
        let mut required = Amount::from_units(size.saturating_mul(self.config.min_fee_rate));
        let mut fee = check_payload_fee(&tx, paid)?;
        if tx.payload.as_ref().is_some_and(is_staking) {
            // Checked against the tip's ledger with the pooled staking transactions applied in
            // arrival order (a vote may name a delegate whose registration is still pooled);
            // what it would write is dropped: it is applied to the view once pooled.
            let view = self.pool_stake(chain, next_height);
            fee = apply_staking(&view, &tx, &coins, paid, next_height, chain.spec())?.0;
        }
        if let Some(terms) = payload_terms(&tx) {
            // The relay fee comes on top of the gas reservation, which is mostly refunded.
            let reserve = Amount::from_units(terms.gas_limit.saturating_mul(gas::GAS_PRICE));
            required = required.checked_add(reserve).unwrap_or(Amount::MAX);
            caller_script(&coins[0].output.script_pubkey)?;
            match &tx.payload {
                Some(Payload::Call { contract, .. }) => {
                    self.check_contract_exists(contract, chain)?
                }
                Some(Payload::Instantiate {
                    code_hash: hash, ..
                }) => self.check_code_exists(hash, chain)?,
                _ => {}
            }
        }
        if fee < required {
            return Err(MempoolError::FeeTooLow {
                fee,
                required,
                size,
            });
        }
        let conflicts = self.conflicts(&tx);
        let replaces = self.replacement(&tx, &conflicts, fee, size)?;
        Ok(Checked {
            txid,
            tx,
            coins,
            fee,
            size,
            sigops,
            tip: tip.hash,
            conflicts,
            replaces,
            scripts_verified: false,
        })
    }

    /// Whether `tx` (paying `fee` for `size` bytes) may replace its `conflicts` under Bitcoin
    /// Core's full replace-by-fee rules (BIP125's, without the signalling: any pooled
    /// transaction can be replaced); what it would evict, the conflicts with their
    /// descendants.
    fn replacement(
        &self,
        tx: &Transaction,
        conflicts: &BTreeSet<Txid>,
        fee: Amount,
        size: u64,
    ) -> Result<BTreeSet<Txid>, MempoolError> {
        if conflicts.is_empty() {
            return Ok(BTreeSet::new());
        }
        let starts: Vec<Txid> = conflicts.iter().copied().collect();
        let evicted = self.relatives(&starts, |links| &links.children);
        if evicted.len() > MAX_REPLACEMENTS {
            return Err(MempoolError::TooManyReplacements {
                count: evicted.len(),
                max: MAX_REPLACEMENTS,
            });
        }
        // Unconfirmed inputs only where the replaced transactions had them.
        let replaced_inputs: BTreeSet<OutPoint> = conflicts
            .iter()
            .flat_map(|id| self.entries[id].tx.inputs.iter().map(|i| i.prevout))
            .collect();
        for input in &tx.inputs {
            let op = input.prevout;
            if evicted.contains(&op.txid) {
                return Err(MempoolError::ReplacementSpendsReplaced { txid: op.txid });
            }
            if self.entries.contains_key(&op.txid) && !replaced_inputs.contains(&op) {
                return Err(MempoolError::ReplacementNewUnconfirmedInput { outpoint: op });
            }
        }
        // A better rate than each transaction it conflicts with (cross-multiplied: exact).
        for id in conflicts {
            let old = &self.entries[id];
            if u128::from(fee.to_units()) * u128::from(old.size)
                <= u128::from(old.fee.to_units()) * u128::from(size)
            {
                return Err(MempoolError::ReplacementFeeRateTooLow { conflict: *id });
            }
        }
        // At least what everything evicted pays, plus relay of its own bytes.
        let replaced_fee = Amount::checked_sum(evicted.iter().map(|id| self.entries[id].fee))
            .unwrap_or(Amount::MAX);
        let required = replaced_fee
            .checked_add(Amount::from_units(
                size.saturating_mul(self.config.min_fee_rate),
            ))
            .unwrap_or(Amount::MAX);
        if fee < required {
            return Err(MempoolError::ReplacementFeeTooLow {
                replaced: evicted.len(),
                replaced_fee,
                required,
                fee,
            });
        }
        Ok(evicted)
    }

    /// The tip's staking state with every pooled staking transaction that still applies
    /// applied, in arrival order: only the records they change are held, over the tip's.
    fn pool_stake(&self, chain: &impl ChainView, height: u64) -> RefMut<'_, StateOverlay> {
        let tip = chain.tip().hash;
        RefMut::map(self.staking_view.borrow_mut(), |view| {
            if view
                .as_ref()
                .is_some_and(|v| v.tip != tip || v.height != height)
            {
                *view = None;
            }
            let view = view.get_or_insert_with(|| StakingView {
                tip,
                height,
                applied: 0,
                state: StateOverlay::new(chain.contract_state()),
            });
            for (_, txid) in self.staking.range(view.applied..) {
                let Some(entry) = self.entries.get(txid) else {
                    continue;
                };
                let coins = &entry.coins[..];
                let paid = Amount::checked_sum(coins.iter().map(|c| c.output.value))
                    .and_then(|i| {
                        i.checked_sub(Amount::checked_sum(
                            entry.tx.outputs.iter().map(|o| o.value),
                        )?)
                    })
                    .unwrap_or(Amount::ZERO);
                // One that no longer applies is left for the block template to drop.
                if let Ok((_, writes)) =
                    apply_staking(&view.state, &entry.tx, coins, paid, height, chain.spec())
                {
                    view.state.merge(writes);
                }
            }
            view.applied = self.next_seq;
            &mut view.state
        })
    }

    /// Adds a transaction that passed [`Mempool::check`] and whose scripts verified against
    /// `checked.coins`, first making sure that what those checks saw still holds: the pool may
    /// have changed while the scripts ran (a conflicting spend, an evicted parent), and so may
    /// the tip, in which case every check except the scripts is redone, and the scripts too
    /// unless the spent coins are unchanged (a script's verdict depends only on the
    /// transaction, the coins it spends and the chain id).
    ///
    /// # Errors
    /// [`MempoolError`] saying why it was refused.
    pub fn admit(
        &mut self,
        checked: Checked,
        chain: &impl ChainView,
        now: u64,
    ) -> Result<Txid, MempoolError> {
        let tip = chain.tip();
        let checked = if tip.hash == checked.tip {
            if self.entries.contains_key(&checked.txid) {
                return Err(MempoolError::AlreadyKnown(checked.txid));
            }
            let pooled_height = tip.header.height + 1;
            for (input, coin) in checked.tx.inputs.iter().zip(&checked.coins) {
                let op = input.prevout;
                // Same tip, same UTXO set: only a coin of a pooled parent can have gone.
                if coin.height == pooled_height && !self.entries.contains_key(&op.txid) {
                    return Err(TxError::MissingInput(op).into());
                }
            }
            // A conflicting spend arrived while the scripts ran: judge the replacement again.
            let conflicts = self.conflicts(&checked.tx);
            if conflicts == checked.conflicts {
                checked
            } else {
                let replaces =
                    self.replacement(&checked.tx, &conflicts, checked.fee, checked.size)?;
                Checked {
                    conflicts,
                    replaces,
                    ..checked
                }
            }
        } else {
            let verified = checked.coins;
            let was_verified = checked.scripts_verified;
            let mut again = self.check(checked.tx, chain)?;
            if same_outputs(&again.coins, &verified) {
                again.scripts_verified = was_verified;
            } else {
                again.verify_scripts(&chain.chain_id())?;
            }
            again
        };
        // The scripts verified for exactly these coins: the block that includes this
        // transaction need not run them again.
        if checked.scripts_verified
            && let Some(cache) = chain.script_cache()
        {
            cache.insert(script_cache::consensus_key(
                &chain.chain_id(),
                &checked.txid,
                &checked.coins,
            ));
        }
        let txid = checked.txid;
        let deploys = match (&checked.tx.payload, checked.coins.first()) {
            (Some(Payload::Deploy { code, salt, .. }), Some(coin)) => Some(contract_address(
                coin.output.script_pubkey.as_bytes(),
                &code_hash(code),
                salt,
            )),
            (
                Some(Payload::Instantiate {
                    code_hash, salt, ..
                }),
                Some(coin),
            ) => Some(contract_address(
                coin.output.script_pubkey.as_bytes(),
                code_hash,
                salt,
            )),
            _ => None,
        };
        for conflict in &checked.conflicts {
            let removed = self.remove_with_descendants(*conflict);
            tracing::debug!(?removed, by = %txid, "replaced");
        }
        // The pool may have grown around its parents since `check`.
        let ancestors = self.ancestors_of(&self.pooled_parents(&checked.tx), checked.size)?;
        self.insert(
            txid,
            &ancestors,
            Entry {
                coins: Arc::from(checked.coins),
                tx: Arc::new(checked.tx),
                fee: checked.fee,
                size: checked.size,
                time: now,
                seq: 0,
                deploys,
                links: packages::Links::default(),
            },
        );
        self.trim_to_size();
        if !self.entries.contains_key(&txid) {
            return Err(MempoolError::Full);
        }
        Ok(txid)
    }

    fn insert(&mut self, txid: Txid, ancestors: &BTreeSet<Txid>, mut entry: Entry) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        for input in &entry.tx.inputs {
            self.spent_by.insert(input.prevout, txid);
        }
        self.bytes += entry.size;
        self.by_time.insert((entry.time, entry.seq, txid));
        if entry.tx.payload.as_ref().is_some_and(is_staking) {
            self.staking.insert(entry.seq, txid);
        }
        self.entries.insert(txid, entry);
        self.link(txid, ancestors);
    }

    /// Removes `txid` and every pooled descendant; returns what was removed.
    fn remove_with_descendants(&mut self, txid: Txid) -> Vec<Txid> {
        let removed = self.unlink_all(txid);
        for id in &removed {
            let Some(entry) = self.entries.remove(id) else {
                continue;
            };
            for input in &entry.tx.inputs {
                if self.spent_by.get(&input.prevout) == Some(id) {
                    self.spent_by.remove(&input.prevout);
                }
            }
            self.bytes -= entry.size;
            self.unindex(*id, &entry);
        }
        removed
    }

    fn trim_to_size(&mut self) {
        while self.bytes > self.config.max_bytes {
            let Some(lowest) = self.eviction_candidate() else {
                break;
            };
            let removed = self.remove_with_descendants(lowest);
            tracing::debug!(?removed, "mempool full: evicted lowest fee rate");
        }
    }

    /// Drops transactions older than the expiry; returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        let cutoff = now.saturating_sub(self.config.expiry_secs);
        let mut removed = 0;
        while let Some(&(time, _, id)) = self.by_time.iter().next() {
            if time >= cutoff {
                break;
            }
            removed += self.remove_with_descendants(id).len();
        }
        removed
    }

    fn unindex(&mut self, txid: Txid, entry: &Entry) {
        self.by_time.remove(&(entry.time, entry.seq, txid));
        if self.staking.remove(&entry.seq).is_some() {
            // The view has it applied: rebuild on the next staking submission.
            *self.staking_view.get_mut() = None;
        }
    }

    /// A block was connected: drop what it confirms and whatever now conflicts with it.
    pub fn block_connected(&mut self, block: &Block) {
        self.tip = Some(block.header.hash());
        let (mut bytes, mut lowest) = (0u64, u64::MAX);
        for tx in block.transactions.iter().skip(1) {
            if let Some(entry) = self.entries.get(&tx.txid()) {
                bytes = bytes.saturating_add(entry.size);
                lowest = lowest.min(entry.fee_rate_milli());
            }
        }
        self.recent_blocks.push_back((bytes, lowest));
        if self.recent_blocks.len() > RECENT_BLOCKS {
            self.recent_blocks.pop_front();
        }
        for tx in block.transactions.iter().skip(1) {
            let txid = tx.txid();
            self.unlink(txid);
            if let Some(entry) = self.entries.remove(&txid) {
                // Confirmed: its children stay, now spending a confirmed output.
                for input in &entry.tx.inputs {
                    self.spent_by.remove(&input.prevout);
                }
                self.bytes -= entry.size;
                self.unindex(txid, &entry);
            }
            for input in &tx.inputs {
                if let Some(conflict) = self.spent_by.get(&input.prevout).copied() {
                    self.remove_with_descendants(conflict);
                }
            }
        }
    }

    /// The tip moved across a fork: put back the transactions of `disconnected` blocks (tip
    /// first) that `connected` blocks did not confirm, then re-validate the whole pool against
    /// the new tip, dropping what became invalid.
    pub fn reorganised(
        &mut self,
        disconnected: &[Block],
        connected: &[Block],
        chain: &impl ChainView,
        now: u64,
    ) {
        let confirmed: BTreeSet<Txid> = connected.iter().flat_map(|b| b.txids()).collect();
        let mut previous: Vec<Entry> = self.entries.drain().map(|(_, e)| e).collect();
        previous.sort_unstable_by_key(|e| e.seq);
        self.spent_by.clear();
        self.indexes = packages::Indexes::default();
        self.staking.clear();
        *self.staking_view.get_mut() = None;
        self.by_time.clear();
        self.bytes = 0;
        // Transactions of disconnected blocks have their scripts run again; pooled ones only
        // if the outputs they spend changed (a script's verdict depends on nothing else), so a
        // reorganisation does not re-verify the whole pool under the pool lock.
        let returning = disconnected
            .iter()
            .rev()
            .flat_map(|b| b.transactions.iter().skip(1).cloned())
            .map(|tx| (tx, now, None))
            .chain(
                previous
                    .into_iter()
                    .map(|e| (Arc::unwrap_or_clone(e.tx), e.time, Some(e.coins))),
            );
        for (tx, time, verified) in returning {
            if confirmed.contains(&tx.txid()) {
                continue;
            }
            let readmitted = self.check(tx, chain).and_then(|mut checked| {
                if verified.is_some_and(|v| same_outputs(&checked.coins, &v)) {
                    // Verified against these very coins when it was first pooled.
                    checked.scripts_verified = true;
                } else {
                    checked.verify_scripts(&chain.chain_id())?;
                }
                self.admit(checked, chain, time)
            });
            if let Err(e) = readmitted {
                tracing::debug!(error = %e, "dropped from mempool after reorganisation");
            }
        }
        self.tip = Some(chain.tip().hash);
    }

    /// A call must name a deployed contract, or one a pool transaction deploys.
    fn check_contract_exists(
        &self,
        contract: &ContractAddress,
        chain: &impl ChainView,
    ) -> Result<(), MempoolError> {
        let overlay = StateOverlay::new(chain.contract_state());
        if overlay
            .account(contract)
            .map_err(TxError::Storage)?
            .is_some()
        {
            return Ok(());
        }
        if self.entries.values().any(|e| e.deploys == Some(*contract)) {
            Ok(())
        } else {
            Err(MempoolError::UnknownContract(*contract))
        }
    }

    /// Instantiation needs code stored on chain or uploaded by a pool transaction.
    fn check_code_exists(
        &self,
        hash: &Hash256,
        chain: &impl ChainView,
    ) -> Result<(), MempoolError> {
        let stored = chain
            .contract_state()
            .get(&StateKey::code(hash))
            .map_err(TxError::Storage)?
            .is_some();
        let pending = || {
            self.entries.values().any(|e| {
                matches!(&e.tx.payload, Some(Payload::Deploy { code, .. }) if code_hash(code) == *hash)
            })
        };
        if stored || pending() {
            Ok(())
        } else {
            Err(MempoolError::UnknownCode(*hash))
        }
    }

    /// Encoded size helper for callers.
    pub fn encoded_size(tx: &Transaction) -> u64 {
        tx.encoded_size() as u64
    }
}

/// Whether two lists of spent coins have the same outputs (values and scripts: all a script
/// check reads of them).
fn same_outputs(a: &[Coin], b: &[Coin]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.output == y.output)
}

#[cfg(test)]
mod tests;
