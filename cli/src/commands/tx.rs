//! `i8o8icoin tx`: submit a raw transaction or look one up, and signing requests: fund one on a
//! node, then sign, combine and finalise it here — signing needs no node at all, only the
//! keystore file.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use i8o8i_primitives::signing_request::SigningRequest;
use i8o8i_rpc::api;
use i8o8i_rpc::types::{FundOptions, FundSource, PaymentJson};

use super::common::{PasswordArg, RpcArgs, call, client, coins, password, print};
use super::wallet::keystore_of;

#[derive(Args)]
pub(crate) struct TxArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: TxCommand,
}

#[derive(Subcommand)]
enum TxCommand {
    /// A transaction and its status.
    Get {
        /// Transaction id.
        txid: i8o8i_primitives::Txid,
    },
    /// Submit a raw transaction (hex).
    Submit {
        /// SCALE-encoded transaction, hex.
        raw: String,
    },
    /// Ask the node for a signing request paying `--to` from some addresses or a node
    /// wallet's coins (no password: the node picks coins, signers sign elsewhere).
    Fund {
        /// Recipient address (repeat with --amount for several payments).
        #[arg(long, required = true)]
        to: Vec<String>,
        /// Amount in coins (one per --to).
        #[arg(long, required = true)]
        amount: Vec<String>,
        /// Spend the coins of this address (repeatable).
        #[arg(long = "from", conflicts_with = "from_wallet")]
        from: Vec<String>,
        /// The redeem script (hex) of a P2SH --from address (repeatable).
        #[arg(long)]
        redeem_script: Vec<String>,
        /// Spend the coins of this node wallet.
        #[arg(long)]
        from_wallet: Option<String>,
        /// Where change goes.
        #[arg(long)]
        change_address: Option<String>,
        /// Base units per byte (default: the node's `fee_estimate` for 6 blocks).
        #[arg(long)]
        fee_rate: Option<u64>,
    },
    /// What a signing request asks to sign (asks the node, for addresses).
    Decode {
        /// Signing request (base64), or `-` to read it from standard input.
        request: String,
    },
    /// Sign a request with a keystore file's keys, offline: prints the request with the new
    /// signatures.
    Sign {
        /// Signing request (base64), or `-` to read it from standard input.
        request: String,
        /// The wallet file (`<name>.json`, as `wallet create` writes it in a node's
        /// `wallets` directory).
        #[arg(long)]
        keystore: PathBuf,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Merge the signatures of requests for one transaction (offline).
    Combine {
        /// Two or more signing requests (base64).
        #[arg(required = true, num_args = 2..)]
        requests: Vec<String>,
    },
    /// Turn a complete request into the signed transaction (offline): prints its hex for
    /// `tx submit`.
    Finalize {
        /// Signing request (base64), or `-` to read it from standard input.
        request: String,
    },
}

/// Runs a `tx` command.
pub(crate) async fn execute(args: TxArgs) -> Result<()> {
    match args.command {
        TxCommand::Sign {
            request,
            keystore,
            password: p,
        } => {
            let mut request = read_request(&request)?;
            let signed = sign(&mut request, &keystore, &password(&p, false)?)?;
            eprintln!(
                "signed {signed} input(s); {}",
                if request.is_complete() {
                    "the request is complete"
                } else {
                    "more signatures are needed"
                }
            );
            println!("{}", request.to_text());
        }
        TxCommand::Combine { requests } => {
            let mut combined = read_request(&requests[0])?;
            for other in &requests[1..] {
                combined.combine(&read_request(other)?)?;
            }
            println!("{}", combined.to_text());
        }
        TxCommand::Finalize { request } => {
            let tx = read_request(&request)?.finalize()?;
            println!("{}", hex::encode(parity_scale_codec::Encode::encode(&tx)));
        }
        TxCommand::Get { txid } => {
            let c = client(&args.rpc).await?;
            print(&call::<api::TxGet>(&c, (txid,)).await?);
        }
        TxCommand::Submit { raw } => {
            let c = client(&args.rpc).await?;
            print(&call::<api::TxSubmit>(&c, (raw,)).await?);
        }
        TxCommand::Fund {
            to,
            amount,
            from,
            redeem_script,
            from_wallet,
            change_address,
            fee_rate,
        } => {
            if to.len() != amount.len() {
                bail!("give one --amount per --to");
            }
            let outputs = to
                .into_iter()
                .zip(&amount)
                .map(|(address, amount)| {
                    Ok(PaymentJson {
                        address,
                        amount: i8o8i_primitives::Amount::from_units(coins(amount)?),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let from = FundSource {
                addresses: from,
                redeem_scripts: redeem_script,
                wallet: from_wallet,
            };
            let options = FundOptions {
                fee_rate,
                change_address,
            };
            let c = client(&args.rpc).await?;
            print(&call::<api::TxFund>(&c, (outputs, from, Some(options))).await?);
        }
        TxCommand::Decode { request } => {
            let text = read_text(&request)?;
            let c = client(&args.rpc).await?;
            print(&call::<api::TxDecodeRequest>(&c, (text,)).await?);
        }
    }
    Ok(())
}

/// The argument, or standard input for `-`.
fn read_text(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the request from standard input")?;
    Ok(text)
}

fn read_request(arg: &str) -> Result<SigningRequest> {
    Ok(SigningRequest::from_text(&read_text(arg)?)?)
}

/// Signs `request` with the wallet in `keystore`; the signatures added.
fn sign(request: &mut SigningRequest, keystore: &Path, password: &str) -> Result<usize> {
    let (store, name) = keystore_of(keystore)?;
    let wallet = store
        .open(&name, password)
        .with_context(|| format!("cannot open the keystore {}", keystore.display()))?;
    Ok(wallet.sign_request(request)?)
}
