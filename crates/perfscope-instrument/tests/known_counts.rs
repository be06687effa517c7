//! Cache and pool figures for work whose counts the test knows: a level's hit ratio (absent
//! before its first request), writes, errors and loads; a pool's waits, their seconds,
//! timeouts and pending acquires; and, past the name caps, caches and pools summed under
//! `<other>` (no hit ratio there). One test: the caps are process-wide.

mod support;

use std::time::{Duration, Instant};

use deadpool::unmanaged::{Pool, PoolConfig, PoolError};
use moka::sync::Cache;
use perfscope_instrument::OTHER;
use perfscope_instrument::cache::{
    ERRORS_TOTAL, HIT_RATIO, InstrumentedCache, L2, LOAD_ERRORS_TOTAL, LOADS_TOTAL,
    MAX_CACHE_NAMES, MultiLevelCache, REQUESTS_TOTAL, WRITES_TOTAL,
};
use perfscope_instrument::pool::{
    ACQUIRES_TOTAL, InstrumentedPool, MAX_POOL_NAMES, PENDING_REQUESTS, TIMEOUTS_TOTAL,
    WAIT_SECONDS_TOTAL, WAITS_TOTAL,
};
use support::figure;

fn now(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    figure(&perfscope_core::snapshot().figures, name, labels)
}

/// A second level that fails every request.
#[derive(Debug)]
struct Down;

impl L2 for Down {
    type Error = std::io::Error;
    fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, std::io::Error> {
        Err(std::io::Error::other("down"))
    }
    fn set(&self, _key: &str, _value: &[u8]) -> Result<(), std::io::Error> {
        Err(std::io::Error::other("down"))
    }
    fn delete(&self, _key: &str) -> Result<(), std::io::Error> {
        Err(std::io::Error::other("down"))
    }
}

fn a_level_s_counts_and_hit_ratio() {
    let cache = InstrumentedCache::new("known", Cache::builder().max_capacity(100));
    let level = [("cache", "known"), ("level", "l1")];
    assert_eq!(cache.stats().hit_ratio(), None, "no request yet");
    assert_eq!(now(HIT_RATIO, &level), None, "absent before the first request, not 0 or NaN");
    assert_eq!(now(REQUESTS_TOTAL, &[level[0], ("result", "hit")]), Some(0.0));

    cache.insert(1, "one");
    for _ in 0..3 {
        assert_eq!(cache.get(&1), Some("one"));
    }
    assert_eq!(cache.get(&2), None);
    assert_eq!(cache.get_with(3, || "three"), "three"); // a miss, then a write
    let s = cache.stats();
    assert_eq!((s.hits, s.misses, s.writes, s.errors), (3, 2, 2, 0), "{s:?}");
    assert_eq!(s.hit_ratio(), Some(0.6));
    assert_eq!(now(HIT_RATIO, &level), Some(0.6));
    assert_eq!(now(WRITES_TOTAL, &level), Some(2.0));
    assert_eq!(now(ERRORS_TOTAL, &level), Some(0.0));

    // A failing L2 is an error there per request (lookup and write), never a failure: the
    // loader answers. A loader's error is counted as one.
    let multi = MultiLevelCache::new("known_down", Cache::builder().max_capacity(10), Down);
    let loaded = multi.get_with(&"k".to_string(), || Ok::<_, std::io::Error>("v".to_string()));
    assert_eq!(loaded.ok().as_deref(), Some("v"));
    let failed = multi.get_with(&"e".to_string(), || Err(std::io::Error::other("no")));
    assert!(failed.is_err(), "{failed:?}");
    let stats = multi.stats();
    assert_eq!((stats.l1.misses, stats.l1.writes), (2, 1), "{stats:?}");
    assert_eq!((stats.l2.errors, stats.loads, stats.load_errors), (3, 2, 1), "{stats:?}");
    let l2 = [("cache", "known_down"), ("level", "l2")];
    assert_eq!(now(ERRORS_TOTAL, &l2), Some(3.0));
    assert_eq!(now(LOADS_TOTAL, &[("cache", "known_down")]), Some(2.0));
    assert_eq!(now(LOAD_ERRORS_TOTAL, &[("cache", "known_down")]), Some(1.0));
}

