//! [`HttpRoute`] and [`HttpTarget`]: the `http` section's figures (`perfscope-instrument`'s
//! server layer and client middleware) per route and per host and URL template, summed over
//! methods, with the latency of their frames (`http::server::<METHOD> <route>`,
//! `http::client::<host> <METHOD> <template>`), for a report's "network" section.

use std::collections::BTreeMap;

use perfscope_core::names;

use super::{by_label, label, name_of, value, whole};
use crate::report::{FigureStats, Report};

/// One route template served (figures summed over its methods).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpRoute {
    /// The route template (`/quotes/{symbol}`, `<unmatched>`, `<other>`).
    pub route: String,
    /// Requests answered, by status class (`2xx`, `5xx`, ...).
    pub requests_by_class: BTreeMap<String, u64>,
    /// Requests being handled when the report was taken.
    pub active: u64,
    /// Request body bytes read.
    pub request_bytes: u64,
    /// Response body bytes sent (compressed, when compression runs inside the layer).
    pub response_bytes: u64,
    /// Errors by type (`5xx`, `panic`, `request_body`, `response_body`, `service`).
    pub errors_by_type: BTreeMap<String, u64>,
    /// Requests dropped before their response was ready.
    pub dropped: u64,
    /// The frames' latency, median and 99th percentile, in nanoseconds (the method with
    /// the most calls), if the report has them.
    pub p50_ns: Option<u64>,
    /// See [`p50_ns`](Self::p50_ns).
    pub p99_ns: Option<u64>,
}

/// One host and URL template called (figures summed over methods).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpTarget {
    /// The host (`server_address`, `host:port`).
    pub host: String,
    /// The URL template the callers named (`<untemplated>`, `<other>`).
    pub template: String,
    /// Calls answered, by status class.
    pub requests_by_class: BTreeMap<String, u64>,
    /// Calls in flight when the report was taken.
    pub active: u64,
    /// Request body bytes sent.
    pub request_bytes: u64,
    /// Response body bytes read (decoded).
    pub response_bytes: u64,
    /// Errors by type (`connect`, `timeout`, `request`, `body`, `middleware`, `4xx`, `5xx`).
    pub errors_by_type: BTreeMap<String, u64>,
    /// See [`HttpRoute::p50_ns`].
    pub p50_ns: Option<u64>,
    /// See [`HttpRoute::p50_ns`].
    pub p99_ns: Option<u64>,
}

/// A host's connections (the client's pool, as HTTP's `ConnectionPool`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpConnections {
    /// The host.
    pub host: String,
    /// Connections opened.
    pub opened: u64,
    /// Calls sent on a connection already open.
    pub reused: u64,
}

impl HttpRoute {
    /// Requests answered, every class.
    pub fn requests(&self) -> u64 {
        self.requests_by_class.values().sum()
    }
}

impl HttpTarget {
    /// Calls answered, every class.
    pub fn requests(&self) -> u64 {
        self.requests_by_class.values().sum()
    }
}

/// The `http` figures of `report` grouped by the values of `keys`.
fn http_groups<'a>(
    report: &'a Report,
    keys: &[&str],
) -> BTreeMap<Vec<String>, Vec<&'a FigureStats>> {
    let mut out: BTreeMap<Vec<String>, Vec<&FigureStats>> = BTreeMap::new();
    let figures = report.figures.iter().filter(|f| f.section == names::section::HTTP);
    for f in figures.filter(|f| keys.iter().all(|k| f.labels.contains_key(*k))) {
        out.entry(keys.iter().map(|k| label(f, k).to_string()).collect()).or_default().push(f);
    }
    out
}

fn sum(figures: &[&FigureStats], name: &str) -> u64 {
    figures.iter().filter(|f| name_of(f) == name).map(|f| whole(Some(f.value))).sum()
}

/// The p50 and p99 of the busiest frame whose name starts with `prefix` and ends with
/// ` <suffix>` (one frame per method).
fn latency(report: &Report, prefix: &str, suffix: &str) -> (Option<u64>, Option<u64>) {
    let frames = report.functions.iter().filter(|f| {
        f.name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|method| method.ends_with(' ') && !method.trim_end().contains(' '))
    });
    let busiest = frames.max_by_key(|f| f.calls);
    (busiest.map(|f| f.p50_ns), busiest.map(|f| f.p99_ns))
}

impl Report {
    /// Every route template served, by name.
    pub fn http_routes(&self) -> Vec<HttpRoute> {
        http_groups(self, &["http_route"])
            .into_iter()
            .map(|(key, figures)| {
                let route = key[0].clone();
                let (p50_ns, p99_ns) = latency(self, "http::server::", &route);
                let requests = names::HTTP_SERVER_REQUESTS_TOTAL.name;
                HttpRoute {
                    requests_by_class: by_label(&figures, requests, "http_response_status_class"),
                    active: sum(&figures, names::HTTP_SERVER_ACTIVE_REQUESTS.name),
                    request_bytes: sum(
                        &figures,
                        names::HTTP_SERVER_REQUEST_BODY_SIZE_BYTES_TOTAL.name,
                    ),
                    response_bytes: sum(
                        &figures,
                        names::HTTP_SERVER_RESPONSE_BODY_SIZE_BYTES_TOTAL.name,
                    ),
                    errors_by_type: by_label(
                        &figures,
                        names::HTTP_SERVER_ERRORS_TOTAL.name,
                        "error_type",
                    ),
                    dropped: sum(&figures, names::HTTP_SERVER_DROPPED_REQUESTS_TOTAL.name),
                    p50_ns,
                    p99_ns,
                    route,
                }
            })
            .collect()
    }

    /// Every host and URL template called, by host then template.
    pub fn http_targets(&self) -> Vec<HttpTarget> {
        http_groups(self, &["server_address", "url_template"])
            .into_iter()
            .map(|(key, figures)| {
                let (host, template) = (key[0].clone(), key[1].clone());
                let (p50_ns, p99_ns) = latency(self, &format!("http::client::{host} "), &template);
                let requests = names::HTTP_CLIENT_REQUESTS_TOTAL.name;
                HttpTarget {
                    requests_by_class: by_label(&figures, requests, "http_response_status_class"),
                    active: sum(&figures, names::HTTP_CLIENT_ACTIVE_REQUESTS.name),
                    request_bytes: sum(
                        &figures,
                        names::HTTP_CLIENT_REQUEST_BODY_SIZE_BYTES_TOTAL.name,
                    ),
                    response_bytes: sum(
                        &figures,
                        names::HTTP_CLIENT_RESPONSE_BODY_SIZE_BYTES_TOTAL.name,
                    ),
                    errors_by_type: by_label(
                        &figures,
                        names::HTTP_CLIENT_ERRORS_TOTAL.name,
                        "error_type",
                    ),
                    p50_ns,
                    p99_ns,
                    host,
                    template,
                }
            })
            .collect()
    }

    /// Every host's connections opened and reused.
    pub fn http_connections(&self) -> Vec<HttpConnections> {
        let opened = names::HTTP_CLIENT_CONNECTIONS_OPENED_TOTAL.name;
        let reused = names::HTTP_CLIENT_CONNECTIONS_REUSED_TOTAL.name;
        http_groups(self, &["server_address"])
            .into_iter()
            .filter(|(_, figures)| figures.iter().any(|f| [opened, reused].contains(&name_of(f))))
            .map(|(key, figures)| HttpConnections {
                host: key[0].clone(),
                opened: whole(value(&figures, opened, None)),
                reused: whole(value(&figures, reused, None)),
            })
            .collect()
    }
}
