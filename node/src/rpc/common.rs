//! What every namespace's handlers share: error mapping to the documented codes, the blocking
//! pool, parameter parsing, and address balances.

use i8o8i_chain::chain::ImportError;
use i8o8i_chain::mempool::MempoolError;
use i8o8i_primitives::Amount;
use i8o8i_primitives::address::Address;
use i8o8i_rpc::{ErrorCode, RpcError, rpc_error};

use crate::node::Node;
use i8o8i_rpc::types::*;

pub(crate) fn internal(e: impl std::fmt::Display) -> RpcError {
    tracing::error!(error = %e, "RPC internal error");
    rpc_error(ErrorCode::InternalError, format!("internal error: {e}"))
}

/// Runs `f` on the blocking pool: handlers that touch RocksDB, unlock wallets or execute
/// contracts must not hold up the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RpcError> + Send + 'static,
) -> Result<T, RpcError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

pub(crate) fn not_found(what: impl Into<String>) -> RpcError {
    rpc_error(ErrorCode::NotFound, what)
}

pub(crate) fn invalid_param(name: &str, why: impl std::fmt::Display) -> RpcError {
    rpc_error(
        ErrorCode::InvalidParams,
        format!("invalid parameter `{name}`: {why}"),
    )
}

/// Maps mempool refusals to their documented codes.
pub fn mempool_error(e: MempoolError) -> RpcError {
    match e {
        MempoolError::AlreadyKnown(_) => rpc_error(ErrorCode::TxAlreadyKnown, e.to_string()),
        other => rpc_error(
            ErrorCode::TxRejected,
            format!("transaction rejected: {other}"),
        ),
    }
}

pub(crate) fn import_error(e: ImportError) -> RpcError {
    match e {
        ImportError::Storage(s) => internal(s),
        other => rpc_error(ErrorCode::BlockRejected, other.to_string()),
    }
}

pub(crate) fn parse_address(node: &Node, name: &str, s: &str) -> Result<Address, RpcError> {
    Address::parse_for(s, node.chain().spec().network).map_err(|e| {
        rpc_error(
            ErrorCode::InvalidAddress,
            format!("invalid parameter `{name}`: {e}"),
        )
    })
}

/// Confirmed and pooled balance of outputs locked by `script`.
///
/// # Errors
/// Internal errors from storage.
pub fn address_balance(node: &Node, script: &i8o8i_script_vm::Script) -> Result<Balance, RpcError> {
    let pool = node.mempool();
    let coins = node
        .chain()
        .store()
        .coins_for_script(script)
        .map_err(internal)?;
    let confirmed = Amount::checked_sum(coins.iter().map(|(_, c)| c.output.value))
        .ok_or_else(|| internal("balance overflow"))?;
    let spent_by_pool: u64 = coins
        .iter()
        .filter(|(op, _)| pool.spender(op).is_some())
        .map(|(_, c)| c.output.value.to_units())
        .sum();
    let received: u64 = pool
        .outputs_for_script(script)
        .iter()
        .map(|(_, v)| v.to_units())
        .sum();
    let unconfirmed = i64::try_from(received).unwrap_or(i64::MAX)
        - i64::try_from(spent_by_pool).unwrap_or(i64::MAX);
    Ok(Balance {
        confirmed,
        unconfirmed,
    })
}
