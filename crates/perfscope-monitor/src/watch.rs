//! What the sampler does with each `perfscope_core::snapshot()`: traffic figures of the
//! functions named by `with_traffic`, steps up in any followed function's p99 latency or self
//! time (anomaly events), and recommendations joining them with the monitor's figures.

use std::collections::HashMap;
use std::time::Instant;

use perfscope_core::figures::{Event, EventKind, Figure};
use perfscope_core::names::{
    FUNCTION_LATENCY_P50_SECONDS, FUNCTION_LATENCY_P99_SECONDS, Name, TRAFFIC_LATENCY_P50_SECONDS,
    TRAFFIC_LATENCY_P99_SECONDS, TRAFFIC_REQUESTS_PER_SECOND,
};
use perfscope_core::{Kind, Snapshot};

use crate::advice::{self, Advice, RateLimit};
use crate::analysis::{Direction, trend};
use crate::functions::{Deltas, Interval, merge};
use crate::names::FUNCTION;
use crate::ring::Ring;
use crate::steps::{Step, StepWatch};
use crate::tally::Tally;

/// Samples whose heap is left out of [`advice::reuse_buffers`]'s trend: the monitor's own rings
/// are allocated in full in its first samples (half a MiB with the default ring), a step up
/// that would read as the program's heap growing.
const SETTLE: u64 = 3;
/// Fewest points of the heap's trend [`advice::reuse_buffers`] looks at.
const MIN_HEAP_POINTS: usize = 10;
/// Points of the heap's (or RSS's) trend for [`advice::reuse_buffers`].
const HEAP_POINTS: usize = 60;
/// Self time per second (cores) under this is never a step.
const SELF_FLOOR: f64 = 0.01;

/// The evidence of one sample beside the snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// When the snapshot was taken.
    pub(crate) at: Instant,
    pub(crate) at_ms: u64,
    /// Tokio workers' mean busy ratio.
    pub(crate) busy: Option<f64>,
    /// Host CPU usage ratio.
    pub(crate) cpu: Option<f64>,
    /// Heap in use, else resident memory (bytes).
    pub(crate) heap: Option<f64>,
}

/// Most functions (by calls) whose p50/p99 latency per interval is kept in the history
/// ([`FUNCTION_LATENCY_P50_SECONDS`], [`FUNCTION_LATENCY_P99_SECONDS`]; history only), for the
/// reports' latency heatmap.
pub const LATENCY_FUNCTIONS: usize = 20;

/// Where [`Functions::update`] writes: figures of the sample, history-only figures, events.
#[derive(Debug)]
pub(crate) struct Out<'a> {
    pub(crate) figures: &'a mut Vec<Figure>,
    pub(crate) history: &'a mut Vec<Figure>,
    pub(crate) events: &'a mut Vec<Event>,
    /// Counts of the anomalies and recommendations pushed to `events`.
    pub(crate) tally: &'a mut Tally,
}

/// The per-function analysis' state.
#[derive(Debug)]
pub(crate) struct Functions {
    deltas: Deltas,
    traffic: Vec<String>,
    /// p50 and p99 latency and self time per second of each followed function.
    watches: HashMap<u32, [StepWatch; 3]>,
    limit: RateLimit,
    heap: Ring,
    last: Option<(Instant, u64)>,
    samples: u64,
}

impl Functions {
    pub(crate) fn new(traffic: Vec<String>) -> Functions {
        Functions {
            deltas: Deltas::default(),
            traffic,
            watches: HashMap::new(),
            limit: RateLimit::default(),
            heap: Ring::new(HEAP_POINTS),
            last: None,
            samples: 0,
        }
    }

