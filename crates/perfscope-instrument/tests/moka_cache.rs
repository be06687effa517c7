//! The instrumented moka cache: hits and misses around each call, evictions by cause from
//! moka's eviction listener, entries; all as figures of section `cache`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::sync::Cache;
use perfscope_instrument::cache::InstrumentedCache;
use support::figure;

#[test]
fn calls_are_counted_and_removals_by_cause() {
    let listened = Arc::new(AtomicU32::new(0));
    let heard = listened.clone();
    let cache = InstrumentedCache::with_eviction_listener(
        "bounded",
        Cache::builder().max_capacity(10),
        move |_, _, _| {
            heard.fetch_add(1, Ordering::SeqCst);
        },
    );
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get_with(1, || 10), 10);
    assert_eq!(cache.get_with(1, || 99), 10);
    assert_eq!(cache.try_get_with(2, || Ok::<_, std::io::Error>(20)).unwrap(), 20);
    assert!(cache.try_get_with(3, || Err(std::io::Error::other("no"))).is_err());
    assert_eq!(cache.get(&2), Some(20));
    cache.insert(2, 21);
    cache.invalidate(&1);
    for k in 100..200 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();

    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (2, 4), "{s:?}");
    assert_eq!((s.removed_explicit, s.replaced), (1, 1), "{s:?}");
    assert!(s.evicted_size >= 90, "100 inserts into 10 places: {s:?}");
    assert!(cache.entry_count() <= 10);
    let removals = s.removed_explicit + s.replaced + s.evicted_size + s.evicted_expired;
    assert_eq!(u64::from(listened.load(Ordering::SeqCst)), removals, "the program's listener too");

    let snap = perfscope_core::snapshot();
    let labels =
        |extra: (&'static str, &'static str)| [("cache", "bounded"), ("level", "l1"), extra];
    let evicted =
        figure(&snap.figures, "perfscope_cache_evictions_total", &labels(("cause", "size")));
    assert_eq!(evicted, Some(s.evicted_size as f64));
    let explicit =
        figure(&snap.figures, "perfscope_cache_removals_total", &labels(("cause", "explicit")));
    assert_eq!(explicit, Some(1.0));
    let entries = figure(&snap.figures, "perfscope_cache_entries", &[("cache", "bounded")]);
    assert_eq!(entries, Some(cache.entry_count() as f64));
}

#[test]
fn expired_entries_are_counted_as_expired() {
    let cache =
        InstrumentedCache::new("ttl", Cache::builder().time_to_live(Duration::from_millis(20)));
    cache.insert("k", 1);
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(cache.get("k"), None);
    cache.run_pending_tasks();
    let s = cache.stats();
    assert_eq!((s.evicted_expired, s.misses), (1, 1), "{s:?}");
}

#[test]
fn a_dropped_cache_leaves_the_snapshot() {
    let cache = InstrumentedCache::new("short-lived", Cache::<u32, u32>::builder());
    cache.insert(1, 1);
    let present = |snap: &perfscope_core::Snapshot| {
        figure(&snap.figures, "perfscope_cache_writes_total", &[("cache", "short-lived")]).is_some()
    };
    assert!(present(&perfscope_core::snapshot()));
    drop(cache);
    assert!(!present(&perfscope_core::snapshot()));
}

#[test]
fn counts_are_exact_with_many_threads_on_one_cache() {
    const THREADS: u64 = 24;
    const ROUNDS: u64 = 500;
    let cache = InstrumentedCache::new("shared-by-threads", Cache::builder().max_capacity(1_000));
    for k in 0..10_u64 {
        cache.insert(k, k);
    }
    let start = Arc::new(std::sync::Barrier::new(THREADS as usize));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (cache, start) = (cache.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for round in 0..ROUNDS {
                    assert_eq!(cache.get(&(round % 10)), Some(round % 10));
                    // Keys nobody inserts: always a miss.
                    assert_eq!(cache.get(&(1_000 + t)), None);
                    cache.get(&(round % 10));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no thread panicked");
    }

    let s = cache.stats();
    assert_eq!((s.hits, s.misses, s.writes), (2 * THREADS * ROUNDS, THREADS * ROUNDS, 10));
    let snap = perfscope_core::snapshot();
    let labels = |result| [("cache", "shared-by-threads"), ("level", "l1"), ("result", result)];
    let requests =
        |result| figure(&snap.figures, "perfscope_cache_requests_total", &labels(result));
    assert_eq!(requests("hit"), Some(s.hits as f64), "the figures say what stats() says");
    assert_eq!(requests("miss"), Some(s.misses as f64));
    let ratio =
        figure(&snap.figures, "perfscope_cache_hit_ratio", &[("cache", "shared-by-threads")]);
    assert_eq!(ratio, Some(2.0 / 3.0));
}
