//! `i8o8icoin consensus`: the engine at the tip and the chain's schedule.

use anyhow::Result;
use clap::{Args, Subcommand};
use jsonrpsee::rpc_params;

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
    let v = match args.command {
        ConsensusCommand::Info => call(&c, "consensus_getInfo", rpc_params![]).await?,
        ConsensusCommand::Schedule => call(&c, "consensus_getSchedule", rpc_params![]).await?,
    };
    print(&v);
    Ok(())
}
