use super::*;

thread_local! {
    /// Makes the next `write_atomic` on this thread fail, for tests of failed writes.
    pub(crate) static FAIL_NEXT_WRITE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

const ENTROPY: [u8; 32] = [0x5a; 32];

/// Two extended public keys (not derived from [`ENTROPY`]: this module does not check that).
fn xpubs() -> [ChainXpub; 2] {
    let master = crate::hd::ExtendedPrivKey::new_master(&[7; 32]).unwrap();
    [0, 1].map(|i| {
        let child = master
            .derive_child(crate::hd::ChildNumber::normal(i).unwrap())
            .unwrap();
        ChainXpub::of(&child.to_extended_pub())
    })
}

fn sample() -> KeystoreFile {
    KeystoreFile::encrypt(
        "alice",
        "pw",
        KdfParams::insecure_for_tests(),
        &ENTROPY,
        1_700_000_000,
        xpubs(),
    )
    .unwrap()
}

fn json_value(file: &KeystoreFile) -> serde_json::Value {
    serde_json::from_slice(&file.to_json().unwrap()).unwrap()
}

fn reparse(value: &serde_json::Value) -> Result<KeystoreFile> {
    KeystoreFile::from_json(
        Path::new("alice.json"),
        value.to_string().as_bytes(),
        "alice",
    )
}

#[test]
fn encryption_round_trips_through_json() {
    let file = sample();
    let back = KeystoreFile::from_json(Path::new("alice.json"), &file.to_json().unwrap(), "alice")
        .unwrap();
    assert_eq!(
        back.decrypt(Path::new("alice.json"), "pw")
            .unwrap()
            .as_slice(),
        ENTROPY
    );
    assert_eq!(back.kdf, KdfParams::insecure_for_tests());
    assert_eq!(back.created_at, 1_700_000_000);
    assert_eq!([back.receive_xpub, back.change_xpub], xpubs());
    assert!(back.same_wallet(&file));
}

#[test]
fn the_json_has_the_documented_fields() {
    let v = json_value(&sample());
    assert_eq!(v["version"], 2);
    assert_eq!(v["name"], "alice");
    assert_eq!(v["kdf"]["algorithm"], "argon2id");
    assert_eq!(v["kdf"]["m_cost"], 8);
    assert_eq!(v["kdf"]["salt"].as_str().unwrap().len(), 32);
    assert_eq!(v["cipher"]["algorithm"], "xchacha20poly1305");
    assert_eq!(v["cipher"]["nonce"].as_str().unwrap().len(), 48);
    assert_eq!(v["ciphertext"].as_str().unwrap().len(), 2 * (32 + 16));
    assert_eq!(v["next_receive_index"], 0);
    assert_eq!(v["next_change_index"], 0);
    assert_eq!(v["created_at"], 1_700_000_000);
    let [receive, change] = xpubs();
    for (field, xpub) in [("receive_xpub", receive), ("change_xpub", change)] {
        assert_eq!(
            v[field],
            serde_json::json!({
                "public_key": hex::encode(xpub.public_key.serialize()),
                "chain_code": hex::encode(xpub.chain_code),
            }),
            "{field}"
        );
    }
    assert_eq!(v["receive_pubkeys"], serde_json::json!([]));
    assert_eq!(v["change_pubkeys"], serde_json::json!([]));
    assert_eq!(v.as_object().unwrap().len(), 12, "{v}");
}

#[test]
fn version_1_files_and_other_versions_are_rejected_by_number() {
    let mut v1 = json_value(&sample());
    // A file as version 1 wrote it: no extended public keys.
    v1["version"] = 1.into();
    let object = v1.as_object_mut().unwrap();
    object.remove("receive_xpub");
    object.remove("change_xpub");
    for (value, version) in [
        (v1, 1),
        (json_value(&sample()), 3),
        (json_value(&sample()), 0),
    ] {
        let mut value = value;
        value["version"] = version.into();
        match reparse(&value) {
            Err(WalletError::Corrupt { reason, .. }) => {
                assert_eq!(reason, format!("unsupported wallet file version {version}"));
            }
            Err(other) => panic!("{version}: {other:?}"),
            Ok(_) => panic!("{version}: accepted"),
        }
    }
}

#[test]
fn two_encryptions_use_different_salts_and_nonces() {
    let (a, b) = (sample(), sample());
    assert_ne!(a.salt, b.salt);
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(a.ciphertext, b.ciphertext);
}

#[test]
fn a_wrong_password_is_rejected_as_wrong_password() {
    let err = sample().decrypt(Path::new("alice.json"), "pW").unwrap_err();
    assert!(matches!(err, WalletError::WrongPassword), "{err:?}");
}

#[test]
fn changed_kdf_parameters_or_salt_fail_to_decrypt() {
    let mut v = json_value(&sample());
    v["kdf"]["t_cost"] = 2.into();
    let err = reparse(&v)
        .unwrap()
        .decrypt(Path::new("x"), "pw")
        .unwrap_err();
    assert!(matches!(err, WalletError::WrongPassword), "{err:?}");

    let mut v = json_value(&sample());
    v["kdf"]["salt"] = hex::encode([7u8; 16]).into();
    let err = reparse(&v)
        .unwrap()
        .decrypt(Path::new("x"), "pw")
        .unwrap_err();
    assert!(matches!(err, WalletError::WrongPassword), "{err:?}");
}

type Edit = dyn Fn(&mut serde_json::Value);

#[test]
fn malformed_fields_are_reported_as_corrupt() {
    let base = json_value(&sample());
    let cases: Vec<(&str, Box<Edit>)> = vec![
        ("version 1", Box::new(|v| v["version"] = 1.into())),
        ("version 3", Box::new(|v| v["version"] = 3.into())),
        (
            "version missing",
            Box::new(|v| drop(v.as_object_mut().unwrap().remove("version"))),
        ),
        ("version text", Box::new(|v| v["version"] = "1".into())),
        (
            "other kdf",
            Box::new(|v| v["kdf"]["algorithm"] = "scrypt".into()),
        ),
        (
            "other cipher",
            Box::new(|v| v["cipher"]["algorithm"] = "aes-256-gcm".into()),
        ),
        ("short salt", Box::new(|v| v["kdf"]["salt"] = "0011".into())),
        (
            "bad hex nonce",
            Box::new(|v| v["cipher"]["nonce"] = "zz".repeat(24).into()),
        ),
        ("odd hex", Box::new(|v| v["ciphertext"] = "abc".into())),
        (
            "short ciphertext",
            Box::new(|v| v["ciphertext"] = "00".repeat(20).into()),
        ),
        ("zero m_cost", Box::new(|v| v["kdf"]["m_cost"] = 0.into())),
        (
            "huge m_cost",
            Box::new(|v| v["kdf"]["m_cost"] = u32::MAX.into()),
        ),
        (
            "huge t_cost",
            Box::new(|v| v["kdf"]["t_cost"] = 1_000_000.into()),
        ),
        (
            "negative index",
            Box::new(|v| v["next_receive_index"] = (-1).into()),
        ),
        (
            "index without key",
            Box::new(|v| v["next_change_index"] = 1.into()),
        ),
        (
            "not a point",
            Box::new(|v| {
                v["next_receive_index"] = 1.into();
                v["receive_pubkeys"] = serde_json::json!(["02".to_owned() + &"00".repeat(32)]);
            }),
        ),
        (
            "no receive xpub",
            Box::new(|v| drop(v.as_object_mut().unwrap().remove("receive_xpub"))),
        ),
        (
            "no change xpub",
            Box::new(|v| drop(v.as_object_mut().unwrap().remove("change_xpub"))),
        ),
        (
            "xpub as a string",
            Box::new(|v| v["receive_xpub"] = "xpub661MyMwAqRbc".into()),
        ),
        (
            "xpub without chain code",
            Box::new(|v| {
                drop(
                    v["change_xpub"]
                        .as_object_mut()
                        .unwrap()
                        .remove("chain_code"),
                )
            }),
        ),
        (
            "xpub extra field",
            Box::new(|v| v["receive_xpub"]["depth"] = 4.into()),
        ),
        (
            "xpub not a point",
            Box::new(|v| {
                v["receive_xpub"]["public_key"] = ("02".to_owned() + &"00".repeat(32)).into()
            }),
        ),
        (
            "xpub uncompressed",
            Box::new(|v| {
                v["change_xpub"]["public_key"] = ("04".to_owned() + &"11".repeat(64)).into()
            }),
        ),
        (
            "xpub short chain code",
            Box::new(|v| v["change_xpub"]["chain_code"] = "00".repeat(31).into()),
        ),
        (
            "xpub bad hex",
            Box::new(|v| v["receive_xpub"]["chain_code"] = "zz".repeat(32).into()),
        ),
        ("unknown field", Box::new(|v| v["extra"] = true.into())),
        (
            "missing field",
            Box::new(|v| drop(v.as_object_mut().unwrap().remove("cipher"))),
        ),
        ("other name", Box::new(|v| v["name"] = "bob".into())),
        (
            "not an object",
            Box::new(|v| *v = serde_json::json!([1, 2, 3])),
        ),
    ];
    for (what, edit) in cases {
        let mut v = base.clone();
        edit(&mut v);
        match reparse(&v) {
            Err(WalletError::Corrupt { .. }) => {}
            Err(other) => panic!("{what}: {other:?}"),
            Ok(_) => panic!("{what}: accepted"),
        }
    }
    for bytes in [&b""[..], b"{", b"null", b"\xff\xfe", b"{\"version\": 2}"] {
        let err = KeystoreFile::from_json(Path::new("a"), bytes, "alice").err();
        assert!(
            matches!(err, Some(WalletError::Corrupt { .. })),
            "{bytes:?}: {err:?}"
        );
    }
}

#[test]
fn valid_and_invalid_names() {
    for ok in ["a", "Alice_2-b", &"x".repeat(64)] {
        assert!(validate_name(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "../x",
        "a/b",
        "a.b",
        ".",
        "..",
        "a b",
        "ä",
        "x\0",
        &"x".repeat(65),
        "a\\b",
    ] {
        assert!(
            matches!(validate_name(bad), Err(WalletError::InvalidName { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn kdf_defaults_are_owasp_and_accepted_by_argon2() {
    assert_eq!(
        KdfParams::default(),
        KdfParams {
            m_cost: 19_456,
            t_cost: 2,
            p_cost: 1
        }
    );
    assert!(KdfParams::default().argon2_params().is_ok());
    assert!(KdfParams::insecure_for_tests().argon2_params().is_ok());
    let err = KeystoreFile::encrypt(
        "a",
        "pw",
        KdfParams {
            m_cost: 1,
            t_cost: 1,
            p_cost: 1,
        },
        &ENTROPY,
        0,
        xpubs(),
    )
    .err();
    assert!(
        matches!(err, Some(WalletError::InvalidKdfParams { .. })),
        "{err:?}"
    );
}

#[test]
fn an_empty_password_is_refused() {
    let err = KeystoreFile::encrypt(
        "a",
        "",
        KdfParams::insecure_for_tests(),
        &ENTROPY,
        0,
        xpubs(),
    )
    .err();
    assert!(matches!(err, Some(WalletError::EmptyPassword)), "{err:?}");
}

#[test]
fn atomic_writes_replace_or_refuse_to_replace_and_leave_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("w.json");
    write_atomic(&dest, b"one", true).unwrap();
    let err = write_atomic(&dest, b"two", true).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(&dest).unwrap(), b"one");
    write_atomic(&dest, b"three", false).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"three");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["w.json"]);
}

#[test]
fn a_stale_temp_file_is_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("w.json");
    let stale = dir.path().join("w.json.tmp");
    fs::write(&stale, b"stale garbage, longer than the new content").unwrap();
    write_atomic(&dest, b"new", false).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"new");
    // Each write has a temporary file of its own: a crash's leftover is left alone.
    assert_eq!(fs::read(&stale).unwrap().len(), 42);
}
