//! The JSON shapes the node's methods answer with: the result types of the definitions in
//! [`crate::api`], shared by the server (which builds them) and clients (which decode them).

use i8o8i_primitives::contract::{ContractAccount, Event};
use i8o8i_primitives::{Amount, BlockHash, ContractAddress, Hash256, Header, Transaction, Txid};
use parity_scale_codec::Encode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `chain_getInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// Chain name.
    pub chain: String,
    /// Genesis hash.
    pub genesis: BlockHash,
    /// Tip height.
    pub height: u64,
    /// Tip hash.
    pub best_hash: BlockHash,
    /// Compact target the next block must meet, hex.
    pub bits: String,
    /// Easiest target divided by the next block's target.
    pub difficulty: u64,
    /// Cumulative work of the best chain, hex.
    pub chain_work: String,
    /// Median time past of the tip.
    pub median_time_past: u64,
    /// Engine sealing the next block.
    pub consensus: String,
    /// Lowest height whose block this node keeps (0 unless it prunes, `storage.prune`).
    pub lowest_block: u64,
    /// The commitment to the state after the tip (UTXO set and key/value state): the root of
    /// its state tree, as the tip's header carries it (`docs/state.md`).
    pub state_root: Hash256,
}

/// `state_getProof` / `address_getUtxoProof` result: a value of the tip's state and its proof.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateProofJson {
    /// Height of the tip the answer is of.
    pub height: u64,
    /// That tip.
    pub block_hash: BlockHash,
    /// The state root after it.
    pub state_root: Hash256,
    /// The tree key, hex: `75` ‖ txid ‖ index (u32 big-endian) for a coin, `6b` ‖ key for a
    /// record.
    pub key: String,
    /// The value, hex — the SCALE-encoded coin, or the record's bytes; null when absent.
    pub value: Option<String>,
    /// The proof.
    pub proof: ProofJson,
}

/// A state proof (`i8o8i_primitives::state_proof::StateProof`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProofJson {
    /// The leaf where the key's path ends: its own, another key's, or null (an empty subtree).
    pub leaf: Option<ProofLeafJson>,
    /// Sibling hashes from the deepest up to the root's children.
    pub siblings: Vec<Hash256>,
}

/// A leaf of a [`ProofJson`].
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProofLeafJson {
    /// `sha256(key)`.
    pub key_hash: Hash256,
    /// `sha256(value)`.
    pub value_hash: Hash256,
}

impl From<&i8o8i_primitives::state_proof::StateProof> for ProofJson {
    fn from(p: &i8o8i_primitives::state_proof::StateProof) -> Self {
        ProofJson {
            leaf: p.leaf.map(|l| ProofLeafJson {
                key_hash: l.key_hash,
                value_hash: l.value_hash,
            }),
            siblings: p.siblings.clone(),
        }
    }
}

impl From<&ProofJson> for i8o8i_primitives::state_proof::StateProof {
    fn from(p: &ProofJson) -> Self {
        i8o8i_primitives::state_proof::StateProof {
            leaf: p
                .leaf
                .as_ref()
                .map(|l| i8o8i_primitives::state_proof::ProofLeaf {
                    key_hash: l.key_hash,
                    value_hash: l.value_hash,
                }),
            siblings: p.siblings.clone(),
        }
    }
}

/// A transaction with its id and size.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxJson {
    /// Transaction id.
    pub txid: Txid,
    /// Encoded size in bytes.
    pub size: usize,
    /// The transaction.
    #[serde(flatten)]
    pub tx: Transaction,
}

/// A block with its transactions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockJson {
    /// Block hash.
    pub hash: BlockHash,
    /// Height.
    pub height: u64,
    /// Blocks on top of it plus one (0 if not on the best chain).
    pub confirmations: u64,
    /// Encoded size in bytes.
    pub size: usize,
    /// The header.
    pub header: Header,
    /// Its transactions.
    pub transactions: Vec<TxJson>,
}

/// Where a transaction is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum TxStatus {
    /// Waiting in the mempool.
    Mempool {
        /// Its fee.
        fee: Amount,
    },
    /// In a best-chain block.
    #[serde(rename_all = "camelCase")]
    Confirmed {
        /// The block.
        block_hash: BlockHash,
        /// Its height.
        height: u64,
        /// Blocks on top plus one.
        confirmations: u64,
    },
}

/// `tx_get`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxWithStatus {
    /// Where it is.
    pub status: TxStatus,
    /// The transaction.
    pub transaction: TxJson,
}

/// `address_getUtxos` element.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UtxoJson {
    /// Funding transaction.
    pub txid: Txid,
    /// Output index.
    pub index: u32,
    /// Value.
    pub value: Amount,
    /// Height of its block.
    pub height: u64,
    /// Whether it is a coinbase output.
    pub coinbase: bool,
    /// Blocks on top plus one.
    pub confirmations: u64,
    /// Whether the next block may spend it: false for a coinbase output younger than the
    /// chain's coinbase maturity.
    pub mature: bool,
    /// Whether a pooled transaction spends it already.
    pub spent_in_mempool: bool,
}

/// `address_getHistory`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressHistory {
    /// Pooled transactions that pay the address or spend its coins, newest arrival first
    /// (empty when paging with `before`).
    pub pending: Vec<PendingHistoryJson>,
    /// Confirmed ones, newest first.
    pub confirmed: Vec<HistoryJson>,
    /// The height from which this node's history index is complete: a pruned node started it
    /// at its lowest stored block, and has nothing older.
    pub indexed_from: u64,
}

/// A confirmed transaction in an address's history.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryJson {
    /// The transaction.
    pub txid: Txid,
    /// Its block.
    pub block_hash: BlockHash,
    /// Height of its block.
    pub height: u64,
    /// Position in its block.
    pub position: u32,
    /// Blocks on top plus one.
    pub confirmations: u64,
    /// What its outputs paid the address.
    pub received: Amount,
    /// What the address's coins it spent held.
    pub sent: Amount,
}

/// A pooled transaction in an address's history.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingHistoryJson {
    /// The transaction.
    pub txid: Txid,
    /// When this node received it (UNIX seconds).
    pub time: u64,
    /// What its outputs pay the address.
    pub received: Amount,
    /// What the address's coins it spends held.
    pub sent: Amount,
}

/// `mempool_getInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MempoolInfo {
    /// Transactions.
    pub size: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Their fees.
    pub total_fee: Amount,
    /// Minimum fee rate (base units per byte).
    pub min_fee_rate: u64,
    /// Byte cap.
    pub max_bytes: u64,
}

