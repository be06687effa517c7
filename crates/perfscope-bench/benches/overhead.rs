//! What `#[measure]` costs per call, side by side with its floor (two clock reads) and with
//! the alternatives users would otherwise pick, all in one run:
//! `cargo bench -p perfscope-bench --bench overhead`. Figures and machine in BENCHMARKS.md.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use std::alloc::{GlobalAlloc, Layout, System};

use criterion::{Criterion, criterion_group, criterion_main};
use perfscope::CountingAlloc;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

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
    perfscope::measure_block!("bench::block", { black_box(x) })
}

#[inline(never)]
fn empty_scope(x: u64) -> u64 {
    let _scope = perfscope::scope!("bench::scope");
    black_box(x)
}

#[inline(never)]
fn empty_timed(x: u64) -> u64 {
    perfscope::time("bench::time", || black_box(x))
}

#[inline(never)]
fn empty_timed_runtime_name(name: &str, x: u64) -> u64 {
    perfscope::time(name, || black_box(x))
}

#[tracing::instrument(skip_all)]
#[inline(never)]
fn empty_instrumented(x: u64) -> u64 {
    black_box(x)
}

#[hotpath::measure]
#[inline(never)]
fn empty_hotpath(x: u64) -> u64 {
    black_box(x)
}

#[inline(never)]
fn two_clock_reads() -> u64 {
    let start = perfscope_core::clock::now();
    black_box(perfscope_core::clock::now()) - start
}

#[inline(never)]
async fn empty_async_plain(x: u64) -> u64 {
    black_box(x)
}

#[perfscope::measure]
#[inline(never)]
async fn empty_async_measured(x: u64) -> u64 {
    black_box(x)
}

/// Polls a future that is ready on its first poll: the cheapest possible executor.
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("benchmark futures are always ready"),
    }
}

/// A layer that does nothing: what `#[instrument]` costs with a `Registry` alone.
struct NoopLayer;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

fn single_thread(c: &mut Criterion) {
    let _hotpath = hotpath::HotpathGuardBuilder::new("overhead-bench").build();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(NoopLayer))
        .expect("the only global subscriber");

    let mut group = c.benchmark_group("sync_call");
    group.bench_function("empty fn (baseline)", |b| b.iter(|| empty_plain(black_box(1))));
    group.bench_function("two clock reads (floor)", |b| b.iter(two_clock_reads));
    group.bench_function("perfscope #[measure]", |b| b.iter(|| empty_measured(black_box(1))));
    group.bench_function("perfscope measure_block!", |b| b.iter(|| empty_block(black_box(1))));
    group.bench_function("perfscope scope! guard", |b| b.iter(|| empty_scope(black_box(1))));
    group.bench_function("perfscope::time, literal name", |b| b.iter(|| empty_timed(black_box(1))));
    let name = format!("bench::time::{}", black_box(7));
    group.bench_function("perfscope::time, name made at run time", |b| {
        b.iter(|| empty_timed_runtime_name(black_box(&name), black_box(1)))
    });
    group.bench_function("tracing #[instrument] + Registry + no-op layer", |b| {
        b.iter(|| empty_instrumented(black_box(1)))
    });
    group.bench_function("hotpath #[measure]", |b| b.iter(|| empty_hotpath(black_box(1))));
    group.finish();

    let mut group = c.benchmark_group("async_call");
    group.bench_function("empty async fn (baseline)", |b| {
        b.iter(|| poll_once(empty_async_plain(black_box(1))))
    });
    group.bench_function("perfscope #[measure] async", |b| {
        b.iter(|| poll_once(empty_async_measured(black_box(1))))
    });
    group.finish();
}

