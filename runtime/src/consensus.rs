//! Consensus engines: who may seal a block, how a seal is checked, and how much a block weighs
//! in fork choice.
//!
//! The chain spec's schedule says which engine runs which heights; every node switches at the
//! same height, so a switch never forks the network. Proof of work is implemented; the trait is
//! shaped for the slot-based engines (PoS, DPoS) that come next: they check a producer signature
//! instead of a hash, weigh blocks by filled slots, and report finality.

use i8o8i_script_vm::Builder;

use crate::spec::{ChainSpec, EngineKind, EngineParams, PowParams, Retarget, ScheduleEntry};
use i8o8i_primitives::StoreError;
use i8o8i_primitives::pow::{
    U256, compact_to_target, hash_meets_target, target_to_compact, work_from_compact,
};
use i8o8i_primitives::{BlockHash, Header, OutPoint, Seal, Transaction, TxIn, TxOut};

/// Reads headers by hash; `Ok(None)` means "not known", not an error.
pub trait HeaderReader: Send + Sync {
    /// The header with `hash`.
    ///
    /// # Errors
    /// Only for storage failures.
    fn header(&self, hash: &BlockHash) -> Result<Option<Header>, StoreError>;
}

/// Why a header is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The parent is not known.
    #[error("parent {0} is unknown")]
    UnknownParent(BlockHash),
    /// Height is not parent height + 1.
    #[error("height {got}, expected {expected}")]
    BadHeight {
        /// Header height.
        got: u64,
        /// Parent height + 1.
        expected: u64,
    },
    /// Not after the median of the last 11 block times.
    #[error("time {time} is not after the median time past {median_time_past}")]
    TimeTooOld {
        /// Header time.
        time: u64,
        /// Median time past of the parent.
        median_time_past: u64,
    },
    /// Too far in the future for this node's clock.
    #[error("time {time} is more than the allowed drift ahead of the local clock (max {max})")]
    TimeTooNew {
        /// Header time.
        time: u64,
        /// Latest acceptable time.
        max: u64,
    },
    /// A seal of the wrong engine for this height.
    #[error("block at height {height} must be sealed by {expected}")]
    WrongSeal {
        /// Height.
        height: u64,
        /// Engine scheduled there.
        expected: EngineKind,
    },
    /// The header's difficulty is not the one the chain requires.
    #[error("difficulty bits {got:#010x}, expected {expected:#010x}")]
    BadBits {
        /// Header bits.
        got: u32,
        /// Required bits.
        expected: u32,
    },
    /// The hash does not meet the target.
    #[error("block hash {hash} does not meet its target")]
    InsufficientWork {
        /// Header hash.
        hash: BlockHash,
    },
    /// Header version this node does not know.
    #[error("unsupported header version {0}")]
    Version(u32),
    /// Storage failed while reading ancestors.
    #[error("storage: {0}")]
    Storage(StoreError),
    /// A slot engine has nobody to draw a producer from (no stake, no delegates).
    #[error("no producer can be drawn: no stake and no fallback producers")]
    NoProducers,
    /// Sealed by a producer of the active set, but not the one of this slot.
    #[error("slot {slot} belongs to {expected}, block sealed by {got}")]
    NotLeader {
        /// The header's slot.
        slot: u64,
        /// The slot's producer (hex key).
        expected: String,
        /// The sealing key (hex).
        got: String,
    },
    /// Sealed by a key outside the active set (no stake in the snapshot, or a delegate not
    /// voted into the round).
    #[error("{key} is not in the active producer set")]
    NotActiveProducer {
        /// The sealing key (hex).
        key: String,
    },
    /// The slot is not after the parent's.
    #[error("slot {slot} is not after the parent's slot {parent_slot}")]
    PastSlot {
        /// The header's slot.
        slot: u64,
        /// The parent's slot.
        parent_slot: u64,
    },
    /// The slot has not begun on this node's clock.
    #[error("slot {slot} has not begun (current slot {current})")]
    FutureSlot {
        /// The header's slot.
        slot: u64,
        /// This node's current slot.
        current: u64,
    },
    /// The producer signature does not verify (or is malformed).
    #[error("the producer signature is invalid")]
    BadSignature,
    /// The header time lies outside its slot.
    #[error("time {time} is outside slot {slot} ({start}..{end})")]
    TimeOutsideSlot {
        /// Header time.
        time: u64,
        /// The header's slot.
        slot: u64,
        /// First second of the slot.
        start: u64,
        /// First second after it.
        end: u64,
    },
    /// A second, different block sealed by the same key for the same slot (double signing).
    #[error("{key} already sealed block {first} for slot {slot}")]
    Equivocation {
        /// The slot.
        slot: u64,
        /// The sealing key (hex).
        key: String,
        /// The block it sealed first.
        first: BlockHash,
    },
    /// A block that would replace the last irreversible block.
    #[error("height {height} conflicts with the last irreversible block at {irreversible}")]
    BelowIrreversible {
        /// The block's height.
        height: u64,
        /// Height of the last irreversible block.
        irreversible: u64,
    },
}

