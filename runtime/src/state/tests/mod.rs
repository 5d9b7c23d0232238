//! Unit tests of the state transition against an in-memory UTXO set and an in-memory chain of
//! median times past, on the dev chain spec (coinbase maturity 100, subsidy 50 I8O halving every
//! 150 blocks). Blocks are built directly: `connect_block` does not check seals.

use i8o8i_script_vm::checker::SIGHASH_ALL;
use i8o8i_script_vm::templates::{hash160, null_data, p2pkh};
use i8o8i_script_vm::{ScriptBuf, ScriptError};
use secp256k1::{PublicKey, SecretKey};

use super::*;
use crate::consensus::coinbase_height_prefix;
use crate::script_cache::{CacheUse, ScriptCache, consensus_key};
use i8o8i_primitives::{BlockHash, Header, Seal, TxIn, Txid, merkle_root, sign_p2pkh_input};
use i8o8i_script_vm::VerifyFlags;

/// Replay-protection id every signature in these tests commits to.
const CHAIN: Hash256 = Hash256::from_byte_array([0xc0; 32]);

/// The dev chain's subsidy below height 150, in base units.
const SUBSIDY: u64 = 5_000_000_000;

/// Median time past of the parent, where the tests do not care about it.
const MTP: u64 = 1_767_300_000;

/// A sequence that is not final but enables no BIP68 lock (disable flag set).
const NON_FINAL: u32 = 0xffff_fffe;

fn spec() -> ChainSpec {
    ChainSpec::from_yaml(include_str!("../../../../config/chains/dev.yaml")).expect("dev spec")
}

fn units(n: u64) -> Amount {
    Amount::from_units(n)
}

fn key(n: u8) -> SecretKey {
    SecretKey::from_secret_bytes([n; 32]).expect("valid secret key")
}

/// `value` units locked to key `owner`'s P2PKH.
fn pay(owner: u8, value: u64) -> TxOut {
    let pubkey = PublicKey::from_secret_key(&key(owner)).serialize();
    TxOut {
        value: units(value),
        script_pubkey: p2pkh(&hash160(&pubkey)),
    }
}

/// `value` units burnt in an `OP_RETURN <data>` output.
fn burn(value: u64, data: &[u8]) -> TxOut {
    TxOut {
        value: units(value),
        script_pubkey: null_data(data),
    }
}

/// The UTXO set, in memory.
#[derive(Default)]
struct Utxos(BTreeMap<OutPoint, Coin>);

impl UtxoReader for Utxos {
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        Ok(self.0.get(outpoint).cloned())
    }
}

/// A UTXO set whose storage always fails.
struct BrokenUtxos;

impl UtxoReader for BrokenUtxos {
    fn coin(&self, _: &OutPoint) -> Result<Option<Coin>, StoreError> {
        Err(StoreError::Backend("disk unreadable".into()))
    }
}

/// Median times past by height, in memory; an unknown height is a storage error, so a test
/// that leaves the map empty also proves that no time was read.
#[derive(Default)]
struct Times(BTreeMap<u64, u64>);

impl ChainTimeReader for Times {
    fn median_time_past_at(&self, height: u64) -> Result<u64, StoreError> {
        self.0
            .get(&height)
            .copied()
            .ok_or(StoreError::MissingHeight(height))
    }
}

/// The dev spec, a UTXO set and a chain of median times.
struct Fixture {
    spec: ChainSpec,
    utxos: Utxos,
    times: Times,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            spec: spec(),
            utxos: Utxos::default(),
            times: Times::default(),
        }
    }

    /// Adds a coin of `value` units for key `owner`, created at `height` as output 0 of the
    /// (made-up) transaction `[tag; 32]`.
    fn fund(
        &mut self,
        tag: u8,
        owner: u8,
        value: u64,
        height: u64,
        coinbase: bool,
    ) -> (OutPoint, Coin) {
        let outpoint = OutPoint {
            txid: Txid::from_byte_array([tag; 32]),
            index: 0,
        };
        let coin = Coin {
            output: pay(owner, value),
            height,
            coinbase,
        };
        self.utxos.0.insert(outpoint, coin.clone());
        (outpoint, coin)
    }

    fn connect_at(
        &self,
        block: &Block,
        median_time_past: u64,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<BlockChanges, BlockError> {
        let ctx = ConnectContext {
            spec: &self.spec,
            chain_id: CHAIN,
            median_time_past,
            contracts: None,
            script_cache: None,
            assume_valid: false,
        };
        connect_block(block, &ctx, &self.utxos, &self.times, pool)
    }

    fn connect(&self, block: &Block) -> Result<BlockChanges, BlockError> {
        self.connect_at(block, MTP, None)
    }
}

