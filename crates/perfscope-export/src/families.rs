//! The metric families perfscope exports: names, help texts, units, labels and the latency
//! histogram's buckets. One definition shared by the Prometheus and OTLP exporters and the
//! Grafana dashboard.

use metrics::{KeyName, Recorder, SharedString, Unit};

/// Completed calls (returned or unwound; async: completed).
pub const CALLS: &str = "perfscope_function_calls_total";
/// Call latency histogram, in seconds.
pub const DURATION: &str = "perfscope_function_duration_seconds";
/// Time running in the function itself, excluding measured callees.
pub const SELF_SECONDS: &str = "perfscope_function_self_seconds_total";
/// Time running on a thread in the function, callees included (async: the sum of polls).
pub const BUSY_SECONDS: &str = "perfscope_function_busy_seconds_total";
/// Bytes allocated by the function itself.
pub const ALLOC_BYTES: &str = "perfscope_function_alloc_bytes_total";
/// Allocations made by the function itself.
pub const ALLOCATIONS: &str = "perfscope_function_allocations_total";
/// Calls that ended by unwinding.
pub const PANICS: &str = "perfscope_function_panics_total";

/// OS threads of the process (a gauge every snapshot carries, on Linux).
pub const PROCESS_THREADS: &str = perfscope_core::figures::PROCESS_THREADS;
/// Heap in use, process-wide (a gauge, with perfscope's counting allocator).
pub const HEAP_IN_USE: &str = perfscope_core::figures::HEAP_IN_USE_BYTES;

/// The figure names of the system monitor (`perfscope-monitor`), which the dashboard's
/// "System monitor" row queries. Duplicated here so this crate does not depend on the
/// monitor; `perfscope-monitor`'s tests check that every name in its `names::ALL` is here.
pub const MONITOR_NAMES: [&str; 27] = [
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_cpu_seconds_total",
    "process_open_fds",
    "perfscope_node_cpu_usage_ratio",
    "perfscope_node_load1",
    "perfscope_node_load5",
    "perfscope_node_load15",
    "perfscope_node_memory_MemTotal_bytes",
    "perfscope_node_memory_MemAvailable_bytes",
    "perfscope_node_memory_MemFree_bytes",
    "perfscope_node_memory_Cached_bytes",
    "perfscope_node_memory_SwapTotal_bytes",
    "perfscope_node_memory_SwapFree_bytes",
    "perfscope_node_network_receive_bytes_total",
    "perfscope_node_network_transmit_bytes_total",
    "perfscope_node_network_receive_bytes_per_second",
    "perfscope_node_network_transmit_bytes_per_second",
    "perfscope_node_hwmon_temp_celsius",
    "perfscope_tokio_workers",
    "perfscope_tokio_alive_tasks",
    "perfscope_tokio_global_queue_depth",
    "perfscope_tokio_worker_busy_ratio",
    "perfscope_tokio_worker_park_total",
    "perfscope_traffic_requests_per_second",
    "perfscope_traffic_latency_p50_seconds",
    "perfscope_traffic_latency_p99_seconds",
];

/// Label holding the function's path (`my_crate::scan::rsi`).
pub const FUNCTION_LABEL: &str = "function";
/// Label holding the function's `module_path!()`.
pub const MODULE_LABEL: &str = "module";
/// `function` and `module` value of the series summing functions past the cardinality cap.
pub const OTHER: &str = "<other>";

/// How many functions get their own series by default; later ones are summed under [`OTHER`].
pub const DEFAULT_MAX_FUNCTIONS: usize = 1000;

/// Upper bounds (seconds) of the latency histogram's buckets: 1, 2.5 and 5 per decade from
/// 1 µs to 10 s (Prometheus adds `+Inf`).
pub const LATENCY_BUCKETS: [f64; 22] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

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

/// Every family perfscope exports, with labels `function` and `module`.
pub const FAMILIES: [Family; 7] = [
    Family {
        name: CALLS,
        kind: FamilyKind::Counter,
        unit: FamilyUnit::Count,
        help: "Completed calls of a function measured by perfscope (returned or unwound; async: completed).",
    },
    Family {
        name: DURATION,
        kind: FamilyKind::Histogram,
        unit: FamilyUnit::Seconds,
        help: "Call latency: entry to return (sync), first poll to completion (async).",
    },
    Family {
        name: SELF_SECONDS,
        kind: FamilyKind::Counter,
        unit: FamilyUnit::Seconds,
        help: "Time running in the function itself, excluding measured callees (whole seconds over a `metrics` recorder).",
    },
    Family {
        name: BUSY_SECONDS,
        kind: FamilyKind::Counter,
        unit: FamilyUnit::Seconds,
        help: "Time running on a thread in the function, callees included; async: the sum of polls (whole seconds over a `metrics` recorder).",
    },
    Family {
        name: ALLOC_BYTES,
        kind: FamilyKind::Counter,
        unit: FamilyUnit::Bytes,
        help: "Bytes allocated by the function itself (needs perfscope's counting allocator).",
    },
    Family {
        name: ALLOCATIONS,
        kind: FamilyKind::Counter,
        unit: FamilyUnit::Count,
        help: "Allocations made by the function itself (needs perfscope's counting allocator).",
    },
    Family {
        name: PANICS,
        kind: FamilyKind::Counter,
        unit: FamilyUnit::Count,
        help: "Calls of the function that ended by unwinding.",
    },
];

/// The figure names of `perfscope-instrument` (caches, pools, queries), which the dashboard's
/// "Pools & caches" and "Queries" rows query. Duplicated here so this crate does not depend on
/// it; `perfscope-instrument`'s tests check that every name it exports is here.
pub const INSTRUMENT_NAMES: [&str; 25] = [
    "perfscope_cache_entries",
    "perfscope_cache_errors_total",
    "perfscope_cache_evictions_total",
    "perfscope_cache_hit_ratio",
    "perfscope_cache_load_errors_total",
    "perfscope_cache_loads_total",
    "perfscope_cache_removals_total",
    "perfscope_cache_requests_total",
    "perfscope_cache_writes_total",
    "perfscope_pool_acquires_total",
    "perfscope_pool_connections",
    "perfscope_pool_connections_max",
    "perfscope_pool_connections_used_high_water",
    "perfscope_pool_connections_closed_total",
    "perfscope_pool_connections_created_total",
    "perfscope_pool_pending_requests",
    "perfscope_pool_starved",
    "perfscope_pool_timeouts_total",
    "perfscope_pool_wait_seconds_total",
    "perfscope_pool_waits_total",
    "perfscope_query_calls_total",
    "perfscope_query_duration_p99_seconds",
    "perfscope_query_duration_seconds_total",
    "perfscope_query_errors_total",
    "perfscope_query_rows_total",
];

/// Every sample name exported (what PromQL may select): the function families', the
/// process figures' and, where they run, the [`MONITOR_NAMES`] and [`INSTRUMENT_NAMES`].
pub fn sample_names() -> Vec<String> {
    let process = [PROCESS_THREADS, HEAP_IN_USE].map(String::from);
    let sources = MONITOR_NAMES.iter().chain(&INSTRUMENT_NAMES).map(|n| n.to_string());
    FAMILIES.iter().flat_map(Family::sample_names).chain(process).chain(sources).collect()
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
        assert_eq!(sample_names().len(), 11 + MONITOR_NAMES.len() + INSTRUMENT_NAMES.len());
    }
}
