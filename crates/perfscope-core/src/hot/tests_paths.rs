//! The hot path's other ends of a call, timed as in `tests_time`: an async call's polls and
//! its first-poll-to-completion time, a future dropped before completion, calls that unwind,
//! and calls made after the thread's store was flushed at thread exit (recorded straight into
//! the retired totals).

use std::cell::RefCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::tests_time::{Bounds, MS, find, measured, on_own_thread, spin};
use crate::{Callsite, clock, instrument, span};

/// What one async call of two polls (2 ms, then 1 ms of work, with 3 ms between them on the
/// caller) took, as timed by the test.
#[derive(Debug, Default, Clone, Copy)]
struct AsyncCall {
    /// The two polls' bodies (inside) and the two polls (around).
    busy: Bounds,
    /// From inside the first poll to inside the last (inside), from before the first poll to
    /// after the last (around).
    wall: Bounds,
}

/// Runs one call of `callsite` to completion in two polls; `panic` makes the second one unwind.
fn async_call(callsite: &'static Callsite, panic: bool) -> AsyncCall {
    let mut inside = [Bounds::default(); 2];
    let mut first_inside = None;
    let mut polls = 0;
    let future = instrument(
        callsite,
        std::future::poll_fn(|_| {
            let start = Instant::now();
            first_inside.get_or_insert(start);
            polls += 1;
            spin(if polls == 1 { 2 * MS } else { MS });
            inside[polls - 1].inner = start.elapsed().as_nanos() as u64;
            if polls == 1 {
                return Poll::Pending;
            }
            assert!(!panic, "the second poll unwinds, on purpose");
            Poll::Ready(first_inside.map(|f| f.elapsed()))
        }),
    );
    let mut future = Box::pin(future);
    let mut cx = Context::from_waker(Waker::noop());
    let around = Instant::now();
    let mut busy = Bounds::default();
    let mut last = None;
    for _ in 0..2 {
        let poll = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)));
        busy.outer += poll.elapsed().as_nanos() as u64;
        if let Ok(Poll::Ready(wall)) = result {
            last = wall;
        }
        spin(3 * MS);
    }
    let wall_outer = around.elapsed().as_nanos() as u64 - 3_000_000;
    drop(future);
    busy.inner = inside.iter().map(|b| b.inner).sum();
    // Unwound: the last poll's inside time is at least its body's.
    let wall_inner = last.map_or(busy.inner + 3_000_000, |d| d.as_nanos() as u64);
    AsyncCall { busy, wall: Bounds { inner: wall_inner, outer: wall_outer } }
}

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn an_async_call_is_busy_in_its_polls_and_lasts_from_first_poll_to_completion() {
    callsites!(Async: F);
    let call = on_own_thread(|| async_call(&F, false));
    let [f] = find([&F]);
    assert_eq!((f.calls, f.polls, f.cancelled, f.panics), (1, 2, 0, 0));
    call.busy.holds("busy", f.busy_ns);
    assert_eq!(f.self_ns, f.busy_ns, "no measured children");
    call.wall.holds("wall", f.total_ns);
    call.wall.holds("max", f.max_ns);
    call.wall.holds("p50", f.quantile_ns(0.5));
}

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn a_future_dropped_before_completion_is_cancelled_not_a_call() {
    callsites!(Async: G);
    let poll = on_own_thread(|| {
        let mut future = Box::pin(instrument(&G, std::future::pending::<()>()));
        let mut cx = Context::from_waker(Waker::noop());
        let poll = measured_poll(|| assert!(future.as_mut().poll(&mut cx).is_pending()));
        drop(future);
        // Created, never polled: neither a call nor cancelled.
        drop(instrument(&G, std::future::pending::<()>()));
        poll
    });
    let [g] = find([&G]);
    assert_eq!((g.calls, g.polls, g.cancelled), (0, 1, 1));
    Bounds { inner: 0, outer: poll }.holds("busy", g.busy_ns);
    assert_eq!((g.max_ns, g.latency.count()), (0, 0));
}

/// The time around `f`.
fn measured_poll(f: impl FnOnce()) -> u64 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos() as u64
}

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn calls_that_unwind_count_as_calls_and_panics_with_their_time() {
    callsites!(Sync: P);
    callsites!(Async: Q);
    let (sync, call) = on_own_thread(|| {
        let mut sync = Bounds::default();
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            sync = measured(&P, || spin(2 * MS));
            measured(&P, || panic!("unwinds, on purpose"));
        }));
        assert!(unwound.is_err());
        (sync, async_call(&Q, true))
    });
    let [p, q] = find([&P, &Q]);
    assert_eq!((p.calls, p.panics), (2, 1));
    assert!(p.busy_ns >= sync.inner, "{p:?}");
    assert_eq!((q.calls, q.polls, q.panics, q.cancelled), (1, 2, 1, 0));
    call.busy.holds("async busy", q.busy_ns);
    call.wall.holds("async wall", q.total_ns);
}

