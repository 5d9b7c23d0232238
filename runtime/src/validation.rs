//! Context-free validity rules for transactions and blocks (Bitcoin Core's `CheckTransaction`
//! and `CheckBlock`); their errors are in [`crate::error`].

use std::collections::BTreeSet;

use parity_scale_codec::Encode;

use crate::consensus::{HeaderError, coinbase_height_prefix};
use crate::error::{BlockError, TxError};
use crate::spec::ChainSpec;
use i8o8i_primitives::{Amount, Block, Transaction, Txid};

/// Most signature operations a block may contain, counted as Bitcoin Core's legacy
/// `GetLegacySigOpCount` does (every `CHECKSIG` 1, every `CHECKMULTISIG` 20, in input scripts and
/// output scripts): Core's 20,000 per megabyte, for blocks of up to 4 MB.
pub const MAX_BLOCK_SIGOPS: usize = 80_000;

/// Legacy signature operations of `tx` (see [`MAX_BLOCK_SIGOPS`]): cheap, needs no coins, and
/// bounds what a block can make validators verify before any signature is checked.
pub fn legacy_sigops(tx: &Transaction) -> usize {
    let inputs: usize = tx
        .inputs
        .iter()
        .map(|i| i8o8i_script_vm::sig_op_count(&i.script_sig, false))
        .sum();
    let outputs: usize = tx
        .outputs
        .iter()
        .map(|o| i8o8i_script_vm::sig_op_count(&o.script_pubkey, false))
        .sum();
    inputs.saturating_add(outputs)
}

/// Context-free transaction checks (Bitcoin Core's `CheckTransaction`).
///
/// # Errors
/// The first [`TxError`] found.
pub fn check_transaction(tx: &Transaction, spec: &ChainSpec) -> Result<(), TxError> {
    if tx.inputs.is_empty() {
        return Err(TxError::NoInputs);
    }
    match &tx.payload {
        Some(
            p @ (i8o8i_primitives::Payload::Deploy { .. }
            | i8o8i_primitives::Payload::Call { .. }
            | i8o8i_primitives::Payload::Instantiate { .. }
            | i8o8i_primitives::Payload::Migrate { .. }
            | i8o8i_primitives::Payload::SetAdmin { .. }),
        ) => crate::contract::check_payload(p)?,
        Some(i8o8i_primitives::Payload::Evidence { .. }) if !tx.is_coinbase() => {
            return Err(TxError::Evidence(
                "only a coinbase may carry evidence".into(),
            ));
        }
        Some(p) => crate::staking::check_staking_payload(p)?,
        None => {}
    }
    if tx.outputs.is_empty() && tx.payload.is_none() {
        return Err(TxError::NoOutputs);
    }
    let size = tx.encoded_size();
    if size as u64 > spec.max_block_size {
        return Err(TxError::TooLarge {
            size,
            max: spec.max_block_size,
        });
    }
    // A 64-byte transaction's txid could equal an inner merkle node over its two halves, which
    // would let two different transaction lists share a root (BIP54 closes this in Bitcoin).
    if size == i8o8i_primitives::merkle::INNER_NODE_PREIMAGE_LEN {
        return Err(TxError::SixtyFourBytes);
    }
    let mut total = Amount::ZERO;
    for out in &tx.outputs {
        total = total
            .checked_add(out.value)
            .ok_or(TxError::OutputValueOutOfRange)?;
        if out.value > spec.max_supply || total > spec.max_supply {
            return Err(TxError::OutputValueOutOfRange);
        }
    }
    let mut seen = BTreeSet::new();
    for input in &tx.inputs {
        if !seen.insert(input.prevout) {
            return Err(TxError::DuplicateInput(input.prevout));
        }
    }
    if tx.is_coinbase() {
        let len = tx.inputs[0].script_sig.len();
        if !(2..=100).contains(&len) {
            return Err(TxError::CoinbaseScriptSize(len));
        }
    } else if tx.inputs.iter().any(|i| i.prevout.is_null()) {
        return Err(TxError::NullPrevout);
    }
    Ok(())
}

