//! What instrumenting costs, beside the bare library in the same run: a moka cache hit, and a
//! deadpool unmanaged acquire + release (an idle object, so the future is ready at once).
//!
//! `cargo bench -p perfscope-instrument --bench instrument`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfscope_instrument::cache::InstrumentedCache;
use perfscope_instrument::pool::InstrumentedPool;

/// Polls `future` once: an acquire from a pool with an idle object is ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the bench's pool has an idle object"),
    }
}

fn cache_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("cache_get_hit");
    let bare: moka::sync::Cache<u64, u64> =
        moka::sync::Cache::builder().max_capacity(1_000).build();
    let measured =
        InstrumentedCache::new("bench", moka::sync::Cache::builder().max_capacity(1_000));
    for k in 0..100 {
        bare.insert(k, k);
        measured.insert(k, k);
    }
    group.bench_function("moka", |b| b.iter(|| bare.get(black_box(&42))));
    group.bench_function("instrumented", |b| b.iter(|| measured.get(black_box(&42))));
    group.finish();
}

fn pool_acquire(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool_acquire_release");
    let bare = deadpool::unmanaged::Pool::from(vec![1_u64, 2]);
    let measured = InstrumentedPool::new("bench", deadpool::unmanaged::Pool::from(vec![1_u64, 2]));
    group.bench_function("deadpool", |b| {
        b.iter(|| {
            let object = ready(bare.get()).expect("idle object");
            black_box(*object)
        })
    });
    // What the instrumented acquire calls first (an idle object: no wait to measure).
    group.bench_function("deadpool_try_get", |b| {
        b.iter(|| {
            let object = bare.try_get().expect("idle object");
            black_box(*object)
        })
    });
    group.bench_function("instrumented", |b| {
        b.iter(|| {
            let object = ready(measured.get()).expect("idle object");
            black_box(*object)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = cache_hit, pool_acquire
}
criterion_main!(benches);