/// Calls made while a thread-local destroyed after perfscope's own is dropped: the thread's
/// store is gone, so every figure goes straight into the retired totals.
#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn calls_after_the_threads_store_is_flushed_keep_their_figures() {
    callsites!(Sync: S, T);
    callsites!(Async: U, V);
    static TIMED: Mutex<Option<(Bounds, AsyncCall, AsyncCall)>> = Mutex::new(None);
    struct AtExit;
    impl Drop for AtExit {
        fn drop(&mut self) {
            let sync = measured(&S, || spin(2 * MS));
            let panicked = catch_unwind(|| measured(&T, || panic!("unwinds, on purpose")));
            assert!(panicked.is_err());
            let done = async_call(&U, false);
            let unwound = async_call(&U, true);
            let mut cancelled = Box::pin(instrument(&V, std::future::pending::<()>()));
            let _ = cancelled.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            drop(cancelled);
            *TIMED.lock().unwrap_or_else(|e| e.into_inner()) = Some((sync, done, unwound));
        }
    }
    thread_local! {
        static AT_EXIT: RefCell<Option<AtExit>> = const { RefCell::new(None) };
    }
    on_own_thread(|| {
        // Registered before perfscope's own thread-locals: destroyed after them.
        AT_EXIT.with(|at_exit| *at_exit.borrow_mut() = Some(AtExit));
        measured(&S, || {});
    });
    let timed = TIMED.lock().unwrap_or_else(|e| e.into_inner()).take();
    let (sync, done, unwound) = timed.expect("the thread-local was destroyed");
    let [s, t, u, v] = find([&S, &T, &U, &V]);
    assert_eq!((s.calls, s.panics, t.calls, t.panics), (2, 0, 1, 1));
    Bounds { inner: sync.inner, outer: sync.outer + 1_000_000 }.holds("sync busy", s.busy_ns);
    assert_eq!(s.self_ns, s.busy_ns);
    sync.holds("sync max", s.max_ns);
    assert_eq!((u.calls, u.polls, u.panics, u.cancelled), (2, 4, 1, 0));
    (done.busy + unwound.busy).holds("async busy", u.busy_ns);
    assert_eq!(u.self_ns, u.busy_ns);
    (done.wall + unwound.wall).holds("async wall", u.total_ns);
    Bounds::longest(&[done.wall, unwound.wall]).holds("async max", u.max_ns);
    assert_eq!((v.calls, v.polls, v.cancelled), (0, 1, 1));
}

/// A poll that enters a span and returns with it still entered: the poll's frame is taken
/// from under the span's, and the span adopts what runs until it exits.
#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn a_poll_that_leaves_a_span_entered_is_timed_from_under_it() {
    callsites!(Async: F);
    callsites!(Span: S);
    callsites!(Sync: C);
    let (poll, later) = on_own_thread(|| {
        let created = clock::now();
        let mut future = Box::pin(instrument(
            &F,
            std::future::poll_fn(|_| {
                spin(MS);
                span::enter(S.id(), 7, true);
                Poll::Ready(())
            }),
        ));
        let mut cx = Context::from_waker(Waker::noop());
        let poll = measured_poll(|| assert!(future.as_mut().poll(&mut cx).is_ready()));
        assert_eq!(super::depth(), 1, "the span's frame is left");
        let later = measured(&C, || spin(2 * MS));
        span::exit(7);
        span::close(S.id(), created);
        (Bounds { inner: 1_000_000, outer: poll }, later)
    });
    let [f, s, c] = find([&F, &S, &C]);
    assert_eq!((f.calls, f.polls, s.calls, c.calls), (1, 1, 1, 1));
    poll.holds("f busy", f.busy_ns);
    poll.holds("f wall", f.total_ns);
    // c ran inside the span, which was entered inside f's poll.
    let edge = s.children.iter().find(|e| e.id == c.id).expect("s -> c");
    assert_eq!(edge.calls, 1);
    later.holds("s -> c", edge.busy_ns);
    assert!(f.children.iter().all(|e| e.id != c.id), "{f:?}");
}

/// A span entered and exited but not closed yet has busy time and no call: it is shown.
#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn a_span_not_closed_yet_is_shown_with_its_busy_time() {
    callsites!(Span: O);
    let entered = on_own_thread(|| {
        let start = std::time::Instant::now();
        span::enter(O.id(), 9, true);
        spin(MS);
        span::exit(9);
        Bounds { inner: 1_000_000, outer: start.elapsed().as_nanos() as u64 }
    });
    let [o] = find([&O]);
    assert_eq!((o.calls, o.polls, o.cancelled), (0, 0, 0));
    entered.holds("busy", o.busy_ns);
}

/// Spans exiting out of order: each frame is taken out wherever it is, and each span's busy
/// time is its own enter-to-exit time.
#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn spans_exiting_out_of_order_each_keep_their_own_time() {
    callsites!(Span: S1, S2);
    let (first, second) = on_own_thread(|| {
        let created = clock::now();
        let start1 = Instant::now();
        span::enter(S1.id(), 1, true);
        let inside1 = Instant::now();
        spin(MS);
        let start2 = Instant::now();
        span::enter(S2.id(), 2, true);
        let inside2 = Instant::now();
        spin(2 * MS);
        let end1 = Instant::now();
        span::exit(1);
        let first = Bounds {
            inner: (end1 - inside1).as_nanos() as u64,
            outer: start1.elapsed().as_nanos() as u64,
        };
        spin(MS);
        let end2 = Instant::now();
        span::exit(2);
        let second = Bounds {
            inner: (end2 - inside2).as_nanos() as u64,
            outer: start2.elapsed().as_nanos() as u64,
        };
        span::close(S2.id(), created);
        span::close(S1.id(), created);
        assert_eq!(super::depth(), 0);
        (first, second)
    });
    let [s1, s2] = find([&S1, &S2]);
    assert_eq!((s1.calls, s2.calls), (1, 1));
    first.holds("s1 busy", s1.busy_ns);
    second.holds("s2 busy", s2.busy_ns);
}
