//! End to end with a real Prometheus server: measured functions run in this process with the
//! exporter installed (global recorder, HTTP listener on a free port); a `prometheus` binary
//! started on 127.0.0.1 scrapes it every second; its HTTP API must answer
//! `topk(5, rate(perfscope_function_self_seconds_total[1m]))` with our functions, and every
//! query of the Grafana dashboard must parse and select only families we export.
//!
//! Needs `prometheus` and `promtool` on PATH (`.ci/run` installs them): without them the test
//! fails and says so.

mod common;

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{encode, get, label_values_as_promql, metric_names, promtool_check, substitute};
use perfscope_export::dashboard::{annotation_exprs, dashboard, panel_exprs, variable_queries};
use perfscope_export::families::sample_names;
use serde_json::Value;

/// How long Prometheus gets to start, scrape and answer.
const PATIENCE: Duration = Duration::from_secs(90);

/// A Prometheus server in a temporary directory, killed when dropped.
struct Prometheus {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts a server scraping `targets` every second; `flags` are added to its command line.
    fn start(targets: &[SocketAddr], flags: &[&str]) -> Prometheus {
        let binary = common::require_binary("prometheus");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let targets = targets.join(", ");
        fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: perfscope\n    static_configs:\n      - targets: [{targets}]\n"
            ),
        )
        .expect("prometheus.yml is written");
        let address = SocketAddr::from(([127, 0, 0, 1], common::free_port()));
        let log = dir.path().join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={address}"))
            .args(flags)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).expect("the log file"))
            .stderr(fs::File::create(dir.path().join("stderr.log")).expect("the log file"))
            .spawn()
            .expect("prometheus starts");
        Prometheus { child, address, log, _dir: dir }
    }

    /// `GET /api/v1/query`: the decoded JSON answer, or why there is none yet.
    fn query(&self, promql: &str) -> Result<Value, String> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let response = get(self.address, &path).map_err(|e| e.to_string())?;
        serde_json::from_str(&response.body)
            .map_err(|e| format!("HTTP {}: {e}: {}", response.status, response.body))
    }

    fn logs(&self) -> String {
        let stderr = self.log.with_file_name("stderr.log");
        format!(
            "{}{}",
            fs::read_to_string(&self.log).unwrap_or_default(),
            fs::read_to_string(stderr).unwrap_or_default()
        )
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spins for `duration`: self time.
#[perfscope::measure]
fn hot_loop(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

#[perfscope::measure]
fn checksum(row: &str) -> u64 {
    row.bytes().map(u64::from).sum()
}

#[perfscope::measure]
fn parse_rows(rows: usize) -> u64 {
    (0..rows).map(|i| checksum(&format!("row {i},{},{}", i * 2, i * 3))).sum()
}

/// The series of an instant-vector answer, as (function label, value).
fn series(answer: &Value) -> Vec<(String, f64)> {
    answer["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let function = s["metric"]["function"].as_str().unwrap_or("").to_string();
            let value = s["value"][1].as_str().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            (function, value)
        })
        .collect()
}

/// Waits until `prometheus` answers the hotspot query with `hot_loop` in it; its answer.
fn wait_for_hotspots(prometheus: &Prometheus) -> Vec<(String, f64)> {
    let deadline = Instant::now() + PATIENCE;
    let hotspots = "topk(5, rate(perfscope_function_self_seconds_total[1m]))";
    loop {
        let answer = prometheus.query(hotspots);
        if let Ok(answer) = &answer {
            let top = series(answer);
            if top.iter().any(|(f, v)| f == "prometheus_server::hot_loop" && *v > 0.0) {
                return top;
            }
        }
        if Instant::now() > deadline {
            let targets = get(prometheus.address, "/api/v1/targets").map(|r| r.body);
            panic!(
                "Prometheus did not answer {hotspots} with our functions within {PATIENCE:?}.\n\
                 last answer: {answer:?}\ntargets: {targets:?}\nlog:\n{}",
                prometheus.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn prometheus_scrapes_the_exporter_and_answers_the_dashboards_queries() {
    common::require_binary("promtool");
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .install()
        .expect("the exporter installs");
    let target = exporter.address().unwrap();
    let second =
        perfscope_export::prometheus().with_address("127.0.0.1:0".parse().unwrap()).install();
    assert!(
        matches!(second, Err(perfscope_export::ExportError::RecorderAlreadyInstalled)),
        "{second:?}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                hot_loop(Duration::from_millis(50));
                std::hint::black_box(parse_rows(50));
            }
        })
    };

    // What Prometheus will scrape (once the worker completed calls) passes promtool's checks.
    let started = Instant::now();
    let scraped = loop {
        let scraped = get(target, "/metrics").unwrap();
        assert_eq!(scraped.status, 200);
        if scraped.body.contains("prometheus_server::parse_rows") {
            break scraped.body;
        }
        assert!(started.elapsed() < PATIENCE, "no calls exported:\n{}", scraped.body);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(scraped.contains("prometheus_server::hot_loop"), "{scraped}");
    promtool_check(&scraped);

    let prometheus = Prometheus::start(&[target], &[]);
    // This one asks for (and gets) the protobuf exposition, as Prometheus 2.40+ does when
    // native histograms are on; our classic histograms and counters must read the same. Its
    // second target only records what Prometheus asks for.
    let sniffer = tiny_http::Server::http("127.0.0.1:0").expect("a sniffing server");
    let sniffed = sniffer.server_addr().to_ip().expect("an IP address");
    let protobuf = Prometheus::start(&[target, sniffed], &["--enable-feature=native-histograms"]);
    let found = wait_for_hotspots(&prometheus);
    let found_over_protobuf = wait_for_hotspots(&protobuf);
    let scrape = sniffer.recv_timeout(PATIENCE).ok().flatten().expect("a scrape of the sniffer");
    let accept = scrape.headers().iter().find(|h| h.field.equiv("Accept"));
    let accept = accept.map(|h| h.value.to_string()).unwrap_or_default();
    assert!(accept.starts_with("application/vnd.google.protobuf"), "Accept: {accept}");
    let _ = scrape.respond(tiny_http::Response::from_string(""));
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    // The spinning function leads: it spends ~all its time in itself.
    assert_eq!(found[0].0, "prometheus_server::hot_loop", "{found:?}");
    let functions: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert!(functions.contains(&"prometheus_server::parse_rows"), "{found:?}");
    assert_eq!(found_over_protobuf[0].0, "prometheus_server::hot_loop", "{found_over_protobuf:?}");
    let buckets = r#"count(perfscope_function_duration_seconds_bucket{function="prometheus_server::hot_loop"})"#;
    let over_text = series(&prometheus.query(buckets).unwrap());
    let over_protobuf = series(&protobuf.query(buckets).unwrap());
    let expected = (perfscope_export::families::LATENCY_BUCKETS.len() + 1) as f64;
    assert_eq!(over_text.first().map(|s| s.1), Some(expected), "{over_text:?}");
    assert_eq!(over_protobuf.first().map(|s| s.1), Some(expected), "{over_protobuf:?}");

    let up = series(&prometheus.query(r#"up{job="perfscope"}"#).unwrap());
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0].1, 1.0);

    // Every dashboard query parses, selects only exported families, and the panels that
    // read always-present families find our data.
    let board = dashboard();
    let exported = sample_names();
    // (The panels and annotations over the monitor's and the main job's families are
    // answered with its data in tests/prometheus_alerts.rs.)
    for expr in panel_exprs(&board).into_iter().chain(annotation_exprs(&board)) {
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "no metric in {expr}");
        for name in &names {
            assert!(exported.contains(name), "{expr} uses {name}, which is not exported");
        }
        let promql = substitute(&expr);
        let answer = prometheus.query(&promql).unwrap();
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        // perfscope's own function families (the monitor's and instrument's are absent here).
        let always_there = [
            perfscope_export::families::CALLS.to_string(),
            perfscope_export::families::SELF_SECONDS.to_string(),
            format!("{}_bucket", perfscope_export::families::DURATION),
        ];
        // (Only those reading nothing else: the traffic latency also reads the monitor's
        // traffic gauge, to keep the functions it follows; and not the HTTP row's latency,
        // which reads only the request frames `http::...`, none here.)
        let http_frames = expr.contains(r#"function=~"http::"#);
        if names.iter().all(|n| always_there.contains(n)) && !http_frames {
            assert!(!series(&answer).is_empty(), "{promql} found nothing");
        }
    }
    for query in variable_queries(&board) {
        let promql = substitute(&label_values_as_promql(&query));
        for name in metric_names(&promql) {
            assert!(exported.contains(&name), "{query} uses {name}, which is not exported");
        }
        let answer = prometheus.query(&promql).unwrap();
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        assert!(!series(&answer).is_empty(), "{promql}: {answer}");
    }
    exporter.shutdown();
}

/// Spins for `duration`: all of it is self time.
#[perfscope::measure]
fn steady_five_ms(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// A function using 5 ms of self time per second (0.5% of a core, below what whole-second
/// counters can show) reads within 10% of what the test timed around its calls through
/// `rate(...[30s])` in a real Prometheus (a call preempted on a loaded machine lasts longer,
/// in both).
#[test]
fn a_small_self_time_rate_reads_right_in_prometheus() {
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .expect("the exporter starts");
    let prometheus = Prometheus::start(&[exporter.address().unwrap()], &[]);
    let stop = Arc::new(AtomicBool::new(false));
    // When each call ended, and how long it took, timed around it.
    let timed = Arc::new(std::sync::Mutex::new(Vec::<(Instant, Duration)>::new()));
    let worker = {
        let (stop, timed) = (Arc::clone(&stop), Arc::clone(&timed));
        std::thread::spawn(move || {
            // 0.5 ms every 100 ms on a fixed schedule: 5 ms per second, whatever the delays.
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                steady_five_ms(Duration::from_micros(500));
                let end = Instant::now();
                timed.lock().unwrap().push((end, end - start));
                next += Duration::from_millis(100);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    };
    let series_selector =
        r#"perfscope_function_self_seconds_total{function="prometheus_server::steady_five_ms"}"#;
    // Wait for a full 30 s window of scrapes (one a second).
    let deadline = Instant::now() + PATIENCE;
    let filled = format!("count_over_time({series_selector}[30s])");
    loop {
        let samples = prometheus.query(&filled).ok().map(|a| series(&a));
        if samples.as_deref().and_then(<[_]>::first).is_some_and(|s| s.1 >= 29.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no 30 s of samples: {samples:?}\n{}",
            prometheus.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let asked = Instant::now();
    let answer = prometheus.query(&format!("rate({series_selector}[30s])")).unwrap();
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    let rate = series(&answer).first().map(|s| s.1);
    let rate = rate.unwrap_or_else(|| panic!("no rate: {answer}"));
    let window = Duration::from_secs(30);
    let spent: Duration = timed
        .lock()
        .unwrap()
        .iter()
        .filter(|(end, _)| *end <= asked && asked.duration_since(*end) < window)
        .map(|(_, took)| *took)
        .sum();
    let expected = spent.as_secs_f64() / window.as_secs_f64();
    assert!(
        (rate - expected).abs() <= expected * 0.1 && (0.004..0.01).contains(&rate),
        "rate {rate} s/s, timed {expected} s/s (0.005 unloaded) ±10%"
    );
    exporter.shutdown();
}
