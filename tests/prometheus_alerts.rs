//! The alerting loop end to end, as the README walks through it: a real Prometheus (Debian's
//! `prometheus`, on a free loopback port, scraping and evaluating every second) loads the
//! rules `market_scanner --prometheus-rules` prints and scrapes the scanner while it runs
//! with an injected fault (`--inject slow-store:15s@3s`: the store's pool starves and
//! `process_symbol`'s p99 climbs). Within a bounded time of the fault's start,
//! `store_pool_starved` and `process_symbol_slow` fire in the process (its `/metrics`:
//! `perfscope_alert_firing{alert=...} 1`), in Prometheus through the exported gauge (the
//! generated `perfscope_in_process_alert`) and in Prometheus through the generated rules on
//! the exported figures; `store_pool_starved` is resolved in all three before the run ends,
//! the report has the fired and resolved events, every generated rule evaluates without
//! error, the recording rules have data, and every new dashboard query (the alert timeline,
//! the memory trend and time to a limit, the annotations, the latency from histograms) is
//! answered with the scanner's data.
//!
//! Needs `prometheus` on PATH (`scripts/test` installs it) and the built example (the whole
//! suite builds it; alone: `cargo build --example market_scanner`).

mod scanner;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use perfscope::EventKind;
use scanner::{Killed, encode, get};
use serde_json::Value;

/// When the fault starts, from the scanner's start (it lasts 15 s).
const FAULT_START: f64 = 3.0;
/// How long after the scanner serves `/metrics` each fault alert must have fired everywhere:
/// the fault's start, its `for:` duration, a scrape and an evaluation, and slack for a busy
/// host.
const BOUND: f64 = FAULT_START + 12.0;
/// When, after the scanner serves `/metrics`, the dashboard's queries are asked.
const DASHBOARD_AT: f64 = 32.0;
/// How long the scanner runs.
const RUN: &str = "40s";
/// The alerts the fault must fire, and those nothing in a 40 s run can fire.
const FIRED: [&str; 2] = ["store_pool_starved", "process_symbol_slow"];
const QUIET: [&str; 3] = ["host_cpu_saturated", "process_memory_high", "indicator_cache_cold"];
/// Where an alert is seen: the process's `/metrics`, and Prometheus through the gauge or the
/// rule on the figures.
const SOURCES: [&str; 3] = ["in process", "prometheus (gauge)", "prometheus (rule)"];

/// A Prometheus server evaluating `rules` and scraping `target` every second.
struct Prometheus {
    _child: Killed,
    address: SocketAddr,
}

impl Prometheus {
    fn start(dir: &Path, target: SocketAddr, rules: &Path) -> Prometheus {
        let config = dir.join("prometheus.yml");
        fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {}\n\
                 scrape_configs:\n  - job_name: market_scanner\n    static_configs:\n      - targets: [\"{target}\"]\n",
                rules.display()
            ),
        )
        .expect("prometheus.yml is written");
        let address = scanner::free_address();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("prometheus.log")).expect("the log file"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("prometheus does not start ({e}): apt-get install prometheus (scripts/test does)")
            });
        Prometheus { _child: Killed(child), address }
    }

    fn api(&self, path: &str) -> Option<Value> {
        let (status, body) = get(self.address, path)?;
        (status == 200).then(|| serde_json::from_str(&body).ok()).flatten()
    }

    /// The answer to an instant query: its series' labels and values.
    fn query(&self, promql: &str) -> Result<Vec<(Value, f64)>, String> {
        let answer = self
            .api(&format!("/api/v1/query?query={}", encode(promql)))
            .ok_or_else(|| format!("no answer to {promql}"))?;
        if answer["status"] != "success" {
            return Err(format!("{promql}: {answer}"));
        }
        Ok(answer["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let value = s["value"][1].as_str().and_then(|v| v.parse().ok());
                (s["metric"].clone(), value.unwrap_or(f64::NAN))
            })
            .collect())
    }

    /// The firing alerts: (alertname, the `alert` label of the gauge's alerts).
    fn firing(&self) -> Option<Vec<(String, String)>> {
        let answer = self.api("/api/v1/alerts")?;
        let alerts = answer["data"]["alerts"].as_array()?.iter();
        let firing = alerts.filter(|a| a["state"] == "firing");
        let label = |a: &Value, k: &str| a["labels"][k].as_str().unwrap_or_default().to_string();
        Some(firing.map(|a| (label(a, "alertname"), label(a, "alert"))).collect())
    }
}

