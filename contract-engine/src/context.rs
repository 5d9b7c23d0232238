//! What the frames of one execution share: the block's state with this execution's writes on
//! top (a journal that can be rolled back to a checkpoint), the events and transfers so far,
//! and the call stack of contracts with their balances.
//!
//! A top-level execution is one frame; a contract calling another ([`crate::host`]'s `call`
//! and `query`) runs a nested frame over the same context. A nested frame that fails is rolled
//! back to the checkpoint taken before it — storage, balances, events, transfers — and its
//! caller goes on; the whole execution failing drops the journal, so the block's state never
//! sees it.

use std::collections::BTreeMap;
use std::sync::Arc;

use parity_scale_codec::{Decode, Encode};

use crate::state::{StateKey, StateOverlay};
use i8o8i_primitives::contract::{
    ContractAccount, Event, ExecStatus, GasBreakdown, TraceDetail, TraceFrame, TraceStep,
};
use i8o8i_primitives::{ContractAddress, Hash256, StoreError};

/// Which export an execution runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The constructor (`deploy`); a module without one deploys without running code.
    Deploy,
    /// `call`.
    Call,
    /// `migrate`, run by a [`Payload::Migrate`](i8o8i_primitives::Payload::Migrate) with the
    /// new code; a module without it cannot be migrated to.
    Migrate,
}

/// One frame's own inputs (what it shares with its callers is in the [`Context`]).
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) caller: Vec<u8>,
    pub(crate) value: u64,
    pub(crate) input: Vec<u8>,
    /// A query: storage writes, events, transfers and value are refused, here and below.
    pub(crate) read_only: bool,
}

/// Which code a frame runs, and which export of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameCode<'a> {
    pub(crate) hash: &'a Hash256,
    /// The code, when the state does not hold it yet (a deploy).
    pub(crate) code: Option<&'a Arc<Vec<u8>>>,
    pub(crate) entry: Entry,
}

/// What one frame produced besides its changes to the context.
#[derive(Debug, Clone)]
pub(crate) struct FrameResult {
    pub(crate) status: ExecStatus,
    pub(crate) gas_used: u64,
    pub(crate) return_data: Vec<u8>,
    pub(crate) storage_fault: Option<StoreError>,
    /// The frame's index in the trace, when tracing.
    pub(crate) trace: Option<u32>,
}

impl FrameResult {
    pub(crate) fn failed(status: ExecStatus, gas_used: u64) -> Self {
        Self {
            status,
            gas_used,
            return_data: Vec::new(),
            storage_fault: None,
            trace: None,
        }
    }

    pub(crate) fn faulted(error: StoreError) -> Self {
        Self {
            storage_fault: Some(error.clone()),
            ..Self::failed(ExecStatus::Trapped(error.to_string()), 0)
        }
    }
}

/// Runs frames: the engine, reached through this trait by the host functions that run nested
/// frames (the engine runs frames whose host functions run frames).
pub(crate) trait FrameRunner: Send + Sync {
    /// Runs one frame of the contract on top of `ctx.stack` over `ctx`: `entry` of the code
    /// `code.hash` with `gas_limit` (of which `gas_precharged` is already spent). The frame's
    /// storage writes, events and transfers are in the returned context whether it succeeded
    /// or not: rolling a failed frame back is its caller's choice (a nested call's host
    /// function, or the top level dropping the journal). Never panics on guest behaviour.
    fn run_frame_untraced(
        &self,
        ctx: Context,
        frame: Frame,
        code: FrameCode<'_>,
        gas_limit: u64,
        gas_precharged: u64,
    ) -> (Context, FrameResult);

