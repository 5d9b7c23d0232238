//! The end-to-end flows: mine, send, confirm, exact balances; double spends; a reorg
//! to a heavier branch; restart; the UTXO-set hash against a recomputation from scratch.

use std::collections::BTreeMap;

use i8o8i_chain::chain::ImportError;
use i8o8i_primitives::Coin;
use i8o8i_primitives::StoreError;
use i8o8i_primitives::address::Address;
use i8o8i_primitives::{Amount, Block, BlockHash, OutPoint, Transaction};
use i8o8i_runtime::state::{
    ChainTimeReader, ConnectContext, UtxoReader, UtxoSetHasher, connect_block, utxo_key,
};
use i8o8i_wallet::{Chain as KeyChain, WalletStore};
use jsonrpsee::rpc_params;
use serde_json::{Value, json};

use i8o8i_rpc::client::RpcClient;

use crate::common::{build_block, call, call_err, start};

const COIN: u64 = 100_000_000;
const PASSWORD: &str = "correct horse battery staple";

fn units(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an integer amount: {v}"))
}

/// Replays the best chain from genesis into an in-memory UTXO set and hashes it.
struct MemUtxos(BTreeMap<OutPoint, Coin>);
impl UtxoReader for MemUtxos {
    fn coin(&self, op: &OutPoint) -> Result<Option<Coin>, StoreError> {
        Ok(self.0.get(op).cloned())
    }
}
struct NoTimeLocks;
impl ChainTimeReader for NoTimeLocks {
    fn median_time_past_at(&self, _: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}

fn recomputed_utxo_hash(node: &i8o8i_node::node::Node) -> String {
    let chain = node.chain();
    let store = chain.store();
    let tip = chain.tip().header.height;
    let mut utxos = MemUtxos(BTreeMap::new());
    let genesis = store
        .block(&store.hash_at(0).unwrap().unwrap())
        .unwrap()
        .unwrap();
    let txid = genesis.transactions[0].txid();
    for (i, out) in genesis.transactions[0].outputs.iter().enumerate() {
        utxos.0.insert(
            OutPoint {
                txid,
                index: i as u32,
            },
            Coin {
                output: out.clone(),
                height: 0,
                coinbase: false,
            },
        );
    }
    for height in 1..=tip {
        let block: Block = store
            .block(&store.hash_at(height).unwrap().unwrap())
            .unwrap()
            .unwrap();
        let parent = store.block(&block.header.parent).unwrap().unwrap().header;
        let ctx = ConnectContext {
            spec: chain.spec(),
            chain_id: chain.chain_id(),
            median_time_past: chain.median_time_past(&parent.hash()).unwrap(),
            contracts: None,
            script_cache: None,
            assume_valid: false,
        };
        let changes =
            connect_block(&block, &ctx, &utxos, &NoTimeLocks, None).expect("best chain replays");
        for (op, _) in &changes.spent {
            utxos.0.remove(op);
        }
        utxos.0.extend(changes.created);
    }
    let mut ordered: Vec<_> = utxos.0.iter().map(|(op, c)| (utxo_key(op), c)).collect();
    ordered.sort_by_key(|a| a.0);
    let mut hasher = UtxoSetHasher::default();
    for (key, coin) in ordered {
        hasher.add(&key, coin);
    }
    hasher.finish().hash.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mine_send_confirm_with_exact_balances_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;

    let alice: Value = call(&c, "wallet_create", rpc_params!["alice", PASSWORD]).await;
    let bob: Value = call(&c, "wallet_create", rpc_params!["bob", PASSWORD]).await;
    let alice_addr = alice["address"].as_str().unwrap().to_owned();
    let bob_addr = bob["address"].as_str().unwrap().to_owned();
    assert_eq!(alice["mnemonic"].as_str().unwrap().split(' ').count(), 24);

    let hashes: Vec<BlockHash> =
        call(&c, "mining_generate", rpc_params![101, alice_addr.clone()]).await;
    assert_eq!(hashes.len(), 101);
    let info: Value = call(&c, "chain_getInfo", rpc_params![]).await;
    assert_eq!(info["height"], 101);
    assert_eq!(info["bestHash"].as_str().unwrap(), hashes[100].to_string());

    // Next block is 102: coinbases of heights 1 and 2 are mature (h + 100 <= 102).
    let bal: Value = call(&c, "wallet_getBalance", rpc_params!["alice"]).await;
    assert_eq!(units(&bal["confirmed"]), 2 * 50 * COIN);
    assert_eq!(units(&bal["immature"]), 99 * 50 * COIN);

    let txid: String = call(
        &c,
        "wallet_send",
        rpc_params!["alice", PASSWORD, bob_addr.clone(), 10 * COIN, 2],
    )
    .await;
    let pooled: Value = call(&c, "tx_get", rpc_params![txid.clone()]).await;
    assert_eq!(pooled["status"]["state"], "mempool");
    let fee = units(&pooled["status"]["fee"]);
    let size = pooled["transaction"]["size"].as_u64().unwrap();
    assert!(
        fee >= 2 * size,
        "fee {fee} pays at least 2 units per byte of {size}"
    );
    let mempool: Value = call(&c, "mempool_getInfo", rpc_params![]).await;
    assert_eq!(mempool["size"], 1);
    let bob_pending: Value = call(&c, "address_getBalance", rpc_params![bob_addr.clone()]).await;
    assert_eq!(units(&bob_pending["confirmed"]), 0);
    assert_eq!(
        bob_pending["unconfirmed"].as_i64().unwrap(),
        (10 * COIN) as i64
    );

    let bob_history: Value = call(&c, "address_getHistory", rpc_params![bob_addr.clone()]).await;
    assert_eq!(bob_history["confirmed"], json!([]));
    assert_eq!(bob_history["pending"].as_array().unwrap().len(), 1);
    assert_eq!(bob_history["pending"][0]["txid"], txid.as_str());
    assert_eq!(units(&bob_history["pending"][0]["received"]), 10 * COIN);
    assert_eq!(units(&bob_history["pending"][0]["sent"]), 0);

    // Confirm it with a block paying a third party, so alice's numbers only move by maturity.
    let carol = Address::p2pkh(node.node().chain().spec().network, [7; 20]).to_string();
    let hashes_after: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![1, carol]).await;
    let confirmed: Value = call(&c, "tx_get", rpc_params![txid.clone()]).await;
    assert_eq!(confirmed["status"]["state"], "confirmed");
    assert_eq!(confirmed["status"]["height"], 102);
    let mempool: Value = call(&c, "mempool_getInfo", rpc_params![]).await;
    assert_eq!(mempool["size"], 0);

