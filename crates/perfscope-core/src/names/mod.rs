//! The catalog of every figure name perfscope exports: one constant per figure, with its help
//! text, unit, type and section, and the one label value of everything past a cardinality cap
//! ([`OVERFLOW`]).
//!
//! Sources build their figures from these constants ([`Figure::of`]), and exporters, the
//! Grafana dashboard and the reports read the same constants, so a name is written once, here
//! (`docs/names.md` has the rules). Names follow Prometheus's conventions: base units in the
//! name (`_seconds`, `_bytes`, `_ratio`), `_total` on counters, a `perfscope_` prefix except
//! for the standard `process_*` names of Prometheus client libraries.
//!
//! ```
//! use perfscope_core::figures::{Figure, FigureKind};
//! use perfscope_core::names::{self, MetricType};
//!
//! let threads = Figure::of(&names::PROCESS_THREADS, 12.0);
//! assert_eq!(threads.name, names::PROCESS_THREADS.name);
//! assert_eq!((threads.kind, threads.value), (FigureKind::Gauge, 12.0));
//! assert_eq!(threads.section, names::section::PROCESS);
//! // Every exported family, e.g. to describe them all:
//! let counters = names::ALL.iter().filter(|n| n.kind == MetricType::Counter);
//! assert!(counters.clone().all(|n| n.name.ends_with("_total")));
//! ```
//!
//! [`Figure::of`]: crate::figures::Figure::of

mod alert;
mod cache;
mod channel;
mod function;
mod host;
mod http;
mod lock;
mod pool;
mod process;
mod query;
mod tokio;

pub use alert::*;
pub use cache::*;
pub use channel::*;
pub use function::*;
pub use host::*;
pub use http::*;
pub use lock::*;
pub use pool::*;
pub use process::*;
pub use query::*;
pub use tokio::*;

use crate::kinds::FigureUnit;

/// The label value (function, module, cache, pool, fingerprint, span name) under which
/// everything past a cardinality cap is counted, one series or row for them all.
pub const OVERFLOW: &str = "<other>";

/// The sections figures and events belong to (`Figure::section`, `Event::section`).
pub mod section {
    /// Measured functions: the function families, per-function events and history.
    pub const FUNCTION: &str = "function";
    /// Tracing spans (the span-name cap's warning).
    pub const SPAN: &str = "span";
    /// This process: threads, heap, memory, CPU, file descriptors.
    pub const PROCESS: &str = "process";
    /// The host: CPUs, load, memory, network, sensors.
    pub const HOST: &str = "host";
    /// A tokio runtime.
    pub const TOKIO: &str = "tokio";
    /// The traffic of the functions a monitor follows (`with_traffic`).
    pub const TRAFFIC: &str = "traffic";
    /// Caches (`perfscope-instrument`).
    pub const CACHE: &str = "cache";
    /// Pools (`perfscope-instrument`).
    pub const POOL: &str = "pool";
    /// Database queries, per statement fingerprint (`perfscope-instrument`).
    pub const QUERY: &str = "query";
    /// Channels: tokio `mpsc` and `broadcast` (`perfscope-instrument`).
    pub const CHANNEL: &str = "channel";
    /// Locks: std, parking_lot and tokio `Mutex` and `RwLock` (`perfscope-instrument`).
    pub const LOCK: &str = "lock";
    /// HTTP servers (routes) and clients (hosts and URL templates) (`perfscope-instrument`).
    pub const HTTP: &str = "http";
    /// An exporter (its function-series cap's warning).
    pub const EXPORT: &str = "export";
    /// The monitor's alerts, anomalies and recommendations, as series.
    pub const ALERT: &str = "alert";
}

/// A family's type, as the exposition's `# TYPE` line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// A value at one moment.
    Gauge,
    /// A running total that only grows (the name ends in `_total`).
    Counter,
    /// A distribution (`_bucket`, `_sum` and `_count` series): the function latency, a
    /// query fingerprint's statement time.
    Histogram,
}

/// One exported name and what is said about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name {
    /// The name, as Prometheus shows it.
    pub name: &'static str,
    /// One sentence for people (`# HELP`).
    pub help: &'static str,
    /// What it counts, in base units.
    pub unit: FigureUnit,
    /// Gauge, counter or histogram.
    pub kind: MetricType,
    /// The section of its figures (see [`section`]).
    pub section: &'static str,
}

