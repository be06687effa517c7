//! [`AsyncMultiLevelCache`]: an [`InstrumentedFutureCache`] (L1, in process, size and time
//! bounded) over a shared async second level ([`AsyncL2`], e.g. `AsyncRedisL2` with feature
//! `redis-async`), read-through with single-flight and write-through: the async twin of
//! [`MultiLevelCache`], for programs on an async runtime.
//!
//! moka's `future::Cache` awaits the loader of `try_get_with` in the calling task and makes
//! concurrent callers of the same key await it (the single flight), so the L2 lookup and the
//! loader are awaited inside it and no runtime worker blocks on the network. Requests, frames
//! and figures are those of [`MultiLevelCache`], under the same names and labels (frames are
//! async frames: their idle time is the time spent waiting for L2 or the loader), and so is
//! the fault behaviour: an L2 that fails is counted, and [`get_with`](AsyncMultiLevelCache::get_with)
//! answers from its loader.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//!
//! use perfscope_instrument::cache::{AsyncL2, AsyncMultiLevelCache};
//!
//! /// A second level in memory (in a program: Redis, memcached...).
//! #[derive(Default)]
//! struct Shared(Mutex<HashMap<String, Vec<u8>>>);
//!
//! impl AsyncL2 for Shared {
//!     type Error = std::convert::Infallible;
//!     async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
//!         Ok(self.0.lock().unwrap().get(key).cloned())
//!     }
//!     async fn set(&self, key: &str, value: &[u8]) -> Result<(), Self::Error> {
//!         self.0.lock().unwrap().insert(key.to_owned(), value.to_vec());
//!         Ok(())
//!     }
//!     async fn delete(&self, key: &str) -> Result<(), Self::Error> {
//!         self.0.lock().unwrap().remove(key);
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let l1 = moka::future::Cache::builder().max_capacity(1_000);
//! let users = AsyncMultiLevelCache::new("async_users", l1, Shared::default());
//! let load = async { Ok::<_, std::io::Error>("ada".to_string()) };
//! assert_eq!(users.get_with(&7_u64, load).await.unwrap(), "ada"); // loaded, written to L2
//! users.l1().invalidate(&7).await;
//! assert_eq!(users.get(&7).await.unwrap().as_deref(), Some("ada")); // from L2
//! let stats = users.stats();
//! assert_eq!((stats.l1.misses, stats.l2.misses, stats.l2.hits, stats.loads), (2, 1, 1, 1));
//! # });
//! ```
//!
//! [`MultiLevelCache`]: super::MultiLevelCache

use std::error::Error;
use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use moka::future::{Cache, CacheBuilder};
use perfscope_core::{Kind, instrument};

use super::level::SecondLevel;
use super::moka_future::InstrumentedFutureCache;
use super::multi_common::{CacheError, L2Value, Lookup, MultiLevelStats};

/// A shared async second cache level (Redis, memcached...), addressed by string keys, holding
/// bytes: the async twin of [`L2`](super::L2). Implement it with `async fn`s; the futures must
/// be `Send` (the cache's are awaited by tasks of a multi-threaded runtime). How long a failing
/// request may take is the implementation's to bound.
pub trait AsyncL2: Send + Sync + 'static {
    /// What a failed request says.
    type Error: Error + Send + Sync + 'static;
    /// The bytes stored under `key`, if any.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, Self::Error>> + Send;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &[u8]) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Removes `key`.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// An L1 moka `future::Cache` over an [`AsyncL2`], measured by perfscope: see the module
/// documentation. Frames (async): `cache::<name>::get` and `::get_with` (the whole request),
/// under them `cache::<name>::l2::get`, `::load` and `::l2::set`; `set` and `delete` give
/// `::insert`/`::invalidate` and `::l2::set`/`::l2::delete`. Figures per level as for
/// [`InstrumentedCache`](super::InstrumentedCache), `level="l1"|"l2"`, and the loader's.
///
/// When L2 fails (down, frozen, out of step), the cache keeps serving: keys L1 holds as
/// always, [`get_with`](Self::get_with) from its loader; every failed L2 request is counted
/// once in L2 `errors`, and only requests with no fallback ([`get`](Self::get),
/// [`set`](Self::set), [`delete`](Self::delete)) return it.
pub struct AsyncMultiLevelCache<K, V, S> {
    l1: InstrumentedFutureCache<K, V>,
    l2: S,
    second: SecondLevel,
}

impl<K, V, S> std::fmt::Debug for AsyncMultiLevelCache<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncMultiLevelCache").field("l1", &self.l1).finish_non_exhaustive()
    }
}

