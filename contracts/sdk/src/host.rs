//! The host API behind the public functions: imports from module `env` on wasm32, the
//! [`crate::testing`] environment elsewhere. Pointers and lengths are i32 (wasm32 addresses);
//! amounts, heights and gas are i64 carrying u64 bits.

use alloc::vec::Vec;

use crate::{Account, Address, Amount, InsufficientBalance};

#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "env")]
    unsafe extern "C" {
        pub(super) fn input_len() -> i32;
        pub(super) fn input_read(out: *mut u8);
        pub(super) fn set_return(ptr: *const u8, len: i32);
        pub(super) fn revert(ptr: *const u8, len: i32) -> !;
        pub(super) fn storage_read(key: *const u8, key_len: i32, out: *mut u8, cap: i32) -> i32;
        pub(super) fn storage_write(key: *const u8, key_len: i32, val: *const u8, val_len: i32);
        pub(super) fn storage_remove(key: *const u8, key_len: i32);
        pub(super) fn caller(out: *mut u8) -> i32;
        pub(super) fn address(out: *mut u8);
        pub(super) fn value_received() -> i64;
        pub(super) fn balance() -> i64;
        pub(super) fn block_height() -> i64;
        pub(super) fn block_time() -> i64;
        pub(super) fn transfer(script: *const u8, script_len: i32, amount: i64) -> i32;
        pub(super) fn emit_event(topics: *const u8, topic_count: i32, data: *const u8, len: i32);
        pub(super) fn sha256(ptr: *const u8, len: i32, out: *mut u8);
        pub(super) fn ripemd160(ptr: *const u8, len: i32, out: *mut u8);
        pub(super) fn secp256k1_verify(
            msg: *const u8,
            sig: *const u8,
            sig_len: i32,
            pk: *const u8,
            pk_len: i32,
        ) -> i32;
        pub(super) fn gas_left() -> i64;
        pub(super) fn call(
            address: *const u8,
            input: *const u8,
            input_len: i32,
            value: i64,
            gas: i64,
        ) -> i32;
        pub(super) fn query(address: *const u8, input: *const u8, input_len: i32, gas: i64) -> i32;
        pub(super) fn return_data_len() -> i32;
        pub(super) fn return_data_read(out: *mut u8);
    }
}

