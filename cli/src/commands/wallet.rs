//! `i8o8icoin wallet`: the node-hosted wallets (create, list, addresses, balance, send, bump a
//! stuck payment's fee; watch-only and multisig wallets from xpubs, and the account xpub to give
//! a cosigner).

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use i8o8i_primitives::Amount;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::signing_request::SigningRequest;
use i8o8i_rpc::api;
use i8o8i_rpc::client::RpcClient;
use i8o8i_rpc::types::{AccountXpubJson, CosignerJson, FundOptions, FundSource, PaymentJson};
use i8o8i_wallet::{ACCOUNT, DerivationPath, WalletStore};

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
    /// Show a wallet's kind (encrypted or watch-only), signing policy and indexes.
    Info {
        /// Wallet name.
        name: String,
    },
    /// Print a wallet's account xpub (`m/44'/8088'/0'`), for a cosigner's multisig wallet or a
    /// watch-only wallet elsewhere. With `--keystore` it runs offline, without a node.
    Xpub {
        /// Wallet name (on the node), unless `--keystore` names the file.
        #[arg(required_unless_present = "keystore")]
        name: Option<String>,
        /// Read this wallet file (`<name>.json`) here instead of asking the node.
        #[arg(long)]
        keystore: Option<std::path::PathBuf>,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Create a watch-only wallet on the node from an account xpub: it tracks the balance of
    /// the wallet the xpub came from and funds signing requests, but cannot spend.
    ImportXpub {
        /// Name of the new wallet.
        name: String,
        /// The account xpub.
        xpub: String,
        /// The xpub's derivation path (default `m/44'/8088'/0'`).
        #[arg(long)]
        path: Option<String>,
    },
    /// Create a watch-only m-of-n multisig wallet on the node from the cosigners' account
    /// xpubs (each at `m/44'/8088'/0'`; use `wallet_createMultisig` for other paths).
    CreateMultisig {
        /// Name of the new wallet.
        name: String,
        /// Signatures each coin needs (m).
        #[arg(long)]
        threshold: u32,
        /// The n cosigners' account xpubs, 2 to 15.
        #[arg(required = true, num_args = 2..=15)]
        xpubs: Vec<String>,
    },
    /// Add a node wallet's signatures to a signing request (for a multisig cosigner whose
    /// keys the node keeps); prints the request.
    Sign {
        /// Wallet name.
        name: String,
        /// Signing request (base64).
        request: String,
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
    if let WalletCommand::Xpub {
        keystore: Some(file),
        password: p,
        ..
    } = &args.command
    {
        // Offline: the file's seed gives the xpub; no node is asked anything.
        let (store, name) = keystore_of(file)?;
        let wallet = store
            .open(&name, &password(p, false)?)
            .with_context(|| format!("cannot open the keystore {}", file.display()))?;
        print(&AccountXpubJson {
            xpub: wallet.account_xpub().to_xpub(),
            path: DerivationPath::account(ACCOUNT)?.to_string(),
        });
        return Ok(());
    }
    let c = client(&args.rpc).await?;
    match args.command {
        WalletCommand::Info { name } => print(&call::<api::WalletGetInfo>(&c, (name,)).await?),
        WalletCommand::Xpub {
            name, password: p, ..
        } => {
            let name = name.context("name the wallet, or its file with --keystore")?;
            let pw = password(&p, false)?;
            print(&call::<api::WalletGetXpub>(&c, (name, pw)).await?);
        }
        WalletCommand::ImportXpub { name, xpub, path } => {
            print(&call::<api::WalletImportXpub>(&c, (name, xpub, path)).await?)
        }
        WalletCommand::CreateMultisig {
            name,
            threshold,
            xpubs,
        } => {
            let cosigners = xpubs
                .into_iter()
                .map(|xpub| CosignerJson { xpub, path: None })
                .collect::<Vec<_>>();
            print(&call::<api::WalletCreateMultisig>(&c, (name, threshold, cosigners)).await?)
        }
        WalletCommand::Sign {
            name,
            request,
            password: p,
        } => {
            let pw = password(&p, false)?;
            let signed = call::<api::WalletSignRequest>(&c, (name, pw, request)).await?;
            eprintln!(
                "signed {} input(s); {}",
                signed.signed,
                if signed.complete {
                    "the request is complete"
                } else {
                    "more signatures are needed"
                }
            );
            println!("{}", signed.request);
        }
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