impl From<StoreError> for HeaderError {
    fn from(e: StoreError) -> Self {
        HeaderError::Storage(e)
    }
}

/// A consensus engine.
pub trait ConsensusEngine: Send + Sync {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Checks the seal of `header`, a child of `parent`: proof of work, or (slot engines) that the
    /// signer is the leader of the header's slot.
    ///
    /// # Errors
    /// [`HeaderError`] naming what is wrong.
    fn check_seal(&self, header: &Header, parent: &Header) -> Result<(), HeaderError>;

    /// What `header` adds to its chain's weight for fork choice (PoW: expected hashes).
    fn weight(&self, header: &Header) -> U256;
}

/// Median of the times of `tip` and up to ten of its ancestors (BIP113's median time past).
///
/// # Errors
/// [`HeaderError::Storage`] if an ancestor cannot be read; a missing ancestor ends the walk
/// (only genesis has none).
pub fn median_time_past(tip: &Header, chain: &dyn HeaderReader) -> Result<u64, HeaderError> {
    let mut times = Vec::with_capacity(11);
    times.push(tip.time);
    let mut cursor = tip.parent;
    while times.len() < 11 && tip.height + 1 > times.len() as u64 {
        match chain.header(&cursor)? {
            Some(h) => {
                times.push(h.time);
                cursor = h.parent;
            }
            None => break,
        }
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

/// The coinbase scriptSig must start with the block height (BIP34), which makes every
/// coinbase, and so every txid, unique.
pub fn coinbase_height_prefix(height: u64) -> Vec<u8> {
    Builder::new()
        .push_int(i64::try_from(height).unwrap_or(i64::MAX))
        .into_script()
        .into_bytes()
}

/// A coinbase transaction at `height`: one input whose script commits to the height (BIP34)
/// and then pushes `extra` (the miner's extra nonce, or any tag), and `outputs`. Version 1,
/// lock time 0, no payload — what every producer and test builds.
pub fn coinbase_transaction(height: u64, extra: &[u8], outputs: Vec<TxOut>) -> Transaction {
    let mut script_sig = coinbase_height_prefix(height);
    script_sig.extend_from_slice(Builder::new().push_slice(extra).as_bytes());
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: script_sig.into(),
            sequence: u32::MAX,
        }],
        outputs,
        lock_time: 0,
        payload: None,
    }
}

/// Proof of work: double SHA-256 below a target, retargeted by ASERT.
#[derive(Debug, Clone)]
pub struct PowEngine {
    params: PowParams,
    spacing: u64,
    pow_limit: U256,
    /// ASERT anchor: the genesis block (height 0), its bits, and the time its parent would have had.
    anchor_height: u64,
    anchor_parent_time: u64,
    anchor_bits: u32,
}

impl PowEngine {
    /// The engine for `params`, anchored at the chain's genesis.
    pub fn new(spec: &ChainSpec, params: &PowParams) -> PowEngine {
        let limit = compact_to_target(params.initial_bits).unwrap_or([0xff; 32]);
        PowEngine {
            params: params.clone(),
            spacing: spec.target_block_time,
            pow_limit: U256::from_big_endian(&limit),
            anchor_height: 0,
            anchor_parent_time: spec.genesis.time.saturating_sub(spec.target_block_time),
            anchor_bits: params.initial_bits,
        }
    }

