//! What a lock counts and the figures it gives every snapshot (section `lock`, labels `lock`
//! and `mode`).
//!
//! **Hold time: total, count and maximum, not a histogram.** A histogram's buckets are more
//! cache lines written on every unlock (and, past the first octave, a page allocated on the
//! holder's path); a total, the acquisitions and the longest hold are three words of the lock's
//! own counters, written by the holder while it holds the lock exclusively (plain
//! `load + store`, no locked instruction), so they travel between cores with the lock itself.
//! The mean hold is the total over the acquisitions; the distribution of the *waits* is the
//! wait frames' (`lock::<name>::lock`), which have quantiles like any function.

// Each lock type uses part of what is here.
#![cfg_attr(not(all(feature = "locks-parking-lot", feature = "locks-tokio")), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use perfscope_core::figures::{self, Figure, FigureSource, Registration};
use perfscope_core::names::{self, Name};
use perfscope_core::{Callsite, Kind, clock};

use crate::callsites::callsite;
use crate::labels::LabelCap;

const SECTION: &str = names::section::LOCK;

/// Lock names with series of their own; the figures of locks built under later names are
/// summed under `lock="<other>"` ([`crate::OTHER`]; the longest hold there is the sum of
/// theirs, an upper bound), and a warning event is published once. Their wait frames keep
/// their names (up to [`crate::MAX_NAMES`]).
pub const MAX_LOCK_NAMES: usize = 256;

static NAMES: LabelCap =
    LabelCap::new(SECTION, "perfscope_instrument::lock::MAX_LOCK_NAMES", MAX_LOCK_NAMES);

/// One mode's counts of a lock at one moment (see each lock's `stats()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockStats {
    /// Times the lock was taken (in this mode).
    pub acquisitions: u64,
    /// Acquisitions that found it held and waited.
    pub contentions: u64,
    /// Time spent waiting, summed, in nanoseconds.
    pub wait_ns: u64,
    /// Time it was held, summed, in nanoseconds (guards alive now are not in it yet).
    pub hold_ns: u64,
    /// The longest hold, in nanoseconds.
    pub hold_max_ns: u64,
}

/// The counts of one mode (exclusive: a mutex, a write lock; shared: a read lock), in clock
/// ticks, on a cache line of their own. The exclusive side is written only by the holder,
/// under the lock: `load + store`. The shared side has several holders at once: `fetch_add`.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Side {
    acquisitions: AtomicU64,
    contentions: AtomicU64,
    wait_ticks: AtomicU64,
    hold_ticks: AtomicU64,
    hold_max_ticks: AtomicU64,
}

/// Adds `n` to a counter only the lock's exclusive holder writes.
#[inline(always)]
fn add_held(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl Side {
    /// Taken exclusively after waiting `waited` ticks (`None`: at the first try). Call while
    /// holding the lock exclusively.
    #[inline(always)]
    pub(crate) fn acquired_exclusive(&self, waited: Option<u64>) {
        if perfscope_core::OFF {
            return;
        }
        add_held(&self.acquisitions, 1);
        if let Some(waited) = waited {
            add_held(&self.contentions, 1);
            add_held(&self.wait_ticks, waited);
        }
    }

    /// Held exclusively for `ticks`; call before the lock is released.
    #[inline(always)]
    pub(crate) fn released_exclusive(&self, ticks: u64) {
        if perfscope_core::OFF {
            return;
        }
        add_held(&self.hold_ticks, ticks);
        if ticks > self.hold_max_ticks.load(Relaxed) {
            self.hold_max_ticks.store(ticks, Relaxed);
        }
    }

    /// Taken shared after waiting `waited` ticks (`None`: at the first try).
    #[inline(always)]
    pub(crate) fn acquired_shared(&self, waited: Option<u64>) {
        if perfscope_core::OFF {
            return;
        }
        self.acquisitions.fetch_add(1, Relaxed);
        if let Some(waited) = waited {
            self.contentions.fetch_add(1, Relaxed);
            self.wait_ticks.fetch_add(waited, Relaxed);
        }
    }

    /// Held shared for `ticks`.
    #[inline(always)]
    pub(crate) fn released_shared(&self, ticks: u64) {
        if perfscope_core::OFF {
            return;
        }
        self.hold_ticks.fetch_add(ticks, Relaxed);
        if ticks > self.hold_max_ticks.load(Relaxed) {
            self.hold_max_ticks.fetch_max(ticks, Relaxed);
        }
    }

    fn read(&self, nanos_per_tick: f64) -> LockStats {
        let ns = |a: &AtomicU64| clock::to_nanos(a.load(Relaxed), nanos_per_tick);
        LockStats {
            acquisitions: self.acquisitions.load(Relaxed),
            contentions: self.contentions.load(Relaxed),
            wait_ns: ns(&self.wait_ticks),
            hold_ns: ns(&self.hold_ticks),
            hold_max_ns: ns(&self.hold_max_ticks),
        }
    }
}

/// Which lock type a [`Site`] measures: its frame names and modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A mutex: one wait frame, `lock::<name>::lock`; exclusive only.
    Mutex,
    /// A read-write lock: `lock::<name>::read` and `lock::<name>::write`; both modes.
    RwLock,
}