    /// Takes the next snapshot: appends traffic figures to `out.figures`, the latency of the
    /// top functions to `out.history`, anomalies and recommendations to `out.events`.
    pub(crate) fn update(&mut self, snapshot: &Snapshot, cx: Context, out: Out<'_>) {
        let Out { figures, history, events, tally } = out;
        let traffic = &self.traffic;
        let intervals = self.deltas.update(snapshot, |name| traffic.iter().any(|t| t == name));
        self.samples += 1;
        if let Some(heap) = cx.heap
            && self.samples > SETTLE
        {
            self.heap.push(cx.at_ms as f64 / 1e3, heap);
        }
        let Some((before, before_ms)) = self.last.replace((cx.at, cx.at_ms)) else { return };
        let seconds = cx.at.saturating_duration_since(before).as_secs_f64();
        if seconds <= 0.0 {
            return;
        }
        self.traffic(snapshot, &intervals, seconds, figures);
        latencies(snapshot, &intervals, history);
        let middle_ms = before_ms + cx.at_ms.saturating_sub(before_ms) / 2;
        self.steps(&intervals, seconds, middle_ms, events, tally);
        for advice in self.advise(&intervals, seconds, &cx) {
            if self.limit.allow(&advice, cx.at) {
                tally.recommendation(advice.kind, &advice.subject);
                events.push(event(EventKind::Recommendation, cx.at_ms, advice));
            }
        }
    }

    fn traffic(
        &self,
        snapshot: &Snapshot,
        intervals: &[Interval],
        seconds: f64,
        out: &mut Vec<Figure>,
    ) {
        for name in &self.traffic {
            let of_name: Vec<&Interval> = intervals.iter().filter(|i| *i.name == **name).collect();
            // Followed only from this snapshot on: no interval to tell yet.
            if of_name.is_empty() && snapshot.callsites.iter().any(|c| *c.info.name == **name) {
                continue;
            }
            let calls: u64 = of_name.iter().map(|i| i.calls).sum();
            let buckets = of_name.iter().fold(Vec::new(), |all, i| merge(&all, i.latency()));
            let gauge = |metric: &Name, value| {
                Figure::of(metric, value).with_label("function", name.clone())
            };
            out.push(gauge(&TRAFFIC_REQUESTS_PER_SECOND, calls as f64 / seconds));
            let npt = of_name.first().map_or(1.0, |i| i.nanos_per_tick());
            for (metric, q) in
                [(TRAFFIC_LATENCY_P50_SECONDS, 0.5), (TRAFFIC_LATENCY_P99_SECONDS, 0.99)]
            {
                if let Some(value) = Interval::quantile_of(&buckets, q, npt) {
                    out.push(gauge(&metric, value));
                }
            }
        }
    }

    fn steps(
        &mut self,
        intervals: &[Interval],
        seconds: f64,
        at_ms: u64,
        out: &mut Vec<Event>,
        tally: &mut Tally,
    ) {
        self.watches.retain(|id, _| intervals.iter().any(|i| i.id == *id));
        for i in intervals {
            let [p50, p99, self_time] = self.watches.entry(i.id).or_default();
            // The median too: on a loaded host the p99 of short calls is the scheduler's
            // (preempted calls), and a step of the function's own latency shows in the p50.
            let latencies = [
                (p50, 0.5, "p50 latency", "p50_latency"),
                (p99, 0.99, "p99 latency", "p99_latency"),
            ];
            for (watch, q, what, kind) in latencies {
                if let Some(latency) = i.quantile_seconds(q)
                    && let Some(step) = watch.observe(at_ms, latency, 0.0)
                {
                    tally.anomaly(FUNCTION, &i.name, kind);
                    out.push(step_event(&i.name, what, step, seconds_text));
                }
            }
            let cores = i.self_ns as f64 * 1e-9 / seconds;
            if let Some(step) = self_time.observe(at_ms, cores, SELF_FLOOR) {
                tally.anomaly(FUNCTION, &i.name, "self_time");
                out.push(step_event(&i.name, "self time", step, |c| format!("{c:.2} cores")));
            }
        }
    }

