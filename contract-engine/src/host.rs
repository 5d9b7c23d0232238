//! The host API contracts import from module `env`.
//!
//! The functions are written once, against [`Guest`] (the calling instance's state, fuel and
//! memory), and registered in each engine's linker by [`host_api!`](crate::host_api): the
//! chain's wasmtime engine and, for `contract bench --engine wasmi`, wasmi run the same code.
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
//! | `caller` | `(out) -> i32` | writes the caller's script (≤ 64 bytes; a calling contract's is its account script `OP_RETURN <address>`), returns its length |
//! | `address` | `(out)` | writes the contract's 32-byte address |
//! | `value_received` | `() -> i64` | value moved in by this call |
//! | `balance` | `() -> i64` | current balance (including the value, minus transfers) |
//! | `block_height`, `block_time` | `() -> i64` | of the block executing the call |
//! | `transfer` | `(script, len, amount: i64) -> i32` | pays `amount` to a script (≤ 64 bytes) as an output, or to a contract's account script (`OP_RETURN <address>`) as a credit to its balance; 0 = done, 1 = insufficient balance |
//! | `emit_event` | `(topics, count, data, len)` | ≤ 4 32-byte topics, ≤ 4 KiB data |
//! | `sha256`, `ripemd160` | `(ptr, len, out)` | writes 32 / 20 bytes |
//! | `secp256k1_verify` | `(msg32, sig, sig_len, pk, pk_len) -> i32` | 1 if the strict-DER low-S signature is valid |
//! | `gas_left` | `() -> i64` | |
//! | `call` | `(address, input, input_len, value: i64, gas: i64) -> i32` | runs another contract's `call` with `input` and `value` from this contract's balance, with at most `gas` (0: all but 1/64 of what is left); returns a [`CallStatus`] |
//! | `query` | `(address, input, input_len, gas: i64) -> i32` | the same without value, read-only: the callee (and whatever it calls) may not write storage, emit events or transfer |
//! | `return_data_len` | `() -> i32` | length of what the last `call` / `query` returned (its revert reason if it failed) |
//! | `return_data_read` | `(out)` | copies it to `out` |

use wasmparser::ValType;

use crate::context::{Context, Entry, Frame, FrameAccount, FrameCode};
use crate::gas;
use crate::limits::{
    MAX_CALL_DEPTH, MAX_EVENT_DATA, MAX_EVENTS, MAX_HASH_INPUT, MAX_INPUT, MAX_KEY, MAX_RETURN,
    MAX_TOPICS, MAX_TRANSFER_SCRIPT, MAX_TRANSFERS, MAX_VALUE,
};
use crate::state::StateKey;
use i8o8i_primitives::contract::{
    Event, ExecStatus, GasBreakdown, TraceDetail, TraceStep, contract_of_script, contract_script,
};
use i8o8i_primitives::{Amount, ContractAddress};

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
    host_fn!("call", [I32, I32, I32, I64, I64], [I32]),
    host_fn!("query", [I32, I32, I32, I64], [I32]),
    host_fn!("return_data_len", [], [I32]),
    host_fn!("return_data_read", [I32], []),
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

/// What one frame sees and collects; owned by its engine's store.
pub struct HostState {
    /// What the execution's frames share. `None` only while a nested frame has it (the host
    /// function running that frame puts it back before it returns).
    pub(crate) ctx: Option<Context>,
    pub(crate) frame: Frame,
    pub(crate) return_data: Vec<u8>,
    /// What the last nested call or query returned (or its revert reason).
    pub(crate) last_return: Vec<u8>,
}

impl HostState {
    fn ctx(&self) -> HostResult<&Context> {
        self.ctx.as_ref().ok_or_else(context_lent)
    }

    fn ctx_mut(&mut self) -> HostResult<&mut Context> {
        self.ctx.as_mut().ok_or_else(context_lent)
    }

    /// The current frame's contract and balance.
    fn me(&mut self) -> HostResult<&mut FrameAccount> {
        self.ctx_mut()?.current().ok_or_else(context_lent)
    }

