//! What the client commands share: connecting (and finding the node's JWT secret), calling,
//! printing, reading passwords and coin amounts.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use i8o8i_node::launch::default_secret_path;
use i8o8i_primitives::Amount;
use i8o8i_rpc::JwtSecret;
use i8o8i_rpc::Method;
use i8o8i_rpc::api;
use i8o8i_rpc::client::{RpcClient, connect};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Args)]
pub(crate) struct RpcArgs {
    /// URL of the node's JSON-RPC server.
    #[arg(
        long,
        global = true,
        env = "I8O8I_RPC_URL",
        default_value = "http://127.0.0.1:5000"
    )]
    rpc_url: String,
    /// The node's JWT secret, to sign private calls (default: `$HOME/.i8o8icoin/<chain>/jwt.hex`
    /// of the node's chain, if it exists).
    #[arg(long, global = true, env = "I8O8I_JWT_SECRET")]
    jwt_secret: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct PasswordArg {
    /// Read the wallet password from this file (first line) instead of prompting.
    #[arg(long)]
    pub(crate) password_file: Option<PathBuf>,
}

pub(crate) async fn client(rpc: &RpcArgs) -> Result<RpcClient> {
    let bad_url = || format!("bad --rpc-url {}", rpc.rpc_url);
    let secret = match &rpc.jwt_secret {
        Some(path) => Some(JwtSecret::read(path)?),
        None => {
            // Ask the node its chain (a public call) to find the default secret file.
            let anonymous = connect(&rpc.rpc_url, None, None).with_context(bad_url)?;
            match call::<api::ChainGetInfo>(&anonymous, ()).await {
                Ok(info) => {
                    let path = default_secret_path(&info.chain);
                    let secret = path.exists().then(|| JwtSecret::read(&path)).transpose()?;
                    // Another node of the same chain (its own --data-dir) has another secret:
                    // then go without, and private calls say what is missing.
                    match secret {
                        Some(s) => {
                            let signed = connect(&rpc.rpc_url, Some(s.clone()), None)
                                .with_context(bad_url)?;
                            call::<api::ChainGetInfo>(&signed, ())
                                .await
                                .is_ok()
                                .then_some(s)
                        }
                        None => None,
                    }
                }
                // Let the real call report an unreachable node.
                Err(_) => None,
            }
        }
    };
    connect(&rpc.rpc_url, secret, None).with_context(bad_url)
}

/// Calls method `M` of the node's API with typed parameters and result.
pub(crate) async fn call<M>(client: &RpcClient, params: M::Params) -> Result<M::Result>
where
    M: Method,
    M::Result: DeserializeOwned,
{
    Ok(i8o8i_rpc::client::call::<M>(client, params).await?)
}

/// Prints a result as pretty JSON.
pub(crate) fn print(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot print the result: {e}"),
    }
}

pub(crate) fn password(arg: &PasswordArg, confirm: bool) -> Result<String> {
    if let Some(path) = &arg.password_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    let pw = rpassword::prompt_password("Wallet password: ").context("cannot read password")?;
    if confirm
        && rpassword::prompt_password("Repeat password: ").context("cannot read password")? != pw
    {
        bail!("passwords differ");
    }
    Ok(pw)
}

pub(crate) fn coins(amount: &str) -> Result<u64> {
    Ok(Amount::from_coin_str(amount)
        .with_context(|| format!("bad amount {amount}"))?
        .to_units())
}
