//! What a pool counts (relaxed atomics, written by acquiring and releasing callers) and the
//! figures it gives every snapshot (section `pool`, label `pool`), named after OpenTelemetry's
//! `db.client.connection.*` where one applies.

// Each adapter uses part of what is here.
#![cfg_attr(not(all(feature = "deadpool", feature = "bb8", feature = "sqlx")), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use perfscope_core::figures::{self, Figure, FigureSource, Registration, Unit};

use crate::labels::LabelCap;

/// Objects in the pool by state (`state="idle"|"used"`); OTel `db.client.connection.count`.
/// Not `..._count`: a gauge ending in `_count` reads as a histogram's or a summary's count
/// series (promtool rejects it), so the name is the plural, as Micrometer's
/// `hikaricp_connections` is, and the pool's other connection figures share its prefix.
pub const CONNECTIONS: &str = "perfscope_pool_connections";
/// The pool's maximum size; OTel `db.client.connection.max`.
pub const CONNECTIONS_MAX: &str = "perfscope_pool_connections_max";
/// The most objects in use at once since the pool was instrumented.
pub const CONNECTIONS_USED_HIGH_WATER: &str = "perfscope_pool_connections_used_high_water";
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
/// 1 while the pool is starved: callers wait, no connection is idle and the pool is at its
/// maximum size (so none can be opened for them); 0 otherwise.
pub const STARVED: &str = "perfscope_pool_starved";
/// Connections the pool opened (pools that open their own: bb8).
pub const CONNECTIONS_CREATED_TOTAL: &str = "perfscope_pool_connections_created_total";
/// Connections the pool closed, by `cause`: `broken` (found dead on return), `invalid`
/// (failed the check-out test), `max_lifetime`, `idle_timeout` (pools that close their own:
/// bb8).
pub const CONNECTIONS_CLOSED_TOTAL: &str = "perfscope_pool_connections_closed_total";

const SECTION: &str = "pool";

/// Pool names with series of their own; the figures of pools built under later names are
/// summed under `pool="<other>"` ([`crate::OTHER`]: counters and gauges alike, so its
/// high-water is the sum of theirs, an upper bound of their joint peak, and its starved gauge
/// the number starved), and a warning event is published once.
pub const MAX_POOL_NAMES: usize = 256;

static NAMES: LabelCap =
    LabelCap::new(SECTION, "perfscope_instrument::pool::MAX_POOL_NAMES", MAX_POOL_NAMES);

/// A pool's counts at one moment (each adapter's `stats()`).
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
    /// Objects held by callers now.
    pub in_use: u64,
    /// The most objects held at once.
    pub high_water: u64,
    /// Acquires waiting now.
    pub pending: u64,
    /// Callers wait, none is idle and the pool is at its maximum size ([`STARVED`]).
    pub starved: bool,
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
        self.held();
    }

    /// One more object held by a caller (the acquires are counted elsewhere).
    #[inline(always)]
    pub(crate) fn held(&self) {
        let in_use = self.in_use.fetch_add(1, Relaxed) + 1;
        self.high(in_use);
    }

    /// One object given back (or taken out of the pool).
    #[inline(always)]
    pub(crate) fn released(&self) {
        self.in_use.fetch_sub(1, Relaxed);
    }

    /// `in_use` objects held at once: the high-water is at least that.
    #[inline(always)]
    pub(crate) fn high(&self, in_use: u64) {
        if in_use > self.high_water.load(Relaxed) {
            self.high_water.fetch_max(in_use, Relaxed);
        }
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
            starved: false,
        }
    }
}

/// An acquire waiting: counted pending while it lives, its time added to the wait on drop
/// (however the wait ends: an object, a timeout, or the caller giving up).
pub(crate) struct Waiting<'a> {
    counters: &'a Counters,
    since: std::time::Instant,
}

