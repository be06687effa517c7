//! What a session's report costs with 1,000 measured functions (goal: ≤ 5 ms), beside the
//! whole-run snapshot and report in the same run, and what starting a session costs:
//! `cargo bench -p perfscope-bench --bench session`. Figures and machine in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use perfscope_core::{Callsite, enter};

#[path = "common/callsites.rs"]
mod common;
use common::callsites;

const FUNCTIONS: usize = 1000;

/// Calls function `i`, which calls `i + 1` up to the end of its chain of ten (so 900 call
/// edges), each spinning a few microseconds (so the latency histograms span several octaves).
fn call(callsites: &[&'static Callsite], i: usize) {
    let _guard = enter(callsites[i]);
    let spin = Duration::from_nanos(200 * (i % 17) as u64);
    let start = Instant::now();
    while start.elapsed() < spin {
        std::hint::spin_loop();
    }
    if i % 10 != 9 {
        call(callsites, i + 1);
    }
}

fn round(callsites: &[&'static Callsite]) {
    for chain in (0..FUNCTIONS).step_by(10) {
        call(callsites, chain);
    }
}

fn session(c: &mut Criterion) {
    let callsites = callsites("bench", FUNCTIONS);
    for _ in 0..5 {
        round(&callsites);
    }
    let session = perfscope::session();
    for _ in 0..5 {
        round(&callsites);
    }
    let report = session.report();
    assert_eq!(report.functions.len(), FUNCTIONS, "every function is in the window");
    assert!(report.functions.iter().all(|f| f.calls == 5), "the window's calls only");

    let mut group = c.benchmark_group("session_1000_functions");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("baseline: perfscope::snapshot()", |b| {
        b.iter(|| black_box(perfscope::snapshot()))
    });
    group.bench_function("baseline: perfscope::report() (whole run)", |b| {
        b.iter(|| black_box(perfscope::report()))
    });
    group.bench_function("perfscope::session() (start)", |b| {
        b.iter(|| black_box(perfscope::session()))
    });
    group.bench_function("session.report()", |b| b.iter(|| black_box(session.report())));
    group.finish();
}

criterion_group!(benches, session);
criterion_main!(benches);
