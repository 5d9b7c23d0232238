use i8o8i_script_vm::templates::{multisig, multisig_script_sig, p2sh_for, p2sh_script_sig};
use i8o8i_script_vm::{SIGHASH_ALL, SIGHASH_NONE};

use super::*;
use crate::test_utils::{p2pkh_script, public_key, secret_key};
use crate::transaction::{OutPoint, TxIn};

fn chain() -> Hash256 {
    Hash256::from_byte_array([9; 32])
}

fn outpoint(n: u8) -> OutPoint {
    OutPoint {
        txid: Txid::from_byte_array([n; 32]),
        index: u32::from(n),
    }
}

/// A transaction spending one coin per script in `spent` (1,000 units each) into one output.
fn unsigned(spent: &[ScriptBuf]) -> Transaction {
    Transaction {
        version: 2,
        inputs: (0..spent.len())
            .map(|i| TxIn {
                prevout: outpoint(i as u8 + 1),
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            })
            .collect(),
        outputs: vec![TxOut {
            value: Amount::from_units(900 * spent.len() as u64),
            script_pubkey: p2pkh_script(&secret_key(9)),
        }],
        lock_time: 0,
        payload: None,
    }
}

fn input(script: ScriptBuf, redeem: Option<ScriptBuf>) -> RequestInput {
    RequestInput {
        spent: TxOut {
            value: Amount::from_units(1_000),
            script_pubkey: script,
        },
        hash_type: SIGHASH_ALL,
        redeem_script: redeem,
        keys: Vec::new(),
        signatures: Vec::new(),
    }
}

fn p2pkh_request(seeds: &[u8]) -> SigningRequest {
    let scripts: Vec<_> = seeds
        .iter()
        .map(|&s| p2pkh_script(&secret_key(s)))
        .collect();
    SigningRequest::new(
        chain(),
        unsigned(&scripts),
        scripts.into_iter().map(|s| input(s, None)).collect(),
        vec![RequestOutput::default()],
    )
    .unwrap()
}

/// A 2-of-3 multisig redeem script over the keys of seeds 1, 2, 3.
fn redeem() -> ScriptBuf {
    let keys: Vec<[u8; 33]> = [1, 2, 3].map(|s| public_key(&secret_key(s))).to_vec();
    let refs: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    multisig(2, &refs).unwrap()
}

fn multisig_request() -> SigningRequest {
    let script = p2sh_for(&redeem());
    SigningRequest::new(
        chain(),
        unsigned(std::slice::from_ref(&script)),
        vec![input(script, Some(redeem()))],
        vec![RequestOutput::default()],
    )
    .unwrap()
}

#[test]
fn p2pkh_inputs_are_signed_by_their_own_keys_and_finalise_to_what_direct_signing_gives() {
    let mut request = p2pkh_request(&[1, 2]);
    assert_eq!(request.fee().unwrap(), Amount::from_units(200));
    assert!(!request.is_complete());
    assert_eq!(
        request.sign_with(&secret_key(7)).unwrap(),
        0,
        "a key of neither coin"
    );
    assert_eq!(request.sign_with(&secret_key(1)).unwrap(), 1);
    assert_eq!(
        request.sign_with(&secret_key(1)).unwrap(),
        0,
        "already signed"
    );
    assert_eq!(
        request.finalize(),
        Err(RequestError::Incomplete {
            input: 1,
            have: 0,
            need: 1
        })
    );
    // Through text and back between the signers, as an offline signer gets it.
    let mut request = SigningRequest::from_text(&request.to_text()).unwrap();
    assert_eq!(request.sign_with(&secret_key(2)).unwrap(), 1);
    assert!(request.is_complete());
    let signed = request.finalize().unwrap();

    // Signatures are deterministic (RFC 6979): the same bytes as signing directly.
    let mut direct = request.tx.clone();
    for (i, seed) in [1, 2].into_iter().enumerate() {
        crate::sign_p2pkh_input(
            &mut direct,
            i,
            &secret_key(seed),
            Amount::from_units(1_000),
            &chain(),
            SIGHASH_ALL,
        )
        .unwrap();
    }
    assert_eq!(signed, direct);
    assert_ne!(
        signed.txid(),
        request.unsigned_txid(),
        "signatures are part of the id"
    );
}

