//! perfscope's system monitor: the host's and this process's figures (CPU, load, memory,
//! network, temperatures where the host has sensors; resident and virtual memory, CPU time,
//! open file descriptors), sampled on a thread of its own, kept in bounded rings, watched by
//! thresholds that raise alerts, and analysed (summary, trend, anomalies).
//!
//! It also watches, when asked, a tokio runtime ([`MonitorBuilder::with_runtime`], section
//! `tokio`) and the traffic of named functions ([`MonitorBuilder::with_traffic`], section
//! `traffic`), and follows every measured function from interval to interval (the top
//! [`MAX_FUNCTIONS`] by calls, from the difference of two `perfscope_core::snapshot()`s): a
//! step up in a function's p50/p99 latency or self time is an anomaly event, and
//! recommendations join the functions' figures with the monitor's (events of section
//! `function`); the p50/p99 latency per interval of the top [`LATENCY_FUNCTIONS`] by calls is
//! kept in the history (section `function`, history only), for the reports' latency heatmap.
//! Snapshots carry the events; `perfscope_core::snapshot_with_history()` also
//! carries the rings.
//!
//! [`rules`] writes the same thresholds as a Prometheus rules file (alerting rules on the
//! exported figures, recording rules for the dashboard), so a fleet alerts in Prometheus on
//! what each process alerts on itself.
//!
//! The monitor never talks to an exporter: it registers a
//! [`FigureSource`](perfscope_core::figures::FigureSource), so every
//! [`perfscope_core::snapshot()`] — and with it the report, `/metrics` and OTLP — carries its
//! latest sample, in sections `host` and `process` (names in [`names`]). Dropping the
//! [`Monitor`] stops and joins its thread and unregisters the source. Start one per process.
//!
//! ```
//! use std::time::Duration;
//! use perfscope_monitor::{Above, Monitor, names, threshold};
//!
//! # fn main() -> Result<(), perfscope_monitor::MonitorError> {
//! let monitor = Monitor::builder()
//!     .with_interval(Duration::from_millis(200))
//!     .with_ring(300) // points kept per series
//!     .with_threshold(
//!         threshold(names::PROCESS_RESIDENT_MEMORY_BYTES, Above(64e9))
//!             .for_duration(Duration::from_secs(30))
//!             .hysteresis(1e9)
//!             .on_alert(|alert| eprintln!("{alert:?}")),
//!     )
//!     .start()?;
//! assert!(monitor.wait_for_samples(2, Duration::from_secs(30)));
//!
//! let snapshot = perfscope_core::snapshot();
//! let rss = snapshot.figures.iter().find(|f| f.name == names::PROCESS_RESIDENT_MEMORY_BYTES);
//! assert!(rss.is_some_and(|f| f.section == "process" && f.value > 0.0));
//! let history = monitor.history(names::PROCESS_RESIDENT_MEMORY_BYTES, &[]);
//! assert!(history.len() >= 2);
//! let summary = monitor.summary(names::NODE_CPU_USAGE_RATIO, &[("cpu", "0")]);
//! assert!(summary.is_some_and(|s| (0.0..=1.0).contains(&s.max)));
//! assert!(monitor.alerts().is_empty());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod advice;
pub mod analysis;
mod functions;
mod monitor;
pub mod names;
mod netdev;
mod ring;
pub mod rules;
#[cfg(feature = "tokio")]
mod runtime;
mod sampler;
mod steps;
mod tally;
mod threshold;
mod watch;

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use perfscope_core::figures::{self, Figure, Registration};

pub use advice::{
    EVERY as RECOMMENDATION_EVERY, HEAP_SLOPE, IDLE_CPU, IDLE_SHARE, LONG_POLL, SATURATED,
};
pub use functions::MAX_FUNCTIONS;
pub use monitor::HISTORY_SECTIONS;
pub use monitor::{Anomaly, MAX_EVENTS};
pub use ring::MAX_SERIES;
pub use steps::STEP_RATIO;
pub use tally::MAX_SUBJECTS;
pub use threshold::Condition::{Above, Below};
pub use threshold::{
    Alert, AlertCallback, AlertState, Condition, MAX_WATCHED_SERIES, Severity, Threshold, threshold,
};
pub use watch::LATENCY_FUNCTIONS;

use analysis::{Summary, Trend};
use monitor::{Options, Shared, Source, Worker, lock};
use ring::series_key;

/// The default time between two samples.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// The shortest interval: CPU usage needs two readings at least this far apart.
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// The default number of points kept per series (ten minutes at the default interval).
pub const DEFAULT_RING: usize = 600;

