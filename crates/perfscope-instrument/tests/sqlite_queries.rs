//! The query collector on a real embedded SQLite through sqlx: statements counted per
//! fingerprint from sqlx's own events, a `fmt` layer beside it stays quiet, failed statements
//! counted as errors when they run through an `InstrumentedSqlxPool` (sqlx's events do not
//! say), and index hints from `EXPLAIN QUERY PLAN` come and go with the index, as
//! recommendation events with labels `fingerprint`, `table` and `index` in every snapshot and
//! in the report.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use perfscope_core::figures::EventKind;
use perfscope_instrument::pool::InstrumentedSqlxPool;
use perfscope_instrument::queries::{self, FingerprintStats};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// What the program's own `fmt` layer (INFO and above) printed.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<Vec<u8>>>);

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// sqlx emits its events on the connection's worker thread: the subscriber must be global.
fn printed() -> &'static Printed {
    static PRINTED: OnceLock<Printed> = OnceLock::new();
    PRINTED.get_or_init(|| {
        let printed = Printed::default();
        let writer = printed.clone();
        tracing_subscriber::registry()
            .with(queries::layer())
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(move || writer.clone())
                    .with_ansi(false)
                    .with_filter(LevelFilter::INFO),
            )
            .init();
        printed
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

/// One in-memory database (a pool of one connection: each connection has its own).
async fn database() -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("an in-memory database")
}

fn stats_of(table: &str, verb: &str) -> Vec<FingerprintStats> {
    queries::global()
        .fingerprints()
        .into_iter()
        .filter(|s| s.normalized.starts_with(verb) && s.normalized.contains(table))
        .collect()
}

#[test]
fn statements_are_counted_per_fingerprint_and_the_fmt_layer_prints_none_of_them() {
    let printed = printed();
    runtime().block_on(async {
        let pool = database().await;
        sqlx::query("CREATE TABLE fp_users (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        for id in 0..20 {
            // Literals in the text: twenty statements, one fingerprint.
            sqlx::query(&format!("INSERT INTO fp_users (id, name) VALUES ({id}, 'user {id}')"))
                .execute(&pool)
                .await
                .unwrap();
        }
        for id in [1, 2, 3] {
            sqlx::query("SELECT name FROM fp_users WHERE id = ?")
                .bind(id)
                .fetch_all(&pool)
                .await
                .unwrap();
        }
        sqlx::query("SELECT name FROM fp_users WHERE id IN (1, 2, 3, 4)")
            .fetch_all(&pool)
            .await
            .unwrap();
        sqlx::query("select name from fp_users  -- a comment\n where id in (9)")
            .fetch_all(&pool)
            .await
            .unwrap();
    });
    tracing::info!(target: "app", "the fmt layer works");

    let inserts = stats_of("fp_users", "INSERT");
    assert_eq!(inserts.len(), 1, "{inserts:#?}");
    assert_eq!((inserts[0].calls, inserts[0].rows_affected), (20, 20));
    assert_eq!(inserts[0].normalized, "INSERT INTO fp_users (id, name) VALUES (...)");
    assert!(inserts[0].total > Duration::ZERO && inserts[0].p99 >= inserts[0].p50);
    let selects = stats_of("fp_users", "SELECT");
    assert_eq!(selects.len(), 2, "{selects:#?}");
    let by_id = selects.iter().find(|s| s.normalized.ends_with("id = ?")).unwrap();
    assert_eq!((by_id.calls, by_id.rows_returned), (3, 3));
    let in_list = selects.iter().find(|s| s.normalized.ends_with("IN (...)")).unwrap();
    assert_eq!((in_list.calls, in_list.rows_returned), (2, 5));

    // The same counts reach every reader as figures, section `query`.
    let snap = perfscope_core::snapshot();
    let calls = snap.figures.iter().find(|f| {
        f.name == queries::CALLS_TOTAL
            && f.labels.iter().any(|(k, v)| k == "fingerprint" && *v == inserts[0].label)
    });
    assert_eq!(calls.map(|f| (f.section, f.value)), Some(("query", 20.0)));
    assert!(inserts[0].label.len() > 9 && inserts[0].label.contains("INSERT INTO fp_users"));

    let printed = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
    assert!(printed.contains("the fmt layer works"), "{printed}");
    assert!(!printed.contains("sqlx::query") && !printed.contains("fp_users"), "{printed}");
}

