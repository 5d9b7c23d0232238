//! Addresses handed out without the password while a wallet is open, concurrent writers,
//! and public material in the file that does not match the seed.

use super::*;

/// The public key at `index` on `chain` by private derivation from the mnemonic, independently of
/// the wallet's code.
fn expected_key(mnemonic: &Mnemonic, chain: Chain, index: u32) -> [u8; 33] {
    let master = ExtendedPrivKey::new_master(mnemonic.to_seed("").as_bytes()).unwrap();
    let path = DerivationPath::address(ACCOUNT, chain, index).unwrap();
    master.derive_path(&path).unwrap().public_key().serialize()
}

#[test]
fn locked_addresses_are_the_keys_the_unlocked_wallet_derives() {
    let (_dir, store) = store();
    let (created, mnemonic) = store.create("alice", PASSWORD, kdf()).unwrap();
    drop(created);
    let mut handed_out = Vec::new();
    for _ in 0..2 {
        let mut wallet = store.open("alice", PASSWORD).unwrap();
        handed_out.push(wallet.next_receive().unwrap().address_key());
        handed_out.push(wallet.next_change().unwrap().address_key());
        drop(wallet);
        handed_out.push(store.next_receive_address("alice").unwrap());
        handed_out.push(store.next_change_address("alice").unwrap());
    }
    let reopened = store.open("alice", PASSWORD).unwrap();
    assert_eq!(
        (reopened.next_receive_index(), reopened.next_change_index()),
        (4, 4)
    );
    let receive: Vec<_> = handed_out
        .iter()
        .filter(|k| k.chain() == Chain::Receive)
        .collect();
    let change: Vec<_> = handed_out
        .iter()
        .filter(|k| k.chain() == Chain::Change)
        .collect();
    for (chain, keys) in [(Chain::Receive, receive), (Chain::Change, change)] {
        assert_eq!(keys.len(), 4);
        for (index, key) in (0u32..).zip(keys) {
            assert_eq!(key.index(), index);
            assert_eq!(key.public_key(), expected_key(&mnemonic, chain, index));
            assert_eq!(
                key.public_key(),
                reopened.key(chain, index).unwrap().public_key_bytes()
            );
        }
    }
    // The locked view lists them, receive keys first.
    let info = store.info("alice").unwrap();
    let mut by_chain = handed_out.clone();
    by_chain.sort_by_key(|k| (k.chain(), k.index()));
    assert_eq!(info.keys(), by_chain.as_slice());
    assert_eq!(info.keys()[5].path().to_string(), "m/44'/8088'/0'/1/1");
}

#[test]
fn an_open_wallet_continues_after_addresses_handed_out_while_it_was_open() {
    let (_dir, store) = store();
    let (mut wallet, mnemonic) = store.create("alice", PASSWORD, kdf()).unwrap();
    assert_eq!(wallet.next_receive().unwrap().index(), 0);
    assert_eq!(store.next_receive_address("alice").unwrap().index(), 1);
    assert_eq!(store.next_receive_address("alice").unwrap().index(), 2);
    assert_eq!(store.next_change_address("alice").unwrap().index(), 0);
    // The wallet has not seen them yet...
    assert_eq!(wallet.next_receive_index(), 1);
    // ...but takes them into account before handing out more, on either chain.
    let change = wallet.next_change().unwrap();
    assert_eq!(change.index(), 1);
    assert_eq!(wallet.next_receive_index(), 3);
    assert_eq!(wallet.next_receive().unwrap().index(), 3);
    wallet.advance_to(Chain::Change, 2).unwrap();
    assert_eq!(store.next_change_address("alice").unwrap().index(), 2);
    wallet.advance_to(Chain::Change, 2).unwrap();
    assert_eq!(wallet.next_change_index(), 3);

    let info = store.info("alice").unwrap();
    assert_eq!(info, wallet.info());
    assert_eq!(
        (info.next_receive_index(), info.next_change_index()),
        (4, 3)
    );
    for key in info.keys() {
        assert_eq!(
            key.public_key(),
            expected_key(&mnemonic, key.chain(), key.index())
        );
    }
    store.open("alice", PASSWORD).unwrap();
}

