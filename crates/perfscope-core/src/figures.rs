//! Figures that are not functions: gauges and counters from other sources (the process, the
//! system monitor, pools, caches, the query collector), carried by the same [`snapshot()`] as
//! the functions' figures, so every reader (report, views, exporters) takes them from there.
//!
//! A source implements [`FigureSource`] and is [`register`]ed once; each snapshot asks every
//! live source for its current figures. A source answers from what it already holds (atomics,
//! its last sample): reading must be cheap and must not block. Durations a source measures
//! inside a call (a pool wait, a query) are frames on the call stack instead, like spans.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use perfscope_core::figures::{self, Figure, FigureKind, FigureSource, FigureUnit};
//!
//! #[derive(Debug, Default)]
//! struct Queue(AtomicU64);
//!
//! impl FigureSource for Queue {
//!     fn read(&self, out: &mut Vec<Figure>) {
//!         let depth = self.0.load(Ordering::Relaxed) as f64;
//!         out.push(Figure::gauge("app", "app_queue_depth", "Items waiting.", FigureUnit::Count, depth));
//!     }
//! }
//!
//! let queue = Arc::new(Queue::default());
//! queue.0.store(3, Ordering::Relaxed);
//! let _registration = figures::register(queue.clone());
//! let snap = perfscope_core::snapshot();
//! let depth = snap.figures.iter().find(|f| f.name == "app_queue_depth").unwrap();
//! assert_eq!((depth.value, depth.kind), (3.0, FigureKind::Gauge));
//! ```
//!
//! [`snapshot()`]: crate::snapshot()

use std::borrow::Cow;
use std::sync::{Arc, Mutex, Weak};

use crate::histogram::Histogram;
pub use crate::history::{Event, EventKind, Series};
pub use crate::kinds::{FigureKind, FigureUnit};
use crate::names::{self, MetricType, Name};
use crate::sync::lock;

/// Name of the process's OS thread count ([`names::PROCESS_THREADS`]).
pub const PROCESS_THREADS: &str = names::PROCESS_THREADS.name;
/// Name of the process-wide heap in use ([`names::HEAP_IN_USE_BYTES`]; with `CountingAlloc`
/// only).
pub const HEAP_IN_USE_BYTES: &str = names::HEAP_IN_USE_BYTES.name;
/// Name of the bytes perfscope's live thread stores hold ([`names::HELD_BYTES`]: what
/// [`crate::held_bytes`] says, in every snapshot).
pub const HELD_BYTES: &str = names::HELD_BYTES.name;

/// One figure: a named value with labels, from one section (source).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The source's section, e.g. `process`, `host`, `pool`.
    pub section: &'static str,
    /// The exported name, following Prometheus conventions (`process_threads`,
    /// `perfscope_heap_in_use_bytes`; counters end in `_total`).
    pub name: Cow<'static, str>,
    /// One sentence for people (`# HELP`).
    pub help: &'static str,
    /// Unit.
    pub unit: FigureUnit,
    /// Gauge or counter.
    pub kind: FigureKind,
    /// Label pairs telling series of one name apart (e.g. `pool="db"`).
    pub labels: Vec<(Cow<'static, str>, String)>,
    /// The value.
    pub value: f64,
}

impl Figure {
    /// The catalog's figure `name` without labels: its section, name, help, unit and kind
    /// come from the catalog ([`crate::names`]), the value from the source.
    ///
    /// A histogram (the function latency) is no figure: asking for one gives a counter, and
    /// panics in debug builds.
    pub fn of(name: &Name, value: f64) -> Figure {
        debug_assert!(name.kind != MetricType::Histogram, "{} is a histogram", name.name);
        let kind = match name.kind {
            MetricType::Gauge => FigureKind::Gauge,
            MetricType::Counter | MetricType::Histogram => FigureKind::Counter,
        };
        Figure {
            section: name.section,
            name: Cow::Borrowed(name.name),
            help: name.help,
            unit: name.unit,
            kind,
            labels: Vec::new(),
            value,
        }
    }

    /// A gauge without labels.
    pub fn gauge(
        section: &'static str,
        name: impl Into<Cow<'static, str>>,
        help: &'static str,
        unit: FigureUnit,
        value: f64,
    ) -> Figure {
        Figure {
            section,
            name: name.into(),
            help,
            unit,
            kind: FigureKind::Gauge,
            labels: Vec::new(),
            value,
        }
    }

