//! The consensus schedule across engines, and reorganisations of staking state.

use super::*;
use i8o8i_runtime::staking::StakeIndex;

/// PoW for four blocks, PoS from height 5, DPoS from height 15: every node ends on one chain
/// with the same UTXO set, a payment made under PoW arrives exactly, and the supply is the
/// premine plus every block's subsidy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pow_pos_dpos_schedule_switches_on_every_node_at_the_same_heights() {
    let ids = [identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let all: Vec<&Identity> = ids.iter().collect();
    let schedule = format!(
        "  - from_height: 0\n    engine: pow\n    params:\n      initial_bits: 0x207fffff\n      retarget: none\n{}{}",
        pos_entry(5, &all),
        dpos_entry(15, &all, 3)
    );
    let spec = write_spec(spec_dir.path(), &all, &schedule);
    let addresses: Vec<String> = ids.iter().map(|i| i.address.clone()).collect();
    let ps = start_all(ids.into_iter().collect(), &spec).await;
    let schedule: Vec<Value> = call(&ps[0].c, "consensus_getSchedule", rpc_params![]).await;
    assert_eq!(
        schedule
            .iter()
            .map(|e| (
                e["fromHeight"].as_u64().unwrap(),
                e["engine"].as_str().unwrap().to_owned()
            ))
            .collect::<Vec<_>>(),
        [
            (0, "pow".to_owned()),
            (5, "pos".to_owned()),
            (15, "dpos".to_owned())
        ]
    );

    let recipient = "recipient";
    let w: Value = call(&ps[0].c, "wallet_create", rpc_params![recipient, PASSWORD]).await;
    let to = w["address"].as_str().unwrap().to_owned();
    let _: String = call(
        &ps[0].c,
        "wallet_send",
        rpc_params![WALLET, PASSWORD, &to, 7 * COIN],
    )
    .await;

    let (end, _) = converge(&[&ps[0], &ps[1], &ps[2]], 25).await;
    let chain = headers(&ps[0].c, 1, end).await;
    for h in &chain {
        let height = h["height"].as_u64().unwrap();
        let kind = h["seal"]["type"].as_str().unwrap();
        assert_eq!(
            kind,
            if height < 5 { "pow" } else { "producer" },
            "height {height}"
        );
    }
    let info: Value = call(&ps[1].c, "consensus_getInfo", rpc_params![]).await;
    assert_eq!(info["engine"], "dpos");

    // Blocks keep coming: read each node's UTXO set between two reads of the same tip, and
    // compare nodes that stand on the same tip.
    let sets = poll("the same tip and UTXO set on every node", || async {
        let mut sets = Vec::new();
        for p in &ps {
            let before: Value = call(&p.c, "chain_getInfo", rpc_params![]).await;
            let set: Value = call(&p.c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
            let after: Value = call(&p.c, "chain_getInfo", rpc_params![]).await;
            if before["bestHash"] != after["bestHash"] {
                return None;
            }
            sets.push((
                after["height"].as_u64().unwrap(),
                after["bestHash"].clone(),
                set,
            ));
        }
        sets.windows(2).all(|w| w[0].1 == w[1].1).then_some(sets)
    })
    .await;
    let tip = sets[0].0;
    assert!(
        sets.windows(2).all(|w| w[0].2["hash"] == w[1].2["hash"]
            && w[0].2["stateRoot"] == w[1].2["stateRoot"]),
        "{sets:?}"
    );
    assert_eq!(
        sets[0].2["totalAmount"].as_u64().unwrap(),
        3 * 1_000 * COIN + tip * 50 * COIN,
        "premine plus every block's subsidy (fees move, nothing burns)"
    );
    // Every slot-engine block paid its producer: the rewards the ledger counts are the
    // subsidies of those blocks plus the fees they collected (at most the one payment's).
    let (slot_blocks, rewards, produced) = poll("a steady tip to read rewards at", || async {
        let before = height(&ps[0].c).await;
        let (mut rewards, mut produced) = (0, 0);
        for a in &addresses {
            let info = staking_info(&ps[0].c, a).await;
            rewards += info["rewards"].as_u64().unwrap();
            produced += info["produced"].as_u64().unwrap();
        }
        (height(&ps[0].c).await == before).then_some((before - 4, rewards, produced))
    })
    .await;
    assert_eq!(produced, slot_blocks);
    assert!(
        (slot_blocks * 50 * COIN..=slot_blocks * 50 * COIN + COIN).contains(&rewards),
        "rewards {rewards} for {slot_blocks} blocks"
    );
    let balance: Value = call(&ps[2].c, "address_getBalance", rpc_params![&to]).await;
    assert_eq!(balance["confirmed"], 7 * COIN, "{balance}");
    stop_all(ps).await;
}

/// Bonds, a registration, a vote and an unbond, then a heavier branch without them: the
/// reorganisation restores the staking ledger and producer state byte for byte, and the
/// transactions return to the pool and apply again on the new branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorganisation_undoes_bonds_votes_and_unbonds_exactly() {
    let id = identity();
    let spec_dir = tempfile::tempdir().unwrap();
    // Proof of work now, a DPoS era far ahead: staking is open, blocks are mined on demand.
    let schedule = format!(
        "  - from_height: 0\n    engine: pow\n    params:\n      initial_bits: 0x207fffff\n      retarget: none\n{}",
        dpos_entry(10_000, &[&id], 3)
    );
    let spec = write_spec(spec_dir.path(), &[&id], &schedule);
    let address = id.address.clone();
    let (running, c) = crate::common::start_with(id.dir.path(), |cfg| {
        cfg.chain = spec.clone();
        cfg.p2p.enabled = false;
    })
    .await;
    let node = running.node().clone();
    // Mined coins go elsewhere: the staking transactions chain on the premine and their own
    // change only, so all of them can return to the pool when their blocks are disconnected.
    let miner = Address::p2pkh(Network::Dev, [0x11; 20]).to_string();
    let mine = |n: u32| {
        let c = &c;
        let miner = miner.clone();
        async move {
            let _: Vec<Value> = call(c, "mining_generate", rpc_params![n, miner]).await;
        }
    };
    mine(2).await;
    let fork = node.chain().tip().header;
    // Every staking record (the ledger's and the producer state's).
    let staking_records = || {
        let prefix = i8o8i_runtime::staking::records::PREFIX;
        node.chain()
            .tip_state()
            .scan_prefix(prefix, prefix, usize::MAX)
            .unwrap()
    };
    let ledger_before = staking_records();
    let producers_before = node.chain().producer_state().unwrap();

    let _: String = call(&c, "staking_bond", rpc_params![WALLET, PASSWORD, 10 * COIN]).await;
    mine(1).await;
    let _: String = call(
        &c,
        "dpos_registerDelegate",
        rpc_params![WALLET, PASSWORD, "alice"],
    )
    .await;
    mine(1).await;
    let _: String = call(&c, "dpos_vote", rpc_params![WALLET, PASSWORD, ["alice"]]).await;
    mine(1).await;
    let _: String = call(
        &c,
        "staking_unbond",
        rpc_params![WALLET, PASSWORD, 3 * COIN],
    )
    .await;
    mine(1).await;
    let staked = staking_info(&c, &address).await;
    assert_eq!(staked["bonded"], 7 * COIN, "{staked}");
    assert_eq!(staked["delegate"], "alice");
    assert_eq!(
        staked["votes"],
        serde_json::json!([hex::encode(id_key(&staked))])
    );
    assert_eq!(staked["unbonding"][0]["releaseHeight"], 6 + 6);
    let ledger_after = staking_records();
    assert_ne!(ledger_after, ledger_before);

    // Five empty blocks on the fork point outweigh the four that staked.
    let payout = i8o8i_script_vm::templates::p2pkh(&[0x22; 20]);
    let mut parent = fork.clone();
    for tag in 0..5 {
        let block =
            crate::common::build_block(&running, &parent, vec![], &payout, 50 * COIN, 900 + tag);
        parent = block.header.clone();
        node.submit_block(block).unwrap();
    }
    assert_eq!(
        node.chain().tip().hash,
        parent.hash(),
        "the empty branch won"
    );
    assert_eq!(staking_records(), ledger_before);
    assert_eq!(node.chain().producer_state().unwrap(), producers_before);
    let release = node.chain().tip_state().released_at(12).unwrap();
    assert!(
        release.is_empty(),
        "the queued release went with the unbond"
    );
    let info = staking_info(&c, &address).await;
    assert_eq!(info["bonded"], 0);
    assert_eq!(info["delegate"], Value::Null);

    // The four transactions went back to the pool and apply again, in order.
    let pooled: Vec<Value> = call(&c, "mempool_getTxids", rpc_params![]).await;
    assert_eq!(pooled.len(), 4, "{pooled:?}");
    mine(1).await;
    let again = staking_info(&c, &address).await;
    assert_eq!(again["bonded"], 7 * COIN, "{again}");
    assert_eq!(again["delegate"], "alice");
    assert_eq!(again["unbonding"][0]["releaseHeight"], 8 + 6);
    drop(node);
    running.stop().await;
}
