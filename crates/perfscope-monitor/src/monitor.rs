//! The sampler thread, the state it shares with [`Monitor`], and the figure source that
//! hands its latest sample to every snapshot.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::collections::HashSet;

use perfscope_core::figures::{Event, EventKind, Figure, FigureKind, FigureSource, Series};
use perfscope_core::names::section;
pub(crate) use perfscope_core::sync::lock;
use perfscope_core::time::unix_ms;

use crate::ring::{History, figure_key};
use crate::sampler::Sampler;
use crate::tally::Tally;
use crate::threshold::{Alert, AlertState, Armed, Threshold};
use crate::watch::{Context, Functions};

/// Most alert events and anomalies kept, and most events (alerts, anomalies of figures and
/// functions, recommendations) snapshots carry (oldest dropped first).
pub const MAX_EVENTS: usize = 256;

/// A point a series' [`Detector`](crate::analysis::Detector) found anomalous (the first of a
/// run of anomalous points).
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// The figure's name.
    pub figure: String,
    /// The series' labels.
    pub labels: Vec<(String, String)>,
    /// The anomalous value.
    pub value: f64,
    /// The series' weighted mean before it.
    pub expected: f64,
    /// How many standard deviations away.
    pub z: f64,
    /// When (the sample's time).
    pub at: SystemTime,
}

/// What the sampler thread writes and the monitor and snapshots read.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) latest: Mutex<Arc<Vec<Figure>>>,
    pub(crate) state: Mutex<State>,
    pub(crate) samples: Mutex<u64>,
    pub(crate) sampled: Condvar,
    pub(crate) tid: OnceLock<u32>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) history: History,
    pub(crate) alerts: VecDeque<Alert>,
    pub(crate) anomalies: VecDeque<Anomaly>,
    pub(crate) events: VecDeque<Event>,
}

impl Shared {
    pub(crate) fn new(ring_len: usize) -> Shared {
        Shared {
            latest: Mutex::new(Arc::new(Vec::new())),
            state: Mutex::new(State {
                history: History::new(ring_len),
                alerts: VecDeque::with_capacity(MAX_EVENTS),
                anomalies: VecDeque::with_capacity(MAX_EVENTS),
                events: VecDeque::with_capacity(MAX_EVENTS),
            }),
            samples: Mutex::new(0),
            sampled: Condvar::new(),
            tid: OnceLock::new(),
        }
    }
}

/// The figure source registered with `perfscope_core`: clones the latest sample, the events
/// and the rings. The sampler never holds these locks while it takes its own snapshot.
#[derive(Debug)]
pub(crate) struct Source(pub(crate) Arc<Shared>);

impl FigureSource for Source {
    fn read(&self, out: &mut Vec<Figure>) {
        let latest = lock(&self.0.latest).clone();
        out.extend(latest.iter().cloned());
    }

    fn events(&self, out: &mut Vec<Event>) {
        out.extend(lock(&self.0.state).events.iter().cloned());
    }

    fn history(&self, out: &mut Vec<Series>) {
        lock(&self.0.state).history.all(out);
    }
}

/// What the sampler watches besides the host and the process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub(crate) thresholds: Vec<Threshold>,
    #[cfg(feature = "tokio")]
    pub(crate) runtime: Option<tokio::runtime::Handle>,
    pub(crate) traffic: Vec<String>,
    /// Per-function analysis (traffic needs it too).
    pub(crate) functions: bool,
}

/// One sample's work: refresh, figures, history, anomalies, thresholds.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) sampler: Sampler,
    pub(crate) armed: Vec<Armed>,
    pub(crate) shared: Arc<Shared>,
    #[cfg(feature = "tokio")]
    runtime: Option<crate::runtime::Runtime>,
    functions: Option<Functions>,
    tally: Tally,
}

/// Sections of other sources whose gauges the monitor keeps history of (and looks for
/// anomalies in), so trends cover the database side too: query times, pool waits and
/// starvation, cache hit ratios.
pub const HISTORY_SECTIONS: &[&str] = &[section::POOL, section::CACHE, section::QUERY];

fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() >= MAX_EVENTS {
        list.pop_front();
    }
    list.push_back(item);
}

