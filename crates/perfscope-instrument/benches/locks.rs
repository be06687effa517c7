//! What instrumenting a lock costs, beside the bare lock in the same run: an uncontended
//! lock + unlock on one thread (std, parking_lot and tokio mutexes; a std read lock), and the
//! parts of it: a clock read (two per hold) and a `try_lock` (what every acquisition tries
//! first, so a contended one alone is a frame).
//!
//! `cargo bench -p perfscope-instrument --features locks-parking-lot,locks-tokio --bench locks`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use perfscope_instrument::lock;

/// Polls `future` once: an uncontended lock is ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the bench's lock is free"),
    }
}

fn mutexes(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex_lock_unlock");
    let bare = std::sync::Mutex::new(0_u64);
    group.bench_function("std", |b| {
        b.iter(|| *bare.lock().expect("never poisoned") += black_box(1))
    });
    let measured = lock::Mutex::new("bench_std", 0_u64);
    group.bench_function("std_instrumented", |b| {
        b.iter(|| *measured.lock().expect("never poisoned") += black_box(1))
    });
    let bare = parking_lot::Mutex::new(0_u64);
    group.bench_function("parking_lot", |b| b.iter(|| *bare.lock() += black_box(1)));
    let measured = lock::parking_lot::Mutex::new("bench_parking_lot", 0_u64);
    group.bench_function("parking_lot_instrumented", |b| {
        b.iter(|| *measured.lock() += black_box(1))
    });
    let bare = tokio::sync::Mutex::new(0_u64);
    group.bench_function("tokio", |b| b.iter(|| *ready(bare.lock()) += black_box(1)));
    let measured = lock::tokio::Mutex::new("bench_tokio", 0_u64);
    group.bench_function("tokio_instrumented", |b| {
        b.iter(|| *ready(measured.lock()) += black_box(1))
    });
    group.finish();

    let mut group = c.benchmark_group("rwlock_read_unlock");
    let bare = std::sync::RwLock::new(0_u64);
    group
        .bench_function("std", |b| b.iter(|| *bare.read().expect("never poisoned") + black_box(1)));
    let measured = lock::RwLock::new("bench_std_rw", 0_u64);
    group.bench_function("std_instrumented", |b| {
        b.iter(|| *measured.read().expect("never poisoned") + black_box(1))
    });
    group.finish();

    let mut group = c.benchmark_group("lock_parts");
    group.bench_function("clock_now", |b| b.iter(perfscope_core::clock::now));
    let bare = std::sync::Mutex::new(0_u64);
    group.bench_function("std_try_lock", |b| {
        b.iter(|| *bare.try_lock().expect("free") += black_box(1))
    });
    group.finish();
}

criterion_group!(benches, mutexes);
criterion_main!(benches);
