//! Cardinality caps where a user string becomes a name in perfscope-instrument, against hostile
//! cardinality: 5,000 distinct SQL statements (one fingerprint each) and 1,500 caches with
//! distinct names. Fingerprints past `MAX_FINGERPRINTS` share one `<other>` series and the
//! exposition stays bounded; frame names past `MAX_NAMES` share one
//! `perfscope_instrument::<name overflow>` callsite and no call is lost. The name table is
//! process-wide, so this file is its own test binary.

use perfscope_instrument::MAX_NAMES;
use perfscope_instrument::cache::InstrumentedCache;
use perfscope_instrument::queries::{
    CALLS_TOTAL, MAX_FINGERPRINTS, OTHER, QueryCollector, QueryRecord,
};
use std::time::Duration;

const STATEMENTS: usize = 5_000;

#[test]
fn statements_past_the_fingerprint_cap_share_one_other_series() {
    let queries = QueryCollector::new();
    for i in 0..STATEMENTS {
        // A table of its own: a fingerprint of its own (literals alone would normalise away).
        let statement = format!("SELECT v FROM hostile_table_{i} WHERE id = 1");
        queries.record(&QueryRecord {
            statement: &statement,
            elapsed: Duration::from_micros(10),
            rows_returned: 1,
            rows_affected: 0,
        });
    }
    let fingerprints = queries.fingerprints();
    assert_eq!(fingerprints.len(), MAX_FINGERPRINTS + 1, "the cap and one <other>");
    let other = fingerprints.iter().find(|f| f.label == OTHER).expect("an <other> series");
    assert_eq!(other.calls, (STATEMENTS - MAX_FINGERPRINTS) as u64);
    let calls: u64 = fingerprints.iter().map(|f| f.calls).sum();
    assert_eq!(calls, STATEMENTS as u64, "no statement lost");

    // The exposition: one series per fingerprint kept, plus <other>.
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .expect("an exporter");
    let text = exporter.render();
    exporter.shutdown();
    let series = text.lines().filter(|l| l.starts_with(&format!("{CALLS_TOTAL}{{"))).count();
    assert_eq!(series, MAX_FINGERPRINTS + 1, "{CALLS_TOTAL} series");
}

const CACHES: usize = 1_500;

#[test]
fn frame_names_past_the_name_cap_share_one_overflow_callsite() {
    let overflow = "perfscope_instrument::<name overflow>";
    // Each cache leaks its frames' callsites (get, insert, ...) once per name, up to MAX_NAMES.
    let caches: Vec<InstrumentedCache<u32, u32>> = (0..CACHES)
        .map(|i| {
            InstrumentedCache::new(
                format!("hostile_{i}"),
                moka::sync::Cache::builder().max_capacity(4),
            )
        })
        .collect();
    for cache in &caches {
        cache.insert(1, 1);
        assert_eq!(cache.get(&1), Some(1));
    }
    let report = perfscope::report();
    let named = report.functions.iter().filter(|f| f.name.starts_with("cache::hostile_")).count();
    assert!(named > 0 && named <= MAX_NAMES, "{named} named frames");
    let overflowed = report.function(overflow).map_or(0, |f| f.calls);
    assert!(overflowed > 0, "the cap was reached: {CACHES} caches x several frames > {MAX_NAMES}");
    // No call lost: every insert and get is a call, named or in the overflow row.
    let named_calls: u64 = report
        .functions
        .iter()
        .filter(|f| f.name.starts_with("cache::hostile_"))
        .map(|f| f.calls)
        .sum();
    assert_eq!(named_calls + overflowed, 2 * CACHES as u64);
    drop(caches);
}