    /// Refuses a state change in a query frame.
    fn writable(&self, what: &str) -> HostResult<()> {
        if self.frame.read_only {
            return Err(fault(format!("{what} in a read-only query")));
        }
        Ok(())
    }
}

fn context_lent() -> HostError {
    fault("the execution context is in use by a nested call")
}

/// What a host function returns: its result, or why the frame stops.
pub(crate) type HostResult<T> = Result<T, HostError>;

pub(crate) fn fault(msg: impl Into<String>) -> HostError {
    HostError::Fault(msg.into())
}

/// A guest's memory could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemoryError {
    /// The instance exports no memory.
    NoMemory,
    /// The range is not inside it.
    OutOfBounds,
}

/// The calling instance as a host function sees it, whichever engine runs it: the frame's
/// state, its fuel (the gas left) and its linear memory.
pub(crate) trait Guest {
    /// The frame's state.
    fn host(&self) -> &HostState;
    /// The frame's state, to change.
    fn host_mut(&mut self) -> &mut HostState;
    /// Fuel left.
    fn fuel(&self) -> HostResult<u64>;
    /// Sets the fuel left.
    fn set_fuel(&mut self, fuel: u64) -> HostResult<()>;
    /// Copies memory at `ptr` into `buf`.
    fn read_memory(&self, ptr: usize, buf: &mut [u8]) -> Result<(), MemoryError>;
    /// Copies `data` into memory at `ptr`.
    fn write_memory(&mut self, ptr: usize, data: &[u8]) -> Result<(), MemoryError>;
}

/// What a host charge pays for, in a receipt's [`GasBreakdown`].
#[derive(Debug, Clone, Copy)]
enum Part {
    HostCall,
    StorageRead,
    StorageWrite,
    Events,
    Transfers,
    Hashing,
    Signatures,
    NestedCalls,
}

impl Part {
    fn of(self, gas: &mut GasBreakdown) -> &mut u64 {
        match self {
            Part::HostCall => &mut gas.host_calls,
            Part::StorageRead => &mut gas.storage_reads,
            Part::StorageWrite => &mut gas.storage_writes,
            Part::Events => &mut gas.events,
            Part::Transfers => &mut gas.transfers,
            Part::Hashing => &mut gas.hashing,
            Part::Signatures => &mut gas.signatures,
            Part::NestedCalls => &mut gas.nested_calls,
        }
    }
}

/// Takes [`gas::HOST_CALL`] plus `cost` from the frame's fuel, counting `cost` as `part` of the
/// execution's gas, or stops the frame out of gas.
fn charge(
    caller: &mut impl Guest,
    function: &'static str,
    part: Part,
    cost: u64,
) -> HostResult<()> {
    let total = cost.saturating_add(gas::HOST_CALL);
    let fuel = caller.fuel()?;
    match fuel.checked_sub(total) {
        Some(left) => {
            caller.set_fuel(left)?;
            if let Some(ctx) = caller.host_mut().ctx.as_mut() {
                ctx.gas.host_calls = ctx.gas.host_calls.saturating_add(gas::HOST_CALL);
                let counter = part.of(&mut ctx.gas);
                *counter = counter.saturating_add(cost);
                if ctx.trace.is_some() {
                    ctx.trace_step(TraceStep {
                        function: function.to_owned(),
                        gas: total,
                        detail: None,
                    });
                }
            }
            Ok(())
        }
        None => {
            caller.set_fuel(0)?;
            Err(HostError::OutOfGas)
        }
    }
}

/// A second charge of the same host call (a storage read's per-byte part, known once the value
/// is), which like the first also takes [`gas::HOST_CALL`] (the schedule has always charged a
/// read that finds a value so): counted as `part`, and added to the call's trace step.
fn charge_more(caller: &mut impl Guest, part: Part, cost: u64) -> HostResult<()> {
    let total = cost.saturating_add(gas::HOST_CALL);
    let fuel = caller.fuel()?;
    let Some(left) = fuel.checked_sub(total) else {
        caller.set_fuel(0)?;
        return Err(HostError::OutOfGas);
    };
    caller.set_fuel(left)?;
    if let Some(ctx) = caller.host_mut().ctx.as_mut() {
        ctx.gas.host_calls = ctx.gas.host_calls.saturating_add(gas::HOST_CALL);
        let counter = part.of(&mut ctx.gas);
        *counter = counter.saturating_add(cost);
        if let Some(step) = ctx.traced_frame().and_then(|f| f.steps.last_mut()) {
            step.gas = step.gas.saturating_add(total);
        }
    }
    Ok(())
}

