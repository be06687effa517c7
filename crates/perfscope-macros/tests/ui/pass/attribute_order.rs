//! `#[measure]` composes with other attributes that rewrite the function, in either order.
#![deny(warnings)]

use perfscope::{FunctionKind, FunctionStats, measure};

// `#[measure]` first: it sees an `async fn`, then `#[tokio::main]` runs the measured future.
#[measure]
#[tokio::main(flavor = "current_thread")]
async fn measure_outside() -> u32 {
    tokio::task::yield_now().await;
    1
}

// `#[tokio::main]` first: `#[measure]` sees the sync function it generated.
#[tokio::main(flavor = "current_thread")]
#[measure]
async fn measure_inside() -> u32 {
    2
}

/// The report entry named `name`, where `{crate}` stands for this crate's name.
fn stats(name: &str) -> FunctionStats {
    let name = name.replace("{crate}", module_path!());
    let report = perfscope::report();
    let found = report.function(&name).cloned();
    found.unwrap_or_else(|| {
        let names: Vec<&str> = report.functions.iter().map(|f| f.name.as_str()).collect();
        panic!("no function named `{name}` in {names:?}")
    })
}

fn main() {
    assert_eq!(measure_outside(), 1);
    assert_eq!(measure_inside(), 2);

    let outside = stats("{crate}::measure_outside");
    assert_eq!((outside.calls, outside.kind), (1, FunctionKind::Async));
    assert!(outside.polls.expect("async") >= 2, "{outside:?}");
    let inside = stats("{crate}::measure_inside");
    assert_eq!((inside.calls, inside.kind), (1, FunctionKind::Sync));
}
