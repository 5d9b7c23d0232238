//! Delegated proof of stake: rounds, votes, irreversibility and the typed refusals of
//! blocks that break the slot rules.

use super::*;

/// A block on `parent` in `slot` sealed by `secret`, its coinbase paying the subsidy to the
/// sealing key's address (what an honest producer would make, whoever may seal the slot).
fn slot_block(parent: &Header, slot: u64, genesis: u64, secret: &SecretKey) -> Block {
    let height = parent.height + 1;
    let key = secp256k1::PublicKey::from_secret_key(secret).serialize();
    let coinbase = coinbase_transaction(
        height,
        b"test",
        vec![TxOut {
            value: Amount::from_units(50 * COIN),
            script_pubkey: i8o8i_runtime::staking::key_script(&key),
        }],
    );
    let mut block = Block {
        header: Header {
            version: 1,
            parent: parent.hash(),
            height,
            time: genesis + slot,
            tx_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            seal: Seal::Pow { bits: 0, nonce: 0 },
        },
        transactions: vec![coinbase],
    };
    block.header.tx_root = block.compute_tx_root();
    SlotEngine::seal(&mut block.header, slot, secret);
    block
}

/// The header error a block was refused with, whether at import or when it connected.
fn refusal(
    result: Result<i8o8i_chain::chain::ImportOutcome, ImportError>,
    hash: BlockHash,
) -> HeaderError {
    match result {
        Err(ImportError::Invalid { error, .. }) => match *error {
            BlockError::Header(e) => e,
            other => panic!("refused for {other}, not a header rule"),
        },
        Err(ImportError::Early { error, .. }) => error,
        Ok(outcome) => match outcome.invalid.into_iter().find(|(h, _)| *h == hash) {
            Some((_, BlockError::Header(e))) => e,
            other => panic!("not refused as expected: {other:?}"),
        },
        Err(e) => panic!("refused for {e}"),
    }
}

fn tip_header(p: &Producer) -> Header {
    p.running().node().chain().tip().header
}

