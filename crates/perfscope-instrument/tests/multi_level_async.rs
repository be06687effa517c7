//! The async multi-level cache against a real Redis server, as `multi_level.rs` checks the
//! sync one: exact hits and misses per level, the single flight, write-through visible in
//! Redis, and the figures and frames every reader gets, under the sync cache's names.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::future::Cache;
use perfscope_instrument::cache::{AsyncL2, AsyncMultiLevelCache, AsyncRedisL2};
use support::{RedisServer, figure};
use tokio::sync::Barrier;

type Users = AsyncMultiLevelCache<String, String, AsyncRedisL2>;

async fn cache(server: &RedisServer, name: &str) -> Users {
    let l2 = AsyncRedisL2::open(&server.url())
        .await
        .expect("the test's redis-server")
        .with_prefix(format!("{name}:"));
    AsyncMultiLevelCache::new(name, Cache::builder().max_capacity(100), l2)
}

fn key(k: &str) -> String {
    k.to_owned()
}

/// What the test's own plain connection reads from Redis.
fn stored(server: &RedisServer, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(&mut server.connection()).expect("GET on the test's server")
}

/// A loader for requests that must not load: polled, it panics.
async fn never() -> Result<String, std::io::Error> {
    panic!("a hit loads nothing")
}

#[tokio::test]
async fn scripted_access_gives_exact_hits_and_misses_per_level() {
    let server = RedisServer::start();
    let cache = cache(&server, "async_scripted").await;
    let loads = AtomicU32::new(0);
    let load = |v: &str| {
        loads.fetch_add(1, Ordering::SeqCst);
        let v = v.to_owned();
        async move { Ok::<_, std::io::Error>(v) }
    };

    // 1. Nowhere: L1 miss, L2 miss, one load, written through to Redis.
    assert_eq!(cache.get_with(&key("a"), load("ada")).await.unwrap(), "ada");
    assert_eq!(stored(&server, "async_scripted:a").as_deref(), Some("ada"));
    // 2. L1 hit: the loader future is dropped, never polled.
    assert_eq!(cache.get_with(&key("a"), never()).await.unwrap(), "ada");
    // 3. Gone from L1 only: L1 miss, L2 hit, no load; L1 filled again.
    cache.l1().invalidate(&key("a")).await;
    assert_eq!(cache.get_with(&key("a"), never()).await.unwrap(), "ada");
    // 4. L1 hit.
    assert_eq!(cache.get(&key("a")).await.unwrap().as_deref(), Some("ada"));
    // 5. Written through: then an L1 hit.
    cache.set(key("b"), "bob".into()).await.unwrap();
    assert_eq!(stored(&server, "async_scripted:b").as_deref(), Some("bob"));
    assert_eq!(cache.l2().get("b").await.unwrap().as_deref(), Some(&b"bob"[..]));
    assert_eq!(cache.get(&key("b")).await.unwrap().as_deref(), Some("bob"));
    // 6. Written to Redis by someone else: L1 miss, L2 hit.
    let _: () = redis::cmd("SET")
        .arg("async_scripted:c")
        .arg("cy")
        .query(&mut server.connection())
        .unwrap();
    assert_eq!(cache.get(&key("c")).await.unwrap().as_deref(), Some("cy"));
    // 7. Nowhere, no loader: L1 miss, L2 miss.
    assert_eq!(cache.get(&key("d")).await.unwrap(), None);
    // 8. Deleted from both: L1 miss, L2 miss.
    cache.delete(&key("a")).await.unwrap();
    assert_eq!(stored(&server, "async_scripted:a"), None);
    assert_eq!(cache.get(&key("a")).await.unwrap(), None);

    let stats = cache.stats();
    assert_eq!((stats.l1.hits, stats.l1.misses), (3, 5), "L1 {:?}", stats.l1);
    assert_eq!((stats.l2.hits, stats.l2.misses), (2, 3), "L2 {:?}", stats.l2);
    assert_eq!((stats.l2.writes, stats.l2.errors), (2, 0), "L2 {:?}", stats.l2);
    assert_eq!((stats.loads, stats.load_errors), (1, 0));
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    // The same counts reach every reader through the snapshot's figures, under the sync
    // cache's names and labels.
    let snap = perfscope_core::snapshot();
    let requests = |level, result| {
        let labels = [("cache", "async_scripted"), ("level", level), ("result", result)];
        figure(&snap.figures, "perfscope_cache_requests_total", &labels)
    };
    assert_eq!(requests("l1", "hit"), Some(3.0));
    assert_eq!(requests("l1", "miss"), Some(5.0));
    assert_eq!(requests("l2", "hit"), Some(2.0));
    assert_eq!(requests("l2", "miss"), Some(3.0));
    let ratio = |level| {
        let labels = [("cache", "async_scripted"), ("level", level)];
        figure(&snap.figures, "perfscope_cache_hit_ratio", &labels)
    };
    assert_eq!(ratio("l1"), Some(3.0 / 8.0));
    assert_eq!(ratio("l2"), Some(2.0 / 5.0));
    let labels = [("cache", "async_scripted"), ("level", "l2")];
    assert_eq!(figure(&snap.figures, "perfscope_cache_writes_total", &labels), Some(2.0));
    assert_eq!(figure(&snap.figures, "perfscope_cache_errors_total", &labels), Some(0.0));
    let labels = [("cache", "async_scripted")];
    assert_eq!(figure(&snap.figures, "perfscope_cache_loads_total", &labels), Some(1.0));
    // `delete` invalidated "a" in L1: a removal by the program.
    cache.l1().run_pending_tasks().await;
    let snap = perfscope_core::snapshot();
    let labels = [("cache", "async_scripted"), ("level", "l1")];
    let entries = figure(&snap.figures, "perfscope_cache_entries", &labels);
    assert_eq!(entries, Some(2.0), "b and c are in L1");
    let labels = [("cache", "async_scripted"), ("level", "l1"), ("cause", "explicit")];
    let removed = figure(&snap.figures, "perfscope_cache_removals_total", &labels);
    assert_eq!(removed, Some(2.0), "a invalidated twice (steps 3 and 8)");
    let labels = [("cache", "async_scripted"), ("level", "l2")];
    let entries = figure(&snap.figures, "perfscope_cache_entries", &labels);
    assert_eq!(entries, None, "Redis's entry count is not known: absent, not zero");

    // Every level's latency is a frame, under the request that caused it.
    let calls = |name: &str| {
        snap.callsites.iter().filter(|c| &*c.info.name == name).map(|c| c.calls).sum::<u64>()
    };
    assert_eq!(calls("cache::async_scripted::l2::get"), 5);
    assert_eq!(calls("cache::async_scripted::load"), 1);
    assert_eq!(calls("cache::async_scripted::get_with"), 3);
    assert_eq!(calls("cache::async_scripted::get"), 5);
    assert_eq!(calls("cache::async_scripted::l2::set"), 2);
    assert_eq!(calls("cache::async_scripted::l2::delete"), 1);
    let get_with =
        snap.callsites.iter().find(|c| &*c.info.name == "cache::async_scripted::get_with").unwrap();
    let child =
        |name: &str| get_with.children.iter().find(|e| &*e.name == name).map_or(0, |e| e.calls);
    let l2_get = child("cache::async_scripted::l2::get");
    let load = child("cache::async_scripted::load");
    let l2_set = child("cache::async_scripted::l2::set");
    assert_eq!((l2_get, load, l2_set), (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_misses_on_one_key_call_the_loader_once() {
    let server = RedisServer::start();
    let cache = Arc::new(cache(&server, "async_stampede").await);
    let loads = Arc::new(AtomicU32::new(0));
    let start = Arc::new(Barrier::new(100));
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let (cache, loads, start) = (cache.clone(), loads.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let load = async {
                    loads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, std::io::Error>("value".to_owned())
                };
                cache.get_with(&key("hot"), load).await.unwrap()
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), "value");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one loader call for 100 concurrent misses");
    let stats = cache.stats();
    assert_eq!((stats.l1.misses, stats.l1.hits), (1, 99), "{stats:?}");
    assert_eq!((stats.l2.misses, stats.l2.hits, stats.loads), (1, 0, 1), "{stats:?}");
    assert_eq!(stored(&server, "async_stampede:hot").as_deref(), Some("value"));
}

#[tokio::test]
async fn a_failing_loader_is_counted_and_shared_and_nothing_is_kept() {
    let server = RedisServer::start();
    let cache = cache(&server, "async_failing").await;
    let failing = async { Err::<String, _>(std::io::Error::other("database down")) };
    let error = cache.get_with(&key("x"), failing).await.unwrap_err();
    assert!(error.to_string().contains("database down"), "{error}");
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.load_errors, stats.l1.writes, stats.l2.writes), (1, 1, 0, 0));
    assert_eq!(cache.get(&key("x")).await.unwrap(), None);
    assert_eq!(stored(&server, "async_failing:x"), None);
}

