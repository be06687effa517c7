//! perfscope for the libraries programs already use: caches and pools measured on the same
//! frame stack as `#[perfscope::measure]`, and counted as figures.
//!
//! perfscope writes no pool and no cache of its own: it wraps the real ones. Every cache
//! call and every pool acquire is a **frame** (`cache::<name>::get`, `pool::<name>::acquire`),
//! so the report says which function hit which cache or waited on which pool, and the
//! caller's self time excludes it. Counts that are not calls (hits and misses, entries,
//! evictions, objects in use, high-water, waits) are **figures** registered with
//! `perfscope_core::figures::register`: every snapshot carries them to the report and the
//! exporters (sections `cache` and `pool`). Nothing here talks to an exporter.
//!
//! - [`cache::InstrumentedCache`] (feature `moka`, on by default): a `moka::sync::Cache`.
//! - [`cache::MultiLevelCache`]: an L1 moka cache over a second level ([`cache::L2`]),
// Links to feature-gated items only where they exist (`cargo doc` with default features).
#![cfg_attr(
    feature = "redis",
    doc = "  read-through with single-flight, write-through; [`cache::RedisL2`] with feature `redis`."
)]
#![cfg_attr(
    not(feature = "redis"),
    doc = "  read-through with single-flight, write-through; `cache::RedisL2` with feature `redis`."
)]
#![cfg_attr(
    feature = "moka-future",
    doc = "- For async programs (feature `moka-future`): [`cache::InstrumentedFutureCache`], a"
)]
#![cfg_attr(
    not(feature = "moka-future"),
    doc = "- For async programs (feature `moka-future`): `cache::InstrumentedFutureCache`, a"
)]
#![cfg_attr(
    feature = "moka-future",
    doc = "  `moka::future::Cache`, and [`cache::AsyncMultiLevelCache`] over an async second level"
)]
#![cfg_attr(
    not(feature = "moka-future"),
    doc = "  `moka::future::Cache`, and `cache::AsyncMultiLevelCache` over an async second level"
)]
#![cfg_attr(
    feature = "redis-async",
    doc = "  ([`cache::AsyncL2`]; [`cache::AsyncRedisL2`] over redis's tokio connection manager with"
)]
#![cfg_attr(
    not(feature = "redis-async"),
    doc = "  (`cache::AsyncL2`; `cache::AsyncRedisL2` over redis's tokio connection manager with"
)]
//!   feature `redis-async`): the same figures and frame names.
//! - [`pool::InstrumentedManagedPool`] (feature `deadpool`, on by default): a
//!   `deadpool::managed::Pool`, whose manager makes objects on demand (created, recycled and
//!   dropped counted); [`pool::InstrumentedPool`]: a `deadpool::unmanaged::Pool`, lending only
//!   what the program put in.
#![cfg_attr(
    feature = "bb8",
    doc = "- [`pool::InstrumentedBb8Pool`] (feature `bb8`): a `bb8::Pool`, with bb8's own counts"
)]
#![cfg_attr(
    not(feature = "bb8"),
    doc = "- `pool::InstrumentedBb8Pool` (feature `bb8`): a `bb8::Pool`, with bb8's own counts"
)]
//!   (connections created, closed by cause).
#![cfg_attr(
    feature = "sqlx",
    doc = "- [`pool::InstrumentedSqlxPool`] (feature `sqlx`): a `sqlx::Pool`, usable as an executor."
)]
#![cfg_attr(
    not(feature = "sqlx"),
    doc = "- `pool::InstrumentedSqlxPool` (feature `sqlx`): a `sqlx::Pool`, usable as an executor."
)]
#![cfg_attr(
    feature = "sqlx",
    doc = "- [`queries`] (feature `sqlx`): statements counted per fingerprint from the events sqlx"
)]
#![cfg_attr(
    not(feature = "sqlx"),
    doc = "- `queries` (feature `sqlx`): statements counted per fingerprint from the events sqlx"
)]
//!   emits, a slow-query log, and SQLite index hints from `EXPLAIN QUERY PLAN` (PostgreSQL's
//!   generic plans with feature `postgres`).
//! - `http` (features `http-server`, `http-client`): an axum server's requests per route
//!   template and a reqwest client's calls per host and URL template, as frames and figures.
//!
//! ```
//! # #[cfg(all(feature = "moka", feature = "deadpool"))] {
//! use perfscope_instrument::cache::InstrumentedCache;
//! use perfscope_instrument::pool::InstrumentedPool;
//!
//! let users = InstrumentedCache::new("users", moka::sync::Cache::builder().max_capacity(1_000));
//! users.insert(7_u64, "ada".to_string());
//! assert_eq!(users.get(&7).as_deref(), Some("ada"));
//! assert_eq!(users.get(&8), None);
//! assert_eq!((users.stats().hits, users.stats().misses), (1, 1));
//!
//! let pool = InstrumentedPool::new("conns", deadpool::unmanaged::Pool::from(vec![1, 2]));
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! rt.block_on(async {
//!     let conn = pool.get().await.unwrap();
//!     assert_eq!(pool.stats().in_use, 1);
//!     drop(conn);
//! });
//!
//! // The same figures every reader gets: section `cache`, labels cache and level.
//! let snap = perfscope_core::snapshot();
//! let hits = snap.figures.iter().find(|f| {
//!     f.name == perfscope_instrument::cache::REQUESTS_TOTAL
//!         && f.labels.iter().any(|(k, v)| k == "cache" && v == "users")
//!         && f.labels.iter().any(|(k, v)| k == "result" && v == "hit")
//! });
//! assert_eq!(hits.unwrap().value, 1.0);
//! // And the frames: `cache::users::get` was called twice.
//! let get = snap.callsites.iter().find(|c| &*c.info.name == "cache::users::get").unwrap();
//! assert_eq!(get.calls, 2);
//! # }
//! ```
#![deny(missing_docs)]

#[cfg(any(
    feature = "moka",
    feature = "deadpool",
    feature = "bb8",
    feature = "sqlx",
    feature = "http-server",
    feature = "http-client"
))]
mod callsites;

#[cfg(feature = "moka")]
pub mod cache;
#[cfg(any(feature = "http-server", feature = "http-client"))]
pub mod http;
#[cfg(any(
    feature = "moka",
    feature = "deadpool",
    feature = "bb8",
    feature = "sqlx",
    feature = "http-client"
))]
mod labels;
#[cfg(any(feature = "deadpool", feature = "bb8", feature = "sqlx"))]
pub mod pool;
#[cfg(feature = "sqlx")]
pub mod queries;

#[cfg(any(feature = "moka", feature = "deadpool", feature = "bb8", feature = "sqlx"))]
pub use callsites::MAX_NAMES;
#[cfg(any(
    feature = "moka",
    feature = "deadpool",
    feature = "bb8",
    feature = "sqlx",
    feature = "http-client"
))]
pub use labels::OTHER;
