//! Native test environment: the host API backed by an in-memory world, so contract logic runs
//! under `cargo test` without a node or a wasm build.
//!
//! Each test thread has its own [`TestEnv`]; set the caller, value and block with its setters,
//! call the contract's functions directly, then inspect storage, events and transfers. A
//! [`revert`](crate::revert) panics with [`Reverted`]; [`expect_revert`] catches it and
//! restores the storage the call had changed, as the node would.
//!
//! ```ignore
//! use i8o8i_contract_sdk::testing::{self, TestEnv};
//! testing::reset(TestEnv::default().with_caller(alice()));
//! init(1_000);
//! assert_eq!(testing::expect_revert(|| mint(bob(), 5)), "only the owner may mint");
//! ```

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::{Account, Address, Amount};

/// The panic payload of a [`revert`](crate::revert) in the test environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reverted(pub String);

/// The simulated world of one contract.
#[derive(Debug, Clone)]
pub struct TestEnv {
    /// Input of the current call (set by [`call`]).
    pub input: Vec<u8>,
    /// Data the call returned.
    pub return_data: Vec<u8>,
    /// The contract's storage.
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The calling account.
    pub caller: Account,
    /// The contract's address.
    pub address: Address,
    /// Value received by the current call.
    pub value: Amount,
    /// The contract's balance.
    pub balance: Amount,
    /// Block height.
    pub block_height: u64,
    /// Block time (UNIX seconds).
    pub block_time: u64,
    /// Events emitted: (topics, data).
    pub events: Vec<(Vec<[u8; 32]>, Vec<u8>)>,
    /// Transfers made: (to, amount).
    pub transfers: Vec<(Account, Amount)>,
}

impl Default for TestEnv {
    fn default() -> TestEnv {
        TestEnv {
            input: Vec::new(),
            return_data: Vec::new(),
            storage: BTreeMap::new(),
            caller: Account(alloc::vec![0x76, 0xa9, 0x14]),
            address: [0xc0; 32],
            value: 0,
            balance: 0,
            block_height: 1,
            block_time: 1_700_000_000,
            events: Vec::new(),
            transfers: Vec::new(),
        }
    }
}

impl TestEnv {
    /// With `caller` as the calling account.
    pub fn with_caller(mut self, caller: Account) -> TestEnv {
        self.caller = caller;
        self
    }
}

std::thread_local! {
    static ENV: RefCell<TestEnv> = RefCell::new(TestEnv::default());
}

/// Runs `f` on this thread's environment.
pub fn with_env<R>(f: impl FnOnce(&mut TestEnv) -> R) -> R {
    ENV.with(|e| f(&mut e.borrow_mut()))
}

/// Replaces this thread's environment.
pub fn reset(env: TestEnv) {
    with_env(|e| *e = env);
}

/// Sets the calling account.
pub fn set_caller(caller: Account) {
    with_env(|e| e.caller = caller);
}

/// Sets the block height and time.
pub fn set_block(height: u64, time: u64) {
    with_env(|e| {
        e.block_height = height;
        e.block_time = time;
    });
}

/// Simulates receiving `value` with the next call: sets the received value and adds it to the
/// balance.
pub fn receive(value: Amount) {
    with_env(|e| {
        e.value = value;
        e.balance = e.balance.checked_add(value).expect("balance overflow");
    });
}

/// Events emitted so far.
pub fn events() -> Vec<(Vec<[u8; 32]>, Vec<u8>)> {
    with_env(|e| e.events.clone())
}

/// Transfers made so far.
pub fn transfers() -> Vec<(Account, Amount)> {
    with_env(|e| e.transfers.clone())
}

/// Runs `f`, which must revert, and returns the revert reason. Storage, events, transfers and
/// balance are restored to what they were before, as the node reverts a failed call.
///
/// # Panics
/// If `f` returns normally or panics with something other than a revert.
pub fn expect_revert<R>(f: impl FnOnce() -> R) -> String {
    let saved = with_env(|e| e.clone());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    match result {
        Ok(_) => panic!("expected the call to revert, it returned"),
        Err(payload) => match payload.downcast::<Reverted>() {
            Ok(r) => {
                reset(saved);
                r.0
            }
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}

/// Runs a contract's dispatch function (`call_entry` from `entry_points!`) with `input`, as
/// a transaction would, and returns the return data.
pub fn call(entry: fn(), input: Vec<u8>) -> Vec<u8> {
    with_env(|e| {
        e.input = input;
        e.return_data.clear();
    });
    entry();
    with_env(|e| core::mem::take(&mut e.return_data))
}

/// A stand-in for another contract in native tests: given the call's input and value, its
/// return data, or `Err(reason)` to revert.
pub type MockContract = fn(input: &[u8], value: Amount) -> Result<Vec<u8>, String>;

std::thread_local! {
    static MOCKS: RefCell<BTreeMap<Address, MockContract>> = const { RefCell::new(BTreeMap::new()) };
}

/// Answers [`Call`](crate::Call)s to `address` with `mock` on this thread; a call to an
/// address with no mock fails with `NoContract`. A successful call's value leaves this
/// contract's balance. (Running several real contracts together is the node's job: deploy
/// the `.wasm` modules on a dev node.)
pub fn mock_contract(address: Address, mock: MockContract) {
    MOCKS.with(|m| m.borrow_mut().insert(address, mock));
}

pub(crate) fn call_mock(
    address: &Address,
    input: &[u8],
    value: Amount,
    query: bool,
) -> (i32, Vec<u8>) {
    let Some(mock) = MOCKS.with(|m| m.borrow().get(address).copied()) else {
        return (3, Vec::new());
    };
    if query && value != 0 {
        return (2, b"value moved in a read-only query".to_vec());
    }
    if with_env(|e| e.balance) < value {
        return (6, Vec::new());
    }
    match mock(input, value) {
        Ok(data) => {
            with_env(|e| e.balance -= value);
            (0, data)
        }
        Err(reason) => (1, reason.into_bytes()),
    }
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

pub(crate) fn secp256k1_verify(msg: &[u8; 32], sig: &[u8], pk: &[u8]) -> bool {
    use secp256k1::{Message, PublicKey, ecdsa};
    let (Ok(sig), Ok(pk)) = (ecdsa::Signature::from_der(sig), PublicKey::from_slice(pk)) else {
        return false;
    };
    let mut low_s = sig;
    low_s.normalize_s();
    low_s == sig && ecdsa::verify(&sig, Message::from_digest(*msg), &pk).is_ok()
}
