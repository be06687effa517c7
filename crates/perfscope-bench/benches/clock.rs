//! Clock candidates side by side: the read perfscope uses, `quanta`, `minstant` and
//! `std::time::Instant`. `cargo bench -p perfscope-bench --bench clock`; figures in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn clocks(c: &mut Criterion) {
    let mut group = c.benchmark_group("clock_read");
    #[cfg(target_arch = "x86_64")]
    group.bench_function("rdtsc (raw instruction)", |b| {
        // SAFETY: rdtsc exists on every x86_64 CPU.
        b.iter(|| black_box(unsafe { core::arch::x86_64::_rdtsc() }))
    });
    group.bench_function("perfscope_core::clock::now", |b| {
        b.iter(|| black_box(perfscope_core::clock::now()))
    });
    let quanta = quanta::Clock::new();
    group.bench_function("quanta::Clock::raw", |b| b.iter(|| black_box(quanta.raw())));
    group.bench_function("quanta::Instant::now", |b| b.iter(|| black_box(quanta::Instant::now())));
    group.bench_function("minstant::Instant::now", |b| {
        b.iter(|| black_box(minstant::Instant::now()))
    });
    group.bench_function("std::time::Instant::now", |b| {
        b.iter(|| black_box(std::time::Instant::now()))
    });
    group.finish();
}

criterion_group!(benches, clocks);
criterion_main!(benches);
