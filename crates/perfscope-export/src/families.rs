//! The metric families perfscope exports: names, help texts, units, labels and the latency
//! histogram's buckets. One definition shared by the Prometheus and OTLP exporters and the
//! Grafana dashboard.

use metrics::{KeyName, Recorder, SharedString, Unit};
use perfscope_core::figures::FigureUnit;
use perfscope_core::names::{self, MetricType, Name};

/// Completed calls (returned or unwound; async: completed).
pub const CALLS: &str = names::FUNCTION_CALLS_TOTAL.name;
/// Call latency histogram, in seconds.
pub const DURATION: &str = names::FUNCTION_DURATION_SECONDS.name;
/// Time running in the function itself, excluding measured callees.
pub const SELF_SECONDS: &str = names::FUNCTION_SELF_SECONDS_TOTAL.name;
/// Time running on a thread in the function, callees included (async: the sum of polls).
pub const BUSY_SECONDS: &str = names::FUNCTION_BUSY_SECONDS_TOTAL.name;
/// Bytes allocated by the function itself.
pub const ALLOC_BYTES: &str = names::FUNCTION_ALLOC_BYTES_TOTAL.name;
/// Allocations made by the function itself.
pub const ALLOCATIONS: &str = names::FUNCTION_ALLOCATIONS_TOTAL.name;
/// Calls that ended by unwinding.
pub const PANICS: &str = names::FUNCTION_PANICS_TOTAL.name;

/// OS threads of the process (a gauge every snapshot carries, on Linux).
pub const PROCESS_THREADS: &str = names::PROCESS_THREADS.name;
/// Heap in use, process-wide (a gauge, with perfscope's counting allocator).
pub const HEAP_IN_USE: &str = names::HEAP_IN_USE_BYTES.name;
/// Bytes perfscope's live thread stores hold (a gauge every snapshot carries).
pub const HELD_BYTES: &str = names::HELD_BYTES.name;

/// Label holding the function's path (`my_crate::scan::rsi`).
pub const FUNCTION_LABEL: &str = "function";
/// Label holding the function's `module_path!()`.
pub const MODULE_LABEL: &str = "module";
/// `function` and `module` value of the series summing functions past the cardinality cap
/// (the catalog's [`OVERFLOW`](perfscope_core::names::OVERFLOW)).
pub const OTHER: &str = names::OVERFLOW;

/// How many functions get their own series by default; later ones are summed under [`OTHER`].
///
/// Measured (`BENCHMARKS.md`, issue 26): a scrape of 1,000 functions costs 1–3 ms and a
/// 3.5 MiB text page (31,000 series); one of 10,000 costs 13–46 ms and 35.5 MiB (310,000
/// series), most of it the snapshot. Raise it knowing that.
pub const DEFAULT_MAX_FUNCTIONS: usize = 1000;

/// Upper bounds (seconds) of the latency histogram's buckets: 1, 2.5 and 5 per decade from
/// 1 µs to 10 s (Prometheus adds `+Inf`).
pub const LATENCY_BUCKETS: [f64; 22] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of a count histogram's buckets (a [`HistogramFigure`] in
/// [`FigureUnit::Count`], e.g. requests per batch): the powers of two from 1 to 65,536
/// (Prometheus adds `+Inf`). Below 128 each value has a bucket of its own in perfscope's
/// histogram, so these counts are exact there.
///
/// [`HistogramFigure`]: perfscope_core::figures::HistogramFigure
pub const COUNT_BUCKETS: [f64; 17] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0,
    16384.0, 32768.0, 65536.0,
];

/// Upper bounds of a bytes histogram's buckets (a [`HistogramFigure`] in
/// [`FigureUnit::Bytes`]): the powers of four from 64 B to 1 GiB (Prometheus adds `+Inf`).
///
/// [`HistogramFigure`]: perfscope_core::figures::HistogramFigure
pub const BYTES_BUCKETS: [f64; 13] = [
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
    268435456.0,
    1073741824.0,
];

