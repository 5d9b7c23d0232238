//! The `i8o8icoin` binary: runs a full node (`i8o8icoin node`) and talks to one over JSON-RPC
//! (`wallet`, `chain`, `mine`, `tx`, `contract`). Run `i8o8icoin --help` for the commands.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use i8o8i_config::{LogFormat, NodeConfig};
use i8o8i_node::client::{RpcClient, connect, default_secret_path};
use i8o8i_node::launch::{LaunchOptions, ProducerOptions, launch};
use i8o8i_primitives::Amount;
use i8o8i_rpc::JwtSecret;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::rpc_params;
use serde_json::Value;

// mimalloc: the node allocates many small short-lived objects per RPC call and per
// transaction; glibc malloc spent ~7 % of tx_submit load in malloc/free and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "i8o8icoin",
    version,
    about = "I8o8iCoin full node and command-line client"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a full node.
    Node(NodeArgs),
    /// Manage the wallets of a running node.
    Wallet(WalletArgs),
    /// Query the chain of a running node.
    Chain(ChainArgs),
    /// Mine blocks on a running dev node now (mining_generate).
    Mine(MineArgs),
    /// Submit or look up transactions.
    Tx(TxArgs),
    /// Build, deploy, call and inspect Wasm contracts.
    Contract(ContractArgs),
    /// RPC authentication: print a bearer token for private methods.
    Auth(AuthArgs),
    /// Bond and unbond stake; staking info and the validator set.
    Staking(StakingArgs),
    /// Delegated proof of stake: register a delegate, vote, list delegates.
    Dpos(DposArgs),
    /// The consensus engine at the tip and the chain's schedule.
    Consensus(ConsensusArgs),
}

#[derive(Args)]
struct StakingArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: StakingCommand,
}

#[derive(Subcommand)]
enum StakingCommand {
    /// Bond coins of a wallet to its staking key (its first address's key).
    Bond {
        /// Wallet name.
        wallet: String,
        /// Amount in I8O (e.g. 10.5).
        amount: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Start unbonding; the coins return to the staking address after the unbonding period.
    Unbond {
        /// Wallet name.
        wallet: String,
        /// Amount in I8O.
        amount: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Bonded, unbonding (with release heights) and rewards of an address's staking key.
    Info {
        /// The staking key's address.
        address: String,
    },
    /// The running stake engine's producers: this epoch's, the next's, and the bonded ledger.
    Validators,
}

#[derive(Args)]
struct DposArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: DposCommand,
}

#[derive(Subcommand)]
enum DposCommand {
    /// Register a wallet's staking key as a delegate (burns the registration fee).
    Register {
        /// Wallet name.
        wallet: String,
        /// Delegate name (1–32 of A–Z a–z 0–9 _ -).
        name: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Vote with a wallet's bonded stake for delegates (replaces earlier votes; none withdraws).
    Vote {
        /// Wallet name.
        wallet: String,
        /// Delegate names or keys.
        delegates: Vec<String>,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Delegates with votes, whether in the current round, produced and missed.
    Delegates,
}

#[derive(Args)]
struct ConsensusArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: ConsensusCommand,
}

#[derive(Subcommand)]
enum ConsensusCommand {
    /// Engine, slot, epoch / round and the last irreversible block.
    Info,
    /// The consensus schedule of the chain spec.
    Schedule,
}

#[derive(Args)]
struct AuthArgs {
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

#[derive(Args)]
struct NodeArgs {
    /// Development chain: instant proof of work, a block every 2 s, a fresh temporary data
    /// directory unless --data-dir is given, and a "dev" wallet (password "dev") that receives
    /// the mined coins.
    #[arg(long)]
    dev: bool,
    /// Chain: dev, testnet, or the path of a chain-spec YAML file.
    #[arg(long)]
    chain: Option<String>,
    /// Data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// YAML configuration file (see config/node.example.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long)]
    rpc_addr: Option<String>,
    /// Mine continuously.
    #[arg(long)]
    mine: bool,
    /// Address receiving mined coins.
    #[arg(long)]
    mining_address: Option<String>,
    /// Mining threads (0 = one per core).
    #[arg(long)]
    mining_threads: Option<usize>,
    /// Log format: human or json.
    #[arg(long)]
    log_format: Option<String>,
    /// P2P listen multiaddr, e.g. /ip4/0.0.0.0/tcp/30808 or /ip4/127.0.0.1/tcp/0/ws (port 0
    /// picks a free port); repeatable, replaces p2p.listen.
    #[arg(long = "p2p-listen", value_name = "MULTIADDR")]
    p2p_listen: Vec<String>,
    /// Peer to dial at start, e.g. /ip4/127.0.0.1/tcp/30808/p2p/12D3Koo…; repeatable, replaces
    /// p2p.bootnodes.
    #[arg(long = "bootnode", value_name = "MULTIADDR")]
    bootnodes: Vec<String>,
    /// Run without networking (a standalone chain).
    #[arg(long)]
    no_p2p: bool,
    /// Produce blocks: seal this node's slots under PoS / DPoS and mine under PoW, with the
    /// staking key (first address) of --producer-wallet (with --dev: the dev wallet).
    #[arg(long)]
    produce: bool,
    /// Wallet in the node's data directory whose first key produces (with --produce).
    #[arg(long)]
    producer_wallet: Option<String>,
    /// Read the producer wallet's password from this file (first line) instead of prompting.
    #[arg(long)]
    producer_password_file: Option<PathBuf>,
}

#[derive(Args)]
struct RpcArgs {
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
struct WalletArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Args)]
struct PasswordArg {
    /// Read the wallet password from this file (first line) instead of prompting.
    #[arg(long)]
    password_file: Option<PathBuf>,
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
}

#[derive(Args)]
struct ChainArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(subcommand)]
    command: ChainCommand,
}

