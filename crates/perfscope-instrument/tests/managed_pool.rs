//! The managed deadpool pool: a `Manager` creates objects on demand up to the maximum size,
//! callers wait only when the pool is full (their waits are acquire frames under them), idle
//! objects are recycled before reuse and dropped when their recycle fails; created, recycled
//! and dropped are counted exactly, in `objects()` and in the figures.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool::managed::{
    Manager, Metrics, PoolConfig, PoolError, RecycleError, RecycleResult, TimeoutType, Timeouts,
};
use perfscope_instrument::pool::{InstrumentedManagedPool, ManagedPooled, ObjectCounts};
use support::figure;

/// Makes the numbers 1, 2, 3... in turn; a number marked broken fails its recycle.
#[derive(Debug, Default)]
struct Numbers {
    made: AtomicU32,
    broken: Mutex<HashSet<u32>>,
    detached: Mutex<Vec<u32>>,
}

impl Numbers {
    fn breaks(&self, n: u32) {
        self.broken.lock().expect("not poisoned").insert(n);
    }
}

impl Manager for Numbers {
    type Type = u32;
    type Error = std::io::Error;

    async fn create(&self) -> Result<u32, std::io::Error> {
        Ok(self.made.fetch_add(1, SeqCst) + 1)
    }

    async fn recycle(&self, n: &mut u32, _: &Metrics) -> RecycleResult<std::io::Error> {
        if self.broken.lock().expect("not poisoned").contains(n) {
            return Err(RecycleError::message(format!("{n} is broken")));
        }
        Ok(())
    }

    fn detach(&self, n: &mut u32) {
        self.detached.lock().expect("not poisoned").push(*n);
    }
}

type Pool = InstrumentedManagedPool<Numbers>;

/// Holds an object until `release` says so.
#[perfscope::measure]
async fn handle(pool: &Pool, mut release: tokio::sync::watch::Receiver<bool>) -> u32 {
    let object = pool.get().await.expect("the pool is open");
    release.wait_for(|go| *go).await.expect("the test releases");
    *object
}

fn pool_figure(pool: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels: Vec<(&str, &str)> =
        [("pool", pool)].into_iter().chain(labels.iter().copied()).collect();
    figure(&perfscope_core::snapshot().figures, name, &labels)
}

#[test]
fn five_callers_on_an_empty_pool_of_three_create_three_and_two_wait() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let pool = Pool::new("managed_five", Numbers::default(), PoolConfig::new(3)).unwrap();
    assert_eq!((pool.status().size, pool.objects()), (0, ObjectCounts::default()), "empty");
    let (release, released) = tokio::sync::watch::channel(false);
    let start = Arc::new(tokio::sync::Barrier::new(5));
    let mut got: Vec<u32> = runtime.block_on(async {
        let callers: Vec<_> = (0..5)
            .map(|_| {
                let (pool, start, released) = (pool.clone(), start.clone(), released.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    handle(&pool, released).await
                })
            })
            .collect();
        // Three hold what the pool made for them; the other two wait, the pool full.
        let deadline = Instant::now() + Duration::from_secs(10);
        while (pool.stats().in_use, pool.stats().pending) != (3, 2) {
            assert!(Instant::now() < deadline, "never 3 held and 2 waiting: {:?}", pool.stats());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(pool.stats().starved);
        assert_eq!(pool_figure("managed_five", "perfscope_pool_starved", &[]), Some(1.0));
        // Waits long enough that the acquire frames' idle time is nearly all of it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.send(true).unwrap();
        let mut got = Vec::new();
        for caller in callers {
            got.push(caller.await.unwrap());
        }
        got
    });

    got.sort_unstable();
    got.dedup();
    assert_eq!(got, [1, 2, 3], "the two that waited got recycled objects");
    let objects = pool.objects();
    assert_eq!(objects, ObjectCounts { created: 3, recycled: 2, dropped: 0 });
    let stats = pool.stats();
    assert_eq!((stats.acquires, stats.waits, stats.timeouts), (5, 2, 0), "{stats:?}");
    assert_eq!((stats.in_use, stats.pending, stats.high_water), (0, 0, 3), "{stats:?}");
    assert!(!stats.starved);
    let status = pool.status();
    assert_eq!((status.max_size, status.size, status.available), (3, 3, 3));

    // The two waits are acquire frames under the measured caller, as idle time.
    support::assert_wait_attributed("managed_five", "::handle", 5, stats.wait_ns, Duration::ZERO);
    let of = |name: &str, labels: &[(&str, &str)]| pool_figure("managed_five", name, labels);
    assert_eq!(of("perfscope_pool_connections_created_total", &[]), Some(3.0));
    assert_eq!(of("perfscope_pool_connections_recycled_total", &[]), Some(2.0));
    let invalid = [("cause", "invalid")];
    assert_eq!(of("perfscope_pool_connections_closed_total", &invalid), Some(0.0));
    assert_eq!(of("perfscope_pool_waits_total", &[]), Some(2.0));
    assert_eq!(of("perfscope_pool_acquires_total", &[]), Some(5.0));
    assert_eq!(of("perfscope_pool_connections_max", &[]), Some(3.0));
    assert_eq!(of("perfscope_pool_connections_used_high_water", &[]), Some(3.0));
    assert_eq!(of("perfscope_pool_connections", &[("state", "idle")]), Some(3.0));
    assert_eq!(of("perfscope_pool_connections", &[("state", "used")]), Some(0.0));
    assert_eq!(of("perfscope_pool_starved", &[]), Some(0.0));
}

