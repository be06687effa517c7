//! Index usage on a real embedded SQLite through sqlx, fed by sqlx's own events (this file is
//! its own process: the global collector sees only this file's workload): with no index at all
//! nothing is claimed; with one index the workload's SELECT uses and one (its name full of
//! quotes) nothing uses, the first is used by exactly that fingerprint and the second never,
//! as figures, as one recommendation event naming the evidence and in the report; once a
//! statement uses the second, it is used too and the recommendation goes. Several statements
//! logged as one are never explained (SQLite would run those after the first). And 150
//! indexes are 100 figures and one `<other>`, with the cap's warning.

use perfscope_core::figures::{Event, EventKind};
use perfscope_instrument::queries::{self, IndexUsage};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use tracing_subscriber::prelude::*;

/// An index name with quotes, spaces and markup: SQLite prints it as it is in its plans.
const ODD: &str = "usage \"odd\" <status>";

/// The `perfscope_query_index_used` figures of `usage_orders` in a fresh snapshot: (table,
/// index, value).
fn figures() -> Vec<(String, String, f64)> {
    let label = |f: &perfscope_core::figures::Figure, key: &str| {
        f.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    perfscope_core::snapshot()
        .figures
        .into_iter()
        .filter(|f| f.name == queries::INDEX_USED)
        .map(|f| (label(&f, "table"), label(&f, "index"), f.value))
        .filter(|(table, _, _)| table == "usage_orders")
        .collect()
}

/// The never-used recommendations about `table` in a fresh snapshot.
fn recommendations_on(table: &str) -> Vec<Event> {
    perfscope_core::snapshot()
        .events
        .into_iter()
        .filter(|e| e.kind == EventKind::Recommendation && e.subject == queries::INDEX_USED)
        .filter(|e| e.labels.iter().any(|(k, v)| k == "table" && v == table))
        .collect()
}

fn recommendations() -> Vec<Event> {
    recommendations_on("usage_orders")
}

fn summary(indexes: &[IndexUsage]) -> Vec<(&str, &str, bool, bool, usize)> {
    indexes
        .iter()
        .map(|i| (i.table.as_str(), i.index.as_str(), i.unique, i.used(), i.used_by.len()))
        .collect()
}

async fn run(pool: &SqlitePool, sql: &str) {
    sqlx::query(sql).execute(pool).await.expect("the statement runs");
}

/// sqlx emits SQLite's statement events on the connection's worker thread: the subscriber
/// must be global, set once for the file's tests.
fn subscriber() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| tracing_subscriber::registry().with(queries::layer()).init());
}