/// `mining_getInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MiningInfo {
    /// Whether continuous mining is on.
    pub mining: bool,
    /// Mining threads.
    pub threads: usize,
    /// Tip height.
    pub height: u64,
    /// Compact target of the next block, hex.
    pub bits: String,
    /// Target of the next block, hex.
    pub target: String,
    /// Easiest target divided by the next block's target.
    pub difficulty: u64,
    /// Transactions a template would take now.
    pub pooled_tx: usize,
}

/// `node_getInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// Software version.
    pub version: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Data directory.
    pub data_dir: String,
    /// Chain name.
    pub chain: String,
}

/// `chain_getUtxoSetInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UtxoSetJson {
    /// Height of the tip the set belongs to.
    pub height: u64,
    /// Hash of that tip.
    pub best_hash: BlockHash,
    /// The state root after that tip (the commitment to this set and the key/value state).
    pub state_root: Hash256,
    /// Number of unspent outputs.
    pub count: u64,
    /// Sum of their values.
    pub total_amount: Amount,
    /// With `hashType` `serialized`: SHA-256 over every (key, SCALE(coin)) in key order (a
    /// scan of the whole set); otherwise null.
    pub hash: Option<Hash256>,
}

/// What `chain_getUtxoSetInfo` hashes (Bitcoin Core's `gettxoutsetinfo hash_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum UtxoHashType {
    /// Nothing: counters kept with each block and the state root, no scan (the default).
    #[default]
    None,
    /// A scan of the whole set into one SHA-256 (one scan at a time, from a snapshot).
    Serialized,
}

/// `chain_newHead` notification.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewHead {
    /// Block hash.
    pub hash: BlockHash,
    /// Height.
    pub height: u64,
    /// Number of transactions.
    pub tx_count: usize,
    /// The header.
    pub header: Header,
}

