//! [`InstrumentedCache`]: a `moka::sync::Cache` whose calls are frames and whose hits, misses
//! and evictions are figures.

use std::hash::Hash;
use std::sync::{Arc, Weak};

use moka::Equivalent;
use moka::notification::RemovalCause;
use moka::sync::{Cache, CacheBuilder};
use perfscope_core::{Callsite, Kind, enter};

use super::level::{Measured, Sites, counting_listener};
use super::stats::{Counters, LevelStats, Loads};

/// A [`moka::sync::Cache`] measured by perfscope. Every call is a frame named
/// `cache::<name>::<op>` (`get`, `get_with`, `insert`, `invalidate`) on the caller's stack, so
/// the report says which function used which cache and the caller's self time excludes it;
/// hits, misses, writes, evictions by cause and entries are figures of section `cache`
/// (labels `cache=<name>`, `level="l1"`) while the cache lives.
///
/// Clones share the cache, like moka's. Give each cache its own name: two live caches of one
/// name give two series with the same labels.
pub struct InstrumentedCache<K, V> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    cache: Cache<K, V>,
    measured: Measured,
}

impl<K, V> Clone for InstrumentedCache<K, V> {
    fn clone(&self) -> Self {
        InstrumentedCache { inner: self.inner.clone() }
    }
}

impl<K, V> std::fmt::Debug for InstrumentedCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedCache").field("name", &self.inner.measured.name).finish()
    }
}

impl<K, V> InstrumentedCache<K, V>
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
        Self::build(name.into(), "l1", builder, listener, None)
    }

    pub(crate) fn build(
        name: String,
        level: &'static str,
        builder: CacheBuilder<K, V, Cache<K, V>>,
        listener: impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static,
        loads: Option<Arc<Loads>>,
    ) -> Self {
        let counters = Arc::new(Counters::default());
        let cache =
            builder.eviction_listener(counting_listener(counters.clone(), listener)).build();
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<K, V>>| {
            let weak = weak.clone();
            let entries = move || weak.upgrade().map(|inner| inner.cache.entry_count());
            let measured =
                Measured::new(name, level, Kind::Sync, counters, Box::new(entries), loads);
            Inner { cache, measured }
        });
        InstrumentedCache { inner }
    }

    /// The name the cache is measured under.
    pub fn name(&self) -> &str {
        &self.inner.measured.name
    }

    /// moka's `get`: the value for `key`, if held (a hit).
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        let guard = enter(m.sites.get);
        let value = cache.get(key);
        m.counters.request(value.is_some());
        guard.finish();
        value
    }

    /// moka's `get_with`: the value for `key`, or `init()`'s, inserted. Concurrent calls for a
    /// missing key run one `init` (that call counts a miss; the others, served its value, hits).
    pub fn get_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        let guard = enter(m.sites.get_with);
        let mut loaded = false;
        let value = cache.get_with(key, || {
            loaded = true;
            init()
        });
        m.counters.loaded(loaded, true);
        guard.finish();
        value
    }

    /// moka's `try_get_with`: like [`get_with`](Self::get_with) with a fallible `init`; an
    /// error is shared by the concurrent calls that waited for it, and nothing is inserted.
    pub fn try_get_with<E>(&self, key: K, init: impl FnOnce() -> Result<V, E>) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        let guard = enter(m.sites.get_with);
        let mut loaded = false;
        let result = cache.try_get_with(key, || {
            loaded = true;
            init()
        });
        m.counters.loaded(loaded, result.is_ok());
        guard.finish();
        result
    }

    /// `try_get_with` measured under `site` (the multi-level cache's `get` and `get_with`).
    pub(crate) fn try_get_with_at<Q, E>(
        &self,
        site: &'static Callsite,
        key: &Q,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, Arc<E>>
    where
        Q: Equivalent<K> + ToOwned<Owned = K> + Hash + ?Sized,
        E: Send + Sync + 'static,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        let guard = enter(site);
        let mut loaded = false;
        let result = cache.try_get_with_by_ref(key, || {
            loaded = true;
            init()
        });
        m.counters.loaded(loaded, result.is_ok());
        guard.finish();
        result
    }

    /// moka's `insert`.
    pub fn insert(&self, key: K, value: V) {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        let guard = enter(m.sites.insert);
        cache.insert(key, value);
        m.counters.write();
        guard.finish();
    }

    /// moka's `invalidate` (counted by the eviction listener as `cause="explicit"`).
    pub fn invalidate<Q>(&self, key: &Q)
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let (cache, m) = (&self.inner.cache, &self.inner.measured);
        let guard = enter(m.sites.invalidate);
        cache.invalidate(key);
        guard.finish();
    }

    /// The counts so far.
    pub fn stats(&self) -> LevelStats {
        self.inner.measured.counters.read()
    }

    /// moka's `run_pending_tasks`: housekeeping now (evictions, the entry count), which moka
    /// otherwise does from time to time during calls.
    pub fn run_pending_tasks(&self) {
        self.inner.cache.run_pending_tasks();
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