/// Sets what the current host call did on its trace step (when tracing).
fn trace_detail(state: &mut HostState, detail: impl FnOnce() -> TraceDetail) {
    if let Some(ctx) = state.ctx.as_mut() {
        ctx.trace_detail(detail);
    }
}

fn length(len: i32, max: usize, what: &str) -> HostResult<usize> {
    let len = usize::try_from(len).map_err(|_| fault(format!("negative {what} length")))?;
    if len > max {
        return Err(fault(format!("{what} of {len} bytes exceeds {max}")));
    }
    Ok(len)
}

fn memory_fault(e: MemoryError, what: &str) -> HostError {
    match e {
        MemoryError::NoMemory => fault("contract has no memory"),
        MemoryError::OutOfBounds => fault(format!("{what}: pointer out of bounds")),
    }
}

fn read(caller: &impl Guest, ptr: i32, len: usize, what: &str) -> HostResult<Vec<u8>> {
    let mut buf = vec![0u8; len];
    caller
        .read_memory(ptr as u32 as usize, &mut buf)
        .map_err(|e| memory_fault(e, what))?;
    Ok(buf)
}

fn write(caller: &mut impl Guest, ptr: i32, bytes: &[u8], what: &str) -> HostResult<()> {
    caller
        .write_memory(ptr as u32 as usize, bytes)
        .map_err(|e| memory_fault(e, what))
}

fn storage_error(e: i8o8i_primitives::StoreError) -> HostError {
    HostError::Storage(e)
}

fn storage_get(state: &mut HostState, key: &[u8]) -> HostResult<Option<Vec<u8>>> {
    let address = state.me()?.address;
    state
        .ctx()?
        .get(&StateKey::storage(&address, key))
        .map_err(storage_error)
}

/// Writes (or with `None` removes) the current contract's storage entry `key`.
fn storage_put(state: &mut HostState, key: &[u8], value: Option<Vec<u8>>) -> HostResult<()> {
    let address = state.me()?.address;
    let full = StateKey::storage(&address, key);
    let ctx = state.ctx_mut()?;
    if ctx.trace.is_some() {
        let old = ctx.get(&full).map_err(storage_error)?;
        let new = value.clone();
        trace_detail(state, || TraceDetail::StorageWrite {
            key: key.to_vec(),
            old,
            new,
        });
    }
    state.ctx_mut()?.journal.put(full, value);
    Ok(())
}

fn per_byte(rate: u64, bytes: usize) -> u64 {
    rate.saturating_mul(bytes as u64)
}

