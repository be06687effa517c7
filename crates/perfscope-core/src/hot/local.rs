//! A thread's hot-path state: the fixed-capacity frame stack and the pointer to the thread's
//! store, reached through a const-initialised thread-local with no destructor, and the
//! thread-exit flush that folds the store into the retired totals.
//!
//! Nothing outside [`hot`](super) borrows this state; the borrow rules are on [`with_local`].

use std::cell::UnsafeCell;
use std::ptr;
use std::sync::Arc;

use crate::alloc::{self, AllocCounts};
use crate::clock;
use crate::store::{self, EMPTY_STORE, Slot, ThreadStore};

/// Nested measured frames a thread tracks exactly.
pub const MAX_DEPTH: usize = 256;

#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub slot: *const Slot,
    /// 0 for a `#[measure]` call or poll; a tracing span's id for an entered span.
    pub tag: u64,
    pub start: u64,
    /// Busy time of finished children.
    pub child: u64,
    pub callsite: u32,
    /// Calls the parent's edge to this frame gains when it is popped (spans: 1 on first exit).
    pub edge_calls: u32,
    /// `allocs[depth]` holds this frame's allocation counters.
    pub alloc_tracked: bool,
}

impl Frame {
    /// The frame of a `#[measure]` call or poll of callsite `id` (not an entered span's).
    pub fn is_call_of(&self, id: u32) -> bool {
        self.tag == 0 && self.callsite == id
    }
}

/// Allocation counters of a frame, kept beside the frames so the untracked path never touches
/// them.
#[derive(Clone, Copy)]
pub(super) struct AllocFrame {
    pub at_entry: AllocCounts,
    /// Inclusive allocations of finished children.
    pub child: AllocCounts,
}

pub(super) struct Local {
    /// `&EMPTY_STORE` until the first call (and after thread exit), then the thread's store
    /// from `Arc::into_raw`. Never null, never dangling.
    pub store: *const ThreadStore,
    /// The store was flushed by thread exit.
    pub dead: bool,
    pub depth: usize,
    /// `#[measure]` calls and polls in progress that found the stack full (they nest above
    /// its top frame): only the outermost of them is timed as a child of that frame.
    pub deep: u32,
    pub frames: [Frame; MAX_DEPTH],
    pub allocs: [AllocFrame; MAX_DEPTH],
}

impl Local {
    const fn new() -> Self {
        const EMPTY: Frame = Frame {
            slot: ptr::null(),
            tag: 0,
            start: 0,
            child: 0,
            callsite: 0,
            edge_calls: 0,
            alloc_tracked: false,
        };
        const ZERO: AllocCounts =
            AllocCounts { allocations: 0, alloc_bytes: 0, frees: 0, freed_bytes: 0, reallocs: 0 };
        const NO_ALLOC: AllocFrame = AllocFrame { at_entry: ZERO, child: ZERO };
        Local {
            store: &EMPTY_STORE,
            dead: false,
            depth: 0,
            deep: 0,
            frames: [EMPTY; MAX_DEPTH],
            allocs: [NO_ALLOC; MAX_DEPTH],
        }
    }
}

thread_local! {
    static LOCAL: UnsafeCell<Local> = const { UnsafeCell::new(Local::new()) };
    static FLUSH_ON_EXIT: FlushOnExit = const { FlushOnExit };
}

/// Runs `f` on this thread's state. `LOCAL` has no destructor, so it is reachable even from
/// other thread-local destructors, and its address is valid for the thread's whole life.
#[inline(always)]
pub(super) fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> R {
    // Taking only the address inside `with` keeps that closure trivial, so it inlines across
    // crates into the measured function (a closure doing the work did not).
    let local = LOCAL.with(UnsafeCell::get);
    // SAFETY: `Local` is only borrowed inside the `hot` module, by one `with_local` at a time:
    // none of its functions calls back into user code or into `with_local` while it holds it.
    // The allocator's counters live in another thread-local, so allocating here does not alias
    // it.
    f(unsafe { &mut *local })
}

/// This thread's state, for the hot functions of `hot`: unlike [`with_local`] it leaves no
/// closure for the optimiser to decline to inline into the measured function.
///
/// # Safety
/// The caller must not hold two of these borrows at once, nor call user code or
/// [`with_local`] while holding one (the same contract as [`with_local`]).
#[inline(always)]
pub(super) unsafe fn local_mut<'a>() -> &'a mut Local {
    // SAFETY: the caller upholds the exclusivity described above; the address is valid for the
    // thread's whole life (see `with_local`).
    unsafe { &mut *LOCAL.with(UnsafeCell::get) }
}

/// The thread's store, created on first use and cleared after a reset; `None` once the thread
/// is exiting and its store has been flushed.
pub(super) fn live_store(local: &mut Local) -> Option<&'static ThreadStore> {
    if local.dead {
        return None;
    }
    if ptr::eq(local.store, &EMPTY_STORE) {
        if FLUSH_ON_EXIT.try_with(|_| ()).is_err() {
            local.dead = true;
            return None;
        }
        local.store = Arc::into_raw(store::new_thread_store());
    }
    // SAFETY: not dead, so the store is alive; it is freed only by `FlushOnExit` below, on this
    // thread, after `dead` is set.
    let store: &'static ThreadStore = unsafe { &*local.store };
    if store.clear_if_stale() {
        restart_frames(local);
    }
    Some(store)
}

/// The frames on the stack when the thread clears its store after a `reset()` began before
/// it: they count from now on, so no time or allocation from before the reset reaches the
/// figures after it (a call in flight across a reset reports only its part after it).
#[cold]
fn restart_frames(local: &mut Local) {
    let now = clock::now();
    let counts = alloc::thread_counts();
    for depth in 0..local.depth {
        let frame = &mut local.frames[depth];
        frame.start = now;
        frame.child = 0;
        if frame.alloc_tracked {
            local.allocs[depth] = AllocFrame { at_entry: counts, child: AllocCounts::default() };
        }
    }
}

/// Flushes the thread's store into the retired totals when the thread exits.
///
/// Frames still on the stack then (a guard or an entered span kept in another thread-local,
/// destroyed after this one) point into the store about to be freed: they are dropped from the
/// stack, so their ends find no frame and count the call into the retired totals, with no
/// time (found by Miri: `a_frame_left_on_the_stack_at_thread_exit_is_popped_after_the_flush`).
struct FlushOnExit;

impl Drop for FlushOnExit {
    fn drop(&mut self) {
        with_local(|local| {
            local.dead = true;
            local.depth = 0;
            local.deep = 0;
            let store = std::mem::replace(&mut local.store, &EMPTY_STORE);
            if !ptr::eq(store, &EMPTY_STORE) {
                // SAFETY: `store` came from `Arc::into_raw` in `live_store`, and `dead` now stops
                // every use of the raw pointer.
                let store = unsafe { Arc::from_raw(store) };
                store::retire(&store);
            }
        });
    }
}

/// Depth of this thread's frame stack (for tests).
pub fn depth() -> usize {
    with_local(|local| local.depth)
}
