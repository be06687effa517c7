//! Typed views of the report's `cache`, `pool` and `query` figures (from
//! `perfscope-instrument`): one struct per cache level, pool and statement fingerprint, read
//! from [`Report::figures`] by name and labels, and the `query` events (slow statements,
//! index hints) read from [`Report::events`], so the JSON keeps its one shape.

use std::collections::BTreeMap;

use crate::report::{EventKind, EventStats, FigureStats, FunctionStats, Report};

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

    /// `hits / requests`, from the counts; `None` before the first lookup.
    pub fn hit_rate(&self) -> Option<f64> {
        let requests = self.requests();
        (requests > 0).then(|| self.hits as f64 / requests as f64)
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
    /// Objects handed out.
    pub acquires: u64,
    /// Acquires waiting now.
    pub pending: u64,
    /// The source's own starvation flag (`perfscope_pool_starved`), if it gives one.
    pub starved_now: Option<bool>,
    /// Connections the pool opened, for pools that open their own (bb8).
    pub created: Option<u64>,
    /// Connections the pool closed, by cause (`broken`, `invalid`, `max_lifetime`,
    /// `idle_timeout`); empty for pools that do not say.
    pub closed_by_cause: BTreeMap<String, u64>,
}

impl PoolFigures {
    /// Callers wait, no object is idle and the pool is at its maximum size (none can be
    /// opened for them): the pool is too small for its load, or objects are held too long.
    /// The source's flag when it gives one; otherwise from the counts (a pool of unknown
    /// size counts as full).
    pub fn starved(&self) -> bool {
        self.starved_now.unwrap_or_else(|| {
            let full = self.max.is_none_or(|max| self.in_use.saturating_add(self.idle) >= max);
            self.pending > 0 && self.idle == 0 && full
        })
    }

    /// Connections the pool closed, every cause; `None` for pools that do not say.
    pub fn closed(&self) -> Option<u64> {
        let all = self.closed_by_cause.values().fold(0, |a: u64, n| a.saturating_add(*n));
        (!self.closed_by_cause.is_empty()).then_some(all)
    }

    /// The share of acquires that had to wait; `None` before the first acquire.
    pub fn wait_share(&self) -> Option<f64> {
        (self.acquires > 0).then(|| self.waits as f64 / self.acquires as f64)
    }

    /// Mean wait of the acquires that waited, in seconds; `None` when none waited.
    pub fn mean_wait_seconds(&self) -> Option<f64> {
        (self.waits > 0).then(|| self.wait_seconds / self.waits as f64)
    }
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
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
}

impl QueryFigures {
    /// Mean statement time, in seconds; `None` before the first call.
    pub fn mean_seconds(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.total_seconds / self.calls as f64)
    }
}

/// A statement of the slow-query log: a `query` event of kind anomaly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlowQueryEvent {
    /// When it finished, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// Its fingerprint label.
    pub fingerprint: String,
    /// How long it took, in seconds, if the event says.
    pub elapsed_seconds: Option<f64>,
    /// The event's sentence: time, threshold, rows and the statement as run.
    pub message: String,
}

/// An index hint: a `query` event of kind recommendation (what `perfscope-instrument`'s
/// `IndexAdvice` gives, published as events). Labels `table` and `index` are read when the
/// event has them; otherwise they come from a message of the form `index hint: <index>
/// (<reason>)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexHintEvent {
    /// When it was given, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The fingerprint label of the statement explained (empty if the event has none).
    pub fingerprint: String,
    /// The table to index (empty if unknown).
    pub table: String,
    /// The suggested index, e.g. `CREATE INDEX ON signals(symbol)` (empty if unknown).
    pub index: String,
    /// Why: the plan's evidence, or the whole message.
    pub reason: String,
}

fn label<'a>(f: &'a FigureStats, name: &str) -> &'a str {
    f.labels.get(name).map_or("", String::as_str)
}

/// The figures [`Report::caches`] reads (section `cache`).
const CACHE_NAMES: [&str; 9] = [
    "perfscope_cache_requests_total",
    "perfscope_cache_hit_ratio",
    "perfscope_cache_entries",
    "perfscope_cache_evictions_total",
    "perfscope_cache_removals_total",
    "perfscope_cache_writes_total",
    "perfscope_cache_errors_total",
    "perfscope_cache_loads_total",
    "perfscope_cache_load_errors_total",
];

/// The figures [`Report::pools`] reads (section `pool`).
const POOL_NAMES: [&str; 11] = [
    "perfscope_pool_connection_count",
    "perfscope_pool_connection_max",
    "perfscope_pool_connection_used_high_water",
    "perfscope_pool_pending_requests",
    "perfscope_pool_starved",
    "perfscope_pool_acquires_total",
    "perfscope_pool_waits_total",
    "perfscope_pool_wait_seconds_total",
    "perfscope_pool_timeouts_total",
    "perfscope_pool_connections_created_total",
    "perfscope_pool_connections_closed_total",
];

