//! The query collector's figures for statements whose times and rows the test chose, fed as
//! sqlx's events would feed them: p50 and p99 of a known distribution, totals, rows, errors,
//! the slow log's order and bound, the order of fingerprints, and the cap, read exactly.

use std::time::Duration;

use perfscope_core::figures::Figure;
use perfscope_instrument::queries::{
    CALLS_TOTAL, Config, DURATION_P99_SECONDS, DURATION_SECONDS_TOTAL, ERRORS_TOTAL,
    MAX_FINGERPRINTS, OTHER, QueryCollector, QueryRecord, ROWS_TOTAL,
};

/// The value of the figure `name` of fingerprint `label` (and `rows`, if given) now.
fn figure(name: &str, label: &str, rows: Option<&str>) -> Option<f64> {
    let has =
        |f: &Figure, key: &str, value: &str| f.labels.iter().any(|(k, v)| k == key && v == value);
    let figures = perfscope_core::snapshot().figures;
    let mut found = figures.iter().filter(|f| {
        f.name == name
            && f.section == "query"
            && has(f, "fingerprint", label)
            && rows.is_none_or(|rows| has(f, "rows", rows))
    });
    let value = found.next()?.value;
    assert!(found.next().is_none(), "{name} {label:?} is ambiguous");
    Some(value)
}

/// Whether `value` is within `share` (e.g. 0.01) of `expected`.
fn near(value: f64, expected: f64, share: f64) -> bool {
    (value - expected).abs() <= expected.abs() * share
}

/// Whether `value` is within the histogram's 1% of `expected`.
fn within_1_percent(value: Duration, expected: Duration) -> bool {
    near(value.as_secs_f64(), expected.as_secs_f64(), 0.01)
}

fn statement(
    collector: &QueryCollector,
    sql: &str,
    elapsed: Duration,
    returned: u64,
    affected: u64,
) {
    let record =
        QueryRecord { statement: sql, elapsed, rows_returned: returned, rows_affected: affected };
    collector.record(&record);
}

#[test]
fn p50_and_p99_of_ninety_fast_statements_and_ten_slow_ones() {
    let queries = QueryCollector::new();
    let (fast, slow) = (Duration::from_millis(2), Duration::from_millis(40));
    for id in 0..100 {
        let sql = format!("SELECT v FROM known_quantiles WHERE id = {id}");
        let elapsed = if id % 10 == 9 { slow } else { fast };
        statement(&queries, &sql, elapsed, 3, 0);
    }
    queries.record_error("SELECT v FROM known_quantiles WHERE id = 7");

    let stats = queries.fingerprints();
    assert_eq!(stats.len(), 1, "{stats:#?}");
    let s = &stats[0];
    assert_eq!(s.normalized, "SELECT v FROM known_quantiles WHERE id = ?");
    assert_eq!(s.example, "SELECT v FROM known_quantiles WHERE id = 0");
    assert_eq!((s.calls, s.errors, s.rows_returned, s.rows_affected), (100, 1, 300, 0));
    assert_eq!(s.total, 90 * fast + 10 * slow);
    // The 50th of 100 is a fast one, the 99th a slow one.
    assert!(within_1_percent(s.p50, fast), "p50 {:?}, expected {fast:?}", s.p50);
    assert!(within_1_percent(s.p99, slow), "p99 {:?}, expected {slow:?}", s.p99);

    let label = s.label.as_str();
    assert_eq!(figure(CALLS_TOTAL, label, None), Some(100.0));
    assert_eq!(figure(ERRORS_TOTAL, label, None), Some(1.0));
    let seconds = figure(DURATION_SECONDS_TOTAL, label, None).unwrap();
    assert!(near(seconds, 0.58, 1e-9), "{seconds} s");
    let p99 = figure(DURATION_P99_SECONDS, label, None).unwrap();
    assert!(near(p99, 0.04, 0.01), "p99 {p99} s");
    // The same distribution as a histogram (what Prometheus aggregates across instances):
    // 90 values in the 2 ms bucket, 10 in the 40 ms one, the exact sum.
    let snapshot = perfscope_core::snapshot();
    let mut histograms = snapshot.histograms.iter().filter(|h| {
        h.name == perfscope_core::names::QUERY_DURATION_SECONDS.name
            && h.labels.iter().any(|(k, v)| k == "fingerprint" && v == label)
    });
    let histogram = histograms.next().expect("the fingerprint's histogram");
    assert!(histograms.next().is_none());
    let buckets: Vec<(u64, u64)> =
        histogram.histogram.buckets().map(|(low, _, n)| (low, n)).collect();
    assert_eq!(buckets.len(), 2, "{buckets:?}");
    assert_eq!((buckets[0].1, buckets[1].1), (90, 10));
    assert!(within_1_percent(Duration::from_nanos(buckets[0].0), fast), "{buckets:?}");
    assert!(within_1_percent(Duration::from_nanos(buckets[1].0), slow), "{buckets:?}");
    assert!(near(histogram.sum, 0.58, 1e-9), "{}", histogram.sum);
    assert_eq!(figure(ROWS_TOTAL, label, Some("returned")), Some(300.0));
    assert_eq!(figure(ROWS_TOTAL, label, Some("affected")), Some(0.0));
}

