//! [`lock`], the poison-tolerant lock perfscope's crates share; and, inside this crate, the
//! synchronisation types of the store's cross-thread paths (thread stores published to the
//! registry, snapshots reading them, thread exit, reset): std's, or loom's when the crate is
//! built with `--cfg perfscope_loom` for the models in `store/loom_models.rs`.
//!
//! Only the store and the histogram (whose octave pages a snapshot reads) go through here. The
//! hot path's thread-locals, the allocator's counters and the clock keep std's types: loom's
//! cannot be built in a `const` initialiser, and the models drive the store directly, as the
//! hot path does (see `RELIABILITY.md`, "Concurrency: loom and Miri").

use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

#[cfg(perfscope_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, fence};
#[cfg(perfscope_loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(not(perfscope_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, fence};
#[cfg(not(perfscope_loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

/// The value `slot` points at, allocated by `new` (perfscope's own allocation, not counted)
/// and published first if it is null: the lazily allocated parts of a thread's store (edge
/// tables, rare figures, histogram groups, octaves and carries). Meant for the owning thread;
/// should another thread race it, one value wins and the other is freed: nothing leaks or
/// dangles. Whatever `slot` points at must be freed only with its owner.
pub(crate) fn publish<T>(slot: &AtomicPtr<T>, new: impl FnOnce() -> T) -> &T {
    let mut value = slot.load(Acquire);
    if value.is_null() {
        let _own = crate::alloc::suspend();
        let fresh = Box::into_raw(Box::new(new()));
        value = match slot.compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire) {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` was never published.
                drop(unsafe { Box::from_raw(fresh) });
                winner
            }
        };
    }
    // SAFETY: published above or before, freed only with its owner.
    unsafe { &*value }
}

/// Waits a moment in a retry loop (loom: lets the other modelled threads run).
pub(crate) fn spin(attempt: u32) {
    #[cfg(perfscope_loom)]
    {
        let _ = attempt;
        loom::thread::yield_now();
    }
    #[cfg(not(perfscope_loom))]
    if attempt < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Locks `mutex`, going on with what a panicking holder left: perfscope's shared state is
/// counts and lists that stay usable (a helper for perfscope's crates; always std's mutex).
///
/// ```
/// let counts = std::sync::Mutex::new(vec![1]);
/// perfscope_core::sync::lock(&counts).push(2);
/// assert_eq!(*perfscope_core::sync::lock(&counts), [1, 2]);
/// ```
pub fn lock<T: ?Sized>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
