//! Index hints and index usage on a real PostgreSQL (a server of the test's own, started from
//! the Debian `postgresql` package's binaries on a free loopback port): a filtered statement
//! without an index gets a hint from its generic plan, and none once the index exists; of two
//! indexes, the one the workload's plans use is used by exactly that fingerprint and the other
//! is never used (no plan, no scan in `pg_stat_user_indexes`), a recommendation; the primary
//! key, never used either, is no recommendation; several statements logged as one are never
//! explained (the server would run those after the first).

mod support;

use perfscope_core::figures::EventKind;
use perfscope_instrument::queries::{self, QueryCollector};
use sqlx::postgres::PgPoolOptions;
use support::PostgresServer;
use tracing_subscriber::prelude::*;

/// The tests run one at a time: each sets a thread-local subscriber of its own, and tracing's
/// callsite interest is shared by the process, so two at once can lose each other's events
/// (a fingerprint missing, seen once in CI).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn an_unindexed_filter_gets_a_hint_from_the_generic_plan_until_the_index_exists() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut server = PostgresServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        server.ready().await;
        let pool = PgPoolOptions::new().max_connections(1).connect(&server.url()).await.unwrap();
        for sql in [
            "CREATE TABLE pg_orders (id serial PRIMARY KEY, customer_id int, total float8)",
            "INSERT INTO pg_orders (customer_id, total) \
             SELECT i % 1000, i * 1.5 FROM generate_series(1, 50000) AS i",
            "ANALYZE pg_orders",
        ] {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
        // sqlx-postgres emits its statement events on the awaiting thread: a thread's default
        // subscriber sees them (a current-thread runtime).
        let queries = QueryCollector::new();
        let _subscriber =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(queries.layer()));
        let statement = "SELECT id, total FROM pg_orders WHERE customer_id = $1";
        for customer in 0..20 {
            sqlx::query(statement).bind(customer).fetch_all(&pool).await.unwrap();
        }
        sqlx::query("INSERT INTO pg_orders (customer_id, total) VALUES ($1, $2)")
            .bind(7)
            .bind(1.5)
            .execute(&pool)
            .await
            .unwrap();
        let select = queries.fingerprints().into_iter().find(|s| s.example == statement);
        assert_eq!(select.map(|s| (s.calls, s.rows_returned)), Some((20, 20 * 50)));

        let advice = queries.index_hints_postgres(&pool).await;
        assert_eq!(advice.hints.len(), 1, "{advice:#?}");
        assert_eq!(advice.hints[0].suggestion, "CREATE INDEX ON pg_orders(customer_id)");
        assert!(advice.hints[0].evidence.contains("Seq Scan"), "{advice:#?}");
        assert!(advice.skipped.iter().any(|s| s.reason.contains("INSERT")), "{advice:#?}");

        sqlx::raw_sql("CREATE INDEX ON pg_orders (customer_id); ANALYZE pg_orders")
            .execute(&pool)
            .await
            .unwrap();
        let advice = queries.index_hints_postgres(&pool).await;
        assert!(advice.hints.is_empty(), "{advice:#?}");
        assert_eq!(advice.explained, 1, "{advice:#?}");
        // The collector's own statements (PREPARE, EXPLAIN, SET) are not counted.
        assert!(queries.fingerprints().iter().all(|s| !s.normalized.contains("perfscope_explain")));
        pool.close().await;
    });
}

