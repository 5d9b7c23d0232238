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
//!
//! # Several contracts: [`World`]
//! A [`World`] runs several contracts' native code together, cw-multi-test style: deploy each
//! (its `entry_points!` `call_entry` and `deploy_entry`) at an address, then call them as any
//! account with value. Calls between them ([`Call`](crate::Call)) follow the chain's rules: a
//! callee that reverts or panics is rolled back (storage, balances, events, transfers) and
//! its caller gets the status and goes on; reentrancy is refused; at most
//! [`MAX_CALL_DEPTH`] frames; value moves with the call and must be covered; a query is
//! read-only all the way down (a write, event, transfer or value in it fails that frame); a
//! transfer to a contract's account credits its balance. Gas is not metered natively — for
//! exact gas, run the `.wasm` in the chain's engine (`i8o8i_contract_engine::harness`).
//!
//! ```ignore
//! let mut world = World::new();
//! world.deploy(TOKEN, Contract::new(token::call_entry).deploy(token::deploy_entry), alice(), init)?;
//! world.deploy(POOL, Contract::new(exchange::call_entry).deploy(exchange::deploy_entry), alice(), pool_init)?;
//! world.call(alice(), POOL, method("add_liquidity", (500u128,)), 10_000)?;
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
    /// Which contract emitted each of `events` (a [`World`]'s contracts; the contract under
    /// test otherwise).
    pub emitters: Vec<Address>,
    /// Whether the running frame is a query's (read-only).
    pub read_only: bool,
    /// A [`World`]'s contracts not running now (the running one's storage and balance are
    /// the fields above).
    pub contracts: BTreeMap<Address, NativeContract>,
    /// The frames below the running one, innermost last.
    pub frames: Vec<Frame>,
    /// The code of the running [`World`] contract (`None` outside a `World`).
    pub running_code: Option<Contract>,
}

/// A contract of a [`World`]: its code (native functions) and state.
#[derive(Debug, Clone)]
pub struct NativeContract {
    /// Its code.
    pub code: Contract,
    /// Its storage.
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Its balance.
    pub balance: Amount,
}

/// A suspended frame: what the running frame's fields held before a nested call.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The contract.
    pub address: Address,
    /// Its caller.
    pub caller: Account,
    /// Value it received.
    pub value: Amount,
    /// Its input.
    pub input: Vec<u8>,
    /// What it returned so far.
    pub return_data: Vec<u8>,
    /// Whether it is read-only.
    pub read_only: bool,
}

/// A contract's native code: the functions `entry_points!` generates.
#[derive(Debug, Clone, Copy)]
pub struct Contract {
    /// `call_entry`.
    pub call: fn(),
    /// `deploy_entry`, when the contract has a constructor.
    pub deploy: Option<fn()>,
}

impl Contract {
    /// A contract whose calls run `call` (its `call_entry`).
    pub fn new(call: fn()) -> Contract {
        Contract { call, deploy: None }
    }

    /// With `deploy` (its `deploy_entry`) as the constructor.
    pub fn deploy(mut self, deploy: fn()) -> Contract {
        self.deploy = Some(deploy);
        self
    }
}

/// The most frames of one execution, as on the chain.
pub const MAX_CALL_DEPTH: usize = 8;

/// The panic payload of a host function that fails the frame (a write in a query): the
/// chain's trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trapped(pub String);