impl Name {
    /// The sample names PromQL may select: the name itself, or `_bucket`, `_sum` and
    /// `_count` for a histogram.
    pub fn sample_names(&self) -> Vec<String> {
        match self.kind {
            MetricType::Histogram => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|suffix| format!("{}{suffix}", self.name))
                .collect(),
            _ => vec![self.name.to_string()],
        }
    }
}

/// Every exported family: the function families, then the figures of each section, in the
/// order of their sections.
pub const ALL: &[Name] = &[
    FUNCTION_CALLS_TOTAL,
    FUNCTION_DURATION_SECONDS,
    FUNCTION_SELF_SECONDS_TOTAL,
    FUNCTION_BUSY_SECONDS_TOTAL,
    FUNCTION_ALLOC_BYTES_TOTAL,
    FUNCTION_ALLOCATIONS_TOTAL,
    FUNCTION_PANICS_TOTAL,
    PROCESS_THREADS,
    HEAP_IN_USE_BYTES,
    HELD_BYTES,
    PROCESS_RESIDENT_MEMORY_BYTES,
    PROCESS_VIRTUAL_MEMORY_BYTES,
    PROCESS_CPU_SECONDS_TOTAL,
    PROCESS_OPEN_FDS,
    NODE_CPU_USAGE_RATIO,
    NODE_LOAD1,
    NODE_LOAD5,
    NODE_LOAD15,
    NODE_MEMORY_MEMTOTAL_BYTES,
    NODE_MEMORY_MEMAVAILABLE_BYTES,
    NODE_MEMORY_MEMFREE_BYTES,
    NODE_MEMORY_CACHED_BYTES,
    NODE_MEMORY_SWAPTOTAL_BYTES,
    NODE_MEMORY_SWAPFREE_BYTES,
    NODE_NETWORK_RECEIVE_BYTES_TOTAL,
    NODE_NETWORK_TRANSMIT_BYTES_TOTAL,
    NODE_NETWORK_RECEIVE_BYTES_PER_SECOND,
    NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND,
    NODE_HWMON_TEMP_CELSIUS,
    TOKIO_WORKERS,
    TOKIO_ALIVE_TASKS,
    TOKIO_GLOBAL_QUEUE_DEPTH,
    TOKIO_WORKER_BUSY_RATIO,
    TOKIO_WORKER_PARK_TOTAL,
    TRAFFIC_REQUESTS_PER_SECOND,
    TRAFFIC_LATENCY_P50_SECONDS,
    TRAFFIC_LATENCY_P99_SECONDS,
    CACHE_REQUESTS_TOTAL,
    CACHE_HIT_RATIO,
    CACHE_ENTRIES,
    CACHE_EVICTIONS_TOTAL,
    CACHE_REMOVALS_TOTAL,
    CACHE_WRITES_TOTAL,
    CACHE_ERRORS_TOTAL,
    CACHE_LOADS_TOTAL,
    CACHE_LOAD_ERRORS_TOTAL,
    POOL_CONNECTIONS,
    POOL_CONNECTIONS_MAX,
    POOL_CONNECTIONS_USED_HIGH_WATER,
    POOL_PENDING_REQUESTS,
    POOL_ACQUIRES_TOTAL,
    POOL_WAITS_TOTAL,
    POOL_WAIT_SECONDS_TOTAL,
    POOL_TIMEOUTS_TOTAL,
    POOL_STARVED,
    POOL_CONNECTIONS_CREATED_TOTAL,
    POOL_CONNECTIONS_CLOSED_TOTAL,
    POOL_CONNECTIONS_RECYCLED_TOTAL,
    QUERY_CALLS_TOTAL,
    QUERY_ERRORS_TOTAL,
    QUERY_DURATION_SECONDS_TOTAL,
    QUERY_ROWS_TOTAL,
    QUERY_DURATION_P99_SECONDS,
    QUERY_INDEX_USED,
    QUERY_DURATION_SECONDS,
    CHANNEL_SENDS_TOTAL,
    CHANNEL_RECEIVES_TOTAL,
    CHANNEL_DEPTH,
    CHANNEL_DEPTH_HIGH_WATER,
    CHANNEL_CAPACITY,
    CHANNEL_WAIT_SECONDS_TOTAL,
    CHANNEL_WAIT_P99_SECONDS,
    CHANNEL_WAIT_SECONDS,
    CHANNEL_SEND_WAITS_TOTAL,
    CHANNEL_SEND_WAIT_SECONDS_TOTAL,
    CHANNEL_CLOSED_TOTAL,
    CHANNEL_LAGGED_TOTAL,
    LOCK_ACQUISITIONS_TOTAL,
    LOCK_CONTENTIONS_TOTAL,
    LOCK_WAIT_SECONDS_TOTAL,
    LOCK_HOLD_SECONDS_TOTAL,
    LOCK_HOLD_MAX_SECONDS,
    ALERT_FIRING,
    ALERT_LIMIT,
    ALERT_TRANSITIONS_TOTAL,
    ANOMALIES_TOTAL,
    RECOMMENDATIONS_TOTAL,
    HTTP_SERVER_REQUESTS_TOTAL,
    HTTP_SERVER_ACTIVE_REQUESTS,
    HTTP_SERVER_REQUEST_BODY_SIZE_BYTES_TOTAL,
    HTTP_SERVER_RESPONSE_BODY_SIZE_BYTES_TOTAL,
    HTTP_SERVER_ERRORS_TOTAL,
    HTTP_SERVER_DROPPED_REQUESTS_TOTAL,
    HTTP_CLIENT_REQUESTS_TOTAL,
    HTTP_CLIENT_ACTIVE_REQUESTS,
    HTTP_CLIENT_REQUEST_BODY_SIZE_BYTES_TOTAL,
    HTTP_CLIENT_RESPONSE_BODY_SIZE_BYTES_TOTAL,
    HTTP_CLIENT_ERRORS_TOTAL,
    HTTP_CLIENT_CONNECTIONS_OPENED_TOTAL,
    HTTP_CLIENT_CONNECTIONS_REUSED_TOTAL,
    HTTP_CLIENT_BATCHES_TOTAL,
    HTTP_CLIENT_BATCH_ITEMS_TOTAL,
    HTTP_CLIENT_BATCH_SIZE,
];

