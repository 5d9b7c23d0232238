//! Every JSON-RPC method of the node, each defined once: name, summary, parameters (the
//! type a handler receives, and the JSON Schema documenting it where that differs), result
//! type, errors and access. From these the server builds its method table and OpenRPC
//! document, the node's handlers register against them
//! ([`Registry::method`](crate::Registry::method)), and clients — the CLI among them — call
//! them with typed parameters and results (`client::call`, feature `client`).

use i8o8i_primitives::address::Address;
use i8o8i_primitives::contract::Receipt;
use i8o8i_primitives::schema::Hex;
use i8o8i_primitives::{BlockHash, ContractAddress, Hash256, Txid};

use crate::methods::HashOrHeight;
use crate::types::*;

crate::rpc_api! {
    ChainGetInfo {
        name: "chain_getInfo",
        summary: "Chain name, genesis hash, height, best block hash, difficulty and consensus engine.",
        access: Public,
        errors: [],
        params: [],
        result: ChainInfo,
    }
    ChainGetBlockHash {
        name: "chain_getBlockHash",
        summary: "Hash of the best-chain block at a height.",
        access: Public,
        errors: [NotFound],
        params: [(height: u64, "Block height")],
        result: BlockHash,
    }
    ChainGetBlock {
        name: "chain_getBlock",
        summary: "A block with its transactions, by hash or by height.",
        access: Public,
        errors: [NotFound],
        params: [(hashOrHeight: serde_json::Value as HashOrHeight, "Block hash or best-chain height")],
        result: BlockJson,
    }
    ChainGetRawBlock {
        name: "chain_getRawBlock",
        summary: "A block's SCALE encoding, hex, by hash or by height (Bitcoin Core's `getblock` at verbosity 0): what indexers and load tools read without the JSON of every transaction.",
        access: Public,
        errors: [NotFound],
        params: [(hashOrHeight: serde_json::Value as HashOrHeight, "Block hash or best-chain height")],
        result: String,
    }
    ChainGetBlocks {
        name: "chain_getBlocks",
        summary: "Consecutive best-chain blocks (at most 100).",
        access: Public,
        errors: [NotFound],
        params: [(fromHeight: u64, "First height"), (count: u64, "How many (1..=100)")],
        result: Vec<BlockJson>,
    }
    ChainGetUtxoSetInfo {
        name: "chain_getUtxoSetInfo",
        summary: "Count and total amount of the UTXO set at the tip with the tip's state root, from counters kept with each block; with hashType `serialized`, also a hash of the whole set (a scan).",
        access: Public,
        errors: [InvalidParams],
        params: [[hashType: UtxoHashType, "`none` (default) or `serialized`"]],
        result: UtxoSetJson,
    }
    StateGetProof {
        name: "state_getProof",
        summary: "A key/value state record at the tip — a contract's account (`41` ‖ address), code (`43` ‖ code hash) or storage (`53` ‖ address ‖ key), a staking record (`stake/…`) — with its proof, of membership or of absence, under the tip's state root.",
        access: Public,
        errors: [InvalidParams],
        params: [(keyHex: String as Hex, "The record's key")],
        result: StateProofJson,
    }
    AddressGetUtxoProof {
        name: "address_getUtxoProof",
        summary: "The coin at an outpoint at the tip (null when spent or never created) with its proof, of membership or of absence, under the tip's state root.",
        access: Public,
        errors: [InvalidParams],
        params: [(outpoint: String, "`txid:index`")],
        result: StateProofJson,
    }
    TxSubmit {
        name: "tx_submit",
        summary: "Validates a raw transaction (hex SCALE encoding), adds it to the mempool and returns its txid.",
        access: Public,
        errors: [TxRejected, TxAlreadyKnown],
        params: [(rawHex: String as Hex, "The transaction's SCALE encoding")],
        result: Txid,
    }
    TxSubmitBatch {
        name: "tx_submitBatch",
        summary: "Validates up to 1,000 raw transactions in order (one may spend outputs of those before it) and adds those that pass to the mempool: one result per transaction, its txid or the error `tx_submit` would have returned. Their scripts verify on every core.",
        access: Public,
        errors: [InvalidParams],
        params: [(rawHexes: Vec<String>, "The transactions' SCALE encodings, hex")],
        result: Vec<Submission>,
    }
    TxFund {
        name: "tx_fund",
        summary: "Selects coins of some addresses (at most 1,000) or of a node wallet (no password) for payments, adds change and returns an unsigned signing request (base64) for signers that keep their own keys. Private: it reveals a node wallet's keys and hands out its change addresses.",
        access: Private,
        errors: [InvalidParams, InvalidAddress, WalletNotFound, InsufficientFunds],
        params: [(outputs: Vec<PaymentJson>, "Payments: `[{\"address\", \"amount\"}]`"), (from: FundSource, "`{\"addresses\": [...], \"redeemScripts\"?: [...]}` or `{\"wallet\": name}`"), [options: FundOptions, "`{\"feeRate\"?, \"changeAddress\"?}`"]],
        result: FundedRequest,
    }
    TxDecodeRequest {
        name: "tx_decodeRequest",
        summary: "What a signing request asks to sign: inputs with their coins, keys and signatures so far, outputs with change marked, the fee, and whether it is complete.",
        access: Public,
        errors: [SigningRequestInvalid],
        params: [(request: String, "Signing request, base64")],
        result: RequestJson,
    }
    TxCombine {
        name: "tx_combine",
        summary: "Merges the signatures of signing requests for one transaction into the first; refuses requests of other transactions, conflicting signatures, and a request that adds nothing.",
        access: Public,
        errors: [SigningRequestInvalid],
        params: [(requests: Vec<String>, "Two or more signing requests, base64")],
        result: String,
    }
    TxFinalize {
        name: "tx_finalize",
        summary: "The signed transaction of a complete signing request (hex, for `tx_submit`).",
        access: Public,
        errors: [SigningRequestInvalid, SigningRequestIncomplete],
        params: [(request: String, "Signing request, base64")],
        result: FinalizedTx,
    }
    TxGet {
        name: "tx_get",
        summary: "A transaction with its status: in the mempool or confirmed at a height.",
        access: Public,
        errors: [NotFound],
        params: [(txid: Txid as Hash256, "Transaction id")],
        result: TxWithStatus,
    }
    AddressGetBalance {
        name: "address_getBalance",
        summary: "Confirmed and unconfirmed balance of an address, in base units.",
        access: Public,
        errors: [InvalidAddress],
        params: [(address: String as Address, "Bech32m address")],
        result: Balance,
    }
    AddressGetUtxos {
        name: "address_getUtxos",
        summary: "Unspent confirmed outputs paying an address, in outpoint order, at most `limit` (default and most 1,000) after the outpoint `after`: page by passing the last one returned.",
        access: Public,
        errors: [InvalidAddress, InvalidParams],
        params: [
            (address: String as Address, "Bech32m address"),
            [after: String, "Return outputs after this one (`txid:index`)"],
            [limit: u64, "Most outputs to return (1..=1000, default 1000)"]
        ],
        result: Vec<UtxoJson>,
    }
    AddressGetHistory {
        name: "address_getHistory",
        summary: "Transactions that paid an address or spent its coins, newest first: the pooled ones (first page only), then at most `limit` (default 100, most 1,000) confirmed ones older than the confirmed transaction `before`: page by passing the last one returned. Each with what it paid the address and what the address's coins it spent held.",
        access: Public,
        errors: [InvalidAddress, InvalidParams],
        params: [
            (address: String as Address, "Bech32m address"),
            [before: Txid as Hash256, "Return confirmed transactions older than this one (a best-chain transaction of this address)"],
            [limit: u64, "Most confirmed transactions to return (1..=1000, default 100)"]
        ],
        result: AddressHistory,
    }
    MempoolGetInfo {
        name: "mempool_getInfo",
        summary: "Number of transactions, bytes, total fees and the minimum fee rate of the mempool.",
        access: Public,
        errors: [],
        params: [],
        result: MempoolInfo,
    }
    FeeEstimate {
        name: "fee_estimate",
        summary: "The fee rate (base units per byte) for a transaction to be mined within `targetBlocks` blocks: one unit above the package at that depth of the mempool in mining order (Electrum's method), or above the median lowest rate of the recent full blocks if higher; else the pool's minimum. Wallets use it (6 blocks) unless given a rate.",
        access: Public,
        errors: [InvalidParams],
        params: [[targetBlocks: u32 as u64, "Blocks (1..=1008, default 6)"]],
        result: FeeEstimateJson,
    }
    MempoolGetTxids {
        name: "mempool_getTxids",
        summary: "Txids in the mempool in mining order: best ancestor fee rate first, parents before children.",
        access: Public,
        errors: [],
        params: [],
        result: Vec<Txid>,
    }
    WalletCreate {
        name: "wallet_create",
        summary: "Creates an encrypted wallet; returns its first address and the mnemonic (shown once).",
        access: Private,
        errors: [WalletExists],
        params: [(name: String, "Wallet name [A-Za-z0-9_-]{1,64}"), (password: String, "Encryption password")],
        result: CreatedWallet,
    }
    WalletList {
        name: "wallet_list",
        summary: "Names of the wallets of this node.",
        access: Private,
        errors: [],
        params: [],
        result: Vec<String>,
    }
    WalletNewAddress {
        name: "wallet_newAddress",
        summary: "Hands out the next receive address of a wallet (P2SH for a multisig wallet).",
        access: Private,
        errors: [WalletNotFound],
        params: [(name: String, "Wallet name")],
        result: String,
    }
    WalletGetBalance {
        name: "wallet_getBalance",
        summary: "Confirmed, unconfirmed and immature balance of all addresses of a wallet.",
        access: Private,
        errors: [WalletNotFound],
        params: [(name: String, "Wallet name")],
        result: WalletBalance,
    }
    WalletGetInfo {
        name: "wallet_getInfo",
        summary: "A wallet's kind (encrypted or watch-only), signing policy and address indexes.",
        access: Private,
        errors: [WalletNotFound],
        params: [(name: String, "Wallet name")],
        result: WalletInfoJson,
    }
    WalletImportXpub {
        name: "wallet_importXpub",
        summary: "Creates a watch-only wallet from another wallet's account xpub: the same P2PKH addresses, balances, and signing requests (`tx_fund`) for the key holder to sign. Addresses with coins (confirmed or pooled) are found with a gap limit of 20; an address whose coins were all spent is not.",
        access: Private,
        errors: [WalletExists, InvalidParams],
        params: [(name: String, "Wallet name [A-Za-z0-9_-]{1,64}"), (xpub: String, "Account extended public key (`xpub…`)"), [path: String, "Its derivation path (default `m/44'/8088'/0'`)"]],
        result: WalletInfoJson,
    }
    WalletCreateMultisig {
        name: "wallet_createMultisig",
        summary: "Creates a watch-only m-of-n multisig wallet from 2 to 15 cosigners' account xpubs: P2SH addresses with the keys sorted (BIP67), so every cosigner derives the same ones; `tx_fund` requests name each key with its path and collect signatures from the cosigners. Used addresses are found as for `wallet_importXpub`.",
        access: Private,
        errors: [WalletExists, InvalidParams],
        params: [(name: String, "Wallet name [A-Za-z0-9_-]{1,64}"), (threshold: u32, "Signatures each coin needs"), (cosigners: Vec<CosignerJson>, "`[{\"xpub\", \"path\"?}]`")],
        result: WalletInfoJson,
    }
    WalletGetXpub {
        name: "wallet_getXpub",
        summary: "An encrypted wallet's account extended public key, for a cosigner's multisig or a watch-only wallet elsewhere.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, WatchOnlyWallet],
        params: [(name: String, "Wallet name"), (password: String, "Wallet password")],
        result: AccountXpubJson,
    }
    WalletSignRequest {
        name: "wallet_signRequest",
        summary: "Adds an encrypted node wallet's signatures to a signing request (SIGHASH_ALL only): inputs whose listed keys are its keys by path, or locked by a key it handed out (Bitcoin Core's `walletprocesspsbt`).",
        access: Private,
        errors: [WalletNotFound, WrongPassword, WatchOnlyWallet, SigningRequestInvalid],
        params: [(name: String, "Wallet name"), (password: String, "Wallet password"), (request: String, "Signing request, base64")],
        result: SignedRequestJson,
    }
    WalletSend {
        name: "wallet_send",
        summary: "Builds, signs and submits a payment; returns the txid.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, WatchOnlyWallet, InsufficientFunds, InvalidAddress, TxRejected],
        params: [(name: String, "Wallet name"), (password: String, "Wallet password"), (toAddress: String as Address, "Recipient address"), (amount: u64, "Amount in base units"), [feeRate: u64, "Base units per byte (default: `fee_estimate` for 6 blocks)"]],
        result: Txid,
    }
    WalletBumpFee {
        name: "wallet_bumpFee",
        summary: "Replaces a pooled payment of a node wallet by the same payment paying a higher fee, taken from its change (full replace-by-fee, Bitcoin Core's rules); returns the replacement.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, WatchOnlyWallet, NotFound, InvalidParams, InsufficientFunds, TxRejected],
        params: [(name: String, "Wallet name"), (password: String, "Wallet password"), (txid: Txid as Hash256, "The pooled transaction"), [feeRate: u64, "Base units per byte (default: the old rate plus the minimum relay rate, or `fee_estimate` for 6 blocks if higher)"]],
        result: BumpedFee,
    }
    MiningGenerate {
        name: "mining_generate",
        summary: "Mines blocks now (dev chains) and returns their hashes.",
        access: Private,
        errors: [MiningUnavailable, InvalidAddress, BlockRejected],
        params: [(count: u32 as u64, "Blocks to mine (1..=1000)"), [address: String as Address, "Coinbase address (default: the configured mining address)"]],
        result: Vec<BlockHash>,
    }
    MiningGetInfo {
        name: "mining_getInfo",
        summary: "Whether the node mines, with how many threads, the current target and the hash rate.",
        access: Public,
        errors: [],
        params: [],
        result: MiningInfo,
    }
    NodeGetInfo {
        name: "node_getInfo",
        summary: "Node version, uptime, data directory and chain.",
        access: Public,
        errors: [],
        params: [],
        result: NodeInfo,
    }
    NetGetInfo {
        name: "net_getInfo",
        summary: "This node's peer id, the listen addresses actually bound (full multiaddrs ending in /p2p/<peer id>) and the number of connected peers.",
        access: Public,
        errors: [NetworkUnavailable],
        params: [],
        result: NetInfoJson,
    }
    NetPeers {
        name: "net_peers",
        summary: "Connected peers: id, remote address, direction, application score, agent and best height.",
        access: Public,
        errors: [NetworkUnavailable],
        params: [],
        result: Vec<PeerJson>,
    }
    NetAddPeer {
        name: "net_addPeer",
        summary: "Dials a peer (the seed's POST /node/register); returns once the dial has started.",
        access: Private,
        errors: [NetworkUnavailable, DialFailed],
        params: [(address: String, "Multiaddr, e.g. /ip4/10.0.0.2/tcp/30808/p2p/12D3Koo…")],
        result: bool,
    }
    NetRemovePeer {
        name: "net_removePeer",
        summary: "Disconnects a peer; false if it was not connected.",
        access: Private,
        errors: [NetworkUnavailable],
        params: [(peerId: String, "Peer id")],
        result: bool,
    }
    NetBan {
        name: "net_ban",
        summary: "Bans a peer for a number of seconds (persisted across restarts) and disconnects it.",
        access: Private,
        errors: [NetworkUnavailable],
        params: [(peerId: String, "Peer id"), (seconds: u64, "Ban duration, 1 to 31536000")],
        result: bool,
    }
    ContractDeploy {
        name: "contract_deploy",
        summary: "Deploys a Wasm contract from a node wallet; the wallet's first address is the deployer (caller). Returns the txid and the address the contract gets.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (codeHex: String as Hex, "The Wasm module"), (gasLimit: u64, "Most gas the deploy may use (50 per code byte, 20,000 to instantiate, then the constructor)"), [initInputHex: String as Hex, "Constructor input (SCALE-encoded arguments)"], [saltHex: String as Hex, "32-byte salt; random by default"], [admin: String as Address, "Account that may migrate the contract (`contract_migrate`) and hand the right on; without one its code never changes"]],
        result: Deployed,
    }
    ContractInstantiate {
        name: "contract_instantiate",
        summary: "Instantiates code already on chain by its hash (no code in the transaction, no per-byte charge) from a node wallet. Returns the txid and the new address.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, NotFound, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (codeHash: Hash256, "SHA-256 of code stored by an earlier deploy (contract_getInfo shows it)"), (gasLimit: u64, "Most gas the instantiation may use"), [initInputHex: String as Hex, "Constructor input (SCALE-encoded arguments)"], [saltHex: String as Hex, "32-byte salt; random by default"], [admin: String as Address, "Account that may migrate the contract; none by default"]],
        result: Deployed,
    }
    ContractMigrate {
        name: "contract_migrate",
        summary: "Replaces a contract's code by code already on chain and runs the new code's `migrate` with the input, in one transaction (CosmWasm's Migrate); only the contract's admin may (the wallet's first address must be it). Storage and balance stay; a failed `migrate` changes nothing. Returns the txid.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, NotFound, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (address: ContractAddress as Hash256, "Contract address"), (codeHash: Hash256, "SHA-256 of the new code, stored by an earlier deploy"), (gasLimit: u64, "Most gas the migration may use"), [inputHex: String as Hex, "Input for `migrate` (SCALE-encoded arguments)"]],
        result: Txid,
    }
    ContractSetAdmin {
        name: "contract_setAdmin",
        summary: "Hands a contract's admin right to another account, or drops it for good (no `admin`); only the admin may. Returns the txid.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, NotFound, InvalidAddress, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (address: ContractAddress as Hash256, "Contract address"), [admin: String as Address, "The new admin; omit to drop the right"]],
        result: Txid,
    }
    ContractCall {
        name: "contract_call",
        summary: "Calls a contract from a node wallet (its first address is the caller), optionally sending value. Returns the txid; see tx_getReceipt once mined.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, NotFound, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (address: ContractAddress as Hash256, "Contract address"), (inputHex: String as Hex, "Call input: SCALE(method name, arguments…)"), (gasLimit: u64, "Most gas the call may use"), [value: u64, "Base units moved into the contract"]],
        result: Txid,
    }
    ContractQuery {
        name: "contract_query",
        summary: "Runs a call against the tip's state without a transaction or any state change.",
        access: Public,
        errors: [NotFound, ContractFailed, InvalidAddress],
        params: [(address: ContractAddress as Hash256, "Contract address"), (inputHex: String as Hex, "Call input"), [caller: String as Address, "Address the contract sees as caller"]],
        result: QueryResult,
    }
    ContractEstimateGas {
        name: "contract_estimateGas",
        summary: "Gas a call would use now, and where it would go by part (a dry run against the tip's state).",
        access: Public,
        errors: [NotFound, ContractFailed, InvalidAddress],
        params: [(address: ContractAddress as Hash256, "Contract address"), (inputHex: String as Hex, "Call input"), [caller: String as Address, "Address the contract sees as caller"], [value: u64, "Value sent with the call"]],
        result: GasEstimate,
    }
    ContractTraceCall {
        name: "contract_traceCall",
        summary: "Runs a call against the tip's state without keeping anything and returns its trace: every host call with its gas, storage keys read and written with old and new values, events, transfers, and nested calls with their frames and outcomes (a failed call too: the outcome says how it ended), plus the gas breakdown.",
        access: Public,
        errors: [NotFound, InvalidParams, InvalidAddress],
        params: [(address: ContractAddress as Hash256, "Contract address"), (inputHex: String as Hex, "Call input: SCALE(method name, arguments…)"), [caller: String as Address, "Address the contract sees as caller"], [value: u64, "Base units moved in"]],
        result: CallTrace,
    }
    ContractGetInfo {
        name: "contract_getInfo",
        summary: "A contract's code hash, balance, deployer, deploy height, admin, code history, code size and ABI.",
        access: Public,
        errors: [NotFound],
        params: [(address: ContractAddress as Hash256, "Contract address")],
        result: ContractInfo,
    }
    ContractGetStorage {
        name: "contract_getStorage",
        summary: "One raw storage value of a contract (null if absent).",
        access: Public,
        errors: [NotFound],
        params: [(address: ContractAddress as Hash256, "Contract address"), (keyHex: String as Hex, "Storage key")],
        result: Option<String>,
    }
    ContractGetStorageRange {
        name: "contract_getStorageRange",
        summary: "A page of a contract's storage in key order, from a key on (Ethereum's `debug_storageRangeAt`): what a tool copies to run the contract elsewhere, e.g. `i8o8icoin contract bench`.",
        access: Public,
        errors: [NotFound, InvalidParams],
        params: [(address: ContractAddress as Hash256, "Contract address"), [fromKeyHex: String as Hex, "First key (default: the smallest)"], [limit: u32, "Entries per page, 1..=1000 (default 100)"]],
        result: StorageRange,
    }
    ContractGetCode {
        name: "contract_getCode",
        summary: "A contract's Wasm module (hex), as deployed: its code hash is the SHA-256 of these bytes.",
        access: Public,
        errors: [NotFound],
        params: [(address: ContractAddress as Hash256, "Contract address")],
        result: String,
    }
    ContractGetEvents {
        name: "contract_getEvents",
        summary: "Events a contract emitted in a height range, in chain order (at most 1,000).",
        access: Public,
        errors: [NotFound],
        params: [(address: ContractAddress as Hash256, "Contract address"), [fromHeight: u64, "First height (default 0)"], [toHeight: u64, "Last height (default: the tip)"]],
        result: Vec<EventJson>,
    }
    TxGetReceipt {
        name: "tx_getReceipt",
        summary: "The receipt of a mined contract transaction: status, gas used, return data or revert reason, events, appended outputs, fee.",
        access: Public,
        errors: [NotFound],
        params: [(txid: Txid as Hash256, "Transaction id")],
        result: Receipt,
    }
    TxTraceContract {
        name: "tx_traceContract",
        summary: "The host-call trace of a mined contract transaction (geth's `debug_traceTransaction`): its block is connected again on its parent's state, rebuilt from undo data, and this transaction's execution is recorded — every frame with its host calls and gas, storage keys with old and new values, events, nested calls — with the receipt it gives again. Needs a token: block imports wait while the block is replayed.",
        access: Private,
        errors: [NotFound, InvalidParams],
        params: [(txid: Txid as Hash256, "Transaction id")],
        result: TxContractTrace,
    }
    ChainSubscribeNewHeads {
        name: "chain_subscribeNewHeads",
        summary: "WebSocket only: a notification `chain_newHead` with each new best block's header, hash and height (after a reorganisation, the new tip).",
        access: Public,
        errors: [],
        params: [],
        result: NewHead,
        notification: "chain_newHead",
        unsubscribe: "chain_unsubscribeNewHeads",
    }
    ChainUnsubscribeNewHeads {
        name: "chain_unsubscribeNewHeads",
        summary: "Ends a chain_subscribeNewHeads subscription; false if it was not open.",
        access: Public,
        errors: [],
        params: [(subscription: String, "Subscription id")],
        result: bool,
    }
    MempoolSubscribePending {
        name: "mempool_subscribePending",
        summary: "WebSocket only: a notification `mempool_pendingTx` with the txid, size and fee of each transaction accepted into the mempool.",
        access: Public,
        errors: [],
        params: [],
        result: PendingTx,
        notification: "mempool_pendingTx",
        unsubscribe: "mempool_unsubscribePending",
    }
    MempoolUnsubscribePending {
        name: "mempool_unsubscribePending",
        summary: "Ends a mempool_subscribePending subscription; false if it was not open.",
        access: Public,
        errors: [],
        params: [(subscription: String, "Subscription id")],
        result: bool,
    }
    ContractSubscribeEvents {
        name: "contract_subscribeEvents",
        summary: "WebSocket only: a notification `contract_event` for each event of contracts in the best chain, optionally of one contract and matching topics. With `fromHeight` it first sends the events of blocks from that height to the tip, then live ones, with no gap and no duplicate (resume after a disconnect from the height after the last one fully seen). When a reorganisation disconnects a block, its events come again with `removed: true` before the replacing blocks' events.",
        access: Public,
        errors: [InvalidParams],
        params: [[address: ContractAddress as Hash256, "Only events of this contract"], [topics: Vec<Option<String>>, "Topic filter by position (hex, `null` = any), at most 4"], [fromHeight: u64, "Send stored events from this height first (at most 1,000 blocks back and 10,000 events)"]],
        result: EventJson,
        notification: "contract_event",
        unsubscribe: "contract_unsubscribeEvents",
    }
    ContractUnsubscribeEvents {
        name: "contract_unsubscribeEvents",
        summary: "Ends a contract_subscribeEvents subscription; false if it was not open.",
        access: Public,
        errors: [],
        params: [(subscription: String, "Subscription id")],
        result: bool,
    }
    StakingBond {
        name: "staking_bond",
        summary: "Bonds coins of a node wallet to its staking key (its first address's key). Returns the txid.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (amount: u64, "Base units to bond (at least the schedule's min_bond)")],
        result: Txid,
    }
    StakingUnbond {
        name: "staking_unbond",
        summary: "Starts unbonding stake of a wallet's staking key; the coins are paid back to its address after the unbonding period. Needs a coin at that address.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (amount: u64, "Base units to unbond")],
        result: Txid,
    }
    StakingGetInfo {
        name: "staking_getInfo",
        summary: "Bonded stake, unbonding queue with release heights, rewards and production counters of the staking key behind an address.",
        access: Public,
        errors: [InvalidAddress],
        params: [(address: String as Address, "The staking key's P2PKH address")],
        result: StakingInfo,
    }
    StakingGetValidators {
        name: "staking_getValidators",
        summary: "The producers of the running stake engine: this epoch's snapshot (or round), the next epoch's, and the 1,000 largest unjailed bonds in the ledger.",
        access: Public,
        errors: [],
        params: [],
        result: Validators,
    }
    DposRegisterDelegate {
        name: "dpos_registerDelegate",
        summary: "Registers a wallet's staking key as a DPoS delegate (burns the registration fee). Needs a coin at the key's address.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (name: String, "Delegate name: 1–32 of A–Z a–z 0–9 _ -")],
        result: Txid,
    }
    DposVote {
        name: "dpos_vote",
        summary: "Replaces the votes of a wallet's staking key (weighted by its bonded stake). An empty list withdraws them.",
        access: Private,
        errors: [WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        params: [(wallet: String, "Wallet name"), (password: String, "Wallet password"), (delegates: Vec<String>, "Delegate names or keys (hex)")],
        result: Txid,
    }
    DposGetDelegates {
        name: "dpos_getDelegates",
        summary: "Registered (at most 1,000, by key) and fallback delegates with their votes, whether they are in the current round, and blocks produced / slots missed.",
        access: Public,
        errors: [],
        params: [],
        result: Vec<DelegateInfo>,
    }
    ConsensusGetInfo {
        name: "consensus_getInfo",
        summary: "The engine at the tip and for the next block, the current slot / epoch / round, and under PoS / DPoS the last irreversible (final) block and the finality lag.",
        access: Public,
        errors: [],
        params: [],
        result: ConsensusInfo,
    }
    ConsensusGetSchedule {
        name: "consensus_getSchedule",
        summary: "The chain spec's consensus schedule: engines, their first heights and parameters.",
        access: Public,
        errors: [],
        params: [],
        result: Vec<ScheduleEntryJson>,
    }
}
