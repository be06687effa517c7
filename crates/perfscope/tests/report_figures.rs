//! The report's figures from real calls, pinned to what the test knows independently: exact
//! call, panic, cancel, poll and edge counts, and times between the sleeps inside a call and
//! the clock read around it. (Each test measures functions of its own, so they share the
//! process's figures without a reset.)

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::thread::sleep;
use std::time::{Duration, Instant};

use perfscope::{CallEdge, FunctionKind, FunctionStats, Report};

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).expect("a test's durations fit")
}

/// Asserts `low <= reported <= high` up to the clocks' slack: 0.5% (perfscope's clock is the
/// TSC converted with a measured ratio; the test's is `Instant`) and 2 µs per measured event.
#[track_caller]
fn between(what: &str, reported: u64, low: Duration, high: Duration, events: u64) {
    let slack = 2_000 * events;
    let min = (ns(low) * 995 / 1000).saturating_sub(slack);
    let max = ns(high) * 1005 / 1000 + slack;
    assert!(min <= reported && reported <= max, "{what}: {reported} ns not in [{low:?}, {high:?}]");
}

fn function<'r>(report: &'r Report, suffix: &str) -> &'r FunctionStats {
    report.function_by_suffix(suffix).unwrap_or_else(|| panic!("{suffix} in the report"))
}

#[perfscope::measure]
fn leaf(pause: Duration) {
    sleep(pause);
}

#[perfscope::measure]
fn parent(pause: Duration) -> Duration {
    sleep(pause);
    let mut child = Duration::ZERO;
    for _ in 0..3 {
        let start = Instant::now();
        leaf(pause);
        child += start.elapsed();
    }
    child
}

#[test]
fn self_time_is_the_parents_own_sleep_and_the_edge_carries_the_childs() {
    let pause = Duration::from_millis(3);
    let start = Instant::now();
    let child_around = parent(pause);
    let around = start.elapsed();

    let report = perfscope::report();
    let p = function(&report, "::parent");
    let l = function(&report, "::leaf");
    assert_eq!((p.kind, p.calls, l.calls), (FunctionKind::Sync, 1, 3));
    assert_eq!((p.idle_ns, p.polls), (None, None), "a sync function has neither");
    // Inclusive: the 4 sleeps at least, the time around the call at most.
    between("parent total", p.total_ns, pause * 4, around, 1);
    assert_eq!(p.busy_ns, p.total_ns, "sync: busy is total");
    // The children's 3 sleeps, within the time measured around them.
    let [edge] = p.children.as_slice() else { panic!("one edge: {:?}", p.children) };
    assert_eq!((edge.name.as_str(), edge.calls), (l.name.as_str(), 3));
    between("edge busy", edge.busy_ns, pause * 3, child_around, 3);
    between("leaf total", l.total_ns, pause * 3, child_around, 3);
    assert!(edge.busy_ns.abs_diff(l.busy_ns) <= 1, "leaf is called from parent only");
    // Self: the parent's busy time without its children's (each rounded to the ns on its
    // own): its one sleep at least, the call without the children's sleeps at most.
    assert!(p.self_ns.abs_diff(p.busy_ns - edge.busy_ns) <= 1, "{p:?}");
    between("parent self", p.self_ns, pause, around - pause * 3, 4);
    assert_eq!((l.self_ns, l.mean_ns), (l.total_ns, l.total_ns / 3));
    assert!(l.children.is_empty());
    // Rows by self time, largest first, then by name.
    let order = |f: &FunctionStats| (std::cmp::Reverse(f.self_ns), f.name.clone());
    assert!(report.functions.windows(2).all(|w| order(&w[0]) <= order(&w[1])));
}

#[perfscope::measure]
fn latency(pause: Duration) {
    sleep(pause);
}

#[test]
fn quantiles_fall_in_the_group_of_calls_they_rank_into() {
    // 60 short calls, 35 middling and 5 long: p50 ranks into the short ones (rank 50 of 100),
    // p90 into the middling (rank 90) and p99 into the long (rank 99).
    let groups = [
        (60, Duration::from_micros(300)),
        (35, Duration::from_millis(3)),
        (5, Duration::from_millis(25)),
    ];
    // Each group's pause (its calls and the later groups' last that long at least), and the
    // longest call measured around so far (a preempted short call may be the longest).
    let (mut bounds, mut longest) = (Vec::new(), Duration::ZERO);
    for (calls, pause) in groups {
        for _ in 0..calls {
            let start = Instant::now();
            latency(pause);
            longest = longest.max(start.elapsed());
        }
        bounds.push((pause, longest));
    }
    let report = perfscope::report();
    let f = function(&report, "::latency");
    assert_eq!(f.calls, 100);
    // Within the histogram's 1%: at most 60 calls are under 3 ms and at most 95 under 25 ms;
    // the first 60 calls, then 95, are no longer than the longest of them.
    let quantile = |what, reported, (low, high): (Duration, Duration)| {
        between(what, reported, low.mul_f64(0.99), high.mul_f64(1.01), 1);
    };
    quantile("p50", f.p50_ns, bounds[0]);
    quantile("p90", f.p90_ns, bounds[1]);
    quantile("p99", f.p99_ns, bounds[2]);
    between("max", f.max_ns, bounds[2].0, bounds[2].1, 1);
    assert_eq!(f.mean_ns, f.total_ns / 100);
    let least: u64 = groups.iter().map(|&(calls, pause)| calls * ns(pause)).sum();
    assert!(least <= f.total_ns, "{} < {least}", f.total_ns);
}