    /// The engine of the chain's first proof-of-work schedule entry (a validated spec starts
    /// with one); `None` if the schedule has none.
    pub fn from_spec(spec: &ChainSpec) -> Option<PowEngine> {
        spec.consensus.iter().find_map(|e| match &e.engine {
            EngineParams::Pow(params) => Some(PowEngine::new(spec, params)),
            _ => None,
        })
    }

    /// The easiest target allowed (the chain's first PoW target).
    pub fn pow_limit(&self) -> U256 {
        self.pow_limit
    }

    /// The difficulty bits required of the child of `parent`.
    pub fn next_bits(&self, parent: &Header) -> u32 {
        match self.params.retarget {
            Retarget::None => self.params.initial_bits,
            Retarget::Asert => {
                let half_life = self.params.half_life.unwrap_or(1).max(1);
                let anchor = compact_to_target(self.anchor_bits)
                    .map(|t| U256::from_big_endian(&t))
                    .unwrap_or(self.pow_limit);
                let time_diff = i128::from(parent.time) - i128::from(self.anchor_parent_time);
                let height_diff = i128::from(parent.height) - i128::from(self.anchor_height);
                let target = asert_target(
                    anchor,
                    time_diff,
                    height_diff,
                    i128::from(self.spacing),
                    i128::from(half_life),
                    self.pow_limit,
                );
                target_to_compact(&target.to_big_endian())
            }
        }
    }

    /// Searches nonces `start, start + step, ...` (at most `tries` of them) for one that makes
    /// `header` meet its target; returns the sealed header, or `None` if none did or `stop()`.
    pub fn mine(
        &self,
        mut header: Header,
        start: u64,
        step: u64,
        tries: u64,
        stop: &dyn Fn() -> bool,
    ) -> Option<Header> {
        let Seal::Pow { bits, .. } = header.seal else {
            return None;
        };
        let target = compact_to_target(bits)?;
        let mut nonce = start;
        for i in 0..tries {
            if i % 4096 == 0 && stop() {
                return None;
            }
            header.seal = Seal::Pow { bits, nonce };
            if hash_meets_target(&header.hash(), &target) {
                return Some(header);
            }
            nonce = nonce.wrapping_add(step);
        }
        None
    }
}

impl ConsensusEngine for PowEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Pow
    }

    fn check_seal(&self, header: &Header, parent: &Header) -> Result<(), HeaderError> {
        let Seal::Pow { bits, .. } = header.seal else {
            return Err(HeaderError::WrongSeal {
                height: header.height,
                expected: EngineKind::Pow,
            });
        };
        let expected = self.next_bits(parent);
        if bits != expected {
            return Err(HeaderError::BadBits {
                got: bits,
                expected,
            });
        }
        let target = compact_to_target(bits).ok_or(HeaderError::BadBits {
            got: bits,
            expected,
        })?;
        if !hash_meets_target(&header.hash(), &target) {
            return Err(HeaderError::InsufficientWork {
                hash: header.hash(),
            });
        }
        Ok(())
    }

    fn weight(&self, header: &Header) -> U256 {
        match header.seal {
            Seal::Pow { bits, .. } => work_from_compact(bits).unwrap_or_default(),
            Seal::Producer { .. } => U256::zero(),
        }
    }
}

/// What a block sealed by a slot engine adds to chain weight: 2^128, more than any PoW block's
/// expected hashes, so after a switch to PoS / DPoS the branch with more filled slots wins
/// whatever proof of work the two branches carried before the switch.
pub fn slot_block_weight() -> U256 {
    U256::one() << 128
}

/// The header checks of proof of stake and delegated proof of stake that need no chain state:
/// the seal's slot, its time window and the producer signature. Whether the signer is the
/// slot's producer depends on the stake ledger and is checked when the block connects
/// ([`crate::producers::ProducerState::advance`]).
#[derive(Debug, Clone)]
pub struct SlotEngine {
    kind: EngineKind,
    from_height: u64,
    slot_secs: u64,
    genesis_time: u64,
    max_drift: u64,
}

