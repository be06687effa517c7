//! What instrumenting costs, beside the bare library in the same run: a moka cache hit, and a
//! deadpool unmanaged acquire + release (an idle object, so the future is ready at once). The
//! cache hit runs on one thread, then on two threads hitting one cache at once.
//!
//! `cargo bench -p perfscope-instrument --bench instrument`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

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

    // The same hit with [`THREADS`] threads hitting one cache at once: where counters on one
    // shared cache line would move between cores on every hit.
    let mut group = c.benchmark_group(format!("cache_get_hit_{THREADS}_threads"));
    group.bench_function("moka", |b| {
        b.iter_custom(|iters| on_threads(iters, || bare.get(black_box(&42))))
    });
    group.bench_function("instrumented", |b| {
        b.iter_custom(|iters| on_threads(iters, || measured.get(black_box(&42))))
    });
    group.finish();
}

/// Threads of the multi-thread cache bench.
const THREADS: usize = 2;

/// Runs `op` `iters` times on each of [`THREADS`] threads started together; the time per
/// call is each thread's own loop time, averaged over the threads.
fn on_threads<T>(iters: u64, op: impl Fn() -> T + Sync) -> Duration {
    let start = Barrier::new(THREADS);
    let total: Duration = std::thread::scope(|scope| {
        let loops: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let began = Instant::now();
                    for _ in 0..iters {
                        black_box(op());
                    }
                    began.elapsed()
                })
            })
            .collect();
        loops.into_iter().map(|thread| thread.join().expect("bench thread")).sum()
    });
    total / THREADS as u32
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

/// bb8 connections that are numbers: `get()` + drop of an idle one, bare and instrumented
/// (bb8 itself locks its pool and checks the connection on check-out, on both sides).
#[derive(Debug)]
struct Numbers;

impl bb8::ManageConnection for Numbers {
    type Connection = u64;
    type Error = std::convert::Infallible;
    async fn connect(&self) -> Result<u64, Self::Error> {
        Ok(7)
    }
    async fn is_valid(&self, _connection: &mut u64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn has_broken(&self, _connection: &mut u64) -> bool {
        false
    }
}

fn bb8_acquire(c: &mut Criterion) {
    use perfscope_instrument::pool::InstrumentedBb8Pool;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let build = || {
        let builder = bb8::Pool::builder().max_size(2).min_idle(2);
        runtime.block_on(builder.build(Numbers)).expect("numbers connect")
    };
    let (bare, measured) = (build(), InstrumentedBb8Pool::new("bench_bb8", build()));
    // bb8's `get` needs a runtime (its timeout): each sample is one `block_on` of a loop.
    let mut group = c.benchmark_group("bb8_get_release");
    group.bench_function("bb8", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let began = std::time::Instant::now();
                for _ in 0..iters {
                    let connection = bare.get().await.expect("an idle connection");
                    black_box(*connection);
                }
                began.elapsed()
            })
        })
    });
    group.bench_function("instrumented", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let began = std::time::Instant::now();
                for _ in 0..iters {
                    let connection = measured.get().await.expect("an idle connection");
                    black_box(*connection);
                }
                began.elapsed()
            })
        })
    });
    group.finish();
}

fn sqlx_acquire(c: &mut Criterion) {
    use perfscope_instrument::pool::InstrumentedSqlxPool;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    // One in-memory SQLite connection each, as sqlx pools are by default. sqlx's acquire pings
    // the connection through SQLite's worker thread and its release is a spawned task: on a
    // loaded 2-core machine the spread between runs (microseconds) is far above the frame's.
    let connect = || {
        let options = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1);
        runtime.block_on(options.connect("sqlite::memory:")).expect("in-memory SQLite")
    };
    let (bare, measured) = (connect(), InstrumentedSqlxPool::new("bench_sqlx", connect()));
    let mut group = c.benchmark_group("sqlx_acquire_release");
    group.bench_function("sqlx", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let began = std::time::Instant::now();
                for _ in 0..iters {
                    black_box(bare.acquire().await.expect("the connection"));
                }
                began.elapsed()
            })
        })
    });
    group.bench_function("instrumented", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let began = std::time::Instant::now();
                for _ in 0..iters {
                    black_box(measured.acquire().await.expect("the connection"));
                }
                began.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = cache_hit, pool_acquire, bb8_acquire, sqlx_acquire
}
criterion_main!(benches);
