use std::fs;

use i8o8i_script_vm::templates::{Template, classify};

use super::*;
use crate::{KdfParams, Wallet, WalletStore, WalletView};

const PASSWORD: &str = "correct horse battery staple";

fn store() -> (tempfile::TempDir, WalletStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = WalletStore::new(dir.path().join("wallets"));
    (dir, store)
}

fn hd(store: &WalletStore, name: &str) -> Wallet {
    store
        .create(name, PASSWORD, KdfParams::insecure_for_tests())
        .unwrap()
        .0
}

fn cosigner(wallet: &Wallet) -> Cosigner {
    Cosigner::parse(&wallet.account_xpub().to_xpub(), None).unwrap()
}

#[test]
fn an_imported_account_xpub_watches_the_addresses_its_wallet_hands_out() {
    let (_dir, store) = store();
    let mut alice = hd(&store, "alice");
    assert_eq!(alice.account_xpub().depth, 3);
    let policy = Policy::single(cosigner(&alice));
    let watch = store
        .import_watch_only("alice-watch", policy, 0, 0)
        .unwrap();
    assert_eq!(watch.next_index(Chain::Receive), 0);
    for _ in 0..3 {
        let key = alice.next_receive().unwrap();
        let seen = store
            .next_wallet_address("alice-watch", Chain::Receive)
            .unwrap();
        assert_eq!(seen.index(), key.index());
        assert_eq!(
            *seen.script_pubkey(),
            templates::p2pkh(&key.pubkey_hash()),
            "index {}",
            key.index()
        );
        assert_eq!(seen.redeem_script(), None);
        assert_eq!(seen.keys(), [key.address_key().origin()]);
    }
    let change = store
        .next_wallet_address("alice-watch", Chain::Change)
        .unwrap();
    assert_eq!(
        change.keys()[0].pubkey,
        alice.change_key(0).unwrap().public_key_bytes()
    );
    // The handed-out indexes are in the file: a fresh read sees them.
    let WalletView::WatchOnly(info) = store.view("alice-watch").unwrap() else {
        panic!("not watch-only");
    };
    assert_eq!(
        (
            info.next_index(Chain::Receive),
            info.next_index(Chain::Change)
        ),
        (3, 1)
    );
    let addresses = info.addresses().unwrap();
    assert_eq!(addresses.len(), 4);
    assert_eq!(
        addresses
            .iter()
            .map(|a| (a.chain(), a.index()))
            .collect::<Vec<_>>(),
        [
            (Chain::Receive, 0),
            (Chain::Receive, 1),
            (Chain::Receive, 2),
            (Chain::Change, 0)
        ]
    );
}

#[test]
fn multisig_addresses_sort_their_keys_so_every_cosigner_derives_the_same_script() {
    let (_dir, store) = store();
    let signers: Vec<Wallet> = ["a", "b", "c"].iter().map(|n| hd(&store, n)).collect();
    let cosigners: Vec<Cosigner> = signers.iter().map(cosigner).collect();
    let forward = Policy::multisig(2, cosigners.clone()).unwrap();
    let mut reversed = cosigners;
    reversed.reverse();
    let backward = Policy::multisig(2, reversed).unwrap();
    for (chain, index) in [(Chain::Receive, 0), (Chain::Receive, 7), (Chain::Change, 2)] {
        let address = forward.address(chain, index).unwrap();
        assert_eq!(address, backward.address(chain, index).unwrap());
        let redeem = address.redeem_script().unwrap();
        assert_eq!(*address.script_pubkey(), templates::p2sh_for(redeem));
        let Template::Multisig { required, pubkeys } = classify(redeem) else {
            panic!("not multisig: {redeem:?}");
        };
        assert_eq!(required, 2);
        let mut expected: Vec<[u8; 33]> = signers
            .iter()
            .map(|w| w.key(chain, index).unwrap().public_key_bytes())
            .collect();
        expected.sort();
        let in_script: Vec<&[u8]> = pubkeys.iter().map(|k| k.as_slice()).collect();
        let expected_refs: Vec<&[u8]> = expected.iter().map(|k| k.as_slice()).collect();
        assert_eq!(in_script, expected_refs);
        // Every key names its signer's full path, so each signer finds its own key.
        let path = DerivationPath::address(ACCOUNT, chain, index)
            .unwrap()
            .to_raw();
        assert!(address.keys().iter().all(|k| k.path == path));
        assert_eq!(
            address.keys().iter().map(|k| k.pubkey).collect::<Vec<_>>(),
            expected
        );
    }
}

