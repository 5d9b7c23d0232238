//! Proof of stake: bonded stake drives the draws, unbonding pays back, an offline producer
//! leaves gaps; over thousands of slots production follows stake.

use super::*;

/// Under PoS with bonds of 10, 20 and 30 I8O, every producer makes blocks roughly in
/// proportion; a producer that stops leaves empty slots and the others carry on; an unbond is
/// paid back exactly at its release height.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proof_of_stake_follows_bonded_stake_and_survives_an_offline_producer() {
    let ids = [identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        spec_dir.path(),
        &ids.iter().collect::<Vec<_>>(),
        &pos_entry(0, &ids.iter().collect::<Vec<_>>()),
    );
    let keys: Vec<String> = ids.iter().map(|i| hex::encode(i.key)).collect();
    let addresses: Vec<String> = ids.iter().map(|i| i.address.clone()).collect();
    let mut ps = start_all(ids.into_iter().collect(), &spec).await;

    // Genesis validators (equal weight) produce until the bonds are snapshotted.
    wait_height(&ps[0], 2).await;
    for (i, p) in ps.iter().enumerate() {
        let _: String = call(
            &p.c,
            "staking_bond",
            rpc_params![WALLET, PASSWORD, (i as u64 + 1) * 10 * COIN],
        )
        .await;
    }
    wait_for("the bonds to be confirmed", || async {
        let v: Value = call(&ps[0].c, "staking_getValidators", rpc_params![]).await;
        v["bonded"].as_array().unwrap().len() == 3
    })
    .await;
    for (i, a) in addresses.iter().enumerate() {
        let info = staking_info(&ps[0].c, a).await;
        assert_eq!(info["bonded"], (i as u64 + 1) * 10 * COIN, "{info}");
        assert_eq!(info["stakingKey"], keys[i]);
    }
    // The snapshot of the epoch after next carries them: wait until the active set is the bonds.
    let bonded: BTreeMap<String, u64> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), (i as u64 + 1) * 10 * COIN))
        .collect();
    wait_for("the bonded snapshot to be active", || async {
        let v: Value = call(&ps[0].c, "staking_getValidators", rpc_params![]).await;
        weights(&v["active"]) == bonded
    })
    .await;
    let start = height(&ps[0].c).await + 1;
    wait_height(&ps[0], start + 45).await;
    let end = converge(&[&ps[0], &ps[1], &ps[2]], start + 45).await.0;
    let window = headers(&ps[0].c, start, end).await;
    let mut made: BTreeMap<String, u64> = BTreeMap::new();
    for h in &window {
        *made.entry(producer_of(h)).or_default() += 1;
    }
    let n = window.len() as f64;
    let first_slot = window[0]["seal"]["slot"].as_u64().unwrap();
    let last_slot = window[window.len() - 1]["seal"]["slot"].as_u64().unwrap();
    println!(
        "blocks by stake 1 : 2 : 3 on three nodes: {:?} ({n} blocks in {} slots)",
        keys.iter()
            .map(|k| made.get(k).copied().unwrap_or(0))
            .collect::<Vec<_>>(),
        last_slot - first_slot + 1
    );
    for (i, key) in keys.iter().enumerate() {
        let count = made.get(key).copied().unwrap_or(0);
        let share = count as f64 / n;
        let expected = (i as f64 + 1.0) / 6.0;
        // Four binomial standard deviations: a wrong draw (uniform, or by key order) is far
        // outside it, chance alone almost never is.
        let tolerance = 4.0 * (expected * (1.0 - expected) / n).sqrt();
        assert!(
            count > 0,
            "producer {i} made no block in {n} blocks: {made:?}"
        );
        assert!(
            (share - expected).abs() <= tolerance,
            "producer {i}: {count} of {n} blocks, expected share {expected:.3} ± {tolerance:.3}"
        );
    }

    // Unbond 5 I8O of producer 0: paid back at the release height, not before.
    let _: String = call(
        &ps[0].c,
        "staking_unbond",
        rpc_params![WALLET, PASSWORD, 5 * COIN],
    )
    .await;
    let release = poll("the unbond to be confirmed", || async {
        let info = staking_info(&ps[0].c, &addresses[0]).await;
        let u = info["unbonding"].as_array().unwrap().first()?.clone();
        assert_eq!(u["amount"], 5 * COIN);
        assert_eq!(info["bonded"], 5 * COIN);
        u["releaseHeight"].as_u64()
    })
    .await;
    let paid_back = |utxos: &Vec<Value>| {
        utxos
            .iter()
            .filter(|u| u["value"] == 5 * COIN && u["height"] == release)
            .count()
    };
    let utxos: Vec<Value> = call(&ps[0].c, "address_getUtxos", rpc_params![&addresses[0]]).await;
    assert_eq!(
        paid_back(&utxos),
        0,
        "nothing is released before height {release}"
    );
    wait_height(&ps[0], release).await;
    let utxos: Vec<Value> = call(&ps[0].c, "address_getUtxos", rpc_params![&addresses[0]]).await;
    assert_eq!(paid_back(&utxos), 1, "{utxos:?}");
    let info = staking_info(&ps[0].c, &addresses[0]).await;
    assert_eq!(info["unbonding"].as_array().unwrap().len(), 0);

    // Producer 2 (half the stake) goes offline: its slots stay empty, the others go on.
    let mut offline = ps.pop().unwrap();
    offline.stop().await;
    let from = height(&ps[0].c).await + 1;
    let (end, _) = converge(&[&ps[0], &ps[1]], from + 10).await;
    let after = headers(&ps[0].c, from + 1, end).await;
    assert!(after.iter().all(|h| producer_of(h) != keys[2]));
    let slots: Vec<u64> = after
        .iter()
        .map(|h| h["seal"]["slot"].as_u64().unwrap())
        .collect();
    let gaps = slots.windows(2).filter(|w| w[1] > w[0] + 1).count();
    assert!(
        gaps > 0,
        "an offline producer leaves empty slots: {slots:?}"
    );
    let missed = staking_info(&ps[0].c, &addresses[2]).await["missed"]
        .as_u64()
        .unwrap();
    assert!(missed > 0, "its empty slots are counted as missed");

    // Back online, it catches up (headers first, every seal checked) and produces again.
    let info: Value = call(&ps[0].c, "net_getInfo", rpc_params![]).await;
    let boot = format!(
        "{}/p2p/{}",
        info["listenAddresses"][0].as_str().unwrap(),
        info["peerId"].as_str().unwrap()
    );
    let before = staking_info(&ps[0].c, &addresses[2]).await["produced"]
        .as_u64()
        .unwrap();
    let back = start_producer(offline._id, &spec, vec![boot]).await;
    ps.push(back);
    let h = height(&ps[0].c).await;
    converge(&[&ps[0], &ps[1], &ps[2]], h + 3).await;
    wait_for("the returning producer to make a block", || async {
        staking_info(&ps[0].c, &addresses[2]).await["produced"]
            .as_u64()
            .unwrap()
            > before
    })
    .await;
    stop_all(ps).await;
}

