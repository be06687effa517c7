//! With the `off` feature (`cargo test -p perfscope --features off --test off`, which
//! `scripts/test` runs), blocks, closures and futures compile to themselves and
//! `#[measure_all]` to the unchanged item: nothing is recorded. Sessions still work.
#![cfg(feature = "off")]
#![deny(warnings)]

use perfscope::measure_all;

struct Parser;

#[measure_all]
impl Parser {
    fn parse(&self, input: &str) -> usize {
        input.len()
    }

    #[perfscope::skip]
    fn skipped(&self) -> usize {
        1
    }
}

#[measure_all]
mod subsystem {
    pub async fn load() -> u32 {
        3
    }
}

fn first_even(values: &[u32]) -> Option<u32> {
    perfscope::measure_block!("loop", {
        for &v in values {
            if v % 2 == 0 {
                return Some(v);
            }
        }
    });
    None
}

#[test]
fn nothing_is_measured_when_off() {
    let session = perfscope::session();
    assert_eq!(Parser.parse("abc"), 3);
    assert_eq!(Parser.skipped(), 1);
    assert_eq!(futures::executor::block_on(subsystem::load()), 3);
    let sum = perfscope::measure_block!("sum", { (1..=10).sum::<u32>() });
    assert_eq!(sum, 55);
    {
        let _fixed = perfscope::scope!("fixed");
        let _named = perfscope::scope(&format!("named::{sum}"));
    }
    assert_eq!(perfscope::time("closure", || 2), 2);
    assert_eq!(futures::executor::block_on(perfscope::measured("future", async { 4 })), 4);
    assert_eq!(first_even(&[1, 2]), Some(2));
    assert!(session.report().functions.is_empty());
    assert!(perfscope::report().functions.is_empty());
}

/// The tracing layer (`perfscope::layer()`) is installed as usual and records no span.
#[cfg(feature = "tracing")]
#[test]
fn the_tracing_layer_records_nothing_when_off() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let session = perfscope::session();
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..3 {
            let outer = tracing::info_span!("off_outer", i);
            let _outer = outer.enter();
            let inner = tracing::info_span!("off_inner");
            inner.in_scope(|| assert_eq!(Parser.parse("ab"), 2));
        }
    });
    let report = session.report();
    assert!(report.function("off_outer").is_none() && report.function("off_inner").is_none());
    assert!(report.functions.is_empty(), "{:?}", report.functions);
    assert!(perfscope::snapshot().callsites.iter().all(|c| c.calls == 0));
}
