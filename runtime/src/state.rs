//! State transition: connecting a block to the UTXO set (every contextual rule, scripts checked
//! in parallel) and the data needed to disconnect it again.
//!
//! Storage is reached through [`UtxoReader`] and [`ChainTimeReader`]; the node implements them
//! on RocksDB and applies the returned [`BlockChanges`] in one atomic write, tests implement
//! them in memory.

use std::collections::{BTreeMap, BTreeSet};

use parity_scale_codec::{Decode, Encode};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::contract::{BlockEnv, apply_payload, caller_script, payload_terms};
use crate::producers::ProducerState;
use crate::randomness::{self, Contribution};
use crate::slots::StakingKey;
use crate::spec::ChainSpec;
use crate::staking::{
    StakingRules, apply_staking, check_evidence, is_staking, key_script, slash, take_releases,
};
use i8o8i_primitives::{Coin, UtxoSetInfo};

use crate::error::{BlockError, TxError};
use crate::script_cache::consensus_key;
use crate::validation::check_block_txids;
use crate::verify_input;
use i8o8i_contract_engine::gas::MAX_BLOCK_GAS;
use i8o8i_contract_engine::state::ContractChanges;
use i8o8i_contract_engine::{ContractEngine, ContractStateReader, StateOverlay};
use i8o8i_primitives::contract::Receipt;
use i8o8i_primitives::{
    Amount, Block, Hash256, OutPoint, Payload, Seal, SighashCache, Transaction, TxOut, Txid,
};

use i8o8i_script_vm::checker::{
    LOCKTIME_THRESHOLD, SEQUENCE_FINAL, SEQUENCE_LOCKTIME_DISABLE_FLAG, SEQUENCE_LOCKTIME_MASK,
    SEQUENCE_LOCKTIME_TYPE_FLAG,
};

use i8o8i_primitives::StoreError;

/// Reads the UTXO set; `Ok(None)` means unspent output not found (missing or spent).
pub trait UtxoReader: Send + Sync {
    /// The coin at `outpoint`.
    ///
    /// # Errors
    /// Only for storage failures.
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError>;
}

/// Median times past along the chain being extended (for BIP68 time locks).
pub trait ChainTimeReader: Send + Sync {
    /// Median time past of the block at `height` of the chain being extended.
    ///
    /// # Errors
    /// Only for storage failures or a height beyond that chain.
    fn median_time_past_at(&self, height: u64) -> Result<u64, StoreError>;
}

/// What connecting a block does to the UTXO set; its `spent` list is the block's undo data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct BlockChanges {
    /// Coins the block spends, as they were (restored on disconnect).
    pub spent: Vec<(OutPoint, Coin)>,
    /// Coins the block creates and does not spend itself (removed on disconnect).
    pub created: Vec<(OutPoint, Coin)>,
    /// Total fees of its transactions (for contract transactions, what remains after the gas
    /// refund).
    pub fees: Amount,
    /// What its contract transactions wrote to contract state, with undo data.
    pub contracts: ContractChanges,
    /// Receipts of its contract transactions, in block order.
    pub receipts: Vec<BlockReceipt>,
    /// Outputs contract execution appended to transactions (also in `created` unless the
    /// block spends them itself).
    pub appended: Vec<(OutPoint, TxOut)>,
}

/// A contract transaction's receipt with where the transaction stands in its block.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct BlockReceipt {
    /// Position of the transaction in the block.
    pub position: u32,
    /// The transaction.
    pub txid: Txid,
    /// What its execution did.
    pub receipt: Receipt,
}

/// Undo data of a connected block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct BlockUndo {
    /// Spent coins, in spending order.
    pub spent: Vec<(OutPoint, Coin)>,
    /// Outputs appended by contract execution (transfers, refunds), removed on disconnect with
    /// the declared ones.
    pub appended: Vec<(OutPoint, TxOut)>,
    /// Contract-state values the block replaced, restored on disconnect.
    pub contract_undo: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// What a validator needs to execute contract payloads: the engine and the committed contract
/// state of the parent block.
#[derive(Clone)]
pub struct ContractEnv {
    /// The engine.
    pub engine: std::sync::Arc<ContractEngine>,
    /// Contract state as of the parent block.
    pub state: std::sync::Arc<dyn ContractStateReader>,
    /// Record one transaction's contract trace while connecting (`tx_traceContract`); `None`
    /// for everything that connects blocks for the chain.
    pub trace: Option<std::sync::Arc<TraceRequest>>,
}

