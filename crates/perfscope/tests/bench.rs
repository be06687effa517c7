//! `perfscope::bench`: the iterations it runs and keeps, the figures each keeps (timed around
//! the call by the test itself), the timeout that stops a hung iteration (sync and async) and
//! keeps the partial run, marked, and the bench file.
//!
//! A `bench` iteration is a session, which sees every thread's calls: the tests of this file,
//! which measure the same functions, take turns (`cargo test` runs them on threads of one
//! process).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use perfscope::bench::{
    BENCH_SCHEMA, BenchError, BenchRun, FunctionSeries, Iteration, IterationFigures, TimedOut,
    bench,
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[perfscope::measure]
fn step(pause: Duration) {
    sleep(pause);
}

#[perfscope::measure]
async fn step_async(pause: Duration) {
    tokio::time::sleep(pause).await;
}

/// Sleeps for ever (an iteration that hangs).
fn hang() -> ! {
    loop {
        sleep(Duration::from_secs(3600));
    }
}

/// What a run stopped by its timeout must show: `Timeout` for iteration `iteration`, no
/// sooner than the timeout and within the timeout + 1 s of the start of that iteration (here,
/// of the run: the iterations before it return at once), and the partial run marked, with the
/// `kept` iterations before it.
fn assert_stopped(
    result: Result<BenchRun, BenchError>,
    around: Duration,
    timeout: Duration,
    iteration: u32,
    kept: usize,
) -> BenchRun {
    assert!(around < timeout + Duration::from_secs(1), "returned after {around:?}");
    let Err(BenchError::Timeout { iteration: at, elapsed, timeout: reported, run }) = result else {
        panic!("the run must time out: {result:?}");
    };
    assert_eq!((at, reported), (iteration, timeout), "0-based, warm-up included");
    assert!(
        timeout <= elapsed && elapsed <= around,
        "{elapsed:?} not in [{timeout:?}, {around:?}]"
    );
    assert_eq!(run.iterations.len(), kept, "the iterations before it are kept");
    let nanos = |d: Duration| d.as_nanos() as u64;
    let marked = TimedOut { iteration, elapsed_ns: nanos(elapsed), timeout_ns: nanos(timeout) };
    assert_eq!(run.timed_out, Some(marked));
    // The mark is in the bench file and reads back.
    let json = run.to_json();
    assert!(json.contains("\"timed_out\": {"), "{json}");
    assert_eq!(BenchRun::from_json(&json).expect("reads back"), *run);
    *run
}

#[test]
fn a_hung_iteration_stops_the_run_at_the_timeout_and_keeps_the_ones_before() {
    let _turn = one_at_a_time();
    let timeout = Duration::from_millis(300);
    let calls = Arc::new(AtomicU32::new(0));
    let start = Instant::now();
    let result = bench("hangs").with_warmup(0).with_iterations(5).with_timeout(timeout).run({
        let calls = calls.clone();
        move || {
            // The third iteration never returns; the others make one measured call.
            if calls.fetch_add(1, SeqCst) == 2 {
                hang();
            }
            step(Duration::ZERO);
        }
    });
    let around = start.elapsed();

    let run = assert_stopped(result, around, timeout, 2, 2);
    assert_eq!(calls.load(SeqCst), 3, "no iteration after the hung one");
    let functions = run.functions();
    let (_, step) = functions.iter().find(|(name, _)| name.ends_with("::step")).expect("step");
    assert_eq!(step.calls, [1, 1]);
    let message = BenchError::Timeout {
        iteration: 2,
        elapsed: Duration::from_millis(301),
        timeout,
        run: Box::new(run),
    };
    assert_eq!(
        message.to_string(),
        "iteration 2 ran past the timeout of 300ms (301ms): the run stopped with 2 measured \
         iterations"
    );
    assert_eq!(message.into_partial().map(|run| run.iterations.len()), Some(2));
}

#[test]
fn a_hung_async_iteration_is_dropped_at_the_timeout() {
    let _turn = one_at_a_time();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let timeout = Duration::from_millis(300);
    // Dropped, not left pending: the guard in the hung future says so.
    let dropped = Arc::new(AtomicBool::new(false));
    let mut calls = 0;
    let start = Instant::now();
    let result = runtime.block_on(
        bench("hangs async").with_warmup(1).with_iterations(5).with_timeout(timeout).run_async(
            || {
                calls += 1;
                let (hangs, dropped) = (calls == 3, dropped.clone());
                async move {
                    if hangs {
                        let _guard = SetOnDrop(dropped);
                        std::future::pending::<()>().await;
                    }
                    step_async(Duration::from_millis(1)).await;
                }
            },
        ),
    );
    let around = start.elapsed();

    // Iteration 2 (the second measured one, after one warm-up) hangs: one measured kept.
    let run = assert_stopped(result, around, timeout, 2, 1);
    assert!(dropped.load(SeqCst), "the hung iteration's future is dropped");
    assert_eq!(calls, 3, "no iteration after the hung one");
    let functions = run.functions();
    let (_, step) = functions.iter().find(|(name, _)| name.ends_with("::step_async")).unwrap();
    assert_eq!(step.calls, [1]);
}

