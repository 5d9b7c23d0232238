//! The method table: every JSON-RPC method the node serves, with its parameters (and their
//! JSON Schemas), errors and access level. The server refuses to register a handler that is not
//! here, the OpenRPC document is generated from this table plus the result types of the
//! registered handlers, and a test checks that the document and the served methods are the same
//! set, so the table, the API and its documentation cannot drift.

use i8o8i_primitives::Hash256;
use i8o8i_primitives::address::Address;
use i8o8i_primitives::schema::Hex;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::error::ErrorCode::{self, *};

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read-only chain data: anyone who can reach the port.
    Public,
    /// Signs, spends, mines or changes node state (wallets, mining, peers): needs a JWT.
    Private,
}

/// A schema-producing function: `T::json_schema` through the generator, so named types land
/// in the document's `components`.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`, as a [`SchemaFn`].
pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Name (used in errors and for by-name calls).
    pub name: &'static str,
    /// Its JSON Schema.
    pub schema: SchemaFn,
    /// Whether it may be omitted.
    pub optional: bool,
    /// What it means.
    pub doc: &'static str,
}

/// What a subscription method sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// The `method` of its notifications.
    pub notification: &'static str,
    /// The method that ends it.
    pub unsubscribe: &'static str,
}

/// One method.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    /// Full name, `namespace_method`.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Parameters in positional order.
    pub params: &'static [ParamSpec],
    /// Application errors it may return, beyond those every method may
    /// ([`MethodSpec::all_errors`] adds them).
    pub errors: &'static [ErrorCode],
    /// Access level.
    pub access: Access,
    /// Set for WebSocket subscriptions.
    pub subscription: Option<Subscription>,
}

impl MethodSpec {
    /// Parameter names in order.
    pub fn param_names(&self) -> Vec<&'static str> {
        self.params.iter().map(|p| p.name).collect()
    }

    /// Every error code the method may return: its own, then invalid parameters (if it takes
    /// any), unauthorized (if private), the per-connection rate limit and internal errors.
    pub fn all_errors(&self) -> Vec<ErrorCode> {
        let mut all = self.errors.to_vec();
        if !self.params.is_empty() {
            all.push(InvalidParams);
        }
        if self.access == Access::Private {
            all.push(Unauthorized);
        }
        all.extend([RateLimited, InternalError]);
        all
    }

    /// The namespace: the part before `_` (or `.` for `rpc.discover`).
    pub fn namespace(&self) -> &'static str {
        self.name.split(['_', '.']).next().unwrap_or(self.name)
    }
}

/// A block hash or a height, as `chain_getBlock` takes it.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum HashOrHeight {
    /// Block hash.
    Hash(Hash256),
    /// Best-chain height.
    Height(u64),
}

/// Looks a method up by name (every call does, so by hash).
pub fn find(name: &str) -> Option<&'static MethodSpec> {
    static BY_NAME: std::sync::LazyLock<
        std::collections::HashMap<&'static str, &'static MethodSpec>,
    > = std::sync::LazyLock::new(|| METHODS.iter().map(|m| (m.name, m)).collect());
    BY_NAME.get(name).copied()
}

/// Whether `name` subscribes or unsubscribes (WebSocket only).
pub fn is_subscription_method(name: &str) -> bool {
    static NAMES: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| {
            METHODS
                .iter()
                .filter_map(|m| m.subscription.map(|s| [m.name, s.unsubscribe]))
                .flatten()
                .collect()
        });
    NAMES.contains(name)
}

macro_rules! p {
    ($name:literal: $ty:ty, $doc:literal) => {
        ParamSpec {
            name: $name,
            schema: schema_of::<$ty>,
            optional: false,
            doc: $doc,
        }
    };
    ($name:literal?: $ty:ty, $doc:literal) => {
        ParamSpec {
            name: $name,
            schema: schema_of::<$ty>,
            optional: true,
            doc: $doc,
        }
    };
}

use Access::{Private, Public};

