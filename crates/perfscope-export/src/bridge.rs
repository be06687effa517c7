//! [`Bridge`]: syncs perfscope's figures into a `metrics` recorder, either the global one
//! (whatever exporter the program installed) or one given to [`BridgeBuilder::with_recorder`].
//!
//! perfscope keeps its figures in its own store, so nothing reaches `metrics` until a sync
//! copies what is new since the previous one: counters by `increment`, latency samples by
//! `Histogram::record_many` per histogram bucket.
//!
//! Precision: `metrics` counters are integers, so over a bridge `*_seconds_total` advance by
//! whole seconds (the remainder carries to the next sync: no time is lost, but a
//! `rate(...[w])` is only exact to ±1/w of a core, and a function using less than that reads
//! 0 or a jump). The histogram's `_sum` is exact to the sample values (perfscope's bucket
//! midpoints, within 0.8%). [`crate::prometheus()`] and the OTLP exporter export float
//! seconds and have neither limit.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder};
use perfscope_core::sync::lock;

use crate::ExportError;
use crate::background::SyncThread;
use crate::families::{self, FUNCTION_LABEL, MODULE_LABEL};
use crate::options::{Common, common_setters};
use crate::source::Source;
use crate::tracker::{Change, Labels, Sink, Tracker};

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// A recorder given to [`BridgeBuilder::with_recorder`].
type SharedRecorder = Arc<dyn Recorder + Send + Sync>;

/// Starts configuring a [`Bridge`] into a `metrics` recorder.
///
/// ```
/// # fn main() -> Result<(), perfscope_export::ExportError> {
/// // After installing any `metrics` recorder (statsd, Prometheus, ...):
/// let bridge = perfscope_export::bridge().with_max_functions(200).install()?;
/// // ... perfscope's figures reach the recorder every second; or right now:
/// bridge.sync_now();
/// # bridge.stop();
/// # Ok(())
/// # }
/// ```
pub fn bridge() -> BridgeBuilder {
    BridgeBuilder { common: Common::default(), recorder: None }
}

/// Configures a [`Bridge`]; made by [`bridge()`].
#[must_use = "a builder does nothing until .build() or .install()"]
pub struct BridgeBuilder {
    common: Common,
    recorder: Option<SharedRecorder>,
}

impl fmt::Debug for BridgeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BridgeBuilder")
            .field("max_functions", &self.common.max_functions)
            .field("sync_every", &self.common.sync_every)
            .field("recorder", &self.recorder.as_ref().map_or("global", |_| "given"))
            .finish()
    }
}

impl BridgeBuilder {
    common_setters!(sync);

    /// Syncs into `recorder` rather than the global one (e.g. a test's
    /// `metrics_util::debugging::DebuggingRecorder`).
    pub fn with_recorder(mut self, recorder: impl Recorder + Send + Sync + 'static) -> Self {
        self.recorder = Some(Arc::new(recorder));
        self
    }

    /// A bridge that syncs only when [`Bridge::sync_now`] is called (e.g. right before your
    /// own `/metrics` handler renders).
    pub fn build(self) -> Bridge {
        Bridge {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    tracker: Tracker::new(self.common.max_functions),
                    handles: Vec::new(),
                    described: false,
                }),
                recorder: self.recorder,
                sync_every: self.common.sync_every,
                thread: Mutex::new(None),
            }),
        }
    }

    /// A bridge that also syncs on a background thread, every [`BridgeBuilder::with_sync_every`].
    ///
    /// # Errors
    /// [`ExportError::Thread`] if the thread cannot be started.
    pub fn install(self) -> Result<Bridge, ExportError> {
        let bridge = self.build();
        bridge.start()?;
        Ok(bridge)
    }
}

/// Copies perfscope's figures into a `metrics` recorder: the global one, or the one given to
/// [`BridgeBuilder::with_recorder`]. Each sync hands the recorder what is new since the previous
/// one: counters by `increment`, latency samples by `Histogram::record_many`. Make with
/// [`bridge()`].
///
/// Cloning gives another handle to the same bridge. The background thread (if any) runs until
/// [`Bridge::stop`], whether or not handles remain.
#[derive(Clone)]
pub struct Bridge {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    recorder: Option<SharedRecorder>,
    sync_every: Duration,
    thread: Mutex<Option<SyncThread>>,
}

struct State {
    tracker: Tracker,
    handles: Vec<Option<Handles>>,
    described: bool,
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bridge")
            .field("recorder", &self.shared.recorder.as_ref().map_or("global", |_| "given"))
            .field("sync_every", &self.shared.sync_every)
            .field("running", &lock(&self.shared.thread).is_some())
            .finish()
    }
}