    // The history index: bob's payment confirmed; alice's address paid 101 coinbases and
    // spent one of them (the change went to a change address), newest first, in pages.
    let bob_history: Value = call(&c, "address_getHistory", rpc_params![bob_addr.clone()]).await;
    assert_eq!(bob_history["pending"], json!([]));
    assert_eq!(
        bob_history["confirmed"],
        json!([{
            "txid": txid,
            "blockHash": hashes_after[0].to_string(),
            "height": 102,
            "position": 1,
            "confirmations": 1,
            "received": 10 * COIN,
            "sent": 0,
        }])
    );
    assert_eq!(bob_history["indexedFrom"], 0);
    let page: Value = call(
        &c,
        "address_getHistory",
        rpc_params![alice_addr.clone(), Value::Null, 2],
    )
    .await;
    let page = page["confirmed"].as_array().unwrap().clone();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["txid"], txid.as_str());
    assert_eq!(
        (units(&page[0]["received"]), units(&page[0]["sent"])),
        (0, 50 * COIN)
    );
    assert_eq!(page[1]["height"], 101);
    assert_eq!(units(&page[1]["received"]), 50 * COIN);
    let next: Value = call(
        &c,
        "address_getHistory",
        rpc_params![alice_addr.clone(), page[1]["txid"].clone(), 1000],
    )
    .await;
    let heights: Vec<u64> = next["confirmed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["height"].as_u64().unwrap())
        .collect();
    assert_eq!(heights, (1..=100).rev().collect::<Vec<_>>());
    assert_eq!(
        next["pending"],
        json!([]),
        "only the first page has the pool's"
    );
    let (code, msg) = call_err(
        &c,
        "address_getHistory",
        rpc_params![alice_addr.clone(), Value::Null, 0],
    )
    .await;
    assert_eq!(
        (code, msg.as_str()),
        (-32602, "invalid parameter `limit`: must be 1..=1000")
    );
    let (code, msg) = call_err(
        &c,
        "address_getHistory",
        rpc_params![alice_addr.clone(), hashes[0].to_string()],
    )
    .await;
    assert_eq!(code, -32602, "a block hash is not a transaction: {msg}");

    let bob_bal: Value = call(&c, "wallet_getBalance", rpc_params!["bob"]).await;
    assert_eq!(units(&bob_bal["confirmed"]), 10 * COIN);
    // Next block 103: heights 1..=3 mature. Alice spent one 50-coin coinbase: 10 to bob, the
    // fee to the miner, the rest back as change.
    let alice_bal: Value = call(&c, "wallet_getBalance", rpc_params!["alice"]).await;
    assert_eq!(
        units(&alice_bal["confirmed"]),
        3 * 50 * COIN - 10 * COIN - fee
    );
    assert_eq!(units(&alice_bal["immature"]), 98 * 50 * COIN);
    // The miner of block 102 got subsidy plus exactly that fee.
    let block: Value = call(&c, "chain_getBlock", rpc_params![102]).await;
    assert_eq!(
        units(&block["transactions"][0]["outputs"][0]["value"]),
        50 * COIN + fee
    );

    let utxo_info: Value = call(&c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
    assert_eq!(
        utxo_info["hash"].as_str().unwrap(),
        recomputed_utxo_hash(node.node())
    );
    // 102 coinbases, one of them spent, plus bob's output and alice's change.
    assert_eq!(utxo_info["count"], 103);
    // The counters kept with each block say the same without the scan.
    let summary: Value = call(&c, "chain_getUtxoSetInfo", rpc_params![]).await;
    assert_eq!(summary["count"], 103);
    assert_eq!(summary["totalAmount"], utxo_info["totalAmount"]);
    assert_eq!(
        units(&summary["totalAmount"]),
        102 * 50 * COIN,
        "every subsidy (the fee went to a miner)"
    );
    assert_eq!(summary["hash"], Value::Null);
    assert_eq!(summary["stateRoot"], utxo_info["stateRoot"]);
    let (code, _) = call_err(&c, "chain_getUtxoSetInfo", rpc_params!["muhash"]).await;
    assert_eq!(code, -32602);

    // Restart: same tip, same wallets, same balances.
    let tip_before: Value = call(&c, "chain_getInfo", rpc_params![]).await;
    node.stop().await;
    let (node, c) = start(dir.path()).await;
    let tip_after: Value = call(&c, "chain_getInfo", rpc_params![]).await;
    assert_eq!(tip_after["bestHash"], tip_before["bestHash"]);
    let wallets: Vec<String> = call(&c, "wallet_list", rpc_params![]).await;
    assert_eq!(wallets, vec!["alice".to_owned(), "bob".to_owned()]);
    let bob_bal: Value = call(&c, "wallet_getBalance", rpc_params!["bob"]).await;
    assert_eq!(units(&bob_bal["confirmed"]), 10 * COIN);
    let utxo_again: Value = call(&c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
    assert_eq!(utxo_again["hash"], utxo_info["hash"]);

    // A wrong password is refused with its code, and the node keeps serving.
    let (code, msg) = call_err(
        &c,
        "wallet_send",
        rpc_params!["alice", "wrong", bob_addr, COIN],
    )
    .await;
    assert_eq!((code, msg.as_str()), (-32022, "wrong wallet password"));
    let (code, msg) = call_err(
        &c,
        "wallet_send",
        rpc_params![
            "alice",
            PASSWORD,
            bob_bal["addresses"][0].clone(),
            1_000_000 * COIN
        ],
    )
    .await;
    assert_eq!(code, -32023, "{msg}");
    node.stop().await;
}

/// Signs a spend of `coin` (an output of wallet `name`'s first receive key) paying `to`.
fn spend(
    dir: &std::path::Path,
    name: &str,
    chain_id: &i8o8i_primitives::Hash256,
    coin: (OutPoint, u64),
    to: &Address,
    fee: u64,
) -> Transaction {
    let wallet = WalletStore::new(dir.join("wallets"))
        .open(name, PASSWORD)
        .unwrap();
    let key = wallet.key(KeyChain::Receive, 0).unwrap();
    i8o8i_primitives::test_utils::p2pkh_spend(
        coin.0,
        Amount::from_units(coin.1),
        key.secret_key(),
        to.script_pubkey(),
        Amount::from_units(fee),
        chain_id,
    )
}

/// Creates wallet `alice` and mines `blocks` blocks paying her first address.
async fn alice_with_coinbases(c: &RpcClient, blocks: u32) -> Address {
    let alice: Value = call(c, "wallet_create", rpc_params!["alice", PASSWORD]).await;
    let address: Address = alice["address"].as_str().unwrap().parse().unwrap();
    let _: Vec<BlockHash> = call(
        c,
        "mining_generate",
        rpc_params![blocks, address.to_string()],
    )
    .await;
    address
}

fn raw(tx: &Transaction) -> String {
    hex::encode(parity_scale_codec::Encode::encode(tx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_spends_are_refused_by_mempool_and_blocks_and_reorgs_restore_state() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    let chain_id = node.node().chain().chain_id();
    let alice_addr = alice_with_coinbases(&c, 101).await;
    let x = Address::p2pkh(network, [1; 20]);
    let y = Address::p2pkh(network, [2; 20]);

    let utxos: Vec<Value> = call(&c, "address_getUtxos", rpc_params![alice_addr.to_string()]).await;
    assert_eq!(utxos.len(), 101);
    // Pages of 40 after the last outpoint seen give the same 101 coins in the same order.
    let mut paged: Vec<Value> = Vec::new();
    loop {
        let after = paged
            .last()
            .map(|u| format!("{}:{}", u["txid"].as_str().unwrap(), u["index"]));
        let page: Vec<Value> = call(
            &c,
            "address_getUtxos",
            rpc_params![alice_addr.to_string(), after, 40],
        )
        .await;
        let done = page.len() < 40;
        paged.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(paged, utxos);
    // At height 101 the next block (102) may spend the coinbases of heights 1 and 2: a
    // coinbase is spendable 100 blocks after its own (dev's coinbase maturity, Bitcoin's rule).
    // (The coins come in outpoint order, which is random here: sorted by height.)
    let mut mature: Vec<u64> = utxos
        .iter()
        .filter(|u| u["mature"] == true)
        .map(|u| u["height"].as_u64().unwrap())
        .collect();
    mature.sort_unstable();
    assert_eq!(mature, vec![1, 2]);
    let (code, msg) = call_err(
        &c,
        "address_getUtxos",
        rpc_params![alice_addr.to_string(), Option::<String>::None, 1_001],
    )
    .await;
    assert_eq!((code, msg.contains("1..=1000")), (-32602, true), "{msg}");
    let first = utxos.iter().find(|u| u["height"] == 1).unwrap();
    let coin = (
        OutPoint {
            txid: first["txid"].as_str().unwrap().parse().unwrap(),
            index: 0,
        },
        50 * COIN,
    );

    // Mempool: the first spend stays; a second pays a better rate but not enough to replace
    // it (its fee plus relay of the second's own bytes).
    let tx1 = spend(dir.path(), "alice", &chain_id, coin, &x, 1_000);
    let tx2 = spend(dir.path(), "alice", &chain_id, coin, &y, 1_100);
    let txid1: String = call(&c, "tx_submit", rpc_params![raw(&tx1)]).await;
    assert_eq!(txid1, tx1.txid().to_string());
    let (code, msg) = call_err(&c, "tx_submit", rpc_params![raw(&tx2)]).await;
    assert_eq!(code, -32010);
    assert!(
        msg.contains("replacing 1 pooled transaction(s) that pay 1000 needs a fee of at least"),
        "{msg}"
    );
    let (code, _) = call_err(&c, "tx_submit", rpc_params![raw(&tx1)]).await;
    assert_eq!(code, -32011, "resubmission is 'already known'");

    // A block spending the coin twice is refused, and the tip does not move.
    let tip = node.node().chain().tip();
    let bad = build_block(
        &node,
        &tip.header,
        vec![tx1.clone(), tx2.clone()],
        &x.script_pubkey(),
        50 * COIN,
        1,
    );
    let bad_hash = bad.header.hash();
    match node.node().submit_block(bad) {
        Ok(outcome) => assert!(
            outcome.invalid.iter().any(|(h, _)| *h == bad_hash),
            "{outcome:?}"
        ),
        Err(e) => panic!("unexpected {e}"),
    }
    assert_eq!(node.node().chain().tip().hash, tip.hash);
    assert!(
        node.node()
            .submit_block(build_block(
                &node,
                &tip.header,
                vec![],
                &x.script_pubkey(),
                1,
                9
            ))
            .is_ok()
    );

    // Chain A: the current tip (102) confirms tx1 in 103. Branch B forks at 101, spends the
    // same coin with tx2, and is longer.
    let tip = node.node().chain().tip();
    let a103 = build_block(
        &node,
        &tip.header,
        vec![tx1.clone()],
        &x.script_pubkey(),
        50 * COIN + 1_000,
        2,
    );
    node.node().submit_block(a103).unwrap();
    assert_eq!(node.node().mempool().info().count, 0);
    let fork_parent = node
        .node()
        .chain()
        .store()
        .block(&node.node().chain().store().hash_at(101).unwrap().unwrap())
        .unwrap()
        .unwrap()
        .header;
    let mut parent = fork_parent.clone();
    // Each block stored before its child is built: a child's state root is computed on its
    // stored parent.
    let mut last = None;
    for i in 0..3u64 {
        let txs = if i == 0 { vec![tx2.clone()] } else { vec![] };
        let fee = if i == 0 { 1_100 } else { 0 };
        let b = build_block(
            &node,
            &parent,
            txs,
            &y.script_pubkey(),
            50 * COIN + fee,
            100 + i,
        );
        parent = b.header.clone();
        last = Some(node.node().submit_block(b).unwrap());
    }
    let outcome = last.unwrap();
    assert_eq!(
        node.node().chain().tip().hash,
        parent.hash(),
        "heavier branch B is the tip"
    );
    assert_eq!(node.node().chain().tip().header.height, 104);
    assert!(
        outcome.disconnected.len() == 2 && outcome.connected.len() == 3,
        "{} / {}",
        outcome.disconnected.len(),
        outcome.connected.len()
    );

    // tx1 conflicts with B's tx2: it must not come back to the pool. X's coins from A are gone.
    assert_eq!(node.node().mempool().info().count, 0);
    let x_bal: Value = call(&c, "address_getBalance", rpc_params![x.to_string()]).await;
    assert_eq!(units(&x_bal["confirmed"]), 0);
    let y_bal: Value = call(&c, "address_getBalance", rpc_params![y.to_string()]).await;
    assert_eq!(
        units(&y_bal["confirmed"]),
        3 * 50 * COIN + 1_100 + (50 * COIN - 1_100)
    );
    let tx1_status = call_err(&c, "tx_get", rpc_params![tx1.txid().to_string()]).await;
    assert_eq!(tx1_status.0, -32001);
    let utxo_info: Value = call(&c, "chain_getUtxoSetInfo", rpc_params!["serialized"]).await;
    assert_eq!(
        utxo_info["hash"].as_str().unwrap(),
        recomputed_utxo_hash(node.node())
    );
    // The state tree kept across the reorganisation is the tree of the state as it now is.
    let (_, committed, recomputed) = node.node().chain().store().recompute_state_root().unwrap();
    assert_eq!(committed, recomputed);
    assert_eq!(utxo_info["stateRoot"], committed.to_string());
    // The counters were undone and redone with the blocks.
    let summary: Value = call(&c, "chain_getUtxoSetInfo", rpc_params![]).await;
    assert_eq!(
        (&summary["count"], &summary["totalAmount"]),
        (&utxo_info["count"], &utxo_info["totalAmount"])
    );

    // A transaction of a disconnected block that does not conflict returns to the pool.
    let second = utxos.iter().find(|u| u["height"] == 2).unwrap();
    let coin2 = (
        OutPoint {
            txid: second["txid"].as_str().unwrap().parse().unwrap(),
            index: 0,
        },
        50 * COIN,
    );
    let tx3 = spend(dir.path(), "alice", &chain_id, coin2, &x, 500);
    let tip = node.node().chain().tip();
    let c105 = build_block(
        &node,
        &tip.header,
        vec![tx3.clone()],
        &y.script_pubkey(),
        50 * COIN + 500,
        200,
    );
    node.node().submit_block(c105).unwrap();
    let mut parent = tip.header.clone();
    for i in 0..2 {
        let b = build_block(
            &node,
            &parent,
            vec![],
            &x.script_pubkey(),
            50 * COIN,
            300 + i,
        );
        parent = b.header.clone();
        node.node().submit_block(b).unwrap();
    }
    assert_eq!(node.node().chain().tip().hash, parent.hash());
    let back: Value = call(&c, "tx_get", rpc_params![tx3.txid().to_string()]).await;
    assert_eq!(
        back["status"]["state"], "mempool",
        "tx3 returned to the pool after its block was disconnected"
    );

    // Unknown parents are refused with a typed error.
    let mut orphan = build_block(&node, &parent, vec![], &x.script_pubkey(), 1, 400);
    orphan.header.parent = BlockHash::from_byte_array([9; 32]);
    assert!(matches!(
        node.node().submit_block(orphan),
        Err(ImportError::UnknownParent { .. }) | Err(ImportError::Invalid { .. })
    ));
    node.stop().await;
}

/// `tx_submitBatch` takes transactions in order, one result each: a child right after its
/// parent, a double spend, a forged signature, junk and a repeat get exactly the codes
/// `tx_submit` gives, and what was accepted confirms with exact balances, in a block
/// `chain_getRawBlock` returns encoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_transactions_gets_one_result_each_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (node, c) = start(dir.path()).await;
    let network = node.node().chain().spec().network;
    let chain_id = node.node().chain().chain_id();
    let alice_addr = alice_with_coinbases(&c, 103).await;
    let x = Address::p2pkh(network, [1; 20]);
    let y = Address::p2pkh(network, [2; 20]);
    let coinbase = |height: u64| {
        let store = node.node().chain().store();
        let hash = store.hash_at(height).unwrap().unwrap();
        let block = store.block(&hash).unwrap().unwrap();
        (
            OutPoint {
                txid: block.transactions[0].txid(),
                index: 0,
            },
            50 * COIN,
        )
    };

    let parent = spend(
        dir.path(),
        "alice",
        &chain_id,
        coinbase(1),
        &alice_addr,
        1_000,
    );
    let child_coin = (
        OutPoint {
            txid: parent.txid(),
            index: 0,
        },
        50 * COIN - 1_000,
    );
    let child = spend(dir.path(), "alice", &chain_id, child_coin, &x, 1_000);
    let pay = spend(dir.path(), "alice", &chain_id, coinbase(2), &x, 1_000);
    let double = spend(dir.path(), "alice", &chain_id, coinbase(2), &y, 1_100);
    let forged = i8o8i_primitives::test_utils::p2pkh_spend(
        coinbase(3).0,
        Amount::from_units(coinbase(3).1),
        &i8o8i_primitives::test_utils::secret_key(9),
        x.script_pubkey(),
        Amount::from_units(1_000),
        &chain_id,
    );
    let batch = vec![
        raw(&parent),
        raw(&child),
        raw(&pay),
        raw(&double),
        raw(&forged),
        "zz".to_owned(),
        raw(&parent),
    ];
    let results: Vec<Value> = call(&c, "tx_submitBatch", rpc_params![batch]).await;
    let summary: Vec<(Option<String>, Option<i64>)> = results
        .iter()
        .map(|r| {
            (
                r["txid"].as_str().map(str::to_owned),
                r["error"]["code"].as_i64(),
            )
        })
        .collect();
    let id = |tx: &Transaction| Some(tx.txid().to_string());
    assert_eq!(
        summary,
        vec![
            (id(&parent), None),
            (id(&child), None),
            (id(&pay), None),
            (id(&double), Some(-32010)),
            (id(&forged), Some(-32010)),
            (None, Some(-32602)),
            (id(&parent), Some(-32011)),
        ],
        "{results:?}"
    );
    let message = |i: usize| results[i]["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message(3).contains("replacing 1 pooled transaction(s)"),
        "{}",
        message(3)
    );
    assert!(
        message(4).starts_with("transaction rejected: "),
        "{}",
        message(4)
    );
    assert!(message(5).contains("rawHexes"), "{}", message(5));
    assert_eq!(node.node().mempool().info().count, 3);

    // The three confirm: x holds exactly the child's and the payment's outputs.
    let _: Vec<BlockHash> = call(&c, "mining_generate", rpc_params![1, y.to_string()]).await;
    assert_eq!(node.node().mempool().info().count, 0);
    let x_bal: Value = call(&c, "address_getBalance", rpc_params![x.to_string()]).await;
    assert_eq!(units(&x_bal["confirmed"]), 2 * 50 * COIN - 3_000);

    // The block read raw, by height and by hash: the coinbase and the three, the child after
    // its parent.
    let tip = node.node().chain().tip();
    let raw_block: String = call(&c, "chain_getRawBlock", rpc_params![tip.header.height]).await;
    let block: Block =
        parity_scale_codec::Decode::decode(&mut &hex::decode(&raw_block).unwrap()[..]).unwrap();
    assert_eq!(block.header.hash(), tip.hash);
    let txids: Vec<_> = block.transactions[1..]
        .iter()
        .map(Transaction::txid)
        .collect();
    let position = |tx: &Transaction| txids.iter().position(|t| *t == tx.txid());
    assert_eq!(txids.len(), 3);
    assert!(position(&pay).is_some());
    assert!(position(&parent) < position(&child), "{txids:?}");
    let by_hash: String = call(&c, "chain_getRawBlock", rpc_params![tip.hash.to_string()]).await;
    assert_eq!(by_hash, raw_block);
    let (code, msg) = call_err(&c, "chain_getRawBlock", rpc_params![tip.header.height + 1]).await;
    assert_eq!(code, -32001, "{msg}");

    // An empty batch, and one over the limit, are refused whole.
    for size in [0, 1_001] {
        let (code, msg) = call_err(&c, "tx_submitBatch", rpc_params![vec![raw(&pay); size]]).await;
        assert_eq!(code, -32602, "{msg}");
        assert!(msg.contains("1 to 1000 per call"), "{msg}");
    }
    node.stop().await;
}

/// A batch of 2,000 local transactions reaches the network's announcement feed whole. Each
/// used to be its own event, and the feed (1,024 deep, filled faster than the network drains
/// it under load) dropped the rest: those transactions stayed in this node's pool, never
/// relayed, and only this node could mine them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_is_announced_to_the_network_whole() {
    use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, p2pkh_split, secret_key};
    const PAYMENTS: usize = 2_000;

    let dir = tempfile::tempdir().unwrap();
    let (running, _c) = start(dir.path()).await;
    let node = running.node().clone();
    let chain_id = node.chain().chain_id();
    let owner = secret_key(7);
    let script = p2pkh_script(&owner);
    let coinbase = &mature_coinbase(&node, &script);
    let value = coinbase.outputs[0].value.to_units();
    let fan_out = p2pkh_split(
        OutPoint {
            txid: coinbase.txid(),
            index: 0,
        },
        Amount::from_units(value),
        &owner,
        script.clone(),
        PAYMENTS,
        Amount::from_units(1_000_000),
        &chain_id,
    );
    let each = fan_out.outputs[0].value.to_units();
    let fan_out_id = node.submit_transaction(fan_out).unwrap();
    node.generate(1, &script, 1).unwrap();
    let payments: Vec<Transaction> = (0..PAYMENTS as u32)
        .map(|index| {
            p2pkh_spend(
                OutPoint {
                    txid: fan_out_id,
                    index,
                },
                Amount::from_units(each),
                &owner,
                script.clone(),
                Amount::from_units(1_000),
                &chain_id,
            )
        })
        .collect();
    let expected: Vec<_> = payments.iter().map(Transaction::txid).collect();

    let mut feed = i8o8i_node::services::announcements(&node);
    let submitter = node.clone();
    let results = tokio::task::spawn_blocking(move || {
        submitter.submit_batch(payments, i8o8i_node::node::Origin::Local)
    })
    .await
    .unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(node.mempool().info().count, PAYMENTS);
    // Nobody drained the feed meanwhile, as when the network is busy.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut announced = Vec::new();
    while let Ok(Some(announcement)) =
        tokio::time::timeout(std::time::Duration::from_secs(2), feed.recv()).await
    {
        if let i8o8i_network::chain_access::Announcement::Transactions(txs) = announcement {
            announced.extend(txs.iter().map(|tx| tx.txid()));
        }
    }
    assert_eq!(announced.len(), PAYMENTS);
    assert_eq!(announced, expected);
    running.stop().await;
}

/// Submissions take turns, one per core, for their admission work: a flood of
/// `tx_submitBatch` calls waits on no thread instead of crowding the miner off the cores.
/// (Unbounded, 64 calls in flight past what the node could verify made a 1-second chain
/// produce a block every 20-30 s: `docs/throughput.md`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_wait_for_an_admission_turn() {
    use i8o8i_primitives::test_utils::{p2pkh_script, p2pkh_spend, secret_key};
    let dir = tempfile::tempdir().unwrap();
    let (running, c) = start(dir.path()).await;
    let node = running.node().clone();
    let owner = secret_key(7);
    let script = p2pkh_script(&owner);
    let coinbase = &mature_coinbase(&node, &script);
    let pay = p2pkh_spend(
        OutPoint {
            txid: coinbase.txid(),
            index: 0,
        },
        coinbase.outputs[0].value,
        &owner,
        script.clone(),
        Amount::from_units(1_000),
        &node.chain().chain_id(),
    );

    // One turn per core, as the node counts them.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut turns = Vec::new();
    for _ in 0..cores {
        turns.push(node.admission_turn().await.expect("a turn"));
    }
    let client = c.clone();
    let batch = vec![raw(&pay)];
    let mut submitted = tokio::spawn(async move {
        call::<Vec<Value>>(&client, "tx_submitBatch", rpc_params![batch]).await
    });
    // Every turn is taken: the call cannot finish, however long it is given.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(500), &mut submitted)
            .await
            .is_err()
    );
    assert_eq!(node.mempool().info().count, 0);
    drop(turns);
    let results = submitted.await.unwrap();
    assert_eq!(results[0]["txid"], json!(pay.txid().to_string()));
    assert_eq!(node.mempool().info().count, 1);
    running.stop().await;
}

/// Mines 101 blocks paying `script` and returns the first one's coinbase, spendable now.
fn mature_coinbase(
    node: &i8o8i_node::node::Node,
    script: &i8o8i_script_vm::ScriptBuf,
) -> Transaction {
    node.generate(101, script, 1).unwrap();
    let store = node.chain().store();
    let first = store
        .block(&store.hash_at(1).unwrap().unwrap())
        .unwrap()
        .unwrap();
    first.transactions[0].clone()
}
