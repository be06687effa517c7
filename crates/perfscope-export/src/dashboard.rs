//! The Grafana dashboard for perfscope's Prometheus metrics, built from one definition.
//!
//! `dashboards/perfscope.json` is this module's output; regenerate it with
//!
//! ```text
//! cargo run -p perfscope-export --bin perfscope-dashboard > dashboards/perfscope.json
//! ```
//!
//! (a test fails while the committed file differs). Every query selects with the dashboard's
//! variables `job`, `instance` and (where there is one) `function`, and uses only names
//! [`families::sample_names`](crate::families::sample_names) lists.

use serde_json::{Value, json};

use crate::families::{
    ALLOC_BYTES, ALLOCATIONS, BUSY_SECONDS, CALLS, DURATION, HEAP_IN_USE, MONITOR_NAMES, PANICS,
    PROCESS_THREADS, SELF_SECONDS,
};

/// The dashboard's uid in Grafana.
pub const UID: &str = "perfscope";

/// The label matchers every query applies.
const SELECTOR: &str = r#"job=~"$job", instance=~"$instance", function=~"$function""#;

/// `metric{job=~"$job", instance=~"$instance", function=~"$function"}`.
fn select(metric: &str) -> String {
    format!("{metric}{{{SELECTOR}}}")
}

/// `rate(<selected metric>[$__rate_interval])`.
fn rate(metric: &str) -> String {
    format!("rate({}[$__rate_interval])", select(metric))
}

pub(crate) fn target(ref_id: &str, expr: String, legend: &str) -> Value {
    json!({
        "datasource": datasource(),
        "refId": ref_id,
        "expr": expr,
        "legendFormat": legend,
        "range": true,
    })
}

fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": "${datasource}" })
}

pub(crate) fn grid(x: u32, y: u32, w: u32, h: u32) -> Value {
    json!({ "x": x, "y": y, "w": w, "h": h })
}

