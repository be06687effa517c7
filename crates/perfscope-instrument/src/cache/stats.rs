//! What a cache level counts (per-thread stripes, written by the callers) and the figures it
//! gives every snapshot (section `cache`, labels `cache` and `level`).

use std::sync::Arc;

use moka::notification::RemovalCause;
use perfscope_core::figures::{Figure, FigureSource, Unit};

use super::striped::Striped;
use crate::labels::LabelCap;

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

/// Cache names with series of their own; the figures of caches built under later names are
/// summed under `cache="<other>"` ([`crate::OTHER`]; no hit ratio there: its requests by
/// result are), and a warning event is published once.
pub const MAX_CACHE_NAMES: usize = 256;

static NAMES: LabelCap =
    LabelCap::new(SECTION, "perfscope_instrument::cache::MAX_CACHE_NAMES", MAX_CACHE_NAMES);

/// Registers the cache name `name` (when a cache is built): whether its figures have a series
/// of their own.
pub(crate) fn admit(name: &str) -> bool {
    NAMES.admit(name)
}

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

/// Indices of [`Counters`]' counts.
const HITS: usize = 0;
const MISSES: usize = 1;
const WRITES: usize = 2;
const ERRORS: usize = 3;
const EVICTED_SIZE: usize = 4;
const EVICTED_EXPIRED: usize = 5;
const REMOVED_EXPLICIT: usize = 6;
const REPLACED: usize = 7;

/// A level's running counts, striped per thread: a hit writes no cache line another thread
/// writes (see [`Striped`]).
#[derive(Debug, Default)]
pub(crate) struct Counters(Striped<8>);

impl Counters {
    #[inline(always)]
    pub(crate) fn request(&self, hit: bool) {
        self.0.add(if hit { HITS } else { MISSES }, 1);
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
        self.0.add(WRITES, 1);
    }

    pub(crate) fn error(&self) {
        self.0.add(ERRORS, 1);
    }

    /// Counts one removal reported by moka's eviction listener.
    pub(crate) fn removed(&self, cause: RemovalCause) {
        let counter = match cause {
            RemovalCause::Size => EVICTED_SIZE,
            RemovalCause::Expired => EVICTED_EXPIRED,
            RemovalCause::Explicit => REMOVED_EXPLICIT,
            RemovalCause::Replaced => REPLACED,
        };
        self.0.add(counter, 1);
    }

    pub(crate) fn read(&self) -> LevelStats {
        let c = self.0.read();
        LevelStats {
            hits: c[HITS],
            misses: c[MISSES],
            writes: c[WRITES],
            errors: c[ERRORS],
            evicted_size: c[EVICTED_SIZE],
            evicted_expired: c[EVICTED_EXPIRED],
            removed_explicit: c[REMOVED_EXPLICIT],
            replaced: c[REPLACED],
        }
    }
}

/// Loader calls of a cache (counted where the loader runs), striped like [`Counters`].
#[derive(Debug, Default)]
pub(crate) struct Loads(Striped<2>);

impl Loads {
    /// One loader call, counted as it starts.
    pub(crate) fn call(&self) {
        self.0.add(0, 1);
    }

    /// The loader call returned an error.
    pub(crate) fn error(&self) {
        self.0.add(1, 1);
    }

    /// `(calls, errors)` so far.
    pub(crate) fn read(&self) -> (u64, u64) {
        let [calls, errors] = self.0.read();
        (calls, errors)
    }
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

impl FigureSource for LevelSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let s = self.counters.read();
        // The name was admitted or not when the cache was built (`admit`); this looks it up.
        let cache = NAMES.label(&self.cache);
        let own_series = cache == self.cache;
        let labelled = |figure: Figure| {
            figure.with_label("cache", cache.clone()).with_label("level", self.level)
        };
        let counter = |name, help, value: u64| {
            labelled(Figure::counter(SECTION, name, help, Unit::Count, value as f64))
        };
        let requests = "Cache requests, by level and result.";
        out.push(counter(REQUESTS_TOTAL, requests, s.hits).with_label("result", "hit"));
        out.push(counter(REQUESTS_TOTAL, requests, s.misses).with_label("result", "miss"));
        if let Some(ratio) = s.hit_ratio().filter(|_| own_series) {
            let help = "Share of the level's requests that were hits.";
            out.push(labelled(Figure::gauge(SECTION, HIT_RATIO, help, Unit::Ratio, ratio)));
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
            out.push(labelled(figure));
        }
        if let Some(loads) = &self.loads {
            let (calls, errors) = loads.read();
            let help = "Loader calls after a miss at every level.";
            let figure = Figure::counter(SECTION, LOADS_TOTAL, help, Unit::Count, calls as f64);
            out.push(figure.with_label("cache", cache.clone()));
            let help = "Loader calls that returned an error.";
            let figure =
                Figure::counter(SECTION, LOAD_ERRORS_TOTAL, help, Unit::Count, errors as f64);
            out.push(figure.with_label("cache", cache.clone()));
        }
    }
}