    /// [`FrameRunner::run_frame_untraced`], recording the frame's trace when the context
    /// traces.
    fn run_frame(
        &self,
        mut ctx: Context,
        frame: Frame,
        code: FrameCode<'_>,
        gas_limit: u64,
        gas_precharged: u64,
    ) -> (Context, FrameResult) {
        let contract = ctx
            .stack
            .last()
            .map_or(ContractAddress::ZERO, |f| f.address);
        let Some(trace) = ctx.trace.as_mut() else {
            return self.run_frame_untraced(ctx, frame, code, gas_limit, gas_precharged);
        };
        let index = trace.frames.len();
        // Frames are always recorded (each costs a call's gas); their input only within budget.
        let input = if trace.spend(0, frame.input.len()) {
            frame.input.clone()
        } else {
            Vec::new()
        };
        trace.frames.push(TraceFrame {
            parent: trace.open.last().map(|&p| p as u32),
            contract,
            caller: frame.caller.clone(),
            input,
            value: frame.value,
            read_only: frame.read_only,
            gas_limit,
            gas_used: 0,
            outcome: ExecStatus::Success,
            return_data: Vec::new(),
            steps: Vec::new(),
        });
        trace.open.push(index);
        let (mut ctx, mut result) =
            self.run_frame_untraced(ctx, frame, code, gas_limit, gas_precharged);
        if let Some(trace) = ctx.trace.as_mut() {
            trace.open.pop();
            if let Some(traced) = trace.frames.get_mut(index) {
                traced.gas_used = result.gas_used;
                traced.outcome = result.status.clone();
                result.trace = Some(index as u32);
            }
            if trace.spend(0, result.return_data.len())
                && let Some(traced) = trace.frames.get_mut(index)
            {
                traced.return_data.clone_from(&result.return_data);
            }
        }
        (ctx, result)
    }

    /// Native stack a frame is given (its Wasm's share and room for host functions).
    fn frame_stack(&self) -> usize;
}

/// A contract on the call stack and its balance as the frames above have left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameAccount {
    pub(crate) address: ContractAddress,
    pub(crate) balance: u64,
}

/// This execution's storage writes over the overlay, with an undo log so a failed nested frame
/// can be rolled back: each entry is a key and what the journal held for it before (`None`:
/// nothing, the overlay's value showed through).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    undo: Vec<UndoEntry>,
}

/// A key and what the journal held for it before a write.
type UndoEntry = (Vec<u8>, Option<Option<Vec<u8>>>);

impl Journal {
    /// What this execution wrote at `key`: `Some(None)` a deletion, `None` nothing.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        self.writes.get(key)
    }

    /// Writes `value` at `key` (`None` deletes).
    pub(crate) fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let before = self.writes.insert(key.clone(), value);
        self.undo.push((key, before));
    }

    /// Undoes every write after the first `len` entries of the undo log.
    fn truncate(&mut self, len: usize) {
        while self.undo.len() > len {
            let Some((key, before)) = self.undo.pop() else {
                break;
            };
            match before {
                Some(value) => self.writes.insert(key, value),
                None => self.writes.remove(&key),
            };
        }
    }

    /// The writes, for merging into the overlay.
    pub(crate) fn into_writes(self) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        self.writes
    }
}

/// Where a nested frame started: what rolling it back restores.
pub(crate) struct Checkpoint {
    journal: usize,
    events: usize,
    transfers: usize,
    balances: Vec<u64>,
}

/// The shared part of an execution, moved from frame to frame.
pub(crate) struct Context {
    pub(crate) engine: Arc<dyn FrameRunner>,
    /// The block's state so far (moved in for the execution, moved out after).
    pub(crate) overlay: StateOverlay,
    pub(crate) journal: Journal,
    pub(crate) events: Vec<Event>,
    pub(crate) transfers: Vec<(Vec<u8>, u64)>,
    /// The contracts whose frames are running, outermost first; the last is the current one.
    pub(crate) stack: Vec<FrameAccount>,
    pub(crate) height: u64,
    pub(crate) time: u64,
    /// Gas charged so far by part, but for Wasm execution (the rest of the total). Failed
    /// frames' charges stay: their gas is paid.
    pub(crate) gas: GasBreakdown,
    /// When tracing: every frame so far, in the order they started.
    pub(crate) trace: Option<Trace>,
}

/// An execution's trace as it is recorded.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Every frame so far, in the order they started.
    pub(crate) frames: Vec<TraceFrame>,
    /// Indexes of the frames running, outermost first.
    pub(crate) open: Vec<usize>,
    /// Steps recorded so far.
    steps: usize,
    /// Bytes of inputs, return data, keys, values and event data recorded so far.
    bytes: usize,
    /// The budget ran out: nothing more is recorded (frames still are, without their bytes).
    pub(crate) truncated: bool,
}

/// Most steps one trace records: a dry run may use the whole transaction gas limit, and a
/// public RPC method must not hold hundreds of megabytes for one answer.
const MAX_TRACE_STEPS: usize = 10_000;