/// Context-free block checks (Bitcoin Core's `CheckBlock`): size, coinbase placement and
/// height commitment, merkle root, duplicates, and every transaction's own checks.
///
/// # Errors
/// The first [`BlockError`] found.
pub fn check_block(block: &Block, spec: &ChainSpec) -> Result<(), BlockError> {
    check_block_txids(block, spec).map(|_| ())
}

/// [`check_block`], returning the transaction ids it computed (so callers hash each
/// transaction once).
///
/// # Errors
/// The first [`BlockError`] found.
pub fn check_block_txids(block: &Block, spec: &ChainSpec) -> Result<Vec<Txid>, BlockError> {
    let size = block.encoded_size();
    if size as u64 > spec.max_block_size {
        return Err(BlockError::TooLarge {
            size,
            max: spec.max_block_size,
        });
    }
    if block.header.version != 1 {
        return Err(HeaderError::Version(block.header.version).into());
    }
    let Some(coinbase) = block.transactions.first().filter(|tx| tx.is_coinbase()) else {
        return Err(BlockError::NoCoinbase);
    };
    if let Some(i) = block
        .transactions
        .iter()
        .skip(1)
        .position(Transaction::is_coinbase)
    {
        return Err(BlockError::ExtraCoinbase(i + 1));
    }
    let txids = block.txids();
    let expected = i8o8i_primitives::merkle_root(&txids);
    if expected != block.header.tx_root {
        return Err(BlockError::BadMerkleRoot {
            got: block.header.tx_root,
            expected,
        });
    }
    let sigops = block
        .transactions
        .iter()
        .fold(0usize, |n, tx| n.saturating_add(legacy_sigops(tx)));
    if sigops > MAX_BLOCK_SIGOPS {
        return Err(BlockError::TooManySigops {
            count: sigops,
            max: MAX_BLOCK_SIGOPS,
        });
    }
    let mut seen = BTreeSet::new();
    for (index, (tx, txid)) in block.transactions.iter().zip(&txids).enumerate() {
        if !seen.insert(*txid) {
            return Err(BlockError::DuplicateTx(*txid));
        }
        check_transaction(tx, spec).map_err(|error| BlockError::Tx {
            index,
            txid: *txid,
            error,
        })?;
    }
    // Genesis is fixed by the spec; every other coinbase commits to its height (BIP34).
    let height = block.header.height;
    if height > 0
        && !coinbase.inputs[0]
            .script_sig
            .as_bytes()
            .starts_with(&coinbase_height_prefix(height))
    {
        return Err(BlockError::BadCoinbaseHeight(height));
    }
    Ok(txids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use i8o8i_primitives::Hash256;
    use i8o8i_primitives::{BlockHash, Header, OutPoint, Seal, TxIn, TxOut};
    use i8o8i_script_vm::ScriptBuf;

    fn spec() -> ChainSpec {
        ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).unwrap()
    }

    fn coinbase(height: u64) -> Transaction {
        let mut script = coinbase_height_prefix(height);
        script.extend_from_slice(&[0, 0]);
        Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint::NULL,
                script_sig: ScriptBuf::from_bytes(script),
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value: Amount::from_units(50),
                script_pubkey: ScriptBuf::from_bytes(vec![0x51]),
            }],
            lock_time: 0,
            payload: None,
        }
    }

    fn block(txs: Vec<Transaction>, height: u64) -> Block {
        let txids: Vec<_> = txs.iter().map(Transaction::txid).collect();
        Block {
            header: Header {
                version: 1,
                parent: BlockHash::ZERO,
                height,
                time: 0,
                tx_root: i8o8i_primitives::merkle_root(&txids),
                state_root: Hash256::ZERO,
                seal: Seal::Pow {
                    bits: 0x207fffff,
                    nonce: 0,
                },
            },
            transactions: txs,
        }
    }

    fn spend(prev: OutPoint) -> Transaction {
        Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: prev,
                script_sig: ScriptBuf::new(),
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value: Amount::from_units(1),
                script_pubkey: ScriptBuf::from_bytes(vec![0x51]),
            }],
            lock_time: 0,
            payload: None,
        }
    }

    #[test]
    fn well_formed_block_passes() {
        assert_eq!(check_block(&block(vec![coinbase(5)], 5), &spec()), Ok(()));
    }

    #[test]
    fn a_block_over_the_signature_operation_limit_is_invalid() {
        let s = spec();
        // Every CHECKMULTISIG counts 20: 4,000 of them reach the limit exactly.
        let with_multisigs = |n: usize| {
            let mut cb = coinbase(5);
            cb.outputs[0].script_pubkey = ScriptBuf::from_bytes(vec![0xae; n]);
            block(vec![cb], 5)
        };
        assert_eq!(check_block(&with_multisigs(4_000), &s), Ok(()));
        assert_eq!(
            check_block(&with_multisigs(4_001), &s),
            Err(BlockError::TooManySigops {
                count: 80_020,
                max: MAX_BLOCK_SIGOPS
            })
        );
    }

    #[test]
    fn structural_errors_are_typed() {
        let s = spec();
        let op = OutPoint {
            txid: Txid::from_byte_array([1; 32]),
            index: 0,
        };
        assert_eq!(
            check_block(&block(vec![spend(op)], 5), &s),
            Err(BlockError::NoCoinbase)
        );
        assert_eq!(
            check_block(&block(vec![coinbase(5), coinbase(6)], 5), &s),
            Err(BlockError::ExtraCoinbase(1))
        );
        assert_eq!(
            check_block(&block(vec![coinbase(4)], 5), &s),
            Err(BlockError::BadCoinbaseHeight(5))
        );
        let mut b = block(vec![coinbase(5)], 5);
        b.header.tx_root = Hash256::ZERO;
        assert!(matches!(
            check_block(&b, &s),
            Err(BlockError::BadMerkleRoot { .. })
        ));
        let dup = spend(op);
        assert!(matches!(
            check_block(&block(vec![coinbase(5), dup.clone(), dup], 5), &s),
            Err(BlockError::DuplicateTx(_))
        ));
    }

    #[test]
    fn a_64_byte_transaction_is_rejected() {
        let mut cb = coinbase(5);
        cb.inputs[0].script_sig =
            ScriptBuf::from_bytes(cb.inputs[0].script_sig.as_bytes()[..2].to_vec());
        assert_eq!(cb.encoded_size(), 64);
        assert_eq!(
            check_transaction(&cb, &spec()),
            Err(TxError::SixtyFourBytes)
        );
    }

    #[test]
    fn transaction_rules() {
        let s = spec();
        let op = OutPoint {
            txid: Txid::from_byte_array([1; 32]),
            index: 0,
        };
        let mut tx = spend(op);
        tx.inputs.push(tx.inputs[0].clone());
        assert_eq!(check_transaction(&tx, &s), Err(TxError::DuplicateInput(op)));
        let mut tx = spend(op);
        tx.outputs[0].value = Amount::from_units(s.max_supply.to_units() + 1);
        assert_eq!(
            check_transaction(&tx, &s),
            Err(TxError::OutputValueOutOfRange)
        );
        let mut tx = spend(op);
        tx.outputs.clear();
        assert_eq!(check_transaction(&tx, &s), Err(TxError::NoOutputs));
        let mut tx = spend(OutPoint::NULL);
        tx.inputs.push(spend(op).inputs[0].clone());
        assert_eq!(check_transaction(&tx, &s), Err(TxError::NullPrevout));
        let mut cb = coinbase(1);
        cb.inputs[0].script_sig = ScriptBuf::from_bytes(vec![1]);
        assert_eq!(
            check_transaction(&cb, &s),
            Err(TxError::CoinbaseScriptSize(1))
        );
        let mut tx = spend(op);
        tx.payload = Some(i8o8i_primitives::Payload::Unbond {
            staking_key: [4; 33],
            value: Amount::from_units(1),
        });
        assert_eq!(
            check_transaction(&tx, &s),
            Err(TxError::Staking(
                "the staking key is not a compressed secp256k1 public key".into()
            ))
        );
    }
}