/// Pending once (waking itself), then ready: two polls.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[perfscope::measure]
async fn waits(pause: Duration) {
    YieldOnce(false).await;
    tokio::time::sleep(pause).await;
}

#[perfscope::measure]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[perfscope::measure]
fn may_panic(fail: bool) {
    assert!(!fail, "asked to");
}

#[test]
fn async_idle_time_polls_cancellations_and_panics() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let pause = Duration::from_millis(20);
    let start = Instant::now();
    runtime.block_on(waits(pause));
    let around = start.elapsed();
    // Polled once, then dropped: cancelled.
    let mut cancelled = Box::pin(never_finishes());
    let pending = cancelled.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(pending.is_pending());
    drop(cancelled);
    for fail in [false, true, false] {
        let _ = catch_unwind(AssertUnwindSafe(|| may_panic(fail)));
    }

    let report = perfscope::report();
    let w = function(&report, "::waits");
    assert_eq!((w.kind, w.calls, w.cancelled, w.panics), (FunctionKind::Async, 1, 0, 0));
    // The yield, the sleep's first poll, and the one after it woke.
    assert_eq!(w.polls, Some(3));
    between("async total", w.total_ns, pause, around, 1);
    // Idle is the wait between polls: the rest of the call once its polls are taken out.
    assert_eq!(w.idle_ns, Some(w.total_ns - w.busy_ns));
    assert!(w.busy_ns < w.total_ns / 2, "polls are short: {w:?}");
    let n = function(&report, "::never_finishes");
    assert_eq!((n.calls, n.cancelled, n.polls), (0, 1, Some(1)));
    let m = function(&report, "::may_panic");
    assert_eq!((m.calls, m.panics, m.idle_ns, m.polls), (3, 1, None, None));
}

macro_rules! children {
    ($($name:ident)*) => {
        $(
            #[perfscope::measure]
            fn $name() {}
        )*
        const CHILDREN: &[fn()] = &[$($name),*];
    };
}

children!(c01 c02 c03 c04 c05 c06 c07 c08 c09 c10 c11 c12 c13 c14 c15 c16 c17 c18 c19 c20);

#[perfscope::measure]
fn calls_children(distinct: usize) {
    for (i, child) in CHILDREN.iter().take(distinct).enumerate() {
        // Child i called i + 1 times: the edges sort by calls, most first.
        for _ in 0..=i {
            child();
        }
    }
}

#[perfscope::measure]
fn calls_sixteen() {
    for child in &CHILDREN[..16] {
        child();
    }
}

#[test]
fn call_edges_sort_by_calls_and_past_sixteen_children_share_other() {
    calls_children(20);
    calls_sixteen();
    let report = perfscope::report();
    let f = function(&report, "::calls_children");
    let edges: Vec<(String, u64)> = f
        .children
        .iter()
        .map(|e| (e.name.rsplit("::").next().unwrap().to_string(), e.calls))
        .collect();
    // The first 16 children keep their edge; the 4 later ones (17 + 18 + 19 + 20 calls) share
    // `<other>`, which has no figures of its own, and which sorts by its calls like any edge.
    let mut expected: Vec<(String, u64)> =
        (1..=16).rev().map(|i| (format!("c{i:02}"), i)).collect();
    expected.insert(0, ("<other>".into(), 17 + 18 + 19 + 20));
    assert_eq!(edges, expected);
    let other = &f.children[0];
    assert_eq!(other, &CallEdge { name: "<other>".into(), calls: 74, busy_ns: 0, alloc_bytes: 0 });
    // Exactly 16 children: no `<other>`; equal calls sort by name.
    let s = function(&report, "::calls_sixteen");
    let names: Vec<&str> = s.children.iter().map(|e| e.name.rsplit("::").next().unwrap()).collect();
    let expected: Vec<String> = (1..=16).map(|i| format!("c{i:02}")).collect();
    assert_eq!(names, expected);
}
