//! `i8o8icoin auth`: bearer tokens for the node's private methods.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use i8o8i_node::launch::default_secret_path;
use i8o8i_rpc::JwtSecret;

#[derive(Args)]
pub(crate) struct AuthArgs {
    #[command(subcommand)]
    command: AuthCommand,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Print a fresh JWT (HS256, valid for 60 s around its issue time) for
    /// `Authorization: Bearer <token>`.
    Token {
        /// The node's secret file (default: <data dir>/jwt.hex of --data-dir or of --chain).
        #[arg(long, env = "I8O8I_JWT_SECRET")]
        jwt_secret: Option<PathBuf>,
        /// The node's data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The node's chain, to find its default data directory (`--dev` nodes use `dev`).
        #[arg(long, default_value = "testnet")]
        chain: String,
        /// Shorthand for --chain dev.
        #[arg(long)]
        dev: bool,
    },
}

/// Prints a fresh token signed with the node's secret.
pub(crate) async fn execute(args: AuthArgs) -> Result<()> {
    let AuthCommand::Token {
        jwt_secret,
        data_dir,
        chain,
        dev,
    } = args.command;
    let path = match (jwt_secret, data_dir) {
        (Some(p), _) => p,
        (None, Some(d)) => d.join(i8o8i_node::launch::JWT_FILE),
        (None, None) => default_secret_path(if dev { "dev" } else { &chain }),
    };
    let secret = JwtSecret::read(&path).with_context(|| {
        "start the node once (it creates the secret) or pass --jwt-secret".to_owned()
    })?;
    println!("{}", secret.token());
    Ok(())
}
