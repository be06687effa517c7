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

use crate::alloc::{self, AllocCounts};
use crate::clock;
use crate::store::{self, EMPTY_STORE, Slot, ThreadStore, add};

/// Nested measured frames a thread tracks exactly.
pub const MAX_DEPTH: usize = 256;

#[derive(Clone, Copy)]
struct Frame {
    slot: *const Slot,
    /// 0 for a `#[measure]` call or poll; a tracing span's id for an entered span.
    tag: u64,
    start: u64,
    /// Busy time of finished children.
    child: u64,
    callsite: u32,
    /// Calls the parent's edge to this frame gains when it is popped (spans: 1 on first exit).
    edge_calls: u32,
    /// `allocs[depth]` holds this frame's allocation counters.
    alloc_tracked: bool,
}

/// Allocation counters of a frame, kept beside the frames so the untracked path never touches
/// them.
#[derive(Clone, Copy)]
struct AllocFrame {
    at_entry: AllocCounts,
    /// Inclusive allocations of finished children.
    child: AllocCounts,
}

struct Local {
    /// `&EMPTY_STORE` until the first call (and after thread exit), then the thread's store
    /// from `Arc::into_raw`. Never null, never dangling.
    store: *const ThreadStore,
    /// The store was flushed by thread exit.
    dead: bool,
    depth: usize,
    frames: [Frame; MAX_DEPTH],
    allocs: [AllocFrame; MAX_DEPTH],
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
            AllocCounts { allocs: 0, alloc_bytes: 0, frees: 0, freed_bytes: 0, reallocs: 0 };
        const NO_ALLOC: AllocFrame = AllocFrame { at_entry: ZERO, child: ZERO };
        Local {
            store: &EMPTY_STORE,
            dead: false,
            depth: 0,
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
fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> R {
    // Taking only the address inside `with` keeps that closure trivial, so it inlines across
    // crates into the measured function (a closure doing the work did not).
    let local = LOCAL.with(UnsafeCell::get);
    // SAFETY: `Local` is only borrowed inside this module, by one `with_local` at a time: none of
    // the functions below calls back into user code or into `with_local` while it holds it. The
    // allocator's counters live in another thread-local, so allocating here does not alias it.
    f(unsafe { &mut *local })
}

/// This thread's state, for the hot functions below: unlike [`with_local`] it leaves no
/// closure for the optimiser to decline to inline into the measured function.
///
/// # Safety
/// The caller must not hold two of these borrows at once, nor call user code or
/// [`with_local`] while holding one (the same contract as [`with_local`]).
#[inline(always)]
unsafe fn local_mut<'a>() -> &'a mut Local {
    // SAFETY: the caller upholds the exclusivity described above; the address is valid for the
    // thread's whole life (see `with_local`).
    unsafe { &mut *LOCAL.with(UnsafeCell::get) }
}

/// A call in progress: `start == 0` when its frame is on the stack, otherwise the call could
/// not push a frame and carries its own start reading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub id: u32,
    pub start: u64,
}

/// Pushes a frame for a `#[measure]` call of callsite `id`; the clock is read last.
#[inline(always)]
pub(crate) fn push(id: u32) -> Entry {
    // SAFETY: the borrow ends with this function, which calls no user code.
    let local = unsafe { local_mut() };
    match push_frame(local, id, 0, 0) {
        true => Entry { id, start: 0 },
        false => Entry { id, start: clock::now() },
    }
}

/// Pushes a frame (`tag`: 0, or an entered span's id); `false` when none could be pushed.
#[inline(always)]
fn push_frame(local: &mut Local, id: u32, tag: u64, edge_calls: u32) -> bool {
    let depth = local.depth;
    // SAFETY: `local.store` is never dangling (see `Local::store`).
    let store = unsafe { &*local.store };
    if depth < MAX_DEPTH
        && !store.stale.load(Relaxed)
        && let Some(slot) = store.slot(id)
    {
        let alloc_tracked = alloc::is_installed();
        // SAFETY: `depth < MAX_DEPTH`.
        let frame = unsafe { local.frames.get_unchecked_mut(depth) };
        frame.slot = slot;
        frame.tag = tag;
        frame.callsite = id;
        frame.child = 0;
        frame.edge_calls = edge_calls;
        frame.alloc_tracked = alloc_tracked;
        if alloc_tracked {
            start_alloc(local, depth);
        }
        local.depth = depth + 1;
        // SAFETY: as above.
        unsafe { local.frames.get_unchecked_mut(depth) }.start = clock::now();
        return true;
    }
    push_cold(local, id, tag, edge_calls)
}

#[inline(never)]
fn start_alloc(local: &mut Local, depth: usize) {
    local.allocs[depth] =
        AllocFrame { at_entry: alloc::thread_counts(), child: AllocCounts::default() };
}

/// Pushes a frame when the fast path cannot (first call on the thread or of the callsite, full
/// stack, thread exiting); `false` when no frame could be pushed.
#[cold]
#[inline(never)]
fn push_cold(local: &mut Local, id: u32, tag: u64, edge_calls: u32) -> bool {
    let Some(store) = live_store(local) else { return false };
    let slot = store.slot_or_insert(id);
    let depth = local.depth;
    if depth >= MAX_DEPTH {
        return false;
    }
    let alloc_tracked = alloc::is_installed();
    local.frames[depth] =
        Frame { slot, tag, start: 0, child: 0, callsite: id, edge_calls, alloc_tracked };
    if alloc_tracked {
        start_alloc(local, depth);
    }
    local.depth = depth + 1;
    local.frames[depth].start = clock::now();
    true
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

/// Records a frame that has just left the stack (it was at index `depth`): busy and self time
/// and allocations into its slot, its time into the parent frame, and the parent's edge to it.
#[inline(always)]
fn settle(local: &mut Local, frame: Frame, depth: usize, end: u64, is_poll: bool, calls: u64) {
    let elapsed = end.saturating_sub(frame.start);
    // SAFETY: slots live as long as the store, which outlives every frame on its thread.
    let slot = unsafe { &*frame.slot };
    add(&slot.busy, elapsed);
    add(&slot.self_, elapsed.saturating_sub(frame.child));
    if is_poll {
        add(&slot.polls, 1);
    }
    if let Some(parent) = depth.checked_sub(1) {
        // SAFETY: `parent < depth < MAX_DEPTH` (callers pass the index the frame had).
        let parent = unsafe { local.frames.get_unchecked_mut(parent) };
        parent.child += elapsed;
        // SAFETY: as above.
        unsafe { &*parent.slot }.record_edge(frame.callsite, calls, elapsed);
    }
    if frame.alloc_tracked {
        settle_alloc(local, frame.callsite, slot, depth);
    }
}

/// The allocation part of [`settle`].
#[inline(never)]
fn settle_alloc(local: &mut Local, callsite: u32, slot: &Slot, depth: usize) {
    let AllocFrame { at_entry, child } = local.allocs[depth];
    let inclusive = alloc::thread_counts().since(at_entry);
    slot.alloc_total.add(inclusive);
    slot.alloc_self.add(inclusive.since(child));
    if let Some(parent) = depth.checked_sub(1)
        && local.frames[parent].alloc_tracked
    {
        // SAFETY: as in `settle`.
        unsafe { &*local.frames[parent].slot }.record_edge_bytes(callsite, inclusive.alloc_bytes);
        let parent = &mut local.allocs[parent];
        parent.child = parent.child.plus(inclusive);
    }
}

/// Takes the frame at index `at` out of the stack (frames above it move down one place) and
/// settles it.
#[cold]
#[inline(never)]
fn remove_frame(local: &mut Local, at: usize, end: u64, is_poll: bool, calls: u64) -> Frame {
    let frame = local.frames[at];
    let depth = local.depth;
    local.frames.copy_within(at + 1..depth, at);
    local.allocs.copy_within(at + 1..depth, at);
    local.depth = depth - 1;
    settle(local, frame, at, end, is_poll, calls);
    frame
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

/// Pops the frame of `entry` (an async poll) and records its busy and self time; the clock is
/// read first. `complete`: the poll completed the call (its parent's edge counts one call).
/// Call counts and latency are recorded by the caller ([`record_call`]).
#[inline(always)]
pub(crate) fn pop_poll(entry: Entry, complete: bool) -> Exit {
    let end = clock::now();
    // SAFETY: the borrow ends with this function, which calls no user code.
    let local = unsafe { local_mut() };
    if entry.start == 0
        && let Some(depth) = local.depth.checked_sub(1)
        && local.frames[depth].tag == 0
    {
        local.depth = depth;
        // SAFETY: `depth < local.depth <= MAX_DEPTH`: only pushes raise the depth, below MAX_DEPTH.
        let frame = *unsafe { local.frames.get_unchecked(depth) };
        settle(local, frame, depth, end, true, u64::from(complete));
        return Exit { start: frame.start, end, slot: Some(frame.slot) };
    }
    pop_cold(local, entry, end, true, u64::from(complete))
}

/// Pops a sync call's frame and records everything about the call in one pass (`panicked`:
/// the call is ending by unwinding).
#[inline(always)]
pub(crate) fn pop_sync(entry: Entry, panicked: bool) {
    let end = clock::now();
    // SAFETY: the borrow ends with `pop_sync_fast`, which calls no user code.
    if !pop_sync_fast(unsafe { local_mut() }, entry, end, panicked) {
        pop_sync_cold(entry, end, panicked);
    }
}

/// The common case of [`pop_sync`]: the call's frame is on top of the stack.
#[inline(always)]
fn pop_sync_fast(local: &mut Local, entry: Entry, end: u64, panicked: bool) -> bool {
    {
        if entry.start != 0 {
            return false;
        }
        let Some(depth) = local.depth.checked_sub(1) else { return false };
        // SAFETY: as in `pop_poll`.
        let frame = *unsafe { local.frames.get_unchecked(depth) };
        // `#[measure]` frames are balanced by construction (guards, per-poll wrappers); only an
        // entered tracing span can be left on top of one.
        if frame.tag != 0 {
            return false;
        }
        local.depth = depth;
        settle(local, frame, depth, end, false, 1);
        // After the last use of `local`: recording may allocate a histogram octave, and the
        // allocator must find no borrow of this thread's state alive.
        // SAFETY: as in `settle`.
        let slot = unsafe { &*frame.slot };
        slot.record_latency(end.saturating_sub(frame.start));
        if panicked {
            add(&slot.panicked, 1);
        }
        true
    }
}

#[cold]
#[inline(never)]
fn pop_sync_cold(entry: Entry, end: u64, panicked: bool) {
    let exit = with_local(|local| pop_cold(local, entry, end, false, 1));
    record_call(entry.id, &exit, exit.elapsed(), panicked, false);
}

/// The frame of `entry` is not on top (a tracing span entered inside it was not exited), is
/// not on the stack at all (deeper than `MAX_DEPTH`, or the thread is exiting), or was never
/// pushed.
#[cold]
#[inline(never)]
fn pop_cold(local: &mut Local, entry: Entry, end: u64, is_poll: bool, calls: u64) -> Exit {
    if entry.start == 0
        && let Some(at) = (0..local.depth)
            .rev()
            .find(|&i| local.frames[i].tag == 0 && local.frames[i].callsite == entry.id)
    {
        let frame = remove_frame(local, at, end, is_poll, calls);
        return Exit { start: frame.start, end, slot: Some(frame.slot) };
    }
    // `start == 0` here means the frame was pushed but is gone (unbalanced): count the call,
    // with no time rather than a bogus one.
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
    if let Some(parent) = local.depth.checked_sub(1) {
        local.frames[parent].child += elapsed;
        // SAFETY: as in `settle`.
        unsafe { &*local.frames[parent].slot }.record_edge(entry.id, calls, elapsed);
    }
    Exit { slot: Some(slot), ..exit }
}

/// Counts one completed call of `exit`'s callsite with the given latency.
#[inline(always)]
pub(crate) fn record_call(id: u32, exit: &Exit, latency: u64, panicked: bool, is_async: bool) {
    let Some(slot) = exit.slot else {
        return record_orphan_call(id, latency, panicked, is_async);
    };
    // SAFETY: as in `settle`.
    let slot = unsafe { &*slot };
    slot.record_latency(latency);
    if is_async {
        add(&slot.wall, latency);
    }
    if panicked {
        add(&slot.panicked, 1);
    }
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

/// Pushes a frame for an entered tracing span of callsite `id` (`span` is its non-zero id).
/// `first`: the span's first entry, so its parent's edge counts a call when it exits.
#[inline]
pub(crate) fn span_enter(id: u32, span: u64, first: bool) {
    // SAFETY: the borrow ends with this function, which calls no user code.
    let local = unsafe { local_mut() };
    // Past `MAX_DEPTH` or during thread exit no frame is pushed: the span's busy time is not
    // measured; its calls and wall time still are (at close).
    push_frame(local, id, span, u32::from(first));
}

/// Pops the frame of the entered span `span`, wherever it is on the stack (spans may exit out
/// of order); nothing happens when it is not there.
#[inline]
pub(crate) fn span_exit(span: u64) {
    let end = clock::now();
    // SAFETY: the borrow ends with this function, which calls no user code.
    let local = unsafe { local_mut() };
    if let Some(depth) = local.depth.checked_sub(1)
        && local.frames[depth].tag == span
    {
        local.depth = depth;
        // SAFETY: as in `pop_poll`.
        let frame = *unsafe { local.frames.get_unchecked(depth) };
        settle(local, frame, depth, end, false, u64::from(frame.edge_calls));
        return;
    }
    span_exit_cold(local, span, end);
}

#[cold]
#[inline(never)]
fn span_exit_cold(local: &mut Local, span: u64, end: u64) {
    if let Some(at) = (0..local.depth).rev().find(|&i| local.frames[i].tag == span) {
        let calls = u64::from(local.frames[at].edge_calls);
        remove_frame(local, at, end, false, calls);
    }
}

/// Counts one call of the span callsite `id`, created at clock reading `created` and closed
/// now, on the closing thread.
#[inline]
pub(crate) fn span_close(id: u32, created: u64) {
    let wall = clock::now().saturating_sub(created);
    // SAFETY: the borrow ends with this function, which calls no user code.
    let local = unsafe { local_mut() };
    // SAFETY: `local.store` is never dangling (see `Local::store`).
    let store = unsafe { &*local.store };
    let slot = match store.slot(id) {
        Some(slot) if !store.stale.load(Relaxed) => slot,
        _ => match live_store(local) {
            Some(store) => store.slot_or_insert(id),
            None => return record_orphan_call(id, wall, false, true),
        },
    };
    slot.record_latency(wall);
    add(&slot.wall, wall);
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
