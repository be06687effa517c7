//! The query collector on a real embedded SQLite through sqlx: statements counted per
//! fingerprint from sqlx's own events, a `fmt` layer beside it stays quiet, and index hints
//! from `EXPLAIN QUERY PLAN` come and go with the index.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

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
    assert!(inserts[0].total > std::time::Duration::ZERO && inserts[0].p99 >= inserts[0].p50);
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

        sqlx::query("CREATE INDEX hint_orders_customer ON hint_orders(customer_id)")
            .execute(&pool)
            .await
            .unwrap();
        let advice = queries::global().index_hints(&pool).await;
        assert!(ours(&advice).is_empty(), "{advice:#?}");
        // The collector's own EXPLAIN statements are not counted.
        assert!(stats_of("hint_orders", "EXPLAIN").is_empty());
    });
}
