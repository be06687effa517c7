//! What a measured cache level is, whichever cache holds it: the counts, the callsites of its
//! frames and the figure registration of an L1 (a moka `sync::Cache` or `future::Cache`), and
//! of a second level with the cache's loader. The sync caches ([`InstrumentedCache`],
//! [`MultiLevelCache`]) and the async ones ([`InstrumentedFutureCache`],
//! [`AsyncMultiLevelCache`]) build theirs here, so both kinds give the same figures under the
//! same names and labels, and frames of the same names (sync frames for the sync caches, async
//! frames for the async ones).
//!
//! [`InstrumentedCache`]: super::InstrumentedCache
//! [`MultiLevelCache`]: super::MultiLevelCache
//! [`InstrumentedFutureCache`]: super::InstrumentedFutureCache
//! [`AsyncMultiLevelCache`]: super::AsyncMultiLevelCache

use std::error::Error;
use std::sync::Arc;

use moka::notification::RemovalCause;
use perfscope_core::figures::{self, Registration};
use perfscope_core::{Callsite, Kind};

use super::multi_common::{CacheError, L2Value, MultiLevelStats};
use super::stats::{self, Counters, LevelSource, LevelStats, Loads};
use crate::callsites::callsite;

/// The callsites of an L1's frames: `cache::<name>::<op>`.
#[derive(Clone, Copy)]
pub(crate) struct Sites {
    pub(crate) get: &'static Callsite,
    pub(crate) get_with: &'static Callsite,
    pub(crate) insert: &'static Callsite,
    pub(crate) invalidate: &'static Callsite,
}

impl Sites {
    fn new(name: &str, kind: Kind) -> Sites {
        let site = |op: &str| callsite(format!("cache::{name}::{op}"), kind, module_path!());
        Sites {
            get: site("get"),
            get_with: site("get_with"),
            insert: site("insert"),
            invalidate: site("invalidate"),
        }
    }
}

/// A moka level's name, counts, callsites and figure registration (figures while it lives).
pub(crate) struct Measured {
    pub(crate) name: String,
    pub(crate) counters: Arc<Counters>,
    pub(crate) sites: Sites,
    _registration: Registration,
}

impl Measured {
    /// Measures the moka level `level` of the cache `name` (frames of `kind`) counting into
    /// `counters`; `entries` reads its entry count while it lives; `loads`: the cache's loader
    /// calls, reported with this level's figures.
    pub(crate) fn new(
        name: String,
        level: &'static str,
        kind: Kind,
        counters: Arc<Counters>,
        entries: Box<dyn Fn() -> Option<u64> + Send + Sync>,
        loads: Option<Arc<Loads>>,
    ) -> Measured {
        stats::admit(&name);
        let source = LevelSource {
            cache: name.clone(),
            level,
            counters: counters.clone(),
            evicts: true,
            entries,
            loads,
        };
        let sites = Sites::new(&name, kind);
        Measured { name, counters, sites, _registration: figures::register(Arc::new(source)) }
    }
}

/// The eviction listener a measured moka level installs: counts the removal, then calls the
/// program's own `listener`.
pub(crate) fn counting_listener<K, V>(
    counters: Arc<Counters>,
    listener: impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static,
) -> impl Fn(Arc<K>, V, RemovalCause) + Send + Sync + 'static {
    move |key, value, cause| {
        counters.removed(cause);
        listener(key, value, cause);
    }
}

/// The callsites of a second level's frames and of the loader's.
#[derive(Clone, Copy)]
pub(crate) struct L2Sites {
    pub(crate) get: &'static Callsite,
    pub(crate) set: &'static Callsite,
    pub(crate) delete: &'static Callsite,
    pub(crate) load: &'static Callsite,
}

/// A multi-level cache's second level as measured: its counts (`level="l2"`, no entries, no
/// evictions seen), the loader's, the frames' callsites; and how a request's outcome is
/// counted, so the sync and the async cache count alike.
pub(crate) struct SecondLevel {
    cache: String,
    pub(crate) counters: Arc<Counters>,
    pub(crate) loads: Arc<Loads>,
    pub(crate) sites: L2Sites,
    _registration: Registration,
}

impl SecondLevel {
    /// The second level of the cache `name`, frames of `kind`; it reports the cache's loader
    /// calls too (its misses call the loader).
    pub(crate) fn new(name: &str, kind: Kind) -> SecondLevel {
        let loads = Arc::new(Loads::default());
        let counters = Arc::new(Counters::default());
        let source = LevelSource {
            cache: name.to_owned(),
            level: "l2",
            counters: counters.clone(),
            evicts: false,
            entries: Box::new(|| None),
            loads: Some(loads.clone()),
        };
        let site = |op: &str| callsite(format!("cache::{name}::{op}"), kind, module_path!());
        let sites = L2Sites {
            get: site("l2::get"),
            set: site("l2::set"),
            delete: site("l2::delete"),
            load: site("load"),
        };
        let _registration = figures::register(Arc::new(source));
        SecondLevel { cache: name.to_owned(), counters, loads, sites, _registration }
    }

    /// Both levels' counts and the loader's, given the L1's.
    pub(crate) fn stats(&self, l1: LevelStats) -> MultiLevelStats {
        let (loads, load_errors) = self.loads.read();
        MultiLevelStats { l1, l2: self.counters.read(), loads, load_errors }
    }

    /// Counts the answer of an L2 lookup of `key`: a hit or a miss, else one error (the request
    /// failed, or its bytes are not a `V`).
    pub(crate) fn got<V: L2Value, E: Error + Send + Sync + 'static>(
        &self,
        key: String,
        answer: Result<Option<Vec<u8>>, E>,
    ) -> Result<Option<V>, CacheError> {
        let result = match answer {
            Ok(Some(bytes)) => match V::from_bytes(bytes) {
                Some(value) => Ok(Some(value)),
                None => {
                    self.counters.error();
                    Err(CacheError::Decode { cache: self.cache.clone(), key })
                }
            },
            Ok(None) => Ok(None),
            Err(error) => Err(self.error(error)),
        };
        if let Ok(found) = &result {
            self.counters.request(found.is_some());
        }
        result
    }

    /// Counts the answer of an L2 write: a write, else one error.
    pub(crate) fn wrote<E: Error + Send + Sync + 'static>(
        &self,
        answer: Result<(), E>,
    ) -> Result<(), CacheError> {
        match answer {
            Ok(()) => {
                self.counters.write();
                Ok(())
            }
            Err(error) => Err(self.error(error)),
        }
    }

    /// Counts a failed L2 request once and says which cache it failed.
    pub(crate) fn error<E: Error + Send + Sync + 'static>(&self, error: E) -> CacheError {
        self.counters.error();
        CacheError::L2 { cache: self.cache.clone(), source: Arc::new(error) }
    }

    /// Counts a loader call as it starts.
    pub(crate) fn load_called(&self) {
        self.loads.call();
    }

    /// Counts the loader's answer: its error is the cache's [`CacheError::Load`].
    pub(crate) fn loaded<V, E>(&self, answer: Result<V, E>) -> Result<V, CacheError>
    where
        E: Into<Box<dyn Error + Send + Sync>>,
    {
        answer.map_err(|error| {
            self.loads.error();
            CacheError::Load { cache: self.cache.clone(), source: Arc::from(error.into()) }
        })
    }
}