/// Registers every function of [`HOST_FUNCTIONS`] (and the stack-height pass's import) in
/// `$linker`, an engine's linker whose host functions take `$caller` (a type implementing
/// [`Guest`](crate::host::Guest)) and fail with `$error`, made from a
/// [`HostError`](crate::host::HostError) by `$into`. Both engines' `func_wrap` have the same
/// shape, so one list serves both. Evaluates to `Result<(), _>` of the linker's error.
#[macro_export]
#[doc(hidden)]
macro_rules! host_api {
    ($linker:expr, $caller:ty, $error:ty, $into:expr) => {{
        let linker = $linker;
        let into = $into;
        // Called by the stack-height pass's prologues only (see `instrument`): no charge,
        // the frame fails.
        linker
            .func_wrap(
                $crate::instrument::STACK_MODULE,
                $crate::instrument::STACK_EXHAUSTED,
                move |_: $caller| -> Result<(), $error> {
                    Err(into($crate::host::fault($crate::host::STACK_EXHAUSTED)))
                },
            )
            .map(|_| ())
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, input_len()  -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, input_read(out: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, set_return(ptr: i32, len: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, revert(ptr: i32, len: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                storage_read(key: i32, key_len: i32, out: i32, cap: i32) -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                storage_write(key: i32, key_len: i32, val: i32, val_len: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                storage_remove(key: i32, key_len: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, caller(out: i32) -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, address(out: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, value_received() -> i64))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, balance() -> i64))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, block_height() -> i64))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, block_time() -> i64))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                transfer(script: i32, len: i32, amount: i64) -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                emit_event(topics: i32, count: i32, data: i32, len: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, sha256(ptr: i32, len: i32, out: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, ripemd160(ptr: i32, len: i32, out: i32) -> ()))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                secp256k1_verify(msg: i32, sig: i32, sig_len: i32, pk: i32, pk_len: i32) -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, gas_left() -> i64))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                call(address: i32, input: i32, input_len: i32, value: i64, gas: i64) -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into,
                query(address: i32, input: i32, input_len: i32, gas: i64) -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, return_data_len() -> i32))
            .and_then(|()| $crate::host_api!(@fn linker, $caller, $error, into, return_data_read(out: i32) -> ()))
    }};
    (@fn $linker:ident, $caller:ty, $error:ty, $into:ident, $name:ident($($p:ident: $t:ty),*) -> $r:ty) => {
        $linker
            .func_wrap(
                "env",
                stringify!($name),
                move |mut c: $caller, $($p: $t),*| -> Result<$r, $error> {
                    $crate::host::api::$name(&mut c, $($p),*).map_err($into)
                },
            )
            .map(|_| ())
    };
}

/// The host functions' bodies, one per import of module `env`, over any [`Guest`].
pub(crate) mod api {
    use super::*;

    pub(crate) fn input_len(c: &mut impl Guest) -> HostResult<i32> {
        charge(c, "input_len", Part::HostCall, 0)?;
        Ok(c.host().frame.input.len() as i32)
    }

    pub(crate) fn input_read(c: &mut impl Guest, out: i32) -> HostResult<()> {
        let input = std::mem::take(&mut c.host_mut().frame.input);
        let result = charge(
            c,
            "input_read",
            Part::HostCall,
            per_byte(gas::COPY_PER_BYTE, input.len()),
        )
        .and_then(|()| write(c, out, &input, "input_read"));
        c.host_mut().frame.input = input;
        result
    }

    pub(crate) fn set_return(c: &mut impl Guest, ptr: i32, len: i32) -> HostResult<()> {
        let len = length(len, MAX_RETURN, "return data")?;
        charge(
            c,
            "set_return",
            Part::HostCall,
            per_byte(gas::COPY_PER_BYTE, len),
        )?;
        c.host_mut().return_data = read(c, ptr, len, "set_return")?;
        Ok(())
    }

    pub(crate) fn revert(c: &mut impl Guest, ptr: i32, len: i32) -> HostResult<()> {
        let len = length(len, MAX_RETURN, "revert reason")?;
        charge(
            c,
            "revert",
            Part::HostCall,
            per_byte(gas::COPY_PER_BYTE, len),
        )?;
        let reason = read(c, ptr, len, "revert")?;
        Err(HostError::Revert(
            String::from_utf8_lossy(&reason).into_owned(),
        ))
    }

    pub(crate) fn storage_read(
        c: &mut impl Guest,
        key: i32,
        key_len: i32,
        out: i32,
        cap: i32,
    ) -> HostResult<i32> {
        let key_len = length(key_len, MAX_KEY, "storage key")?;
        let cap = usize::try_from(cap).map_err(|_| fault("negative buffer capacity"))?;
        charge(c, "storage_read", Part::StorageRead, gas::STORAGE_READ)?;
        let key = read(c, key, key_len, "storage_read key")?;
        let value = storage_get(c.host_mut(), &key)?;
        trace_detail(c.host_mut(), || TraceDetail::StorageRead {
            key: key.clone(),
            value: value.clone(),
        });
        let Some(value) = value else { return Ok(-1) };
        let copied = value.len().min(cap);
        charge_more(
            c,
            Part::StorageRead,
            per_byte(gas::STORAGE_READ_PER_BYTE, key_len + value.len()),
        )?;
        write(c, out, &value[..copied], "storage_read out")?;
        Ok(value.len() as i32)
    }