/// Under DPoS a registered delegate voted in by bonded stake replaces a fallback delegate;
/// rounds are produced in shuffled order by distinct delegates; the last irreversible block
/// advances and a branch below it is refused by every node; blocks that break slot rules are
/// refused with their typed errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delegated_proof_of_stake_rounds_votes_and_irreversibility() {
    let ids = [identity(), identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let genesis = genesis_time();
    let all: Vec<&Identity> = ids.iter().collect();
    let spec = write_spec_at(spec_dir.path(), &all, &dpos_entry(0, &all[..3], 3), genesis);
    let keys: Vec<String> = ids.iter().map(|i| hex::encode(i.key)).collect();
    let secrets: Vec<SecretKey> = ids.iter().map(|i| i.secret).collect();
    let addresses: Vec<String> = ids.iter().map(|i| i.address.clone()).collect();
    let mut ps = start_all(ids.into_iter().collect(), &spec).await;

    wait_height(&ps[0], 3).await;
    let ds: Vec<Value> = call(&ps[0].c, "dpos_getDelegates", rpc_params![]).await;
    assert_eq!(ds.len(), 3);
    assert!(
        ds.iter()
            .all(|d| d["active"] == true && d["genesis"] == true),
        "{ds:?}"
    );

    // The fourth node registers "dave", bonds 100 I8O and votes for itself.
    let d = &ps[3];
    let _: String = call(
        &d.c,
        "dpos_registerDelegate",
        rpc_params![WALLET, PASSWORD, "dave"],
    )
    .await;
    wait_for("dave's registration", || async {
        staking_info(&d.c, &addresses[3]).await["delegate"] == "dave"
    })
    .await;
    let (code, message) = call_err(
        &d.c,
        "dpos_registerDelegate",
        rpc_params![WALLET, PASSWORD, "dave"],
    )
    .await;
    assert_eq!(code, -32010, "{message}");
    assert!(message.contains("already a delegate"), "{message}");
    let _: String = call(
        &d.c,
        "staking_bond",
        rpc_params![WALLET, PASSWORD, 100 * COIN],
    )
    .await;
    wait_for("dave's bond", || async {
        staking_info(&d.c, &addresses[3]).await["bonded"] == 100 * COIN
    })
    .await;
    let _: String = call(&d.c, "dpos_vote", rpc_params![WALLET, PASSWORD, ["dave"]]).await;
    wait_for("dave voted into the round", || async {
        let ds: Vec<Value> = call(&ps[0].c, "dpos_getDelegates", rpc_params![]).await;
        let by_key = |k: &str| ds.iter().find(|d| d["key"] == k).cloned().unwrap();
        by_key(&keys[3])["active"] == true && by_key(&keys[2])["active"] == false
    })
    .await;
    let dave = by_name(
        &call::<Vec<Value>>(&ps[0].c, "dpos_getDelegates", rpc_params![]).await,
        "dave",
    );
    assert_eq!(dave["votes"], 100 * COIN);

    // Rounds: each is produced by distinct members of the active set {A, B, dave}.
    let start = height(&ps[0].c).await + 1;
    let end = converge(&[&ps[0], &ps[1], &ps[2], &ps[3]], start + 15)
        .await
        .0;
    let window = headers(&ps[0].c, start, end).await;
    let mut rounds: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for h in &window {
        let slot = h["seal"]["slot"].as_u64().unwrap();
        rounds.entry(slot / 3).or_default().push(producer_of(h));
    }
    let active = [&keys[0], &keys[1], &keys[3]];
    for (round, producers) in &rounds {
        assert!(
            producers.iter().all(|p| active.contains(&p)),
            "round {round}: {producers:?}"
        );
        let mut unique = producers.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            producers.len(),
            "round {round}: {producers:?}"
        );
    }
    assert!(
        window.iter().any(|h| producer_of(h) == keys[3]),
        "dave produced"
    );
    let orders: Vec<&Vec<String>> = rounds.values().filter(|p| p.len() == 3).collect();
    assert!(
        orders.windows(2).any(|w| w[0] != w[1]),
        "the order changes between rounds: {orders:?}"
    );

    // The last irreversible block trails the tip and advances, on every node.
    let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
    assert_eq!(info["engine"], "dpos");
    let now_producer = info["slotProducer"].as_str().unwrap().to_owned();
    assert!(
        active.contains(&&now_producer),
        "the current slot belongs to a delegate of the round: {info}"
    );
    let lib = info["lastIrreversible"]["height"].as_u64().unwrap();
    assert!(
        info["finalityLag"].as_u64().unwrap() <= 9,
        "three rounds at most: {info}"
    );
    wait_for("the irreversible block to advance", || async {
        let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
        info["lastIrreversible"]["height"].as_u64().unwrap() > lib
    })
    .await;

    // Validators watch the same figures in Prometheus.
    let m = crate::rpc_platform::scrape(ps[0].running().rpc_addr()).await;
    let metric = |name| crate::rpc_platform::sample(&m, name);
    assert!(metric("i8o8i_consensus_last_irreversible_height") > lib as f64);
    assert!(metric("i8o8i_consensus_finality_lag_blocks") <= 9.0);
    assert!(metric("i8o8i_consensus_blocks_produced_total") >= 1.0);

    // A branch that replaces an irreversible block is refused by every node.
    let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
    let lib_height = info["lastIrreversible"]["height"].as_u64().unwrap();
    let lib_block: Value = call(&ps[0].c, "chain_getBlock", rpc_params![lib_height]).await;
    let lib_parent: Value = call(&ps[0].c, "chain_getBlock", rpc_params![lib_height - 1]).await;
    let parent: Header = serde_json::from_value(lib_parent["header"].clone()).unwrap();
    let slot = lib_block["header"]["seal"]["slot"].as_u64().unwrap();
    let producer = keys
        .iter()
        .position(|k| *k == producer_of(&lib_block["header"]))
        .unwrap();
    let rival = slot_block(&parent, slot, genesis, &secrets[producer]);
    let hash = rival.header.hash();
    for p in &ps {
        let e = refusal(p.running().node().submit_block(rival.clone()), hash);
        assert!(matches!(e, HeaderError::BelowIrreversible { .. }), "{e}");
    }

    // Slot rules, each with its typed error (checked on node 0 against its tip).
    let node = ps[0].running().node().clone();
    let tip = tip_header(&ps[0]);
    let Seal::Producer { slot: tip_slot, .. } = tip.seal else {
        panic!("slot seal")
    };
    let current = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - genesis)
        .max(tip_slot + 1);
    // Past slot: the tip's own slot again.
    let b = slot_block(&tip, tip_slot, genesis, &secrets[0]);
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert!(matches!(e, HeaderError::PastSlot { .. }), "{e}");
    // (Double signing is kept, not refused, and slashes the signer: see
    // `attacks::double_signing_…`, which this test's delegate counts would not survive.)
    // Future slot: ten slots ahead of the clock.
    let b = slot_block(&tip, current + 10, genesis, &secrets[0]);
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert!(matches!(e, HeaderError::FutureSlot { .. }), "{e}");
    // Bad signature: one bit of the signature flipped.
    let mut b = slot_block(&tip, current, genesis, &secrets[0]);
    if let Seal::Producer { signature, .. } = &mut b.header.seal {
        signature[10] ^= 1;
    }
    let e = refusal(node.submit_block(b.clone()), b.header.hash());
    assert_eq!(e, HeaderError::BadSignature);
    // A delegate voted out of the round (C), and one in the round but not in its slot: both
    // are refused before the block is stored, against the producer schedule of its parent
    // (the tip's, or the one recorded for an older parent); retry while the tip moves.
    let on_tip = |signer: &dyn Fn(&Header, u64) -> usize| {
        for _ in 0..20 {
            let tip = tip_header(&ps[0]);
            let Seal::Producer { slot: tip_slot, .. } = tip.seal else {
                panic!("slot seal")
            };
            let slot = (unix_now() - genesis).max(tip_slot + 1);
            let b = slot_block(&tip, slot, genesis, &secrets[signer(&tip, slot)]);
            let hash = b.header.hash();
            match node.submit_block(b) {
                Err(ImportError::Invalid { error, .. }) => match *error {
                    BlockError::Header(e) => return e,
                    other => panic!("refused for {other}"),
                },
                Ok(outcome) => {
                    if let Some((_, error)) = outcome.invalid.into_iter().find(|(h, _)| *h == hash)
                    {
                        match error {
                            BlockError::Header(e) => return e,
                            other => panic!("refused for {other}"),
                        }
                    }
                    // Stored beside a tip that moved meanwhile: try again on the new tip.
                }
                Err(e) => panic!("{e}"),
            }
        }
        panic!("no block landed on the tip in 20 tries");
    };
    let e = on_tip(&|_, _| 2);
    assert!(matches!(e, HeaderError::NotActiveProducer { .. }), "{e}");
    let engine = match node.chain().schedule().at(tip.height + 1) {
        ScheduledEngine::Slot(e) => e.clone(),
        ScheduledEngine::Pow(_) => panic!("DPoS runs here"),
    };
    let e = on_tip(&|_, slot| {
        // Any active delegate but the slot's producer.
        [0, 1, 3]
            .into_iter()
            .find(|&i| matches!(node.produce_in_slot(&engine, slot, &secrets[i]), Ok(None)))
            .unwrap()
    });
    assert!(matches!(e, HeaderError::NotLeader { .. }), "{e}");
    drop(node);

    // From a peer over gossip (a forged signature, refused whatever the tip is by then): the
    // peer is banned for it. Blocks that fail when they connect take the same path
    // (network::a_peer_sending_an_invalid_block_is_banned…).
    let info: Value = call(&ps[0].c, "net_getInfo", rpc_params![]).await;
    let node_id: libp2p::PeerId = info["peerId"].as_str().unwrap().parse().unwrap();
    let addr: libp2p::Multiaddr = info["listenAddresses"][0]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let genesis_hash = ps[0].running().node().chain().genesis();
    let mut raw = RawPeer::subscribed_to(genesis_hash, node_id, addr).await;
    let tip = tip_header(&ps[0]);
    let Seal::Producer { slot: tip_slot, .. } = tip.seal else {
        panic!("slot seal")
    };
    let mut forged = slot_block(&tip, tip_slot + 1, genesis, &secrets[0]);
    if let Seal::Producer { signature, .. } = &mut forged.header.seal {
        signature[20] ^= 1;
    }
    raw.send(RawCommand::Publish(
        TopicKind::Blocks,
        i8o8i_network::compact::CompactBlock::full(&forged).encode(),
    ));
    raw.expect(
        "the ban to disconnect us",
        |e| matches!(e, RawEvent::Closed(p) if *p == node_id),
    )
    .await;

    // A producer that stops misses its slots; the chain goes on without it.
    let missed_before = by_name(
        &call::<Vec<Value>>(&ps[0].c, "dpos_getDelegates", rpc_params![]).await,
        "genesis-1",
    )["missed"]
        .as_u64()
        .unwrap();
    let mut b = ps.remove(1);
    b.stop().await;
    let h = height(&ps[0].c).await;
    converge(&[&ps[0], &ps[2]], h + 6).await;
    let b_info = by_name(
        &call::<Vec<Value>>(&ps[0].c, "dpos_getDelegates", rpc_params![]).await,
        "genesis-1",
    );
    assert!(
        b_info["missed"].as_u64().unwrap() > missed_before,
        "{b_info}"
    );

    // Its store recorded the irreversible block, for the next start to keep refusing
    // reorganisations below it.
    let store = i8o8i_chain::store::Store::open(&b._id.dir.path().join("chaindata")).unwrap();
    let (lib_height, lib_hash) = store.irreversible().unwrap().expect("recorded");
    assert!(lib_height > 0);
    assert_eq!(store.hash_at(lib_height).unwrap(), Some(lib_hash));
    drop(store);
    ps.push(b);
    stop_all(ps).await;
}

fn by_name(delegates: &[Value], name: &str) -> Value {
    delegates
        .iter()
        .find(|d| d["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no delegate {name} in {delegates:?}"))
}