/// A lock's name, wait frames and counts: one allocation per lock, shared with its figure
/// source (which holds it weakly).
#[derive(Debug)]
pub(crate) struct Site {
    pub(crate) exclusive: Side,
    pub(crate) shared: Side,
    /// The wait frame of an exclusive acquisition (`::lock` or `::write`).
    pub(crate) exclusive_frame: &'static Callsite,
    /// The wait frame of a shared acquisition (`::read`; a mutex's is its `::lock`).
    pub(crate) shared_frame: &'static Callsite,
    name: String,
    shape: Shape,
    _registration: Registration,
}

impl Site {
    /// The site of a lock named `name` of `shape` whose waits are frames of `kind` (sync for
    /// std and parking_lot, async for tokio), its figures registered.
    pub(crate) fn new(name: String, shape: Shape, kind: Kind) -> Arc<Site> {
        let frame = |op: &str| callsite(format!("lock::{name}::{op}"), kind, module_path!());
        let (exclusive_frame, shared_frame) = match shape {
            Shape::Mutex => (frame("lock"), frame("lock")),
            Shape::RwLock => (frame("write"), frame("read")),
        };
        let label = if NAMES.admit(&name) { name.clone() } else { crate::OTHER.to_string() };
        Arc::new_cyclic(|weak: &Weak<Site>| {
            let source = LockSource { label, site: weak.clone() };
            Site {
                exclusive: Side::default(),
                shared: Side::default(),
                exclusive_frame,
                shared_frame,
                name,
                shape,
                _registration: figures::register(Arc::new(source)),
            }
        })
    }

    /// The lock's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The exclusive counts so far.
    pub(crate) fn exclusive_stats(&self) -> LockStats {
        self.exclusive.read(clock::nanos_per_tick())
    }

    /// The shared counts so far.
    pub(crate) fn shared_stats(&self) -> LockStats {
        self.shared.read(clock::nanos_per_tick())
    }
}

/// The figure source of one lock.
#[derive(Debug)]
struct LockSource {
    /// The `lock` label: the lock's name, or `<other>`.
    label: String,
    site: Weak<Site>,
}

impl FigureSource for LockSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let Some(site) = self.site.upgrade() else { return };
        let nanos_per_tick = clock::nanos_per_tick();
        let modes: &[(&str, &Side)] = match site.shape {
            Shape::Mutex => &[("exclusive", &site.exclusive)],
            Shape::RwLock => &[("exclusive", &site.exclusive), ("shared", &site.shared)],
        };
        for (mode, side) in modes {
            let s = side.read(nanos_per_tick);
            let of = |name: &Name, value: f64| {
                Figure::of(name, value)
                    .with_label("lock", self.label.clone())
                    .with_label("mode", *mode)
            };
            out.push(of(&names::LOCK_ACQUISITIONS_TOTAL, s.acquisitions as f64));
            out.push(of(&names::LOCK_CONTENTIONS_TOTAL, s.contentions as f64));
            out.push(of(&names::LOCK_WAIT_SECONDS_TOTAL, s.wait_ns as f64 / 1e9));
            out.push(of(&names::LOCK_HOLD_SECONDS_TOTAL, s.hold_ns as f64 / 1e9));
            out.push(of(&names::LOCK_HOLD_MAX_SECONDS, s.hold_max_ns as f64 / 1e9));
        }
    }
}

/// The clock now (0 with `perfscope/off`: the clock is not read).
#[inline(always)]
pub(crate) fn now() -> u64 {
    if perfscope_core::OFF { 0 } else { clock::now() }
}

/// Ticks since `since` (0 with `perfscope/off`: the clock is not read).
#[inline(always)]
pub(crate) fn since(since: u64) -> u64 {
    if perfscope_core::OFF {
        return 0;
    }
    clock::now().saturating_sub(since)
}