/// Fails the running frame if it is read-only, as the chain traps a query frame that writes.
pub(crate) fn check_writable(what: &str) {
    if with_env(|e| e.read_only) {
        std::panic::panic_any(Trapped(alloc::format!("{what} in a read-only query")));
    }
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
            emitters: Vec::new(),
            read_only: false,
            contracts: BTreeMap::new(),
            frames: Vec::new(),
            running_code: None,
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
/// address with no mock (and no [`World`] contract) fails with `NoContract`. A successful
/// call's value leaves this contract's balance. To run the real contracts together, use a
/// [`World`].
pub fn mock_contract(address: Address, mock: MockContract) {
    MOCKS.with(|m| m.borrow_mut().insert(address, mock));
}

pub(crate) fn call_mock(
    address: &Address,
    input: &[u8],
    value: Amount,
    query: bool,
) -> (i32, Vec<u8>) {
    let in_world = with_env(|e| {
        e.contracts.contains_key(address) || (e.running_code.is_some() && e.address == *address)
    });
    if in_world {
        return call_native(address, input, value, query);
    }
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

/// How a frame ended.
enum Ended {
    Returned(Vec<u8>),
    Reverted(String),
    Trapped(String),
}

/// Makes `address` the running contract: the running frame (if any) is suspended, the
/// callee's storage and balance (plus `value`) become the environment's.
fn enter(address: &Address, caller: Account, input: Vec<u8>, value: Amount, read_only: bool) {
    with_env(|e| {
        // Callers look the contract up first (its code is what they run).
        let Some(callee) = e.contracts.remove(address) else {
            return;
        };
        // A World contract running calls: suspend it, its state back with its code.
        if let Some(code) = e.running_code.take() {
            e.frames.push(Frame {
                address: e.address,
                caller: core::mem::replace(&mut e.caller, Account(Vec::new())),
                value: e.value,
                input: core::mem::take(&mut e.input),
                return_data: core::mem::take(&mut e.return_data),
                read_only: e.read_only,
            });
            let me = NativeContract {
                code,
                storage: core::mem::take(&mut e.storage),
                balance: e.balance,
            };
            e.contracts.insert(e.address, me);
        }
        e.read_only = read_only || e.read_only;
        e.address = *address;
        e.caller = caller;
        e.value = value;
        e.input = input;
        e.return_data = Vec::new();
        e.storage = callee.storage;
        e.balance = callee.balance.checked_add(value).expect("balance overflow");
        e.running_code = Some(callee.code);
    });
}

/// Ends the running frame: its state goes back to its contract and the suspended frame (if
/// any) runs again. Returns the return data.
fn leave() -> Vec<u8> {
    with_env(|e| {
        let code = e.running_code.take().unwrap_or(Contract::new(|| {}));
        // The frame's state goes back to its contract.
        let state = NativeContract {
            code,
            storage: core::mem::take(&mut e.storage),
            balance: e.balance,
        };
        e.contracts.insert(e.address, state);
        let returned = core::mem::take(&mut e.return_data);
        match e.frames.pop() {
            Some(frame) => {
                let mine = e.contracts.remove(&frame.address);
                e.address = frame.address;
                e.caller = frame.caller;
                e.value = frame.value;
                e.input = frame.input;
                e.return_data = frame.return_data;
                e.read_only = frame.read_only;
                if let Some(mine) = mine {
                    e.storage = mine.storage;
                    e.balance = mine.balance;
                    e.running_code = Some(mine.code);
                }
            }
            None => {
                e.address = [0; 32];
                e.caller = Account(Vec::new());
                e.value = 0;
                e.input = Vec::new();
                e.read_only = false;
                e.balance = 0;
            }
        }
        returned
    })
}

/// Runs `entry` in the frame just entered, catching reverts, traps and panics as the chain
/// turns them into outcomes (a panic is a revert with its message, as the SDK's panic
/// handler makes it on wasm32).
fn run_frame(entry: fn()) -> Ended {
    let outcome = std::panic::catch_unwind(entry);
    let returned = leave();
    match outcome {
        Ok(()) => Ended::Returned(returned),
        Err(payload) => {
            if let Some(r) = payload.downcast_ref::<Reverted>() {
                Ended::Reverted(r.0.clone())
            } else if let Some(t) = payload.downcast_ref::<Trapped>() {
                Ended::Trapped(t.0.clone())
            } else if let Some(message) = payload.downcast_ref::<&'static str>() {
                Ended::Reverted((*message).into())
            } else {
                Ended::Reverted("panic".into())
            }
        }
    }
}

/// A nested call from the running contract to the [`World`] contract at `address`.
fn call_native(address: &Address, input: &[u8], value: Amount, query: bool) -> (i32, Vec<u8>) {
    if query && value != 0 {
        return (2, b"value moved in a read-only query".to_vec());
    }
    let (running, on_stack, depth, balance) = with_env(|e| {
        (
            e.address,
            e.address == *address || e.frames.iter().any(|f| f.address == *address),
            e.frames.len() + 1,
            e.balance,
        )
    });
    if on_stack {
        return (4, Vec::new());
    }
    if depth >= MAX_CALL_DEPTH {
        return (5, Vec::new());
    }
    // Not running, so its state (and code) is in the map.
    let Some(code) = with_env(|e| e.contracts.get(address).map(|c| c.code)) else {
        return (3, Vec::new());
    };
    if balance < value {
        return (6, Vec::new());
    }
    let saved = with_env(|e| e.clone());
    with_env(|e| e.balance -= value);
    enter(
        address,
        Account::contract(&running),
        input.to_vec(),
        value,
        query,
    );
    match run_frame(code.call) {
        Ended::Returned(data) => (0, data),
        Ended::Reverted(reason) => {
            reset(saved);
            (1, reason.into_bytes())
        }
        Ended::Trapped(why) => {
            reset(saved);
            (2, why.into_bytes())
        }
    }
}

/// Why a [`World`] call did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The contract reverted (or panicked) with this reason.
    Reverted(String),
    /// It broke a rule the chain enforces by trapping (a write in a query).
    Trapped(String),
    /// No contract at the address.
    NoContract,
    /// The address is taken.
    AddressInUse,
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Reverted(why) => write!(f, "reverted: {why}"),
            Failure::Trapped(why) => write!(f, "trapped: {why}"),
            Failure::NoContract => f.write_str("no contract at that address"),
            Failure::AddressInUse => f.write_str("a contract is already at that address"),
        }
    }
}