/// `mempool_pendingTx` notification.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingTx {
    /// Transaction id.
    pub txid: Txid,
    /// Encoded size in bytes.
    pub size: usize,
    /// Its fee.
    pub fee: Amount,
}

impl TxJson {
    /// The JSON form of `tx`, with its txid and encoded size.
    pub fn new(tx: Transaction) -> TxJson {
        TxJson {
            txid: tx.txid(),
            size: tx.encoded_size(),
            tx,
        }
    }
}

/// `address_getBalance`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Sum of confirmed unspent outputs.
    pub confirmed: Amount,
    /// Net effect of pooled transactions: received minus spent (may be negative).
    pub unconfirmed: i64,
}

/// `contract_deploy` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deployed {
    /// The deploy transaction.
    pub txid: Txid,
    /// The contract's address once the transaction is mined.
    pub address: ContractAddress,
}

/// `contract_query` / `contract_estimateGas` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult {
    /// Return data, hex.
    pub return_data: String,
    /// Gas the call used.
    pub gas_used: u64,
    /// Where the gas went (the parts sum to `gasUsed`).
    pub gas_breakdown: i8o8i_primitives::contract::GasBreakdown,
    /// Events it would emit.
    pub events: Vec<Event>,
}

/// `contract_traceCall` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallTrace {
    /// Gas the call used.
    pub gas_used: u64,
    /// Where it went (the parts sum to `gasUsed`).
    pub gas_breakdown: i8o8i_primitives::contract::GasBreakdown,
    /// Every frame in the order they started, the call itself first: host calls with their
    /// gas, storage keys with old and new values, events, and nested calls naming their
    /// frames by index.
    pub frames: Vec<i8o8i_primitives::contract::TraceFrame>,
    /// The trace's budget (10,000 host calls, 4 MiB of data) ran out: later steps and data
    /// are missing; every frame is there.
    pub truncated: bool,
}

/// `tx_traceContract` result: a mined contract transaction executed again, traced, on its
/// block's parent state with the transactions before it in the block.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxContractTrace {
    /// The transaction.
    pub txid: Txid,
    /// Its block.
    pub block_hash: BlockHash,
    /// The block's height.
    pub height: u64,
    /// The receipt the execution produced again: the one the block recorded.
    pub receipt: i8o8i_primitives::contract::Receipt,
    /// Every frame in the order they started, the transaction's own first (none when the
    /// payload ran no code: refused before running, or an admin change).
    pub frames: Vec<i8o8i_primitives::contract::TraceFrame>,
    /// The trace's budget ran out: later steps and data are missing; every frame is there.
    pub truncated: bool,
}

/// `contract_estimateGas` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GasEstimate {
    /// Gas the call would use now.
    pub gas_used: u64,
    /// Where it would go (the parts sum to `gasUsed`).
    pub gas_breakdown: i8o8i_primitives::contract::GasBreakdown,
}

/// `contract_getStorageRange` result: one page of a contract's storage in key order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageRange {
    /// The entries, keys ascending.
    pub entries: Vec<StorageEntry>,
    /// The key to pass as `fromKeyHex` for the next page; absent at the end.
    pub next_key: Option<String>,
}

/// One storage entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageEntry {
    /// The key (hex).
    pub key: String,
    /// The value (hex).
    pub value: String,
}

/// `contract_getInfo` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContractInfo {
    /// The address.
    pub address: ContractAddress,
    /// The account record.
    #[serde(flatten)]
    pub account: ContractAccount,
    /// The deployer's address, when its script is a standard one.
    pub deployer_address: Option<String>,
    /// The admin's address, when there is an admin with a standard script.
    pub admin_address: Option<String>,
    /// Every code the contract ran, oldest first: its deployment, then each migration.
    pub code_history: Vec<i8o8i_primitives::contract::CodeChange>,
    /// Code size in bytes.
    pub code_size: usize,
    /// The ABI embedded by the SDK, one method per line.
    pub abi: Option<String>,
    /// How the code was built, when `i8o8icoin contract build` recorded it (what
    /// `contract verify` rebuilds and compares).
    pub build: Option<i8o8i_primitives::contract::BuildRecord>,
}

