//! What a chart shows of the alerts armed on its series: the limit as a dashed horizontal
//! line (from the report's `perfscope_alert_limit` figures), and the windows in which an alert
//! fired shaded (from its fired and resolved events; one still firing at the end is shaded to
//! the chart's end).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{BOTTOM, Frame, RIGHT, TOP};
use crate::format::human_value;
use crate::html::markup::escape;
use crate::readers::watched_labels;
use crate::report::{EventKind, EventStats, FigureStats, FigureUnit, SeriesStats};

/// An alert's limit on one of a chart's series.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Limit {
    pub(super) alert: String,
    pub(super) value: f64,
}

/// The limits of the alerts armed on `series` (of figure `name`), each once.
pub(super) fn limits(figures: &[FigureStats], name: &str, series: &[&SeriesStats]) -> Vec<Limit> {
    let mut out: Vec<Limit> = Vec::new();
    let limit_figures =
        figures.iter().filter(|f| f.name == perfscope_core::names::ALERT_LIMIT.name);
    for f in limit_figures.filter(|f| f.labels.get("figure").map(String::as_str) == Some(name)) {
        let labels = watched_labels(f);
        if !series.iter().any(|s| s.labels == labels) || !f.value.is_finite() {
            continue;
        }
        let limit =
            Limit { alert: f.labels.get("alert").cloned().unwrap_or_default(), value: f.value };
        if !out.contains(&limit) {
            out.push(limit);
        }
    }
    out
}

/// The limits as dashed lines, labelled with the alert's name.
pub(super) fn limit_lines(frame: &Frame, limits: &[Limit], unit: FigureUnit, out: &mut String) {
    for limit in limits {
        let y = frame.y(limit.value);
        let title = format!("alert {}: limit {}", limit.alert, human_value(unit, limit.value));
        let _ = writeln!(
            out,
            "<line class=\"ps-threshold ps-zoomable\" x1=\"{}\" y1=\"{y:.1}\" x2=\"{RIGHT}\" \
             y2=\"{y:.1}\" stroke=\"#d62728\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\">\
             <title>{}</title></line>",
            super::LEFT,
            escape(&title)
        );
    }
}

/// The windows in which an alert on one of `series` fired, as `(from, to)` in ms (to the
/// chart's end when still firing), from the chart's events in time order.
pub(super) fn windows(
    frame: &Frame,
    name: &str,
    series: &[&SeriesStats],
    events: &[EventStats],
) -> Vec<(u64, u64)> {
    let mut about: Vec<&EventStats> = events
        .iter()
        .filter(|e| e.subject == name && series.iter().any(|s| s.labels == e.labels))
        .filter(|e| matches!(e.kind, EventKind::AlertFired | EventKind::AlertResolved))
        .collect();
    about.sort_by_key(|e| e.at_unix_ms);
    // Per series (its labels) and alert (its message names it): when it fired, if it fires.
    let mut open: BTreeMap<(&BTreeMap<String, String>, &str), u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in about {
        let alert = e.message.split_whitespace().nth(1).unwrap_or_default();
        let key = (&e.labels, alert);
        match e.kind {
            EventKind::AlertFired => {
                open.entry(key).or_insert(e.at_unix_ms);
            }
            _ => {
                // A resolve without its fire in the history: fired before the chart began.
                let from = open.remove(&key).unwrap_or(frame.t0);
                out.push((from, e.at_unix_ms));
            }
        }
    }
    out.extend(open.into_values().map(|from| (from, frame.t1)));
    out.sort_unstable();
    out
}

/// The windows shaded across the plot's height.
pub(super) fn shade(frame: &Frame, windows: &[(u64, u64)], out: &mut String) {
    for &(from, to) in windows {
        let (from, to) = (from.clamp(frame.t0, frame.t1), to.clamp(frame.t0, frame.t1));
        let (x0, x1) = (frame.x(from), frame.x(to));
        let _ = writeln!(
            out,
            "<rect class=\"ps-alert-window\" x=\"{x0:.1}\" y=\"{TOP}\" width=\"{:.1}\" \
             height=\"{}\" fill=\"#d62728\" fill-opacity=\"0.12\"><title>alert firing</title></rect>",
            (x1 - x0).max(1.0),
            BOTTOM - TOP
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, at: u64, cache: &str) -> EventStats {
        EventStats {
            section: "cache".into(),
            kind,
            at_unix_ms: at,
            subject: "perfscope_cache_hit_ratio".into(),
            labels: [("cache".to_string(), cache.to_string())].into(),
            message: "alert cold fired: 0.1 is below 0.2".into(),
            value: Some(0.1),
        }
    }

    #[test]
    fn fired_and_resolved_pair_into_windows_and_one_still_firing_runs_to_the_end() {
        let series = SeriesStats {
            section: "cache".into(),
            name: "perfscope_cache_hit_ratio".into(),
            labels: [("cache".to_string(), "a".to_string())].into(),
            unit: FigureUnit::Ratio,
            points: vec![(1_000, 0.5), (9_000, 0.5)],
        };
        let frame = Frame { t0: 1_000, t1: 9_000, lo: 0.0, hi: 1.0 };
        let events = [
            event(EventKind::AlertResolved, 1_500, "a"),
            event(EventKind::AlertFired, 2_000, "a"),
            event(EventKind::AlertFired, 2_500, "other"),
            event(EventKind::AlertResolved, 4_000, "a"),
            event(EventKind::AlertFired, 7_000, "a"),
        ];
        let got = windows(&frame, &series.name, &[&series], &events);
        assert_eq!(got, [(1_000, 1_500), (2_000, 4_000), (7_000, 9_000)]);
    }
}
