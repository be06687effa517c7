//! The "Pools & caches" and "Queries" rows, over the figures of `perfscope-instrument`.

use perfscope_core::names::*;
use serde_json::Value;

use super::panel::{PanelSpec, per_instance, rate_per_instance as rate, row, target};

/// Cache hit ratio, requests and evictions; pool occupancy, waits, starvation, timeouts and
/// connections opened and closed.
pub(super) fn pools_and_caches(y: u32, id: u32) -> Value {
    let hit_ratio = per_instance(&CACHE_HIT_RATIO);
    let panels: Vec<PanelSpec> = vec![
        (
            "Cache hit ratio",
            format!(
                "Share of lookups answered by each cache level ({}; L2 is Redis in a multi-level cache).",
                CACHE_HIT_RATIO.name
            ),
            "percentunit",
            vec![target(
                "A",
                format!("max by (cache, level) ({hit_ratio})"),
                "{{cache}} {{level}}",
            )],
        ),
        (
            "Cache requests per second",
            "Lookups per second by cache, level and result (hit or miss).".into(),
            "reqps",
            vec![target(
                "A",
                format!("sum by (cache, level, result) ({})", rate(&CACHE_REQUESTS_TOTAL)),
                "{{cache}} {{level}} {{result}}",
            )],
        ),
        (
            "Cache evictions per second",
            "Entries the cache removed itself, by cause (size: over capacity; expired: TTL).".into(),
            "ops",
            vec![target(
                "A",
                format!("sum by (cache, level, cause) ({})", rate(&CACHE_EVICTIONS_TOTAL)),
                "{{cache}} {{level}} {{cause}}",
            )],
        ),
        (
            "Pool objects in use and idle",
            format!(
                "Objects of each pool by state, and the pool's size ({}, _max).",
                POOL_CONNECTIONS.name
            ),
            "short",
            vec![
                target(
                    "A",
                    format!("max by (pool, state) ({})", per_instance(&POOL_CONNECTIONS)),
                    "{{pool}} {{state}}",
                ),
                target(
                    "B",
                    format!("max by (pool) ({})", per_instance(&POOL_CONNECTIONS_MAX)),
                    "{{pool}} max",
                ),
            ],
        ),
        (
            "Pool wait time per second",
            "Time callers spent waiting for a pooled object, per second (1 = one caller waiting all the time); starvation shows here first.".into(),
            "s",
            vec![target(
                "A",
                format!("sum by (pool) ({})", rate(&POOL_WAIT_SECONDS_TOTAL)),
                "{{pool}}",
            )],
        ),
        (
            "Pool waiters, starvation and timeouts",
            format!(
                "Callers waiting now ({}), starved pools ({}: 1 while callers wait, none is idle and the pool is at its maximum size) and acquires that timed out per second.",
                POOL_PENDING_REQUESTS.name, POOL_STARVED.name
            ),
            "short",
            vec![
                target(
                    "A",
                    format!("max by (pool) ({})", per_instance(&POOL_PENDING_REQUESTS)),
                    "{{pool}} waiting",
                ),
                target(
                    "B",
                    format!("max by (pool) ({})", per_instance(&POOL_STARVED)),
                    "{{pool}} starved",
                ),
                target(
                    "C",
                    format!("sum by (pool) ({})", rate(&POOL_TIMEOUTS_TOTAL)),
                    "{{pool}} timeouts/s",
                ),
            ],
        ),
        (
            "Pool connections opened and closed per second",
            "Connections each pool opened, and closed by cause (broken, invalid, max_lifetime, idle_timeout), per second; pools that count them (bb8).".into(),
            "ops",
            vec![
                target(
                    "A",
                    format!("sum by (pool) ({})", rate(&POOL_CONNECTIONS_CREATED_TOTAL)),
                    "{{pool}} opened",
                ),
                target(
                    "B",
                    format!("sum by (pool, cause) ({})", rate(&POOL_CONNECTIONS_CLOSED_TOTAL)),
                    "{{pool}} closed {{cause}}",
                ),
            ],
        ),
    ];
    row("Pools & caches", panels, y, id)
}

/// Query time, rate, errors, p99 and rows per statement fingerprint.
pub(super) fn queries(y: u32, id: u32) -> Value {
    let top = |name: &Name| format!("topk(10, sum by (fingerprint) ({}))", rate(name));
    let p99 = format!(
        r#"histogram_quantile(0.99, sum by (le, fingerprint) (rate({}_bucket{{job=~"$job", instance=~"$instance"}}[$__rate_interval])))"#,
        QUERY_DURATION_SECONDS.name
    );
    let panels: Vec<PanelSpec> = vec![
        (
            "Query time per second (top 10 fingerprints)",
            "Time spent in each statement shape per second (1 = one connection busy all the time), from sqlx's own events.".into(),
            "s",
            vec![target("A", top(&QUERY_DURATION_SECONDS_TOTAL), "{{fingerprint}}")],
        ),
        (
            "Queries per second (top 10 fingerprints)",
            "Statements run per second, by fingerprint (literals and IN-lists normalised).".into(),
            "reqps",
            vec![target("A", top(&QUERY_CALLS_TOTAL), "{{fingerprint}}")],
        ),
        (
            "Query errors per second (top 10 fingerprints)",
            "Statements that ran and ended with an error per second, by fingerprint (counted for statements run through an InstrumentedSqlxPool; part of the queries per second).".into(),
            "reqps",
            vec![target("A", top(&QUERY_ERRORS_TOTAL), "{{fingerprint}}")],
        ),
        (
            "Query p99 latency (top 10 fingerprints)",
            format!(
                "99th percentile duration of each statement shape, from the statement-time histogram ({}) summed over the selected instances before the quantile.",
                QUERY_DURATION_SECONDS.name
            ),
            "s",
            vec![target("A", format!("topk(10, {p99})"), "{{fingerprint}}")],
        ),
        (
            "Rows per second",
            "Rows returned and affected per second, by fingerprint.".into(),
            "short",
            vec![target(
                "A",
                format!("topk(10, sum by (fingerprint, rows) ({}))", rate(&QUERY_ROWS_TOTAL)),
                "{{fingerprint}} {{rows}}",
            )],
        ),
    ];
    row("Queries", panels, y, id)
}
