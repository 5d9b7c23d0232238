//! The contract engine: one wasmtime `Engine` and `Linker` per process, compiled modules cached
//! by code hash, a fresh `Store` per execution.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::{
    Caller, Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory, Module,
    PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder, Trap,
};

pub use crate::context::Entry;
use crate::context::{Context, Frame, FrameAccount, FrameCode, FrameResult, FrameRunner, Trace};
use crate::host::{Guest, HostError, HostResult, HostState, MemoryError};
use crate::limits::{MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS, MAX_WASM_STACK};
use crate::state::{StateKey, StateOverlay};
use crate::{ALLOWED_FEATURES, gas, instrument};
use i8o8i_primitives::contract::{Event, ExecStatus, GasBreakdown, TraceFrame};

use i8o8i_primitives::{ContractAddress, Hash256, StoreError};

/// Compiled modules kept; the least recently compiled is dropped beyond this.
const CACHE_MODULES: usize = 256;

/// Bytes of each pooled memory and table reset with `memset` rather than given back to the
/// kernel when an instance ends: page faults and TLB flushes on the next instantiation were
/// half of a short call's time.
const KEEP_RESIDENT: usize = 256 * 1024;

/// Instance slots of the pooling allocator (each reserves the contract memory cap plus a
/// guard page of address space, not memory).
const POOL_SLOTS: u32 = 256;

/// Of the pool's instance slots, how many read-only queries may hold at once. Block
/// validation runs one execution at a time and so always finds a slot: a full pool must never
/// turn a valid block's transaction into a failure.
pub const QUERY_SLOTS: usize = 192;

/// One execution's inputs.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// Code hash of the contract (its code is in the state or given in `code`).
    pub code_hash: Hash256,
    /// The code, when it is not in the state yet (a deploy).
    pub code: Option<Arc<Vec<u8>>>,
    /// Export to run.
    pub entry: Entry,
    /// The contract's address.
    pub address: ContractAddress,
    /// The caller's script.
    pub caller: Vec<u8>,
    /// Value moved in with the call.
    pub value: u64,
    /// Balance during the call (previous balance plus `value`).
    pub balance: u64,
    /// Input data.
    pub input: Vec<u8>,
    /// Gas the execution may use, including fixed charges.
    pub gas_limit: u64,
    /// Gas already charged before the engine (e.g. a deploy's per-byte charge).
    pub gas_precharged: u64,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time: u64,
}

/// What an execution produced; state writes are already in the overlay when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    /// Outcome.
    pub status: ExecStatus,
    /// Gas used, at most the limit.
    pub gas_used: u64,
    /// Where it went; the parts sum to `gas_used`.
    pub gas: GasBreakdown,
    /// Return data (successful executions).
    pub return_data: Vec<u8>,
    /// Events (successful executions).
    pub events: Vec<Event>,
    /// Transfers (successful executions): (script, amount).
    pub transfers: Vec<(Vec<u8>, u64)>,
    /// Balance after the call (successful executions).
    pub balance: u64,
    /// This node's storage failed under the call. Not an outcome of the contract — `status`
    /// means nothing then — so the caller must abort what it was doing (connecting a block,
    /// admitting a transaction) instead of recording a receipt.
    pub storage_fault: Option<StoreError>,
}

/// An execution: the overlay handed back with the result.
pub type Execution = (StateOverlay, ExecResult);

/// What a wasmtime store holds: the frame's state, and the instance's limits and memory.
pub(crate) struct StoreData {
    host: HostState,
    limits: StoreLimits,
    memory: Option<Memory>,
}

impl Guest for Caller<'_, StoreData> {
    fn host(&self) -> &HostState {
        &self.data().host
    }

    fn host_mut(&mut self) -> &mut HostState {
        &mut self.data_mut().host
    }

    fn fuel(&self) -> HostResult<u64> {
        self.get_fuel()
            .map_err(|e| crate::host::fault(format!("fuel: {e}")))
    }

    fn set_fuel(&mut self, fuel: u64) -> HostResult<()> {
        Caller::set_fuel(self, fuel).map_err(|e| crate::host::fault(format!("fuel: {e}")))
    }

    fn read_memory(&self, ptr: usize, buf: &mut [u8]) -> Result<(), MemoryError> {
        let memory = self.data().memory.ok_or(MemoryError::NoMemory)?;
        memory
            .read(self, ptr, buf)
            .map_err(|_| MemoryError::OutOfBounds)
    }

    fn write_memory(&mut self, ptr: usize, data: &[u8]) -> Result<(), MemoryError> {
        let memory = self.data().memory.ok_or(MemoryError::NoMemory)?;
        memory
            .write(&mut *self, ptr, data)
            .map_err(|_| MemoryError::OutOfBounds)
    }
}

