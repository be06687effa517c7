//! The page's Events table: the figure sources' alerts, anomalies and recommendations, most
//! recent first, only when the report has events.

use std::fmt::Write;

use super::markup::escape;
use crate::format::{series_label, utc_time};
use crate::report::{EventStats, Report};

/// The "Events" table, most recent first; nothing when the report has no events.
pub(super) fn events(report: &Report, out: &mut String) {
    if report.events.is_empty() {
        return;
    }
    let mut events: Vec<&EventStats> = report.events.iter().collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.at_unix_ms));
    out.push_str("<section>\n<h2>Events</h2>\n");
    out.push_str(
        "<p class=\"ps-note\">Alerts, anomalies and recommendations of the figure sources, most \
         recent first; times in UTC.</p>\n",
    );
    out.push_str(
        "<div class=\"ps-scroll\">\n<table class=\"ps-sortable\" id=\"ps-events\">\n<thead><tr>\
         <th class=\"num\" data-type=\"num\">time</th><th data-type=\"text\">kind</th>\
         <th data-type=\"text\">subject</th><th data-type=\"text\">message</th></tr></thead>\n\
         <tbody>\n",
    );
    for event in events {
        let _ = writeln!(
            out,
            "<tr><td class=\"num\" data-v=\"{}\">{}</td><td class=\"ps-kind ps-{}\">{}</td>\
             <td class=\"name\">{}</td><td class=\"ps-message\">{}</td></tr>",
            event.at_unix_ms,
            utc_time(event.at_unix_ms),
            event.kind.as_str(),
            event.kind.as_str().replace('_', " "),
            escape(&series_label(&event.subject, &event.labels)),
            escape(&event.message)
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}
