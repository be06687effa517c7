//! The table's alerts line (the armed thresholds, which fire now) and trends block (series
//! that moved over the run, or head for an alert's limit).

use std::fmt;

use super::Layout;
use crate::format::{human_value, series_label};
use crate::report::Report;
use crate::trends::{TrendDirection, TrendStats};

/// Trend lines the table shows (the JSON and HTML views have every trend).
const TABLE_TRENDS: usize = 8;

/// `alerts: 2 of 5 firing now: store_pool_starved{pool="store"} (warning), ...`; nothing
/// without armed thresholds.
pub(super) fn alerts_line(
    report: &Report,
    layout: &Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let alerts = report.alerts();
    if alerts.is_empty() {
        return Ok(());
    }
    let firing: Vec<String> = alerts
        .iter()
        .filter(|a| a.firing)
        .map(|a| format!("{} ({})", series_label(&a.alert, &a.labels), a.severity))
        .collect();
    let fired: u64 = alerts.iter().map(|a| a.fired).sum();
    let mut line = format!("alerts: {} of {} firing now", firing.len(), alerts.len());
    if !firing.is_empty() {
        line.push_str(&format!(": {}", firing.join(", ")));
    }
    line.push_str(&format!("; {fired} fired during the run"));
    write!(f, "\n{}", layout.fit.prose(&line, "  "))
}

/// `45 s`, `12 min`, `4.6 h`, `3.2 days`: how far ahead a limit is.
pub(crate) fn in_time(seconds: f64) -> String {
    match seconds {
        s if s < 60.0 => format!("{s:.0} s"),
        s if s < 3_600.0 => format!("{:.0} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3_600.0),
        s => format!("{:.1} days", s / 86_400.0),
    }
}

/// One line per series that rose or fell, or heads for a limit; nothing when none did.
pub(super) fn trends_block(
    report: &Report,
    layout: &Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let moved = |t: &&TrendStats| t.direction != TrendDirection::Flat || t.limit.is_some();
    let shown: Vec<&TrendStats> = report.trends.iter().filter(moved).collect();
    if shown.is_empty() {
        return Ok(());
    }
    let mut title = "trends over the run".to_string();
    if shown.len() > TABLE_TRENDS {
        title.push_str(&format!(
            " ({TABLE_TRENDS} of {}; every series in the JSON and HTML views)",
            shown.len()
        ));
    }
    write!(f, "\n{}:", layout.fit.prose(&title, "  "))?;
    for t in shown.iter().take(TABLE_TRENDS) {
        let value = |v: f64| human_value(t.unit, v);
        let sign = if t.slope_per_second < 0.0 { "-" } else { "+" };
        let mut line = format!(
            "{} {} {sign}{}/s (t {:.1}), mean {}, p95 {}, max {}",
            series_label(&t.name, &t.labels),
            t.direction.as_str(),
            value(t.slope_per_second.abs()),
            t.t_statistic,
            value(t.mean),
            value(t.p95),
            value(t.max),
        );
        if let Some(limit) = &t.limit {
            match limit.seconds_to_limit.filter(|s| s.is_finite()) {
                Some(to) => line.push_str(&format!(
                    "; reaches {} ({}) in {}",
                    value(limit.limit),
                    limit.alert,
                    in_time(to)
                )),
                None => line.push_str(&format!(
                    "; limit {} ({}), last {}: not heading for it",
                    value(limit.limit),
                    limit.alert,
                    value(t.last)
                )),
            }
        }
        write!(f, "\n{}", layout.fit.item("  ", &line, "    "))?;
    }
    Ok(())
}