    /// A counter without labels.
    pub fn counter(
        section: &'static str,
        name: impl Into<Cow<'static, str>>,
        help: &'static str,
        unit: FigureUnit,
        value: f64,
    ) -> Figure {
        Figure { kind: FigureKind::Counter, ..Figure::gauge(section, name, help, unit, value) }
    }

    /// The same figure with one more label.
    pub fn with_label(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Figure {
        self.labels.push((name.into(), value.into()));
        self
    }
}

/// A distribution that is not a function's latency (a query fingerprint's statement time, the
/// sizes of a batcher's batches): exported as a histogram (`_bucket`, `_sum`, `_count`), so
/// Prometheus can aggregate it across instances with
/// `histogram_quantile(q, sum by (le, ...) (rate(..._bucket[5m])))`, which quantile gauges
/// cannot. Cumulative since the source started, like a counter.
///
/// Its [`unit`](Self::unit) says what the [`histogram`](Self::histogram)'s values are:
/// nanoseconds for [`FigureUnit::Seconds`] (a duration, exported in seconds), the values
/// themselves for [`FigureUnit::Count`] and [`FigureUnit::Bytes`] (exact below 128, within 1%
/// above). A ratio is no histogram.
///
/// ```
/// use perfscope_core::figures::{FigureUnit, HistogramFigure};
/// use perfscope_core::histogram::Histogram;
/// use perfscope_core::names;
///
/// let mut sizes = Histogram::new();
/// for size in [4, 4, 2] {
///     sizes.record(size);
/// }
/// let figure = HistogramFigure::of(&names::HTTP_CLIENT_BATCH_SIZE, sizes, 10.0)
///     .with_label("batcher", "quotes");
/// assert_eq!(figure.unit, FigureUnit::Count);
/// assert_eq!(figure.value_of(4), 4.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramFigure {
    /// The source's section.
    pub section: &'static str,
    /// The family's name (without `_bucket`, `_sum`, `_count`).
    pub name: Cow<'static, str>,
    /// One sentence for people (`# HELP`).
    pub help: &'static str,
    /// What is observed: [`FigureUnit::Seconds`] (the histogram in nanoseconds),
    /// [`FigureUnit::Count`] or [`FigureUnit::Bytes`] (the histogram in that unit).
    pub unit: FigureUnit,
    /// Label pairs telling series of one name apart (e.g. `fingerprint`).
    pub labels: Vec<(Cow<'static, str>, String)>,
    /// The observations ([`Histogram`]'s buckets: exact below 128, 1% relative precision
    /// above), in nanoseconds for a duration, in [`unit`](Self::unit) otherwise.
    pub histogram: Histogram,
    /// Their exact sum, in [`unit`](Self::unit) (seconds for a duration).
    pub sum: f64,
}

impl HistogramFigure {
    /// The catalog's histogram `name` without labels (its unit the catalog's), of
    /// `histogram` (nanoseconds for a duration, the values themselves for a count or bytes)
    /// and its exact sum in the unit (seconds for a duration). `name` must be a histogram,
    /// and not of a ratio (checked in debug builds).
    pub fn of(name: &Name, histogram: Histogram, sum: f64) -> HistogramFigure {
        debug_assert!(name.kind == MetricType::Histogram, "{} is no histogram", name.name);
        debug_assert!(name.unit != FigureUnit::Ratio, "{} is a histogram of ratios", name.name);
        HistogramFigure {
            section: name.section,
            name: Cow::Borrowed(name.name),
            help: name.help,
            unit: name.unit,
            labels: Vec::new(),
            histogram,
            sum,
        }
    }

    /// A value of the [`histogram`](Self::histogram) in the figure's unit: nanoseconds as
    /// seconds for a duration, the value itself otherwise.
    pub fn value_of(&self, value: u64) -> f64 {
        match self.unit {
            FigureUnit::Seconds => value as f64 / 1e9,
            FigureUnit::Bytes | FigureUnit::Count | FigureUnit::Ratio => value as f64,
        }
    }

    /// The same histogram with one more label.
    pub fn with_label(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> HistogramFigure {
        self.labels.push((name.into(), value.into()));
        self
    }
}

/// Something that has figures to report; see the module documentation.
pub trait FigureSource: Send + Sync + 'static {
    /// Appends the source's current figures. Called by every snapshot, on the snapshot's
    /// thread: answer from what is held already, without blocking.
    fn read(&self, out: &mut Vec<Figure>);

