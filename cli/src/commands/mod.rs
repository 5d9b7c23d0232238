//! One module per command, each with its typed arguments and an `execute`; [`Cli::run`]
//! dispatches. The client commands talk to a node over JSON-RPC (see [`common`]).

use anyhow::Result;
use clap::{Parser, Subcommand};

mod auth;
mod chain;
mod common;
mod consensus;
mod contract;
mod dpos;
mod mine;
mod node;
mod staking;
mod tx;
mod wallet;

/// The command line of `i8o8icoin`.
#[derive(Parser)]
#[command(
    name = "i8o8icoin",
    version,
    about = "I8o8iCoin full node and command-line client"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a full node.
    Node(node::NodeArgs),
    /// Manage the wallets of a running node.
    Wallet(wallet::WalletArgs),
    /// Query the chain of a running node.
    Chain(chain::ChainArgs),
    /// Mine blocks on a running dev node now (mining_generate).
    Mine(mine::MineArgs),
    /// Submit or look up transactions.
    Tx(tx::TxArgs),
    /// Build, deploy, call and inspect Wasm contracts.
    Contract(contract::ContractArgs),
    /// RPC authentication: print a bearer token for private methods.
    Auth(auth::AuthArgs),
    /// Bond and unbond stake; staking info and the validator set.
    Staking(staking::StakingArgs),
    /// Delegated proof of stake: register a delegate, vote, list delegates.
    Dpos(dpos::DposArgs),
    /// The consensus engine at the tip and the chain's schedule.
    Consensus(consensus::ConsensusArgs),
}

impl Cli {
    /// Runs the command.
    ///
    /// # Errors
    /// Whatever the command reports: bad arguments, an unreachable node, a refused call.
    pub async fn run(self) -> Result<()> {
        match self.command {
            Command::Node(args) => node::execute(args).await,
            Command::Wallet(args) => wallet::execute(args).await,
            Command::Chain(args) => chain::execute(args).await,
            Command::Mine(args) => mine::execute(args).await,
            Command::Tx(args) => tx::execute(args).await,
            Command::Contract(args) => contract::execute(args).await,
            Command::Auth(args) => auth::execute(args).await,
            Command::Staking(args) => staking::execute(args).await,
            Command::Dpos(args) => dpos::execute(args).await,
            Command::Consensus(args) => consensus::execute(args).await,
        }
    }
}
