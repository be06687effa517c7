//! What a histogram value costs in each of the latency histogram's stages (issue 26): a
//! (thread, function) pair's first values go to its sparse stage, later ones to its octaves.
//! `cargo bench -p perfscope-bench --bench stages` (figures and machine in BENCHMARKS.md).
//!
//! Per round: `FRESH` new histograms each take their first 258 values (two kept inline, 256
//! in the sparse stage), then those same histograms take 258 more (past the stage: octaves
//! allocated, then the one-load path), and a warmed histogram takes as many values (octaves in
//! place: a hot function's steady state), before the fresh ones in even rounds and after them
//! in odd ones. The values cycle through 24 latencies over three octaves,
//! as a function's do. Figures: ns per value, medians of the rounds [10th–90th percentiles].

use std::hint::black_box;
use std::time::Instant;

use perfscope_core::histogram::{AtomicHistogram, SAMPLES, SPARSE_FOR};

#[path = "common/spread.rs"]
mod spread;
use spread::spread;

const ROUNDS: usize = 201;
/// New histograms per round (a pair each).
const FRESH: usize = 2_000;
/// Values a pair's first two stages take: the samples and the sparse stage's (258 in all).
const STAGED: usize = SAMPLES + SPARSE_FOR as usize;

/// Latencies in ticks: 24 values over three octaves (200 to 1,500 ticks).
fn value(i: usize) -> u64 {
    200 + (i as u64 % 24) * 55
}

fn per_value(values: usize, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos() as f64 / values as f64
}

fn main() {
    let warm = AtomicHistogram::new();
    (0..10 * STAGED).for_each(|i| warm.record(value(i)));
    let [mut first, mut next, mut steady] = [(); 3].map(|_| Vec::with_capacity(ROUNDS));
    for round in 0..ROUNDS {
        let fresh: Vec<AtomicHistogram> = (0..FRESH).map(|_| AtomicHistogram::new()).collect();
        let values = FRESH * STAGED;
        let mut warmed = || {
            steady.push(per_value(values, || {
                for _ in &fresh {
                    (0..STAGED).for_each(|i| warm.record(black_box(value(i))));
                }
            }))
        };
        // The warmed histogram before the fresh ones in even rounds, after them in odd ones.
        if round % 2 == 0 {
            warmed();
        }
        first.push(per_value(values, || {
            for h in &fresh {
                (0..STAGED).for_each(|i| h.record(black_box(value(i))));
            }
        }));
        next.push(per_value(values, || {
            for h in &fresh {
                (STAGED..2 * STAGED).for_each(|i| h.record(black_box(value(i))));
            }
        }));
        if round % 2 == 1 {
            warmed();
        }
        drop(black_box(fresh));
    }
    println!("ns per value, median of {ROUNDS} rounds [10th – 90th pct]");
    let rows = [
        ("a pair's first 258 values (2 inline, 256 in the sparse stage)", first),
        ("its next 258 (octaves allocated, then the one-load path)", next),
        ("a warmed histogram (octaves in place: the steady state)", steady),
    ];
    for (label, t) in rows {
        let (median, p10, p90) = spread(t);
        println!("  {label:<64} {median:>6.2} ns  [{p10:.2} – {p90:.2}]");
    }
}
