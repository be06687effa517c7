//! Tracing spans as frames: what the tracing layer calls, so spans and `#[measure]` functions
//! share one frame stack and nest with each other in either order.
//!
//! A span is one call: created (`clock::now()` read by the caller), entered and exited any
//! number of times (each entry is a frame: busy and self time, allocations, parent edge), and
//! closed (call count, wall time from creation, latency histogram). With [`crate::OFF`] they
//! do nothing.

use crate::hot;

/// Pushes a frame for the span `span` (its tracing id, non-zero) of callsite `callsite`.
/// `first` marks its first entry: the enclosing frame's edge to it counts one call.
#[inline]
pub fn enter(callsite: u32, span: u64, first: bool) {
    if crate::OFF {
        return;
    }
    hot::span_enter(callsite, span, first);
}

/// Pops the frame of the span `span`, also when spans exit out of order; a no-op when the span
/// is not entered on this thread.
#[inline]
pub fn exit(span: u64) {
    if crate::OFF {
        return;
    }
    hot::span_exit(span);
}

/// Counts one completed call of the span callsite `callsite`, created at clock reading
/// `created` (from [`crate::clock::now`]), with its wall time.
#[inline]
pub fn close(callsite: u32, created: u64) {
    if crate::OFF {
        return;
    }
    hot::span_close(callsite, created);
}