fn a_pool_s_waits_and_timeouts() {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let config = PoolConfig { runtime: Some(deadpool::Runtime::Tokio1), ..PoolConfig::new(1) };
    let pool = InstrumentedPool::new("known", Pool::from_config(&config));
    let of = |name| now(name, &[("pool", "known")]);
    let timeout = Duration::from_millis(40);
    let timed = runtime.block_on(async {
        pool.pool().add(7).await.map_err(|(_, e)| e).expect("room for one");
        let held = pool.get().await.expect("the one object");
        let start = Instant::now();
        for _ in 0..2 {
            let waited = pool.timeout_get(Some(timeout)).await;
            assert!(matches!(waited, Err(PoolError::Timeout)), "{waited:?}");
        }
        let timed = start.elapsed();
        drop(held);
        timed
    });
    let s = pool.stats();
    assert_eq!((s.acquires, s.waits, s.timeouts, s.pending), (1, 2, 2, 0), "{s:?}");
    // Two waits of at least 40 ms each, and no longer than the test timed around them.
    let waited = Duration::from_nanos(s.wait_ns);
    assert!(waited >= 2 * timeout && waited <= timed, "waited {waited:?}, timed {timed:?}");
    assert_eq!(of(WAIT_SECONDS_TOTAL), Some(s.wait_ns as f64 / 1e9));
    assert_eq!(of(WAITS_TOTAL), Some(2.0));
    assert_eq!(of(TIMEOUTS_TOTAL), Some(2.0));
    assert_eq!(of(ACQUIRES_TOTAL), Some(1.0));
    assert_eq!(of(PENDING_REQUESTS), Some(0.0));
}

fn past_the_caps_caches_and_pools_are_summed_under_other() {
    // The names so far (this test's) and the rest up to the cap get series of their own.
    let caches: Vec<_> = (0..MAX_CACHE_NAMES)
        .map(|i| InstrumentedCache::new(format!("capped_{i}"), Cache::<u32, u32>::builder()))
        .collect();
    let snapshot = perfscope_core::snapshot();
    let own = caches.iter().filter(|c| {
        let labels = [("cache", c.name()), ("level", "l1")];
        figure(&snapshot.figures, WRITES_TOTAL, &labels).is_some()
    });
    assert_eq!(own.count(), MAX_CACHE_NAMES - 2, "known and known_down came first");
    let late: Vec<_> = (0..3)
        .map(|i| InstrumentedCache::new(format!("late_{i}"), Cache::<u32, u32>::builder()))
        .collect();
    for (i, cache) in late.iter().enumerate() {
        for _ in 0..=i {
            cache.insert(1, 1);
            cache.get(&1);
        }
        cache.get(&2);
    }
    let other = [("cache", OTHER), ("level", "l1")];
    // 1 + 2 + 3 writes and hits, 3 misses, over the late caches and the capped ones beyond.
    assert_eq!(now(WRITES_TOTAL, &other), Some(6.0));
    assert_eq!(now(REQUESTS_TOTAL, &[other[0], ("result", "hit")]), Some(6.0));
    assert_eq!(now(REQUESTS_TOTAL, &[other[0], ("result", "miss")]), Some(3.0));
    assert_eq!(now(HIT_RATIO, &other), None, "no ratio of a sum of caches");
    assert_eq!(now(WRITES_TOTAL, &[("cache", "late_0")]), None);
    // A known name keeps its series past the cap.
    let again = InstrumentedCache::new("capped_0", Cache::<u32, u32>::builder());
    again.insert(1, 1);
    assert_eq!(now(WRITES_TOTAL, &[("cache", "capped_0"), ("level", "l1")]), Some(1.0));
    assert_eq!(now(LOAD_ERRORS_TOTAL, &[("cache", OTHER)]), None, "no loader among them");

    let pools: Vec<_> = (0..MAX_POOL_NAMES)
        .map(|i| InstrumentedPool::new(format!("capped_{i}"), Pool::from(vec![i])))
        .collect();
    let late = [InstrumentedPool::new("late_a", Pool::from(vec![1, 2])), {
        InstrumentedPool::new("late_b", Pool::from(vec![3]))
    }];
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    runtime.block_on(async {
        for pool in &late {
            drop(pool.get().await.expect("an object"));
        }
    });
    let other = [("pool", OTHER)];
    // `known` came first: the last capped pool and the two late ones are summed.
    assert_eq!(now(ACQUIRES_TOTAL, &[("pool", "capped_0")]), Some(0.0));
    assert_eq!(now(ACQUIRES_TOTAL, &other), Some(2.0));
    assert_eq!(now("perfscope_pool_connections_max", &other), Some(1.0 + 2.0 + 1.0));
    drop((caches, pools));
}

#[test]
fn known_cache_and_pool_counts_and_the_name_caps() {
    a_level_s_counts_and_hit_ratio();
    a_pool_s_waits_and_timeouts();
    past_the_caps_caches_and_pools_are_summed_under_other();
}
