//! The typed errors of every validation stage: a transaction's ([`TxError`]) and a block's
//! ([`BlockError`]). A leaf of the crate: the rule modules import it, it imports none of them
//! but the header checks' [`HeaderError`].

use i8o8i_primitives::{Amount, BlockHash, Hash256, OutPoint, StoreError, Txid};
use i8o8i_script_vm::ScriptError;

use crate::consensus::HeaderError;

/// Why a transaction is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// No inputs.
    #[error("transaction has no inputs")]
    NoInputs,
    /// No outputs and no payload.
    #[error("transaction has no outputs")]
    NoOutputs,
    /// Larger than a block may be.
    #[error("transaction of {size} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Limit.
        max: u64,
    },
    /// An output above the supply cap, or outputs summing above it.
    #[error("output value out of range")]
    OutputValueOutOfRange,
    /// The same outpoint spent twice.
    #[error("input {0} is spent twice")]
    DuplicateInput(OutPoint),
    /// A non-coinbase input with the null outpoint.
    #[error("null prevout in a non-coinbase transaction")]
    NullPrevout,
    /// Coinbase scriptSig outside 2..=100 bytes.
    #[error("coinbase scriptSig of {0} bytes (must be 2..=100)")]
    CoinbaseScriptSize(usize),
    /// Exactly 64 bytes: ambiguous with a merkle inner node.
    #[error("transactions of exactly 64 bytes are not allowed")]
    SixtyFourBytes,
    /// A coinbase outside its block.
    #[error("coinbase transactions cannot be relayed or spent as ordinary transactions")]
    UnexpectedCoinbase,
    /// An input's output does not exist or is spent.
    #[error("input {0} is missing or already spent")]
    MissingInput(OutPoint),
    /// A coinbase output spent before maturity.
    #[error(
        "input {outpoint} spends a coinbase from height {coin_height} before maturity (needs height {mature_at})"
    )]
    ImmatureCoinbase {
        /// The input.
        outpoint: OutPoint,
        /// Height of the coinbase.
        coin_height: u64,
        /// First height where it may be spent.
        mature_at: u64,
    },
    /// Inputs do not cover the outputs.
    #[error("inputs {inputs} do not cover outputs {outputs}")]
    InsufficientInputs {
        /// Sum of inputs.
        inputs: Amount,
        /// Sum of outputs.
        outputs: Amount,
    },
    /// Sums overflow.
    #[error("input values overflow")]
    ValueOverflow,
    /// Lock time not yet reached.
    #[error("lock time {lock_time} not reached (height {height}, median time {median_time_past})")]
    NonFinal {
        /// The transaction's lock time.
        lock_time: u32,
        /// Height of the including block.
        height: u64,
        /// Median time past before it.
        median_time_past: u64,
    },
    /// BIP68 relative lock not yet reached.
    #[error("input {0} is still relative-time locked (BIP68)")]
    SequenceLocked(OutPoint),
    /// An input's script failed.
    #[error("input {input} script failed: {error}")]
    Script {
        /// Input index.
        input: usize,
        /// The interpreter's error.
        error: ScriptError,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
    /// A deploy's module is refused.
    #[error("invalid contract: {0}")]
    InvalidContract(i8o8i_contract_engine::ModuleError),
    /// The fee does not cover a contract transaction's value plus its gas reservation.
    #[error(
        "contract transaction needs {needed} (value + gas limit × gas price) from inputs − outputs, has {paid}"
    )]
    ContractFee {
        /// Value plus gas reservation.
        needed: Amount,
        /// Inputs minus outputs.
        paid: Amount,
    },
    /// The gas limit is above the per-transaction maximum.
    #[error("gas limit {limit} exceeds the per-transaction maximum {max}")]
    GasLimitTooHigh {
        /// The limit asked for.
        limit: u64,
        /// The maximum.
        max: u64,
    },
    /// Call or constructor input above the cap.
    #[error("contract input of {size} bytes exceeds {max}")]
    ContractInputTooLarge {
        /// Input size.
        size: usize,
        /// Cap.
        max: usize,
    },
    /// The first input's script is too long to act as a contract caller.
    #[error("the first input's script ({0} bytes) is too long to call contracts")]
    CallerScriptTooLong(usize),
    /// The block's contract transactions reserve more gas than a block allows.
    #[error("contract transactions reserve more than the block gas limit {0}")]
    BlockGasExceeded(u64),
    /// Contract payloads reached a validator without a contract engine.
    #[error("this validator has no contract engine")]
    ContractsUnavailable,
    /// A staking payload breaks a staking rule (authorisation, amounts, names, votes).
    #[error("staking: {0}")]
    Staking(String),
    /// Evidence of double signing that does not prove it, is misplaced (outside a coinbase,
    /// on a chain without staking) or names a producer already slashed.
    #[error("evidence: {0}")]
    Evidence(String),
    /// Inputs − outputs do not cover a bond's value or a registration's fee.
    #[error("staking transaction needs {needed} from inputs − outputs, has {paid}")]
    StakeFee {
        /// The bond value or registration fee.
        needed: Amount,
        /// Inputs minus outputs.
        paid: Amount,
    },
}

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The header is invalid.
    #[error("header: {0}")]
    Header(#[from] HeaderError),
    /// Larger than the chain allows.
    #[error("block of {size} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Limit.
        max: u64,
    },
    /// No transactions, or the first is not a coinbase.
    #[error("the first transaction must be the only coinbase")]
    NoCoinbase,
    /// A coinbase after the first transaction.
    #[error("transaction {0} is a second coinbase")]
    ExtraCoinbase(usize),
    /// More signature operations than a block may contain.
    #[error("{count} signature operations, more than the block limit {max}")]
    TooManySigops {
        /// Counted (legacy counting).
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A slot-engine block's randomness contribution is missing, malformed, or a reveal that
    /// does not continue its producer's hash chain.
    #[error("randomness: {0}")]
    Randomness(String),
    /// The merkle root does not commit to the transactions.
    #[error("merkle root {got} does not match the transactions ({expected})")]
    BadMerkleRoot {
        /// Header field.
        got: Hash256,
        /// Computed.
        expected: Hash256,
    },
    /// The header's state root is not the state after connecting the block
    /// (`docs/state.md`).
    #[error("state root {got} is not the state after the block ({expected})")]
    BadStateRoot {
        /// Header field.
        got: Hash256,
        /// Computed.
        expected: Hash256,
    },
    /// The same transaction twice.
    #[error("duplicate transaction {0}")]
    DuplicateTx(Txid),
    /// The coinbase does not start with the block height.
    #[error("coinbase does not commit to height {0}")]
    BadCoinbaseHeight(u64),
    /// The coinbase claims more than subsidy plus fees.
    #[error("coinbase pays {got}, more than subsidy plus fees ({max})")]
    CoinbaseTooLarge {
        /// Coinbase outputs.
        got: Amount,
        /// Subsidy plus fees.
        max: Amount,
    },
    /// A transaction is invalid.
    #[error("transaction {index} ({txid}): {error}")]
    Tx {
        /// Position in the block.
        index: usize,
        /// Its id.
        txid: Txid,
        /// Why.
        error: TxError,
    },
    /// Contract state could not be read.
    #[error("contract state: {0}")]
    ContractState(StoreError),
    /// The coinbase of a slot-engine block pays someone other than the block's producer.
    #[error("the coinbase must pay the producer's address")]
    RewardNotToProducer,
    /// The block's parent is not the chain's tip (callers connect in order).
    #[error("block {hash} does not extend the tip")]
    NotOnTip {
        /// The block.
        hash: BlockHash,
    },
}
