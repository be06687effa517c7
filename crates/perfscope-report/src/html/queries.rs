//! The page's Queries section: the index hints as a callout, the indexes used and never used,
//! the fingerprints by total time, the slow-query log below.

use std::fmt::Write;

use super::markup::{CLOSE_TABLE, escape, td_count, td_duration, td_num, td_share, th};
use crate::report::Report;

/// The Queries section: index hints, index usage, fingerprints by total time, the slow-query
/// log.
pub(super) fn queries(report: &Report, out: &mut String) {
    let queries = report.queries();
    let hints = report.index_hints();
    let slow = report.slow_queries();
    let indexes = report.index_usage();
    if queries.is_empty() && hints.is_empty() && slow.is_empty() && indexes.is_empty() {
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
    if !indexes.is_empty() {
        out.push_str("<h3>Indexes</h3>\n<ul id=\"ps-indexes\">\n");
        for index in &indexes {
            let used = if index.used { "used" } else { "<strong>never used</strong>" };
            let _ = write!(
                out,
                "<li>table <strong>{}</strong>: <code class=\"ps-index\">{}</code> {used}",
                escape(&index.table),
                escape(&index.index)
            );
            if !index.reason.is_empty() {
                let _ = write!(out, "<div class=\"ps-why\">{}</div>", escape(&index.reason));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    if !queries.is_empty() {
        let all: f64 = queries.iter().filter_map(|q| q.total_time).map(|t| t.as_secs_f64()).sum();
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
            td_duration(out, q.total_time);
            td_share(out, q.total_time.filter(|_| all > 0.0).map(|t| t.as_secs_f64() / all));
            td_duration(out, q.mean());
            td_duration(out, q.p99);
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
            let _ = write!(out, "<tr><td>{}</td>", crate::format::utc_time(q.at_unix_ms));
            td_duration(out, q.elapsed);
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