#[test]
fn an_async_iteration_that_blocks_without_yielding_times_out_once_it_returns() {
    let _turn = one_at_a_time();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (timeout, pause) = (Duration::from_millis(100), Duration::from_millis(300));
    let result = runtime.block_on(
        bench("blocks").with_warmup(0).with_iterations(3).with_timeout(timeout).run_async(|| {
            // Blocks the runtime's only thread: nothing can drop it before it returns.
            async move { sleep(pause) }
        }),
    );
    let Err(BenchError::Timeout { iteration: 0, elapsed, run, .. }) = result else {
        panic!("{result:?}");
    };
    assert!(elapsed >= pause, "{elapsed:?}");
    assert!(run.iterations.is_empty() && run.timed_out.is_some());
}

#[test]
fn iterations_under_the_timeout_are_kept_with_their_figures() {
    let _turn = one_at_a_time();
    let pause = Duration::from_millis(2);
    let calls = Arc::new(AtomicU32::new(0));
    let start = Instant::now();
    let run = bench("steps")
        .with_warmup(2)
        .with_iterations(3)
        .with_timeout(Duration::from_secs(60))
        .run({
            let calls = calls.clone();
            move || {
                calls.fetch_add(1, SeqCst);
                step(pause);
            }
        })
        .expect("no iteration takes a minute");
    let around = start.elapsed();

    assert_eq!(calls.load(SeqCst), 5, "2 warm-up and 3 measured iterations");
    assert_eq!((run.schema.as_str(), run.name.as_str(), run.warmup), (BENCH_SCHEMA, "steps", 2));
    assert_eq!((run.iterations.len(), run.timed_out), (3, None));
    assert!(!run.to_json().contains("timed_out"), "a complete run's file is as before");
    // Each iteration is a session of its own: one call of `step` each, timed within the workload,
    // itself within the run.
    let walls: Vec<u64> = run.iterations.iter().map(|i| i.elapsed_ns).collect();
    assert!(walls.iter().all(|&w| w >= pause.as_nanos() as u64), "{walls:?}");
    assert!(walls.iter().sum::<u64>() <= around.as_nanos() as u64, "{walls:?} {around:?}");
    let functions = run.functions();
    let (_, series) = functions.iter().find(|(name, _)| name.ends_with("::step")).expect("step");
    assert_eq!(series.calls, [1, 1, 1]);
    for (i, wall) in walls.iter().enumerate() {
        let (own, total, p99) = (series.self_ns[i], series.total_ns[i], series.p99_ns[i]);
        assert!(pause.as_nanos() as u64 <= own && own <= *wall, "self {own} ns, wall {wall} ns");
        assert_eq!(total, own, "a leaf: its total time is its self time");
        // One call: p99 is that call's latency, within the histogram's 1%.
        assert!(p99.abs_diff(total) <= total / 100 + 1, "p99 {p99} ns, total {total} ns");
    }
}

#[test]
fn a_workload_that_panics_panics_the_run() {
    let _turn = one_at_a_time();
    for timeout in [None, Some(Duration::from_secs(60))] {
        let mut panics = bench("panics").with_warmup(0).with_iterations(3);
        if let Some(timeout) = timeout {
            panics = panics.with_timeout(timeout);
        }
        let mut calls = 0;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            panics.run(move || {
                calls += 1;
                assert!(calls < 2, "the workload's own panic");
            })
        }));
        let panic = result.expect_err("the run panics");
        let said = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or_default();
        assert!(said.contains("the workload's own panic"), "{timeout:?}: {said:?}");
    }
}