/// `key → weight` of a `staking_getValidators` list.
fn weights(list: &Value) -> BTreeMap<String, u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_owned(),
                p["weight"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Over thousands of real blocks (made back to back in past slots, one node, no network),
/// each validator's share of the chain is its share of the stake: 1 : 2 : 3 within four
/// binomial standard deviations (under 3.7 percentage points), with the seed changing every
/// ten slots from the blocks themselves.
#[test]
fn over_thousands_of_slots_production_follows_stake() {
    const BLOCKS: usize = 3_000;
    let secrets: Vec<SecretKey> = (1..=3u8)
        .map(|i| SecretKey::from_secret_bytes([i; 32]).unwrap())
        .collect();
    let validators: String = secrets
        .iter()
        .zip([1, 2, 3])
        .map(|(s, stake)| {
            let key = secp256k1::PublicKey::from_secret_key(s).serialize();
            format!(
                "\n        - key: {}\n          stake: {stake}",
                hex::encode(key)
            )
        })
        .collect();
    let schedule = format!(
        "  - from_height: 0\n    engine: pos\n    params:\n      slot_secs: 1\n      epoch_slots: 10\n      unbonding_period: 6\n      min_bond: {COIN}\n      genesis_validators:{validators}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec_at(dir.path(), &[], &schedule, genesis_time() - 1_000_000);
    let spec = i8o8i_node::launch::load_chain_spec(&spec).unwrap();
    let config = NodeConfig {
        data_dir: Some(dir.path().join("node")),
        ..NodeConfig::default()
    };
    let node = i8o8i_node::node::Node::open(config, spec, &dir.path().join("node")).unwrap();
    let ScheduledEngine::Slot(engine) = node.chain().schedule().at(1).clone() else {
        panic!("a slot engine")
    };
    let mut made = [0usize; 3];
    for slot in 1..=BLOCKS as u64 {
        let (who, block) = secrets
            .iter()
            .enumerate()
            .find_map(|(i, s)| Some((i, node.produce_in_slot(&engine, slot, s).unwrap()?)))
            .expect("every slot has a leader among the validators");
        made[who] += 1;
        let hash = block.header.hash();
        let outcome = node.submit_block(block).unwrap();
        assert!(outcome.invalid.is_empty() && node.chain().tip().hash == hash);
    }
    println!("blocks by stake 1 : 2 : 3 over {BLOCKS} slots: {made:?}");
    for (i, count) in made.iter().enumerate() {
        let share = *count as f64 / BLOCKS as f64;
        let expected = (i as f64 + 1.0) / 6.0;
        let sigma = (expected * (1.0 - expected) / BLOCKS as f64).sqrt();
        assert!(
            (share - expected).abs() <= 4.0 * sigma,
            "validator {i}: {count} of {BLOCKS}, expected {expected:.3} ± {:.3}",
            4.0 * sigma
        );
    }
    let state = node.chain().producer_state().unwrap();
    assert_eq!(state.produced.values().sum::<u64>(), BLOCKS as u64);
}
