//! The page's Channels and Locks sections: sortable tables, a row per channel (a backed-up
//! one flagged) and a row per lock and mode, the most contended first.

use std::fmt::Write;

use super::markup::{
    CLOSE_TABLE, escape, open_table, td_count, td_duration, td_frame, td_num, td_share, th,
};
use crate::readers::send_frame;
use crate::report::Report;

/// Both sections.
pub(super) fn sections(report: &Report, out: &mut String) {
    channels(report, out);
    locks(report, out);
}

fn channels(report: &Report, out: &mut String) {
    let channels = report.channels();
    if channels.is_empty() {
        return;
    }
    let frames = channels.iter().any(|c| send_frame(report, c).is_some());
    open_table(
        out,
        "Channels",
        "Depth is now; the rest since the channel was built. Wait is the time an item spent in \
         the queue, from send to receive. Send waits are sends that found a bounded channel \
         full; each is a <code>channel::&lt;name&gt;::send</code> frame under the sender. A \
         channel is <strong>BACKED UP</strong> when senders waited or broadcast receivers \
         missed items (lagged).",
        "ps-channels",
    );
    th(out, "channel", false);
    for label in ["sends", "receives", "depth", "high water", "capacity", "peak fill"] {
        th(out, label, true);
    }
    for label in ["mean wait", "p99 wait", "send waits", "send waited"] {
        th(out, label, true);
    }
    if frames {
        th(out, "send frame mean", true);
        th(out, "send frame p99", true);
    }
    for label in ["closed", "lagged"] {
        th(out, label, true);
    }
    th(out, "status", false);
    out.push_str("</tr></thead>\n<tbody>\n");
    for c in &channels {
        let class = if c.backed_up() { " class=\"ps-starved\"" } else { "" };
        let _ = write!(out, "<tr{class}><td class=\"name\">{}</td>", escape(&c.channel));
        td_num(out, c.sends, &c.sends.to_string());
        td_num(out, c.receives, &c.receives.to_string());
        td_num(out, c.depth, &c.depth.to_string());
        td_num(out, c.high_water, &c.high_water.to_string());
        td_count(out, c.capacity);
        td_share(out, c.peak_fill());
        td_duration(out, c.mean_wait());
        td_duration(out, c.wait_p99);
        td_count(out, c.send_waits);
        td_duration(out, c.send_wait_time);
        if frames {
            td_frame(out, send_frame(report, c));
        }
        td_num(out, c.closed, &c.closed.to_string());
        td_count(out, c.lagged);
        if c.backed_up() {
            out.push_str("<td><span class=\"ps-badge\">BACKED UP</span></td></tr>\n");
        } else {
            out.push_str("<td class=\"ps-ok\">ok</td></tr>\n");
        }
    }
    out.push_str(CLOSE_TABLE);
    out.push_str("</section>\n");
}

fn locks(report: &Report, out: &mut String) {
    let locks = report.locks();
    if locks.is_empty() {
        return;
    }
    open_table(
        out,
        "Locks",
        "The most contended first (time waited). Mode <code>exclusive</code> is a mutex or a \
         write, <code>shared</code> a read. Each wait is a <code>lock::&lt;name&gt;::lock</code> \
         (<code>::read</code>, <code>::write</code>) frame under the function that waited; hold \
         time runs from acquisition to the guard's drop.",
        "ps-locks",
    );
    th(out, "lock", false);
    th(out, "mode", false);
    for label in ["acquired", "contended", "contended %", "waited", "mean wait"] {
        th(out, label, true);
    }
    for label in ["held", "mean hold", "max hold"] {
        th(out, label, true);
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for l in &locks {
        let _ = write!(
            out,
            "<tr><td class=\"name\">{}</td><td>{}</td>",
            escape(&l.lock),
            escape(&l.mode)
        );
        td_num(out, l.acquisitions, &l.acquisitions.to_string());
        td_num(out, l.contentions, &l.contentions.to_string());
        td_share(out, l.contention_share());
        td_duration(out, l.wait_time);
        td_duration(out, l.mean_wait());
        td_duration(out, l.hold_time);
        td_duration(out, l.mean_hold());
        td_duration(out, l.hold_max);
        out.push_str("</tr>\n");
    }
    out.push_str(CLOSE_TABLE);
    out.push_str("</section>\n");
}
