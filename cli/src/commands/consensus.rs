//! `i8o8icoin consensus`: the engine at the tip and the chain's schedule.

use anyhow::Result;
use clap::{Args, Subcommand};

use i8o8i_rpc::api;

use super::common::{RpcArgs, call, client, print};

#[derive(Args)]
pub(crate) struct ConsensusArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: ConsensusCommand,
}

#[derive(Subcommand)]
enum ConsensusCommand {
    /// Engine, slot, epoch / round and the last irreversible block.
    Info,
    /// The consensus schedule of the chain spec.
    Schedule,
}

pub(crate) async fn execute(args: ConsensusArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        ConsensusCommand::Info => print(&call::<api::ConsensusGetInfo>(&c, ()).await?),
        ConsensusCommand::Schedule => print(&call::<api::ConsensusGetSchedule>(&c, ()).await?),
    }
    Ok(())
}
