//! One self-contained HTML page: summary, sortable hotspot table, caches, pools and queries
//! (`sections.rs`), the figure sources' events and history charts (`charts.rs`), function
//! latency heatmap (`heatmap.rs`), flame graph, call edges, every figure (`figures.rs`).
//!
//! Everything is inline (styles, the sorting script, the SVG): the page loads nothing from
//! anywhere, so it can be attached to a CI run or mailed. Every string that comes from the
//! report is escaped.

use std::fmt::Write;

mod caches;
mod charts;
mod events;
mod figures;
mod heatmap;
mod markup;
mod network;
mod pools;
mod queries;
mod trends;

use crate::format::{figure_label, human_bytes, human_figure, human_ns};
use crate::readers::sections_of;
use crate::report::{FunctionKind, FunctionStats, Report};
use markup::{escape, path, td_num, th};

const STYLE: &str = include_str!("html.css");
const SCRIPT: &str = include_str!("html.js");

impl Report {
    /// The report as one self-contained HTML page: a summary, the hotspot table (click a
    /// header to sort; allocation columns when `alloc_tracking` is on), caches (a row per
    /// level, hit ratio, evictions by cause), pools (waits, timeouts, starvation) and queries
    /// (fingerprints by total time, index hints, the slow-query log), each only when the report
    /// has them, the figure sources'
    /// events (a table) and history (a "System" section of inline SVG line charts with the
    /// events marked; both only when the report has them), a latency heatmap strip per
    /// function (the system monitor's p99 per interval of the 20 most called functions, when
    /// the report has them), the flame graph of self time
    /// inline (cargo feature `flamegraph`), and the call edges.
    ///
    /// The page references no external resource (no scripts, styles, fonts or images from the
    /// network) and escapes every function name.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str("<title>perfscope report</title>\n<style>\n");
        out.push_str(STYLE);
        out.push_str("</style>\n</head>\n<body>\n");
        summary(self, &mut out);
        hotspots(self, &mut out);
        caches::caches(self, &mut out);
        pools::pools(self, &mut out);
        network::network(self, &mut out);
        queries::queries(self, &mut out);
        trends::alerts(self, &mut out);
        events::events(self, &mut out);
        trends::trends(self, &mut out);
        charts::system(self, &mut out);
        heatmap::latency(self, &mut out);
        flame(self, &mut out);
        edges(self, &mut out);
        figures::figures(self, &mut out);
        out.push_str("<script>\n");
        out.push_str(SCRIPT);
        out.push_str("</script>\n</body>\n</html>\n");
        out
    }
}

fn summary(report: &Report, out: &mut String) {
    let total = |figure: fn(&FunctionStats) -> u64| {
        report.functions.iter().map(figure).fold(0u64, u64::saturating_add)
    };
    let self_sum = total(|f| f.self_ns);
    let calls = total(|f| f.calls);
    out.push_str("<header>\n<h1>perfscope report</h1>\n<dl class=\"ps-summary\">\n");
    let mut item = |term: &str, value: String| {
        let _ = writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(&value));
    };
    item("functions", report.functions.len().to_string());
    item("calls", calls.to_string());
    item("wall time", human_ns(report.elapsed_ns));
    item("measured self time", human_ns(self_sum));
    item("clock", report.clock.clone());
    if report.alloc_tracking {
        let allocated = total(|f| f.alloc_bytes);
        item("allocated (measured)", human_bytes(allocated));
        if let Some(heap) = report.process().heap_in_use_bytes {
            item("heap in use", human_bytes(heap));
        }
    } else {
        item("allocation tracking", "off".into());
    }
    if report.overflowed_callsites > 0 {
        item("callsites over the table", report.overflowed_callsites.to_string());
    }
    if report.overflowed_spans > 0 {
        item("spans over the name cap", report.overflowed_spans.to_string());
    }
    // The heap in use is shown above, with the allocations. The summary keeps to the
    // process's own figures: with a monitor, pools and caches the others run to dozens, and
    // the Figures section lists them all.
    let shown =
        report.figures.iter().filter(|f| f.name != perfscope_core::figures::HEAP_IN_USE_BYTES);
    let (process, others): (Vec<_>, Vec<_>) =
        shown.partition(|f| f.section == perfscope_core::names::section::PROCESS);
    for figure in process {
        item(&escape(&figure_label(figure)), human_figure(figure));
    }
    if !others.is_empty() {
        let sections = sections_of(others.iter().copied());
        let listed = format!("{} ({}), in the Figures section", others.len(), sections.join(", "));
        item("other figures", listed);
    }
    let starved: Vec<String> =
        report.pools().into_iter().filter(|p| p.starved()).map(|p| p.pool).collect();
    if !starved.is_empty() {
        item("starved pools", format!("{}, in the Pools section", starved.join(", ")));
    }
    let hints = report.index_hints().len();
    if hints > 0 {
        item("index hints", format!("{hints}, in the Queries section"));
    }
    item("schema", report.schema.to_string());
    out.push_str("</dl>\n</header>\n");
}

