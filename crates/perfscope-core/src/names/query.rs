//! The query collector's figures (`perfscope-instrument`; label `fingerprint`, or `table` and
//! `index` for index usage).

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Statements run, per fingerprint, failed ones included.
pub const QUERY_CALLS_TOTAL: Name = Name {
    name: "perfscope_query_calls_total",
    help: "Statements run, per fingerprint.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::QUERY,
};
/// Statements that ran and ended with an error, per fingerprint (part of
/// [`QUERY_CALLS_TOTAL`]): those run through an `InstrumentedSqlxPool`.
pub const QUERY_ERRORS_TOTAL: Name = Name {
    name: "perfscope_query_errors_total",
    help: "Statements that ran and ended with an error, per fingerprint.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::QUERY,
};
/// Time spent in statements, per fingerprint.
pub const QUERY_DURATION_SECONDS_TOTAL: Name = Name {
    name: "perfscope_query_duration_seconds_total",
    help: "Time spent in statements, per fingerprint.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::QUERY,
};
/// Rows returned or affected, per fingerprint and `rows` = `returned`|`affected`.
pub const QUERY_ROWS_TOTAL: Name = Name {
    name: "perfscope_query_rows_total",
    help: "Rows returned or affected by statements, per fingerprint.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::QUERY,
};
/// The 99th percentile of a fingerprint's statement time.
pub const QUERY_DURATION_P99_SECONDS: Name = Name {
    name: "perfscope_query_duration_p99_seconds",
    help: "99th percentile of a fingerprint's statement time.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::QUERY,
};

/// A fingerprint's statement time as a histogram (`_bucket`, `_sum`, `_count`), which
/// Prometheus aggregates across instances (`histogram_quantile` over `sum by (le, ...)`);
/// [`QUERY_DURATION_P99_SECONDS`] is the same distribution's p99 in one process.
pub const QUERY_DURATION_SECONDS: Name = Name {
    name: "perfscope_query_duration_seconds",
    help: "Statement time per fingerprint.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Histogram,
    section: section::QUERY,
};

/// Whether an index of a table the workload's statements touch is used by their plans (or,
/// on PostgreSQL, was scanned since its statistics were reset): 1 used, 0 never used; labels
/// `table` and `index`.
pub const QUERY_INDEX_USED: Name = Name {
    name: "perfscope_query_index_used",
    help: "Whether the plans of the statements run use an index (1) or not (0).",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::QUERY,
};
