//! Typed views of the report's `cache`, `pool` and `query` figures (from
//! `perfscope-instrument`): one struct per cache level, pool and statement fingerprint, read
//! from [`Report::figures`] by name and labels, so the JSON keeps its one shape.

use std::collections::BTreeMap;

use crate::report::{FigureStats, Report};

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
    /// `hits / (hits + misses)`; `None` before the first lookup.
    pub hit_ratio: Option<f64>,
    /// Entries held, where the level can tell.
    pub entries: Option<u64>,
    /// Entries the cache removed itself (over capacity, expired).
    pub evictions: u64,
}

/// One pool's figures (section `pool`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolFigures {
    /// The pool's name.
    pub pool: String,
    /// Objects handed out now.
    pub in_use: u64,
    /// Objects waiting in the pool now.
    pub idle: u64,
    /// The pool's size.
    pub max: Option<u64>,
    /// The most objects in use at once.
    pub high_water: Option<u64>,
    /// Acquires that had to wait.
    pub waits: u64,
    /// Time callers spent waiting, in seconds.
    pub wait_seconds: f64,
    /// Acquires that timed out.
    pub timeouts: u64,
}

/// One statement shape's figures (section `query`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryFigures {
    /// The fingerprint label: a short hash and the normalised statement.
    pub fingerprint: String,
    /// Statements run.
    pub calls: u64,
    /// Time spent in them, in seconds.
    pub total_seconds: f64,
    /// Their 99th percentile duration, in seconds.
    pub p99_seconds: Option<f64>,
    /// Rows returned and affected.
    pub rows: u64,
}

fn label<'a>(f: &'a FigureStats, name: &str) -> &'a str {
    f.labels.get(name).map_or("", String::as_str)
}

/// The figures of `section`, grouped by the values of the labels `keys`.
fn grouped<'a>(
    report: &'a Report,
    section: &str,
    keys: &[&str],
) -> BTreeMap<Vec<String>, Vec<&'a FigureStats>> {
    let mut out: BTreeMap<Vec<String>, Vec<&FigureStats>> = BTreeMap::new();
    for f in report.figures.iter().filter(|f| f.section == section) {
        let key = keys.iter().map(|k| label(f, k).to_string()).collect();
        out.entry(key).or_default().push(f);
    }
    out
}

/// The value of the figure `name` (with `label = value` when given) among `figures`.
fn value(figures: &[&FigureStats], name: &str, with: Option<(&str, &str)>) -> Option<f64> {
    figures
        .iter()
        .find(|f| f.name == name && with.is_none_or(|(k, v)| label(f, k) == v))
        .map(|f| f.value)
}

fn whole(v: Option<f64>) -> u64 {
    v.map_or(0, |v| v as u64)
}

impl Report {
    /// Every cache level in the report, by cache and level.
    pub fn caches(&self) -> Vec<CacheFigures> {
        grouped(self, "cache", &["cache", "level"])
            .into_iter()
            .map(|(key, figures)| {
                let requests = "perfscope_cache_requests_total";
                let evictions: f64 = figures
                    .iter()
                    .filter(|f| f.name == "perfscope_cache_evictions_total")
                    .map(|f| f.value)
                    .sum();
                CacheFigures {
                    cache: key[0].clone(),
                    level: key[1].clone(),
                    hits: whole(value(&figures, requests, Some(("result", "hit")))),
                    misses: whole(value(&figures, requests, Some(("result", "miss")))),
                    hit_ratio: value(&figures, "perfscope_cache_hit_ratio", None),
                    entries: value(&figures, "perfscope_cache_entries", None).map(|v| v as u64),
                    evictions: evictions as u64,
                }
            })
            .collect()
    }

    /// Every pool in the report, by name.
    pub fn pools(&self) -> Vec<PoolFigures> {
        grouped(self, "pool", &["pool"])
            .into_iter()
            .map(|(key, figures)| {
                let count = "perfscope_pool_connection_count";
                let opt = |name| value(&figures, name, None).map(|v| v as u64);
                PoolFigures {
                    pool: key[0].clone(),
                    in_use: whole(value(&figures, count, Some(("state", "used")))),
                    idle: whole(value(&figures, count, Some(("state", "idle")))),
                    max: opt("perfscope_pool_connection_max"),
                    high_water: opt("perfscope_pool_connection_used_high_water"),
                    waits: whole(value(&figures, "perfscope_pool_waits_total", None)),
                    wait_seconds: value(&figures, "perfscope_pool_wait_seconds_total", None)
                        .unwrap_or(0.0),
                    timeouts: whole(value(&figures, "perfscope_pool_timeouts_total", None)),
                }
            })
            .collect()
    }

    /// Every statement fingerprint in the report, most time first.
    pub fn queries(&self) -> Vec<QueryFigures> {
        let mut out: Vec<QueryFigures> = grouped(self, "query", &["fingerprint"])
            .into_iter()
            .map(|(key, figures)| QueryFigures {
                fingerprint: key[0].clone(),
                calls: whole(value(&figures, "perfscope_query_calls_total", None)),
                total_seconds: value(&figures, "perfscope_query_duration_seconds_total", None)
                    .unwrap_or(0.0),
                p99_seconds: value(&figures, "perfscope_query_duration_p99_seconds", None),
                rows: figures
                    .iter()
                    .filter(|f| f.name == "perfscope_query_rows_total")
                    .map(|f| f.value as u64)
                    .sum(),
            })
            .collect();
        out.sort_by(|a, b| b.total_seconds.total_cmp(&a.total_seconds));
        out
    }
}
