//! The page's Alerts and Trends sections: the armed thresholds (which fire now, their limits,
//! transitions), and each watched series' summary, slope and time to an alert's limit.

use super::markup::{CLOSE_TABLE, escape, open_table, td_count, td_num, th};
use crate::format::{human_value, series_label};
use crate::report::Report;
use std::fmt::Write;

/// The Alerts section; nothing without armed thresholds.
pub(super) fn alerts(report: &Report, out: &mut String) {
    let alerts = report.alerts();
    if alerts.is_empty() {
        return;
    }
    open_table(
        out,
        "Alerts",
        "The monitor's armed thresholds, per watched series: firing now (at the end of the run) \
         or not, the limit, how often each fired and resolved. The same series are on \
         <code>/metrics</code> (<code>perfscope_alert_firing</code>, \
         <code>perfscope_alert_limit</code>, <code>perfscope_alert_transitions_total</code>).",
        "ps-alerts",
    );
    for (label, numeric) in
        [("alert", false), ("severity", false), ("watched series", false), ("limit", true)]
    {
        th(out, label, numeric);
    }
    for label in ["fired", "resolved"] {
        th(out, label, true);
    }
    th(out, "now", false);
    out.push_str("</tr></thead>\n<tbody>\n");
    for a in &alerts {
        let class = if a.firing { " class=\"ps-starved\"" } else { "" };
        let _ = write!(
            out,
            "<tr{class}><td class=\"name\">{}</td><td>{}</td><td>{}</td>",
            escape(&a.alert),
            escape(&a.severity),
            escape(&series_label(&a.figure, &a.labels))
        );
        match a.limit {
            Some(limit) => td_num(out, limit, &limit.to_string()),
            None => td_num(out, "", "-"),
        }
        td_count(out, Some(a.fired));
        td_count(out, Some(a.resolved));
        let _ = writeln!(out, "<td>{}</td></tr>", if a.firing { "FIRING" } else { "ok" });
    }
    out.push_str(CLOSE_TABLE);
    out.push_str("</section>\n");
}

/// The Trends section; nothing without history.
pub(super) fn trends(report: &Report, out: &mut String) {
    if report.trends.is_empty() {
        return;
    }
    open_table(
        out,
        "Trends",
        "Each watched series over the run (the monitor's history): summary, the least-squares \
         slope with its t statistic (significant from 3), and when the line reaches the limit \
         of an alert armed on the series.",
        "ps-trends",
    );
    th(out, "series", false);
    for label in ["points", "min", "mean", "p95", "max", "slope /s", "t"] {
        th(out, label, true);
    }
    th(out, "direction", false);
    th(out, "limit", false);
    th(out, "reaches it in", true);
    out.push_str("</tr></thead>\n<tbody>\n");
    for t in &report.trends {
        let value = |v: f64| human_value(t.unit, v);
        let _ = write!(
            out,
            "<tr><td class=\"name\">{}</td>",
            escape(&series_label(&t.name, &t.labels))
        );
        td_num(out, t.points, &t.points.to_string());
        for v in [t.min, t.mean, t.p95, t.max] {
            td_num(out, v, &value(v));
        }
        let sign = if t.slope_per_second < 0.0 { "-" } else { "" };
        td_num(out, t.slope_per_second, &format!("{sign}{}", value(t.slope_per_second.abs())));
        td_num(out, t.t_statistic, &format!("{:.1}", t.t_statistic));
        let _ = write!(out, "<td>{}</td>", t.direction.as_str());
        match &t.limit {
            Some(limit) => {
                let _ = write!(
                    out,
                    "<td>{} ({})</td>",
                    escape(&value(limit.limit)),
                    escape(&limit.alert)
                );
                match limit.seconds_to_limit.filter(|s| s.is_finite()) {
                    Some(to) => td_num(out, to, &crate::table::in_time(to)),
                    None => {
                        td_num(out, "", &format!("not heading for it (last {})", value(t.last)))
                    }
                }
            }
            None => {
                out.push_str("<td>-</td>");
                td_num(out, "", "-");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str(CLOSE_TABLE);
    out.push_str("</section>\n");
}
