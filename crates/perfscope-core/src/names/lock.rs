//! The locks' figures (`perfscope-instrument`, feature `locks`; labels `lock` and `mode`,
//! `exclusive` for a mutex or a write lock, `shared` for a read lock): std, parking_lot and
//! tokio `Mutex` and `RwLock` wrapped. A wait for a lock is also a frame, `lock::<name>::lock`
//! (`::read`, `::write`), on the caller's stack.

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Times the lock was taken.
pub const LOCK_ACQUISITIONS_TOTAL: Name = Name {
    name: "perfscope_lock_acquisitions_total",
    help: "Times the lock was taken.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::LOCK,
};
/// Acquisitions that found the lock held and waited (contention).
pub const LOCK_CONTENTIONS_TOTAL: Name = Name {
    name: "perfscope_lock_contentions_total",
    help: "Acquisitions that found the lock held and waited.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::LOCK,
};
/// Time callers waited for the lock, summed (each wait is a `lock::<name>::...` frame).
pub const LOCK_WAIT_SECONDS_TOTAL: Name = Name {
    name: "perfscope_lock_wait_seconds_total",
    help: "Time callers waited for the lock, summed.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::LOCK,
};
/// Time the lock was held, from acquisition to the guard's drop, summed (the mean is this over
/// [`LOCK_ACQUISITIONS_TOTAL`]).
pub const LOCK_HOLD_SECONDS_TOTAL: Name = Name {
    name: "perfscope_lock_hold_seconds_total",
    help: "Time the lock was held, summed.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::LOCK,
};
/// The longest the lock was held at once.
pub const LOCK_HOLD_MAX_SECONDS: Name = Name {
    name: "perfscope_lock_hold_max_seconds",
    help: "The longest the lock was held at once.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::LOCK,
};
