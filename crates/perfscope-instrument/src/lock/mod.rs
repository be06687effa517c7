//! Locks: [`Mutex`] and [`RwLock`] wrap `std::sync`'s (feature `locks`),
#![cfg_attr(
    feature = "locks-parking-lot",
    doc = "[`parking_lot::Mutex`] and [`parking_lot::RwLock`] parking_lot's (feature `locks-parking-lot`),"
)]
#![cfg_attr(
    not(feature = "locks-parking-lot"),
    doc = "`parking_lot::Mutex` and `parking_lot::RwLock` parking_lot's (feature `locks-parking-lot`),"
)]
#![cfg_attr(
    feature = "locks-tokio",
    doc = "[`tokio::Mutex`] and [`tokio::RwLock`] tokio's (feature `locks-tokio`),"
)]
#![cfg_attr(
    not(feature = "locks-tokio"),
    doc = "`tokio::Mutex` and `tokio::RwLock` tokio's (feature `locks-tokio`),"
)]
//! each with the wrapped type's methods (`lock`, `try_lock`, `read`, `write`, guards that
//! deref to the value, `get_mut`, `into_inner`; std's poisoning), and a name given to `new`.
//!
//! **A wait is a frame.** An acquisition first tries the lock; only if someone holds it is
//! the wait a frame named `lock::<name>::lock` (`::read`, `::write` for a read-write lock) on
//! the caller's stack: the caller's self time excludes the wait, the call edges say which
//! function waited on which lock, and the frame has calls, total time and quantiles like any
//! function. An uncontended acquisition costs one `try_lock`, two clock reads (the hold) and
//! a few counter writes (`BENCHMARKS.md`).
//!
//! **Figures** (section `lock`, labels `lock=<name>` and `mode`: `exclusive` for a mutex or a
//! write, `shared` for a read): [`ACQUISITIONS_TOTAL`], [`CONTENTIONS_TOTAL`] (acquisitions
//! that waited), [`WAIT_SECONDS_TOTAL`], [`HOLD_SECONDS_TOTAL`] (from acquisition to the
//! guard's drop) and [`HOLD_MAX_SECONDS`]. Hold time is a total, a count and a maximum, not a
//! histogram: see `stats.rs` (the distribution of the waits is the wait frame's). The report
//! lists the most contended locks. At most [`MAX_LOCK_NAMES`] names get series of their own;
//! later ones are summed under `lock="<other>"` and a warning event is published once.
//!
//! The counters are relaxed atomics in one allocation per lock, written on the exclusive side
//! by the holder only (`load + store` under the lock) and with `fetch_add` on the shared side
//! (several readers hold it at once); a figure source reads them at snapshot time.
//!
//! ```
//! use perfscope_instrument::lock::Mutex;
//!
//! let orders = Mutex::new("orders", Vec::new());
//! orders.lock().unwrap().push(7);
//! assert_eq!(*orders.lock().unwrap(), [7]);
//! let stats = orders.stats();
//! assert_eq!((stats.acquisitions, stats.contentions), (2, 0));
//!
//! let snap = perfscope_core::snapshot();
//! let taken = snap.figures.iter().find(|f| {
//!     f.name == perfscope_instrument::lock::ACQUISITIONS_TOTAL
//!         && f.labels.iter().any(|(k, v)| k == "lock" && v == "orders")
//! });
//! assert_eq!(taken.unwrap().value, 2.0);
//! ```
//!
//! Each lock registers one figure source: make a lock per shared resource (a store, a
//! table), not one per object of a large collection.
//!
//! Not wrapped: std's `Condvar` waits on std's own guard (wait on a `std::sync::Mutex` there),
//! and guard mapping (`MappedMutexGuard`, `OwnedMutexGuard`).

#[cfg(feature = "locks-parking-lot")]
pub mod parking_lot;
mod stats;
mod std_mutex;
mod std_rwlock;
#[cfg(feature = "locks-tokio")]
pub mod tokio;

use perfscope_core::names;

pub use stats::{LockStats, MAX_LOCK_NAMES};
pub use std_mutex::{Mutex, MutexGuard};
pub use std_rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// [`names::LOCK_ACQUISITIONS_TOTAL`]'s name.
pub const ACQUISITIONS_TOTAL: &str = names::LOCK_ACQUISITIONS_TOTAL.name;
/// [`names::LOCK_CONTENTIONS_TOTAL`]'s name.
pub const CONTENTIONS_TOTAL: &str = names::LOCK_CONTENTIONS_TOTAL.name;
/// [`names::LOCK_WAIT_SECONDS_TOTAL`]'s name.
pub const WAIT_SECONDS_TOTAL: &str = names::LOCK_WAIT_SECONDS_TOTAL.name;
/// [`names::LOCK_HOLD_SECONDS_TOTAL`]'s name.
pub const HOLD_SECONDS_TOTAL: &str = names::LOCK_HOLD_SECONDS_TOTAL.name;
/// [`names::LOCK_HOLD_MAX_SECONDS`]'s name.
pub const HOLD_MAX_SECONDS: &str = names::LOCK_HOLD_MAX_SECONDS.name;

/// `Debug` for a lock type: its name and the wrapped lock.
macro_rules! lock_debug {
    ($lock:ident) => {
        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $lock<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($lock))
                    .field("name", &self.name())
                    .field("inner", &&self.inner)
                    .finish()
            }
        }
    };
}

/// `Deref`, `Debug` and `Display` for a guard (field `inner`, the wrapped guard).
macro_rules! guard_traits {
    ($guard:ident) => {
        impl<T: ?Sized> std::ops::Deref for $guard<'_, T> {
            type Target = T;
            #[inline]
            fn deref(&self) -> &T {
                &self.inner
            }
        }

        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + std::fmt::Display> std::fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&**self, f)
            }
        }
    };
}

/// `DerefMut` for an exclusive guard.
macro_rules! guard_mut {
    ($guard:ident) => {
        impl<T: ?Sized> std::ops::DerefMut for $guard<'_, T> {
            #[inline]
            fn deref_mut(&mut self) -> &mut T {
                &mut self.inner
            }
        }
    };
}

pub(crate) use {guard_mut, guard_traits, lock_debug};
