//! `i8o8icoin dpos`: register a delegate, vote, list delegates.

use anyhow::Result;
use clap::{Args, Subcommand};

use i8o8i_rpc::api;

use super::common::{PasswordArg, RpcArgs, call, client, password, print};

#[derive(Args)]
pub(crate) struct DposArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: DposCommand,
}

#[derive(Subcommand)]
enum DposCommand {
    /// Register a wallet's staking key as a delegate (burns the registration fee).
    Register {
        /// Wallet name.
        wallet: String,
        /// Delegate name (1–32 of A–Z a–z 0–9 _ -).
        name: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Vote with a wallet's bonded stake for delegates (replaces earlier votes; none withdraws).
    Vote {
        /// Wallet name.
        wallet: String,
        /// Delegate names or keys.
        delegates: Vec<String>,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Delegates with votes, whether in the current round, produced and missed.
    Delegates,
}

pub(crate) async fn execute(args: DposArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        DposCommand::Register {
            wallet,
            name,
            password: p,
        } => {
            let pw = password(&p, false)?;
            print(&call::<api::DposRegisterDelegate>(&c, (wallet, pw, name)).await?)
        }
        DposCommand::Vote {
            wallet,
            delegates,
            password: p,
        } => {
            let pw = password(&p, false)?;
            print(&call::<api::DposVote>(&c, (wallet, pw, delegates)).await?)
        }
        DposCommand::Delegates => print(&call::<api::DposGetDelegates>(&c, ()).await?),
    }
    Ok(())
}
