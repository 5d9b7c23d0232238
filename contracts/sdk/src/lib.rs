//! Write I8o8iCoin WebAssembly contracts as plain Rust functions.
//!
//! A contract is a `no_std` crate built to `wasm32-unknown-unknown` that exports `memory`,
//! `call` and optionally `deploy`. This crate gives it:
//! - safe wrappers for the node's host API (module `env`, documented in the node's
//!   `i8o8i_contract_engine::host` module): input and return data, [`revert`], storage, caller,
//!   value, balance, block height and time, [`transfer`], events, hashing, signature checks, gas,
//!   and calls into other contracts ([`Call`]);
//! - typed storage: [`storage::Item`] and [`storage::Map`], keyed and valued with SCALE;
//! - [`entry_points!`]: a contract's methods are plain Rust functions whose SCALE-encoded
//!   arguments it decodes and whose result it returns; it also embeds the method list (the ABI)
//!   in a custom section, so wallets and the CLI encode arguments without a separate file;
//! - on non-wasm targets, a native test environment ([`testing`]) so contract logic is
//!   unit-tested with `cargo test`, without a node.
//!
//! Call input is the SCALE encoding of `(method name: String, arg1, arg2, …)`.
//! Accounts are output scripts ([`Account`]): a contract sees its caller as the script that
//! locked the first coin the calling transaction spends, and pays out by creating outputs locked
//! by such scripts.

#![no_std]

extern crate alloc;

#[cfg(not(target_arch = "wasm32"))]
extern crate std;

use alloc::string::String;
use alloc::vec::Vec;

pub use parity_scale_codec::{self as codec, Decode, Encode};

mod host;
pub mod storage;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(test)]
mod world_tests;

/// Largest caller script the host reports; longer scripts cannot call contracts.
pub const MAX_ACCOUNT_LEN: usize = 64;
/// Most topics one event carries.
pub const MAX_TOPICS: usize = 4;

/// An account: the output script that identifies it (e.g. a P2PKH script), as the chain's
/// addresses encode it. Tokens are held by accounts; [`transfer`] pays one.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub struct Account(pub Vec<u8>);

impl Account {
    /// The script bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Account {
    /// The account of the contract at `address`: `OP_RETURN <address>`, the script a contract
    /// is known by when it calls another (its [`caller`]) and that [`transfer`] credits to its
    /// balance. Tokens held by a contract are held by this account.
    pub fn contract(address: &Address) -> Account {
        let mut script = Vec::with_capacity(34);
        script.extend_from_slice(&[0x6a, 0x20]);
        script.extend_from_slice(address);
        Account(script)
    }

    /// The contract this account is, if it is a contract's ([`Account::contract`]).
    pub fn as_contract(&self) -> Option<Address> {
        self.0.strip_prefix(&[0x6a, 0x20])?.try_into().ok()
    }
}

/// A contract's own address.
pub type Address = [u8; 32];

/// Why a call into another contract did not return a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The callee reverted (and was rolled back) with this reason.
    Reverted(String),
    /// The callee trapped or ran out of gas (and was rolled back); the host says how.
    Failed(String),
    /// No contract at the address.
    NoContract,
    /// The callee is already running further up the call stack: reentrancy is refused.
    Reentrancy,
    /// The call stack is as deep as the node allows.
    DepthExceeded,
    /// This contract's balance does not cover the value.
    InsufficientBalance,
    /// The callee returned data that does not decode as the expected type.
    BadReturn,
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CallError::Reverted(why) => write!(f, "the callee reverted: {why}"),
            CallError::Failed(why) => write!(f, "the callee failed: {why}"),
            CallError::NoContract => f.write_str("no contract at that address"),
            CallError::Reentrancy => f.write_str("reentrancy refused"),
            CallError::DepthExceeded => f.write_str("call depth exceeded"),
            CallError::InsufficientBalance => f.write_str("balance below the value"),
            CallError::BadReturn => f.write_str("the callee's result does not decode"),
        }
    }
}

/// A call into another contract, built like its input: the method, then each argument.
///
/// ```ignore
/// let balance: u128 = Call::new(token, "balance_of").arg(&who).query()?;
/// Call::new(token, "transfer").arg(&to).arg(&amount).invoke::<()>()?;
/// Call::new(vault, "deposit").value(1_000).gas(200_000).invoke::<()>()?;
/// ```
///
/// The callee sees this contract's [`Account::contract`] as its [`caller`]. A failed callee
/// is rolled back and this call goes on with the [`CallError`]: revert with it (`?` into a
/// [`revert`]) or carry on. Gas: at most [`Call::gas`] (default: all but a 64th of what is
/// left); this call pays what the callee used.
#[derive(Debug, Clone)]
#[must_use = "a call does nothing until `invoke` or `query`"]
pub struct Call {
    contract: Address,
    input: Vec<u8>,
    value: Amount,
    gas: u64,
}

