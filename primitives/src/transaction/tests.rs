use std::time::{Duration, Instant};

use parity_scale_codec::{Compact, Decode, Encode};
use proptest::prelude::*;

use super::*;
use crate::test_util::{arb_transaction, largest_allocation_during, sample_transaction};

/// Pinned so that any change to the transaction encoding (field order, integer widths, enum
/// indices, the hash) is caught. Recompute only for a deliberate, coordinated format change.
const GOLDEN_TXID: &str = "90c8126a7212f1caa7b01020a32f6c9b49ff75107f9ce277f1b91ed3c25ba189";

#[test]
fn golden_txid_of_the_sample_transaction_is_stable() {
    let tx = sample_transaction();
    assert_eq!(tx.txid().to_string(), GOLDEN_TXID);
    assert_eq!(tx.txid(), Txid::from_byte_array(sha256d(&tx.encode())));
}

#[test]
fn the_encoding_lays_fields_out_in_declaration_order() {
    let tx = Transaction {
        version: 1,
        inputs: vec![],
        outputs: vec![],
        lock_time: 0x0403_0201,
        payload: None,
    };
    // version (u32 LE), no inputs, no outputs, lock_time (u32 LE), no payload.
    assert_eq!(tx.encode(), [1, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0]);
}

#[test]
fn payload_variants_have_pinned_scale_indices() {
    let key = [2u8; 33];
    let payloads = [
        Payload::Deploy {
            code: vec![],
            init_input: vec![],
            salt: [0; 32],
            gas_limit: 0,
            admin: None,
        },
        Payload::Call {
            contract: ContractAddress::ZERO,
            input: vec![],
            value: Amount::ZERO,
            gas_limit: 0,
        },
        Payload::Bond {
            staking_key: key,
            value: Amount::ZERO,
        },
        Payload::Unbond {
            staking_key: key,
            value: Amount::ZERO,
        },
        Payload::RegisterDelegate {
            name: String::new(),
            key,
        },
        Payload::Vote {
            voter_key: key,
            delegates: vec![],
        },
    ];
    for (index, payload) in payloads.iter().enumerate() {
        assert_eq!(payload.encode()[0] as usize, index, "{payload:?}");
    }
    let migrate = Payload::Migrate {
        contract: ContractAddress::ZERO,
        code_hash: crate::Hash256::ZERO,
        input: vec![],
        gas_limit: 0,
    };
    let set_admin = Payload::SetAdmin {
        contract: ContractAddress::ZERO,
        admin: Some(vec![0x51]),
    };
    assert_eq!((migrate.encode()[0], set_admin.encode()[0]), (8, 9));
    // The admin is an `Option<Vec<u8>>` after the deploy's other fields.
    let deploy = Payload::Deploy {
        code: vec![],
        init_input: vec![],
        salt: [0; 32],
        gas_limit: 0,
        admin: Some(vec![0x51]),
    };
    assert_eq!(deploy.encode()[deploy.encode().len() - 3..], [1, 4, 0x51]);
}

#[test]
fn coinbase_is_exactly_one_input_spending_the_null_outpoint() {
    let mut tx = sample_transaction();
    assert!(!tx.is_coinbase());
    tx.inputs.truncate(1);
    assert!(!tx.is_coinbase(), "an ordinary single input");
    tx.inputs[0].prevout = OutPoint::NULL;
    assert!(tx.is_coinbase());
    tx.inputs.push(tx.inputs[0].clone());
    assert!(!tx.is_coinbase(), "two inputs");
    tx.inputs.truncate(1);
    tx.inputs[0].prevout.index = 0;
    assert!(!tx.is_coinbase(), "zero txid but index 0");
    assert_eq!(
        OutPoint::NULL.to_string(),
        format!("{}:4294967295", Txid::ZERO)
    );
}

#[test]
fn decode_strict_rejects_trailing_bytes() {
    let mut bytes = sample_transaction().encode();
    bytes.push(0);
    assert_eq!(
        Transaction::decode_strict(&bytes),
        Err(DecodeError::TrailingBytes {
            what: "transaction",
            count: 1
        })
    );
}

