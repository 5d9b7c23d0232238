//! Contract data as the chain records and serves it: accounts, events, how an execution
//! ended, receipts, and the two derivations everyone needs (a code hash, a contract address).
//! The engine that produces them is `i8o8i-contract-engine`; these are here so clients read
//! them without wasmtime.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::amount::Amount;
use crate::hash::{ContractAddress, Hash256};

/// A contract's account record.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContractAccount {
    /// SHA-256 of its code.
    pub code_hash: Hash256,
    /// Coins it holds.
    pub balance: Amount,
    /// Script of the deployer.
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub deployer: Vec<u8>,
    /// Height of the block that deployed it.
    pub height: u64,
    /// The account that may replace its code and hand the right on; `None`: the code never
    /// changes.
    #[serde(with = "crate::serde_hex::option_bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
    pub admin: Option<Vec<u8>>,
}

/// One code a contract ran, from the height of the block that installed it: its deployment or
/// a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeChange {
    /// SHA-256 of the code.
    pub code_hash: Hash256,
    /// Height of the block that installed it.
    pub height: u64,
}

/// An event a contract emitted.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The emitting contract.
    pub contract: ContractAddress,
    /// Indexed topics (at most the engine's `MAX_TOPICS`).
    #[serde(with = "crate::serde_hex::array_vec")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::Hex>"))]
    pub topics: Vec<[u8; 32]>,
    /// Data.
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub data: Vec<u8>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", content = "reason", rename_all = "camelCase")]
pub enum ExecStatus {
    /// Completed; its state changes are kept.
    Success,
    /// The contract reverted with this reason.
    Reverted(String),
    /// Gas ran out.
    OutOfGas,
    /// A Wasm trap or a host-function fault (bad pointer, oversized argument, …).
    Trapped(String),
    /// The call named an address with no contract, or a deploy's address is taken.
    NoContract(String),
}

impl ExecStatus {
    /// Whether the execution succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, ExecStatus::Success)
    }
}

/// The outcome of a contract transaction, stored by txid.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The contract deployed or called.
    pub contract: ContractAddress,
    /// How it ended.
    #[serde(flatten)]
    pub status: ExecStatus,
    /// Gas charged.
    pub gas_used: u64,
    /// Where it went.
    pub gas_breakdown: GasBreakdown,
    /// Return data (empty unless successful).
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub return_data: Vec<u8>,
    /// Events (empty unless successful).
    pub events: Vec<Event>,
    /// Indices of the outputs execution appended to the transaction (transfers, then the
    /// refund).
    pub outputs: Vec<u32>,
    /// Fee kept by the block producer: gas used × price plus the non-gas part of the fee.
    pub fee: Amount,
}

/// Where a contract execution's gas went. The parts sum to the receipt's `gas_used`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GasBreakdown {
    /// Wasm instructions (fuel), and whatever a frame that ran out of gas or overflowed its
    /// stack was charged beyond its host calls (such a frame pays its whole limit).
    pub execution: u64,
    /// The fixed charge for instantiating each frame's module.
    pub instantiation: u64,
    /// A deployment's per-byte charge for the code it stores.
    pub code: u64,
    /// The base charge of every host call, and bytes copied in and out (input, return data,
    /// caller).
    pub host_calls: u64,
    /// Storage reads.
    pub storage_reads: u64,
    /// Storage writes and removals.
    pub storage_writes: u64,
    /// Events emitted.
    pub events: u64,
    /// Transfers (outputs created, contract balances credited).
    pub transfers: u64,
    /// SHA-256 and RIPEMD-160.
    pub hashing: u64,
    /// Signature checks.
    pub signatures: u64,
    /// The charge for calling or querying other contracts (their own gas is in the other
    /// parts).
    pub nested_calls: u64,
}

impl GasBreakdown {
    /// The sum of the parts (saturating: they never come near `u64::MAX`).
    pub fn total(&self) -> u64 {
        [
            self.execution,
            self.instantiation,
            self.code,
            self.host_calls,
            self.storage_reads,
            self.storage_writes,
            self.events,
            self.transfers,
            self.hashing,
            self.signatures,
            self.nested_calls,
        ]
        .iter()
        .fold(0u64, |sum, part| sum.saturating_add(*part))
    }

    /// A charge with nothing run: only the fixed instantiation charge (a call that found no
    /// contract, a refused migration).
    pub fn instantiation_only(gas: u64) -> Self {
        Self {
            instantiation: gas,
            ..Self::default()
        }
    }
}

/// One contract frame of an execution trace (`contract_traceCall`): what ran, with what, what
/// it did host call by host call, and how it ended. A trace is a flat list of frames in the
/// order they started, the call itself first (OpenEthereum's flat `trace_*` layout, so the
/// document has no recursive schema): a nested call's step names its frame by index, and each
/// frame its parent. A failed nested frame is there with its steps, though they were rolled
/// back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TraceFrame {
    /// The index of the frame that called this one (`null` for the call itself).
    pub parent: Option<u32>,
    /// The contract running.
    pub contract: ContractAddress,
    /// Its caller's script (a contract's is `OP_RETURN <address>`).
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub caller: Vec<u8>,
    /// The input.
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub input: Vec<u8>,
    /// Value moved in.
    pub value: u64,
    /// Whether it ran read-only (a query).
    pub read_only: bool,
    /// Gas it was given.
    pub gas_limit: u64,
    /// Gas it used, its nested calls included.
    pub gas_used: u64,
    /// How it ended.
    pub outcome: ExecStatus,
    /// What it returned.
    #[serde(with = "crate::serde_hex::bytes")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
    pub return_data: Vec<u8>,
    /// Its host calls, in order.
    pub steps: Vec<TraceStep>,
}

