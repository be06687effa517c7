//! Load: 8 threads hammering measured calls. Every call is counted (calls and call edges
//! exact), and memory does not grow with the number of calls: the heap in use (exact, this
//! binary's allocator is `CountingAlloc`) is the same after 8 × 10,000 calls and after
//! 8 × 1,000,000 more, and stays within the stores' fixed size while the threads run.
//!
//! The default test makes 8 × 1,000,000 calls (a few seconds in a debug build); the issue's
//! full size, 8 × 10,000,000, is `#[ignore]`d here and run in release (see RELIABILITY.md):
//! `cargo test --release --test load_calls -- --ignored --nocapture`.

mod soak;

use std::hint::black_box;

use perfscope::{CountingAlloc, measure};
use perfscope_suite::stats_in;
use soak::{HeapWatch, heap, mib, rss, serial};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

const THREADS: u64 = 8;
const WARM_UP: u64 = 10_000;

#[measure]
fn hammered(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// Each thread's body, measured too: every `hammered` call is an edge from it.
#[measure]
fn load_thread(calls: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..calls {
        sum = sum.wrapping_add(hammered(i));
    }
    sum
}

fn on_threads(calls: u64) {
    let threads: Vec<_> =
        (0..THREADS).map(|_| std::thread::spawn(move || load_thread(calls))).collect();
    for thread in threads {
        black_box(thread.join().expect("a load thread"));
    }
}

/// Runs the warm-up then `calls` per thread, checks exact counts and flat memory, and prints
/// the figures.
fn run(calls: u64, label: &str) {
    let counted = || perfscope::report().function_by_suffix("::hammered").map_or(0, |f| f.calls);
    let calls_before = counted();
    on_threads(WARM_UP);
    let (heap_before, rss_before) = (heap(), rss());
    let watch = HeapWatch::start();
    on_threads(calls);
    let (heap_peak, samples) = watch.stop();
    let (heap_after, rss_after) = (heap(), rss());

    let report = perfscope::report();
    let hammered = stats_in(&report, "::hammered");
    let body = stats_in(&report, "::load_thread");
    // Both tests of this binary share the functions: each one's calls add to the last one's.
    let total = THREADS * (WARM_UP + calls);
    assert_eq!(hammered.calls - calls_before, total, "{hammered:?}");
    println!(
        "{label}: {THREADS} threads x {calls} calls (+ {WARM_UP} warm-up each): {} calls counted; \
         heap {:.3} MiB before, peak {:.3} MiB ({samples} samples while running), {:.3} MiB \
         after; RSS {:.2} MiB -> {:.2} MiB",
        hammered.calls - calls_before,
        mib(heap_before),
        mib(heap_peak),
        mib(heap_after),
        mib(rss_before),
        mib(rss_after),
    );
    let edge = body.children.iter().find(|c| c.name.ends_with("::hammered"));
    assert_eq!(edge.map(|e| e.calls), Some(hammered.calls), "every call an edge from its body");
    assert_eq!(hammered.panics, 0);
    // After the threads exited, nothing is kept per call: a few histogram octaves at most.
    let kept = heap_after.saturating_sub(heap_before);
    assert!(kept <= 64 * 1024, "{kept} bytes more heap in use after {total} calls");
    // While they ran: each live thread's store (a slot and histogram octaves per function).
    let running = heap_peak.saturating_sub(heap_before);
    assert!(running <= 1024 * 1024, "{running} bytes more heap in use while running");
    let grown = rss_after.saturating_sub(rss_before);
    assert!(grown <= 2 * 1024 * 1024, "RSS grew by {grown} bytes over {total} calls");
}

#[test]
fn eight_threads_of_a_million_calls_count_exactly_in_flat_memory() {
    let _serial = serial();
    run(1_000_000, "default");
}

#[test]
#[ignore = "the issue's full size (80 M calls): run in release, see RELIABILITY.md"]
fn eight_threads_of_ten_million_calls_count_exactly_in_flat_memory() {
    let _serial = serial();
    run(10_000_000, "full size");
}
