//! What `#[measure]` calls on the hot path: a sync call's push and pop, an async poll's push
//! and pop, and the recording of calls, including the cold paths for frames that are not on
//! top of the stack or could not be pushed (deeper than `MAX_DEPTH`, thread exit).

use crate::clock;
use crate::store::{self, Slot, add};

use super::frames::{push_frame, remove_frame, settle};
use super::local::{Local, MAX_DEPTH, live_store, local_mut, with_local};

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
        false => {
            if local.depth >= MAX_DEPTH {
                local.deep += 1;
            }
            Entry { id, start: clock::now() }
        }
    }
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
            slot.record_panic();
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
        && let Some(at) = (0..local.depth).rev().find(|&i| local.frames[i].is_call_of(entry.id))
    {
        let frame = remove_frame(local, at, end, is_poll, calls);
        return Exit { start: frame.start, end, slot: Some(frame.slot) };
    }
    // `start == 0` here means the frame was pushed but is gone (unbalanced): count the call,
    // with no time rather than a bogus one. Otherwise the call pushed no frame.
    let (start, nested) = match entry.start {
        0 => (end, false),
        start => (start, leave_deep(local)),
    };
    let elapsed = end - start;
    let exit = Exit { start, end, slot: None };
    let credited = if nested { 0 } else { elapsed };
    let Some(store) = live_store(local) else {
        store::record_orphan(entry.id, |t| {
            t.busy += elapsed;
            t.self_ += credited;
            t.polls += u64::from(is_poll);
        });
        return exit;
    };
    let slot = store.slot_or_insert(entry.id);
    add(&slot.busy, elapsed);
    add(&slot.self_, credited);
    if is_poll {
        add(&slot.polls, 1);
    }
    if let Some(parent) = local.depth.checked_sub(1) {
        local.frames[parent].child += credited;
        // SAFETY: as in `settle`.
        unsafe { &*local.frames[parent].slot }.record_edge(entry.id, calls, elapsed);
    }
    Exit { start, end, slot: Some(slot) }
}

/// Ends a call that pushed no frame; whether it ran inside another call past the full stack.
///
/// Such a call nests in the one before it, which has no frame to subtract it from: only the
/// outermost one is subtracted from the top frame's self time and has self time itself (the
/// whole region's), so self times still add up to the root's. The ones inside it count their
/// calls and busy time, with no self time. Every one of them is an edge of the top frame, with
/// its inclusive time, as a frame's child would be. (A call that pushed no frame because the
/// thread is exiting was never counted in `deep`: it ends as an outermost one.)
fn leave_deep(local: &mut Local) -> bool {
    local.deep = local.deep.saturating_sub(1);
    local.deep > 0
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
        add(&slot.total, latency);
    }
    if panicked {
        slot.record_panic();
    }
}

#[cold]
#[inline(never)]
pub(super) fn record_orphan_call(id: u32, latency: u64, panicked: bool, is_async: bool) {
    store::record_orphan(id, |t| {
        t.calls += 1;
        t.panics += u64::from(panicked);
        t.total += if is_async { latency } else { 0 };
        t.max = t.max.max(latency);
        t.latency.record(latency);
    });
}

/// Counts a future of callsite `id` dropped before completion, on the dropping thread.
#[cold]
pub(crate) fn record_cancelled(id: u32) {
    with_local(|local| match live_store(local) {
        Some(store) => store.slot_or_insert(id).record_cancelled(),
        None => store::record_orphan(id, |t| t.cancelled += 1),
    })
}
