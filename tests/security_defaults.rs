//! Security defaults of a profiler that runs inside other people's processes:
//! - `/metrics` listens on the loopback interface only unless told otherwise (the default
//!   address is 127.0.0.1:9464, not reachable through any other address of the host);
//! - no function argument and no span or event field *value* ever leaves the process: the
//!   exposition, the report's JSON, table, HTML, folded stacks and flame graph carry names only;
//! - names that reach a label (a `#[measure(name = "..")]`, a span's name, a cache's or a pool's
//!   name) are escaped: a hostile one cannot add a series or break the exposition (checked
//!   with `promtool check metrics` and by reading every sample back).

mod promtool;

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use perfscope::measure;
use perfscope_export::{DEFAULT_ADDRESS, ExportError, prometheus};
use tracing_subscriber::prelude::*;

/// The IPv4 addresses of this host's interfaces (`/proc/net/fib_trie`'s local host routes),
/// loopback ones left out.
fn other_addresses() -> Vec<IpAddr> {
    let trie = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    let lines: Vec<&str> = trie.lines().collect();
    let mut found: Vec<IpAddr> = lines
        .windows(2)
        .filter(|w| w[1].trim() == "/32 host LOCAL")
        .filter_map(|w| w[0].trim().trim_start_matches("|--").trim().parse().ok())
        .filter(|ip: &IpAddr| !ip.is_loopback())
        .collect();
    found.sort();
    found.dedup();
    found
}

fn reachable(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

#[test]
fn the_exporter_listens_on_loopback_only_unless_told_otherwise() {
    assert_eq!(DEFAULT_ADDRESS, "127.0.0.1:9464".parse::<SocketAddr>().unwrap());
    match prometheus().start() {
        Ok(exporter) => {
            assert_eq!(exporter.address(), Some(DEFAULT_ADDRESS));
            assert!(reachable(DEFAULT_ADDRESS));
            // Bound to 127.0.0.1 itself, not to every address: another loopback address and
            // the host's own addresses do not reach it.
            assert!(!reachable("127.0.0.2:9464".parse().unwrap()), "listening on 0.0.0.0?");
            for ip in other_addresses() {
                assert!(
                    !reachable(SocketAddr::new(ip, DEFAULT_ADDRESS.port())),
                    "reachable on {ip}"
                );
            }
            exporter.shutdown();
        }
        // The port is taken on this machine: the default still asked for loopback only.
        Err(ExportError::Listen { address, .. }) => assert_eq!(address, DEFAULT_ADDRESS),
        Err(other) => panic!("the default exporter: {other}"),
    }
}

/// Every value the program passes: none of them may appear in anything perfscope produces.
const VALUES: [&str; 7] = [
    "VALUE-alice",
    "VALUE-hunter2",
    "VALUE-token",
    "VALUE-user",
    "VALUE-secret",
    "VALUE-message",
    "VALUE-instrumented",
];

#[measure]
fn logs_in(user: &str, password: &str) -> usize {
    user.len() + password.len()
}

#[tracing::instrument]
fn instrumented_login(password: &str) -> usize {
    password.len()
}

#[test]
fn argument_and_field_values_never_leave_the_process() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        logs_in(VALUES[0], VALUES[1]);
        let span = tracing::info_span!("session", token = VALUES[2], user = %VALUES[3]);
        span.in_scope(|| {
            tracing::info!(secret = VALUES[4], "event {}", VALUES[5]);
            instrumented_login(VALUES[6]);
        });
    });
    let exporter =
        prometheus().with_address("127.0.0.1:0".parse().unwrap()).start().expect("exporter");
    let exposition = exporter.render();
    let protobuf = String::from_utf8_lossy(&exporter.render_protobuf()).into_owned();
    exporter.shutdown();
    let report = perfscope::report();
    let outputs = [
        ("exposition", exposition.clone()),
        ("protobuf exposition", protobuf),
        ("JSON", report.to_json()),
        ("table", report.table(1000).to_string()),
        ("HTML", report.to_html()),
        ("folded", report.folded()),
        ("flame graph", report.flamegraph_svg().expect("a flame graph")),
    ];
    for (what, output) in &outputs {
        for value in VALUES {
            assert!(!output.contains(value), "{value} in the {what}");
        }
    }
    // The names are there: the values are missing because they are never read, not because
    // nothing was recorded.
    for name in ["security_defaults::logs_in", "security_defaults::session", "instrumented_login"] {
        assert!(exposition.contains(name), "{name} not in the exposition:\n{exposition}");
        assert!(report.functions.iter().any(|f| f.name.ends_with(name)), "{name} not reported");
    }
}

/// A name that tries to close its label, end the line and add a series of its own.
const HOSTILE: &str = "evil\"} 1\ninjected_series{a=\"b\"} 42\n# TYPE x counter\\";

#[measure(name = "evil\"} 1\ninjected_series{a=\"b\"} 42\n# TYPE x counter\\")]
fn hostile_name() {}

#[test]
fn hostile_names_are_escaped_in_the_exposition() {
    use perfscope_instrument::cache::InstrumentedCache;
    use perfscope_instrument::pool::InstrumentedPool;

    hostile_name();
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("span\"} 1\ninjected_span_series 7\n").in_scope(|| {});
    });
    let cache: InstrumentedCache<u32, u32> =
        InstrumentedCache::new(HOSTILE, moka::sync::Cache::builder().max_capacity(10));
    cache.insert(1, 1);
    assert_eq!(cache.get(&1), Some(1));
    let pool = InstrumentedPool::new(HOSTILE, deadpool::unmanaged::Pool::from(vec![1u8]));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async { drop(pool.get().await.expect("the pool's one object")) });

    let exporter =
        prometheus().with_address("127.0.0.1:0".parse().unwrap()).start().expect("exporter");
    let text = exporter.render();
    exporter.shutdown();
    // No line starts with the injected series: every hostile name stayed inside its label.
    for line in text.lines() {
        assert!(!line.starts_with("injected"), "injected line: {line:?}\n{text}");
        assert!(!line.starts_with("# TYPE x "), "injected line: {line:?}");
    }
    // The escaped forms are there (quote, newline and backslash escaped as the format says).
    let escaped = "evil\\\"} 1\\ninjected_series{a=\\\"b\\\"} 42\\n# TYPE x counter\\\\";
    for label in ["function", "cache", "pool"] {
        assert!(text.contains(&format!("{label}=\"{escaped}\"")), "{label} not escaped:\n{text}");
    }
    assert!(text.contains("span\\\"} 1\\ninjected_span_series 7\\n"), "{text}");
    promtool_check(&text);
}

/// `promtool check metrics` (Prometheus's own parser) reads the exposition without a parse
/// error. Its lint findings (exit status 3: metric naming) are not this test's subject.
fn promtool_check(exposition: &str) {
    let (status, said) = promtool::check_metrics(exposition);
    assert!(
        matches!(status.code(), Some(0 | 3)) && !said.contains("parsing error"),
        "promtool check metrics failed ({status}):\n{said}\n--- exposition ---\n{exposition}",
    );
    if status.code() == Some(3) {
        println!("promtool's lint findings (names, not parsing):\n{said}");
    }
}