/// Most bytes (inputs, return data, storage keys and values, event data) one trace records.
const MAX_TRACE_BYTES: usize = 4 * 1024 * 1024;

impl Trace {
    /// Takes `steps` and `bytes` from the budget; false (and truncated from then on) when they
    /// do not fit.
    pub(crate) fn spend(&mut self, steps: usize, bytes: usize) -> bool {
        if self.truncated {
            return false;
        }
        let (steps, bytes) = (self.steps + steps, self.bytes.saturating_add(bytes));
        if steps > MAX_TRACE_STEPS || bytes > MAX_TRACE_BYTES {
            self.truncated = true;
            return false;
        }
        (self.steps, self.bytes) = (steps, bytes);
        true
    }
}

impl Context {
    pub(crate) fn new(
        engine: Arc<dyn FrameRunner>,
        overlay: StateOverlay,
        height: u64,
        time: u64,
    ) -> Self {
        Self {
            engine,
            overlay,
            journal: Journal::default(),
            events: Vec::new(),
            transfers: Vec::new(),
            stack: Vec::new(),
            height,
            time,
            gas: GasBreakdown::default(),
            trace: None,
        }
    }

    /// The value at `key` as this execution sees it.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.journal.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.overlay.get(key),
        }
    }

    /// The account of `address` as this execution sees it (the balances of contracts on the
    /// stack are in [`Context::stack`], not here).
    pub(crate) fn account(
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

    /// Writes the account of `address` into the journal.
    pub(crate) fn put_account(&mut self, address: &ContractAddress, account: &ContractAccount) {
        self.journal
            .put(StateKey::account(address), Some(account.encode()));
    }

    /// The current frame's contract (the stack is never empty while a frame runs).
    pub(crate) fn current(&mut self) -> Option<&mut FrameAccount> {
        self.stack.last_mut()
    }

    /// The frame whose host calls are being traced, when tracing.
    pub(crate) fn traced_frame(&mut self) -> Option<&mut TraceFrame> {
        let trace = self.trace.as_mut().filter(|t| !t.truncated)?;
        let index = *trace.open.last()?;
        trace.frames.get_mut(index)
    }

    /// Records a host call's step on the traced frame, if tracing and the budget allows.
    pub(crate) fn trace_step(&mut self, step: TraceStep) {
        if self.trace.as_mut().is_some_and(|t| t.spend(1, 0))
            && let Some(frame) = self.traced_frame()
        {
            frame.steps.push(step);
        }
    }

    /// Sets what the current host call did on its step, if tracing and the budget allows.
    pub(crate) fn trace_detail(&mut self, detail: impl FnOnce() -> TraceDetail) {
        if self.traced_frame().and_then(|f| f.steps.last()).is_none() {
            return;
        }
        let detail = detail();
        if self
            .trace
            .as_mut()
            .is_some_and(|t| t.spend(0, detail_bytes(&detail)))
            && let Some(step) = self.traced_frame().and_then(|f| f.steps.last_mut())
        {
            step.detail = Some(detail);
        }
    }

    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            journal: self.journal.undo.len(),
            events: self.events.len(),
            transfers: self.transfers.len(),
            balances: self.stack.iter().map(|f| f.balance).collect(),
        }
    }

    /// Undoes everything after `checkpoint`: storage and account writes, events, transfers,
    /// and the balances of the frames that were on the stack then.
    pub(crate) fn roll_back(&mut self, checkpoint: Checkpoint) {
        self.journal.truncate(checkpoint.journal);
        self.events.truncate(checkpoint.events);
        self.transfers.truncate(checkpoint.transfers);
        for (frame, balance) in self.stack.iter_mut().zip(checkpoint.balances) {
            frame.balance = balance;
        }
    }
}

/// The bytes a trace detail holds, for the trace's budget.
fn detail_bytes(detail: &TraceDetail) -> usize {
    let len = |v: &Option<Vec<u8>>| v.as_ref().map_or(0, Vec::len);
    match detail {
        TraceDetail::StorageRead { key, value } => key.len() + len(value),
        TraceDetail::StorageWrite { key, old, new } => key.len() + len(old) + len(new),
        TraceDetail::Event { event } => event.topics.len() * 32 + event.data.len(),
        TraceDetail::Transfer { to, .. } => to.len(),
        TraceDetail::Call { .. } => 0,
    }
}
