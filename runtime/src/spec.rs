//! Chain specifications: the parameters every node of a chain must agree on, read from YAML,
//! validated once at start-up, and the genesis block they define.

use serde::{Deserialize, Serialize};

use crate::address::{Address, Network};
use crate::{
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

/// One engine's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "engine", content = "params", rename_all = "lowercase")]
pub enum EngineParams {
    /// Proof of work.
    Pow(PowParams),
}

impl EngineParams {
    /// Which engine.
    pub fn kind(&self) -> EngineKind {
        match self {
            EngineParams::Pow(_) => EngineKind::Pow,
        }
    }
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
        let engine = match raw.engine {
            EngineKind::Pow => EngineParams::Pow(
                serde_json::from_value(raw.params)
                    .map_err(|e| D::Error::custom(format!("pow params: {e}")))?,
            ),
            other => {
                return Err(D::Error::custom(format!(
                    "consensus engine `{other}` is not supported by this node yet"
                )));
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
    /// How far ahead of the node's clock a block time may be, in seconds.
    pub max_future_block_time: u64,
    /// The consensus schedule, sorted by height, starting at 0.
    pub consensus: Vec<ScheduleEntry>,
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
            let EngineParams::Pow(p) = &entry.engine;
            if crate::compact_to_target(p.initial_bits).is_none() {
                return Err(self.invalid(format!(
                    "initial_bits {:#010x} is not a valid target",
                    p.initial_bits
                )));
            }
            if p.retarget == Retarget::Asert && p.half_life.is_none_or(|h| h == 0) {
                return Err(self.invalid("ASERT retargeting needs a positive half_life"));
            }
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
        let EngineParams::Pow(pow) = &self.consensus[0].engine;
        let header = Header {
            version: 1,
            parent: BlockHash::ZERO,
            height: 0,
            time: self.genesis.time,
            tx_root: merkle_root(&[coinbase.txid()]),
            state_root: Hash256::ZERO,
            seal: Seal::Pow {
                bits: pow.initial_bits,
                nonce: 0,
            },
        };
        Block {
            header,
            transactions: vec![coinbase],
        }
    }
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
            matches!(ChainSpec::from_yaml(&pos), Err(SpecError::Parse(e)) if e.contains("not supported"))
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
