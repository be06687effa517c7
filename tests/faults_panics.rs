//! Faults in measured code: calls that panic (caught or not), panics unwinding through spans
//! and through more frames than the frame stack holds, and threads that die holding frames.
//! After each, the figures must be exact (calls, panics, edges), durations bounded from both
//! sides by the test's own timings (see `common`), the frame stack empty, and the next call on
//! the same thread attributed to the right parent. Each test uses its own functions and never
//! calls `reset()`, so tests can run in parallel.

mod common;

use std::panic::catch_unwind;
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{assert_between, record, sum, timed};
use perfscope::{FunctionKind, measure, report};
use perfscope_suite::{spin_for, stats, stats_in};
use tracing_subscriber::prelude::*;

/// What every panic these tests cause on purpose says; the hook stays quiet for those only,
/// so a failing assertion still prints.
const ON_PURPOSE: &str = "fault injected on purpose";

fn quiet_expected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !message.is_some_and(|m| m.contains(ON_PURPOSE)) {
                default(info);
            }
        }));
    });
}

/// Records the time from its creation to its drop under `label`, also when the drop is an
/// unwind (`common::timed` records only calls that return).
struct TimedToDrop(&'static str, Instant);

impl TimedToDrop {
    fn start(label: &'static str) -> TimedToDrop {
        TimedToDrop(label, Instant::now())
    }
}

impl Drop for TimedToDrop {
    fn drop(&mut self) {
        record(self.0, self.1.elapsed());
    }
}

// --- A caught panic: its time, its caller's self time, and the next call's parent ----------

#[measure]
fn spins_then_panics() {
    let _inside = TimedToDrop::start("panicking.inside");
    spin_for(Duration::from_millis(2));
    panic!("{ON_PURPOSE}");
}

#[measure]
fn runs_after_the_panic() {
    let _inside = TimedToDrop::start("after.inside");
    spin_for(Duration::from_millis(1));
}

#[measure]
fn catches_its_childs_panic() {
    let _inside = TimedToDrop::start("catcher.inside");
    spin_for(Duration::from_millis(1));
    let caught = {
        let _around = TimedToDrop::start("panicking.around");
        catch_unwind(spins_then_panics)
    };
    assert!(caught.is_err());
    timed("after.around", runs_after_the_panic);
}

#[test]
fn a_caught_panic_keeps_its_time_and_the_next_call_its_parent() {
    quiet_expected_panics();
    const N: u64 = 10;
    for _ in 0..N {
        timed("catcher.around", catches_its_childs_panic);
    }
    assert_eq!(perfscope_core::current_depth(), 0, "the frame stack unwound");
    // The next call on this thread, outside any measured call, is a root: no parent gets it.
    runs_after_the_panic();

    let report = report();
    let panicking = stats_in(&report, "::spins_then_panics");
    let after = stats_in(&report, "::runs_after_the_panic");
    let catcher = stats_in(&report, "::catches_its_childs_panic");
    assert_eq!((panicking.calls, panicking.panics), (N, N));
    assert_eq!((after.calls, after.panics), (N + 1, 0));
    assert_eq!((catcher.calls, catcher.panics), (N, 0));
    assert!(panicking.children.is_empty(), "nothing ran under the panicked frame: {panicking:?}");
    assert!(after.children.is_empty(), "{after:?}");
    assert_eq!(common::child(&catcher, "::spins_then_panics").calls, N);
    assert_eq!(common::child(&catcher, "::runs_after_the_panic").calls, N);
    assert_eq!(catcher.children.len(), 2, "{catcher:?}");

    // The panicked calls' time: between their bodies (timed up to the unwind) and the calls.
    let (inside, around) = (sum("panicking.inside"), sum("panicking.around"));
    assert_between("panicked total", panicking.total_ns, inside, around, N);
    assert_eq!((panicking.busy_ns, panicking.self_ns), (panicking.total_ns, panicking.total_ns));
    // The caller's self time leaves the panicked child and the next child out.
    for f in [&panicking, &after, &catcher] {
        common::assert_self_consistent(f);
    }
    let children_around = sum("panicking.around") + sum("after.around");
    // `after.inside` has one more call than `after.around`: the root call, made last.
    let after_inside: Duration = common::measured("after.inside")[..N as usize].iter().sum();
    let children_inside = sum("panicking.inside") + after_inside;
    let low = sum("catcher.inside").saturating_sub(children_around);
    let high = sum("catcher.around").saturating_sub(children_inside);
    assert_between("catcher self", catcher.self_ns, low, high, 3 * N);
    assert_between(
        "catcher total",
        catcher.total_ns,
        sum("catcher.inside"),
        sum("catcher.around"),
        N,
    );
}

// --- A panic unwinding through tracing spans and measured frames ---------------------------

#[measure]
fn outside_the_span(fail: bool) {
    let span = tracing::info_span!("faulty_span");
    let _entered = span.enter();
    inside_the_span(fail);
}

#[measure]
fn inside_the_span(fail: bool) {
    spin_for(Duration::from_micros(200));
    if fail {
        panic!("{ON_PURPOSE}");
    }
}

#[measure]
fn after_the_span_panics() {}

#[test]
fn a_panic_through_spans_and_measured_frames_pops_them_all() {
    quiet_expected_panics();
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..10 {
            let result = catch_unwind(|| outside_the_span(n % 2 == 1));
            assert_eq!(result.is_err(), n % 2 == 1);
            assert_eq!(perfscope_core::current_depth(), 0, "after call {n}");
            after_the_span_panics();
        }
    });
    let report = report();
    let outer = stats_in(&report, "::outside_the_span");
    let span = stats_in(&report, "::faulty_span");
    let inner = stats_in(&report, "::inside_the_span");
    let after = stats_in(&report, "::after_the_span_panics");
    assert_eq!(span.kind, FunctionKind::Span);
    assert_eq!((outer.calls, outer.panics), (10, 5));
    assert_eq!((inner.calls, inner.panics), (10, 5));
    assert_eq!(span.calls, 10, "every span closed, the unwound ones too");
    assert_eq!(common::child(&outer, "::faulty_span").calls, 10);
    assert_eq!(common::child(&span, "::inside_the_span").calls, 10);
    assert_eq!(after.calls, 10);
    // `after_the_span_panics` was a root every time: no function has it as a child.
    assert!(
        report
            .functions
            .iter()
            .all(|f| f.children.iter().all(|c| !c.name.ends_with("::after_the_span_panics"))),
        "{report}"
    );
    for f in [&outer, &span, &inner] {
        common::assert_self_consistent(f);
    }
}