/// The figures [`Report::queries`] reads (section `query`).
const QUERY_NAMES: [&str; 4] = [
    "perfscope_query_calls_total",
    "perfscope_query_duration_seconds_total",
    "perfscope_query_rows_total",
    "perfscope_query_duration_p99_seconds",
];

/// Whether `figure` is one the typed views read (and the views show in their sections); a
/// source's other figures, in these sections or not, are only in the generic listings.
pub(crate) fn is_typed(figure: &FigureStats) -> bool {
    let names: &[&str] = match figure.section.as_str() {
        "cache" => &CACHE_NAMES,
        "pool" => &POOL_NAMES,
        "query" => &QUERY_NAMES,
        _ => return false,
    };
    names.contains(&figure.name.as_str())
}

/// The figures of `section` the typed views read, grouped by the values of the labels `keys`.
fn grouped<'a>(
    report: &'a Report,
    section: &str,
    keys: &[&str],
) -> BTreeMap<Vec<String>, Vec<&'a FigureStats>> {
    let mut out: BTreeMap<Vec<String>, Vec<&FigureStats>> = BTreeMap::new();
    for f in report.figures.iter().filter(|f| f.section == section && is_typed(f)) {
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

/// The sum of the figures named `name` among `figures`, by the value of their label `key`.
fn by_label(figures: &[&FigureStats], name: &str, key: &str) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.name == name) {
        let n: &mut u64 = out.entry(label(f, key).to_string()).or_default();
        *n = n.saturating_add(f.value as u64);
    }
    out
}

/// Whether `event` is a statement of the slow-query log.
pub(crate) fn is_slow_query(event: &EventStats) -> bool {
    event.section == "query"
        && event.kind == EventKind::Anomaly
        && event.labels.contains_key("fingerprint")
}

/// Whether `event` is an index hint.
pub(crate) fn is_index_hint(event: &EventStats) -> bool {
    event.section == "query" && event.kind == EventKind::Recommendation
}

/// `(index, reason)` from `index hint: <index> (<reason>)`; else no index and the message.
fn parse_hint(message: &str) -> (&str, &str) {
    let body = message.strip_prefix("index hint: ").unwrap_or(message);
    match body.split_once(" (") {
        Some((index, rest)) if index.trim_start().to_ascii_uppercase().starts_with("CREATE") => {
            (index.trim(), rest.strip_suffix(')').unwrap_or(rest))
        }
        _ => ("", body),
    }
}

/// The table of `CREATE [UNIQUE] INDEX [name] ON <table>(<columns>)`.
fn table_of(index: &str) -> &str {
    let Some(at) = index.find(" ON ").or_else(|| index.find(" on ")) else {
        return "";
    };
    index[at + 4..].split('(').next().unwrap_or("").trim()
}

