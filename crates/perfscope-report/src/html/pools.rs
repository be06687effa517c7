//! The page's Pools section: a sortable table, a row per pool, a starved pool flagged.

use std::fmt::Write;

use super::markup::{
    CLOSE_TABLE, escape, open_table, td_count, td_duration, td_frame, td_num, td_share, th,
};
use crate::readers::acquire_frame;
use crate::report::Report;

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
        td_duration(out, p.wait_time);
        td_duration(out, p.mean_wait());
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
