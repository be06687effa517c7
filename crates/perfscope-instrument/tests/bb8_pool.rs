//! bb8 over a real PostgreSQL (bb8-postgres, a server of the test's own): a measured function
//! waiting on a pool of two shows the wait under it; a timeout, starvation, and connections
//! the server killed are counted.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bb8_postgres::PostgresConnectionManager;
use bb8_postgres::tokio_postgres::NoTls;
use perfscope_instrument::pool::InstrumentedBb8Pool;
use support::{PostgresServer, figure};

type Manager = PostgresConnectionManager<NoTls>;

const HOLD: Duration = Duration::from_millis(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn connect(
    server: &mut PostgresServer,
    builder: bb8::Builder<Manager>,
) -> bb8::Pool<Manager> {
    server.ready().await;
    let manager = Manager::new_from_stringlike(server.url(), NoTls).expect("a valid url");
    builder.build(manager).await.expect("connect to the test's postgres")
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
async fn handle(pool: &InstrumentedBb8Pool<Manager>) -> i32 {
    let connection = pool.get().await.expect("a connection");
    let row = connection.query_one("SELECT 1", &[]).await.expect("SELECT 1");
    tokio::time::sleep(HOLD).await;
    row.get(0)
}

#[test]
fn ten_callers_on_a_pool_of_two_wait_under_the_calling_function() {
    let mut server = PostgresServer::start();
    let runtime = runtime();
    let pool = runtime.block_on(async {
        let pool = connect(&mut server, bb8::Pool::builder().max_size(2)).await;
        let pool = InstrumentedBb8Pool::new("bb8_attribution", pool);
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
    assert_eq!((stats.in_use, stats.pending, stats.timeouts, stats.starved), (0, 0, 0, false));
    // Two connections held 20 ms each by ten callers: at least 8 x 20 ms of waiting in all
    // when they start together (at least 4 x 20 ms however late some start).
    assert!(stats.waits >= 4 && stats.waits <= 10, "{stats:?}");
    assert!(stats.wait_ns >= 4 * HOLD.as_nanos() as u64, "{stats:?}");

    support::assert_wait_attributed("bb8_attribution", "bb8_pool::handle", 10, stats.wait_ns, HOLD);
    eprintln!("{stats:?}");

    let name = "bb8_attribution";
    assert_eq!(pool_figure(name, "perfscope_pool_connections_used_high_water", &[]), Some(2.0));
    assert_eq!(pool_figure(name, "perfscope_pool_connections_max", &[]), Some(2.0));
    assert_eq!(pool_figure(name, "perfscope_pool_acquires_total", &[]), Some(10.0));
    assert_eq!(pool_figure(name, "perfscope_pool_waits_total", &[]), Some(stats.waits as f64));
    assert_eq!(pool_figure(name, "perfscope_pool_starved", &[]), Some(0.0));
    let count = "perfscope_pool_connections";
    assert_eq!(pool_figure(name, count, &[("state", "idle")]), Some(2.0));
    assert_eq!(pool_figure(name, count, &[("state", "used")]), Some(0.0));
    assert_eq!(pool_figure(name, "perfscope_pool_connections_created_total", &[]), Some(2.0));
    drop(pool);
    drop(runtime);
}

#[test]
fn a_timeout_is_counted_and_starvation_reads_1_only_while_callers_wait() {
    let mut server = PostgresServer::start();
    runtime().block_on(async {
        // A short connection timeout: the waiter gives up. One connection open from the start
        // (bb8 counts a get that waits for a connection to be opened as waiting too).
        let builder = bb8::Pool::builder()
            .max_size(1)
            .min_idle(1)
            .connection_timeout(Duration::from_millis(300));
        let pool = InstrumentedBb8Pool::new("bb8_timeouts", connect(&mut server, builder).await);
        let held = pool.get().await.unwrap();
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(drop) }
        });
        // The waiter gives up after 300 ms: what shows only while it waits (pending,
        // starved) is checked on the next pool, whose waiter waits as long as it takes.
        let waited = waiter.await.unwrap();
        assert!(matches!(waited, Err(bb8::RunError::TimedOut)), "{waited:?}");
        let stats = pool.stats();
        assert_eq!((stats.acquires, stats.waits, stats.timeouts), (1, 1, 1), "{stats:?}");
        assert_eq!((stats.pending, stats.starved), (0, false), "{stats:?}");
        assert!(stats.wait_ns >= 250_000_000, "{stats:?}");
        assert_eq!(pool_figure("bb8_timeouts", "perfscope_pool_timeouts_total", &[]), Some(1.0));
        assert_eq!(pool_figure("bb8_timeouts", "perfscope_pool_starved", &[]), Some(0.0));
        drop(held);

        // A waiter that gets the connection when it comes back.
        let builder = bb8::Pool::builder().max_size(1).min_idle(1);
        let pool = InstrumentedBb8Pool::new("bb8_starved", connect(&mut server, builder).await);
        let held = pool.get().await.unwrap();
        assert_eq!(pool_figure("bb8_starved", "perfscope_pool_starved", &[]), Some(0.0));
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(drop) }
        });
        until("the waiter", || pool.stats().pending == 1).await;
        assert!(pool.stats().starved);
        assert_eq!(pool_figure("bb8_starved", "perfscope_pool_starved", &[]), Some(1.0));
        drop(held);
        waiter.await.unwrap().expect("the connection came back");
        let stats = pool.stats();
        assert_eq!((stats.acquires, stats.waits, stats.timeouts), (2, 1, 0), "{stats:?}");
        assert_eq!(pool_figure("bb8_starved", "perfscope_pool_starved", &[]), Some(0.0));
    });
}

