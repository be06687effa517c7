//! Helpers shared by the integration tests: a plain HTTP/1.0 client, free ports, and the
//! Prometheus binaries (required: a missing binary fails the test, it never skips it).
#![allow(dead_code)]

// The workspace's one promtool runner (also used by perfscope-instrument's and the root tests).
#[path = "../../../../tests/promtool/mod.rs"]
mod promtool;

pub mod known;
pub mod metric_family;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// A response: status code and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// `GET path` over a fresh connection (HTTP/1.0, so the server closes it and never chunks).
pub fn get(address: SocketAddr, path: &str) -> std::io::Result<Response> {
    let raw = get_raw(address, path, "text/plain")?;
    Ok(Response { status: raw.status, body: String::from_utf8_lossy(&raw.body).into_owned() })
}

/// A response as bytes, with its `Content-Type`.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// `GET path` asking for `accept`; the body as bytes.
pub fn get_raw(address: SocketAddr, path: &str, accept: &str) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\nAccept: {accept}\r\n\r\n")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type").then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    Ok(RawResponse { status, content_type, body })
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The path of `name` on PATH, or a failing test saying how to install it.
pub fn require_binary(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not on PATH. These tests need a real Prometheus: run `.ci/run` (it \
             installs Debian's `prometheus` package) or `apt-get install prometheus`."
        )
    })
}

/// Runs `promtool check metrics` on an exposition; fails the test with promtool's words.
pub fn promtool_check(exposition: &str) {
    let (status, said) = promtool::check_metrics(exposition);
    assert!(
        status.success(),
        "promtool check metrics failed ({status}):\n{said}\n--- exposition ---\n{exposition}"
    );
}

/// The value of the sample `name{labels...}` whose label set contains every `label="value"`
/// of `matchers`, if any.
pub fn sample(exposition: &str, name: &str, matchers: &[(&str, &str)]) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (labels, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.rsplit_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        let all = matchers.iter().all(|(k, v)| labels.contains(&format!("{k}=\"{v}\"")));
        all.then(|| value.trim().parse().ok()).flatten()
    })
}

/// PromQL's aggregation operators and keywords: identifiers that are not metric names.
const NOT_METRICS: [&str; 25] = [
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
];

/// The metric names a PromQL expression selects: identifiers outside label matchers, strings
/// and ranges that are neither functions, operators, keywords nor grouping labels.
pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    let skip_group = |mut i: usize, open: char, close: char| {
        let mut depth = 0;
        while i < chars.len() {
            if chars[i] == open {
                depth += 1;
            } else if chars[i] == close {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            } else if chars[i] == '"' {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            i += 1;
        }
        i
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            i = skip_group(i, '{', '}');
        } else if c == '[' {
            i = skip_group(i, '[', ']');
        } else if c == '"' {
            i = skip_group(i, '"', '"');
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next] == ' ' {
                next += 1;
            }
            let grouping = ["by", "without", "on", "ignoring", "group_left", "group_right"];
            if grouping.contains(&word.as_str()) && chars.get(next) == Some(&'(') {
                i = skip_group(next, '(', ')'); // label names, not metrics
            } else if chars.get(next) != Some(&'(')
                && !NOT_METRICS.contains(&word.to_lowercase().as_str())
            {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// An expression with Grafana's variables replaced by values Prometheus accepts.
pub fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("$__range", "5m")
        .replace("$job", ".*")
        .replace("$instance", ".*")
        .replace("$function", ".*")
}

/// `label_values(selector, label)` (a Grafana variable query) as PromQL returning the values.
pub fn label_values_as_promql(query: &str) -> String {
    let inner = query
        .trim()
        .strip_prefix("label_values(")
        .and_then(|q| q.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not a label_values query: {query}"));
    let (selector, label) = inner.rsplit_once(',').expect("label_values(selector, label)");
    format!("count by ({}) ({})", label.trim(), selector.trim())
}

#[test]
fn metric_names_are_found_and_nothing_else() {
    let expr = r#"topk(5, sum by (function, module) (rate(a_total{job=~"x{1}"}[1m]))) / 1e9 + on (job) group_left b"#;
    assert_eq!(metric_names(expr), ["a_total", "b"]);
    assert_eq!(
        metric_names("histogram_quantile(0.99, sum by (le) (rate(c_bucket[5m])))"),
        ["c_bucket"]
    );
}
