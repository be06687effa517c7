//! Tracing spans on the frame stack: what the layer's enter, exit and close reach (through
//! [`crate::span`]). A span's frame carries its id as tag, so it can exit out of order and be
//! left entered without corrupting the stack; a span's call is counted at close.

use std::sync::atomic::Ordering::Relaxed;

use crate::clock;
use crate::store::add;

use super::calls::record_orphan_call;
use super::frames::{push_frame, remove_frame, settle};
use super::local::{Local, live_store, local_mut};

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
        // SAFETY: as in `calls::pop_poll`.
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
    add(&slot.total, wall);
}
