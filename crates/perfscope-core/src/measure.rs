//! What `#[measure]` expands to: a guard for sync calls, a future wrapper for async ones.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::callsite::Callsite;
use crate::hot::{self, Entry};

/// Measures one sync call from creation to [`finish`](Self::finish) or drop; a drop during
/// unwinding flags it panicked, unless the thread was unwinding already when the call began (a
/// call made by a destructor while a panic unwinds).
#[must_use = "the call is measured until the guard is dropped"]
#[derive(Debug)]
pub struct SyncGuard {
    entry: Entry,
    /// The thread was already unwinding (the call runs in a destructor during a panic): ending
    /// by drop then does not mean the call itself panicked.
    unwinding_at_entry: bool,
    /// Frames belong to the thread that pushed them.
    _not_send: PhantomData<*const ()>,
}

/// Starts measuring a sync call of `callsite`.
#[inline(always)]
pub fn enter(callsite: &'static Callsite) -> SyncGuard {
    if crate::OFF {
        let entry = Entry { id: 0, start: 0 };
        return SyncGuard { entry, unwinding_at_entry: false, _not_send: PhantomData };
    }
    let unwinding_at_entry = std::thread::panicking();
    SyncGuard { entry: hot::push(callsite.id()), unwinding_at_entry, _not_send: PhantomData }
}

impl SyncGuard {
    /// Ends the measurement of a call that returned normally. `#[measure]` calls this on the
    /// body's fall-through path, so the pop is inlined into the measured function; an early
    /// `return`, `?` or an unwind ends it by dropping the guard instead.
    #[inline(always)]
    pub fn finish(self) {
        let entry = self.entry;
        std::mem::forget(self);
        if !crate::OFF {
            hot::pop_sync(entry, false);
        }
    }
}

impl Drop for SyncGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if crate::OFF {
            return;
        }
        hot::pop_sync(self.entry, std::thread::panicking() && !self.unwinding_at_entry);
    }
}

/// A future measured per poll (busy time) and from first poll to completion (wall time).
/// Dropped before completion, it counts as cancelled.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Instrumented<F> {
    inner: F,
    callsite: &'static Callsite,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotPolled,
    /// Polled at least once; holds the first poll's start reading.
    Running(u64),
    Done,
}

/// Wraps `future` so its polls and completion are measured under `callsite`.
pub fn instrument<F: Future>(callsite: &'static Callsite, future: F) -> Instrumented<F> {
    Instrumented { inner: future, callsite, state: State::NotPolled }
}

/// Pops the poll's frame even when the inner poll unwinds (then the call ends, panicked).
struct PollGuard<'a> {
    entry: Entry,
    state: &'a mut State,
}

impl PollGuard<'_> {
    fn finish(self, ready: bool) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; moving the `&mut` out is sound.
        let state = unsafe { std::ptr::read(&this.state) };
        end_poll(this.entry, state, ready, false);
    }
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        end_poll(self.entry, self.state, true, true);
    }
}

fn end_poll(entry: Entry, state: &mut State, complete: bool, panicked: bool) {
    let exit = hot::pop_poll(entry, complete);
    let first = match *state {
        State::Running(first) => first,
        _ => exit.start,
    };
    if complete {
        *state = State::Done;
        hot::record_call(entry.id, &exit, exit.end.saturating_sub(first), panicked, true);
    } else {
        *state = State::Running(first);
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned (never moved out of `self`); the other fields
        // are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        if crate::OFF || this.state == State::Done {
            return inner.poll(cx);
        }
        let guard = PollGuard { entry: hot::push(this.callsite.id()), state: &mut this.state };
        let result = inner.poll(cx);
        guard.finish(result.is_ready());
        result
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        if let State::Running(_) = self.state
            && !crate::OFF
        {
            hot::record_cancelled(self.callsite.id());
        }
    }
}
