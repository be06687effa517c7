//! Alerts, anomalies and recommendations as series (the monitor's; the query collector's
//! recommendations too), so
//! `/metrics`, OTLP, Prometheus rules and Grafana see what the monitor finds. Label values are
//! names (of an alert, a figure, a function, a kind of advice), never message text.

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// 1 while an armed threshold's alert fires on a series, 0 otherwise; labels `alert` (the
/// threshold's name), `severity`, `figure` (the watched figure's name) and the watched
/// series' own labels.
pub const ALERT_FIRING: Name = Name {
    name: "perfscope_alert_firing",
    help: "1 while the alert fires on the watched series, else 0.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::ALERT,
};
/// The limit of an armed threshold, per watched series (the same labels as
/// [`ALERT_FIRING`]): what dashboards draw as a threshold line and the report's trends count
/// the time to.
pub const ALERT_LIMIT: Name = Name {
    name: "perfscope_alert_limit",
    help: "The limit the alert compares the watched series with.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::ALERT,
};
/// Alerts fired and resolved, per threshold (`alert`, `severity`) and `state` =
/// `fired`|`resolved`.
pub const ALERT_TRANSITIONS_TOTAL: Name = Name {
    name: "perfscope_alert_transitions_total",
    help: "Alert transitions, per alert and state (fired, resolved).",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::ALERT,
};
/// Anomalies found, per `section` (of the figure or `function`), `subject` (a figure's or a
/// function's name) and `kind` (`figure` for a departure from a series' recent mean,
/// `p50_latency`, `p99_latency` or `self_time` for a step of a function's).
pub const ANOMALIES_TOTAL: Name = Name {
    name: "perfscope_anomalies_total",
    help: "Anomalies found, per section, subject and kind.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::ALERT,
};
/// Recommendations made, per `kind` and `subject`: the monitor's (`reuse_buffers`,
/// `spawn_blocking`, `io_bound`; subject the function) and the query collector's
/// (`index_hint`, subject the table; `drop_unused_index`, subject `table.index`).
pub const RECOMMENDATIONS_TOTAL: Name = Name {
    name: "perfscope_recommendations_total",
    help: "Recommendations made, per kind and subject.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::ALERT,
};
