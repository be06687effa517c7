//! [`FunctionCollector`]: perfscope's families as a `prometheus` crate [`Collector`], read from
//! a fresh snapshot at every scrape. Counters are floats there, so `*_seconds_total` carry
//! every nanosecond; the histogram's `_sum` is the exact sum of latencies.

use std::cell::Cell;
use std::sync::{Arc, Mutex};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, LabelPair, MetricFamily, MetricType};

use perfscope_core::figures::{Figure, FigureKind};
use perfscope_core::sync::lock;

use crate::families::{self, FAMILIES, FUNCTION_LABEL, FamilyKind, MODULE_LABEL};
use crate::source::Source;
use crate::tracker::{Change, Counters, Sink, Tracker};

/// What has been exported for one series, cumulative since the collector started.
#[derive(Debug, Clone)]
pub(super) struct Exported {
    pub(super) labels: [LabelPair; 2],
    /// The labels in the text format, escaped, without the closing `}`: written once, used by
    /// every sample of every scrape.
    pub(super) text_labels: String,
    pub(super) counters: Counters,
    /// Samples per latency bucket (not cumulative), the last one `+Inf`.
    pub(super) buckets: Vec<u64>,
}

impl Exported {
    pub(super) fn new(function: &str, module: &str, buckets: usize) -> Exported {
        let mut text_labels = String::new();
        for (separator, name, value) in
            [('{', FUNCTION_LABEL, function), (',', MODULE_LABEL, module)]
        {
            text_labels.push(separator);
            text_labels.push_str(name);
            text_labels.push_str("=\"");
            super::text::push_escaped(&mut text_labels, value, true);
            text_labels.push('"');
        }
        Exported {
            labels: [label(FUNCTION_LABEL, function), label(MODULE_LABEL, module)],
            text_labels,
            counters: Counters::default(),
            buckets: vec![0; buckets],
        }
    }
}

/// Every series so far, by the tracker's dense index.
#[derive(Debug)]
pub(super) struct Series {
    pub(super) bounds: Vec<f64>,
    /// `bounds` as the text format writes them (`le="..."`).
    pub(super) bounds_text: Vec<String>,
    pub(super) series: Vec<Exported>,
    /// `series`' indices by label values, the order `Registry::gather` sorts samples in: given
    /// sorted, its sort only checks them (one pass) instead of sorting a family per scrape.
    /// Recomputed when a series appears.
    pub(super) sorted: Vec<usize>,
}

impl Series {
    pub(super) fn new(bounds: &[f64]) -> Series {
        let bounds_text = bounds.iter().map(|b| b.to_string()).collect();
        Series { bounds: bounds.to_vec(), bounds_text, series: Vec::new(), sorted: Vec::new() }
    }

    pub(super) fn sorted(&mut self) -> &[usize] {
        if self.sorted.len() != self.series.len() {
            let series = &self.series;
            let values = |i: usize| series[i].labels.each_ref().map(|l| l.value());
            self.sorted = (0..series.len()).collect();
            self.sorted.sort_by(|a, b| values(*a).cmp(&values(*b)));
        }
        &self.sorted
    }
}

impl Sink for Series {
    fn apply(&mut self, change: &Change<'_>) {
        if change.index >= self.series.len() {
            let labels = change.labels;
            let buckets = self.bounds.len() + 1;
            self.series.push(Exported::new(&labels.function, &labels.module, buckets));
        }
        let Some(series) = self.series.get_mut(change.index) else { return };
        series.counters = change.after;
        for &(ticks, count) in change.latency {
            let seconds = ticks as f64 * change.seconds_per_tick;
            let bucket = self.bounds.partition_point(|bound| *bound < seconds);
            series.buckets[bucket] = series.buckets[bucket].saturating_add(count);
        }
    }
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut pair = LabelPair::default();
    pair.set_name(name.into());
    pair.set_value(value.into());
    pair
}

/// perfscope's function families; register it in a `prometheus::Registry`.
#[derive(Debug)]
pub(crate) struct FunctionCollector {
    descs: Vec<Desc>,
    state: Arc<Mutex<(Tracker, Series)>>,
}

/// The exported totals, shared by the collector and the exporter's own rendering.
pub(super) type State = Arc<Mutex<(Tracker, Series)>>;

