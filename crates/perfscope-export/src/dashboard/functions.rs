//! The per-function panels at the top of the dashboard: hotspots by self time, the latency
//! heatmap, calls, latency quantiles, self and busy time, allocations and panics (the
//! function families, selected by the dashboard's `function` variable).

use perfscope_core::names::{
    FUNCTION_ALLOC_BYTES_TOTAL as ALLOC_BYTES, FUNCTION_ALLOCATIONS_TOTAL as ALLOCATIONS,
    FUNCTION_BUSY_SECONDS_TOTAL as BUSY_SECONDS, FUNCTION_CALLS_TOTAL as CALLS,
    FUNCTION_DURATION_SECONDS as DURATION, FUNCTION_PANICS_TOTAL as PANICS,
    FUNCTION_SELF_SECONDS_TOTAL as SELF_SECONDS, Name,
};
use serde_json::{Value, json};

use super::panel::{datasource, grid, rate, select, target, timeseries};

/// The panels, without ids, top to bottom (32 grid units high in all).
pub(super) fn panels() -> Vec<Value> {
    let by_function = |name: &Name| format!("sum by (function) ({})", rate(name.name));
    let quantile = |q: &str| {
        format!(
            "histogram_quantile({q}, sum by (function, le) ({}))",
            rate(&format!("{}_bucket", DURATION.name))
        )
    };
    vec![
        hotspots(grid(0, 0, 12, 10)),
        heatmap(grid(12, 0, 12, 10)),
        timeseries(
            "Calls per second",
            "Completed calls per second, by function.",
            "ops",
            vec![target("A", by_function(&CALLS), "{{function}}")],
            grid(0, 10, 12, 8),
        ),
        timeseries(
            "Latency p50 / p99",
            "Latency quantiles from the duration histogram, by function.",
            "s",
            vec![
                target("A", quantile("0.5"), "p50 {{function}}"),
                target("B", quantile("0.99"), "p99 {{function}}"),
            ],
            grid(12, 10, 12, 8),
        ),
        timeseries(
            "Self and busy time",
            "Share of a core spent in each function (100% = one core): itself only (self), and with its measured callees (busy).",
            "percentunit",
            vec![
                target("A", by_function(&SELF_SECONDS), "self {{function}}"),
                target("B", by_function(&BUSY_SECONDS), "busy {{function}}"),
            ],
            grid(0, 18, 12, 8),
        ),
        timeseries(
            "Allocation rate",
            "Bytes allocated per second by each function itself (needs perfscope's counting allocator).",
            "Bps",
            vec![target("A", by_function(&ALLOC_BYTES), "{{function}}")],
            grid(12, 18, 6, 8),
        ),
        timeseries(
            "Allocations per second",
            "Allocations per second made by each function itself.",
            "ops",
            vec![target("A", by_function(&ALLOCATIONS), "{{function}}")],
            grid(18, 18, 6, 8),
        ),
        timeseries(
            "Panics",
            "Calls that ended by unwinding, per interval.",
            "short",
            vec![target(
                "A",
                format!("sum by (function) (increase({}[$__rate_interval]))", select(PANICS.name)),
                "{{function}}",
            )],
            grid(0, 26, 24, 6),
        ),
    ]
}

pub(super) fn hotspots(pos: Value) -> Value {
    let expr = format!("topk(20, sum by (function, module) ({}))", rate(SELF_SECONDS.name));
    json!({
        "type": "table",
        "title": "Hotspots: self time",
        "description": "Functions by self time per second (100% = one core busy in the function itself, callees excluded; exact to the nanosecond). Top 20.",
        "datasource": datasource(),
        "gridPos": pos,
        "targets": [{
            "datasource": datasource(),
            "refId": "A",
            "expr": expr,
            "format": "table",
            "instant": true,
            "range": false,
        }],
        "transformations": [{
            "id": "organize",
            "options": {
                "excludeByName": { "Time": true },
                "renameByName": { "Value": "self time (cores)" },
            },
        }],
        "fieldConfig": {
            "defaults": { "unit": "percentunit", "decimals": 1 },
            "overrides": [],
        },
        "options": { "showHeader": true, "sortBy": [{ "displayName": "self time (cores)", "desc": true }] },
    })
}

pub(super) fn heatmap(pos: Value) -> Value {
    json!({
        "type": "heatmap",
        "title": "Latency distribution",
        "description": "Calls per second by latency bucket, all selected functions.",
        "datasource": datasource(),
        "gridPos": pos,
        "targets": [{
            "datasource": datasource(),
            "refId": "A",
            "expr": format!("sum by (le) ({})", rate(&format!("{}_bucket", DURATION.name))),
            "format": "heatmap",
            "legendFormat": "{{le}}",
            "range": true,
        }],
        "options": {
            "calculate": false,
            "yAxis": { "unit": "s" },
            "cellGap": 1,
            "color": { "mode": "scheme", "scheme": "Oranges", "scale": "exponential", "exponent": 0.5 },
            "tooltip": { "show": true, "yHistogram": true },
        },
    })
}
