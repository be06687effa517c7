//! The monitor's memory over a long run: a monitor at the fastest interval (200 ms) with a
//! threshold and per-function analysis on, a few measured functions called meanwhile, the
//! process's resident memory (`/proc/self/statm`) and perfscope's heap in use
//! (`CountingAlloc`) read every 30 s. At 200 ms a 10-minute run takes 3,000 samples: the
//! 600-point rings wrap five times over, so anything that grows per sample shows.
//!
//! `cargo bench -p perfscope-monitor --bench memory` (10 minutes; `PERFSCOPE_MONITOR_MEMORY_SECS`
//! and `PERFSCOPE_MONITOR_MEMORY_EVERY` change the run and the reading interval, in seconds).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfscope_monitor::{Above, Monitor, names, threshold};

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

#[perfscope::measure]
fn parse(n: u64) -> u64 {
    (0..n).fold(0, |a, b| a ^ b.wrapping_mul(0x9e37_79b9))
}

#[perfscope::measure]
fn encode(n: u64) -> Vec<u8> {
    (0..n).map(|b| b as u8).collect()
}

#[perfscope::measure]
fn handle(n: u64) -> usize {
    encode(n).len() + parse(n) as usize % 2
}

/// Resident memory of this process, bytes (`/proc/self/statm`, pages of 4 KiB).
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// One reading: resident memory and heap in use, bytes.
type Reading = (Option<u64>, Option<u64>);

fn env_secs(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".into(), |b| format!("{:.2} MiB", b as f64 / 1048576.0))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would too: a short run then.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let run = Duration::from_secs(env_secs("PERFSCOPE_MONITOR_MEMORY_SECS", 600));
    let every = Duration::from_secs(env_secs("PERFSCOPE_MONITOR_MEMORY_EVERY", 30).max(1));
    handle(10); // registered before the monitor's first snapshot
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_threshold(
            threshold(names::PROCESS_RESIDENT_MEMORY_BYTES, Above(1e12)).hysteresis(1e9),
        )
        .with_threshold(
            threshold(names::NODE_CPU_USAGE_RATIO, Above(0.99))
                .for_duration(Duration::from_secs(5)),
        )
        .with_traffic(concat!(module_path!(), "::handle"))
        .with_function_analysis(true)
        .start()
        .expect("sysinfo works here");
    let stop = Arc::new(AtomicBool::new(false));
    let workload = {
        let stop = stop.clone();
        // About a thousand calls of each a second.
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..10 {
                    black_box(handle(black_box(2_000)));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    println!("monitor at 200 ms for {run:?}, a reading every {every:?}");
    println!("{:>8} {:>8} {:>12} {:>12} {:>7}", "t (s)", "samples", "RSS", "heap", "events");
    let start = Instant::now();
    let mut readings: Vec<Reading> = Vec::new();
    loop {
        let (rss, heap) = (rss(), perfscope_core::alloc::heap_in_use());
        readings.push((rss, heap));
        let events = monitor.events().len();
        println!(
            "{:>8.0} {:>8} {:>12} {:>12} {:>7}",
            start.elapsed().as_secs_f64(),
            monitor.samples(),
            mib(rss),
            mib(heap),
            events
        );
        if start.elapsed() + Duration::from_millis(500) >= run {
            break;
        }
        std::thread::sleep(every.min(run.saturating_sub(start.elapsed())));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = workload.join();
    let functions = perfscope_core::snapshot().callsites.len();
    let series = perfscope_core::snapshot_with_history().history.len();
    let summary = |pick: fn(&Reading) -> Option<u64>| {
        let values: Vec<u64> = readings.iter().filter_map(pick).collect();
        let (first, last) = (values.first().copied(), values.last().copied());
        format!("first {}, last {}, max {}", mib(first), mib(last), mib(values.into_iter().max()))
    };
    println!(
        "{} samples, {functions} measured functions, {series} history series",
        monitor.samples()
    );
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for event in monitor.events() {
        *kinds
            .entry(format!("{} {:?} {}", event.section, event.kind, event.subject))
            .or_default() += 1;
    }
    println!("events kept, by section, kind and subject: {kinds:#?}");
    println!("RSS:  {}", summary(|r| r.0));
    println!("heap: {}", summary(|r| r.1));
}