    pub(crate) fn storage_write(
        c: &mut impl Guest,
        key: i32,
        key_len: i32,
        val: i32,
        val_len: i32,
    ) -> HostResult<()> {
        let key_len = length(key_len, MAX_KEY, "storage key")?;
        let val_len = length(val_len, MAX_VALUE, "storage value")?;
        c.host().writable("storage_write")?;
        charge(
            c,
            "storage_write",
            Part::StorageWrite,
            gas::STORAGE_WRITE
                .saturating_add(per_byte(gas::STORAGE_WRITE_PER_BYTE, key_len + val_len)),
        )?;
        let key = read(c, key, key_len, "storage_write key")?;
        let value = read(c, val, val_len, "storage_write value")?;
        storage_put(c.host_mut(), &key, Some(value))
    }

    pub(crate) fn storage_remove(c: &mut impl Guest, key: i32, key_len: i32) -> HostResult<()> {
        let key_len = length(key_len, MAX_KEY, "storage key")?;
        c.host().writable("storage_remove")?;
        charge(c, "storage_remove", Part::StorageWrite, gas::STORAGE_REMOVE)?;
        let key = read(c, key, key_len, "storage_remove key")?;
        storage_put(c.host_mut(), &key, None)
    }

    pub(crate) fn caller(c: &mut impl Guest, out: i32) -> HostResult<i32> {
        let script = c.host().frame.caller.clone();
        charge(
            c,
            "caller",
            Part::HostCall,
            per_byte(gas::COPY_PER_BYTE, script.len()),
        )?;
        write(c, out, &script, "caller")?;
        Ok(script.len() as i32)
    }

    pub(crate) fn address(c: &mut impl Guest, out: i32) -> HostResult<()> {
        charge(c, "address", Part::HostCall, 32)?;
        let address = *c.host_mut().me()?.address.as_bytes();
        write(c, out, &address, "address")
    }

    /// A host function returning one `u64` of the execution's context.
    fn getter(
        c: &mut impl Guest,
        name: &'static str,
        get: impl FnOnce(&mut HostState) -> HostResult<u64>,
    ) -> HostResult<i64> {
        charge(c, name, Part::HostCall, 0)?;
        Ok(get(c.host_mut())? as i64)
    }

    pub(crate) fn value_received(c: &mut impl Guest) -> HostResult<i64> {
        getter(c, "value_received", |s| Ok(s.frame.value))
    }

    pub(crate) fn balance(c: &mut impl Guest) -> HostResult<i64> {
        getter(c, "balance", |s| Ok(s.me()?.balance))
    }

    pub(crate) fn block_height(c: &mut impl Guest) -> HostResult<i64> {
        getter(c, "block_height", |s| Ok(s.ctx()?.height))
    }

    pub(crate) fn block_time(c: &mut impl Guest) -> HostResult<i64> {
        getter(c, "block_time", |s| Ok(s.ctx()?.time))
    }

    pub(crate) fn transfer(
        c: &mut impl Guest,
        script: i32,
        len: i32,
        amount: i64,
    ) -> HostResult<i32> {
        let len = length(len, MAX_TRANSFER_SCRIPT, "transfer script")?;
        c.host().writable("transfer")?;
        charge(c, "transfer", Part::Transfers, gas::TRANSFER)?;
        let script = read(c, script, len, "transfer script")?;
        let amount = amount as u64;
        if amount == 0 {
            return Err(fault("transfer of zero"));
        }
        // Only a trace needs the script after it is paid.
        let traced = c.host().ctx.as_ref().is_some_and(|ctx| ctx.trace.is_some());
        let to = traced.then(|| script.clone());
        let paid = super::transfer(c.host_mut(), script, amount)?;
        if let (0, Some(to)) = (paid, to) {
            trace_detail(c.host_mut(), || TraceDetail::Transfer { to, amount });
        }
        Ok(paid)
    }

    pub(crate) fn call(
        c: &mut impl Guest,
        address: i32,
        input: i32,
        input_len: i32,
        value: i64,
        gas: i64,
    ) -> HostResult<i32> {
        call_contract(
            c,
            address,
            input,
            input_len,
            value as u64,
            gas as u64,
            false,
        )
    }