impl<K, V, S> AsyncMultiLevelCache<K, V, S>
where
    K: Hash + Eq + Clone + Display + Send + Sync + 'static,
    V: L2Value + Clone + Send + Sync + 'static,
    S: AsyncL2,
{
    /// A cache named `name`: an L1 built from `l1` (bound it: `max_capacity`, `time_to_live`)
    /// over `l2`.
    pub fn new(name: impl Into<String>, l1: CacheBuilder<K, V, Cache<K, V>>, l2: S) -> Self {
        let name = name.into();
        let second = SecondLevel::new(&name, Kind::Async);
        let l1 = InstrumentedFutureCache::new(name, l1);
        AsyncMultiLevelCache { l1, l2, second }
    }

    /// The value for `key` from L1, else from L2 (then kept in L1), else `None`. Concurrent
    /// callers of a key missing from L1 share one L2 lookup. An L2 failure (unreachable, timed
    /// out, undecodable bytes) is returned as the error (`CacheError::L2` or `Decode`, counted
    /// once in L2 `errors`, shared by the callers that waited for it), as
    /// [`MultiLevelCache::get`](super::MultiLevelCache::get) does.
    pub async fn get(&self, key: &K) -> Result<Option<V>, CacheError> {
        let lookup = async { Lookup::of(self.l2_get(key).await) };
        Lookup::found(self.l1.try_get_with_at(self.l1.sites().get, key, lookup).await)
    }

    /// The value for `key` from L1, else from L2, else from `load` (then written to L2); L1
    /// keeps what it did not hold. Concurrent callers of a key missing from L1 share one L2
    /// lookup and at most one `load` (the others' `load` futures are dropped, never polled):
    /// the single flight.
    ///
    /// L2 is an optimisation here, never a reason to fail: an L2 lookup that fails is a miss at
    /// that level, counted once in L2 `errors` (not in its hits or misses), and `load`
    /// answers; a failed write of the loaded value is counted in L2 `errors` too and the value
    /// returned. So the only error is the loader's, [`CacheError::Load`].
    pub async fn get_with<E>(
        &self,
        key: &K,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, CacheError>
    where
        E: Into<Box<dyn Error + Send + Sync>>,
    {
        let fill = async {
            // A failed lookup was counted by `l2_get`: fall through to the loader.
            if let Ok(Some(value)) = self.l2_get(key).await {
                return Ok(value);
            }
            let value = self.load(load).await?;
            let _counted = self.l2_set(key, &value).await;
            Ok(value)
        };
        let result = self.l1.try_get_with_at(self.l1.sites().get_with, key, fill).await;
        result.map_err(|error: Arc<CacheError>| (*error).clone())
    }

    /// Writes `value` through to L2, then L1. If L2 fails, L1 forgets `key` (so it serves no
    /// value L2 does not hold) and the error is returned.
    pub async fn set(&self, key: K, value: V) -> Result<(), CacheError> {
        if let Err(error) = self.l2_set(&key, &value).await {
            self.l1.invalidate(&key).await;
            return Err(error);
        }
        self.l1.insert(key, value).await;
        Ok(())
    }

    /// Removes `key` from both levels.
    pub async fn delete(&self, key: &K) -> Result<(), CacheError> {
        self.l1.invalidate(key).await;
        let delete =
            async { self.l2.delete(&key.to_string()).await.map_err(|e| self.second.error(e)) };
        instrument(self.second.sites.delete, delete).await
    }

    /// The in-process level.
    pub fn l1(&self) -> &InstrumentedFutureCache<K, V> {
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

    async fn l2_get(&self, key: &K) -> Result<Option<V>, CacheError> {
        let lookup = async {
            let key = key.to_string();
            let answer = self.l2.get(&key).await;
            self.second.got(key, answer)
        };
        instrument(self.second.sites.get, lookup).await
    }

    async fn l2_set(&self, key: &K, value: &V) -> Result<(), CacheError> {
        let write = async {
            let answer = self.l2.set(&key.to_string(), &value.to_bytes()).await;
            self.second.wrote(answer)
        };
        instrument(self.second.sites.set, write).await
    }

    async fn load<E>(&self, load: impl Future<Output = Result<V, E>>) -> Result<V, CacheError>
    where
        E: Into<Box<dyn Error + Send + Sync>>,
    {
        let load = async {
            self.second.load_called();
            self.second.loaded(load.await)
        };
        instrument(self.second.sites.load, load).await
    }
}