#[test]
fn one_index_used_by_the_select_and_one_never_used() {
    subscriber();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await;
        let pool = pool.unwrap();
        run(
            &pool,
            "CREATE TABLE usage_orders (id INTEGER PRIMARY KEY, customer_id INTEGER, status TEXT)",
        )
        .await;
        for i in 0..20 {
            sqlx::query("INSERT INTO usage_orders (customer_id, status) VALUES (?, ?)")
                .bind(i % 5)
                .bind(if i % 2 == 0 { "open" } else { "closed" })
                .execute(&pool)
                .await
                .unwrap();
        }
        let select = "SELECT id FROM usage_orders WHERE customer_id = ?";
        for customer in 0..5 {
            sqlx::query(select).bind(customer).fetch_all(&pool).await.unwrap();
        }

        // No index at all (the INTEGER PRIMARY KEY is the rowid, no index): nothing claimed.
        let advice = queries::global().index_hints(&pool).await;
        assert!(advice.indexes.is_empty(), "{advice:#?}");
        assert!(figures().is_empty() && recommendations().is_empty());

        run(&pool, "CREATE INDEX usage_orders_customer ON usage_orders(customer_id)").await;
        let create =
            format!("CREATE INDEX \"{}\" ON usage_orders(status)", ODD.replace('"', "\"\""));
        run(&pool, &create).await;
        let advice = queries::global().index_hints(&pool).await;
        let fingerprints = queries::global().fingerprints();
        let select_label = &fingerprints.iter().find(|s| s.example == select).unwrap().label;
        assert_eq!(
            summary(&advice.indexes),
            [
                ("usage_orders", ODD, false, false, 0),
                ("usage_orders", "usage_orders_customer", false, true, 1)
            ],
            "{advice:#?}"
        );
        assert_eq!(advice.indexes[1].used_by, std::slice::from_ref(select_label));
        assert_eq!(advice.indexes[1].scans, None);
        // The evidence: the INSERT and the SELECT explained (not the DDL), the INSERT's 20 writes.
        assert_eq!(
            advice.indexes[0].evidence,
            "no plan (EXPLAIN QUERY PLAN) of the 2 statement fingerprints explained uses it; \
             usage_orders is written by 1 statement fingerprint (20 statements run), which \
             maintain it"
        );
        assert_eq!(
            advice.indexes[1].evidence,
            "used by the plans (EXPLAIN QUERY PLAN) of 1 of the 2 statement fingerprints \
             explained; usage_orders is written by 1 statement fingerprint (20 statements \
             run), which maintain it"
        );
        assert_eq!(
            figures(),
            [
                ("usage_orders".into(), ODD.into(), 0.0),
                ("usage_orders".into(), "usage_orders_customer".into(), 1.0)
            ]
        );
        let events = recommendations();
        assert_eq!(events.len(), 1, "{events:#?}");
        let labels: Vec<(&str, &str)> =
            events[0].labels.iter().map(|(k, v)| (&**k, v.as_str())).collect();
        assert_eq!(labels, [("table", "usage_orders"), ("index", ODD)]);
        assert_eq!(
            events[0].message,
            format!(
                "index {ODD} on usage_orders is never used: {}. Drop it unless statements not \
                 seen here need it.",
                advice.indexes[0].evidence
            )
        );
        assert_eq!(events[0].section, "query");
        // Counted once as a recommendation series (a second look finding the same index
        // unused does not count it again).
        let counted = || {
            let subject = format!("usage_orders.{ODD}");
            let snapshot = perfscope_core::snapshot();
            let mut of = snapshot.figures.iter().filter(|f| {
                f.name == perfscope_core::names::RECOMMENDATIONS_TOTAL.name
                    && f.labels.iter().any(|(k, v)| k == "kind" && v == "drop_unused_index")
                    && f.labels.iter().any(|(k, v)| k == "subject" && *v == subject)
            });
            let value = of.next().map(|f| f.value);
            assert!(of.next().is_none());
            value
        };
        assert_eq!(counted(), Some(1.0));
        let again = queries::global().index_hints(&pool).await;
        assert_eq!(again.indexes.len(), advice.indexes.len());
        assert_eq!(counted(), Some(1.0));
        // The report reads the same, and the recommendation is no index hint.
        let report = perfscope::report();
        let viewed: Vec<(String, String, bool, bool)> = report
            .index_usage()
            .into_iter()
            .filter(|i| i.table == "usage_orders")
            .map(|i| (i.table, i.index, i.used, i.reason == events[0].message))
            .collect();
        assert_eq!(
            viewed,
            [
                ("usage_orders".into(), ODD.into(), false, true),
                ("usage_orders".into(), "usage_orders_customer".into(), true, false)
            ]
        );
        let hints = report.index_hints();
        assert!(hints.iter().all(|h| h.table != "usage_orders"), "{hints:#?}");
        let table = report.to_string();
        assert!(table.contains(&format!("UNUSED INDEX on usage_orders: {ODD}\n")), "{table}");

        // A statement the status index serves: both used, no recommendation left.
        let by_status = "SELECT count(*) FROM usage_orders WHERE status = ?";
        sqlx::query(by_status).bind("open").fetch_all(&pool).await.unwrap();
        let advice = queries::global().index_hints(&pool).await;
        assert_eq!(
            summary(&advice.indexes),
            [
                ("usage_orders", ODD, false, true, 1),
                ("usage_orders", "usage_orders_customer", false, true, 1)
            ],
            "{advice:#?}"
        );
        assert!(recommendations().is_empty());
        assert!(figures().iter().all(|(_, _, used)| *used == 1.0));

        // Several statements in one are never explained: EXPLAIN covers the first, and SQLite
        // would run the DELETE after it.
        let two = "SELECT id FROM usage_orders WHERE customer_id = 1; \
                   DELETE FROM usage_orders WHERE status = 'gone'";
        sqlx::raw_sql(two).execute(&pool).await.unwrap();
        let recorded = queries::global().fingerprints().into_iter().any(|s| s.example == two);
        assert!(recorded, "sqlx logs the two as one statement");
        sqlx::query("INSERT INTO usage_orders (customer_id, status) VALUES (?, ?)")
            .bind(9)
            .bind("gone")
            .execute(&pool)
            .await
            .unwrap();
        let advice = queries::global().index_hints(&pool).await;
        let gone: i64 =
            sqlx::query_scalar("SELECT count(*) FROM usage_orders WHERE status = 'gone'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(gone, 1, "the DELETE after the SELECT never ran");
        assert!(
            advice.indexes[0].evidence.contains("1 statement fingerprint could not be explained")
        );
        assert!(
            advice
                .skipped
                .iter()
                .any(|s| s.reason == "several statements in one are not explained")
        );
        // The collector's own statements (the catalog, EXPLAIN) are not counted.
        assert!(queries::global().fingerprints().iter().all(|s| !s.example.contains("perfscope")));
        pool.close().await;
    });
}

