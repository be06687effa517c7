//! Futures of `#[measure]` async functions dropped while pending: by hand between two polls,
//! on another thread than the one that polled them, by `tokio::select!` inside a measured
//! future's poll, by `JoinHandle::abort` and by a runtime shut down under them. None may leave
//! a frame behind, each counts as cancelled (not as a call), and the caller's figures stay
//! right: its self time leaves the polls out, its next child is its own. Durations are bounded
//! from both sides by the test's own timings (see `common`).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use common::{assert_between, record, sum, timed};
use perfscope::{measure, report};
use perfscope_suite::{spin_for, stats, stats_in};

/// Busy for 2 ms in its first poll (timed inside under `pending.inside`), then pending forever.
#[measure]
async fn spins_then_pends() {
    let start = Instant::now();
    spin_for(Duration::from_millis(2));
    record("pending.inside", start.elapsed());
    std::future::pending::<()>().await;
}

#[measure]
fn runs_after_the_drop() {
    let start = Instant::now();
    spin_for(Duration::from_millis(1));
    record("after_drop.inside", start.elapsed());
}

/// Polls a `spins_then_pends` future once, drops it pending, then calls another child.
#[measure]
fn polls_once_then_drops() {
    let start = Instant::now();
    spin_for(Duration::from_millis(1));
    {
        let mut future = Box::pin(spins_then_pends());
        let mut cx = Context::from_waker(Waker::noop());
        let poll = Instant::now();
        assert!(future.as_mut().poll(&mut cx).is_pending());
        record("pending.around", poll.elapsed());
        // Only this function's frame is on the stack: the poll's frame left with the poll.
        assert_eq!(perfscope_core::current_depth(), 1);
        drop(future);
        assert_eq!(perfscope_core::current_depth(), 1);
    }
    timed("after_drop.around", runs_after_the_drop);
    record("dropper.inside", start.elapsed());
}

#[test]
fn a_future_dropped_between_polls_leaves_no_frame_and_its_callers_figures_right() {
    const N: u64 = 10;
    for _ in 0..N {
        timed("dropper.around", polls_once_then_drops);
    }
    assert_eq!(perfscope_core::current_depth(), 0);
    let report = report();
    let pending = stats_in(&report, "::spins_then_pends");
    let dropper = stats_in(&report, "::polls_once_then_drops");
    let after = stats_in(&report, "::runs_after_the_drop");
    assert_eq!((pending.calls, pending.cancelled, pending.polls), (0, N, Some(N)));
    assert_eq!((dropper.calls, dropper.panics, after.calls), (N, 0, N));
    // The polls' busy time is the future's, between the body and the poll calls.
    assert_between(
        "cancelled busy",
        pending.busy_ns,
        sum("pending.inside"),
        sum("pending.around"),
        N,
    );
    // The caller: one edge to each child; the cancelled future's edge carries its polls' time
    // but no completed call.
    let edge = common::child(&dropper, "::spins_then_pends");
    assert_eq!((edge.calls, edge.busy_ns), (0, pending.busy_ns));
    assert_eq!(common::child(&dropper, "::runs_after_the_drop").calls, N);
    assert_eq!(dropper.children.len(), 2, "{dropper:?}");
    common::assert_self_consistent(&dropper);
    let children_around = sum("pending.around") + sum("after_drop.around");
    let children_inside = sum("pending.inside") + sum("after_drop.inside");
    let low = sum("dropper.inside").saturating_sub(children_around);
    let high = sum("dropper.around").saturating_sub(children_inside);
    assert_between("dropper self", dropper.self_ns, low, high, 3 * N);
}

#[measure]
async fn polled_here_dropped_there() {
    std::future::pending::<()>().await;
}

#[test]
fn a_future_polled_on_one_thread_and_dropped_on_another_is_cancelled_once() {
    const N: u64 = 20;
    let (send, receive) = std::sync::mpsc::channel::<Pin<Box<dyn Future<Output = ()> + Send>>>();
    let dropper = std::thread::spawn(move || {
        for future in receive {
            drop(future);
            assert_eq!(perfscope_core::current_depth(), 0);
        }
    });
    for _ in 0..N {
        let mut future: Pin<Box<dyn Future<Output = ()> + Send>> =
            Box::pin(polled_here_dropped_there());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(perfscope_core::current_depth(), 0);
        send.send(future).unwrap();
    }
    drop(send);
    dropper.join().unwrap();
    let f = stats("::polled_here_dropped_there");
    assert_eq!((f.calls, f.cancelled, f.polls), (0, N, Some(N)));
}

#[measure]
async fn loses_the_race() {
    std::future::pending::<()>().await;
}

#[measure]
async fn wins_the_race() {
    tokio::task::yield_now().await;
}

#[measure]
fn after_the_race() {}

/// `select!` drops the losing branch's measured future inside this future's poll.
#[measure]
async fn races() {
    tokio::select! {
        biased;
        () = loses_the_race() => unreachable!("never ready"),
        () = wins_the_race() => {}
    }
    after_the_race();
}

#[test]
fn a_future_dropped_by_select_inside_a_measured_poll_is_cancelled_and_the_caller_consistent() {
    const N: u64 = 25;
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        for _ in 0..N {
            races().await;
        }
    });
    assert_eq!(perfscope_core::current_depth(), 0);
    let report = report();
    let races = stats_in(&report, "::races");
    let loser = stats_in(&report, "::loses_the_race");
    let winner = stats_in(&report, "::wins_the_race");
    assert_eq!((races.calls, races.cancelled, races.panics), (N, 0, 0));
    assert_eq!((loser.calls, loser.cancelled), (0, N));
    assert_eq!((winner.calls, winner.cancelled), (N, 0));
    // Both branches and the next call are the racing future's children.
    assert_eq!(common::child(&races, "::loses_the_race").calls, 0);
    assert_eq!(common::child(&races, "::wins_the_race").calls, N);
    assert_eq!(common::child(&races, "::after_the_race").calls, N);
    let after = stats_in(&report, "::after_the_race");
    assert_eq!(after.calls, N);
    common::assert_self_consistent(&races);
}

#[measure]
async fn aborted_while_sleeping() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[measure]
async fn left_behind_at_shutdown() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[test]
fn aborted_tasks_and_a_runtime_shut_down_under_pending_futures_count_as_cancelled() {
    const N: u64 = 16;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..N).map(|_| tokio::spawn(aborted_while_sleeping())).collect();
        // Every task polled once (pending in its sleep) before the aborts.
        polled("::aborted_while_sleeping", N).await;
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
        for _ in 0..N {
            tokio::spawn(left_behind_at_shutdown());
        }
        polled("::left_behind_at_shutdown", N).await;
    });
    let start = Instant::now();
    drop(runtime); // drops the 16 pending tasks on its workers
    assert!(start.elapsed() < Duration::from_secs(60));
    let aborted = stats("::aborted_while_sleeping");
    assert_eq!((aborted.calls, aborted.cancelled, aborted.polls), (0, N, Some(N)));
    let left = stats("::left_behind_at_shutdown");
    assert_eq!((left.calls, left.cancelled, left.polls), (0, N, Some(N)));
}

/// Waits until the function `suffix` has been polled `n` times.
async fn polled(suffix: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let polls = report().function_by_suffix(suffix).and_then(|f| f.polls);
        if polls == Some(n) {
            return;
        }
        assert!(Instant::now() < deadline, "{suffix}: {polls:?} polls, expected {n}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