impl Call {
    /// A call of `method` on the contract at `contract`.
    pub fn new(contract: Address, method: &str) -> Call {
        Call {
            contract,
            input: method.encode(),
            value: 0,
            gas: 0,
        }
    }

    /// Appends the next argument.
    pub fn arg<T: Encode>(mut self, arg: &T) -> Call {
        arg.encode_to(&mut self.input);
        self
    }

    /// Moves `value` of this contract's balance into the callee with the call.
    pub fn value(mut self, value: Amount) -> Call {
        self.value = value;
        self
    }

    /// Gives the callee at most `gas` (0, the default: all but a 64th of what is left).
    pub fn gas(mut self, gas: u64) -> Call {
        self.gas = gas;
        self
    }

    /// Runs the call; its state changes stay if it succeeds.
    ///
    /// # Errors
    /// [`CallError`] saying why there is no result.
    pub fn invoke<R: Decode>(self) -> Result<R, CallError> {
        self.run(false)
    }

    /// Runs the call read-only (no value): the callee, and whatever it calls, may not write
    /// storage, emit events or transfer.
    ///
    /// # Errors
    /// [`CallError`] saying why there is no result.
    pub fn query<R: Decode>(self) -> Result<R, CallError> {
        self.run(true)
    }

    fn run<R: Decode>(self, query: bool) -> Result<R, CallError> {
        let (status, data) =
            host::call_contract(&self.contract, &self.input, self.value, self.gas, query);
        let text = || String::from_utf8_lossy(&data).into_owned();
        match status {
            0 => R::decode(&mut &data[..]).map_err(|_| CallError::BadReturn),
            1 => Err(CallError::Reverted(text())),
            3 => Err(CallError::NoContract),
            4 => Err(CallError::Reentrancy),
            5 => Err(CallError::DepthExceeded),
            6 => Err(CallError::InsufficientBalance),
            _ => Err(CallError::Failed(text())),
        }
    }
}

/// The amount of the chain's coin, in base units (10⁻⁸ I8O).
pub type Amount = u64;

/// The call's input data.
pub fn input() -> Vec<u8> {
    host::input()
}

/// Sets the data the call returns (replacing any set before).
pub fn set_return(data: &[u8]) {
    host::set_return(data)
}

/// Stops the call and reverts every state change it made, with `reason` in its receipt. Gas
/// used so far is still charged.
pub fn revert(reason: &str) -> ! {
    host::revert(reason.as_bytes())
}

/// Reverts with `reason` unless `condition` holds.
pub fn require(condition: bool, reason: &str) {
    if !condition {
        revert(reason)
    }
}

/// The account that sent the calling transaction.
pub fn caller() -> Account {
    host::caller()
}

/// This contract's address.
pub fn address() -> Address {
    host::address()
}

/// Value the calling transaction moved into this contract with the call.
pub fn value_received() -> Amount {
    host::value_received()
}

/// This contract's balance, including [`value_received`].
pub fn balance() -> Amount {
    host::balance()
}

/// Height of the block the call executes in.
pub fn block_height() -> u64 {
    host::block_height()
}

/// Timestamp (UNIX seconds) of the block the call executes in.
pub fn block_time() -> u64 {
    host::block_time()
}

/// The balance is smaller than a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsufficientBalance;

/// Pays `amount` from this contract's balance to `to`: the transaction gets an output locked by
/// `to`'s script once the call succeeds.
///
/// # Errors
/// [`InsufficientBalance`] if the contract holds less than `amount`.
pub fn transfer(to: &Account, amount: Amount) -> Result<(), InsufficientBalance> {
    host::transfer(to.as_bytes(), amount)
}

/// Emits an event with up to [`MAX_TOPICS`] 32-byte topics (indexed, e.g. the event's name
/// hash and the accounts it concerns) and SCALE data.
pub fn emit_event(topics: &[[u8; 32]], data: &[u8]) {
    host::emit_event(topics, data)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    host::sha256(data)
}

/// RIPEMD-160 of `data`.
pub fn ripemd160(data: &[u8]) -> [u8; 20] {
    host::ripemd160(data)
}

