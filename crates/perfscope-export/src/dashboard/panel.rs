//! The dashboard's building blocks: the label selectors every query applies, a query target,
//! a grid position, a timeseries panel, and a collapsed row of timeseries panels.

use perfscope_core::names::Name;
use serde_json::{Value, json};

/// The label matchers every per-function query applies.
const SELECTOR: &str = r#"job=~"$job", instance=~"$instance", function=~"$function""#;

/// `metric{job=~"$job", instance=~"$instance", function=~"$function"}`.
pub(super) fn select(metric: &str) -> String {
    format!("{metric}{{{SELECTOR}}}")
}

/// `rate(<selected metric>[$__rate_interval])`.
pub(super) fn rate(metric: &str) -> String {
    format!("rate({}[$__rate_interval])", select(metric))
}

/// `name{job=~"$job", instance=~"$instance"}`: a figure of the process or host, per instance.
pub(super) fn per_instance(name: &Name) -> String {
    per_instance_with(name, "")
}

/// `name{job=~"$job", instance=~"$instance", <more>}` (`more` as PromQL matchers, or empty).
pub(super) fn per_instance_with(name: &Name, more: &str) -> String {
    let more = if more.is_empty() { String::new() } else { format!(", {more}") };
    format!(r#"{}{{job=~"$job", instance=~"$instance"{more}}}"#, name.name)
}

/// `rate(name{job, instance}[$__rate_interval])`.
pub(super) fn rate_per_instance(name: &Name) -> String {
    format!("rate({}[$__rate_interval])", per_instance(name))
}

pub(super) fn target(ref_id: &str, expr: String, legend: &str) -> Value {
    json!({
        "datasource": datasource(),
        "refId": ref_id,
        "expr": expr,
        "legendFormat": legend,
        "range": true,
    })
}

pub(super) fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": "${datasource}" })
}

pub(super) fn grid(x: u32, y: u32, w: u32, h: u32) -> Value {
    json!({ "x": x, "y": y, "w": w, "h": h })
}

pub(super) fn timeseries(
    title: &str,
    description: &str,
    unit: &str,
    targets: Vec<Value>,
    pos: Value,
) -> Value {
    json!({
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": datasource(),
        "gridPos": pos,
        "targets": targets,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "custom": { "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never" },
            },
            "overrides": [],
        },
        "options": {
            "legend": { "displayMode": "table", "placement": "right", "calcs": ["mean", "max"] },
            "tooltip": { "mode": "multi", "sort": "desc" },
        },
    })
}

/// A timeseries panel of a row: title, description, unit, targets.
pub(super) type PanelSpec = (&'static str, String, &'static str, Vec<Value>);

/// A collapsed row of timeseries panels, two a line (the dashboard's lower rows).
pub(super) fn row(title: &str, panels: Vec<PanelSpec>, y: u32, id: u32) -> Value {
    let inner: Vec<Value> = (0u32..)
        .zip(panels)
        .map(|(i, (title, description, unit, targets))| {
            let pos = grid((i % 2) * 12, y + 1 + (i / 2) * 8, 12, 8);
            let mut panel = timeseries(title, &description, unit, targets, pos);
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
