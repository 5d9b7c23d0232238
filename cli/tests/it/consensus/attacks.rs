//! The consensus-safety issue's attacks on the slot engines, mounted by the `i8o8i-adversary`
//! peer against producing nodes: each failed on the code before its fix (the fixing commit says
//! so); the honest nodes end on one chain with equal UTXO sets.

use i8o8i_adversary::forge::{forged_branch, slot_at};
use i8o8i_adversary::{Event, Peer, Served};
use i8o8i_primitives::U256;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::staking::StakeRecords;
use libp2p::{Multiaddr, PeerId};

use super::*;

/// A producer's libp2p address and id.
async fn p2p_of(p: &Producer) -> (Multiaddr, PeerId) {
    let info: Value = call(&p.c, "net_getInfo", rpc_params![]).await;
    (
        info["listenAddresses"][0]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        info["peerId"].as_str().unwrap().parse().unwrap(),
    )
}

async fn utxo_hash(c: &RpcClient) -> String {
    // The set's own hash and the state root at the same tip: equal sets and equal states.
    let info: Value = call(c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
    format!("{} {}", info["hash"], info["stateRoot"])
}

fn spec_of(path: &str) -> ChainSpec {
    ChainSpec::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A key with no stake seals a block in every slot from an older block (the last final one,
/// so that finality does not refuse it first) up to the next slot: a branch heavier than the
/// honest one. It is refused at import (not stored, not relayed) because its sealer owns none
/// of those slots, and the sender is banned; no node leaves the honest chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_branch_sealed_by_a_key_without_slots_is_refused_before_it_is_stored() {
    let ids = [identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let all: Vec<&Identity> = ids.iter().collect();
    let path = write_spec(spec_dir.path(), &all, &pos_entry(0, &all));
    let spec = spec_of(&path);
    let ps = start_all(ids.into_iter().collect(), &path).await;
    wait_height(&ps[0], 4).await;

    let chain = ps[0].running().node().chain();
    let (from, ancestor_hash) = chain
        .last_irreversible()
        .unwrap_or((1, chain.store().hash_at(1).unwrap().unwrap()));
    let ancestor = chain.entry(&ancestor_hash).unwrap().header;
    let outsider = SecretKey::from_secret_bytes([0x42; 32]).unwrap();
    let now_slot = slot_at(&spec, 2, unix_now()).unwrap();
    let branch = forged_branch(&spec, &ancestor, &outsider, now_slot + 1);
    let honest_height = height(&ps[0].c).await;
    assert!(
        from + branch.len() as u64 > honest_height,
        "the forged branch is the heavier one ({} blocks on height {from}, tip at {honest_height})",
        branch.len()
    );

    let (addr, node_id) = p2p_of(&ps[0]).await;
    let genesis = spec.genesis_block().header.hash();
    let mut adversary =
        Peer::start(Served::chain(genesis, branch.clone(), U256::MAX >> 1)).unwrap();
    adversary.connect(addr, node_id, WAIT).await.unwrap();
    for block in &branch {
        adversary.publish_block(block).unwrap();
    }
    adversary
        .expect(
            "the node to ban the forger",
            WAIT,
            |e| matches!(e, Event::Closed(p) if *p == node_id),
        )
        .await
        .unwrap();

    let end = converge(&[&ps[0], &ps[1]], honest_height + 2).await;
    for p in &ps {
        let chain = p.running().node().chain();
        for block in &branch {
            assert!(
                chain.entry(&block.header.hash()).is_none(),
                "a forged block at height {} was stored",
                block.header.height
            );
        }
        assert_eq!(chain.store().hash_at(from).unwrap(), Some(ancestor_hash));
    }
    assert_eq!(utxo_hash(&ps[0].c).await, utxo_hash(&ps[1].c).await);
    assert!(end.0 > honest_height);
    stop_all(ps.into_iter().collect()).await;
}

/// A follower whose clock is 5 s behind receives every block five one-second slots before its
/// slot begins on that clock. It holds them and imports each when due: it follows the chain
/// (the same block at every height the producers reached) and bans nobody, nor is banned.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_with_a_slow_clock_follows_the_chain_and_bans_nobody() {
    let ids = [identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let all: Vec<&Identity> = ids.iter().collect();
    let path = write_spec(spec_dir.path(), &all, &pos_entry(0, &all));
    let ps = start_all(ids.into_iter().collect(), &path).await;
    let slow = start_node(
        identity(),
        &path,
        vec![bootnode_of(&ps[0]).await],
        false,
        Some(SystemClock::skewed(-5).shared()),
    )
    .await;

    wait_height(&ps[0], 12).await;
    let target = height(&ps[0].c).await;
    wait_height(&slow, target).await;
    let theirs = headers(&ps[0].c, 1, target).await;
    let ours = headers(&slow.c, 1, target).await;
    assert_eq!(ours, theirs, "the slow node holds the producers' chain");
    for p in [&slow, &ps[0]] {
        let peers: Vec<Value> = call(&p.c, "net_peers", rpc_params![]).await;
        assert!(!peers.is_empty());
        for peer in &peers {
            assert!(peer["score"].as_i64().unwrap() >= 0, "{peer}");
        }
    }
    let slow_id = bootnode_of(&slow).await;
    let slow_id = slow_id.rsplit('/').next().unwrap();
    let peers: Vec<Value> = call(&ps[0].c, "net_peers", rpc_params![]).await;
    assert!(
        peers.iter().any(|p| p["id"] == slow_id),
        "the slow node is still connected to the producer: {peers:?}"
    );
    let mut all = ps;
    all.push(slow);
    stop_all(all).await;
}

/// Proof of stake has a finality rule: a block is final once producers holding more than two
/// thirds of the epoch's stake have built on it. Every node reports the same final block in
/// `consensus_getInfo` and Prometheus, it advances, and a branch that would replace it is
/// refused by every node even when sealed by a validator (a long-range rewrite).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proof_of_stake_finalises_blocks_and_refuses_to_rewrite_them() {
    let ids = [identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let all: Vec<&Identity> = ids.iter().collect();
    let path = write_spec(spec_dir.path(), &all, &pos_entry(0, &all));
    let spec = spec_of(&path);
    let secrets: Vec<SecretKey> = ids.iter().map(|i| i.secret).collect();
    let ps = start_all(ids.into_iter().collect(), &path).await;
    wait_height(&ps[0], 8).await;

    let final_height = |p: &Producer| {
        let c = p.c.clone();
        async move {
            let info: Value = call(&c, "consensus_getInfo", rpc_params![]).await;
            info["lastIrreversible"]["height"].as_u64()
        }
    };
    let first = poll("a final block", || async { final_height(&ps[0]).await }).await;
    wait_for("finality to advance", || async {
        final_height(&ps[0]).await.is_some_and(|h| h > first)
    })
    .await;
    let info: Value = call(&ps[0].c, "consensus_getInfo", rpc_params![]).await;
    assert_eq!(info["engine"], "pos");
    let lib = info["lastIrreversible"]["height"].as_u64().unwrap();
    let lag = info["finalityLag"].as_u64().unwrap();
    // Three equal validators finalise within a few slots (a loaded machine makes them miss
    // some, hence the margin).
    assert!(lag <= 30, "{info}");
    let m = crate::rpc_platform::scrape(ps[0].running().rpc_addr()).await;
    assert!(
        crate::rpc_platform::sample(&m, "i8o8i_consensus_last_irreversible_height") >= lib as f64
    );
    // Every node agrees on what is final.
    for p in &ps[1..] {
        wait_for("the same final block on every node", || async {
            final_height(p).await.is_some_and(|h| h >= lib)
        })
        .await;
        let theirs: Value = call(&p.c, "chain_getBlockHash", rpc_params![lib]).await;
        let ours: Value = call(&ps[0].c, "chain_getBlockHash", rpc_params![lib]).await;
        assert_eq!(theirs, ours);
    }

    // Every block carries its producer's next hash-chain reveal (the seeds' randomness):
    // each validator's first block commits, its later ones reveal, once committed.
    for secret in &secrets {
        let key = secp256k1::PublicKey::from_secret_key(secret).serialize();
        wait_for("a verified reveal by every validator", || async {
            let state = ps[0].running().node().chain().tip_state();
            i8o8i_runtime::randomness::record_of(&state, &key)
                .unwrap()
                .is_some_and(|r| r.left < i8o8i_runtime::randomness::REVEALS_PER_COMMIT)
        })
        .await;
    }

    // A validator rewrites history from the final block's parent: refused everywhere.
    let chain = ps[0].running().node().chain();
    let lib_hash = chain.store().hash_at(lib).unwrap().unwrap();
    let lib_header = chain.entry(&lib_hash).unwrap().header;
    let parent = chain.entry(&lib_header.parent).unwrap().header;
    let Seal::Producer { slot, .. } = lib_header.seal else {
        panic!("a slot block")
    };
    for secret in &secrets {
        // Refused for where it is, whatever state it claims.
        let rival =
            i8o8i_adversary::forge::slot_block(&spec, &parent, slot, secret, b"rewrite", &|_| None);
        let hash = rival.header.hash();
        for p in &ps {
            match p.running().node().submit_block(rival.clone()) {
                Err(ImportError::Invalid { error, .. }) => assert!(
                    matches!(
                        *error,
                        BlockError::Header(HeaderError::BelowIrreversible { .. })
                    ),
                    "{error}"
                ),
                other => panic!("a rewrite of a final block was not refused: {other:?}"),
            }
            assert!(p.running().node().chain().entry(&hash).is_none());
        }
    }
    stop_all(ps.into_iter().collect()).await;
}

/// Double signing: a producer seals two blocks for its slot and sends one to each node. Both
/// are valid, so both nodes keep both (no relayer is banned), fork choice puts every node on
/// one chain, and the next block carries the two headers as evidence: the signer loses
/// `SLASH_PERCENT` of its bond (burnt) and leaves the producer set.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_signing_splits_nobody_and_slashes_the_signer() {
    let ids = [identity(), identity(), identity()];
    let spec_dir = tempfile::tempdir().unwrap();
    let all: Vec<&Identity> = ids.iter().collect();
    let path = write_spec(spec_dir.path(), &all, &pos_entry(0, &all));
    let spec = spec_of(&path);
    let (signer_secret, signer_key) = (ids[2].secret, ids[2].key);
    let signer_address = ids[2].address.clone();
    let mut ids = ids.into_iter();
    let a = start_producer(ids.next().unwrap(), &path, vec![]).await;
    let b = start_producer(ids.next().unwrap(), &path, vec![bootnode_of(&a).await]).await;
    // The double signer's own node only holds its wallet (to bond); it produces nothing.
    let e = start_node(
        ids.next().unwrap(),
        &path,
        vec![bootnode_of(&a).await],
        false,
        None,
    )
    .await;
    let nodes = [&a, &b, &e];

    // Everyone bonds 10 I8O; wait until that snapshot draws the slots.
    for p in nodes {
        let _: String = call(
            &p.c,
            "staking_bond",
            rpc_params![WALLET, PASSWORD, 10 * COIN],
        )
        .await;
    }
    wait_for("the bonded snapshot to be active", || async {
        let v: Value = call(&a.c, "staking_getValidators", rpc_params![]).await;
        let active = v["active"].as_array().unwrap();
        active.len() == 3 && active.iter().all(|p| p["weight"] == 10 * COIN)
    })
    .await;
    assert_eq!(
        staking_info(&a.c, &signer_address).await["bonded"],
        10 * COIN
    );

    // A slot of the signer's, on the tip A and B share.
    let chain_a = a.running().node().chain().clone();
    let (tip, slot) = poll("a slot of the double signer on a shared tip", || async {
        let tip = chain_a.tip();
        let b_tip = b.running().node().chain().tip();
        let now = slot_at(&spec, tip.header.height + 1, unix_now()).unwrap();
        if tip.hash != b_tip.hash {
            return None;
        }
        (now + 1..now + 4)
            .find(|s| chain_a.slot_producer(&tip, *s).unwrap() == Some(signer_key))
            .map(|s| (tip.clone(), s))
    })
    .await;
    let start = i8o8i_adversary::forge::slot_time(&spec, tip.header.height + 1, slot).unwrap();
    // Sent a second before the slot begins (within the chain's one-second clock drift, so
    // imported at once): two seconds before anyone can build on top, even on a slow machine.
    while unix_now() + 1 < start {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // On the tip of the moment: blocks of other producers' earlier slots may have come since.
    let tip = chain_a.tip();
    assert_eq!(chain_a.slot_producer(&tip, slot).unwrap(), Some(signer_key));
    let (x, y) =
        i8o8i_adversary::forge::equivocation(&spec, &tip.header, slot, &signer_secret, &|b| {
            chain_a.preview_block(b).ok().map(|(_, root)| root)
        });
    let genesis = spec.genesis_block().header.hash();
    let mut to_a = Peer::start(Served::nothing(genesis)).unwrap();
    let mut to_b = Peer::start(Served::nothing(genesis)).unwrap();
    let (a_addr, a_id) = p2p_of(&a).await;
    let (b_addr, b_id) = p2p_of(&b).await;
    to_a.connect(a_addr, a_id, WAIT).await.unwrap();
    to_b.connect(b_addr, b_id, WAIT).await.unwrap();
    let sent = std::time::Instant::now();
    to_a.publish_block(&x).unwrap();
    to_b.publish_block(&y).unwrap();

    // Both blocks are kept (neither is refused as invalid).
    for block in [&x, &y] {
        wait_for("each double-signed block stored", || async {
            [&a, &b].iter().any(|p| {
                p.running()
                    .node()
                    .chain()
                    .entry(&block.header.hash())
                    .is_some()
            })
        })
        .await;
    }
    // Evidence on chain slashes 10 % of the bond, everywhere.
    for p in nodes {
        wait_for("the signer slashed", || async {
            staking_info(&p.c, &signer_address).await["bonded"] == 9 * COIN
        })
        .await;
    }
    eprintln!(
        "double signing to slashing on every node: {:?}",
        sent.elapsed()
    );
    let tip_state = a.running().node().chain().tip_state();
    assert_eq!(StakeRecords::is_jailed(&tip_state, &signer_key), Ok(true));
    // It leaves the producer set from the next snapshots on.
    wait_for("the signer out of the active set", || async {
        let v: Value = call(&a.c, "staking_getValidators", rpc_params![]).await;
        let active = v["active"].as_array().unwrap();
        active.len() == 2 && active.iter().all(|p| p["key"] != hex::encode(signer_key))
    })
    .await;
    // One chain, one UTXO set; nobody banned anybody.
    let h = height(&a.c).await;
    converge(&nodes, h + 1).await;
    assert_eq!(utxo_hash(&a.c).await, utxo_hash(&b.c).await);
    assert_eq!(utxo_hash(&a.c).await, utxo_hash(&e.c).await);
    for p in nodes {
        let peers: Vec<Value> = call(&p.c, "net_peers", rpc_params![]).await;
        for peer in &peers {
            assert!(peer["score"].as_i64().unwrap() >= 0, "{peer}");
        }
    }
    for (peer, node) in [(&mut to_a, a_id), (&mut to_b, b_id)] {
        assert!(
            peer.expect("no ban", Duration::from_millis(500), |ev| {
                matches!(ev, Event::Closed(p) if *p == node)
            })
            .await
            .is_err(),
            "a relayer of a double-signed block was disconnected"
        );
    }
    stop_all(vec![a, b, e]).await;
}
