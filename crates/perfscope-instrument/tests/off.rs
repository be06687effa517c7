//! With `perfscope/off` (here the crate's own `off`, which turns on the same switch in
//! perfscope-core: `cargo test -p perfscope-instrument --features off --test off`, which
//! `scripts/test` runs), every wrapper passes its calls through unchanged and records nothing:
//! no frame, no figure in a snapshot, no count in its own `stats()`.
#![cfg(feature = "off")]

use std::time::Duration;

use moka::sync::Cache;
use perfscope_instrument::cache::InstrumentedCache;
use perfscope_instrument::channel;
use perfscope_instrument::lock;
use perfscope_instrument::pool::InstrumentedPool;

const _: () = assert!(perfscope_core::OFF, "the `off` feature turns on perfscope_core::OFF");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

#[test]
fn the_wrappers_pass_calls_through_and_record_nothing() {
    let cache = InstrumentedCache::new("off_cache", Cache::builder().max_capacity(10));
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get_with(1, || 10), 10);
    assert_eq!(cache.get_with(1, || 99), 10);
    cache.insert(2, 20);
    assert_eq!(cache.get(&2), Some(20));
    cache.invalidate(&1);
    for k in 100..200 {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    assert!(cache.entry_count() <= 10, "moka still evicts");
    let s = cache.stats();
    assert_eq!((s.hits, s.misses, s.writes, s.removed_explicit, s.evicted_size), (0, 0, 0, 0, 0));

    let mutex = lock::Mutex::new("off_mutex", 1_u32);
    *mutex.lock().expect("not poisoned") += 1;
    assert_eq!(*mutex.lock().expect("not poisoned"), 2);
    assert_eq!(mutex.stats().acquisitions, 0);
    let rw = lock::RwLock::new("off_rw", 5_u32);
    *rw.write().expect("not poisoned") += 1;
    assert_eq!(*rw.read().expect("not poisoned"), 6);

    let pool = InstrumentedPool::new("off_pool", deadpool::unmanaged::Pool::from(vec![7_u32]));
    let (tx, mut rx) = channel::channel::<u64>("off_channel", 4);
    let rt = runtime();
    rt.block_on(async {
        {
            let object = pool.get().await.expect("an object");
            assert_eq!(*object, 7);
            assert_eq!(pool.stats().in_use, 0);
        }
        assert_eq!(pool.status().available, 1, "the object went back");
        for i in 0..3 {
            tx.send(i).await.expect("the receiver lives");
        }
        for i in 0..3 {
            assert_eq!(rx.recv().await, Some(i));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    });
    let stats = tx.stats();
    assert_eq!((stats.sends, stats.receives, stats.wait_ns), (0, 0, 0), "{stats:?}");
    assert_eq!(pool.stats().acquires, 0);

    let snapshot = perfscope_core::snapshot();
    assert!(snapshot.callsites.iter().all(|c| c.calls == 0), "no frame was recorded");
    let theirs: Vec<_> = snapshot
        .figures
        .iter()
        .filter(|f| f.labels.iter().any(|(_, value)| value.starts_with("off_")))
        .collect();
    assert!(theirs.is_empty(), "no wrapper's figure is read: {theirs:?}");
    assert!(snapshot.histograms.is_empty(), "{:?}", snapshot.histograms);
}

/// The query collector, fed directly and through its tracing layer (sqlx's event), counts no
/// statement.
#[cfg(feature = "sqlx")]
#[test]
fn the_query_collector_counts_nothing() {
    use perfscope_instrument::queries::{QueryCollector, QueryRecord};
    use tracing_subscriber::layer::SubscriberExt as _;

    let queries = QueryCollector::new();
    let statement = "SELECT id FROM off_queries WHERE id = 1";
    let record = QueryRecord {
        statement,
        elapsed: Duration::from_millis(5),
        rows_returned: 1,
        rows_affected: 0,
    };
    queries.record(&record);
    queries.record_error(statement);
    let subscriber = tracing_subscriber::registry().with(queries.layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "sqlx::query", summary = "SELECT id", db.statement = statement, rows_returned = 1_u64, rows_affected = 0_u64, elapsed_secs = 0.005_f64, "SELECT id");
    });
    assert!(queries.fingerprints().is_empty(), "{:?}", queries.fingerprints());
}
