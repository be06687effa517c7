//! Bounds for reported durations, taken by the test itself around the same work.
//!
//! A figure perfscope reports for some code is compared with two `Instant` measurements of
//! that code: one *inside* it (from the first to the last statement of the body, or of a
//! closure run in a span), which the report must not be below, and one *around* it (around
//! the call, or around each poll of a future), which the report must not be above. Preemption
//! on a loaded machine stretches all three alike, so the bounds hold however busy the machine
//! is, and they are tight: a unit error, a child's time not subtracted or time counted twice
//! falls outside them.
#![allow(dead_code)] // each test binary uses part of it

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Relative slack between perfscope's clock (TSC converted with a measured ratio) and
/// `Instant`.
const CLOCK_SLACK: f64 = 0.005;
/// Absolute slack per measured event (clock reads on both sides, rounding to nanoseconds).
const EVENT_SLACK_NS: f64 = 2_000.0;

/// Durations measured by the test, per label.
static MEASURED: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

/// Runs `f`, adding its duration to `label`'s measurements.
pub fn timed<R>(label: &'static str, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let result = f();
    let elapsed = start.elapsed();
    MEASURED.lock().unwrap_or_else(|e| e.into_inner()).push((label, elapsed));
    result
}

/// Adds `elapsed` to `label`'s measurements.
pub fn record(label: &'static str, elapsed: Duration) {
    MEASURED.lock().unwrap_or_else(|e| e.into_inner()).push((label, elapsed));
}

/// Every duration measured under `label`, in the order measured.
pub fn measured(label: &str) -> Vec<Duration> {
    let all = MEASURED.lock().unwrap_or_else(|e| e.into_inner());
    all.iter().filter(|(l, _)| *l == label).map(|&(_, d)| d).collect()
}

/// The sum of `label`'s measurements.
pub fn sum(label: &str) -> Duration {
    measured(label).iter().sum()
}

/// Asserts that `reported` nanoseconds lie between `low` and `high` (durations measured by
/// the test around `events` measured events), up to the clocks' slack.
#[track_caller]
pub fn assert_between(what: &str, reported: u64, low: Duration, high: Duration, events: u64) {
    let (low_ns, high_ns) = (low.as_nanos() as f64, high.as_nanos() as f64);
    let slack = EVENT_SLACK_NS * events as f64;
    let (min, max) = (low_ns * (1.0 - CLOCK_SLACK) - slack, high_ns * (1.0 + CLOCK_SLACK) + slack);
    let value = reported as f64;
    assert!(
        min <= value && value <= max,
        "{what}: reported {:.3} ms, measured between {:.3} and {:.3} ms",
        value / 1e6,
        low_ns / 1e6,
        high_ns / 1e6
    );
}

/// `sorted[rank - 1]` for the nearest-rank `q`-quantile of `n` values (the definition the
/// report's histogram uses).
pub fn nearest_rank(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

/// Asserts a reported latency quantile against the same quantile of durations measured
/// inside and around each call: the k-th smallest latency lies between the k-th smallest of
/// each (the histogram adds at most 1% of bucket error).
#[track_caller]
pub fn assert_quantile(
    what: &str,
    reported: u64,
    q: f64,
    inside: &[Duration],
    around: &[Duration],
) {
    assert_eq!(inside.len(), around.len(), "{what}: one of each per call");
    let (mut inside, mut around) = (inside.to_vec(), around.to_vec());
    inside.sort_unstable();
    around.sort_unstable();
    let (low, high) = (nearest_rank(&inside, q), nearest_rank(&around, q));
    assert_between(what, reported, low.mul_f64(0.99), high.mul_f64(1.01), 1);
}

/// A future wrapper timing each poll of the future inside it (under `busy`, one measurement
/// per poll: the *around* bound of that future's busy time and its poll count) and its first
/// poll to completion (under `wall`: the *around* bound of its wall time).
#[derive(Debug)]
pub struct PollTimer<F> {
    inner: Pin<Box<F>>,
    busy: &'static str,
    wall: &'static str,
    first_poll: Option<Instant>,
}

impl<F: Future> PollTimer<F> {
    /// Times `inner`'s polls under `busy` and its first poll to completion under `wall`.
    pub fn new(busy: &'static str, wall: &'static str, inner: F) -> Self {
        PollTimer { inner: Box::pin(inner), busy, wall, first_poll: None }
    }
}

impl<F: Future> Future for PollTimer<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let start = Instant::now();
        let first = *self.first_poll.get_or_insert(start);
        let result = self.inner.as_mut().poll(cx);
        let end = Instant::now();
        record(self.busy, end - start);
        if result.is_ready() {
            record(self.wall, end - first);
        }
        result
    }
}

/// The call edge from `parent` to its child named `...suffix`.
pub fn child<'a>(parent: &'a perfscope::FunctionStats, suffix: &str) -> &'a perfscope::CallEdge {
    let found = parent.children.iter().find(|c| c.name.ends_with(suffix));
    found
        .unwrap_or_else(|| panic!("{suffix} not a child of {}: {:?}", parent.name, parent.children))
}

/// `self = busy - Σ children's time under it`, up to rounding: within 0.1%.
#[track_caller]
pub fn assert_self_consistent(f: &perfscope::FunctionStats) {
    let children: u64 = f.children.iter().map(|c| c.busy_ns).sum();
    let expected = f.busy_ns as f64 - children as f64;
    let error = (f.self_ns as f64 - expected).abs();
    assert!(
        error <= 0.001 * expected.abs().max(1e6),
        "{}: self {} vs busy {} - children {children}",
        f.name,
        f.self_ns,
        f.busy_ns
    );
}
