//! Error codes. Protocol errors use JSON-RPC 2.0's reserved codes; application errors use the
//! implementation-defined server-error range -32000..=-32099, one code per condition a client
//! may want to handle, with details in `message` and, where useful, `data`.

use jsonrpsee::types::ErrorObjectOwned;

/// Every error code the node returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ErrorCode {
    /// Invalid JSON was received.
    ParseError = -32700,
    /// The JSON is not a valid request object.
    InvalidRequest = -32600,
    /// The method does not exist.
    MethodNotFound = -32601,
    /// Invalid method parameters; the message names the parameter.
    InvalidParams = -32602,
    /// Internal error (storage failure and the like); the node logs the details.
    InternalError = -32603,
    /// The requested block, transaction, output or contract does not exist.
    NotFound = -32001,
    /// The transaction was rejected by validation or mempool policy; the message says why.
    TxRejected = -32010,
    /// The transaction is already in the mempool or the chain.
    TxAlreadyKnown = -32011,
    /// The block was rejected by validation; the message says why.
    BlockRejected = -32012,
    /// No wallet of that name.
    WalletNotFound = -32020,
    /// A wallet of that name exists already.
    WalletExists = -32021,
    /// The wallet password is wrong.
    WrongPassword = -32022,
    /// The wallet's spendable balance does not cover amount plus fee.
    InsufficientFunds = -32023,
    /// A signing request is malformed, inconsistent, or does not combine with another; the
    /// message says what is wrong.
    SigningRequestInvalid = -32024,
    /// A signing request lacks signatures for an input; the message says which.
    SigningRequestIncomplete = -32025,
    /// The wallet is watch-only: it cannot sign, send or export keys.
    WatchOnlyWallet = -32026,
    /// An address string is malformed or of another network.
    InvalidAddress = -32030,
    /// Mining is not possible on this chain or with this configuration.
    MiningUnavailable = -32040,
    /// The node runs without networking, or its network service stopped.
    NetworkUnavailable = -32050,
    /// A peer could not be dialled.
    DialFailed = -32051,
    /// A contract query or gas estimate did not succeed (revert, trap, out of gas).
    ContractFailed = -32060,
    /// A private method was called without a valid `Authorization: Bearer <JWT>`.
    Unauthorized = -32070,
    /// The connection exceeded its calls per second (WebSocket messages, batch elements).
    RateLimited = -32071,
}

impl ErrorCode {
    /// The numeric code.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// What the code means, for the API documentation.
    pub const fn meaning(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "Parse error: the request is not valid JSON",
            ErrorCode::InvalidRequest => "Invalid request",
            ErrorCode::MethodNotFound => "Method not found",
            ErrorCode::InvalidParams => "Invalid parameter (the message names it)",
            ErrorCode::InternalError => "Internal error",
            ErrorCode::NotFound => "Not found",
            ErrorCode::TxRejected => "Transaction rejected",
            ErrorCode::TxAlreadyKnown => "Transaction already known",
            ErrorCode::BlockRejected => "Block rejected",
            ErrorCode::WalletNotFound => "No wallet of that name",
            ErrorCode::WalletExists => "Wallet exists",
            ErrorCode::WrongPassword => "Wrong wallet password",
            ErrorCode::InsufficientFunds => "Insufficient funds",
            ErrorCode::SigningRequestInvalid => "Signing request refused (the message says why)",
            ErrorCode::SigningRequestIncomplete => "Signing request incomplete",
            ErrorCode::WatchOnlyWallet => "Watch-only wallet: it cannot sign",
            ErrorCode::InvalidAddress => "Invalid address",
            ErrorCode::MiningUnavailable => "Mining unavailable",
            ErrorCode::NetworkUnavailable => "Network unavailable",
            ErrorCode::DialFailed => "Dial failed",
            ErrorCode::ContractFailed => "Contract call failed",
            ErrorCode::Unauthorized => "Unauthorized: a private method needs a bearer JWT",
            ErrorCode::RateLimited => "Rate limited: too many calls on this connection",
        }
    }
}

/// An error to return from a handler.
pub type RpcError = ErrorObjectOwned;

/// Builds an error object with `code` and `message`.
pub fn rpc_error(code: ErrorCode, message: impl Into<String>) -> RpcError {
    ErrorObjectOwned::owned::<()>(code.code(), message.into(), None)
}