/// Why a monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The interval is shorter than [`MIN_INTERVAL`].
    #[error("sampling interval {0:?} is shorter than the minimum of 200 ms")]
    IntervalTooShort(Duration),
    /// The ring length is zero.
    #[error("the ring must keep at least one point per series")]
    EmptyRing,
    /// A threshold cannot work (say, a NaN limit).
    #[error("invalid threshold: {0}")]
    InvalidThreshold(String),
    /// The system information could not be read at all.
    #[error("cannot read system information: {0}")]
    System(String),
    /// The sampler thread could not be spawned.
    #[error("cannot start the sampler thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// Configures a [`Monitor`]; made by [`Monitor::builder`].
#[derive(Debug, Clone)]
pub struct MonitorBuilder {
    interval: Duration,
    ring: usize,
    options: Options,
}

impl MonitorBuilder {
    /// Time between two samples (default [`DEFAULT_INTERVAL`], at least [`MIN_INTERVAL`]).
    pub fn with_interval(mut self, interval: Duration) -> MonitorBuilder {
        self.interval = interval;
        self
    }

    /// Points kept per series (default [`DEFAULT_RING`]); each ring is allocated in full
    /// when its series first appears and never grows.
    pub fn with_ring(mut self, len: usize) -> MonitorBuilder {
        self.ring = len;
        self
    }

    /// Watches a figure of any source in the snapshot — the monitor's own (host, process,
    /// tokio, traffic), pools (`perfscope_pool_starved`), caches (`perfscope_cache_hit_ratio`),
    /// queries (`perfscope_query_duration_p99_seconds`), perfscope's process figures — by name
    /// and label matcher; see [`threshold()`]. Each armed threshold is exported as series
    /// ([`names::ALERT_FIRING`](perfscope_core::names::ALERT_FIRING) per watched series,
    /// [`names::ALERT_TRANSITIONS_TOTAL`](perfscope_core::names::ALERT_TRANSITIONS_TOTAL)).
    pub fn with_threshold(mut self, threshold: Threshold) -> MonitorBuilder {
        self.options.thresholds.push(threshold);
        self
    }

    /// Watches a tokio runtime (section `tokio`): workers, alive tasks, global queue depth,
    /// and per worker the busy ratio over the interval and the park count. Feature `tokio`
    /// (on by default).
    #[cfg(feature = "tokio")]
    pub fn with_runtime(mut self, handle: tokio::runtime::Handle) -> MonitorBuilder {
        self.options.runtime = Some(handle);
        self
    }

    /// Reports the traffic of the measured functions or spans with this full name (as
    /// perfscope names them, e.g. `my_crate::handle_request`; may be repeated), section
    /// `traffic`: completed calls per second and p50/p99 latency of the calls completed in
    /// each interval, from the difference of two `perfscope_core::snapshot()`s.
    pub fn with_traffic(mut self, function: impl Into<String>) -> MonitorBuilder {
        self.options.traffic.push(function.into());
        self
    }

    /// Whether to follow every measured function ([`MAX_FUNCTIONS`] at most, by calls) from
    /// interval to interval (default: yes): a step up in a function's p99 latency or self time
    /// is an anomaly event (section `function`), recommendations join the functions'
    /// figures with the monitor's, and the p50/p99 latency of the top [`LATENCY_FUNCTIONS`]
    /// by calls goes to the history ([`names::FUNCTION_LATENCY_P50_SECONDS`], `_P99_`; not
    /// to snapshots' figures). Costs one `perfscope_core::snapshot()` per sample.
    pub fn with_function_analysis(mut self, on: bool) -> MonitorBuilder {
        self.options.functions = on;
        self
    }

    /// Takes the first reading, registers the figure source and starts the sampler thread
    /// (`perfscope-monitor`). The first sample follows 200 ms later (or one interval, if
    /// shorter), then one every interval.
    pub fn start(self) -> Result<Monitor, MonitorError> {
        if self.interval < MIN_INTERVAL {
            return Err(MonitorError::IntervalTooShort(self.interval));
        }
        if self.ring == 0 {
            return Err(MonitorError::EmptyRing);
        }
        for threshold in &self.options.thresholds {
            threshold.check().map_err(MonitorError::InvalidThreshold)?;
        }
        let shared = Arc::new(Shared::new(self.ring));
        let worker = Worker::new(self.options, shared.clone())?;
        let (stop, stopped) = mpsc::channel();
        let (ready, started) = mpsc::channel();
        let interval = self.interval;
        let thread = std::thread::Builder::new()
            .name("perfscope-monitor".into())
            .spawn(move || monitor::run(worker, stopped, ready, interval))?;
        let _ = started.recv(); // the thread's id is known (or the thread is gone)
        let registration = figures::register(Arc::new(Source(shared.clone())));
        Ok(Monitor { shared, stop: Some(stop), thread: Some(thread), _registration: registration })
    }
}

