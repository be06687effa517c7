//! The HTML page's Caches, Pools and Queries sections: a sortable table each (the index hints
//! as a callout above the queries, the slow-query log as a table below), each only when the
//! report has what it shows.

use std::fmt::Write;

use super::html::{escape, td_num, th};
use crate::report::{FunctionStats, Report};
use crate::sections::{acquire_frame, cache_rows};
use crate::table::human_ns;
use crate::table::sections::{by_cause, human_seconds, percent};

/// A numeric cell of a count the report may not have (`-`, sorting last).
fn td_count(out: &mut String, n: Option<u64>) {
    match n {
        Some(n) => td_num(out, n, &n.to_string()),
        None => td_num(out, "", "-"),
    }
}

/// A numeric cell of seconds (finite values sort by value; others show `-`).
fn td_seconds(out: &mut String, seconds: Option<f64>) {
    match seconds.filter(|s| s.is_finite() && *s >= 0.0) {
        Some(s) => td_num(out, s, &human_seconds(s)),
        None => td_num(out, "", "-"),
    }
}

/// A numeric cell of a share, with a bar under the figure.
fn td_share(out: &mut String, share: Option<f64>) {
    match share.filter(|s| s.is_finite()) {
        Some(share) => {
            let width = (share.clamp(0.0, 1.0) * 100.0).round();
            let _ = write!(
                out,
                "<td class=\"num ps-share\" data-v=\"{share}\" style=\"--share:{width}%\">{}</td>",
                percent(Some(share))
            );
        }
        None => td_num(out, "", "-"),
    }
}

/// Mean and p99 cells of a frame, titled with its name and calls.
fn td_frame(out: &mut String, frame: Option<&FunctionStats>) {
    let Some(frame) = frame else {
        td_num(out, "", "-");
        td_num(out, "", "-");
        return;
    };
    let title = escape(&format!("frame {}: {} calls", frame.name, frame.calls));
    for ns in [frame.mean_ns, frame.p99_ns] {
        let _ = write!(
            out,
            "<td class=\"num\" data-v=\"{ns}\" title=\"{title}\">{}</td>",
            human_ns(ns)
        );
    }
}

/// Opens a section and its sortable table (headers may wrap: the tables are wide).
fn open_table(out: &mut String, title: &str, note: &str, id: &str) {
    let _ = write!(
        out,
        "<section>\n<h2>{title}</h2>\n<p class=\"ps-note\">{note}</p>\n<div class=\"ps-scroll\">\n\
         <table class=\"ps-sortable ps-wide\" id=\"{id}\">\n<thead><tr>"
    );
}

const CLOSE_TABLE: &str = "</tbody>\n</table>\n</div>\n";

