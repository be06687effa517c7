//! The main job end to end, as a user runs it: the built `market_scanner` example serves
//! `/metrics` with families from every crate while it scans; SIGTERM (what systemd, Docker and
//! Kubernetes send) ends it with exit 0 and the full JSON report written, with the query
//! figures of its SQLite store, the index hint its `signals` table earns (the collector's
//! event: labels `table`, `index`, `fingerprint`) and its `quotes_round` index never used; a
//! report or bench file that cannot be
//! written fails the run and leaves an earlier one whole.

mod promtool;
mod scanner;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use scanner::{binary as scanner_binary, free_address, get};

/// Kills the scanner if the test fails before it exits.
struct Running(Child);

impl Running {
    /// Sends `SIG<signal>` and waits (30 s at most) for the scanner to exit.
    fn stop_with(&mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.0.id().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status();
        assert!(sent.expect("kill runs").success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.0.try_wait().expect("waits") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the scanner did not stop within 30 s of SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_scanner_serves_every_crates_families_and_reports_on_sigterm() {
    let dir = tempfile_dir("sigterm");
    let out = dir.join("run.json");
    let address = free_address();
    let child = Command::new(scanner_binary())
        .args(["--duration", "0", "--symbols", "16", "--report", "json"])
        .args(["--metrics-addr", &address.to_string(), "--out"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the scanner starts");
    let mut scanner = Running(child);

    // Families from every crate: perfscope-export (functions), core (process), the monitor
    // (host, runtime, traffic) and perfscope-instrument (cache, pool, the store's queries).
    let wanted = [
        "perfscope_function_self_seconds_total{",
        "process_threads ",
        "perfscope_held_bytes ",
        "perfscope_node_memory_mem_total_bytes ",
        "perfscope_tokio_workers ",
        "perfscope_traffic_requests_per_second{",
        "perfscope_cache_requests_total{",
        "perfscope_pool_connections{",
        "perfscope_query_calls_total{",
        "perfscope_http_server_requests_total{",
        "perfscope_http_client_requests_total{",
        "perfscope_http_client_batches_total{",
        "perfscope_http_client_batch_size_bucket{",
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some(status) = scanner.0.try_wait().expect("waits") {
            let mut stderr = String::new();
            if let Some(mut pipe) = scanner.0.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("the scanner exited early ({status}):\n{stderr}");
        }
        if let Some((_, body)) = get(address, "/metrics") {
            last = body;
            if wanted.iter().all(|w| last.contains(w)) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let missing: Vec<&&str> = wanted.iter().filter(|w| !last.contains(**w)).collect();
    assert!(missing.is_empty(), "missing {missing:?} from /metrics:\n{last}");
    promtool_check(&last);

    let status = scanner.stop_with("TERM");
    let mut stderr = String::new();
    if let Some(mut pipe) = scanner.0.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(status.success(), "exit {status} after SIGTERM:\n{stderr}");

    let json = std::fs::read_to_string(&out).expect("the report was written");
    let report = perfscope::Report::from_json(&json).expect("a valid report");
    let volatility = report.function("market_scanner::volatility").expect("scanned");
    assert!(
        volatility.calls > 0 && volatility.self_ns > 0 && volatility.allocations > 0,
        "{volatility:?}"
    );
    for frame in [
        "cache::indicators::get_with",
        "pool::receive_buffers::acquire",
        "pool::store::acquire",
        "http::server::GET /quotes",
    ] {
        assert!(report.function(frame).is_some_and(|f| f.calls > 0), "no {frame} in the report");
    }
    let sections: std::collections::BTreeSet<&str> =
        report.figures.iter().map(|f| f.section.as_str()).collect();
    for section in ["process", "host", "tokio", "traffic", "cache", "pool", "query", "http"] {
        assert!(sections.contains(section), "no {section} figures: {sections:?}");
    }
    // The store's statements by fingerprint, and the index its per-symbol count needs.
    let calls = |statement: &str| {
        report
            .figures
            .iter()
            .filter(|f| f.section == "query" && f.name == "perfscope_query_calls_total")
            .filter(|f| f.labels.get("fingerprint").is_some_and(|l| l.contains(statement)))
            .map(|f| f.value)
            .sum::<f64>()
    };
    assert!(calls("FROM signals WHERE symbol = ?") > 0.0, "{:?}", report.figures);
    // The quotes went over the wire: the feed's calls are under `fetch_batch`, the server's
    // `quotes` handler under its route's frame, and the server sent fewer bytes than the
    // client read (gzip).
    let fetch_batch = report.function("market_scanner::quote_feed::fetch_batch").expect("fetched");
    assert!(fetch_batch.children.iter().any(|e| e.name.starts_with("http::client::")));
    let route = report.function("http::server::GET /quotes").expect("served");
    assert!(route.children.iter().any(|e| e.name.ends_with("::quotes")), "{route:?}");
    let http = |name: &str| {
        let figures = report.figures.iter().filter(|f| f.section == "http" && f.name == name);
        figures.map(|f| f.value).sum::<f64>()
    };
    let wire = http("perfscope_http_server_response_body_size_bytes_total");
    let decoded = http("perfscope_http_client_response_body_size_bytes_total");
    assert!(wire > 0.0 && wire < decoded, "gzip: {wire} bytes sent, {decoded} read");
    assert!(calls("INSERT INTO quotes") > 0.0, "no quotes stored");
    // The query collector's own recommendation event: labels, the plan's evidence as message.
    let hint = report
        .events
        .iter()
        .filter(|e| e.section == "query" && e.kind == perfscope::EventKind::Recommendation)
        .find(|e| e.subject != "perfscope_query_index_used")
        .unwrap_or_else(|| panic!("no index hint: {:?}", report.events));
    let label = |key: &str| hint.labels.get(key).map(String::as_str);
    assert_eq!(label("table"), Some("signals"), "{hint:?}");
    assert_eq!(label("index"), Some("CREATE INDEX ON signals(symbol)"), "{hint:?}");
    assert!(label("fingerprint").is_some_and(|f| f.contains("FROM signals WHERE symbol = ?")));
    assert!(hint.message.contains("SCAN signals"), "{hint:?}");
    let hints = report.index_hints();
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert_eq!((hints[0].table.as_str(), hints[0].reason.as_str()), ("signals", &*hint.message));
    // The index no statement reads through: never used, a recommendation naming the evidence.
    let usage = report.index_usage();
    let seen: Vec<(&str, &str, bool)> =
        usage.iter().map(|i| (i.table.as_str(), i.index.as_str(), i.used)).collect();
    assert_eq!(seen, [("quotes", "quotes_round", false)], "{usage:?}");
    assert!(usage[0].reason.contains("is written by"), "{usage:?}");
    assert!(!report.history.is_empty(), "the monitor's history is in the report");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C (SIGINT) ends a run the same way: exit 0, the report written.
#[test]
fn sigint_also_leaves_the_full_report() {
    let dir = tempfile_dir("sigint");
    let out = dir.join("run.json");
    let child = Command::new(scanner_binary())
        .args(["--duration", "0", "--symbols", "8", "--report", "json", "--metrics-addr", "none"])
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the scanner starts");
    let mut scanner = Running(child);
    std::thread::sleep(Duration::from_millis(1500));
    let status = scanner.stop_with("INT");
    assert!(status.success(), "exit {status} after SIGINT");
    let json = std::fs::read_to_string(&out).expect("the report was written");
    let report = perfscope::Report::from_json(&json).expect("a valid report");
    assert!(report.function("market_scanner::scan_round").is_some_and(|f| f.calls > 0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The report onto a full filesystem (a 4 KiB tmpfs in a mount namespace of its own, made by
/// `unshare`: root, or unprivileged user namespaces): the scanner says which file it could not
/// write and why, exits non-zero, and the report written there earlier is left whole, with no
/// partial or temporary file beside it. Linux.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_fails_the_run_and_keeps_the_earlier_report() {
    let dir = tempfile_dir("full");
    let script = r#"mount -t tmpfs -o size=4k perfscope-full "$1"
echo '{"an": "earlier report"}' > "$1/run.json"
set +e
"$0" --rounds 3 --symbols 8 --metrics-addr none --report json --out "$1/run.json" >/dev/null
echo "exit=$?"
set -e
echo "files=$(ls -A "$1" | tr '\n' ' ')"
echo "kept=$(cat "$1/run.json")"
"#;
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut command = Command::new("unshare");
    if !root {
        command.args(["--user", "--map-root-user"]);
    }
    let out = command
        .args(["--mount", "--propagation=private", "sh", "-ec", script])
        .arg(scanner_binary())
        .arg(&dir)
        .output()
        .expect("unshare (util-linux) runs");
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "unshare or mount failed ({}): {stderr}", out.status);
    let value = |key: &str| {
        let prefix = format!("{key}=");
        let line = stdout.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
        line.unwrap_or_else(|| panic!("no {key}= in\n{stdout}\n{stderr}")).to_owned()
    };
    assert_eq!(value("exit"), "1", "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cannot write the report to") && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert_eq!(value("files").trim(), "run.json", "no partial or temporary file: {stdout}");
    assert_eq!(value("kept"), r#"{"an": "earlier report"}"#, "the earlier report is kept");
}

/// A bench file that cannot be written (`/dev/full`: every write fails) fails the run with
/// the file and the cause named.
#[test]
fn a_bench_file_that_cannot_be_written_fails_the_run() {
    let out = Command::new(scanner_binary())
        .args(["--bench", "--warmup", "0", "--iterations", "1", "--rounds", "1", "--symbols", "4"])
        .args(["--metrics-addr", "none", "--out", "/dev/full"])
        .output()
        .expect("the scanner runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write the bench file to /dev/full")
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
}

/// `promtool check metrics` on the whole exposition of a real run: it parses and has no lint
/// finding at all (the host memory names are snake_case: `perfscope_node_memory_mem_total_bytes`
/// for node_exporter's `node_memory_MemTotal_bytes`).
fn promtool_check(exposition: &str) {
    let (status, said) = promtool::check_metrics(exposition);
    assert!(
        status.success() && said.trim().is_empty(),
        "promtool check metrics ({status}):\n{said}\n--- exposition ---\n{exposition}",
    );
}

/// A fresh directory under the system's temp dir.
fn tempfile_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("market_scanner_e2e_{}_{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}
