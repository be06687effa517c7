//! Times through the hot path, pinned to the time the test measures itself: inside each
//! measured body (a lower bound) and around each call (an upper bound). Busy, self and total
//! time, the longest call, quantiles, the mean and the edges' time must each fall between
//! the two, so a figure summed instead of maxed, or a child's time not subtracted, fails.
//!
//! Each test runs on threads of its own with callsites of its own (see `tests`).

use std::time::{Duration, Instant};

use super::MAX_DEPTH;
use crate::{Callsite, CallsiteSnapshot, enter, snapshot};

/// Busy-waits for `d` (on the thread's clock, so preemption only lengthens it).
pub(super) fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// The time measured inside and around one call: `inner <= figure <= outer`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Bounds {
    pub inner: u64,
    pub outer: u64,
}

impl std::ops::Add for Bounds {
    type Output = Bounds;
    fn add(self, b: Bounds) -> Bounds {
        Bounds { inner: self.inner + b.inner, outer: self.outer + b.outer }
    }
}

impl Bounds {
    /// The bounds of the longest of several calls.
    pub fn longest(calls: &[Bounds]) -> Bounds {
        let inner = calls.iter().map(|b| b.inner).max().unwrap_or(0);
        Bounds { inner, outer: calls.iter().map(|b| b.outer).max().unwrap_or(0) }
    }

    /// The bounds of the shortest of several calls.
    pub fn shortest(calls: &[Bounds]) -> Bounds {
        let inner = calls.iter().map(|b| b.inner).min().unwrap_or(0);
        Bounds { inner, outer: calls.iter().map(|b| b.outer).min().unwrap_or(0) }
    }

    /// Asserts `inner <= ns <= outer`, with 1% + 2 µs for the two clocks' rates (perfscope's
    /// ticks against `Instant`) and their reads.
    #[track_caller]
    pub fn holds(self, what: &str, ns: u64) {
        let (lo, hi) = (self.inner as f64 * 0.99 - 2e3, self.outer as f64 * 1.01 + 2e3);
        assert!((lo..=hi).contains(&(ns as f64)), "{what}: {ns} ns not in {self:?}");
    }
}

/// One measured call of `callsite` around `body`, with the time inside and around it.
pub(super) fn measured(callsite: &'static Callsite, body: impl FnOnce()) -> Bounds {
    let around = Instant::now();
    let guard = enter(callsite);
    let inside = Instant::now();
    body();
    let inner = inside.elapsed().as_nanos() as u64;
    guard.finish();
    Bounds { inner, outer: around.elapsed().as_nanos() as u64 }
}

pub(super) fn on_own_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().expect("the calls do not panic")
}