/// A coinbase for `height` (BIP34 prefix plus five bytes) with `outputs`.
fn coinbase(height: u64, outputs: Vec<TxOut>) -> Transaction {
    let mut script = coinbase_height_prefix(height);
    script.extend_from_slice(b"i8o8i");
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: ScriptBuf::from_bytes(script),
            sequence: SEQUENCE_FINAL,
        }],
        outputs,
        lock_time: 0,
        payload: None,
    }
}

/// A coinbase for `height` paying `value` units to key 9.
fn coinbase_paying(height: u64, value: u64) -> Transaction {
    coinbase(height, vec![pay(9, value)])
}

/// One input to sign: the outpoint, the coin it holds, its owner's key number, the sequence.
struct Spend<'a> {
    prevout: OutPoint,
    coin: &'a Coin,
    owner: u8,
    sequence: u32,
}

/// A transaction spending `inputs` into `outputs`, every input signed (SIGHASH_ALL) by its
/// owner on [`CHAIN`].
fn signed_tx(
    version: u32,
    lock_time: u32,
    inputs: &[Spend<'_>],
    outputs: Vec<TxOut>,
) -> Transaction {
    let mut tx = Transaction {
        version,
        inputs: inputs
            .iter()
            .map(|s| TxIn {
                prevout: s.prevout,
                script_sig: ScriptBuf::new(),
                sequence: s.sequence,
            })
            .collect(),
        outputs,
        lock_time,
        payload: None,
    };
    for (index, s) in inputs.iter().enumerate() {
        sign_p2pkh_input(
            &mut tx,
            index,
            &key(s.owner),
            s.coin.output.value,
            &CHAIN,
            SIGHASH_ALL,
        )
        .expect("input exists");
    }
    tx
}

/// A version-1, lock-time-0 transaction spending `coin` of key `owner` into `outputs`.
fn spend(prevout: OutPoint, coin: &Coin, owner: u8, outputs: Vec<TxOut>) -> Transaction {
    let input = Spend {
        prevout,
        coin,
        owner,
        sequence: SEQUENCE_FINAL,
    };
    signed_tx(1, 0, &[input], outputs)
}

/// A block at `height` with `transactions` and their merkle root (seal not mined).
fn block(height: u64, transactions: Vec<Transaction>) -> Block {
    let txids: Vec<Txid> = transactions.iter().map(Transaction::txid).collect();
    Block {
        header: Header {
            version: 1,
            parent: BlockHash::from_byte_array([0xbb; 32]),
            height,
            time: MTP + 1,
            tx_root: merkle_root(&txids),
            state_root: Hash256::ZERO,
            seal: Seal::Pow {
                bits: 0x207f_ffff,
                nonce: 0,
            },
        },
        transactions,
    }
}

/// The coin output `index` of `tx` becomes when `tx` is connected at `height`.
fn new_coin(tx: &Transaction, index: u32, height: u64, coinbase: bool) -> (OutPoint, Coin) {
    let outpoint = OutPoint {
        txid: tx.txid(),
        index,
    };
    let coin = Coin {
        output: tx.outputs[index as usize].clone(),
        height,
        coinbase,
    };
    (outpoint, coin)
}

/// `coins` in outpoint order, the order `BlockChanges::created` comes in.
fn sorted(mut coins: Vec<(OutPoint, Coin)>) -> Vec<(OutPoint, Coin)> {
    coins.sort_by_key(|(outpoint, _)| *outpoint);
    coins
}

/// The error of transaction `index` of `block`.
fn tx_error(block: &Block, index: usize, error: TxError) -> BlockError {
    BlockError::Tx {
        index,
        txid: block.transactions[index].txid(),
        error,
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

// --- Spending, fees and the coinbase claim -----------------------------------------------------

#[test]
fn spending_a_mature_coinbase_reports_exact_fees_spent_and_created_coins() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, SUBSIDY, 1, true);
    let tx = spend(
        op,
        &coin,
        1,
        vec![pay(2, 3_000_000_000), pay(3, 1_999_990_000)],
    );
    let cb = coinbase_paying(101, SUBSIDY + 10_000);
    let b = block(101, vec![cb.clone(), tx.clone()]);

    let changes = f.connect(&b).expect("valid block");

    assert_eq!(
        changes,
        BlockChanges {
            spent: vec![(
                op,
                Coin {
                    output: pay(1, SUBSIDY),
                    height: 1,
                    coinbase: true,
                }
            )],
            created: sorted(vec![
                new_coin(&cb, 0, 101, true),
                new_coin(&tx, 0, 101, false),
                new_coin(&tx, 1, 101, false),
            ]),
            fees: units(10_000),
            ..BlockChanges::default()
        }
    );
}

#[test]
fn the_coinbase_may_claim_subsidy_plus_fees_but_not_one_unit_more() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, SUBSIDY, 1, true);
    let tx = spend(op, &coin, 1, vec![pay(2, SUBSIDY - 10_000)]);

    let exact = block(
        101,
        vec![coinbase_paying(101, SUBSIDY + 10_000), tx.clone()],
    );
    assert_eq!(f.connect(&exact).map(|c| c.fees), Ok(units(10_000)));

    // Claiming less is allowed (the difference is never issued).
    let modest = block(101, vec![coinbase_paying(101, SUBSIDY), tx.clone()]);
    assert_eq!(f.connect(&modest).map(|c| c.fees), Ok(units(10_000)));

    // Split over two outputs, the sum is what counts.
    let greedy_cb = coinbase(101, vec![pay(9, SUBSIDY), pay(8, 10_001)]);
    let greedy = block(101, vec![greedy_cb, tx]);
    assert_eq!(
        f.connect(&greedy),
        Err(BlockError::CoinbaseTooLarge {
            got: units(SUBSIDY + 10_001),
            max: units(SUBSIDY + 10_000),
        })
    );
}