impl SlotEngine {
    /// The engine of a PoS / DPoS schedule entry; `None` for PoW.
    pub fn new(spec: &ChainSpec, entry: &ScheduleEntry) -> Option<SlotEngine> {
        let slot_secs = match &entry.engine {
            EngineParams::Pos(p) => p.slot_secs,
            EngineParams::Dpos(d) => d.slot_secs,
            EngineParams::Pow(_) => return None,
        };
        Some(SlotEngine {
            kind: entry.engine.kind(),
            from_height: entry.from_height,
            slot_secs: slot_secs.max(1),
            genesis_time: spec.genesis.time,
            max_drift: spec.max_clock_drift,
        })
    }

    /// Slot length in seconds.
    pub fn slot_secs(&self) -> u64 {
        self.slot_secs
    }

    /// The slot `time` falls in (0 before genesis).
    pub fn slot_of(&self, time: u64) -> u64 {
        crate::slots::slot_of(time, self.genesis_time, self.slot_secs).unwrap_or(0)
    }

    /// The first second of `slot`.
    pub fn slot_start(&self, slot: u64) -> u64 {
        crate::slots::slot_start(slot, self.genesis_time, self.slot_secs).unwrap_or(u64::MAX)
    }

    /// When a block of `slot` may be imported on a clock reading that time: the slot's start
    /// less the allowed clock drift.
    pub fn ready_at(&self, slot: u64) -> u64 {
        self.slot_start(slot).saturating_sub(self.max_drift)
    }

    /// Refuses a header whose slot begins more than the chain's clock drift after `now` (the
    /// one use of the wall clock: slot timing). Not a verdict on the block: it is early, and
    /// importable from [`SlotEngine::ready_at`].
    ///
    /// # Errors
    /// [`HeaderError::FutureSlot`].
    pub fn check_not_future(&self, header: &Header, now: u64) -> Result<(), HeaderError> {
        if let Seal::Producer { slot, .. } = header.seal
            && now < self.ready_at(slot)
        {
            return Err(HeaderError::FutureSlot {
                slot,
                current: self.slot_of(now),
            });
        }
        Ok(())
    }

    /// Seals `header` for `slot` with `secret`: sets the producer seal and signs
    /// [`Header::signing_hash`] (compact ECDSA, low S).
    pub fn seal(header: &mut Header, slot: u64, secret: &secp256k1::SecretKey) {
        let pubkey = secp256k1::PublicKey::from_secret_key(secret).serialize();
        header.seal = Seal::Producer {
            slot,
            pubkey,
            signature: Vec::new(),
        };
        let digest = header.signing_hash();
        let signature =
            secp256k1::ecdsa::sign(secp256k1::Message::from_digest(*digest.as_bytes()), secret);
        if let Seal::Producer { signature: s, .. } = &mut header.seal {
            *s = signature.serialize_compact().to_vec();
        }
    }
}

impl ConsensusEngine for SlotEngine {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn check_seal(&self, header: &Header, parent: &Header) -> Result<(), HeaderError> {
        let Seal::Producer { slot, .. } = &header.seal else {
            return Err(HeaderError::WrongSeal {
                height: header.height,
                expected: self.kind,
            });
        };
        let slot = *slot;
        let start = self.slot_start(slot);
        let end = start.saturating_add(self.slot_secs);
        if header.time < start || header.time >= end {
            return Err(HeaderError::TimeOutsideSlot {
                time: header.time,
                slot,
                start,
                end,
            });
        }
        // Slots are comparable within one schedule entry; across a switch the time rule
        // (after the median time past) orders blocks.
        if parent.height >= self.from_height
            && let Seal::Producer {
                slot: parent_slot, ..
            } = parent.seal
            && slot <= parent_slot
        {
            return Err(HeaderError::PastSlot { slot, parent_slot });
        }
        producer_signer(header).map(|_| ())
    }