#[test]
fn policies_out_of_range_are_refused_with_the_reason() {
    let (_dir, store) = store();
    let signers: Vec<Cosigner> = (0..16)
        .map(|i| cosigner(&hd(&store, &format!("s{i}"))))
        .collect();
    let reason = |threshold: usize, cosigners: &[Cosigner]| match Policy::multisig(
        threshold,
        cosigners.to_vec(),
    ) {
        Err(WalletError::InvalidPolicy { reason }) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason(1, &signers[..1]),
        "1 cosigners; a multisig wallet has 2 to 15"
    );
    assert_eq!(
        reason(8, &signers),
        "16 cosigners; a multisig wallet has 2 to 15"
    );
    assert_eq!(
        reason(0, &signers[..3]),
        "threshold 0 of 3; it must be 1 to 3"
    );
    assert_eq!(
        reason(4, &signers[..3]),
        "threshold 4 of 3; it must be 1 to 3"
    );
    let twice = [signers[0].clone(), signers[1].clone(), signers[0].clone()];
    assert_eq!(reason(2, &twice), "cosigners 0 and 2 are the same xpub");
    // 15 of 15 fits a P2SH redeem script.
    let widest = Policy::multisig(15, signers[..15].to_vec()).unwrap();
    let redeem = widest.address(Chain::Receive, 0).unwrap();
    assert!(redeem.redeem_script().unwrap().len() <= 520);

    // The path must fit the key: depth and last step.
    let xpub = signers[0].xpub().to_xpub();
    let mismatch = |path: &str| match Cosigner::parse(&xpub, Some(path)) {
        Err(WalletError::InvalidXpub { reason }) => reason,
        other => panic!("{path}: {other:?}"),
    };
    assert_eq!(
        mismatch("m/44'/8088'"),
        "the xpub is at depth 3 but its path m/44'/8088' has 2 levels"
    );
    assert_eq!(
        mismatch("m/44'/8088'/1'"),
        "the xpub is child 0' of its parent but its path m/44'/8088'/1' ends in 1'"
    );
    // Another account's path is accepted when it fits, and goes into the key origins.
    let other = Cosigner::parse(&xpub, Some("m/48'/8088'/0'")).unwrap();
    let address = Policy::single(other).address(Chain::Receive, 4).unwrap();
    assert_eq!(
        address.keys()[0].path,
        "m/48'/8088'/0'/0/4"
            .parse::<DerivationPath>()
            .unwrap()
            .to_raw()
    );
}

#[test]
fn watch_only_files_round_trip_refuse_to_sign_and_are_checked_when_read() {
    let (_dir, store) = store();
    let signers: Vec<Cosigner> = ["x", "y", "z"]
        .iter()
        .map(|n| cosigner(&hd(&store, n)))
        .collect();
    let policy = Policy::multisig(2, signers).unwrap();
    let imported = store
        .import_watch_only("vault", policy.clone(), 2, 1)
        .unwrap();
    assert_eq!(
        store.view("vault").unwrap(),
        WalletView::WatchOnly(imported.clone())
    );
    assert!(store.list().unwrap().contains(&"vault".to_owned()));
    // What takes keys is refused with the wallet's kind, not as a corrupt file.
    assert!(matches!(
        store.open("vault", PASSWORD),
        Err(WalletError::WatchOnly { name }) if name == "vault"
    ));
    assert!(matches!(
        store.info("vault"),
        Err(WalletError::WatchOnly { .. })
    ));
    assert!(matches!(
        store.next_receive_address("vault"),
        Err(WalletError::WatchOnly { .. })
    ));
    assert!(matches!(
        store.import_watch_only("vault", policy.clone(), 0, 0),
        Err(WalletError::WalletExists { name }) if name == "vault"
    ));
    assert!(matches!(
        store.import_watch_only("vault2", policy.clone(), crate::hd::HARDENED + 1, 0),
        Err(WalletError::IndexOutOfRange { .. })
    ));
    let next = store.next_wallet_address("vault", Chain::Receive).unwrap();
    assert_eq!(next, policy.address(Chain::Receive, 2).unwrap());

    // Damaged files are corrupt, and say how.
    let path = store.path_of("vault").unwrap();
    let original: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(original["kind"], "watch-only");
    assert_eq!(original["next_receive_index"], 3);
    let damaged = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value = original.clone();
        edit(&mut value);
        fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
        match store.view("vault") {
            Err(WalletError::Corrupt { reason, .. }) => reason,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        damaged(&|v| v["kind"] = "cold".into()),
        "unknown wallet kind Some(\"cold\")"
    );
    assert!(
        damaged(&|v| v["cosigners"][1]["xpub"] = "xpub123".into())
            .starts_with("cosigner 1: invalid xpub")
    );
    assert_eq!(
        damaged(&|v| v["threshold"] = 4.into()),
        "invalid signing policy: threshold 4 of 3; it must be 1 to 3"
    );
    assert_eq!(
        damaged(&|v| v["name"] = "other".into()),
        "file is for wallet \"other\", not \"vault\""
    );
    assert!(damaged(&|v| v["extra"] = 1.into()).contains("unknown field `extra`"));
}