/// The alerts `perfscope_alert_firing` says fire in an exposition.
fn firing_in_process(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| l.starts_with("perfscope_alert_firing{") && l.ends_with("} 1"))
        .filter_map(|l| l.split("alert=\"").nth(1)?.split('"').next().map(str::to_string))
        .collect()
}

/// When each source first saw each alert fire, and what it said last.
#[derive(Debug, Default)]
struct Seen {
    first: BTreeMap<(&'static str, String), f64>,
    last: BTreeMap<(&'static str, String), bool>,
}

impl Seen {
    fn note(&mut self, source: &'static str, alert: &str, at: f64, firing: bool) {
        if firing {
            self.first.entry((source, alert.to_string())).or_insert(at);
        }
        self.last.insert((source, alert.to_string()), firing);
    }
}

/// A dashboard expression with Grafana's variables replaced by values Prometheus accepts.
fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "10s")
        .replace("$__interval", "1m")
        .replace("$__range", "5m")
        .replace("$job", ".*")
        .replace("$instance", ".*")
        .replace("$function", ".*")
}

/// The panels of the dashboard the issue added or changed (titles), whose queries must find
/// data: the alerts, the memory trend, and the latency and CPU panels (quantiles from the
/// histograms, the limits of the armed thresholds drawn as lines).
const NEW_PANELS: [&str; 7] = [
    "Alerts",
    "Memory trend: now and in 1 h",
    "Time until memory runs out",
    "Latency p50 / p99",
    "Traffic: latency p50 / p99",
    "Query p99 latency (top 10 fingerprints)",
    "CPU usage per core",
];

/// (panel title, expression) of every query of the dashboard, nested rows included, then the
/// annotations' as ("annotation: <name>", expression).
fn dashboard_queries() -> Vec<(String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for panel in panels.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or_default();
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push((title.to_string(), expr.to_string()));
                }
            }
            walk(&panel["panels"], out);
        }
    }
    let board = perfscope_export::dashboard::dashboard();
    let mut out = Vec::new();
    walk(&board["panels"], &mut out);
    for annotation in board["annotations"]["list"].as_array().into_iter().flatten() {
        if let Some(expr) = annotation["expr"].as_str() {
            let name = annotation["name"].as_str().unwrap_or_default();
            out.push((format!("annotation: {name}"), expr.to_string()));
        }
    }
    out
}

/// Every dashboard query parses and runs; those of the new panels and the annotations find
/// the scanner's data.
fn check_dashboard(prometheus: &Prometheus) -> Result<(), String> {
    let queries = dashboard_queries();
    for title in NEW_PANELS {
        if !queries.iter().any(|(t, _)| t == title) {
            return Err(format!("no panel {title:?} in the dashboard"));
        }
    }
    // The annotations of anomalies and recommendations find data once the scanner counted
    // one and Prometheus scraped it (not every run has them; every run fires alerts).
    let scraped = |name: &str| prometheus.query(name).is_ok_and(|found| !found.is_empty());
    let (anomalies, recommended) =
        (scraped("perfscope_anomalies_total"), scraped("perfscope_recommendations_total"));
    for (title, expr) in queries {
        let promql = substitute(&expr);
        let found = prometheus.query(&promql)?;
        // The scanner arms no threshold on a query's p99: no limit line there.
        let no_limit = expr.contains("perfscope_alert_limit{")
            && expr.contains("perfscope_query_duration_p99_seconds");
        let must_find = (NEW_PANELS.contains(&title.as_str()) && !no_limit)
            || title == "annotation: Alerts fired"
            || (title == "annotation: Anomalies" && anomalies)
            || (title == "annotation: Recommendations" && recommended);
        if must_find && found.is_empty() {
            return Err(format!("{title}: {promql} found nothing"));
        }
    }
    Ok(())
}