thread_local! {
    /// The state (its address) of the collector whose exporter is gathering for its own
    /// encoders (0: none): that collector then returns each function family with one
    /// placeholder sample, and the encoders write the family from the series themselves (no
    /// `Metric` per series and family built and freed per scrape). Any other collector —
    /// another exporter's, gathered meanwhile by a user's collector — returns full families.
    static PLACEHOLDERS: Cell<usize> = const { Cell::new(0) };
}

fn address(state: &State) -> usize {
    Arc::as_ptr(state) as usize
}

/// Gathers `registry` with placeholders for the function families of the collector holding
/// `state` (see [`PLACEHOLDERS`]).
pub(super) fn gather_with_placeholders(
    registry: &prometheus::Registry,
    state: &State,
) -> Vec<MetricFamily> {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            PLACEHOLDERS.set(self.0);
        }
    }
    let _restore = Restore(PLACEHOLDERS.replace(address(state)));
    registry.gather()
}

/// Whether `families` hold every function family as the placeholder the collector made:
/// a registry with a prefix or labels of its own changes them (then the exporter gathers the
/// full families instead).
pub(super) fn placeholders_intact(families: &[MetricFamily]) -> bool {
    FAMILIES.iter().all(|family| {
        families.iter().any(|mf| {
            mf.name() == family.name
                && mf.get_metric().len() == 1
                && mf.get_metric()[0].get_label().is_empty()
        })
    })
}

/// The function family `mf` is, if it is one of the placeholders.
pub(super) fn placeholder_family(mf: &MetricFamily) -> Option<&'static families::Family> {
    let family = FAMILIES.iter().find(|f| f.name == mf.name())?;
    let one = mf.get_metric().len() == 1 && mf.get_metric()[0].get_label().is_empty();
    one.then_some(family)
}

impl FunctionCollector {
    /// A collector with `max_functions` own series and latency buckets `bounds` (seconds,
    /// increasing; `+Inf` is added).
    pub fn new(max_functions: usize, bounds: &[f64]) -> prometheus::Result<Self> {
        let labels = vec![FUNCTION_LABEL.to_string(), MODULE_LABEL.to_string()];
        let descs = FAMILIES
            .iter()
            .map(|f| Desc::new(f.name.into(), f.help.into(), labels.clone(), Default::default()))
            .collect::<prometheus::Result<_>>()?;
        let series = Series::new(bounds);
        let state = Arc::new(Mutex::new((Tracker::new(max_functions), series)));
        Ok(FunctionCollector { descs, state })
    }

    /// The exported totals, for the exporter's own rendering.
    pub fn state(&self) -> State {
        self.state.clone()
    }

    /// Reads a snapshot into the exported totals and returns the families.
    fn families(&self) -> Vec<MetricFamily> {
        let source = Source::read();
        let mut state = lock(&self.state);
        let (tracker, series) = &mut *state;
        tracker.update(source.readings(), source.resets(), source.seconds_per_tick(), series);
        series.sorted();
        let series = &*series;
        let placeholders = PLACEHOLDERS.get() == address(&self.state);
        let functions = FAMILIES.iter().map(|family| {
            let mut mf = MetricFamily::default();
            mf.set_name(family.name.into());
            mf.set_help(family.help.into());
            mf.set_field_type(match family.kind {
                FamilyKind::Counter => MetricType::COUNTER,
                FamilyKind::Histogram => MetricType::HISTOGRAM,
            });
            mf.set_metric(if placeholders {
                // Not pruned by `gather` (an empty family would be): the encoders write
                // nothing for a family without series.
                vec![placeholder(family.kind)]
            } else {
                metrics(series, sample_of(family.name))
            });
            mf
        });
        let histograms = histogram_families(source.histograms(), &series.bounds);
        functions.chain(figure_families(source.figures())).chain(histograms).collect()
    }
}

