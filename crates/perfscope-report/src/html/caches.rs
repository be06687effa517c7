//! The page's Caches section: a sortable table, a row per level and a `total` row per
//! multi-level cache, only when the report has cache figures.

use std::fmt::Write;

use super::markup::{CLOSE_TABLE, escape, open_table, td_count, td_frame, td_num, td_share, th};
use crate::format::by_cause;
use crate::readers::cache_rows;
use crate::report::Report;

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
