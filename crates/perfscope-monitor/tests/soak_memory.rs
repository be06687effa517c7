//! Soak: the monitor's sampling work, thousands of samples in a row, in flat memory. The
//! public `Monitor` samples at most every 200 ms (`MIN_INTERVAL`); to take thousands of
//! samples in seconds this drives the same work (`Worker::tick`: refresh, figures, rings,
//! thresholds, anomalies, per-function analysis) on the test's thread through the
//! benchmarks' `BenchSampler`, configured like the 10-minute memory bench
//! (`benches/memory.rs`, figures in BENCHMARKS.md), with measured functions called between
//! samples. `CountingAlloc` is this binary's allocator, so the heap in use is exact: once the
//! rings are full and the event list at its cap, it must not grow.
//!
//! Default: 3,000 samples (the bench's 10 minutes at 200 ms) with rings of 100 points: the
//! heap grows by less than the event list's cap allows. The `#[ignore]`d soak takes 30,000
//! with the default rings (600 points), past the event cap: its last 15,000 samples must
//! leave the heap flat. See RELIABILITY.md.

use std::hint::black_box;
use std::sync::Mutex;

use perfscope_monitor::{Above, BenchSampler, MAX_EVENTS, Monitor, names, threshold};

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

static SERIAL: Mutex<()> = Mutex::new(());

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

fn heap() -> u64 {
    perfscope_core::alloc::heap_in_use().expect("CountingAlloc is this binary's allocator")
}

fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).expect("pages") * 4096
}

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

/// Takes `warm_up` samples, then `samples` more, and checks that the heap in use did not grow
/// over the second run by more than what the event list may still add; `flat_tail`: the run is
/// long enough for the event list to reach its cap (about 12,000 samples here), so the last
/// half must add nothing.
fn soak(ring: usize, warm_up: u64, samples: u64, flat_tail: bool) {
    handle(10); // registered before the first sample
    let builder = Monitor::builder()
        .with_ring(ring)
        .with_threshold(
            threshold(names::PROCESS_RESIDENT_MEMORY_BYTES, Above(1e12)).hysteresis(1e9),
        )
        .with_threshold(threshold(names::NODE_CPU_USAGE_RATIO, Above(0.99)))
        .with_traffic(concat!(module_path!(), "::handle"))
        .with_function_analysis(true);
    let mut sampler = BenchSampler::from_builder(builder).expect("sysinfo works here");
    let mut take = |n: u64| {
        for i in 0..n {
            for _ in 0..20 {
                black_box(handle(64 + i % 64));
            }
            sampler.tick();
        }
    };
    take(warm_up);
    let (heap_warm, rss_warm) = (heap(), rss());
    let mut readings = Vec::with_capacity(11);
    for _ in 0..10 {
        take(samples / 10);
        readings.push(heap());
    }
    let (heap_after, rss_after) = (heap(), rss());
    let max = readings.iter().copied().max().unwrap_or(heap_after);
    println!(
        "{warm_up} + {samples} samples, rings of {ring}: heap {:.1} KiB after the warm-up, \
         {:.1} KiB after (max {:.1} KiB; readings {:?} KiB); RSS {:.2} -> {:.2} MiB",
        kib(heap_warm),
        kib(heap_after),
        kib(max),
        readings.iter().map(|&b| kib(b).round()).collect::<Vec<_>>(),
        kib(rss_warm) / 1024.0,
        kib(rss_after) / 1024.0,
    );
    // After the warm-up the rings are full; what may still grow is the event list, up to its
    // cap (a few hundred bytes an event). Anything kept per sample would be far more.
    let bound = MAX_EVENTS as u64 * 512;
    let grown = max.saturating_sub(heap_warm);
    assert!(grown <= bound, "heap grew by {grown} bytes over {samples} samples");
    if flat_tail {
        let last_half = heap_after.saturating_sub(readings[4]);
        assert!(last_half <= 16 * 1024, "heap grew by {last_half} bytes over the last half");
    }
}

#[test]
fn three_thousand_samples_in_flat_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    soak(100, 300, 3_000, false);
}

#[test]
#[ignore = "a 30,000-sample soak with the default rings: run in release, see RELIABILITY.md"]
fn thirty_thousand_samples_in_flat_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    soak(perfscope_monitor::DEFAULT_RING, 1_000, 30_000, true);
}
