//! [`LockFigures`]: a lock's figures, and the most contended locks.

use perfscope_core::names;
use std::time::Duration;

use super::{duration, grouped, value, whole};
use crate::report::Report;

/// The figures [`Report::locks`] reads (section `lock`).
pub(super) const NAMES: [&str; 5] = [
    names::LOCK_ACQUISITIONS_TOTAL.name,
    names::LOCK_CONTENTIONS_TOTAL.name,
    names::LOCK_WAIT_SECONDS_TOTAL.name,
    names::LOCK_HOLD_SECONDS_TOTAL.name,
    names::LOCK_HOLD_MAX_SECONDS.name,
];

/// One lock's figures in one mode (section `lock`): a mutex has one row, mode `exclusive`;
/// a read-write lock two, `exclusive` (writes) and `shared` (reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockFigures {
    /// The lock's name.
    pub lock: String,
    /// `exclusive` (a mutex, a write) or `shared` (a read).
    pub mode: String,
    /// Times it was taken.
    pub acquisitions: u64,
    /// Acquisitions that found it held and waited.
    pub contentions: u64,
    /// Time callers waited, summed; `None` when absent or not a duration.
    pub wait_time: Option<Duration>,
    /// Time it was held, summed.
    pub hold_time: Option<Duration>,
    /// The longest hold.
    pub hold_max: Option<Duration>,
}

impl LockFigures {
    /// The share of acquisitions that waited; `None` before the first.
    pub fn contention_share(&self) -> Option<f64> {
        (self.acquisitions > 0).then(|| self.contentions as f64 / self.acquisitions as f64)
    }

    /// Mean wait of the acquisitions that waited; `None` when none waited.
    pub fn mean_wait(&self) -> Option<Duration> {
        self.wait_time.filter(|_| self.contentions > 0).map(|t| t.div_f64(self.contentions as f64))
    }

    /// Mean hold; `None` before the first acquisition.
    pub fn mean_hold(&self) -> Option<Duration> {
        self.hold_time
            .filter(|_| self.acquisitions > 0)
            .map(|t| t.div_f64(self.acquisitions as f64))
    }
}

impl Report {
    /// Every lock in the report, one entry per lock and mode, the most contended first (by
    /// time waited, then acquisitions that waited, then name).
    pub fn locks(&self) -> Vec<LockFigures> {
        let mut locks: Vec<LockFigures> = grouped(self, names::section::LOCK, &["lock", "mode"])
            .into_iter()
            .map(|(key, figures)| {
                let get = |name| value(&figures, name, None);
                LockFigures {
                    lock: key[0].clone(),
                    mode: key[1].clone(),
                    acquisitions: whole(get(names::LOCK_ACQUISITIONS_TOTAL.name)),
                    contentions: whole(get(names::LOCK_CONTENTIONS_TOTAL.name)),
                    wait_time: duration(get(names::LOCK_WAIT_SECONDS_TOTAL.name)),
                    hold_time: duration(get(names::LOCK_HOLD_SECONDS_TOTAL.name)),
                    hold_max: duration(get(names::LOCK_HOLD_MAX_SECONDS.name)),
                }
            })
            .collect();
        locks.sort_by(|a, b| {
            b.wait_time
                .unwrap_or_default()
                .cmp(&a.wait_time.unwrap_or_default())
                .then(b.contentions.cmp(&a.contentions))
                .then_with(|| (&a.lock, &a.mode).cmp(&(&b.lock, &b.mode)))
        });
        locks
    }
}