/// Compiled-module cache: insertion order decides eviction.
#[derive(Default)]
struct Cache {
    modules: HashMap<Hash256, InstancePre<StoreData>>,
    order: VecDeque<Hash256>,
}

/// The contract engine. Cheap to share (`Arc`); executions run concurrently.
pub struct ContractEngine {
    inner: Arc<Inner>,
    queries: AtomicUsize,
}

/// What a frame needs to run, shared with the frames of nested calls (which the host runs
/// from inside a host function).
pub(crate) struct Inner {
    engine: Engine,
    linker: Linker<StoreData>,
    cache: Mutex<Cache>,
    /// Native stack a frame is given: what Wasm may use, and room for the host's frames.
    frame_stack: usize,
}

/// Native stack kept for host functions beyond what a frame's Wasm may use.
const HOST_STACK: usize = 256 * 1024;

/// Every query slot is taken; try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the contract engine is busy ({QUERY_SLOTS} queries running)")]
pub struct Busy;

impl std::fmt::Debug for ContractEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractEngine").finish_non_exhaustive()
    }
}

/// The engine could not be built (a wasmtime configuration bug, not bad input).
#[derive(Debug, thiserror::Error)]
#[error("contract engine: {0}")]
pub struct EngineError(String);

impl EngineError {
    #[cfg(feature = "wasmi")]
    pub(crate) fn new(reason: String) -> EngineError {
        EngineError(reason)
    }
}

impl ContractEngine {
    /// Builds the deterministic engine and defines the host API.
    ///
    /// # Errors
    /// [`EngineError`] if wasmtime refuses the configuration.
    pub fn new() -> Result<ContractEngine, EngineError> {
        ContractEngine::with_wasm_stack(MAX_WASM_STACK)
    }

    /// The engine with `wasm_stack` bytes of native stack per frame instead of
    /// [`MAX_WASM_STACK`]: what a platform with frames of another size looks like to a
    /// contract, for the determinism tests.
    pub(crate) fn with_wasm_stack(wasm_stack: usize) -> Result<ContractEngine, EngineError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(POOL_SLOTS)
            .total_memories(POOL_SLOTS)
            .total_tables(POOL_SLOTS)
            .max_memory_size(MAX_MEMORY_PAGES as usize * 65_536)
            .table_elements(MAX_TABLE_ELEMENTS)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut config = Config::new();
        config
            // Pooled instance slots: no mmap / munmap per execution, which dominated the
            // fixed cost of a short call.
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .consume_fuel(true)
            .cranelift_nan_canonicalization(true)
            .max_wasm_stack(wasm_stack)
            .wasm_features(wasmtime::WasmFeatures::all(), false)
            .wasm_features(ALLOWED_FEATURES, true)
            // Static data is copied (and metered) the same way on every platform instead of
            // being mapped copy-on-write where the OS allows it (wasmtime issue #14331).
            .memory_init_cow(false)
            // Reserve only what a contract may use: mapping and unmapping wasmtime's default
            // 4 GiB reservation plus guard dominated the cost of a short call.
            .memory_reservation(MAX_MEMORY_PAGES * 65_536)
            .memory_reservation_for_growth(0)
            // Explicit bounds checks instead of guard pages: a contract's memory grows on
            // its first allocation (the SDK's allocator), and with guard pages each call
            // paid two `mprotect`s and their TLB flushes to grow it and shrink it back —
            // a third of a token transfer. Traps are the same; only how they are caught
            // changes.
            .memory_guard_size(0)
            .signals_based_traps(false);
        let engine = Engine::new(&config).map_err(|e| EngineError(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        crate::host_api!(
            &mut linker,
            Caller<'_, StoreData>,
            wasmtime::Error,
            wasmtime::Error::new
        )
        .map_err(|e| EngineError(e.to_string()))?;
        Ok(ContractEngine {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache: Mutex::new(Cache::default()),
                frame_stack: wasm_stack + HOST_STACK,
            }),
            queries: AtomicUsize::new(0),
        })
    }

    /// Whether `hash` is compiled and cached.
    pub fn is_cached(&self, hash: &Hash256) -> bool {
        self.inner.is_cached(hash)
    }
}

