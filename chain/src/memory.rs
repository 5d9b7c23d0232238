//! An in-memory [`ChainView`]: the dev genesis as tip, and whatever coins a test or benchmark
//! puts in its UTXO set. Mempool policy and block templates are exercised with it without
//! RocksDB (feature `test-utils`). Also the funding spec and the block builders the RocksDB
//! benchmarks and the chain's tests share ([`dev_yaml_funding_anyone`], [`fan_out`],
//! [`mine_on_tip`], [`mine_on`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use i8o8i_config::builtin_chain_spec;
use i8o8i_contract_engine::ContractStateReader;
use i8o8i_contract_engine::state::MemoryState;
use i8o8i_primitives::test_utils::{p2pkh_script, secret_key};
use i8o8i_primitives::{
    Amount, Coin, Hash256, OutPoint, StoreError, Transaction, TxIn, TxOut, Txid, U256,
};
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::state::{ChainTimeReader, UtxoReader};
use i8o8i_script_vm::{Builder, ScriptBuf, opcodes, templates};

use crate::chain::Tip;
use crate::view::ChainView;

/// A chain of one block (the dev genesis) with the coins put in its UTXO set.
pub struct MemoryChain {
    /// The dev chain spec.
    pub spec: ChainSpec,
    /// The genesis block.
    pub tip: Tip,
    /// The UTXO set.
    pub coins: BTreeMap<OutPoint, Coin>,
    /// Transactions that count as confirmed.
    pub confirmed: BTreeSet<Txid>,
    /// Contract state.
    pub state: Arc<MemoryState>,
}

impl Default for MemoryChain {
    fn default() -> Self {
        MemoryChain::new()
    }
}

impl MemoryChain {
    /// The dev genesis with an empty UTXO set.
    pub fn new() -> MemoryChain {
        let spec = ChainSpec::from_yaml(builtin_chain_spec("dev").expect("dev spec"))
            .expect("the shipped dev spec parses");
        let genesis = spec.genesis_block();
        MemoryChain {
            tip: Tip {
                hash: genesis.header.hash(),
                header: genesis.header,
                work: U256::from(1u64),
            },
            spec,
            coins: BTreeMap::new(),
            confirmed: BTreeSet::new(),
            state: Arc::new(MemoryState::default()),
        }
    }

    /// Adds a confirmed, non-coinbase coin of `value` units locked to `test_utils` key `seed`,
    /// at an outpoint named by `n`.
    pub fn fund(&mut self, n: u8, seed: u8, value: u64) -> OutPoint {
        let outpoint = OutPoint {
            txid: Txid::from_byte_array([n; 32]),
            index: 0,
        };
        self.add_coin(
            outpoint,
            TxOut {
                value: Amount::from_units(value),
                script_pubkey: p2pkh_script(&secret_key(seed)),
            },
        );
        outpoint
    }

    /// Adds a confirmed anyone-can-spend coin of `value` units at an outpoint named by `n`.
    pub fn fund_anyone(&mut self, n: u64, value: u64) -> OutPoint {
        let mut txid = [0xa0; 32];
        txid[..8].copy_from_slice(&n.to_le_bytes());
        let outpoint = OutPoint {
            txid: Txid::from_byte_array(txid),
            index: 0,
        };
        self.add_coin(
            outpoint,
            TxOut {
                value: Amount::from_units(value),
                script_pubkey: anyone_can_spend(),
            },
        );
        outpoint
    }

    /// Adds a confirmed, non-coinbase coin at `outpoint`.
    pub fn add_coin(&mut self, outpoint: OutPoint, output: TxOut) {
        let coin = Coin {
            output,
            height: 0,
            coinbase: false,
        };
        self.coins.insert(outpoint, coin);
    }
}

impl UtxoReader for MemoryChain {
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        Ok(self.coins.get(outpoint).cloned())
    }
}

impl ChainTimeReader for MemoryChain {
    fn median_time_past_at(&self, _height: u64) -> Result<u64, StoreError> {
        Ok(self.tip.header.time)
    }
}

impl ChainView for MemoryChain {
    fn spec(&self) -> &ChainSpec {
        &self.spec
    }
    fn chain_id(&self) -> Hash256 {
        Hash256::from_byte_array(*self.tip.hash.as_bytes())
    }
    fn tip(&self) -> Tip {
        self.tip.clone()
    }
    fn utxos(&self) -> &dyn UtxoReader {
        self
    }
    fn tip_median_time_past(&self) -> Result<u64, StoreError> {
        Ok(self.tip.header.time)
    }
    fn with_times<R>(&self, f: impl FnOnce(&dyn ChainTimeReader) -> R) -> R {
        f(self)
    }
    fn is_confirmed(&self, txid: &Txid) -> Result<bool, StoreError> {
        Ok(self.confirmed.contains(txid))
    }
    fn contract_state(&self) -> Arc<dyn ContractStateReader> {
        self.state.clone()
    }
}

/// P2SH of `OP_TRUE`: a standard output that anyone spends by pushing the one-byte redeem
/// script, so a pool of such spends is checked at the cost of hashing, not of signatures.
pub fn anyone_can_spend() -> ScriptBuf {
    templates::p2sh_for(&true_script())
}

fn true_script() -> ScriptBuf {
    Builder::new().push_opcode(opcodes::OP_TRUE).into_script()
}

