//! The main job's switches for the whole-program overhead runs (BENCHMARKS.md,
//! `scripts/whole-program-overhead`), run as a user runs them: `--cpu-bound` scans the same
//! market as the HTTP feed, without HTTP; `--no-layer` leaves the tracing spans out of the
//! report; `--bench` ends with the throughput and CPU-per-round line the script reads.

mod scanner;

use std::process::Command;

/// Runs the scanner with `args` and a JSON report; returns its summary line (standard error)
/// and its report.
fn scan(args: &[&str]) -> (String, perfscope::Report) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("run.json");
    let out = Command::new(scanner::binary())
        .args(["--symbols", "48", "--rounds", "6", "--metrics-addr", "none", "--report", "json"])
        .arg("--out")
        .arg(&path)
        .args(args)
        .output()
        .expect("the scanner runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed ({}):\n{stderr}", out.status);
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("market_scanner: scanned"))
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"))
        .to_owned();
    let json = std::fs::read_to_string(&path).expect("the report was written");
    (summary, perfscope::Report::from_json(&json).expect("a valid report"))
}

fn calls(report: &perfscope::Report, suffix: &str) -> u64 {
    report.function_by_suffix(suffix).map_or(0, |f| f.calls)
}

#[test]
fn cpu_bound_scans_the_same_market_without_http() {
    let (over_http, http_report) = scan(&[]);
    let (in_process, report) = scan(&["--cpu-bound", "--no-monitor"]);
    // The same prices give the same signals, round by round.
    assert_eq!(in_process, over_http, "the same market in both feeds");
    assert!(over_http.contains("signals: ") && over_http.contains('='), "{over_http}");
    let http = |r: &perfscope::Report| r.functions.iter().any(|f| f.name.contains("http::"));
    assert!(http(&http_report), "the default feed fetches over HTTP");
    assert!(!http(&report), "--cpu-bound makes no HTTP call");
    // Every symbol, every round, measured as before: two moving averages per symbol scan.
    assert_eq!(calls(&report, "::fetch_ticks"), 48 * 6);
    assert_eq!(calls(&report, "::simple_moving_average"), 2 * 48 * 6);
    assert_eq!(
        calls(&report, "::simple_moving_average"),
        calls(&http_report, "::simple_moving_average")
    );
    // The layer measures the symbol tasks' spans; --no-layer leaves them out.
    assert_eq!(calls(&report, "::symbol_task"), 48 * 6);
    let (_, no_layer) = scan(&["--cpu-bound", "--no-layer", "--no-query-layer", "--no-monitor"]);
    assert_eq!(calls(&no_layer, "::symbol_task"), 0, "no span measured without the layer");
    assert_eq!(calls(&no_layer, "::fetch_ticks"), 48 * 6, "#[measure] still counts");
}

#[test]
fn bench_mode_prints_the_throughput_and_cpu_per_round() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = Command::new(scanner::binary())
        .args(["--bench", "--warmup", "1", "--iterations", "2", "--rounds", "3", "--symbols", "8"])
        .args(["--metrics-addr", "none", "--cpu-bound", "--out"])
        .arg(dir.path().join("bench.json"))
        .output()
        .expect("the scanner runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("throughput"))
        .unwrap_or_else(|| panic!("no throughput line:\n{stderr}"));
    // "throughput R rounds/s (6 rounds in S s), CPU per round (all threads) U µs user + K µs
    // system": two measured iterations of three rounds, and a CPU time read on this platform.
    assert!(line.contains("(6 rounds in "), "{line}");
    let user: f64 = line
        .split(") ")
        .last()
        .and_then(|tail| tail.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no user CPU figure in {line:?}"));
    assert!(user > 0.0, "{line}");
}