/// `contract_getEvents` entry, and a `contract_subscribeEvents` notification.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventJson {
    /// The emitting transaction.
    pub txid: Txid,
    /// Its block height.
    pub height: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// True when a reorganisation disconnected the block that emitted it: undo what it did
    /// (Ethereum's `removed`). Always false from `contract_getEvents`.
    #[serde(default)]
    pub removed: bool,
}

/// `net_getInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetInfoJson {
    /// This node's peer id.
    pub peer_id: String,
    /// Bound listen addresses, full multiaddrs ending in `/p2p/<peer id>`.
    pub listen_addresses: Vec<String>,
    /// Connected peers.
    pub peers: usize,
    /// Peers in the Kademlia routing table: what this node hands out when asked for peers.
    /// Peers that stay unreachable leave it (`p2p.forget_after_failed_dials`).
    pub known_peers: usize,
}

/// One entry of `net_peers`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerJson {
    /// Peer id.
    pub id: String,
    /// Remote address of the connection.
    pub address: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Application score.
    pub score: i64,
    /// Agent from identify, once known.
    pub agent: Option<String>,
    /// Best height from the last status exchange, once known.
    pub best_height: Option<u64>,
}

/// One pending release.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unbonding {
    /// Amount.
    pub amount: Amount,
    /// Height of the block that pays it back.
    pub release_height: u64,
}

/// `staking_getInfo` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StakingInfo {
    /// The address asked about.
    pub address: String,
    /// Its staking key (hex), if the ledger or the schedule knows one for it.
    pub staking_key: Option<String>,
    /// Bonded stake.
    pub bonded: Amount,
    /// Stake on its way back.
    pub unbonding: Vec<Unbonding>,
    /// Rewards (subsidy + fees) received as a producer.
    pub rewards: Amount,
    /// Blocks produced.
    pub produced: u64,
    /// Slots missed (empty slots it was drawn for, or held in a DPoS round).
    pub missed: u64,
    /// Delegate name, if registered.
    pub delegate: Option<String>,
    /// Delegates this key votes for (hex keys).
    pub votes: Vec<String>,
}

/// One validator or delegate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Producer {
    /// Staking key (hex).
    pub key: String,
    /// Reward address.
    pub address: String,
    /// PoS: stake in the snapshot; DPoS: votes (bonded stake of its voters).
    pub weight: Amount,
    /// Blocks produced.
    pub produced: u64,
    /// Slots missed.
    pub missed: u64,
}

/// `staking_getValidators` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validators {
    /// Engine of the next block.
    pub engine: String,
    /// The epoch (PoS) or round (DPoS) of the last slot-sealed block; `None` before one.
    pub period: Option<u64>,
    /// Who draws slots now: the epoch's stake snapshot (PoS) or the round's delegates in
    /// production order (DPoS).
    pub active: Vec<Producer>,
    /// PoS: the snapshot the next epoch will use.
    pub next: Vec<Producer>,
    /// The unjailed keys with the most bonded stake now, most first, at most 1,000 (counts
    /// from the snapshot after next).
    pub bonded: Vec<Producer>,
}

/// `dpos_getDelegates` entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegateInfo {
    /// Name.
    pub name: String,
    /// Key (hex).
    pub key: String,
    /// Reward address.
    pub address: String,
    /// Bonded stake voting for it.
    pub votes: Amount,
    /// In the current round.
    pub active: bool,
    /// A fallback delegate from the chain spec (not registered on chain).
    pub genesis: bool,
    /// Blocks produced.
    pub produced: u64,
    /// Slots missed.
    pub missed: u64,
}