    /// Appends the source's recent events (bounded by the source), oldest first. Called by
    /// every snapshot, like [`read`](Self::read). None by default.
    fn events(&self, _out: &mut Vec<Event>) {}

    /// Appends the source's histograms ([`HistogramFigure`]: latencies, sizes). Called by every
    /// snapshot, like [`read`](Self::read). None by default.
    fn histograms(&self, _out: &mut Vec<HistogramFigure>) {}

    /// Appends the history the source keeps (bounded by the source). Called only by
    /// [`snapshot_with_history`](crate::snapshot_with_history). None by default.
    fn history(&self, _out: &mut Vec<Series>) {}
}

/// What one reading of every source gave.
#[derive(Debug, Default)]
pub(crate) struct Readings {
    pub figures: Vec<Figure>,
    pub histograms: Vec<HistogramFigure>,
    pub events: Vec<Event>,
    pub history: Vec<Series>,
}

/// Keeps a source registered; dropping it unregisters the source.
#[derive(Debug)]
#[must_use = "the source is unregistered when this is dropped"]
pub struct Registration {
    // Only its strong count matters: the registry holds a Weak to it.
    _alive: Arc<()>,
}

struct Entry {
    alive: Weak<()>,
    source: Arc<dyn FigureSource>,
}

static SOURCES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Registers `source`: every snapshot reads it until the [`Registration`] is dropped. With
/// [`crate::OFF`] nothing is registered (the source is dropped, no snapshot reads it).
pub fn register(source: Arc<dyn FigureSource>) -> Registration {
    let alive = Arc::new(());
    if crate::OFF {
        return Registration { _alive: alive };
    }
    let mut sources = lock(&SOURCES);
    sources.retain(|e| e.alive.strong_count() > 0);
    sources.push(Entry { alive: Arc::downgrade(&alive), source });
    Registration { _alive: alive }
}

/// Every figure now: perfscope's own process figures, then each registered source's. A
/// source that panics adds nothing (the snapshot goes on).
#[cfg(test)]
pub(crate) fn read_all(heap_in_use: Option<u64>) -> Vec<Figure> {
    read_sources(heap_in_use, None, false).figures
}

/// Figures, events and (with `history`) history of every source, after perfscope's own
/// (`heap_in_use`, and `held_bytes`: what the thread stores hold, read with their totals). A
/// source that panics adds nothing of that kind to this reading.
pub(crate) fn read_sources(
    heap_in_use: Option<u64>,
    held_bytes: Option<usize>,
    history: bool,
) -> Readings {
    let mut out = Readings::default();
    process_figures(heap_in_use, held_bytes, &mut out.figures);
    let sources: Vec<Arc<dyn FigureSource>> = {
        let sources = lock(&SOURCES);
        sources.iter().filter(|e| e.alive.strong_count() > 0).map(|e| e.source.clone()).collect()
    };
    for source in sources {
        guarded(&mut out.figures, |v| source.read(v));
        guarded(&mut out.events, |v| source.events(v));
        guarded(&mut out.histograms, |v| source.histograms(v));
        if history {
            guarded(&mut out.history, |v| source.history(v));
        }
    }
    merge_same_series(&mut out.figures);
    merge_same_histograms(&mut out.histograms);
    crate::caps::events(&mut out.events);
    out
}

/// Makes figures of one series (section, name, kind, unit and labels alike) one figure, in
/// the place of the first, its value the sum of theirs. Several sources give one series when
/// a capped label sends them to its overflow value (`cache="<other>"`: the caches past the
/// cap, summed) or when two live caches or pools share a name; a reader never sees a series
/// twice. A ratio cannot be summed: one given by several sources is left out (the counts it
/// comes from are summed, so a reader can work it out).
fn merge_same_series(figures: &mut Vec<Figure>) {
    use std::collections::HashMap;
    use std::collections::hash_map::Entry as Slot;
    let key = |f: &Figure| (f.section, f.name.clone(), f.labels.clone());
    let mut first: HashMap<_, usize> = HashMap::with_capacity(figures.len());
    let mut kept: Vec<Figure> = Vec::with_capacity(figures.len());
    let mut unsummable = Vec::new();
    for figure in figures.drain(..) {
        match first.entry(key(&figure)) {
            Slot::Occupied(at)
                if kept[*at.get()].kind == figure.kind && kept[*at.get()].unit == figure.unit =>
            {
                if figure.unit == FigureUnit::Ratio {
                    unsummable.push(*at.get());
                }
                kept[*at.get()].value += figure.value;
            }
            Slot::Occupied(_) => kept.push(figure),
            Slot::Vacant(slot) => {
                slot.insert(kept.len());
                kept.push(figure);
            }
        }
    }
    unsummable.sort_unstable();
    unsummable.dedup();
    for at in unsummable.into_iter().rev() {
        kept.remove(at);
    }
    *figures = kept;
}

/// Makes histograms of one series (section, name and labels alike) one, their counts and
/// sums added (the fingerprints past a cap, under `<other>`, from several collectors).
fn merge_same_histograms(histograms: &mut Vec<HistogramFigure>) {
    use std::collections::HashMap;
    use std::collections::hash_map::Entry as Slot;
    let mut first: HashMap<_, usize> = HashMap::with_capacity(histograms.len());
    let mut kept: Vec<HistogramFigure> = Vec::with_capacity(histograms.len());
    for h in histograms.drain(..) {
        match first.entry((h.section, h.name.clone(), h.labels.clone())) {
            Slot::Occupied(at) => {
                let into = &mut kept[*at.get()];
                into.histogram.merge(&h.histogram);
                into.sum += h.sum;
            }
            Slot::Vacant(slot) => {
                slot.insert(kept.len());
                kept.push(h);
            }
        }
    }
    *histograms = kept;
}

/// Runs `read` on `out`; if it panics, takes back what it added.
fn guarded<T>(out: &mut Vec<T>, read: impl FnOnce(&mut Vec<T>)) {
    let before = out.len();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&mut *out)));
    if result.is_err() {
        out.truncate(before);
    }
}

