//! The tracing layer: `#[instrument]` and hand-made spans land in the same report as
//! `#[measure]` functions, nest with them in either order, and respect filters. Durations are
//! bounded from both sides by the test's own timings of the same code (see `common`).

mod common;

use std::time::{Duration, Instant};

use common::{PollTimer, assert_between, record, sum, timed};
use perfscope::{FunctionKind, measure, report};
use perfscope_suite::{spin_for, stats, stats_in};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

#[measure]
fn mixed_outer() {
    let start = Instant::now();
    spin_for(Duration::from_millis(4));
    timed("mixed_section.around", || {
        tracing::info_span!("mixed_section").in_scope(|| {
            let start = Instant::now();
            spin_for(Duration::from_millis(3));
            timed("mixed_instrumented.around", mixed_instrumented);
            record("mixed_section.inside", start.elapsed());
        })
    });
    record("mixed_outer.inside", start.elapsed());
}

#[tracing::instrument]
fn mixed_instrumented() {
    let start = Instant::now();
    spin_for(Duration::from_millis(2));
    timed("mixed_leaf.around", mixed_leaf);
    timed("mixed_leaf.around", mixed_leaf);
    record("mixed_instrumented.inside", start.elapsed());
}

#[measure]
fn mixed_leaf() {
    timed("mixed_leaf.inside", || spin_for(Duration::from_millis(1)));
}

#[test]
fn spans_and_measured_fns_nest_in_either_order() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..8 {
            timed("mixed_outer.around", mixed_outer);
        }
    });
    let report = report();
    let outer = stats_in(&report, "::mixed_outer");
    let section = stats_in(&report, "::mixed_section");
    let instrumented = stats_in(&report, "::mixed_instrumented");
    let leaf = stats_in(&report, "::mixed_leaf");
    assert_eq!((outer.calls, section.calls, instrumented.calls, leaf.calls), (8, 8, 8, 16));
    assert_eq!((section.kind, instrumented.kind), (FunctionKind::Span, FunctionKind::Span));
    // measure -> span -> span -> measure
    assert_eq!(common::child(&outer, "::mixed_section").calls, 8);
    assert_eq!(common::child(&section, "::mixed_instrumented").calls, 8);
    assert_eq!(common::child(&instrumented, "::mixed_leaf").calls, 16);
    for f in [&outer, &section, &instrumented, &leaf] {
        common::assert_self_consistent(f);
    }
    let levels = [
        (&outer, "mixed_outer", Some("mixed_section")),
        (&section, "mixed_section", Some("mixed_instrumented")),
        (&instrumented, "mixed_instrumented", Some("mixed_leaf")),
        (&leaf, "mixed_leaf", None),
    ];
    for (f, name, child) in levels {
        let (inside, around) = (sum(&format!("{name}.inside")), sum(&format!("{name}.around")));
        // Busy (entered) time: between the body and the call (span creation to close).
        assert_between(&format!("{name} busy"), f.busy_ns, inside, around, f.calls);
        // Each level's self time is its own busy-wait, not its children's.
        let (low, high) = match child {
            Some(child) => (
                inside.saturating_sub(sum(&format!("{child}.around"))),
                around.saturating_sub(sum(&format!("{child}.inside"))),
            ),
            None => (inside, around),
        };
        assert_between(&format!("{name} self"), f.self_ns, low, high, f.calls * 3);
    }
    // The spans are entered right after creation: their wall time is between the body and
    // the call as well.
    for (f, name) in [(&section, "mixed_section"), (&instrumented, "mixed_instrumented")] {
        let (inside, around) = (sum(&format!("{name}.inside")), sum(&format!("{name}.around")));
        assert_between(&format!("{name} wall"), f.total_ns, inside, around, f.calls);
    }
}

#[test]
fn a_span_entered_several_times_is_one_call_with_idle_time() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    let (mut wall_low, mut wall_high) = (Duration::ZERO, Duration::ZERO);
    tracing::subscriber::with_default(subscriber, || {
        let before_creation = Instant::now();
        let span = tracing::info_span!("reentered_span");
        let created = Instant::now();
        for _ in 0..3 {
            timed("reentered_span.around", || {
                let _e = span.enter();
                timed("reentered_span.inside", || spin_for(Duration::from_millis(2)));
            });
        }
        std::thread::sleep(Duration::from_millis(10));
        wall_low = created.elapsed();
        drop(span);
        wall_high = before_creation.elapsed();
    });
    let span = stats("::reentered_span");
    assert_eq!(span.calls, 1);
    let (busy_low, busy_high) = (sum("reentered_span.inside"), sum("reentered_span.around"));
    assert_between("busy", span.busy_ns, busy_low, busy_high, 3);
    assert_between("wall", span.total_ns, wall_low, wall_high, 1);
    let idle = span.idle_ns.unwrap();
    assert_between("idle", idle, wall_low.saturating_sub(busy_high), wall_high - busy_low, 4);
    assert!(idle >= 10_000_000, "at least the sleep: {span:?}");
    assert_eq!(span.max_ns, span.total_ns, "one call: its latency is the wall time");
}