/// One host call of a traced frame: the function, the gas it charged (for a nested call, its
/// charge plus all the callee used), and for state-touching calls what they saw and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TraceStep {
    /// The host function (`storage_read`, `call`, …).
    pub function: String,
    /// Gas it charged.
    pub gas: u64,
    /// What it did, for storage, events, transfers and nested calls.
    pub detail: Option<TraceDetail>,
}

/// What a state-touching host call did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TraceDetail {
    /// A storage read: the key (the contract's own) and the value found.
    StorageRead {
        /// Key.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        key: Vec<u8>,
        /// Value, `null` when absent.
        #[serde(with = "crate::serde_hex::option_bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
        value: Option<Vec<u8>>,
    },
    /// A storage write or removal: the value before and after (`null`: absent).
    StorageWrite {
        /// Key.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        key: Vec<u8>,
        /// Before.
        #[serde(with = "crate::serde_hex::option_bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
        old: Option<Vec<u8>>,
        /// After.
        #[serde(with = "crate::serde_hex::option_bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::Hex>"))]
        new: Option<Vec<u8>>,
    },
    /// An event.
    Event {
        /// It.
        event: Event,
    },
    /// A transfer: to a script (an output) or a contract's account (a credit).
    Transfer {
        /// The script paid.
        #[serde(with = "crate::serde_hex::bytes")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::schema::Hex"))]
        to: Vec<u8>,
        /// Amount.
        amount: u64,
    },
    /// A nested call or query and everything it did.
    Call {
        /// The index of the callee's frame in the trace (none when nothing ran: no contract,
        /// reentrancy, depth, balance).
        frame: Option<u32>,
        /// The status code the caller got.
        status: i32,
    },
}

/// SHA-256 of contract code: its code hash.
pub fn code_hash(code: &[u8]) -> Hash256 {
    Hash256::from_byte_array(Sha256::digest(code).into())
}

/// First bytes of a contract's account script: `OP_RETURN`, then a push of 32 bytes.
const CONTRACT_SCRIPT_PREFIX: [u8; 2] = [0x6a, 0x20];

/// The account (script) a contract acts as: what `caller()` returns to a contract it calls,
/// and the account other contracts (a token's balances) credit it under. `OP_RETURN <address>`,
/// so no key can spend it and no output pays it: a contract's `transfer` to such a script
/// credits the contract's balance instead of creating an output.
pub fn contract_script(address: &ContractAddress) -> Vec<u8> {
    let mut script = Vec::with_capacity(34);
    script.extend_from_slice(&CONTRACT_SCRIPT_PREFIX);
    script.extend_from_slice(address.as_bytes());
    script
}

/// The contract whose account script `script` is ([`contract_script`]), if it is one.
pub fn contract_of_script(script: &[u8]) -> Option<ContractAddress> {
    let address: [u8; 32] = script
        .strip_prefix(&CONTRACT_SCRIPT_PREFIX)?
        .try_into()
        .ok()?;
    Some(ContractAddress::from_byte_array(address))
}

/// The address a deploy creates: SHA-256 of a domain tag, the deployer's script, the code hash
/// and the salt.
pub fn contract_address(deployer: &[u8], code_hash: &Hash256, salt: &[u8; 32]) -> ContractAddress {
    let mut h = Sha256::new();
    h.update(b"i8o8i/contract-address");
    h.update((deployer.len() as u32).to_le_bytes());
    h.update(deployer);
    h.update(code_hash.as_bytes());
    h.update(salt);
    ContractAddress::from_byte_array(h.finalize().into())
}

/// Name of the custom section where `i8o8icoin contract build` records how a module was built.
pub const BUILD_SECTION: &str = "i8o8i_build";

/// How a module was built, as `i8o8icoin contract build` records it in the module's
/// [`BUILD_SECTION`]: enough for `contract verify` to rebuild it and to say what differs when
/// the rebuild does not match. The section is part of the code, so its hash covers it.
///
/// Text form, one `key=value` per line in this order: `package`, `version`, `rustc`,
/// `target`, `profile`, `sources`, `files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BuildRecord {
    /// Cargo package name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The compiler, as `rustc -V` prints it.
    pub rustc: String,
    /// The target triple.
    pub target: String,
    /// The cargo profile.
    pub profile: String,
    /// SHA-256 over the sources (every file of the local packages it is built from, with
    /// paths relative to the workspace root, and the workspace's `Cargo.toml` and
    /// `Cargo.lock`).
    pub sources: Hash256,
    /// How many files `sources` covers.
    pub files: u32,
}

impl BuildRecord {
    /// The section's text.
    pub fn to_text(&self) -> String {
        format!(
            "package={}\nversion={}\nrustc={}\ntarget={}\nprofile={}\nsources={}\nfiles={}\n",
            self.package,
            self.version,
            self.rustc,
            self.target,
            self.profile,
            self.sources,
            self.files
        )
    }

    /// Reads [`BuildRecord::to_text`]'s form; `None` when a field is missing or malformed.
    pub fn parse(text: &str) -> Option<BuildRecord> {
        let mut fields = std::collections::BTreeMap::new();
        for line in text.lines() {
            let (key, value) = line.split_once('=')?;
            fields.insert(key, value);
        }
        let get = |k: &str| fields.get(k).map(|v| (*v).to_owned());
        Some(BuildRecord {
            package: get("package")?,
            version: get("version")?,
            rustc: get("rustc")?,
            target: get("target")?,
            profile: get("profile")?,
            sources: get("sources")?.parse().ok()?,
            files: get("files")?.parse().ok()?,
        })
    }
}
