//! Chain specifications: the parameters every node of a chain must agree on, read from YAML,
//! validated once at start-up, and the genesis block they define.

use serde::{Deserialize, Serialize};

use i8o8i_primitives::U256;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::{
    Amount, Block, BlockHash, Hash256, Header, OutPoint, Seal, Transaction, TxIn, TxOut,
    merkle_root,
};
use i8o8i_script_vm::Builder;

/// Which consensus engine runs a range of heights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Proof of work.
    Pow,
    /// Proof of stake (time slots, stake-weighted leaders).
    Pos,
    /// Delegated proof of stake (voted delegates in rounds).
    Dpos,
}

impl core::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EngineKind::Pow => "pow",
            EngineKind::Pos => "pos",
            EngineKind::Dpos => "dpos",
        })
    }
}

/// How proof-of-work difficulty follows the block rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Retarget {
    /// Fixed difficulty (development chains, like Bitcoin's regtest).
    None,
    /// ASERT (aserti3-2d): every block, exponentially toward the target block time.
    Asert,
}

/// Proof-of-work parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowParams {
    /// Compact target of the first PoW block; also the easiest target allowed (the PoW limit).
    pub initial_bits: u32,
    /// Difficulty adjustment.
    pub retarget: Retarget,
    /// ASERT half-life in seconds: how long a block-rate error of 2x takes to halve the target.
    #[serde(default)]
    pub half_life: Option<u64>,
}

/// A validator that produces under proof of stake until bonded stake takes over (used when the
/// stake snapshot at the switch is empty; see `docs/consensus.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Compressed secp256k1 public key, hex.
    pub key: String,
    /// Its weight in leader draws.
    pub stake: Amount,
}

/// A delegate that forms DPoS rounds until enough delegates are registered and voted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDelegate {
    /// Display name.
    pub name: String,
    /// Compressed secp256k1 public key, hex.
    pub key: String,
}

/// Proof-of-stake parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosParams {
    /// Slot length in seconds.
    pub slot_secs: u64,
    /// Slots per epoch (the stake snapshot and the seed change per epoch).
    pub epoch_slots: u64,
    /// Blocks between an unbond and the release of its coins.
    pub unbonding_period: u64,
    /// Smallest bond accepted.
    pub min_bond: Amount,
    /// Most producers in an epoch's snapshot: the keys with the most stake (default
    /// [`DEFAULT_MAX_VALIDATORS`], 1 to [`MAX_VALIDATORS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_validators: Option<u32>,
    /// Producers while no bonded stake exists (at least one).
    pub genesis_validators: Vec<GenesisValidator>,
}

/// Delegated-proof-of-stake parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DposParams {
    /// Slot length in seconds.
    pub slot_secs: u64,
    /// Delegates per round (21 on testnet, 3 on dev), 1 to 101.
    pub delegates: u32,
    /// Delegates one voter may vote for (default: `delegates`).
    #[serde(default)]
    pub max_votes: Option<u32>,
    /// Blocks between an unbond and the release of its coins.
    pub unbonding_period: u64,
    /// Burnt by a delegate registration.
    pub registration_fee: Amount,
    /// Smallest bond accepted (default
    /// [`DEFAULT_DPOS_MIN_BOND`](crate::staking::DEFAULT_DPOS_MIN_BOND), 1 I8O).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bond: Option<Amount>,
    /// The round while fewer delegates are registered (at least one).
    pub genesis_delegates: Vec<GenesisDelegate>,
}

/// Most delegates a DPoS round may have.
pub const MAX_DELEGATES: u32 = 101;

/// Producers in a proof-of-stake snapshot when the spec sets no `max_validators`.
pub const DEFAULT_MAX_VALIDATORS: u32 = 100;

/// Most producers a proof-of-stake snapshot may have: the snapshot is kept in the producer
/// state, which every block rewrites.
pub const MAX_VALIDATORS: u32 = 1_000;