impl Inner {
    /// Compiles and links `code`, and caches the result under `hash`.
    fn prepare(&self, hash: &Hash256, code: &[u8]) -> Result<InstancePre<StoreData>, String> {
        let code = instrument::instrument(code)?;
        let module = Module::from_binary(&self.engine, &code).map_err(|e| e.to_string())?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| e.to_string())?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.modules.insert(*hash, pre.clone()).is_none() {
            cache.order.push_back(*hash);
            while cache.order.len() > CACHE_MODULES {
                if let Some(old) = cache.order.pop_front() {
                    cache.modules.remove(&old);
                }
            }
        }
        Ok(pre)
    }

    /// Whether `hash` is compiled and cached.
    fn is_cached(&self, hash: &Hash256) -> bool {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .modules
            .contains_key(hash)
    }

    /// The compiled module of `code_hash`: cached, or compiled from `code` or from the code
    /// the state holds. `Err(Ok(reason))` fails the frame; `Err(Err(_))` is a storage fault.
    fn module(
        &self,
        ctx: &Context,
        code_hash: &Hash256,
        code: Option<&Arc<Vec<u8>>>,
    ) -> Result<InstancePre<StoreData>, Result<String, StoreError>> {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .modules
            .get(code_hash)
            .cloned();
        if let Some(pre) = cached {
            return Ok(pre);
        }
        let code = code_of(ctx, code_hash, code)?;
        self.prepare(code_hash, &code).map_err(Ok)
    }
}

impl FrameRunner for Inner {
    fn frame_stack(&self) -> usize {
        self.frame_stack
    }

    fn run_frame_untraced(
        &self,
        ctx: Context,
        frame: Frame,
        code: FrameCode<'_>,
        gas_limit: u64,
        gas_precharged: u64,
    ) -> (Context, FrameResult) {
        let FrameCode {
            hash: code_hash,
            code,
            entry,
        } = code;
        let mut ctx = ctx;
        let fixed = match charge_fixed(&mut ctx, gas_limit, gas_precharged) {
            Ok(fixed) => fixed,
            Err(failed) => return (ctx, failed),
        };
        let pre = match self.module(&ctx, code_hash, code) {
            Ok(pre) => pre,
            Err(error) => return (ctx, module_failed(error, fixed)),
        };
        let limits = StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_PAGES as usize * 65_536)
            .table_elements(MAX_TABLE_ELEMENTS)
            .instances(1)
            .memories(1)
            .tables(1)
            .build();
        let state = StoreData {
            host: frame_host(ctx, frame),
            limits,
            memory: None,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        // Instantiation is charged `INSTANTIATE`, not the fuel it takes (see `gas`).
        let budget = gas_limit - fixed;
        let outcome = store
            .set_fuel(u64::MAX / 2)
            .and_then(|()| pre.instantiate(&mut store))
            .and_then(|instance| {
                store.data_mut().memory = instance.get_memory(&mut store, "memory");
                store.set_fuel(budget)?;
                match instance.get_typed_func::<(), ()>(&mut store, export_of(entry)) {
                    Ok(f) => f.call(&mut store, ()),
                    // Validation guarantees `call`; `deploy` is optional.
                    Err(_) if entry == Entry::Deploy => Ok(()),
                    Err(_) if entry == Entry::Migrate => {
                        Err(wasmtime::Error::new(crate::host::fault(NO_MIGRATE)))
                    }
                    Err(e) => Err(e),
                }
            });
        let left = store.get_fuel().unwrap_or(0).min(budget);
        let used = gas_limit - left;
        let status = match outcome {
            Ok(()) => Ok(ExecStatus::Success),
            Err(e) => classify(&e),
        };
        end_frame(store.into_data().host, status, used, gas_limit)
    }
}

impl ContractEngine {
    /// [`ContractEngine::execute`] for read-only queries (RPC), holding one of the
    /// [`QUERY_SLOTS`] while it runs.
    ///
    /// # Errors
    /// [`Busy`] when every query slot is taken.
    pub fn execute_query(
        &self,
        overlay: StateOverlay,
        req: ExecRequest,
    ) -> Result<Execution, Busy> {
        let _slot = self.query_slot()?;
        Ok(self.execute(overlay, req))
    }

