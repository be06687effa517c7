//! Blocks, closures and futures are frames like functions: they nest with `#[measure]`
//! functions and tracing spans in either order (checked on the rendered folded stacks), have
//! self time and allocations, and run-time names are capped.
#![cfg(not(feature = "off"))]

use std::hint::black_box;
use std::time::{Duration, Instant};

use perfscope::{CountingAlloc, Report, measure, measure_all};
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// The folded stacks of `report` whose frames all start with `prefix` or end with a
/// function of this file, without their weights, sorted.
fn stacks(report: &Report, prefix: &str) -> Vec<String> {
    let mut stacks: Vec<String> = report
        .folded()
        .lines()
        .filter_map(|line| line.rsplit_once(' ').map(|(stack, _)| stack))
        .filter(|stack| stack.split(';').all(|frame| frame.starts_with(prefix)))
        .map(|stack| stack.replace("blocks::", ""))
        .collect();
    stacks.sort();
    stacks
}

#[measure(name = "nest::function")]
fn function_around_a_block() {
    perfscope::measure_block!("nest::block", {
        let _span = tracing::info_span!(target: "nest", "span").entered();
        spin(Duration::from_micros(200));
        function_inside();
    });
}

#[measure(name = "nest::inner")]
fn function_inside() {
    spin(Duration::from_micros(100));
}

// A second function, so the tree is exact (a function called from two places has its time
// shared among them in proportion, with rounding).
#[measure(name = "nest::inner2")]
fn function_inside_too() {
    spin(Duration::from_micros(100));
}

fn span_around_a_block() {
    let _span = tracing::info_span!(target: "nest", "outer").entered();
    let _block = perfscope::scope!("nest::scope");
    perfscope::time("nest::time", || {
        spin(Duration::from_micros(100));
        function_inside_too();
    });
}

#[test]
fn blocks_nest_with_functions_and_spans_in_either_order() {
    let _subscriber = tracing_subscriber::registry().with(perfscope::layer()).set_default();
    let session = perfscope::session();
    for _ in 0..3 {
        function_around_a_block();
        span_around_a_block();
    }
    let report = session.report();
    assert_eq!(
        stacks(&report, "nest::"),
        [
            "nest::function",
            "nest::function;nest::block",
            "nest::function;nest::block;nest::span",
            "nest::function;nest::block;nest::span;nest::inner",
            "nest::outer",
            "nest::outer;nest::scope",
            "nest::outer;nest::scope;nest::time",
            "nest::outer;nest::scope;nest::time;nest::inner2",
        ],
        "{}",
        report.folded()
    );
    let block = report.function("nest::block").unwrap();
    assert_eq!(block.calls, 3);
    // The block's own time excludes the span inside it, which holds the 200 µs spin.
    let span = report.function("nest::span").unwrap();
    assert!(span.self_ns >= 3 * 200_000, "{}", span.self_ns);
    assert!(block.self_ns < span.self_ns, "{} vs {}", block.self_ns, span.self_ns);
    assert_eq!(report.function("nest::time").unwrap().calls, 3);
}

#[test]
fn a_block_has_self_time_allocations_and_a_panic_count() {
    let session = perfscope::session();
    for _ in 0..4 {
        let kept = perfscope::measure_block!("alloc::block", {
            let kept = vec![0u8; 500];
            perfscope::time("alloc::child", || black_box(vec![0u8; 20]));
            kept
        });
        assert_eq!(kept.len(), 500);
    }
    let panicked = std::panic::catch_unwind(|| {
        let _guard = perfscope::scope("alloc::panics");
        panic!("inside a scope");
    });
    assert!(panicked.is_err());
    let report = session.report();
    let block = report.function("alloc::block").unwrap();
    assert_eq!((block.calls, block.allocations, block.alloc_bytes), (4, 4, 2_000));
    assert_eq!((block.total_allocations, block.total_alloc_bytes), (8, 2_080));
    assert_eq!(block.children[0].name, "alloc::child");
    assert_eq!(block.children[0].calls, 4);
    let panics = report.function("alloc::panics").unwrap();
    assert_eq!((panics.calls, panics.panics), (1, 1));
}

