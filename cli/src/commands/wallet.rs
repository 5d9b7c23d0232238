//! `i8o8icoin wallet`: the node-hosted wallets (create, list, addresses, balance, send, bump a
//! stuck payment's fee).

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use i8o8i_primitives::Amount;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::signing_request::SigningRequest;
use i8o8i_rpc::api;
use i8o8i_rpc::client::RpcClient;
use i8o8i_rpc::types::{FundOptions, FundSource, PaymentJson};
use i8o8i_wallet::WalletStore;

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
        /// Fee rate in base units per byte (default: the node's `fee_estimate` for 6 blocks).
        #[arg(long)]
        fee_rate: Option<u64>,
        /// Sign here with this wallet file (`<name>.json`) instead of on the node: the node
        /// only selects coins (`tx_fund`); the password and keys never leave this machine.
        #[arg(long)]
        keystore: Option<std::path::PathBuf>,
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
            keystore,
            password: p,
        } => {
            let units = Amount::from_coin_str(&amount)
                .with_context(|| format!("bad amount {amount}"))?
                .to_units();
            match keystore {
                Some(file) => {
                    let txid =
                        send_signing_here(&c, &name, &file, &to, units, fee_rate, &p).await?;
                    print(&txid);
                }
                None => {
                    let pw = password(&p, false)?;
                    print(&call::<api::WalletSend>(&c, (name, pw, to, units, fee_rate)).await?);
                }
            }
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

/// `wallet send --keystore FILE`: the node selects coins of the file's addresses and returns a
/// signing request; the file's keys sign it here; the node gets the signed transaction.
async fn send_signing_here(
    c: &RpcClient,
    name: &str,
    file: &Path,
    to: &str,
    amount: u64,
    fee_rate: Option<u64>,
    p: &PasswordArg,
) -> Result<i8o8i_primitives::Txid> {
    let (store, stem) = keystore_of(file)?;
    if stem != name {
        bail!("{} holds the wallet `{stem}`, not `{name}`", file.display());
    }
    // The wallet's addresses on the recipient's network (the node checks that it is its own).
    let network = [Network::Mainnet, Network::Testnet]
        .into_iter()
        .find(|n| Address::parse_for(to, *n).is_ok())
        .with_context(|| format!("bad recipient address {to}"))?;
    let address = |hash| Address::p2pkh(network, hash).to_string();
    let addresses = store
        .info(name)?
        .keys()
        .iter()
        .map(|k| address(k.pubkey_hash()))
        .collect();
    let change = address(store.next_change_address(name)?.pubkey_hash());
    let outputs = vec![PaymentJson {
        address: to.to_owned(),
        amount: Amount::from_units(amount),
    }];
    let from = FundSource {
        addresses,
        ..FundSource::default()
    };
    let options = FundOptions {
        fee_rate,
        change_address: Some(change),
    };
    let funded = call::<api::TxFund>(c, (outputs, from, Some(options))).await?;
    let mut request = SigningRequest::from_text(&funded.request)?;
    let wallet = store
        .open(name, &password(p, false)?)
        .with_context(|| format!("cannot open the keystore {}", file.display()))?;
    wallet.sign_request(&mut request)?;
    let tx = request.finalize()?;
    let raw = hex::encode(parity_scale_codec::Encode::encode(&tx));
    call::<api::TxSubmit>(c, (raw,)).await
}

/// The wallet directory and name of a wallet file (`dir/<name>.json`).
pub(crate) fn keystore_of(file: &Path) -> Result<(WalletStore, String)> {
    let (Some(dir), Some(name)) = (file.parent(), file.file_stem().and_then(|s| s.to_str())) else {
        bail!("--keystore must name a wallet file, such as wallets/alice.json");
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    Ok((WalletStore::new(dir), name.to_owned()))
}