/// The proof of the path, and what every program wants beside its hotspots: the heap in use
/// (with `CountingAlloc`) and the process's thread count (Linux). A figure that cannot be
/// read is absent, never zero.
fn process_figures(heap_in_use: Option<u64>, held_bytes: Option<usize>, out: &mut Vec<Figure>) {
    if let Some(bytes) = heap_in_use {
        out.push(Figure::of(&names::HEAP_IN_USE_BYTES, bytes as f64));
    }
    if let Some(threads) = os_threads() {
        out.push(Figure::of(&names::PROCESS_THREADS, threads as f64));
    }
    if let Some(bytes) = held_bytes {
        out.push(Figure::of(&names::HELD_BYTES, bytes as f64));
    }
}

/// Threads of this process, from `/proc/self/stat` (field 20); `None` where there is none.
fn os_threads() -> Option<u64> {
    if cfg!(miri) {
        // Miri has no `/proc` of its own (it would read the interpreter's).
        return None;
    }
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(17)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "no /proc under Miri")]
    fn the_thread_count_follows_threads_starting_and_ending() {
        let before = os_threads().expect("Linux has /proc/self/stat");
        let (started, stop) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            s.spawn(|| {
                started.wait();
                stop.wait();
            });
            started.wait();
            assert!(os_threads().unwrap() > before.saturating_sub(1));
            assert!(os_threads().unwrap() >= 2);
            stop.wait();
        });
    }

    #[derive(Debug)]
    struct Fixed(f64);

    impl FigureSource for Fixed {
        fn read(&self, out: &mut Vec<Figure>) {
            out.push(Figure::gauge(
                "test",
                "test_fixed_value",
                "A test value.",
                FigureUnit::Count,
                self.0,
            ));
        }
    }

    #[derive(Debug)]
    struct Panicking;

    impl FigureSource for Panicking {
        fn read(&self, out: &mut Vec<Figure>) {
            out.push(Figure::gauge(
                "test",
                "test_half_written",
                "Never seen.",
                FigureUnit::Count,
                1.0,
            ));
            panic!("a broken source");
        }
    }

    #[derive(Debug)]
    struct Labelled(&'static str, FigureKind, f64);

    impl FigureSource for Labelled {
        fn read(&self, out: &mut Vec<Figure>) {
            let figure =
                Figure::gauge("test", "test_merged", "A test value.", FigureUnit::Count, self.2);
            out.push(Figure { kind: self.1, ..figure }.with_label("cache", self.0));
        }
    }

    #[test]
    fn figures_of_one_series_from_several_sources_are_summed_into_one() {
        let sources = [
            register(Arc::new(Labelled(names::OVERFLOW, FigureKind::Counter, 2.0))),
            register(Arc::new(Labelled("a", FigureKind::Counter, 5.0))),
            register(Arc::new(Labelled(names::OVERFLOW, FigureKind::Counter, 3.0))),
            register(Arc::new(Labelled(names::OVERFLOW, FigureKind::Gauge, 11.0))),
        ];
        let figures = read_all(None);
        let merged: Vec<_> = figures
            .iter()
            .filter(|f| f.name == "test_merged")
            .map(|f| (f.labels[0].1.as_str(), f.kind, f.value))
            .collect();
        assert_eq!(
            merged,
            [
                (names::OVERFLOW, FigureKind::Counter, 5.0),
                ("a", FigureKind::Counter, 5.0),
                (names::OVERFLOW, FigureKind::Gauge, 11.0),
            ]
        );
        drop(sources);
    }

    #[derive(Debug)]
    struct Ratio(&'static str, f64);

    impl FigureSource for Ratio {
        fn read(&self, out: &mut Vec<Figure>) {
            let figure =
                Figure::gauge("test", "test_ratio", "A test ratio.", FigureUnit::Ratio, self.1);
            out.push(figure.with_label("cache", self.0));
        }
    }

    #[test]
    fn a_ratio_given_by_several_sources_is_left_out_not_summed() {
        let sources = [
            register(Arc::new(Ratio("shared", 0.9))),
            register(Arc::new(Ratio("alone", 0.5))),
            register(Arc::new(Ratio("shared", 0.8))),
            register(Arc::new(Ratio("shared", 0.7))),
        ];
        let ratios: Vec<_> = read_all(None)
            .into_iter()
            .filter(|f| f.name == "test_ratio")
            .map(|f| (f.labels[0].1.clone(), f.value))
            .collect();
        assert_eq!(ratios, [("alone".to_string(), 0.5)], "never 2.4 for a ratio");
        drop(sources);
    }

    #[test]
    fn sources_are_read_while_registered_and_a_panicking_one_adds_nothing() {
        let count =
            |figures: &[Figure], name: &str| figures.iter().filter(|f| f.name == name).count();
        let registration = register(Arc::new(Fixed(7.0)));
        let broken = register(Arc::new(Panicking));
        let figures = read_all(None);
        assert_eq!(count(&figures, "test_fixed_value"), 1);
        assert_eq!(count(&figures, "test_half_written"), 0);
        drop((registration, broken));
        assert_eq!(count(&read_all(None), "test_fixed_value"), 0);
    }

    #[derive(Debug)]
    struct Watcher;

    impl FigureSource for Watcher {
        fn read(&self, _out: &mut Vec<Figure>) {}

        fn events(&self, out: &mut Vec<Event>) {
            out.push(Event {
                section: "test",
                kind: EventKind::AlertFired,
                at_unix_ms: 1,
                subject: "test_watched".into(),
                labels: Vec::new(),
                message: "above 1 for 1 s".into(),
                value: Some(2.0),
            });
        }

        fn history(&self, out: &mut Vec<Series>) {
            let points = vec![(1, 1.0), (2, 2.0)];
            let (name, unit) = ("test_watched".into(), FigureUnit::Count);
            out.push(Series { section: "test", name, labels: Vec::new(), unit, points });
        }
    }

    #[test]
    fn events_ride_on_every_snapshot_and_history_only_when_asked() {
        let _registration = register(Arc::new(Watcher));
        let ours = |s: &crate::Snapshot| {
            let events = s.events.iter().filter(|e| e.subject == "test_watched").count();
            let series = s.history.iter().filter(|h| h.name == "test_watched").count();
            (events, series)
        };
        assert_eq!(ours(&crate::snapshot()), (1, 0));
        let full = crate::snapshot_with_history();
        assert_eq!(ours(&full), (1, 1));
        let series = full.history.iter().find(|h| h.name == "test_watched").unwrap();
        assert_eq!(series.points, [(1, 1.0), (2, 2.0)]);
    }

    #[test]
    fn heap_in_use_is_absent_without_the_allocator_not_zero() {
        let heap = |figures: Vec<Figure>| {
            figures.into_iter().find(|f| f.name == HEAP_IN_USE_BYTES).map(|f| f.value)
        };
        assert_eq!(heap(read_all(None)), None);
        assert_eq!(heap(read_all(Some(4096))), Some(4096.0));
    }
}