// Lengths fit in i32: wasm32 memory is at most 4 GiB and the host caps every length far
// below 2 GiB, trapping before it would read a negative one.
#[cfg(target_arch = "wasm32")]
fn len(bytes: &[u8]) -> i32 {
    bytes.len() as i32
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use crate::MAX_ACCOUNT_LEN;
    use alloc::vec;

    pub(crate) fn input() -> Vec<u8> {
        // SAFETY: the host writes exactly `input_len()` bytes at `out`, which has that room.
        unsafe {
            let n = sys::input_len() as usize;
            let mut buf = vec![0u8; n];
            sys::input_read(buf.as_mut_ptr());
            buf
        }
    }
    pub(crate) fn set_return(data: &[u8]) {
        // SAFETY: the host reads `len` bytes from a valid slice.
        unsafe { sys::set_return(data.as_ptr(), len(data)) }
    }
    pub(crate) fn revert(reason: &[u8]) -> ! {
        // SAFETY: as above; the host never returns.
        unsafe { sys::revert(reason.as_ptr(), len(reason)) }
    }
    pub(crate) fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 128];
        // SAFETY: the host writes at most `cap` bytes into `buf` and returns the full length
        // (or -1 when absent); a longer value is read again into a buffer of that length.
        unsafe {
            let n = sys::storage_read(key.as_ptr(), len(key), buf.as_mut_ptr(), len(&buf));
            if n < 0 {
                return None;
            }
            let n = n as usize;
            if n > buf.len() {
                buf = vec![0u8; n];
                sys::storage_read(key.as_ptr(), len(key), buf.as_mut_ptr(), len(&buf));
            }
            buf.truncate(n);
            Some(buf)
        }
    }
    pub(crate) fn storage_set(key: &[u8], value: &[u8]) {
        // SAFETY: both slices are valid for their lengths.
        unsafe { sys::storage_write(key.as_ptr(), len(key), value.as_ptr(), len(value)) }
    }
    pub(crate) fn storage_remove(key: &[u8]) {
        // SAFETY: as above.
        unsafe { sys::storage_remove(key.as_ptr(), len(key)) }
    }
    pub(crate) fn caller() -> Account {
        let mut buf = vec![0u8; MAX_ACCOUNT_LEN];
        // SAFETY: the host writes at most MAX_ACCOUNT_LEN bytes and returns how many.
        let n = unsafe { sys::caller(buf.as_mut_ptr()) } as usize;
        buf.truncate(n);
        Account(buf)
    }
    pub(crate) fn address() -> Address {
        let mut out = [0u8; 32];
        // SAFETY: the host writes 32 bytes.
        unsafe { sys::address(out.as_mut_ptr()) };
        out
    }
    pub(crate) fn value_received() -> Amount {
        // SAFETY: no memory is touched.
        unsafe { sys::value_received() as u64 }
    }
    pub(crate) fn balance() -> Amount {
        // SAFETY: no memory is touched.
        unsafe { sys::balance() as u64 }
    }
    pub(crate) fn block_height() -> u64 {
        // SAFETY: no memory is touched.
        unsafe { sys::block_height() as u64 }
    }
    pub(crate) fn block_time() -> u64 {
        // SAFETY: no memory is touched.
        unsafe { sys::block_time() as u64 }
    }
    pub(crate) fn transfer(to: &[u8], amount: Amount) -> Result<(), InsufficientBalance> {
        // SAFETY: the script slice is valid for its length.
        match unsafe { sys::transfer(to.as_ptr(), len(to), amount as i64) } {
            0 => Ok(()),
            _ => Err(InsufficientBalance),
        }
    }
    pub(crate) fn emit_event(topics: &[[u8; 32]], data: &[u8]) {
        // SAFETY: `topics` is `topics.len()` contiguous 32-byte arrays.
        unsafe {
            sys::emit_event(
                topics.as_ptr().cast(),
                topics.len() as i32,
                data.as_ptr(),
                len(data),
            )
        }
    }
    pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        // SAFETY: the host reads `data` and writes 32 bytes.
        unsafe { sys::sha256(data.as_ptr(), len(data), out.as_mut_ptr()) };
        out
    }
    pub(crate) fn ripemd160(data: &[u8]) -> [u8; 20] {
        let mut out = [0u8; 20];
        // SAFETY: the host reads `data` and writes 20 bytes.
        unsafe { sys::ripemd160(data.as_ptr(), len(data), out.as_mut_ptr()) };
        out
    }
    pub(crate) fn secp256k1_verify(msg: &[u8; 32], sig: &[u8], pk: &[u8]) -> bool {
        // SAFETY: every slice is valid for its length.
        unsafe {
            sys::secp256k1_verify(msg.as_ptr(), sig.as_ptr(), len(sig), pk.as_ptr(), len(pk)) == 1
        }
    }
    pub(crate) fn gas_left() -> u64 {
        // SAFETY: no memory is touched.
        unsafe { sys::gas_left() as u64 }
    }
    pub(crate) fn call_contract(
        address: &Address,
        input: &[u8],
        value: Amount,
        gas: u64,
        query: bool,
    ) -> (i32, Vec<u8>) {
        // SAFETY: the address is 32 bytes and the input valid for its length; the host writes
        // exactly `return_data_len()` bytes at `out`, which has that room.
        unsafe {
            let status = if query {
                sys::query(address.as_ptr(), input.as_ptr(), len(input), gas as i64)
            } else {
                sys::call(
                    address.as_ptr(),
                    input.as_ptr(),
                    len(input),
                    value as i64,
                    gas as i64,
                )
            };
            let mut out = vec![0u8; sys::return_data_len() as usize];
            sys::return_data_read(out.as_mut_ptr());
            (status, out)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;
    use crate::testing::with_env;

    pub(crate) fn input() -> Vec<u8> {
        with_env(|e| e.input.clone())
    }
    pub(crate) fn set_return(data: &[u8]) {
        with_env(|e| e.return_data = data.to_vec())
    }
    pub(crate) fn revert(reason: &[u8]) -> ! {
        std::panic::panic_any(crate::testing::Reverted(
            alloc::string::String::from_utf8_lossy(reason).into_owned(),
        ))
    }
    pub(crate) fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        with_env(|e| e.storage.get(key).cloned())
    }
    pub(crate) fn storage_set(key: &[u8], value: &[u8]) {
        crate::testing::check_writable("a storage write");
        with_env(|e| e.storage.insert(key.to_vec(), value.to_vec()));
    }
    pub(crate) fn storage_remove(key: &[u8]) {
        crate::testing::check_writable("a storage write");
        with_env(|e| e.storage.remove(key));
    }
    pub(crate) fn caller() -> Account {
        with_env(|e| e.caller.clone())
    }
    pub(crate) fn address() -> Address {
        with_env(|e| e.address)
    }
    pub(crate) fn value_received() -> Amount {
        with_env(|e| e.value)
    }
    pub(crate) fn balance() -> Amount {
        with_env(|e| e.balance)
    }
    pub(crate) fn block_height() -> u64 {
        with_env(|e| e.block_height)
    }
    pub(crate) fn block_time() -> u64 {
        with_env(|e| e.block_time)
    }
    pub(crate) fn transfer(to: &[u8], amount: Amount) -> Result<(), InsufficientBalance> {
        crate::testing::check_writable("a transfer");
        with_env(|e| {
            if e.balance < amount {
                return Err(InsufficientBalance);
            }
            e.balance -= amount;
            let to = Account(to.to_vec());
            // A World contract's account is credited, as the chain credits a contract.
            if let Some(contract) = to.as_contract() {
                if e.running_code.is_some() && contract == e.address {
                    e.balance += amount;
                    return Ok(());
                }
                if let Some(c) = e.contracts.get_mut(&contract) {
                    c.balance = c.balance.saturating_add(amount);
                    return Ok(());
                }
            }
            e.transfers.push((to, amount));
            Ok(())
        })
    }
    pub(crate) fn emit_event(topics: &[[u8; 32]], data: &[u8]) {
        crate::testing::check_writable("an event");
        with_env(|e| {
            e.events.push((topics.to_vec(), data.to_vec()));
            e.emitters.push(e.address);
        })
    }
    pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
        crate::testing::sha256(data)
    }
    pub(crate) fn ripemd160(data: &[u8]) -> [u8; 20] {
        use ripemd::Digest;
        ripemd::Ripemd160::digest(data).into()
    }
    pub(crate) fn secp256k1_verify(msg: &[u8; 32], sig: &[u8], pk: &[u8]) -> bool {
        crate::testing::secp256k1_verify(msg, sig, pk)
    }
    pub(crate) fn gas_left() -> u64 {
        u64::MAX
    }
    pub(crate) fn call_contract(
        address: &Address,
        input: &[u8],
        value: Amount,
        _gas: u64,
        query: bool,
    ) -> (i32, Vec<u8>) {
        crate::testing::call_mock(address, input, value, query)
    }
}

pub(crate) use imp::*;