pub(crate) fn timeseries(
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

fn hotspots(pos: Value) -> Value {
    let expr = format!("topk(20, sum by (function, module) ({}))", rate(SELF_SECONDS));
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

fn heatmap(pos: Value) -> Value {
    json!({
        "type": "heatmap",
        "title": "Latency distribution",
        "description": "Calls per second by latency bucket, all selected functions.",
        "datasource": datasource(),
        "gridPos": pos,
        "targets": [{
            "datasource": datasource(),
            "refId": "A",
            "expr": format!("sum by (le) ({})", rate(&format!("{DURATION}_bucket"))),
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

/// `name{job=~"$job", instance=~"$instance"}`: a figure of the process or host, per instance.
pub(crate) fn per_instance(name: &str) -> String {
    format!(r#"{name}{{job=~"$job", instance=~"$instance"}}"#)
}

/// The monitor's name `name`, checked against [`MONITOR_NAMES`] (a typo fails the tests).
fn monitor(name: &'static str) -> &'static str {
    debug_assert!(MONITOR_NAMES.contains(&name), "{name} is not a monitor name");
    name
}

/// The "System monitor" row: the process figures every snapshot carries (threads, heap) and
/// the monitor's host, process, tokio and traffic figures (absent without a monitor).
fn system_row(y: u32, id: u32) -> Value {
    let m = |name| per_instance(monitor(name));
    let traffic = |name| select(monitor(name));
    let by = |metric: String| format!("sum by (instance) ({metric})");
    let panels = [
        (
            "CPU usage per core",
            "Busy fraction of each logical CPU of the host (perfscope_node_cpu_usage_ratio with a cpu label), since the monitor's previous sample.",
            "percentunit",
            vec![target(
                "A",
                format!(
                    r#"{}{{job=~"$job", instance=~"$instance", cpu!=""}}"#,
                    monitor("perfscope_node_cpu_usage_ratio")
                ),
                "cpu {{cpu}} {{instance}}",
            )],
        ),
        (
            "Load average",
            "The host's 1, 5 and 15 minute load averages.",
            "short",
            vec![
                target("A", m("perfscope_node_load1"), "1m {{instance}}"),
                target("B", m("perfscope_node_load5"), "5m {{instance}}"),
                target("C", m("perfscope_node_load15"), "15m {{instance}}"),
            ],
        ),
        (
            "Memory available / used",
            "The host's MemAvailable, and MemTotal minus MemAvailable.",
            "bytes",
            vec![
                target(
                    "A",
                    m("perfscope_node_memory_MemAvailable_bytes"),
                    "available {{instance}}",
                ),
                target(
                    "B",
                    format!(
                        "{} - {}",
                        m("perfscope_node_memory_MemTotal_bytes"),
                        m("perfscope_node_memory_MemAvailable_bytes")
                    ),
                    "used {{instance}}",
                ),
            ],
        ),
        (
            "Network bytes/s",
            "Bytes received and sent per second by each network interface, over the monitor's interval.",
            "Bps",
            vec![
                target(
                    "A",
                    m("perfscope_node_network_receive_bytes_per_second"),
                    "rx {{device}} {{instance}}",
                ),
                target(
                    "B",
                    m("perfscope_node_network_transmit_bytes_per_second"),
                    "tx {{device}} {{instance}}",
                ),
            ],
        ),
        (
            "Process: resident memory and heap",
            "Resident set size of the measured process, and the heap it holds (with perfscope's counting allocator; absent without it).",
            "bytes",
            vec![
                target("A", m("process_resident_memory_bytes"), "rss {{instance}}"),
                target("B", per_instance(HEAP_IN_USE), "heap {{instance}}"),
            ],
        ),
        (
            "Process: CPU",
            "CPU time of the measured process per second (100% = one core).",
            "percentunit",
            vec![target(
                "A",
                format!("rate({}[$__rate_interval])", m("process_cpu_seconds_total")),
                "cpu {{instance}}",
            )],
        ),
        (
            "Process: threads and open fds",
            "OS threads and open file descriptors of the measured process.",
            "short",
            vec![
                target("A", per_instance(PROCESS_THREADS), "threads {{instance}}"),
                target("B", m("process_open_fds"), "open fds {{instance}}"),
            ],
        ),
        (
            "Tokio: workers busy",
            "Busy fraction of the tokio runtime's workers over the monitor's interval: the mean, and each worker.",
            "percentunit",
            vec![
                target(
                    "A",
                    format!(
                        r#"{}{{job=~"$job", instance=~"$instance", worker=""}}"#,
                        monitor("perfscope_tokio_worker_busy_ratio")
                    ),
                    "mean {{instance}}",
                ),
                target(
                    "B",
                    format!(
                        r#"{}{{job=~"$job", instance=~"$instance", worker!=""}}"#,
                        monitor("perfscope_tokio_worker_busy_ratio")
                    ),
                    "worker {{worker}} {{instance}}",
                ),
            ],
        ),
        (
            "Tokio: tasks and global queue",
            "Tasks alive in the runtime, and tasks waiting in its global queue.",
            "short",
            vec![
                target("A", by(m("perfscope_tokio_alive_tasks")), "alive {{instance}}"),
                target("B", by(m("perfscope_tokio_global_queue_depth")), "queued {{instance}}"),
            ],
        ),
        (
            "Traffic: requests per second",
            "Completed calls per second of the functions the monitor follows for traffic (with_traffic), per interval.",
            "ops",
            vec![target("A", traffic("perfscope_traffic_requests_per_second"), "{{function}}")],
        ),
        (
            "Traffic: latency p50 / p99",
            "Latency quantiles of the calls completed in each of the monitor's intervals, per traffic function.",
            "s",
            vec![
                target("A", traffic("perfscope_traffic_latency_p50_seconds"), "p50 {{function}}"),
                target("B", traffic("perfscope_traffic_latency_p99_seconds"), "p99 {{function}}"),
            ],
        ),
    ];
    crate::dashboard_rows::row("System monitor", panels.into(), y, id)
}

fn variable(name: &str, label: &str, query: String) -> Value {
    json!({
        "name": name,
        "label": label,
        "type": "query",
        "datasource": datasource(),
        "definition": query,
        "query": { "query": query, "refId": format!("perfscope-{name}") },
        "refresh": 2,
        "includeAll": true,
        "multi": true,
        "allValue": ".*",
        "current": { "selected": true, "text": ["All"], "value": ["$__all"] },
        "sort": 1,
        "hide": 0,
    })
}

/// The dashboard, as Grafana's JSON model.
pub fn dashboard() -> Value {
    let by_function = |metric: &str| format!("sum by (function) ({})", rate(metric));
    let quantile = |q: &str| {
        format!(
            "histogram_quantile({q}, sum by (function, le) ({}))",
            rate(&format!("{DURATION}_bucket"))
        )
    };
    let mut panels = vec![
        hotspots(grid(0, 0, 12, 10)),
        heatmap(grid(12, 0, 12, 10)),
        timeseries(
            "Calls per second",
            "Completed calls per second, by function.",
            "ops",
            vec![target("A", by_function(CALLS), "{{function}}")],
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
                target("A", by_function(SELF_SECONDS), "self {{function}}"),
                target("B", by_function(BUSY_SECONDS), "busy {{function}}"),
            ],
            grid(0, 18, 12, 8),
        ),
        timeseries(
            "Allocation rate",
            "Bytes allocated per second by each function itself (needs perfscope's counting allocator).",
            "Bps",
            vec![target("A", by_function(ALLOC_BYTES), "{{function}}")],
            grid(12, 18, 6, 8),
        ),
        timeseries(
            "Allocations per second",
            "Allocations per second made by each function itself.",
            "ops",
            vec![target("A", by_function(ALLOCATIONS), "{{function}}")],
            grid(18, 18, 6, 8),
        ),
        timeseries(
            "Panics",
            "Calls that ended by unwinding, per interval.",
            "short",
            vec![target(
                "A",
                format!("sum by (function) (increase({}[$__rate_interval]))", select(PANICS)),
                "{{function}}",
            )],
            grid(0, 26, 24, 6),
        ),
    ];
    for (i, panel) in panels.iter_mut().enumerate() {
        panel["id"] = json!(i + 1);
    }
    // Collapsed rows below everything else, one grid unit high each; ids 100, 200, 300.
    panels.push(system_row(32, 100));
    panels.push(crate::dashboard_rows::pools_and_caches(33, 200));
    panels.push(crate::dashboard_rows::queries(34, 300));
    let calls = CALLS;
    json!({
        "uid": UID,
        "title": "perfscope",
        "description": "Per-function hotspots, latency and allocations measured by #[perfscope::measure]. Generated by perfscope-export (do not edit by hand).",
        "tags": ["perfscope", "profiling"],
        "editable": true,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": { "from": "now-15m", "to": "now" },
        "timepicker": {},
        "timezone": "",
        "annotations": { "list": [] },
        "links": [],
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                    "options": [],
                },
                variable("job", "Job", format!("label_values({calls}, job)")),
                variable("instance", "Instance", format!(r#"label_values({calls}{{job=~"$job"}}, instance)"#)),
                variable(
                    "function",
                    "Function",
                    format!(r#"label_values({calls}{{job=~"$job", instance=~"$instance"}}, function)"#),
                ),
            ],
        },
        "panels": panels,
    })
}

/// The dashboard as the committed file holds it: pretty JSON and a final newline.
pub fn dashboard_json() -> String {
    let mut text = serde_json::to_string_pretty(&dashboard()).unwrap_or_default();
    text.push('\n');
    text
}

/// Every PromQL expression in a dashboard's panels (nested rows included), in order.
pub fn panel_exprs(dashboard: &Value) -> Vec<String> {
    fn walk(panels: &Value, out: &mut Vec<String>) {
        for panel in panels.as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push(expr.to_string());
                }
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// The queries of a dashboard's template variables (`label_values(...)`).
pub fn variable_queries(dashboard: &Value) -> Vec<String> {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["definition"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_have_unique_ids_and_queries() {
        let d = dashboard();
        let exprs = panel_exprs(&d);
        assert!(exprs.len() >= 9, "{exprs:?}");
        // Function panels follow the function variable; process and host figures have none.
        let per_instance = [PROCESS_THREADS, HEAP_IN_USE]
            .into_iter()
            .chain(MONITOR_NAMES)
            .chain(crate::families::INSTRUMENT_NAMES);
        let per_instance: Vec<&str> = per_instance.collect();
        assert!(
            exprs.iter().all(|e| e.contains(r#"function=~"$function""#)
                || (per_instance.iter().any(|name| e.contains(name))
                    && e.contains(r#"instance=~"$instance""#))),
            "{exprs:?}"
        );
        assert!(exprs.len() >= 8 + 18, "{}", exprs.len());
        let mut ids = Vec::new();
        fn collect(panels: &Value, ids: &mut Vec<u64>) {
            for p in panels.as_array().into_iter().flatten() {
                ids.push(p["id"].as_u64().expect("every panel has an id"));
                collect(&p["panels"], ids);
            }
        }
        collect(&d["panels"], &mut ids);
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate panel ids");
    }

    #[test]
    fn later_rows_are_there_and_collapsed() {
        let d = dashboard();
        let rows: Vec<&str> = d["panels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "row")
            .map(|p| p["title"].as_str().unwrap())
            .collect();
        assert_eq!(rows, ["System monitor", "Pools & caches", "Queries"]);
        let variables: Vec<&str> = d["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(variables, ["datasource", "job", "instance", "function"]);
    }
}