/// A running system monitor; see the crate documentation. Dropping it stops its thread.
#[derive(Debug)]
pub struct Monitor {
    shared: Arc<Shared>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _registration: Registration,
}

impl Monitor {
    /// A builder with the defaults: one sample a second, [`DEFAULT_RING`] points per series,
    /// no thresholds.
    pub fn builder() -> MonitorBuilder {
        let options = Options { functions: true, ..Options::default() };
        MonitorBuilder { interval: DEFAULT_INTERVAL, ring: DEFAULT_RING, options }
    }

    /// The figures of the latest sample (what snapshots carry from the monitor).
    pub fn latest(&self) -> Vec<Figure> {
        lock(&self.shared.latest).to_vec()
    }

    /// The kept points of one series, oldest first: `(seconds since the Unix epoch, value)`.
    /// `labels` select the series (`&[]` for the one without labels, `&[("cpu", "0")]`);
    /// empty when there is no such series.
    pub fn history(&self, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
        lock(&self.shared.state).history.points(&series_key(name, labels.iter().copied()))
    }

    /// [`analysis::summary`] of a series' [`history`](Monitor::history).
    pub fn summary(&self, name: &str, labels: &[(&str, &str)]) -> Option<Summary> {
        analysis::summary(&self.history(name, labels))
    }

    /// [`analysis::trend`] of a series' [`history`](Monitor::history).
    pub fn trend(&self, name: &str, labels: &[(&str, &str)]) -> Option<Trend> {
        analysis::trend(&self.history(name, labels))
    }

    /// The latest alert events, fired and resolved, oldest first (at most [`MAX_EVENTS`]).
    pub fn alerts(&self) -> Vec<Alert> {
        lock(&self.shared.state).alerts.iter().cloned().collect()
    }

    /// The latest anomalies of gauge series, oldest first (at most [`MAX_EVENTS`]).
    pub fn anomalies(&self) -> Vec<Anomaly> {
        lock(&self.shared.state).anomalies.iter().cloned().collect()
    }

    /// The events snapshots carry from this monitor, oldest first (at most [`MAX_EVENTS`]):
    /// alerts fired and resolved, anomalies of figures and of functions (section `function`),
    /// recommendations.
    pub fn events(&self) -> Vec<perfscope_core::figures::Event> {
        lock(&self.shared.state).events.iter().cloned().collect()
    }

    /// Samples taken so far.
    pub fn samples(&self) -> u64 {
        *lock(&self.shared.samples)
    }

    /// Waits until at least `n` samples have been taken; `false` on timeout.
    pub fn wait_for_samples(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut samples = lock(&self.shared.samples);
        while *samples < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            samples = self
                .shared
                .sampled
                .wait_timeout(samples, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        true
    }

    /// CPU time the sampler thread has used (Linux; `None` elsewhere or once it ended).
    pub fn cpu_time(&self) -> Option<Duration> {
        monitor::thread_cpu_time(*self.shared.tid.get()?)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        drop(self.stop.take()); // the thread's channel disconnects: it returns at once
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs the sampler's work on the caller's thread, for the benchmark. Not a public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct BenchSampler(Worker, Option<sysinfo::Networks>);

impl BenchSampler {
    /// A sampler as [`MonitorBuilder::start`] makes it, without a thread.
    pub fn new(ring: usize, thresholds: Vec<Threshold>) -> Result<BenchSampler, MonitorError> {
        let builder = Monitor::builder().with_ring(ring).with_function_analysis(false);
        BenchSampler::from_builder(thresholds.into_iter().fold(builder, |b, t| b.with_threshold(t)))
    }

    /// A sampler as `builder` would start it, without a thread.
    pub fn from_builder(builder: MonitorBuilder) -> Result<BenchSampler, MonitorError> {
        let worker = Worker::new(builder.options, Arc::new(Shared::new(builder.ring.max(1))))?;
        Ok(BenchSampler(worker, sysinfo::Networks::new_with_refreshed_list().ok()))
    }

    /// One sample: refresh, figures, history, anomalies, thresholds.
    pub fn tick(&mut self) {
        self.0.tick();
    }

    /// The baseline: sysinfo's refreshes of the same things (networks included, which the
    /// monitor reads from `/proc/net/dev` on Linux), nothing else.
    pub fn refresh_only(&mut self) {
        self.0.sampler.refresh();
        if let Some(networks) = &mut self.1 {
            networks.refresh(true);
        }
    }
}