/// Whether `signature` (strict DER, low S) by the compressed or uncompressed secp256k1
/// `pubkey` signs the 32-byte `message` digest.
pub fn secp256k1_verify(message: &[u8; 32], signature: &[u8], pubkey: &[u8]) -> bool {
    host::secp256k1_verify(message, signature, pubkey)
}

/// Gas the call may still use.
pub fn gas_left() -> u64 {
    host::gas_left()
}

/// The topic naming an event: its name, zero-padded to 32 bytes (readable in explorers, and a
/// `const`, so emitting costs no hashing).
///
/// # Panics
/// At compile time in a `const`, if `name` is longer than 32 bytes.
pub const fn topic(name: &str) -> [u8; 32] {
    let bytes = name.as_bytes();
    assert!(
        bytes.len() <= 32,
        "an event name topic holds at most 32 bytes"
    );
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < bytes.len() {
        t[i] = bytes[i];
        i += 1;
    }
    t
}

/// A topic for an account: its script, zero-padded (scripts of up to 32 bytes, which standard
/// ones are) or hashed (longer ones).
pub fn account_topic(account: &Account) -> [u8; 32] {
    let bytes = account.as_bytes();
    if bytes.len() <= 32 {
        let mut t = [0u8; 32];
        t[..bytes.len()].copy_from_slice(bytes);
        t
    } else {
        sha256(bytes)
    }
}

/// Decodes the next argument of a call, reverting with a message naming it when the input is
/// malformed. Used by [`entry_points!`].
#[doc(hidden)]
pub fn decode_arg<T: Decode>(input: &mut &[u8], name: &str) -> T {
    match T::decode(input) {
        Ok(v) => v,
        Err(_) => revert_owned(alloc::format!("invalid argument `{name}`")),
    }
}

/// Reverts with an owned message.
#[doc(hidden)]
pub fn revert_owned(reason: String) -> ! {
    revert(&reason)
}

/// Runs a method with the call's input and returns its result. Used by [`entry_points!`].
#[doc(hidden)]
pub fn finish<R: Encode>(rest: &[u8], result: R) {
    if !rest.is_empty() {
        revert("trailing bytes after the arguments");
    }
    set_return(&result.encode());
}

/// Whether `bytes[i..]` starts with the `, )` that `entry_points!` leaves after a last
/// argument.
const fn trailing_separator(bytes: &[u8], i: usize) -> bool {
    i + 2 < bytes.len() && bytes[i] == b',' && bytes[i + 1] == b' ' && bytes[i + 2] == b')'
}

/// Length of the ABI text `raw` once every `, )` is shortened to `)`.
#[doc(hidden)]
pub const fn abi_len(raw: &str) -> usize {
    let bytes = raw.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if trailing_separator(bytes, i) {
            i += 2;
        } else {
            i += 1;
            n += 1;
        }
    }
    n
}

/// The ABI text `raw` with every `, )` shortened to `)`, at compile time.
#[doc(hidden)]
pub const fn abi_bytes<const N: usize>(raw: &str) -> [u8; N] {
    let bytes = raw.as_bytes();
    let mut out = [0u8; N];
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() && n < N {
        if trailing_separator(bytes, i) {
            i += 2;
        } else {
            out[n] = bytes[i];
            i += 1;
            n += 1;
        }
    }
    out
}