#[test]
fn early_exits_end_a_block() {
    fn first_even(values: &[u32]) -> Option<u32> {
        perfscope::measure_block!("exit::loop", {
            for &v in values {
                if v % 2 == 0 {
                    return Some(v);
                }
            }
        });
        None
    }
    let session = perfscope::session();
    assert_eq!(first_even(&[1, 4, 5]), Some(4));
    assert_eq!(first_even(&[1, 3]), None);
    let report = session.report();
    assert_eq!(report.function("exit::loop").unwrap().calls, 2);
    // No block left a frame behind.
    assert_eq!(perfscope_core::current_depth(), 0);
}

#[test]
fn a_measured_future_is_measured_per_poll_and_cancelled_when_dropped() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let session = perfscope::session();
    rt.block_on(async {
        for shard in ["eu", "us"] {
            let name = format!("future::{shard}");
            perfscope::measured(&name, async {
                spin(Duration::from_micros(50));
                tokio::time::sleep(Duration::from_millis(5)).await;
                spin(Duration::from_micros(50));
            })
            .await;
        }
        let slow =
            perfscope::measured("future::cancelled", tokio::time::sleep(Duration::from_secs(5)));
        let _ = tokio::time::timeout(Duration::from_millis(1), slow).await;
    });
    let report = session.report();
    let eu = report.function("future::eu").unwrap();
    assert_eq!((eu.calls, eu.polls), (1, Some(2)));
    assert!(eu.total_ns >= 5_000_000 && eu.busy_ns >= 100_000, "{eu:?}");
    assert!(eu.idle_ns.unwrap() >= 4_000_000, "{eu:?}");
    assert_eq!(report.function("future::us").unwrap().calls, 1);
    assert_eq!(report.function("future::cancelled").unwrap().cancelled, 1);
}

struct Parser;

#[measure_all]
impl Parser {
    fn parse(&self, input: &str) -> usize {
        input.split(',').map(|f| self.field(f)).sum::<usize>() + self.skipped()
    }

    fn field(&self, f: &str) -> usize {
        f.trim().len()
    }

    #[perfscope::skip]
    fn skipped(&self) -> usize {
        0
    }

    #[measure(name = "all::renamed")]
    fn renamed(&self) {}

    const fn constant(&self) -> usize {
        1
    }
}

#[measure_all]
mod subsystem {
    pub fn outer() -> u32 {
        inner::deep() + Helper.method() + super::subsystem::left_out()
    }

    #[perfscope::skip]
    pub fn left_out() -> u32 {
        0
    }

    pub struct Helper;

    impl Helper {
        pub fn method(&self) -> u32 {
            1
        }
    }

    pub mod inner {
        pub fn deep() -> u32 {
            2
        }
    }

    #[perfscope::skip]
    pub mod untouched {
        pub fn not_measured() {}
    }

    pub async fn load() -> u32 {
        3
    }
}

#[test]
fn measure_all_measures_every_function_but_the_skipped() {
    let session = perfscope::session();
    assert_eq!(Parser.parse("a, bb"), 3);
    Parser.renamed();
    assert_eq!(Parser.constant(), 1);
    assert_eq!(subsystem::outer(), 3);
    subsystem::untouched::not_measured();
    assert_eq!(futures::executor::block_on(subsystem::load()), 3);
    let report = session.report();
    let parse = report.function_by_suffix("Parser::parse").unwrap();
    assert_eq!(parse.calls, 1);
    assert_eq!(parse.children.len(), 1, "{:?}", parse.children);
    assert_eq!(parse.children[0].calls, 2);
    assert!(report.function("all::renamed").is_some());
    let outer = report.function_by_suffix("subsystem::outer").unwrap();
    let mut children: Vec<_> = outer.children.iter().map(|c| c.name.as_str()).collect();
    children.sort();
    assert_eq!(children.len(), 2, "{children:?}");
    assert!(children[0].ends_with("subsystem::Helper::method"), "{children:?}");
    assert!(children[1].ends_with("subsystem::inner::deep"), "{children:?}");
    assert_eq!(report.function_by_suffix("subsystem::load").unwrap().calls, 1);
    for absent in ["::skipped", "::constant", "::left_out", "::not_measured"] {
        assert!(report.function_by_suffix(absent).is_none(), "{absent} measured:\n{report}");
    }
}