#[test]
fn an_injected_fault_fires_the_same_alerts_in_process_and_in_prometheus() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rules = dir.path().join("perfscope-rules.yml");
    let printed = Command::new(scanner::binary())
        .arg("--prometheus-rules")
        .output()
        .expect("the scanner prints its rules");
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    fs::write(&rules, &printed.stdout).expect("the rules are written");

    let metrics = scanner::free_address();
    let prometheus = Prometheus::start(dir.path(), metrics, &rules);
    let out = dir.path().join("run.json");
    let started = Instant::now();
    let mut child = Killed(
        Command::new(scanner::binary())
            .args(["--inject", "slow-store:15s@3s", "--duration", RUN, "--symbols", "48"])
            .args(["--metrics-addr", &metrics.to_string(), "--report", "json", "--out"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.path().join("scanner.log")).expect("the log file"))
            .spawn()
            .expect("the scanner starts"),
    );
    let logs = || {
        let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap_or_default();
        format!(
            "--- scanner ---\n{}\n--- prometheus ---\n{}",
            read("scanner.log"),
            read("prometheus.log")
        )
    };

    let mut seen = Seen::default();
    let mut up_at = None;
    let mut dashboard: Option<Result<(), String>> = None;
    let status = loop {
        let at = started.elapsed().as_secs_f64();
        if let Some((200, exposition)) = get(metrics, "/metrics") {
            up_at.get_or_insert(at);
            let firing = firing_in_process(&exposition);
            for alert in FIRED.iter().chain(&QUIET) {
                seen.note(SOURCES[0], alert, at, firing.contains(*alert));
            }
            // Late in the run, while the scanner still serves: the dashboard's queries (the
            // fault's anomalies and the monitor's recommendations have been counted).
            if dashboard.is_none() && up_at.is_some_and(|up| at > up + DASHBOARD_AT) {
                dashboard = Some(check_dashboard(&prometheus));
            }
        }
        if let Some(firing) = prometheus.firing() {
            for alert in FIRED.iter().chain(&QUIET) {
                let gauge = firing
                    .iter()
                    .any(|(name, a)| name == "perfscope_in_process_alert" && a == alert);
                let rule = firing.iter().any(|(name, _)| name == alert);
                seen.note(SOURCES[1], alert, at, gauge);
                seen.note(SOURCES[2], alert, at, rule);
            }
        }
        if let Some(status) = child.0.try_wait().expect("waits for the scanner") {
            break status;
        }
        assert!(at < 120.0, "the scanner did not end within 120 s\n{}", logs());
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "the scanner failed ({status})\n{}", logs());

    // Each source saw each fault alert fire, after the fault began and within the bound.
    let up_at = up_at.expect("the scanner served /metrics");
    for alert in FIRED {
        for source in SOURCES {
            let first = seen.first.get(&(source, alert.to_string()));
            assert!(
                first.is_some_and(|t| (FAULT_START..up_at + BOUND).contains(t)),
                "{alert} {source}: first firing at {first:?} s, expected after the fault's \
                 start ({FAULT_START} s) and within {BOUND} s of /metrics up ({up_at:.1} s)\n\
                 {seen:#?}\n{}",
                logs()
            );
        }
    }
    // The starved pool is over in all three before the run ends (the p99 rule on the
    // histogram keeps a minute of slow calls in its rate window: it resolves later).
    for source in SOURCES {
        let last = seen.last.get(&(source, "store_pool_starved".to_string()));
        assert_eq!(last, Some(&false), "store_pool_starved still firing {source}\n{seen:#?}");
    }
    for source in &SOURCES[..2] {
        let last = seen.last.get(&(*source, "process_symbol_slow".to_string()));
        assert_eq!(last, Some(&false), "process_symbol_slow still firing {source}\n{seen:#?}");
    }
    for alert in QUIET {
        assert!(
            !seen.first.keys().any(|(_, a)| a == alert),
            "{alert} fired, nothing in the run breaches it\n{seen:#?}"
        );
    }

    // Every rule evaluated without error, and the recording rules have the scanner's data.
    let groups = prometheus.api("/api/v1/rules").expect("the rules");
    let all_rules: Vec<&Value> = groups["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    let printed = String::from_utf8_lossy(&printed.stdout);
    let generated =
        printed.lines().filter(|l| l.starts_with("  - alert: ") || l.starts_with("  - record: "));
    assert_eq!(all_rules.len(), generated.count(), "{groups}");
    for rule in &all_rules {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    for rule in all_rules.iter().filter(|r| r["type"] == "recording") {
        let record = rule["name"].as_str().unwrap_or_default();
        let found = prometheus.query(&format!("last_over_time({record}[2m])"));
        assert!(found.as_ref().is_ok_and(|f| !f.is_empty()), "{record}: {found:?}");
    }
    let dashboard = dashboard.expect("the dashboard was checked during the run");
    assert!(dashboard.is_ok(), "{}", dashboard.unwrap_err());

    // The report has the process's own alert events.
    let json = fs::read_to_string(&out).expect("the report was written");
    let report = perfscope::Report::from_json(&json).expect("a valid report");
    for (kind, verb) in [(EventKind::AlertFired, "fired"), (EventKind::AlertResolved, "resolved")] {
        let message = format!("alert store_pool_starved {verb}");
        assert!(
            report.events.iter().any(|e| e.kind == kind && e.message.starts_with(&message)),
            "no {message:?} event: {:?}",
            report.events
        );
    }
}
