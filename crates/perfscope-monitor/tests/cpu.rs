//! Host CPU usage, whole and per core, against a known load and `/proc/stat` read by the test
//! itself: a thread spinning pinned to one core keeps that core busy in every sample, and over
//! a window of samples each series' time-weighted mean is the busy share of the test's own
//! `/proc/stat` deltas over the same window (the window's ends differ by the few milliseconds
//! between a sample and the test's reading). Also a regression test for the per-core figures
//! reading 0% on every core while the total read busy (sysinfo's process refresh, run before
//! the CPU refresh, reset the per-core times). Linux only.
#![cfg(target_os = "linux")]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perfscope_monitor::{Monitor, names::NODE_CPU_USAGE_RATIO};
use support::{allowed_cpus, busy_shares, intervals, pin_to, proc_stat};

/// Stops the spinner when dropped, also when an assertion panics (the scope would wait for it).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The time-weighted mean of the samples after `first` up to `last`, and the lowest sample.
fn weighted(points: &[(f64, f64)], first: f64, last: f64) -> (f64, f64) {
    let samples = intervals(points, first, last);
    let seconds: f64 = samples.iter().map(|s| s.0).sum();
    let mean = samples.iter().map(|(dt, v)| dt * v).sum::<f64>() / seconds;
    (mean, samples.iter().map(|s| s.1).fold(f64::INFINITY, f64::min))
}

#[test]
fn usage_follows_a_pinned_busy_thread_and_agrees_with_proc_stat() {
    // The last core this test may run on, and its index among /proc/stat's cores (which is
    // the monitor's `cpu` label).
    let allowed = allowed_cpus();
    let cores = proc_stat().len() - 1;
    let (index, cpu) = proc_stat()[1..]
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.name["cpu".len()..].parse::<usize>().ok().map(|n| (i, n)))
        .rfind(|(_, n)| allowed.contains(n))
        .expect("a core this test may run on");
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(300))
        .with_function_analysis(false)
        .start()
        .expect("the monitor starts");
    let stop = &AtomicBool::new(false);
    let (total, per_core, first, last, before, after) = std::thread::scope(|s| {
        let (pinned, is_pinned) = std::sync::mpsc::channel();
        s.spawn(move || {
            pinned.send(pin_to(cpu)).expect("the test waits");
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        let _stop = StopOnDrop(stop);
        assert!(is_pinned.recv().expect("the spinner starts"), "pinned to cpu {cpu}");
        // Sample n + 2 began after sample n + 1 ended, so after the spinner started.
        let n = monitor.samples();
        assert!(monitor.wait_for_samples(n + 2, Duration::from_secs(30)));
        let first = monitor.history(NODE_CPU_USAGE_RATIO, &[]).last().expect("a point").0;
        let before = proc_stat();
        let n = monitor.samples();
        assert!(monitor.wait_for_samples(n + 5, Duration::from_secs(60)));
        let total = monitor.history(NODE_CPU_USAGE_RATIO, &[]);
        let per_core: Vec<Vec<(f64, f64)>> = (0..cores)
            .map(|i| monitor.history(NODE_CPU_USAGE_RATIO, &[("cpu", &i.to_string())]))
            .collect();
        let after = proc_stat();
        let last = total.last().expect("a point").0;
        (total, per_core, first, last, before, after)
    });
    let shares = busy_shares(&before, &after);
    let context = format!("pinned cpu {cpu} (index {index}); /proc/stat shares {shares:?}");

    // The known load: the pinned core is busy the whole window, in every sample.
    assert!(shares[1 + index] >= 0.9, "{context}");
    let (busy_mean, busy_min) = weighted(&per_core[index], first, last);
    assert!(busy_min >= 0.9 && busy_mean <= 1.0, "{busy_min} {busy_mean}; {context}");

    // Every series agrees with the test's own /proc/stat deltas, from both sides.
    let (host, _) = weighted(&total, first, last);
    assert!((host - shares[0]).abs() <= 0.1, "host {host}; {context}");
    // At least one of the cores' worth of busy time: the spinner's.
    assert!(host >= 1.0 / cores as f64 - 0.05, "host {host}; {context}");
    let mut means = Vec::new();
    for (i, points) in per_core.iter().enumerate() {
        let (mean, _) = weighted(points, first, last);
        assert!((mean - shares[1 + i]).abs() <= 0.15, "core {i}: {mean}; {context}");
        means.push(mean);
    }
    // The total is the mean of the cores.
    let of_cores = means.iter().sum::<f64>() / cores as f64;
    assert!((of_cores - host).abs() <= 0.05, "cores {means:?}, host {host}; {context}");
    eprintln!("host {host}, cores {means:?}; {context}");
    let samples = intervals(&total, first, last).len();
    assert!(samples >= 5, "{samples} samples in the window");
}