/// One statement, fast or slow by its parameter: a recursive count to `?`.
const COUNT_TO: &str = "WITH RECURSIVE quantile_count(x) AS \
     (SELECT 1 UNION ALL SELECT x + 1 FROM quantile_count WHERE x < ?) \
     SELECT count(*) FROM quantile_count";

/// Ninety fast statements and ten slow ones of one fingerprint: the p50 is a fast one's time
/// and the p99 a slow one's, each bounded by the times the test measured around the calls
/// (sqlx times a statement inside them).
#[test]
fn p50_is_a_fast_statement_s_time_and_p99_a_slow_one_s() {
    printed();
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    runtime().block_on(async {
        let pool = database().await;
        for i in 0..100 {
            let n: i64 = if i % 10 == 9 { 300_000 } else { 1 };
            let start = Instant::now();
            let counted: i64 = sqlx::query_scalar(COUNT_TO).bind(n).fetch_one(&pool).await.unwrap();
            let took = start.elapsed();
            assert_eq!(counted, n);
            if n == 1 { fast.push(took) } else { slow.push(took) }
        }
    });
    let slowest_fast = *fast.iter().max().unwrap();
    let slowest = *slow.iter().max().unwrap();
    let stats = stats_of("quantile_count", "WITH");
    assert_eq!(stats.len(), 1, "{stats:#?}");
    let s = &stats[0];
    assert_eq!(s.calls, 100);
    // The histogram reads a time within 1% of it.
    let at_most = |bound: Duration| bound + bound / 100;
    assert!(
        s.p50 > Duration::ZERO && s.p50 <= at_most(slowest_fast),
        "p50 {:?}, fast statements took up to {slowest_fast:?}",
        s.p50
    );
    assert!(
        s.p99 > at_most(slowest_fast) && s.p99 <= at_most(slowest),
        "p99 {:?}: fast statements took up to {slowest_fast:?}, slow ones up to {slowest:?}",
        s.p99
    );
    let timed: Duration = fast.iter().chain(&slow).sum();
    assert!(s.total <= timed && s.total >= s.p99, "total {:?}, timed {timed:?}", s.total);
    let p99 = perfscope_core::snapshot().figures.into_iter().find(|f| {
        f.name == queries::DURATION_P99_SECONDS
            && f.labels.iter().any(|(k, v)| k == "fingerprint" && *v == s.label)
    });
    let p99 = p99.map(|f| f.value).expect("the p99 figure");
    assert!((p99 - s.p99.as_secs_f64()).abs() < 1e-9, "figure {p99}, stats {:?}", s.p99);
}

