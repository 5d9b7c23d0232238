//! `i8o8icoin wallet`: the node-hosted wallets (create, list, addresses, balance, send, bump a
//! stuck payment's fee).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use i8o8i_primitives::Amount;

use i8o8i_rpc::api;

use super::common::{PasswordArg, RpcArgs, call, client, password, print};

#[derive(Args)]
pub(crate) struct WalletArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Create a wallet; prints its first address and its recovery phrase.
    Create {
        /// Wallet name.
        name: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// List wallets.
    List,
    /// Derive a new receive address.
    Address {
        /// Wallet name.
        name: String,
    },
    /// Show a wallet's balance.
    Balance {
        /// Wallet name.
        name: String,
    },
    /// Send coins.
    Send {
        /// Wallet name.
        name: String,
        /// Recipient address.
        to: String,
        /// Amount in I8O (e.g. 1.5).
        amount: String,
        /// Fee rate in base units per byte.
        #[arg(long)]
        fee_rate: Option<u64>,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Replace a pooled payment by the same one paying a higher fee (from its change).
    BumpFee {
        /// Wallet name.
        name: String,
        /// The pooled transaction.
        txid: i8o8i_primitives::Txid,
        /// Fee rate in base units per byte (default: the old rate plus the minimum, or the
        /// node's estimate if higher).
        #[arg(long)]
        fee_rate: Option<u64>,
        #[command(flatten)]
        password: PasswordArg,
    },
}

pub(crate) async fn execute(args: WalletArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        WalletCommand::Create { name, password: p } => {
            let pw = password(&p, true)?;
            let v = call::<api::WalletCreate>(&c, (name, pw)).await?;
            print(&v);
            eprintln!("Write the mnemonic down: it is the only way to restore this wallet.");
        }
        WalletCommand::List => print(&call::<api::WalletList>(&c, ()).await?),
        WalletCommand::Address { name } => {
            print(&call::<api::WalletNewAddress>(&c, (name,)).await?)
        }
        WalletCommand::Balance { name } => {
            print(&call::<api::WalletGetBalance>(&c, (name,)).await?)
        }
        WalletCommand::Send {
            name,
            to,
            amount,
            fee_rate,
            password: p,
        } => {
            let units = Amount::from_coin_str(&amount)
                .with_context(|| format!("bad amount {amount}"))?
                .to_units();
            let pw = password(&p, false)?;
            print(&call::<api::WalletSend>(&c, (name, pw, to, units, fee_rate)).await?);
        }
        WalletCommand::BumpFee {
            name,
            txid,
            fee_rate,
            password: p,
        } => {
            let pw = password(&p, false)?;
            print(&call::<api::WalletBumpFee>(&c, (name, pw, txid, fee_rate)).await?);
        }
    }
    Ok(())
}
