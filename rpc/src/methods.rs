//! The method table: every JSON-RPC method the node serves, with its parameters in order. The
//! server refuses to register a handler that is not here (or under another parameter list), and
//! a test checks that every entry has a handler, so this table and the served API cannot drift.

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read-only chain data: anyone who can reach the port.
    Public,
    /// Signs, spends, mines or changes node state (wallets, mining, peers).
    Private,
}

/// One parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Name (used in errors and for by-name calls).
    pub name: &'static str,
    /// JSON shape, for the docs.
    pub ty: &'static str,
    /// Whether it may be omitted.
    pub optional: bool,
    /// What it means.
    pub doc: &'static str,
}

/// One method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSpec {
    /// Full name, `namespace_method`.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Parameters in positional order.
    pub params: &'static [ParamSpec],
    /// JSON shape of the result, for the docs.
    pub result: &'static str,
    /// Access level.
    pub access: Access,
}

impl MethodSpec {
    /// Parameter names in order.
    pub fn param_names(&self) -> Vec<&'static str> {
        self.params.iter().map(|p| p.name).collect()
    }
}

/// Looks a method up by name.
pub fn find(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

macro_rules! p {
    ($name:literal: $ty:literal, $doc:literal) => {
        ParamSpec {
            name: $name,
            ty: $ty,
            optional: false,
            doc: $doc,
        }
    };
    ($name:literal?: $ty:literal, $doc:literal) => {
        ParamSpec {
            name: $name,
            ty: $ty,
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
        result: "ChainInfo",
        access: Public,
    },
    MethodSpec {
        name: "chain_getBlockHash",
        summary: "Hash of the best-chain block at a height.",
        params: &[p!("height": "integer", "Block height")],
        result: "hex hash",
        access: Public,
    },
    MethodSpec {
        name: "chain_getBlock",
        summary: "A block with its transactions, by hash or by height.",
        params: &[p!("hashOrHeight": "hex hash | integer", "Block hash or best-chain height")],
        result: "Block",
        access: Public,
    },
    MethodSpec {
        name: "chain_getBlocks",
        summary: "Consecutive best-chain blocks (at most 100).",
        params: &[
            p!("fromHeight": "integer", "First height"),
            p!("count": "integer", "How many (1..=100)"),
        ],
        result: "Block[]",
        access: Public,
    },
    MethodSpec {
        name: "chain_getUtxoSetInfo",
        summary: "Count, total amount and a hash of the whole UTXO set at the tip.",
        params: &[],
        result: "UtxoSetInfo",
        access: Public,
    },
    MethodSpec {
        name: "tx_submit",
        summary: "Validates a raw transaction (hex SCALE encoding), adds it to the mempool and returns its txid.",
        params: &[p!("rawHex": "hex", "The transaction's SCALE encoding")],
        result: "hex txid",
        access: Public,
    },
    MethodSpec {
        name: "tx_get",
        summary: "A transaction with its status: in the mempool or confirmed at a height.",
        params: &[p!("txid": "hex hash", "Transaction id")],
        result: "TxWithStatus",
        access: Public,
    },
    MethodSpec {
        name: "address_getBalance",
        summary: "Confirmed and unconfirmed balance of an address, in base units.",
        params: &[p!("address": "string", "Bech32m address")],
        result: "Balance",
        access: Public,
    },
    MethodSpec {
        name: "address_getUtxos",
        summary: "Unspent confirmed outputs paying an address.",
        params: &[p!("address": "string", "Bech32m address")],
        result: "Utxo[]",
        access: Public,
    },
    MethodSpec {
        name: "mempool_getInfo",
        summary: "Number of transactions, bytes, total fees and the minimum fee rate of the mempool.",
        params: &[],
        result: "MempoolInfo",
        access: Public,
    },
    MethodSpec {
        name: "mempool_getTxids",
        summary: "Txids in the mempool, highest fee rate first.",
        params: &[],
        result: "hex txid[]",
        access: Public,
    },
    MethodSpec {
        name: "wallet_create",
        summary: "Creates an encrypted wallet; returns its first address and the mnemonic (shown once).",
        params: &[
            p!("name": "string", "Wallet name [A-Za-z0-9_-]{1,64}"),
            p!("password": "string", "Encryption password"),
        ],
        result: "CreatedWallet",
        access: Private,
    },
    MethodSpec {
        name: "wallet_list",
        summary: "Names of the wallets of this node.",
        params: &[],
        result: "string[]",
        access: Private,
    },
    MethodSpec {
        name: "wallet_newAddress",
        summary: "Derives the next receive address of a wallet.",
        params: &[p!("name": "string", "Wallet name")],
        result: "string",
        access: Private,
    },
    MethodSpec {
        name: "wallet_getBalance",
        summary: "Confirmed, unconfirmed and immature balance of all addresses of a wallet.",
        params: &[p!("name": "string", "Wallet name")],
        result: "WalletBalance",
        access: Private,
    },
    MethodSpec {
        name: "wallet_send",
        summary: "Builds, signs and submits a payment; returns the txid.",
        params: &[
            p!("name": "string", "Wallet name"),
            p!("password": "string", "Wallet password"),
            p!("toAddress": "string", "Recipient address"),
            p!("amount": "integer", "Amount in base units"),
            p!("feeRate"?: "integer", "Base units per byte (default: the mempool minimum)"),
        ],
        result: "hex txid",
        access: Private,
    },
    MethodSpec {
        name: "mining_generate",
        summary: "Mines blocks now (dev chains) and returns their hashes.",
        params: &[
            p!("count": "integer", "Blocks to mine (1..=1000)"),
            p!("address"?: "string", "Coinbase address (default: the configured mining address)"),
        ],
        result: "hex hash[]",
        access: Private,
    },
    MethodSpec {
        name: "mining_getInfo",
        summary: "Whether the node mines, with how many threads, the current target and the hash rate.",
        params: &[],
        result: "MiningInfo",
        access: Public,
    },
    MethodSpec {
        name: "node_getInfo",
        summary: "Node version, uptime, data directory and chain.",
        params: &[],
        result: "NodeInfo",
        access: Public,
    },
    MethodSpec {
        name: "net_getInfo",
        summary: "This node's peer id, the listen addresses actually bound (full multiaddrs \
                  ending in /p2p/<peer id>) and the number of connected peers.",
        params: &[],
        result: "NetInfo",
        access: Public,
    },
    MethodSpec {
        name: "net_peers",
        summary: "Connected peers: id, remote address, direction, application score, agent \
                  and best height.",
        params: &[],
        result: "PeerInfo[]",
        access: Public,
    },
    MethodSpec {
        name: "net_addPeer",
        summary: "Dials a peer (the seed's POST /node/register); returns once the dial has \
                  started.",
        params: &[p!("address": "string", "Multiaddr, e.g. /ip4/10.0.0.2/tcp/30808/p2p/12D3Koo…")],
        result: "bool",
        access: Private,
    },
    MethodSpec {
        name: "net_removePeer",
        summary: "Disconnects a peer; false if it was not connected.",
        params: &[p!("peerId": "string", "Peer id")],
        result: "bool",
        access: Private,
    },
    MethodSpec {
        name: "net_ban",
        summary: "Bans a peer for a number of seconds (persisted across restarts) and \
                  disconnects it.",
        params: &[
            p!("peerId": "string", "Peer id"),
            p!("seconds": "integer", "Ban duration, 1 to 31536000"),
        ],
        result: "bool",
        access: Private,
    },
    MethodSpec {
        name: "contract_deploy",
        summary: "Deploys a Wasm contract from a node wallet; the wallet's first address is the \
                  deployer (caller). Returns the txid and the address the contract gets.",
        params: &[
            p!("wallet": "string", "Wallet name"),
            p!("password": "string", "Wallet password"),
            p!("codeHex": "hex", "The Wasm module"),
            p!("gasLimit": "integer", "Most gas the deploy may use (50 per code byte, 20,000 to instantiate, then the constructor)"),
            p!("initInputHex"?: "hex", "Constructor input (SCALE-encoded arguments)"),
            p!("saltHex"?: "hex", "32-byte salt; random by default"),
        ],
        result: "{txid, address}",
        access: Private,
    },
    MethodSpec {
        name: "contract_instantiate",
        summary: "Instantiates code already on chain by its hash (no code in the transaction, no \
                  per-byte charge) from a node wallet. Returns the txid and the new address.",
        params: &[
            p!("wallet": "string", "Wallet name"),
            p!("password": "string", "Wallet password"),
            p!("codeHash": "hex hash", "SHA-256 of code stored by an earlier deploy (contract_getInfo shows it)"),
            p!("gasLimit": "integer", "Most gas the instantiation may use"),
            p!("initInputHex"?: "hex", "Constructor input (SCALE-encoded arguments)"),
            p!("saltHex"?: "hex", "32-byte salt; random by default"),
        ],
        result: "{txid, address}",
        access: Private,
    },
    MethodSpec {
        name: "contract_call",
        summary: "Calls a contract from a node wallet (its first address is the caller), \
                  optionally sending value. Returns the txid; see tx_getReceipt once mined.",
        params: &[
            p!("wallet": "string", "Wallet name"),
            p!("password": "string", "Wallet password"),
            p!("address": "hex hash", "Contract address"),
            p!("inputHex": "hex", "Call input: SCALE(method name, arguments…)"),
            p!("gasLimit": "integer", "Most gas the call may use"),
            p!("value"?: "integer", "Base units moved into the contract"),
        ],
        result: "hex hash",
        access: Private,
    },
    MethodSpec {
        name: "contract_query",
        summary: "Runs a call against the tip's state without a transaction or any state change.",
        params: &[
            p!("address": "hex hash", "Contract address"),
            p!("inputHex": "hex", "Call input"),
            p!("caller"?: "string", "Address the contract sees as caller"),
        ],
        result: "{returnData, gasUsed, events}",
        access: Public,
    },
    MethodSpec {
        name: "contract_estimateGas",
        summary: "Gas a call would use now (a dry run against the tip's state).",
        params: &[
            p!("address": "hex hash", "Contract address"),
            p!("inputHex": "hex", "Call input"),
            p!("caller"?: "string", "Address the contract sees as caller"),
            p!("value"?: "integer", "Value sent with the call"),
        ],
        result: "integer",
        access: Public,
    },
    MethodSpec {
        name: "contract_getInfo",
        summary: "A contract's code hash, balance, deployer, deploy height, code size and ABI.",
        params: &[p!("address": "hex hash", "Contract address")],
        result: "ContractInfo",
        access: Public,
    },
    MethodSpec {
        name: "contract_getStorage",
        summary: "One raw storage value of a contract (null if absent).",
        params: &[
            p!("address": "hex hash", "Contract address"),
            p!("keyHex": "hex", "Storage key"),
        ],
        result: "hex | null",
        access: Public,
    },
    MethodSpec {
        name: "contract_getEvents",
        summary: "Events a contract emitted in a height range, in chain order (at most 1,000).",
        params: &[
            p!("address": "hex hash", "Contract address"),
            p!("fromHeight"?: "integer", "First height (default 0)"),
            p!("toHeight"?: "integer", "Last height (default: the tip)"),
        ],
        result: "[{txid, height, contract, topics, data}]",
        access: Public,
    },
    MethodSpec {
        name: "tx_getReceipt",
        summary: "The receipt of a mined contract transaction: status, gas used, return data or \
                  revert reason, events, appended outputs, fee.",
        params: &[p!("txid": "hex hash", "Transaction id")],
        result: "Receipt",
        access: Public,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_namespaced() {
        for (i, m) in METHODS.iter().enumerate() {
            assert!(m.name.contains('_'), "{}", m.name);
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
        }
    }
}