/// Asks [`connect_block`] to run the contract payload of the transaction at `position`
/// traced: the outcome and gas are what they are untraced, the trace lands in `record`.
#[derive(Debug, Default)]
pub struct TraceRequest {
    /// Position of the transaction in the block.
    pub position: u32,
    /// The trace, once the block connected.
    pub record: std::sync::Mutex<Option<i8o8i_contract_engine::engine::TraceRecord>>,
}

impl std::fmt::Debug for ContractEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractEnv").finish_non_exhaustive()
    }
}

/// Context for connecting a block on top of its parent.
#[derive(Debug, Clone, Copy)]
pub struct ConnectContext<'a> {
    /// Chain parameters.
    pub spec: &'a ChainSpec,
    /// Replay protection: the genesis hash, committed to by every signature.
    pub chain_id: Hash256,
    /// Median time past of the parent (BIP113 lock-time cut-off).
    pub median_time_past: u64,
    /// The contract engine and state; `None` refuses blocks with contract payloads.
    pub contracts: Option<&'a ContractEnv>,
    /// Transactions whose scripts verified already (at mempool admission): theirs are not
    /// run again. `None` verifies everything.
    pub script_cache: Option<crate::script_cache::CacheUse<'a>>,
    /// No script runs at all: the block is an ancestor of the block the chain spec (or the
    /// operator) assumes valid, buried deep in the best header chain (Bitcoin Core's
    /// `-assumevalid`; the chain crate decides, `docs/consensus.md`). Everything else —
    /// amounts, coins, lock times, contracts, the state root — is still checked.
    pub assume_valid: bool,
}

/// Whether an output can never be spent and so never enters the UTXO set.
pub fn is_unspendable(out: &TxOut) -> bool {
    out.script_pubkey.is_op_return()
}

/// BIP113 finality: lock time 0, or below the height / median time, or every input final.
pub fn is_final(tx: &Transaction, height: u64, median_time_past: u64) -> bool {
    if tx.lock_time == 0 {
        return true;
    }
    let cutoff = if i64::from(tx.lock_time) < LOCKTIME_THRESHOLD {
        height
    } else {
        median_time_past
    };
    u64::from(tx.lock_time) < cutoff || tx.inputs.iter().all(|i| i.sequence == SEQUENCE_FINAL)
}

/// BIP68 relative lock times of version-2 transactions: every enabled input's lock must have
/// passed at `height` (whose parent has `median_time_past`).
fn check_sequence_locks(
    tx: &Transaction,
    coins: &[Coin],
    height: u64,
    median_time_past: u64,
    times: &dyn ChainTimeReader,
) -> Result<(), TxError> {
    if tx.version < 2 {
        return Ok(());
    }
    for (input, coin) in tx.inputs.iter().zip(coins) {
        let seq = input.sequence;
        if seq & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
            continue;
        }
        let value = u64::from(seq & SEQUENCE_LOCKTIME_MASK);
        let locked = if seq & SEQUENCE_LOCKTIME_TYPE_FLAG != 0 {
            // Time locks count from the median time past of the block before the coin's.
            let coin_time = times
                .median_time_past_at(coin.height.saturating_sub(1))
                .map_err(TxError::Storage)?;
            (coin_time + (value << 9)).saturating_sub(1) >= median_time_past
        } else {
            (coin.height + value).saturating_sub(1) >= height
        };
        if locked {
            return Err(TxError::SequenceLocked(input.prevout));
        }
    }
    Ok(())
}

/// Contextual checks of a non-coinbase transaction's inputs (`coins[i]` is spent by input i)
/// for inclusion at `height`: maturity, values, lock times. Returns the fee.
///
/// # Errors
/// The first [`TxError`] found.
pub fn check_tx_inputs(
    tx: &Transaction,
    coins: &[Coin],
    height: u64,
    median_time_past: u64,
    spec: &ChainSpec,
    times: &dyn ChainTimeReader,
) -> Result<Amount, TxError> {
    if tx.is_coinbase() {
        return Err(TxError::UnexpectedCoinbase);
    }
    let mut inputs = Amount::ZERO;
    for (input, coin) in tx.inputs.iter().zip(coins) {
        if coin.coinbase {
            let mature_at = coin.height.saturating_add(spec.coinbase_maturity);
            if height < mature_at {
                return Err(TxError::ImmatureCoinbase {
                    outpoint: input.prevout,
                    coin_height: coin.height,
                    mature_at,
                });
            }
        }
        inputs = inputs
            .checked_add(coin.output.value)
            .ok_or(TxError::ValueOverflow)?;
    }
    if inputs > spec.max_supply {
        return Err(TxError::ValueOverflow);
    }
    let outputs = Amount::checked_sum(tx.outputs.iter().map(|o| o.value))
        .ok_or(TxError::OutputValueOutOfRange)?;
    let fee = inputs
        .checked_sub(outputs)
        .ok_or(TxError::InsufficientInputs { inputs, outputs })?;
    if !is_final(tx, height, median_time_past) {
        return Err(TxError::NonFinal {
            lock_time: tx.lock_time,
            height,
            median_time_past,
        });
    }
    check_sequence_locks(tx, coins, height, median_time_past, times)?;
    Ok(fee)
}

