//! Core's `feature_assumevalid.py` in process: a chain with a block whose signature is
//! invalid (forged through a poisoned script cache on the chain that made it) is accepted by
//! a syncing chain only when that block is buried under the assumed-valid block with enough
//! work on top, and refused in every other case.

use std::sync::Arc;

use i8o8i_config::builtin_chain_spec;
use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
use i8o8i_primitives::{Amount, Block, OutPoint, Transaction};
use i8o8i_runtime::error::{BlockError, TxError};
use i8o8i_runtime::script_cache::consensus_key;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::state::UtxoReader;

use super::super::Chain;
use crate::clock::SystemClock;
use crate::store::Store;

/// The dev chain with a day between blocks: two weeks of work is 14 blocks.
fn spec() -> ChainSpec {
    let mut spec = ChainSpec::from_yaml(builtin_chain_spec("dev").expect("dev spec")).unwrap();
    spec.target_block_time = 86_400;
    spec
}

fn open(dir: &std::path::Path, spec: ChainSpec) -> Chain {
    let store = Arc::new(Store::open(dir).unwrap());
    Chain::open(store, spec, 0, SystemClock::new().shared()).unwrap()
}

fn mine(chain: &Chain, tag: u64, txs: Vec<Transaction>) -> Block {
    let tip = chain.tip().header;
    let block = crate::memory::mine_on(chain, &tip, &p2pkh_script(&secret_key(1)), tag, txs);
    let outcome = chain.import_block(block.clone()).unwrap();
    assert!(outcome.invalid.is_empty(), "{:?}", outcome.invalid);
    block
}

/// 122 blocks; block 102 spends block 1's coinbase with a signature that does not verify.
/// Returns the blocks (height 1 first) and the forged transaction.
fn forged_chain(dir: &std::path::Path) -> (Vec<Block>, Transaction) {
    let chain = open(dir, spec());
    let mut blocks: Vec<Block> = (1..=101).map(|tag| mine(&chain, tag, Vec::new())).collect();
    let coinbase = OutPoint {
        txid: blocks[0].transactions[0].txid(),
        index: 0,
    };
    let value = blocks[0].transactions[0].outputs[0].value;
    let mut forged = p2pkh_spend(
        coinbase,
        value,
        &secret_key(1),
        p2pkh_script(&secret_key(2)),
        Amount::from_units(1_000),
        &chain.chain_id(),
    );
    // Signed for one amount, paying another: the signature no longer verifies.
    forged.outputs[0].value = value.checked_sub(Amount::from_units(500)).unwrap();
    let coin = chain.store().coin(&coinbase).unwrap().unwrap();
    chain
        .script_cache()
        .insert(consensus_key(&chain.chain_id(), &forged.txid(), &[coin]));
    blocks.push(mine(&chain, 102, vec![forged.clone()]));
    blocks.extend((103..=122).map(|tag| mine(&chain, tag, Vec::new())));
    (blocks, forged)
}

/// A fresh chain that learns the headers of `blocks[..headers]` and then imports the blocks in
/// order, as sync does; returns its tip height and the first block it refused, with why.
fn sync(
    dir: &std::path::Path,
    spec: ChainSpec,
    blocks: &[Block],
    headers: usize,
) -> (u64, Option<(u64, BlockError)>) {
    let chain = open(dir, spec);
    let genesis = chain.tip().header;
    let chained: Vec<_> = blocks[..headers].iter().map(|b| b.header.clone()).collect();
    chain.check_header_chain(&genesis, &chained).unwrap();
    for block in &blocks[..headers] {
        let outcome = chain.import_block(block.clone()).unwrap();
        if let Some((_, error)) = outcome.invalid.into_iter().next() {
            return (
                chain.tip().header.height,
                Some((block.header.height, error)),
            );
        }
    }
    (chain.tip().header.height, None)
}

fn refused_for_its_signature(result: (u64, Option<(u64, BlockError)>)) {
    match result {
        (
            101,
            Some((
                102,
                BlockError::Tx {
                    index: 1, error, ..
                },
            )),
        ) => {
            assert!(matches!(error, TxError::Script { .. }), "{error:?}");
        }
        other => panic!("expected block 102 refused for its script, got {other:?}"),
    }
}

#[test]
fn only_blocks_buried_under_the_assumed_valid_block_skip_their_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let (blocks, forged) = forged_chain(&dir.path().join("source"));
    let with = |assumed: Option<usize>| {
        let mut spec = spec();
        spec.assume_valid = assumed.map(|height| blocks[height - 1].header.hash());
        spec
    };

    // Without assume-valid the forged signature is found.
    refused_for_its_signature(sync(&dir.path().join("none"), with(None), &blocks, 122));

    // Block 107 assumed valid, 20 blocks (20 days of work) on top of block 102: accepted
    // without its scripts running, the forged payment included.
    let chain_dir = dir.path().join("buried");
    assert_eq!(sync(&chain_dir, with(Some(107)), &blocks, 122), (122, None));
    let synced = open(&chain_dir, with(Some(107)));
    let paid = OutPoint {
        txid: forged.txid(),
        index: 0,
    };
    assert_eq!(
        synced.store().coin(&paid).unwrap().unwrap().output.value,
        forged.outputs[0].value
    );
    drop(synced);

    // Only 10 blocks known on top of block 102 (ten days < two weeks): verified, refused.
    refused_for_its_signature(sync(
        &dir.path().join("shallow"),
        with(Some(107)),
        &blocks,
        112,
    ));

    // The assumed block is not in the header chain (the operator named a block this chain
    // never had): everything verified.
    let mut unknown = with(None);
    unknown.assume_valid = Some(i8o8i_primitives::BlockHash::from_byte_array([7; 32]));
    refused_for_its_signature(sync(&dir.path().join("unknown"), unknown, &blocks, 122));

    // The forged block is above the assumed one: not covered.
    refused_for_its_signature(sync(
        &dir.path().join("above"),
        with(Some(101)),
        &blocks,
        122,
    ));

    // The header chain lacks the chain's minimum work: verified.
    let mut light = with(Some(107));
    light.min_chain_work = Some(format!("{:x}", 10_000u64));
    refused_for_its_signature(sync(&dir.path().join("light"), light, &blocks, 122));
}

#[test]
fn the_operator_turns_assume_valid_off_or_names_another_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec();
    spec.assume_valid = Some(i8o8i_primitives::BlockHash::from_byte_array([1; 32]));
    let chain = open(dir.path(), spec);
    assert_eq!(
        chain.assume_valid(),
        Some(i8o8i_primitives::BlockHash::from_byte_array([1; 32]))
    );
    chain.set_assume_valid(None);
    assert_eq!(chain.assume_valid(), None);
}