/// The bucket bounds of a histogram figure in `unit` ([`COUNT_BUCKETS`], [`BYTES_BUCKETS`]);
/// `None` for a duration, whose bounds are the latency histogram's (the exporter's, by
/// default [`LATENCY_BUCKETS`]).
pub fn histogram_bounds(unit: FigureUnit) -> Option<&'static [f64]> {
    match unit {
        FigureUnit::Seconds => None,
        FigureUnit::Bytes => Some(&BYTES_BUCKETS),
        FigureUnit::Count | FigureUnit::Ratio => Some(&COUNT_BUCKETS),
    }
}

/// The unit of a figure as OpenTelemetry spells it (UCUM): `s`, `By`, or `1` for a count or
/// a ratio.
pub fn otel_unit(unit: FigureUnit) -> &'static str {
    match unit {
        FigureUnit::Seconds => "s",
        FigureUnit::Bytes => "By",
        FigureUnit::Count | FigureUnit::Ratio => "1",
    }
}

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyKind {
    /// A monotonic counter (`_total`).
    Counter,
    /// A histogram (`_bucket`, `_sum`, `_count`).
    Histogram,
}

/// What a family counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyUnit {
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
    /// Events (calls, allocations, panics).
    Count,
}

impl FamilyUnit {
    /// The `metrics` crate's unit.
    pub fn metrics_unit(self) -> Unit {
        match self {
            FamilyUnit::Seconds => Unit::Seconds,
            FamilyUnit::Bytes => Unit::Bytes,
            FamilyUnit::Count => Unit::Count,
        }
    }

    /// The unit as OpenTelemetry spells it (UCUM).
    pub fn otel_unit(self) -> &'static str {
        match self {
            FamilyUnit::Seconds => "s",
            FamilyUnit::Bytes => "By",
            FamilyUnit::Count => "1",
        }
    }
}

/// One exported metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// Name, as Prometheus shows it.
    pub name: &'static str,
    /// Counter or histogram.
    pub kind: FamilyKind,
    /// Unit.
    pub unit: FamilyUnit,
    /// The `# HELP` text.
    pub help: &'static str,
}

impl Family {
    /// The sample names Prometheus stores for this family: the name itself for a counter,
    /// `_bucket`, `_sum` and `_count` for a histogram.
    pub fn sample_names(&self) -> Vec<String> {
        match self.kind {
            FamilyKind::Counter => vec![self.name.to_string()],
            FamilyKind::Histogram => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|suffix| format!("{}{suffix}", self.name))
                .collect(),
        }
    }
}

impl Family {
    /// The family of the catalog's function family `name` (a counter or the histogram, in
    /// seconds, bytes or a count).
    pub const fn of(name: &Name) -> Family {
        let kind = match name.kind {
            MetricType::Counter => FamilyKind::Counter,
            MetricType::Histogram => FamilyKind::Histogram,
            MetricType::Gauge => panic!("a function family is a counter or a histogram"),
        };
        let unit = match name.unit {
            FigureUnit::Seconds => FamilyUnit::Seconds,
            FigureUnit::Bytes => FamilyUnit::Bytes,
            FigureUnit::Count => FamilyUnit::Count,
            FigureUnit::Ratio => panic!("no function family is a ratio"),
        };
        Family { name: name.name, kind, unit, help: name.help }
    }
}

/// Every family perfscope exports, with labels `function` and `module` (the catalog's
/// function families).
pub const FAMILIES: [Family; 7] = [
    Family::of(&names::FUNCTION_CALLS_TOTAL),
    Family::of(&names::FUNCTION_DURATION_SECONDS),
    Family::of(&names::FUNCTION_SELF_SECONDS_TOTAL),
    Family::of(&names::FUNCTION_BUSY_SECONDS_TOTAL),
    Family::of(&names::FUNCTION_ALLOC_BYTES_TOTAL),
    Family::of(&names::FUNCTION_ALLOCATIONS_TOTAL),
    Family::of(&names::FUNCTION_PANICS_TOTAL),
];