    pub(crate) fn query(
        c: &mut impl Guest,
        address: i32,
        input: i32,
        input_len: i32,
        gas: i64,
    ) -> HostResult<i32> {
        call_contract(c, address, input, input_len, 0, gas as u64, true)
    }

    pub(crate) fn return_data_len(c: &mut impl Guest) -> HostResult<i32> {
        charge(c, "return_data_len", Part::HostCall, 0)?;
        Ok(c.host().last_return.len() as i32)
    }

    pub(crate) fn return_data_read(c: &mut impl Guest, out: i32) -> HostResult<()> {
        let data = std::mem::take(&mut c.host_mut().last_return);
        let result = charge(
            c,
            "return_data_read",
            Part::HostCall,
            per_byte(gas::COPY_PER_BYTE, data.len()),
        )
        .and_then(|()| write(c, out, &data, "return_data_read"));
        c.host_mut().last_return = data;
        result
    }

    pub(crate) fn emit_event(
        c: &mut impl Guest,
        topics: i32,
        count: i32,
        data: i32,
        len: i32,
    ) -> HostResult<()> {
        let count = length(count, MAX_TOPICS, "topic count")?;
        let len = length(len, MAX_EVENT_DATA, "event data")?;
        c.host().writable("emit_event")?;
        charge(
            c,
            "emit_event",
            Part::Events,
            gas::EVENT
                .saturating_add(gas::EVENT_PER_TOPIC * count as u64)
                .saturating_add(per_byte(gas::EVENT_PER_BYTE, len)),
        )?;
        if c.host().ctx()?.events.len() >= MAX_EVENTS {
            return Err(fault(format!("more than {MAX_EVENTS} events")));
        }
        let raw = read(c, topics, count * 32, "event topics")?;
        let data = read(c, data, len, "event data")?;
        let topics = raw
            .chunks_exact(32)
            .map(|t| <[u8; 32]>::try_from(t).expect("32-byte chunks"))
            .collect();
        let contract = c.host_mut().me()?.address;
        let event = Event {
            contract,
            topics,
            data,
        };
        trace_detail(c.host_mut(), || TraceDetail::Event {
            event: event.clone(),
        });
        c.host_mut().ctx_mut()?.events.push(event);
        Ok(())
    }

    /// A hash host function `(ptr, len, out)`: charges, reads the input, writes the digest.
    fn hash(
        c: &mut impl Guest,
        name: &'static str,
        ptr: i32,
        len: i32,
        out: i32,
        hash: fn(&[u8]) -> Vec<u8>,
    ) -> HostResult<()> {
        let len = length(len, MAX_HASH_INPUT, "hash input")?;
        charge(
            c,
            name,
            Part::Hashing,
            gas::HASH.saturating_add(per_byte(gas::HASH_PER_BYTE, len)),
        )?;
        let data = read(c, ptr, len, name)?;
        write(c, out, &hash(&data), name)
    }

    pub(crate) fn sha256(c: &mut impl Guest, ptr: i32, len: i32, out: i32) -> HostResult<()> {
        hash(c, "sha256", ptr, len, out, |data| {
            use sha2::Digest;
            sha2::Sha256::digest(data).to_vec()
        })
    }

    pub(crate) fn ripemd160(c: &mut impl Guest, ptr: i32, len: i32, out: i32) -> HostResult<()> {
        hash(c, "ripemd160", ptr, len, out, |data| {
            use ripemd::Digest;
            ripemd::Ripemd160::digest(data).to_vec()
        })
    }

    pub(crate) fn secp256k1_verify(
        c: &mut impl Guest,
        msg: i32,
        sig: i32,
        sig_len: i32,
        pk: i32,
        pk_len: i32,
    ) -> HostResult<i32> {
        let sig_len = length(sig_len, 73, "signature")?;
        let pk_len = length(pk_len, 65, "public key")?;
        charge(
            c,
            "secp256k1_verify",
            Part::Signatures,
            gas::SECP256K1_VERIFY,
        )?;
        let msg = read(c, msg, 32, "message")?;
        let sig = read(c, sig, sig_len, "signature")?;
        let pk = read(c, pk, pk_len, "public key")?;
        let msg: [u8; 32] = msg.try_into().expect("read 32 bytes");
        Ok(i32::from(verify_strict(&msg, &sig, &pk)))
    }

