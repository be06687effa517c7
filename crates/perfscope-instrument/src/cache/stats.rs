//! What a cache level counts (per-thread stripes, written by the callers) and the figures it
//! gives every snapshot (section `cache`, labels `cache` and `level`).

use std::sync::Arc;

use moka::notification::RemovalCause;
use perfscope_core::figures::{Figure, FigureSource};
use perfscope_core::names::{self, Name};

use super::striped::Striped;
use crate::labels::LabelCap;

/// [`names::CACHE_REQUESTS_TOTAL`]'s name.
pub const REQUESTS_TOTAL: &str = names::CACHE_REQUESTS_TOTAL.name;
/// [`names::CACHE_HIT_RATIO`]'s name.
pub const HIT_RATIO: &str = names::CACHE_HIT_RATIO.name;
/// [`names::CACHE_ENTRIES`]'s name.
pub const ENTRIES: &str = names::CACHE_ENTRIES.name;
/// [`names::CACHE_EVICTIONS_TOTAL`]'s name.
pub const EVICTIONS_TOTAL: &str = names::CACHE_EVICTIONS_TOTAL.name;
/// [`names::CACHE_REMOVALS_TOTAL`]'s name.
pub const REMOVALS_TOTAL: &str = names::CACHE_REMOVALS_TOTAL.name;
/// [`names::CACHE_WRITES_TOTAL`]'s name.
pub const WRITES_TOTAL: &str = names::CACHE_WRITES_TOTAL.name;
/// [`names::CACHE_ERRORS_TOTAL`]'s name.
pub const ERRORS_TOTAL: &str = names::CACHE_ERRORS_TOTAL.name;
/// [`names::CACHE_LOADS_TOTAL`]'s name.
pub const LOADS_TOTAL: &str = names::CACHE_LOADS_TOTAL.name;
/// [`names::CACHE_LOAD_ERRORS_TOTAL`]'s name.
pub const LOAD_ERRORS_TOTAL: &str = names::CACHE_LOAD_ERRORS_TOTAL.name;

const SECTION: &str = names::section::CACHE;

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
/// writes (see [`Striped`]). With `perfscope/off` ([`perfscope_core::OFF`]) nothing is counted.
#[derive(Debug, Default)]
pub(crate) struct Counters(Striped<8>);

impl Counters {
    #[inline(always)]
    pub(crate) fn request(&self, hit: bool) {
        if perfscope_core::OFF {
            return;
        }
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
        if perfscope_core::OFF {
            return;
        }
        self.0.add(WRITES, 1);
    }

    pub(crate) fn error(&self) {
        if perfscope_core::OFF {
            return;
        }
        self.0.add(ERRORS, 1);
    }

    /// Counts one removal reported by moka's eviction listener.
    pub(crate) fn removed(&self, cause: RemovalCause) {
        if perfscope_core::OFF {
            return;
        }
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
        let counter = |name: &Name, value: u64| labelled(Figure::of(name, value as f64));
        let requests = &names::CACHE_REQUESTS_TOTAL;
        out.push(counter(requests, s.hits).with_label("result", "hit"));
        out.push(counter(requests, s.misses).with_label("result", "miss"));
        if let Some(ratio) = s.hit_ratio().filter(|_| own_series) {
            out.push(labelled(Figure::of(&names::CACHE_HIT_RATIO, ratio)));
        }
        out.push(counter(&names::CACHE_WRITES_TOTAL, s.writes));
        out.push(counter(&names::CACHE_ERRORS_TOTAL, s.errors));
        if self.evicts {
            let evictions = &names::CACHE_EVICTIONS_TOTAL;
            out.push(counter(evictions, s.evicted_size).with_label("cause", "size"));
            out.push(counter(evictions, s.evicted_expired).with_label("cause", "expired"));
            let removals = &names::CACHE_REMOVALS_TOTAL;
            out.push(counter(removals, s.removed_explicit).with_label("cause", "explicit"));
            out.push(counter(removals, s.replaced).with_label("cause", "replaced"));
        }
        if let Some(entries) = (self.entries)() {
            out.push(labelled(Figure::of(&names::CACHE_ENTRIES, entries as f64)));
        }
        if let Some(loads) = &self.loads {
            let (calls, errors) = loads.read();
            let figure = Figure::of(&names::CACHE_LOADS_TOTAL, calls as f64);
            out.push(figure.with_label("cache", cache.clone()));
            let figure = Figure::of(&names::CACHE_LOAD_ERRORS_TOTAL, errors as f64);
            out.push(figure.with_label("cache", cache.clone()));
        }
    }
}
