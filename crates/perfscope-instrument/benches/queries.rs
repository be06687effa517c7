//! What the query collector costs per statement event, beside the bare sqlx query on an
//! in-memory SQLite in the same run.
//!
//! `cargo bench -p perfscope-instrument --bench queries`
//!
//! - `query_event/record_cached`: `QueryCollector::record` of a statement seen before (the
//!   fingerprint comes from the statement-string cache).
//! - `query_event/layer_event_cached`: the whole path of one event as sqlx emits it (same
//!   fields), dispatched through a registry with the query layer: filter, field visit, record.
//! - `query_event/fingerprint_uncached`: fingerprinting a statement (tokenize, normalize, hash),
//!   what a statement string seen for the first time costs once.
//! - `sqlite_query/bare` and `sqlite_query/with_query_layer`: `SELECT ... WHERE id = ?` through
//!   a sqlx pool, without any subscriber (sqlx skips its logging), then with the query layer
//!   installed globally (sqlx then builds its summary and emits the event).

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfscope_instrument::queries::{self, Fingerprint, QueryCollector, QueryRecord};
use tracing_subscriber::prelude::*;

const STATEMENT: &str = "SELECT o.id, o.total, c.name FROM orders o JOIN customers c \
                         ON c.id = o.customer_id WHERE o.customer_id = ? AND o.status IN (1, 2, 3) \
                         ORDER BY o.created_at DESC LIMIT 50";

fn query_event(c: &mut Criterion) {
    let mut group = c.benchmark_group("query_event");
    let collector = QueryCollector::new();
    let record = QueryRecord {
        statement: STATEMENT,
        elapsed: Duration::from_micros(180),
        rows_returned: 12,
        rows_affected: 0,
    };
    group.bench_function("record_cached", |b| b.iter(|| collector.record(black_box(&record))));

    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("layer_event_cached", |b| {
            b.iter(|| {
                // The fields sqlx 0.8's QueryLogger emits.
                let summary = "SELECT o.id, o.total, c.name …".to_string();
                let sql = format!("\n\n{STATEMENT}\n");
                let elapsed = Duration::from_micros(180);
                tracing::debug!(target: "sqlx::query", summary, db.statement = sql,
                    rows_affected = 0_u64, rows_returned = 12_u64, ?elapsed,
                    elapsed_secs = elapsed.as_secs_f64());
            })
        });
    });
    group.bench_function("fingerprint_uncached", |b| {
        b.iter(|| Fingerprint::of(black_box(STATEMENT)))
    });
    group.finish();
}

fn sqlite_query(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqlite_query");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let pool = rt.block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, total REAL)")
            .execute(&pool)
            .await
            .expect("create");
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
             INSERT INTO t (id, total) SELECT i, i * 1.5 FROM n",
        )
        .execute(&pool)
        .await
        .expect("fill");
        pool
    });
    let select = || {
        rt.block_on(async {
            sqlx::query("SELECT id, total FROM t WHERE id = ?")
                .bind(black_box(42_i64))
                .fetch_all(&pool)
                .await
                .expect("select")
        })
    };
    group.bench_function("bare", |b| b.iter(select));
    // sqlx emits on its worker thread: the layer must be the global subscriber.
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| tracing_subscriber::registry().with(queries::layer()).init());
    group.bench_function("with_query_layer", |b| b.iter(select));
    group.finish();
    let calls = queries::global().fingerprints().iter().map(|s| s.calls).sum::<u64>();
    assert!(calls > 0, "the layer saw the bench's statements");
}

criterion_group!(benches, query_event, sqlite_query);
criterion_main!(benches);
