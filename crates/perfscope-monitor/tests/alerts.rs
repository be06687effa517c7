//! Thresholds evaluated by a running monitor, on a figure the test moves by a known amount:
//! this process's resident memory, grown by touching buffers and shrunk by freeing them
//! (large allocations are their own mappings: freeing one returns its pages at once). One
//! test in this binary, so no other test's memory moves it. Linux only (`/proc/self/status`).
#![cfg(target_os = "linux")]

mod support;

use std::sync::mpsc;
use std::time::Duration;

use perfscope_core::figures::EventKind;
use perfscope_monitor::{Above, Alert, AlertState, Below, Monitor, names, threshold};
use support::rss;

const MIB: f64 = 1024.0 * 1024.0;
/// What else moves this process's resident memory (the monitor's own rings, the harness).
const SLACK: f64 = 16.0 * MIB;

/// A buffer of `mib` MiB, every page written.
fn touched(mib: usize) -> Vec<u8> {
    std::hint::black_box(vec![1u8; mib << 20])
}

/// The next alert the callback passed on, within 30 s.
fn next(alerts: &mpsc::Receiver<(&'static str, Alert)>) -> (&'static str, Alert) {
    alerts.recv_timeout(Duration::from_secs(30)).expect("an alert within 30 s")
}

#[test]
fn resident_memory_thresholds_fire_and_resolve_with_a_known_allocation() {
    let base = rss();
    // Above fires over base + 96 MiB and resolves at base + 32 MiB; Below fires under
    // base + 96 MiB and resolves only at base + 160 MiB.
    let limit = base + 96.0 * MIB;
    let hysteresis = 64.0 * MIB;
    let (tx, alerts) = mpsc::channel();
    let callback = |name: &'static str| {
        let tx = tx.clone();
        move |alert: &Alert| {
            let _ = tx.send((name, alert.clone()));
        }
    };
    let name = names::PROCESS_RESIDENT_MEMORY_BYTES;
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_function_analysis(false)
        .with_threshold(
            threshold(name, Above(limit)).hysteresis(hysteresis).on_alert(callback("above")),
        )
        .with_threshold(
            threshold(name, Below(limit)).hysteresis(hysteresis).on_alert(callback("below")),
        )
        .start()
        .expect("the monitor starts");

    // Below is breached from the first sample.
    let (which, fired) = next(&alerts);
    assert_eq!((which, fired.state, fired.condition), ("below", AlertState::Fired, Below(limit)));
    assert_eq!((fired.figure.as_str(), fired.labels.len()), (name, 0));
    assert!((fired.value - base).abs() < SLACK, "{fired:?} vs VmRSS {base}");

    // +128 MiB: over the limit (Above fires) but under limit + hysteresis (Below keeps firing).
    let first = touched(128);
    let grown = rss();
    let (which, fired) = next(&alerts);
    assert_eq!((which, fired.state), ("above", AlertState::Fired), "{fired:?}");
    // A sample may catch the buffer half written: over the limit, at most what it reached.
    assert!(fired.value > limit && fired.value < grown + SLACK, "{fired:?} vs VmRSS {grown}");
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 3, Duration::from_secs(30)));
    assert!(alerts.try_recv().is_err(), "Below resolves only past limit + hysteresis");

    // +64 MiB more: past limit + hysteresis, Below resolves.
    let second = touched(64);
    let grown = rss();
    let (which, resolved) = next(&alerts);
    assert_eq!((which, resolved.state), ("below", AlertState::Resolved), "{resolved:?}");
    let resolved_at = limit + hysteresis..grown + SLACK;
    assert!(resolved_at.contains(&resolved.value), "{resolved:?} vs VmRSS {grown}");

    // Freed: Above resolves and Below fires again (in the same sample, or Below first when
    // a sample catches the pages being returned).
    drop((first, second));
    let freed = rss();
    let mut last = [next(&alerts), next(&alerts)];
    last.sort_by_key(|(which, _)| *which);
    let [(_, resolved), (_, fired)] = last;
    assert_eq!((resolved.state, resolved.condition), (AlertState::Resolved, Above(limit)));
    assert_eq!((fired.state, fired.condition), (AlertState::Fired, Below(limit)));
    // A sample may catch the pages being returned: at least what is left.
    let resolved_at = freed - SLACK..=limit - hysteresis;
    assert!(resolved_at.contains(&resolved.value), "{resolved:?} vs VmRSS {freed}");
    assert!(fired.value < limit && fired.at <= resolved.at, "{fired:?} {resolved:?}");

    // The monitor keeps them, and snapshots carry them as events.
    let kept: Vec<(AlertState, perfscope_monitor::Condition)> =
        monitor.alerts().iter().map(|a| (a.state, a.condition)).collect();
    use AlertState::{Fired, Resolved};
    assert_eq!(kept[..3], [(Fired, Below(limit)), (Fired, Above(limit)), (Resolved, Below(limit))]);
    assert_eq!(kept.len(), 5, "{kept:?}");
    assert!(
        kept[3..].contains(&(Resolved, Above(limit))) && kept[3..].contains(&(Fired, Below(limit)))
    );
    let events = monitor.events();
    let messages: Vec<&str> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::AlertFired | EventKind::AlertResolved))
        .map(|e| e.message.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(messages.len(), 5, "{messages:?}");
    let (above, below) = (format!("{name}_above"), format!("{name}_below"));
    let fired = messages.iter().filter(|m| m.ends_with(" fired")).count();
    let first = [
        format!("alert {below} fired"),
        format!("alert {above} fired"),
        format!("alert {below} resolved"),
    ];
    assert_eq!((messages[..3].to_vec(), fired), (first.iter().map(String::as_str).collect(), 3));
    assert!(events.iter().all(|e| e.subject == name || e.kind == EventKind::Anomaly));

    // The same alerts as series, in every snapshot: the firing gauge per alert and series,
    // the transitions per state. After the run, Above has fired and resolved once, Below fired
    // twice and resolved once, and Below fires.
    let n = monitor.samples();
    assert!(monitor.wait_for_samples(n + 1, Duration::from_secs(30)));
    let snapshot = perfscope_core::snapshot();
    let series = |family: &str, labels: &[(&str, &str)]| {
        let matching: Vec<f64> = snapshot
            .figures
            .iter()
            .filter(|f| {
                f.name == family
                    && labels.iter().all(|(k, v)| f.labels.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|f| f.value)
            .collect();
        assert_eq!(matching.len(), 1, "{family} {labels:?}: {matching:?}");
        matching[0]
    };
    let firing = perfscope_core::names::ALERT_FIRING.name;
    let transitions = perfscope_core::names::ALERT_TRANSITIONS_TOTAL.name;
    let on = |alert: &str| {
        series(firing, &[("alert", alert), ("figure", name), ("severity", "warning")])
    };
    assert_eq!((on(&above), on(&below)), (0.0, 1.0));
    let count = |alert: &str, state| series(transitions, &[("alert", alert), ("state", state)]);
    assert_eq!((count(&above, "fired"), count(&above, "resolved")), (1.0, 1.0));
    assert_eq!((count(&below, "fired"), count(&below, "resolved")), (2.0, 1.0));
}
