//! The host API contracts import from module `env`.
//!
//! Pointers and lengths are `i32` read as unsigned Wasm addresses; amounts, heights and gas are
//! `i64` carrying `u64` bits. Every function charges [`gas::HOST_CALL`] plus its own cost before
//! it does any work, checks every length against its cap and every pointer against the memory
//! (a fault traps the call: it is the contract's bug, and it pays the gas used), and never
//! panics.
//!
//! | function | signature | does |
//! |---|---|---|
//! | `input_len` | `() -> i32` | length of the call input |
//! | `input_read` | `(out) ` | copies the input to `out` |
//! | `set_return` | `(ptr, len)` | sets the return data (≤ 64 KiB) |
//! | `revert` | `(ptr, len)` | stops and reverts with a UTF-8 reason; never returns |
//! | `storage_read` | `(key, key_len, out, cap) -> i32` | −1 if absent, else the value's length; copies up to `cap` bytes |
//! | `storage_write` | `(key, key_len, val, val_len)` | keys ≤ 128 bytes, values ≤ 16 KiB |
//! | `storage_remove` | `(key, key_len)` | |
//! | `caller` | `(out) -> i32` | writes the caller's script (≤ 64 bytes), returns its length |
//! | `address` | `(out)` | writes the contract's 32-byte address |
//! | `value_received` | `() -> i64` | value moved in by this call |
//! | `balance` | `() -> i64` | current balance (including the value, minus transfers) |
//! | `block_height`, `block_time` | `() -> i64` | of the block executing the call |
//! | `transfer` | `(script, len, amount: i64) -> i32` | pays `amount` to a script (≤ 64 bytes) as an output; 0 = done, 1 = insufficient balance |
//! | `emit_event` | `(topics, count, data, len)` | ≤ 4 32-byte topics, ≤ 4 KiB data |
//! | `sha256`, `ripemd160` | `(ptr, len, out)` | writes 32 / 20 bytes |
//! | `secp256k1_verify` | `(msg32, sig, sig_len, pk, pk_len) -> i32` | 1 if the strict-DER low-S signature is valid |
//! | `gas_left` | `() -> i64` | |

use std::collections::BTreeMap;

use wasmparser::ValType;
use wasmtime::{Caller, Linker, Memory, StoreLimits};

use crate::gas;
use crate::limits::{
    MAX_EVENT_DATA, MAX_EVENTS, MAX_HASH_INPUT, MAX_KEY, MAX_RETURN, MAX_TOPICS,
    MAX_TRANSFER_SCRIPT, MAX_TRANSFERS, MAX_VALUE,
};
use crate::state::{StateKey, StateOverlay};
use i8o8i_primitives::ContractAddress;
use i8o8i_primitives::contract::Event;

/// A host function's name and Wasm signature.
#[derive(Debug)]
pub struct HostFunction {
    /// Import name in module `env`.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
}

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

macro_rules! host_fn {
    ($name:literal, [$($p:expr),*], [$($r:expr),*]) => {
        HostFunction { name: $name, params: &[$($p),*], results: &[$($r),*] }
    };
}

/// Every host function, as deploy-time validation checks imports against.
pub const HOST_FUNCTIONS: &[HostFunction] = &[
    host_fn!("input_len", [], [I32]),
    host_fn!("input_read", [I32], []),
    host_fn!("set_return", [I32, I32], []),
    host_fn!("revert", [I32, I32], []),
    host_fn!("storage_read", [I32, I32, I32, I32], [I32]),
    host_fn!("storage_write", [I32, I32, I32, I32], []),
    host_fn!("storage_remove", [I32, I32], []),
    host_fn!("caller", [I32], [I32]),
    host_fn!("address", [I32], []),
    host_fn!("value_received", [], [I64]),
    host_fn!("balance", [], [I64]),
    host_fn!("block_height", [], [I64]),
    host_fn!("block_time", [], [I64]),
    host_fn!("transfer", [I32, I32, I64], [I32]),
    host_fn!("emit_event", [I32, I32, I32, I32], []),
    host_fn!("sha256", [I32, I32, I32], []),
    host_fn!("ripemd160", [I32, I32, I32], []),
    host_fn!("secp256k1_verify", [I32, I32, I32, I32, I32], [I32]),
    host_fn!("gas_left", [], [I64]),
];

