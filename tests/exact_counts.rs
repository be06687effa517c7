//! Call counts are exact: across threads, across thread exit, and across panics.
//! Each test uses its own functions and never calls `reset()`, so tests can run in parallel.

use perfscope::measure;
use perfscope_suite::stats;

#[measure]
fn counted_on_four_threads(x: u64) -> u64 {
    std::hint::black_box(x) + 1
}

#[test]
fn four_threads_of_a_million_calls_count_exactly() {
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for i in 0..1_000_000 {
                    counted_on_four_threads(i);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(stats("::counted_on_four_threads").calls, 4_000_000);
}

#[measure]
fn called_by_short_lived_threads() {
    std::hint::black_box(());
}

#[test]
fn exited_threads_are_flushed() {
    // 10,000 threads, 8 alive at a time, each making 10 calls and exiting.
    for _ in 0..1_250 {
        let batch: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..10 {
                        called_by_short_lived_threads();
                    }
                })
            })
            .collect();
        batch.into_iter().for_each(|t| t.join().unwrap());
    }
    assert_eq!(stats("::called_by_short_lived_threads").calls, 100_000);
    // Exited threads' stores are folded and freed, not kept.
    assert!(perfscope_core::live_threads() < 100, "{}", perfscope_core::live_threads());
}

#[measure]
fn fails_on_odd(n: u32) -> u32 {
    if n % 2 == 1 {
        panic!("odd input {n}");
    }
    n
}

#[measure]
fn calls_the_failing_fn(n: u32) -> u32 {
    fails_on_odd(n) + 1
}

#[test]
fn panicking_calls_are_counted_and_flagged() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for n in 0..10 {
        let _ = std::panic::catch_unwind(|| calls_the_failing_fn(n));
    }
    std::panic::set_hook(prev);
    let failing = stats("::fails_on_odd");
    assert_eq!((failing.calls, failing.panicked), (10, 5));
    let caller = stats("::calls_the_failing_fn");
    assert_eq!((caller.calls, caller.panicked), (10, 5));
    assert_eq!(caller.children.len(), 1);
    assert_eq!(caller.children[0].calls, 10);
    // The frame stack unwound with the panics.
    assert_eq!(perfscope_core::current_depth(), 0);
}

#[measure]
fn recursive_depth(n: usize) -> usize {
    if n == 0 { 0 } else { 1 + recursive_depth(n - 1) }
}

#[test]
fn recursion_deeper_than_the_frame_stack_still_counts_every_call() {
    let depth = perfscope_core::MAX_DEPTH * 2;
    std::thread::spawn(move || assert_eq!(recursive_depth(depth), depth)).join().unwrap();
    let stats = stats("::recursive_depth");
    assert_eq!(stats.calls, depth as u64 + 1);
    assert!(stats.self_ns <= stats.total_ns);
}