    pub(crate) fn gas_left(c: &mut impl Guest) -> HostResult<i64> {
        charge(c, "gas_left", Part::HostCall, 0)?;
        Ok(c.fuel()? as i64)
    }
}

/// Pays `amount` of the current contract's balance to `script`: an output of the transaction,
/// or for a contract's account script ([`contract_script`]) a credit to that contract's
/// balance. 0 = done, 1 = insufficient balance.
fn transfer(state: &mut HostState, script: Vec<u8>, amount: u64) -> HostResult<i32> {
    let ctx = state.ctx_mut()?;
    let Some(target) = contract_of_script(&script) else {
        if ctx.transfers.len() >= MAX_TRANSFERS {
            return Err(fault(format!("more than {MAX_TRANSFERS} transfers")));
        }
        let me = ctx.current().ok_or_else(context_lent)?;
        let Some(left) = me.balance.checked_sub(amount) else {
            return Ok(1);
        };
        me.balance = left;
        ctx.transfers.push((script, amount));
        return Ok(0);
    };
    let me = ctx.current().ok_or_else(context_lent)?;
    let Some(left) = me.balance.checked_sub(amount) else {
        return Ok(1);
    };
    me.balance = left;
    let overflow = || fault(format!("the balance of contract {target} would overflow"));
    // A contract on the call stack keeps its balance in its frame; any other in its account.
    if let Some(frame) = ctx.stack.iter_mut().find(|f| f.address == target) {
        frame.balance = frame.balance.checked_add(amount).ok_or_else(overflow)?;
        return Ok(0);
    }
    let Some(mut account) = ctx.account(&target).map_err(storage_error)? else {
        return Err(fault(format!("transfer to {target}: no contract there")));
    };
    account.balance = account
        .balance
        .checked_add(Amount::from_units(amount))
        .ok_or_else(overflow)?;
    ctx.put_account(&target, &account);
    Ok(0)
}