#[test]
fn fingerprints_come_most_total_time_first_and_reset_forgets_them() {
    let queries = QueryCollector::new();
    statement(&queries, "UPDATE order_a SET n = 1", Duration::from_millis(5), 0, 4);
    for _ in 0..3 {
        statement(&queries, "UPDATE order_b SET n = 2", Duration::from_millis(3), 0, 2);
    }
    statement(&queries, "UPDATE order_c SET n = 3", Duration::from_millis(1), 0, 1);
    let stats = queries.fingerprints();
    let order: Vec<(&str, u64, u64)> =
        stats.iter().map(|s| (s.normalized.as_str(), s.calls, s.rows_affected)).collect();
    assert_eq!(
        order,
        [
            ("UPDATE order_b SET n = ?", 3, 6),
            ("UPDATE order_a SET n = ?", 1, 4),
            ("UPDATE order_c SET n = ?", 1, 1),
        ]
    );
    assert_eq!(stats[0].total, Duration::from_millis(9));

    queries.reset();
    assert!(queries.fingerprints().is_empty());
    assert!(queries.slow_queries().is_empty());
    assert_eq!(figure(CALLS_TOTAL, &stats[0].label, None), None, "no figures after a reset");
}

#[test]
fn the_slow_log_keeps_the_slowest_at_or_above_the_threshold_slowest_first() {
    let config = Config { slow_threshold: Duration::from_millis(100), slow_log_len: 3 };
    let queries = QueryCollector::with_config(config);
    for (id, ms) in [(1, 150), (2, 99), (3, 100), (4, 300), (5, 120), (6, 110), (7, 200)] {
        let sql = format!("SELECT * FROM slow_log WHERE id = {id}");
        statement(&queries, &sql, Duration::from_millis(ms), id, 0);
    }
    let slow = queries.slow_queries();
    let kept: Vec<(&str, Duration, u64)> =
        slow.iter().map(|q| (q.statement.as_str(), q.elapsed, q.rows_returned)).collect();
    assert_eq!(
        kept,
        [
            ("SELECT * FROM slow_log WHERE id = 4", Duration::from_millis(300), 4),
            ("SELECT * FROM slow_log WHERE id = 7", Duration::from_millis(200), 7),
            ("SELECT * FROM slow_log WHERE id = 1", Duration::from_millis(150), 1),
        ]
    );
    let label = &queries.fingerprints()[0].label;
    assert!(slow.iter().all(|q| q.fingerprint == *label && q.rows_affected == 0), "{slow:#?}");

    // A statement exactly at the threshold is slow; with no room in the log, none is kept.
    let config = Config { slow_threshold: Duration::from_millis(100), slow_log_len: 0 };
    let none_kept = QueryCollector::with_config(config);
    statement(&none_kept, "SELECT 1 FROM slow_log_none", Duration::from_secs(1), 1, 0);
    assert!(none_kept.slow_queries().is_empty());
    let config = Config { slow_threshold: Duration::from_millis(100), slow_log_len: 2 };
    let at_threshold = QueryCollector::with_config(config);
    statement(&at_threshold, "SELECT 1 FROM slow_log_at", Duration::from_millis(100), 1, 0);
    statement(&at_threshold, "SELECT 2 FROM slow_log_at", Duration::from_millis(100), 1, 0);
    statement(&at_threshold, "SELECT 3 FROM slow_log_at", Duration::from_millis(100), 1, 0);
    let kept: Vec<String> = at_threshold.slow_queries().into_iter().map(|q| q.statement).collect();
    assert_eq!(kept, ["SELECT 1 FROM slow_log_at", "SELECT 2 FROM slow_log_at"], "the first kept");
}

#[test]
fn past_the_cap_statements_count_under_other() {
    let queries = QueryCollector::new();
    for table in 0..MAX_FINGERPRINTS + 5 {
        let sql = format!("DELETE FROM capped_{table}");
        statement(&queries, &sql, Duration::from_millis(1), 0, 1);
    }
    // Known statements keep their own fingerprint past the cap.
    statement(&queries, "DELETE FROM capped_0", Duration::from_millis(1), 0, 1);
    let stats = queries.fingerprints();
    assert_eq!(stats.len(), MAX_FINGERPRINTS + 1);
    let other = stats.iter().find(|s| s.label == OTHER).expect("the <other> fingerprint");
    assert_eq!((other.calls, other.rows_affected, other.normalized.as_str()), (5, 5, ""));
    assert_eq!(other.total, Duration::from_millis(5));
    let first = stats.iter().find(|s| s.normalized == "DELETE FROM capped_0").unwrap();
    assert_eq!(first.calls, 2);
    assert_eq!(figure(CALLS_TOTAL, OTHER, None).map(|n| n >= 5.0), Some(true));
}

/// The slow-statement events of a collector whose statements contain `table`.
fn slow_events(table: &str) -> Vec<perfscope_core::figures::Event> {
    perfscope_core::snapshot()
        .events
        .into_iter()
        .filter(|e| e.section == "query")
        .filter(|e| e.labels.iter().any(|(k, v)| k == "statement" && v.contains(table)))
        .collect()
}