/// The Caches section: a row per level, a `total` row per multi-level cache.
pub(super) fn caches(report: &Report, out: &mut String) {
    let rows = cache_rows(report);
    if rows.is_empty() {
        return;
    }
    let loads = rows.iter().any(|r| r.figures.loads.is_some());
    let frames = rows.iter().any(|r| r.frame.is_some());
    let mut causes: Vec<&str> =
        rows.iter().flat_map(|r| r.figures.evictions_by_cause.keys()).map(String::as_str).collect();
    causes.sort_unstable();
    causes.dedup();
    open_table(
        out,
        "Caches",
        "A row per cache level (a multi-level cache's <em>total</em>: its requests, and the \
         misses no level answered). Hit ratio = hits / requests. Evictions are the cache's own \
         (size, expiry), removals the program's (invalidated, replaced); <code>-</code>: the level \
         does not report them. Get times are the \
         lookup frames' (<code>cache::&lt;name&gt;::get</code>).",
        "ps-caches",
    );
    th(out, "cache", false);
    th(out, "level", false);
    for label in ["requests", "hits", "misses", "hit ratio", "writes"] {
        th(out, label, true);
    }
    if loads {
        th(out, "loads", true);
        th(out, "load errors", true);
    }
    for cause in &causes {
        th(out, &format!("evicted: {}", escape(cause)), true);
    }
    let removals = rows.iter().any(|r| !r.figures.removals_by_cause.is_empty());
    if removals {
        th(out, "removals", false);
    }
    th(out, "entries", true);
    th(out, "errors", true);
    if frames {
        th(out, "get mean", true);
        th(out, "get p99", true);
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows {
        let c = &row.figures;
        let class = if c.level == "total" { " class=\"ps-total\"" } else { "" };
        let _ = write!(
            out,
            "<tr{class}><td class=\"name\">{}</td><td>{}</td>",
            escape(&c.cache),
            escape(&c.level)
        );
        for n in [c.requests(), c.hits, c.misses] {
            td_num(out, n, &n.to_string());
        }
        td_share(out, c.hit_ratio);
        td_num(out, c.writes, &c.writes.to_string());
        if loads {
            td_count(out, c.loads);
            td_count(out, c.load_errors);
        }
        for cause in &causes {
            let n = c.evictions_by_cause.get(*cause).copied();
            td_count(out, n.or_else(|| (!c.evictions_by_cause.is_empty()).then_some(0)));
        }
        if removals {
            let _ = write!(out, "<td>{}</td>", escape(&by_cause(&c.removals_by_cause)));
        }
        td_count(out, c.entries);
        td_num(out, c.errors, &c.errors.to_string());
        if frames {
            td_frame(out, row.frame);
        }
        out.push_str("</tr>\n");
    }
    out.push_str(CLOSE_TABLE);
    out.push_str("</section>\n");
}

/// The Pools section, a starved pool flagged.
pub(super) fn pools(report: &Report, out: &mut String) {
    let pools = report.pools();
    if pools.is_empty() {
        return;
    }
    let frames = pools.iter().any(|p| acquire_frame(report, p).is_some());
    open_table(
        out,
        "Pools",
        "In use, idle and pending are now; the rest since the pool was instrumented. A pool is \
         <strong>STARVED</strong> when callers wait, no object is idle and the pool is at its \
         maximum size. Acquire times are the <code>pool::&lt;name&gt;::acquire</code> frames' \
         (waiting included). Created and closed: for pools that open their own connections.",
        "ps-pools",
    );
    th(out, "pool", false);
    for label in ["in use", "idle", "max", "high water", "acquires", "waits", "waited", "wait time"]
    {
        th(out, label, true);
    }
    th(out, "mean wait", true);
    if frames {
        th(out, "acquire mean", true);
        th(out, "acquire p99", true);
    }
    for label in ["timeouts", "pending"] {
        th(out, label, true);
    }
    let created = pools.iter().any(|p| p.created.is_some());
    let mut closed: Vec<&str> =
        pools.iter().flat_map(|p| p.closed_by_cause.keys()).map(String::as_str).collect();
    closed.sort_unstable();
    closed.dedup();
    if created {
        th(out, "created", true);
    }
    if !closed.is_empty() {
        th(out, "closed", true);
    }
    for cause in &closed {
        th(out, &format!("closed: {}", escape(cause)), true);
    }
    th(out, "status", false);
    out.push_str("</tr></thead>\n<tbody>\n");
    for p in &pools {
        let class = if p.starved() { " class=\"ps-starved\"" } else { "" };
        let _ = write!(out, "<tr{class}><td class=\"name\">{}</td>", escape(&p.pool));
        td_num(out, p.in_use, &p.in_use.to_string());
        td_num(out, p.idle, &p.idle.to_string());
        td_count(out, p.max);
        td_count(out, p.high_water);
        td_num(out, p.acquires, &p.acquires.to_string());
        td_num(out, p.waits, &p.waits.to_string());
        td_share(out, p.wait_share());
        td_seconds(out, Some(p.wait_seconds));
        td_seconds(out, p.mean_wait_seconds());
        if frames {
            td_frame(out, acquire_frame(report, p));
        }
        td_num(out, p.timeouts, &p.timeouts.to_string());
        td_num(out, p.pending, &p.pending.to_string());
        if created {
            td_count(out, p.created);
        }
        if !closed.is_empty() {
            td_count(out, p.closed());
        }
        for cause in &closed {
            let n = p.closed_by_cause.get(*cause).copied();
            td_count(out, n.or_else(|| (!p.closed_by_cause.is_empty()).then_some(0)));
        }
        if p.starved() {
            out.push_str("<td><span class=\"ps-badge\">STARVED</span></td></tr>\n");
        } else {
            out.push_str("<td class=\"ps-ok\">ok</td></tr>\n");
        }
    }
    out.push_str(CLOSE_TABLE);
    out.push_str("</section>\n");
}

/// The Queries section: index hints, fingerprints by total time, the slow-query log.
pub(super) fn queries(report: &Report, out: &mut String) {
    let queries = report.queries();
    let hints = report.index_hints();
    let slow = report.slow_queries();
    if queries.is_empty() && hints.is_empty() && slow.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Queries</h2>\n");
    if !hints.is_empty() {
        out.push_str("<div class=\"ps-callout\" role=\"note\">\n<h3>Index hints</h3>\n<ul>\n");
        for hint in &hints {
            out.push_str("<li>");
            if !hint.table.is_empty() {
                let _ = write!(out, "table <strong>{}</strong>: ", escape(&hint.table));
            }
            if hint.index.is_empty() {
                out.push_str("add an index");
            } else {
                let _ = write!(out, "<code class=\"ps-index\">{}</code>", escape(&hint.index));
            }
            let _ = write!(out, "<div class=\"ps-why\">{}</div>", escape(&hint.reason));
            if !hint.fingerprint.is_empty() {
                let fingerprint = escape(&hint.fingerprint);
                let _ = write!(
                    out,
                    "<div class=\"ps-why\">for <code title=\"{fingerprint}\">{fingerprint}</code></div>"
                );
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n</div>\n");
    }
    if !queries.is_empty() {
        let all: f64 = queries.iter().map(|q| q.total_seconds).filter(|s| s.is_finite()).sum();
        let _ = write!(
            out,
            "<p class=\"ps-note\">Statement fingerprints (literals and parameters replaced), the \
             most total time first; share is of all statements' time.</p>\n<div \
             class=\"ps-scroll\">\n<table class=\"ps-sortable ps-wide\" id=\"ps-queries\">\n<thead><tr>"
        );
        let labels =
            ["calls", "errors", "total", "share", "mean", "p99", "rows returned", "rows affected"];
        for label in labels {
            th(out, label, true);
        }
        th(out, "fingerprint", false);
        out.push_str("</tr></thead>\n<tbody>\n");
        for q in &queries {
            out.push_str("<tr>");
            td_num(out, q.calls, &q.calls.to_string());
            td_count(out, q.errors);
            td_seconds(out, Some(q.total_seconds));
            td_share(out, (all > 0.0).then(|| q.total_seconds / all));
            td_seconds(out, q.mean_seconds());
            td_seconds(out, q.p99_seconds);
            td_num(out, q.rows_returned, &q.rows_returned.to_string());
            td_num(out, q.rows_affected, &q.rows_affected.to_string());
            let fingerprint = escape(&q.fingerprint);
            let _ = writeln!(
                out,
                "<td class=\"ps-sql\"><code title=\"{fingerprint}\">{fingerprint}</code></td></tr>"
            );
        }
        out.push_str(CLOSE_TABLE);
    }
    if !slow.is_empty() {
        out.push_str(
            "<h3>Slow queries</h3>\n<p class=\"ps-note\">Statements over the collector's slow \
             threshold, slowest first (times UTC).</p>\n<div class=\"ps-scroll\">\n<table \
             class=\"ps-sortable ps-wide\" id=\"ps-slow-queries\">\n<thead><tr>",
        );
        th(out, "when", false);
        th(out, "elapsed", true);
        th(out, "fingerprint", false);
        th(out, "statement", false);
        th(out, "what happened", false);
        out.push_str("</tr></thead>\n<tbody>\n");
        for q in &slow {
            let _ = write!(out, "<tr><td>{}</td>", crate::table::utc_time(q.at_unix_ms));
            td_seconds(out, q.elapsed_seconds);
            let (fingerprint, statement) = (escape(&q.fingerprint), escape(&q.statement));
            let _ = writeln!(
                out,
                "<td class=\"ps-sql\"><code title=\"{fingerprint}\">{fingerprint}</code></td>\
                 <td class=\"ps-sql\"><code title=\"{statement}\">{statement}</code></td>\
                 <td class=\"ps-message\">{}</td></tr>",
                escape(&q.message)
            );
        }
        out.push_str(CLOSE_TABLE);
    }
    out.push_str("</section>\n");
}
