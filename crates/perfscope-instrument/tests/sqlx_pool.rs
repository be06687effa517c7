//! A sqlx pool (SQLite in memory): a measured function waiting on a pool of two shows the
//! wait under it; timeouts and starvation are counted; queries run on the wrapper as on the
//! pool.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use perfscope_instrument::pool::InstrumentedSqlxPool;
use sqlx::sqlite::{Sqlite, SqlitePoolOptions};
use sqlx::{Acquire, Row};
use support::figure;

const HOLD: Duration = Duration::from_millis(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn connect(name: &str, options: SqlitePoolOptions) -> InstrumentedSqlxPool<Sqlite> {
    let pool = options.connect("sqlite::memory:").await.expect("an in-memory database");
    InstrumentedSqlxPool::new(name, pool)
}

/// The value of the pool figure `name` (with `labels` too) in a snapshot taken now.
fn pool_figure(pool: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut all = vec![("pool", pool)];
    all.extend_from_slice(labels);
    figure(&perfscope_core::snapshot().figures, name, &all)
}

/// Waits (up to 10 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[perfscope::measure]
async fn handle(pool: &InstrumentedSqlxPool<Sqlite>) -> i64 {
    let mut connection = pool.acquire().await.expect("a connection");
    let one: i64 =
        sqlx::query_scalar("SELECT 1").fetch_one(&mut *connection).await.expect("SELECT 1");
    tokio::time::sleep(HOLD).await;
    one
}

#[test]
fn ten_callers_on_a_pool_of_two_wait_under_the_calling_function() {
    let runtime = runtime();
    let pool = runtime.block_on(async {
        let pool = connect("sqlx_attribution", SqlitePoolOptions::new().max_connections(2)).await;
        let start = Arc::new(tokio::sync::Barrier::new(10));
        let callers: Vec<_> = (0..10)
            .map(|_| {
                let (pool, start) = (pool.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    handle(&pool).await
                })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 1);
        }
        pool
    });

    let stats = pool.stats();
    assert_eq!(stats.acquires, 10, "{stats:?}");
    assert_eq!(stats.high_water, 2, "never more in use than the pool holds: {stats:?}");
    assert_eq!((stats.pending, stats.timeouts, stats.starved), (0, 0, false), "{stats:?}");
    // Two connections held 20 ms each by ten callers: at least 8 x 20 ms of waiting in all
    // when they start together (at least 4 x 20 ms however late some start).
    assert!(stats.waits >= 4 && stats.waits <= 10, "{stats:?}");
    assert!(stats.wait_ns >= 4 * HOLD.as_nanos() as u64, "{stats:?}");

    support::assert_wait_attributed(
        "sqlx_attribution",
        "sqlx_pool::handle",
        10,
        stats.wait_ns,
        HOLD,
    );
    eprintln!("{stats:?}");

    let name = "sqlx_attribution";
    assert_eq!(pool_figure(name, "perfscope_pool_connections_used_high_water", &[]), Some(2.0));
    assert_eq!(pool_figure(name, "perfscope_pool_connections_max", &[]), Some(2.0));
    assert_eq!(pool_figure(name, "perfscope_pool_acquires_total", &[]), Some(10.0));
    assert_eq!(pool_figure(name, "perfscope_pool_starved", &[]), Some(0.0));
    // sqlx gives its connections back from a task of its own: wait for the last one.
    runtime.block_on(until("the connections back", || pool.pool().num_idle() == 2));
    let count = "perfscope_pool_connections";
    assert_eq!(pool_figure(name, count, &[("state", "idle")]), Some(2.0));
    assert_eq!(pool_figure(name, count, &[("state", "used")]), Some(0.0));
    // sqlx does not count the connections it opens and closes.
    assert_eq!(pool_figure(name, "perfscope_pool_connections_created_total", &[]), None);
}

#[test]
fn a_timeout_is_counted_and_starvation_reads_1_only_while_callers_wait() {
    runtime().block_on(async {
        let options =
            SqlitePoolOptions::new().max_connections(1).acquire_timeout(Duration::from_millis(300));
        let pool = connect("sqlx_timeouts", options).await;
        let held = pool.acquire().await.unwrap();
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire().await.map(drop) }
        });
        // The waiter gives up after 300 ms: what shows only while it waits (pending,
        // starved) is checked on the next pool, whose waiter waits as long as it takes.
        let waited = waiter.await.unwrap();
        assert!(matches!(waited, Err(sqlx::Error::PoolTimedOut)), "{waited:?}");
        let stats = pool.stats();
        assert_eq!((stats.acquires, stats.waits, stats.timeouts), (1, 1, 1), "{stats:?}");
        assert_eq!((stats.pending, stats.starved), (0, false), "{stats:?}");
        assert!(stats.wait_ns >= 300_000_000, "{stats:?}");
        assert_eq!(pool_figure("sqlx_timeouts", "perfscope_pool_timeouts_total", &[]), Some(1.0));
        assert_eq!(pool_figure("sqlx_timeouts", "perfscope_pool_starved", &[]), Some(0.0));
        drop(held);

        // A waiter that gets the connection when it comes back.
        let pool = connect("sqlx_starved", SqlitePoolOptions::new().max_connections(1)).await;
        let held = pool.acquire().await.unwrap();
        assert_eq!(pool_figure("sqlx_starved", "perfscope_pool_starved", &[]), Some(0.0));
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire().await.map(drop) }
        });
        until("the waiter", || pool.stats().pending == 1).await;
        assert!(pool.stats().starved);
        assert_eq!(pool_figure("sqlx_starved", "perfscope_pool_starved", &[]), Some(1.0));
        drop(held);
        waiter.await.unwrap().expect("the connection came back");
        let stats = pool.stats();
        assert_eq!((stats.acquires, stats.waits, stats.timeouts), (2, 1, 0), "{stats:?}");
        assert_eq!(pool_figure("sqlx_starved", "perfscope_pool_starved", &[]), Some(0.0));
    });
}

#[test]
fn queries_run_on_the_wrapper_as_on_the_pool_and_each_acquire_is_counted() {
    runtime().block_on(async {
        // One connection: the in-memory database is that connection's.
        let pool = connect("sqlx_executor", SqlitePoolOptions::new().max_connections(1)).await;
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        let mut tx = pool.begin().await.unwrap();
        for v in ["a", "b", "c"] {
            sqlx::query("INSERT INTO t (v) VALUES (?)").bind(v).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        let rows = sqlx::query("SELECT v FROM t ORDER BY id").fetch_all(&pool).await.unwrap();
        let values: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(values, ["a", "b", "c"]);
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&pool).await.unwrap();
        assert_eq!(n, 3);
        // `Acquire`, as code generic over `&Pool` takes it.
        let mut tx = Acquire::begin(&pool).await.unwrap();
        sqlx::query("DELETE FROM t WHERE v = 'a'").execute(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        let missing = sqlx::query("SELECT v FROM t WHERE v = 'z'").fetch_optional(&pool).await;
        assert!(missing.unwrap().is_none());
        // execute, begin, fetch_all, fetch_one, Acquire::begin, fetch_optional.
        assert_eq!(pool.stats().acquires, 6);
        let report = perfscope::report();
        let acquire = report.function("pool::sqlx_executor::acquire").expect("the acquire frame");
        assert_eq!(acquire.calls, 6);
        pool.close().await;
    });
}