#[test]
fn concurrent_locked_and_unlocked_writers_lose_no_address() {
    let (_dir, store) = store();
    let (mut wallet, mnemonic) = store.create("alice", PASSWORD, kdf()).unwrap();
    const EACH: usize = 10;
    let (unlocked, locked) = std::thread::scope(|scope| {
        let unlocked = scope.spawn(|| {
            (0..EACH)
                .map(|_| wallet.next_receive().unwrap().address_key())
                .collect::<Vec<_>>()
        });
        let locked: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    (0..EACH)
                        .map(|_| store.next_receive_address("alice").unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        (
            unlocked.join().unwrap(),
            locked
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect::<Vec<_>>(),
        )
    });
    let mut all: Vec<AddressKey> = unlocked.into_iter().chain(locked).collect();
    all.sort_by_key(AddressKey::index);
    let indexes: Vec<u32> = all.iter().map(AddressKey::index).collect();
    assert_eq!(indexes, (0..3 * EACH as u32).collect::<Vec<_>>());
    for key in &all {
        assert_eq!(
            key.public_key(),
            expected_key(&mnemonic, Chain::Receive, key.index())
        );
    }
    assert_eq!(store.info("alice").unwrap().keys(), all.as_slice());
    assert_eq!(
        store.open("alice", PASSWORD).unwrap().next_receive_index(),
        3 * EACH as u32
    );
}

#[test]
fn a_swapped_extended_public_key_is_caught_on_open() {
    let (_dir, store) = store();
    let (alice, _) = store.create("alice", PASSWORD, kdf()).unwrap();
    let (mallory, _) = store.create("mallory", PASSWORD, kdf()).unwrap();
    let path = alice.path().to_owned();
    let original = json(&path);
    let foreign = json(mallory.path());
    type Edit<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;
    let edits: [(&str, Edit<'_>); 4] = [
        (
            "receive xpub",
            Box::new(|v| v["receive_xpub"] = foreign["receive_xpub"].clone()),
        ),
        (
            "change chain code",
            Box::new(|v| {
                v["change_xpub"]["chain_code"] = foreign["change_xpub"]["chain_code"].clone()
            }),
        ),
        (
            "receive public key",
            Box::new(|v| {
                v["receive_xpub"]["public_key"] = foreign["receive_xpub"]["public_key"].clone()
            }),
        ),
        (
            "chains exchanged",
            Box::new(|v| {
                let receive = v["receive_xpub"].clone();
                v["receive_xpub"] = v["change_xpub"].clone();
                v["change_xpub"] = receive;
            }),
        ),
    ];
    for (what, edit) in edits {
        let mut v = original.clone();
        edit(&mut v);
        write_json(&path, &v);
        // Locked readers cannot tell: the file is public data in clear...
        store.info("alice").unwrap();
        store.next_receive_address("alice").unwrap();
        // ...but unlocking re-derives the extended public keys.
        let err = store.open("alice", PASSWORD).unwrap_err();
        match err {
            WalletError::Corrupt { reason, .. } => {
                assert!(reason.contains("extended public key"), "{what}: {reason}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    write_json(&path, &original);
    store.open("alice", PASSWORD).unwrap();
}

#[test]
fn an_open_wallet_refuses_foreign_keys_recorded_in_its_file() {
    let (_dir, store) = store();
    let (mut alice, _) = store.create("alice", PASSWORD, kdf()).unwrap();
    let (mallory, _) = store.create("mallory", PASSWORD, kdf()).unwrap();
    alice.next_receive().unwrap();
    let path = alice.path().to_owned();
    let original = json(&path);

    // A key appended to the file behind the open wallet's back, not derived from its seed.
    let mut v = original.clone();
    v["next_receive_index"] = 2.into();
    v["receive_pubkeys"]
        .as_array_mut()
        .unwrap()
        .push(hex::encode(mallory.receive_key(1).unwrap().public_key_bytes()).into());
    write_json(&path, &v);
    let err = alice.next_receive().unwrap_err();
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");
    assert_eq!(alice.next_receive_index(), 1);

    // A key the wallet already handed out, replaced.
    let mut v = original.clone();
    v["receive_pubkeys"][0] =
        hex::encode(mallory.receive_key(0).unwrap().public_key_bytes()).into();
    write_json(&path, &v);
    let err = alice.next_change().unwrap_err();
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");

    // Another wallet's file put in its place.
    fs::copy(mallory.path(), &path).unwrap();
    let mut v = json(&path);
    v["name"] = "alice".into();
    write_json(&path, &v);
    let err = alice.advance_to(Chain::Receive, 5).unwrap_err();
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");

    // The original file back: the wallet carries on.
    write_json(&path, &original);
    assert_eq!(alice.next_receive().unwrap().index(), 1);
}

#[test]
fn an_open_wallet_restores_keys_a_stale_writer_dropped() {
    let (_dir, store) = store();
    let (mut wallet, _) = store.create("alice", PASSWORD, kdf()).unwrap();
    let stale = fs::read(wallet.path()).unwrap();
    wallet.next_receive().unwrap();
    wallet.next_receive().unwrap();
    // Something wrote an older state of the file: the wallet still knows indexes 0 and 1.
    fs::write(wallet.path(), &stale).unwrap();
    assert_eq!(wallet.next_receive().unwrap().index(), 2);
    assert_eq!(store.info("alice").unwrap().next_receive_index(), 3);
    assert_eq!(store.next_receive_address("alice").unwrap().index(), 3);
}

#[test]
fn a_failed_locked_write_hands_out_no_address() {
    let (_dir, store) = store();
    let (wallet, _) = store.create("alice", PASSWORD, kdf()).unwrap();
    let before = fs::read(wallet.path()).unwrap();
    crate::keystore::tests::FAIL_NEXT_WRITE.with(|f| f.set(true));
    let err = store.next_receive_address("alice").unwrap_err();
    assert!(matches!(err, WalletError::Io { .. }), "{err:?}");
    assert_eq!(fs::read(wallet.path()).unwrap(), before);
    assert_eq!(store.next_receive_address("alice").unwrap().index(), 0);
}

#[test]
fn a_version_1_file_is_refused_with_its_version() {
    let (_dir, store) = store();
    let (wallet, _) = store.create("alice", PASSWORD, kdf()).unwrap();
    let mut v = json(wallet.path());
    v["version"] = 1.into();
    let object = v.as_object_mut().unwrap();
    object.remove("receive_xpub");
    object.remove("change_xpub");
    write_json(wallet.path(), &v);
    for err in [
        store.open("alice", PASSWORD).unwrap_err(),
        store.info("alice").unwrap_err(),
        store.next_receive_address("alice").unwrap_err(),
    ] {
        assert!(
            err.to_string()
                .ends_with("is corrupt: unsupported wallet file version 1"),
            "{err}"
        );
    }
}

/// Two creators racing on one name: exactly one wins, and the file it leaves holds the seed of
/// the mnemonic the winner was given (a shared temporary file let one creator link the other's
/// file under its own name).
#[test]
fn concurrent_creates_of_one_name_leave_the_winner_s_seed() {
    for round in 0..40 {
        let (_dir, store) = store();
        let store = std::sync::Arc::new(store);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    store.create("same", PASSWORD, kdf()).map(|(_, m)| m)
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let winners: Vec<&Mnemonic> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(WalletError::WalletExists { .. }))),
            "round {round}"
        );
        let mut wallet = store.open("same", PASSWORD).unwrap();
        assert_eq!(
            wallet.next_receive().unwrap().public_key_bytes(),
            expected_key(winners[0], Chain::Receive, 0),
            "round {round}: the file holds the other creator's seed"
        );
    }
}