/// The callsites' figures, from one snapshot (the clock's rate is refined as the process runs,
/// so two snapshots may convert the same ticks to nanoseconds a little differently).
pub(super) fn find<const N: usize>(callsites: [&'static Callsite; N]) -> [CallsiteSnapshot; N] {
    let snap = snapshot();
    callsites.map(|callsite| {
        let found = snap.callsites.iter().find(|c| c.id == callsite.id());
        found.expect("the callsite was called").clone()
    })
}

pub(super) const MS: Duration = Duration::from_millis(1);

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn busy_self_total_and_edge_times_lie_between_the_times_inside_and_around_each_call() {
    callsites!(Sync: A, B, C);
    // a { 2 ms; b { 3 ms | 1 ms }; c { 1 ms } }, twice.
    let (a, b, c) = on_own_thread(|| {
        let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
        for b_ms in [3, 1] {
            a.push(measured(&A, || {
                spin(2 * MS);
                b.push(measured(&B, || spin(b_ms * MS)));
                c.push(measured(&C, || spin(MS)));
            }));
        }
        (a, b, c)
    });
    let sum = |v: &[Bounds]| v.iter().fold(Bounds::default(), |s, b| s + *b);
    let [sa, sb, sc] = find([&A, &B, &C]);
    assert_eq!((sa.calls, sb.calls, sc.calls), (2, 2, 2));
    sum(&a).holds("a busy", sa.busy_ns);
    sum(&b).holds("b busy", sb.busy_ns);
    sum(&c).holds("c busy", sc.busy_ns);
    // Sync calls: total is busy, leaves' self time is their busy time.
    assert_eq!((sa.total_ns, sb.total_ns), (sa.busy_ns, sb.busy_ns));
    assert_eq!((sb.self_ns, sc.self_ns), (sb.busy_ns, sc.busy_ns));
    // a's self time: its own 2 × 2 ms, its children's time subtracted.
    let children = sum(&b) + sum(&c);
    let own = Bounds {
        inner: sum(&a).inner.saturating_sub(children.outer),
        outer: sum(&a).outer - children.inner,
    };
    own.holds("a self", sa.self_ns);
    assert!(sa.self_ns.abs_diff(sa.busy_ns - sb.busy_ns - sc.busy_ns) <= 3, "{sa:?}");
    // The edges carry each child's time under a, which is all of it here.
    for (child, calls) in [(&sb, 2), (&sc, 2)] {
        let edge = sa.children.iter().find(|e| e.id == child.id).expect("an edge per child");
        assert_eq!(edge.calls, calls);
        assert!(edge.busy_ns.abs_diff(child.busy_ns) <= 2, "{edge:?} vs {}", child.busy_ns);
    }
    // The longest call, the quantiles and the mean.
    Bounds::longest(&b).holds("b max", sb.max_ns);
    Bounds::longest(&b).holds("b p100", sb.quantile_ns(1.0));
    Bounds::shortest(&b).holds("b p0", sb.quantile_ns(0.0));
    assert_eq!(sb.mean_ns(), sb.total_ns / 2);
    Bounds { inner: sum(&b).inner / 2, outer: sum(&b).outer / 2 }.holds("b mean", sb.mean_ns());
    Bounds::longest(&a).holds("a max", sa.max_ns);
    // The latency buckets are in ticks: the snapshot's factor turns them into nanoseconds.
    let ticks = sb.latency.quantile(1.0).expect("two latencies");
    let ns = ticks as f64 * sb.nanos_per_tick();
    assert!((ns / sb.max_ns as f64 - 1.0).abs() < 0.02, "{ticks} ticks = {ns} ns vs {sb:?}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn the_longest_call_over_threads_is_the_max_not_a_sum() {
    callsites!(Sync: X);
    let (slow, fast) =
        on_own_thread(|| (measured(&X, || spin(20 * MS)), measured(&X, || spin(MS))));
    let other = on_own_thread(|| measured(&X, || spin(10 * MS)));
    // And a thread still alive when the snapshot is taken (its store is read live).
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let live = std::thread::spawn(move || {
        ready_tx.send(measured(&X, || spin(5 * MS))).expect("the test waits");
        done_rx.recv().ok();
    });
    let live_call = ready_rx.recv().expect("the live thread called");
    let [x] = find([&X]);
    done_tx.send(()).expect("the live thread waits");
    live.join().expect("the live thread does not panic");
    assert_eq!(x.calls, 4);
    let all = [slow, fast, other, live_call];
    Bounds::longest(&all).holds("x max", x.max_ns);
    Bounds::longest(&all).holds("x p100", x.quantile_ns(1.0));
    Bounds::shortest(&all).holds("x p0", x.quantile_ns(0.0));
    (slow + fast + other + live_call).holds("x busy", x.busy_ns);
}

/// Past the 256-frame stack no frame is pushed: the calls still count, and the self times of a
/// call tree still add up to the root call's time (the region past the stack is the self time
/// of its outermost call). Here r fills the stack and d and e run past it.
#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn self_time_past_the_frame_stack_still_adds_up_to_the_root_call() {
    callsites!(Sync: R, D, E);
    callsites!(Async: F);
    fn r(n: usize, leaf: &mut (Bounds, Bounds)) {
        measured(&R, || {
            if n > 1 {
                r(n - 1, leaf)
            } else {
                leaf.0 = measured(&D, || leaf.1 = measured(&E, || spin(5 * MS)));
                // An async call past the stack: its polls push no frame either.
                let mut future = Box::pin(crate::instrument(&F, async { spin(MS) }));
                let waker = std::task::Waker::noop();
                let ready = future.as_mut().poll(&mut std::task::Context::from_waker(waker));
                assert!(ready.is_ready());
            }
        });
    }
    let (root, (leaf, e)) = on_own_thread(|| {
        let mut leaf = Default::default();
        let root = measured(&R, || r(MAX_DEPTH - 1, &mut leaf));
        assert_eq!(super::depth(), 0);
        (root, leaf)
    });
    let [sr, sd, se, sf] = find([&R, &D, &E, &F]);
    assert_eq!((sr.calls, sd.calls, se.calls), (MAX_DEPTH as u64, 1, 1));
    assert_eq!((sf.calls, sf.polls), (1, 1));
    assert!(sf.busy_ns >= 1_000_000 && sf.busy_ns < sr.busy_ns, "{sf:?}");
    // d and e ran past the stack: e, nested in d, has no self time; d holds the leaf's 5 ms.
    leaf.holds("d busy", sd.busy_ns);
    e.holds("e busy", se.busy_ns);
    assert_eq!(se.self_ns, 0);
    leaf.holds("d self", sd.self_ns);
    leaf.holds("d max", sd.max_ns);
    e.holds("e max", se.max_ns);
    // Every frame of r subtracted its child: r's self time is the root's time less the leaf's.
    let self_total = sr.self_ns + sd.self_ns + se.self_ns + sf.self_ns;
    root.holds("self times of the whole tree", self_total);
    // The top frame (the 256th r) is the parent of every call past the stack: one edge to d and
    // one to e, each with its call and its inclusive time.
    for child in [&sd, &se] {
        let edge = sr.children.iter().find(|e| e.id == child.id).expect("an edge from r");
        assert_eq!(edge.calls, 1);
        assert!(edge.busy_ns.abs_diff(child.busy_ns) <= 2, "{edge:?}");
    }
}
