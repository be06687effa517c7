//! What a cache level counts (relaxed atomics, written by the callers) and the figures it
//! gives every snapshot (section `cache`, labels `cache` and `level`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use moka::notification::RemovalCause;
use perfscope_core::figures::{Figure, FigureSource, Unit};

/// Requests served from a level, by result (`result="hit"|"miss"`).
pub const REQUESTS_TOTAL: &str = "perfscope_cache_requests_total";
/// `hits / (hits + misses)` of a level; absent before its first request.
pub const HIT_RATIO: &str = "perfscope_cache_hit_ratio";
/// Entries held by a level (moka's count, updated by its housekeeping: approximate).
pub const ENTRIES: &str = "perfscope_cache_entries";
/// Entries evicted by the cache itself, by cause (`cause="size"|"expired"`).
pub const EVICTIONS_TOTAL: &str = "perfscope_cache_evictions_total";
/// Entries removed by the program, by cause (`cause="explicit"` (invalidated), `"replaced"`).
pub const REMOVALS_TOTAL: &str = "perfscope_cache_removals_total";
/// Values written into a level (inserts, fills after a miss).
pub const WRITES_TOTAL: &str = "perfscope_cache_writes_total";
/// Requests a level could not answer (e.g. Redis unreachable).
pub const ERRORS_TOTAL: &str = "perfscope_cache_errors_total";
/// Loader calls (a miss at the last level), label `cache` only.
pub const LOADS_TOTAL: &str = "perfscope_cache_loads_total";
/// Loader calls that returned an error, label `cache` only.
pub const LOAD_ERRORS_TOTAL: &str = "perfscope_cache_load_errors_total";

const SECTION: &str = "cache";

/// One level's counts at one moment (see [`InstrumentedCache::stats`](crate::cache::InstrumentedCache::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelStats {
    /// Requests answered with a value held by the level.
    pub hits: u64,
    /// Requests the level did not hold a value for.
    pub misses: u64,
    /// Values written into the level.
    pub writes: u64,
    /// Requests the level failed to answer.
    pub errors: u64,
    /// Entries evicted because the level was full.
    pub evicted_size: u64,
    /// Entries evicted because they expired (time to live or idle).
    pub evicted_expired: u64,
    /// Entries invalidated by the program.
    pub removed_explicit: u64,
    /// Entries replaced by a newer value.
    pub replaced: u64,
}

impl LevelStats {
    /// `hits / (hits + misses)`, `None` before the first request.
    pub fn hit_ratio(&self) -> Option<f64> {
        let requests = self.hits + self.misses;
        (requests > 0).then(|| self.hits as f64 / requests as f64)
    }
}

/// A level's running counts.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    writes: AtomicU64,
    errors: AtomicU64,
    evicted_size: AtomicU64,
    evicted_expired: AtomicU64,
    removed_explicit: AtomicU64,
    replaced: AtomicU64,
}

impl Counters {
    #[inline(always)]
    pub(crate) fn request(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Relaxed);
    }

    /// A request that ran the loader (`loaded`: a miss) or did not (a hit); `kept`: the
    /// loaded value was inserted.
    #[inline(always)]
    pub(crate) fn loaded(&self, loaded: bool, kept: bool) {
        self.request(!loaded);
        if loaded && kept {
            self.write();
        }
    }

    #[inline(always)]
    pub(crate) fn write(&self) {
        self.writes.fetch_add(1, Relaxed);
    }

    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }

    /// Counts one removal reported by moka's eviction listener.
    pub(crate) fn removed(&self, cause: RemovalCause) {
        let counter = match cause {
            RemovalCause::Size => &self.evicted_size,
            RemovalCause::Expired => &self.evicted_expired,
            RemovalCause::Explicit => &self.removed_explicit,
            RemovalCause::Replaced => &self.replaced,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn read(&self) -> LevelStats {
        LevelStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            writes: self.writes.load(Relaxed),
            errors: self.errors.load(Relaxed),
            evicted_size: self.evicted_size.load(Relaxed),
            evicted_expired: self.evicted_expired.load(Relaxed),
            removed_explicit: self.removed_explicit.load(Relaxed),
            replaced: self.replaced.load(Relaxed),
        }
    }
}