#[test]
fn an_unindexed_filter_gets_an_index_hint_until_the_index_exists() {
    printed();
    runtime().block_on(async {
        let pool = database().await;
        sqlx::query(
            "CREATE TABLE hint_orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
             INSERT INTO hint_orders (customer_id, total) SELECT i % 100, i * 1.5 FROM n",
        )
        .execute(&pool)
        .await
        .unwrap();
        let run = || async {
            for customer in 0..50 {
                sqlx::query("SELECT id, total FROM hint_orders WHERE customer_id = ?")
                    .bind(customer)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            }
        };
        run().await;
        let ours = |advice: &queries::IndexAdvice| {
            advice.hints.iter().filter(|h| h.table == "hint_orders").cloned().collect::<Vec<_>>()
        };
        let advice = queries::global().index_hints(&pool).await;
        let hints = ours(&advice);
        assert_eq!(hints.len(), 1, "{advice:#?}");
        assert_eq!(hints[0].suggestion, "CREATE INDEX ON hint_orders(customer_id)");
        assert!(hints[0].evidence.contains("SCAN"), "{}", hints[0].evidence);

        // The hint is a recommendation event of the collector, in every snapshot: its labels
        // say which statement, which table and which index; the message is the evidence.
        let events = hint_events();
        assert_eq!(events.len(), 1, "{events:#?}");
        let label = |key: &str| events[0].labels.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        assert_eq!(label("fingerprint"), Some(&hints[0].fingerprint));
        assert_eq!(label("table").map(String::as_str), Some("hint_orders"));
        assert_eq!(label("index"), Some(&hints[0].suggestion));
        assert_eq!(events[0].message, hints[0].evidence);
        assert_eq!(events[0].subject, queries::DURATION_SECONDS_TOTAL);
        // ... and the report's view reads them.
        let report = perfscope::report();
        let viewed: Vec<_> =
            report.index_hints().into_iter().filter(|h| h.table == "hint_orders").collect();
        assert_eq!(viewed.len(), 1, "{viewed:#?}");
        assert_eq!(
            (viewed[0].index.as_str(), viewed[0].reason.as_str(), viewed[0].fingerprint.as_str()),
            (
                hints[0].suggestion.as_str(),
                hints[0].evidence.as_str(),
                hints[0].fingerprint.as_str()
            )
        );
        // Asked again, the same hint is one event, not two.
        let again = queries::global().index_hints(&pool).await;
        assert_eq!(ours(&again).len(), 1);
        assert_eq!(hint_events().len(), 1);

        sqlx::query("CREATE INDEX hint_orders_customer ON hint_orders(customer_id)")
            .execute(&pool)
            .await
            .unwrap();
        let advice = queries::global().index_hints(&pool).await;
        assert!(ours(&advice).is_empty(), "{advice:#?}");
        assert!(hint_events().is_empty(), "the index exists: no hint for it any more");
        // The collector's own EXPLAIN statements are not counted.
        assert!(stats_of("hint_orders", "EXPLAIN").is_empty());
    });
}

/// The `query` recommendation events about `hint_orders` in a fresh snapshot.
fn hint_events() -> Vec<perfscope_core::figures::Event> {
    perfscope_core::snapshot()
        .events
        .into_iter()
        .filter(|e| e.section == "query" && e.kind == EventKind::Recommendation)
        .filter(|e| e.labels.iter().any(|(k, v)| k == "table" && v == "hint_orders"))
        .collect()
}

