//! `reset()` and what a snapshot then holds: earlier figures forgotten (live threads', exited
//! threads', callsites not called since left out), later calls counted from zero, `resets`
//! counted and `elapsed_ns` measured from the reset. One test: a reset is process-wide, so
//! nothing else may run in this binary at the same time.
// The loom build leaves out the hot path (`enter`).
#![cfg(not(perfscope_loom))]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use std::future::Future;
use std::task::{Context, Waker};

use perfscope_core::{Callsite, CallsiteName, Kind, enter, instrument, reset, snapshot};

static X: Callsite =
    Callsite::new(CallsiteName::Static("x"), Kind::Sync, module_path!(), file!(), line!());
static Y: Callsite =
    Callsite::new(CallsiteName::Static("y"), Kind::Sync, module_path!(), file!(), line!());
static F: Callsite =
    Callsite::new(CallsiteName::Static("f"), Kind::Async, module_path!(), file!(), line!());
static Z: Callsite =
    Callsite::new(CallsiteName::Static("z"), Kind::Sync, module_path!(), file!(), line!());

fn call(callsite: &'static Callsite) {
    enter(callsite).finish();
}

/// Calls in a snapshot taken now: `None` when the callsite is not in it.
fn calls(callsite: &'static Callsite) -> Option<u64> {
    snapshot().callsites.iter().find(|c| c.id == callsite.id()).map(|c| c.calls)
}

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn a_reset_forgets_every_figure_and_later_calls_count_from_zero() {
    // A thread that exits before the reset (its figures are in the retired totals), and one
    // that lives across it, taking orders.
    // The process's first call starts the clock of `elapsed_ns`.
    let start = Instant::now();
    std::thread::spawn(|| call(&X)).join().expect("no panic");
    let first = Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    let (ask, snap, answered) = (Instant::now(), snapshot(), Instant::now());
    let (low, high) = ((ask - first).as_nanos() as f64, (answered - start).as_nanos() as f64);
    let elapsed = snap.elapsed_ns as f64;
    assert!(
        low * 0.99 - 2e3 <= elapsed && elapsed <= high * 1.01 + 2e3,
        "{elapsed}: {low}..{high}"
    );
    let (orders, inbox) = mpsc::channel::<Vec<&'static Callsite>>();
    let (done, finished) = mpsc::channel();
    let live = std::thread::spawn(move || {
        for order in inbox {
            order.into_iter().for_each(call);
            done.send(()).expect("the test waits");
        }
    });
    let run = |order: Vec<&'static Callsite>| {
        orders.send(order).expect("the thread takes orders");
        finished.recv().expect("the thread ran the order");
    };
    run(vec![&X, &X, &Z]);
    assert_eq!((calls(&X), calls(&Z)), (Some(3), Some(1)));
    let resets = snapshot().resets;

    let before = Instant::now();
    reset();
    let after = Instant::now();
    let empty = snapshot();
    assert_eq!(empty.resets, resets + 1);
    assert!(empty.callsites.iter().all(|c| ![X.id(), Z.id()].contains(&c.id)), "{empty:?}");

    // The live thread's first call after the reset clears its store: x counts from zero, and
    // z, not called again, is left out (its slot is still there, all zeros).
    run(vec![&Y, &X]);
    std::thread::sleep(Duration::from_millis(5));
    let (ask, snap, answered) = (Instant::now(), snapshot(), Instant::now());
    let count =
        |c: &'static Callsite| snap.callsites.iter().find(|s| s.id == c.id()).map(|s| s.calls);
    assert_eq!((count(&X), count(&Y), count(&Z)), (Some(1), Some(1), None), "{snap:?}");
    // Elapsed time runs from the reset.
    let (low, high) = ((ask - after).as_nanos() as f64, (answered - before).as_nanos() as f64);
    let elapsed = snap.elapsed_ns as f64;
    assert!(
        low * 0.99 - 2e3 <= elapsed && elapsed <= high * 1.01 + 2e3,
        "{elapsed} not in {low}..{high}"
    );
    drop(orders);
    live.join().expect("no panic");

    // A future polled before a reset and dropped after it: a cancellation with no poll since
    // the reset, still shown.
    let mut future = Box::pin(instrument(&F, std::future::pending::<()>()));
    assert!(future.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    reset();
    drop(future);
    let snap = snapshot();
    let f = snap.callsites.iter().find(|c| c.id == F.id()).expect("the cancellation is shown");
    assert_eq!((f.calls, f.polls, f.cancelled, f.busy_ns), (0, 0, 1, 0));
}