fn layer(c: &mut Criterion) {
    // Both subscribers are scoped defaults (the same dispatch path), measured side by side.
    let noop = Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    let perfscope = Dispatch::new(tracing_subscriber::registry().with(perfscope::layer()));
    let mut group = c.benchmark_group("span");
    group.bench_function("#[instrument] + Registry + no-op layer", |b| {
        tracing::dispatcher::with_default(&noop, || b.iter(|| empty_instrumented(black_box(1))))
    });
    group.bench_function("#[instrument] + Registry + perfscope layer", |b| {
        tracing::dispatcher::with_default(&perfscope, || {
            b.iter(|| empty_instrumented(black_box(1)))
        })
    });
    // The peers: per-span timing layers users would otherwise add.
    let timing = Dispatch::new(tracing_subscriber::registry().with(
        tracing_timing::Builder::default().layer(|| {
            tracing_timing::Histogram::new_with_max(1_000_000_000, 2).expect("valid bounds")
        }),
    ));
    group.bench_function("#[instrument] + Registry + tracing-timing layer", |b| {
        tracing::dispatcher::with_default(&timing, || b.iter(|| empty_instrumented(black_box(1))))
    });
    // Its folded stacks go to a sink: the cost measured is the layer's, not the disk's.
    let flame = tracing_flame::FlameLayer::new(std::io::sink());
    let flame = Dispatch::new(tracing_subscriber::registry().with(flame));
    group.bench_function("#[instrument] + Registry + tracing-flame layer", |b| {
        tracing::dispatcher::with_default(&flame, || b.iter(|| empty_instrumented(black_box(1))))
    });
    group.finish();
}

/// One allocation and its deallocation, through `alloc` directly (not the global allocator).
#[inline(never)]
fn alloc_and_free(alloc: &impl GlobalAlloc, layout: Layout) {
    // SAFETY: a non-zero-size layout; the block is freed with the allocator that made it.
    unsafe {
        let block = alloc.alloc(layout);
        black_box(block);
        alloc.dealloc(block, layout);
    }
}

/// The system allocator under another name: `CountingAlloc::new` of it keeps the re-entrancy
/// guard that `CountingAlloc::system()` needs not.
struct OtherInner;

// SAFETY: forwards to `System` unchanged.
unsafe impl GlobalAlloc for OtherInner {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn allocation(c: &mut Criterion) {
    static COUNTING: CountingAlloc = CountingAlloc::system();
    static GUARDED: CountingAlloc<OtherInner> = CountingAlloc::new(OtherInner);
    static TRUSTING: CountingAlloc<OtherInner> = CountingAlloc::new(OtherInner).trusting_inner();
    let layout = Layout::from_size_align(64, 8).expect("valid layout");
    let mut group = c.benchmark_group("alloc_free_pair");
    group.bench_function("System", |b| b.iter(|| alloc_and_free(&System, layout)));
    group.bench_function("CountingAlloc<System>", |b| b.iter(|| alloc_and_free(&COUNTING, layout)));
    group.bench_function("CountingAlloc::new(inner), re-entrancy guard", |b| {
        b.iter(|| alloc_and_free(&GUARDED, layout))
    });
    group.bench_function("CountingAlloc::new(inner).trusting_inner(), no guard", |b| {
        b.iter(|| alloc_and_free(&TRUSTING, layout))
    });
    group.bench_function("CountingAlloc<System> inside a #[measure] fn", |b| {
        b.iter(|| measured_alloc_loop(&COUNTING, layout))
    });
    group.finish();
    let mut group = c.benchmark_group("sync_call_alloc_tracking");
    group.bench_function("two clock reads (floor)", |b| b.iter(two_clock_reads));
    group.bench_function("perfscope #[measure], allocation tracking on", |b| {
        b.iter(|| empty_measured(black_box(1)))
    });
    group.finish();
}

#[perfscope::measure]
#[inline(never)]
fn measured_alloc_loop(alloc: &CountingAlloc, layout: Layout) {
    alloc_and_free(alloc, layout);
}

/// `threads` threads each make `iters` calls at once; returns the wall time.
fn run_threads(threads: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                empty_measured(0); // register the thread's store before the clock starts
                barrier.wait();
                for i in 0..iters {
                    empty_measured(black_box(i));
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    handles.into_iter().for_each(|h| h.join().expect("bench thread"));
    start.elapsed()
}

fn threads(c: &mut Criterion) {
    // Time per *round*, where a round is one call on each thread: with perfect scaling both
    // rows take the same time, i.e. 2 threads give 2x one thread's throughput.
    let mut group = c.benchmark_group("throughput");
    group.bench_function("#[measure], 1 thread", |b| b.iter_custom(|iters| run_threads(1, iters)));
    group.bench_function("#[measure], 2 threads on the same fn", |b| {
        b.iter_custom(|iters| run_threads(2, iters))
    });
    group.finish();
}

// `allocation` runs last: once a `CountingAlloc` has served an allocation, frames also track
// allocations, which is what its last row measures.
criterion_group!(benches, single_thread, layer, threads, allocation);
criterion_main!(benches);
