//! What the table and HTML "network" sections show of a route or a target: rates over the
//! report's wall time, errors summed, latency in nanoseconds.

use super::{HttpRoute, HttpTarget};
use crate::report::Report;

/// Requests per second over the report's wall time; `None` for a report of no time.
pub(crate) fn per_second(report: &Report, requests: u64) -> Option<f64> {
    (report.elapsed_ns > 0).then(|| requests as f64 * 1e9 / report.elapsed_ns as f64)
}

/// Every error of a route: its error types (5xx included) and the requests dropped.
pub(crate) fn route_errors(route: &HttpRoute) -> u64 {
    route.errors_by_type.values().sum::<u64>() + route.dropped
}

/// Every error of a target, by any type (4xx and 5xx included).
pub(crate) fn target_errors(target: &HttpTarget) -> u64 {
    target.errors_by_type.values().sum()
}