#[test]
fn the_coinbase_claim_follows_the_halving_schedule() {
    let f = Fixture::new();
    // Dev halves every 150 blocks.
    let b = block(150, vec![coinbase_paying(150, SUBSIDY)]);
    assert_eq!(
        f.connect(&b),
        Err(BlockError::CoinbaseTooLarge {
            got: units(SUBSIDY),
            max: units(SUBSIDY / 2),
        })
    );
    let b = block(150, vec![coinbase_paying(150, SUBSIDY / 2)]);
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(Amount::ZERO));
}

#[test]
fn a_coinbase_spent_one_block_before_maturity_is_rejected_with_its_heights() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, SUBSIDY, 7, true);
    let tx = spend(op, &coin, 1, vec![pay(2, SUBSIDY - 1_000)]);

    let early = block(106, vec![coinbase_paying(106, SUBSIDY), tx.clone()]);
    assert_eq!(
        f.connect(&early),
        Err(tx_error(
            &early,
            1,
            TxError::ImmatureCoinbase {
                outpoint: op,
                coin_height: 7,
                mature_at: 107,
            }
        ))
    );

    let mature = block(107, vec![coinbase_paying(107, SUBSIDY + 1_000), tx]);
    assert_eq!(f.connect(&mature).map(|c| c.fees), Ok(units(1_000)));
}