// --- A panic from deeper than the frame stack ----------------------------------------------

const DEEP: usize = perfscope_core::MAX_DEPTH * 2;

#[measure]
fn dives(n: usize, fail_at_bottom: bool) -> usize {
    if n == 0 {
        if fail_at_bottom {
            panic!("{ON_PURPOSE}");
        }
        return 0;
    }
    1 + dives(n - 1, fail_at_bottom)
}

#[test]
fn a_panic_below_the_frame_stack_unwinds_every_frame() {
    quiet_expected_panics();
    // On a thread of its own: the frame stack starts empty, whatever ran on this one.
    std::thread::spawn(|| {
        let caught = catch_unwind(|| dives(DEEP, true));
        assert!(caught.is_err());
        assert_eq!(perfscope_core::current_depth(), 0);
        // The stack works as before: a dive of 5 more is 6 calls and 5 edges.
        assert_eq!(dives(5, false), 5);
        assert_eq!(perfscope_core::current_depth(), 0);
    })
    .join()
    .expect("the thread ends normally");
    let f = stats("::dives");
    assert_eq!(f.calls, DEEP as u64 + 1 + 6);
    assert_eq!(f.panics, DEEP as u64 + 1, "every frame of the failed dive, none of the other");
    assert_eq!(common::child(&f, "::dives").calls, DEEP as u64 + 5);
}

// --- Threads that die holding frames ------------------------------------------------------

const DYING_THREADS: u64 = 8;
const CALLS_BEFORE_DYING: u64 = 20;

#[measure]
fn dying_outer(die: bool) {
    let _inside = TimedToDrop::start("dying_outer.inside");
    dying_middle(die);
}

#[measure]
fn dying_middle(die: bool) {
    let _around = TimedToDrop::start("dying_inner.around");
    dying_inner(die);
}

#[measure]
fn dying_inner(die: bool) {
    let _inside = TimedToDrop::start("dying_inner.inside");
    spin_for(Duration::from_micros(300));
    if die {
        panic!("{ON_PURPOSE}");
    }
}

#[measure]
async fn async_dying_inner(die: bool) {
    tokio::task::yield_now().await;
    spin_for(Duration::from_micros(300));
    if die {
        panic!("{ON_PURPOSE}");
    }
}

#[measure]
async fn async_dying_outer(die: bool) {
    async_dying_inner(die).await;
}

#[test]
fn threads_dying_inside_nested_measured_calls_lose_nothing() {
    quiet_expected_panics();
    let threads: Vec<_> = (0..DYING_THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                for i in 0..CALLS_BEFORE_DYING {
                    let _around = TimedToDrop::start("dying_outer.around");
                    dying_outer(i + 1 == CALLS_BEFORE_DYING); // the last call kills the thread
                }
                unreachable!("the thread died in its last call");
            })
        })
        .collect();
    // And threads dying in async code, on a runtime of their own, two awaits deep.
    let async_threads: Vec<_> = (0..DYING_THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
                runtime.block_on(async {
                    for i in 0..CALLS_BEFORE_DYING {
                        async_dying_outer(i + 1 == CALLS_BEFORE_DYING).await;
                    }
                });
            })
        })
        .collect();
    for thread in threads.into_iter().chain(async_threads) {
        assert!(thread.join().is_err(), "the thread died of its panic");
    }

    let report = report();
    let n = DYING_THREADS * CALLS_BEFORE_DYING;
    for name in ["::dying_outer", "::dying_middle", "::dying_inner"] {
        let f = stats_in(&report, name);
        assert_eq!((f.calls, f.panics), (n, DYING_THREADS), "{f:?}");
        common::assert_self_consistent(&f);
    }
    let outer = stats_in(&report, "::dying_outer");
    let middle = stats_in(&report, "::dying_middle");
    let inner = stats_in(&report, "::dying_inner");
    assert_eq!(common::child(&outer, "::dying_middle").calls, n);
    assert_eq!(common::child(&middle, "::dying_inner").calls, n);
    let (inside, around) = (sum("dying_inner.inside"), sum("dying_inner.around"));
    assert_between("dying inner total", inner.total_ns, inside, around, n);
    let (inside, around) = (sum("dying_outer.inside"), sum("dying_outer.around"));
    assert_between("dying outer total", outer.total_ns, inside, around, n);

    for name in ["::async_dying_outer", "::async_dying_inner"] {
        let f = stats_in(&report, name);
        assert_eq!((f.calls, f.panics, f.cancelled), (n, DYING_THREADS, 0), "{f:?}");
        assert_eq!(f.polls, Some(2 * n), "two polls a call (the yield), the panicked one too");
        common::assert_self_consistent(&f);
    }
    let async_outer = stats_in(&report, "::async_dying_outer");
    assert_eq!(common::child(&async_outer, "::async_dying_inner").calls, n);
}
