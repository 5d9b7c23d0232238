//! `i8o8icoin staking`: bond and unbond stake, staking info, the validator set.

use anyhow::Result;
use clap::{Args, Subcommand};

use i8o8i_rpc::api;

use super::common::{PasswordArg, RpcArgs, call, client, coins, password, print};

#[derive(Args)]
pub(crate) struct StakingArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: StakingCommand,
}

#[derive(Subcommand)]
enum StakingCommand {
    /// Bond coins of a wallet to its staking key (its first address's key).
    Bond {
        /// Wallet name.
        wallet: String,
        /// Amount in I8O (e.g. 10.5).
        amount: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Start unbonding; the coins return to the staking address after the unbonding period.
    Unbond {
        /// Wallet name.
        wallet: String,
        /// Amount in I8O.
        amount: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Bonded, unbonding (with release heights) and rewards of an address's staking key.
    Info {
        /// The staking key's address.
        address: String,
    },
    /// The running stake engine's producers: this epoch's, the next's, and the bonded ledger.
    Validators,
}

pub(crate) async fn execute(args: StakingArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        StakingCommand::Bond {
            wallet,
            amount,
            password: p,
        } => {
            let units = coins(&amount)?;
            let pw = password(&p, false)?;
            print(&call::<api::StakingBond>(&c, (wallet, pw, units)).await?)
        }
        StakingCommand::Unbond {
            wallet,
            amount,
            password: p,
        } => {
            let units = coins(&amount)?;
            let pw = password(&p, false)?;
            print(&call::<api::StakingUnbond>(&c, (wallet, pw, units)).await?)
        }
        StakingCommand::Info { address } => {
            print(&call::<api::StakingGetInfo>(&c, (address,)).await?)
        }
        StakingCommand::Validators => print(&call::<api::StakingGetValidators>(&c, ()).await?),
    }
    Ok(())
}
