//! What perfscope costs as a program grows (issue 26): for threads × functions in
//! {1×100, 4×1,000, 16×2,000, 64×5,000, 1×10,000}, every thread calling every function once
//! (and 16×2,000 and 64×5,000 with 20 and with 300 calls of each, of spread latencies: in the
//! histograms' sparse stage, and past it in octaves), the resident memory
//! perfscope adds (and what its stores hold, `perfscope_core::held_bytes()`), the time of one `snapshot()`, and one Prometheus scrape in
//! the text format (`render()`, a new page each time, and `render_into` a buffer kept across
//! scrapes, as the listener does) and in the protobuf format (every function with a series of
//! its own).
//!
//! ```text
//! cargo bench -p perfscope-bench --bench scale            # every configuration
//! cargo bench -p perfscope-bench --bench scale -- 16x2000 # some of them (64x5000x300:
//!                                                         # 300 calls of each)
//! ```
//!
//! Each configuration runs in a process of its own (this binary re-runs itself), so its
//! memory and its snapshot hold only its own threads and functions. Memory is the resident set
//! (`/proc/self/statm`, Linux) added by the threads' calls: read when every thread has started
//! and waits (stacks touched), then when every thread has called every function and waits
//! again (their stores stay live, as a server's workers' do). Times are medians.

use std::hint::black_box;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use perfscope_core::{Callsite, enter};

#[path = "common/callsites.rs"]
mod common;
use common::callsites;

/// `threads × functions` configurations, and how many times each time is measured.
/// 1 × 10,000 is the scrape goal's largest program (one thread: the snapshot holds little).
/// (threads, functions, calls of each function per thread, repetitions).
const CONFIGS: [(usize, usize, usize, usize); 9] = [
    (1, 100, 1, 50),
    (4, 1_000, 1, 20),
    (16, 2_000, 1, 10),
    (64, 5_000, 1, 5),
    (1, 10_000, 1, 10),
    (16, 2_000, 20, 10),
    (64, 5_000, 20, 5),
    (16, 2_000, 300, 10),
    (64, 5_000, 300, 5),
];

/// Marks a child run: `SCALE_CHILD=<threads>x<functions>x<calls>x<repetitions>`.
const CHILD: &str = "PERFSCOPE_SCALE_CHILD";

/// Resident set size in bytes (`/proc/self/statm`'s second field, in pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Median time of `repetitions` runs of `f`.
fn median(repetitions: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..repetitions)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// One configuration, in this process: prints one table row.
///
/// With more than one call per function, call `k` of function `i` spins `(37 k + i) % 200`
/// iterations first, so each function's latencies spread over two or three powers of two
/// (the histograms' octaves), as a real function's do.
fn run(threads: usize, functions: usize, calls: usize, repetitions: usize) {
    let callsites: Arc<Vec<&'static Callsite>> = Arc::new(callsites("scale", functions));
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().expect("an address"))
        .with_max_functions(functions)
        .start()
        .expect("the exporter starts");
    // Every thread running (its stack touched), then, once the memory is read, calling.
    let [started, go, called, done] = std::array::from_fn(|_| Arc::new(Barrier::new(threads + 1)));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (callsites, started, go, called, done) =
                (callsites.clone(), started.clone(), go.clone(), called.clone(), done.clone());
            std::thread::spawn(move || {
                started.wait();
                go.wait();
                for k in 0..calls {
                    for (i, callsite) in callsites.iter().enumerate() {
                        let _guard = enter(callsite);
                        if calls > 1 {
                            for _ in 0..(37 * k + i) % 200 {
                                black_box(i);
                            }
                        }
                        black_box(callsite);
                    }
                }
                called.wait();
                done.wait();
            })
        })
        .collect();
    started.wait();
    let before = rss_bytes();
    let held_before = perfscope_core::held_bytes();
    go.wait();
    called.wait();
    let after = rss_bytes();
    let held = perfscope_core::held_bytes().saturating_sub(held_before);
    let added = after.saturating_sub(before);
    let pairs = (threads * functions) as f64;

    let snapshot = median(repetitions, || {
        black_box(perfscope_core::snapshot());
    });
    // The first scrape announces every series; the timed ones find nothing new.
    let text = exporter.render();
    let series = text.lines().filter(|l| l.starts_with("perfscope_function_calls_total{")).count();
    assert_eq!(series, functions, "one series per function");
    let text_time = median(repetitions, || {
        black_box(exporter.render());
    });
    // As the listener writes a page: into the buffer the previous scrape used.
    let mut kept = String::new();
    let kept_time = median(repetitions, || {
        kept.clear();
        exporter.render_into(&mut kept);
        black_box(kept.len());
    });
    let protobuf_time = median(repetitions, || {
        black_box(exporter.render_protobuf());
    });
    done.wait();
    workers.into_iter().for_each(|w| w.join().expect("a worker"));
    exporter.shutdown();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| {threads} × {functions} | {calls} | {:.1} MiB | {:.0} B | {:.0} B | {:.2} ms | {:.2} ms ({:.1} MiB) | {:.2} ms | {:.2} ms | {repetitions} |",
        added as f64 / (1 << 20) as f64,
        added as f64 / pairs,
        held as f64 / pairs,
        ms(snapshot),
        ms(text_time),
        text.len() as f64 / (1 << 20) as f64,
        ms(kept_time),
        ms(protobuf_time),
    );
}

fn main() {
    if let Ok(config) = std::env::var(CHILD) {
        let n: Vec<usize> = config.split('x').filter_map(|n| n.parse().ok()).collect();
        run(n[0], n[1], n[2], n[3]);
        return;
    }
    // `cargo bench` passes `--bench`; other arguments pick configurations (`16x2000`).
    let picked: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let exe = std::env::current_exe().expect("this benchmark's path");
    println!(
        "| threads × functions | calls each | RSS added | per (thread, function) | held by perfscope, per pair | snapshot() | text scrape, `render()` (page) | text scrape, kept buffer | protobuf scrape | runs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (threads, functions, calls, repetitions) in CONFIGS {
        let name = match calls {
            1 => format!("{threads}x{functions}"),
            _ => format!("{threads}x{functions}x{calls}"),
        };
        if !picked.is_empty() && !picked.contains(&name) {
            continue;
        }
        let status = Command::new(&exe)
            .env(CHILD, format!("{threads}x{functions}x{calls}x{repetitions}"))
            .status()
            .expect("the benchmark re-runs itself");
        assert!(status.success(), "{name} failed: {status}");
    }
}