/// Every method served.
pub const METHODS: &[MethodSpec] = &[
    MethodSpec {
        name: "chain_getInfo",
        summary: "Chain name, genesis hash, height, best block hash, difficulty and consensus engine.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "chain_getBlockHash",
        summary: "Hash of the best-chain block at a height.",
        params: &[p!("height": u64, "Block height")],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "chain_getBlock",
        summary: "A block with its transactions, by hash or by height.",
        params: &[p!("hashOrHeight": HashOrHeight, "Block hash or best-chain height")],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "chain_getBlocks",
        summary: "Consecutive best-chain blocks (at most 100).",
        params: &[
            p!("fromHeight": u64, "First height"),
            p!("count": u64, "How many (1..=100)"),
        ],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "chain_getUtxoSetInfo",
        summary: "Count, total amount and a hash of the whole UTXO set at the tip.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "tx_submit",
        summary: "Validates a raw transaction (hex SCALE encoding), adds it to the mempool and returns its txid.",
        params: &[p!("rawHex": Hex, "The transaction's SCALE encoding")],
        errors: &[TxRejected, TxAlreadyKnown],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "tx_get",
        summary: "A transaction with its status: in the mempool or confirmed at a height.",
        params: &[p!("txid": Hash256, "Transaction id")],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "address_getBalance",
        summary: "Confirmed and unconfirmed balance of an address, in base units.",
        params: &[p!("address": Address, "Bech32m address")],
        errors: &[InvalidAddress],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "address_getUtxos",
        summary: "Unspent confirmed outputs paying an address.",
        params: &[p!("address": Address, "Bech32m address")],
        errors: &[InvalidAddress],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "mempool_getInfo",
        summary: "Number of transactions, bytes, total fees and the minimum fee rate of the mempool.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "mempool_getTxids",
        summary: "Txids in the mempool, highest fee rate first.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "wallet_create",
        summary: "Creates an encrypted wallet; returns its first address and the mnemonic (shown once).",
        params: &[
            p!("name": String, "Wallet name [A-Za-z0-9_-]{1,64}"),
            p!("password": String, "Encryption password"),
        ],
        errors: &[WalletExists],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "wallet_list",
        summary: "Names of the wallets of this node.",
        params: &[],
        errors: &[],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "wallet_newAddress",
        summary: "Derives the next receive address of a wallet.",
        params: &[p!("name": String, "Wallet name")],
        errors: &[WalletNotFound],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "wallet_getBalance",
        summary: "Confirmed, unconfirmed and immature balance of all addresses of a wallet.",
        params: &[p!("name": String, "Wallet name")],
        errors: &[WalletNotFound],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "wallet_send",
        summary: "Builds, signs and submits a payment; returns the txid.",
        params: &[
            p!("name": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("toAddress": Address, "Recipient address"),
            p!("amount": u64, "Amount in base units"),
            p!("feeRate"?: u64, "Base units per byte (default: the mempool minimum)"),
        ],
        errors: &[
            WalletNotFound,
            WrongPassword,
            InsufficientFunds,
            InvalidAddress,
            TxRejected,
        ],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "mining_generate",
        summary: "Mines blocks now (dev chains) and returns their hashes.",
        params: &[
            p!("count": u64, "Blocks to mine (1..=1000)"),
            p!("address"?: Address, "Coinbase address (default: the configured mining address)"),
        ],
        errors: &[MiningUnavailable, InvalidAddress, BlockRejected],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "mining_getInfo",
        summary: "Whether the node mines, with how many threads, the current target and the hash rate.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "node_getInfo",
        summary: "Node version, uptime, data directory and chain.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "net_getInfo",
        summary: "This node's peer id, the listen addresses actually bound (full multiaddrs \
                  ending in /p2p/<peer id>) and the number of connected peers.",
        params: &[],
        errors: &[NetworkUnavailable],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "net_peers",
        summary: "Connected peers: id, remote address, direction, application score, agent \
                  and best height.",
        params: &[],
        errors: &[NetworkUnavailable],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "net_addPeer",
        summary: "Dials a peer (the seed's POST /node/register); returns once the dial has \
                  started.",
        params: &[p!("address": String, "Multiaddr, e.g. /ip4/10.0.0.2/tcp/30808/p2p/12D3Koo…")],
        errors: &[NetworkUnavailable, DialFailed],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "net_removePeer",
        summary: "Disconnects a peer; false if it was not connected.",
        params: &[p!("peerId": String, "Peer id")],
        errors: &[NetworkUnavailable],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "net_ban",
        summary: "Bans a peer for a number of seconds (persisted across restarts) and \
                  disconnects it.",
        params: &[
            p!("peerId": String, "Peer id"),
            p!("seconds": u64, "Ban duration, 1 to 31536000"),
        ],
        errors: &[NetworkUnavailable],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "contract_deploy",
        summary: "Deploys a Wasm contract from a node wallet; the wallet's first address is the \
                  deployer (caller). Returns the txid and the address the contract gets.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("codeHex": Hex, "The Wasm module"),
            p!("gasLimit": u64, "Most gas the deploy may use (50 per code byte, 20,000 to instantiate, then the constructor)"),
            p!("initInputHex"?: Hex, "Constructor input (SCALE-encoded arguments)"),
            p!("saltHex"?: Hex, "32-byte salt; random by default"),
        ],
        errors: &[WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "contract_instantiate",
        summary: "Instantiates code already on chain by its hash (no code in the transaction, no \
                  per-byte charge) from a node wallet. Returns the txid and the new address.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("codeHash": Hash256, "SHA-256 of code stored by an earlier deploy (contract_getInfo shows it)"),
            p!("gasLimit": u64, "Most gas the instantiation may use"),
            p!("initInputHex"?: Hex, "Constructor input (SCALE-encoded arguments)"),
            p!("saltHex"?: Hex, "32-byte salt; random by default"),
        ],
        errors: &[
            WalletNotFound,
            WrongPassword,
            InsufficientFunds,
            NotFound,
            TxRejected,
        ],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "contract_call",
        summary: "Calls a contract from a node wallet (its first address is the caller), \
                  optionally sending value. Returns the txid; see tx_getReceipt once mined.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("address": Hash256, "Contract address"),
            p!("inputHex": Hex, "Call input: SCALE(method name, arguments…)"),
            p!("gasLimit": u64, "Most gas the call may use"),
            p!("value"?: u64, "Base units moved into the contract"),
        ],
        errors: &[
            WalletNotFound,
            WrongPassword,
            InsufficientFunds,
            NotFound,
            TxRejected,
        ],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "contract_query",
        summary: "Runs a call against the tip's state without a transaction or any state change.",
        params: &[
            p!("address": Hash256, "Contract address"),
            p!("inputHex": Hex, "Call input"),
            p!("caller"?: Address, "Address the contract sees as caller"),
        ],
        errors: &[NotFound, ContractFailed, InvalidAddress],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "contract_estimateGas",
        summary: "Gas a call would use now (a dry run against the tip's state).",
        params: &[
            p!("address": Hash256, "Contract address"),
            p!("inputHex": Hex, "Call input"),
            p!("caller"?: Address, "Address the contract sees as caller"),
            p!("value"?: u64, "Value sent with the call"),
        ],
        errors: &[NotFound, ContractFailed, InvalidAddress],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "contract_getInfo",
        summary: "A contract's code hash, balance, deployer, deploy height, code size and ABI.",
        params: &[p!("address": Hash256, "Contract address")],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "contract_getStorage",
        summary: "One raw storage value of a contract (null if absent).",
        params: &[
            p!("address": Hash256, "Contract address"),
            p!("keyHex": Hex, "Storage key"),
        ],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "contract_getEvents",
        summary: "Events a contract emitted in a height range, in chain order (at most 1,000).",
        params: &[
            p!("address": Hash256, "Contract address"),
            p!("fromHeight"?: u64, "First height (default 0)"),
            p!("toHeight"?: u64, "Last height (default: the tip)"),
        ],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "tx_getReceipt",
        summary: "The receipt of a mined contract transaction: status, gas used, return data or \
                  revert reason, events, appended outputs, fee.",
        params: &[p!("txid": Hash256, "Transaction id")],
        errors: &[NotFound],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "chain_subscribeNewHeads",
        summary: "WebSocket only: a notification `chain_newHead` with each new best block's \
                  header, hash and height (after a reorganisation, the new tip).",
        params: &[],
        errors: &[],
        access: Public,
        subscription: Some(Subscription {
            notification: "chain_newHead",
            unsubscribe: "chain_unsubscribeNewHeads",
        }),
    },
    MethodSpec {
        name: "chain_unsubscribeNewHeads",
        summary: "Ends a chain_subscribeNewHeads subscription; false if it was not open.",
        params: &[p!("subscription": String, "Subscription id")],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "mempool_subscribePending",
        summary: "WebSocket only: a notification `mempool_pendingTx` with the txid, size and \
                  fee of each transaction accepted into the mempool.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: Some(Subscription {
            notification: "mempool_pendingTx",
            unsubscribe: "mempool_unsubscribePending",
        }),
    },
    MethodSpec {
        name: "mempool_unsubscribePending",
        summary: "Ends a mempool_subscribePending subscription; false if it was not open.",
        params: &[p!("subscription": String, "Subscription id")],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "contract_subscribeEvents",
        summary: "WebSocket only: a notification `contract_event` for each event emitted by \
                  contracts in connected blocks, optionally of one contract only.",
        params: &[p!("address"?: Hash256, "Only events of this contract")],
        errors: &[],
        access: Public,
        subscription: Some(Subscription {
            notification: "contract_event",
            unsubscribe: "contract_unsubscribeEvents",
        }),
    },
    MethodSpec {
        name: "contract_unsubscribeEvents",
        summary: "Ends a contract_subscribeEvents subscription; false if it was not open.",
        params: &[p!("subscription": String, "Subscription id")],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "staking_bond",
        summary: "Bonds coins of a node wallet to its staking key (its first address's key). \
                  Returns the txid.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("amount": u64, "Base units to bond (at least the schedule's min_bond)"),
        ],
        errors: &[WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "staking_unbond",
        summary: "Starts unbonding stake of a wallet's staking key; the coins are paid back to \
                  its address after the unbonding period. Needs a coin at that address.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("amount": u64, "Base units to unbond"),
        ],
        errors: &[WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "staking_getInfo",
        summary: "Bonded stake, unbonding queue with release heights, rewards and production \
                  counters of the staking key behind an address.",
        params: &[p!("address": Address, "The staking key's P2PKH address")],
        errors: &[InvalidAddress],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "staking_getValidators",
        summary: "The producers of the running stake engine: this epoch's snapshot (or round), \
                  the next epoch's, and the bonded stake in the ledger.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "dpos_registerDelegate",
        summary: "Registers a wallet's staking key as a DPoS delegate (burns the registration \
                  fee). Needs a coin at the key's address.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("name": String, "Delegate name: 1–32 of A–Z a–z 0–9 _ -"),
        ],
        errors: &[WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "dpos_vote",
        summary: "Replaces the votes of a wallet's staking key (weighted by its bonded stake). \
                  An empty list withdraws them.",
        params: &[
            p!("wallet": String, "Wallet name"),
            p!("password": String, "Wallet password"),
            p!("delegates": Vec<String>, "Delegate names or keys (hex)"),
        ],
        errors: &[WalletNotFound, WrongPassword, InsufficientFunds, TxRejected],
        access: Private,
        subscription: None,
    },
    MethodSpec {
        name: "dpos_getDelegates",
        summary: "Registered and fallback delegates with their votes, whether they are in the \
                  current round, and blocks produced / slots missed.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "consensus_getInfo",
        summary: "The engine at the tip and for the next block, the current slot / epoch / \
                  round, and under DPoS the last irreversible block and the finality lag.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "consensus_getSchedule",
        summary: "The chain spec's consensus schedule: engines, their first heights and \
                  parameters.",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
    MethodSpec {
        name: "rpc.discover",
        summary: "This API's OpenRPC document (also served at GET /openrpc.json).",
        params: &[],
        errors: &[],
        access: Public,
        subscription: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_namespaced() {
        for (i, m) in METHODS.iter().enumerate() {
            assert!(
                m.name.contains('_') || m.name == "rpc.discover",
                "{}",
                m.name
            );
            assert!(
                METHODS[i + 1..].iter().all(|o| o.name != m.name),
                "duplicate {}",
                m.name
            );
            // Optional parameters only at the end, so positions stay unambiguous.
            let first_optional = m
                .params
                .iter()
                .position(|p| p.optional)
                .unwrap_or(m.params.len());
            assert!(
                m.params[first_optional..].iter().all(|p| p.optional),
                "{}",
                m.name
            );
            if let Some(sub) = m.subscription {
                let unsub = find(sub.unsubscribe).expect("unsubscribe method in the table");
                assert_eq!(unsub.param_names(), ["subscription"]);
            }
        }
    }
}