    /// One of the [`QUERY_SLOTS`], given back when the guard drops: what an RPC request
    /// holds while it runs contract code outside a block.
    ///
    /// # Errors
    /// [`Busy`] when every query slot is taken.
    pub fn query_slot(&self) -> Result<QuerySlot<'_>, Busy> {
        let taken = self.queries.fetch_add(1, Ordering::AcqRel);
        let slot = QuerySlot(&self.queries);
        if taken >= QUERY_SLOTS {
            return Err(Busy);
        }
        Ok(slot)
    }

    /// Runs `req` over `overlay`. On success the call's storage writes (its own and those of
    /// the contracts it called) are merged into the overlay; on failure the overlay is
    /// returned unchanged. Never panics on guest behaviour.
    pub fn execute(&self, overlay: StateOverlay, req: ExecRequest) -> Execution {
        self.execute_with(overlay, req, false).0
    }

    /// [`ContractEngine::execute`] recording every frame's host calls (`contract_traceCall`,
    /// `tx_traceContract`); slower, so never used to connect a block for the chain. The
    /// outcome and gas are the untraced execution's. An RPC request holds a
    /// [`ContractEngine::query_slot`] around it.
    pub fn execute_traced(
        &self,
        overlay: StateOverlay,
        req: ExecRequest,
    ) -> (Execution, TraceRecord) {
        let (execution, trace) = self.execute_with(overlay, req, true);
        (execution, trace.unwrap_or_default())
    }

    fn execute_with(
        &self,
        overlay: StateOverlay,
        req: ExecRequest,
        trace: bool,
    ) -> (Execution, Option<TraceRecord>) {
        execute_on(self.inner.clone(), overlay, req, trace)
    }
}

/// Runs `req` over `overlay` as its top frame, on `runner`'s engine (see
/// [`ContractEngine::execute`]), recording the trace when `trace` is set.
pub(crate) fn execute_on(
    runner: Arc<dyn FrameRunner>,
    overlay: StateOverlay,
    req: ExecRequest,
    trace: bool,
) -> (Execution, Option<TraceRecord>) {
    let mut ctx = Context::new(runner.clone(), overlay, req.height, req.time);
    if trace {
        ctx.trace = Some(Trace::default());
    }
    ctx.stack.push(FrameAccount {
        address: req.address,
        balance: req.balance,
    });
    let frame = Frame {
        caller: req.caller,
        value: req.value,
        input: req.input,
        read_only: false,
    };
    // As for nested frames (`host::call_contract`): the native stack the frame may use is
    // there whatever thread runs it.
    let stack = runner.frame_stack();
    let (mut ctx, result) = stacker::maybe_grow(stack, stack * 2, || {
        let code = FrameCode {
            hash: &req.code_hash,
            code: req.code.as_ref(),
            entry: req.entry,
        };
        runner.run_frame(ctx, frame, code, req.gas_limit, req.gas_precharged)
    });
    let balance = ctx.stack.pop().map_or(0, |f| f.balance);
    let traced = ctx.trace.take().map(|t| TraceRecord {
        frames: t.frames,
        truncated: t.truncated,
    });
    // Every part but execution was counted as it was charged; execution is the rest.
    let mut gas = ctx.gas;
    gas.execution = result.gas_used.saturating_sub(gas.total());
    let mut outcome = ExecResult {
        status: result.status,
        gas_used: result.gas_used,
        gas,
        return_data: Vec::new(),
        events: Vec::new(),
        transfers: Vec::new(),
        balance: 0,
        storage_fault: result.storage_fault,
    };
    if outcome.storage_fault.is_none() && outcome.status.is_success() {
        let journal = std::mem::take(&mut ctx.journal);
        ctx.overlay.merge(journal.into_writes());
        outcome.return_data = result.return_data;
        outcome.events = ctx.events;
        outcome.transfers = ctx.transfers;
        outcome.balance = balance;
    }
    ((ctx.overlay, outcome), traced)
}

/// What [`ContractEngine::execute_traced`] recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceRecord {
    /// Every frame in the order they started, the call itself first.
    pub frames: Vec<TraceFrame>,
    /// The trace's budget (10,000 steps, 4 MiB of data) ran out: later steps and data are
    /// missing, the frames are all there.
    pub truncated: bool,
}

/// A taken query slot: gives it back however the execution ends.
#[derive(Debug)]
pub struct QuerySlot<'a>(&'a AtomicUsize);

impl Drop for QuerySlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A frame's store lost the execution context: a bug of this crate.
#[cold]
fn unreachable_context() -> ! {
    panic!("a host function kept the execution context; this is a bug of i8o8i-contract-engine")
}

pub(crate) const NATIVE_STACK_OVERFLOW: &str = "native stack exhausted";

/// Why a migration of code without the entry point fails.
pub(crate) const NO_MIGRATE: &str = "the code has no `migrate` entry point";

/// The export `entry` runs.
pub(crate) fn export_of(entry: Entry) -> &'static str {
    match entry {
        Entry::Deploy => "deploy",
        Entry::Call => "call",
        Entry::Migrate => "migrate",
    }
}

