//! `#[measure]`'s cost against its floor, and the tracing layer's against `Registry`'s own, as
//! medians of alternating rounds in one process: `cargo bench -p perfscope-bench --bench
//! alternated` (figures and machine in BENCHMARKS.md).
//!
//! Criterion measures one function after another, so a machine whose speed drifts (other
//! processes, frequency) moves one row and not the next. Here every round runs each variant
//! once for the same number of calls, in an order that rotates round by round, and each
//! round's differences are taken within the round; the figures are the medians over rounds,
//! with the 10th–90th percentiles of those per-round figures.
//!
//! Two phases: allocation tracking off (no `CountingAlloc` has served an allocation yet), then
//! on (one has: every frame then reads the allocation counters too). `-- spans` runs the layer
//! phase alone.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::time::Instant;

use perfscope::CountingAlloc;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

#[path = "common/spread.rs"]
mod spread;
use spread::spread;

#[inline(never)]
fn empty_plain(x: u64) -> u64 {
    black_box(x)
}

#[perfscope::measure]
#[inline(never)]
fn empty_measured(x: u64) -> u64 {
    black_box(x)
}

#[inline(never)]
fn empty_block(x: u64) -> u64 {
    perfscope::measure_block!("alternated::block", { black_box(x) })
}

#[inline(never)]
fn two_clock_reads(x: u64) -> u64 {
    let start = perfscope_core::clock::now();
    black_box(perfscope_core::clock::now()) - start + x
}

#[tracing::instrument(skip_all)]
#[inline(never)]
fn empty_instrumented(x: u64) -> u64 {
    black_box(x)
}

/// A layer that does nothing: `#[instrument]` with a `Registry` alone.
struct NoopLayer;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// Calls per variant per round.
const CALLS: u64 = 20_000;
/// Rounds per phase (odd: the median is one round's figure).
const ROUNDS: usize = 301;

/// A variant: a name and a loop of `CALLS` calls, returning ns per call.
struct Variant<'a> {
    name: &'static str,
    run: Box<dyn Fn() -> f64 + 'a>,
}

fn timed(f: impl Fn(u64) -> u64) -> f64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for i in 0..CALLS {
        acc = acc.wrapping_add(f(black_box(i)));
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

fn variant<'a>(name: &'static str, f: impl Fn(u64) -> u64 + 'a) -> Variant<'a> {
    Variant { name, run: Box::new(move || timed(&f)) }
}

/// `ROUNDS` rounds of every variant, order rotating; per round, ns per call of each.
fn rounds(variants: &[Variant<'_>]) -> Vec<Vec<f64>> {
    // Warm-up: every callsite registered, every slot and octave allocated.
    for v in variants {
        (v.run)();
    }
    (0..ROUNDS)
        .map(|round| {
            let mut times = vec![0.0; variants.len()];
            for k in 0..variants.len() {
                let i = (round + k) % variants.len();
                times[i] = (variants[i].run)();
            }
            times
        })
        .collect()
}

fn column(times: &[Vec<f64>], f: impl Fn(&[f64]) -> f64) -> (f64, f64, f64) {
    spread(times.iter().map(|t| f(t)).collect())
}

fn print_row(label: &str, (median, p10, p90): (f64, f64, f64), unit: &str) {
    println!("  {label:<58} {median:>8.2}{unit}  [{p10:.2} – {p90:.2}]");
}

/// The call-cost phase: plain, floor, `#[measure]`, block; figures as added over plain.
fn calls(phase: &str) {
    let variants = [
        variant("empty fn", empty_plain),
        variant("two clock reads", two_clock_reads),
        variant("#[measure]", empty_measured),
        variant("measure_block!", empty_block),
    ];
    let times = rounds(&variants);
    println!("{phase}: ns per call, median of {ROUNDS} alternating rounds [10th – 90th pct]");
    for (i, v) in variants.iter().enumerate() {
        print_row(v.name, column(&times, |t| t[i]), " ns");
    }
    print_row("two clock reads: added (the floor)", column(&times, |t| t[1] - t[0]), " ns");
    print_row("#[measure]: added", column(&times, |t| t[2] - t[0]), " ns");
    print_row("measure_block!: added", column(&times, |t| t[3] - t[0]), " ns");
    print_row(
        "#[measure] added / floor added",
        column(&times, |t| (t[2] - t[0]) / (t[1] - t[0])),
        "x",
    );
    print_row(
        "measure_block! added / floor added",
        column(&times, |t| (t[3] - t[0]) / (t[1] - t[0])),
        "x",
    );
}

/// The layer phase: `#[instrument]` under a bare Registry and under Registry + perfscope, each
/// subscriber the scoped default for its whole run of calls.
fn layer() {
    let noop = Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    let perfscope = Dispatch::new(tracing_subscriber::registry().with(perfscope::layer()));
    let under = |name: &'static str, dispatch: Dispatch| Variant {
        name,
        run: Box::new(move || {
            tracing::dispatcher::with_default(&dispatch, || timed(empty_instrumented))
        }),
    };
    let variants = [
        variant("empty fn", empty_plain),
        under("#[instrument] + Registry", noop),
        under("#[instrument] + Registry + perfscope layer", perfscope),
    ];
    let times = rounds(&variants);
    println!("spans: ns per call, median of {ROUNDS} alternating rounds [10th – 90th pct]");
    for (i, v) in variants.iter().enumerate() {
        print_row(v.name, column(&times, |t| t[i]), " ns");
    }
    print_row("Registry's cost per span", column(&times, |t| t[1] - t[0]), " ns");
    print_row("perfscope layer: added per span", column(&times, |t| t[2] - t[1]), " ns");
    print_row(
        "perfscope layer added / Registry's cost",
        column(&times, |t| (t[2] - t[1]) / (t[1] - t[0])),
        "x",
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    if std::env::args().all(|a| a != "--bench") {
        black_box(empty_measured(1) + empty_block(1) + two_clock_reads(1));
        return;
    }
    // `cargo bench --bench alternated -- spans`: the layer phase alone (for profiling it).
    if std::env::args().any(|a| a == "spans") {
        layer();
        return;
    }
    calls("allocation tracking off");
    layer();
    static COUNTING: CountingAlloc = CountingAlloc::system();
    let layout = Layout::from_size_align(64, 8).expect("valid layout");
    // SAFETY: a non-zero-size layout, freed by the allocator that made it.
    unsafe { COUNTING.dealloc(black_box(COUNTING.alloc(layout)), layout) };
    calls("allocation tracking on");
}