/// Runs every input's scripts (`coins[i]` is spent by input i).
///
/// # Errors
/// [`TxError::Script`] for the first failing input.
pub fn verify_tx_scripts(
    tx: &Transaction,
    coins: &[Coin],
    chain_id: &Hash256,
) -> Result<(), TxError> {
    let cache = SighashCache::new(tx);
    for (input, coin) in coins.iter().enumerate() {
        verify_input(&cache, chain_id, input, &coin.output)
            .map_err(|error| TxError::Script { input, error })?;
    }
    Ok(())
}

/// Advances the producer state of the parent (in `state`) to `block`'s slot and checks that
/// `pubkey` is the slot's producer; returns the advanced state for the caller to store.
///
/// # Errors
/// [`HeaderError::NotLeader`] (in the active set, not its slot),
/// [`HeaderError::NotActiveProducer`], storage failures.
fn check_producer(
    spec: &ChainSpec,
    block: &Block,
    slot: u64,
    pubkey: &StakingKey,
    state: &StateOverlay,
) -> Result<ProducerState, BlockError> {
    let entry = spec.engine_at(block.header.height);
    let mut producers = ProducerState::load(state).map_err(BlockError::ContractState)?;
    producers.check_sealer(entry, slot, block.header.parent.as_bytes(), pubkey, state)?;
    Ok(producers)
}