    fn advise(&self, intervals: &[Interval], seconds: f64, cx: &Context) -> Vec<Advice> {
        let points = self.heap.to_vec();
        let points = if points.len() >= MIN_HEAP_POINTS { points.as_slice() } else { &[] };
        let slope = trend(points).filter(|t| t.direction == Direction::Rising).map(|t| t.slope);
        let top = intervals
            .iter()
            .max_by_key(|i| i.alloc_bytes)
            .map(|i| (&*i.name, i.alloc_bytes as f64 / seconds));
        let asynchronous = || intervals.iter().filter(|i| i.kind == Kind::Async);
        let per_poll = |i: &Interval| i.busy_ns as f64 * 1e-9 / i.polls.max(1) as f64;
        let longest = asynchronous()
            .filter(|i| i.polls > 0)
            .max_by(|a, b| per_poll(a).total_cmp(&per_poll(b)))
            .map(|i| (&*i.name, per_poll(i)));
        let idle = |i: &Interval| 1.0 - (i.busy_ns as f64 / i.total_ns as f64).min(1.0);
        let idlest = asynchronous()
            .filter(|i| i.calls > 0 && i.total_ns > 0 && idle(i) > advice::IDLE_SHARE)
            .max_by_key(|i| i.total_ns)
            .map(|i| (&*i.name, idle(i)));
        [
            advice::reuse_buffers(slope, top),
            advice::spawn_blocking(cx.busy, longest),
            advice::io_bound(cx.cpu, idlest),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The p50 and p99 latency of the interval's calls of the [`LATENCY_FUNCTIONS`] functions
/// with the most calls so far (callsites of one name merged), section `function`.
fn latencies(snapshot: &Snapshot, intervals: &[Interval], out: &mut Vec<Figure>) {
    let mut order: Vec<_> = snapshot.callsites.iter().filter(|c| c.calls > 0).collect();
    order.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.info.name.cmp(&b.info.name)));
    let mut names: Vec<&str> = Vec::with_capacity(LATENCY_FUNCTIONS);
    for c in order {
        if names.len() == LATENCY_FUNCTIONS {
            break;
        }
        if !names.contains(&&*c.info.name) {
            names.push(&c.info.name);
        }
    }
    for name in names {
        let of_name = intervals.iter().filter(|i| &*i.name == name && i.calls > 0);
        let mut npt = None;
        let buckets = of_name.fold(Vec::new(), |all, i| {
            npt.get_or_insert(i.nanos_per_tick());
            merge(&all, i.latency())
        });
        let Some(npt) = npt else { continue };
        for (metric, q) in
            [(FUNCTION_LATENCY_P50_SECONDS, 0.5), (FUNCTION_LATENCY_P99_SECONDS, 0.99)]
        {
            if let Some(value) = Interval::quantile_of(&buckets, q, npt) {
                let figure = Figure::of(&metric, value);
                out.push(figure.with_label("function", name.to_string()));
            }
        }
    }
}

/// `0.0031` → `3.10 ms`.
pub(crate) fn seconds_text(s: f64) -> String {
    match s {
        s if s < 1e-3 => format!("{:.1} µs", s * 1e6),
        s if s < 1.0 => format!("{:.2} ms", s * 1e3),
        s => format!("{s:.2} s"),
    }
}

fn step_event(function: &str, what: &str, step: Step, show: impl Fn(f64) -> String) -> Event {
    let ratio = step.after / step.before.max(f64::MIN_POSITIVE);
    let message = format!(
        "{what} of {function} stepped up from {} to {} ({ratio:.1}x)",
        show(step.before),
        show(step.after)
    );
    tracing::info!(%function, %message, "perfscope monitor: anomaly");
    let (kind, at_ms) = (EventKind::Anomaly, step.at_ms);
    let labels = vec![("function".into(), function.to_string())];
    let subject = function.to_string();
    Event {
        section: FUNCTION,
        kind,
        at_unix_ms: at_ms,
        subject,
        labels,
        message,
        value: Some(step.after),
    }
}

fn event(kind: EventKind, at_unix_ms: u64, advice: Advice) -> Event {
    tracing::info!(function = %advice.subject, message = %advice.message, "perfscope monitor: recommendation");
    let labels = vec![("function".into(), advice.subject.clone())];
    let (subject, message, value) = (advice.subject, advice.message, Some(advice.value));
    Event { section: FUNCTION, kind, at_unix_ms, subject, labels, message, value }
}
