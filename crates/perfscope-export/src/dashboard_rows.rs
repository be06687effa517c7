//! The dashboard's collapsed rows of timeseries panels, and its "Pools & caches" and "Queries"
//! rows over the figures of `perfscope-instrument` ([`INSTRUMENT_NAMES`]).

use serde_json::{Value, json};

use crate::dashboard::{grid, per_instance, target, timeseries};
use crate::families::INSTRUMENT_NAMES;

/// `perfscope-instrument`'s name `name`, checked against [`INSTRUMENT_NAMES`].
fn name(name: &'static str) -> &'static str {
    debug_assert!(INSTRUMENT_NAMES.contains(&name), "{name} is not an instrument name");
    name
}

/// `rate(name{job, instance}[$__rate_interval])`.
fn rate(metric: &'static str) -> String {
    format!("rate({}[$__rate_interval])", per_instance(name(metric)))
}

/// A timeseries panel: title, description, unit, targets.
pub(crate) type PanelSpec = (&'static str, &'static str, &'static str, Vec<Value>);

/// A collapsed row of timeseries panels, two a line (the dashboard's lower rows).
pub(crate) fn row(title: &str, panels: Vec<PanelSpec>, y: u32, id: u32) -> Value {
    let inner: Vec<Value> = (0u32..)
        .zip(panels)
        .map(|(i, (title, description, unit, targets))| {
            let pos = grid((i % 2) * 12, y + 1 + (i / 2) * 8, 12, 8);
            let mut panel = timeseries(title, description, unit, targets, pos);
            panel["id"] = json!(id + 1 + i);
            panel
        })
        .collect();
    json!({
        "type": "row",
        "title": title,
        "collapsed": true,
        "gridPos": grid(0, y, 24, 1),
        "id": id,
        "panels": inner,
    })
}

/// Cache hit ratio, requests and evictions; pool occupancy, waits, starvation, timeouts and
/// connections opened and closed.
pub(crate) fn pools_and_caches(y: u32, id: u32) -> Value {
    let hit_ratio = per_instance(name("perfscope_cache_hit_ratio"));
    let panels: Vec<PanelSpec> = vec![
        (
            "Cache hit ratio",
            "Share of lookups answered by each cache level (perfscope_cache_hit_ratio; L2 is Redis in a multi-level cache).",
            "percentunit",
            vec![target(
                "A",
                format!("max by (cache, level) ({hit_ratio})"),
                "{{cache}} {{level}}",
            )],
        ),
        (
            "Cache requests per second",
            "Lookups per second by cache, level and result (hit or miss).",
            "reqps",
            vec![target(
                "A",
                format!(
                    "sum by (cache, level, result) ({})",
                    rate("perfscope_cache_requests_total")
                ),
                "{{cache}} {{level}} {{result}}",
            )],
        ),
        (
            "Cache evictions per second",
            "Entries the cache removed itself, by cause (size: over capacity; expired: TTL).",
            "ops",
            vec![target(
                "A",
                format!(
                    "sum by (cache, level, cause) ({})",
                    rate("perfscope_cache_evictions_total")
                ),
                "{{cache}} {{level}} {{cause}}",
            )],
        ),
        (
            "Pool objects in use and idle",
            "Objects of each pool by state, and the pool's size (perfscope_pool_connections, _max).",
            "short",
            vec![
                target(
                    "A",
                    format!(
                        "max by (pool, state) ({})",
                        per_instance(name("perfscope_pool_connections"))
                    ),
                    "{{pool}} {{state}}",
                ),
                target(
                    "B",
                    format!(
                        "max by (pool) ({})",
                        per_instance(name("perfscope_pool_connections_max"))
                    ),
                    "{{pool}} max",
                ),
            ],
        ),
        (
            "Pool wait time per second",
            "Time callers spent waiting for a pooled object, per second (1 = one caller waiting all the time); starvation shows here first.",
            "s",
            vec![target(
                "A",
                format!("sum by (pool) ({})", rate("perfscope_pool_wait_seconds_total")),
                "{{pool}}",
            )],
        ),
        (
            "Pool waiters, starvation and timeouts",
            "Callers waiting now (perfscope_pool_pending_requests), starved pools (perfscope_pool_starved: 1 while callers wait, none is idle and the pool is at its maximum size) and acquires that timed out per second.",
            "short",
            vec![
                target(
                    "A",
                    format!(
                        "max by (pool) ({})",
                        per_instance(name("perfscope_pool_pending_requests"))
                    ),
                    "{{pool}} waiting",
                ),
                target(
                    "B",
                    format!("max by (pool) ({})", per_instance(name("perfscope_pool_starved"))),
                    "{{pool}} starved",
                ),
                target(
                    "C",
                    format!("sum by (pool) ({})", rate("perfscope_pool_timeouts_total")),
                    "{{pool}} timeouts/s",
                ),
            ],
        ),
        (
            "Pool connections opened and closed per second",
            "Connections each pool opened, and closed by cause (broken, invalid, max_lifetime, idle_timeout), per second; pools that count them (bb8).",
            "ops",
            vec![
                target(
                    "A",
                    format!("sum by (pool) ({})", rate("perfscope_pool_connections_created_total")),
                    "{{pool}} opened",
                ),
                target(
                    "B",
                    format!(
                        "sum by (pool, cause) ({})",
                        rate("perfscope_pool_connections_closed_total")
                    ),
                    "{{pool}} closed {{cause}}",
                ),
            ],
        ),
    ];
    row("Pools & caches", panels, y, id)
}

/// Query time, rate, errors, p99 and rows per statement fingerprint.
pub(crate) fn queries(y: u32, id: u32) -> Value {
    let top = |metric: &'static str| format!("topk(10, sum by (fingerprint) ({}))", rate(metric));
    let p99 = per_instance(name("perfscope_query_duration_p99_seconds"));
    let panels: Vec<PanelSpec> = vec![
        (
            "Query time per second (top 10 fingerprints)",
            "Time spent in each statement shape per second (1 = one connection busy all the time), from sqlx's own events.",
            "s",
            vec![target("A", top("perfscope_query_duration_seconds_total"), "{{fingerprint}}")],
        ),
        (
            "Queries per second (top 10 fingerprints)",
            "Statements run per second, by fingerprint (literals and IN-lists normalised).",
            "reqps",
            vec![target("A", top("perfscope_query_calls_total"), "{{fingerprint}}")],
        ),
        (
            "Query errors per second (top 10 fingerprints)",
            "Statements that ran and ended with an error per second, by fingerprint (counted for statements run through an InstrumentedSqlxPool; part of the queries per second).",
            "reqps",
            vec![target("A", top("perfscope_query_errors_total"), "{{fingerprint}}")],
        ),
        (
            "Query p99 latency (top 10 fingerprints)",
            "99th percentile duration of each statement shape since start.",
            "s",
            vec![target("A", format!("topk(10, max by (fingerprint) ({p99}))"), "{{fingerprint}}")],
        ),
        (
            "Rows per second",
            "Rows returned and affected per second, by fingerprint.",
            "short",
            vec![target(
                "A",
                format!(
                    "topk(10, sum by (fingerprint, rows) ({}))",
                    rate("perfscope_query_rows_total")
                ),
                "{{fingerprint}} {{rows}}",
            )],
        ),
    ];
    row("Queries", panels, y, id)
}
