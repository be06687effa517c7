//! Typed views of the report's `cache`, `pool`, `query` and `http` figures (from
//! `perfscope-instrument`) and `alert` figures (from the monitor): one struct per cache level
//! (`cache.rs`), pool (`pool.rs`), statement fingerprint (`query.rs`), HTTP route, target and
//! host (`http.rs`) and alert on a watched series (`alert.rs`), read from [`Report::figures`]
//! by name and labels, and
//! the `query` events (slow statements, index hints, indexes never used) read from [`Report::events`], so the JSON
//! keeps its one shape.

mod alert;
mod cache;
mod http;
pub(crate) mod network;
mod pool;
mod query;
mod system;

use perfscope_core::names;
use std::collections::BTreeMap;

use crate::report::{FigureStats, Report};

pub use alert::AlertFigures;
pub(crate) use alert::watched_labels;
pub use cache::CacheFigures;
pub(crate) use cache::cache_rows;
pub use http::{HttpConnections, HttpRoute, HttpTarget};
pub use pool::PoolFigures;
pub(crate) use pool::acquire_frame;
pub use query::{IndexHintEvent, IndexUsage, QueryFigures, SlowQueryEvent};
pub(crate) use query::{is_index_hint, is_slow_query, is_unused_index};
pub use system::{CpuFigures, DatabaseFigures, MemoryFigures, NetworkFigures, SystemFigures};

fn label<'a>(f: &'a FigureStats, name: &str) -> &'a str {
    f.labels.get(name).map_or("", String::as_str)
}

/// The figures [`Report::caches`] reads (section `cache`).
const CACHE_NAMES: [&str; 9] = [
    names::CACHE_REQUESTS_TOTAL.name,
    names::CACHE_HIT_RATIO.name,
    names::CACHE_ENTRIES.name,
    names::CACHE_EVICTIONS_TOTAL.name,
    names::CACHE_REMOVALS_TOTAL.name,
    names::CACHE_WRITES_TOTAL.name,
    names::CACHE_ERRORS_TOTAL.name,
    names::CACHE_LOADS_TOTAL.name,
    names::CACHE_LOAD_ERRORS_TOTAL.name,
];

/// The figures [`Report::pools`] reads (section `pool`).
const POOL_NAMES: [&str; 11] = [
    names::POOL_CONNECTIONS.name,
    names::POOL_CONNECTIONS_MAX.name,
    names::POOL_CONNECTIONS_USED_HIGH_WATER.name,
    names::POOL_PENDING_REQUESTS.name,
    names::POOL_STARVED.name,
    names::POOL_ACQUIRES_TOTAL.name,
    names::POOL_WAITS_TOTAL.name,
    names::POOL_WAIT_SECONDS_TOTAL.name,
    names::POOL_TIMEOUTS_TOTAL.name,
    names::POOL_CONNECTIONS_CREATED_TOTAL.name,
    names::POOL_CONNECTIONS_CLOSED_TOTAL.name,
];

/// Names the pool figures had in reports saved before they were renamed (a gauge ending in
/// `_count` reads as a histogram's count series), with today's: older reports read the same.
const RENAMED: [(&str, &str); 3] = [
    ("perfscope_pool_connection_count", names::POOL_CONNECTIONS.name),
    ("perfscope_pool_connection_max", names::POOL_CONNECTIONS_MAX.name),
    ("perfscope_pool_connection_used_high_water", names::POOL_CONNECTIONS_USED_HIGH_WATER.name),
];

/// A figure's name as the typed views know it (today's for a renamed one).
fn name_of(figure: &FigureStats) -> &str {
    let name = figure.name.as_str();
    RENAMED.iter().find(|(old, _)| *old == name).map_or(name, |(_, new)| new)
}

/// The figures [`Report::alerts`] reads (section `alert`).
const ALERT_NAMES: [&str; 3] =
    [names::ALERT_FIRING.name, names::ALERT_LIMIT.name, names::ALERT_TRANSITIONS_TOTAL.name];

/// The figures [`Report::queries`] and [`Report::index_usage`] read (section `query`).
const QUERY_NAMES: [&str; 6] = [
    names::QUERY_CALLS_TOTAL.name,
    names::QUERY_ERRORS_TOTAL.name,
    names::QUERY_DURATION_SECONDS_TOTAL.name,
    names::QUERY_ROWS_TOTAL.name,
    names::QUERY_DURATION_P99_SECONDS.name,
    names::QUERY_INDEX_USED.name,
];

