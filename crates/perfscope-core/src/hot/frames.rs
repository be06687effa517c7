//! The frame stack's mechanics, shared by measured calls and tracing spans: pushing a frame
//! (fast path, and the cold path that creates the thread's store and slots), settling a frame
//! that left the stack (busy and self time into its slot, its time and edge into the parent)
//! with its allocation attribution, and taking a frame out from under others.

use std::sync::atomic::Ordering::Relaxed;

use crate::alloc::{self, AllocCounts};
use crate::clock;
use crate::store::{Slot, add};

use super::local::{AllocFrame, Frame, Local, MAX_DEPTH, live_store};

/// Pushes a frame (`tag`: 0, or an entered span's id); `false` when none could be pushed.
#[inline(always)]
pub(super) fn push_frame(local: &mut Local, id: u32, tag: u64, edge_calls: u32) -> bool {
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

/// Records a frame that has just left the stack (it was at index `depth`): busy and self time
/// and allocations into its slot, its time into the parent frame, and the parent's edge to it.
#[inline(always)]
pub(super) fn settle(
    local: &mut Local,
    frame: Frame,
    depth: usize,
    end: u64,
    is_poll: bool,
    calls: u64,
) {
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
    slot.record_allocs(inclusive, inclusive.since(child));
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
pub(super) fn remove_frame(
    local: &mut Local,
    at: usize,
    end: u64,
    is_poll: bool,
    calls: u64,
) -> Frame {
    let frame = local.frames[at];
    let depth = local.depth;
    local.frames.copy_within(at + 1..depth, at);
    local.allocs.copy_within(at + 1..depth, at);
    local.depth = depth - 1;
    settle(local, frame, at, end, is_poll, calls);
    frame
}