#[test]
fn a_coinbase_output_cannot_be_spent_in_its_own_block() {
    let f = Fixture::new();
    let cb = coinbase_paying(50, SUBSIDY);
    let (op, coin) = new_coin(&cb, 0, 50, true);
    let tx = spend(op, &coin, 9, vec![pay(2, 1_000)]);
    let b = block(50, vec![cb, tx]);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(
            &b,
            1,
            TxError::ImmatureCoinbase {
                outpoint: op,
                coin_height: 50,
                mature_at: 150,
            }
        ))
    );
}

#[test]
fn spending_an_unknown_coin_fails_with_missing_input() {
    let mut f = Fixture::new();
    f.fund(1, 1, 1_000_000, 10, false);
    let unknown = OutPoint {
        txid: Txid::from_byte_array([1; 32]),
        index: 1,
    };
    let coin = Coin {
        output: pay(1, 1_000_000),
        height: 10,
        coinbase: false,
    };
    let tx = spend(unknown, &coin, 1, vec![pay(2, 900_000)]);
    let b = block(50, vec![coinbase_paying(50, SUBSIDY), tx]);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(&b, 1, TxError::MissingInput(unknown)))
    );
}

#[test]
fn a_coin_spent_by_two_transactions_of_one_block_fails_at_the_second() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let first = spend(op, &coin, 1, vec![pay(2, 900_000)]);
    let second = spend(op, &coin, 1, vec![pay(3, 900_000)]);
    let b = block(50, vec![coinbase_paying(50, SUBSIDY), first, second]);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(&b, 2, TxError::MissingInput(op)))
    );
}

#[test]
fn an_output_created_and_spent_in_the_same_block_is_in_neither_spent_nor_created() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let parent = spend(op, &coin, 1, vec![pay(2, 600_000), pay(3, 399_000)]);
    let (change_op, change) = new_coin(&parent, 0, 50, false);
    let child = spend(change_op, &change, 2, vec![pay(4, 598_000)]);
    let cb = coinbase_paying(50, SUBSIDY + 3_000);
    let b = block(50, vec![cb.clone(), parent.clone(), child.clone()]);

    let changes = f.connect(&b).expect("valid block");

    assert_eq!(
        changes,
        BlockChanges {
            spent: vec![(op, coin)],
            created: sorted(vec![
                new_coin(&cb, 0, 50, true),
                new_coin(&parent, 1, 50, false),
                new_coin(&child, 0, 50, false),
            ]),
            fees: units(1_000 + 2_000),
            ..BlockChanges::default()
        }
    );
    assert!(!changes.created.iter().any(|(o, _)| *o == change_op));
}

#[test]
fn an_output_spent_twice_in_its_own_block_fails_at_the_second_spender() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let parent = spend(op, &coin, 1, vec![pay(2, 990_000)]);
    let (mid_op, mid) = new_coin(&parent, 0, 50, false);
    let a = spend(mid_op, &mid, 2, vec![pay(3, 980_000)]);
    let b_tx = spend(mid_op, &mid, 2, vec![pay(4, 980_000)]);
    let b = block(50, vec![coinbase_paying(50, SUBSIDY), parent, a, b_tx]);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(&b, 3, TxError::MissingInput(mid_op)))
    );
}

#[test]
fn outputs_exceeding_inputs_fail_with_the_exact_sums() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 2_000_000_000, 10, false);
    let tx = spend(
        op,
        &coin,
        1,
        vec![pay(2, 1_500_000_000), pay(3, 500_000_001)],
    );
    let b = block(50, vec![coinbase_paying(50, SUBSIDY), tx]);
    assert_eq!(
        f.connect(&b),
        Err(tx_error(
            &b,
            1,
            TxError::InsufficientInputs {
                inputs: units(2_000_000_000),
                outputs: units(2_000_000_001),
            }
        ))
    );
}