/// Every sample name exported (what PromQL may select): the function families', the
/// process figures' and, where they run, the monitor's and `perfscope-instrument`'s: every
/// family of the catalog, [`perfscope_core::names::ALL`].
pub fn sample_names() -> Vec<String> {
    names::ALL.iter().flat_map(Name::sample_names).collect()
}

/// Gives every family its `# HELP` text and unit in `recorder`.
pub fn describe(recorder: &dyn Recorder) {
    for family in FAMILIES {
        let (name, unit, help) = (
            KeyName::from_const_str(family.name),
            Some(family.unit.metrics_unit()),
            SharedString::const_str(family.help),
        );
        match family.kind {
            FamilyKind::Counter => recorder.describe_counter(name, unit, help),
            FamilyKind::Histogram => recorder.describe_histogram(name, unit, help),
        }
    }
}

/// Checks histogram bucket bounds: non-empty, finite, positive and strictly increasing.
#[cfg(feature = "prometheus")]
pub(crate) fn check_buckets(bounds: &[f64]) -> Result<(), String> {
    if bounds.is_empty() {
        return Err("no bucket bounds".into());
    }
    if let Some(bad) = bounds.iter().find(|b| !b.is_finite() || **b <= 0.0) {
        return Err(format!("bound {bad} is not a positive finite number of seconds"));
    }
    if let Some(pair) = bounds.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!("bounds must increase ({} then {})", pair[0], pair[1]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "prometheus")]
    #[test]
    fn default_buckets_are_valid_and_span_a_microsecond_to_ten_seconds() {
        check_buckets(&LATENCY_BUCKETS).unwrap();
        assert_eq!(LATENCY_BUCKETS[0], 1e-6);
        assert_eq!(LATENCY_BUCKETS[LATENCY_BUCKETS.len() - 1], 10.0);
    }

    #[test]
    fn count_and_bytes_buckets_are_increasing_powers_of_two() {
        for bounds in [&COUNT_BUCKETS[..], &BYTES_BUCKETS[..]] {
            assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
            assert!(bounds.iter().all(|b| (*b as u64).is_power_of_two()), "{bounds:?}");
        }
        assert_eq!(histogram_bounds(FigureUnit::Seconds), None);
        assert_eq!(histogram_bounds(FigureUnit::Count), Some(&COUNT_BUCKETS[..]));
        assert_eq!(histogram_bounds(FigureUnit::Bytes), Some(&BYTES_BUCKETS[..]));
    }

    #[cfg(feature = "prometheus")]
    #[test]
    fn bad_buckets_are_refused() {
        assert!(check_buckets(&[]).is_err());
        assert!(check_buckets(&[1.0, 1.0]).is_err());
        assert!(check_buckets(&[f64::NAN]).is_err());
        assert!(check_buckets(&[-1.0, 1.0]).is_err());
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        for family in FAMILIES {
            assert!(family.name.starts_with("perfscope_function_"), "{}", family.name);
            match family.kind {
                FamilyKind::Counter => assert!(family.name.ends_with("_total"), "{}", family.name),
                FamilyKind::Histogram => assert!(!family.name.ends_with("_total")),
            }
            if family.unit == FamilyUnit::Seconds {
                assert!(family.name.contains("_seconds"), "{}", family.name);
            }
        }
        let histograms = names::ALL.iter().filter(|n| n.kind == MetricType::Histogram).count();
        assert_eq!(
            histograms, 4,
            "the function latency, the query statement time, the channel queue wait and the \
             batch sizes"
        );
        assert_eq!(sample_names().len(), names::ALL.len() + 2 * histograms, "3 series each");
        let functions = names::ALL.iter().filter(|n| n.section == names::section::FUNCTION);
        assert!(functions.map(|n| n.name).eq(FAMILIES.map(|f| f.name)));
    }
}
