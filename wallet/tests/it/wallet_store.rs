use i8o8i_wallet::{
    Chain, ChildNumber, DerivationPath, ExtendedPrivKey, KdfParams, Mnemonic, WalletError,
    WalletStore,
};

#[test]
fn a_wallet_hands_out_addresses_that_stay_visible_while_locked() {
    let dir = tempfile::tempdir().unwrap();
    let store = WalletStore::new(dir.path());
    let (mut wallet, mnemonic) = store
        .create("main", "hunter2", KdfParams::insecure_for_tests())
        .unwrap();
    let first = wallet.next_receive().unwrap();
    let change = wallet.next_change().unwrap();
    assert_eq!(
        first.path(),
        "m/44'/8088'/0'/0/0".parse::<DerivationPath>().unwrap()
    );
    drop(wallet);

    let info = store.info("main").unwrap();
    assert_eq!(
        info.pubkey_hashes(),
        vec![first.pubkey_hash(), change.pubkey_hash()]
    );
    assert_eq!(store.list().unwrap(), ["main"]);

    let restored = store
        .restore(
            "copy",
            "other",
            &mnemonic.phrase(),
            KdfParams::insecure_for_tests(),
        )
        .unwrap();
    assert_eq!(
        restored.key(Chain::Receive, 0).unwrap().public_key(),
        first.public_key()
    );
    assert!(matches!(
        store.open("main", "hunter3"),
        Err(WalletError::WrongPassword)
    ));
}

#[test]
fn a_locked_wallet_hands_out_the_addresses_the_mnemonic_derives() {
    let dir = tempfile::tempdir().unwrap();
    let store = WalletStore::new(dir.path());
    let (wallet, mnemonic) = store
        .create("main", "hunter2", KdfParams::insecure_for_tests())
        .unwrap();
    drop(wallet);
    let first = store.next_receive_address("main").unwrap();
    let change = store.next_change_address("main").unwrap();
    let second = store.next_address("main", Chain::Receive).unwrap();
    assert_eq!((first.index(), second.index(), change.index()), (0, 1, 0));

    // An independent derivation: the chain's xpub, derived publicly, and the full private path.
    let seed = Mnemonic::parse(&mnemonic.phrase()).unwrap().to_seed("");
    let master = ExtendedPrivKey::new_master(seed.as_bytes()).unwrap();
    let receive_chain = master
        .derive_path(&"m/44'/8088'/0'/0".parse().unwrap())
        .unwrap()
        .to_extended_pub();
    for key in [first, second] {
        let public = receive_chain
            .derive_child(ChildNumber::normal(key.index()).unwrap())
            .unwrap();
        assert_eq!(key.public_key(), public.public_key.serialize());
        let private = master.derive_path(&key.path()).unwrap();
        assert_eq!(key.public_key(), private.public_key().serialize());
    }

    let mut wallet = store.open("main", "hunter2").unwrap();
    assert_eq!(wallet.next_receive().unwrap().index(), 2);
    assert_eq!(
        wallet.change_key(0).unwrap().public_key_bytes(),
        change.public_key()
    );
    assert_eq!(store.info("main").unwrap().keys().len(), 4);
}
