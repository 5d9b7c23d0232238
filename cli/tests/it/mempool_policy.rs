//! Mempool policy on a real node: unconfirmed chains, minimum fee, the size cap with
//! lowest-fee-rate eviction, expiry, and block templates that put parents before children.

use i8o8i_chain::mempool::MempoolError;

use crate::common::unix_now;
use i8o8i_config::NodeConfig;
use i8o8i_node::launch::{LaunchOptions, launch};
use i8o8i_primitives::{Amount, OutPoint, Transaction};
use i8o8i_script_vm::templates;
use secp256k1::{PublicKey, SecretKey};

fn keypair() -> (SecretKey, Vec<u8>) {
    let sk = SecretKey::from_secret_bytes([0x42; 32]).unwrap();
    (sk, PublicKey::from_secret_key(&sk).serialize().to_vec())
}

fn spend(
    prev: OutPoint,
    value: u64,
    fee: u64,
    pk: &[u8],
    sk: &SecretKey,
    chain_id: &i8o8i_primitives::Hash256,
) -> Transaction {
    i8o8i_primitives::test_utils::p2pkh_spend(
        prev,
        Amount::from_units(value),
        sk,
        templates::p2pkh(&templates::hash160(pk)),
        Amount::from_units(fee),
        chain_id,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_policy_fee_floor_chains_eviction_expiry_and_template_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig {
        chain: "dev".into(),
        data_dir: Some(dir.path().to_owned()),
        ..NodeConfig::default()
    };
    config.rpc.addr = "127.0.0.1:0".parse().unwrap();
    // Room for two of the ~193-byte transactions below.
    config.mempool.max_bytes = 400;
    config.mempool.min_fee_rate = 2;
    let running = launch(LaunchOptions {
        config: config.clone(),
        clock: None,
        dev: false,
        producer: None,
    })
    .await
    .unwrap();
    let node = running.node().clone();
    let chain_id = node.chain().chain_id();
    let (sk, pk) = keypair();
    let script = templates::p2pkh(&templates::hash160(&pk));
    node.generate(104, &script, 1).unwrap();
    let mut coins = node.chain().store().coins_for_script(&script).unwrap();
    coins.sort_by_key(|(_, c)| c.height);
    let coin = |i: usize| (coins[i].0, coins[i].1.output.value.to_units());

    // Below the floor: 2 units per byte needed.
    let cheap = spend(coin(0).0, coin(0).1, 10, &pk, &sk, &chain_id);
    assert!(matches!(
        node.submit_transaction(cheap),
        Err(MempoolError::FeeTooLow { .. })
    ));

    // An unconfirmed chain: parent then child spending the parent's output.
    let parent = spend(coin(0).0, coin(0).1, 1_000, &pk, &sk, &chain_id);
    let child = spend(
        OutPoint {
            txid: parent.txid(),
            index: 0,
        },
        coin(0).1 - 1_000,
        5_000,
        &pk,
        &sk,
        &chain_id,
    );
    node.submit_transaction(parent.clone()).unwrap();
    node.submit_transaction(child.clone()).unwrap();
    // The child pays a higher rate but must follow its parent in a template.
    let (template, fees) = node.mempool().template(1_000_000);
    let order: Vec<_> = template.iter().map(|t| t.txid()).collect();
    assert_eq!(order, vec![parent.txid(), child.txid()]);
    assert_eq!(fees.to_units(), 6_000);

    // The cap: a third, richer transaction evicts the lowest rate (the parent) and its child.
    let rich = spend(coin(1).0, coin(1).1, 20_000, &pk, &sk, &chain_id);
    let richer = spend(coin(2).0, coin(2).1, 30_000, &pk, &sk, &chain_id);
    node.submit_transaction(rich.clone()).unwrap();
    node.submit_transaction(richer.clone()).unwrap();
    {
        let pool = node.mempool();
        assert!(
            pool.get(&parent.txid()).is_none() && pool.get(&child.txid()).is_none(),
            "lowest rate evicted with its child"
        );
        assert!(pool.get(&rich.txid()).is_some() && pool.get(&richer.txid()).is_some());
        assert!(pool.info().bytes <= 400);
    }
    // Something poorer than everything pooled cannot get in.
    let poor = spend(coin(3).0, coin(3).1, 500, &pk, &sk, &chain_id);
    assert_eq!(node.submit_transaction(poor), Err(MempoolError::Full));

    // Expiry.
    let expired = node
        .mempool()
        .expire(unix_now() + config.mempool.expiry_secs + 1);
    assert_eq!(expired, 2);
    assert_eq!(node.mempool().info().count, 0);

    drop(node);
    running.stop().await;
}

/// Scripts are verified outside the pool lock (so submissions verify in parallel); what was
/// checked before must still hold when the transaction is admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_rechecks_what_changed_while_scripts_ran() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig {
        chain: "dev".into(),
        data_dir: Some(dir.path().to_owned()),
        ..NodeConfig::default()
    };
    config.rpc.addr = "127.0.0.1:0".parse().unwrap();
    let running = launch(LaunchOptions {
        config: config.clone(),
        clock: None,
        dev: false,
        producer: None,
    })
    .await
    .unwrap();
    let node = running.node().clone();
    let chain = &**node.chain();
    let chain_id = chain.chain_id();
    let (sk, pk) = keypair();
    let script = templates::p2pkh(&templates::hash160(&pk));
    node.generate(104, &script, 1).unwrap();
    let mut coins = chain.store().coins_for_script(&script).unwrap();
    coins.sort_by_key(|(_, c)| c.height);
    let coin = |i: usize| (coins[i].0, coins[i].1.output.value.to_units());
    let child_of = |parent: &Transaction, value: u64| {
        spend(
            OutPoint {
                txid: parent.txid(),
                index: 0,
            },
            value - 1_000,
            1_000,
            &pk,
            &sk,
            &chain_id,
        )
    };

    // A better-paying conflicting spend lands while the first one's scripts run: the first
    // is now judged as its replacement, and pays too little.
    let first = spend(coin(0).0, coin(0).1, 1_000, &pk, &sk, &chain_id);
    let rival = spend(coin(0).0, coin(0).1, 2_000, &pk, &sk, &chain_id);
    let checked = node.mempool().check(first.clone(), chain).unwrap();
    node.submit_transaction(rival.clone()).unwrap();
    assert_eq!(
        node.mempool().admit(checked, chain, unix_now()),
        Err(MempoolError::ReplacementFeeRateTooLow {
            conflict: rival.txid(),
        })
    );
    // The same transaction checked twice: the second admission finds it known.
    let again = spend(coin(1).0, coin(1).1, 1_000, &pk, &sk, &chain_id);
    let checked = node.mempool().check(again.clone(), chain).unwrap();
    node.submit_transaction(again.clone()).unwrap();
    assert_eq!(
        node.mempool().admit(checked, chain, unix_now()),
        Err(MempoolError::AlreadyKnown(again.txid()))
    );

    // The pooled parent is expired meanwhile: the child's input is gone.
    let parent = spend(coin(2).0, coin(2).1, 1_000, &pk, &sk, &chain_id);
    node.submit_transaction(parent.clone()).unwrap();
    let child = child_of(&parent, coin(2).1 - 1_000);
    let checked = node.mempool().check(child, chain).unwrap();
    assert_eq!(
        node.mempool()
            .expire(unix_now() + config.mempool.expiry_secs + 1),
        3,
        "rival, again and parent expire"
    );
    let missing = OutPoint {
        txid: parent.txid(),
        index: 0,
    };
    assert_eq!(
        node.mempool().admit(checked, chain, unix_now()),
        Err(MempoolError::Invalid(
            i8o8i_runtime::error::TxError::MissingInput(missing)
        ))
    );

    // The parent is confirmed meanwhile (a new tip): everything is re-checked, and the child,
    // still valid, gets in.
    let parent = spend(coin(3).0, coin(3).1, 1_000, &pk, &sk, &chain_id);
    node.submit_transaction(parent.clone()).unwrap();
    let child = child_of(&parent, coin(3).1 - 1_000);
    let checked = node.mempool().check(child.clone(), chain).unwrap();
    let tip_before = chain.tip().header.height;
    node.generate(1, &script, 1).unwrap();
    assert!(chain.store().tx_location(&parent.txid()).unwrap().is_some());
    assert_eq!(
        node.mempool().admit(checked, chain, unix_now()),
        Ok(child.txid())
    );
    assert_eq!(chain.tip().header.height, tip_before + 1);
    assert_eq!(node.mempool().info().count, 1);

    // A bad signature still fails, outside the lock, with the script error.
    let mut forged = spend(coin(4).0, coin(4).1, 1_000, &pk, &sk, &chain_id);
    forged.outputs[0].value = Amount::from_units(coin(4).1 - 900);
    assert!(matches!(
        node.submit_transaction(forged),
        Err(MempoolError::Invalid(
            i8o8i_runtime::error::TxError::Script { input: 0, .. }
        ))
    ));
    assert_eq!(node.mempool().info().count, 1);

    drop(node);
    running.stop().await;
}
