//! The blocks the attacks send. Each is well formed and correctly signed or mined: what makes
//! it an attack is who signed it, for which slot, or on which ancestor, so only consensus
//! rules (not decoding or signature checks) can stop it.

use i8o8i_primitives::{Amount, Block, Hash256, Header, Seal, Transaction, TxOut};
use i8o8i_runtime::consensus::coinbase_transaction;
use i8o8i_runtime::consensus::{PowEngine, Schedule, ScheduledEngine, SlotEngine};
use i8o8i_runtime::randomness::Contribution;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::staking::key_script;
use secp256k1::SecretKey;

/// The first second of `slot` under the slot engine of `height`; `None` if proof of work
/// runs there.
pub fn slot_time(spec: &ChainSpec, height: u64, slot: u64) -> Option<u64> {
    match Schedule::new(spec).at(height) {
        ScheduledEngine::Slot(engine) => Some(engine.slot_start(slot)),
        ScheduledEngine::Pow(_) => None,
    }
}

/// The slot `time` falls in under the slot engine of `height` (`None` under proof of work).
pub fn slot_at(spec: &ChainSpec, height: u64, time: u64) -> Option<u64> {
    match Schedule::new(spec).at(height) {
        ScheduledEngine::Slot(engine) => Some(engine.slot_of(time)),
        ScheduledEngine::Pow(_) => None,
    }
}

/// What a forged block's header commits to as its state root: the root the block makes, from
/// whoever can compute it (a node's `Chain::preview_block`), or `None` (a zero root: such a
/// block still counts as a signed header — double-signing evidence — but is refused if a node
/// tries to connect it).
pub type StateRootOf<'a> = &'a dyn Fn(&Block) -> Option<Hash256>;

/// A block on `parent` for `slot`, sealed by `secret`, its coinbase paying the subsidy to the
/// sealing key (what an honest producer makes) and committing to a new hash chain derived from
/// `tag` as its randomness contribution (always allowed), so that two blocks for one slot
/// differ. Panics if proof of work runs at the child's height.
pub fn slot_block(
    spec: &ChainSpec,
    parent: &Header,
    slot: u64,
    secret: &SecretKey,
    tag: &[u8],
    state_root: StateRootOf<'_>,
) -> Block {
    let height = parent.height + 1;
    let time = slot_time(spec, height, slot).expect("a slot engine runs at this height");
    let key = secp256k1::PublicKey::from_secret_key(secret).serialize();
    let commitment = Contribution::Commit(i8o8i_primitives::sha256d(tag)).to_bytes();
    let coinbase = coinbase_transaction(
        height,
        &commitment,
        vec![TxOut {
            value: spec.subsidy(height),
            script_pubkey: key_script(&key),
        }],
    );
    let mut block = child_block(parent, time, coinbase, Seal::Pow { bits: 0, nonce: 0 });
    // The state depends on the seal's slot and key, the signature on the state root.
    SlotEngine::seal(&mut block.header, slot, secret);
    if let Some(root) = state_root(&block) {
        block.header.state_root = root;
        SlotEngine::seal(&mut block.header, slot, secret);
    }
    block
}

/// A child of `parent` at `time` holding only `coinbase`, its merkle root set and `seal` not
/// yet solved or signed.
fn child_block(parent: &Header, time: u64, coinbase: Transaction, seal: Seal) -> Block {
    let mut block = Block {
        header: Header {
            version: 1,
            parent: parent.hash(),
            height: parent.height + 1,
            time,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal,
        },
        transactions: vec![coinbase],
    };
    block.header.tx_root = block.compute_tx_root();
    block
}

/// Two different blocks for one slot on one parent, both sealed by `secret`: double signing.
pub fn equivocation(
    spec: &ChainSpec,
    parent: &Header,
    slot: u64,
    secret: &SecretKey,
    state_root: StateRootOf<'_>,
) -> (Block, Block) {
    (
        slot_block(spec, parent, slot, secret, b"equivocation A", state_root),
        slot_block(spec, parent, slot, secret, b"equivocation B", state_root),
    )
}

/// A branch on `ancestor` with a block in every slot from the one after the ancestor's up to
/// `last_slot`, all sealed by `secret` (typically a key that owns none of them).
pub fn forged_branch(
    spec: &ChainSpec,
    ancestor: &Header,
    secret: &SecretKey,
    last_slot: u64,
) -> Vec<Block> {
    let first = match ancestor.seal {
        Seal::Producer { slot, .. } => slot + 1,
        Seal::Pow { .. } => {
            slot_at(spec, ancestor.height + 1, ancestor.time).unwrap_or_default() + 1
        }
    };
    let mut branch: Vec<Block> = Vec::new();
    for slot in first..=last_slot {
        let parent = branch.last().map_or(ancestor, |b| &b.header).clone();
        // Refused for its seal before any state matters.
        branch.push(slot_block(spec, &parent, slot, secret, b"forged", &|_| {
            None
        }));
    }
    branch
}

/// `count` blocks from genesis, each mined at the easiest target proof of work allows and
/// paying its subsidy to nobody's key (an empty script anyone could claim: this chain is
/// meant to be refused, not spent). Times rise by one second every other block, just enough
/// to stay after the median time past. Panics if proof of work does not run at heights
/// `1..=count`.
pub fn low_work_chain(spec: &ChainSpec, count: u64) -> Vec<Block> {
    let schedule = Schedule::new(spec);
    let mut parent = spec.genesis_block().header;
    let mut chain = Vec::with_capacity(count as usize);
    for height in 1..=count {
        let ScheduledEngine::Pow(engine) = schedule.at(height) else {
            panic!("proof of work does not run at height {height}");
        };
        let block = mine_on(engine, spec, &parent, spec.genesis.time + height / 2 + 1);
        parent = block.header.clone();
        chain.push(block);
    }
    chain
}

fn mine_on(engine: &PowEngine, spec: &ChainSpec, parent: &Header, time: u64) -> Block {
    let height = parent.height + 1;
    let coinbase = coinbase_transaction(
        height,
        b"low work",
        vec![TxOut {
            value: spec.subsidy(height).min(Amount::from_units(1)),
            script_pubkey: Default::default(),
        }],
    );
    let seal = Seal::Pow {
        bits: engine.next_bits(parent),
        nonce: 0,
    };
    let mut block = child_block(parent, time, coinbase, seal);
    block.header = engine
        .mine(block.header, 0, 1, u64::MAX, &|| false)
        .expect("the easiest target is met within a few tries");
    block
}
