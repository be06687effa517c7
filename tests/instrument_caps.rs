//! Cardinality caps where a user string becomes a name in perfscope-instrument, against hostile
//! cardinality: 5,000 distinct SQL statements (one fingerprint each) and 1,500 caches with
//! distinct names. Fingerprints past `MAX_FINGERPRINTS` share one `<other>` series and the
//! exposition stays bounded; frame names past `MAX_NAMES` share one
//! `perfscope_instrument::<name overflow>` callsite and no call is lost; cache and pool names
//! past `MAX_CACHE_NAMES` / `MAX_POOL_NAMES` share one `<other>` label, their figures summed.
//! Every cap publishes its warning event once. The name tables are process-wide, so this file
//! is its own test binary; the tests that keep caches alive run one at a time.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use perfscope_core::figures::Figure;
use perfscope_core::history::EventKind;
use perfscope_instrument::cache::{InstrumentedCache, MAX_CACHE_NAMES, REQUESTS_TOTAL};
use perfscope_instrument::pool::{ACQUIRES_TOTAL, InstrumentedPool, MAX_POOL_NAMES};
use perfscope_instrument::queries::{
    CALLS_TOTAL, MAX_FINGERPRINTS, OTHER, QueryCollector, QueryRecord,
};
use perfscope_instrument::{MAX_NAMES, OTHER as LABEL_OTHER};
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

/// Held by the tests that build caches or pools, so that one's caches, pools and frames are
/// not in the other's sums.
static CACHES_ALIVE: Mutex<()> = Mutex::new(());

#[test]
fn frame_names_past_the_name_cap_share_one_overflow_callsite() {
    let _alone = CACHES_ALIVE.lock().unwrap_or_else(|e| e.into_inner());
    let overflow = "perfscope_instrument::<name overflow>";
    let before = perfscope::report().function(overflow).map_or(0, |f| f.calls);
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
    // (The other tests' caches may have filled the name table first: then none is named.)
    assert!(named <= MAX_NAMES, "{named} named frames");
    let overflowed = report.function(overflow).map_or(0, |f| f.calls) - before;
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

fn label<'a>(figure: &'a Figure, name: &str) -> Option<&'a str> {
    figure.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Each of `names` was given `counts[i]` (hits, acquires); the snapshot's `figure` series by
/// `label` must hold each admitted name's own count, and under `<other>` exactly the sum of
/// the rest, with at most `cap` + 1 label values in all.
fn assert_capped(
    figures: &[Figure],
    figure: &str,
    label_name: &str,
    names: &[String],
    counts: &[u64],
    cap: usize,
) {
    let all_labels: BTreeSet<&str> = figures.iter().filter_map(|f| label(f, label_name)).collect();
    assert!(all_labels.len() <= cap + 1, "{} {label_name} label values", all_labels.len());
    let series: Vec<&Figure> = figures
        .iter()
        .filter(|f| f.name == figure)
        .filter(|f| label(f, "result").is_none_or(|r| r == "hit"))
        .filter(|f| label(f, "level").is_none_or(|l| l == "l1"))
        .collect();
    let by_label: HashMap<&str, f64> =
        series.iter().filter_map(|f| Some((label(f, label_name)?, f.value))).collect();
    assert_eq!(by_label.len(), series.len(), "one series per label value");
    let mut overflowed = 0;
    for (name, count) in names.iter().zip(counts) {
        match by_label.get(name.as_str()) {
            Some(&value) => assert_eq!(value, *count as f64, "{name}"),
            None => overflowed += count,
        }
    }
    assert!(overflowed > 0, "{} names, past the cap of {cap}", names.len());
    assert_eq!(by_label.get(LABEL_OTHER).copied(), Some(overflowed as f64), "the <other> sum");
}

#[test]
fn caches_past_the_name_cap_share_one_other_label_summed() {
    let _alone = CACHES_ALIVE.lock().unwrap_or_else(|e| e.into_inner());
    let names: Vec<String> = (0..CACHES).map(|i| format!("label_cap_{i}")).collect();
    let hits: Vec<u64> = (0..CACHES as u64).map(|i| 1 + i % 5).collect();
    let caches: Vec<InstrumentedCache<u32, u32>> = names
        .iter()
        .map(|name| InstrumentedCache::new(name.clone(), moka::sync::Cache::builder()))
        .collect();
    for (cache, &n) in caches.iter().zip(&hits) {
        cache.insert(1, 1);
        for _ in 0..n {
            assert_eq!(cache.get(&1), Some(1));
        }
    }
    let snap = perfscope_core::snapshot();
    assert_capped(&snap.figures, REQUESTS_TOTAL, "cache", &names, &hits, MAX_CACHE_NAMES);
    drop(caches);
}

