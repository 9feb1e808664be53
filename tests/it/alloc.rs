//! The one global allocator of the `it` binary: it forwards to the system allocator and,
//! per thread (so that tests running in parallel do not mix), counts what this thread
//! allocates. Suites measure a closure with [`measure`]. The `rnn` and `bert` examples
//! include this file too (`#[path]`), so their `--bench` modes count a steady step's
//! allocations the same way.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// What one thread allocated while running a closure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allocated {
    /// Bytes asked for (a `realloc` counts its growth).
    pub(crate) bytes: usize,
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub(crate) calls: usize,
    /// The largest single request.
    pub(crate) largest: usize,
}

thread_local! {
    static THIS_THREAD: Cell<Allocated> = const {
        Cell::new(Allocated { bytes: 0, calls: 0, largest: 0 })
    };
}

fn note(grow: usize, request: usize) {
    // `try_with`: allocations during thread teardown are not counted.
    let _ = THIS_THREAD.try_with(|a| {
        let mut now = a.get();
        now.bytes = now.bytes.saturating_add(grow);
        now.calls += 1;
        now.largest = now.largest.max(request);
        a.set(now);
    });
}

/// Runs `f` and returns what this thread allocated meanwhile.
pub(crate) fn measure<R>(f: impl FnOnce() -> R) -> (R, Allocated) {
    let before = THIS_THREAD.with(|a| {
        let before = a.get();
        a.set(Allocated {
            largest: 0,
            ..before
        });
        before
    });
    let r = f();
    let after = THIS_THREAD.with(|a| {
        let after = a.get();
        a.set(Allocated {
            largest: before.largest.max(after.largest),
            ..after
        });
        after
    });
    let used = Allocated {
        bytes: after.bytes - before.bytes,
        calls: after.calls - before.calls,
        largest: after.largest,
    };
    (r, used)
}

struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which we forward.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (all allocations go through us).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size.saturating_sub(layout.size()), new_size);
        // SAFETY: as for `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
