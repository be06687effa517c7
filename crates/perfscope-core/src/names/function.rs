//! The function families (every `#[perfscope::measure]`d function and span, labels `function`
//! and `module`), the per-function latency history, and the traffic of the functions a
//! monitor follows.

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Completed calls (returned or unwound; async: completed).
pub const FUNCTION_CALLS_TOTAL: Name = Name {
    name: "perfscope_function_calls_total",
    help: "Completed calls of a function measured by perfscope (returned or unwound; async: completed).",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::FUNCTION,
};
/// Call latency histogram, in seconds.
pub const FUNCTION_DURATION_SECONDS: Name = Name {
    name: "perfscope_function_duration_seconds",
    help: "Call latency: entry to return (sync), first poll to completion (async).",
    unit: FigureUnit::Seconds,
    kind: MetricType::Histogram,
    section: section::FUNCTION,
};
/// Time running in the function itself, excluding measured callees.
pub const FUNCTION_SELF_SECONDS_TOTAL: Name = Name {
    name: "perfscope_function_self_seconds_total",
    help: "Time running in the function itself, excluding measured callees (whole seconds over a `metrics` recorder).",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::FUNCTION,
};
/// Time running on a thread in the function, callees included (async: the sum of polls).
pub const FUNCTION_BUSY_SECONDS_TOTAL: Name = Name {
    name: "perfscope_function_busy_seconds_total",
    help: "Time running on a thread in the function, callees included; async: the sum of polls (whole seconds over a `metrics` recorder).",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::FUNCTION,
};
/// Bytes allocated by the function itself.
pub const FUNCTION_ALLOC_BYTES_TOTAL: Name = Name {
    name: "perfscope_function_alloc_bytes_total",
    help: "Bytes allocated by the function itself (needs perfscope's counting allocator).",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::FUNCTION,
};
/// Allocations made by the function itself.
pub const FUNCTION_ALLOCATIONS_TOTAL: Name = Name {
    name: "perfscope_function_allocations_total",
    help: "Allocations made by the function itself (needs perfscope's counting allocator).",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::FUNCTION,
};
/// Calls that ended by unwinding.
pub const FUNCTION_PANICS_TOTAL: Name = Name {
    name: "perfscope_function_panics_total",
    help: "Calls of the function that ended by unwinding.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::FUNCTION,
};

/// Median latency of one of the most called measured functions' calls completed in an
/// interval (label `function`): history only, for the reports' latency heatmap; not in
/// snapshots' figures, so no exporter sees it ([`HISTORY_ONLY`](super::HISTORY_ONLY)).
pub const FUNCTION_LATENCY_P50_SECONDS: Name = Name {
    name: "perfscope_function_latency_p50_seconds",
    help: "Median call latency in seconds, per interval.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::FUNCTION,
};
/// 99th percentile of the same (history only).
pub const FUNCTION_LATENCY_P99_SECONDS: Name = Name {
    name: "perfscope_function_latency_p99_seconds",
    help: "99th percentile call latency in seconds, per interval.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::FUNCTION,
};

/// Completed calls per second of a followed function in the last interval (label
/// `function`).
pub const TRAFFIC_REQUESTS_PER_SECOND: Name = Name {
    name: "perfscope_traffic_requests_per_second",
    help: "Completed calls per second, last interval.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::TRAFFIC,
};
/// Median latency of a followed function's calls completed in the last interval (label
/// `function`); absent when no call completed.
pub const TRAFFIC_LATENCY_P50_SECONDS: Name = Name {
    name: "perfscope_traffic_latency_p50_seconds",
    help: "Median call latency in seconds, last interval.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::TRAFFIC,
};
/// 99th percentile of the same.
pub const TRAFFIC_LATENCY_P99_SECONDS: Name = Name {
    name: "perfscope_traffic_latency_p99_seconds",
    help: "99th percentile call latency in seconds, last interval.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::TRAFFIC,
};
