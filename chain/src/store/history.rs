//! The address history index: for each script, the best-chain transactions that paid it or
//! spent its coins, with how much each received and sent (Electrum's and Esplora's
//! `scripthash` history; Core has no such index and leaves it to wallets).
//!
//! Keys are `sha256(script) ‖ height (BE u64) ‖ position in the block (BE u32)`, so one
//! script's history is a contiguous range in chain order, read backwards for newest first. A
//! block's records are written and removed in the same batch that connects or disconnects
//! it, from the block and its spent coins (its undo data), so the index always describes the
//! store's tip.
//!
//! Data directories from before this index get it filled at open from the blocks and undo
//! data still stored (`history_from` in `meta` says from which height it is complete: a
//! pruned node's history starts at its lowest stored block).

use super::{CF_HEIGHT, CF_META, Store, StoreError, WriteBatch, decode, err, script_key};
use i8o8i_primitives::{Amount, Block, BlockHash, Coin, OutPoint, TxOut, Txid};
use i8o8i_script_vm::Script;
use parity_scale_codec::{Decode, Encode};
use rocksdb::{Direction, IteratorMode};
use std::collections::{BTreeMap, HashMap};

/// The column family.
pub(super) const CF_HISTORY: &str = "addr_history";

/// The height from which the history index is complete (absent: not built yet).
const KEY_HISTORY_FROM: &[u8] = b"history_from";

/// How many blocks the fill at open writes per batch.
const FILL_BATCH_BLOCKS: u64 = 256;

/// What one transaction did to one script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct HistoryRecord {
    /// The transaction.
    pub txid: Txid,
    /// What its outputs pay the script.
    pub received: Amount,
    /// What the script's coins it spends held.
    pub sent: Amount,
}

/// A history record with where its transaction is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Height of the block.
    pub height: u64,
    /// Position of the transaction in the block.
    pub position: u32,
    /// The best-chain block at that height, as of the same snapshot.
    pub block: BlockHash,
    /// The record.
    pub record: HistoryRecord,
}

/// A page of history read from one snapshot, with that snapshot's tip.
pub type HistoryAtTip = (Option<BlockHash>, Vec<HistoryEntry>);

type HistoryKey = [u8; 44];

fn history_key(script: &[u8; 32], height: u64, position: u32) -> HistoryKey {
    let mut k = [0u8; 44];
    k[..32].copy_from_slice(script);
    k[32..40].copy_from_slice(&height.to_be_bytes());
    k[40..].copy_from_slice(&position.to_be_bytes());
    k
}

/// The records `block` (whose transactions have `txids`) makes: `spent` are the coins it
/// spends from earlier blocks and
/// `appended` the outputs contract execution added to its transactions (both as in its
/// undo data). Outputs created and spent inside the block count on both sides.
///
/// # Errors
/// An input whose coin is in neither (the undo data does not belong to the block), or sums
/// beyond the money supply.
fn block_records(
    block: &Block,
    txids: &[Txid],
    spent: &[(OutPoint, Coin)],
    appended: &[(OutPoint, TxOut)],
) -> Result<BTreeMap<HistoryKey, HistoryRecord>, StoreError> {
    let height = block.header.height;
    let position: HashMap<Txid, u32> = txids
        .iter()
        .enumerate()
        .map(|(i, txid)| (*txid, i as u32))
        .collect();
    // Every output an input of this block may spend, by outpoint.
    let mut outputs: HashMap<OutPoint, &TxOut> =
        spent.iter().map(|(op, c)| (*op, &c.output)).collect();
    for (txid, tx) in txids.iter().zip(&block.transactions) {
        for (index, out) in tx.outputs.iter().enumerate() {
            outputs.insert(
                OutPoint {
                    txid: *txid,
                    index: index as u32,
                },
                out,
            );
        }
    }
    outputs.extend(appended.iter().map(|(op, out)| (*op, out)));

    let mut records: BTreeMap<HistoryKey, HistoryRecord> = BTreeMap::new();
    let beyond =
        || StoreError::Inconsistent(format!("amounts beyond the supply in block {height}"));
    let mut add = |script: &Script, txid: Txid, pos: u32, received: Amount, sent: Amount| {
        let key = history_key(&script_key(script), height, pos);
        let record = records.entry(key).or_insert(HistoryRecord {
            txid,
            received: Amount::ZERO,
            sent: Amount::ZERO,
        });
        record.received = record.received.checked_add(received).ok_or_else(beyond)?;
        record.sent = record.sent.checked_add(sent).ok_or_else(beyond)?;
        Ok::<_, StoreError>(())
    };
    for ((pos, txid), tx) in (0u32..).zip(txids).zip(&block.transactions) {
        for out in &tx.outputs {
            add(&out.script_pubkey, *txid, pos, out.value, Amount::ZERO)?;
        }
        if !tx.is_coinbase() {
            for input in &tx.inputs {
                let out = outputs.get(&input.prevout).ok_or_else(|| {
                    StoreError::Inconsistent(format!(
                        "block {height} spends {}, which neither it nor its undo data holds",
                        input.prevout
                    ))
                })?;
                add(&out.script_pubkey, *txid, pos, Amount::ZERO, out.value)?;
            }
        }
    }
    for (op, out) in appended {
        let pos = *position.get(&op.txid).ok_or_else(|| {
            StoreError::Inconsistent(format!(
                "block {height} has an appended output of {}, not one of its transactions",
                op.txid
            ))
        })?;
        add(&out.script_pubkey, op.txid, pos, out.value, Amount::ZERO)?;
    }
    Ok(records)
}

