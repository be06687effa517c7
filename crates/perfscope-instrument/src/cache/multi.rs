//! [`MultiLevelCache`]: an [`InstrumentedCache`] (L1, in process, size and time bounded) over
//! a shared second level ([`L2`]), read-through with single-flight and write-through.
//!
//! The second level is **sync**: moka's `sync::Cache` runs the loader of `try_get_with` on
//! the calling thread and makes concurrent callers of the same key wait for it (that is the
//! single flight), so the L2 lookup and the loader run inside it, blocking, and the `redis`
//! crate's sync connection fits with nothing in between. Async programs use its twin,
//! `AsyncMultiLevelCache` (feature `moka-future`: a `moka::future::Cache` over an `AsyncL2`,
//! e.g. `AsyncRedisL2` with feature `redis-async`), which awaits the L2 and the loader instead
//! of blocking a runtime worker; both give the same figures and frame names.

use std::error::Error;
use std::fmt::Display;
use std::hash::Hash;
use std::sync::Arc;

use moka::sync::{Cache, CacheBuilder};
use perfscope_core::{Kind, enter};

use super::level::SecondLevel;
use super::moka::InstrumentedCache;
use super::multi_common::{CacheError, L2Value, Lookup, MultiLevelStats};

/// A shared second cache level (Redis, memcached...), addressed by string keys, holding bytes.
pub trait L2: Send + Sync + 'static {
    /// What a failed request says.
    type Error: Error + Send + Sync + 'static;
    /// The bytes stored under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), Self::Error>;
    /// Removes `key`.
    fn delete(&self, key: &str) -> Result<(), Self::Error>;
}

/// An L1 moka cache over an [`L2`], measured by perfscope: see the module documentation
/// for the sync choice. Frames: `cache::<name>::get` and `::get_with` (the whole request; its
/// self time is the L1 lookup), under them `cache::<name>::l2::get`, `::load` and
/// `::l2::set`; `set` and `delete` give `::insert`/`::invalidate` and `::l2::set`/`::l2::delete`.
/// Figures per level as for [`InstrumentedCache`], `level="l1"|"l2"`, and the loader's.
///
/// When L2 fails (down, frozen, out of step), the cache keeps serving: keys L1 holds as
/// always, [`get_with`](Self::get_with) from its loader; every failed L2 request is counted
/// once in L2 `errors`, and only requests with no fallback ([`get`](Self::get),
/// [`set`](Self::set), [`delete`](Self::delete)) return it. How long a failing L2 request
/// may take is the [`L2`]'s to bound (e.g. `RedisL2`'s timeouts).
pub struct MultiLevelCache<K, V, S> {
    l1: InstrumentedCache<K, V>,
    l2: S,
    second: SecondLevel,
}

impl<K, V, S> std::fmt::Debug for MultiLevelCache<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiLevelCache").field("l1", &self.l1).finish_non_exhaustive()
    }
}

impl<K, V, S> MultiLevelCache<K, V, S>
where
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
    V: L2Value + Clone + Send + Sync + 'static,
    S: L2,
{
    /// A cache named `name`: an L1 built from `l1` (bound it: `max_capacity`, `time_to_live`)
    /// over `l2`.
    pub fn new(name: impl Into<String>, l1: CacheBuilder<K, V, Cache<K, V>>, l2: S) -> Self {
        let name = name.into();
        let second = SecondLevel::new(&name, Kind::Sync);
        let l1 = InstrumentedCache::build(name, "l1", l1, |_, _, _| {}, None);
        MultiLevelCache { l1, l2, second }
    }

    /// The value for `key` from L1, else from L2 (then kept in L1), else `None`. Concurrent
    /// callers of a key missing from L1 share one L2 lookup. With no loader to fall back on, an
    /// L2 failure (unreachable, timed out, undecodable bytes) is returned as the error
    /// (`CacheError::L2` or `Decode`, counted once in L2 `errors`, shared by the callers that
    /// waited for it): "absent" would be a lie the caller might act on. Keys L1 holds are
    /// served whatever L2 does; [`get_with`](Self::get_with) never fails because of L2.
    pub fn get(&self, key: &K) -> Result<Option<V>, CacheError> {
        let l1 = self.l1.try_get_with_at(self.l1.sites().get, key, || Lookup::of(self.l2_get(key)));
        Lookup::found(l1)
    }

    /// The value for `key` from L1, else from L2, else from `load` (then written to L2); L1
    /// keeps what it did not hold. Concurrent callers of a key missing from L1 share one L2
    /// lookup and at most one `load`: the single flight.
    ///
    /// L2 is an optimisation here, never a reason to fail: an L2 lookup that fails
    /// (unreachable, timed out, undecodable bytes) is a miss at that level, counted once in L2
    /// `errors` (not in its hits or misses), and `load` answers; a failed write of the loaded
    /// value is counted in L2 `errors` too and the value returned. So the only error is the
    /// loader's, [`CacheError::Load`].
    pub fn get_with<E>(&self, key: &K, load: impl FnOnce() -> Result<V, E>) -> Result<V, CacheError>
    where
        E: Into<Box<dyn Error + Send + Sync>>,
    {
        let result = self.l1.try_get_with_at(self.l1.sites().get_with, key, || {
            // A failed lookup was counted by `l2_get`: fall through to the loader.
            if let Ok(Some(value)) = self.l2_get(key) {
                return Ok(value);
            }
            let value = self.load(load)?;
            let _counted = self.l2_set(key, &value);
            Ok(value)
        });
        result.map_err(|error: Arc<CacheError>| (*error).clone())
    }

    /// Writes `value` through to L2, then L1. If L2 fails, L1 forgets `key` (so it serves no
    /// value L2 does not hold) and the error is returned.
    pub fn set(&self, key: K, value: V) -> Result<(), CacheError> {
        if let Err(error) = self.l2_set(&key, &value) {
            self.l1.invalidate(&key);
            return Err(error);
        }
        self.l1.insert(key, value);
        Ok(())
    }

    /// Removes `key` from both levels.
    pub fn delete(&self, key: &K) -> Result<(), CacheError> {
        self.l1.invalidate(key);
        let guard = enter(self.second.sites.delete);
        let result = self.l2.delete(&key.to_string()).map_err(|e| self.second.error(e));
        guard.finish();
        result
    }

    /// The in-process level.
    pub fn l1(&self) -> &InstrumentedCache<K, V> {
        &self.l1
    }

    /// The second level.
    pub fn l2(&self) -> &S {
        &self.l2
    }

    /// The counts so far.
    pub fn stats(&self) -> MultiLevelStats {
        self.second.stats(self.l1.stats())
    }

    fn l2_get(&self, key: &K) -> Result<Option<V>, CacheError> {
        let guard = enter(self.second.sites.get);
        let key = key.to_string();
        let answer = self.l2.get(&key);
        let result = self.second.got(key, answer);
        guard.finish();
        result
    }

    fn l2_set(&self, key: &K, value: &V) -> Result<(), CacheError> {
        let guard = enter(self.second.sites.set);
        let result = self.second.wrote(self.l2.set(&key.to_string(), &value.to_bytes()));
        guard.finish();
        result
    }

    fn load<E>(&self, load: impl FnOnce() -> Result<V, E>) -> Result<V, CacheError>
    where
        E: Into<Box<dyn Error + Send + Sync>>,
    {
        let guard = enter(self.second.sites.load);
        self.second.load_called();
        let result = self.second.loaded(load());
        guard.finish();
        result
    }
}