/// One engine's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "engine", content = "params", rename_all = "lowercase")]
pub enum EngineParams {
    /// Proof of work.
    Pow(PowParams),
    /// Proof of stake.
    Pos(PosParams),
    /// Delegated proof of stake.
    Dpos(DposParams),
}

impl EngineParams {
    /// Which engine.
    pub fn kind(&self) -> EngineKind {
        match self {
            EngineParams::Pow(_) => EngineKind::Pow,
            EngineParams::Pos(_) => EngineKind::Pos,
            EngineParams::Dpos(_) => EngineKind::Dpos,
        }
    }
}

/// Whether `hex` is a valid compressed secp256k1 public key.
fn is_compressed_key(hex: &str) -> bool {
    let mut bytes = [0u8; 33];
    hex::decode_to_slice(hex, &mut bytes).is_ok()
        && matches!(bytes[0], 2 | 3)
        && secp256k1::PublicKey::from_slice(&bytes).is_ok()
}

/// One entry of the consensus schedule: `engine` runs from `from_height` until the next entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleEntry {
    /// First height run by this engine.
    pub from_height: u64,
    /// The engine and its parameters.
    #[serde(flatten)]
    pub engine: EngineParams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheduleEntry {
    from_height: u64,
    engine: EngineKind,
    #[serde(default)]
    params: serde_json::Value,
}

impl<'de> Deserialize<'de> for ScheduleEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawScheduleEntry::deserialize(d)?;
        let params = |e: serde_json::Error| {
            D::Error::custom(format!(
                "{} params at height {}: {e}",
                raw.engine, raw.from_height
            ))
        };
        let engine = match raw.engine {
            EngineKind::Pow => {
                EngineParams::Pow(serde_json::from_value(raw.params).map_err(params)?)
            }
            EngineKind::Pos => {
                EngineParams::Pos(serde_json::from_value(raw.params).map_err(params)?)
            }
            EngineKind::Dpos => {
                EngineParams::Dpos(serde_json::from_value(raw.params).map_err(params)?)
            }
        };
        Ok(ScheduleEntry {
            from_height: raw.from_height,
            engine,
        })
    }
}

/// A premine allocation in the genesis block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Recipient.
    pub address: String,
    /// Amount in base units.
    pub amount: Amount,
}

/// The genesis block's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSpec {
    /// Timestamp (UNIX seconds).
    pub time: u64,
    /// Text embedded in the genesis coinbase.
    pub message: String,
    /// Premine.
    #[serde(default)]
    pub allocations: Vec<Allocation>,
}

/// A chain specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// Chain name (`dev`, `testnet`, ...).
    pub name: String,
    /// Address network.
    pub network: Network,
    /// Genesis block.
    pub genesis: GenesisSpec,
    /// Subsidy of the first blocks, halved every `halving_interval` blocks.
    pub block_reward: Amount,
    /// Blocks between halvings.
    pub halving_interval: u64,
    /// Blocks before a coinbase output may be spent (100: spendable in block h + 100).
    pub coinbase_maturity: u64,
    /// Target seconds between blocks.
    pub target_block_time: u64,
    /// Largest encoded block, in bytes.
    pub max_block_size: u64,
    /// Most base units that can ever exist (premine + all subsidies must fit).
    pub max_supply: Amount,
    /// How far ahead of the node's clock a block time may be, in seconds. Blocks further
    /// ahead are not refused as invalid: a node holds them until its clock gets there (at
    /// most this far ahead again) and never penalises their sender (Bitcoin Core does not
    /// punish `BLOCK_TIME_FUTURE` either).
    pub max_future_block_time: u64,
    /// How many seconds a slot may begin ahead of the node's clock for its block to be imported
    /// at once (the clock disparity of Ethereum's `MAXIMUM_GOSSIP_CLOCK_DISPARITY`); a block
    /// of a later slot is held until then. Default 1.
    #[serde(default = "default_clock_drift")]
    pub max_clock_drift: u64,
    /// The least cumulative work (hex, big-endian) a chain must carry before a node downloads
    /// or stores any of its blocks: a public network names the work of a recent block here
    /// (Bitcoin Core's `nMinimumChainWork`), so cheap branches from genesis are never
    /// fetched. None on development chains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_chain_work: Option<String>,
    /// A block known to be valid (Bitcoin Core's `assumevalid`, set per release): while
    /// syncing, the scripts of its ancestors are not run when it lies in the best header
    /// chain, that chain has at least `min_chain_work`, and two weeks' worth of work is on
    /// top of the block being connected. Everything else is checked. An operator overrides it
    /// (`assume_valid` in the node configuration; `0` turns it off). None on development
    /// chains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_valid: Option<BlockHash>,
    /// The consensus schedule, sorted by height, starting at 0.
    pub consensus: Vec<ScheduleEntry>,
}

