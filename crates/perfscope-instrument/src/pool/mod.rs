//! Pools: [`InstrumentedPool`] wraps a `deadpool::unmanaged::Pool` and
//! [`InstrumentedManagedPool`] a `deadpool::managed::Pool` (feature `deadpool`),
#![cfg_attr(feature = "bb8", doc = "[`InstrumentedBb8Pool`] a `bb8::Pool` (feature `bb8`),")]
#![cfg_attr(not(feature = "bb8"), doc = "`InstrumentedBb8Pool` a `bb8::Pool` (feature `bb8`),")]
#![cfg_attr(feature = "sqlx", doc = "[`InstrumentedSqlxPool`] a `sqlx::Pool` (feature `sqlx`).")]
#![cfg_attr(not(feature = "sqlx"), doc = "`InstrumentedSqlxPool` a `sqlx::Pool` (feature `sqlx`).")]
//!
//! An acquire is a frame named `pool::<name>::acquire` on the caller's stack (async: its
//! idle time is the wait), so the report says which function waited on which pool and for
//! how long, and the caller's self time excludes it. Figures (section `pool`, label
//! `pool=<name>`), the same names for every pool: [`CONNECTIONS`]
//! (`state="idle"|"used"`), [`CONNECTIONS_MAX`], [`CONNECTIONS_USED_HIGH_WATER`],
//! [`PENDING_REQUESTS`], [`STARVED`], [`ACQUIRES_TOTAL`], [`WAITS_TOTAL`],
//! [`WAIT_SECONDS_TOTAL`], [`TIMEOUTS_TOTAL`]; and where the pool opens and closes its own
//! connections and counts them (bb8), [`CONNECTIONS_CREATED_TOTAL`] and
//! [`CONNECTIONS_CLOSED_TOTAL`] (`cause="broken"|"invalid"|"max_lifetime"|"idle_timeout"`);
//! for the managed deadpool pool, whose manager creates and recycles the objects,
//! [`CONNECTIONS_CREATED_TOTAL`], [`CONNECTIONS_RECYCLED_TOTAL`] and
//! [`CONNECTIONS_CLOSED_TOTAL`] (`cause="invalid"`: failed its recycle).
//! At most [`MAX_POOL_NAMES`] names get series of their own; pools built under later names
//! are summed under `pool="<other>"` (and a warning event is published once).
//!
//! **Starvation** at a glance: [`STARVED`] is 1 while callers wait, no connection is idle and
//! the pool is at its maximum size (none can be opened for them), 0 otherwise; every such
//! wait is in [`WAITS_TOTAL`] and [`WAIT_SECONDS_TOTAL`].
//!
//! What is read from the pool (its size, idle connections; bb8's statistics) is read at
//! snapshot time and costs the acquire nothing. An unmanaged deadpool pool never creates
//! objects (the program adds them), so it has no created or closed counts.
//!
//! **Which deadpool pool**: [`InstrumentedManagedPool`] when objects can be made on demand (a
//! `Manager` creates them up to `max_size` as callers need them, checks each idle one with its
//! `recycle` before reuse and drops what fails): callers wait only when the pool is full.
//! [`InstrumentedPool`] when the program makes the objects itself, up front or by hand (they
//! cannot be made on demand, or making one needs what only the caller has): an empty pool
//! makes callers wait until the program adds or returns one.

#[cfg(feature = "bb8")]
mod bb8_pool;
#[cfg(feature = "deadpool")]
mod managed;
#[cfg(feature = "sqlx")]
mod sqlx_pool;
mod stats;
#[cfg(feature = "deadpool")]
mod unmanaged;

#[cfg(feature = "bb8")]
pub use bb8_pool::{Bb8Pooled, InstrumentedBb8Pool};
#[cfg(feature = "deadpool")]
pub use managed::{InstrumentedManagedPool, ManagedPooled, ObjectCounts};
#[cfg(feature = "sqlx")]
pub use sqlx_pool::InstrumentedSqlxPool;
pub use stats::{
    ACQUIRES_TOTAL, CONNECTIONS, CONNECTIONS_CLOSED_TOTAL, CONNECTIONS_CREATED_TOTAL,
    CONNECTIONS_MAX, CONNECTIONS_RECYCLED_TOTAL, CONNECTIONS_USED_HIGH_WATER, MAX_POOL_NAMES,
    PENDING_REQUESTS, PoolStats, STARVED, TIMEOUTS_TOTAL, WAIT_SECONDS_TOTAL, WAITS_TOTAL,
};
#[cfg(feature = "deadpool")]
pub use unmanaged::{InstrumentedPool, Pooled};
