//! `perfscope::reset()` zeroes perfscope's figures, never the exported counters. Alone in its
//! test binary, since a reset clears every function's figures.

use perfscope_export::families;

mod common;

#[perfscope::measure]
fn settle(trade: u64) -> u64 {
    trade ^ 0x5a5a
}

#[test]
fn exported_counters_keep_growing_across_resets() {
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .unwrap();
    let calls = |text: &str| {
        let labels = [("function", "reset::settle")];
        let count = format!("{}_count", families::DURATION);
        (common::sample(text, families::CALLS, &labels), common::sample(text, &count, &labels))
    };
    let run = |n: u64| {
        for trade in 0..n {
            std::hint::black_box(settle(trade));
        }
    };

    run(10);
    assert_eq!(calls(&exporter.render()), (Some(10.0), Some(10.0)));
    perfscope::reset();
    run(3); // fewer calls than before the reset
    assert_eq!(calls(&exporter.render()), (Some(13.0), Some(13.0)));
    perfscope::reset();
    let _ = exporter.render(); // a scrape that sees nothing, then more calls than ever
    run(20);
    let text = exporter.render();
    assert_eq!(calls(&text), (Some(33.0), Some(33.0)));
    common::promtool_check(&text);
    exporter.shutdown();
}
