//! The hot path: clock read, frame push/pop, thread-local adds. Nothing here takes a lock or
//! writes memory another thread writes; everything rare is behind a `#[cold]` call.
//!
//! Each thread has a fixed-capacity stack of frames (const-initialised thread-local, no
//! destructor, so access is a plain TLS offset). A frame remembers its callsite's slot in the
//! thread's store, its start reading and the time spent in measured children; popping it
//! records the call into the slot and the elapsed time into the parent frame.
//!
//! A call that cannot push a frame (deeper than [`MAX_DEPTH`], or on a thread whose store was
//! already flushed during thread exit) still counts: it carries its own start reading and is
//! recorded with self time equal to its total time (no children subtracted), into the thread's
//! slot, or, during thread teardown, straight into the retired totals.

use std::cell::UnsafeCell;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::clock;
use crate::store::{self, EMPTY_STORE, Slot, ThreadStore, add};

/// Nested measured frames a thread tracks exactly.
pub const MAX_DEPTH: usize = 256;

#[derive(Clone, Copy)]
struct Frame {
    slot: *const Slot,
    callsite: u32,
    start: u64,
    child: u64,
}

struct Local {
    /// `&EMPTY_STORE` until the first call (and after thread exit), then the thread's store
    /// from `Arc::into_raw`. Never null, never dangling.
    store: *const ThreadStore,
    /// The store was flushed by thread exit.
    dead: bool,
    depth: usize,
    frames: [Frame; MAX_DEPTH],
}

impl Local {
    const fn new() -> Self {
        const EMPTY: Frame = Frame { slot: ptr::null(), callsite: 0, start: 0, child: 0 };
        Local { store: &EMPTY_STORE, dead: false, depth: 0, frames: [EMPTY; MAX_DEPTH] }
    }
}

thread_local! {
    static LOCAL: UnsafeCell<Local> = const { UnsafeCell::new(Local::new()) };
    static FLUSH_ON_EXIT: FlushOnExit = const { FlushOnExit };
}

/// Runs `f` on this thread's state. `LOCAL` has no destructor, so it is reachable even from
/// other thread-local destructors, and its address is valid for the thread's whole life.
#[inline(always)]
fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> R {
    // Taking only the address inside `with` keeps that closure trivial, so it inlines across
    // crates into the measured function (a closure doing the work did not).
    let local = LOCAL.with(UnsafeCell::get);
    // SAFETY: `Local` is only borrowed inside this module, by one `with_local` at a time: none of
    // the functions below calls back into user code or into `with_local` while it holds it.
    f(unsafe { &mut *local })
}

/// A call in progress: `start == 0` when its frame is on the stack, otherwise the call could
/// not push a frame and carries its own start reading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub id: u32,
    pub start: u64,
}

/// Pushes a frame for callsite `id`; the clock is read last.
#[inline(always)]
pub(crate) fn push(id: u32) -> Entry {
    with_local(|local| {
        let depth = local.depth;
        // SAFETY: `local.store` is never dangling (see `Local::store`).
        let store = unsafe { &*local.store };
        if depth < MAX_DEPTH
            && !store.stale.load(Relaxed)
            && let Some(slot) = store.slot(id)
        {
            // SAFETY: `depth < MAX_DEPTH`.
            let frame = unsafe { local.frames.get_unchecked_mut(depth) };
            frame.slot = slot;
            frame.callsite = id;
            frame.child = 0;
            local.depth = depth + 1;
            frame.start = clock::now();
            return Entry { id, start: 0 };
        }
        push_cold(local, id)
    })
}

#[cold]
#[inline(never)]
fn push_cold(local: &mut Local, id: u32) -> Entry {
    let Some(store) = live_store(local) else {
        return Entry { id, start: clock::now() };
    };
    let slot = store.slot_or_insert(id);
    if local.depth >= MAX_DEPTH {
        return Entry { id, start: clock::now() };
    }
    local.frames[local.depth] = Frame { slot, callsite: id, start: 0, child: 0 };
    local.depth += 1;
    let start = clock::now();
    local.frames[local.depth - 1].start = start;
    Entry { id, start: 0 }
}

/// The thread's store, created on first use and cleared after a reset; `None` once the thread
/// is exiting and its store has been flushed.
fn live_store(local: &mut Local) -> Option<&'static ThreadStore> {
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
    if store.stale.load(Relaxed) {
        store.clear();
    }
    Some(store)
}

/// What a popped frame measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exit {
    pub start: u64,
    pub end: u64,
    /// The slot the call is recorded in (`None`: thread teardown, record as orphan).
    slot: Option<*const Slot>,
}