/// The snapshot's histograms of other sources (a query fingerprint's statement time, a
/// batcher's batch sizes), one family per name: a duration on the same bucket bounds as the
/// functions' latency, a count or bytes on [`families::COUNT_BUCKETS`] or
/// [`families::BYTES_BUCKETS`]. Each of perfscope's buckets (one value each below 128, 1%
/// wide above) counts in the Prometheus bucket of its lowest value; `_sum` is exact.
fn histogram_families(
    histograms: &[perfscope_core::figures::HistogramFigure],
    latency_bounds: &[f64],
) -> Vec<MetricFamily> {
    let mut out: Vec<MetricFamily> = Vec::new();
    for figure in histograms {
        let index = match out.iter().position(|mf| mf.name() == figure.name) {
            Some(index) => index,
            None => {
                let mut mf = MetricFamily::default();
                mf.set_name(figure.name.to_string());
                mf.set_help(figure.help.into());
                mf.set_field_type(MetricType::HISTOGRAM);
                out.push(mf);
                out.len() - 1
            }
        };
        let bounds = families::histogram_bounds(figure.unit).unwrap_or(latency_bounds);
        let mut counts = vec![0u64; bounds.len() + 1];
        for (low, _, count) in figure.histogram.buckets() {
            let value = figure.value_of(low);
            let bucket = bounds.partition_point(|bound| *bound < value);
            counts[bucket] = counts[bucket].saturating_add(count);
        }
        let labels = figure.labels.iter().map(|(k, v)| label(k, v)).collect();
        let mut m = proto::Metric::from_label(labels);
        m.set_histogram(histogram(bounds, &counts, figure.sum));
        out[index].mut_metric().push(m);
    }
    out
}

/// A Prometheus histogram of per-bucket (not cumulative) `counts`, the last one `+Inf`, and
/// the exact `sum` of the observations.
fn histogram(bounds: &[f64], counts: &[u64], sum: f64) -> proto::Histogram {
    let mut h = proto::Histogram::default();
    let mut cumulative = 0u64;
    let buckets = bounds.iter().zip(counts).map(|(bound, count)| {
        cumulative = cumulative.saturating_add(*count);
        let mut b = proto::Bucket::default();
        b.set_upper_bound(*bound);
        b.set_cumulative_count(cumulative);
        b
    });
    // `+Inf` is implied by the count: the text encoder writes it, and the protobuf
    // format leaves it out, as Prometheus' own Go client does.
    h.set_bucket(buckets.collect());
    h.set_sample_count(counts.iter().fold(0u64, |a, b| a.saturating_add(*b)));
    h.set_sample_sum(sum);
    h
}

/// The snapshot's other figures, one family per name (in first-seen order).
fn figure_families(figures: &[Figure]) -> Vec<MetricFamily> {
    let mut out: Vec<MetricFamily> = Vec::new();
    for figure in figures {
        let index = match out.iter().position(|mf| mf.name() == figure.name) {
            Some(index) => index,
            None => {
                let mut mf = MetricFamily::default();
                mf.set_name(figure.name.to_string());
                mf.set_help(figure.help.into());
                mf.set_field_type(match figure.kind {
                    FigureKind::Gauge => MetricType::GAUGE,
                    FigureKind::Counter => MetricType::COUNTER,
                });
                out.push(mf);
                out.len() - 1
            }
        };
        let labels = figure.labels.iter().map(|(k, v)| label(k, v)).collect();
        let mut m = proto::Metric::from_label(labels);
        match figure.kind {
            FigureKind::Gauge => {
                let mut gauge = proto::Gauge::default();
                gauge.set_value(figure.value);
                m.set_gauge(gauge);
            }
            FigureKind::Counter => {
                let mut counter = proto::Counter::default();
                counter.set_value(figure.value);
                m.set_counter(counter);
            }
        }
        out[index].mut_metric().push(m);
    }
    out
}

/// A function family's samples, in the registry's order (by label values).
pub(super) fn metrics(series: &Series, sample: Sample) -> Vec<proto::Metric> {
    let sorted = series.sorted.iter().map(|&i| &series.series[i]);
    sorted.map(|s| metric(sample, s, &series.bounds)).collect()
}

/// A function family's stand-in sample while the exporter gathers for its own encoders.
fn placeholder(kind: FamilyKind) -> proto::Metric {
    let mut m = proto::Metric::default();
    match kind {
        FamilyKind::Counter => m.set_counter(proto::Counter::default()),
        FamilyKind::Histogram => m.set_histogram(proto::Histogram::default()),
    }
    m
}

