//! The sampler thread, the state it shares with [`Monitor`], and the figure source that
//! hands its latest sample to every snapshot.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use perfscope_core::figures::{Figure, FigureSource};

use crate::ring::{History, figure_key};
use crate::sampler::Sampler;
use crate::threshold::{Alert, AlertState, Armed, Threshold};

/// Most alert events and anomalies kept (oldest dropped first).
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
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(ring_len: usize) -> Shared {
        Shared {
            latest: Mutex::new(Arc::new(Vec::new())),
            state: Mutex::new(State {
                history: History::new(ring_len),
                alerts: VecDeque::with_capacity(MAX_EVENTS),
                anomalies: VecDeque::with_capacity(MAX_EVENTS),
            }),
            samples: Mutex::new(0),
            sampled: Condvar::new(),
            tid: OnceLock::new(),
        }
    }
}

/// The figure source registered with `perfscope_core`: clones the latest sample.
#[derive(Debug)]
pub(crate) struct Source(pub(crate) Arc<Shared>);

impl FigureSource for Source {
    fn read(&self, out: &mut Vec<Figure>) {
        let latest = lock(&self.0.latest).clone();
        out.extend(latest.iter().cloned());
    }
}

/// One sample's work: refresh, figures, history, anomalies, thresholds.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) sampler: Sampler,
    pub(crate) armed: Vec<Armed>,
    pub(crate) shared: Arc<Shared>,
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() >= MAX_EVENTS {
        list.pop_front();
    }
    list.push_back(item);
}

fn owned_labels(figure: &Figure) -> Vec<(String, String)> {
    figure.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

impl Worker {
    pub(crate) fn new(
        thresholds: Vec<Threshold>,
        shared: Arc<Shared>,
    ) -> Result<Worker, crate::MonitorError> {
        let armed = thresholds
            .into_iter()
            .map(|threshold| Armed { threshold, watches: Default::default() });
        Ok(Worker { sampler: Sampler::new()?, armed: armed.collect(), shared })
    }

    pub(crate) fn tick(&mut self) {
        let mut figures = Vec::with_capacity(lock(&self.shared.latest).len());
        self.sampler.sample(&mut figures);
        let at = SystemTime::now();
        let t = at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let mut events: Vec<(usize, Alert)> = Vec::new();
        {
            let mut state = lock(&self.shared.state);
            let state = &mut *state;
            for figure in &figures {
                let key = figure_key(figure);
                let labels = || figure.labels.iter().map(|(k, v)| (k.as_ref(), v.as_str()));
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
                    }
                    series.anomalous = z.is_some();
                }
                for (i, armed) in self.armed.iter_mut().enumerate() {
                    if !armed.threshold.watches(&figure.name, labels()) {
                        continue;
                    }
                    let watch = armed.watches.entry(key.clone()).or_default();
                    if let Some(state) = watch.observe(&armed.threshold, t, figure.value) {
                        let (name, labels) = (figure.name.to_string(), owned_labels(figure));
                        let condition = armed.threshold.condition;
                        let value = figure.value;
                        events
                            .push((i, Alert { state, figure: name, labels, value, condition, at }));
                    }
                }
            }
            for (_, alert) in &events {
                push_bounded(&mut state.alerts, alert.clone());
            }
        }
        *lock(&self.shared.latest) = Arc::new(figures);
        *lock(&self.shared.samples) += 1;
        self.shared.sampled.notify_all();
        for (i, alert) in events {
            let Alert { figure, labels, value, condition, .. } = &alert;
            match alert.state {
                AlertState::Fired => {
                    tracing::warn!(%figure, ?labels, value, ?condition, "perfscope monitor: alert fired")
                }
                AlertState::Resolved => {
                    tracing::info!(%figure, ?labels, value, ?condition, "perfscope monitor: alert resolved")
                }
            }
            if let Some(callback) = &self.armed[i].threshold.callback {
                // A panicking callback loses its own call, nothing else.
                let _ = catch_unwind(AssertUnwindSafe(|| callback(&alert)));
            }
        }
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
    let mut next = Instant::now() + interval;
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
