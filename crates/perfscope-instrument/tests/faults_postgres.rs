//! PostgreSQL going away under a measured sqlx pool and the query collector, with four tasks
//! running statements: the server is stopped at once (SIGQUIT, an immediate shutdown: every
//! connection dropped) mid-run, then started again on its port and data. Statements fail with
//! errors while it is down (none blocks longer than the pool's acquire timeout allows),
//! nothing panics, the pool's figures and frames count what the callers saw, the query
//! collector counts every statement that had a connection as a call and those of them that
//! failed as errors, and the program carries on with the new server once it is back.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfscope_instrument::pool::{ACQUIRES_TOTAL, InstrumentedSqlxPool, TIMEOUTS_TOTAL};
use perfscope_instrument::queries::QueryCollector;
use sqlx::Postgres;
use sqlx::postgres::PgPoolOptions;
use support::{PostgresServer, figure};
use tracing_subscriber::prelude::*;

const TASKS: usize = 4;
const STATEMENT: &str = "SELECT $1::int4 + 1";
/// A statement still running when the server goes: cut off on its connection.
const CUT_OFF: &str = "SELECT pg_sleep(30)";
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

/// What the tasks saw.
#[derive(Default)]
struct Seen {
    ok: AtomicU64,
    timed_out: AtomicU64,
    /// Other errors, by kind (`Io`, `Protocol`, `Database`...), with one message each.
    other: Mutex<Vec<String>>,
    slowest: Mutex<Duration>,
}

impl Seen {
    fn attempts(&self) -> u64 {
        let other = self.other.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
        self.ok.load(Ordering::Relaxed) + self.timed_out.load(Ordering::Relaxed) + other
    }
}

