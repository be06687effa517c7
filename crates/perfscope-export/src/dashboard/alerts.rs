//! The top of the dashboard: the alerts' state over time (the exported alert gauges), the
//! memory trend (`predict_linear` on the heap and resident memory, and the time until their
//! growth uses up the host's available memory), and the annotations marking anomalies,
//! recommendations and fired alerts (from the counters' increases).

use perfscope_core::names::*;
use serde_json::{Value, json};

use super::panel::{datasource, grid, per_instance, per_instance_with, target, timeseries};

/// The window `predict_linear` and `deriv` fit over.
const TREND_WINDOW: &str = "30m";
/// The longest time to a limit shown: one week, for memory that does not grow.
const FAR: u32 = 7 * 24 * 3600;

/// The panels at the top, `height` grid units high, ids from `id`.
pub(super) fn panels(height: u32) -> Vec<Value> {
    let predicted =
        |name: &Name| format!("predict_linear({}[{TREND_WINDOW}], 3600)", per_instance(name));
    let time_to_limit = |name: &Name| {
        format!(
            "clamp_max({} / on (job, instance) clamp_min(deriv({}[{TREND_WINDOW}]), 0), {FAR})",
            per_instance(&NODE_MEMORY_MEMAVAILABLE_BYTES),
            per_instance(name)
        )
    };
    vec![
        timeline(grid(0, 0, 12, height)),
        timeseries(
            "Memory trend: now and in 1 h",
            &format!(
                "The heap ({}) and resident memory ({}) now, and where the trend of the last {TREND_WINDOW} puts them in an hour (predict_linear).",
                HEAP_IN_USE_BYTES.name, PROCESS_RESIDENT_MEMORY_BYTES.name
            ),
            "bytes",
            vec![
                target("A", per_instance(&HEAP_IN_USE_BYTES), "heap {{instance}}"),
                target("B", predicted(&HEAP_IN_USE_BYTES), "heap in 1 h {{instance}}"),
                target("C", per_instance(&PROCESS_RESIDENT_MEMORY_BYTES), "rss {{instance}}"),
                target("D", predicted(&PROCESS_RESIDENT_MEMORY_BYTES), "rss in 1 h {{instance}}"),
            ],
            grid(12, 0, 6, height),
        ),
        timeseries(
            "Time until memory runs out",
            &format!(
                "At the growth rate of the last {TREND_WINDOW}, how long until the heap or resident memory has grown by the host's available memory ({}); one week when it does not grow.",
                NODE_MEMORY_MEMAVAILABLE_BYTES.name
            ),
            "s",
            vec![
                target("A", time_to_limit(&HEAP_IN_USE_BYTES), "heap {{instance}}"),
                target("B", time_to_limit(&PROCESS_RESIDENT_MEMORY_BYTES), "rss {{instance}}"),
            ],
            grid(18, 0, 6, height),
        ),
    ]
}

/// A state timeline of every armed threshold: firing (red) or not (green), per alert.
fn timeline(pos: Value) -> Value {
    let expr = format!("max by (alert, severity) ({})", per_instance(&ALERT_FIRING));
    json!({
        "type": "state-timeline",
        "title": "Alerts",
        "description": format!("Each armed threshold's alert over time: firing on any selected instance, or not ({}; the process's own thresholds, e.g. the main job's).", ALERT_FIRING.name),
        "datasource": datasource(),
        "gridPos": pos,
        "targets": [target("A", expr, "{{alert}} ({{severity}})")],
        "fieldConfig": {
            "defaults": {
                "color": { "mode": "thresholds" },
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{ "color": "green", "value": null }, { "color": "red", "value": 1 }],
                },
                "mappings": [{
                    "type": "value",
                    "options": {
                        "0": { "text": "ok", "color": "green" },
                        "1": { "text": "firing", "color": "red" },
                    },
                }],
                "custom": { "fillOpacity": 80, "lineWidth": 0 },
            },
            "overrides": [],
        },
        "options": {
            "mergeValues": true,
            "showValue": "never",
            "alignValue": "left",
            "rowHeight": 0.9,
            "legend": { "showLegend": false },
            "tooltip": { "mode": "single" },
        },
    })
}

/// A counter's events over the last minute: its increase, and the series that appeared in
/// it (a counter that starts at one has no increase to show).
fn increases(series: &str, by: &str) -> String {
    format!(
        "sum by ({by}) ((increase({series}[1m]) > 0) or ((({series}) unless ({series} offset 1m)) > 0))"
    )
}

fn annotation(name: &str, color: &str, expr: String, title: &str, text: &str, tags: &str) -> Value {
    json!({
        "name": name,
        "datasource": datasource(),
        "enable": true,
        "hide": false,
        "iconColor": color,
        "expr": expr,
        "step": "1m",
        "titleFormat": title,
        "textFormat": text,
        "tagKeys": tags,
        "useValueForTime": false,
    })
}

/// The annotations: anomalies, recommendations and fired alerts.
pub(super) fn annotations() -> Vec<Value> {
    let fired = per_instance_with(&ALERT_TRANSITIONS_TOTAL, r#"state="fired""#);
    vec![
        annotation(
            "Anomalies",
            "orange",
            increases(&per_instance(&ANOMALIES_TOTAL), "section, subject, kind"),
            "anomaly: {{kind}}",
            "{{section}} {{subject}}",
            "section,kind",
        ),
        annotation(
            "Recommendations",
            "blue",
            increases(&per_instance(&RECOMMENDATIONS_TOTAL), "kind, subject"),
            "recommendation: {{kind}}",
            "{{subject}}",
            "kind",
        ),
        annotation(
            "Alerts fired",
            "red",
            increases(&fired, "alert, severity"),
            "alert fired: {{alert}}",
            "{{severity}}",
            "alert,severity",
        ),
    ]
}