#[test]
fn fees_of_several_transactions_with_several_inputs_add_up() {
    let mut f = Fixture::new();
    let (op1, c1) = f.fund(1, 1, 700_000, 10, false);
    let (op2, c2) = f.fund(2, 2, 300_000, 11, false);
    let (op3, c3) = f.fund(3, 3, 50_000, 12, false);
    let two_inputs = signed_tx(
        1,
        0,
        &[
            Spend {
                prevout: op1,
                coin: &c1,
                owner: 1,
                sequence: SEQUENCE_FINAL,
            },
            Spend {
                prevout: op2,
                coin: &c2,
                owner: 2,
                sequence: SEQUENCE_FINAL,
            },
        ],
        vec![pay(4, 999_000)],
    );
    let all_fee = spend(op3, &c3, 3, vec![burn(0, b"all fee")]);
    let b = block(
        50,
        vec![coinbase_paying(50, SUBSIDY + 51_000), two_inputs, all_fee],
    );
    let changes = f.connect(&b).expect("valid block");
    assert_eq!(changes.fees, units(1_000 + 50_000));
    assert_eq!(changes.spent, vec![(op1, c1), (op2, c2), (op3, c3)]);
}

#[test]
fn op_return_outputs_never_enter_created() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let tx = spend(
        op,
        &coin,
        1,
        vec![burn(0, b"memo"), pay(2, 900_000), burn(50_000, b"burnt")],
    );
    let cb = coinbase(50, vec![burn(0, b"commitment"), pay(9, SUBSIDY + 50_000)]);
    let b = block(50, vec![cb.clone(), tx.clone()]);

    let changes = f.connect(&b).expect("valid block");

    assert_eq!(
        changes.created,
        sorted(vec![
            new_coin(&cb, 1, 50, true),
            new_coin(&tx, 1, 50, false)
        ])
    );
    // Burnt value is an output, not a fee.
    assert_eq!(changes.fees, units(50_000));
}

// --- Scripts -------------------------------------------------------------------------------------

#[test]
fn a_wrong_signature_is_reported_at_its_transaction_and_input() {
    let mut f = Fixture::new();
    let (op1, c1) = f.fund(1, 1, 1_000_000, 10, false);
    let (op2, c2) = f.fund(2, 2, 1_000_000, 10, false);
    let good = spend(op1, &c1, 1, vec![pay(3, 990_000)]);
    let mut tampered = spend(op2, &c2, 2, vec![pay(4, 990_000)]);
    // The signature commits to the output value; changing it afterwards invalidates it.
    tampered.outputs[0].value = units(989_999);
    let b = block(
        50,
        vec![coinbase_paying(50, SUBSIDY + 20_001), good, tampered],
    );
    assert_eq!(
        f.connect(&b),
        Err(tx_error(
            &b,
            2,
            TxError::Script {
                input: 0,
                error: ScriptError::SigNullFail,
            }
        ))
    );
}

#[test]
fn a_signature_for_another_chain_is_rejected() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let tx = spend(op, &coin, 1, vec![pay(3, 990_000)]);
    let b = block(50, vec![coinbase_paying(50, SUBSIDY + 10_000), tx]);
    let other_chain = ConnectContext {
        spec: &f.spec,
        chain_id: Hash256::from_byte_array([0xc1; 32]),
        median_time_past: MTP,
        contracts: None,
        script_cache: None,
        assume_valid: false,
    };
    assert_eq!(
        connect_block(&b, &other_chain, &f.utxos, &f.times, None),
        Err(tx_error(
            &b,
            1,
            TxError::Script {
                input: 0,
                error: ScriptError::SigNullFail,
            }
        ))
    );
    assert_eq!(f.connect(&b).map(|c| c.fees), Ok(units(10_000)));
}