/// What a family's samples hold, chosen once per family rather than per sample.
#[derive(Clone, Copy)]
pub(super) enum Sample {
    /// A counter, and its value in a series' totals.
    Counter(fn(&Counters) -> f64),
    /// The latency histogram.
    Histogram,
}

/// The samples of function family `name`.
pub(super) fn sample_of(name: &str) -> Sample {
    match name {
        families::CALLS => Sample::Counter(|c| c.calls as f64),
        families::SELF_SECONDS => Sample::Counter(|c| seconds(c.self_ns)),
        families::BUSY_SECONDS => Sample::Counter(|c| seconds(c.busy_ns)),
        families::ALLOC_BYTES => Sample::Counter(|c| c.alloc_bytes as f64),
        families::ALLOCATIONS => Sample::Counter(|c| c.allocations as f64),
        families::PANICS => Sample::Counter(|c| c.panics as f64),
        _ => Sample::Histogram,
    }
}

pub(super) fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// One series' sample.
fn metric(sample: Sample, s: &Exported, bounds: &[f64]) -> proto::Metric {
    let mut m = proto::Metric::from_label(s.labels.to_vec());
    match sample {
        Sample::Counter(value) => {
            let mut counter = proto::Counter::default();
            counter.set_value(value(&s.counters));
            m.set_counter(counter);
        }
        Sample::Histogram => {
            m.set_histogram(histogram(bounds, &s.buckets, seconds(s.counters.total_ns)));
        }
    }
    m
}

impl Collector for FunctionCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // A scrape must never take the host down: a bug here yields an empty page section.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.families()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use perfscope_core::figures::HistogramFigure;
    use perfscope_core::histogram::Histogram;
    use perfscope_core::names;
    use proptest::prelude::*;

    use super::*;

    /// The cumulative count of each `le` bound (the last one `+Inf`), and the sum.
    fn exported(figure: HistogramFigure, latency_bounds: &[f64]) -> (Vec<(f64, u64)>, u64, f64) {
        let families = histogram_families(&[figure], latency_bounds);
        let h = families[0].get_metric()[0].get_histogram();
        let buckets = h.get_bucket().iter().map(|b| (b.upper_bound(), b.cumulative_count()));
        (buckets.collect(), h.sample_count(), h.sample_sum())
    }

    proptest! {
        /// Sizes below 128 have a bucket each in perfscope's histogram, so every `le` of a
        /// count histogram counts exactly the sizes at or below it, whatever the latency
        /// bounds are.
        #[test]
        fn a_count_histogram_is_exact_on_its_power_of_two_bounds(
            sizes in proptest::collection::vec(0_u64..128, 0..200)
        ) {
            let mut histogram = Histogram::new();
            sizes.iter().for_each(|s| histogram.record(*s));
            let sum = sizes.iter().sum::<u64>() as f64;
            let figure = HistogramFigure::of(&names::HTTP_CLIENT_BATCH_SIZE, histogram, sum);
            let (buckets, count, exported_sum) = exported(figure, &[0.5]);
            let bounds: Vec<f64> = buckets.iter().map(|(le, _)| *le).collect();
            prop_assert_eq!(bounds, families::COUNT_BUCKETS.to_vec());
            for (le, cumulative) in buckets {
                let at_or_below = sizes.iter().filter(|s| **s as f64 <= le).count() as u64;
                prop_assert_eq!(cumulative, at_or_below, "le={}", le);
            }
            prop_assert_eq!((count, exported_sum), (sizes.len() as u64, sum));
        }
    }

    #[test]
    fn a_duration_histogram_keeps_the_latency_bounds_and_counts_seconds() {
        let mut histogram = Histogram::new();
        for ns in [2_000_000, 2_000_000, 40_000_000] {
            histogram.record(ns);
        }
        let figure = HistogramFigure::of(&names::QUERY_DURATION_SECONDS, histogram, 0.044);
        let (buckets, count, sum) = exported(figure, &[0.001, 0.01, 0.1]);
        assert_eq!(buckets, [(0.001, 0), (0.01, 2), (0.1, 3)]);
        assert_eq!((count, sum), (3, 0.044));
    }
}