/// Names of history series only (`Snapshot::history`, for the reports): never in a
/// snapshot's figures, so no exporter sees them.
pub const HISTORY_ONLY: &[Name] = &[FUNCTION_LATENCY_P50_SECONDS, FUNCTION_LATENCY_P99_SECONDS];

/// The catalog entry named `name` (exported or history-only).
pub fn find(name: &str) -> Option<&'static Name> {
    ALL.iter().chain(HISTORY_ONLY).find(|n| n.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every() -> impl Iterator<Item = &'static Name> {
        ALL.iter().chain(HISTORY_ONLY)
    }

    #[test]
    fn names_are_unique_and_valid_prometheus_names() {
        let mut seen = std::collections::HashSet::new();
        for n in every() {
            assert!(seen.insert(n.name), "{} twice", n.name);
            assert!(n.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{}", n.name);
            assert!(n.name.starts_with("perfscope_") || n.name.starts_with("process_"));
            assert!(!n.help.is_empty() && n.help.ends_with('.'), "{}: {:?}", n.name, n.help);
            assert!(!n.section.is_empty() && n.section.chars().all(|c| c.is_ascii_lowercase()));
        }
        assert_eq!(seen.len(), 105);
        assert!(!ALL.iter().any(|n| n.name == OVERFLOW));
    }

    #[test]
    fn counters_end_in_total_and_units_are_in_the_name() {
        for n in every() {
            let total = n.name.ends_with("_total");
            assert_eq!(total, n.kind == MetricType::Counter, "{}", n.name);
            // Promtool reads a gauge ending in `_count` as a histogram's or summary's count.
            assert!(!n.name.ends_with("_count"), "{}", n.name);
            let unit = match n.unit {
                FigureUnit::Seconds => "_seconds",
                FigureUnit::Bytes => "_bytes",
                FigureUnit::Ratio => "_ratio",
                FigureUnit::Count => "",
            };
            assert!(n.name.contains(unit), "{} is in {:?}", n.name, n.unit);
            if n.unit == FigureUnit::Count {
                assert!(!["_seconds", "_bytes", "_ratio"].iter().any(|u| n.name.contains(u)));
            }
        }
    }

    #[test]
    fn only_process_figures_use_the_standard_process_names() {
        for n in every().filter(|n| n.name.starts_with("process_")) {
            assert_eq!(n.section, section::PROCESS, "{}", n.name);
        }
        assert_eq!(find(PROCESS_THREADS.name), Some(&PROCESS_THREADS));
        let p99 = find(FUNCTION_LATENCY_P99_SECONDS.name);
        assert_eq!(p99.map(|n| n.section), Some(section::FUNCTION));
        assert_eq!(find("no_such_name"), None);
        assert_eq!(FUNCTION_DURATION_SECONDS.sample_names().len(), 3);
    }
}