/// Loader calls of a cache (counted where the loader runs).
#[derive(Debug, Default)]
pub(crate) struct Loads {
    pub(crate) calls: AtomicU64,
    pub(crate) errors: AtomicU64,
}

/// The figure source of one level of one cache.
pub(crate) struct LevelSource {
    pub(crate) cache: String,
    pub(crate) level: &'static str,
    pub(crate) counters: Arc<Counters>,
    /// Whether the level evicts by itself (moka does; Redis's evictions are not seen here).
    pub(crate) evicts: bool,
    /// The level's entry count, while the cache lives (`None`: unknown, the figure is absent).
    pub(crate) entries: Box<dyn Fn() -> Option<u64> + Send + Sync>,
    /// The cache's loader calls, reported by the level whose misses call the loader.
    pub(crate) loads: Option<Arc<Loads>>,
}

impl std::fmt::Debug for LevelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelSource")
            .field("cache", &self.cache)
            .field("level", &self.level)
            .finish()
    }
}

impl LevelSource {
    fn labelled(&self, figure: Figure) -> Figure {
        figure.with_label("cache", self.cache.clone()).with_label("level", self.level)
    }
}

impl FigureSource for LevelSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let s = self.counters.read();
        let counter = |name, help, value: u64| {
            self.labelled(Figure::counter(SECTION, name, help, Unit::Count, value as f64))
        };
        let requests = "Cache requests, by level and result.";
        out.push(counter(REQUESTS_TOTAL, requests, s.hits).with_label("result", "hit"));
        out.push(counter(REQUESTS_TOTAL, requests, s.misses).with_label("result", "miss"));
        if let Some(ratio) = s.hit_ratio() {
            let help = "Share of the level's requests that were hits.";
            out.push(self.labelled(Figure::gauge(SECTION, HIT_RATIO, help, Unit::Ratio, ratio)));
        }
        out.push(counter(WRITES_TOTAL, "Values written into the cache level.", s.writes));
        out.push(counter(ERRORS_TOTAL, "Requests the cache level failed to answer.", s.errors));
        if self.evicts {
            let help = "Entries the cache evicted, by cause.";
            out.push(counter(EVICTIONS_TOTAL, help, s.evicted_size).with_label("cause", "size"));
            let expired = counter(EVICTIONS_TOTAL, help, s.evicted_expired);
            out.push(expired.with_label("cause", "expired"));
            let help = "Entries the program removed or replaced, by cause.";
            let explicit = counter(REMOVALS_TOTAL, help, s.removed_explicit);
            out.push(explicit.with_label("cause", "explicit"));
            out.push(counter(REMOVALS_TOTAL, help, s.replaced).with_label("cause", "replaced"));
        }
        if let Some(entries) = (self.entries)() {
            let help = "Entries held by the cache level (approximate).";
            let figure = Figure::gauge(SECTION, ENTRIES, help, Unit::Count, entries as f64);
            out.push(self.labelled(figure));
        }
        if let Some(loads) = &self.loads {
            let (calls, errors) = (loads.calls.load(Relaxed), loads.errors.load(Relaxed));
            let help = "Loader calls after a miss at every level.";
            let figure = Figure::counter(SECTION, LOADS_TOTAL, help, Unit::Count, calls as f64);
            out.push(figure.with_label("cache", self.cache.clone()));
            let help = "Loader calls that returned an error.";
            let figure =
                Figure::counter(SECTION, LOAD_ERRORS_TOTAL, help, Unit::Count, errors as f64);
            out.push(figure.with_label("cache", self.cache.clone()));
        }
    }
}
