//! Caches: [`InstrumentedCache`] wraps a `moka::sync::Cache`; [`MultiLevelCache`] puts one in
// Links to feature-gated items only where they exist (`cargo doc` with default features).
#![cfg_attr(
    feature = "redis",
    doc = "front of a second level ([`L2`], e.g. [`RedisL2`] with feature `redis`)."
)]
#![cfg_attr(
    not(feature = "redis"),
    doc = "front of a second level ([`L2`], e.g. `RedisL2` with feature `redis`)."
)]
//! For async programs (feature `moka-future`), their twins: `InstrumentedFutureCache` wraps a
//! `moka::future::Cache`, `AsyncMultiLevelCache` puts one in front of an `AsyncL2`
//! (`AsyncRedisL2` with feature `redis-async`); same figures, same frame names.
//!
//! Figures (section `cache`, labels `cache=<name>`, `level="l1"|"l2"`): [`REQUESTS_TOTAL`]
//! (`result="hit"|"miss"`), [`HIT_RATIO`], [`ENTRIES`], [`EVICTIONS_TOTAL`] and
//! [`REMOVALS_TOTAL`] (`cause=...`), [`WRITES_TOTAL`], [`ERRORS_TOTAL`]; per cache
//! [`LOADS_TOTAL`] and [`LOAD_ERRORS_TOTAL`]. Frames: `cache::<name>::<op>`. At most
//! [`MAX_CACHE_NAMES`] names get series of their own; caches built under later names are
//! summed under `cache="<other>"` (and a warning event is published once).

mod level;
mod moka;
#[cfg(feature = "moka-future")]
mod moka_future;
mod multi;
#[cfg(feature = "moka-future")]
mod multi_async;
mod multi_common;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis-async")]
mod redis_async;
mod stats;
mod striped;

pub use self::moka::InstrumentedCache;
#[cfg(feature = "moka-future")]
pub use moka_future::InstrumentedFutureCache;
pub use multi::{L2, MultiLevelCache};
#[cfg(feature = "moka-future")]
pub use multi_async::{AsyncL2, AsyncMultiLevelCache};
pub use multi_common::{CacheError, L2Value, MultiLevelStats};
#[cfg(feature = "redis")]
pub use redis::RedisL2;
#[cfg(feature = "redis-async")]
pub use redis_async::AsyncRedisL2;
pub use stats::{
    ENTRIES, ERRORS_TOTAL, EVICTIONS_TOTAL, HIT_RATIO, LOAD_ERRORS_TOTAL, LOADS_TOTAL, LevelStats,
    MAX_CACHE_NAMES, REMOVALS_TOTAL, REQUESTS_TOTAL, WRITES_TOTAL,
};
