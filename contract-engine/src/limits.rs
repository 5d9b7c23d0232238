//! Size and count caps on contract modules and executions. Consensus data, like the gas
//! schedule.

/// Largest contract module (bytes).
pub const MAX_CODE_SIZE: usize = 256 * 1024;
/// Most functions (imported and defined).
pub const MAX_FUNCTIONS: usize = 4_096;
/// Most globals.
pub const MAX_GLOBALS: usize = 256;
/// Most data segments.
pub const MAX_DATA_SEGMENTS: usize = 256;
/// Most exports.
pub const MAX_EXPORTS: usize = 64;
/// Most locals of one function (bounds the native frame of a Wasm call).
pub const MAX_LOCALS: usize = 1_024;
/// Most linear-memory pages (64 KiB each), initially and after growth: 2 MiB.
pub const MAX_MEMORY_PAGES: u64 = 32;
/// Most table elements, initially and after growth.
pub const MAX_TABLE_ELEMENTS: usize = 4_096;
/// Largest call input or constructor input (bytes).
pub const MAX_INPUT: usize = 64 * 1024;
/// Largest return data or revert reason (bytes).
pub const MAX_RETURN: usize = 64 * 1024;
/// Largest storage key (bytes).
pub const MAX_KEY: usize = 128;
/// Largest storage value (bytes).
pub const MAX_VALUE: usize = 16 * 1024;
/// Most topics of one event.
pub const MAX_TOPICS: usize = 4;
/// Largest event data (bytes).
pub const MAX_EVENT_DATA: usize = 4 * 1024;
/// Most events of one execution.
pub const MAX_EVENTS: usize = 64;
/// Most transfers of one execution.
pub const MAX_TRANSFERS: usize = 16;
/// Largest script a transfer pays (bytes).
pub const MAX_TRANSFER_SCRIPT: usize = 64;
/// Largest caller script; a transaction whose first coin has a longer script cannot deploy or
/// call.
pub const MAX_CALLER_LEN: usize = 64;
/// Largest input of a hash host function (bytes).
pub const MAX_HASH_INPUT: usize = 64 * 1024;
/// Native stack wasmtime gives a frame. The stack-height counter ([`MAX_STACK_HEIGHT`]) trips
/// well before it runs out, so where it ends never decides an outcome.
pub const MAX_WASM_STACK: usize = 1024 * 1024;
/// Most stack slots one frame's Wasm may hold at once, counted by the
/// [`instrument`](crate::instrument) pass: each active function call holds
/// [`STACK_FRAME_COST`] plus its parameters, locals and deepest operand stack. 32,768 slots
/// of 8 bytes are a quarter of [`MAX_WASM_STACK`].
pub const MAX_STACK_HEIGHT: u32 = 32 * 1024;
/// Slots a call holds for its frame alone (return address, saved registers, the height the
/// counting keeps in a local), beyond its values.
pub const STACK_FRAME_COST: u32 = 16;
/// Most frames of one execution: the transaction's call and the contracts it calls, nested.
/// Each may use [`MAX_WASM_STACK`] of native stack, so this also bounds an execution's stack.
pub const MAX_CALL_DEPTH: usize = 8;
