//! Every figure this crate exports is an entry of perfscope's name catalog
//! (`perfscope_core::names`, which the dashboard's "Pools & caches" and "Queries" rows query),
//! with the catalog's section, help and unit, and every catalog entry of the sections `cache`,
//! `pool`, `query` and `http` is exported. And the Prometheus exposition of every cache, pool,
//! query and HTTP family passes `promtool check metrics`, lints included (a gauge ending in
//! `_count`, a counter without `_total`...).

use std::collections::BTreeSet;
use std::time::Duration;

use perfscope_core::names::{self, MetricType, section};
use perfscope_instrument::cache::{InstrumentedCache, MultiLevelCache};
use perfscope_instrument::pool::{
    InstrumentedBb8Pool, InstrumentedManagedPool, InstrumentedPool, InstrumentedSqlxPool,
};
use perfscope_instrument::queries::{QueryCollector, QueryRecord};

/// A second level that stores nothing (an L2 is a trait; Redis is tested elsewhere).
#[derive(Debug)]
struct Nothing;

impl perfscope_instrument::cache::L2 for Nothing {
    type Error = std::io::Error;
    fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, std::io::Error> {
        Ok(None)
    }
    fn set(&self, _key: &str, _value: &[u8]) -> Result<(), std::io::Error> {
        Ok(())
    }
    fn delete(&self, _key: &str) -> Result<(), std::io::Error> {
        Ok(())
    }
}

/// bb8 connections that are numbers (bb8 is generic; PostgreSQL is tested elsewhere).
#[derive(Debug)]
struct Numbers;

impl bb8::ManageConnection for Numbers {
    type Connection = u32;
    type Error = std::io::Error;
    async fn connect(&self) -> Result<u32, std::io::Error> {
        Ok(7)
    }
    async fn is_valid(&self, _connection: &mut u32) -> Result<(), std::io::Error> {
        Ok(())
    }
    fn has_broken(&self, _connection: &mut u32) -> bool {
        false
    }
}

/// Numbers made on demand (a managed deadpool pool's manager).
#[derive(Debug)]
struct Made;