    fn weight(&self, header: &Header) -> U256 {
        match header.seal {
            Seal::Producer { .. } => slot_block_weight(),
            Seal::Pow { bits, .. } => work_from_compact(bits).unwrap_or_default(),
        }
    }
}

/// The key that sealed a slot-engine header, once its signature over
/// [`Header::signing_hash`] verifies.
///
/// # Errors
/// [`HeaderError::BadSignature`] for a malformed key or signature or one that does not verify;
/// [`HeaderError::WrongSeal`] for a proof-of-work seal.
pub fn producer_signer(header: &Header) -> Result<[u8; 33], HeaderError> {
    let Seal::Producer {
        pubkey, signature, ..
    } = &header.seal
    else {
        return Err(HeaderError::WrongSeal {
            height: header.height,
            expected: EngineKind::Pos,
        });
    };
    let key = secp256k1::PublicKey::from_slice(pubkey).map_err(|_| HeaderError::BadSignature)?;
    let sig = secp256k1::ecdsa::Signature::from_compact(signature)
        .map_err(|_| HeaderError::BadSignature)?;
    let digest = header.signing_hash();
    secp256k1::ecdsa::verify(
        &sig,
        secp256k1::Message::from_digest(*digest.as_bytes()),
        &key,
    )
    .map_err(|_| HeaderError::BadSignature)?;
    Ok(*pubkey)
}

/// One schedule entry's engine.
#[derive(Debug, Clone)]
pub enum ScheduledEngine {
    /// Proof of work.
    Pow(PowEngine),
    /// Proof of stake or delegated proof of stake.
    Slot(SlotEngine),
}

impl ScheduledEngine {
    /// As the trait object.
    pub fn as_dyn(&self) -> &dyn ConsensusEngine {
        match self {
            ScheduledEngine::Pow(e) => e,
            ScheduledEngine::Slot(e) => e,
        }
    }
}

/// The chain spec's consensus schedule as engines: the engine for a height is the last entry
/// starting at or below it, so every node switches at the same height.
#[derive(Debug, Clone)]
pub struct Schedule {
    engines: Vec<(u64, ScheduledEngine)>,
}

impl Schedule {
    /// The engines of a validated spec.
    pub fn new(spec: &ChainSpec) -> Schedule {
        let engines = spec
            .consensus
            .iter()
            .map(|entry| {
                let engine = match &entry.engine {
                    EngineParams::Pow(params) => {
                        let mut params = params.clone();
                        if entry.from_height > 0 {
                            // ASERT is anchored at genesis; a later PoW era would be judged by
                            // the stake eras' block rate, so it runs at its initial target.
                            params.retarget = Retarget::None;
                        }
                        ScheduledEngine::Pow(PowEngine::new(spec, &params))
                    }
                    _ => ScheduledEngine::Slot(
                        SlotEngine::new(spec, entry).expect("not a PoW entry"),
                    ),
                };
                (entry.from_height, engine)
            })
            .collect();
        Schedule { engines }
    }

    /// The engine for `height`.
    pub fn at(&self, height: u64) -> &ScheduledEngine {
        self.engines
            .iter()
            .rev()
            .find(|(from, _)| *from <= height)
            .or(self.engines.first())
            .map(|(_, e)| e)
            .expect("a validated schedule has an entry at height 0")
    }

    /// Checks `header`'s seal with the engine of its height.
    ///
    /// # Errors
    /// As [`ConsensusEngine::check_seal`].
    pub fn check_seal(&self, header: &Header, parent: &Header) -> Result<(), HeaderError> {
        self.at(header.height).as_dyn().check_seal(header, parent)
    }

    /// The fork-choice weight of `header`.
    pub fn weight(&self, header: &Header) -> U256 {
        self.at(header.height).as_dyn().weight(header)
    }
}