impl<'a> Waiting<'a> {
    pub(crate) fn start(counters: &'a Counters) -> Self {
        counters.waits.fetch_add(1, Relaxed);
        counters.pending.fetch_add(1, Relaxed);
        Waiting { counters, since: std::time::Instant::now() }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let waited = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.counters.wait_ns.fetch_add(waited, Relaxed);
        self.counters.pending.fetch_sub(1, Relaxed);
    }
}

/// The pool's size now, as the pool tells it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) max: u64,
    /// Objects the pool holds, idle or handed out.
    pub(crate) size: u64,
    pub(crate) idle: u64,
}

impl Sizes {
    /// `pending` callers wait, none is idle and the pool cannot grow.
    pub(crate) fn starved(&self, pending: u64) -> bool {
        pending > 0 && self.idle == 0 && self.size >= self.max
    }
}

/// Connections a pool that manages its own opened and closed (bb8 counts them).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lifecycle {
    pub(crate) created: u64,
    pub(crate) closed_broken: u64,
    pub(crate) closed_invalid: u64,
    pub(crate) closed_max_lifetime: u64,
    pub(crate) closed_idle_timeout: u64,
}

/// One reading of a pool, at snapshot time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    /// The counts, `starved` included.
    pub(crate) stats: PoolStats,
    pub(crate) sizes: Sizes,
    pub(crate) lifecycle: Option<Lifecycle>,
}

/// Registers the figure source of the pool `pool` (read with `read` while it lives) under
/// `name`, or under `<other>` past [`MAX_POOL_NAMES`].
pub(crate) fn register<P: Send + Sync + 'static>(
    name: &str,
    pool: Weak<P>,
    read: fn(&P) -> Reading,
) -> Registration {
    let read = move || pool.upgrade().map(|pool| read(&pool));
    let name = if NAMES.admit(name) { name.to_string() } else { crate::OTHER.to_string() };
    figures::register(Arc::new(PoolSource { name, read: Box::new(read) }))
}

/// The figure source of one pool.
struct PoolSource {
    /// The `pool` label: the pool's name, or `<other>`.
    name: String,
    /// A reading while the pool lives.
    read: Box<dyn Fn() -> Option<Reading> + Send + Sync>,
}

impl std::fmt::Debug for PoolSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolSource").field("name", &self.name).finish()
    }
}

impl FigureSource for PoolSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let Some(Reading { stats: s, sizes, lifecycle }) = (self.read)() else { return };
        let label = |figure: Figure| figure.with_label("pool", self.name.clone());
        let gauge = |name, help, value: u64| {
            label(Figure::gauge(SECTION, name, help, Unit::Count, value as f64))
        };
        let counter = |name, help, value: u64| {
            label(Figure::counter(SECTION, name, help, Unit::Count, value as f64))
        };
        let help = "Objects in the pool, by state.";
        let used = sizes.size.saturating_sub(sizes.idle);
        out.push(gauge(CONNECTIONS, help, sizes.idle).with_label("state", "idle"));
        out.push(gauge(CONNECTIONS, help, used).with_label("state", "used"));
        out.push(gauge(CONNECTIONS_MAX, "The pool's maximum size.", sizes.max));
        let help = "The most objects in use at once.";
        out.push(gauge(CONNECTIONS_USED_HIGH_WATER, help, s.high_water));
        out.push(gauge(PENDING_REQUESTS, "Acquires waiting for an object now.", s.pending));
        let help = "1 while callers wait, no object is idle and the pool is at its maximum size.";
        out.push(gauge(STARVED, help, u64::from(s.starved)));
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
        if let Some(l) = lifecycle {
            let help = "Connections the pool opened.";
            out.push(counter(CONNECTIONS_CREATED_TOTAL, help, l.created));
            let help = "Connections the pool closed, by cause.";
            for (cause, n) in [
                ("broken", l.closed_broken),
                ("invalid", l.closed_invalid),
                ("max_lifetime", l.closed_max_lifetime),
                ("idle_timeout", l.closed_idle_timeout),
            ] {
                out.push(counter(CONNECTIONS_CLOSED_TOTAL, help, n).with_label("cause", cause));
            }
        }
    }
}