/// Validates `block` on top of the state `utxos` and returns what it changes. Script checks of
/// different transactions run in parallel on `pool` (or the global rayon pool).
///
/// # Errors
/// [`BlockError`] for the first rule broken; when several transactions fail their scripts,
/// the lowest index is reported.
pub fn connect_block(
    block: &Block,
    ctx: &ConnectContext<'_>,
    utxos: &dyn UtxoReader,
    times: &dyn ChainTimeReader,
    pool: Option<&rayon::ThreadPool>,
) -> Result<BlockChanges, BlockError> {
    let txids = check_block_txids(block, ctx.spec)?;
    let height = block.header.height;
    let mut created: BTreeMap<OutPoint, Coin> = BTreeMap::new();
    let mut spent_from_set: Vec<(OutPoint, Coin)> = Vec::new();
    let mut spent_here: BTreeSet<OutPoint> = BTreeSet::new();
    let mut fees = Amount::ZERO;
    let mut overlay: Option<StateOverlay> = None;
    let mut receipts = Vec::new();
    let mut appended_all = Vec::new();
    let mut block_gas = 0u64;
    let mut script_jobs: Vec<(usize, Vec<Coin>)> = Vec::with_capacity(block.transactions.len());
    let open_state = |overlay: &mut Option<StateOverlay>| -> Result<StateOverlay, TxError> {
        match overlay.take() {
            Some(o) => Ok(o),
            None => {
                let env = ctx.contracts.ok_or(TxError::ContractsUnavailable)?;
                Ok(StateOverlay::new(env.state.clone()))
            }
        }
    };
    let state_error = BlockError::ContractState;
    let stake_chain = StakingRules::at(ctx.spec, height).is_some();

    // Slot engines: who may seal this block follows from the producer state of the parent.
    let mut producers = None;
    if let Seal::Producer { slot, pubkey, .. } = &block.header.seal {
        let mut state = open_state(&mut overlay).map_err(|error| BlockError::Tx {
            index: 0,
            txid: txids[0],
            error,
        })?;
        let mut schedule = check_producer(ctx.spec, block, *slot, pubkey, &state)?;
        // Its randomness: a reveal must continue the key's hash chain and is mixed in.
        let contribution = Contribution::of_block(block).map_err(BlockError::Randomness)?;
        match randomness::apply(&mut state, pubkey, contribution, height)
            .map_err(BlockError::ContractState)?
        {
            Ok(true) => {
                if let Contribution::Reveal(value) = contribution {
                    schedule.mix_in(&value);
                }
            }
            Ok(false) => {}
            Err(reason) => return Err(BlockError::Randomness(reason)),
        }
        producers = Some((schedule, *pubkey));
        overlay = Some(state);
    }

    for (index, (tx, &txid)) in block.transactions.iter().zip(&txids).enumerate() {
        let fail = |error: TxError| BlockError::Tx { index, txid, error };
        if index > 0 {
            let mut coins = Vec::with_capacity(tx.inputs.len());
            for input in &tx.inputs {
                let op = input.prevout;
                let coin = if let Some(coin) = created.remove(&op) {
                    coin
                } else if spent_here.contains(&op) {
                    return Err(fail(TxError::MissingInput(op)));
                } else {
                    let coin = utxos
                        .coin(&op)
                        .map_err(|e| fail(TxError::Storage(e)))?
                        .ok_or_else(|| fail(TxError::MissingInput(op)))?;
                    spent_here.insert(op);
                    spent_from_set.push((op, coin.clone()));
                    coin
                };
                coins.push(coin);
            }
            let paid = check_tx_inputs(tx, &coins, height, ctx.median_time_past, ctx.spec, times)
                .map_err(fail)?;
            let fee = match (payload_terms(tx), &tx.payload) {
                (None, Some(payload)) if is_staking(payload) => {
                    let mut state = open_state(&mut overlay).map_err(fail)?;
                    let result = apply_staking(&state, tx, &coins, paid, height, ctx.spec);
                    let result = result.map(|(fee, writes)| {
                        state.merge(writes);
                        fee
                    });
                    overlay = Some(state);
                    result.map_err(fail)?
                }
                (None, _) => paid,
                (Some(terms), _) => {
                    block_gas = block_gas.saturating_add(terms.gas_limit);
                    if block_gas > MAX_BLOCK_GAS {
                        return Err(fail(TxError::BlockGasExceeded(MAX_BLOCK_GAS)));
                    }
                    let env = ctx.contracts.ok_or(fail(TxError::ContractsUnavailable))?;
                    let state = open_state(&mut overlay).map_err(fail)?;
                    let caller = caller_script(&coins[0].output.script_pubkey).map_err(fail)?;
                    let at = BlockEnv {
                        height,
                        time: block.header.time,
                    };
                    let trace = env.trace.as_ref().filter(|t| t.position as usize == index);
                    let mut traced = None;
                    let (state, receipt, appended) = apply_payload(
                        &env.engine,
                        state,
                        tx,
                        caller,
                        paid,
                        at,
                        trace.map(|_| &mut traced),
                    )
                    .map_err(fail)?;
                    if let (Some(trace), Some(record)) = (trace, traced) {
                        *trace.record.lock().unwrap_or_else(|p| p.into_inner()) = Some(record);
                    }
                    overlay = Some(state);
                    for (k, out) in appended.into_iter().enumerate() {
                        let op = OutPoint {
                            txid,
                            index: (tx.outputs.len() + k) as u32,
                        };
                        appended_all.push((op, out.clone()));
                        if is_unspendable(&out) {
                            continue;
                        }
                        let coin = Coin {
                            output: out,
                            height,
                            coinbase: false,
                        };
                        created.insert(op, coin);
                    }
                    let fee = receipt.fee;
                    receipts.push(BlockReceipt {
                        position: index as u32,
                        txid,
                        receipt,
                    });
                    fee
                }
            };
            fees = fees.checked_add(fee).ok_or(fail(TxError::ValueOverflow))?;
            script_jobs.push((index, coins));
        } else if !is_final(tx, height, ctx.median_time_past) {
            return Err(fail(TxError::NonFinal {
                lock_time: tx.lock_time,
                height,
                median_time_past: ctx.median_time_past,
            }));
        }
        for (i, out) in tx.outputs.iter().enumerate() {
            if is_unspendable(out) {
                continue;
            }
            let op = OutPoint {
                txid,
                index: i as u32,
            };
            created.insert(
                op,
                Coin {
                    output: out.clone(),
                    height,
                    coinbase: index == 0,
                },
            );
        }
    }

    // Evidence of double signing in the coinbase slashes the producer it names.
    if let Some(Payload::Evidence { first, second }) = &block.transactions[0].payload {
        let fail = |error| BlockError::Tx {
            index: 0,
            txid: txids[0],
            error,
        };
        if !stake_chain {
            return Err(fail(TxError::Evidence("no staking at this height".into())));
        }
        let key = check_evidence(ctx.spec, first, second).map_err(fail)?;
        let mut state = open_state(&mut overlay).map_err(fail)?;
        let result = slash(&mut state, &key);
        overlay = Some(state);
        result.map_err(fail)?;
    }

    // Unbonded stake due at this height is paid back as outputs appended to the coinbase:
    // no producer can leave them out.
    if stake_chain {
        let mut state = open_state(&mut overlay).map_err(|error| BlockError::Tx {
            index: 0,
            txid: txids[0],
            error,
        })?;
        let released = take_releases(&mut state, height).map_err(state_error)?;
        let base = block.transactions[0].outputs.len();
        for (k, (key, amount)) in released.into_iter().enumerate() {
            let op = OutPoint {
                txid: txids[0],
                index: (base + k) as u32,
            };
            let out = TxOut {
                value: Amount::from_units(amount),
                script_pubkey: key_script(&key),
            };
            appended_all.push((op, out.clone()));
            created.insert(
                op,
                Coin {
                    output: out,
                    height,
                    coinbase: false,
                },
            );
        }
        overlay = Some(state);
    }

    let coinbase = &block.transactions[0];
    let paid = Amount::checked_sum(coinbase.outputs.iter().map(|o| o.value)).ok_or(
        BlockError::CoinbaseTooLarge {
            got: Amount::MAX,
            max: Amount::ZERO,
        },
    )?;
    let max = ctx
        .spec
        .subsidy(height)
        .checked_add(fees)
        .unwrap_or(Amount::MAX);
    if paid > max {
        return Err(BlockError::CoinbaseTooLarge { got: paid, max });
    }
    if let Some((mut p, producer)) = producers {
        let reward_script = key_script(&producer);
        if coinbase
            .outputs
            .iter()
            .any(|o| !is_unspendable(o) && o.script_pubkey != reward_script)
        {
            return Err(BlockError::RewardNotToProducer);
        }
        p.reward(&producer, paid.to_units());
        let mut state =
            overlay
                .take()
                .ok_or(BlockError::ContractState(StoreError::Inconsistent(
                    "producer state without a state overlay".into(),
                )))?;
        p.store(&mut state);
        overlay = Some(state);
    }

    let run = || {
        script_jobs
            .par_iter()
            .filter_map(|(index, coins)| {
                let tx = &block.transactions[*index];
                if let Some(cached) = ctx.script_cache {
                    let key = consensus_key(&ctx.chain_id, &txids[*index], coins);
                    if cached.check(&key) {
                        return None;
                    }
                }
                verify_tx_scripts(tx, coins, &ctx.chain_id)
                    .err()
                    .map(|error| (*index, error))
            })
            .min_by_key(|(index, _)| *index)
    };
    let failure = match pool {
        _ if ctx.assume_valid => None,
        Some(pool) => pool.install(run),
        None => run(),
    };
    if let Some((index, error)) = failure {
        return Err(BlockError::Tx {
            index,
            txid: txids[index],
            error,
        });
    }

    let contracts = match overlay {
        Some(o) => o.into_changes().map_err(BlockError::ContractState)?,
        None => ContractChanges::default(),
    };
    Ok(BlockChanges {
        spent: spent_from_set,
        created: created.into_iter().collect(),
        fees,
        contracts,
        receipts,
        appended: appended_all,
    })
}

