//! The opt-in `/debug` endpoint ([`with_debug_endpoint`]): `GET
//! /debug/perfscope/report?seconds=N&format=json|html|folded|table` answers, after N seconds,
//! with the report of those N seconds — a [`perfscope_core::Session`], so nothing is reset and
//! the process-wide report is untouched. One window at a time (another request meanwhile gets
//! `429 Too Many Requests`); N is at most [`MAX_DEBUG_SECONDS`]; a bad query string is a
//! `400` that says what is wrong. The window waits on the listener's runtime without blocking
//! it, so `/metrics` is answered meanwhile; the report is built on a blocking thread.
//!
//! [`with_debug_endpoint`]: super::PrometheusExporterBuilder::with_debug_endpoint

use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use perfscope_report::{DEFAULT_TOP, Report};
use tokio::sync::Semaphore;

/// The endpoint's path.
pub const DEBUG_PATH: &str = "/debug/perfscope/report";

/// The longest window a request may ask for, in seconds.
pub const MAX_DEBUG_SECONDS: u64 = 300;

/// The window when the request names none, in seconds.
pub const DEFAULT_DEBUG_SECONDS: u64 = 10;

/// The report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Html,
    Folded,
    Table,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Folded | Format::Table => "text/plain; charset=utf-8",
        }
    }

    fn render(self, report: &Report) -> String {
        match self {
            Format::Json => report.to_json(),
            Format::Html => report.to_html(),
            Format::Folded => report.folded(),
            Format::Table => format!("{}\n", report.table(DEFAULT_TOP)),
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ask {
    pub(crate) seconds: u64,
    pub(crate) format: Format,
}

/// Reads `seconds` and `format` from a query string; any other key, a repeated one or a bad
/// value is an error for people.
pub(crate) fn parse(query: Option<&str>) -> Result<Ask, String> {
    let mut ask = Ask { seconds: DEFAULT_DEBUG_SECONDS, format: Format::Json };
    let (mut seconds_seen, mut format_seen) = (false, false);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let shown = |s: &str| s.chars().take(40).collect::<String>();
        match key {
            "seconds" if !std::mem::replace(&mut seconds_seen, true) => {
                ask.seconds = match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_DEBUG_SECONDS).contains(&n) => n,
                    _ => {
                        return Err(format!(
                            "seconds must be a whole number from 1 to {MAX_DEBUG_SECONDS}, not {:?}",
                            shown(value)
                        ));
                    }
                }
            }
            "format" if !std::mem::replace(&mut format_seen, true) => {
                ask.format = match value {
                    "json" => Format::Json,
                    "html" => Format::Html,
                    "folded" => Format::Folded,
                    "table" => Format::Table,
                    other => {
                        return Err(format!(
                            "format must be json, html, folded or table, not {:?}",
                            shown(other)
                        ));
                    }
                }
            }
            "seconds" | "format" => return Err(format!("{key} is given twice")),
            other => {
                return Err(format!(
                    "unknown parameter {:?} (known: seconds, format)",
                    shown(other)
                ));
            }
        }
    }
    Ok(ask)
}

/// The endpoint's state: one window at a time.
#[derive(Debug)]
pub(crate) struct Debug {
    one: Arc<Semaphore>,
}

impl Debug {
    pub(crate) fn new() -> Debug {
        Debug { one: Arc::new(Semaphore::new(1)) }
    }

    /// Answers a request for the report of the next `ask.seconds`: the status, the content
    /// type and the body.
    pub(crate) async fn answer(&self, query: Option<&str>) -> (StatusCode, &'static str, String) {
        let ask = match parse(query) {
            Ok(ask) => ask,
            Err(why) => return (StatusCode::BAD_REQUEST, "text/plain", format!("{why}\n")),
        };
        let Ok(_permit) = self.one.clone().try_acquire_owned() else {
            let busy = "another report window is being taken; ask again when it is done\n";
            return (StatusCode::TOO_MANY_REQUESTS, "text/plain", busy.into());
        };
        let session = perfscope_core::Session::start();
        tokio::time::sleep(Duration::from_secs(ask.seconds)).await;
        let rendered = tokio::task::spawn_blocking(move || {
            let report = Report::from_snapshot(&session.snapshot_with_history());
            ask.format.render(&report)
        })
        .await;
        match rendered {
            Ok(body) => (StatusCode::OK, ask.format.content_type(), body),
            Err(_) => {
                let failed = "the report could not be built\n".to_string();
                (StatusCode::INTERNAL_SERVER_ERROR, "text/plain", failed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_read_and_refused_clearly() {
        assert_eq!(parse(None), Ok(Ask { seconds: DEFAULT_DEBUG_SECONDS, format: Format::Json }));
        assert_eq!(
            parse(Some("seconds=3&format=folded")),
            Ok(Ask { seconds: 3, format: Format::Folded })
        );
        assert_eq!(parse(Some("format=table&")), Ok(Ask { seconds: 10, format: Format::Table }));
        for bad in [
            "seconds=0",
            "seconds=301",
            "seconds=-1",
            "seconds=1e3",
            "seconds=",
            "seconds=18446744073709551616",
            "format=xml",
            "format=",
            "seconds=1&seconds=2",
            "sconds=1",
            "seconds",
        ] {
            let error = parse(Some(bad)).expect_err(bad);
            assert!(error.len() < 200 && !error.contains('\n'), "{bad}: {error}");
        }
        let long = format!("format={}", "x".repeat(10_000));
        assert!(parse(Some(&long)).unwrap_err().len() < 200);
    }
}