fn hotspots(report: &Report, out: &mut String) {
    out.push_str("<section>\n<h2>Hotspots</h2>\n");
    out.push_str(
        "<p class=\"ps-note\">By self time; click a column header to sort. Times are summed \
         over calls unless per call (mean, quantiles, max).</p>\n",
    );
    out.push_str(
        "<div class=\"ps-scroll\">\n<table class=\"ps-sortable\" id=\"ps-hotspots\">\n<thead><tr>",
    );
    th(out, "function", false);
    for label in ["calls", "self", "self %", "total", "mean", "p50", "p90", "p99", "max"] {
        th(out, label, true);
    }
    if report.alloc_tracking {
        for label in ["allocs", "alloc self", "alloc total", "freed self"] {
            th(out, label, true);
        }
    }
    th(out, "notes", false);
    out.push_str("</tr></thead>\n<tbody>\n");
    for func in &report.functions {
        hotspot_row(report, func, out);
    }
    out.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

fn hotspot_row(report: &Report, func: &FunctionStats, out: &mut String) {
    let _ = write!(
        out,
        "<tr><td class=\"name\" title=\"{}\">{}</td>",
        escape(&format!("{}:{} ({})", func.file, func.line, func.module)),
        path(&func.name)
    );
    td_num(out, func.calls, &func.calls.to_string());
    td_num(out, func.self_ns, &human_ns(func.self_ns));
    if report.elapsed_ns > 0 {
        let share = 100.0 * func.self_ns as f64 / report.elapsed_ns as f64;
        td_num(out, format!("{share:.3}"), &format!("{share:.1}%"));
    } else {
        td_num(out, 0, "-");
    }
    for ns in [func.total_ns, func.mean_ns, func.p50_ns, func.p90_ns, func.p99_ns, func.max_ns] {
        td_num(out, ns, &human_ns(ns));
    }
    if report.alloc_tracking {
        td_num(out, func.allocations, &func.allocations.to_string());
        for bytes in [func.alloc_bytes, func.total_alloc_bytes, func.freed_bytes] {
            td_num(out, bytes, &human_bytes(bytes));
        }
    }
    let mut notes = Vec::new();
    match func.kind {
        FunctionKind::Async => {
            notes.push(format!("async, idle {}", human_ns(func.idle_ns.unwrap_or(0))))
        }
        FunctionKind::Span => notes.push("span".to_string()),
        FunctionKind::Sync => {}
    }
    if func.panics > 0 {
        notes.push(format!("{} panics", func.panics));
    }
    if func.cancelled > 0 {
        notes.push(format!("{} cancelled", func.cancelled));
    }
    let _ = writeln!(out, "<td class=\"ps-notes\">{}</td></tr>", escape(&notes.join("; ")));
}

#[cfg(feature = "flamegraph")]
fn flame(report: &Report, out: &mut String) {
    out.push_str("<section>\n<h2>Flame graph (self time)</h2>\n");
    out.push_str(
        "<p class=\"ps-note\">Stacks are rebuilt from per-edge totals: exact for call trees, \
         proportional for functions called from several places. Click a frame to zoom; \
         Search (top right) highlights frames.</p>\n",
    );
    match report.flamegraph_svg() {
        Ok(svg) => {
            out.push_str("<div class=\"ps-flame\">\n");
            out.push_str(&inline_svg(&svg));
            out.push_str("\n</div>\n");
        }
        Err(err) => {
            let _ = writeln!(out, "<p>No flame graph: {}</p>", escape(&err.to_string()));
        }
    }
    out.push_str("</section>\n");
}

/// How inferno's script finds its SVG: the document's first, which on this page may be a
/// chart of the System section.
#[cfg(feature = "flamegraph")]
const FLAME_FIRST_SVG: &str = "document.getElementsByTagName(\"svg\")[0]";
/// How it finds it here: the SVG holding its `frames` group.
#[cfg(feature = "flamegraph")]
const FLAME_OWN_SVG: &str = "document.getElementById(\"frames\").ownerSVGElement";

/// A standalone SVG document made fit for inlining in HTML: no XML declaration or doctype,
/// and no `xmlns` declarations (the HTML parser puts `<svg>` in the SVG namespace itself);
/// its script takes its own SVG, not the page's first.
#[cfg(feature = "flamegraph")]
fn inline_svg(svg: &str) -> String {
    let svg = svg.replace(FLAME_FIRST_SVG, FLAME_OWN_SVG);
    let svg = svg.as_str();
    let Some(start) = svg.find("<svg") else {
        return svg.to_string();
    };
    let Some(tag_len) = svg[start..].find('>') else {
        return svg[start..].to_string();
    };
    let tag = &svg[start + "<svg".len()..start + tag_len];
    let mut out = String::from("<svg");
    let mut rest = tag.trim_start();
    // inferno writes plain `name="value"` attributes in its start tag.
    while let Some(eq) = rest.find("=\"") {
        let name = &rest[..eq];
        let Some(value_len) = rest[eq + 2..].find('"') else {
            break;
        };
        let attribute = &rest[..eq + 2 + value_len + 1];
        if !name.starts_with("xmlns") {
            out.push(' ');
            out.push_str(attribute);
        }
        rest = rest[attribute.len()..].trim_start();
    }
    out.push_str(&svg[start + tag_len..]);
    out
}

#[cfg(not(feature = "flamegraph"))]
fn flame(_report: &Report, out: &mut String) {
    out.push_str(
        "<section>\n<h2>Flame graph</h2>\n<p>Not available: perfscope was built without its \
         <code>flamegraph</code> feature.</p>\n</section>\n",
    );
}

fn edges(report: &Report, out: &mut String) {
    out.push_str("<section>\n<h2>Call edges</h2>\n");
    out.push_str(
        "<p class=\"ps-note\">Measured functions called directly from another. Time and bytes \
         are the callee's, inclusive, when called from that caller. <code>&lt;other&gt;</code> \
         sums callees past the per-thread edge table.</p>\n",
    );
    out.push_str(
        "<div class=\"ps-scroll\">\n<table class=\"ps-sortable\" id=\"ps-edges\">\n<thead><tr>",
    );
    th(out, "caller", false);
    th(out, "callee", false);
    th(out, "calls", true);
    th(out, "time in callee", true);
    if report.alloc_tracking {
        th(out, "bytes in callee", true);
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for func in &report.functions {
        for child in &func.children {
            let _ = write!(
                out,
                "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td>",
                path(&func.name),
                path(&child.name)
            );
            td_num(out, child.calls, &child.calls.to_string());
            td_num(out, child.busy_ns, &human_ns(child.busy_ns));
            if report.alloc_tracking {
                td_num(out, child.alloc_bytes, &human_bytes(child.alloc_bytes));
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

#[cfg(test)]
mod tests {
    /// The flame graph's script must not take the System section's first chart for its SVG.
    #[cfg(feature = "flamegraph")]
    #[test]
    fn the_flame_graph_script_takes_its_own_svg() {
        let report = crate::Report::from_json(
            r#"{"schema": 2, "elapsed_ns": 10, "clock": "os", "functions": [{"name": "f",
            "module": "m", "file": "f.rs", "line": 1, "kind": "sync", "calls": 1, "panics": 0,
            "cancelled": 0, "total_ns": 5, "self_ns": 5, "busy_ns": 5, "mean_ns": 5,
            "p50_ns": 5, "p90_ns": 5, "p99_ns": 5, "max_ns": 5, "children": []}]}"#,
        )
        .unwrap();
        let svg = report.flamegraph_svg().unwrap();
        assert!(svg.contains(super::FLAME_FIRST_SVG), "inferno changed how it finds its SVG");
        let inlined = super::inline_svg(&svg);
        assert!(!inlined.contains(super::FLAME_FIRST_SVG));
        assert!(inlined.contains(super::FLAME_OWN_SVG) && inlined.contains("id=\"frames\""));
    }
}