/// The UTXO-set key of an outpoint: txid then big-endian index, so the set iterates in
/// (txid, index) order everywhere.
pub fn utxo_key(outpoint: &OutPoint) -> [u8; 36] {
    let mut key = [0u8; 36];
    key[..32].copy_from_slice(outpoint.txid.as_bytes());
    key[32..].copy_from_slice(&outpoint.index.to_be_bytes());
    key
}

/// Accumulates [`UtxoSetInfo`] from coins fed in [`utxo_key`] order.
#[derive(Debug, Clone, Default)]
pub struct UtxoSetHasher {
    sha: Sha256,
    count: u64,
    total: u64,
}

impl UtxoSetHasher {
    /// Adds one coin; keys must arrive in ascending order.
    pub fn add(&mut self, key: &[u8; 36], coin: &Coin) {
        self.sha.update(key);
        let encoded = coin.encode();
        self.sha.update((encoded.len() as u32).to_le_bytes());
        self.sha.update(&encoded);
        self.count += 1;
        self.total = self.total.saturating_add(coin.output.value.to_units());
    }

    /// The summary.
    pub fn finish(self) -> UtxoSetInfo {
        UtxoSetInfo {
            count: self.count,
            total_amount: Amount::from_units(self.total),
            hash: Hash256::from_byte_array(self.sha.finalize().into()),
        }
    }
}

#[cfg(test)]
mod tests;
