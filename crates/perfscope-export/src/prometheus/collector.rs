//! [`FunctionCollector`]: perfscope's families as a `prometheus` crate [`Collector`], read from
//! a fresh snapshot at every scrape. Counters are floats there, so `*_seconds_total` carry
//! every nanosecond; the histogram's `_sum` is the exact sum of latencies.

use std::sync::Mutex;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, LabelPair, MetricFamily, MetricType};

use perfscope_core::figures::{Figure, FigureKind};
use perfscope_core::sync::lock;

use crate::families::{self, FAMILIES, FUNCTION_LABEL, FamilyKind, MODULE_LABEL};
use crate::source::Source;
use crate::tracker::{Change, Counters, Sink, Tracker};

/// What has been exported for one series, cumulative since the collector started.
#[derive(Debug, Clone)]
struct Exported {
    labels: [LabelPair; 2],
    counters: Counters,
    /// Samples per latency bucket (not cumulative), the last one `+Inf`.
    buckets: Vec<u64>,
}

/// Every series so far, by the tracker's dense index.
#[derive(Debug)]
struct Series {
    bounds: Vec<f64>,
    series: Vec<Exported>,
}

impl Sink for Series {
    fn apply(&mut self, change: &Change<'_>) {
        if change.index >= self.series.len() {
            let labels = [
                label(FUNCTION_LABEL, &change.labels.function),
                label(MODULE_LABEL, &change.labels.module),
            ];
            let buckets = vec![0; self.bounds.len() + 1];
            self.series.push(Exported { labels, counters: Counters::default(), buckets });
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
    state: Mutex<(Tracker, Series)>,
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
        let series = Series { bounds: bounds.to_vec(), series: Vec::new() };
        Ok(FunctionCollector { descs, state: Mutex::new((Tracker::new(max_functions), series)) })
    }

    /// Reads a snapshot into the exported totals and returns the families.
    fn families(&self) -> Vec<MetricFamily> {
        let source = Source::read();
        let mut state = lock(&self.state);
        let (tracker, series) = &mut *state;
        tracker.update(source.readings(), source.resets(), source.seconds_per_tick(), series);
        let functions = FAMILIES.iter().map(|family| {
            let mut mf = MetricFamily::default();
            mf.set_name(family.name.into());
            mf.set_help(family.help.into());
            mf.set_field_type(match family.kind {
                FamilyKind::Counter => MetricType::COUNTER,
                FamilyKind::Histogram => MetricType::HISTOGRAM,
            });
            let metrics = series.series.iter().map(|s| metric(family.name, s, &series.bounds));
            mf.set_metric(metrics.collect());
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

/// One series' sample of family `name`.
fn metric(name: &str, s: &Exported, bounds: &[f64]) -> proto::Metric {
    let mut m = proto::Metric::from_label(s.labels.to_vec());
    let c = &s.counters;
    let counter = |value: f64| {
        let mut counter = proto::Counter::default();
        counter.set_value(value);
        counter
    };
    let seconds = |ns: u64| ns as f64 / 1e9;
    match name {
        families::CALLS => m.set_counter(counter(c.calls as f64)),
        families::SELF_SECONDS => m.set_counter(counter(seconds(c.self_ns))),
        families::BUSY_SECONDS => m.set_counter(counter(seconds(c.busy_ns))),
        families::ALLOC_BYTES => m.set_counter(counter(c.alloc_bytes as f64)),
        families::ALLOCATIONS => m.set_counter(counter(c.allocations as f64)),
        families::PANICS => m.set_counter(counter(c.panics as f64)),
        _ => m.set_histogram(histogram(bounds, &s.buckets, seconds(c.total_ns))),
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
