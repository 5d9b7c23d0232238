//! `i8o8icoin tx`: submit a raw transaction or look one up.

use anyhow::Result;
use clap::{Args, Subcommand};

use i8o8i_rpc::api;

use super::common::{RpcArgs, call, client, print};

#[derive(Args)]
pub(crate) struct TxArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: TxCommand,
}

#[derive(Subcommand)]
enum TxCommand {
    /// A transaction and its status.
    Get {
        /// Transaction id.
        txid: i8o8i_primitives::Txid,
    },
    /// Submit a raw transaction (hex).
    Submit {
        /// SCALE-encoded transaction, hex.
        raw: String,
    },
}

/// Looks a transaction up or submits one.
pub(crate) async fn execute(args: TxArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        TxCommand::Get { txid } => print(&call::<api::TxGet>(&c, (txid,)).await?),
        TxCommand::Submit { raw } => print(&call::<api::TxSubmit>(&c, (raw,)).await?),
    }
    Ok(())
}
