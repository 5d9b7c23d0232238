use super::*;
use crate::mnemonic::Mnemonic;
use crate::mnemonic::tests::english_vectors;

/// BIP32 test vectors 1 and 2, from the "Test Vectors" section of
/// https://github.com/bitcoin/bips/blob/master/bip-0032.mediawiki: (path, xpub, xprv).
const VECTOR_1_SEED: &str = "000102030405060708090a0b0c0d0e0f";
const VECTOR_1: &[(&str, &str, &str)] = &[
    (
        "m",
        "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
        "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
    ),
    (
        "m/0'",
        "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
        "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7",
    ),
    (
        "m/0'/1",
        "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
        "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs",
    ),
    (
        "m/0'/1/2'",
        "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
        "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM",
    ),
    (
        "m/0'/1/2'/2",
        "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
        "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334",
    ),
    (
        "m/0'/1/2'/2/1000000000",
        "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
        "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76",
    ),
];

const VECTOR_2_SEED: &str = "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542";
const VECTOR_2: &[(&str, &str, &str)] = &[
    (
        "m",
        "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB",
        "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U",
    ),
    (
        "m/0",
        "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH",
        "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt",
    ),
    (
        "m/0/2147483647'",
        "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a",
        "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRgVsFawNzmjuHc2YmYRmagcEPdU9",
    ),
    (
        "m/0/2147483647'/1",
        "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon",
        "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXajPPdbRCHuWS6T8XA2ECKADdw4Ef",
    ),
    (
        "m/0/2147483647'/1/2147483646'",
        "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL",
        "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc",
    ),
    (
        "m/0/2147483647'/1/2147483646'/2",
        "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt",
        "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j",
    ),
];

fn check_vector(seed_hex: &str, chain: &[(&str, &str, &str)]) {
    let master = ExtendedPrivKey::new_master(&hex::decode(seed_hex).unwrap()).unwrap();
    for &(path, xpub, xprv) in chain {
        let path: DerivationPath = path.parse().unwrap();
        let key = master.derive_path(&path).unwrap();
        assert_eq!(key.to_xprv().as_str(), xprv, "xprv at {path}");
        // The last 33 bytes of a serialised xpub are the compressed public key.
        let xpub = bs58::decode(xpub).with_check(None).into_vec().unwrap();
        assert_eq!(xpub.len(), 78);
        assert_eq!(
            key.public_key().serialize().as_slice(),
            &xpub[45..],
            "pubkey at {path}"
        );
        assert_eq!(key.depth() as usize, path.len());
        assert_eq!(
            key.to_extended_pub().to_xpub(),
            bs58::encode(&xpub).with_check().into_string(),
            "xpub at {path}"
        );
    }
}

/// Parses a published `xpub` string, which must serialise back to the same text.
fn parse_xpub(text: &str) -> ExtendedPubKey {
    let key = ExtendedPubKey::from_xpub(text).unwrap();
    assert_eq!(key.to_xpub(), text);
    key
}

/// For every normal step of a test vector chain: the published parent xpub, derived publicly,
/// gives the published child xpub and the public key of the private derivation.
fn check_public_derivation(seed_hex: &str, chain: &[(&str, &str, &str)]) -> usize {
    let master = ExtendedPrivKey::new_master(&hex::decode(seed_hex).unwrap()).unwrap();
    let mut checked = 0;
    for pair in chain.windows(2) {
        let ((_, parent_xpub, _), (child_path, child_xpub, _)) = (pair[0], pair[1]);
        let child_path: DerivationPath = child_path.parse().unwrap();
        let step = *child_path.as_slice().last().unwrap();
        let parent = parse_xpub(parent_xpub);
        if step.is_hardened() {
            assert!(matches!(
                parent.derive_child(step),
                Err(WalletError::HardenedFromPublic { .. })
            ));
            continue;
        }
        let public = parent.derive_child(step).unwrap();
        let private = master.derive_path(&child_path).unwrap();
        assert_eq!(public.public_key, private.public_key(), "{child_path}");
        assert_eq!(public, private.to_extended_pub(), "{child_path}");
        assert_eq!(public.to_xpub(), child_xpub, "{child_path}");
        checked += 1;
    }
    checked
}

#[test]
fn bip32_test_vector_1_public_derivation_matches_private_derivation() {
    // m/0'/1, m/0'/1/2'/2 and m/0'/1/2'/2/1000000000 are normal steps.
    assert_eq!(check_public_derivation(VECTOR_1_SEED, VECTOR_1), 3);
}

#[test]
fn bip32_test_vector_2_public_derivation_matches_private_derivation() {
    // m/0, m/0/2147483647'/1 and m/0/2147483647'/1/2147483646'/2 are normal steps.
    assert_eq!(check_public_derivation(VECTOR_2_SEED, VECTOR_2), 3);
}

