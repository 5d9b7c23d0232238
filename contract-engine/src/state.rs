//! Contract state as one ordered key-value space, and the overlay executions write to.
//!
//! Keys ([`StateKey`]): `A ‖ address` → [`ContractAccount`], `C ‖ code hash` → code,
//! `H ‖ address` → code history (after a migration), `S ‖ address ‖ key` → storage value.
//! The node keeps them in one RocksDB column family; connecting a block writes the overlay's
//! changes and saves the previous values as undo data.

use std::collections::BTreeMap;
use std::sync::Arc;

use parity_scale_codec::{Decode, Encode};

use i8o8i_primitives::StoreError;
use i8o8i_primitives::contract::ContractAccount;
use i8o8i_primitives::{ContractAddress, Hash256};

/// Reads committed contract state.
pub trait ContractStateReader: Send + Sync {
    /// The value at `key`.
    ///
    /// # Errors
    /// Only for storage failures.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` entries whose keys start with `prefix`, in key order from `from` on
    /// (`from` itself starts with `prefix`).
    ///
    /// # Errors
    /// Only for storage failures.
    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<KeyValues, StoreError>;
}

/// Raw `(key, value)` pairs, in key order.
pub type KeyValues = Vec<(Vec<u8>, Vec<u8>)>;

/// Constructors of state keys.
pub struct StateKey;

impl StateKey {
    /// Key of a contract's account record.
    pub fn account(address: &ContractAddress) -> Vec<u8> {
        let mut k = Vec::with_capacity(33);
        k.push(b'A');
        k.extend_from_slice(address.as_bytes());
        k
    }

    /// Key of code by hash.
    pub fn code(hash: &Hash256) -> Vec<u8> {
        let mut k = Vec::with_capacity(33);
        k.push(b'C');
        k.extend_from_slice(hash.as_bytes());
        k
    }

    /// Key of a contract's code history (SCALE `Vec<CodeChange>`), written when it is first
    /// migrated: its deployment's code and every migration since.
    pub fn code_history(address: &ContractAddress) -> Vec<u8> {
        let mut k = Vec::with_capacity(33);
        k.push(b'H');
        k.extend_from_slice(address.as_bytes());
        k
    }

    /// Key of one storage entry of a contract.
    pub fn storage(address: &ContractAddress, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(33 + key.len());
        k.push(b'S');
        k.extend_from_slice(address.as_bytes());
        k.extend_from_slice(key);
        k
    }
}

/// Uncommitted writes over committed state: `None` is a deletion.
#[derive(Clone)]
pub struct StateOverlay {
    base: Arc<dyn ContractStateReader>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl std::fmt::Debug for StateOverlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateOverlay")
            .field("writes", &self.writes.len())
            .finish()
    }
}

impl StateOverlay {
    /// An overlay with no writes over `base`.
    pub fn new(base: Arc<dyn ContractStateReader>) -> StateOverlay {
        StateOverlay {
            base,
            writes: BTreeMap::new(),
        }
    }

    /// The value at `key`, seeing this overlay's writes.
    ///
    /// # Errors
    /// Storage failures of the base.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }

    /// Writes `value` at `key` (`None` deletes).
    pub fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.writes.insert(key, value);
    }

    /// Up to `limit` entries whose keys start with `prefix`, in key order from `from` on,
    /// seeing this overlay's writes.
    ///
    /// # Errors
    /// Storage failures of the base.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<KeyValues, StoreError> {
        let written: Vec<_> = self
            .writes
            .range(from.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .collect();
        // Each write can hide at most one base entry, so this many base entries are enough
        // to fill `limit` after the writes are applied.
        let base = self
            .base
            .scan(prefix, from, limit.saturating_add(written.len()))?;
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
        for (k, v) in written {
            match v {
                Some(v) => merged.insert(k.clone(), v.clone()),
                None => merged.remove(k),
            };
        }
        Ok(merged.into_iter().take(limit).collect())
    }

    /// Applies `writes` on top of this overlay's.
    pub fn merge(&mut self, writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>) {
        self.writes.extend(writes);
    }

    /// The account at `address`.
    ///
    /// # Errors
    /// Storage failures, or a record that does not decode.
    pub fn account(
        &self,
        address: &ContractAddress,
    ) -> Result<Option<ContractAccount>, StoreError> {
        self.get(&StateKey::account(address))?
            .map(|v| {
                ContractAccount::decode(&mut &v[..])
                    .map_err(|e| StoreError::corrupt("contract account", format!("{address}: {e}")))
            })
            .transpose()
    }

    /// Stores the account at `address`.
    pub fn put_account(&mut self, address: &ContractAddress, account: &ContractAccount) {
        self.put(StateKey::account(address), Some(account.encode()));
    }

    /// The writes, in key order, and the values they replace in the base (the undo data).
    ///
    /// # Errors
    /// Storage failures of the base.
    pub fn into_changes(self) -> Result<ContractChanges, StoreError> {
        let mut undo = Vec::with_capacity(self.writes.len());
        for key in self.writes.keys() {
            undo.push((key.clone(), self.base.get(key)?));
        }
        Ok(ContractChanges {
            writes: self.writes.into_iter().collect(),
            undo,
        })
    }

    /// The base this overlay reads through.
    pub fn base(&self) -> &Arc<dyn ContractStateReader> {
        &self.base
    }
}

/// An overlay read as committed state: what a block on a branch this node has not connected
/// executes against.
impl ContractStateReader for StateOverlay {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        StateOverlay::get(self, key)
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<KeyValues, StoreError> {
        self.scan_prefix(prefix, from, limit)
    }
}

/// What a block did to contract state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct ContractChanges {
    /// New values (`None` deletes), in key order.
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The values they replaced, restored on disconnect.
    pub undo: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// In-memory committed state, for tests and read-only snapshots.
#[derive(Debug, Default)]
pub struct MemoryState(pub std::sync::RwLock<BTreeMap<Vec<u8>, Vec<u8>>>);

impl ContractStateReader for MemoryState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .0
            .read()
            .map_err(|_| StoreError::Backend("memory state lock poisoned".into()))?
            .get(key)
            .cloned())
    }

    fn scan(&self, prefix: &[u8], from: &[u8], limit: usize) -> Result<KeyValues, StoreError> {
        Ok(self
            .0
            .read()
            .map_err(|_| StoreError::Backend("memory state lock poisoned".into()))?
            .range(from.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

impl MemoryState {
    /// Applies `changes` as the node applies them to RocksDB.
    pub fn apply(&self, changes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        let mut map = self.0.write().expect("not poisoned");
        for (k, v) in changes {
            match v {
                Some(v) => map.insert(k.clone(), v.clone()),
                None => map.remove(k),
            };
        }
    }
}
