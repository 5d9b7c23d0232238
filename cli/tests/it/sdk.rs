//! The TypeScript SDK (`clients/ts`) against the Rust code and a real node: the golden vectors
//! its tests reproduce byte for byte are written here (a mismatch with the committed file fails,
//! so neither side can drift; `I8O8I_WRITE_VECTORS=1` rewrites it), its snapshot of the node's
//! OpenRPC document and the method types generated from it are checked against the document a
//! node serves, and its own test suite runs against that node (its 2-of-3 multisig test with
//! one signer in the CLI, offline, and the others in the SDK).

use std::path::{Path, PathBuf};
use std::process::Command;

use i8o8i_config::builtin_chain_spec;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::signing_request::{KeyOrigin, RequestInput, RequestOutput, SigningRequest};
use i8o8i_primitives::{
    Amount, ContractAddress, Hash256, OutPoint, Payload, SighashCache, Transaction, TxIn, TxOut,
    Txid,
};
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_script_vm::templates::{hash160, multisig, p2pkh, p2sh_for};
use i8o8i_script_vm::{SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE, ScriptBuf};
use i8o8i_wallet::{Chain, Cosigner, DerivationPath, ExtendedPrivKey, Mnemonic, Policy};
use parity_scale_codec::Encode;
use secp256k1::{Message, SecretKey, ecdsa};
use serde_json::{Value, json};

use crate::common::start_with;

/// BIP39's all-zero 256-bit entropy: a phrase anyone can reproduce.
const MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                        abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                        abandon abandon abandon abandon abandon art";

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("clients/ts")
}

struct Key {
    path: DerivationPath,
    secret: SecretKey,
    public: [u8; 33],
}

fn keys() -> Vec<Key> {
    let seed = Mnemonic::parse(MNEMONIC).unwrap().to_seed("");
    let master = ExtendedPrivKey::new_master(seed.as_bytes()).unwrap();
    [(Chain::Receive, 0), (Chain::Receive, 1), (Chain::Change, 0)]
        .into_iter()
        .map(|(chain, index)| {
            let path = DerivationPath::address(0, chain, index).unwrap();
            let key = master.derive_path(&path).unwrap();
            Key {
                path,
                secret: *key.secret_key(),
                public: key.public_key().serialize(),
            }
        })
        .collect()
}

fn outpoint(n: u8, index: u32) -> OutPoint {
    OutPoint {
        txid: Txid::from_byte_array([n; 32]),
        index,
    }
}

/// One transaction's vector: the unsigned encoding, each input's signature hash and
/// signature, and the signed transaction (P2PKH inputs).
fn transaction_vector(
    name: &str,
    keys: &[Key],
    chain_id: &Hash256,
    mut tx: Transaction,
    inputs: &[(u64, u8, usize)],
) -> Value {
    let unsigned = tx.clone();
    let cache = SighashCache::new(&unsigned);
    let mut described = Vec::new();
    for (i, &(value, hash_type, signer)) in inputs.iter().enumerate() {
        let key = &keys[signer];
        let script_code = p2pkh(&hash160(&key.public));
        let sighash = cache
            .signature_hash(
                chain_id,
                i,
                &script_code,
                Amount::from_units(value),
                hash_type,
            )
            .unwrap();
        let mut signature = ecdsa::sign(Message::from_digest(sighash), &key.secret)
            .serialize_der()
            .to_vec();
        signature.push(hash_type);
        tx.inputs[i].script_sig =
            i8o8i_script_vm::templates::p2pkh_script_sig(&signature, &key.public);
        described.push(json!({
            "spentValue": value,
            "scriptCode": hex::encode(script_code.as_bytes()),
            "hashType": hash_type,
            "sighash": hex::encode(sighash),
            "signer": signer,
            "signature": hex::encode(&signature),
        }));
    }
    json!({
        "name": name,
        "tx": {
            "version": unsigned.version,
            "inputs": unsigned.inputs.iter().map(|i| json!({
                "txid": i.prevout.txid.to_string(),
                "index": i.prevout.index,
                "sequence": i.sequence,
            })).collect::<Vec<_>>(),
            "outputs": unsigned.outputs.iter().map(|o| json!({
                "value": o.value.to_units(),
                "scriptPubkey": hex::encode(o.script_pubkey.as_bytes()),
            })).collect::<Vec<_>>(),
            "lockTime": unsigned.lock_time,
            "payload": unsigned.payload,
        },
        "unsignedHex": hex::encode(unsigned.encode()),
        "unsignedTxid": unsigned.txid().to_string(),
        "inputs": described,
        "signedHex": hex::encode(tx.encode()),
        "txid": tx.txid().to_string(),
    })
}