#[test]
fn connections_the_server_killed_are_counted_broken_or_invalid() {
    let mut server = PostgresServer::start();
    runtime().block_on(async {
        let pool = connect(&mut server, bb8::Pool::builder().max_size(1)).await;
        let pool = InstrumentedBb8Pool::new("bb8_broken", pool);
        let killer = pool.pool().dedicated_connection().await.expect("a connection of its own");
        let terminate = async |pid: i32| {
            let row = killer
                .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .expect("pg_terminate_backend");
            assert!(row.get::<_, bool>(0), "backend {pid} terminated");
        };

        // Killed while in use: dead when it comes back (bb8's `has_broken`).
        let connection = pool.get().await.unwrap();
        let pid: i32 = connection.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        terminate(pid).await;
        until("the client to see its connection closed", || connection.is_closed()).await;
        drop(connection);
        until("bb8 to count it", || pool.state().statistics.connections_closed_broken == 1).await;
        let closed = "perfscope_pool_connections_closed_total";
        assert_eq!(pool_figure("bb8_broken", closed, &[("cause", "broken")]), Some(1.0));

        // Killed while idle: fails the check-out test (`is_valid`), and the caller gets a new
        // connection.
        let connection = pool.get().await.expect("a new connection");
        let pid: i32 = connection.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        drop(connection);
        terminate(pid).await;
        let connection = pool.get().await.expect("a new connection after the dead one");
        let new_pid: i32 =
            connection.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        assert_ne!(new_pid, pid);
        drop(connection);
        assert_eq!(pool_figure("bb8_broken", closed, &[("cause", "invalid")]), Some(1.0));
        // bb8 counts it broken too if, as it drops it, its client has seen the connection
        // closed: the figures are bb8's own counts, as bb8 keeps them.
        let broken = pool_figure("bb8_broken", closed, &[("cause", "broken")]);
        assert!(broken == Some(1.0) || broken == Some(2.0), "{broken:?}");
        assert_eq!(pool_figure("bb8_broken", closed, &[("cause", "max_lifetime")]), Some(0.0));
        let created = "perfscope_pool_connections_created_total";
        assert_eq!(pool_figure("bb8_broken", created, &[]), Some(3.0), "one, then two new ones");
    });
}
