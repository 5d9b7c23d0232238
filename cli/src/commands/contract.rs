//! `i8o8icoin contract`: build, deploy, instantiate, call, query and inspect Wasm contracts,
//! encoding arguments from the ABI the SDK embeds in the module.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use i8o8i_primitives::{Amount, ContractAddress, Hash256, Txid};
use i8o8i_rpc::client::RpcClient;

use i8o8i_rpc::api;

use super::common::{PasswordArg, RpcArgs, call, client, password, print};
use crate::abi;

#[derive(Args)]
pub(crate) struct ContractArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: ContractCommand,
}

#[derive(Args)]
struct GasArg {
    /// Most gas the execution may use.
    #[arg(long, default_value_t = 2_000_000)]
    gas_limit: u64,
}

#[derive(Subcommand)]
enum ContractCommand {
    /// Build a contract crate to wasm32 (rustup's target, or Debian's rustc-web); prints the
    /// module's path.
    Build {
        /// The crate's directory, e.g. contracts/examples/token.
        dir: PathBuf,
        /// Cargo target directory for the wasm build.
        #[arg(long, default_value = "target/contracts")]
        target_dir: PathBuf,
    },
    /// Rebuild a contract crate and check that a deployed contract runs exactly that code;
    /// when it does not, say what differs (compiler, sources, package).
    Verify {
        /// Contract address.
        address: ContractAddress,
        /// The crate's directory, e.g. contracts/examples/token.
        dir: PathBuf,
        /// Cargo target directory for the wasm build.
        #[arg(long, default_value = "target/contracts")]
        target_dir: PathBuf,
    },
    /// Deploy a module; constructor arguments are encoded from its embedded ABI.
    Deploy {
        /// Wallet paying, whose first address becomes the deployer.
        wallet: String,
        /// The .wasm file.
        wasm: PathBuf,
        /// Constructor arguments (addresses for Account, decimal numbers, hex for bytes).
        args: Vec<String>,
        /// An account that may migrate the contract to new code (and hand the right on);
        /// without one the code can never change.
        #[arg(long)]
        admin: Option<String>,
        #[command(flatten)]
        gas: GasArg,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Instantiate code already on chain by its hash (no upload, no per-byte charge).
    Instantiate {
        /// Wallet paying, whose first address becomes the deployer.
        wallet: String,
        /// Code hash (`contract info` of any contract with that code shows it).
        code_hash: Hash256,
        /// Constructor arguments, encoded with the ABI of the contract given by --abi-from.
        args: Vec<String>,
        /// A contract with the same code, whose embedded ABI encodes the arguments.
        #[arg(long)]
        abi_from: Option<ContractAddress>,
        /// An account that may migrate the contract to new code.
        #[arg(long)]
        admin: Option<String>,
        #[command(flatten)]
        gas: GasArg,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Migrate a contract to code already on chain, running the new code's `migrate` (only
    /// the contract's admin may); arguments are encoded from the new code's ABI, read from
    /// the .wasm file given with --abi-wasm.
    Migrate {
        /// Wallet paying, whose first address must be the contract's admin.
        wallet: String,
        /// Contract address.
        address: ContractAddress,
        /// Hash of the new code (deployed or instantiated before).
        code_hash: Hash256,
        /// Arguments of the new code's `migrate`.
        args: Vec<String>,
        /// The new code's .wasm file, for its ABI.
        #[arg(long)]
        abi_wasm: Option<PathBuf>,
        #[command(flatten)]
        gas: GasArg,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Hand a contract's admin right to another address, or drop it for good (no address).
    SetAdmin {
        /// Wallet paying, whose first address must be the contract's admin.
        wallet: String,
        /// Contract address.
        address: ContractAddress,
        /// The new admin; omit to drop the right.
        admin: Option<String>,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Call a method in a transaction; arguments are encoded from the contract's ABI.
    Call {
        /// Wallet paying, whose first address is the caller.
        wallet: String,
        /// Contract address.
        address: ContractAddress,
        /// Method name.
        method: String,
        /// Arguments.
        args: Vec<String>,
        /// I8O sent to the contract with the call.
        #[arg(long)]
        value: Option<String>,
        #[command(flatten)]
        gas: GasArg,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Run a method read-only against the tip and print its decoded result.
    Query {
        /// Contract address.
        address: ContractAddress,
        /// Method name.
        method: String,
        /// Arguments.
        args: Vec<String>,
        /// Address the contract sees as caller.
        #[arg(long)]
        caller: Option<String>,
    },
    /// Code hash, balance, deployer and ABI of a contract.
    Info {
        /// Contract address.
        address: ContractAddress,
    },
    /// Events of a contract.
    Events {
        /// Contract address.
        address: ContractAddress,
        /// First height.
        #[arg(long)]
        from: Option<u64>,
        /// Last height.
        #[arg(long)]
        to: Option<u64>,
    },
    /// The receipt of a mined contract transaction.
    Receipt {
        /// Transaction id.
        txid: Txid,
    },
}

async fn network_of(c: &RpcClient) -> Result<i8o8i_primitives::address::Network> {
    let info = call::<api::ChainGetInfo>(c, ()).await?;
    Ok(match info.chain.as_str() {
        "mainnet" => i8o8i_primitives::address::Network::Mainnet,
        "testnet" => i8o8i_primitives::address::Network::Testnet,
        _ => i8o8i_primitives::address::Network::Dev,
    })
}

/// Adds `decoded` (`{"event": name, field: value, …}`) to each event (JSON with `contract`,
/// hex `topics` and `data`) that its contract's ABI declares; the rest stay raw.
async fn decode_events(c: &RpcClient, events: &mut [serde_json::Value]) -> Result<()> {
    let network = network_of(c).await?;
    let mut abis: std::collections::BTreeMap<ContractAddress, Vec<abi::EventDef>> =
        std::collections::BTreeMap::new();
    for event in events {
        let Some(contract) = event["contract"]
            .as_str()
            .and_then(|a| a.parse::<ContractAddress>().ok())
        else {
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = abis.entry(contract) {
            let info = call::<api::ContractGetInfo>(c, (contract,)).await?;
            // A deployer writes the ABI section: a malformed one leaves its events raw rather
            // than failing the listing of everyone's events.
            slot.insert(
                info.abi
                    .and_then(|text| abi::parse_events(&text).ok())
                    .unwrap_or_default(),
            );
        }
        let topics: Option<Vec<[u8; 32]>> = event["topics"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        hex::decode(t.as_str()?)
                            .ok()
                            .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let data = event["data"].as_str().and_then(|d| hex::decode(d).ok());
        if let (Some(topics), Some(data)) = (topics, data)
            && let Some(decoded) = abi::decode_event(&abis[&contract], &topics, &data, network)
        {
            event["decoded"] = decoded;
        }
    }
    Ok(())
}

async fn contract_abi(c: &RpcClient, address: ContractAddress) -> Result<Vec<crate::abi::Method>> {
    let info = call::<api::ContractGetInfo>(c, (address,)).await?;
    let text = info
        .abi
        .context("the contract has no embedded ABI (built without the SDK's entry_points!)")?;
    Ok(crate::abi::parse(&text)?)
}

pub(crate) async fn execute(args: ContractArgs) -> Result<()> {
    if let ContractCommand::Build { dir, target_dir } = &args.command {
        let wasm = crate::contract_build::build(dir, target_dir)?;
        println!("{}", wasm.display());
        return Ok(());
    }
    let c = client(&args.rpc).await?;
    match args.command {
        ContractCommand::Build { .. } => unreachable!("handled above"),
        ContractCommand::Deploy {
            wallet,
            wasm,
            args: ctor_args,
            admin,
            gas,
            password: pw,
        } => {
            let code =
                std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
            let network = network_of(&c).await?;
            let init = match i8o8i_contract_engine::abi_of(&code) {
                Some(text) => {
                    let methods = abi::parse(&text)?;
                    match abi::find(&methods, "", true) {
                        Ok(ctor) => abi::encode_call(ctor, &ctor_args, network)?,
                        Err(_) if ctor_args.is_empty() => Vec::new(),
                        Err(_) => bail!("the contract has no constructor; drop the arguments"),
                    }
                }
                None if ctor_args.is_empty() => Vec::new(),
                None => bail!("the module has no embedded ABI to encode arguments with"),
            };
            let pw = password(&pw, false)?;
            print(
                &call::<api::ContractDeploy>(
                    &c,
                    (
                        wallet,
                        pw,
                        hex::encode(code),
                        gas.gas_limit,
                        Some(hex::encode(init)),
                        None,
                        admin,
                    ),
                )
                .await?,
            );
        }
        ContractCommand::Instantiate {
            wallet,
            code_hash,
            args: ctor_args,
            abi_from,
            admin,
            gas,
            password: pw,
        } => {
            let init = match (&abi_from, ctor_args.is_empty()) {
                (_, true) => Vec::new(),
                (Some(from), false) => {
                    let network = network_of(&c).await?;
                    let methods = contract_abi(&c, *from).await?;
                    abi::encode_call(abi::find(&methods, "", true)?, &ctor_args, network)?
                }
                (None, false) => {
                    bail!("constructor arguments need --abi-from <contract with this code>")
                }
            };
            let pw = password(&pw, false)?;
            print(
                &call::<api::ContractInstantiate>(
                    &c,
                    (
                        wallet,
                        pw,
                        code_hash,
                        gas.gas_limit,
                        Some(hex::encode(init)),
                        None,
                        admin,
                    ),
                )
                .await?,
            );
        }
        ContractCommand::Migrate {
            wallet,
            address,
            code_hash,
            args: migrate_args,
            abi_wasm,
            gas,
            password: pw,
        } => {
            let input = match (&abi_wasm, migrate_args.is_empty()) {
                (_, true) => Vec::new(),
                (Some(file), false) => {
                    let code = std::fs::read(file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let text = i8o8i_contract_engine::abi_of(&code)
                        .context("the module has no embedded ABI")?;
                    let methods = abi::parse(&text)?;
                    let migrate = abi::find_migrate(&methods)
                        .context("the new code declares no `migrate` entry point")?;
                    abi::encode_call(migrate, &migrate_args, network_of(&c).await?)?
                }
                (None, false) => bail!("arguments of `migrate` need --abi-wasm <new code's .wasm>"),
            };
            let pw = password(&pw, false)?;
            print(
                &call::<api::ContractMigrate>(
                    &c,
                    (
                        wallet,
                        pw,
                        address,
                        code_hash,
                        gas.gas_limit,
                        Some(hex::encode(input)),
                    ),
                )
                .await?,
            );
        }
        ContractCommand::SetAdmin {
            wallet,
            address,
            admin,
            password: pw,
        } => {
            let pw = password(&pw, false)?;
            print(&call::<api::ContractSetAdmin>(&c, (wallet, pw, address, admin)).await?);
        }
        ContractCommand::Call {
            wallet,
            address,
            method,
            args: call_args,
            value,
            gas,
            password: pw,
        } => {
            let network = network_of(&c).await?;
            let methods = contract_abi(&c, address).await?;
            let input =
                abi::encode_call(abi::find(&methods, &method, false)?, &call_args, network)?;
            let value = match value {
                Some(v) => Amount::from_coin_str(&v).with_context(|| format!("bad --value {v}"))?,
                None => Amount::ZERO,
            };
            let pw = password(&pw, false)?;
            print(
                &call::<api::ContractCall>(
                    &c,
                    (
                        wallet,
                        pw,
                        address,
                        hex::encode(input),
                        gas.gas_limit,
                        Some(value.to_units()),
                    ),
                )
                .await?,
            );
        }
        ContractCommand::Query {
            address,
            method,
            args: call_args,
            caller,
        } => {
            let network = network_of(&c).await?;
            let methods = contract_abi(&c, address).await?;
            let m = abi::find(&methods, &method, false)?;
            let input = abi::encode_call(m, &call_args, network)?;
            let reply =
                call::<api::ContractQuery>(&c, (address, hex::encode(input), caller)).await?;
            let data = hex::decode(&reply.return_data)?;
            print(&serde_json::json!({
                "result": abi::decode_return(&m.result, &data, network)?,
                "gasUsed": reply.gas_used,
            }));
        }
        ContractCommand::Info { address } => {
            print(&call::<api::ContractGetInfo>(&c, (address,)).await?)
        }
        ContractCommand::Verify {
            address,
            dir,
            target_dir,
        } => {
            let info = call::<api::ContractGetInfo>(&c, (address,)).await?;
            let (wasm, code) = tokio::task::spawn_blocking(move || {
                let wasm = crate::contract_build::build(&dir, &target_dir)?;
                let code = std::fs::read(&wasm)
                    .with_context(|| format!("cannot read {}", wasm.display()))?;
                anyhow::Ok((wasm, code))
            })
            .await??;
            let report = crate::contract_build::Verification::new(
                address,
                info.account.code_hash,
                info.build,
                &code,
                wasm,
            );
            print(&report);
            if !report.verified {
                bail!(
                    "{address} does not run the code this crate builds: {}",
                    report.differences.join("; ")
                );
            }
        }
        ContractCommand::Events { address, from, to } => {
            let events = call::<api::ContractGetEvents>(&c, (address, from, to)).await?;
            let mut events: Vec<serde_json::Value> = events
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            decode_events(&c, &mut events).await?;
            print(&events)
        }
        ContractCommand::Receipt { txid } => {
            let mut receipt = serde_json::to_value(call::<api::TxGetReceipt>(&c, (txid,)).await?)?;
            if let Some(serde_json::Value::Array(events)) = receipt.get_mut("events") {
                decode_events(&c, events).await?;
            }
            print(&receipt)
        }
    }
    Ok(())
}
