//! [`InstrumentedCache`]: a `moka::sync::Cache` whose calls are frames and whose hits, misses
//! and evictions are figures.

use std::hash::Hash;
use std::sync::{Arc, Weak};

use moka::Equivalent;
use moka::notification::RemovalCause;
use moka::sync::{Cache, CacheBuilder};
use perfscope_core::figures::{self, Registration};
use perfscope_core::{Callsite, Kind, enter};

use super::stats::{Counters, LevelSource, LevelStats, Loads};
use crate::callsites::callsite;

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
    name: String,
    counters: Arc<Counters>,
    sites: Sites,
    _registration: Registration,
}

#[derive(Clone, Copy)]
pub(crate) struct Sites {
    pub(crate) get: &'static Callsite,
    pub(crate) get_with: &'static Callsite,
    insert: &'static Callsite,
    invalidate: &'static Callsite,
}

impl Sites {
    fn new(name: &str) -> Sites {
        let site = |op: &str| callsite(format!("cache::{name}::{op}"), Kind::Sync, module_path!());
        Sites {
            get: site("get"),
            get_with: site("get_with"),
            insert: site("insert"),
            invalidate: site("invalidate"),
        }
    }
}

impl<K, V> Clone for InstrumentedCache<K, V> {
    fn clone(&self) -> Self {
        InstrumentedCache { inner: self.inner.clone() }
    }
}

impl<K, V> std::fmt::Debug for InstrumentedCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedCache").field("name", &self.inner.name).finish()
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
        let counted = counters.clone();
        let cache = builder
            .eviction_listener(move |key, value, cause| {
                counted.removed(cause);
                listener(key, value, cause);
            })
            .build();
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<K, V>>| {
            let weak = weak.clone();
            super::stats::admit(&name);
            let source = LevelSource {
                cache: name.clone(),
                level,
                counters: counters.clone(),
                evicts: true,
                entries: Box::new(move || weak.upgrade().map(|inner| inner.cache.entry_count())),
                loads,
            };
            let sites = Sites::new(&name);
            Inner {
                cache,
                name,
                counters,
                sites,
                _registration: figures::register(Arc::new(source)),
            }
        });
        InstrumentedCache { inner }
    }

    /// The name the cache is measured under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// moka's `get`: the value for `key`, if held (a hit).
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let inner = &*self.inner;
        let guard = enter(inner.sites.get);
        let value = inner.cache.get(key);
        inner.counters.request(value.is_some());
        guard.finish();
        value
    }

    /// moka's `get_with`: the value for `key`, or `init()`'s, inserted. Concurrent calls for a
    /// missing key run one `init` (that call counts a miss; the others, served its value, hits).
    pub fn get_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        let inner = &*self.inner;
        let guard = enter(inner.sites.get_with);
        let mut loaded = false;
        let value = inner.cache.get_with(key, || {
            loaded = true;
            init()
        });
        inner.counters.loaded(loaded, true);
        guard.finish();
        value
    }

    /// moka's `try_get_with`: like [`get_with`](Self::get_with) with a fallible `init`; an
    /// error is shared by the concurrent calls that waited for it, and nothing is inserted.
    pub fn try_get_with<E>(&self, key: K, init: impl FnOnce() -> Result<V, E>) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let inner = &*self.inner;
        let guard = enter(inner.sites.get_with);
        let mut loaded = false;
        let result = inner.cache.try_get_with(key, || {
            loaded = true;
            init()
        });
        inner.counters.loaded(loaded, result.is_ok());
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
        let inner = &*self.inner;
        let guard = enter(site);
        let mut loaded = false;
        let result = inner.cache.try_get_with_by_ref(key, || {
            loaded = true;
            init()
        });
        inner.counters.loaded(loaded, result.is_ok());
        guard.finish();
        result
    }

    /// moka's `insert`.
    pub fn insert(&self, key: K, value: V) {
        let inner = &*self.inner;
        let guard = enter(inner.sites.insert);
        inner.cache.insert(key, value);
        inner.counters.write();
        guard.finish();
    }

    /// moka's `invalidate` (counted by the eviction listener as `cause="explicit"`).
    pub fn invalidate<Q>(&self, key: &Q)
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let inner = &*self.inner;
        let guard = enter(inner.sites.invalidate);
        inner.cache.invalidate(key);
        guard.finish();
    }

    /// The counts so far.
    pub fn stats(&self) -> LevelStats {
        self.inner.counters.read()
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
        self.inner.sites
    }
}