/// `consensus_getInfo` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusInfo {
    /// Engine that sealed the tip.
    pub engine: String,
    /// Engine of the next block.
    pub next_engine: String,
    /// Tip height.
    pub height: u64,
    /// Slot engines: the current slot by this node's clock.
    pub slot: Option<u64>,
    /// Slot engines: slot length in seconds.
    pub slot_secs: Option<u64>,
    /// PoS: the current epoch by this node's clock.
    pub epoch: Option<u64>,
    /// DPoS: the current round by this node's clock.
    pub round: Option<u64>,
    /// PoS / DPoS: the last irreversible (final) block.
    pub last_irreversible: Option<Irreversible>,
    /// PoS / DPoS: blocks between the tip and the last irreversible block.
    pub finality_lag: Option<u64>,
    /// Slot engines: the key entitled to seal the current slot on the tip (hex).
    pub slot_producer: Option<String>,
}

/// A block that no reorganisation can remove.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Irreversible {
    /// Height.
    pub height: u64,
    /// Hash.
    pub hash: BlockHash,
}

/// `consensus_getSchedule` entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleEntryJson {
    /// First height.
    pub from_height: u64,
    /// `pow`, `pos` or `dpos`.
    pub engine: String,
    /// The entry's parameters as in the chain spec.
    pub params: serde_json::Value,
    /// Whether it runs the next block.
    pub current: bool,
}

/// `wallet_create` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWallet {
    /// Wallet name.
    pub name: String,
    /// First receive address.
    pub address: String,
    /// The 24-word recovery phrase: shown once, never stored in clear.
    pub mnemonic: String,
}

/// `wallet_getBalance` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletBalance {
    /// Confirmed and spendable now.
    pub confirmed: Amount,
    /// Coinbase outputs not yet mature.
    pub immature: Amount,
    /// Net effect of pooled transactions (may be negative).
    pub unconfirmed: i64,
    /// Addresses of the wallet.
    pub addresses: Vec<String>,
    /// Whether the wallet is watch-only (it cannot spend these coins itself).
    pub watch_only: bool,
}

/// A signer of a watch-only wallet: its account's extended public key and where that key sits
/// below the signer's master key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CosignerJson {
    /// The account `xpub` (`wallet_getXpub`, `i8o8icoin wallet xpub`).
    pub xpub: String,
    /// Its derivation path (default `m/44'/8088'/0'`); it must match the key's depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What kind of wallet a node wallet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum WalletKind {
    /// An HD wallet whose seed the node keeps encrypted: it signs once given the password.
    Encrypted,
    /// Extended public keys only: it watches, hands out addresses and funds signing requests.
    WatchOnly,
}

/// `wallet_getInfo`, `wallet_importXpub` and `wallet_createMultisig` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletInfoJson {
    /// Wallet name.
    pub name: String,
    /// Encrypted (signs) or watch-only.
    pub kind: WalletKind,
    /// Signatures a coin needs: 1 but for multisig wallets.
    pub threshold: u32,
    /// A watch-only wallet's signers (one: P2PKH; several: P2SH multisig with sorted keys);
    /// empty for an encrypted wallet.
    pub cosigners: Vec<CosignerJson>,
    /// Receive addresses handed out (or found used when imported).
    pub next_receive_index: u32,
    /// Change addresses handed out.
    pub next_change_index: u32,
    /// When the wallet was created or imported, seconds since the Unix epoch.
    pub created_at: u64,
}

/// `wallet_getXpub` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountXpubJson {
    /// The account's extended public key: watch-only, but it links every address.
    pub xpub: String,
    /// Its derivation path, `m/44'/8088'/0'`.
    pub path: String,
}

/// `wallet_signRequest` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedRequestJson {
    /// The request with this wallet's signatures added (base64).
    pub request: String,
    /// Signatures added.
    pub signed: u32,
    /// Whether every input now has the signatures it needs (`tx_finalize` next).
    pub complete: bool,
}

/// One payment of `tx_fund`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentJson {
    /// Recipient (bech32m).
    pub address: String,
    /// Amount in base units.
    pub amount: Amount,
}

/// Where `tx_fund` takes coins from: the coins of `addresses`, or of the node wallet `wallet`
/// (its public keys only: no password).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FundSource {
    /// Addresses whose confirmed coins may be spent (P2PKH, or P2SH with its redeem script
    /// in `redeemScripts`).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Redeem scripts (hex) of the P2SH addresses among `addresses`.
    #[serde(default)]
    pub redeem_scripts: Vec<String>,
    /// A node wallet whose coins may be spent, encrypted or watch-only; change goes to its
    /// next change address.
    #[serde(default)]
    pub wallet: Option<String>,
}

