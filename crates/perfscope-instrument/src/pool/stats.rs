//! What a pool counts (relaxed atomics, written by acquiring and releasing callers) and the
//! figures it gives every snapshot (section `pool`, label `pool`), named after OpenTelemetry's
//! `db.client.connection.*` where one applies.

// Each adapter uses part of what is here.
#![cfg_attr(not(all(feature = "deadpool", feature = "bb8", feature = "sqlx")), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use perfscope_core::figures::{self, Figure, FigureSource, Registration};
use perfscope_core::names::{self, Name};

use crate::labels::LabelCap;

/// [`names::POOL_CONNECTIONS`]'s name.
pub const CONNECTIONS: &str = names::POOL_CONNECTIONS.name;
/// [`names::POOL_CONNECTIONS_MAX`]'s name.
pub const CONNECTIONS_MAX: &str = names::POOL_CONNECTIONS_MAX.name;
/// [`names::POOL_CONNECTIONS_USED_HIGH_WATER`]'s name.
pub const CONNECTIONS_USED_HIGH_WATER: &str = names::POOL_CONNECTIONS_USED_HIGH_WATER.name;
/// [`names::POOL_PENDING_REQUESTS`]'s name.
pub const PENDING_REQUESTS: &str = names::POOL_PENDING_REQUESTS.name;
/// [`names::POOL_ACQUIRES_TOTAL`]'s name.
pub const ACQUIRES_TOTAL: &str = names::POOL_ACQUIRES_TOTAL.name;
/// [`names::POOL_WAITS_TOTAL`]'s name.
pub const WAITS_TOTAL: &str = names::POOL_WAITS_TOTAL.name;
/// [`names::POOL_WAIT_SECONDS_TOTAL`]'s name.
pub const WAIT_SECONDS_TOTAL: &str = names::POOL_WAIT_SECONDS_TOTAL.name;
/// [`names::POOL_TIMEOUTS_TOTAL`]'s name.
pub const TIMEOUTS_TOTAL: &str = names::POOL_TIMEOUTS_TOTAL.name;
/// [`names::POOL_STARVED`]'s name.
pub const STARVED: &str = names::POOL_STARVED.name;
/// [`names::POOL_CONNECTIONS_CREATED_TOTAL`]'s name.
pub const CONNECTIONS_CREATED_TOTAL: &str = names::POOL_CONNECTIONS_CREATED_TOTAL.name;
/// [`names::POOL_CONNECTIONS_CLOSED_TOTAL`]'s name.
pub const CONNECTIONS_CLOSED_TOTAL: &str = names::POOL_CONNECTIONS_CLOSED_TOTAL.name;
/// [`names::POOL_CONNECTIONS_RECYCLED_TOTAL`]'s name.
pub const CONNECTIONS_RECYCLED_TOTAL: &str = names::POOL_CONNECTIONS_RECYCLED_TOTAL.name;

const SECTION: &str = names::section::POOL;

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
        if perfscope_core::OFF {
            return;
        }
        self.acquires.fetch_add(1, Relaxed);
        self.held();
    }

    /// One more object held by a caller (the acquires are counted elsewhere).
    #[inline(always)]
    pub(crate) fn held(&self) {
        if perfscope_core::OFF {
            return;
        }
        let in_use = self.in_use.fetch_add(1, Relaxed) + 1;
        self.high(in_use);
    }

    /// One object given back (or taken out of the pool).
    #[inline(always)]
    pub(crate) fn released(&self) {
        if perfscope_core::OFF {
            return;
        }
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

/// Connections (objects) a pool that makes its own opened and closed: bb8 counts them, the
/// managed deadpool pool's manager is wrapped to count them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lifecycle {
    pub(crate) created: u64,
    /// Idle objects checked and handed out again, where the pool says (deadpool's managed pool).
    pub(crate) recycled: Option<u64>,
    /// Closed (dropped) by cause: every cause the pool has, zeros included.
    pub(crate) closed: Vec<(&'static str, u64)>,
}

/// One reading of a pool, at snapshot time.
#[derive(Debug, Clone)]
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
        let of = |name: &Name, value: u64| {
            Figure::of(name, value as f64).with_label("pool", self.name.clone())
        };
        let used = sizes.size.saturating_sub(sizes.idle);
        out.push(of(&names::POOL_CONNECTIONS, sizes.idle).with_label("state", "idle"));
        out.push(of(&names::POOL_CONNECTIONS, used).with_label("state", "used"));
        out.push(of(&names::POOL_CONNECTIONS_MAX, sizes.max));
        out.push(of(&names::POOL_CONNECTIONS_USED_HIGH_WATER, s.high_water));
        out.push(of(&names::POOL_PENDING_REQUESTS, s.pending));
        out.push(of(&names::POOL_STARVED, u64::from(s.starved)));
        out.push(of(&names::POOL_ACQUIRES_TOTAL, s.acquires));
        out.push(of(&names::POOL_WAITS_TOTAL, s.waits));
        let wait = Figure::of(&names::POOL_WAIT_SECONDS_TOTAL, s.wait_ns as f64 / 1e9);
        out.push(wait.with_label("pool", self.name.clone()));
        out.push(of(&names::POOL_TIMEOUTS_TOTAL, s.timeouts));
        if let Some(l) = lifecycle {
            out.push(of(&names::POOL_CONNECTIONS_CREATED_TOTAL, l.created));
            if let Some(recycled) = l.recycled {
                out.push(of(&names::POOL_CONNECTIONS_RECYCLED_TOTAL, recycled));
            }
            for (cause, n) in l.closed {
                let closed = of(&names::POOL_CONNECTIONS_CLOSED_TOTAL, n);
                out.push(closed.with_label("cause", cause));
            }
        }
    }
}