/// Why a host function stopped the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Not enough gas for the host function's charge.
    #[error("out of gas")]
    OutOfGas,
    /// The contract called `revert`.
    #[error("reverted: {0}")]
    Revert(String),
    /// A bad pointer or length, or a cap exceeded: the contract's fault.
    #[error("{0}")]
    Fault(String),
    /// This node's storage failed: nobody's fault on chain, so the execution is abandoned
    /// (see `ExecResult::storage_fault`), never turned into a receipt.
    #[error("storage failure: {0}")]
    Storage(i8o8i_primitives::StoreError),
}

/// What one execution sees and collects; owned by its `Store`.
pub struct HostState {
    pub(crate) limits: StoreLimits,
    pub(crate) memory: Option<Memory>,
    /// Committed-so-far state of the block (moved in for the call, moved out after).
    pub(crate) overlay: StateOverlay,
    /// This call's storage writes, applied to `overlay` only if it succeeds.
    pub(crate) journal: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    pub(crate) address: ContractAddress,
    pub(crate) caller: Vec<u8>,
    pub(crate) value: u64,
    pub(crate) balance: u64,
    pub(crate) height: u64,
    pub(crate) time: u64,
    pub(crate) input: Vec<u8>,
    pub(crate) return_data: Vec<u8>,
    pub(crate) events: Vec<Event>,
    pub(crate) transfers: Vec<(Vec<u8>, u64)>,
}

type HostResult<T> = wasmtime::Result<T>;

fn fault(msg: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostError::Fault(msg.into()))
}

fn charge(caller: &mut Caller<'_, HostState>, cost: u64) -> HostResult<()> {
    let cost = cost.saturating_add(gas::HOST_CALL);
    let fuel = caller.get_fuel()?;
    match fuel.checked_sub(cost) {
        Some(left) => caller.set_fuel(left),
        None => {
            caller.set_fuel(0)?;
            Err(wasmtime::Error::new(HostError::OutOfGas))
        }
    }
}

fn length(len: i32, max: usize, what: &str) -> HostResult<usize> {
    let len = usize::try_from(len).map_err(|_| fault(format!("negative {what} length")))?;
    if len > max {
        return Err(fault(format!("{what} of {len} bytes exceeds {max}")));
    }
    Ok(len)
}

fn memory(caller: &Caller<'_, HostState>) -> HostResult<Memory> {
    caller
        .data()
        .memory
        .ok_or_else(|| fault("contract has no memory"))
}

fn read(caller: &Caller<'_, HostState>, ptr: i32, len: usize, what: &str) -> HostResult<Vec<u8>> {
    let mut buf = vec![0u8; len];
    memory(caller)?
        .read(caller, ptr as u32 as usize, &mut buf)
        .map_err(|_| fault(format!("{what}: pointer out of bounds")))?;
    Ok(buf)
}

fn write(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8], what: &str) -> HostResult<()> {
    memory(caller)?
        .write(&mut *caller, ptr as u32 as usize, bytes)
        .map_err(|_| fault(format!("{what}: pointer out of bounds")))
}

fn storage_get(state: &HostState, key: &[u8]) -> HostResult<Option<Vec<u8>>> {
    let full = StateKey::storage(&state.address, key);
    if let Some(v) = state.journal.get(&full) {
        return Ok(v.clone());
    }
    state
        .overlay
        .get(&full)
        .map_err(|e| wasmtime::Error::new(HostError::Storage(e)))
}

fn per_byte(rate: u64, bytes: usize) -> u64 {
    rate.saturating_mul(bytes as u64)
}

