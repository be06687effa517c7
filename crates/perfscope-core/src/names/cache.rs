//! The caches' figures (`perfscope-instrument`; labels `cache` and `level`).

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Requests served from a level, by result (`result="hit"|"miss"`).
pub const CACHE_REQUESTS_TOTAL: Name = Name {
    name: "perfscope_cache_requests_total",
    help: "Cache requests, by level and result.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
/// `hits / (hits + misses)` of a level; absent before its first request.
pub const CACHE_HIT_RATIO: Name = Name {
    name: "perfscope_cache_hit_ratio",
    help: "Share of the level's requests that were hits.",
    unit: FigureUnit::Ratio,
    kind: MetricType::Gauge,
    section: section::CACHE,
};
/// Entries held by a level (moka's count, updated by its housekeeping: approximate).
pub const CACHE_ENTRIES: Name = Name {
    name: "perfscope_cache_entries",
    help: "Entries held by the cache level (approximate).",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::CACHE,
};
/// Entries evicted by the cache itself, by cause (`cause="size"|"expired"`).
pub const CACHE_EVICTIONS_TOTAL: Name = Name {
    name: "perfscope_cache_evictions_total",
    help: "Entries the cache evicted, by cause.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
/// Entries removed by the program, by cause (`cause="explicit"` (invalidated), `"replaced"`).
pub const CACHE_REMOVALS_TOTAL: Name = Name {
    name: "perfscope_cache_removals_total",
    help: "Entries the program removed or replaced, by cause.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
/// Values written into a level (inserts, fills after a miss).
pub const CACHE_WRITES_TOTAL: Name = Name {
    name: "perfscope_cache_writes_total",
    help: "Values written into the cache level.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
/// Requests a level could not answer (e.g. Redis unreachable).
pub const CACHE_ERRORS_TOTAL: Name = Name {
    name: "perfscope_cache_errors_total",
    help: "Requests the cache level failed to answer.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
/// Loader calls (a miss at the last level), label `cache` only.
pub const CACHE_LOADS_TOTAL: Name = Name {
    name: "perfscope_cache_loads_total",
    help: "Loader calls after a miss at every level.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
/// Loader calls that returned an error, label `cache` only.
pub const CACHE_LOAD_ERRORS_TOTAL: Name = Name {
    name: "perfscope_cache_load_errors_total",
    help: "Loader calls that returned an error.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CACHE,
};