#[test]
fn the_defaults_and_at_least_one_iteration() {
    let _turn = one_at_a_time();
    let counter = || {
        let calls = Arc::new(AtomicU32::new(0));
        (calls.clone(), move || {
            calls.fetch_add(1, SeqCst);
        })
    };
    let (calls, workload) = counter();
    let run = bench("defaults").run(workload).expect("no timeout by default");
    assert_eq!((calls.load(SeqCst), run.warmup, run.iterations.len()), (13, 3, 10));
    let (calls, workload) = counter();
    let run = bench("none").with_warmup(0).with_iterations(0).run(workload).expect("ran");
    assert_eq!((calls.load(SeqCst), run.warmup, run.iterations.len()), (1, 0, 1));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut calls = 0;
    let run = runtime.block_on(bench("async").run_async(|| {
        calls += 1;
        std::future::ready(())
    }));
    assert_eq!((calls, run.expect("no timeout by default").iterations.len()), (13, 10));
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Figures whose every field tells which function and iteration they came from.
fn figures(n: u64) -> IterationFigures {
    IterationFigures {
        calls: n,
        self_ns: 10 * n,
        total_ns: 20 * n,
        p99_ns: 30 * n,
        allocations: 40 * n,
        alloc_bytes: 50 * n,
    }
}

fn hand_made_run() -> BenchRun {
    let iteration = |functions: &[(&str, u64)]| Iteration {
        elapsed_ns: 1_000,
        functions: functions.iter().map(|&(name, n)| (name.to_string(), figures(n))).collect(),
    };
    BenchRun {
        schema: BENCH_SCHEMA.into(),
        name: "hand made".into(),
        warmup: 1,
        iterations: vec![
            iteration(&[("a", 1), ("b", 2)]),
            iteration(&[("a", 3)]),
            iteration(&[("a", 5), ("b", 7)]),
        ],
        timed_out: None,
    }
}

#[test]
fn functions_are_series_with_zero_where_an_iteration_did_not_call_them() {
    let functions = hand_made_run().functions();
    let series = |n: [u64; 3]| FunctionSeries {
        calls: n.to_vec(),
        self_ns: n.iter().map(|n| 10 * n).collect(),
        total_ns: n.iter().map(|n| 20 * n).collect(),
        p99_ns: n.iter().map(|n| 30 * n).collect(),
        allocations: n.iter().map(|n| 40 * n).collect(),
        alloc_bytes: n.iter().map(|n| 50 * n).collect(),
    };
    let expected =
        BTreeMap::from([("a".to_string(), series([1, 3, 5])), ("b".into(), series([2, 0, 7]))]);
    assert_eq!(functions, expected);
    assert!(BenchRun { iterations: Vec::new(), ..hand_made_run() }.functions().is_empty());
}

#[test]
fn the_bench_file_reads_back_and_tells_itself_from_a_report() {
    let run = hand_made_run();
    let json = run.to_json();
    assert!(json.contains("\"schema\": \"perfscope-bench/2\""), "{json}");
    assert!(json.contains("\"elapsed_ns\": 1000") && !json.contains("wall_ns"), "{json}");
    assert_eq!(BenchRun::from_json(&json).expect("reads back"), run);
    assert!(BenchRun::is_bench_json(&json));
    // A complete run's file has no `timed_out` (files from before it existed read the same);
    // a partial one's says where the run stopped.
    assert!(!json.contains("timed_out"), "{json}");
    let stopped = json.replacen(
        "\"iterations\": [",
        "\"timed_out\": {\"iteration\": 4, \"elapsed_ns\": 7, \"timeout_ns\": 5},\n  \"iterations\": [",
        1,
    );
    let marked = TimedOut { iteration: 4, elapsed_ns: 7, timeout_ns: 5 };
    let read = BenchRun::from_json(&stopped).expect("a timed-out run reads");
    assert_eq!(read, BenchRun { timed_out: Some(marked), ..run.clone() });

    // A file of the first schema (the elapsed time was `wall_ns`) reads as today's.
    let older =
        json.replace("perfscope-bench/2", "perfscope-bench/1").replace("elapsed_ns", "wall_ns");
    assert_eq!(BenchRun::from_json(&older).expect("the older schema reads"), run);

    let future = json.replace("perfscope-bench/2", "perfscope-bench/3");
    assert!(BenchRun::is_bench_json(&future), "a bench file of another schema");
    match BenchRun::from_json(&future) {
        Err(BenchError::Schema(schema)) => assert_eq!(schema, "perfscope-bench/3"),
        other => panic!("{other:?}"),
    }
    let report = perfscope::report().to_json();
    assert!(!BenchRun::is_bench_json(&report), "a report (its schema is a number)");
    assert!(matches!(BenchRun::from_json(&report), Err(BenchError::Json(_))));
    assert!(!BenchRun::is_bench_json(r#"{"schema": "other/1"}"#));
    assert!(!BenchRun::is_bench_json("not json"));
}
