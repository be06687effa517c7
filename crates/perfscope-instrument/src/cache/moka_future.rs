//! [`InstrumentedFutureCache`]: a `moka::future::Cache` whose calls are async frames and whose
//! hits, misses and evictions are the same figures as [`InstrumentedCache`]'s.
//!
//! [`InstrumentedCache`]: super::InstrumentedCache

use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Weak};

use moka::Equivalent;
use moka::future::{Cache, CacheBuilder};
use moka::notification::RemovalCause;
use perfscope_core::{Callsite, Kind, instrument};

use super::level::{Measured, Sites, counting_listener};
use super::stats::{Counters, LevelStats};

/// A [`moka::future::Cache`] measured by perfscope, as [`InstrumentedCache`] measures a
/// `moka::sync::Cache`: every call is an async frame named `cache::<name>::<op>` (`get`,
/// `get_with`, `insert`, `invalidate`) under the caller's frame, and hits, misses, writes,
/// evictions by cause and entries are figures of section `cache` (labels `cache=<name>`,
/// `level="l1"`), the same figures under the same names.
///
/// Clones share the cache, like moka's. Give each cache its own name.
///
/// ```
/// use perfscope_instrument::cache::InstrumentedFutureCache;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let users =
///     InstrumentedFutureCache::new("future_users", moka::future::Cache::builder().max_capacity(100));
/// users.insert(7_u64, "ada".to_string()).await;
/// assert_eq!(users.get(&7).await.as_deref(), Some("ada"));
/// assert_eq!(users.get(&8).await, None);
/// assert_eq!((users.stats().hits, users.stats().misses), (1, 1));
/// # });
/// ```
///
/// [`InstrumentedCache`]: super::InstrumentedCache
pub struct InstrumentedFutureCache<K, V> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    cache: Cache<K, V>,
    measured: Measured,
}

impl<K, V> Clone for InstrumentedFutureCache<K, V> {
    fn clone(&self) -> Self {
        InstrumentedFutureCache { inner: self.inner.clone() }
    }
}

impl<K, V> std::fmt::Debug for InstrumentedFutureCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = &self.inner.measured.name;
        f.debug_struct("InstrumentedFutureCache").field("name", name).finish()
    }
}

impl<K, V> InstrumentedFutureCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Builds the cache `builder` describes (capacity, time to live...), measured under `name`.
    pub fn new(name: impl Into<String>, builder: CacheBuilder<K, V, Cache<K, V>>) -> Self {
        Self::with_eviction_listener(name, builder, |_, _, _| {})
    }

    /// Like [`new`](Self::new), with the program's own eviction listener (moka keeps one
    /// listener per cache: this one is called after perfscope's count).
    pub fn with_eviction_listener(
        name: impl Into<String>,
        builder: CacheBuilder<K, V, Cache<K, V>>,
        listener: impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        let counters = Arc::new(Counters::default());
        let cache =
            builder.eviction_listener(counting_listener(counters.clone(), listener)).build();
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<K, V>>| {
            let weak = weak.clone();
            let entries = move || weak.upgrade().map(|inner| inner.cache.entry_count());
            let measured =
                Measured::new(name.into(), "l1", Kind::Async, counters, Box::new(entries), None);
            Inner { cache, measured }
        });
        InstrumentedFutureCache { inner }
    }

    /// The name the cache is measured under.
    pub fn name(&self) -> &str {
        &self.inner.measured.name
    }

    /// moka's `get`: the value for `key`, if held (a hit).
    pub async fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        instrument(m.sites.get, async {
            let value = cache.get(key).await;
            m.counters.request(value.is_some());
            value
        })
        .await
    }

    /// moka's `get_with`: the value for `key`, or `init`'s, inserted. Concurrent calls for a
    /// missing key await one `init` (that call counts a miss; the others, served its value,
    /// hits).
    pub async fn get_with(&self, key: K, init: impl Future<Output = V>) -> V {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        instrument(m.sites.get_with, async {
            let mut loaded = false;
            let value = cache
                .get_with(key, async {
                    loaded = true;
                    init.await
                })
                .await;
            m.counters.loaded(loaded, true);
            value
        })
        .await
    }

    /// moka's `try_get_with`: like [`get_with`](Self::get_with) with a fallible `init`; an
    /// error is shared by the concurrent calls that waited for it, and nothing is inserted.
    pub async fn try_get_with<E>(
        &self,
        key: K,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        instrument(m.sites.get_with, async {
            let mut loaded = false;
            let result = cache
                .try_get_with(key, async {
                    loaded = true;
                    init.await
                })
                .await;
            m.counters.loaded(loaded, result.is_ok());
            result
        })
        .await
    }

    /// `try_get_with` measured under `site` (the async multi-level cache's `get` and
    /// `get_with`).
    pub(crate) async fn try_get_with_at<Q, E>(
        &self,
        site: &'static Callsite,
        key: &Q,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, Arc<E>>
    where
        Q: Equivalent<K> + ToOwned<Owned = K> + Hash + ?Sized,
        E: Send + Sync + 'static,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        instrument(site, async {
            let mut loaded = false;
            let result = cache
                .try_get_with_by_ref(key, async {
                    loaded = true;
                    init.await
                })
                .await;
            m.counters.loaded(loaded, result.is_ok());
            result
        })
        .await
    }

    /// moka's `insert`.
    pub async fn insert(&self, key: K, value: V) {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        instrument(m.sites.insert, async {
            cache.insert(key, value).await;
            m.counters.write();
        })
        .await
    }

    /// moka's `invalidate` (counted by the eviction listener as `cause="explicit"`).
    pub async fn invalidate<Q>(&self, key: &Q)
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        instrument(m.sites.invalidate, cache.invalidate(key)).await
    }

    /// The counts so far.
    pub fn stats(&self) -> LevelStats {
        self.inner.measured.counters.read()
    }

    /// moka's `run_pending_tasks`: housekeeping now (evictions, the entry count), which moka
    /// otherwise does from time to time during calls.
    pub async fn run_pending_tasks(&self) {
        self.inner.cache.run_pending_tasks().await;
    }

    /// moka's `entry_count` (approximate until housekeeping has run).
    pub fn entry_count(&self) -> u64 {
        self.inner.cache.entry_count()
    }

    /// The moka cache itself, for calls perfscope does not measure.
    pub fn moka(&self) -> &Cache<K, V> {
        &self.inner.cache
    }

    pub(crate) fn sites(&self) -> Sites {
        self.inner.measured.sites
    }
}
