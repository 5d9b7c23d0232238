//! `i8o8icoin chain`: the chain of a running node (info, blocks, balances).

use anyhow::Result;
use clap::{Args, Subcommand};
use jsonrpsee::rpc_params;

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
        ChainCommand::Info => print(&call(&c, "chain_getInfo", rpc_params![]).await?),
        ChainCommand::Block { which } => {
            let v = match which.parse::<u64>() {
                Ok(height) => call(&c, "chain_getBlock", rpc_params![height]).await?,
                Err(_) => call(&c, "chain_getBlock", rpc_params![which]).await?,
            };
            print(&v);
        }
        ChainCommand::Balance { address } => {
            print(&call(&c, "address_getBalance", rpc_params![address]).await?)
        }
    }
    Ok(())
}
