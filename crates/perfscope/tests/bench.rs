//! `perfscope::bench`: the iterations it runs and keeps, the figures each keeps (timed around
//! the call by the test itself), the timeout, and the bench file.
//!
//! `bench` resets perfscope process-wide: the tests of this file take turns (`cargo test`
//! runs them on threads of one process).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use perfscope::bench::{
    BENCH_SCHEMA, BenchError, BenchRun, FunctionSeries, Iteration, IterationFigures, bench,
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[perfscope::measure]
fn step(pause: Duration) {
    sleep(pause);
}

#[test]
fn an_iteration_over_the_timeout_ends_the_run_once_it_returns() {
    let _turn = one_at_a_time();
    let timeout = Duration::from_millis(200);
    let pause = Duration::from_millis(400);
    let mut calls = 0;
    let start = Instant::now();
    let result =
        bench("timeout").with_warmup(1).with_iterations(5).with_timeout(timeout).run(|| {
            // Iteration 2 (the second measured one) sleeps past the timeout; the others return
            // at once.
            if calls == 2 {
                sleep(pause);
            }
            calls += 1;
        });
    let around = start.elapsed();

    let Err(BenchError::Timeout { iteration, elapsed, timeout: reported }) = result else {
        panic!("the run must time out: {result:?}");
    };
    assert_eq!((iteration, reported), (2, timeout), "0-based, warm-up included");
    // The iteration's time is its sleep at least, and no more than the whole run measured
    // around it.
    assert!(pause <= elapsed && elapsed <= around, "{elapsed:?} not in [{pause:?}, {around:?}]");
    assert_eq!(calls, 3, "the run stops after the slow iteration");
    let message = BenchError::Timeout { iteration: 2, elapsed: pause, timeout }.to_string();
    assert_eq!(message, "iteration 2 took 400ms, over the timeout of 200ms");
}

#[test]
fn iterations_under_the_timeout_are_kept_with_their_figures() {
    let _turn = one_at_a_time();
    let pause = Duration::from_millis(2);
    let mut calls = 0;
    let start = Instant::now();
    let run = bench("steps")
        .with_warmup(2)
        .with_iterations(3)
        .with_timeout(Duration::from_secs(60))
        .run(|| {
            calls += 1;
            step(pause);
        })
        .expect("no iteration takes a minute");
    let around = start.elapsed();

    assert_eq!(calls, 5, "2 warm-up and 3 measured iterations");
    assert_eq!((run.schema.as_str(), run.name.as_str(), run.warmup), (BENCH_SCHEMA, "steps", 2));
    assert_eq!(run.iterations.len(), 3);
    // Each iteration starts from a reset: one call of `step` each, timed within the workload,
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
fn the_defaults_and_at_least_one_iteration() {
    let _turn = one_at_a_time();
    let mut calls = 0;
    let run = bench("defaults").run(|| calls += 1).expect("no timeout by default");
    assert_eq!((calls, run.warmup, run.iterations.len()), (13, 3, 10));
    let mut calls = 0;
    let run = bench("none").with_warmup(0).with_iterations(0).run(|| calls += 1).expect("ran");
    assert_eq!((calls, run.warmup, run.iterations.len()), (1, 0, 1));
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
