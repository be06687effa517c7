//! `perfscope::reset()` with other threads about: idle live threads, exited threads, and calls
//! in flight across the reset. Every test resets, so they take turns (one lock) and this file
//! is its own test binary.

mod common;

use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::assert_between;
use perfscope::{measure, report, reset};
use perfscope_suite::{spin_for, stats};

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[measure]
fn on_an_exited_thread() {
    std::hint::black_box(());
}

#[measure]
fn on_an_idle_thread() {
    std::hint::black_box(());
}

#[measure]
fn on_the_main_thread() {
    std::hint::black_box(());
}

#[test]
fn reset_forgets_live_idle_and_exited_threads_and_later_calls_count_from_zero() {
    let _turn = one_at_a_time();
    std::thread::spawn(|| (0..5).for_each(|_| on_an_exited_thread())).join().unwrap();
    // A thread that makes calls, then waits (idle, alive) until told to make more.
    let (go, wait) = mpsc::channel::<u32>();
    let (done, finished) = mpsc::channel::<()>();
    let idle = std::thread::spawn(move || {
        (0..5).for_each(|_| on_an_idle_thread());
        done.send(()).unwrap();
        while let Ok(calls) = wait.recv() {
            (0..calls).for_each(|_| on_an_idle_thread());
            done.send(()).unwrap();
        }
    });
    finished.recv().unwrap();
    (0..2).for_each(|_| on_the_main_thread());
    let before = report();
    assert!(before.function_by_suffix("::on_an_exited_thread").is_some_and(|f| f.calls >= 5));
    assert!(before.function_by_suffix("::on_an_idle_thread").is_some_and(|f| f.calls >= 5));

    reset();
    let after = report();
    assert!(after.functions.is_empty(), "nothing ran since the reset:\n{after}");
    assert_eq!(after.overflowed_spans, 0);

    // The idle thread's next calls count from zero, not on top of its five before the reset.
    go.send(3).unwrap();
    finished.recv().unwrap();
    on_the_main_thread();
    let later = report();
    assert_eq!(stats("::on_an_idle_thread").calls, 3);
    assert_eq!(stats("::on_the_main_thread").calls, 1);
    assert!(later.function_by_suffix("::on_an_exited_thread").is_none(), "{later}");
    assert_eq!(later.functions.len(), 2, "{later}");

    drop(go);
    idle.join().unwrap();
    // The idle thread's exit folds exactly its post-reset calls into the retired totals.
    assert_eq!(stats("::on_an_idle_thread").calls, 3);
}

#[measure]
fn in_flight_across_the_reset(
    entered: &mpsc::Sender<()>,
    release: &mpsc::Receiver<()>,
    child: bool,
) {
    spin_for(Duration::from_millis(30));
    entered.send(()).expect("the test waits");
    release.recv().expect("released");
    if child {
        child_after_the_reset();
    }
    spin_for(Duration::from_millis(5));
}

#[measure]
fn child_after_the_reset() {
    spin_for(Duration::from_millis(1));
}

#[measure]
fn after_the_call_in_flight() {
    std::hint::black_box(());
}

/// Runs [`in_flight_across_the_reset`] on a thread, resetting while it is inside; returns the
/// time from just before the reset to the report taken after the thread's calls.
fn call_in_flight(call_child: bool) -> (perfscope::Report, Duration) {
    let (release, released) = mpsc::channel();
    let (entered, inside) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        // Make the thread's store exist before the reset, as on any thread already measured.
        after_the_call_in_flight();
        in_flight_across_the_reset(&entered, &released, call_child);
        assert_eq!(perfscope_core::current_depth(), 0, "the frame stack is balanced");
        (0..2).for_each(|_| after_the_call_in_flight());
    });
    // The thread is inside the call, after 30 ms of work, waiting to be released.
    inside.recv().expect("the thread is in the call");
    let before_reset = Instant::now();
    reset();
    release.send(()).expect("the thread waits");
    thread.join().expect("the thread ends");
    let report = report();
    (report, before_reset.elapsed())
}

#[test]
fn a_call_in_flight_across_the_reset_leaves_the_thread_consistent() {
    let _turn = one_at_a_time();
    let (report, _) = call_in_flight(false);
    // The calls after it count exactly (its thread's store was cleared, not kept stale).
    assert_eq!(report.function_by_suffix("::after_the_call_in_flight").map(|f| f.calls), Some(2));
    // The call that began before the reset is at most one call, with no time from before it.
    if let Some(f) = report.function_by_suffix("::in_flight_across_the_reset") {
        assert!(f.calls <= 1, "{f:?}");
        assert!(
            f.total_ns <= report.elapsed_ns,
            "{} ns in {} ns since the reset",
            f.total_ns,
            report.elapsed_ns
        );
    }
}

#[test]
fn a_call_in_flight_with_a_child_after_the_reset_reports_no_time_from_before_it() {
    let _turn = one_at_a_time();
    let (report, since_reset) = call_in_flight(true);
    assert_eq!(report.function_by_suffix("::after_the_call_in_flight").map(|f| f.calls), Some(2));
    let child =
        report.function_by_suffix("::child_after_the_reset").expect("called after the reset");
    assert_eq!(child.calls, 1);
    // The parent's figures cover at most the time since the reset: it began 30 ms before it.
    let parent = report.function_by_suffix("::in_flight_across_the_reset").expect("completed");
    assert!(parent.calls <= 1, "{parent:?}");
    assert!(
        parent.total_ns <= report.elapsed_ns && parent.total_ns <= since_reset.as_nanos() as u64,
        "{} ns reported in the {} ns since the reset",
        parent.total_ns,
        report.elapsed_ns
    );
    assert!(parent.self_ns <= report.elapsed_ns, "{parent:?}");
}

#[test]
fn elapsed_ns_restarts_at_the_reset() {
    let _turn = one_at_a_time();
    on_the_main_thread();
    std::thread::sleep(Duration::from_millis(30));
    assert!(report().elapsed_ns >= 30_000_000);

    let before_reset = Instant::now();
    reset();
    let after_reset = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let before_report = Instant::now();
    let elapsed = report().elapsed_ns;
    let high = before_reset.elapsed();
    assert_between("elapsed_ns", elapsed, before_report - after_reset, high, 1);
    // It keeps running with no call after the reset, and a call does not restart it.
    on_the_main_thread();
    assert!(report().elapsed_ns >= elapsed);
}
