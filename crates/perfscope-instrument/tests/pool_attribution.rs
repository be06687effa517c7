//! A measured function waiting on a deadpool pool: the acquire frame is its child, the wait
//! is under it, its self time excludes the wait, and the high-water is the pool's size.

mod support;

use std::sync::Arc;
use std::time::Duration;

use deadpool::unmanaged::{Pool, PoolConfig, PoolError};
use perfscope_instrument::pool::InstrumentedPool;
use support::figure;

const HOLD: Duration = Duration::from_millis(20);

#[perfscope::measure]
async fn handle(pool: &InstrumentedPool<u32>) -> u32 {
    let connection = pool.get().await.expect("the pool is open");
    tokio::time::sleep(HOLD).await;
    *connection
}

#[test]
fn ten_callers_on_a_pool_of_two() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let pool = InstrumentedPool::new("attribution", Pool::from(vec![1, 2]));
    let start = Arc::new(tokio::sync::Barrier::new(10));
    runtime.block_on(async {
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
            assert!([1, 2].contains(&caller.await.unwrap()));
        }
    });

    let stats = pool.stats();
    assert_eq!(stats.acquires, 10);
    assert_eq!(stats.high_water, 2, "never more in use than the pool holds: {stats:?}");
    assert_eq!((stats.in_use, stats.pending, stats.timeouts), (0, 0, 0));
    // Ten callers, two objects held 20 ms each: most callers wait, for 400 ms in all when
    // they all start together (at least 4 x 20 ms however late some start).
    assert!(stats.waits >= 4 && stats.waits <= 8, "{stats:?}");
    assert!(stats.wait_ns >= 4 * HOLD.as_nanos() as u64, "{stats:?}");

    support::assert_wait_attributed("attribution", "::handle", 10, stats.wait_ns, HOLD);
    eprintln!("{stats:?}");
    let snap = perfscope_core::snapshot();
    let pool_figure = |name: &str| figure(&snap.figures, name, &[("pool", "attribution")]);
    assert_eq!(pool_figure("perfscope_pool_connections_used_high_water"), Some(2.0));
    assert_eq!(pool_figure("perfscope_pool_acquires_total"), Some(10.0));
    assert_eq!(pool_figure("perfscope_pool_connections_max"), Some(2.0));
    let count = |state| {
        figure(
            &snap.figures,
            "perfscope_pool_connections",
            &[("pool", "attribution"), ("state", state)],
        )
    };
    assert_eq!((count("idle"), count("used")), (Some(2.0), Some(0.0)));
}

#[test]
fn a_timed_out_acquire_is_counted_and_its_wait_too() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let config = PoolConfig { runtime: Some(deadpool::Runtime::Tokio1), ..PoolConfig::new(1) };
    let pool = InstrumentedPool::new("timeouts", Pool::from_config(&config));
    runtime.block_on(async {
        pool.pool().add(7).await.map_err(|(_, e)| e).unwrap();
        let held = pool.get().await.unwrap();
        assert_eq!(*held, 7);
        let waited = pool.timeout_get(Some(Duration::from_millis(30))).await;
        assert!(matches!(waited, Err(PoolError::Timeout)), "{waited:?}");
        let taken = perfscope_instrument::pool::Pooled::take(held);
        assert_eq!(taken, 7);
    });
    let stats = pool.stats();
    assert_eq!((stats.acquires, stats.waits, stats.timeouts, stats.in_use), (1, 1, 1, 0));
    assert!(stats.wait_ns >= 30_000_000, "{stats:?}");
    assert_eq!(pool.status().size, 0, "taken out of the pool");
}

#[test]
fn starvation_reads_1_while_a_caller_waits_with_none_idle_and_0_after() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let pool = InstrumentedPool::new("starved", Pool::from(vec![1]));
    let starved = || {
        figure(
            &perfscope_core::snapshot().figures,
            "perfscope_pool_starved",
            &[("pool", "starved")],
        )
    };
    runtime.block_on(async {
        let held = pool.get().await.unwrap();
        assert_eq!(starved(), Some(0.0), "in use, but nobody waits");
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { *pool.get().await.unwrap() }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pool.stats().pending == 0 {
            assert!(std::time::Instant::now() < deadline, "the waiter never waited");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(pool.stats().starved);
        assert_eq!(starved(), Some(1.0));
        drop(held);
        assert_eq!(waiter.await.unwrap(), 1);
    });
    let stats = pool.stats();
    assert_eq!((stats.acquires, stats.waits, stats.pending, stats.starved), (2, 1, 0, false));
    assert_eq!(starved(), Some(0.0));
}