/// The code of `code_hash`: `code` when given (a deploy), else what the state holds.
/// `Err(Ok(reason))` fails the frame; `Err(Err(_))` is a storage fault.
pub(crate) fn code_of(
    ctx: &Context,
    code_hash: &Hash256,
    code: Option<&Arc<Vec<u8>>>,
) -> Result<Vec<u8>, Result<String, StoreError>> {
    match code {
        Some(code) => Ok(code.to_vec()),
        None => ctx
            .get(&StateKey::code(code_hash))
            .map_err(Err)?
            .ok_or_else(|| Ok(format!("code {code_hash} missing"))),
    }
}

/// A frame's result from how it ended: a success keeps its return data and pays what it
/// used; a failure pays what it used, except running out of gas or of native stack, which
/// pay the whole limit.
fn frame_result(
    status: ExecStatus,
    used: u64,
    gas_limit: u64,
    return_data: Vec<u8>,
) -> FrameResult {
    match status {
        ExecStatus::Success => FrameResult {
            status,
            gas_used: used,
            return_data,
            storage_fault: None,
            trace: None,
        },
        ExecStatus::OutOfGas => FrameResult::failed(status, gas_limit),
        // The stack-height counter trips long before the native stack runs out; if it ever
        // did run out, where would differ between platforms, so the charge must not.
        ExecStatus::Trapped(ref m) if m == NATIVE_STACK_OVERFLOW => {
            FrameResult::failed(status, gas_limit)
        }
        other => FrameResult::failed(other, used),
    }
}

/// How a host error ends a frame; a storage failure is this node's, not the frame's.
pub(crate) fn host_status(h: &HostError) -> Result<ExecStatus, StoreError> {
    Ok(match h {
        HostError::OutOfGas => ExecStatus::OutOfGas,
        HostError::Revert(r) => ExecStatus::Reverted(r.clone()),
        HostError::Fault(m) => ExecStatus::Trapped(m.clone()),
        HostError::Storage(e) => return Err(e.clone()),
    })
}

/// Counts a frame's fixed charges (the code a deploy stores, instantiation) in `ctx`, or
/// fails the frame out of gas when they pass its limit; what they add up to.
pub(crate) fn charge_fixed(
    ctx: &mut Context,
    gas_limit: u64,
    gas_precharged: u64,
) -> Result<u64, FrameResult> {
    let fixed = gas_precharged.saturating_add(gas::INSTANTIATE);
    if fixed > gas_limit {
        return Err(FrameResult::failed(ExecStatus::OutOfGas, gas_limit));
    }
    ctx.gas.code = ctx.gas.code.saturating_add(gas_precharged);
    ctx.gas.instantiation = ctx.gas.instantiation.saturating_add(gas::INSTANTIATE);
    Ok(fixed)
}

/// A frame whose module could not be had: a bad module fails it (charged the fixed part), a
/// storage failure is a fault.
pub(crate) fn module_failed(error: Result<String, StoreError>, fixed: u64) -> FrameResult {
    match error {
        Ok(reason) => FrameResult::failed(ExecStatus::Trapped(reason), fixed),
        Err(e) => FrameResult::faulted(e),
    }
}

/// A frame's host state before it runs: it holds the execution's context until it ends.
pub(crate) fn frame_host(ctx: Context, frame: Frame) -> HostState {
    HostState {
        ctx: Some(ctx),
        frame,
        return_data: Vec::new(),
        last_return: Vec::new(),
    }
}

/// How a frame ended, whichever engine ran it: its context back from the host state, and its
/// result from `outcome` (a status, or this node's storage failing under it) with `used` gas.
pub(crate) fn end_frame(
    mut host: HostState,
    outcome: Result<ExecStatus, StoreError>,
    used: u64,
    gas_limit: u64,
) -> (Context, FrameResult) {
    let Some(ctx) = host.ctx.take() else {
        // Host functions hand the context back before they return; losing it is a bug of
        // this crate, never of the guest. Abandon the execution as a node fault.
        unreachable_context()
    };
    match outcome {
        Ok(status) => (ctx, frame_result(status, used, gas_limit, host.return_data)),
        Err(error) => (ctx, FrameResult::faulted(error)),
    }
}

fn classify(e: &wasmtime::Error) -> Result<ExecStatus, StoreError> {
    if let Some(h) = e.downcast_ref::<HostError>() {
        return host_status(h);
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return Ok(match trap {
            Trap::OutOfFuel => ExecStatus::OutOfGas,
            Trap::StackOverflow => ExecStatus::Trapped(NATIVE_STACK_OVERFLOW.into()),
            other => ExecStatus::Trapped(other.to_string()),
        });
    }
    // Instantiation failures (memory above the cap, …) and anything else wasmtime reports.
    Ok(ExecStatus::Trapped(format!("{e:#}")))
}