#[test]
fn when_two_transactions_fail_their_scripts_the_lower_index_is_reported_on_any_pool() {
    let mut f = Fixture::new();
    let mut txs = vec![coinbase_paying(50, SUBSIDY)];
    for n in 1..=8u8 {
        let (op, coin) = f.fund(n, n, 1_000_000, 10, false);
        // Index 3: tampered after signing; index 6: signed by a key that does not own the coin.
        let signer = if n == 6 { 99 } else { n };
        let mut tx = spend(op, &coin, signer, vec![pay(100, 1_000_000)]);
        if n == 3 {
            tx.outputs[0].value = units(999_999);
        }
        txs.push(tx);
    }
    let b = block(50, txs);
    let lowest = Err(tx_error(
        &b,
        3,
        TxError::Script {
            input: 0,
            error: ScriptError::SigNullFail,
        },
    ));

    let two = pool(2);
    let one = pool(1);
    for _ in 0..10 {
        assert_eq!(f.connect_at(&b, MTP, Some(&two)), lowest);
    }
    assert_eq!(f.connect_at(&b, MTP, Some(&one)), lowest);
    assert_eq!(f.connect_at(&b, MTP, None), lowest);

    // Without the tampered transaction the wrong key is what fails.
    let mut without = b.transactions.clone();
    without.remove(3);
    let b = block(50, without);
    assert_eq!(
        f.connect_at(&b, MTP, Some(&two)),
        Err(tx_error(
            &b,
            5,
            TxError::Script {
                input: 0,
                error: ScriptError::EqualVerify,
            }
        ))
    );
}

#[test]
fn verify_tx_scripts_names_the_failing_input() {
    let mut f = Fixture::new();
    let (op1, c1) = f.fund(1, 1, 1_000, 10, false);
    let (op2, c2) = f.fund(2, 2, 2_000, 10, false);
    let coins = [c1.clone(), c2.clone()];
    let signed_by = |second_signer| {
        let inputs = [
            Spend {
                prevout: op1,
                coin: &c1,
                owner: 1,
                sequence: SEQUENCE_FINAL,
            },
            Spend {
                prevout: op2,
                coin: &c2,
                owner: second_signer,
                sequence: SEQUENCE_FINAL,
            },
        ];
        signed_tx(1, 0, &inputs, vec![pay(3, 2_500)])
    };
    assert_eq!(verify_tx_scripts(&signed_by(2), &coins, &CHAIN), Ok(()));
    assert_eq!(
        verify_tx_scripts(&signed_by(1), &coins, &CHAIN),
        Err(TxError::Script {
            input: 1,
            error: ScriptError::EqualVerify,
        })
    );
}

// --- Lock time (BIP113) --------------------------------------------------------------------------

#[test]
fn check_tx_inputs_refuses_a_coinbase() {
    let f = Fixture::new();
    let cb = coinbase_paying(50, SUBSIDY);
    assert_eq!(
        check_tx_inputs(&cb, &[], 50, MTP, &f.spec, &f.times),
        Err(TxError::UnexpectedCoinbase)
    );
}

#[test]
fn a_failing_utxo_store_is_reported_as_a_storage_error() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let tx = spend(op, &coin, 1, vec![pay(2, 990_000)]);
    let b = block(50, vec![coinbase_paying(50, SUBSIDY), tx]);
    let ctx = ConnectContext {
        spec: &f.spec,
        chain_id: CHAIN,
        median_time_past: MTP,
        contracts: None,
        script_cache: None,
        assume_valid: false,
    };
    assert_eq!(
        connect_block(&b, &ctx, &BrokenUtxos, &f.times, None),
        Err(tx_error(
            &b,
            1,
            TxError::Storage(StoreError::Backend("disk unreadable".into()))
        ))
    );
}

#[test]
fn connecting_the_same_block_twice_gives_equal_changes() {
    let mut f = Fixture::new();
    let (op1, c1) = f.fund(1, 1, 1_000_000, 10, false);
    let (op2, c2) = f.fund(2, 2, SUBSIDY, 3, true);
    let parent = spend(op1, &c1, 1, vec![pay(3, 600_000), pay(4, 390_000)]);
    let (mid_op, mid) = new_coin(&parent, 0, 103, false);
    let child = spend(mid_op, &mid, 3, vec![pay(5, 590_000), burn(0, b"note")]);
    let other = spend(op2, &c2, 2, vec![pay(6, SUBSIDY - 5_000)]);
    let b = block(
        103,
        vec![coinbase_paying(103, SUBSIDY + 25_000), parent, child, other],
    );

    let first = f.connect(&b).expect("valid block");
    let second = f.connect(&b).expect("valid block");
    assert_eq!(first, second);
    assert_eq!(f.connect_at(&b, MTP, Some(&pool(2))), Ok(first.clone()));
    assert_eq!(first.fees, units(10_000 + 10_000 + 5_000));
    assert_eq!(first.spent, vec![(op1, c1), (op2, c2)]);
    assert_eq!(first.created.len(), 4); // coinbase, parent's second output, child's, other's
}