impl Report {
    /// Every cache level in the report, by cache and level (`l1` before `l2`). The loader's
    /// figures (label `cache` only) are on the cache's last level.
    pub fn caches(&self) -> Vec<CacheFigures> {
        let mut out: Vec<CacheFigures> = Vec::new();
        for (cache, figures) in grouped(self, "cache", &["cache"]) {
            let (levelled, cache_wide): (Vec<&FigureStats>, Vec<&FigureStats>) =
                figures.into_iter().partition(|f| f.labels.contains_key("level"));
            let mut levels: BTreeMap<&str, Vec<&FigureStats>> = BTreeMap::new();
            for f in levelled {
                levels.entry(label(f, "level")).or_default().push(f);
            }
            let first = out.len();
            for (level, figures) in levels {
                let requests = "perfscope_cache_requests_total";
                let evictions_by_cause =
                    by_label(&figures, "perfscope_cache_evictions_total", "cause");
                out.push(CacheFigures {
                    cache: cache[0].clone(),
                    level: level.to_string(),
                    hits: whole(value(&figures, requests, Some(("result", "hit")))),
                    misses: whole(value(&figures, requests, Some(("result", "miss")))),
                    hit_ratio: value(&figures, "perfscope_cache_hit_ratio", None),
                    entries: value(&figures, "perfscope_cache_entries", None).map(|v| v as u64),
                    evictions: evictions_by_cause.values().fold(0, |a, n| a.saturating_add(*n)),
                    evictions_by_cause,
                    removals_by_cause: by_label(
                        &figures,
                        "perfscope_cache_removals_total",
                        "cause",
                    ),
                    writes: whole(value(&figures, "perfscope_cache_writes_total", None)),
                    errors: whole(value(&figures, "perfscope_cache_errors_total", None)),
                    loads: None,
                    load_errors: None,
                });
            }
            let loads = value(&cache_wide, "perfscope_cache_loads_total", None);
            if loads.is_none() {
                continue;
            }
            if out.len() == first {
                // A loader's figures without a level's: the cache still has a row.
                out.push(CacheFigures { cache: cache[0].clone(), ..CacheFigures::default() });
            }
            if let Some(last) = out.last_mut() {
                last.loads = loads.map(|v| v as u64);
                let errors = value(&cache_wide, "perfscope_cache_load_errors_total", None);
                last.load_errors = Some(whole(errors));
            }
        }
        out
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
                    acquires: whole(value(&figures, "perfscope_pool_acquires_total", None)),
                    pending: whole(value(&figures, "perfscope_pool_pending_requests", None)),
                    starved_now: value(&figures, "perfscope_pool_starved", None).map(|v| v > 0.0),
                    created: opt("perfscope_pool_connections_created_total"),
                    closed_by_cause: by_label(
                        &figures,
                        "perfscope_pool_connections_closed_total",
                        "cause",
                    ),
                }
            })
            .collect()
    }

    /// Every statement fingerprint in the report, most time first.
    pub fn queries(&self) -> Vec<QueryFigures> {
        let mut out: Vec<QueryFigures> = grouped(self, "query", &["fingerprint"])
            .into_iter()
            .map(|(key, figures)| {
                let rows = by_label(&figures, "perfscope_query_rows_total", "rows");
                let rows_of = |kind: &str| rows.get(kind).copied().unwrap_or(0);
                QueryFigures {
                    fingerprint: key[0].clone(),
                    calls: whole(value(&figures, "perfscope_query_calls_total", None)),
                    total_seconds: value(&figures, "perfscope_query_duration_seconds_total", None)
                        .unwrap_or(0.0),
                    p99_seconds: value(&figures, "perfscope_query_duration_p99_seconds", None),
                    rows: rows.values().fold(0, |a, n| a.saturating_add(*n)),
                    rows_returned: rows_of("returned"),
                    rows_affected: rows_of("affected"),
                }
            })
            .collect();
        out.sort_by(|a, b| b.total_seconds.total_cmp(&a.total_seconds));
        out
    }

    /// The slow-query log's statements in the report's events, slowest first.
    pub fn slow_queries(&self) -> Vec<SlowQueryEvent> {
        let mut out: Vec<SlowQueryEvent> = self
            .events
            .iter()
            .filter(|e| is_slow_query(e))
            .map(|e| SlowQueryEvent {
                at_unix_ms: e.at_unix_ms,
                fingerprint: e.labels.get("fingerprint").cloned().unwrap_or_default(),
                elapsed_seconds: e.value,
                message: e.message.clone(),
            })
            .collect();
        let elapsed = |q: &SlowQueryEvent| q.elapsed_seconds.unwrap_or(0.0);
        out.sort_by(|a, b| elapsed(b).total_cmp(&elapsed(a)));
        out
    }

    /// The index hints in the report's events, in their order.
    pub fn index_hints(&self) -> Vec<IndexHintEvent> {
        self.events
            .iter()
            .filter(|e| is_index_hint(e))
            .map(|e| {
                let labelled = |key: &str| e.labels.get(key).map(String::as_str);
                let (index, reason) = match labelled("index") {
                    Some(index) => (index, e.message.as_str()),
                    None => parse_hint(&e.message),
                };
                IndexHintEvent {
                    at_unix_ms: e.at_unix_ms,
                    fingerprint: labelled("fingerprint").unwrap_or("").to_string(),
                    table: labelled("table").unwrap_or_else(|| table_of(index)).to_string(),
                    index: index.to_string(),
                    reason: reason.to_string(),
                }
            })
            .collect()
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

/// The frame of a pool's acquires, `pool::<name>::acquire`, if the report has it.
pub(crate) fn acquire_frame<'a>(
    report: &'a Report,
    pool: &PoolFigures,
) -> Option<&'a FunctionStats> {
    report.function(&format!("pool::{}::acquire", pool.pool))
}

#[cfg(test)]
mod tests {
    use super::{parse_hint, table_of};

    #[test]
    fn a_hint_message_gives_its_index_reason_and_table() {
        let message = "index hint: CREATE INDEX ON signals(symbol, kind) (EXPLAIN QUERY PLAN: \
                       `SCAN signals` (every row of signals read) while ...)";
        let (index, reason) = parse_hint(message);
        assert_eq!(index, "CREATE INDEX ON signals(symbol, kind)");
        assert_eq!(
            reason,
            "EXPLAIN QUERY PLAN: `SCAN signals` (every row of signals read) while ..."
        );
        assert_eq!(table_of(index), "signals");
        assert_eq!(table_of("CREATE UNIQUE INDEX ix ON \"t 1\" (a)"), "\"t 1\"");
        assert_eq!(parse_hint("add an index (somewhere)"), ("", "add an index (somewhere)"));
        assert_eq!(table_of(""), "");
    }
}