/// `call` and `query`: runs contract `address` with `input` (and `value` moved in) in a
/// nested frame with at most `gas` of this frame's remaining gas (0: all but a 64th of it, as
/// EIP-150 keeps some for the caller), then charges this frame what the callee used.
/// Returns a [`CallStatus`] code; the callee's return data or failure reason is then read with
/// `return_data_len` / `return_data_read`. A callee that fails is rolled back (storage,
/// balances, events, transfers) and its caller goes on. A query's frame (and any below it)
/// may not change state.
fn call_contract(
    c: &mut impl Guest,
    address: i32,
    input: i32,
    input_len: i32,
    value: u64,
    gas_asked: u64,
    query: bool,
) -> HostResult<i32> {
    let input_len = length(input_len, MAX_INPUT, "call input")?;
    charge(
        c,
        if query { "query" } else { "call" },
        Part::NestedCalls,
        gas::CALL.saturating_add(per_byte(gas::COPY_PER_BYTE, input_len)),
    )?;
    let callee = read(c, address, 32, "call address")?;
    let callee = ContractAddress::from_byte_array(callee.try_into().map_err(|_| fault("address"))?);
    let input = read(c, input, input_len, "call input")?;
    let read_only = query || c.host().frame.read_only;
    if read_only && value != 0 {
        return Err(fault("value moved in a read-only query"));
    }
    c.host_mut().last_return.clear();
    fn refused(c: &mut impl Guest, status: CallStatus) -> HostResult<i32> {
        trace_detail(c.host_mut(), || TraceDetail::Call {
            frame: None,
            status: status as i32,
        });
        Ok(status as i32)
    }
    let state = c.host_mut();
    let ctx = state.ctx()?;
    if ctx.stack.len() >= MAX_CALL_DEPTH {
        return refused(c, CallStatus::DepthExceeded);
    }
    if ctx.stack.iter().any(|f| f.address == callee) {
        return refused(c, CallStatus::Reentrancy);
    }
    let Some(mut account) = ctx.account(&callee).map_err(storage_error)? else {
        return refused(c, CallStatus::NoContract);
    };
    if state.me()?.balance < value {
        return refused(c, CallStatus::InsufficientBalance);
    }
    let callee_balance = account
        .balance
        .to_units()
        .checked_add(value)
        .ok_or_else(|| fault(format!("the balance of contract {callee} would overflow")))?;
    let available = c.fuel()?;
    let limit = match gas_asked {
        0 => available - available / 64,
        asked => asked.min(available),
    };
    let caller = contract_script(&c.host_mut().me()?.address);
    let frame = Frame {
        caller,
        value,
        input,
        read_only,
    };
    let Some(mut ctx) = c.host_mut().ctx.take() else {
        return Err(context_lent());
    };
    let checkpoint = ctx.checkpoint();
    if let Some(me) = ctx.current() {
        me.balance -= value;
    }
    ctx.stack.push(FrameAccount {
        address: callee,
        balance: callee_balance,
    });
    let engine = ctx.engine.clone();
    // Each frame may use `MAX_WASM_STACK` of native stack (and host functions some more) from where it starts: make sure
    // that much is there (on a fresh segment if this thread's stack runs short), so the depth
    // a call chain reaches never depends on the thread it runs on.
    let stack = engine.frame_stack();
    let (mut ctx, result) = stacker::maybe_grow(stack, stack * 2, || {
        let code = FrameCode {
            hash: &account.code_hash,
            code: None,
            entry: Entry::Call,
        };
        engine.run_frame(ctx, frame, code, limit, 0)
    });
    let callee_balance = ctx.stack.pop().map_or(0, |f| f.balance);
    let status = if result.storage_fault.is_none() && result.status.is_success() {
        account.balance = Amount::from_units(callee_balance);
        ctx.put_account(&callee, &account);
        CallStatus::Success
    } else {
        ctx.roll_back(checkpoint);
        match result.status {
            ExecStatus::Reverted(_) => CallStatus::Reverted,
            _ => CallStatus::Failed,
        }
    };
    c.host_mut().ctx = Some(ctx);
    if let Some(e) = result.storage_fault {
        return Err(storage_error(e));
    }
    // The step's gas: the call's charge, and all the callee used.
    let used = result.gas_used;
    if let Some(step) = c
        .host_mut()
        .ctx
        .as_mut()
        .and_then(Context::traced_frame)
        .and_then(|f| f.steps.last_mut())
    {
        step.gas = step.gas.saturating_add(used);
        step.detail = Some(TraceDetail::Call {
            frame: result.trace,
            status: status as i32,
        });
    }
    c.host_mut().last_return = match result.status {
        ExecStatus::Success => result.return_data,
        ExecStatus::Reverted(reason) => reason.into_bytes(),
        ExecStatus::OutOfGas => b"out of gas".to_vec(),
        ExecStatus::Trapped(why) | ExecStatus::NoContract(why) => why.into_bytes(),
    };
    // The callee used at most its limit, which is at most what was left here.
    c.set_fuel(available.saturating_sub(result.gas_used))?;
    Ok(status as i32)
}

/// Why a frame fails that calls deeper than [`crate::limits::MAX_STACK_HEIGHT`] allows.
pub const STACK_EXHAUSTED: &str = "call stack exhausted";

/// What `call` and `query` return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum CallStatus {
    /// The callee succeeded; the return data is its result.
    Success = 0,
    /// The callee reverted and was rolled back; the return data is its reason.
    Reverted = 1,
    /// The callee trapped or ran out of gas and was rolled back; the return data says how.
    Failed = 2,
    /// No contract at the address (nothing ran).
    NoContract = 3,
    /// The callee is already on the call stack: reentrancy is refused (nothing ran).
    Reentrancy = 4,
    /// [`MAX_CALL_DEPTH`] frames are running already (nothing ran).
    DepthExceeded = 5,
    /// The caller's balance does not cover the value (nothing ran).
    InsufficientBalance = 6,
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