// --- UTXO-set hash -------------------------------------------------------------------------------

mod locks;
mod utxo_set;

/// `connect` with `cache` consulted.
fn connect_cached(
    f: &Fixture,
    block: &Block,
    cache: &ScriptCache,
) -> Result<BlockChanges, BlockError> {
    let ctx = ConnectContext {
        spec: &f.spec,
        chain_id: CHAIN,
        median_time_past: MTP,
        contracts: None,
        script_cache: Some(CacheUse::counted(cache)),
        assume_valid: false,
    };
    connect_block(block, &ctx, &f.utxos, &f.times, None)
}

#[test]
fn a_cached_transaction_connects_without_running_its_scripts_again() {
    let mut f = Fixture::new();
    let (op1, c1) = f.fund(1, 1, 1_000_000, 10, false);
    let (op2, c2) = f.fund(2, 2, 1_000_000, 10, false);
    let first = spend(op1, &c1, 1, vec![pay(3, 990_000)]);
    let second = spend(op2, &c2, 2, vec![pay(4, 990_000)]);
    let b = block(
        50,
        vec![coinbase_paying(50, SUBSIDY + 20_000), first.clone(), second],
    );
    let cache = ScriptCache::new(16);
    // Nothing admitted: both transactions verified in full.
    let uncached = connect_cached(&f, &b, &cache).expect("valid");
    assert_eq!((cache.hits(), cache.misses()), (0, 2));
    // The first one admitted (its key as the mempool records it): one hit, one miss, the same
    // changes.
    cache.insert(consensus_key(
        &CHAIN,
        &first.txid(),
        std::slice::from_ref(&c1),
    ));
    assert_eq!(connect_cached(&f, &b, &cache), Ok(uncached));
    assert_eq!((cache.hits(), cache.misses()), (1, 3));
}

#[test]
fn the_cache_never_vouches_for_other_coins_another_chain_or_other_flags() {
    let mut f = Fixture::new();
    let (op, coin) = f.fund(1, 1, 1_000_000, 10, false);
    let tx = spend(op, &coin, 1, vec![pay(3, 990_000)]);
    let cache = ScriptCache::new(16);
    cache.insert(consensus_key(
        &CHAIN,
        &tx.txid(),
        std::slice::from_ref(&coin),
    ));
    // A reorganisation put a different coin under the same outpoint (the value its signature
    // does not commit to): another key, so the scripts run and fail.
    let mut other = coin.clone();
    other.output.value = units(1_000_001);
    f.utxos.0.insert(op, other.clone());
    let b = block(50, vec![coinbase_paying(50, SUBSIDY + 10_001), tx.clone()]);
    assert_eq!(
        connect_cached(&f, &b, &cache),
        Err(tx_error(
            &b,
            1,
            TxError::Script {
                input: 0,
                error: ScriptError::SigNullFail,
            }
        ))
    );
    assert_eq!((cache.hits(), cache.misses()), (0, 1));
    let key = consensus_key(&CHAIN, &tx.txid(), std::slice::from_ref(&coin));
    assert_ne!(key, consensus_key(&CHAIN, &tx.txid(), &[other]));
    assert_ne!(
        key,
        consensus_key(
            &Hash256::from_byte_array([0xc1; 32]),
            &tx.txid(),
            std::slice::from_ref(&coin)
        )
    );
    let fewer_flags = crate::CONSENSUS_SCRIPT_FLAGS.difference(VerifyFlags::NULLFAIL);
    assert_ne!(
        key,
        ScriptCache::key(&CHAIN, fewer_flags, &tx.txid(), &[coin])
    );
}