impl Exit {
    pub fn elapsed(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// Pops the frame of `entry` and records its busy and self time; the clock is read first.
/// Call counts and latency are recorded by the caller ([`record_call`]), since an async
/// callsite completes only on its last poll.
#[inline(always)]
pub(crate) fn pop(entry: Entry, is_poll: bool) -> Exit {
    let end = clock::now();
    with_local(|local| {
        if entry.start == 0
            && let Some(depth) = local.depth.checked_sub(1)
        {
            local.depth = depth;
            let frame = local.frames[depth];
            let elapsed = end.saturating_sub(frame.start);
            // SAFETY: slots live as long as the store, which outlives every frame on its thread.
            let slot = unsafe { &*frame.slot };
            add(&slot.busy, elapsed);
            add(&slot.self_, elapsed.saturating_sub(frame.child));
            if is_poll {
                add(&slot.polls, 1);
            }
            if let Some(parent) = depth.checked_sub(1) {
                local.frames[parent].child += elapsed;
            }
            return Exit { start: frame.start, end, slot: Some(frame.slot) };
        }
        pop_cold(local, entry, end, is_poll)
    })
}

/// Pops a sync call's frame and records everything about the call in one pass: the common
/// case of [`pop`] followed by [`record_call`].
#[inline(always)]
pub(crate) fn pop_sync(entry: Entry) {
    let end = clock::now();
    let panicked = std::thread::panicking();
    let done = with_local(|local| {
        if entry.start != 0 {
            return false;
        }
        let Some(depth) = local.depth.checked_sub(1) else { return false };
        local.depth = depth;
        let frame = local.frames[depth];
        let elapsed = end.saturating_sub(frame.start);
        // SAFETY: as in `pop`.
        let slot = unsafe { &*frame.slot };
        add(&slot.busy, elapsed);
        add(&slot.self_, elapsed.saturating_sub(frame.child));
        slot.record_latency(elapsed);
        if panicked {
            add(&slot.panicked, 1);
        }
        if let Some(parent) = depth.checked_sub(1) {
            let parent = &mut local.frames[parent];
            parent.child += elapsed;
            // SAFETY: as in `pop`.
            unsafe { &*parent.slot }.record_edge(frame.callsite);
        }
        true
    });
    if !done {
        pop_sync_cold(entry, end, panicked);
    }
}

#[cold]
#[inline(never)]
fn pop_sync_cold(entry: Entry, end: u64, panicked: bool) {
    let exit = with_local(|local| pop_cold(local, entry, end, false));
    record_call(entry.id, &exit, exit.elapsed(), panicked, false);
}

#[cold]
#[inline(never)]
fn pop_cold(local: &mut Local, entry: Entry, end: u64, is_poll: bool) -> Exit {
    // `start == 0` here means the frame was pushed but the stack is empty (unbalanced): count the
    // call, with no time rather than a bogus one.
    let start = if entry.start == 0 { end } else { entry.start };
    let elapsed = end - start;
    let exit = Exit { start, end, slot: None };
    let Some(store) = live_store(local) else {
        store::record_orphan(entry.id, |t| {
            t.busy += elapsed;
            t.self_ += elapsed;
            t.polls += u64::from(is_poll);
        });
        return exit;
    };
    let slot = store.slot_or_insert(entry.id);
    add(&slot.busy, elapsed);
    add(&slot.self_, elapsed);
    if is_poll {
        add(&slot.polls, 1);
    }
    Exit { slot: Some(slot), ..exit }
}

/// Counts one completed call of `exit`'s callsite with the given latency, and the edge from
/// the frame now on top of the stack (the caller) to it.
#[inline(always)]
pub(crate) fn record_call(id: u32, exit: &Exit, latency: u64, panicked: bool, is_async: bool) {
    let Some(slot) = exit.slot else {
        return record_orphan_call(id, latency, panicked, is_async);
    };
    // SAFETY: as in `pop`.
    let slot = unsafe { &*slot };
    slot.record_latency(latency);
    if is_async {
        add(&slot.wall, latency);
    }
    if panicked {
        add(&slot.panicked, 1);
    }
    with_local(|local| {
        if let Some(parent) = local.depth.checked_sub(1) {
            // SAFETY: as in `pop`.
            unsafe { &*local.frames[parent].slot }.record_edge(id);
        }
    })
}

#[cold]
#[inline(never)]
fn record_orphan_call(id: u32, latency: u64, panicked: bool, is_async: bool) {
    store::record_orphan(id, |t| {
        t.calls += 1;
        t.panicked += u64::from(panicked);
        t.wall += if is_async { latency } else { 0 };
        t.max = t.max.max(latency);
        t.hist.record(latency);
    });
}

/// Counts a future of callsite `id` dropped before completion, on the dropping thread.
#[cold]
pub(crate) fn record_cancelled(id: u32) {
    with_local(|local| match live_store(local) {
        Some(store) => add(&store.slot_or_insert(id).cancelled, 1),
        None => store::record_orphan(id, |t| t.cancelled += 1),
    })
}

/// Flushes the thread's store into the retired totals when the thread exits.
struct FlushOnExit;

impl Drop for FlushOnExit {
    fn drop(&mut self) {
        with_local(|local| {
            local.dead = true;
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
