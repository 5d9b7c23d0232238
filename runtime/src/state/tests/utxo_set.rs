//! UTXO-set keys and the UTXO-set hash.

use super::*;

/// Three coins keyed by [`utxo_key`], in key order.
fn sample_set() -> BTreeMap<[u8; 36], Coin> {
    let coin = |owner, value, height, coinbase| Coin {
        output: pay(owner, value),
        height,
        coinbase,
    };
    let outpoint = |tag, index| OutPoint {
        txid: Txid::from_byte_array([tag; 32]),
        index,
    };
    [
        (outpoint(1, 0), coin(1, 5_000, 1, true)),
        (outpoint(1, 256), coin(2, 7_000, 4, false)),
        (outpoint(2, 1), coin(3, 11_000, 9, false)),
    ]
    .into_iter()
    .map(|(op, c)| (utxo_key(&op), c))
    .collect()
}

fn info_of(set: &BTreeMap<[u8; 36], Coin>) -> UtxoSetInfo {
    let mut hasher = UtxoSetHasher::default();
    for (key, coin) in set {
        hasher.add(key, coin);
    }
    hasher.finish()
}

#[test]
fn utxo_keys_are_the_txid_then_the_big_endian_index() {
    let op = OutPoint {
        txid: Txid::from_byte_array([7; 32]),
        index: 0x0102_0304,
    };
    let mut expected = [7u8; 36];
    expected[32..].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(utxo_key(&op), expected);
    // Big-endian, so byte order is numeric order: index 1 sorts before index 256.
    let low = utxo_key(&OutPoint { index: 1, ..op });
    let high = utxo_key(&OutPoint { index: 256, ..op });
    assert!(low < high);
}

#[test]
fn the_same_coins_in_the_same_order_give_the_same_utxo_set_info() {
    let set = sample_set();
    let a = info_of(&set);
    let b = info_of(&set.clone());
    assert_eq!(a, b);
    assert_eq!(a.count, 3);
    assert_eq!(a.total_amount, units(5_000 + 7_000 + 11_000));
}

#[test]
fn any_change_to_a_coin_changes_the_utxo_set_hash() {
    let set = sample_set();
    let base = info_of(&set);
    let (first_key, _) = set.first_key_value().expect("not empty");
    let first_key = *first_key;

    let mut richer = set.clone();
    richer.get_mut(&first_key).expect("present").output.value = units(5_001);
    let richer = info_of(&richer);
    assert_ne!(richer.hash, base.hash);
    assert_eq!(richer.count, 3);
    assert_eq!(richer.total_amount, units(5_000 + 7_000 + 11_000 + 1));

    let mut older = set.clone();
    older.get_mut(&first_key).expect("present").height = 2;
    assert_ne!(info_of(&older).hash, base.hash);

    let mut not_coinbase = set.clone();
    not_coinbase.get_mut(&first_key).expect("present").coinbase = false;
    assert_ne!(info_of(&not_coinbase).hash, base.hash);

    let mut fewer = set;
    fewer.remove(&first_key);
    let fewer = info_of(&fewer);
    assert_ne!(fewer.hash, base.hash);
    assert_eq!(fewer.count, 2);
    assert_eq!(fewer.total_amount, units(7_000 + 11_000));
}

#[test]
fn the_utxo_set_hash_is_sha256_over_key_length_and_scale_coin() {
    let empty = UtxoSetHasher::default().finish();
    assert_eq!(
        empty,
        UtxoSetInfo {
            count: 0,
            total_amount: Amount::ZERO,
            hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .expect("hex"),
        }
    );

    let set = sample_set();
    let mut preimage = Vec::new();
    for (key, coin) in &set {
        let encoded = coin.encode();
        preimage.extend_from_slice(key);
        preimage.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        preimage.extend_from_slice(&encoded);
    }
    assert_eq!(
        info_of(&set).hash,
        Hash256::from_byte_array(Sha256::digest(&preimage).into())
    );
}
