//! Index hints on a real PostgreSQL (a server of the test's own, started from the Debian
//! `postgresql` package's binaries on a free loopback port): a filtered statement without an
//! index gets a hint from its generic plan, and none once the index exists.

mod support;

use perfscope_instrument::queries::QueryCollector;
use sqlx::postgres::PgPoolOptions;
use support::PostgresServer;
use tracing_subscriber::prelude::*;

#[test]
fn an_unindexed_filter_gets_a_hint_from_the_generic_plan_until_the_index_exists() {
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
