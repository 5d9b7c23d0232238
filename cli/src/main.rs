//! The `i8o8icoin` binary: parses the command line and runs it on a multi-threaded runtime.
//! Commands are in `commands/`; run `i8o8icoin --help` for the list.

use std::process::ExitCode;

use clap::Parser;
use i8o8i_cli::Cli;

// mimalloc: the node allocates many small short-lived objects per RPC call and per
// transaction; glibc malloc spent ~7 % of tx_submit load in malloc/free and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
