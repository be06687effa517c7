//! `reset()` and what a snapshot then holds: earlier figures forgotten (live threads', exited
//! threads', callsites not called since left out, allocation counts), later calls counted from
//! zero, a call in flight across the reset timed from it, a span closed after it counted,
//! `resets` counted and `elapsed_ns` measured from the reset. One test: a reset is
//! process-wide, so nothing else may run in this binary at the same time.
// The loom build leaves out the hot path (`enter`).
#![cfg(not(perfscope_loom))]

use std::cell::RefCell;
use std::future::Future;
use std::hint::black_box;
use std::sync::mpsc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use perfscope_core::{
    Callsite, CallsiteName, CountingAlloc, Kind, SyncGuard, clock, enter, instrument, live_threads,
    reset, snapshot, span,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

macro_rules! callsites {
    ($kind:ident: $($name:ident),+) => {
        $(
            static $name: Callsite = Callsite::new(
                CallsiteName::Static(stringify!($name)),
                Kind::$kind,
                module_path!(),
                file!(),
                line!(),
            );
        )+
    };
}
callsites!(Sync: X, Y, Z, A, W, C);
callsites!(Async: F);
callsites!(Span: S);

fn call(callsite: &'static Callsite) {
    enter(callsite).finish();
}

/// A measured call of `a` that allocates (and frees) 1000 bytes.
fn allocate() {
    let guard = enter(&A);
    black_box(Vec::<u8>::with_capacity(1000));
    guard.finish();
}

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// `elapsed_ns` of a snapshot taken now lies between `from_inner` and `from_outer` (clock
/// readings taken just after and just before what starts its clock), give or take 1%.
fn assert_elapsed_since(from_inner: Instant, from_outer: Instant) -> perfscope_core::Snapshot {
    let (ask, snap, answered) = (Instant::now(), snapshot(), Instant::now());
    let (low, high) =
        ((ask - from_inner).as_nanos() as f64, (answered - from_outer).as_nanos() as f64);
    let elapsed = snap.elapsed_ns as f64;
    assert!(
        low * 0.99 - 2e3 <= elapsed && elapsed <= high * 1.01 + 2e3,
        "{elapsed}: {low}..{high}"
    );
    snap
}

thread_local! {
    /// A call the live thread keeps in flight across the reset.
    static IN_FLIGHT: RefCell<Option<SyncGuard>> = const { RefCell::new(None) };
}

type Order = Box<dyn FnOnce() + Send>;

#[test]
#[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
fn a_reset_forgets_every_figure_and_later_calls_count_from_zero() {
    // The process's first call starts the clock of `elapsed_ns`: on a thread that exits before
    // the reset (its figures go to the retired totals).
    let start = Instant::now();
    std::thread::spawn(|| call(&X)).join().expect("no panic");
    let first = Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    assert_elapsed_since(first, start);
    assert_eq!(live_threads(), 0);

    // A thread that lives across the reset, taking orders.
    let (orders, inbox) = mpsc::channel::<Vec<Order>>();
    let (done, finished) = mpsc::channel();
    let live = std::thread::spawn(move || {
        for order in inbox {
            order.into_iter().for_each(|f| f());
            done.send(()).expect("the test waits");
        }
    });
    let run = |order: Vec<Order>| {
        orders.send(order).expect("the thread takes orders");
        finished.recv().expect("the thread ran the order");
    };
    let span_created = clock::now();
    run(vec![
        Box::new(|| call(&X)),
        Box::new(|| call(&X)),
        Box::new(|| call(&Z)),
        Box::new(allocate),
        // A span entered and left, closed only after the reset.
        Box::new(|| {
            span::enter(S.id(), 1, true);
            span::exit(1);
        }),
        // A call in flight across the reset, 20 ms old by then.
        Box::new(|| {
            IN_FLIGHT.with(|f| *f.borrow_mut() = Some(enter(&W)));
            spin(Duration::from_millis(20));
        }),
    ]);
    assert_eq!(live_threads(), 1);
    call(&Y);
    assert_eq!(live_threads(), 2, "the test's thread has a store too");
    let before = snapshot();
    let count = |snap: &perfscope_core::Snapshot, c: &'static Callsite| {
        snap.callsites.iter().find(|s| s.id == c.id()).map(|s| s.calls)
    };
    assert_eq!(
        (count(&before, &X), count(&before, &Z), count(&before, &A)),
        (Some(3), Some(1), Some(1))
    );

    let before_reset = Instant::now();
    reset();
    let after_reset = Instant::now();
    let empty = snapshot();
    assert_eq!(empty.resets, before.resets + 1);
    assert!(empty.callsites.is_empty(), "{empty:?}");
    // This thread's first act after the reset is a call: it clears its store first.
    call(&Y);

    // The live thread's first act after the reset (closing the span, which counts) clears its
    // store: x and a count from zero, z, not called again, is left out (its slot is still
    // there, all zeros), and w, in flight, counts only its time since the reset.
    run(vec![
        Box::new(move || span::close(S.id(), span_created)),
        Box::new(|| call(&C)),
        Box::new(|| call(&X)),
        Box::new(allocate),
        Box::new(|| {
            spin(Duration::from_millis(5));
            IN_FLIGHT.with(|f| f.borrow_mut().take().map(SyncGuard::finish));
        }),
    ]);
    std::thread::sleep(Duration::from_millis(5));
    let snap = assert_elapsed_since(after_reset, before_reset);
    let find = |c: &'static Callsite| snap.callsites.iter().find(|s| s.id == c.id());
    let found: Vec<_> = [&X, &Y, &Z, &A, &S, &W].map(|c| find(c).map(|s| s.calls)).into();
    assert_eq!(found, [Some(1), Some(1), None, Some(1), Some(1), Some(1)], "{snap:?}");
    let a = find(&A).expect("a counted");
    assert_eq!(a.alloc_self.alloc_bytes, 1000, "{a:?}");
    let w = find(&W).expect("w counted");
    let since_reset = before_reset.elapsed().as_nanos() as u64;
    assert!((5_000_000..since_reset).contains(&w.busy_ns), "{w:?} in {since_reset} ns");
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
