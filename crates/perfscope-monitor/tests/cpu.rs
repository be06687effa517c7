//! Per-core CPU usage follows a busy thread: a regression test for the per-core figures reading
//! 0% on every core while the total read busy (sysinfo's process refresh, run before the CPU
//! refresh, reset the per-core times).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perfscope_monitor::{Monitor, names::NODE_CPU_USAGE_RATIO};

#[test]
fn per_core_usage_adds_up_to_the_total() {
    let monitor = Monitor::builder().with_interval(Duration::from_millis(300)).start().unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        assert!(monitor.wait_for_samples(3, Duration::from_secs(30)));
        stop.store(true, Ordering::Relaxed);
    });
    let last = |labels: &[(&str, &str)]| {
        let points = monitor.history(NODE_CPU_USAGE_RATIO, labels);
        points.last().map(|p| p.1).expect("a CPU usage point")
    };
    let total = last(&[]);
    let cores: Vec<f64> = (0..)
        .map(|i: usize| monitor.history(NODE_CPU_USAGE_RATIO, &[("cpu", &i.to_string())]))
        .take_while(|points| !points.is_empty())
        .map(|points| points.last().map_or(0.0, |p| p.1))
        .collect();
    assert!(!cores.is_empty());
    // A thread spinning the whole interval keeps at least half of one core busy.
    let busiest = cores.iter().copied().fold(0.0, f64::max);
    assert!(busiest >= 0.5, "per core {cores:?}, total {total}");
    // The total is the mean of the cores (within sampling skew between the two reads).
    let mean = cores.iter().sum::<f64>() / cores.len() as f64;
    assert!((mean - total).abs() <= 0.15, "per core {cores:?} (mean {mean}), total {total}");
}
