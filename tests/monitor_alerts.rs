//! Thresholds over another source's figures, end to end: a running `Monitor` watches figures a
//! test source sets (a pool's starvation flag, a cache's hit ratio, a query's p99), and the
//! callback, the snapshot's events, the exported gauges (a real `/metrics` page) and the
//! report agree on when each alert fires and resolves; one that must never fire does not; a
//! downward step is an anomaly (and counted), a clean series is left alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use perfscope::monitor::{Above, Alert, AlertState, Below, Monitor, Severity, threshold};
use perfscope_core::figures::{EventKind, Figure, FigureSource};
use perfscope_core::names;

/// The tests run one at a time: each starts a monitor, whose analysis of the others' sources
/// (anomaly counts summed across monitors) would blur the exact counts.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Values the test sets, given as a pool's, a cache's and a query's figures.
#[derive(Debug, Default)]
struct Dials {
    starved: AtomicU64,
    hit_ratio: AtomicU64,
    p99: AtomicU64,
}

fn set(dial: &AtomicU64, value: f64) {
    dial.store(value.to_bits(), Ordering::Relaxed);
}

fn get(dial: &AtomicU64) -> f64 {
    f64::from_bits(dial.load(Ordering::Relaxed))
}

impl FigureSource for Dials {
    fn read(&self, out: &mut Vec<Figure>) {
        out.push(Figure::of(&names::POOL_STARVED, get(&self.starved)).with_label("pool", "dial"));
        let ratio = Figure::of(&names::CACHE_HIT_RATIO, get(&self.hit_ratio));
        out.push(ratio.with_label("cache", "dial"));
        let p99 = Figure::of(&names::QUERY_DURATION_P99_SECONDS, get(&self.p99));
        out.push(p99.with_label("fingerprint", "dial"));
        // Never changes: no anomaly, no alert.
        out.push(Figure::of(&names::POOL_PENDING_REQUESTS, 3.0).with_label("pool", "dial"));
    }
}

/// The value of the one figure `name` with `labels` in `figures`.
fn value(figures: &[Figure], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = figures.iter().filter(|f| {
        f.name == name && labels.iter().all(|(k, v)| f.labels.iter().any(|(a, b)| a == k && b == v))
    });
    let first = found.next().map(|f| f.value);
    assert!(found.next().is_none(), "{name} {labels:?} is ambiguous");
    first
}

/// The next alert the callback saw, within 10 s.
fn next(alerts: &mpsc::Receiver<Alert>) -> Alert {
    alerts.recv_timeout(Duration::from_secs(10)).expect("an alert within 10 s")
}

/// `perfscope_alert_firing` of `alert`, read from a real scrape.
fn scraped(page: &str, alert: &str) -> Option<f64> {
    let prefix = format!("{}{{alert=\"{alert}\"", names::ALERT_FIRING.name);
    let line = page.lines().find(|l| l.starts_with(&prefix))?;
    line.rsplit(' ').next()?.parse().ok()
}

/// Everything that says whether `alert` fires agrees with `firing`: the snapshot's gauge, the
/// exporter's page and the report.
fn agree(exporter: &perfscope_export::PrometheusExporter, alert: &str, firing: bool) {
    let want = if firing { 1.0 } else { 0.0 };
    let snapshot = perfscope_core::snapshot();
    let gauge = value(&snapshot.figures, names::ALERT_FIRING.name, &[("alert", alert)]);
    assert_eq!(gauge, Some(want), "{alert}: the snapshot's gauge");
    assert_eq!(scraped(&exporter.render(), alert), Some(want), "{alert}: /metrics");
    let report = perfscope::report();
    let typed = report.alerts().into_iter().find(|a| a.alert == alert).expect("in the report");
    assert_eq!(typed.firing, firing, "{alert}: the report");
}

