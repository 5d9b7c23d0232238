//! The state commitment end to end: proofs served over RPC check out with the light-client
//! verifier (and fail on any change), and a store whose UTXO set was changed behind the
//! node's back is refused at start.

use i8o8i_config::NodeConfig;
use i8o8i_node::launch::{LaunchOptions, launch};
use i8o8i_primitives::OutPoint;
use i8o8i_primitives::address::{Address, Network};
use i8o8i_primitives::state_proof::{ProofError, StateProof};
use i8o8i_rpc::types::StateProofJson;
use jsonrpsee::rpc_params;
use serde_json::Value;

use crate::common::{call, call_err, start};

fn check(answer: &StateProofJson) -> Result<(), ProofError> {
    let key = hex::decode(&answer.key).unwrap();
    let value = answer.value.as_ref().map(|v| hex::decode(v).unwrap());
    StateProof::from(&answer.proof).verify(&answer.state_root, &key, value.as_deref())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_verify_and_a_store_changed_behind_the_node_s_back_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let address = Address::p2pkh(Network::Dev, [0x11; 20]).to_string();
    let _: Vec<Value> = call(&c, "mining_generate", rpc_params![3, &address]).await;
    let info: Value = call(&c, "chain_getInfo", rpc_params![]).await;
    let utxos: Vec<Value> = call(&c, "address_getUtxos", rpc_params![&address]).await;
    let coin = format!(
        "{}:{}",
        utxos[0]["txid"].as_str().unwrap(),
        utxos[0]["index"]
    );

    // A coin that exists: the proof is of the tip chain_getInfo reports.
    let present: StateProofJson = call(&c, "address_getUtxoProof", rpc_params![&coin]).await;
    assert_eq!(present.height, 3);
    assert_eq!(info["stateRoot"], present.state_root.to_string());
    assert!(present.value.is_some());
    assert_eq!(check(&present), Ok(()));
    let mut bent = present.clone();
    let mut value = hex::decode(bent.value.as_ref().unwrap()).unwrap();
    value[0] ^= 1;
    bent.value = Some(hex::encode(value));
    assert_eq!(check(&bent), Err(ProofError::OtherValue));
    let mut absent_claim = present.clone();
    absent_claim.value = None;
    assert_eq!(check(&absent_claim), Err(ProofError::Present));

    // A coin that never existed, and a staking record nobody wrote: proofs of absence.
    let txid = utxos[0]["txid"].as_str().unwrap();
    let none: StateProofJson = call(
        &c,
        "address_getUtxoProof",
        rpc_params![format!("{txid}:77")],
    )
    .await;
    assert_eq!(none.value, None);
    assert_eq!(check(&none), Ok(()));
    let record: StateProofJson = call(
        &c,
        "state_getProof",
        rpc_params![hex::encode(b"stake/bond/nobody")],
    )
    .await;
    assert_eq!(record.value, None);
    assert_eq!(check(&record), Ok(()));
    let (code, message) = call_err(&c, "state_getProof", rpc_params!["zz"]).await;
    assert_eq!(code, -32602, "{message}");
    let (code, message) = call_err(&c, "address_getUtxoProof", rpc_params!["nope"]).await;
    assert_eq!(code, -32602, "{message}");
    node.stop().await;

    // Remove the coin from the UTXO set directly in RocksDB, as a bad disk or a hand would.
    let outpoint = OutPoint {
        txid: txid.parse().unwrap(),
        index: utxos[0]["index"].as_u64().unwrap() as u32,
    };
    {
        let path = dir.path().join("chaindata");
        let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), &path).unwrap();
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &path, cfs).unwrap();
        let utxo = db.cf_handle("utxo").unwrap();
        let key = i8o8i_runtime::state::utxo_key(&outpoint);
        assert!(db.get_cf(utxo, key).unwrap().is_some());
        db.delete_cf(utxo, key).unwrap();
    }
    let config = |verify_state| {
        let mut config = NodeConfig {
            chain: "dev".into(),
            data_dir: Some(dir.path().to_owned()),
            ..NodeConfig::default()
        };
        config.rpc.addr = "127.0.0.1:0".parse().unwrap();
        config.p2p.enabled = false;
        config.storage.verify_state = verify_state;
        LaunchOptions {
            config,
            clock: None,
            dev: false,
            producer: None,
        }
    };
    let Err(refused) = launch(config(true)).await else {
        panic!("a node on a changed store must not start");
    };
    let message = format!("{refused:#}");
    assert!(
        message.contains("does not match its tip's state root (height 3")
            && message.contains("delete the data directory"),
        "{message}"
    );
    // Told not to check, it starts (and its proofs no longer hold for that coin).
    let node = launch(config(false)).await.expect("starts unchecked");
    node.stop().await;
}