fn owned_labels(figure: &Figure) -> Vec<(String, String)> {
    figure.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// An alert or a figure's anomaly as the event snapshots carry.
pub(crate) fn figure_event(
    figure: &Figure,
    kind: EventKind,
    at: SystemTime,
    message: String,
) -> Event {
    Event {
        section: figure.section,
        kind,
        at_unix_ms: unix_ms(at),
        subject: figure.name.to_string(),
        labels: figure.labels.clone(),
        message,
        value: Some(figure.value),
    }
}

impl Worker {
    pub(crate) fn new(
        options: Options,
        shared: Arc<Shared>,
    ) -> Result<Worker, crate::MonitorError> {
        let armed = options.thresholds.into_iter().map(Armed::new);
        let functions = (options.functions || !options.traffic.is_empty())
            .then(|| Functions::new(options.traffic));
        Ok(Worker {
            sampler: Sampler::new()?,
            armed: armed.collect(),
            shared,
            #[cfg(feature = "tokio")]
            runtime: options.runtime.map(crate::runtime::Runtime::new),
            functions,
            tally: Tally::default(),
        })
    }

    pub(crate) fn tick(&mut self) {
        // perfscope's own figures first, holding no lock: the snapshot reads this monitor's
        // source, which takes `latest` and `state`.
        let wanted = self.functions.is_some() || !self.armed.is_empty();
        let snapshot = wanted.then(perfscope_core::snapshot);
        let (snapshot_at, snapshot_ms) = (Instant::now(), unix_ms(SystemTime::now()));
        let mut figures = Vec::with_capacity(lock(&self.shared.latest).len());
        self.sampler.sample(&mut figures);
        #[cfg(feature = "tokio")]
        let busy = self.runtime.as_mut().and_then(|r| r.sample(&mut figures));
        #[cfg(not(feature = "tokio"))]
        let busy = None;
        let mut function_events = Vec::new();
        let mut latencies = Vec::new();
        if let (Some(functions), Some(snapshot)) = (&mut self.functions, &snapshot) {
            let value = |name: &str| {
                figures.iter().find(|f| f.name == name && f.labels.is_empty()).map(|f| f.value)
            };
            let heap = snapshot
                .figures
                .iter()
                .find(|f| f.name == perfscope_core::figures::HEAP_IN_USE_BYTES);
            let cx = Context {
                at: snapshot_at,
                at_ms: snapshot_ms,
                busy,
                cpu: value(crate::names::NODE_CPU_USAGE_RATIO),
                heap: heap
                    .map(|f| f.value)
                    .or_else(|| value(crate::names::PROCESS_RESIDENT_MEMORY_BYTES)),
            };
            let out = crate::watch::Out {
                figures: &mut figures,
                history: &mut latencies,
                events: &mut function_events,
                tally: &mut self.tally,
            };
            functions.update(snapshot, cx, out);
        }
        let others = snapshot.map(|s| self.others(s.figures)).unwrap_or_default();
        let at = SystemTime::now();
        let t = at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let mut events: Vec<(usize, Alert)> = Vec::new();
        {
            let mut state = lock(&self.shared.state);
            let state = &mut *state;
            for figure in figures.iter().chain(&others) {
                let key = figure_key(figure);
                if let Some(series) = state.history.record(&key, figure, t)
                    && let Some(detector) = &mut series.detector
                {
                    let expected = detector.mean();
                    let z = detector.observe(figure.value);
                    if let (Some(z), false) = (z, series.anomalous) {
                        tracing::debug!(figure = %figure.name, value = figure.value, expected, z, "perfscope monitor: anomaly");
                        let (name, labels) = (figure.name.to_string(), owned_labels(figure));
                        let value = figure.value;
                        let anomaly = Anomaly { figure: name, labels, value, expected, z, at };
                        push_bounded(&mut state.anomalies, anomaly);
                        self.tally.anomaly(figure.section, &figure.name, "figure");
                        let message =
                            format!("{value} departs from the recent {expected:.4} ({z:+.1} sd)");
                        let event = figure_event(figure, EventKind::Anomaly, at, message);
                        push_bounded(&mut state.events, event);
                    }
                    series.anomalous = z.is_some();
                }
                for (i, armed) in self.armed.iter_mut().enumerate() {
                    if let Some((change, event)) = armed.observe(figure, &key, t, at) {
                        events.push((i, change));
                        push_bounded(&mut state.events, event);
                    }
                }
            }
            // History only: no detector (the steps are the functions' anomalies), no thresholds.
            for figure in &latencies {
                state.history.record_plain(&figure_key(figure), figure, t);
            }
            for (_, alert) in &events {
                push_bounded(&mut state.alerts, alert.clone());
            }
            for event in function_events {
                push_bounded(&mut state.events, event);
            }
        }
        for armed in &self.armed {
            armed.figures(&mut figures);
        }
        self.tally.figures(&mut figures);
        *lock(&self.shared.latest) = Arc::new(figures);
        *lock(&self.shared.samples) += 1;
        self.shared.sampled.notify_all();
        for (i, alert) in events {
            let Alert { name, figure, labels, value, condition, .. } = &alert;
            match alert.state {
                AlertState::Fired => {
                    tracing::warn!(alert = %name, %figure, ?labels, value, ?condition, "perfscope monitor: alert fired")
                }
                AlertState::Resolved => {
                    tracing::info!(alert = %name, %figure, ?labels, value, ?condition, "perfscope monitor: alert resolved")
                }
            }
            if let Some(callback) = &self.armed[i].threshold.callback {
                // A panicking callback loses its own call, nothing else.
                let _ = catch_unwind(AssertUnwindSafe(|| callback(&alert)));
            }
        }
    }

    /// The figures of other sources in `snapshot` (pools, caches, queries, perfscope's own
    /// process figures, ...) that a threshold watches or whose history the trends need
    /// ([`HISTORY_SECTIONS`]); not this monitor's own, which the snapshot carries from its
    /// previous sample.
    fn others(&self, snapshot: Vec<Figure>) -> Vec<Figure> {
        let own: HashSet<String> = lock(&self.shared.latest).iter().map(figure_key).collect();
        snapshot
            .into_iter()
            .filter(|f| {
                let labels = || f.labels.iter().map(|(k, v)| (k.as_ref(), v.as_str()));
                let kept = (HISTORY_SECTIONS.contains(&f.section) && f.kind == FigureKind::Gauge)
                    || self.armed.iter().any(|a| a.threshold.watches(&f.name, labels()));
                kept && !own.contains(&figure_key(f))
            })
            .collect()
    }
}

/// The sampler thread's body: a tick every `interval` until the sender is dropped.
/// `ready` is told once the thread's id is known.
pub(crate) fn run(
    mut worker: Worker,
    stop: mpsc::Receiver<()>,
    ready: mpsc::Sender<()>,
    interval: Duration,
) {
    if let Some(tid) = own_tid() {
        let _ = worker.shared.tid.set(tid);
    }
    let _ = ready.send(());
    // The first sample as soon as CPU usage can be read (two refreshes >= 200 ms apart), so a
    // short run still has one; then one every interval.
    let mut next = Instant::now() + interval.min(crate::MIN_INTERVAL);
    loop {
        match stop.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        // Never take the host down: a panicking sample is skipped, the next one runs.
        let _ = catch_unwind(AssertUnwindSafe(|| worker.tick()));
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now + interval; // fell behind (a suspended VM): skip, don't burst
        }
    }
}

/// This thread's id, from `/proc/thread-self` (`<pid>/task/<tid>`).
fn own_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time of thread `tid` of this process: `schedstat` (nanoseconds) where the kernel has
/// it, else `stat`'s utime + stime in clock ticks (assumed 100 per second).
pub(crate) fn thread_cpu_time(tid: u32) -> Option<Duration> {
    let task = format!("/proc/self/task/{tid}");
    if let Ok(schedstat) = std::fs::read_to_string(format!("{task}/schedstat"))
        && let Some(ns) = schedstat.split_whitespace().next().and_then(|w| w.parse().ok())
    {
        return Some(Duration::from_nanos(ns));
    }
    let stat = std::fs::read_to_string(format!("{task}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}
