//! What a pool counts (relaxed atomics, written by acquiring and releasing callers) and the
//! figures it gives every snapshot (section `pool`, label `pool`), named after OpenTelemetry's
//! `db.client.connection.*` where one applies.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use perfscope_core::figures::{Figure, FigureSource, Unit};

/// Objects in the pool by state (`state="idle"|"used"`); OTel `db.client.connection.count`.
pub const CONNECTION_COUNT: &str = "perfscope_pool_connection_count";
/// The pool's maximum size; OTel `db.client.connection.max`.
pub const CONNECTION_MAX: &str = "perfscope_pool_connection_max";
/// The most objects in use at once since the pool was instrumented.
pub const CONNECTION_USED_HIGH_WATER: &str = "perfscope_pool_connection_used_high_water";
/// Acquires waiting now; OTel `db.client.connection.pending_requests`.
pub const PENDING_REQUESTS: &str = "perfscope_pool_pending_requests";
/// Objects handed out.
pub const ACQUIRES_TOTAL: &str = "perfscope_pool_acquires_total";
/// Acquires that found no idle object and waited.
pub const WAITS_TOTAL: &str = "perfscope_pool_waits_total";
/// Time spent waiting for an object; OTel `db.client.connection.wait_time` (as a sum; the
/// distribution is the `pool::<name>::acquire` frame's).
pub const WAIT_SECONDS_TOTAL: &str = "perfscope_pool_wait_seconds_total";
/// Acquires that gave up after their timeout; OTel `db.client.connection.timeouts`.
pub const TIMEOUTS_TOTAL: &str = "perfscope_pool_timeouts_total";

const SECTION: &str = "pool";

/// A pool's counts at one moment (see [`InstrumentedPool::stats`](crate::pool::InstrumentedPool::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Objects handed out.
    pub acquires: u64,
    /// Acquires that had to wait (no idle object at the time).
    pub waits: u64,
    /// Time spent waiting, summed, in nanoseconds.
    pub wait_ns: u64,
    /// Acquires that timed out.
    pub timeouts: u64,
    /// Objects held by callers now (through this wrapper).
    pub in_use: u64,
    /// The most objects held at once.
    pub high_water: u64,
    /// Acquires waiting now.
    pub pending: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) acquires: AtomicU64,
    pub(crate) waits: AtomicU64,
    pub(crate) wait_ns: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) in_use: AtomicU64,
    pub(crate) high_water: AtomicU64,
    pub(crate) pending: AtomicU64,
}

impl Counters {
    /// One object handed out.
    #[inline(always)]
    pub(crate) fn acquired(&self) {
        self.acquires.fetch_add(1, Relaxed);
        let in_use = self.in_use.fetch_add(1, Relaxed) + 1;
        if in_use > self.high_water.load(Relaxed) {
            self.high_water.fetch_max(in_use, Relaxed);
        }
    }

    /// One object given back (or taken out of the pool).
    #[inline(always)]
    pub(crate) fn released(&self) {
        self.in_use.fetch_sub(1, Relaxed);
    }

    pub(crate) fn read(&self) -> PoolStats {
        PoolStats {
            acquires: self.acquires.load(Relaxed),
            waits: self.waits.load(Relaxed),
            wait_ns: self.wait_ns.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            in_use: self.in_use.load(Relaxed),
            high_water: self.high_water.load(Relaxed),
            pending: self.pending.load(Relaxed),
        }
    }
}

/// The pool's size now, as deadpool tells it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) max: usize,
    pub(crate) size: usize,
    pub(crate) idle: usize,
}

/// The figure source of one pool.
pub(crate) struct PoolSource {
    pub(crate) name: String,
    pub(crate) counters: std::sync::Arc<Counters>,
    /// The pool's sizes while it lives.
    pub(crate) sizes: Box<dyn Fn() -> Option<Sizes> + Send + Sync>,
}

impl std::fmt::Debug for PoolSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolSource").field("name", &self.name).finish()
    }
}

impl FigureSource for PoolSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let s = self.counters.read();
        let label = |figure: Figure| figure.with_label("pool", self.name.clone());
        let gauge = |name, help, value: u64| {
            label(Figure::gauge(SECTION, name, help, Unit::Count, value as f64))
        };
        let counter = |name, help, value: u64| {
            label(Figure::counter(SECTION, name, help, Unit::Count, value as f64))
        };
        if let Some(sizes) = (self.sizes)() {
            let help = "Objects in the pool, by state.";
            let used = sizes.size.saturating_sub(sizes.idle) as u64;
            out.push(gauge(CONNECTION_COUNT, help, sizes.idle as u64).with_label("state", "idle"));
            out.push(gauge(CONNECTION_COUNT, help, used).with_label("state", "used"));
            out.push(gauge(CONNECTION_MAX, "The pool's maximum size.", sizes.max as u64));
        }
        let help = "The most objects in use at once.";
        out.push(gauge(CONNECTION_USED_HIGH_WATER, help, s.high_water));
        out.push(gauge(PENDING_REQUESTS, "Acquires waiting for an object now.", s.pending));
        out.push(counter(ACQUIRES_TOTAL, "Objects handed out by the pool.", s.acquires));
        out.push(counter(WAITS_TOTAL, "Acquires that waited for an object.", s.waits));
        let help = "Time spent waiting for an object.";
        let wait = Figure::counter(
            SECTION,
            WAIT_SECONDS_TOTAL,
            help,
            Unit::Seconds,
            s.wait_ns as f64 / 1e9,
        );
        out.push(label(wait));
        out.push(counter(TIMEOUTS_TOTAL, "Acquires that timed out.", s.timeouts));
    }
}
