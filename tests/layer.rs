//! The tracing layer: `#[instrument]` and hand-made spans land in the same report as
//! `#[measure]` functions, nest with them in either order, and respect filters.

use std::time::Duration;

use perfscope::{FunctionKind, FunctionStats, measure, report};
use perfscope_suite::{spin_for, stats, stats_in};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

fn child<'a>(parent: &'a FunctionStats, suffix: &str) -> &'a perfscope::ChildCalls {
    parent
        .children
        .iter()
        .find(|c| c.name.ends_with(suffix))
        .unwrap_or_else(|| panic!("{suffix} not a child of {}: {:?}", parent.name, parent.children))
}

/// `self ≈ total - Σ children's time under it` within 5%.
fn assert_self_consistent(f: &FunctionStats) {
    let children: u64 = f.children.iter().map(|c| c.busy_ns).sum();
    let expected = f.busy_ns - children;
    let error = (f.self_ns as f64 - expected as f64).abs() / expected as f64;
    assert!(error < 0.05, "{}: self {} vs busy - children {expected}", f.name, f.self_ns);
}

#[measure]
fn mixed_outer() {
    spin_for(Duration::from_millis(4));
    tracing::info_span!("mixed_section").in_scope(|| {
        spin_for(Duration::from_millis(3));
        mixed_instrumented();
    });
}

#[tracing::instrument]
fn mixed_instrumented() {
    spin_for(Duration::from_millis(2));
    mixed_leaf();
    mixed_leaf();
}

#[measure]
fn mixed_leaf() {
    spin_for(Duration::from_millis(1));
}

#[test]
fn spans_and_measured_fns_nest_in_either_order() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..5 {
            mixed_outer();
        }
    });
    let report = report();
    let outer = stats_in(&report, "::mixed_outer");
    let section = stats_in(&report, "::mixed_section");
    let instrumented = stats_in(&report, "::mixed_instrumented");
    let leaf = stats_in(&report, "::mixed_leaf");
    assert_eq!((outer.calls, section.calls, instrumented.calls, leaf.calls), (5, 5, 5, 10));
    assert_eq!((section.kind, instrumented.kind), (FunctionKind::Span, FunctionKind::Span));
    // measure -> span -> span -> measure
    assert_eq!(child(&outer, "::mixed_section").calls, 5);
    assert_eq!(child(&section, "::mixed_instrumented").calls, 5);
    assert_eq!(child(&instrumented, "::mixed_leaf").calls, 10);
    for f in [&outer, &section, &instrumented, &leaf] {
        assert_self_consistent(f);
    }
    // Each level's self time is its own busy-wait, not its children's.
    let ms = |ns: u64| ns as f64 / 1e6;
    assert!(ms(outer.self_ns) >= 5.0 * 4.0 * 0.95 && ms(outer.self_ns) < 5.0 * 6.0 * 1.5);
    assert!(ms(section.self_ns) >= 5.0 * 3.0 * 0.95 && ms(section.self_ns) < 5.0 * 4.0 * 1.5);
    assert!(ms(instrumented.self_ns) >= 5.0 * 2.0 * 0.95);
    assert!(ms(instrumented.self_ns) < ms(instrumented.busy_ns) - 10.0 * 0.95);
    // A span entered once right after creation: wall ≈ busy, both ≥ its children's time.
    assert!(section.total_ns >= section.busy_ns && section.busy_ns >= instrumented.busy_ns);
    assert!(outer.busy_ns >= section.busy_ns);
}

#[test]
fn a_span_entered_several_times_is_one_call_with_idle_time() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("reentered_span");
        for _ in 0..3 {
            let _e = span.enter();
            spin_for(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(10));
    });
    let span = stats("::reentered_span");
    assert_eq!(span.calls, 1);
    assert!(span.busy_ns >= 6_000_000 * 95 / 100, "{span:?}");
    assert!(span.idle_ns.unwrap() >= 10_000_000 * 95 / 100, "{span:?}");
    assert_eq!(span.total_ns, span.wall_ns.unwrap());
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
    assert_eq!(child(&stats_in(&report, "::ooo_b"), "::ooo_measured").calls, 1);
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
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    let _default = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    spin_for(Duration::from_millis(2));
                }
                .instrument(tracing::info_span!("tokio_task_span"))
            })
            .collect();
        futures::future::join_all(tasks).await;
    });
    let span = stats("::tokio_task_span");
    assert_eq!(span.calls, 4);
    assert!(span.busy_ns >= 4 * 2_000_000 * 95 / 100, "{span:?}");
    assert!(span.total_ns >= 4 * 22_000_000 * 95 / 100, "{span:?}");
}