/// An event a [`World`] contract emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    /// The contract.
    pub contract: Address,
    /// Topics.
    pub topics: Vec<[u8; 32]>,
    /// Data.
    pub data: Vec<u8>,
}

/// Several contracts' native code run together on this thread (see the module
/// documentation). Creating one resets the thread's environment.
#[derive(Debug)]
pub struct World {
    _thread_bound: core::marker::PhantomData<*const ()>,
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

impl World {
    /// An empty world at height 1.
    pub fn new() -> World {
        reset(TestEnv {
            address: [0; 32],
            caller: Account(Vec::new()),
            ..TestEnv::default()
        });
        MOCKS.with(|m| m.borrow_mut().clear());
        World {
            _thread_bound: core::marker::PhantomData,
        }
    }

    /// Deploys `code` at `address` as `deployer`, running its constructor with `init`
    /// (SCALE arguments). Nothing stays if the constructor fails.
    ///
    /// # Errors
    /// [`Failure`] from the constructor, or [`Failure::AddressInUse`].
    pub fn deploy(
        &mut self,
        address: Address,
        code: Contract,
        deployer: Account,
        init: Vec<u8>,
    ) -> Result<(), Failure> {
        if with_env(|e| e.contracts.contains_key(&address)) {
            return Err(Failure::AddressInUse);
        }
        let state = NativeContract {
            code,
            storage: BTreeMap::new(),
            balance: 0,
        };
        with_env(|e| e.contracts.insert(address, state));
        let Some(constructor) = code.deploy else {
            return Ok(());
        };
        self.run(address, deployer, init, 0, false, constructor)
            .map(|_| ())
            .inspect_err(|_| {
                with_env(|e| e.contracts.remove(&address));
            })
    }

    /// Calls `address` as `caller` with `input` (SCALE method name and arguments) and
    /// `value`; keeps what it did if it returns.
    ///
    /// # Errors
    /// [`Failure`]; nothing it did stays.
    pub fn call(
        &mut self,
        caller: Account,
        address: Address,
        input: Vec<u8>,
        value: Amount,
    ) -> Result<Vec<u8>, Failure> {
        let code =
            with_env(|e| e.contracts.get(&address).map(|c| c.code)).ok_or(Failure::NoContract)?;
        self.run(address, caller, input, value, false, code.call)
    }

    /// [`World::call`] whose changes are dropped, as `contract_query` runs.
    ///
    /// # Errors
    /// As [`World::call`].
    pub fn query(
        &self,
        caller: Account,
        address: Address,
        input: Vec<u8>,
    ) -> Result<Vec<u8>, Failure> {
        let saved = with_env(|e| e.clone());
        let code =
            with_env(|e| e.contracts.get(&address).map(|c| c.code)).ok_or(Failure::NoContract)?;
        let result = World::run_entry(address, caller, input, 0, false, code.call);
        reset(saved);
        result
    }

    fn run(
        &mut self,
        address: Address,
        caller: Account,
        input: Vec<u8>,
        value: Amount,
        read_only: bool,
        entry: fn(),
    ) -> Result<Vec<u8>, Failure> {
        let saved = with_env(|e| e.clone());
        let result = World::run_entry(address, caller, input, value, read_only, entry);
        if result.is_err() {
            reset(saved);
        }
        result
    }

    fn run_entry(
        address: Address,
        caller: Account,
        input: Vec<u8>,
        value: Amount,
        read_only: bool,
        entry: fn(),
    ) -> Result<Vec<u8>, Failure> {
        enter(&address, caller, input, value, read_only);
        match run_frame(entry) {
            Ended::Returned(data) => Ok(data),
            Ended::Reverted(why) => Err(Failure::Reverted(why)),
            Ended::Trapped(why) => Err(Failure::Trapped(why)),
        }
    }

    /// The value `address` stores under `key`.
    pub fn storage(&self, address: &Address, key: &[u8]) -> Option<Vec<u8>> {
        with_env(|e| e.contracts.get(address)?.storage.get(key).cloned())
    }

    /// The balance of the contract at `address` (0 when there is none).
    pub fn balance(&self, address: &Address) -> Amount {
        with_env(|e| e.contracts.get(address).map_or(0, |c| c.balance))
    }

    /// Every event kept so far, in order, with the contract that emitted it.
    pub fn events(&self) -> Vec<Emitted> {
        with_env(|e| {
            e.events
                .iter()
                .zip(&e.emitters)
                .map(|((topics, data), contract)| Emitted {
                    contract: *contract,
                    topics: topics.clone(),
                    data: data.clone(),
                })
                .collect()
        })
    }

    /// Every payment to a script kept so far: (to, amount). Payments to a contract's account
    /// are credits to its balance instead, as on the chain.
    pub fn transfers(&self) -> Vec<(Account, Amount)> {
        transfers()
    }

    /// Sets the block height and time later calls see.
    pub fn set_block(&mut self, height: u64, time: u64) {
        set_block(height, time);
    }
}