#[test]
fn slow_statement_events_say_their_figures_and_the_32_most_recent_stay() {
    let config = Config { slow_threshold: Duration::from_millis(100), ..Config::default() };
    let queries = QueryCollector::with_config(config);
    let unix_ms = || {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        u64::try_from(since.expect("after 1970").as_millis()).expect("in range")
    };
    let before = unix_ms();
    for id in 0..40_u64 {
        let sql = format!("SELECT * FROM slow_events_kept WHERE id = {id}");
        statement(&queries, &sql, Duration::from_millis(100 + id), id, 2);
    }
    let after = unix_ms();
    let events = slow_events("slow_events_kept");
    assert_eq!(events.len(), 32);
    let slow = queries.slow_queries();
    let at: Vec<u64> =
        events.iter().map(|e| e.at_unix_ms).chain(slow.iter().map(|q| q.at_unix_ms)).collect();
    assert!(at.iter().all(|at| (before..=after).contains(at)), "{before}..={after}: {at:?}");
    let first = &events[0];
    assert!(first.labels.iter().any(|(k, v)| k == "statement" && v.ends_with("id = 8")));
    assert_eq!(first.value, Some(0.108));
    assert_eq!(first.subject, DURATION_SECONDS_TOTAL);
    assert_eq!(
        first.message,
        "slow query: 108.0 ms (threshold 100.0 ms), 8 rows returned, 2 affected: \
         SELECT * FROM slow_events_kept WHERE id = 8"
    );
    let last = events.last().unwrap();
    assert!(last.labels.iter().any(|(k, v)| k == "statement" && v.ends_with("id = 39")));
    // The log keeps the default 20, slowest first.
    let slow = queries.slow_queries();
    assert_eq!(slow.len(), 20);
    assert_eq!(slow[0].elapsed, Duration::from_millis(139));
    assert_eq!(slow[19].elapsed, Duration::from_millis(120));
}

#[test]
fn the_default_config_and_what_debug_shows() {
    let config = Config::default();
    assert_eq!((config.slow_threshold, config.slow_log_len), (Duration::from_millis(100), 20));
    let shown = format!("{:?}", QueryCollector::default());
    assert!(
        shown.starts_with("QueryCollector") && shown.contains("slow_threshold: 100ms"),
        "{shown}"
    );
}

/// What sqlx's events carry reaches the collector through its layer: the statement (or the
/// summary when the statement is empty), rows as unsigned or signed integers, the elapsed
/// seconds; failure events are errors; events of other targets, and the collector's own
/// `EXPLAIN`s, are not statements.
#[test]
fn the_layer_reads_sqlx_s_events() {
    use perfscope_instrument::queries::ERROR_TARGET;
    use tracing_subscriber::prelude::*;

    let queries = QueryCollector::new();
    let subscriber = tracing_subscriber::registry().with(queries.layer());
    tracing::subscriber::with_default(subscriber, || {
        for id in [1, 2] {
            let summary = format!("SELECT * FROM layer_read WHERE id = {id}");
            tracing::debug!(target: "sqlx::query", summary, db.statement = "",
                rows_affected = 0_u64, rows_returned = 2_u64, elapsed_secs = 0.25);
        }
        tracing::debug!(target: "sqlx::query", summary = "UPDATE layer_read",
            db.statement = "UPDATE layer_read SET n = 1 WHERE id = 3",
            rows_affected = 3_i64, rows_returned = -1_i64, elapsed_secs = 0.75);
        tracing::debug!(target: "sqlx::query", summary = "x",
            db.statement = ?"DELETE FROM layer_read WHERE id = 4", elapsed_secs = 0.125);
        tracing::trace!(target: ERROR_TARGET, error = "constraint",
            db.statement = "DELETE FROM layer_read WHERE id = 5");
        tracing::debug!(target: "sqlx::query::other", summary = "SELECT 1 FROM layer_read",
            elapsed_secs = 1.0);
        tracing::debug!(target: "sqlx::query", summary = "EXPLAIN",
            db.statement = "/* perfscope */ EXPLAIN QUERY PLAN SELECT 2 FROM layer_read",
            elapsed_secs = 1.0);
        tracing::debug!(target: "sqlx::query", summary = "  ", db.statement = "  ");
    });
    let stats = queries.fingerprints();
    let read: Vec<(&str, u64, u64, u64, u64, Duration)> = stats
        .iter()
        .map(|s| {
            let (n, c, e) = (s.normalized.as_str(), s.calls, s.errors);
            (n, c, e, s.rows_returned, s.rows_affected, s.total)
        })
        .collect();
    assert_eq!(
        read,
        [
            ("UPDATE layer_read SET n = ? WHERE id = ?", 1, 0, 0, 3, Duration::from_millis(750)),
            ("SELECT * FROM layer_read WHERE id = ?", 2, 0, 4, 0, Duration::from_millis(500)),
            ("DELETE FROM layer_read WHERE id = ?", 1, 1, 0, 0, Duration::from_millis(125)),
        ]
    );
}
