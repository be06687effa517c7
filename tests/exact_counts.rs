//! Call counts are exact: across threads, across thread exit, and across panics.
//! Each test uses its own functions and never calls `reset()`, so tests can run in parallel.

mod common;

use std::time::Instant;

use common::{assert_between, measured, record};
use perfscope::{FunctionStats, measure};
use perfscope_suite::stats;

fn edge<'a>(parent: &'a FunctionStats, name: &str) -> &'a perfscope::CallEdge {
    let found = parent.children.iter().find(|c| c.name == name || c.name.ends_with(name));
    found.unwrap_or_else(|| panic!("{name} not a child of {}: {:?}", parent.name, parent.children))
}

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
    assert_eq!((failing.calls, failing.panics), (10, 5));
    let caller = stats("::calls_the_failing_fn");
    assert_eq!((caller.calls, caller.panics), (10, 5));
    assert_eq!(caller.children.len(), 1);
    assert_eq!(caller.children[0].calls, 10);
    // The frame stack unwound with the panics.
    assert_eq!(perfscope_core::current_depth(), 0);
}

const RECURSION: usize = perfscope_core::MAX_DEPTH * 2;

#[measure]
fn recursive_depth(n: usize) -> usize {
    match n {
        0 => 0,
        RECURSION => {
            let start = Instant::now();
            let depth = 1 + recursive_depth(n - 1);
            record("recursion.inside", start.elapsed());
            depth
        }
        _ => 1 + recursive_depth(n - 1),
    }
}

#[test]
fn recursion_deeper_than_the_frame_stack_still_counts_every_call() {
    let around = std::thread::spawn(|| {
        let start = Instant::now();
        assert_eq!(recursive_depth(RECURSION), RECURSION);
        start.elapsed()
    })
    .join()
    .unwrap();
    let stats = stats("::recursive_depth");
    assert_eq!(stats.calls, RECURSION as u64 + 1);
    // Every call but the outermost was made from a measured call, past the frame stack too.
    let recursion = edge(&stats, "::recursive_depth");
    assert_eq!(recursion.calls, RECURSION as u64);
    // The longest call is the outermost, timed by the test; it is the only time not spent
    // under a measured parent.
    let inside = measured("recursion.inside")[0];
    assert_between("max", stats.max_ns, inside, around, 1);
    let outermost = stats.total_ns - recursion.busy_ns;
    let error = outermost.abs_diff(stats.max_ns) as f64;
    assert!(error <= 0.001 * stats.max_ns as f64 + 2.0, "{stats:?}");
}

#[measure]
fn dies_on_third_call(n: u32) {
    if n == 3 {
        panic!("uncaught, on purpose");
    }
}

#[measure]
fn body_of_a_dying_thread() {
    for n in 1..=3 {
        dies_on_third_call(n);
    }
}

#[test]
fn a_thread_killed_by_an_uncaught_panic_still_counts_its_calls() {
    // No catch_unwind: the panic unwinds out of the thread's main function and kills it.
    let died = std::thread::spawn(body_of_a_dying_thread).join();
    assert!(died.is_err(), "the thread panicked");
    let dying = stats("::dies_on_third_call");
    assert_eq!((dying.calls, dying.panics), (3, 1));
    let body = stats("::body_of_a_dying_thread");
    assert_eq!((body.calls, body.panics), (1, 1));
    assert_eq!(edge(&body, "::dies_on_third_call").calls, 3);
}

macro_rules! twenty_children {
    ($($name:ident)*) => {
        $(
            #[measure]
            fn $name() {
                std::hint::black_box(Instant::now());
            }
        )*
        /// Calls each child once, in order (not measured itself: the edges are its caller's).
        fn call_each_child() {
            $($name();)*
        }
    };
}

twenty_children!(
    child_00 child_01 child_02 child_03 child_04 child_05 child_06 child_07 child_08 child_09
    child_10 child_11 child_12 child_13 child_14 child_15 child_16 child_17 child_18 child_19
);

#[measure]
fn calls_twenty_children() {
    call_each_child();
}

#[test]
fn children_past_the_edge_table_are_summed_under_other() {
    assert_eq!(perfscope_core::EDGES, 16);
    for _ in 0..5 {
        calls_twenty_children();
    }
    let report = perfscope::report();
    let parent = report.function_by_suffix("::calls_twenty_children").unwrap();
    // The first 16 children called keep their own edge; the 4 later ones share `<other>`.
    let mut named: Vec<&str> = parent.children.iter().map(|c| c.name.as_str()).collect();
    named.sort_unstable();
    let mut expected: Vec<String> =
        (0..16).map(|i| format!("exact_counts::child_{i:02}")).collect();
    expected.insert(0, "<other>".into());
    assert_eq!(named, expected);
    assert!(parent.children.iter().filter(|c| c.name != "<other>").all(|c| c.calls == 5));
    assert_eq!(edge(parent, "<other>").calls, 20);
    // Self time still excludes every child, in the table or not: the children are called from
    // nowhere else, so their totals are what the parent's self time must not contain.
    let children: u64 = (0..20)
        .map(|i| report.function_by_suffix(&format!("::child_{i:02}")).unwrap().total_ns)
        .sum();
    let expected = parent.total_ns - children;
    let error = parent.self_ns.abs_diff(expected) as f64;
    assert!(
        error <= 0.001 * parent.total_ns as f64 + 50.0,
        "self {} vs {expected}",
        parent.self_ns
    );
}