fn request_vector(name: &str, keys: &[Key], request: SigningRequest, signers: &[usize]) -> Value {
    let unsigned = request.to_text();
    let mut signed = request;
    for &s in signers {
        assert!(signed.sign_with(&keys[s].secret).unwrap() > 0);
    }
    json!({
        "name": name,
        "unsigned": unsigned,
        "signers": signers,
        "signed": signed.to_text(),
        "finalHex": hex::encode(signed.finalize().unwrap().encode()),
    })
}

fn vectors() -> Value {
    let spec = ChainSpec::from_yaml(builtin_chain_spec("dev").unwrap()).unwrap();
    let chain_id = Hash256::from_byte_array(*spec.genesis_block().header.hash().as_bytes());
    let keys = keys();
    let script = |k: usize| p2pkh(&hash160(&keys[k].public));
    let input = |n: u8, index: u32| TxIn {
        prevout: outpoint(n, index),
        script_sig: ScriptBuf::default(),
        sequence: u32::MAX,
    };
    let pay = |value: u64, k: usize| TxOut {
        value: Amount::from_units(value),
        script_pubkey: script(k),
    };
    let payment = Transaction {
        version: 2,
        inputs: vec![input(1, 0)],
        outputs: vec![pay(1_000_000_000, 1), pay(3_999_990_000, 2)],
        lock_time: 0,
        payload: None,
    };
    let mixed = Transaction {
        version: 2,
        inputs: vec![input(2, 1), input(3, 7), input(4, 300)],
        outputs: vec![pay(70_000, 1), pay(20_000, 0)],
        lock_time: 1_234,
        payload: None,
    };

    let origin = |k: usize| KeyOrigin {
        pubkey: keys[k].public,
        path: keys[k].path.to_raw(),
    };
    let p2pkh_request = SigningRequest::new(
        chain_id,
        payment.clone(),
        vec![RequestInput {
            spent: pay(5_000_000_000, 0),
            hash_type: SIGHASH_ALL,
            redeem_script: None,
            keys: vec![origin(0)],
            signatures: Vec::new(),
        }],
        vec![
            RequestOutput::default(),
            RequestOutput {
                change: true,
                keys: vec![origin(2)],
            },
        ],
    )
    .unwrap();
    let publics: Vec<&[u8]> = keys.iter().map(|k| &k.public[..]).collect();
    let redeem = multisig(2, &publics).unwrap();
    let vault = p2sh_for(&redeem);
    let multisig_request = SigningRequest::new(
        chain_id,
        Transaction {
            inputs: vec![input(5, 0)],
            outputs: vec![pay(2_000_000, 1)],
            ..payment.clone()
        },
        vec![RequestInput {
            spent: TxOut {
                value: Amount::from_units(2_100_000),
                script_pubkey: vault,
            },
            hash_type: SIGHASH_ALL,
            redeem_script: Some(redeem),
            keys: (0..3).map(origin).collect(),
            signatures: Vec::new(),
        }],
        vec![RequestOutput::default()],
    )
    .unwrap();

    // Accounts 0 to 2 of the phrase: a single-key watch-only policy and a 2-of-3 vault.
    let seed = Mnemonic::parse(MNEMONIC).unwrap().to_seed("");
    let master = ExtendedPrivKey::new_master(seed.as_bytes()).unwrap();
    let accounts: Vec<(String, String)> = (0..3)
        .map(|a| {
            let path = DerivationPath::account(a).unwrap();
            let xpub = master
                .derive_path(&path)
                .unwrap()
                .to_extended_pub()
                .to_xpub();
            (xpub, path.to_string())
        })
        .collect();
    let cosigner = |(xpub, path): &(String, String)| Cosigner::parse(xpub, Some(path)).unwrap();
    let policy_vector = |name: &str, policy: Policy| {
        let addresses: Vec<Value> = [(Chain::Receive, 0), (Chain::Receive, 7), (Chain::Change, 1)]
            .into_iter()
            .map(|(chain, index)| {
                let address = policy.address(chain, index).unwrap();
                json!({
                    "chain": chain.index(),
                    "index": index,
                    "address": Address::from_script(Network::Dev, address.script_pubkey()).unwrap().to_string(),
                    "redeemScript": address.redeem_script().map(|r| hex::encode(r.as_bytes())),
                    "keys": address.keys().iter().map(|k| json!({
                        "pubkey": hex::encode(k.pubkey),
                        "path": DerivationPath::from_raw(&k.path).unwrap().to_string(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "name": name,
            "threshold": policy.threshold(),
            "cosigners": policy.cosigners().iter().map(|c| json!({
                "xpub": c.xpub().to_xpub(),
                "path": c.path().to_string(),
            })).collect::<Vec<_>>(),
            "addresses": addresses,
        })
    };

    json!({
        "source": "written by `I8O8I_WRITE_VECTORS=1 cargo test -p i8o8i-cli --test it sdk::the_golden_vectors` (cli/tests/it/sdk.rs); do not edit",
        "mnemonic": MNEMONIC.split_whitespace().collect::<Vec<_>>().join(" "),
        "network": "dev",
        "chainId": chain_id.to_string(),
        "keys": keys.iter().map(|k| json!({
            "path": k.path.to_string(),
            "secretKey": hex::encode(k.secret.to_secret_bytes()),
            "publicKey": hex::encode(k.public),
            "pubkeyHash": hex::encode(hash160(&k.public)),
            "address": Address::from_pubkey(Network::Dev, &k.public).to_string(),
        })).collect::<Vec<_>>(),
        "transactions": [
            transaction_vector("one P2PKH input, payment and change", &keys, &chain_id, payment.clone(), &[(5_000_000_000, SIGHASH_ALL, 0)]),
            transaction_vector(
                "an admin's migration, after a deployment with an admin",
                &keys,
                &chain_id,
                Transaction {
                    payload: Some(Payload::Migrate {
                        contract: ContractAddress::from_byte_array([0x66; 32]),
                        code_hash: Hash256::from_byte_array([0x77; 32]),
                        input: vec![4, 2],
                        gas_limit: 250_000,
                    }),
                    ..payment.clone()
                },
                &[(5_000_000_000, SIGHASH_ALL, 0)],
            ),
            transaction_vector(
                "a deployment with an admin",
                &keys,
                &chain_id,
                Transaction {
                    payload: Some(Payload::Deploy {
                        code: vec![0, 0x61, 0x73, 0x6d],
                        init_input: vec![1],
                        salt: [5; 32],
                        gas_limit: 100_000,
                        admin: Some(script(0).into_bytes()),
                    }),
                    ..payment.clone()
                },
                &[(5_000_000_000, SIGHASH_ALL, 0)],
            ),
            transaction_vector(
                "three inputs: ALL|ANYONECANPAY, SINGLE, NONE",
                &keys,
                &chain_id,
                mixed,
                &[
                    (50_000, SIGHASH_ALL | SIGHASH_ANYONECANPAY, 0),
                    (30_000, SIGHASH_SINGLE, 1),
                    (15_000, SIGHASH_NONE, 2),
                ],
            ),
        ],
        "requests": [
            request_vector("P2PKH payment with change", &keys, p2pkh_request, &[0]),
            request_vector("2-of-3 P2SH multisig, signed by keys 0 and 2", &keys, multisig_request, &[0, 2]),
        ],
        "asm": asm_vectors(&keys),
        "abi": abi_vectors(&keys),
        "argon2id": argon2id_vectors(),
        "policies": [
            policy_vector("watch-only account 0", Policy::single(cosigner(&accounts[0]))),
            policy_vector(
                "2-of-3 of accounts 2, 0, 1",
                Policy::multisig(2, [2, 0, 1].map(|a| cosigner(&accounts[a])).to_vec()).unwrap(),
            ),
        ],
    })
}

/// The example token's ABI (as its module embeds it) with call inputs the CLI encodes, return
/// data it decodes and an event it reads: what the SDK's `abi` module must agree with.
fn abi_vectors(keys: &[Key]) -> Value {
    use i8o8i_cli::abi;
    let module = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/artifacts/token.wasm"),
    )
    .unwrap();
    let text = i8o8i_contract_engine::abi_of(&module).expect("the token embeds its ABI");
    let methods = abi::parse(&text).unwrap();
    let to = Address::from_pubkey(Network::Dev, &keys[1].public).to_string();
    let contract = format!("contract:{}", "ab".repeat(32));
    let calls: Vec<(&str, bool, Vec<String>)> = vec![
        (
            "",
            true,
            vec!["Seed Token".into(), "SEED".into(), "1_000_000".into()],
        ),
        (
            "transfer",
            false,
            vec![to.clone(), "340282366920938463463374607431768211455".into()],
        ),
        ("transfer", false, vec![contract.clone(), "0".into()]),
        ("balance_of", false, vec![to.clone()]),
    ];
    let calls: Vec<Value> = calls
        .into_iter()
        .map(|(name, deploy, args)| {
            let method = abi::find(&methods, name, deploy).unwrap();
            let input = abi::encode_call(method, &args, Network::Dev).unwrap();
            json!({ "method": method.name, "deploy": deploy, "args": args, "input": hex::encode(input) })
        })
        .collect();
    let account = p2pkh(&hash160(&keys[1].public)).into_bytes();
    let returns: Vec<(&str, Vec<u8>)> = vec![
        ("u128", 12_345_678_901_234_567_890_123u128.encode()),
        (
            "(Account, u64, u64)",
            (account.clone(), 7u64, 1_000_000_007u64).encode(),
        ),
        ("String", "Seed Token".encode()),
        ("bool", true.encode()),
        ("i64", (-5i64).encode()),
        ("Vec<u8>", vec![1u8, 2, 3].encode()),
    ];
    let returns: Vec<Value> = returns
        .into_iter()
        .map(|(ty, data)| {
            json!({ "type": ty, "data": hex::encode(&data), "value": abi::decode_return(ty, &data, Network::Dev).unwrap() })
        })
        .collect();
    // The token's ABI declares its events (`event` lines above); this is its `Transfer`.
    let declared = "event Transfer(topic from: Account, topic to: Account, amount: u128)\n";
    let events = abi::parse_events(declared).unwrap();
    let mut to_topic = [0u8; 32];
    to_topic[..account.len()].copy_from_slice(&account);
    let mut name = [0u8; 32];
    name[..8].copy_from_slice(b"Transfer");
    let topics = [name, [0u8; 32], to_topic];
    let data = 1_000u128.encode();
    json!({
        "module": "contracts/artifacts/token.wasm",
        "text": text,
        "calls": calls,
        "returns": returns,
        "event": {
            "abi": declared,
            "topics": topics.iter().map(hex::encode).collect::<Vec<_>>(),
            "data": hex::encode(&data),
            "decoded": abi::decode_event(&events, &topics, &data, Network::Dev),
        },
    })
}

/// Argon2id keys as the `argon2` crate (what `wallet/src/keystore.rs` uses) derives them: the
/// cheapest parameters, a multi-lane case and the keystore's OWASP default.
fn argon2id_vectors() -> Value {
    [
        ("correct horse battery staple", [1u8; 16], (8, 1, 1)),
        ("pässwörd ünicode", [2u8; 16], (64, 3, 2)),
        ("alice password", [3u8; 16], (19_456, 2, 1)),
    ]
    .into_iter()
    .map(|(password, salt, (m, t, p))| {
        let params = argon2::Params::new(m, t, p, Some(32)).unwrap();
        let mut key = [0u8; 32];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(password.as_bytes(), &salt, &mut key)
            .unwrap();
        json!({
            "password": password,
            "salt": hex::encode(salt),
            "mCost": m,
            "tCost": t,
            "pCost": p,
            "key": hex::encode(key),
        })
    })
    .collect()
}

/// Scripts with their assembly as `Script::to_asm` (Bitcoin Core's `ScriptToAsmStr`) prints
/// it: what the SDK's `scriptToAsm` must print too (the web app shows scripts so).
fn asm_vectors(keys: &[Key]) -> Value {
    let pubkeys: Vec<&[u8]> = keys.iter().map(|k| &k.public[..]).collect();
    let scripts: Vec<Vec<u8>> = vec![
        p2pkh(&hash160(&keys[0].public)).into_bytes(),
        p2sh_for(&multisig(2, &pubkeys).unwrap()).into_bytes(),
        multisig(2, &pubkeys).unwrap().into_bytes(),
        // OP_RETURN with data, -1, 0, 16, a 4-byte number with the sign bit, PUSHDATA1.
        [
            &[
                0x6a, 0x4f, 0x00, 0x60, 0x04, 0x01, 0x00, 0x00, 0x80, 0x4c, 0x05,
            ][..],
            b"hello",
        ]
        .concat(),
        // Named opcodes, an unknown one (0xbb), OP_INVALIDOPCODE, a truncated push.
        vec![0xb1, 0xb2, 0x7e, 0xba, 0xbb, 0xff, 0x05, 0x01],
        vec![0x4d, 0x01],
        Vec::new(),
    ];
    scripts
        .into_iter()
        .map(|bytes| {
            let asm = i8o8i_script_vm::Script::from_bytes(&bytes).to_asm();
            json!({ "script": hex::encode(&bytes), "asm": asm })
        })
        .collect()
}

#[test]
fn the_golden_vectors_are_what_the_rust_code_computes() {
    let path = sdk_dir().join("test/vectors.json");
    let text = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("I8O8I_WRITE_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is not what the Rust code computes: rerun with I8O8I_WRITE_VECTORS=1 and review the diff",
        path.display()
    );
}

/// `clients/ts` with its pinned packages installed.
fn sdk_installed() -> PathBuf {
    let dir = sdk_dir();
    crate::common::npm_ci(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_matches_the_openrpc_document_and_passes_its_tests_on_a_node() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start_with(dir.path(), |c| c.p2p.enabled = false).await;
    let sdk = sdk_installed();

    // The SDK's snapshot of the document and the method types generated from it must be
    // those of the document this node serves (`I8O8I_WRITE_VECTORS=1` refreshes both).
    let document: Value = crate::common::call(&c, "rpc.discover", jsonrpsee::rpc_params![]).await;
    let snapshot = sdk.join("openrpc.json");
    if std::env::var_os("I8O8I_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
        std::fs::write(&snapshot, text).unwrap();
        let wrote = Command::new("node")
            .args(["scripts/generate.mjs", "openrpc.json"])
            .current_dir(&sdk)
            .status()
            .unwrap();
        assert!(wrote.success());
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap_or_default())
            .unwrap_or_default();
    assert!(
        committed == document,
        "clients/ts/openrpc.json is not the node's OpenRPC document: rerun with \
         I8O8I_WRITE_VECTORS=1 and review the diff"
    );
    let doc_path = dir.path().join("openrpc.json");
    std::fs::write(&doc_path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    let check = Command::new("node")
        .args(["scripts/generate.mjs", "--check"])
        .arg(&doc_path)
        .current_dir(&sdk)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "clients/ts/src/generated/methods.ts is out of date with the node's OpenRPC document \
         (run `node scripts/generate.mjs <openrpc.json>` in clients/ts): {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    // A node wallet whose file the CLI signs with, as the SDK's multisig co-signer.
    let password = dir.path().join("cosigner.pw");
    std::fs::write(&password, "cosigner password").unwrap();
    let _: Value = crate::common::call(
        &c,
        "wallet_create",
        jsonrpsee::rpc_params!["cosigner", "cosigner password"],
    )
    .await;
    // The secret, not one token: a token is good for 60 s, a loaded machine may take longer.
    let test = Command::new("npm")
        .arg("test")
        .env("I8O8I_RPC_URL", format!("http://{}", node.rpc_addr()))
        .env("I8O8I_JWT_SECRET", dir.path().join("jwt.hex"))
        .env("I8O8I_CLI", env!("CARGO_BIN_EXE_i8o8icoin"))
        .env(
            "I8O8I_COSIGNER_KEYSTORE",
            dir.path().join("wallets/cosigner.json"),
        )
        .env("I8O8I_COSIGNER_PASSWORD_FILE", &password)
        .current_dir(&sdk)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(test.status.success(), "the SDK's tests failed:\n{report}");
    // Every test ran: none skipped for want of a node or of the vectors.
    assert!(report.contains("# skipped 0"), "{report}");
    assert!(report.contains("# fail 0"), "{report}");
    node.stop().await;
}
