//! Consensus engines: who may seal a block, how a seal is checked, and how much a block weighs
//! in fork choice.
//!
//! The chain spec's schedule says which engine runs which heights; every node switches at the
//! same height, so a switch never forks the network. Proof of work is implemented; the trait is
//! shaped for the slot-based engines (PoS, DPoS) that come next: they check a producer signature
//! instead of a hash, weigh blocks by filled slots, and report finality.

use i8o8i_script_vm::Builder;

use crate::pow::{
    U256, compact_to_target, hash_meets_target, target_to_compact, work_from_compact,
};
use crate::spec::{ChainSpec, EngineKind, EngineParams, PowParams, Retarget};
use crate::state::StoreError;
use crate::{BlockHash, Header, Seal};

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
    /// The state commitment must be zero until state commitments are defined.
    #[error("state root must be zero")]
    StateRoot,
    /// Storage failed while reading ancestors.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<StoreError> for HeaderError {
    fn from(e: StoreError) -> Self {
        HeaderError::Storage(e.to_string())
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
                Err(StoreError("disk unreadable".into()))
            }
        }
        let (headers, _) = chain_with_times(&SHUFFLED_TIMES);
        assert_eq!(
            median_time_past(&headers[5], &Broken),
            Err(HeaderError::Storage("disk unreadable".into()))
        );
    }
}
