//! The table's network section: a row per HTTP route served and per host and URL template
//! called (requests, rate, latency of their frames, errors, bytes), and each host's
//! connections opened and reused; only when the report has `http` figures.

use std::fmt;

use super::fit::{Grid, MIN_NAME_CHARS, Shorten, Step};
use super::{Layout, NAME_CHARS};
use crate::format::{ABSENT, clip, human_bytes, human_ns};
use crate::readers::network::{per_second, route_errors, target_errors};
use crate::report::Report;

fn rate(report: &Report, requests: u64) -> String {
    per_second(report, requests).map_or_else(|| ABSENT.into(), |r| format!("{r:.1}/s"))
}

fn latency(ns: Option<u64>) -> String {
    ns.map_or_else(|| ABSENT.into(), human_ns)
}

/// How the routes' table narrows: the bytes, then the rate and p50; the route, its requests,
/// p99 and errors stay to the last.
const ROUTE_STEPS: [Step; 6] = [
    Step::Drop("in"),
    Step::Drop("out"),
    Step::Names(20),
    Step::Drop("rate"),
    Step::Drop("p50"),
    Step::Names(MIN_NAME_CHARS),
];

/// How the calls' table narrows, as the routes'.
const CALL_STEPS: [Step; 6] = [
    Step::Drop("out"),
    Step::Drop("in"),
    Step::Names(20),
    Step::Drop("rate"),
    Step::Drop("p50"),
    Step::Names(MIN_NAME_CHARS),
];

/// The routes, the targets and the connections.
pub(super) fn network(
    report: &Report,
    layout: &mut Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let routes = report.http_routes();
    if !routes.is_empty() {
        let header =
            vec!["route", "requests", "rate", "p50", "p99", "errors", "dropped", "in", "out"];
        let body = routes
            .iter()
            .map(|r| {
                vec![
                    clip(&r.route, NAME_CHARS),
                    r.requests().to_string(),
                    rate(report, r.requests()),
                    latency(r.p50_ns),
                    latency(r.p99_ns),
                    route_errors(r).to_string(),
                    r.dropped.to_string(),
                    human_bytes(r.request_bytes),
                    human_bytes(r.response_bytes),
                ]
            })
            .collect();
        let grid = Grid::new(header, body, 1).names("route", Shorten::End).steps(&ROUTE_STEPS);
        let table = layout.table("HTTP served", &grid);
        let title = layout.fit.prose("HTTP served (latency: the route's frames):", "  ");
        write!(f, "\n{title}\n{table}")?;
    }
    let targets = report.http_targets();
    if !targets.is_empty() {
        let header = vec!["call", "calls", "rate", "p50", "p99", "errors", "out", "in"];
        let body = targets
            .iter()
            .map(|t| {
                vec![
                    clip(&format!("{} {}", t.host, t.template), 2 * NAME_CHARS),
                    t.requests().to_string(),
                    rate(report, t.requests()),
                    latency(t.p50_ns),
                    latency(t.p99_ns),
                    target_errors(t).to_string(),
                    human_bytes(t.request_bytes),
                    human_bytes(t.response_bytes),
                ]
            })
            .collect();
        let grid = Grid::new(header, body, 1).names("call", Shorten::End).steps(&CALL_STEPS);
        let table = layout.table("HTTP calls", &grid);
        let title = layout
            .fit
            .prose("HTTP calls (host and URL template; latency: the calls' frames):", "  ");
        write!(f, "\n{title}\n{table}")?;
    }
    let connections: Vec<String> = report
        .http_connections()
        .iter()
        .map(|c| format!("{} opened {}, reused {}", clip(&c.host, NAME_CHARS), c.opened, c.reused))
        .collect();
    if !connections.is_empty() {
        let line = format!("HTTP connections: {}", connections.join("; "));
        write!(f, "\n{}", layout.fit.prose(&line, "  "))?;
    }
    Ok(())
}