#[tokio::test]
async fn an_unreachable_second_level_is_an_error_counted_at_l2() {
    let server = RedisServer::start();
    let cache = cache(&server, "async_unreachable").await;
    drop(server);
    let error = cache.get(&key("k")).await.unwrap_err();
    assert!(error.to_string().contains("second level"), "{error}");
    let stats = cache.stats();
    assert_eq!((stats.l2.errors, stats.l2.hits, stats.l2.misses), (1, 0, 0));
}

#[tokio::test]
async fn undecodable_bytes_in_redis_are_an_l2_error_and_get_with_loads() {
    let server = RedisServer::start();
    let cache = cache(&server, "async_decode").await;
    let _: () = redis::cmd("SET")
        .arg("async_decode:bad")
        .arg(&[0xff_u8, 0xfe][..])
        .query(&mut server.connection())
        .unwrap();
    let error = cache.get(&key("bad")).await.unwrap_err();
    assert!(error.to_string().contains("not a valid value"), "{error}");
    let load = async { Ok::<_, std::io::Error>("fresh".to_owned()) };
    assert_eq!(cache.get_with(&key("bad"), load).await.unwrap(), "fresh");
    assert_eq!(stored(&server, "async_decode:bad").as_deref(), Some("fresh"), "written through");
    let stats = cache.stats();
    assert_eq!((stats.l2.errors, stats.l2.hits, stats.l2.misses, stats.loads), (2, 0, 0, 1));
}
