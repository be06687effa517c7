//! The table's alerts line (the armed thresholds, which fire now) and trends block (series
//! that moved over the run, or head for an alert's limit).

use std::fmt;
use std::time::Duration;

use crate::format::{human_duration, human_value, series_label};
use crate::report::Report;
use crate::trends::{TrendDirection, TrendStats};

/// Trend lines the table shows (the JSON and HTML views have every trend).
const TABLE_TRENDS: usize = 8;

/// `alerts: 2 of 5 firing now: store_pool_starved{pool="store"} (warning), ...`; nothing
/// without armed thresholds.
pub(super) fn alerts_line(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    write!(f, "\nalerts: {} of {} firing now", firing.len(), alerts.len())?;
    if !firing.is_empty() {
        write!(f, ": {}", firing.join(", "))?;
    }
    write!(f, "; {fired} fired during the run")
}

/// One line per series that rose or fell, or heads for a limit; nothing when none did.
pub(super) fn trends_block(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let moved = |t: &&TrendStats| t.direction != TrendDirection::Flat || t.limit.is_some();
    let shown: Vec<&TrendStats> = report.trends.iter().filter(moved).collect();
    if shown.is_empty() {
        return Ok(());
    }
    write!(f, "\ntrends over the run")?;
    if shown.len() > TABLE_TRENDS {
        write!(f, " ({TABLE_TRENDS} of {}; every series in the JSON and HTML views)", shown.len())?;
    }
    write!(f, ":")?;
    for t in shown.iter().take(TABLE_TRENDS) {
        let value = |v: f64| human_value(t.unit, v);
        let sign = if t.slope_per_second < 0.0 { "-" } else { "+" };
        write!(
            f,
            "\n  {} {} {sign}{}/s (t {:.1}), mean {}, p95 {}, max {}",
            series_label(&t.name, &t.labels),
            t.direction.as_str(),
            value(t.slope_per_second.abs()),
            t.t_statistic,
            value(t.mean),
            value(t.p95),
            value(t.max),
        )?;
        if let Some(limit) = &t.limit {
            match limit.seconds_to_limit.and_then(|s| Duration::try_from_secs_f64(s).ok()) {
                Some(to) => write!(
                    f,
                    "; reaches {} ({}) in {}",
                    value(limit.limit),
                    limit.alert,
                    human_duration(to)
                )?,
                None => write!(f, "; not heading for {} ({})", value(limit.limit), limit.alert)?,
            }
        }
    }
    Ok(())
}