#[test]
fn hardened_children_cannot_be_derived_from_a_public_key() {
    let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
    let xpub = master.to_extended_pub();
    for index in [0, 1, HARDENED - 1] {
        let err = xpub
            .derive_child(ChildNumber::hardened(index).unwrap())
            .unwrap_err();
        match err {
            WalletError::HardenedFromPublic { child } => assert_eq!(child, format!("{index}'")),
            other => panic!("{index}: {other:?}"),
        }
    }
}

#[test]
fn public_derivation_stops_at_depth_255() {
    let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
    let mut xpub = master.to_extended_pub();
    xpub.depth = 255;
    assert!(matches!(
        xpub.derive_child(ChildNumber::normal(0).unwrap()),
        Err(WalletError::PathTooDeep { depth: 256 })
    ));
    xpub.depth = 254;
    assert_eq!(
        xpub.derive_child(ChildNumber::normal(0).unwrap())
            .unwrap()
            .depth,
        255
    );
}

#[test]
fn extended_public_key_debug_shows_its_public_fields() {
    let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
    let shown = format!("{:?}", master.to_extended_pub());
    assert!(
        shown.contains(&hex::encode(master.public_key().serialize())),
        "{shown}"
    );
    assert!(
        !shown.contains(&hex::encode(master.secret_key().as_secret_bytes())),
        "{shown}"
    );
}

proptest::proptest! {
    #[test]
    fn public_and_private_derivation_agree_on_normal_children(
        seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 16..=64),
        indexes in proptest::collection::vec(0..HARDENED, 1..8),
    ) {
        let master = ExtendedPrivKey::new_master(&seed).unwrap();
        // A master key, a hardened child and a wallet's receive chain key as parents.
        let parents = [
            master.clone(),
            master.derive_child(ChildNumber::hardened(7).unwrap()).unwrap(),
            master
                .derive_path(
                    &DerivationPath::account(0)
                        .unwrap()
                        .child(ChildNumber::normal(Chain::Receive.index()).unwrap())
                        .unwrap(),
                )
                .unwrap(),
        ];
        for parent in &parents {
            let xpub = parent.to_extended_pub();
            for &index in &indexes {
                let child = ChildNumber::normal(index).unwrap();
                let private = parent.derive_child(child).unwrap();
                let public = xpub.derive_child(child).unwrap();
                proptest::prop_assert_eq!(private.public_key(), public.public_key);
                proptest::prop_assert_eq!(private.to_extended_pub(), public);
            }
        }
    }
}

#[test]
fn bip32_test_vector_1_derives_the_published_keys() {
    check_vector(VECTOR_1_SEED, VECTOR_1);
}

#[test]
fn bip32_test_vector_2_derives_the_published_keys() {
    check_vector(VECTOR_2_SEED, VECTOR_2);
}

#[test]
fn derivation_one_step_at_a_time_matches_derivation_by_path() {
    let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
    let stepwise = master
        .derive_child(ChildNumber::hardened(0).unwrap())
        .unwrap()
        .derive_child(ChildNumber::normal(1).unwrap())
        .unwrap();
    let by_path = master.derive_path(&"m/0h/1".parse().unwrap()).unwrap();
    assert_eq!(stepwise.to_xprv(), by_path.to_xprv());
    assert_eq!(
        stepwise.parent_fingerprint(),
        master
            .derive_child(ChildNumber::hardened(0).unwrap())
            .unwrap()
            .fingerprint()
    );
}

#[test]
fn bip39_vectors_give_the_published_root_xprv() {
    for (_, phrase, _, xprv) in english_vectors() {
        let seed = Mnemonic::parse(&phrase).unwrap().to_seed("TREZOR");
        let master = ExtendedPrivKey::new_master(seed.as_bytes()).unwrap();
        assert_eq!(master.to_xprv().as_str(), xprv, "{phrase}");
    }
}

#[test]
fn seeds_outside_16_to_64_bytes_are_rejected() {
    assert!(matches!(
        ExtendedPrivKey::new_master(&[1; 15]),
        Err(WalletError::SeedLength { got: 15 })
    ));
    assert!(matches!(
        ExtendedPrivKey::new_master(&[1; 65]),
        Err(WalletError::SeedLength { got: 65 })
    ));
    assert!(ExtendedPrivKey::new_master(&[1; 16]).is_ok());
    assert!(ExtendedPrivKey::new_master(&[1; 64]).is_ok());
}

#[test]
fn paths_round_trip_through_display_and_parse() {
    for text in ["m", "m/0", "m/44'/8088'/0'/0/5", "m/2147483647'/0"] {
        let path: DerivationPath = text.parse().unwrap();
        assert_eq!(path.to_string(), text);
    }
    let h: DerivationPath = "m/44h/8088H/0'".parse().unwrap();
    assert_eq!(h.to_string(), "m/44'/8088'/0'");
    assert_eq!(h, DerivationPath::account(0).unwrap());
    assert_eq!(
        DerivationPath::address(0, Chain::Change, 7)
            .unwrap()
            .to_string(),
        "m/44'/8088'/0'/1/7"
    );
}