#[test]
fn out_of_order_exits_keep_the_stack_consistent() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        let a = tracing::info_span!("ooo_a");
        let b = tracing::info_span!("ooo_b");
        let ea = a.enter();
        let eb = b.enter();
        drop(ea);
        ooo_measured();
        drop(eb);
    });
    assert_eq!(perfscope_core::current_depth(), 0);
    let report = report();
    assert_eq!(stats_in(&report, "::ooo_a").calls, 1);
    assert_eq!(stats_in(&report, "::ooo_b").calls, 1);
    assert_eq!(common::child(&stats_in(&report, "::ooo_b"), "::ooo_measured").calls, 1);
}

#[measure]
fn ooo_measured() {}

#[test]
fn per_layer_filters_and_env_filter_are_respected() {
    let subscriber = tracing_subscriber::registry()
        .with(perfscope::layer().with_filter(filter_fn(|m| m.name() != "filtered_out_span")))
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("filtered_out_span").in_scope(|| {});
        tracing::info_span!("filtered_in_span").in_scope(|| {});
    });
    let env = EnvFilter::new("off,layer=info");
    let subscriber = tracing_subscriber::registry().with(perfscope::layer()).with(env);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("env_enabled_span").in_scope(|| {});
        tracing::debug_span!("env_debug_span").in_scope(|| {});
        tracing::info_span!(target: "elsewhere", "env_other_target_span").in_scope(|| {});
    });
    let report = report();
    assert_eq!(stats_in(&report, "::filtered_in_span").calls, 1);
    assert_eq!(stats_in(&report, "::env_enabled_span").calls, 1);
    for absent in ["filtered_out_span", "env_debug_span", "env_other_target_span"] {
        assert!(report.functions.iter().all(|f| !f.name.ends_with(absent)), "{absent} recorded");
    }
}

#[test]
fn spans_on_tokio_tasks_count_busy_per_poll_and_wall_to_close() {
    use tracing::Instrument;
    const TASKS: u64 = 6;
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    let _default = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let task = async {
                    let start = Instant::now();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    timed("tokio_task_span.spin", || spin_for(Duration::from_millis(2)));
                    record("tokio_task_span.inside", start.elapsed());
                };
                let instrumented = task.instrument(tracing::info_span!("tokio_task_span"));
                PollTimer::new("tokio_task_span.poll", "tokio_task_span.wall", instrumented)
            })
            .collect();
        futures::future::join_all(tasks).await;
    });
    let everything = start.elapsed();
    let span = stats("::tokio_task_span");
    assert_eq!(span.calls, TASKS);
    // Busy: entered only while polled, so between the spins and the polls timed outside.
    let (spins, polls) = (sum("tokio_task_span.spin"), sum("tokio_task_span.poll"));
    assert_between("busy", span.busy_ns, spins, polls, 2 * TASKS);
    // Wall: each span lives from before its first poll to its close, within the whole run.
    let wall = span.total_ns;
    assert_between("wall", wall, sum("tokio_task_span.inside"), everything * TASKS as u32, TASKS);
    let idle = span.idle_ns.unwrap();
    let inside = sum("tokio_task_span.inside");
    let (low, high) = (inside.saturating_sub(polls), everything * TASKS as u32 - spins);
    assert_between("idle", idle, low, high, 2 * TASKS);
}

#[measure]
fn spilled_child() {
    std::hint::black_box(());
}

/// More spans alive at once than the layer's table holds (8,192 entries): the rest keep their
/// state in the registry's span extensions, and every one is still measured.
#[test]
fn spans_past_the_layer_table_spill_to_extensions_and_still_count() {
    const LIVE: usize = 20_000;
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    let (mut lifetime_low, mut lifetime_high) = (Duration::ZERO, Duration::ZERO);
    tracing::subscriber::with_default(subscriber, || {
        let before_creation = Instant::now();
        let spans: Vec<_> = (0..LIVE).map(|_| tracing::info_span!("spilled_span")).collect();
        let created = Instant::now();
        for span in &spans {
            timed("spilled_span.around", || span.in_scope(spilled_child));
        }
        lifetime_low = created.elapsed();
        drop(spans);
        lifetime_high = before_creation.elapsed();
    });
    let report = report();
    let span = stats_in(&report, "::spilled_span");
    assert_eq!(span.calls, LIVE as u64, "every span closed is one call");
    assert_eq!(
        common::child(&span, "::spilled_child").calls,
        LIVE as u64,
        "every entry is a frame"
    );
    assert_eq!(stats_in(&report, "::spilled_child").calls, LIVE as u64);
    common::assert_self_consistent(&span);
    assert_between("busy", span.busy_ns, Duration::ZERO, sum("spilled_span.around"), LIVE as u64);
    // Every span lived at least from the last creation to the first drop, and at most the
    // whole run: a spilled span's creation time is its own, not lost.
    let (low, high) = (lifetime_low * LIVE as u32, lifetime_high * LIVE as u32);
    assert_between("wall", span.total_ns, low, high, 0);
    assert_eq!(perfscope_core::current_depth(), 0);
}
