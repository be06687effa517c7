//! Call trees built through the hot path, checked as rendered folded stacks.
//!
//! Each test runs its tree on a thread of its own and declares its own callsites, so tests in
//! the same process (which share the global snapshot) do not see each other's figures. The
//! renderer prints call counts, not times, so the expected strings are exact.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::MAX_DEPTH;
use crate::{Callsite, CallsiteSnapshot, clock, enter, instrument, snapshot, span};

/// Runs `tree` on a new thread (its store is retired when the thread exits).
fn on_own_thread(tree: impl FnOnce() + Send + 'static) {
    std::thread::spawn(tree).join().expect("the call tree does not panic");
}

/// One measured call of `callsite` around `body`, ended as `#[measure]` ends a call that
/// returns normally.
fn measured(callsite: &'static Callsite, body: impl FnOnce()) {
    let guard = enter(callsite);
    body();
    guard.finish();
}

/// The call edges among `callsites` as folded stacks, one `a;b;c N` line per path (names in
/// lower case), sorted:
/// `N` is the calls of the last callsite from the one before it (for a root: its calls not
/// made from any of `callsites`). Edges are per (parent, child) callsite pair, not per path:
/// a callsite's children show under every path that reaches it, and a path stops at the first
/// callsite that repeats on it (recursion).
fn folded(callsites: &[&'static Callsite]) -> String {
    let snap = snapshot();
    let ids: Vec<u32> = callsites.iter().map(|c| c.id()).collect();
    let ours: BTreeMap<u32, &CallsiteSnapshot> =
        snap.callsites.iter().filter(|c| ids.contains(&c.id)).map(|c| (c.id, c)).collect();
    let mut from_parents: HashMap<u32, u64> = HashMap::new();
    for child in ours.values().flat_map(|c| &c.children) {
        *from_parents.entry(child.id).or_default() += child.calls;
    }
    fn walk(
        ours: &BTreeMap<u32, &CallsiteSnapshot>,
        path: &mut Vec<u32>,
        calls: u64,
        lines: &mut Vec<String>,
    ) {
        let names: Vec<&str> = path.iter().map(|id| &*ours[id].info.name).collect();
        lines.push(format!("{} {calls}", names.join(";").to_lowercase()));
        let (&last, above) = path.split_last().expect("a path is never empty");
        if above.contains(&last) {
            return;
        }
        for child in &ours[&last].children {
            if child.calls > 0 && ours.contains_key(&child.id) {
                path.push(child.id);
                walk(ours, path, child.calls, lines);
                path.pop();
            }
        }
    }
    let mut lines = Vec::new();
    for callsite in ours.values() {
        let roots =
            callsite.calls.saturating_sub(from_parents.get(&callsite.id).copied().unwrap_or(0));
        if roots > 0 {
            walk(&ours, &mut vec![callsite.id], roots, &mut lines);
        }
    }
    lines.sort();
    lines.iter().map(|line| format!("{line}\n")).collect()
}

#[test]
fn siblings_and_repeated_children() {
    callsites!(Sync: A, B, C);
    on_own_thread(|| {
        measured(&A, || {
            measured(&B, || {
                measured(&C, || {});
                measured(&C, || {});
            });
            measured(&C, || {});
        });
    });
    assert_eq!(folded(&[&A, &B, &C]), "a 1\na;b 1\na;b;c 2\na;c 1\n");
}

#[test]
fn a_callsite_called_from_two_places_and_from_the_top() {
    callsites!(Sync: A, B, C);
    on_own_thread(|| {
        for _ in 0..2 {
            measured(&A, || measured(&C, || {}));
        }
        measured(&B, || measured(&C, || {}));
        measured(&C, || {});
    });
    assert_eq!(folded(&[&A, &B, &C]), "a 2\na;c 2\nb 1\nb;c 1\nc 1\n");
}

#[test]
fn recursion_is_one_self_edge() {
    callsites!(Sync: A);
    fn a(n: u32) {
        measured(&A, || {
            if n > 1 {
                a(n - 1);
            }
        });
    }
    on_own_thread(|| a(3));
    assert_eq!(folded(&[&A]), "a 1\na;a 2\n");
}

#[test]
fn mutual_recursion_stops_at_the_repeated_callsite() {
    callsites!(Sync: A, B);
    fn a(n: u32) {
        measured(&A, || {
            measured(&B, || {
                if n > 1 {
                    a(n - 1)
                }
            })
        });
    }
    on_own_thread(|| a(2));
    assert_eq!(folded(&[&A, &B]), "a 1\na;b 2\na;b;a 1\n");
}

#[test]
fn calls_deeper_than_the_stack_still_count_and_link_to_the_last_frame() {
    callsites!(Sync: A);
    fn a(n: usize) {
        measured(&A, || {
            if n > 1 {
                a(n - 1);
            }
        });
    }
    on_own_thread(|| {
        a(MAX_DEPTH + 10);
        assert_eq!(super::depth(), 0);
    });
    assert_eq!(folded(&[&A]), format!("a 1\na;a {}\n", MAX_DEPTH + 9));
}

#[test]
fn spans_and_measured_fns_nest_either_way() {
    callsites!(Sync: A, B, C, D);
    callsites!(Span: S, T);
    on_own_thread(|| {
        measured(&A, || {
            let created = clock::now();
            span::enter(S.id(), 1, true);
            measured(&B, || {});
            span::exit(1);
            // Entering again is the same call: the edge from `a` gains no second call.
            span::enter(S.id(), 1, false);
            measured(&C, || {});
            span::exit(1);
            span::close(S.id(), created);
        });
        let created = clock::now();
        span::enter(T.id(), 2, true);
        measured(&D, || {});
        span::exit(2);
        span::close(T.id(), created);
    });
    assert_eq!(folded(&[&A, &B, &C, &D, &S, &T]), "a 1\na;s 1\na;s;b 1\na;s;c 1\nt 1\nt;d 1\n");
}

#[test]
fn a_span_left_entered_adopts_later_calls() {
    callsites!(Sync: A, B, C);
    callsites!(Span: S);
    on_own_thread(|| {
        let created = clock::now();
        measured(&A, || {
            span::enter(S.id(), 1, true);
            measured(&B, || {});
            // `a` returns with the span still entered above its frame.
        });
        assert_eq!(super::depth(), 1);
        measured(&C, || {});
        span::exit(1);
        assert_eq!(super::depth(), 0);
        span::close(S.id(), created);
    });
    // `a`'s frame was taken from under the span, so the span's exit finds no parent.
    assert_eq!(folded(&[&A, &B, &C, &S]), "a 1\ns 1\ns;b 1\ns;c 1\n");
}

#[test]
fn an_async_call_counts_one_edge_over_its_polls() {
    callsites!(Sync: A, B);
    callsites!(Async: F);
    on_own_thread(|| {
        let mut polled = false;
        let future = instrument(
            &F,
            std::future::poll_fn(move |cx| {
                measured(&B, || {});
                if polled {
                    return Poll::Ready(());
                }
                polled = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }),
        );
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        measured(&A, || while future.as_mut().poll(&mut cx).is_pending() {});
    });
    assert_eq!(folded(&[&A, &B, &F]), "a 1\na;f 1\na;f;b 2\n");
}

/// A guard kept in a thread-local destroyed after perfscope's own: its frame outlives the
/// thread's store (before the fix, its pop wrote into the freed slot: Miri caught it).
#[test]
fn a_frame_left_on_the_stack_at_thread_exit_is_popped_after_the_flush() {
    use std::cell::RefCell;
    callsites!(Sync: A, B);
    thread_local! {
        static HELD: RefCell<Option<crate::SyncGuard>> = const { RefCell::new(None) };
    }
    on_own_thread(|| {
        // Registered before perfscope's own thread-local: destroyed after it (reverse order).
        HELD.with(|_| ());
        measured(&A, || {});
        HELD.with(|held| *held.borrow_mut() = Some(enter(&B)));
    });
    // The call still counts (into the retired totals, with no time); `a` is unaffected.
    assert_eq!(folded(&[&A, &B]), "a 1\nb 1\n");
    let snap = snapshot();
    let b = snap.callsites.iter().find(|c| c.id == B.id()).expect("b counted");
    assert_eq!((b.calls, b.busy_ns), (1, 0));
}

/// Snapshots taken while a thread publishes slots and histogram octaves and records into them
/// (the cross-thread reads of the store: under Miri its data-race detector checks them) never
/// see a count go down or past what was recorded, and the last one is exact.
#[test]
fn snapshots_read_while_a_thread_publishes_slots_and_octaves() {
    use std::sync::atomic::{AtomicBool, Ordering::*};
    use std::sync::{Arc, Barrier};
    callsites!(Sync: P);
    callsites!(Span: Q);
    let calls: u64 = if cfg!(miri) { 6 } else { 20_000 };
    let done = Arc::new(AtomicBool::new(false));
    let started = Arc::new(Barrier::new(2));
    let thread = {
        let (done, started) = (done.clone(), started.clone());
        std::thread::spawn(move || {
            started.wait();
            for i in 0..calls {
                measured(&P, || {
                    // A span entered under `p`, closed with a latency of 2^(i % 48) ticks: each
                    // new power of two publishes an octave of `q`'s histogram.
                    span::enter(Q.id(), i + 1, true);
                    span::exit(i + 1);
                    span::close(Q.id(), clock::now().saturating_sub(1 << (i % 48)));
                });
            }
            done.store(true, Release);
        })
    };
    let count = |callsite: &'static Callsite| {
        let snap = snapshot();
        let c = snap.callsites.iter().find(|c| c.id == callsite.id());
        c.map_or((0, 0, 0), |c| (c.calls, c.latency.count(), c.children.len() as u64))
    };
    started.wait();
    let mut last = (0, 0);
    let mut snapshots = 0;
    while !done.load(Acquire) || snapshots == 0 {
        let (p, q) = (count(&P), count(&Q));
        assert!(p.0 >= last.0 && p.0 <= calls, "{p:?} after {last:?}");
        assert!(q.0 >= last.1 && q.0 <= calls && q.1 <= calls, "{q:?} after {last:?}");
        last = (p.0, q.0);
        snapshots += 1;
    }
    thread.join().expect("the thread does not panic");
    assert_eq!((count(&P), count(&Q)), ((calls, calls, 1), (calls, calls, 0)));
}
