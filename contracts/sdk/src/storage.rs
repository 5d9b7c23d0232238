//! Typed contract storage: values and maps whose keys and values are SCALE-encoded.
//!
//! Storage is a byte-keyed map private to the contract. [`Item`] is one value under a fixed
//! key; [`Map`] is a family of values under a prefix followed by the SCALE encoding of the map
//! key. Choose prefixes so that no prefix is a prefix of another (e.g. one distinct byte each).
//! A stored value that no longer decodes (a contract bug, since only the contract writes its
//! storage) reverts the call.

use core::marker::PhantomData;

use alloc::vec::Vec;

use crate::{Decode, Encode, host, revert};

/// Raw storage read.
pub fn get_raw(key: &[u8]) -> Option<Vec<u8>> {
    host::storage_get(key)
}

/// Raw storage write.
pub fn set_raw(key: &[u8], value: &[u8]) {
    host::storage_set(key, value)
}

/// Raw storage removal.
pub fn remove_raw(key: &[u8]) {
    host::storage_remove(key)
}

fn decode<V: Decode>(bytes: Vec<u8>) -> V {
    V::decode(&mut &bytes[..]).unwrap_or_else(|_| revert("corrupt storage value"))
}

/// One value of type `V` stored under a fixed key.
pub struct Item<V> {
    key: &'static [u8],
    _value: PhantomData<V>,
}

impl<V: Encode + Decode> Item<V> {
    /// The item under `key`.
    pub const fn new(key: &'static [u8]) -> Item<V> {
        Item {
            key,
            _value: PhantomData,
        }
    }

    /// The stored value, if any.
    pub fn get(&self) -> Option<V> {
        get_raw(self.key).map(decode)
    }

    /// Stores `value`.
    pub fn set(&self, value: &V) {
        set_raw(self.key, &value.encode())
    }

    /// Removes the value.
    pub fn remove(&self) {
        remove_raw(self.key)
    }
}

impl<V: Encode + Decode + Default> Item<V> {
    /// The stored value, or `V::default()`.
    pub fn get_or_default(&self) -> V {
        self.get().unwrap_or_default()
    }
}

/// Values of type `V` keyed by `K`, stored under `prefix ++ SCALE(key)`.
pub struct Map<K, V> {
    prefix: &'static [u8],
    _types: PhantomData<(K, V)>,
}

impl<K: Encode, V: Encode + Decode> Map<K, V> {
    /// The map under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Map<K, V> {
        Map {
            prefix,
            _types: PhantomData,
        }
    }

    fn key(&self, key: &K) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + key.size_hint());
        k.extend_from_slice(self.prefix);
        key.encode_to(&mut k);
        k
    }

    /// The value at `key`, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        get_raw(&self.key(key)).map(decode)
    }

    /// Stores `value` at `key`.
    pub fn insert(&self, key: &K, value: &V) {
        set_raw(&self.key(key), &value.encode())
    }

    /// Removes the value at `key`.
    pub fn remove(&self, key: &K) {
        remove_raw(&self.key(key))
    }
}

impl<K: Encode, V: Encode + Decode + Default> Map<K, V> {
    /// The value at `key`, or `V::default()`.
    pub fn get_or_default(&self, key: &K) -> V {
        self.get(key).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestEnv};

    #[test]
    fn items_and_maps_round_trip_through_storage() {
        testing::reset(TestEnv::default());
        let supply: Item<u128> = Item::new(b"s");
        let balances: Map<u32, u128> = Map::new(b"b");
        assert_eq!(supply.get(), None);
        assert_eq!(supply.get_or_default(), 0);
        supply.set(&7);
        balances.insert(&1, &5);
        assert_eq!(supply.get(), Some(7));
        assert_eq!(balances.get(&1), Some(5));
        assert_eq!(balances.get(&2), None);
        // prefix ++ SCALE(1u32)
        assert_eq!(get_raw(&[b'b', 1, 0, 0, 0]), Some(5u128.encode()));
        balances.remove(&1);
        assert_eq!(balances.get(&1), None);
    }

    #[test]
    fn a_corrupt_value_reverts() {
        testing::reset(TestEnv::default());
        set_raw(b"s", &[1]);
        let supply: Item<u128> = Item::new(b"s");
        assert_eq!(
            testing::expect_revert(|| supply.get()),
            "corrupt storage value"
        );
    }
}