/// Defines every function of [`HOST_FUNCTIONS`] in `linker`.
///
/// # Errors
/// Only if a definition clashes (a bug).
pub(crate) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "input_len",
        |mut c: Caller<'_, HostState>| -> HostResult<i32> {
            charge(&mut c, 0)?;
            Ok(c.data().input.len() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "input_read",
        |mut c: Caller<'_, HostState>, out: i32| -> HostResult<()> {
            let input = std::mem::take(&mut c.data_mut().input);
            let result = charge(&mut c, per_byte(gas::COPY_PER_BYTE, input.len()))
                .and_then(|()| write(&mut c, out, &input, "input_read"));
            c.data_mut().input = input;
            result
        },
    )?;
    linker.func_wrap(
        "env",
        "set_return",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32| -> HostResult<()> {
            let len = length(len, MAX_RETURN, "return data")?;
            charge(&mut c, per_byte(gas::COPY_PER_BYTE, len))?;
            c.data_mut().return_data = read(&c, ptr, len, "set_return")?;
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "revert",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32| -> HostResult<()> {
            let len = length(len, MAX_RETURN, "revert reason")?;
            charge(&mut c, per_byte(gas::COPY_PER_BYTE, len))?;
            let reason = read(&c, ptr, len, "revert")?;
            Err(wasmtime::Error::new(HostError::Revert(
                String::from_utf8_lossy(&reason).into_owned(),
            )))
        },
    )?;
    linker.func_wrap(
        "env",
        "storage_read",
        |mut c: Caller<'_, HostState>,
         key: i32,
         key_len: i32,
         out: i32,
         cap: i32|
         -> HostResult<i32> {
            let key_len = length(key_len, MAX_KEY, "storage key")?;
            let cap = usize::try_from(cap).map_err(|_| fault("negative buffer capacity"))?;
            charge(&mut c, gas::STORAGE_READ)?;
            let key = read(&c, key, key_len, "storage_read key")?;
            let value = storage_get(c.data(), &key)?;
            let Some(value) = value else { return Ok(-1) };
            let copied = value.len().min(cap);
            charge(
                &mut c,
                per_byte(gas::STORAGE_READ_PER_BYTE, key_len + value.len()),
            )?;
            write(&mut c, out, &value[..copied], "storage_read out")?;
            Ok(value.len() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "storage_write",
        |mut c: Caller<'_, HostState>,
         key: i32,
         key_len: i32,
         val: i32,
         val_len: i32|
         -> HostResult<()> {
            let key_len = length(key_len, MAX_KEY, "storage key")?;
            let val_len = length(val_len, MAX_VALUE, "storage value")?;
            charge(
                &mut c,
                gas::STORAGE_WRITE
                    .saturating_add(per_byte(gas::STORAGE_WRITE_PER_BYTE, key_len + val_len)),
            )?;
            let key = read(&c, key, key_len, "storage_write key")?;
            let value = read(&c, val, val_len, "storage_write value")?;
            let state = c.data_mut();
            let full = StateKey::storage(&state.address, &key);
            state.journal.insert(full, Some(value));
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "storage_remove",
        |mut c: Caller<'_, HostState>, key: i32, key_len: i32| -> HostResult<()> {
            let key_len = length(key_len, MAX_KEY, "storage key")?;
            charge(&mut c, gas::STORAGE_REMOVE)?;
            let key = read(&c, key, key_len, "storage_remove key")?;
            let state = c.data_mut();
            let full = StateKey::storage(&state.address, &key);
            state.journal.insert(full, None);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "caller",
        |mut c: Caller<'_, HostState>, out: i32| -> HostResult<i32> {
            let script = c.data().caller.clone();
            charge(&mut c, per_byte(gas::COPY_PER_BYTE, script.len()))?;
            write(&mut c, out, &script, "caller")?;
            Ok(script.len() as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "address",
        |mut c: Caller<'_, HostState>, out: i32| -> HostResult<()> {
            charge(&mut c, 32)?;
            let address = *c.data().address.as_bytes();
            write(&mut c, out, &address, "address")
        },
    )?;
    define_getter(linker, "value_received", |s| s.value)?;
    define_getter(linker, "balance", |s| s.balance)?;
    define_getter(linker, "block_height", |s| s.height)?;
    define_getter(linker, "block_time", |s| s.time)?;
    linker.func_wrap(
        "env",
        "transfer",
        |mut c: Caller<'_, HostState>, script: i32, len: i32, amount: i64| -> HostResult<i32> {
            let len = length(len, MAX_TRANSFER_SCRIPT, "transfer script")?;
            charge(&mut c, gas::TRANSFER)?;
            let script = read(&c, script, len, "transfer script")?;
            let amount = amount as u64;
            if amount == 0 {
                return Err(fault("transfer of zero"));
            }
            let state = c.data_mut();
            if state.transfers.len() >= MAX_TRANSFERS {
                return Err(fault(format!("more than {MAX_TRANSFERS} transfers")));
            }
            let Some(left) = state.balance.checked_sub(amount) else {
                return Ok(1);
            };
            state.balance = left;
            state.transfers.push((script, amount));
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "env",
        "emit_event",
        |mut c: Caller<'_, HostState>,
         topics: i32,
         count: i32,
         data: i32,
         len: i32|
         -> HostResult<()> {
            let count = length(count, MAX_TOPICS, "topic count")?;
            let len = length(len, MAX_EVENT_DATA, "event data")?;
            charge(
                &mut c,
                gas::EVENT
                    .saturating_add(gas::EVENT_PER_TOPIC * count as u64)
                    .saturating_add(per_byte(gas::EVENT_PER_BYTE, len)),
            )?;
            if c.data().events.len() >= MAX_EVENTS {
                return Err(fault(format!("more than {MAX_EVENTS} events")));
            }
            let raw = read(&c, topics, count * 32, "event topics")?;
            let data = read(&c, data, len, "event data")?;
            let topics = raw
                .chunks_exact(32)
                .map(|t| <[u8; 32]>::try_from(t).expect("32-byte chunks"))
                .collect();
            let contract = c.data().address;
            c.data_mut().events.push(Event {
                contract,
                topics,
                data,
            });
            Ok(())
        },
    )?;
    define_hash(linker, "sha256", |data| {
        use sha2::Digest;
        sha2::Sha256::digest(data).to_vec()
    })?;
    define_hash(linker, "ripemd160", |data| {
        use ripemd::Digest;
        ripemd::Ripemd160::digest(data).to_vec()
    })?;
    linker.func_wrap(
        "env",
        "secp256k1_verify",
        |mut c: Caller<'_, HostState>,
         msg: i32,
         sig: i32,
         sig_len: i32,
         pk: i32,
         pk_len: i32|
         -> HostResult<i32> {
            let sig_len = length(sig_len, 73, "signature")?;
            let pk_len = length(pk_len, 65, "public key")?;
            charge(&mut c, gas::SECP256K1_VERIFY)?;
            let msg = read(&c, msg, 32, "message")?;
            let sig = read(&c, sig, sig_len, "signature")?;
            let pk = read(&c, pk, pk_len, "public key")?;
            let msg: [u8; 32] = msg.try_into().expect("read 32 bytes");
            Ok(i32::from(verify_strict(&msg, &sig, &pk)))
        },
    )?;
    linker.func_wrap(
        "env",
        "gas_left",
        |mut c: Caller<'_, HostState>| -> HostResult<i64> {
            charge(&mut c, 0)?;
            Ok(c.get_fuel()? as i64)
        },
    )?;
    Ok(())
}

/// A host function returning one `u64` of the execution's context.
fn define_getter(
    linker: &mut Linker<HostState>,
    name: &'static str,
    get: fn(&HostState) -> u64,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        name,
        move |mut c: Caller<'_, HostState>| -> HostResult<i64> {
            charge(&mut c, 0)?;
            Ok(get(c.data()) as i64)
        },
    )?;
    Ok(())
}

/// A hash host function `(ptr, len, out)`: charges, reads the input, writes the digest.
fn define_hash(
    linker: &mut Linker<HostState>,
    name: &'static str,
    hash: fn(&[u8]) -> Vec<u8>,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        name,
        move |mut c: Caller<'_, HostState>, ptr: i32, len: i32, out: i32| -> HostResult<()> {
            let len = length(len, MAX_HASH_INPUT, "hash input")?;
            charge(
                &mut c,
                gas::HASH.saturating_add(per_byte(gas::HASH_PER_BYTE, len)),
            )?;
            let data = read(&c, ptr, len, name)?;
            write(&mut c, out, &hash(&data), name)
        },
    )?;
    Ok(())
}

/// Strict DER, low S, valid key, valid signature.
fn verify_strict(msg: &[u8; 32], sig: &[u8], pk: &[u8]) -> bool {
    use secp256k1::{Message, PublicKey, ecdsa};
    let (Ok(sig), Ok(pk)) = (ecdsa::Signature::from_der(sig), PublicKey::from_slice(pk)) else {
        return false;
    };
    let mut low_s = sig;
    low_s.normalize_s();
    low_s == sig && ecdsa::verify(&sig, Message::from_digest(*msg), &pk).is_ok()
}