#[test]
fn multisig_signatures_from_separate_signers_combine_and_finalise_in_key_order() {
    let request = multisig_request();
    // Signers 3 and 1 each sign their own copy; 2 is not needed.
    let mut third = request.clone();
    assert_eq!(third.sign_with(&secret_key(3)).unwrap(), 1);
    let mut first = request.clone();
    assert_eq!(first.sign_with(&secret_key(1)).unwrap(), 1);
    assert_eq!(
        third.finalize(),
        Err(RequestError::Incomplete {
            input: 0,
            have: 1,
            need: 2
        })
    );
    let mut combined = SigningRequest::from_text(&third.to_text()).unwrap();
    assert_eq!(combined.combine(&first).unwrap(), 1);
    assert_eq!(
        combined.combine(&first),
        Err(RequestError::NothingToCombine)
    );
    assert_eq!(
        combined.status()[0],
        InputStatus {
            have: 2,
            need: Some(2)
        }
    );
    let signed = combined.finalize().unwrap();

    // CHECKMULTISIG takes signatures in the order of the script's keys: 1, then 3.
    let sig = |s: &SigningRequest| s.inputs[0].signatures[0].signature.clone();
    let expected = p2sh_script_sig(
        &multisig_script_sig(&[&sig(&first), &sig(&third)]),
        &redeem(),
    );
    assert_eq!(signed.inputs[0].script_sig, expected);
}