#[test]
fn thresholds_on_other_sources_agree_everywhere_and_resolve_once() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dials = Arc::new(Dials::default());
    set(&dials.hit_ratio, 0.9);
    set(&dials.p99, 0.002);
    let _registered = perfscope_core::figures::register(dials.clone());
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .expect("an exporter on a free port");
    let (sender, alerts) = mpsc::channel();
    let callback = move |alert: &Alert| {
        let _ = sender.send(alert.clone());
    };
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_function_analysis(false)
        .with_threshold(
            threshold(names::POOL_STARVED.name, Above(0.0))
                .label("pool", "dial")
                .named("dial_starved")
                .severity(Severity::Critical)
                .on_alert(callback.clone()),
        )
        .with_threshold(
            threshold(names::POOL_STARVED.name, Above(1e9))
                .named("never")
                .on_alert(callback.clone()),
        )
        .with_threshold(
            threshold(names::CACHE_HIT_RATIO.name, Below(0.5))
                .label("cache", "dial")
                .named("dial_cold")
                .hysteresis(0.2)
                .on_alert(callback),
        )
        .start()
        .expect("a monitor");
    assert!(monitor.wait_for_samples(3, Duration::from_secs(10)));
    for alert in ["dial_starved", "never", "dial_cold"] {
        agree(&exporter, alert, false);
    }

    // Starved: Above(0) on a figure now 1 must fire.
    set(&dials.starved, 1.0);
    let fired = next(&alerts);
    assert_eq!((fired.name.as_str(), fired.state), ("dial_starved", AlertState::Fired));
    assert_eq!(
        (fired.figure.as_str(), fired.severity),
        (names::POOL_STARVED.name, Severity::Critical)
    );
    assert_eq!(fired.labels, [("pool".to_string(), "dial".to_string())]);
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 1, Duration::from_secs(10)));
    agree(&exporter, "dial_starved", true);
    let limit = value(
        &perfscope_core::snapshot().figures,
        names::ALERT_LIMIT.name,
        &[("alert", "dial_starved")],
    );
    assert_eq!(limit, Some(0.0));

    // The hit ratio under 0.5 fires Below; back to 0.6 (under 0.5 + 0.2) it keeps firing; at
    // 0.75 it resolves.
    set(&dials.hit_ratio, 0.4);
    let cold = next(&alerts);
    assert_eq!((cold.name.as_str(), cold.state), ("dial_cold", AlertState::Fired));
    set(&dials.hit_ratio, 0.6);
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 4, Duration::from_secs(10)));
    assert!(alerts.try_recv().is_err(), "inside the hysteresis nothing changes");
    agree(&exporter, "dial_cold", true);
    set(&dials.hit_ratio, 0.75);
    let warm = next(&alerts);
    assert_eq!((warm.name.as_str(), warm.state), ("dial_cold", AlertState::Resolved));

    // Not starved any more: resolves once.
    set(&dials.starved, 0.0);
    let resolved = next(&alerts);
    assert_eq!((resolved.name.as_str(), resolved.state), ("dial_starved", AlertState::Resolved));
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 4, Duration::from_secs(10)));
    assert!(alerts.try_recv().is_err(), "each alert fired and resolved once; `never` never fired");
    for alert in ["dial_starved", "never", "dial_cold"] {
        agree(&exporter, alert, false);
    }

    // The transitions, the events and the report's counts say the same.
    let snapshot = perfscope_core::snapshot();
    let transitions = |alert: &str, state: &str| {
        let labels = [("alert", alert), ("state", state)];
        value(&snapshot.figures, names::ALERT_TRANSITIONS_TOTAL.name, &labels)
    };
    for alert in ["dial_starved", "dial_cold"] {
        assert_eq!(
            (transitions(alert, "fired"), transitions(alert, "resolved")),
            (Some(1.0), Some(1.0))
        );
    }
    assert_eq!(
        (transitions("never", "fired"), transitions("never", "resolved")),
        (Some(0.0), Some(0.0))
    );
    let events: Vec<(&str, EventKind)> = snapshot
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::AlertFired | EventKind::AlertResolved))
        .filter(|e| e.message.contains("dial_"))
        .map(|e| (e.subject.as_str(), e.kind))
        .collect();
    assert_eq!(
        events,
        [
            (names::POOL_STARVED.name, EventKind::AlertFired),
            (names::CACHE_HIT_RATIO.name, EventKind::AlertFired),
            (names::CACHE_HIT_RATIO.name, EventKind::AlertResolved),
            (names::POOL_STARVED.name, EventKind::AlertResolved),
        ]
    );
    let report = perfscope::report();
    let dial = report.alerts().into_iter().find(|a| a.alert == "dial_starved").unwrap();
    assert_eq!((dial.fired, dial.resolved, dial.limit), (1, 1, Some(0.0)));
    exporter.shutdown();
}