/// A transaction spending the anyone-can-spend coins `inputs` into anyone-can-spend outputs
/// of the `outputs` values (the fee is what the inputs hold beyond them).
pub fn anyone_can_spend_tx(inputs: &[OutPoint], outputs: &[u64]) -> Transaction {
    let script_sig = Builder::new()
        .push_slice(true_script().as_bytes())
        .into_script();
    Transaction {
        version: 1,
        inputs: inputs
            .iter()
            .map(|prevout| TxIn {
                prevout: *prevout,
                script_sig: script_sig.clone(),
                sequence: u32::MAX,
            })
            .collect(),
        outputs: outputs
            .iter()
            .map(|value| TxOut {
                value: Amount::from_units(*value),
                script_pubkey: anyone_can_spend(),
            })
            .collect(),
        lock_time: 0,
        payload: None,
    }
}

/// The dev chain spec's YAML with `amount` allocated at genesis to [`anyone_can_spend`] and a
/// coinbase maturity of 1 (so the allocation is spendable in block 1): the funding of the
/// RocksDB benchmarks, which then spend without signatures.
pub fn dev_yaml_funding_anyone(amount: u64) -> String {
    let dev = builtin_chain_spec("dev").expect("dev spec");
    let network = ChainSpec::from_yaml(dev)
        .expect("the shipped dev spec parses")
        .network;
    let address = i8o8i_primitives::address::Address::from_script(network, &anyone_can_spend())
        .expect("P2SH has an address");
    dev.replace(
        "allocations: []",
        &format!("allocations:\n    - address: {address}\n      amount: {amount}"),
    )
    .replace("coinbase_maturity: 100", "coinbase_maturity: 1")
}

/// A proof-of-work block on the tip of `chain` paying [`anyone_can_spend`], carrying `txs`
/// after the pool's (empty) selection. Panics if proof of work does not run at the next height.
pub fn mine_on_tip(chain: &crate::Chain, txs: Vec<Transaction>) -> i8o8i_primitives::Block {
    let pool = crate::Mempool::new(i8o8i_config::MempoolConfig::default());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut template = crate::miner::pow_template(chain, &pool, &anyone_can_spend(), 0, now)
        .expect("proof of work at the next height");
    if !txs.is_empty() {
        template.block.transactions.extend(txs);
        // A block meant to fail keeps the template's root: it is refused for what it is.
        let _ = chain.commit_to_state(&mut template.block);
    }
    crate::miner::solve(
        chain,
        template,
        1,
        &std::sync::atomic::AtomicBool::new(false),
    )
    .expect("dev difficulty is trivial")
}

/// A proof-of-work block on any stored `parent` (a side branch too), one second after it,
/// its coinbase paying the subsidy to `payout` and made distinct by `tag`, then `txs`. Panics
/// if proof of work does not run at that height.
pub fn mine_on(
    chain: &crate::Chain,
    parent: &i8o8i_primitives::Header,
    payout: &ScriptBuf,
    tag: u64,
    txs: Vec<Transaction>,
) -> i8o8i_primitives::Block {
    use i8o8i_primitives::{Block, Header, Seal};
    let height = parent.height + 1;
    let engine = chain
        .pow_engine_at(height)
        .expect("proof of work at this height");
    let mut transactions = vec![i8o8i_runtime::consensus::coinbase_transaction(
        height,
        &tag.to_le_bytes(),
        vec![TxOut {
            value: chain.spec().subsidy(height),
            script_pubkey: payout.clone(),
        }],
    )];
    transactions.extend(txs);
    let mut block = Block {
        header: Header {
            version: 1,
            parent: parent.hash(),
            height,
            time: parent.time + 1,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal: Seal::Pow {
                bits: engine.next_bits(parent),
                nonce: 0,
            },
        },
        transactions,
    };
    // A block meant to fail keeps a zero state root: it is refused for what it is.
    let _ = chain.commit_to_state(&mut block);
    block.header = engine
        .mine(block.header.clone(), 0, 1, 1 << 24, &|| false)
        .expect("dev difficulty is trivial");
    block
}

/// Fans the anyone-can-spend genesis allocation of a [`dev_yaml_funding_anyone`] chain
/// (`funded` units) out into `count` coins of `value` locked to `script`, 1,000 to a
/// transaction and 50 transactions to a block (mined and imported on the tip); returns the
/// coins. Panics if the allocation is too small or a block is refused.
pub fn fan_out(
    chain: &crate::Chain,
    script: &ScriptBuf,
    count: usize,
    value: u64,
    funded: u64,
) -> Vec<OutPoint> {
    const PER_TX: usize = 1_000;
    let mut change = OutPoint {
        txid: chain.spec().genesis_block().transactions[0].txid(),
        index: 0,
    };
    let mut left = funded;
    let mut coins = Vec::with_capacity(count);
    let mut pending = Vec::new();
    let import = |txs| {
        let outcome = chain
            .import_block(mine_on_tip(chain, txs))
            .expect("a funding block");
        assert_eq!(outcome.connected.len(), 1, "a funding block connects");
    };
    while coins.len() < count {
        // One transaction: change first, then the coins.
        left = left
            .checked_sub(PER_TX as u64 * value)
            .expect("the allocation covers the coins");
        let mut outputs = vec![left];
        outputs.extend(std::iter::repeat_n(value, PER_TX));
        let mut tx = anyone_can_spend_tx(&[change], &outputs);
        for out in &mut tx.outputs[1..] {
            out.script_pubkey = script.clone();
        }
        let txid = tx.txid();
        change = OutPoint { txid, index: 0 };
        coins.extend((1..=PER_TX as u32).map(|index| OutPoint { txid, index }));
        pending.push(tx);
        if pending.len() == 50 {
            import(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        import(pending);
    }
    coins.truncate(count);
    coins
}