#[test]
fn malformed_paths_are_rejected_with_typed_errors() {
    for missing in ["", "44'/0", "M/0", "/m/0", "n/1"] {
        let err = missing.parse::<DerivationPath>().unwrap_err();
        assert!(
            matches!(err, WalletError::PathMissingMaster { .. }),
            "{missing}: {err:?}"
        );
    }
    for (text, component) in [
        ("m/", ""),
        ("m//1", ""),
        ("m/x", "x"),
        ("m/-1", "-1"),
        ("m/+1", "+1"),
        ("m/1''", "1''"),
        ("m/ 1", " 1"),
        ("m/2147483648", "2147483648"),
        ("m/2147483648'", "2147483648'"),
        ("m/99999999999", "99999999999"),
        ("m/0x10", "0x10"),
    ] {
        let err = text.parse::<DerivationPath>().unwrap_err();
        match err {
            WalletError::PathComponent {
                path,
                component: got,
            } => {
                assert_eq!(path, text);
                assert_eq!(got, component);
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn paths_deeper_than_255_levels_are_rejected() {
    let ok = format!("m{}", "/0".repeat(255));
    assert_eq!(ok.parse::<DerivationPath>().unwrap().len(), 255);
    let deep = format!("m{}", "/0".repeat(256));
    let err = deep.parse::<DerivationPath>().unwrap_err();
    assert!(
        matches!(err, WalletError::PathTooDeep { depth: 256 }),
        "{err:?}"
    );
    let full: DerivationPath = ok.parse().unwrap();
    assert!(matches!(
        full.child(ChildNumber::normal(0).unwrap()),
        Err(WalletError::PathTooDeep { depth: 256 })
    ));
}

#[test]
fn child_numbers_at_or_above_2_pow_31_are_rejected() {
    assert!(ChildNumber::normal(HARDENED - 1).is_ok());
    assert!(matches!(
        ChildNumber::normal(HARDENED),
        Err(WalletError::IndexOutOfRange { index: 0x8000_0000 })
    ));
    assert!(ChildNumber::hardened(HARDENED).is_err());
    let c = ChildNumber::hardened(5).unwrap();
    assert!(c.is_hardened());
    assert_eq!((c.index(), c.to_raw()), (5, HARDENED | 5));
}

#[test]
fn debug_output_does_not_show_the_secret_key() {
    let master = ExtendedPrivKey::new_master(&hex::decode(VECTOR_1_SEED).unwrap()).unwrap();
    let shown = format!("{master:?}");
    let secret = hex::encode(master.secret_key().as_secret_bytes());
    let chain_code = hex::encode(master.chain_code());
    assert!(
        !shown.contains(&secret) && !shown.contains(&chain_code),
        "{shown}"
    );
}

#[test]
fn malformed_xpubs_are_refused_with_the_reason() {
    let good = VECTOR_1[1].1;
    let data = bs58::decode(good).with_check(None).into_vec().unwrap();
    let encode = |bytes: &[u8]| bs58::encode(bytes).with_check().into_string();
    let reason = |text: &str| match ExtendedPubKey::from_xpub(text) {
        Err(WalletError::InvalidXpub { reason }) => reason,
        other => panic!("{text}: {other:?}"),
    };
    let mut bad_checksum = bs58::decode(good).into_vec().unwrap();
    *bad_checksum.last_mut().unwrap() ^= 1;
    assert!(reason(&bs58::encode(&bad_checksum).into_string()).starts_with("not Base58Check"));
    assert!(reason("xpub-not-base58!").starts_with("not Base58Check"));
    assert_eq!(
        reason(&encode(&data[..77])),
        "77 bytes; an extended key has 78"
    );
    let mut xprv = data.clone();
    xprv[0..4].copy_from_slice(&XPRV_VERSION);
    assert!(reason(&encode(&xprv)).starts_with("this is an extended private key"));
    let mut tpub = data.clone();
    tpub[0..4].copy_from_slice(&[0x04, 0x35, 0x87, 0xcf]);
    assert_eq!(
        reason(&encode(&tpub)),
        "version bytes 043587cf are not a mainnet xpub's (0488b21e)"
    );
    let mut orphan = data.clone();
    orphan[4] = 0;
    assert_eq!(
        reason(&encode(&orphan)),
        "a master key (depth 0) with a parent fingerprint or child number"
    );
    let mut off_curve = data.clone();
    off_curve[45] = 0x04;
    assert_eq!(
        reason(&encode(&off_curve)),
        "its key is not a compressed secp256k1 point"
    );
    // A private key's xprv text is refused without echoing it.
    let master = ExtendedPrivKey::new_master(&[7u8; 32]).unwrap();
    let xprv_text = master.to_xprv();
    assert!(!reason(&xprv_text).contains(xprv_text.as_str()));
}
