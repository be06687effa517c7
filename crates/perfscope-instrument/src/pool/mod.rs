//! Pools: [`InstrumentedPool`] wraps a `deadpool::unmanaged::Pool`.
//!
//! An acquire is a frame named `pool::<name>::acquire` on the caller's stack (async: its
//! idle time is the wait), so the report says which function waited on which pool and for
//! how long, and the caller's self time excludes it. Figures (section `pool`, label
//! `pool=<name>`): [`CONNECTION_COUNT`] (`state="idle"|"used"`), [`CONNECTION_MAX`],
//! [`CONNECTION_USED_HIGH_WATER`], [`PENDING_REQUESTS`], [`ACQUIRES_TOTAL`], [`WAITS_TOTAL`],
//! [`WAIT_SECONDS_TOTAL`], [`TIMEOUTS_TOTAL`].
//!
//! An unmanaged pool never creates objects (the program adds them), so every acquire reuses
//! one: there is no created-vs-reused split to report.

mod stats;
mod unmanaged;

pub use stats::{
    ACQUIRES_TOTAL, CONNECTION_COUNT, CONNECTION_MAX, CONNECTION_USED_HIGH_WATER, PENDING_REQUESTS,
    PoolStats, TIMEOUTS_TOTAL, WAIT_SECONDS_TOTAL, WAITS_TOTAL,
};
pub use unmanaged::{InstrumentedPool, Pooled};