#[test]
fn pools_past_the_name_cap_share_one_other_label_summed() {
    let _alone = CACHES_ALIVE.lock().unwrap_or_else(|e| e.into_inner());
    const POOLS: usize = 400;
    let names: Vec<String> = (0..POOLS).map(|i| format!("label_cap_pool_{i}")).collect();
    let acquires: Vec<u64> = (0..POOLS as u64).map(|i| 1 + i % 3).collect();
    let pools: Vec<InstrumentedPool<u32>> = names
        .iter()
        .map(|name| InstrumentedPool::new(name.clone(), deadpool::unmanaged::Pool::from(vec![1])))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for (pool, &n) in pools.iter().zip(&acquires) {
            for _ in 0..n {
                drop(pool.get().await.unwrap());
            }
        }
    });
    let snap = perfscope_core::snapshot();
    assert_capped(&snap.figures, ACQUIRES_TOTAL, "pool", &names, &acquires, MAX_POOL_NAMES);
    drop(pools);
}

/// The warning events of `cap`: exactly one, an alert naming the cap.
fn assert_warned_once(cap: &str, limit: usize) {
    let snap = perfscope_core::snapshot();
    let warnings: Vec<_> = snap.events.iter().filter(|e| e.subject == cap).collect();
    assert_eq!(warnings.len(), 1, "{cap}: {warnings:?}");
    assert_eq!(warnings[0].kind, EventKind::AlertFired);
    assert_eq!(warnings[0].value, Some(limit as f64), "{cap}");
    assert!(warnings[0].message.contains(&limit.to_string()), "{}", warnings[0].message);
}

#[test]
fn every_cap_warns_once_after_overflowing_twice() {
    // Query fingerprints: two collectors, each past the cap.
    for round in 0..2 {
        let queries = QueryCollector::new();
        for i in 0..=MAX_FINGERPRINTS + 1 {
            let statement = format!("SELECT v FROM warned_{round}_{i} WHERE id = 1");
            queries.record(&QueryRecord {
                statement: &statement,
                elapsed: Duration::from_micros(1),
                rows_returned: 1,
                rows_affected: 0,
            });
        }
    }
    assert_warned_once("perfscope_instrument::queries::MAX_FINGERPRINTS", MAX_FINGERPRINTS);

    // Cache names, pool names and frame names: twice past each cap.
    {
        let _alone = CACHES_ALIVE.lock().unwrap_or_else(|e| e.into_inner());
        for round in 0..2 {
            let caches: Vec<InstrumentedCache<u32, u32>> = (0..CACHES)
                .map(|i| {
                    InstrumentedCache::new(
                        format!("warned_{round}_{i}"),
                        moka::sync::Cache::builder(),
                    )
                })
                .collect();
            for cache in &caches {
                cache.insert(1, 1);
            }
        }
    }
    assert_warned_once("perfscope_instrument::cache::MAX_CACHE_NAMES", MAX_CACHE_NAMES);
    assert_warned_once("perfscope_instrument::MAX_NAMES", MAX_NAMES);
    let _alone = CACHES_ALIVE.lock().unwrap_or_else(|e| e.into_inner());
    for round in 0..2 {
        let _pools: Vec<InstrumentedPool<u32>> = (0..=MAX_POOL_NAMES)
            .map(|i| {
                let pool = deadpool::unmanaged::Pool::from(vec![1]);
                InstrumentedPool::new(format!("warned_pool_{round}_{i}"), pool)
            })
            .collect();
    }
    assert_warned_once("perfscope_instrument::pool::MAX_POOL_NAMES", MAX_POOL_NAMES);

    // The exporter's functions: two scrapes past `with_max_functions(1)`.
    warned_a();
    warned_b();
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .with_max_functions(1)
        .start()
        .expect("an exporter");
    let text = exporter.render();
    assert!(text.contains(r#"function="<other>""#), "summed under <other>");
    warned_a();
    exporter.render();
    exporter.shutdown();
    assert_warned_once("perfscope_export::max_functions", 1);
}

#[perfscope::measure]
fn warned_a() -> u32 {
    std::hint::black_box(1)
}

#[perfscope::measure]
fn warned_b() -> u32 {
    std::hint::black_box(2)
}
