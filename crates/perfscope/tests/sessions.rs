//! Sessions: reports of one window of time, exact, overlapping on several threads, across a
//! thread's exit, with the window's own latency quantiles. Each test measures functions of its
//! own and never calls `reset()`, so the tests run in parallel.
#![cfg(not(feature = "off"))]

use std::hint::black_box;
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use perfscope::{CountingAlloc, FunctionStats, Report, measure};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

fn stats(report: &Report, suffix: &str) -> FunctionStats {
    report.function_by_suffix(suffix).cloned().unwrap_or_else(|| FunctionStats {
        name: format!("{suffix} (not called)"),
        ..FunctionStats::default()
    })
}

/// Calls, own allocations and own allocated bytes of the function named `…suffix`.
fn figures(report: &Report, suffix: &str) -> (u64, u64, u64) {
    let f = stats(report, suffix);
    (f.calls, f.allocations, f.alloc_bytes)
}

#[measure]
fn shared_step() {
    black_box(Vec::<u8>::with_capacity(100));
}

fn steps(n: usize) {
    (0..n).for_each(|_| shared_step());
}

#[test]
fn overlapping_sessions_on_two_threads_each_see_exactly_their_window() {
    // Phases, in order (the barrier between each):
    //   0: each thread calls 3 times                 (before every session)
    //   1: A starts on thread 1; thread 1 calls 10
    //   2: B starts on thread 2; thread 1 calls 20, thread 2 calls 40
    //   3: A reports on thread 1; thread 2 calls 7
    //   4: B reports on thread 2; A reports again on thread 2 (sessions are Send)
    let barrier = Arc::new(Barrier::new(2));
    let (a_tx, a_rx) = mpsc::channel();
    let first = std::thread::spawn({
        let barrier = barrier.clone();
        move || {
            steps(3);
            barrier.wait();
            let a = perfscope::session();
            let nested = perfscope::session();
            steps(10);
            let nested = nested.report();
            barrier.wait();
            barrier.wait(); // B started
            steps(20);
            barrier.wait();
            let report = a.report();
            barrier.wait();
            a_tx.send(a).unwrap();
            (nested, report)
        }
    });
    let second = std::thread::spawn(move || {
        steps(3);
        barrier.wait();
        barrier.wait(); // thread 1's 10 calls are done
        let b = perfscope::session();
        barrier.wait();
        steps(40);
        barrier.wait(); // A reports
        barrier.wait();
        steps(7);
        let report = b.report();
        let a = a_rx.recv().unwrap();
        (report, a.report())
    });
    let (nested, a_at_3) = first.join().unwrap();
    let (b_at_4, a_at_4) = second.join().unwrap();
    assert_eq!(figures(&nested, "::shared_step"), (10, 10, 1_000));
    assert_eq!(figures(&a_at_3, "::shared_step"), (70, 70, 7_000));
    assert_eq!(figures(&b_at_4, "::shared_step"), (67, 67, 6_700));
    assert_eq!(figures(&a_at_4, "::shared_step"), (77, 77, 7_700));
    // Nothing was reset: the process-wide report has every call.
    assert_eq!(figures(&perfscope::report(), "::shared_step"), (83, 83, 8_300));
}

#[measure]
fn on_a_short_lived_thread() {
    black_box(Box::new([0u8; 64]));
}

#[measure]
fn spawns_a_short_lived_thread(calls: usize) {
    let (go, went) = mpsc::channel::<()>();
    let (done, finished) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        on_a_short_lived_thread();
        done.send(()).expect("the test waits");
        went.recv().expect("the test sends");
        (0..calls).for_each(|_| on_a_short_lived_thread());
    });
    finished.recv().expect("the thread sends");
    let session = perfscope::session();
    go.send(()).expect("the thread waits");
    thread.join().expect("the thread ends");
    // The thread has exited: its figures are in the retired totals now.
    let report = session.report();
    assert_eq!(
        figures(&report, "::on_a_short_lived_thread"),
        (calls as u64, calls as u64, 64 * calls as u64)
    );
}

#[test]
fn a_session_across_a_thread_exit_keeps_that_threads_figures() {
    spawns_a_short_lived_thread(5);
    let before_exit = perfscope::session();
    spawns_a_short_lived_thread(9);
    let report = before_exit.report();
    // 1 call before its own session + 9 in it, all after `before_exit` started.
    assert_eq!(figures(&report, "::on_a_short_lived_thread"), (10, 10, 640));
    assert_eq!(stats(&report, "::spawns_a_short_lived_thread").calls, 1);
}

fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

#[measure]
fn phase_step(duration: Duration) {
    spin(duration);
}

#[test]
fn a_sessions_quantiles_are_of_its_window_only() {
    // A known slow phase, then a session over a fast one.
    for _ in 0..40 {
        phase_step(Duration::from_millis(3));
    }
    let session = perfscope::session();
    for _ in 0..160 {
        phase_step(Duration::from_micros(20));
    }
    let window = stats(&session.report(), "::phase_step");
    let whole = stats(&perfscope::report(), "::phase_step");
    assert_eq!((window.calls, whole.calls), (160, 200));
    // The slow phase is 20% of the whole run: its p90 is slow; the window has no slow call.
    // (Quantiles are within 1%.)
    assert!(whole.p90_ns >= 2_970_000, "whole run p90 {}", whole.p90_ns);
    assert!(window.p50_ns >= 20_000, "window p50 {}", window.p50_ns);
    // A fast call may be preempted for milliseconds on a busy machine, but not one in ten.
    assert!(window.p90_ns < 1_000_000, "window p90 {}", window.p90_ns);
    assert!(window.total_ns >= 160 * 20_000 && window.total_ns < 40 * 3_000_000);
    assert_eq!(window.self_ns, window.total_ns, "no measured children");
}

#[measure]
fn parent_in_a_window() {
    child_in_a_window();
}

#[measure]
fn child_in_a_window() {
    black_box(vec![0u8; 32]);
}

#[test]
fn a_sessions_edges_and_inclusive_allocations_are_of_its_window() {
    for _ in 0..4 {
        parent_in_a_window();
    }
    let session = perfscope::session();
    for _ in 0..6 {
        parent_in_a_window();
    }
    let report = session.report();
    let parent = stats(&report, "::parent_in_a_window");
    assert_eq!((parent.calls, parent.total_allocations, parent.total_alloc_bytes), (6, 6, 192));
    let edge = parent.children.iter().find(|c| c.name.ends_with("::child_in_a_window")).unwrap();
    assert_eq!((edge.calls, edge.alloc_bytes), (6, 192));
    assert!(report.elapsed_ns > 0 && report.elapsed_ns < perfscope::report().elapsed_ns);
}

#[test]
fn a_session_with_nothing_in_its_window_is_empty_of_its_functions() {
    #[measure]
    fn before_only() {}
    before_only();
    let session = perfscope::session();
    let report = session.report();
    assert!(report.function_by_suffix("::before_only").is_none(), "{report}");
}