#[test]
fn a_recycle_failure_drops_the_object_and_the_pool_creates_a_new_one() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let pool = Pool::new("managed_recycle", Numbers::default(), PoolConfig::new(2)).unwrap();
    let taken = runtime.block_on(async {
        let first = pool.get().await.unwrap();
        assert_eq!(*first, 1, "made on demand");
        drop(first);
        pool.manager().breaks(1);
        let second = pool.get().await.unwrap();
        assert_eq!(*second, 2, "1 failed its recycle: dropped, and 2 made instead");
        assert_eq!(pool.manager().detached.lock().unwrap().as_slice(), [1]);
        drop(second);
        let third = pool.get().await.unwrap();
        assert_eq!(*third, 2, "2 passed its recycle");
        assert_eq!(pool.status().size, 1);
        ManagedPooled::take(third)
    });
    assert_eq!(taken, 2);
    assert_eq!(pool.status().size, 0, "taken out of the pool");
    // Taken is not dropped: the pool let it go, it did not fail.
    assert_eq!(pool.objects(), ObjectCounts { created: 2, recycled: 1, dropped: 1 });
    let stats = pool.stats();
    assert_eq!((stats.acquires, stats.waits, stats.in_use, stats.high_water), (3, 0, 0, 1));

    let of = |name: &str, labels: &[(&str, &str)]| pool_figure("managed_recycle", name, labels);
    assert_eq!(of("perfscope_pool_connections_created_total", &[]), Some(2.0));
    assert_eq!(of("perfscope_pool_connections_recycled_total", &[]), Some(1.0));
    let invalid = [("cause", "invalid")];
    assert_eq!(of("perfscope_pool_connections_closed_total", &invalid), Some(1.0));

    // Made anew after the take: the pool is below its maximum size again.
    let again = runtime.block_on(async { *pool.get().await.unwrap() });
    assert_eq!(again, 3);
    assert_eq!(pool.objects(), ObjectCounts { created: 3, recycled: 1, dropped: 1 });
}

#[test]
fn a_full_pool_times_out_a_caller_and_counts_the_wait() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let pool = Pool::new("managed_timeout", Numbers::default(), PoolConfig::new(1)).unwrap();
    runtime.block_on(async {
        let held = pool.get().await.unwrap();
        let timeouts = Timeouts { wait: Some(Duration::from_millis(30)), ..pool.timeouts() };
        let waited = pool.timeout_get(timeouts).await;
        assert!(matches!(waited, Err(PoolError::Timeout(TimeoutType::Wait))), "{waited:?}");
        drop(held);
    });
    let stats = pool.stats();
    assert_eq!((stats.acquires, stats.waits, stats.timeouts, stats.pending), (1, 1, 1, 0));
    assert!(stats.wait_ns >= 30_000_000, "{stats:?}");
    assert_eq!(pool.objects(), ObjectCounts { created: 1, recycled: 0, dropped: 0 });
}
