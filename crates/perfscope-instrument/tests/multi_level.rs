//! The multi-level cache against a real Redis server: exact hits and misses per level, the
//! single flight, and the figures every reader gets.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use moka::sync::Cache;
use perfscope_instrument::cache::{L2, MultiLevelCache, RedisL2};
use support::{RedisServer, figure};

type Users = MultiLevelCache<String, String, RedisL2>;

fn cache(server: &RedisServer, name: &str) -> Users {
    let l2 = RedisL2::open(&server.url())
        .expect("the test's redis-server")
        .with_prefix(format!("{name}:"));
    MultiLevelCache::new(name, Cache::builder().max_capacity(100), l2)
}

fn key(k: &str) -> String {
    k.to_owned()
}

#[test]
fn scripted_access_gives_exact_hits_and_misses_per_level() {
    let server = RedisServer::start();
    let cache = cache(&server, "scripted");
    let loads = AtomicU32::new(0);
    let load = |v: &str| {
        loads.fetch_add(1, Ordering::SeqCst);
        Ok::<_, std::io::Error>(v.to_owned())
    };

    // 1. Nowhere: L1 miss, L2 miss, one load, written through to Redis.
    assert_eq!(cache.get_with(&key("a"), || load("ada")).unwrap(), "ada");
    let stored: Option<String> =
        redis::cmd("GET").arg("scripted:a").query(&mut server.connection()).unwrap();
    assert_eq!(stored.as_deref(), Some("ada"));
    // 2. L1 hit.
    assert_eq!(cache.get_with(&key("a"), || load("never")).unwrap(), "ada");
    // 3. Gone from L1 only: L1 miss, L2 hit, no load; L1 filled again.
    cache.l1().invalidate(&key("a"));
    assert_eq!(cache.get_with(&key("a"), || load("never")).unwrap(), "ada");
    // 4. L1 hit.
    assert_eq!(cache.get(&key("a")).unwrap().as_deref(), Some("ada"));
    // 5. Written through: then an L1 hit.
    cache.set(key("b"), "bob".into()).unwrap();
    assert_eq!(cache.l2().get("b").unwrap().as_deref(), Some(&b"bob"[..]));
    assert_eq!(cache.get(&key("b")).unwrap().as_deref(), Some("bob"));
    // 6. Written to Redis by someone else: L1 miss, L2 hit.
    let _: () =
        redis::cmd("SET").arg("scripted:c").arg("cy").query(&mut server.connection()).unwrap();
    assert_eq!(cache.get(&key("c")).unwrap().as_deref(), Some("cy"));
    // 7. Nowhere, no loader: L1 miss, L2 miss.
    assert_eq!(cache.get(&key("d")).unwrap(), None);
    // 8. Deleted from both: L1 miss, L2 miss.
    cache.delete(&key("a")).unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), None);

    let stats = cache.stats();
    assert_eq!((stats.l1.hits, stats.l1.misses), (3, 5), "L1 {:?}", stats.l1);
    assert_eq!((stats.l2.hits, stats.l2.misses), (2, 3), "L2 {:?}", stats.l2);
    assert_eq!((stats.loads, stats.load_errors, stats.l2.errors), (1, 0, 0));
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    // The same counts reach every reader through the snapshot's figures.
    let snap = perfscope_core::snapshot();
    let requests = |level, result| {
        let labels = [("cache", "scripted"), ("level", level), ("result", result)];
        figure(&snap.figures, "perfscope_cache_requests_total", &labels)
    };
    assert_eq!(requests("l1", "hit"), Some(3.0));
    assert_eq!(requests("l1", "miss"), Some(5.0));
    assert_eq!(requests("l2", "hit"), Some(2.0));
    assert_eq!(requests("l2", "miss"), Some(3.0));
    let ratio = |level| {
        figure(
            &snap.figures,
            "perfscope_cache_hit_ratio",
            &[("cache", "scripted"), ("level", level)],
        )
    };
    assert_eq!(ratio("l1"), Some(3.0 / 8.0));
    assert_eq!(ratio("l2"), Some(2.0 / 5.0));
    assert_eq!(
        figure(&snap.figures, "perfscope_cache_loads_total", &[("cache", "scripted")]),
        Some(1.0)
    );
    cache.l1().run_pending_tasks();
    let snap = perfscope_core::snapshot();
    let entries =
        figure(&snap.figures, "perfscope_cache_entries", &[("cache", "scripted"), ("level", "l1")]);
    assert_eq!(entries, Some(2.0), "b and c are in L1");
    let entries =
        figure(&snap.figures, "perfscope_cache_entries", &[("cache", "scripted"), ("level", "l2")]);
    assert_eq!(entries, None, "Redis's entry count is not known: absent, not zero");

    // Every level's latency is a frame, under the request that caused it.
    let calls =
        |name: &str| snap.callsites.iter().find(|c| &*c.info.name == name).map_or(0, |c| c.calls);
    assert_eq!(calls("cache::scripted::l2::get"), 5);
    assert_eq!(calls("cache::scripted::load"), 1);
    assert_eq!(calls("cache::scripted::get_with"), 3);
    let get_with =
        snap.callsites.iter().find(|c| &*c.info.name == "cache::scripted::get_with").unwrap();
    let child =
        |name: &str| get_with.children.iter().find(|e| &*e.name == name).map_or(0, |e| e.calls);
    assert_eq!((child("cache::scripted::l2::get"), child("cache::scripted::load")), (2, 1));
}

#[test]
fn a_hundred_concurrent_misses_on_one_key_call_the_loader_once() {
    let server = RedisServer::start();
    let cache = Arc::new(cache(&server, "stampede"));
    let loads = Arc::new(AtomicU32::new(0));
    let start = Arc::new(Barrier::new(100));
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let (cache, loads, start) = (cache.clone(), loads.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                cache
                    .get_with(&key("hot"), || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        Ok::<_, std::io::Error>("value".to_owned())
                    })
                    .unwrap()
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.join().unwrap(), "value");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one loader call for 100 concurrent misses");
    let stats = cache.stats();
    assert_eq!((stats.l1.misses, stats.l1.hits), (1, 99), "{stats:?}");
    assert_eq!((stats.l2.misses, stats.l2.hits, stats.loads), (1, 0, 1), "{stats:?}");
}

#[test]
fn a_failing_loader_is_counted_and_shared_and_nothing_is_kept() {
    let server = RedisServer::start();
    let cache = cache(&server, "failing");
    let error =
        cache.get_with(&key("x"), || Err(std::io::Error::other("database down"))).unwrap_err();
    assert!(error.to_string().contains("database down"), "{error}");
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_errors, stats.l1.writes, stats.l2.writes), (1, 1, 0, 0));
    assert_eq!(cache.get(&key("x")).unwrap(), None);
}

#[test]
fn an_unreachable_second_level_is_an_error_counted_at_l2() {
    let server = RedisServer::start();
    let cache = cache(&server, "unreachable");
    drop(server);
    let error = cache.get(&key("k")).unwrap_err();
    assert!(error.to_string().contains("second level"), "{error}");
    let stats = cache.stats();
    assert_eq!((stats.l2.errors, stats.l2.hits, stats.l2.misses), (1, 0, 0));
}