#[test]
fn failed_statements_are_calls_and_through_an_instrumented_pool_errors_too() {
    printed();
    let (instrumented, bare) = runtime().block_on(async {
        let pool = database().await;
        sqlx::query("CREATE TABLE err_keys (k INTEGER PRIMARY KEY)").execute(&pool).await.unwrap();
        let measured = InstrumentedSqlxPool::new("err_keys", pool.clone());
        let insert = "INSERT INTO err_keys (k) VALUES (?)";
        // Through the instrumented pool: 1 and 2 go in, 1 again breaks the primary key.
        let mut instrumented = Vec::new();
        for k in [1, 2, 1] {
            instrumented.push(sqlx::query(insert).bind(k).execute(&measured).await.is_ok());
        }
        let select = "SELECT k FROM err_keys WHERE k = ? AND missing_column = 1";
        instrumented.push(sqlx::query(select).bind(1).fetch_all(&measured).await.is_ok());
        // On the sqlx pool itself: the same statements fail the same way, unseen.
        let bare_insert = "INSERT INTO err_keys (k) SELECT ?";
        let mut bare = Vec::new();
        for k in [3, 3] {
            bare.push(sqlx::query(bare_insert).bind(k).execute(&pool).await.is_ok());
        }
        (instrumented, bare)
    });
    assert_eq!(instrumented, [true, true, false, false]);
    assert_eq!(bare, [true, false]);

    // SQLite runs statements on its worker thread, which may log a statement (drop its
    // logger) just after the caller has its result: wait (5 s at most) for all six.
    let deadline = Instant::now() + Duration::from_secs(5);
    let calls = || {
        let verbs = ["INSERT", "SELECT"];
        verbs.iter().flat_map(|verb| stats_of("err_keys", verb)).map(|s| s.calls).sum::<u64>()
    };
    while calls() < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = stats_of("err_keys", "INSERT");
    let of = |text: &str| {
        let s = stats.iter().find(|s| s.example.contains(text)).expect(text);
        (s.calls, s.errors)
    };
    // sqlx logs every statement that had a connection, failed or not: three calls, and the
    // instrumented pool says one of them failed.
    assert_eq!(of("VALUES (?)"), (3, 1), "{stats:#?}");
    // On the bare pool the failure is a call like the others.
    assert_eq!(of("SELECT ?"), (2, 0), "{stats:#?}");
    // A statement SQLite cannot prepare is logged by sqlx too, and failed.
    let select = stats_of("err_keys", "SELECT");
    assert_eq!(select.iter().map(|s| (s.calls, s.errors)).collect::<Vec<_>>(), [(1, 1)]);

    // The errors reach every reader as figures.
    let snap = perfscope_core::snapshot();
    let label = stats.iter().find(|s| s.example.contains("VALUES (?)")).unwrap().label.clone();
    let errors = snap.figures.iter().find(|f| {
        f.name == queries::ERRORS_TOTAL
            && f.labels.iter().any(|(k, v)| k == "fingerprint" && *v == label)
    });
    assert_eq!(errors.map(|f| (f.section, f.value)), Some(("query", 1.0)));
    let report = perfscope::report();
    let viewed = report.queries().into_iter().find(|q| q.fingerprint == label);
    assert_eq!(viewed.map(|q| (q.calls, q.errors)), Some((3, Some(1))));
}

/// Which fingerprints are explained, which are skipped and why, and the count of those
/// explained without a hint, on a collector fed known statements (the slowest first: eleven
/// INSERTs, then three SELECTs, two of them on an indexed column).
#[test]
fn the_slowest_ten_are_considered_and_every_outcome_is_counted() {
    runtime().block_on(async {
        let pool = database().await;
        for ddl in [
            "CREATE TABLE known_a (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER)",
            "CREATE INDEX known_a_k ON known_a(k)",
            "CREATE TABLE known_b (id INTEGER PRIMARY KEY, k INTEGER)",
        ] {
            sqlx::query(ddl).execute(&pool).await.unwrap();
        }
        let collector = queries::QueryCollector::new();
        let record = |statement: &str, ms: u64| {
            let elapsed = Duration::from_millis(ms);
            collector.record(&queries::QueryRecord { statement, elapsed, ..Default::default() });
        };
        // Ranks 0 to 10: INSERTs, each its own fingerprint (its own table).
        for i in 0..11 {
            record(&format!("INSERT INTO ins_{i} (x) VALUES (1)"), 1_000 - i);
        }
        record("SELECT v FROM known_a WHERE k = 1", 500); // rank 11: index used
        record("SELECT id FROM known_a WHERE k > 5", 400); // rank 12: index used
        record("SELECT id FROM known_b WHERE k = 2", 300); // rank 13: a scan, a hint

        let advice = collector.index_hints(&pool).await;
        // Only the ten slowest are named as skipped: the eleventh INSERT is past them.
        assert_eq!(advice.skipped.len(), 10, "{advice:#?}");
        assert!(advice.skipped.iter().all(|s| s.reason == "INSERT statements are not explained"));
        let hinted: Vec<&str> = advice.hints.iter().map(|h| h.suggestion.as_str()).collect();
        assert_eq!(hinted, ["CREATE INDEX ON known_b(k)"], "{advice:#?}");
        assert_eq!(advice.explained, 2, "the two SELECTs the index serves: {advice:#?}");
    });
}