#[test]
fn a_downward_step_of_another_sources_figure_is_an_anomaly_and_a_flat_one_is_not() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    #[derive(Debug)]
    struct Falling(Instant);
    impl FigureSource for Falling {
        fn read(&self, out: &mut Vec<Figure>) {
            // A query's p99 steady at 20 ms with a little wobble, then, after 8 s, 1 ms.
            let t = self.0.elapsed().as_secs_f64();
            let wobble = 0.0002 * (t * 7.0).sin();
            let p99 = if t < 8.0 { 0.02 + wobble } else { 0.001 };
            out.push(
                Figure::of(&names::QUERY_DURATION_P99_SECONDS, p99)
                    .with_label("fingerprint", "falls"),
            );
            out.push(Figure::of(&names::POOL_PENDING_REQUESTS, 5.0).with_label("pool", "flat"));
        }
    }
    let _registered = perfscope_core::figures::register(Arc::new(Falling(Instant::now())));
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_function_analysis(false)
        .with_threshold(threshold(names::POOL_STARVED.name, Above(1e9)))
        .start()
        .expect("a monitor");
    let deadline = Instant::now() + Duration::from_secs(20);
    let anomaly = loop {
        let found = monitor.anomalies().into_iter().find(|a| {
            a.figure == names::QUERY_DURATION_P99_SECONDS.name
                && a.labels.iter().any(|(k, v)| k == "fingerprint" && v == "falls")
        });
        if let Some(anomaly) = found {
            break anomaly;
        }
        assert!(
            Instant::now() < deadline,
            "no anomaly for the falling p99: {:?}",
            monitor.anomalies()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(anomaly.value < anomaly.expected && anomaly.z < 0.0, "{anomaly:?}");
    assert!((anomaly.value - 0.001).abs() < 1e-9, "{anomaly:?}");
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 1, Duration::from_secs(10)));
    let flat = |a: &perfscope::monitor::Anomaly| a.labels.iter().any(|(_, v)| v == "flat");
    assert!(!monitor.anomalies().iter().any(flat), "{:?}", monitor.anomalies());
    let snapshot = perfscope_core::snapshot();
    let counted = value(
        &snapshot.figures,
        names::ANOMALIES_TOTAL.name,
        &[
            ("subject", names::QUERY_DURATION_P99_SECONDS.name),
            ("kind", "figure"),
            ("section", "query"),
        ],
    );
    assert_eq!(counted, Some(1.0));
    // The history keeps the query's series (the report's trends read it).
    let history =
        monitor.history(names::QUERY_DURATION_P99_SECONDS.name, &[("fingerprint", "falls")]);
    assert!(history.len() >= 40, "{} points", history.len());
}

/// `perfscope::system()` live: with a monitor running, the host and process fields are read
/// from its figures and agree with `/proc`; the database fields come from a pool's figures.
#[test]
fn the_system_value_reads_the_monitor_and_the_pools() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dials = Arc::new(Dials::default());
    set(&dials.hit_ratio, 0.9);
    let _registered = perfscope_core::figures::register(dials);
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_function_analysis(false)
        .start()
        .expect("a monitor");
    assert!(monitor.wait_for_samples(2, Duration::from_secs(10)));
    let system = perfscope::system();
    assert!(system.cpu.usage.is_some_and(|u| (0.0..=1.0).contains(&u)), "{system:?}");
    assert!(system.cpu.load.is_some_and(|l| l >= 0.0), "{system:?}");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib = |field: &str| {
        let line = meminfo.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    };
    let used = kib("MemTotal:") - kib("MemAvailable:");
    let got = system.memory.used.expect("the host's memory in use") as f64;
    assert!((got - used as f64).abs() < 512.0 * 1024.0 * 1024.0, "{got} vs {used}");
    assert!(system.memory.resident.is_some_and(|r| r > 1024 * 1024), "{system:?}");
    // No function followed, no statement run: absent, not zero.
    assert_eq!((system.network.requests_per_second, system.database.query_time), (None, None));
}