/// Declares a contract's entry points: an optional constructor run once at deployment, and
/// the methods a call may name. Each method is a plain Rust function in scope; its arguments
/// are SCALE-decoded from the input in order and its result SCALE-encoded as the return data.
///
/// ```ignore
/// i8o8i_contract_sdk::entry_points! {
///     deploy fn init(supply: u128);
///     fn transfer(to: Account, amount: u128) -> bool;
///     fn balance_of(owner: Account) -> u128;
/// }
/// ```
///
/// A contract deployed with an admin may be migrated to new code; the new code declares the
/// function that converts the old storage, run once in the migrating transaction:
///
/// ```ignore
/// i8o8i_contract_sdk::entry_points! {
///     deploy fn init(supply: u128);
///     migrate fn upgrade(fee_percent: u8);
///     fn transfer(to: Account, amount: u128) -> bool;
/// }
/// ```
///
/// Events the contract emits may be declared after the methods, so that tools decode them:
/// the first topic is [`topic`]`(name)`, then one topic per field marked `#[topic]` (an
/// [`Account`] as [`account_topic`], a `[u8; 32]` as is), in order; the other fields are the
/// event's data, SCALE-encoded in order. Declaring changes nothing the contract does; emitting
/// stays [`emit_event`].
///
/// ```ignore
/// i8o8i_contract_sdk::entry_points! {
///     fn transfer(to: Account, amount: u128) -> bool;
///     event Transfer(#[topic] from: Account, #[topic] to: Account, amount: u128);
/// }
/// ```
///
/// The ABI (one `name(arg: Type, …) -> Type` per line, constructor first as `deploy …`, the
/// migration as `migrate …`, then each event as `event Name(topic field: Type, field: Type, …)`) goes in the custom section
/// `i8o8i_abi` and, natively, in the constant `ABI`.
#[macro_export]
macro_rules! entry_points {
    (
        $( deploy fn $init:ident ( $( $iarg:ident : $ity:ty ),* $(,)? ); )?
        $( migrate fn $migrate:ident ( $( $marg:ident : $mty:ty ),* $(,)? ); )?
        $( fn $name:ident ( $( $arg:ident : $ty:ty ),* $(,)? ) $( -> $ret:ty )? ; )*
        $( event $event:ident ( $( $( #[$indexed:ident] )? $field:ident : $fty:ty ),* $(,)? ); )*
    ) => {
        const __ABI_RAW: &str = concat!(
            $( "deploy ", stringify!($init), "(", $( stringify!($iarg), ": ", stringify!($ity), ", ", )* ")\n", )?
            $( "migrate ", stringify!($migrate), "(", $( stringify!($marg), ": ", stringify!($mty), ", ", )* ")\n", )?
            $( stringify!($name), "(", $( stringify!($arg), ": ", stringify!($ty), ", ", )* ")" $(, " -> ", stringify!($ret) )?, "\n", )*
            $( "event ", stringify!($event), "(", $( $( stringify!($indexed), " ", )? stringify!($field), ": ", stringify!($fty), ", ", )* ")\n", )*
        );
        const __ABI_BYTES: [u8; $crate::abi_len(__ABI_RAW)] = $crate::abi_bytes(__ABI_RAW);

        /// The contract's methods, one per line: the constructor (`deploy …`) and each call.
        pub const ABI: &str = match ::core::str::from_utf8(&__ABI_BYTES) {
            Ok(abi) => abi,
            Err(_) => panic!("the ABI is the UTF-8 of Rust tokens"),
        };

        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "i8o8i_abi")]
        #[used]
        static ABI_SECTION: [u8; ABI.len()] = __ABI_BYTES;

        $(
            /// Constructor: decodes the deployment input and runs the constructor.
            pub fn deploy_entry() {
                let input = $crate::input();
                let mut data = &input[..];
                $( let $iarg: $ity = $crate::decode_arg(&mut data, stringify!($iarg)); )*
                let result = $init($($iarg),*);
                $crate::finish(data, result);
            }

            /// The `deploy` export.
            #[cfg(target_arch = "wasm32")]
            #[unsafe(no_mangle)]
            pub extern "C" fn deploy() {
                deploy_entry()
            }
        )?

        $(
            /// Migration: decodes the migration input and runs the migration function, when
            /// an admin replaces the contract's code by this one.
            pub fn migrate_entry() {
                let input = $crate::input();
                let mut data = &input[..];
                $( let $marg: $mty = $crate::decode_arg(&mut data, stringify!($marg)); )*
                let result = $migrate($($marg),*);
                $crate::finish(data, result);
            }

            /// The `migrate` export.
            #[cfg(target_arch = "wasm32")]
            #[unsafe(no_mangle)]
            pub extern "C" fn migrate() {
                migrate_entry()
            }
        )?

        /// Call dispatch: decodes the method name and its arguments and runs the method.
        pub fn call_entry() {
            let input = $crate::input();
            let mut data = &input[..];
            let method: $crate::__String = $crate::decode_arg(&mut data, "method");
            match method.as_str() {
                $(
                    stringify!($name) => {
                        $( let $arg: $ty = $crate::decode_arg(&mut data, stringify!($arg)); )*
                        let result = $name($($arg),*);
                        $crate::finish(data, result);
                    }
                )*
                other => $crate::revert_owned($crate::__format!("unknown method `{}`", other)),
            }
        }

        /// The `call` export.
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn call() {
            call_entry()
        }
    };
}

#[doc(hidden)]
pub use alloc::format as __format;
#[doc(hidden)]
pub use alloc::string::String as __String;