impl Bridge {
    /// Copies what perfscope measured since the previous sync into the recorder.
    pub fn sync_now(&self) {
        let mut state = lock(&self.shared.state);
        // Read under the lock: two syncs applying readings out of order would look like a reset.
        let source = Source::read();
        let State { tracker, handles, described } = &mut *state;
        self.in_recorder(|recorder| {
            if !*described {
                families::describe(recorder);
                *described = true;
            }
            let mut sink = MetricsSink { recorder, handles };
            tracker.update(
                source.readings(),
                source.resets(),
                source.seconds_per_tick(),
                &mut sink,
            );
        });
    }

    /// Runs `f` with the bridge's recorder as the `metrics` macros' recorder: how code outside
    /// perfscope adds its own families next to perfscope's when the recorder is not global.
    /// With the global recorder this just calls `f`.
    pub fn with_local_recorder<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.shared.recorder {
            Some(recorder) => metrics::with_local_recorder(&**recorder, f),
            None => f(),
        }
    }

    fn in_recorder<T>(&self, f: impl FnOnce(&dyn Recorder) -> T) -> T {
        match &self.shared.recorder {
            Some(recorder) => f(&**recorder),
            None => metrics::with_recorder(f),
        }
    }

    /// Starts the background sync thread (no-op if it runs already).
    pub(crate) fn start(&self) -> Result<(), ExportError> {
        let mut thread = lock(&self.shared.thread);
        if thread.is_none() {
            let bridge = self.clone();
            *thread = Some(SyncThread::spawn(
                "perfscope-export-sync",
                self.shared.sync_every,
                move || bridge.sync_now(),
            )?);
        }
        Ok(())
    }

    /// Stops the background sync thread, if any; [`Bridge::sync_now`] still works.
    pub fn stop(&self) {
        let thread = lock(&self.shared.thread).take();
        if let Some(thread) = thread {
            thread.stop();
        }
    }
}

/// The recorder's handles for one series.
struct Handles {
    calls: Counter,
    panics: Counter,
    self_seconds: Counter,
    busy_seconds: Counter,
    alloc_bytes: Counter,
    allocations: Counter,
    duration: Histogram,
}

impl Handles {
    fn register(recorder: &dyn Recorder, labels: &Labels) -> Handles {
        let key = |name: &'static str| {
            Key::from_parts(
                name,
                vec![
                    Label::new(FUNCTION_LABEL, labels.function.clone()),
                    Label::new(MODULE_LABEL, labels.module.clone()),
                ],
            )
        };
        let counter = |name| recorder.register_counter(&key(name), &METADATA);
        Handles {
            calls: counter(families::CALLS),
            panics: counter(families::PANICS),
            self_seconds: counter(families::SELF_SECONDS),
            busy_seconds: counter(families::BUSY_SECONDS),
            alloc_bytes: counter(families::ALLOC_BYTES),
            allocations: counter(families::ALLOCATIONS),
            duration: recorder.register_histogram(&key(families::DURATION), &METADATA),
        }
    }
}

/// Hands the tracker's increments to `metrics` handles.
struct MetricsSink<'a> {
    recorder: &'a dyn Recorder,
    handles: &'a mut Vec<Option<Handles>>,
}

/// Whole seconds in a nanosecond total: `metrics` counters are integers, so a time counter
/// advances by the whole seconds crossed, and the remainder carries to the next sync.
fn whole_seconds(ns: u64) -> u64 {
    ns / 1_000_000_000
}

impl Sink for MetricsSink<'_> {
    fn apply(&mut self, change: &Change<'_>) {
        if self.handles.len() <= change.index {
            self.handles.resize_with(change.index + 1, || None);
        }
        let handles = self.handles[change.index]
            .get_or_insert_with(|| Handles::register(self.recorder, change.labels));
        let (a, b) = (&change.after, &change.before);
        let add = |counter: &Counter, delta: u64| {
            if delta > 0 {
                counter.increment(delta);
            }
        };
        add(&handles.calls, a.calls.saturating_sub(b.calls));
        add(&handles.panics, a.panics.saturating_sub(b.panics));
        add(
            &handles.self_seconds,
            whole_seconds(a.self_ns).saturating_sub(whole_seconds(b.self_ns)),
        );
        add(
            &handles.busy_seconds,
            whole_seconds(a.busy_ns).saturating_sub(whole_seconds(b.busy_ns)),
        );
        add(&handles.alloc_bytes, a.alloc_bytes.saturating_sub(b.alloc_bytes));
        add(&handles.allocations, a.allocations.saturating_sub(b.allocations));
        for &(ticks, count) in change.latency {
            let seconds = ticks as f64 * change.seconds_per_tick;
            handles.duration.record_many(seconds, usize::try_from(count).unwrap_or(usize::MAX));
        }
    }
}