#[test]
fn decode_strict_rejects_every_truncation() {
    let bytes = sample_transaction().encode();
    for len in 0..bytes.len() {
        assert!(
            matches!(
                Transaction::decode_strict(&bytes[..len]),
                Err(DecodeError::Invalid { .. })
            ),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn decode_strict_rejects_unknown_payload_tags_and_bad_option_bytes() {
    let mut tx = sample_transaction();
    tx.payload = None;
    let mut bytes = tx.encode();
    let last = bytes.len() - 1;
    bytes[last] = 2; // Option tag must be 0 or 1
    assert!(Transaction::decode_strict(&bytes).is_err());
    bytes[last] = 1;
    bytes.push(6); // no payload variant 6
    let err = Transaction::decode_strict(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Invalid {
                what: "transaction",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn oversized_input_is_refused_without_allocating() {
    let bytes = vec![0u8; MAX_TX_SIZE + 1];
    let (result, largest) = largest_allocation_during(|| Transaction::decode_strict(&bytes));
    assert_eq!(
        result,
        Err(DecodeError::TooLarge {
            what: "transaction",
            got: MAX_TX_SIZE + 1,
            max: MAX_TX_SIZE
        })
    );
    assert_eq!(largest, 0);
}

#[test]
fn huge_length_prefixes_fail_fast_without_allocating_for_them() {
    // 2^30 inputs announced, none present.
    let mut many_inputs = 2u32.encode();
    Compact(1u32 << 30).encode_to(&mut many_inputs);
    // One input whose script_sig announces 2^30 bytes.
    let mut huge_script = 2u32.encode();
    Compact(1u32).encode_to(&mut huge_script);
    OutPoint::NULL.encode_to(&mut huge_script);
    Compact(1u32 << 30).encode_to(&mut huge_script);
    huge_script.extend_from_slice(&[0; 64]);
    for bytes in [many_inputs, huge_script] {
        let start = Instant::now();
        let (result, largest) = largest_allocation_during(|| Transaction::decode_strict(&bytes));
        assert!(
            matches!(result, Err(DecodeError::Invalid { .. })),
            "{result:?}"
        );
        assert!(largest < 64 * 1024, "allocated {largest} bytes");
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}

#[test]
fn json_uses_hex_for_bytes_and_integers_for_amounts() {
    let tx = sample_transaction();
    let json = serde_json::to_value(&tx).unwrap();
    assert_eq!(json["inputs"][0]["prevout"]["txid"], "11".repeat(32));
    assert_eq!(json["inputs"][0]["prevout"]["index"], 0);
    assert_eq!(json["inputs"][0]["scriptSig"], "51");
    assert_eq!(json["outputs"][0]["value"], 5_000_000_000u64);
    assert_eq!(json["outputs"][1]["scriptPubkey"], "6a012a");
    assert_eq!(json["payload"]["type"], "call");
    assert_eq!(json["payload"]["contract"], "33".repeat(32));
    assert_eq!(json["payload"]["input"], hex::encode("transfer"));
    assert_eq!(json["payload"]["value"], 1000);
    let back: Transaction = serde_json::from_value(json).unwrap();
    assert_eq!(back, tx);
}

#[test]
fn json_field_and_type_names_are_camel_case_like_the_rest_of_the_api() {
    let json = serde_json::to_value(sample_transaction()).unwrap();
    assert!(json.get("lockTime").is_some(), "{json}");
    let register = Payload::RegisterDelegate {
        name: "alice".into(),
        key: [2; 33],
    };
    assert_eq!(
        serde_json::to_value(&register).unwrap()["type"],
        "registerDelegate"
    );
    let deploy = serde_json::to_value(Payload::Deploy {
        code: vec![0],
        init_input: vec![1],
        salt: [0; 32],
        gas_limit: 7,
        admin: Some(vec![0x51]),
    })
    .unwrap();
    assert_eq!(
        (&deploy["initInput"], &deploy["gasLimit"], &deploy["admin"]),
        (&"01".into(), &7.into(), &"51".into())
    );
    let set_admin = serde_json::to_value(Payload::SetAdmin {
        contract: ContractAddress::ZERO,
        admin: None,
    })
    .unwrap();
    assert_eq!(set_admin["type"], "setAdmin");
    assert_eq!(set_admin["admin"], serde_json::Value::Null);
    let header = crate::Header {
        version: 1,
        parent: crate::BlockHash::from_byte_array([0; 32]),
        height: 1,
        time: 2,
        tx_root: crate::Hash256::ZERO,
        state_root: crate::Hash256::ZERO,
        seal: crate::Seal::Pow { bits: 0, nonce: 0 },
    };
    let json = serde_json::to_value(&header).unwrap();
    assert!(
        json.get("txRoot").is_some() && json.get("stateRoot").is_some(),
        "{json}"
    );
    assert!(!json.to_string().contains('_'), "{json}");
}

#[test]
fn json_rejects_unknown_fields_and_wrong_key_lengths() {
    let mut json = serde_json::to_value(sample_transaction()).unwrap();
    json["lock_tme"] = 5.into();
    assert!(serde_json::from_value::<Transaction>(json).is_err());

    let bond = serde_json::json!({"type": "bond", "stakingKey": "02".repeat(33), "value": 5});
    assert_eq!(
        serde_json::from_value::<Payload>(bond).unwrap(),
        Payload::Bond {
            staking_key: [2; 33],
            value: Amount::from_units(5)
        }
    );
    let short = serde_json::json!({"type": "bond", "stakingKey": "02".repeat(32), "value": 5});
    assert!(serde_json::from_value::<Payload>(short).is_err());
    let extra =
        serde_json::json!({"type": "bond", "stakingKey": "02".repeat(33), "value": 5, "x": 1});
    assert!(serde_json::from_value::<Payload>(extra).is_err());
    let vote = Payload::Vote {
        voter_key: [3; 33],
        delegates: vec![[4; 33], [5; 33]],
    };
    let json = serde_json::to_value(&vote).unwrap();
    assert_eq!(json["delegates"][1], "05".repeat(33));
    assert_eq!(serde_json::from_value::<Payload>(json).unwrap(), vote);
}

proptest! {
    #[test]
    fn scale_and_json_round_trip(tx in arb_transaction()) {
        let bytes = tx.encode();
        prop_assert_eq!(Transaction::decode_strict(&bytes), Ok(tx.clone()));
        prop_assert_eq!(Transaction::decode(&mut &bytes[..]), Ok(tx.clone()));
        let json = serde_json::to_string(&tx).unwrap();
        prop_assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), tx);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Transaction::decode_strict(&bytes);
    }

    #[test]
    fn corrupted_encodings_never_panic(tx in arb_transaction(), at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = tx.encode();
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Ok(decoded) = Transaction::decode_strict(&bytes) {
            // Whatever decodes re-encodes to the same bytes: the encoding is canonical.
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }
}
