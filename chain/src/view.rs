//! [`ChainView`]: what the mempool needs to know about the chain it admits transactions for.
//! [`Chain`] implements it on RocksDB and the in-memory index; the mempool's unit tests
//! implement it on maps, so pool policy is tested without a database.

use std::sync::Arc;

use i8o8i_contract_engine::ContractStateReader;
use i8o8i_primitives::{Hash256, StoreError, Txid};
use i8o8i_runtime::script_cache::ScriptCache;
use i8o8i_runtime::spec::ChainSpec;
use i8o8i_runtime::state::{ChainTimeReader, UtxoReader};

use crate::chain::{Chain, Tip};

/// The best chain as the mempool sees it: its tip, its UTXO set, its state.
///
/// Every method answers for one tip; a caller that needs a consistent picture across calls
/// (the mempool) holds its own lock and re-checks the tip it validated against before admitting.
pub trait ChainView: Send + Sync {
    /// The chain spec.
    fn spec(&self) -> &ChainSpec;
    /// The replay-protection chain id signatures commit to.
    fn chain_id(&self) -> Hash256;
    /// The current tip.
    fn tip(&self) -> Tip;
    /// The tip's UTXO set.
    fn utxos(&self) -> &dyn UtxoReader;
    /// Median time past of the tip (BIP113: the time lock-time is checked against).
    ///
    /// # Errors
    /// Storage failures.
    fn tip_median_time_past(&self) -> Result<u64, StoreError>;
    /// Runs `f` with the median times past of the best chain (BIP68 relative time locks).
    fn with_times<R>(&self, f: impl FnOnce(&dyn ChainTimeReader) -> R) -> R;
    /// Whether `txid` is confirmed on the best chain.
    ///
    /// # Errors
    /// Storage failures.
    fn is_confirmed(&self, txid: &Txid) -> Result<bool, StoreError>;
    /// The tip's committed contract state.
    fn contract_state(&self) -> Arc<dyn ContractStateReader>;
    /// Where an admitted transaction's verified scripts are remembered, so the block that
    /// contains it does not verify them again (none: nothing is remembered).
    fn script_cache(&self) -> Option<&ScriptCache> {
        None
    }
}

impl ChainView for Chain {
    fn spec(&self) -> &ChainSpec {
        Chain::spec(self)
    }

    fn script_cache(&self) -> Option<&ScriptCache> {
        Some(Chain::script_cache(self))
    }

    fn chain_id(&self) -> Hash256 {
        Chain::chain_id(self)
    }

    fn tip(&self) -> Tip {
        Chain::tip(self)
    }

    fn utxos(&self) -> &dyn UtxoReader {
        &**self.store()
    }

    fn tip_median_time_past(&self) -> Result<u64, StoreError> {
        let tip = Chain::tip(self);
        self.median_time_past(&tip.hash).map_err(|e| match e {
            i8o8i_runtime::consensus::HeaderError::UnknownParent(hash) => {
                StoreError::NotIndexed(hash)
            }
            other => StoreError::Inconsistent(other.to_string()),
        })
    }

    fn with_times<R>(&self, f: impl FnOnce(&dyn ChainTimeReader) -> R) -> R {
        Chain::with_times(self, f)
    }

    fn is_confirmed(&self, txid: &Txid) -> Result<bool, StoreError> {
        Ok(self.store().tx_location(txid)?.is_some())
    }

    fn contract_state(&self) -> Arc<dyn ContractStateReader> {
        self.contracts().state.clone()
    }
}
