//! The same executions in **wasmi**, the interpreter many Wasm chains start with, for
//! `i8o8icoin contract bench --engine wasmi`: how much faster the chain's engine runs a
//! contract author's method than an interpreter would. Never used by the chain.
//!
//! Everything but the engine is the chain's: the stack-height-instrumented module, the host
//! functions ([`crate::host_api!`] registers the same bodies), the gas schedule's host
//! charges, nested calls (run by wasmi too), the journal and the state. wasmi charges
//! wasmtime's fuel per Wasm operator (one, none for `nop`, `drop` and block structure), so gas
//! comes close to the chain's but is not the chain's: wasmi charges a unit per 64 bytes its
//! instructions copy or grow (its register machine's parameter copies, `memory.grow`,
//! `memory.copy`, `memory.fill`), where wasmtime charges one per byte copied or filled and
//! nothing for growing. Quote the chain's gas from the wasmtime engine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmi::{
    Caller, CompilationMode, Config, Engine, Linker, Memory, Module, OperatorCost, Store,
    StoreLimits, StoreLimitsBuilder, TrapCode,
};

use crate::context::{Context, Entry, Frame, FrameCode, FrameResult, FrameRunner};
use crate::engine::{
    EngineError, ExecRequest, Execution, NATIVE_STACK_OVERFLOW, NO_MIGRATE, charge_fixed, code_of,
    end_frame, execute_on, export_of, frame_host, host_status, module_failed,
};
use crate::host::{Guest, HostError, HostResult, HostState, MemoryError, fault};
use crate::instrument;
use crate::limits::{MAX_MEMORY_PAGES, MAX_STACK_HEIGHT, MAX_TABLE_ELEMENTS};
use crate::state::StateOverlay;
use i8o8i_primitives::contract::ExecStatus;
use i8o8i_primitives::{Hash256, StoreError};

/// Compiled modules kept; all are dropped past this (a benchmark uses a handful).
const CACHE_MODULES: usize = 256;

/// Native stack a frame is given: wasmi keeps Wasm calls on its own stack, so this is room
/// for the host functions and the nested frames they run.
const FRAME_STACK: usize = 512 * 1024;

impl wasmi::errors::HostError for HostError {}

/// What a wasmi store holds: the frame's state, and the instance's limits and memory.
struct StoreData {
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
        self.get_fuel().map_err(|e| fault(format!("fuel: {e}")))
    }

    fn set_fuel(&mut self, fuel: u64) -> HostResult<()> {
        Caller::set_fuel(self, fuel).map_err(|e| fault(format!("fuel: {e}")))
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

/// Contract executions in wasmi. Cheap to share; executions run concurrently.
pub struct WasmiEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WasmiEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmiEngine").finish_non_exhaustive()
    }
}

struct Inner {
    engine: Engine,
    linker: Linker<StoreData>,
    modules: Mutex<HashMap<Hash256, Module>>,
}

impl WasmiEngine {
    /// wasmi with fuel metered as described above and the host API defined.
    ///
    /// # Errors
    /// [`EngineError`] if a host function clashes (a bug).
    pub fn new() -> Result<WasmiEngine, EngineError> {
        let mut config = Config::default();
        config
            .consume_fuel(true)
            // Compile whole modules up front, as wasmtime does, so no call pays for it.
            .compilation_mode(CompilationMode::Eager)
            .operator_cost(OperatorCost::default())
            // The module's own stack-height counter must trip first, as in the chain's
            // engine: it allows at most this many frames of the smallest cost.
            .set_max_recursion_depth(2 * (MAX_STACK_HEIGHT / 16) as usize)
            .set_max_stack_height(16 * 1024 * 1024);
        let engine = Engine::new(&config);
        let mut linker = Linker::new(&engine);
        crate::host_api!(
            &mut linker,
            Caller<'_, StoreData>,
            wasmi::Error,
            wasmi::Error::host
        )
        .map_err(|e| EngineError::new(e.to_string()))?;
        Ok(WasmiEngine {
            inner: Arc::new(Inner {
                engine,
                linker,
                modules: Mutex::default(),
            }),
        })
    }

    /// Runs `req` over `overlay` as [`crate::ContractEngine::execute`] does, in wasmi.
    pub fn execute(&self, overlay: StateOverlay, req: ExecRequest) -> Execution {
        execute_on(self.inner.clone(), overlay, req, false).0
    }
}

impl Inner {
    /// The compiled module of `code_hash`, compiling it (instrumented) on first use.
    fn module(
        &self,
        ctx: &Context,
        code_hash: &Hash256,
        code: Option<&Arc<Vec<u8>>>,
    ) -> Result<Module, Result<String, StoreError>> {
        let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(module) = modules.get(code_hash) {
            return Ok(module.clone());
        }
        let code = code_of(ctx, code_hash, code)?;
        let code = instrument::instrument(&code).map_err(Ok)?;
        let module = Module::new(&self.engine, &code[..]).map_err(|e| Ok(e.to_string()))?;
        if modules.len() >= CACHE_MODULES {
            modules.clear();
        }
        modules.insert(*code_hash, module.clone());
        Ok(module)
    }
}

impl FrameRunner for Inner {
    fn frame_stack(&self) -> usize {
        FRAME_STACK
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
        let module = match self.module(&ctx, code_hash, code) {
            Ok(module) => module,
            Err(error) => return (ctx, module_failed(error, fixed)),
        };
        let limits = StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_PAGES as usize * 65_536)
            .table_elements(MAX_TABLE_ELEMENTS)
            .instances(1)
            .memories(1)
            .tables(1)
            .build();
        let data = StoreData {
            host: frame_host(ctx, frame),
            limits,
            memory: None,
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|s| &mut s.limits);
        // Instantiation is charged `INSTANTIATE`, not the fuel it takes, as in the chain.
        let budget = gas_limit - fixed;
        let outcome = store
            .set_fuel(u64::MAX / 2)
            .and_then(|()| self.linker.instantiate_and_start(&mut store, &module))
            .and_then(|instance| {
                store.data_mut().memory = instance.get_memory(&store, "memory");
                store.set_fuel(budget)?;
                match instance.get_typed_func::<(), ()>(&store, export_of(entry)) {
                    Ok(f) => f.call(&mut store, ()),
                    Err(_) if entry == Entry::Deploy => Ok(()),
                    Err(_) if entry == Entry::Migrate => Err(wasmi::Error::host(fault(NO_MIGRATE))),
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

fn classify(e: &wasmi::Error) -> Result<ExecStatus, StoreError> {
    if let Some(h) = e.downcast_ref::<HostError>() {
        return host_status(h);
    }
    Ok(match e.as_trap_code() {
        Some(TrapCode::OutOfFuel) => ExecStatus::OutOfGas,
        Some(TrapCode::StackOverflow) => ExecStatus::Trapped(NATIVE_STACK_OVERFLOW.into()),
        Some(other) => ExecStatus::Trapped(other.to_string()),
        // Instantiation failures (memory above the cap, …).
        None => ExecStatus::Trapped(e.to_string()),
    })
}