/// 150 indexes, none used, on a collector of the test's own (fed by hand: statements run
/// through sqlx here would be the other test's workload): 150 in the advice, the first
/// `MAX_INDEXES` as figures and the rest as one `<other>` figure (0: not all used), the cap's
/// warning, and the recommendations bounded.
#[test]
fn indexes_past_the_cap_are_one_other_figure() {
    subscriber();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await;
        let pool = pool.unwrap();
        let mut ddl = String::from("CREATE TABLE cap_t (a INTEGER, b INTEGER);");
        for i in 0..150 {
            ddl.push_str(&format!("CREATE INDEX cap_i{i:03} ON cap_t(a);"));
        }
        sqlx::raw_sql(&ddl).execute(&pool).await.unwrap();
        let collector = queries::QueryCollector::new();
        for statement in
            ["INSERT INTO cap_t (a, b) VALUES (1, 2)", "SELECT a FROM cap_t WHERE b = 1"]
        {
            collector.record(&queries::QueryRecord { statement, ..Default::default() });
        }
        let advice = collector.index_hints(&pool).await;
        assert_eq!(advice.indexes.len(), 150);
        assert!(advice.indexes.iter().all(|i| !i.used() && i.droppable()), "{advice:#?}");

        let snapshot = perfscope_core::snapshot();
        let ours: Vec<_> = snapshot
            .figures
            .iter()
            .filter(|f| f.name == queries::INDEX_USED)
            .filter(|f| {
                f.labels.iter().any(|(k, v)| k == "table" && (v == "cap_t" || v == queries::OTHER))
            })
            .collect();
        assert_eq!(ours.len(), queries::MAX_INDEXES + 1);
        let other = ours.last().unwrap();
        let labels: Vec<(&str, &str)> =
            other.labels.iter().map(|(k, v)| (&**k, v.as_str())).collect();
        assert_eq!(labels, [("table", queries::OTHER), ("index", queries::OTHER)]);
        assert_eq!(other.value, 0.0);
        let warning = snapshot
            .events
            .iter()
            .filter(|e| e.subject == "perfscope_instrument::queries::MAX_INDEXES")
            .count();
        assert_eq!(warning, 1);
        assert_eq!(recommendations_on("cap_t").len(), 32, "the 32 most recent");
        pool.close().await;
    });
}
