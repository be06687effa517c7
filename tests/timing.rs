//! Time attribution: self time, async busy vs wall time. Tolerances hold on a loaded 2-core
//! machine: busy-waits are measured against the wall clock, so preemption stretches the
//! measured time and the expectation alike, and self = total - children is checked as an
//! identity of the measured figures, not against the requested durations.

use std::time::Duration;

use perfscope::measure;
use perfscope_suite::{spin_for, stats};

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

#[measure]
fn outer_work() {
    spin_for(Duration::from_millis(20));
    inner_work();
    inner_work();
}

#[measure]
fn inner_work() {
    spin_for(Duration::from_millis(10));
    leaf_work();
}

#[measure]
fn leaf_work() {
    spin_for(Duration::from_millis(5));
}

#[test]
fn self_time_is_total_minus_measured_children() {
    for _ in 0..3 {
        outer_work();
    }
    let (outer, inner, leaf) = (stats("::outer_work"), stats("::inner_work"), stats("::leaf_work"));
    assert_eq!((outer.calls, inner.calls, leaf.calls), (3, 6, 6));
    for (parent, children) in [(&outer, &inner), (&inner, &leaf)] {
        let expected = parent.total_ns - children.total_ns;
        let error = (parent.self_ns as f64 - expected as f64).abs() / expected as f64;
        assert!(
            error < 0.05,
            "{}: self {} vs total - children {}",
            parent.name,
            parent.self_ns,
            expected
        );
    }
    // And the figures match the busy-waits (each at least as long as asked).
    assert!(ms(outer.self_ns) >= 3.0 * 20.0 * 0.95, "{outer:?}");
    assert!(ms(inner.self_ns) >= 6.0 * 10.0 * 0.95, "{inner:?}");
    assert!(ms(leaf.self_ns) >= 6.0 * 5.0 * 0.95, "{leaf:?}");
    assert!(ms(outer.total_ns) >= 3.0 * 50.0 * 0.95);
    assert_eq!(outer.children[0].calls, 6);
    // Every call busy-waits at least 50 ms (preemption only lengthens one), so even the
    // median does; quantiles are ordered and capped by the maximum.
    assert!(ms(outer.p50_ns) >= 50.0 * 0.99, "{outer:?}");
    assert!(outer.p50_ns <= outer.p99_ns && outer.p99_ns <= outer.max_ns, "{outer:?}");
}

#[measure]
async fn sleeps_then_spins() {
    tokio::time::sleep(Duration::from_millis(50)).await;
    spin_for(Duration::from_millis(10));
}

#[test]
fn async_busy_and_wall_time() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        for _ in 0..2 {
            sleeps_then_spins().await;
        }
    });
    let s = stats("::sleeps_then_spins");
    assert_eq!(s.calls, 2);
    let (busy, wall) = (ms(s.busy_ns) / 2.0, ms(s.wall_ns.unwrap()) / 2.0);
    // The spin is ~10 ms of wall clock, polls around it add microseconds; a loaded machine
    // can only stretch it.
    assert!((9.5..25.0).contains(&busy), "busy per call {busy} ms");
    assert!((59.5..150.0).contains(&wall), "wall per call {wall} ms");
    assert!(ms(s.idle_ns.unwrap()) / 2.0 >= 49.0, "{s:?}");
    assert!(s.polls.unwrap() >= 4, "at least two polls per call: {s:?}");
    assert!((ms(s.p50_ns) - wall).abs() < 0.2 * wall, "p50 is a call's wall time: {s:?}");
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
