//! Every figure a running monitor gives a snapshot, and every history series it keeps, is an
//! entry of perfscope's name catalog (`perfscope_core::names`), with the catalog's section,
//! help, unit and kind: sources take all of it from there.

use std::time::Duration;

use perfscope_core::figures::FigureKind;
use perfscope_core::names::{self, MetricType};
use perfscope_monitor::Monitor;

#[perfscope::measure]
fn followed() {
    std::hint::black_box(());
}

#[test]
fn a_live_monitor_names_every_figure_from_the_catalog() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    followed();
    let followed_name = perfscope_core::snapshot()
        .callsites
        .iter()
        .find(|c| c.info.name.ends_with("::followed"))
        .map(|c| c.info.name.to_string())
        .expect("the followed function is measured");
    let monitor = Monitor::builder()
        .with_interval(perfscope_monitor::MIN_INTERVAL)
        .with_runtime(runtime.handle().clone())
        .with_traffic(followed_name)
        .start()
        .expect("the monitor starts");
    for _ in 0..3 {
        followed();
        assert!(monitor.wait_for_samples(monitor.samples() + 1, Duration::from_secs(30)));
    }

    let snapshot = perfscope_core::snapshot_with_history();
    let sections = [
        names::section::PROCESS,
        names::section::HOST,
        names::section::TOKIO,
        names::section::TRAFFIC,
    ];
    let ours: Vec<_> = snapshot.figures.iter().filter(|f| sections.contains(&f.section)).collect();
    for section in sections {
        assert!(ours.iter().any(|f| f.section == section), "no {section} figure: {ours:?}");
    }
    for figure in ours {
        let entry = names::ALL.iter().find(|n| n.name == figure.name);
        let entry = entry.unwrap_or_else(|| panic!("{} is not in names::ALL", figure.name));
        let kind = match entry.kind {
            MetricType::Gauge => FigureKind::Gauge,
            _ => FigureKind::Counter,
        };
        assert_eq!(
            (figure.section, figure.help, figure.unit, figure.kind),
            (entry.section, entry.help, entry.unit, kind),
            "{}",
            figure.name
        );
    }
    let latency = snapshot.history.iter().filter(|h| h.section == names::section::FUNCTION);
    for series in latency {
        assert!(names::HISTORY_ONLY.iter().any(|n| n.name == series.name), "{}", series.name);
    }
    drop(monitor);
}
