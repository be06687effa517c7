//! [`CacheFigures`]: a cache level's figures, and the rows the views show (levels, and a
//! multi-level cache's total with its lookup frame).

use perfscope_core::names;
use std::collections::BTreeMap;

use super::{by_label, grouped, label, value, whole};
use crate::report::{FigureStats, FunctionStats, Report};

/// One cache level's figures (section `cache`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheFigures {
    /// The cache's name.
    pub cache: String,
    /// `l1` or `l2`.
    pub level: String,
    /// Lookups answered.
    pub hits: u64,
    /// Lookups not answered.
    pub misses: u64,
    /// `hits / (hits + misses)` (from the counts; the source's figure when it gives no
    /// counts); `None` before the first lookup.
    pub hit_ratio: Option<f64>,
    /// Entries held, where the level can tell.
    pub entries: Option<u64>,
    /// Entries the cache removed itself (over capacity, expired).
    pub evictions: u64,
    /// [`evictions`](Self::evictions) by cause (`size`, `expired`); empty when the level does
    /// not report evictions (a Redis level: the server evicts unseen).
    pub evictions_by_cause: BTreeMap<String, u64>,
    /// Entries the program removed (`explicit`: invalidated) or replaced (`replaced`), by
    /// cause; empty when the level does not report them.
    pub removals_by_cause: BTreeMap<String, u64>,
    /// Values written into the level (inserts, fills after a miss).
    pub writes: u64,
    /// Requests the level failed to answer (e.g. Redis unreachable).
    pub errors: u64,
    /// Loader calls (a miss at every level), on the cache's last level, whose misses call
    /// the loader; `None` on the other levels and for caches without a loader.
    pub loads: Option<u64>,
    /// Loader calls that returned an error; present with [`loads`](Self::loads).
    pub load_errors: Option<u64>,
}

impl CacheFigures {
    /// Lookups: `hits + misses`.
    pub fn requests(&self) -> u64 {
        self.hits.saturating_add(self.misses)
    }

    /// A multi-level cache as a whole (level `total`), from its levels, first level first:
    /// the requests are the first level's, the misses the last level's (requests no level
    /// answered), the hits the rest; evictions, writes and errors are summed, the loads are
    /// the last level's; no entry count (the levels hold copies). `None` for fewer than two
    /// levels.
    pub fn total(levels: &[CacheFigures]) -> Option<CacheFigures> {
        let (first, last) = (levels.first()?, levels.last()?);
        if levels.len() < 2 {
            return None;
        }
        let misses = last.misses.min(first.requests());
        let sum = |of: fn(&CacheFigures) -> u64| levels.iter().map(of).fold(0, u64::saturating_add);
        let summed = |of: fn(&CacheFigures) -> &BTreeMap<String, u64>| {
            let mut out: BTreeMap<String, u64> = BTreeMap::new();
            for (cause, n) in levels.iter().flat_map(of) {
                let total = out.entry(cause.clone()).or_default();
                *total = total.saturating_add(*n);
            }
            out
        };
        let evictions_by_cause = summed(|l| &l.evictions_by_cause);
        let removals_by_cause = summed(|l| &l.removals_by_cause);
        let hits = first.requests() - misses;
        let requests = first.requests();
        Some(CacheFigures {
            cache: first.cache.clone(),
            level: "total".into(),
            hits,
            misses,
            hit_ratio: (requests > 0).then(|| hits as f64 / requests as f64),
            entries: None,
            evictions: sum(|l| l.evictions),
            evictions_by_cause,
            removals_by_cause,
            writes: sum(|l| l.writes),
            errors: sum(|l| l.errors),
            loads: last.loads,
            load_errors: last.load_errors,
        })
    }
}

