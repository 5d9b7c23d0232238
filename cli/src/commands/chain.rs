//! `i8o8icoin chain`: the chain of a running node (info, blocks, balances).

use anyhow::Result;
use clap::{Args, Subcommand};

use i8o8i_rpc::api;

use super::common::{RpcArgs, call, client, print};

#[derive(Args)]
pub(crate) struct ChainArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: ChainCommand,
}

#[derive(Subcommand)]
enum ChainCommand {
    /// Chain name, height, best hash, difficulty.
    Info,
    /// A block by hash or height.
    Block {
        /// Hash or height.
        which: String,
    },
    /// Balance of any address.
    Balance {
        /// Address.
        address: String,
    },
}

pub(crate) async fn execute(args: ChainArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        ChainCommand::Info => print(&call::<api::ChainGetInfo>(&c, ()).await?),
        ChainCommand::Block { which } => {
            // A height or a hash: the node tells them apart and says what is wrong with either.
            let which = match which.parse::<u64>() {
                Ok(height) => serde_json::Value::from(height),
                Err(_) => serde_json::Value::from(which),
            };
            print(&call::<api::ChainGetBlock>(&c, (which,)).await?);
        }
        ChainCommand::Balance { address } => {
            print(&call::<api::AddressGetBalance>(&c, (address,)).await?)
        }
    }
    Ok(())
}