#[test]
fn one_index_is_used_by_the_workload_s_plans_and_one_never() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut server = PostgresServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        server.ready().await;
        let pool = PgPoolOptions::new().max_connections(1).connect(&server.url()).await.unwrap();
        let queries = QueryCollector::new();
        let _subscriber =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(queries.layer()));
        // No index at all: nothing is claimed.
        sqlx::raw_sql("CREATE TABLE pg_plain (k int, v text)").execute(&pool).await.unwrap();
        sqlx::query("SELECT v FROM pg_plain WHERE k = $1").bind(1).fetch_all(&pool).await.unwrap();
        let advice = queries.index_hints_postgres(&pool).await;
        assert!(advice.indexes.is_empty(), "{advice:#?}");

        for sql in [
            "CREATE TABLE pg_usage (id serial PRIMARY KEY, customer_id int, status text)",
            "INSERT INTO pg_usage (customer_id, status) \
             SELECT i % 500, CASE WHEN i % 2 = 0 THEN 'open' ELSE 'closed' END \
             FROM generate_series(1, 20000) AS i",
            "CREATE INDEX pg_usage_customer ON pg_usage (customer_id)",
            "CREATE INDEX \"pg \"\"odd\"\" status\" ON pg_usage (status)",
            "ANALYZE pg_usage",
        ] {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
        let select = "SELECT id FROM pg_usage WHERE customer_id = $1";
        for customer in 0..10 {
            sqlx::query(select).bind(customer).fetch_all(&pool).await.unwrap();
        }
        let advice = queries.index_hints_postgres(&pool).await;
        let label = queries.fingerprints().into_iter().find(|s| s.example == select).unwrap().label;
        let odd = "pg \"odd\" status";
        let got: Vec<(&str, &str, bool, bool, &[String])> = advice
            .indexes
            .iter()
            .map(|i| (i.table.as_str(), i.index.as_str(), i.unique, i.used(), &i.used_by[..]))
            .collect();
        assert_eq!(
            got,
            [
                ("pg_usage", odd, false, false, &[][..]),
                ("pg_usage", "pg_usage_customer", false, true, &[label.clone()][..]),
                ("pg_usage", "pg_usage_pkey", true, false, &[][..]),
            ],
            "{advice:#?}"
        );
        // pg_stat_user_indexes: the unused index was never scanned (EXPLAIN runs nothing).
        assert_eq!(advice.indexes[0].scans, Some(0));
        assert_eq!(
            advice.indexes[0].evidence,
            "no plan (EXPLAIN (FORMAT JSON), generic plans) of the 3 statement fingerprints \
             explained uses it; pg_stat_user_indexes counts 0 scans of it; pg_usage is written \
             by 1 statement fingerprint (1 statement run), which maintain it"
        );
        // One recommendation, for the droppable one (the primary key enforces uniqueness).
        let snapshot = perfscope_core::snapshot();
        let events: Vec<_> = snapshot
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Recommendation && e.subject == queries::INDEX_USED)
            .filter(|e| e.labels.iter().any(|(k, v)| k == "table" && v == "pg_usage"))
            .collect();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert!(events[0].labels.iter().any(|(k, v)| k == "index" && v == odd), "{events:#?}");
        assert!(events[0].message.contains(&advice.indexes[0].evidence), "{events:#?}");
        let used: Vec<(String, f64)> = snapshot
            .figures
            .iter()
            .filter(|f| f.name == queries::INDEX_USED)
            .filter(|f| f.labels.iter().any(|(k, v)| k == "table" && v == "pg_usage"))
            .map(|f| {
                let index = f.labels.iter().find(|(k, _)| k == "index").map(|(_, v)| v.clone());
                (index.unwrap_or_default(), f.value)
            })
            .collect();
        assert_eq!(
            used,
            [(odd.into(), 0.0), ("pg_usage_customer".into(), 1.0), ("pg_usage_pkey".into(), 0.0)]
        );

        // Several statements logged as one are never explained: PREPARE (sent as a simple
        // query) would cover the first, and the server would run the DELETE after it.
        let two = "SELECT id FROM pg_usage WHERE customer_id = 1; \
                   DELETE FROM pg_usage WHERE status = 'gone'";
        sqlx::raw_sql(two).execute(&pool).await.unwrap();
        assert!(queries.fingerprints().iter().any(|s| s.example == two), "logged as one");
        sqlx::raw_sql("INSERT INTO pg_usage (customer_id, status) VALUES (1, 'gone')")
            .execute(&pool)
            .await
            .unwrap();
        let advice = queries.index_hints_postgres(&pool).await;
        let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_usage WHERE status = 'gone'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(gone, 1, "the DELETE after the SELECT never ran");
        let skipped = advice.skipped.iter().find(|s| s.fingerprint.contains("DELETE"));
        assert_eq!(
            skipped.map(|s| s.reason.as_str()),
            Some("several statements in one are not explained")
        );
        pool.close().await;
    });
}