impl Report {
    /// Every cache level in the report, by cache and level (`l1` before `l2`). The loader's
    /// figures (label `cache` only) are on the cache's last level.
    pub fn caches(&self) -> Vec<CacheFigures> {
        let mut out: Vec<CacheFigures> = Vec::new();
        for (cache, figures) in grouped(self, names::section::CACHE, &["cache"]) {
            let (levelled, cache_wide): (Vec<&FigureStats>, Vec<&FigureStats>) =
                figures.into_iter().partition(|f| f.labels.contains_key("level"));
            let mut levels: BTreeMap<&str, Vec<&FigureStats>> = BTreeMap::new();
            for f in levelled {
                levels.entry(label(f, "level")).or_default().push(f);
            }
            let first = out.len();
            for (level, figures) in levels {
                let requests = names::CACHE_REQUESTS_TOTAL.name;
                let hits = whole(value(&figures, requests, Some(("result", "hit"))));
                let misses = whole(value(&figures, requests, Some(("result", "miss"))));
                let hit_ratio = match hits.saturating_add(misses) {
                    0 => value(&figures, names::CACHE_HIT_RATIO.name, None),
                    requests => Some(hits as f64 / requests as f64),
                };
                let evictions_by_cause =
                    by_label(&figures, names::CACHE_EVICTIONS_TOTAL.name, "cause");
                out.push(CacheFigures {
                    cache: cache[0].clone(),
                    level: level.to_string(),
                    hits,
                    misses,
                    hit_ratio,
                    entries: value(&figures, names::CACHE_ENTRIES.name, None).map(|v| v as u64),
                    evictions: evictions_by_cause.values().fold(0, |a, n| a.saturating_add(*n)),
                    evictions_by_cause,
                    removals_by_cause: by_label(
                        &figures,
                        names::CACHE_REMOVALS_TOTAL.name,
                        "cause",
                    ),
                    writes: whole(value(&figures, names::CACHE_WRITES_TOTAL.name, None)),
                    errors: whole(value(&figures, names::CACHE_ERRORS_TOTAL.name, None)),
                    loads: None,
                    load_errors: None,
                });
            }
            let loads = value(&cache_wide, names::CACHE_LOADS_TOTAL.name, None);
            if loads.is_none() {
                continue;
            }
            if out.len() == first {
                // A loader's figures without a level's: the cache still has a row.
                out.push(CacheFigures { cache: cache[0].clone(), ..CacheFigures::default() });
            }
            if let Some(last) = out.last_mut() {
                last.loads = loads.map(|v| v as u64);
                let errors = value(&cache_wide, names::CACHE_LOAD_ERRORS_TOTAL.name, None);
                last.load_errors = Some(whole(errors));
            }
        }
        out
    }
}

/// A row of the views' cache tables: a level, or a multi-level cache's `total`, with the
/// frame timing its lookups when the report has it.
#[derive(Debug)]
pub(crate) struct CacheRow<'a> {
    pub(crate) figures: CacheFigures,
    /// `cache::<name>::get` (or `::get_with`, the more called) for a whole request (the
    /// `total` row, or a single level's), `cache::<name>::l2::get` for a second level.
    pub(crate) frame: Option<&'a FunctionStats>,
}

/// Every cache level of `report`, each multi-level cache followed by its `total` row.
pub(crate) fn cache_rows(report: &Report) -> Vec<CacheRow<'_>> {
    let caches = report.caches();
    let mut out = Vec::with_capacity(caches.len());
    for levels in caches.chunk_by(|a, b| a.cache == b.cache) {
        let whole_request = || {
            let name = &levels[0].cache;
            let get = report.function(&format!("cache::{name}::get"));
            let get_with = report.function(&format!("cache::{name}::get_with"));
            match (get, get_with) {
                (Some(a), Some(b)) => Some(if b.calls > a.calls { b } else { a }),
                (a, b) => a.or(b),
            }
        };
        for level in levels {
            let frame = match level.level.as_str() {
                _ if levels.len() == 1 => whole_request(),
                "l2" => report.function(&format!("cache::{}::l2::get", level.cache)),
                _ => None,
            };
            out.push(CacheRow { figures: level.clone(), frame });
        }
        if let Some(total) = CacheFigures::total(levels) {
            out.push(CacheRow { figures: total, frame: whole_request() });
        }
    }
    out
}
