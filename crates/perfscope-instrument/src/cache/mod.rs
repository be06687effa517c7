//! Caches: [`InstrumentedCache`] wraps a `moka::sync::Cache`; [`MultiLevelCache`] puts one in
//! front of a second level ([`L2`], e.g. [`RedisL2`] with feature `redis`).
//!
//! Figures (section `cache`, labels `cache=<name>`, `level="l1"|"l2"`): [`REQUESTS_TOTAL`]
//! (`result="hit"|"miss"`), [`HIT_RATIO`], [`ENTRIES`], [`EVICTIONS_TOTAL`] and
//! [`REMOVALS_TOTAL`] (`cause=...`), [`WRITES_TOTAL`], [`ERRORS_TOTAL`]; per cache
//! [`LOADS_TOTAL`] and [`LOAD_ERRORS_TOTAL`]. Frames: `cache::<name>::<op>`. At most
//! [`MAX_CACHE_NAMES`] names get series of their own; caches built under later names are
//! summed under `cache="<other>"` (and a warning event is published once).

mod moka;
mod multi;
#[cfg(feature = "redis")]
mod redis;
mod stats;
mod striped;

pub use self::moka::InstrumentedCache;
pub use multi::{CacheError, L2, L2Value, MultiLevelCache};
#[cfg(feature = "redis")]
pub use redis::RedisL2;
pub use stats::{
    ENTRIES, ERRORS_TOTAL, EVICTIONS_TOTAL, HIT_RATIO, LOAD_ERRORS_TOTAL, LOADS_TOTAL, LevelStats,
    MAX_CACHE_NAMES, REMOVALS_TOTAL, REQUESTS_TOTAL, WRITES_TOTAL,
};