async fn task(pool: InstrumentedSqlxPool<Postgres>, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    let mut i = 0i32;
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let result = sqlx::query_scalar::<_, i32>(STATEMENT).bind(i).fetch_one(&pool).await;
        let took = start.elapsed();
        {
            let mut slowest = seen.slowest.lock().unwrap_or_else(|e| e.into_inner());
            *slowest = (*slowest).max(took);
        }
        match result {
            Ok(value) => {
                assert_eq!(value, i + 1);
                seen.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(sqlx::Error::PoolTimedOut) => {
                seen.timed_out.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                seen.other.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{error:?}"));
            }
        }
        i = i.wrapping_add(1);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits (up to 30 s) until the tasks' successful statements pass `n`.
async fn until_ok_passes(seen: &Seen, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.ok.load(Ordering::Relaxed) <= n {
        assert!(Instant::now() < deadline, "no statement succeeded again within 30 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn postgres_stopped_mid_run_then_restarted_leaves_the_program_running_and_counting() {
    let mut server = PostgresServer::start();
    // One thread: sqlx-postgres emits its statement events on the polling thread, and the
    // collector's layer is this thread's default subscriber.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let queries = QueryCollector::new();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(queries.layer()));
    let seen = Arc::new(Seen::default());
    let (pool, cut_off) = runtime.block_on(async {
        server.ready().await;
        let options = PgPoolOptions::new().max_connections(4).acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = options.connect(&server.url()).await.expect("the test's postgres");
        let pool = InstrumentedSqlxPool::new("faults_pg", pool);
        let options = PgPoolOptions::new().max_connections(1).acquire_timeout(ACQUIRE_TIMEOUT);
        let one = options.connect(&server.url()).await.expect("the test's postgres");
        let one = InstrumentedSqlxPool::new("faults_pg_cut", one);

        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| tokio::spawn(task(pool.clone(), stop.clone(), seen.clone())))
            .collect();
        until_ok_passes(&seen, 50).await;
        // One statement in flight on its connection when the server goes.
        let cut = {
            let one = one.clone();
            tokio::spawn(async move { sqlx::query(CUT_OFF).execute(&one).await.map(|_| ()) })
        };
        while one.stats().acquires == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;

        server.crash();
        let ok_at_crash = seen.ok.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let failed_while_down = seen.attempts() - seen.ok.load(Ordering::Relaxed);
        // Statements that were in flight may have finished; none after the crash can.
        assert!(seen.ok.load(Ordering::Relaxed) <= ok_at_crash + TASKS as u64);
        assert!(failed_while_down > 0, "statements failed while the server was down");
        let cut_off = cut.await.expect("no task panicked");
        assert!(
            matches!(&cut_off, Err(e) if !matches!(e, sqlx::Error::PoolTimedOut)),
            "the statement in flight failed on its connection: {cut_off:?}"
        );
        // The collector's own statements (index hints) fail the same way: skipped, said why.
        let advice = queries.index_hints_postgres(pool.pool()).await;
        assert!(advice.hints.is_empty() && advice.explained == 0, "{advice:#?}");
        assert!(advice.indexes.is_empty(), "no catalog read, no index claimed: {advice:#?}");
        let skipped = advice.skipped.iter().find(|s| s.fingerprint.contains("int4"));
        assert!(skipped.is_some_and(|s| s.reason.starts_with("no connection")), "{advice:#?}");

        server.restart();
        server.ready().await;
        let ok_at_restart = seen.ok.load(Ordering::Relaxed);
        until_ok_passes(&seen, ok_at_restart + 50).await;
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await.expect("no task panicked");
        }
        one.close().await;
        (pool, cut_off)
    });

    let stats = pool.stats();
    let (ok, timed_out) = (seen.ok.load(Ordering::Relaxed), seen.timed_out.load(Ordering::Relaxed));
    let other = seen.other.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let slowest = *seen.slowest.lock().unwrap_or_else(|e| e.into_inner());
    let select = queries.fingerprints().into_iter().find(|f| f.example == STATEMENT);
    let report = perfscope::report();
    let acquire = report.function("pool::faults_pg::acquire").cloned();
    println!(
        "ok {ok}, timed out {timed_out}, other errors {} (first: {:?}), slowest {slowest:?}; \
         pool {stats:?}; acquire frames {:?}; statements counted {:?}, failed {:?}; the \
         statement in flight: {cut_off:?}",
        other.len(),
        other.first(),
        acquire.as_ref().map(|f| f.calls),
        select.as_ref().map(|s| s.calls),
        select.as_ref().map(|s| s.errors),
    );
    // Every acquire is a frame on the caller's stack, failed ones too: one per statement.
    assert_eq!(acquire.map(|f| f.calls), Some(seen.attempts()));
    // The pool counts what the callers saw: its timeouts are theirs, every statement that
    // succeeded had an acquire, and what is neither an acquire nor a timeout is among the
    // callers' other errors (a statement cut off on a connection already acquired fails after
    // its acquire).
    assert_eq!(stats.timeouts, timed_out, "{stats:?}");
    assert!(stats.acquires >= ok, "{stats:?}");
    let counted = stats.acquires + stats.timeouts;
    assert!(counted <= seen.attempts(), "{stats:?}");
    assert!(seen.attempts() - counted <= other.len() as u64, "{stats:?} {other:?}");
    let figures = perfscope_core::snapshot().figures;
    let pool_label = [("pool", "faults_pg")];
    assert_eq!(figure(&figures, TIMEOUTS_TOTAL, &pool_label), Some(stats.timeouts as f64));
    assert_eq!(figure(&figures, ACQUIRES_TOTAL, &pool_label), Some(stats.acquires as f64));
    // sqlx logs a statement when it is done with it, however it ended, but only once it has a
    // connection: the collector's calls are the statements that had one (the pool's
    // acquires), the ones that succeeded and the ones cut off on a connection the crash
    // broke; a statement whose acquire failed (timed out) never ran and is not a call. The
    // instrumented pool saw which of them failed: the errors, so calls - errors = the
    // statements that succeeded.
    let select = select.expect("the statement's fingerprint");
    assert_eq!(select.calls, stats.acquires, "{select:?} {stats:?}");
    assert_eq!(select.errors, stats.acquires - ok, "{select:?} {stats:?} {other:?}");
    assert_eq!(select.calls - select.errors, ok, "{select:?}");
    // The statement cut off in flight, deterministically: a call (sqlx logged it when the
    // connection broke under it) and an error.
    let cut = queries.fingerprints().into_iter().find(|f| f.example == CUT_OFF);
    assert_eq!(cut.as_ref().map(|f| (f.calls, f.errors)), Some((1, 1)), "{cut:?} {cut_off:?}");
    // No caller blocked for long: an acquire gives up after its timeout.
    assert!(slowest < Duration::from_secs(30), "a statement took {slowest:?}");
    runtime.block_on(pool.close());
}