#[test]
fn malformed_and_inconsistent_requests_are_refused_with_what_is_wrong() {
    let good = p2pkh_request(&[1]);
    let bytes = good.encode_bytes();
    assert_eq!(SigningRequest::decode_bytes(&bytes).unwrap(), good);
    assert_eq!(
        SigningRequest::decode_bytes(&bytes[1..]),
        Err(RequestError::BadMagic)
    );
    let mut v2 = bytes.clone();
    v2[5] = 2;
    assert_eq!(
        SigningRequest::decode_bytes(&v2),
        Err(RequestError::UnsupportedVersion(2))
    );
    assert!(matches!(
        SigningRequest::decode_bytes(&[&bytes[..], &[0]].concat()),
        Err(RequestError::Decode(DecodeError::TrailingBytes { .. }))
    ));
    assert!(matches!(
        SigningRequest::decode_bytes(&bytes[..bytes.len() - 1]),
        Err(RequestError::Decode(DecodeError::Invalid { .. }))
    ));
    assert!(matches!(
        SigningRequest::from_text("not base64!"),
        Err(RequestError::Base64(_))
    ));

    // Built by hand, not decoded: finalising checks it too, rather than indexing past the end.
    let mut by_hand = good.clone();
    by_hand.tx.inputs.clear();
    assert_eq!(
        by_hand.finalize(),
        Err(RequestError::CountMismatch {
            what: "inputs",
            described: 1,
            actual: 0
        })
    );

    // Each inconsistency, made on an otherwise good request and sent through the encoding.
    let refused = |change: &dyn Fn(&mut SigningRequest)| {
        let mut bad = good.clone();
        change(&mut bad);
        SigningRequest::decode_bytes(&bad.encode_bytes()).unwrap_err()
    };
    assert_eq!(
        refused(&|r| r.outputs.clear()),
        RequestError::CountMismatch {
            what: "outputs",
            described: 0,
            actual: 1
        }
    );
    assert_eq!(
        refused(&|r| r.tx.inputs[0].script_sig = ScriptBuf::from_bytes(vec![0x51])),
        RequestError::AlreadySigned { input: 0 }
    );
    assert_eq!(
        refused(&|r| r.inputs[0].hash_type = 0x04),
        RequestError::Sighash {
            input: 0,
            source: SighashError::UndefinedHashType(0x04)
        }
    );
    let signed = |r: &mut SigningRequest, seed| {
        r.sign_with(&secret_key(seed)).unwrap();
    };
    assert_eq!(
        refused(&|r| {
            signed(r, 1);
            let sig = r.inputs[0].signatures[0].signature.len() - 2;
            r.inputs[0].signatures[0].signature[sig] ^= 1;
        }),
        RequestError::InvalidSignature {
            input: 0,
            pubkey: hex::encode(public_key(&secret_key(1)))
        }
    );
    assert_eq!(
        refused(&|r| {
            signed(r, 1);
            // A signature made for another hash type than the input says.
            r.inputs[0].hash_type = SIGHASH_NONE;
        }),
        RequestError::InvalidSignature {
            input: 0,
            pubkey: hex::encode(public_key(&secret_key(1)))
        }
    );
    assert_eq!(
        refused(&|r| {
            signed(r, 1);
            r.inputs[0].signatures[0].pubkey = public_key(&secret_key(2));
        }),
        RequestError::ForeignKey {
            input: 0,
            pubkey: hex::encode(public_key(&secret_key(2)))
        }
    );
    let mut multi = multisig_request();
    multi.sign_with(&secret_key(1)).unwrap();
    multi.sign_with(&secret_key(2)).unwrap();
    let mut swapped = multi.clone();
    swapped.inputs[0].signatures.reverse();
    assert_eq!(
        SigningRequest::decode_bytes(&swapped.encode_bytes()),
        Err(RequestError::UnsortedSignatures { input: 0 })
    );
    let mut wrong_redeem = multisig_request();
    wrong_redeem.inputs[0].redeem_script = Some(p2pkh_script(&secret_key(1)));
    assert_eq!(
        SigningRequest::decode_bytes(&wrong_redeem.encode_bytes()),
        Err(RequestError::RedeemScriptMismatch { input: 0 })
    );

    // Combining: another transaction, another chain, a second signature by one key.
    let mut other = p2pkh_request(&[1]);
    other.tx.lock_time = 1;
    let mut one = good.clone();
    assert_eq!(
        one.combine(&other),
        Err(RequestError::DifferentTransaction {
            ours: good.unsigned_txid(),
            theirs: other.unsigned_txid()
        })
    );
    let mut elsewhere = good.clone();
    elsewhere.chain_id = Hash256::from_byte_array([8; 32]);
    assert_eq!(one.combine(&elsewhere), Err(RequestError::DifferentChain));
    let mut a = good.clone();
    a.sign_with(&secret_key(1)).unwrap();
    let mut b = good.clone();
    let cache = SighashCache::new(&b.tx);
    let spend = b.spend(0).unwrap();
    let digest = b.sighash(&cache, 0, &spend).unwrap();
    let mut other_sig =
        ecdsa::sign_with_noncedata(Message::from_digest(digest), &secret_key(1), &[5; 32])
            .serialize_der()
            .to_vec();
    other_sig.push(SIGHASH_ALL);
    b.inputs[0].signatures.push(PartialSignature {
        pubkey: public_key(&secret_key(1)),
        signature: other_sig,
    });
    let b = SigningRequest::decode_bytes(&b.encode_bytes()).unwrap();
    assert_eq!(
        a.combine(&b),
        Err(RequestError::ConflictingSignatures {
            input: 0,
            pubkey: hex::encode(public_key(&secret_key(1)))
        })
    );
    assert_eq!(
        a.inputs[0].signatures.len(),
        1,
        "a refused combination changes nothing"
    );

    // A script a request cannot complete is described but not finalised.
    let htlc = i8o8i_script_vm::templates::null_data(b"x");
    let odd = SigningRequest::new(
        chain(),
        unsigned(std::slice::from_ref(&htlc)),
        vec![input(htlc, None)],
        vec![RequestOutput::default()],
    )
    .unwrap();
    assert_eq!(
        odd.status()[0],
        InputStatus {
            have: 0,
            need: None
        }
    );
    assert_eq!(
        odd.finalize(),
        Err(RequestError::UnsupportedScript { input: 0 })
    );
}
