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
    /// Benchmark a method in the chain's own engine: gas, time per call (median, p99), gas
    /// per µs and the gas breakdown. State is in memory: the module deployed fresh
    /// (constructor arguments with --init, calls kept before timing with --setup), or a
    /// contract copied from the node (its address instead of a file; --copy the contracts
    /// it calls). Every timed call starts from the same state.
    Bench {
        /// The .wasm module, or the address of a contract on the node to copy.
        target: String,
        /// Method name.
        method: String,
        /// Arguments.
        args: Vec<String>,
        /// A constructor argument (repeat, in order).
        #[arg(long = "init")]
        init: Vec<String>,
        /// A call made and kept before timing, as "method arg …" (repeat, in order).
        #[arg(long)]
        setup: Vec<String>,
        /// Another contract to copy from the node: one the benchmarked contract calls.
        #[arg(long)]
        copy: Vec<ContractAddress>,
        /// Address the contract sees as caller (default: a fixed test address for a
        /// module, the deployer for a contract copied from the node).
        #[arg(long)]
        caller: Option<String>,
        /// I8O sent with each call.
        #[arg(long)]
        value: Option<String>,
        /// Calls timed.
        #[arg(long, default_value_t = 1_000)]
        iterations: u32,
        /// Calls before timing starts.
        #[arg(long, default_value_t = 100)]
        warmup: u32,
        /// Engine to time the call in: the chain's (wasmtime), or the wasmi interpreter for
        /// comparison (the same module, host functions and state; its gas is wasmi's
        /// metering, the chain's is shown beside it).
        #[arg(long, value_enum, default_value_t = crate::contract_bench::EngineChoice::Wasmtime)]
        engine: crate::contract_bench::EngineChoice,
        #[command(flatten)]
        gas: GasArg,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
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
    if let ContractCommand::Bench { .. } = &args.command {
        return bench(args).await;
    }
    let c = client(&args.rpc).await?;
    match args.command {
        ContractCommand::Build { .. } | ContractCommand::Bench { .. } => {
            unreachable!("handled above")
        }
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

/// The caller a benchmarked module sees unless told: P2PKH of a fixed key hash.
const BENCH_CALLER: [u8; 20] = [0x42; 20];

async fn bench(args: ContractArgs) -> Result<()> {
    use crate::contract_bench::{Runs, bench};
    use i8o8i_contract_engine::harness::Harness;
    use i8o8i_primitives::address::{Address, Network};
    let ContractCommand::Bench {
        target,
        method,
        args: call_args,
        init,
        setup,
        copy,
        caller,
        value,
        iterations,
        warmup,
        engine,
        gas,
        json,
    } = args.command
    else {
        unreachable!("a bench command")
    };
    let mut h = Harness::new()?;
    h.gas_limit = gas.gas_limit;
    let (contract, methods, network, default_caller) =
        if let Ok(address) = target.parse::<ContractAddress>() {
            let c = client(&args.rpc).await?;
            let network = network_of(&c).await?;
            for a in std::iter::once(address).chain(copy) {
                copy_contract(&c, &mut h, a).await?;
            }
            let deployer = h.account(&address)?.map(|a| a.deployer).unwrap_or_default();
            (address, contract_abi(&c, address).await?, network, deployer)
        } else {
            if !copy.is_empty() {
                bail!("--copy copies from a node: give a contract address instead of a module");
            }
            let code = std::fs::read(&target).with_context(|| format!("cannot read {target}"))?;
            let methods = abi::parse(
                &i8o8i_contract_engine::abi_of(&code)
                    .context("the module has no embedded ABI to encode arguments with")?,
            )?;
            let network = Network::Dev;
            let deployer = p2pkh(&BENCH_CALLER);
            let ctor = match abi::find(&methods, "", true) {
                Ok(ctor) => abi::encode_call(ctor, &init, network)?,
                Err(_) if init.is_empty() => Vec::new(),
                Err(_) => bail!("the contract has no constructor; drop --init"),
            };
            let (address, deployed) = h.deploy(&deployer, &code, &ctor)?;
            if !deployed.status.is_success() {
                bail!("the constructor failed: {:?}", deployed.status);
            }
            (address, methods, network, deployer)
        };
    let caller = match caller {
        Some(a) => Address::parse_for(&a, network)
            .with_context(|| format!("bad --caller {a}"))?
            .script_pubkey()
            .as_bytes()
            .to_vec(),
        None => default_caller,
    };
    for step in &setup {
        let mut words = step.split_whitespace().map(str::to_owned);
        let name = words.next().context("an empty --setup")?;
        let step_args: Vec<String> = words.collect();
        let input = abi::encode_call(abi::find(&methods, &name, false)?, &step_args, network)?;
        let done = h.call(&caller, contract, &input, 0)?;
        if !done.status.is_success() {
            bail!("--setup `{step}` failed: {:?}", done.status);
        }
    }
    let input = abi::encode_call(abi::find(&methods, &method, false)?, &call_args, network)?;
    let value = match value {
        Some(v) => Amount::from_coin_str(&v).with_context(|| format!("bad --value {v}"))?,
        None => Amount::ZERO,
    };
    let (req, _) = h.request(&caller, contract, &input, value.to_units())?;
    let runs = Runs { iterations, warmup };
    let report =
        tokio::task::spawn_blocking(move || bench(&h, &req, &method, runs, engine)).await??;
    if json {
        print(&report);
    } else {
        print!("{}", report.text());
    }
    Ok(())
}

fn p2pkh(hash: &[u8; 20]) -> Vec<u8> {
    let mut script = vec![0x76, 0xa9, 0x14];
    script.extend_from_slice(hash);
    script.extend_from_slice(&[0x88, 0xac]);
    script
}

/// Copies the account, code and storage of `address` from the node into `h`.
async fn copy_contract(
    c: &RpcClient,
    h: &mut i8o8i_contract_engine::harness::Harness,
    address: ContractAddress,
) -> Result<()> {
    let info = call::<api::ContractGetInfo>(c, (address,)).await?;
    let code = hex::decode(call::<api::ContractGetCode>(c, (address,)).await?)?;
    let mut entries = Vec::new();
    let mut from = None;
    loop {
        let page =
            call::<api::ContractGetStorageRange>(c, (address, from.clone(), Some(1_000))).await?;
        for e in page.entries {
            entries.push((hex::decode(e.key)?, hex::decode(e.value)?));
        }
        match page.next_key {
            // A page must move forward, or a node that keeps answering the same key would
            // keep this loop going for ever.
            Some(next) if from.as_ref().is_none_or(|f| next > *f) => from = Some(next),
            Some(next) => bail!("the node's storage pages do not advance (next key {next})"),
            None => break,
        }
    }
    h.install(address, &info.account, &code, &entries)?;
    Ok(())
}