impl deadpool::managed::Manager for Made {
    type Type = u32;
    type Error = std::io::Error;
    async fn create(&self) -> Result<u32, std::io::Error> {
        Ok(7)
    }
    async fn recycle(
        &self,
        _: &mut u32,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<std::io::Error> {
        Ok(())
    }
}

// The workspace's one promtool runner (also used by perfscope-export's and the root tests).
#[path = "../../../tests/promtool/mod.rs"]
mod promtool;

/// Runs `promtool check metrics` (which must be on PATH) on `exposition`; fails with its words.
fn promtool_check(exposition: &str) {
    let (status, said) = promtool::check_metrics(exposition);
    assert!(
        status.success(),
        "promtool check metrics failed ({status}):\n{said}\n--- exposition ---\n{exposition}"
    );
}

#[test]
fn every_exported_name_is_listed_for_the_dashboard_and_promtool_passes_them() {
    let cache = InstrumentedCache::new("names", moka::sync::Cache::builder().max_capacity(1));
    cache.insert(1_u8, 1_u8);
    let _ = cache.get(&1);
    let multi =
        MultiLevelCache::new("names_multi", moka::sync::Cache::builder().max_capacity(1), Nothing);
    let _ = multi.get_with(&"k".to_string(), || Ok::<_, std::convert::Infallible>("v".to_string()));
    let pool = InstrumentedPool::new("names", deadpool::unmanaged::Pool::from(vec![1_u8]));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { drop(pool.get().await.unwrap()) });
    let config = deadpool::managed::PoolConfig::new(1);
    let managed = InstrumentedManagedPool::new("names_managed", Made, config).unwrap();
    runtime.block_on(async { drop(managed.get().await.unwrap()) });
    let bb8 = runtime.block_on(async {
        let pool =
            InstrumentedBb8Pool::new("names_bb8", bb8::Pool::builder().build_unchecked(Numbers));
        drop(pool.get().await.unwrap());
        pool
    });
    let sqlx = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let pool = InstrumentedSqlxPool::new("names_sqlx", pool);
        drop(pool.acquire().await.unwrap());
        pool
    });
    let queries = QueryCollector::new();
    let record = QueryRecord {
        statement: "SELECT 1",
        elapsed: Duration::from_millis(1),
        rows_returned: 1,
        rows_affected: 0,
    };
    queries.record(&record);
    // An index (its name quoted, as a label value) for the index usage gauge.
    runtime.block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1);
        let pool = pool.connect("sqlite::memory:").await.unwrap();
        for ddl in
            ["CREATE TABLE names_t (k INTEGER)", "CREATE INDEX \"n \"\"q\"\"\" ON names_t(k)"]
        {
            sqlx::query(ddl).execute(&pool).await.unwrap();
        }
        queries.record(&QueryRecord { statement: "SELECT k FROM names_t WHERE k = 1", ..record });
        let advice = queries.index_hints(&pool).await;
        assert_eq!(advice.indexes.iter().map(|i| i.used()).collect::<Vec<_>>(), [true]);
    });
    // A route served and a call made, through the HTTP layer and middleware.
    runtime.block_on(async {
        use axum::routing::get;
        use perfscope_instrument::http::{HttpServerLayer, RequestBuilderExt};
        let app = axum::Router::new()
            .route("/names/{id}", get(|| async { "ok" }))
            .layer(HttpServerLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = perfscope_instrument::http::client(reqwest::Client::builder()).unwrap();
        let call = client.get(format!("http://{address}/names/1")).template("/names/{id}");
        assert_eq!(call.send().await.unwrap().text().await.unwrap(), "ok");
        let batcher = perfscope_instrument::http::Batcher::spawn(
            "names",
            1,
            Duration::from_millis(1),
            |items: Vec<u8>| async move { items },
        );
        assert_eq!(batcher.call(7).await, Ok(7));
    });

    let snapshot = perfscope_core::snapshot();
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .expect("an exporter on a free port");
    let exposition = exporter.render();
    exporter.shutdown();
    drop((bb8, sqlx, managed));
    let sections = [section::CACHE, section::POOL, section::QUERY, section::HTTP];
    let ours: Vec<_> = snapshot.figures.iter().filter(|f| sections.contains(&f.section)).collect();
    for figure in &ours {
        let entry = names::ALL.iter().find(|n| n.name == figure.name);
        let entry = entry.unwrap_or_else(|| panic!("{} is not in names::ALL", figure.name));
        let said = (figure.section, figure.help, figure.unit);
        assert_eq!(said, (entry.section, entry.help, entry.unit), "{}", figure.name);
    }
    let histograms = snapshot.histograms.iter().filter(|h| sections.contains(&h.section));
    for h in histograms.clone() {
        let entry = names::ALL.iter().find(|n| n.name == h.name);
        let entry = entry.unwrap_or_else(|| panic!("{} is not in names::ALL", h.name));
        assert_eq!(
            (h.section, h.help, entry.kind),
            (entry.section, entry.help, MetricType::Histogram)
        );
    }
    let exported: BTreeSet<&str> =
        ours.iter().map(|f| f.name.as_ref()).chain(histograms.map(|h| h.name.as_ref())).collect();
    let catalog: BTreeSet<&str> =
        names::ALL.iter().filter(|n| sections.contains(&n.section)).map(|n| n.name).collect();
    assert_eq!(exported, catalog, "every catalog name of these sections is exported here");

    // The same families as a scrape serves them: every name exported above is in it, and
    // Prometheus' linter has nothing to say about any of them.
    for name in &exported {
        assert!(exposition.contains(&format!("# TYPE {name} ")), "{name} not in the exposition");
    }
    let histogram = format!("# TYPE {} histogram", names::QUERY_DURATION_SECONDS.name);
    assert!(exposition.contains(&histogram), "{histogram}");
    promtool_check(&exposition);
}