/// aserti3-2d (Bitcoin Cash, Nov 2020): `anchor * 2^((time_diff - spacing * (height_diff + 1)) /
/// half_life)`, with the power of two approximated by a cubic in 16-bit fixed point so that every
/// node computes the same integer. Clamped to `1..=pow_limit`.
pub fn asert_target(
    anchor: U256,
    time_diff: i128,
    height_diff: i128,
    spacing: i128,
    half_life: i128,
    pow_limit: U256,
) -> U256 {
    // Truncating division (as in the reference), then floor shift and non-negative remainder.
    let exponent = ((time_diff - spacing * (height_diff + 1)) * 65_536) / half_life;
    let shifts = exponent >> 16;
    let frac = (exponent & 0xffff) as u128;
    let factor = 65_536
        + ((195_766_423_245_049u128 * frac
            + 971_821_376u128 * frac * frac
            + 5_127u128 * frac * frac * frac
            + (1u128 << 47))
            >> 48);
    let mut next = anchor.saturating_mul(U256::from(factor));
    let shifts = shifts - 16;
    if shifts <= 0 {
        let right = usize::try_from(-shifts).unwrap_or(usize::MAX);
        next = if right >= 256 {
            U256::zero()
        } else {
            next >> right
        };
    } else {
        let left = usize::try_from(shifts).unwrap_or(usize::MAX);
        // Bits shifted out mean the target overflowed: the easiest target is the answer.
        if left >= 256 || (next << left) >> left != next {
            return pow_limit;
        }
        next <<= left;
    }
    if next.is_zero() {
        U256::one()
    } else if next > pow_limit {
        pow_limit
    } else {
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit() -> U256 {
        U256::from_big_endian(&compact_to_target(0x1f00ffff).unwrap())
    }

    #[test]
    fn asert_keeps_the_target_on_schedule() {
        let anchor = limit() >> 4;
        // Parent exactly on schedule: height_diff blocks after the anchor, (height_diff + 1) spacings.
        assert_eq!(asert_target(anchor, 30 * 11, 10, 30, 3600, limit()), anchor);
    }

    #[test]
    fn asert_doubles_per_half_life_behind_and_halves_ahead() {
        let anchor = limit() >> 4;
        let slow = asert_target(anchor, 30 * 11 + 3600, 10, 30, 3600, limit());
        assert_eq!(slow, anchor * U256::from(2u64));
        let fast = asert_target(anchor, 30 * 11 - 3600, 10, 30, 3600, limit());
        assert_eq!(fast, anchor / U256::from(2u64));
        // Half a half-life: 2^0.5 within the cubic's accuracy (about 0.013%).
        let half = asert_target(anchor, 30 * 11 + 1800, 10, 30, 3600, limit());
        let ideal = anchor * U256::from(14_142u64) / U256::from(10_000u64);
        let diff = if half > ideal {
            half - ideal
        } else {
            ideal - half
        };
        assert!(diff < anchor / U256::from(1_000u64), "{half} vs {ideal}");
    }

    #[test]
    fn asert_clamps_to_the_limits() {
        assert_eq!(
            asert_target(limit(), 1 << 40, 0, 30, 3600, limit()),
            limit()
        );
        assert_eq!(
            asert_target(U256::one(), -(1 << 40), 0, 30, 3600, limit()),
            U256::one()
        );
    }

    #[test]
    fn mining_finds_a_nonce_that_check_seal_accepts() {
        let spec = ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).unwrap();
        let engine = PowEngine::from_spec(&spec).unwrap();
        let genesis = spec.genesis_block().header;
        let child = Header {
            parent: genesis.hash(),
            height: 1,
            time: genesis.time + 2,
            seal: Seal::Pow {
                bits: engine.next_bits(&genesis),
                nonce: 0,
            },
            ..genesis.clone()
        };
        let sealed = engine
            .mine(child, 0, 1, 1_000_000, &|| false)
            .expect("dev difficulty is trivial");
        assert_eq!(engine.check_seal(&sealed, &genesis), Ok(()));
        let mut wrong_bits = sealed.clone();
        wrong_bits.seal = Seal::Pow {
            bits: 0x1d00ffff,
            nonce: 0,
        };
        assert!(matches!(
            engine.check_seal(&wrong_bits, &genesis),
            Err(HeaderError::BadBits { .. })
        ));
    }

    #[test]
    fn testnet_retargets_harder_when_blocks_come_fast() {
        let spec = ChainSpec::from_yaml(include_str!("../../config/chains/testnet.yaml")).unwrap();
        let engine = PowEngine::from_spec(&spec).unwrap();
        let genesis = spec.genesis_block().header;
        let mut parent = genesis.clone();
        parent.height = 100;
        parent.time = genesis.time + 100; // 100 blocks in 100 s instead of 3000 s
        let fast = compact_to_target(engine.next_bits(&parent)).unwrap();
        let base = compact_to_target(spec_bits(&spec)).unwrap();
        assert!(fast < base, "faster blocks must lower the target");
    }

    fn spec_bits(spec: &ChainSpec) -> u32 {
        match &spec.consensus[0].engine {
            EngineParams::Pow(p) => p.initial_bits,
            other => panic!("test spec starts with {other:?}"),
        }
    }

    /// Headers by hash, in memory.
    struct Headers(std::collections::BTreeMap<BlockHash, Header>);

    impl HeaderReader for Headers {
        fn header(&self, hash: &BlockHash) -> Result<Option<Header>, StoreError> {
            Ok(self.0.get(hash).cloned())
        }
    }

    /// A chain from a dev genesis whose block at height `i` has time `times[i]`.
    fn chain_with_times(times: &[u64]) -> (Vec<Header>, Headers) {
        let spec = ChainSpec::from_yaml(include_str!("../../config/chains/dev.yaml")).unwrap();
        let mut headers: Vec<Header> = Vec::new();
        for (height, &time) in (0u64..).zip(times) {
            let mut header = spec.genesis_block().header;
            header.height = height;
            header.time = time;
            header.parent = headers.last().map_or(BlockHash::ZERO, Header::hash);
            headers.push(header);
        }
        let store = Headers(headers.iter().map(|h| (h.hash(), h.clone())).collect());
        (headers, store)
    }

    /// Block times out of order, chosen so that the median of the last 11 (1310) differs from
    /// the medians of the last 10, the last 12 and all 15, and from the tip's own time.
    const SHUFFLED_TIMES: [u64; 15] = [
        1230, 1130, 1240, 1470, 1120, 1080, 1070, 1390, 1680, 1310, 1430, 1340, 1270, 1490, 1200,
    ];

    #[test]
    fn median_time_past_is_the_median_of_the_tip_and_its_ten_ancestors() {
        let (headers, store) = chain_with_times(&SHUFFLED_TIMES);
        // Heights 4..=14 sorted: 1070 1080 1120 1200 1270 [1310] 1340 1390 1430 1490 1680.
        assert_eq!(median_time_past(&headers[14], &store), Ok(1310));
        // Heights 3..=13 sorted: 1070 1080 1120 1270 1310 [1340] 1390 1430 1470 1490 1680.
        assert_eq!(median_time_past(&headers[13], &store), Ok(1340));
    }

    #[test]
    fn median_time_past_near_genesis_uses_the_blocks_that_exist() {
        let (headers, store) = chain_with_times(&SHUFFLED_TIMES);
        // Heights 0..=3 sorted: 1130 1230 [1240] 1470; the upper of the two middles, as in
        // Bitcoin Core.
        assert_eq!(median_time_past(&headers[3], &store), Ok(1240));
        // Genesis alone.
        assert_eq!(median_time_past(&headers[0], &store), Ok(1230));
        // Heights 0..=1 sorted: 1130 [1230].
        assert_eq!(median_time_past(&headers[1], &store), Ok(1230));
    }

    #[test]
    fn median_time_past_reports_storage_failures() {
        struct Broken;
        impl HeaderReader for Broken {
            fn header(&self, _: &BlockHash) -> Result<Option<Header>, StoreError> {
                Err(StoreError::Backend("disk unreadable".into()))
            }
        }
        let (headers, _) = chain_with_times(&SHUFFLED_TIMES);
        assert_eq!(
            median_time_past(&headers[5], &Broken),
            Err(HeaderError::Storage(StoreError::Backend(
                "disk unreadable".into()
            )))
        );
    }
}
