//! What a `no_std` wasm32 contract needs from its runtime: an allocator and a panic handler.
//!
//! The allocator bumps a pointer through memory grown past the module's initial memory and
//! never frees: a call is short-lived and its instance is thrown away afterwards, so freeing
//! would only cost gas. A panic reverts the call with the panic message.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 65_536;

struct BumpAllocator {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: contracts run on one thread; wasm32-unknown-unknown has no threads without the
// atomics feature, which the node refuses.
unsafe impl Sync for BumpAllocator {}

// SAFETY: every block handed out is fresh memory below the grown end, aligned as asked, and
// never handed out twice.
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            let top = wasm32::memory_size(0) * PAGE;
            self.next.set(top);
            self.end.set(top);
        }
        let align = layout.align();
        let Some(start) = self
            .next
            .get()
            .checked_add(align - 1)
            .map(|n| n & !(align - 1))
        else {
            return core::ptr::null_mut();
        };
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if end > self.end.get() {
            let pages = (end - self.end.get()).div_ceil(PAGE);
            if wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(end);
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator {
    next: Cell::new(0),
    end: Cell::new(0),
};

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::revert(info.message().as_str().unwrap_or("panic"))
}
