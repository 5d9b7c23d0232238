//! A [`ChainAccess`] on maps (genesis, whatever blocks are imported, headers that pass or fail
//! on demand), for sync tests and the fuzz targets that drive sync with arbitrary answers
//! (feature `fuzzing`).

use std::collections::HashMap;
use std::sync::Mutex;

use i8o8i_primitives::{Block, BlockHash, Hash256, Header, Seal, StoreError, Transaction, U256};

use crate::chain_access::{BlockVerdict, ChainAccess, ChainTip, PeerRecords, TxVerdict};

/// Our chain: genesis plus whatever `extend` added; headers from `bad_from` on fail the check.
pub struct TestChain {
    /// Every header known, by hash.
    pub headers: Mutex<HashMap<BlockHash, Header>>,
    /// The tip.
    pub tip: Mutex<Header>,
    /// Headers from this height on fail `check_headers`.
    pub bad_from: Option<u64>,
}

/// A child of `parent`, told apart from its siblings by `salt`.
pub fn header(parent: &Header, salt: u64) -> Header {
    Header {
        version: 1,
        parent: parent.hash(),
        height: parent.height + 1,
        time: parent.time + 1,
        tx_root: Hash256::ZERO,
        state_root: Hash256::ZERO,
        seal: Seal::Pow {
            bits: 0x207f_ffff,
            nonce: salt,
        },
    }
}

/// The test chain's genesis.
pub fn genesis() -> Header {
    Header {
        version: 1,
        parent: BlockHash::from_byte_array([0; 32]),
        height: 0,
        time: 1_700_000_000,
        tx_root: Hash256::ZERO,
        state_root: Hash256::ZERO,
        seal: Seal::Pow {
            bits: 0x207f_ffff,
            nonce: 0,
        },
    }
}

/// `n` headers on `from`, distinguished by `salt` from other branches.
pub fn branch(from: &Header, n: usize, salt: u64) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::with_capacity(n);
    for _ in 0..n {
        let parent = out.last().unwrap_or(from).clone();
        out.push(header(&parent, salt));
    }
    out
}

/// An empty block with header `h`.
pub fn block(h: &Header) -> Block {
    Block {
        header: h.clone(),
        transactions: Vec::new(),
    }
}

impl Default for TestChain {
    fn default() -> Self {
        TestChain::new()
    }
}

impl TestChain {
    /// Genesis only.
    pub fn new() -> TestChain {
        let g = genesis();
        TestChain {
            headers: Mutex::new(HashMap::from([(g.hash(), g.clone())])),
            tip: Mutex::new(g),
            bad_from: None,
        }
    }

    /// The tip's header.
    pub fn tip_header(&self) -> Header {
        self.tip.lock().unwrap().clone()
    }
}

impl ChainAccess for TestChain {
    fn genesis(&self) -> BlockHash {
        genesis().hash()
    }
    fn tip(&self) -> ChainTip {
        let tip = self.tip_header();
        ChainTip {
            hash: tip.hash(),
            height: tip.height,
            work: U256::from(tip.height + 1),
            lowest_block: 0,
        }
    }
    fn known_header(&self, hash: &BlockHash) -> Option<Header> {
        self.headers.lock().unwrap().get(hash).cloned()
    }
    fn known_work(&self, hash: &BlockHash) -> Option<U256> {
        self.known_header(hash).map(|h| U256::from(h.height + 1))
    }
    fn min_chain_work(&self) -> U256 {
        U256::zero()
    }
    /// Every header weighs 1, so a chain's work is its height + 1.
    fn check_headers(&self, _parent: &Header, headers: &[Header]) -> Result<U256, (usize, String)> {
        match self
            .bad_from
            .and_then(|bad| headers.iter().position(|h| h.height >= bad))
        {
            Some(i) => Err((i, "bad proof of work".into())),
            None => Ok(U256::from(headers.len())),
        }
    }
    fn locator(&self, _max: usize) -> Result<Vec<BlockHash>, StoreError> {
        Ok(vec![self.tip_header().hash()])
    }
    fn headers_after(&self, _: &[BlockHash], _: u32) -> Result<Vec<Header>, StoreError> {
        Ok(Vec::new())
    }
    fn block(&self, _: &BlockHash) -> Result<Option<Block>, StoreError> {
        Ok(None)
    }
    fn pool_transactions(&self, _: usize, _: usize) -> Vec<Transaction> {
        Vec::new()
    }
    fn pool_matching(&self, _: &dyn Fn(&i8o8i_primitives::Txid) -> bool) -> Vec<Transaction> {
        Vec::new()
    }
    fn import_block(&self, block: Block) -> BlockVerdict {
        self.headers
            .lock()
            .unwrap()
            .insert(block.header.hash(), block.header.clone());
        *self.tip.lock().unwrap() = block.header;
        BlockVerdict::Connected
    }
    fn import_transaction(&self, _: Transaction) -> TxVerdict {
        TxVerdict::Ignored("no pool".into())
    }
    fn unix_now(&self) -> u64 {
        0
    }
    fn is_shutting_down(&self) -> bool {
        false
    }
    fn peers_changed(&self, _: usize) {}
    fn peer_records(&self, _: &[u8]) -> Result<PeerRecords, StoreError> {
        Ok(Vec::new())
    }
    fn put_peer_record(&self, _: &[u8], _: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }
    fn delete_peer_record(&self, _: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }
}