#[derive(Subcommand)]
enum ChainCommand {
    /// Chain name, height, best hash, difficulty.
    Info,
    /// A block by hash or height.
    Block {
        /// Hash or height.
        which: String,
    },
    /// Balance of any address.
    Balance {
        /// Address.
        address: String,
    },
}

#[derive(Args)]
struct MineArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Number of blocks.
    count: u32,
    /// Address receiving the coinbase (default: the node's mining address).
    #[arg(long)]
    address: Option<String>,
}

#[derive(Args)]
struct TxArgs {
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
        txid: String,
    },
    /// Submit a raw transaction (hex).
    Submit {
        /// SCALE-encoded transaction, hex.
        raw: String,
    },
}

#[derive(Args)]
struct ContractArgs {
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
    /// Deploy a module; constructor arguments are encoded from its embedded ABI.
    Deploy {
        /// Wallet paying, whose first address becomes the deployer.
        wallet: String,
        /// The .wasm file.
        wasm: PathBuf,
        /// Constructor arguments (addresses for Account, decimal numbers, hex for bytes).
        args: Vec<String>,
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
        code_hash: String,
        /// Constructor arguments, encoded with the ABI of the contract given by --abi-from.
        args: Vec<String>,
        /// A contract with the same code, whose embedded ABI encodes the arguments.
        #[arg(long)]
        abi_from: Option<String>,
        #[command(flatten)]
        gas: GasArg,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Call a method in a transaction; arguments are encoded from the contract's ABI.
    Call {
        /// Wallet paying, whose first address is the caller.
        wallet: String,
        /// Contract address.
        address: String,
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
        address: String,
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
        address: String,
    },
    /// Events of a contract.
    Events {
        /// Contract address.
        address: String,
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
        txid: String,
    },
}

async fn network_of(c: &RpcClient) -> Result<i8o8i_primitives::address::Network> {
    let info = call(c, "chain_getInfo", rpc_params![]).await?;
    Ok(match info["chain"].as_str() {
        Some("mainnet") => i8o8i_primitives::address::Network::Mainnet,
        Some("testnet") => i8o8i_primitives::address::Network::Testnet,
        _ => i8o8i_primitives::address::Network::Dev,
    })
}

async fn contract_abi(c: &RpcClient, address: &str) -> Result<Vec<i8o8i_node::abi::Method>> {
    let info = call(c, "contract_getInfo", rpc_params![address]).await?;
    let text = info["abi"]
        .as_str()
        .context("the contract has no embedded ABI (built without the SDK's entry_points!)")?;
    Ok(i8o8i_node::abi::parse(text)?)
}

async fn contract(args: ContractArgs) -> Result<()> {
    use i8o8i_node::abi;
    if let ContractCommand::Build { dir, target_dir } = &args.command {
        let wasm = i8o8i_node::contract_build::build(dir, target_dir)?;
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
                &call(
                    &c,
                    "contract_deploy",
                    rpc_params![
                        wallet,
                        pw,
                        hex::encode(code),
                        gas.gas_limit,
                        hex::encode(init)
                    ],
                )
                .await?,
            );
        }
        ContractCommand::Instantiate {
            wallet,
            code_hash,
            args: ctor_args,
            abi_from,
            gas,
            password: pw,
        } => {
            let init = match (&abi_from, ctor_args.is_empty()) {
                (_, true) => Vec::new(),
                (Some(from), false) => {
                    let network = network_of(&c).await?;
                    let methods = contract_abi(&c, from).await?;
                    abi::encode_call(abi::find(&methods, "", true)?, &ctor_args, network)?
                }
                (None, false) => {
                    bail!("constructor arguments need --abi-from <contract with this code>")
                }
            };
            let pw = password(&pw, false)?;
            print(
                &call(
                    &c,
                    "contract_instantiate",
                    rpc_params![wallet, pw, code_hash, gas.gas_limit, hex::encode(init)],
                )
                .await?,
            );
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
            let methods = contract_abi(&c, &address).await?;
            let input =
                abi::encode_call(abi::find(&methods, &method, false)?, &call_args, network)?;
            let value = match value {
                Some(v) => Amount::from_coin_str(&v).with_context(|| format!("bad --value {v}"))?,
                None => Amount::ZERO,
            };
            let pw = password(&pw, false)?;
            print(
                &call(
                    &c,
                    "contract_call",
                    rpc_params![
                        wallet,
                        pw,
                        address,
                        hex::encode(input),
                        gas.gas_limit,
                        value.to_units()
                    ],
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
            let methods = contract_abi(&c, &address).await?;
            let m = abi::find(&methods, &method, false)?;
            let input = abi::encode_call(m, &call_args, network)?;
            let reply = call(
                &c,
                "contract_query",
                rpc_params![address, hex::encode(input), caller],
            )
            .await?;
            let data = hex::decode(reply["returnData"].as_str().unwrap_or_default())?;
            print(&serde_json::json!({
                "result": abi::decode_return(&m.result, &data, network)?,
                "gasUsed": reply["gasUsed"],
            }));
        }
        ContractCommand::Info { address } => {
            print(&call(&c, "contract_getInfo", rpc_params![address]).await?)
        }
        ContractCommand::Events { address, from, to } => {
            print(&call(&c, "contract_getEvents", rpc_params![address, from, to]).await?)
        }
        ContractCommand::Receipt { txid } => {
            print(&call(&c, "tx_getReceipt", rpc_params![txid]).await?)
        }
    }
    Ok(())
}

async fn client(rpc: &RpcArgs) -> Result<RpcClient> {
    let bad_url = || format!("bad --rpc-url {}", rpc.rpc_url);
    let secret = match &rpc.jwt_secret {
        Some(path) => Some(JwtSecret::read(path)?),
        None => {
            // Ask the node its chain (a public call) to find the default secret file.
            let anonymous = connect(&rpc.rpc_url, None, None).with_context(bad_url)?;
            match anonymous
                .request::<Value, _>("chain_getInfo", rpc_params![])
                .await
            {
                Ok(info) => {
                    let path = default_secret_path(info["chain"].as_str().unwrap_or("dev"));
                    let secret = path.exists().then(|| JwtSecret::read(&path)).transpose()?;
                    // Another node of the same chain (its own --data-dir) has another secret:
                    // then go without, and private calls say what is missing.
                    match secret {
                        Some(s) => {
                            let signed = connect(&rpc.rpc_url, Some(s.clone()), None)
                                .with_context(bad_url)?;
                            signed
                                .request::<Value, _>("chain_getInfo", rpc_params![])
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

async fn call(client: &RpcClient, method: &str, params: ArrayParams) -> Result<Value> {
    client.request(method, params).await.map_err(|e| match e {
        jsonrpsee::core::client::Error::Call(obj) => {
            anyhow::anyhow!("{} (code {})", obj.message(), obj.code())
        }
        other => anyhow::anyhow!("{method}: {other}"),
    })
}

fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

fn password(arg: &PasswordArg, confirm: bool) -> Result<String> {
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

async fn wallet(args: WalletArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        WalletCommand::Create { name, password: p } => {
            let pw = password(&p, true)?;
            let v = call(&c, "wallet_create", rpc_params![name, pw]).await?;
            print(&v);
            eprintln!("Write the mnemonic down: it is the only way to restore this wallet.");
        }
        WalletCommand::List => print(&call(&c, "wallet_list", rpc_params![]).await?),
        WalletCommand::Address { name } => {
            print(&call(&c, "wallet_newAddress", rpc_params![name]).await?)
        }
        WalletCommand::Balance { name } => {
            print(&call(&c, "wallet_getBalance", rpc_params![name]).await?)
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
            print(
                &call(
                    &c,
                    "wallet_send",
                    rpc_params![name, pw, to, units, fee_rate],
                )
                .await?,
            );
        }
    }
    Ok(())
}

fn coins(amount: &str) -> Result<u64> {
    Ok(Amount::from_coin_str(amount)
        .with_context(|| format!("bad amount {amount}"))?
        .to_units())
}

async fn staking(args: StakingArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    let v = match args.command {
        StakingCommand::Bond {
            wallet,
            amount,
            password: p,
        } => {
            let units = coins(&amount)?;
            let pw = password(&p, false)?;
            call(&c, "staking_bond", rpc_params![wallet, pw, units]).await?
        }
        StakingCommand::Unbond {
            wallet,
            amount,
            password: p,
        } => {
            let units = coins(&amount)?;
            let pw = password(&p, false)?;
            call(&c, "staking_unbond", rpc_params![wallet, pw, units]).await?
        }
        StakingCommand::Info { address } => {
            call(&c, "staking_getInfo", rpc_params![address]).await?
        }
        StakingCommand::Validators => call(&c, "staking_getValidators", rpc_params![]).await?,
    };
    print(&v);
    Ok(())
}

async fn dpos(args: DposArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    let v = match args.command {
        DposCommand::Register {
            wallet,
            name,
            password: p,
        } => {
            let pw = password(&p, false)?;
            call(&c, "dpos_registerDelegate", rpc_params![wallet, pw, name]).await?
        }
        DposCommand::Vote {
            wallet,
            delegates,
            password: p,
        } => {
            let pw = password(&p, false)?;
            call(&c, "dpos_vote", rpc_params![wallet, pw, delegates]).await?
        }
        DposCommand::Delegates => call(&c, "dpos_getDelegates", rpc_params![]).await?,
    };
    print(&v);
    Ok(())
}

async fn consensus(args: ConsensusArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    let v = match args.command {
        ConsensusCommand::Info => call(&c, "consensus_getInfo", rpc_params![]).await?,
        ConsensusCommand::Schedule => call(&c, "consensus_getSchedule", rpc_params![]).await?,
    };
    print(&v);
    Ok(())
}

async fn chain(args: ChainArgs) -> Result<()> {
    let c = client(&args.rpc).await?;
    match args.command {
        ChainCommand::Info => print(&call(&c, "chain_getInfo", rpc_params![]).await?),
        ChainCommand::Block { which } => {
            let v = match which.parse::<u64>() {
                Ok(height) => call(&c, "chain_getBlock", rpc_params![height]).await?,
                Err(_) => call(&c, "chain_getBlock", rpc_params![which]).await?,
            };
            print(&v);
        }
        ChainCommand::Balance { address } => {
            print(&call(&c, "address_getBalance", rpc_params![address]).await?)
        }
    }
    Ok(())
}

fn node_options(args: NodeArgs) -> Result<LaunchOptions> {
    let mut overrides = serde_json::Map::new();
    let mut set = |path: &[&str], value: Value| {
        let mut map = &mut overrides;
        for key in &path[..path.len() - 1] {
            map = map
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()))
                .as_object_mut()
                .expect("override sections are objects");
        }
        map.insert(path[path.len() - 1].to_owned(), value);
    };
    if args.dev {
        set(&["chain"], "dev".into());
    }
    if let Some(c) = args.chain {
        set(&["chain"], c.into());
    }
    if let Some(d) = &args.data_dir {
        set(&["data_dir"], d.display().to_string().into());
    }
    if let Some(a) = args.rpc_addr {
        set(&["rpc", "addr"], a.into());
    }
    if args.mine || args.dev {
        set(&["mining", "enabled"], true.into());
    }
    if let Some(a) = args.mining_address {
        set(&["mining", "address"], a.into());
    }
    if let Some(t) = args.mining_threads {
        set(&["mining", "threads"], t.into());
    }
    if let Some(f) = args.log_format {
        set(&["log", "format"], f.into());
    }
    if !args.p2p_listen.is_empty() {
        set(&["p2p", "listen"], args.p2p_listen.into());
    }
    if !args.bootnodes.is_empty() {
        set(&["p2p", "bootnodes"], args.bootnodes.into());
    }
    if args.no_p2p {
        set(&["p2p", "enabled"], false.into());
    }
    if args.produce {
        set(&["producer", "enabled"], true.into());
    }
    let wallet_flag = args.producer_wallet.is_some();
    if let Some(w) = args.producer_wallet {
        set(&["producer", "wallet"], w.into());
    }
    if let Some(f) = &args.producer_password_file {
        set(
            &["producer", "password_file"],
            f.display().to_string().into(),
        );
    }
    // ConfigError's message already says "invalid configuration" and names the key.
    let config = NodeConfig::load(args.config.as_deref(), &Value::Object(overrides))?;
    let producer = &config.producer;
    let producer = match (producer.enabled, &producer.wallet) {
        (true, Some(wallet)) => {
            let password = password(
                &PasswordArg {
                    password_file: producer.password_file.clone(),
                },
                false,
            )?;
            Some(ProducerOptions {
                wallet: wallet.clone(),
                password,
            })
        }
        (true, None) if args.dev => {
            let (wallet, password) = i8o8i_node::launch::DEV_WALLET;
            Some(ProducerOptions {
                wallet: wallet.into(),
                password: password.into(),
            })
        }
        (true, None) => {
            bail!("--produce needs --producer-wallet NAME (producer.wallet): a wallet of this node")
        }
        (false, Some(_)) if wallet_flag => {
            bail!("--producer-wallet is used with --produce")
        }
        (false, _) => None,
    };
    Ok(LaunchOptions {
        config,
        dev: args.dev,
        producer,
    })
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Node(args) => {
            let options = node_options(args)?;
            init_logging(options.config.log.format, &options.config.log.filter);
            let running = launch(options).await?;
            println!("RPC listening on http://{}", running.rpc_addr());
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            tracing::info!("shutting down");
            running.stop().await;
        }
        Command::Wallet(args) => wallet(args).await?,
        Command::Chain(args) => chain(args).await?,
        Command::Staking(args) => staking(args).await?,
        Command::Dpos(args) => dpos(args).await?,
        Command::Consensus(args) => consensus(args).await?,
        Command::Mine(args) => {
            let c = client(&args.rpc).await?;
            print(&call(&c, "mining_generate", rpc_params![args.count, args.address]).await?);
        }
        Command::Contract(args) => contract(args).await?,
        Command::Auth(AuthArgs {
            command:
                AuthCommand::Token {
                    jwt_secret,
                    data_dir,
                    chain,
                    dev,
                },
        }) => {
            let path = match (jwt_secret, data_dir) {
                (Some(p), _) => p,
                (None, Some(d)) => d.join(i8o8i_node::launch::JWT_FILE),
                (None, None) => default_secret_path(if dev { "dev" } else { &chain }),
            };
            let secret = JwtSecret::read(&path).with_context(|| {
                "start the node once (it creates the secret) or pass --jwt-secret".to_owned()
            })?;
            println!("{}", secret.token());
        }
        Command::Tx(args) => {
            let c = client(&args.rpc).await?;
            match args.command {
                TxCommand::Get { txid } => print(&call(&c, "tx_get", rpc_params![txid]).await?),
                TxCommand::Submit { raw } => print(&call(&c, "tx_submit", rpc_params![raw]).await?),
            }
        }
    }
    Ok(())
}

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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
