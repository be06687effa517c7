//! Time attribution: self time, async busy vs wall time, latency quantiles. Every figure is
//! bounded from both sides by what the test measured itself around the same code (see
//! `common`), so the checks hold on a loaded 2-core machine and still catch a figure that is
//! too high as well as one too low; self = total - children is checked as an identity of the
//! reported figures (exact up to rounding to nanoseconds).

mod common;

use std::time::{Duration, Instant};

use common::{PollTimer, assert_between, assert_quantile, measured, record, sum, timed};
use perfscope::measure;
use perfscope_suite::{spin_for, stats};

/// Outer calls: enough for a median and a 90th percentile that mean something.
const CALLS: u64 = 15;

/// Call `extra` busy-waits `extra` ms more than call 0: the calls' latencies are 1 ms (5%)
/// apart, so each quantile is a different call.
#[measure]
fn outer_work(extra: u64) {
    let start = Instant::now();
    spin_for(Duration::from_millis(2 + extra));
    for _ in 0..2 {
        timed("inner.around", inner_work);
    }
    record("outer.inside", start.elapsed());
}

#[measure]
fn inner_work() {
    let start = Instant::now();
    spin_for(Duration::from_millis(4));
    timed("leaf.around", leaf_work);
    record("inner.inside", start.elapsed());
}

#[measure]
fn leaf_work() {
    timed("leaf.inside", || spin_for(Duration::from_millis(2)));
}

#[test]
fn self_time_is_total_minus_measured_children() {
    for extra in 0..CALLS {
        timed("outer.around", || outer_work(extra));
    }
    let (outer, inner, leaf) = (stats("::outer_work"), stats("::inner_work"), stats("::leaf_work"));
    let n = CALLS;
    assert_eq!((outer.calls, inner.calls, leaf.calls), (n, 2 * n, 2 * n));
    assert_eq!(
        (common::child(&outer, "::inner_work").calls, common::child(&inner, "::leaf_work").calls),
        (2 * n, 2 * n)
    );
    for f in [&outer, &inner, &leaf] {
        common::assert_self_consistent(f);
        assert_eq!(f.busy_ns, f.total_ns, "sync: busy is total");
        assert_eq!(f.mean_ns, f.total_ns / f.calls, "{f:?}");
    }
    // A child called from one parent only: the edge carries all of its time.
    let error = common::child(&outer, "::inner_work").busy_ns.abs_diff(inner.total_ns) as f64;
    assert!(error <= 0.001 * inner.total_ns as f64, "{outer:?}\n{inner:?}");

    // Inclusive time: between the bodies' own durations and the calls' durations.
    for (f, name) in [(&outer, "outer"), (&inner, "inner"), (&leaf, "leaf")] {
        let (inside, around) = (sum(&format!("{name}.inside")), sum(&format!("{name}.around")));
        assert_between(&format!("{name} total"), f.total_ns, inside, around, f.calls);
    }
    // Self time: a body's own duration minus its children's calls, and the other way round.
    for (f, name, child) in [(&outer, "outer", "inner"), (&inner, "inner", "leaf")] {
        let low = sum(&format!("{name}.inside")).saturating_sub(sum(&format!("{child}.around")));
        let high = sum(&format!("{name}.around")).saturating_sub(sum(&format!("{child}.inside")));
        assert_between(&format!("{name} self"), f.self_ns, low, high, f.calls * 3);
    }
    assert_between("leaf self", leaf.self_ns, sum("leaf.inside"), sum("leaf.around"), leaf.calls);

    // Latency quantiles are those of the calls the test timed.
    let (inside, around) = (measured("outer.inside"), measured("outer.around"));
    assert_quantile("outer p50", outer.p50_ns, 0.50, &inside, &around);
    assert_quantile("outer p90", outer.p90_ns, 0.90, &inside, &around);
    assert_quantile("outer p99", outer.p99_ns, 0.99, &inside, &around);
    assert_quantile("outer max", outer.max_ns, 1.0, &inside, &around);
    let (inside, around) = (measured("leaf.inside"), measured("leaf.around"));
    assert_quantile("leaf p50", leaf.p50_ns, 0.50, &inside, &around);
    assert_quantile("leaf max", leaf.max_ns, 1.0, &inside, &around);
}

/// Each call spins `extra` ms more than the first: latencies 1 ms (4%) apart.
#[measure]
async fn sleeps_then_spins(extra: u64) {
    let start = Instant::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    timed("async.spin", || spin_for(Duration::from_millis(1 + extra)));
    record("async.inside", start.elapsed());
}

#[test]
fn async_busy_and_wall_time() {
    const ASYNC_CALLS: u64 = 9;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        for extra in 0..ASYNC_CALLS {
            PollTimer::new("async.poll", "async.wall", sleeps_then_spins(extra)).await;
        }
    });
    let s = stats("::sleeps_then_spins");
    assert_eq!(s.calls, ASYNC_CALLS);
    // Every poll of the future the test timed is one poll measured (usually two per call, one
    // when a preempted first poll outlasts the sleep).
    assert_eq!(s.polls, Some(measured("async.poll").len() as u64), "{s:?}");
    // Busy: at least the spins, at most the polls as timed from outside.
    assert_between("async busy", s.busy_ns, sum("async.spin"), sum("async.poll"), s.calls * 2);
    assert_eq!(s.self_ns, s.busy_ns, "no measured children");
    // Wall: at least the bodies' durations, at most first poll to completion as timed outside.
    assert_between("async wall", s.total_ns, sum("async.inside"), sum("async.wall"), s.calls);
    // Idle = wall - busy: between (bodies - polls) and (outside wall - spins). (Not "at least
    // the sleeps": a poll preempted after creating its timer overlaps the sleep.)
    let idle = s.idle_ns.unwrap();
    let low = sum("async.inside").saturating_sub(sum("async.poll"));
    let high = sum("async.wall").saturating_sub(sum("async.spin"));
    assert_between("async idle", idle, low, high, s.calls * 2);
    // Latency quantiles are of wall time per call.
    let (inside, around) = (measured("async.inside"), measured("async.wall"));
    assert_quantile("async p50", s.p50_ns, 0.50, &inside, &around);
    assert_quantile("async p90", s.p90_ns, 0.90, &inside, &around);
    assert_quantile("async max", s.max_ns, 1.0, &inside, &around);
}

#[measure]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[test]
fn futures_dropped_before_completion_count_as_cancelled() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            let _ = tokio::time::timeout(Duration::from_millis(1), never_finishes()).await;
        }
    });
    // Created but never polled: not a call, not cancelled.
    drop(never_finishes());
    let s = stats("::never_finishes");
    assert_eq!((s.calls, s.cancelled), (0, 3));
}
