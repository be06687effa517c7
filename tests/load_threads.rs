//! Load: 10,000 short-lived threads (8 alive at a time), each making measured calls and
//! exiting. Every call is counted (calls and call edges exact), every thread's store is
//! folded into the retired totals and freed when it exits, and the heap in use (exact, this
//! binary's allocator is `CountingAlloc`) does not grow with the number of threads that died:
//! after the first 1,000 it stays put while 9,000 more come and go.
//!
//! The default test is the size (10,000 threads: a few seconds in a debug build); a
//! 100,000-thread soak is `#[ignore]`d and run in release (see RELIABILITY.md):
//! `cargo test --release --test load_threads -- --ignored --nocapture`.

mod soak;

use std::hint::black_box;

use perfscope::{CountingAlloc, measure};
use perfscope_suite::stats_in;
use soak::{HeapWatch, heap, mib, rss, serial};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

const ALIVE: usize = 8;
const CALLS_PER_THREAD: u64 = 10;
/// Threads that come and go before the heap is first read: perfscope's and the test's
/// one-time allocations (callsites, retired totals, histogram octaves) are made by then.
const WARM_UP_THREADS: u64 = 1_000;
/// Heap a dead thread may leave behind, on average: a store (over 2 KiB) or any record per
/// thread would be far more.
const BYTES_PER_DEAD_THREAD: u64 = 16;

#[measure]
fn short_lived_call(x: u64) -> u64 {
    black_box(x) + 1
}

#[measure]
fn short_lived_body() {
    for i in 0..CALLS_PER_THREAD {
        short_lived_call(i);
    }
}

/// Spawns `threads` threads, `ALIVE` at a time, each running `short_lived_body` once.
fn churn(threads: u64) {
    for _ in 0..threads / ALIVE as u64 {
        let batch: Vec<_> = (0..ALIVE).map(|_| std::thread::spawn(short_lived_body)).collect();
        for thread in batch {
            thread.join().expect("a short-lived thread");
        }
    }
}

fn run(threads: u64, label: &str) {
    let counted = |suffix| perfscope::report().function_by_suffix(suffix).map_or(0, |f| f.calls);
    let (calls_before, bodies_before) =
        (counted("::short_lived_call"), counted("::short_lived_body"));
    let live_before = perfscope_core::live_threads();
    churn(WARM_UP_THREADS);
    let (heap_before, rss_before) = (heap(), rss());
    let watch = HeapWatch::start();
    churn(threads - WARM_UP_THREADS);
    let (heap_peak, samples) = watch.stop();
    let (heap_after, rss_after) = (heap(), rss());
    let live_after = perfscope_core::live_threads();

    let report = perfscope::report();
    let call = stats_in(&report, "::short_lived_call");
    let body = stats_in(&report, "::short_lived_body");
    println!(
        "{label}: {threads} threads x {CALLS_PER_THREAD} calls: {} calls and {} bodies counted; \
         heap {:.3} MiB after {WARM_UP_THREADS} threads, peak {:.3} MiB ({samples} samples), \
         {:.3} MiB after {threads}; RSS {:.2} MiB -> {:.2} MiB; live thread stores {live_before} \
         -> {live_after}",
        call.calls - calls_before,
        body.calls - bodies_before,
        mib(heap_before),
        mib(heap_peak),
        mib(heap_after),
        mib(rss_before),
        mib(rss_after),
    );
    assert_eq!(body.calls - bodies_before, threads);
    assert_eq!(call.calls - calls_before, threads * CALLS_PER_THREAD);
    let edge = body.children.iter().find(|c| c.name.ends_with("::short_lived_call"));
    assert_eq!(edge.map(|e| e.calls), Some(call.calls), "every call an edge from its body");
    // Dead threads' stores are freed, not kept.
    assert!(live_after <= live_before, "{live_before} live stores before, {live_after} after");
    let died = threads - WARM_UP_THREADS;
    let kept = heap_after.saturating_sub(heap_before);
    assert!(
        kept <= died * BYTES_PER_DEAD_THREAD,
        "{kept} bytes more heap in use after {died} more threads died"
    );
    // While they ran: at most `ALIVE` live stores at a time, whatever the number of threads.
    let running = heap_peak.saturating_sub(heap_before);
    assert!(running <= 1024 * 1024, "{running} bytes more heap in use while threads ran");
    let grown = rss_after.saturating_sub(rss_before);
    assert!(grown <= 4 * 1024 * 1024, "RSS grew by {grown} bytes over {died} threads");
}

#[test]
fn ten_thousand_short_lived_threads_count_exactly_in_flat_memory() {
    let _serial = serial();
    run(10_000, "default");
}

#[test]
#[ignore = "a 100,000-thread soak: run in release, see RELIABILITY.md"]
fn a_hundred_thousand_short_lived_threads_count_exactly_in_flat_memory() {
    let _serial = serial();
    run(100_000, "soak");
}
