//! Test fixtures: proptest strategies for the chain types, a fixed sample transaction, and an
//! allocation probe for the decoders' memory tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use i8o8i_script_vm::ScriptBuf;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::amount::Amount;
use crate::block::{Block, Header, Seal};
use crate::hash::{BlockHash, ContractAddress, Hash256, Txid};
pub(crate) use crate::test_utils::sample_transaction;
use crate::transaction::{OutPoint, Payload, Transaction, TxIn, TxOut};

fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn arb_key() -> impl Strategy<Value = [u8; 33]> {
    (any::<u8>(), any::<[u8; 32]>()).prop_map(|(first, rest)| {
        let mut key = [first; 33];
        key[1..].copy_from_slice(&rest);
        key
    })
}

fn arb_amount() -> impl Strategy<Value = Amount> {
    any::<u64>().prop_map(Amount::from_units)
}

fn arb_txin() -> impl Strategy<Value = TxIn> {
    (any::<[u8; 32]>(), any::<u32>(), arb_bytes(40), any::<u32>()).prop_map(
        |(txid, index, script, sequence)| TxIn {
            prevout: OutPoint {
                txid: Txid::from_byte_array(txid),
                index,
            },
            script_sig: ScriptBuf::from_bytes(script),
            sequence,
        },
    )
}

fn arb_txout() -> impl Strategy<Value = TxOut> {
    (arb_amount(), arb_bytes(40)).prop_map(|(value, script)| TxOut {
        value,
        script_pubkey: ScriptBuf::from_bytes(script),
    })
}

fn arb_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (
            arb_bytes(64),
            arb_bytes(16),
            any::<[u8; 32]>(),
            any::<u64>(),
            option::of(arb_bytes(34)),
        )
            .prop_map(
                |(code, init_input, salt, gas_limit, admin)| Payload::Deploy {
                    code,
                    init_input,
                    salt,
                    gas_limit,
                    admin,
                }
            ),
        (
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            arb_bytes(16),
            any::<u64>()
        )
            .prop_map(|(contract, code_hash, input, gas_limit)| Payload::Migrate {
                contract: ContractAddress::from_byte_array(contract),
                code_hash: crate::Hash256::from_byte_array(code_hash),
                input,
                gas_limit,
            }),
        (any::<[u8; 32]>(), option::of(arb_bytes(34))).prop_map(|(contract, admin)| {
            Payload::SetAdmin {
                contract: ContractAddress::from_byte_array(contract),
                admin,
            }
        }),
        (any::<[u8; 32]>(), arb_bytes(16), arb_amount(), any::<u64>()).prop_map(
            |(contract, input, value, gas_limit)| Payload::Call {
                contract: ContractAddress::from_byte_array(contract),
                input,
                value,
                gas_limit
            }
        ),
        (arb_key(), arb_amount())
            .prop_map(|(staking_key, value)| Payload::Bond { staking_key, value }),
        (arb_key(), arb_amount())
            .prop_map(|(staking_key, value)| Payload::Unbond { staking_key, value }),
        (".{0,12}", arb_key()).prop_map(|(name, key)| Payload::RegisterDelegate { name, key }),
        (arb_key(), vec(arb_key(), 0..4)).prop_map(|(voter_key, delegates)| Payload::Vote {
            voter_key,
            delegates
        }),
    ]
}

/// Any transaction (not necessarily valid), small.
pub(crate) fn arb_transaction() -> impl Strategy<Value = Transaction> {
    (
        any::<u32>(),
        vec(arb_txin(), 0..4),
        vec(arb_txout(), 0..4),
        any::<u32>(),
        option::of(arb_payload()),
    )
        .prop_map(
            |(version, inputs, outputs, lock_time, payload)| Transaction {
                version,
                inputs,
                outputs,
                lock_time,
                payload,
            },
        )
}

fn arb_seal() -> impl Strategy<Value = Seal> {
    prop_oneof![
        (any::<u32>(), any::<u64>()).prop_map(|(bits, nonce)| Seal::Pow { bits, nonce }),
        (any::<u64>(), arb_key(), arb_bytes(80)).prop_map(|(slot, pubkey, signature)| {
            Seal::Producer {
                slot,
                pubkey,
                signature,
            }
        }),
    ]
}

/// Any header (not necessarily valid).
pub(crate) fn arb_header() -> impl Strategy<Value = Header> {
    (
        any::<u32>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        arb_seal(),
    )
        .prop_map(
            |(version, parent, height, time, tx_root, state_root, seal)| Header {
                version,
                parent: BlockHash::from_byte_array(parent),
                height,
                time,
                tx_root: Hash256::from_byte_array(tx_root),
                state_root: Hash256::from_byte_array(state_root),
                seal,
            },
        )
}

/// Any block (not necessarily valid), small.
pub(crate) fn arb_block() -> impl Strategy<Value = Block> {
    (arb_header(), vec(arb_transaction(), 0..4)).prop_map(|(header, transactions)| Block {
        header,
        transactions,
    })
}

thread_local! {
    /// While a probe runs on this thread: the largest allocation it has seen.
    static LARGEST_ALLOCATION: Cell<Option<usize>> = const { Cell::new(None) };
}

fn note_allocation(size: usize) {
    // `try_with`: the thread-local may already be gone while a thread exits.
    let _ = LARGEST_ALLOCATION.try_with(|largest| {
        if let Some(max) = largest.get() {
            largest.set(Some(max.max(size)));
        }
    });
}

/// The system allocator, recording the largest allocation made on a thread while
/// [`largest_allocation_during`] runs there.
struct AllocationProbe;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; recording a size touches only a const-initialised
// thread-local `Cell`, which does not allocate.
unsafe impl GlobalAlloc for AllocationProbe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        // SAFETY: forwarded unchanged; `ptr` and `layout` come from this allocator, i.e. `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` and `layout` come from this allocator, i.e. `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATION_PROBE: AllocationProbe = AllocationProbe;

/// Runs `f` and returns its result with the largest single allocation (bytes) it made on this
/// thread.
pub(crate) fn largest_allocation_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST_ALLOCATION.with(|largest| largest.set(Some(0)));
    let result = f();
    let largest = LARGEST_ALLOCATION.with(|largest| largest.replace(None));
    (result, largest.unwrap_or(0))
}

#[test]
fn the_allocation_probe_sees_allocations_on_its_own_thread() {
    let (v, largest) = largest_allocation_during(|| vec![0u8; 1 << 20]);
    assert_eq!(v.len(), 1 << 20);
    assert!(largest >= 1 << 20, "saw {largest}");
    let ((), nothing) = largest_allocation_during(|| ());
    assert_eq!(nothing, 0);
}