impl Store {
    /// Adds `block`'s history records to `batch` (connect).
    pub(super) fn put_history(
        &self,
        batch: &mut WriteBatch,
        block: &Block,
        txids: &[Txid],
        spent: &[(OutPoint, Coin)],
        appended: &[(OutPoint, TxOut)],
    ) -> Result<(), StoreError> {
        let cf = self.cf(CF_HISTORY);
        for (key, record) in block_records(block, txids, spent, appended)? {
            batch.put_cf(cf, key, record.encode());
        }
        Ok(())
    }

    /// Removes `block`'s history records in `batch` (disconnect).
    pub(super) fn delete_history(
        &self,
        batch: &mut WriteBatch,
        block: &Block,
        txids: &[Txid],
        spent: &[(OutPoint, Coin)],
        appended: &[(OutPoint, TxOut)],
    ) -> Result<(), StoreError> {
        let cf = self.cf(CF_HISTORY);
        for key in block_records(block, txids, spent, appended)?.into_keys() {
            batch.delete_cf(cf, key);
        }
        Ok(())
    }

    /// The height from which the history index holds every best-chain transaction.
    ///
    /// # Errors
    /// Storage failures; a store opened without its index built.
    pub fn history_from(&self) -> Result<u64, StoreError> {
        let v = self
            .get(CF_META, KEY_HISTORY_FROM)?
            .ok_or_else(|| StoreError::Inconsistent("the history index was not built".into()))?;
        Ok(u64::from_be_bytes(v.as_slice().try_into().map_err(
            |_| StoreError::corrupt("history_from", "not 8 bytes"),
        )?))
    }

    /// Builds the history index of a data directory written before it existed, from the
    /// blocks and undo data it stores; a new store starts it at genesis. Idempotent: a crash
    /// part-way leaves the marker unwritten and the next open starts over.
    pub(super) fn fill_history(&self) -> Result<(), StoreError> {
        if self.get(CF_META, KEY_HISTORY_FROM)?.is_some() {
            return Ok(());
        }
        let Some(tip) = self.tip()? else {
            return self.put_history_from(0);
        };
        let tip_height = self
            .index_entry(&tip)?
            .ok_or(StoreError::MissingBlock(tip))?
            .header
            .height;
        let from = self.lowest_block()?;
        let started = std::time::Instant::now();
        let mut batch = WriteBatch::default();
        for height in from..=tip_height {
            let hash = self.hash_at(height)?.ok_or_else(|| {
                StoreError::Inconsistent(format!("no best-chain block at height {height}"))
            })?;
            let block = self.block(&hash)?.ok_or(StoreError::MissingBlock(hash))?;
            let undo = self
                .block_undo(&hash)?
                .ok_or(StoreError::MissingBlock(hash))?;
            let txids: Vec<Txid> = block.transactions.iter().map(|tx| tx.txid()).collect();
            self.put_history(&mut batch, &block, &txids, &undo.spent, &undo.appended)?;
            if (height - from + 1) % FILL_BATCH_BLOCKS == 0 {
                self.db.write(std::mem::take(&mut batch)).map_err(err)?;
            }
        }
        self.db.write(batch).map_err(err)?;
        self.put_history_from(from)?;
        tracing::info!(from, to = tip_height, elapsed = ?started.elapsed(), "built the address history index of an older data directory");
        Ok(())
    }

    fn put_history_from(&self, height: u64) -> Result<(), StoreError> {
        self.db
            .put_cf(self.cf(CF_META), KEY_HISTORY_FROM, height.to_be_bytes())
            .map_err(err)
    }

    /// At most `limit` history entries of `script`, newest first, older than the transaction
    /// at (`height`, `position`) when `before` is given; read from one snapshot, with its tip.
    ///
    /// # Errors
    /// Storage failures or corrupt records.
    pub fn history(
        &self,
        script: &Script,
        before: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<HistoryAtTip, StoreError> {
        let snapshot = self.db.snapshot();
        let prefix = script_key(script);
        let start = match before {
            Some((height, position)) => history_key(&prefix, height, position),
            None => history_key(&prefix, u64::MAX, u32::MAX),
        };
        let mut out: Vec<HistoryEntry> = Vec::new();
        let iter = snapshot.iterator_cf(
            self.cf(CF_HISTORY),
            IteratorMode::From(&start, Direction::Reverse),
        );
        for item in iter {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(err)?;
            if !k.starts_with(&prefix) {
                break;
            }
            if before.is_some() && k[..] == start[..] {
                continue;
            }
            let key: &HistoryKey = k[..]
                .try_into()
                .map_err(|_| StoreError::corrupt("history key", "not 44 bytes"))?;
            let height = u64::from_be_bytes(key[32..40].try_into().expect("8 bytes"));
            let position = u32::from_be_bytes(key[40..].try_into().expect("4 bytes"));
            let block = match out.last() {
                Some(last) if last.height == height => last.block,
                _ => snapshot
                    .get_cf(self.cf(CF_HEIGHT), height.to_be_bytes())
                    .map_err(err)?
                    .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
                    .map(BlockHash::from_byte_array)
                    .ok_or_else(|| {
                        StoreError::Inconsistent(format!(
                            "history at height {height}, which has no best-chain block"
                        ))
                    })?,
            };
            out.push(HistoryEntry {
                height,
                position,
                block,
                record: decode(&v, "history record")?,
            });
        }
        Ok((self.snapshot_tip(&snapshot)?, out))
    }
}
