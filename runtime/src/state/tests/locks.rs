//! Absolute (BIP65 / BIP113) and relative (BIP68) lock times at block connect.

use super::*;

/// A block at `height` whose one transaction spends a height-10 coin of key 1 with `lock_time`
/// and `sequence` (version 1).
fn lock_time_block(f: &mut Fixture, height: u64, lock_time: u32, sequence: u32) -> Block {
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let input = Spend {
        prevout: op,
        coin: &coin,
        owner: 1,
        sequence,
    };
    let tx = signed_tx(1, lock_time, &[input], vec![pay(2, 990_000)]);
    block(height, vec![coinbase_paying(height, SUBSIDY + 10_000), tx])
}

#[test]
fn a_height_lock_time_not_below_the_block_height_is_non_final() {
    let mut f = Fixture::new();
    for lock_time in [51, 50] {
        let b = lock_time_block(&mut f, 50, lock_time, NON_FINAL);
        assert_eq!(
            f.connect(&b),
            Err(tx_error(
                &b,
                1,
                TxError::NonFinal {
                    lock_time,
                    height: 50,
                    median_time_past: MTP,
                }
            )),
            "lock time {lock_time}"
        );
    }
    let b = lock_time_block(&mut f, 50, 49, NON_FINAL);
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
}

#[test]
fn a_lock_time_is_ignored_when_every_input_is_final() {
    let mut f = Fixture::new();
    let b = lock_time_block(&mut f, 50, 51, SEQUENCE_FINAL);
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
    let b = lock_time_block(&mut f, 50, u32::MAX, SEQUENCE_FINAL);
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
}

#[test]
fn a_time_lock_time_is_compared_with_the_median_time_past_not_the_block_time() {
    let mut f = Fixture::new();
    let lock_time: u32 = 1_767_250_000;
    let t = u64::from(lock_time);
    let b = lock_time_block(&mut f, 50, lock_time, NON_FINAL);
    // The header's own time is far past the lock time; only the parent's median counts.
    let mut late = b.clone();
    late.header.time = t + 1_000_000;
    for candidate in [&b, &late] {
        assert_eq!(
            f.connect_at(candidate, t, None),
            Err(tx_error(
                candidate,
                1,
                TxError::NonFinal {
                    lock_time,
                    height: 50,
                    median_time_past: t,
                }
            ))
        );
    }
    assert_eq!(
        f.connect_at(&b, t + 1, None).map(|c| c.fees),
        Ok(units(10_000))
    );
}

#[test]
fn a_non_final_coinbase_is_rejected() {
    let f = Fixture::new();
    let mut cb = coinbase_paying(50, SUBSIDY);
    cb.lock_time = 51;
    cb.inputs[0].sequence = 0;
    let b = block(50, vec![cb]);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(
            &b,
            0,
            TxError::NonFinal {
                lock_time: 51,
                height: 50,
                median_time_past: MTP,
            }
        ))
    );
}

#[test]
fn is_final_follows_bip113() {
    let mut tx = coinbase_paying(1, 1);
    tx.inputs[0].sequence = 0;
    tx.lock_time = 0;
    assert!(is_final(&tx, 0, 0));
    tx.lock_time = 100;
    assert!(!is_final(&tx, 100, u64::MAX));
    assert!(is_final(&tx, 101, 0));
    tx.lock_time = 500_000_000; // the first time-based lock time
    assert!(!is_final(&tx, u64::MAX, 500_000_000));
    assert!(is_final(&tx, 0, 500_000_001));
    tx.inputs[0].sequence = SEQUENCE_FINAL;
    assert!(is_final(&tx, 0, 0));
}

// --- Relative lock time (BIP68) ------------------------------------------------------------------

/// Height of the coin the BIP68 tests spend.
const COIN_HEIGHT: u64 = 20;

/// A block at `height` whose one transaction spends key 1's coin from [`COIN_HEIGHT`] with
/// `version` and `sequence`; returns the block and the spent outpoint.
fn relative_lock_block(
    f: &mut Fixture,
    height: u64,
    version: u32,
    sequence: u32,
) -> (Block, OutPoint) {
    let (op, coin) = f.fund(1, 1, 1_000_000, COIN_HEIGHT, false);
    let input = Spend {
        prevout: op,
        coin: &coin,
        owner: 1,
        sequence,
    };
    let tx = signed_tx(version, 0, &[input], vec![pay(2, 990_000)]);
    let b = block(height, vec![coinbase_paying(height, SUBSIDY + 10_000), tx]);
    (b, op)
}

#[test]
fn a_ten_block_relative_lock_holds_until_ten_blocks_after_the_coin() {
    let mut f = Fixture::new();
    let (early, op) = relative_lock_block(&mut f, COIN_HEIGHT + 9, 2, 10);
    assert_eq!(
        f.connect(&early),
        Err(tx_error(&early, 1, TxError::SequenceLocked(op)))
    );
    let (on_time, _) = relative_lock_block(&mut f, COIN_HEIGHT + 10, 2, 10);
    assert_eq!(f.connect(&on_time).map(|c| c.fees), Ok(units(10_000)));
}

#[test]
fn a_time_relative_lock_counts_from_the_median_time_before_the_coin() {
    let mut f = Fixture::new();
    let coin_time = 1_767_200_000;
    // BIP68 starts the clock at the median time past of the block *before* the coin's block;
    // the coin's own block has a later one, which must not be used.
    f.times.0.insert(COIN_HEIGHT - 1, coin_time);
    f.times.0.insert(COIN_HEIGHT, coin_time + 10_000);
    // Type flag, value 1: 512 seconds.
    let (b, op) = relative_lock_block(&mut f, 60, 2, SEQUENCE_LOCKTIME_TYPE_FLAG | 1);
    assert_eq!(
        f.connect_at(&b, coin_time + 511, None),
        Err(tx_error(&b, 1, TxError::SequenceLocked(op)))
    );
    assert_eq!(
        f.connect_at(&b, coin_time + 512, None).map(|c| c.fees),
        Ok(units(10_000))
    );
}

#[test]
fn a_time_relative_lock_reports_a_missing_median_time_as_a_storage_error() {
    let mut f = Fixture::new();
    let (b, _) = relative_lock_block(&mut f, 60, 2, SEQUENCE_LOCKTIME_TYPE_FLAG | 1);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(
            &b,
            1,
            TxError::Storage(StoreError::MissingHeight(COIN_HEIGHT - 1))
        ))
    );
}

#[test]
fn version_1_transactions_ignore_sequence_locks() {
    let mut f = Fixture::new();
    let (b, _) = relative_lock_block(&mut f, COIN_HEIGHT + 1, 1, 10);
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
    // No median time is known, so a time lock that were evaluated would fail.
    let (b, _) = relative_lock_block(&mut f, COIN_HEIGHT + 1, 1, SEQUENCE_LOCKTIME_TYPE_FLAG | 1);
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
}

#[test]
fn the_disable_flag_turns_a_sequence_lock_off() {
    let mut f = Fixture::new();
    let (b, _) = relative_lock_block(
        &mut f,
        COIN_HEIGHT + 1,
        2,
        SEQUENCE_LOCKTIME_DISABLE_FLAG | 10,
    );
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
    let (b, _) = relative_lock_block(
        &mut f,
        COIN_HEIGHT + 1,
        2,
        SEQUENCE_LOCKTIME_DISABLE_FLAG | SEQUENCE_LOCKTIME_TYPE_FLAG | 1,
    );
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
}

// --- Direct checks and storage -------------------------------------------------------------------