/// The figures [`Report::http_routes`], [`Report::http_targets`] and
/// [`Report::http_connections`] read (section `http`; the batchers' figures are not among
/// them: they are listed with the other figures).
const HTTP_NAMES: [&str; 13] = [
    names::HTTP_SERVER_REQUESTS_TOTAL.name,
    names::HTTP_SERVER_ACTIVE_REQUESTS.name,
    names::HTTP_SERVER_REQUEST_BODY_SIZE_BYTES_TOTAL.name,
    names::HTTP_SERVER_RESPONSE_BODY_SIZE_BYTES_TOTAL.name,
    names::HTTP_SERVER_ERRORS_TOTAL.name,
    names::HTTP_SERVER_DROPPED_REQUESTS_TOTAL.name,
    names::HTTP_CLIENT_REQUESTS_TOTAL.name,
    names::HTTP_CLIENT_ACTIVE_REQUESTS.name,
    names::HTTP_CLIENT_REQUEST_BODY_SIZE_BYTES_TOTAL.name,
    names::HTTP_CLIENT_RESPONSE_BODY_SIZE_BYTES_TOTAL.name,
    names::HTTP_CLIENT_ERRORS_TOTAL.name,
    names::HTTP_CLIENT_CONNECTIONS_OPENED_TOTAL.name,
    names::HTTP_CLIENT_CONNECTIONS_REUSED_TOTAL.name,
];

/// Whether `figure` is one the typed views read (and the views show in their sections); a
/// source's other figures, in these sections or not, are only in the generic listings.
pub(crate) fn is_typed(figure: &FigureStats) -> bool {
    let names: &[&str] = match figure.section.as_str() {
        names::section::CACHE => &CACHE_NAMES,
        names::section::POOL => &POOL_NAMES,
        names::section::QUERY => &QUERY_NAMES,
        names::section::ALERT => &ALERT_NAMES,
        names::section::HTTP => &HTTP_NAMES,
        _ => return false,
    };
    names.contains(&name_of(figure))
}

/// The figures of `section` the typed views read, grouped by the values of the labels `keys`.
fn grouped<'a>(
    report: &'a Report,
    section: &str,
    keys: &[&str],
) -> BTreeMap<Vec<String>, Vec<&'a FigureStats>> {
    let mut out: BTreeMap<Vec<String>, Vec<&FigureStats>> = BTreeMap::new();
    for f in report.figures.iter().filter(|f| f.section == section && is_typed(f)) {
        let key = keys.iter().map(|k| label(f, k).to_string()).collect();
        out.entry(key).or_default().push(f);
    }
    out
}

/// The value of the figure `name` (with `label = value` when given) among `figures`.
fn value(figures: &[&FigureStats], name: &str, with: Option<(&str, &str)>) -> Option<f64> {
    figures
        .iter()
        .find(|f| name_of(f) == name && with.is_none_or(|(k, v)| label(f, k) == v))
        .map(|f| f.value)
}

/// A figure in seconds as a [`Duration`](std::time::Duration); `None` when absent or not a
/// duration (negative, NaN, too large).
fn duration(seconds: Option<f64>) -> Option<std::time::Duration> {
    seconds.and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
}

fn whole(v: Option<f64>) -> u64 {
    v.map_or(0, |v| v as u64)
}

/// The sum of the figures named `name` among `figures`, by the value of their label `key`.
fn by_label(figures: &[&FigureStats], name: &str, key: &str) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for f in figures.iter().filter(|f| name_of(f) == name) {
        let n: &mut u64 = out.entry(label(f, key).to_string()).or_default();
        *n = n.saturating_add(f.value as u64);
    }
    out
}

/// The sections of `figures`, each once, in the order they first appear (a source's figures
/// need not be next to each other: the monitor gives `process` figures too).
pub(crate) fn sections_of<'a>(figures: impl Iterator<Item = &'a FigureStats>) -> Vec<&'a str> {
    let mut sections: Vec<&str> = Vec::new();
    for figure in figures {
        if !sections.contains(&figure.section.as_str()) {
            sections.push(&figure.section);
        }
    }
    sections
}
