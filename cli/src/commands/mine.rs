//! `i8o8icoin mine`: mine blocks on a running dev node now (`mining_generate`).

use anyhow::Result;
use clap::Args;

use i8o8i_rpc::api;

use super::common::{RpcArgs, call, client, print};

#[derive(Args)]
pub(crate) struct MineArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Number of blocks.
    count: u32,
    /// Address receiving the coinbase (default: the node's mining address).
    #[arg(long)]
    address: Option<String>,
}

/// Mines `count` blocks now (dev chains).
pub(crate) async fn execute(args: MineArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    print(&call::<api::MiningGenerate>(&c, (args.count, args.address)).await?);
    Ok(())
}