fn default_clock_drift() -> u64 {
    1
}

/// A work figure in hex (`0x` optional).
fn parse_work(text: &str) -> Option<U256> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 64 {
        return None;
    }
    U256::from_str_radix(digits, 16).ok()
}

/// Why a chain spec is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The YAML did not parse or has unknown / missing keys.
    #[error("chain spec does not parse: {0}")]
    Parse(String),
    /// A parameter is out of range.
    #[error("chain spec `{chain}`: {reason}")]
    Invalid {
        /// The chain name.
        chain: String,
        /// What is wrong.
        reason: String,
    },
}

impl ChainSpec {
    /// Parses and validates a YAML chain spec.
    ///
    /// # Errors
    /// [`SpecError::Parse`] for malformed YAML or unknown keys; [`SpecError::Invalid`] for
    /// inconsistent parameters (see [`ChainSpec::validate`]).
    pub fn from_yaml(text: &str) -> Result<ChainSpec, SpecError> {
        let spec: ChainSpec =
            serde_yaml::from_str(text).map_err(|e| SpecError::Parse(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    fn invalid(&self, reason: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            chain: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// [`ChainSpec::min_chain_work`] as a number (zero when unset; `validate` refuses one that
    /// does not parse).
    pub fn min_chain_work(&self) -> U256 {
        self.min_chain_work
            .as_deref()
            .and_then(parse_work)
            .unwrap_or_default()
    }

    /// Checks the parameters for consistency: a schedule starting at height 0 in increasing
    /// order, non-zero intervals, parseable premine addresses of this network, and a supply cap
    /// that the premine plus every future subsidy respects.
    ///
    /// # Errors
    /// [`SpecError::Invalid`] naming the first problem.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.halving_interval == 0 || self.target_block_time == 0 {
            return Err(self.invalid("halving_interval and target_block_time must be positive"));
        }
        if let Some(work) = &self.min_chain_work
            && parse_work(work).is_none()
        {
            return Err(self.invalid(format!(
                "min_chain_work {work:?} is not a hexadecimal number below 2^256"
            )));
        }
        if self.max_block_size < 1_000 {
            return Err(self.invalid("max_block_size must be at least 1000 bytes"));
        }
        match self.consensus.first() {
            Some(first) if first.from_height == 0 => {}
            _ => return Err(self.invalid("the consensus schedule must start at height 0")),
        }
        if self
            .consensus
            .windows(2)
            .any(|w| w[1].from_height <= w[0].from_height)
        {
            return Err(self.invalid("consensus schedule heights must strictly increase"));
        }
        for entry in &self.consensus {
            self.validate_entry(entry)?;
        }
        let mut premine = Amount::ZERO;
        for a in &self.genesis.allocations {
            Address::parse_for(&a.address, self.network)
                .map_err(|e| self.invalid(format!("allocation address {}: {e}", a.address)))?;
            premine = premine
                .checked_add(a.amount)
                .ok_or_else(|| self.invalid("premine overflows"))?;
        }
        let issued = premine
            .checked_add(self.total_subsidy())
            .ok_or_else(|| self.invalid("supply overflows"))?;
        if issued > self.max_supply {
            return Err(self.invalid(format!(
                "premine plus subsidies ({issued}) exceed max_supply ({})",
                self.max_supply
            )));
        }
        Ok(())
    }

    /// Checks one schedule entry's parameters, including where its first producers come
    /// from: every PoS entry lists genesis validators and every DPoS entry genesis delegates,
    /// the fallback when the staking ledger at the switch yields no producer, so no schedule can
    /// halt the chain at a switch.
    fn validate_entry(&self, entry: &ScheduleEntry) -> Result<(), SpecError> {
        let at = entry.from_height;
        match &entry.engine {
            EngineParams::Pow(p) => {
                if i8o8i_primitives::compact_to_target(p.initial_bits).is_none() {
                    return Err(self.invalid(format!(
                        "initial_bits {:#010x} is not a valid target",
                        p.initial_bits
                    )));
                }
                if p.retarget == Retarget::Asert && p.half_life.is_none_or(|h| h == 0) {
                    return Err(self.invalid("ASERT retargeting needs a positive half_life"));
                }
            }
            EngineParams::Pos(p) => {
                if p.slot_secs == 0 || p.epoch_slots == 0 || p.unbonding_period == 0 {
                    return Err(self.invalid(format!(
                        "pos at height {at}: slot_secs, epoch_slots and unbonding_period must be positive"
                    )));
                }
                if p.max_validators
                    .is_some_and(|m| !(1..=MAX_VALIDATORS).contains(&m))
                {
                    return Err(self.invalid(format!(
                        "pos at height {at}: max_validators must be 1 to {MAX_VALIDATORS}"
                    )));
                }
                if p.min_bond == Amount::ZERO || p.min_bond > self.max_supply {
                    return Err(self.invalid(format!(
                        "pos at height {at}: min_bond must be positive and at most max_supply"
                    )));
                }
                if p.genesis_validators.is_empty() {
                    return Err(self.invalid(format!(
                        "pos at height {at}: genesis_validators must name at least one validator \
                         (they produce while no stake is bonded)"
                    )));
                }
                let mut keys = std::collections::BTreeSet::new();
                for v in &p.genesis_validators {
                    if !is_compressed_key(&v.key) {
                        return Err(self.invalid(format!(
                            "pos at height {at}: genesis validator key {} is not a compressed secp256k1 key",
                            v.key
                        )));
                    }
                    if !keys.insert(v.key.as_str()) {
                        return Err(self.invalid(format!(
                            "pos at height {at}: genesis validator {} is listed twice",
                            v.key
                        )));
                    }
                    if v.stake == Amount::ZERO {
                        return Err(self.invalid(format!(
                            "pos at height {at}: genesis validator {} has no stake",
                            v.key
                        )));
                    }
                }
            }
            EngineParams::Dpos(p) => {
                if p.slot_secs == 0 || p.unbonding_period == 0 {
                    return Err(self.invalid(format!(
                        "dpos at height {at}: slot_secs and unbonding_period must be positive"
                    )));
                }
                if !(1..=MAX_DELEGATES).contains(&p.delegates) {
                    return Err(self.invalid(format!(
                        "dpos at height {at}: delegates must be 1 to {MAX_DELEGATES}, not {}",
                        p.delegates
                    )));
                }
                if p.max_votes.is_some_and(|m| m == 0 || m > p.delegates) {
                    return Err(self.invalid(format!(
                        "dpos at height {at}: max_votes must be 1 to delegates ({})",
                        p.delegates
                    )));
                }
                if p.min_bond
                    .is_some_and(|m| m == Amount::ZERO || m > self.max_supply)
                {
                    return Err(self.invalid(format!(
                        "dpos at height {at}: min_bond must be positive and at most max_supply"
                    )));
                }
                if p.genesis_delegates.is_empty() {
                    return Err(self.invalid(format!(
                        "dpos at height {at}: genesis_delegates must name at least one delegate \
                         (they form rounds until delegates are registered and voted in)"
                    )));
                }
                let mut keys = std::collections::BTreeSet::new();
                let mut names = std::collections::BTreeSet::new();
                for d in &p.genesis_delegates {
                    if !is_compressed_key(&d.key) {
                        return Err(self.invalid(format!(
                            "dpos at height {at}: delegate {} key is not a compressed secp256k1 key",
                            d.name
                        )));
                    }
                    let name_ok = (1..=32).contains(&d.name.len())
                        && d.name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !name_ok {
                        return Err(self.invalid(format!(
                            "dpos at height {at}: delegate name {:?} must be 1-32 of [A-Za-z0-9_-]",
                            d.name
                        )));
                    }
                    if !keys.insert(d.key.as_str()) || !names.insert(d.name.as_str()) {
                        return Err(self.invalid(format!(
                            "dpos at height {at}: delegate {} is listed twice",
                            d.name
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The block subsidy at `height`: `block_reward` halved every `halving_interval` blocks.
    pub fn subsidy(&self, height: u64) -> Amount {
        let halvings = height / self.halving_interval;
        if halvings >= 64 {
            Amount::ZERO
        } else {
            Amount::from_units(self.block_reward.to_units() >> halvings)
        }
    }

    /// Every subsidy the chain will ever pay (heights 1 onwards; genesis pays only the premine).
    pub fn total_subsidy(&self) -> Amount {
        let mut total: u128 = 0;
        for halving in 0..64u32 {
            let per_block = u128::from(self.block_reward.to_units() >> halving);
            total += per_block * u128::from(self.halving_interval);
        }
        // Height 0 (genesis) is counted above but pays no subsidy.
        total -= u128::from(self.block_reward.to_units());
        Amount::from_units(u64::try_from(total).unwrap_or(u64::MAX))
    }

    /// The schedule entry in force at `height`.
    pub fn engine_at(&self, height: u64) -> &ScheduleEntry {
        self.consensus
            .iter()
            .rev()
            .find(|e| e.from_height <= height)
            .unwrap_or(&self.consensus[0])
    }

    /// The genesis block. Its coinbase pays the premine; its header is not subject to proof of
    /// work (it is fixed by the spec, not found by mining).
    pub fn genesis_block(&self) -> Block {
        let script_sig = Builder::new()
            .push_int(0)
            .push_slice(self.genesis.message.as_bytes())
            .into_script();
        let outputs = self
            .genesis
            .allocations
            .iter()
            .filter_map(|a| {
                let addr = Address::parse_for(&a.address, self.network).ok()?;
                Some(TxOut {
                    value: a.amount,
                    script_pubkey: addr.script_pubkey(),
                })
            })
            .collect();
        let coinbase = Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint::NULL,
                script_sig,
                sequence: u32::MAX,
            }],
            outputs,
            lock_time: 0,
            payload: None,
        };
        // The genesis header is fixed by the spec, never checked against a seal rule.
        let seal = match &self.consensus[0].engine {
            EngineParams::Pow(pow) => Seal::Pow {
                bits: pow.initial_bits,
                nonce: 0,
            },
            EngineParams::Pos(_) | EngineParams::Dpos(_) => Seal::Producer {
                slot: 0,
                pubkey: [0; 33],
                signature: Vec::new(),
            },
        };
        let header = Header {
            version: 1,
            parent: BlockHash::ZERO,
            height: 0,
            time: self.genesis.time,
            tx_root: merkle_root(&[coinbase.txid()]),
            state_root: genesis_state_root(&coinbase),
            seal,
        };
        Block {
            header,
            transactions: vec![coinbase],
        }
    }
}

/// The state root after the genesis block: its spendable allocations as coins (spendable at
/// once: an allocation, not a mined reward; an `OP_RETURN` output never is one, as
/// `state::is_unspendable` says) and the height entry, nothing else.
fn genesis_state_root(coinbase: &Transaction) -> Hash256 {
    use i8o8i_primitives::state_proof::{HEIGHT_KEY, coin_key};
    let txid = coinbase.txid();
    let coins = coinbase
        .outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.script_pubkey.is_op_return())
        .map(|(i, output)| {
            let coin = i8o8i_primitives::Coin {
                output: output.clone(),
                height: 0,
                coinbase: false,
            };
            (
                coin_key(&OutPoint {
                    txid,
                    index: i as u32,
                }),
                parity_scale_codec::Encode::encode(&coin),
            )
        });
    let height = (HEIGHT_KEY.to_vec(), 0u64.to_be_bytes().to_vec());
    // Distinct keys by construction, so the build cannot fail.
    i8o8i_primitives::state_tree::root_of_entries(coins.chain([height])).unwrap_or(Hash256::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = include_str!("../../config/chains/dev.yaml");
    const TESTNET: &str = include_str!("../../config/chains/testnet.yaml");

    #[test]
    fn shipped_specs_parse_and_validate() {
        let dev = ChainSpec::from_yaml(DEV).unwrap();
        assert_eq!(dev.name, "dev");
        assert_eq!(dev.coinbase_maturity, 100);
        let testnet = ChainSpec::from_yaml(TESTNET).unwrap();
        assert_eq!(testnet.engine_at(1_000_000).engine.kind(), EngineKind::Pow);
    }

    #[test]
    fn genesis_hash_is_stable() {
        let dev = ChainSpec::from_yaml(DEV).unwrap();
        let a = dev.genesis_block().header.hash();
        let b = ChainSpec::from_yaml(DEV)
            .unwrap()
            .genesis_block()
            .header
            .hash();
        assert_eq!(a, b);
        let testnet = ChainSpec::from_yaml(TESTNET).unwrap();
        assert_ne!(a, testnet.genesis_block().header.hash());
    }

    #[test]
    fn subsidy_halves_and_stops() {
        let dev = ChainSpec::from_yaml(DEV).unwrap();
        assert_eq!(dev.subsidy(1).to_units(), 5_000_000_000);
        assert_eq!(dev.subsidy(dev.halving_interval).to_units(), 2_500_000_000);
        assert_eq!(dev.subsidy(dev.halving_interval * 64).to_units(), 0);
        assert!(dev.total_subsidy() <= dev.max_supply);
    }

    /// DEV with PoS from height 100 and DPoS from 200, `pos` and `dpos` being the params
    /// blocks (indented under `params:`).
    fn scheduled(pos: &str, dpos: &str) -> Result<ChainSpec, SpecError> {
        let yaml = format!(
            "{DEV}  - from_height: 100\n    engine: pos\n    params:\n{pos}  - from_height: 200\n    engine: dpos\n    params:\n{dpos}"
        );
        ChainSpec::from_yaml(&yaml)
    }

    const KEY_A: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    const KEY_B: &str = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";

    fn pos_params(validators: &str) -> String {
        format!(
            "      slot_secs: 2\n      epoch_slots: 30\n      unbonding_period: 50\n      min_bond: 100000000\n      genesis_validators:{validators}\n"
        )
    }

    fn dpos_params(delegates: u32, extra: &str, genesis: &str) -> String {
        format!(
            "      slot_secs: 2\n      delegates: {delegates}\n      unbonding_period: 50\n      registration_fee: 1000\n{extra}      genesis_delegates:{genesis}\n"
        )
    }

    fn reason(r: Result<ChainSpec, SpecError>) -> String {
        match r {
            Err(SpecError::Invalid { reason, .. }) => reason,
            Err(SpecError::Parse(e)) => format!("parse: {e}"),
            Ok(_) => "accepted".into(),
        }
    }

    #[test]
    fn stake_schedules_are_checked_at_start_up_with_their_reasons() {
        let validators = format!("\n        - key: {KEY_A}\n          stake: 100");
        let delegates = format!(
            "\n        - name: alpha\n          key: {KEY_A}\n        - name: beta\n          key: {KEY_B}"
        );
        let ok = reason(scheduled(
            &pos_params(&validators),
            &dpos_params(3, "", &delegates),
        ));
        assert_eq!(ok, "accepted");

        let cases = [
            (
                pos_params(" []"),
                dpos_params(3, "", &delegates),
                "genesis_validators must name",
            ),
            (
                pos_params("\n        - key: 02ab\n          stake: 1"),
                dpos_params(3, "", &delegates),
                "not a compressed secp256k1 key",
            ),
            (
                pos_params(&format!("{validators}{validators}")),
                dpos_params(3, "", &delegates),
                "listed twice",
            ),
            (
                pos_params(&format!("\n        - key: {KEY_A}\n          stake: 0")),
                dpos_params(3, "", &delegates),
                "has no stake",
            ),
            (
                pos_params(&validators).replace("epoch_slots: 30", "epoch_slots: 0"),
                dpos_params(3, "", &delegates),
                "must be positive",
            ),
            (
                pos_params(&validators),
                dpos_params(0, "", &delegates),
                "delegates must be 1 to 101",
            ),
            (
                pos_params(&validators),
                dpos_params(102, "", &delegates),
                "delegates must be 1 to 101",
            ),
            (
                pos_params(&validators),
                dpos_params(3, "      max_votes: 4\n", &delegates),
                "max_votes must be 1 to delegates",
            ),
            (
                pos_params(&validators),
                dpos_params(3, "", " []"),
                "genesis_delegates must name",
            ),
            (
                pos_params(&validators),
                dpos_params(
                    3,
                    "",
                    &format!("\n        - name: a b\n          key: {KEY_A}"),
                ),
                "must be 1-32 of",
            ),
            (
                pos_params(&validators),
                dpos_params(
                    3,
                    "",
                    &format!("{delegates}\n        - name: alpha\n          key: {KEY_B}"),
                ),
                "listed twice",
            ),
            (
                pos_params(&validators).replace("slot_secs: 2", "slot_secs: 2\n      speed: 3"),
                dpos_params(3, "", &delegates),
                "pos params at height 100: unknown field `speed`",
            ),
        ];
        for (pos, dpos, expected) in cases {
            let got = reason(scheduled(&pos, &dpos));
            assert!(got.contains(expected), "expected {expected:?}, got {got:?}");
        }
    }

    #[test]
    fn unknown_keys_and_impossible_schedules_are_rejected() {
        let typo = DEV.replace("coinbase_maturity", "coinbase_maturty");
        assert!(
            matches!(ChainSpec::from_yaml(&typo), Err(SpecError::Parse(e)) if e.contains("coinbase_maturty"))
        );
        let late_start = DEV.replace("from_height: 0", "from_height: 5");
        assert!(
            matches!(ChainSpec::from_yaml(&late_start), Err(SpecError::Invalid { reason, .. }) if reason.contains("height 0"))
        );
        let pos = DEV.replace("engine: pow", "engine: pos");
        assert!(
            matches!(ChainSpec::from_yaml(&pos), Err(SpecError::Parse(e)) if e.contains("pos params at height 0"))
        );
        let bad_param = DEV.replace("retarget: none", "retarget: none\n      speed: 11");
        assert!(
            matches!(ChainSpec::from_yaml(&bad_param), Err(SpecError::Parse(e)) if e.contains("speed"))
        );
        let greedy = DEV.replace("max_supply: 2100000000000000", "max_supply: 1000");
        assert!(matches!(
            ChainSpec::from_yaml(&greedy),
            Err(SpecError::Invalid { .. })
        ));
    }

    #[test]
    fn premine_must_use_this_networks_addresses() {
        let main_addr = Address::p2pkh(Network::Mainnet, [1; 20]).to_string();
        let spec = DEV.replace(
            "allocations: []",
            &format!("allocations:\n    - address: {main_addr}\n      amount: 100"),
        );
        assert!(
            matches!(ChainSpec::from_yaml(&spec), Err(SpecError::Invalid { reason, .. }) if reason.contains("allocation"))
        );
        let dev_addr = Address::p2pkh(Network::Dev, [1; 20]).to_string();
        let spec = DEV.replace(
            "allocations: []",
            &format!("allocations:\n    - address: {dev_addr}\n      amount: 100"),
        );
        let spec = ChainSpec::from_yaml(&spec).unwrap();
        assert_eq!(
            spec.genesis_block().transactions[0].outputs[0]
                .value
                .to_units(),
            100
        );
    }
}