/// Options of `tx_fund`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FundOptions {
    /// Base units per byte (default: `fee_estimate` for 6 blocks).
    #[serde(default)]
    pub fee_rate: Option<u64>,
    /// Where change goes (default: the wallet's next change address, or the first address).
    #[serde(default)]
    pub change_address: Option<String>,
}

/// `tx_fund`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FundedRequest {
    /// The signing request, base64.
    pub request: String,
    /// The fee it pays.
    pub fee: Amount,
    /// The change output's index, if there is change.
    pub change_index: Option<u32>,
}

/// A key in a decoded signing request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestKeyJson {
    /// Compressed public key, hex.
    pub pubkey: String,
    /// BIP32 path (`m/44'/8088'/0'/0/3`); null when unknown.
    pub path: Option<String>,
    /// Whether the request holds this key's signature (inputs only).
    pub signed: bool,
}

/// An input of a decoded signing request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestInputJson {
    /// The coin spent (`txid:index`).
    pub outpoint: String,
    /// Its value.
    pub value: Amount,
    /// Its address, if its script has one.
    pub address: Option<String>,
    /// Its script, hex.
    pub script_pubkey: String,
    /// The hash type to sign with.
    pub hash_type: u8,
    /// The redeem script of a P2SH coin, hex.
    pub redeem_script: Option<String>,
    /// Keys that can sign, with their paths where known.
    pub keys: Vec<RequestKeyJson>,
    /// Signatures present.
    pub signatures: usize,
    /// Signatures needed (null: a script a request cannot complete).
    pub needed: Option<usize>,
}

/// An output of a decoded signing request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestOutputJson {
    /// The recipient, if its script has an address.
    pub address: Option<String>,
    /// Its script, hex.
    pub script_pubkey: String,
    /// Amount.
    pub amount: Amount,
    /// Whether it is change.
    pub change: bool,
}

/// `tx_decodeRequest`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestJson {
    /// The unsigned transaction's id, which names the request (the signed transaction's id
    /// differs: signatures are part of it).
    pub unsigned_txid: Txid,
    /// The chain it is for (genesis hash).
    pub chain_id: Hash256,
    /// The fee it pays.
    pub fee: Amount,
    /// Whether every input has its signatures: `tx_finalize` will succeed.
    pub complete: bool,
    /// The inputs.
    pub inputs: Vec<RequestInputJson>,
    /// The outputs.
    pub outputs: Vec<RequestOutputJson>,
}

/// `tx_finalize`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FinalizedTx {
    /// The signed transaction's SCALE encoding, hex (for `tx_submit`).
    pub hex: String,
    /// Its id.
    pub txid: Txid,
}

/// One transaction of `tx_submitBatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    /// Its id (absent when the hex did not decode to a transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txid: Option<Txid>,
    /// Why it was refused (absent when it entered the mempool): the code and message
    /// `tx_submit` would have answered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SubmissionError>,
}

/// A refused transaction's JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubmissionError {
    /// The error code (`-32010` rejected, `-32011` already known, `-32602` not a transaction).
    pub code: i32,
    /// What was wrong.
    pub message: String,
}

/// `fee_estimate`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeeEstimateJson {
    /// Base units per byte.
    pub fee_rate: u64,
    /// The target it is for.
    pub target_blocks: u32,
    /// `mempool`: the pool holds more than the target's blocks; `minimum`: it does not (the
    /// rate is then the pool's minimum, or what recent full blocks asked if higher).
    pub basis: FeeBasis,
    /// Bytes in the pool.
    pub mempool_bytes: u64,
}

/// What set a fee estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FeeBasis {
    /// The pool's depth at the target (or recent full blocks, if higher).
    Mempool,
    /// The pool holds less than the target's blocks.
    Minimum,
}

/// `wallet_bumpFee`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BumpedFee {
    /// The replacement's id.
    pub txid: Txid,
    /// The transaction it replaced.
    pub replaced: Txid,
    /// The replacement's fee.
    pub fee: Amount,
    /// The fee the replaced transaction paid.
    pub old_fee: Amount,
}
