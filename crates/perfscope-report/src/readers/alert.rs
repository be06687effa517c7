//! [`AlertFigures`]: an armed threshold's state on one watched series (section `alert`, from
//! the monitor): firing now or not, its limit, transitions so far.

use perfscope_core::names;
use std::collections::BTreeMap;

use super::label;
use crate::report::{FigureStats, Report};

/// An armed threshold on one watched series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFigures {
    /// The alert's name (the threshold's).
    pub alert: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// The watched figure's name.
    pub figure: String,
    /// The watched series' labels.
    pub labels: BTreeMap<String, String>,
    /// Whether it fires now (at the report's snapshot).
    pub firing: bool,
    /// The limit it compares the series with, in the figure's unit.
    pub limit: Option<f64>,
    /// Times the alert fired (any of its series).
    pub fired: u64,
    /// Times it resolved (any of its series).
    pub resolved: u64,
}

/// The labels of an alert's series that are the watched series' own (the alert's are left
/// out, and `series_<name>` is `<name>` again).
pub(crate) fn watched_labels(figure: &FigureStats) -> BTreeMap<String, String> {
    figure
        .labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alert" | "severity" | "figure"))
        .map(|(k, v)| (k.strip_prefix("series_").unwrap_or(k).to_string(), v.clone()))
        .collect()
}

impl Report {
    /// Every armed threshold's state per watched series, by alert name and labels (empty
    /// without a monitor or thresholds).
    pub fn alerts(&self) -> Vec<AlertFigures> {
        let of = |name: &'static str| self.figures.iter().filter(move |f| f.name == name);
        let transitions = |alert: &str, state: &str| {
            of(names::ALERT_TRANSITIONS_TOTAL.name)
                .find(|f| label(f, "alert") == alert && label(f, "state") == state)
                .map_or(0, |f| f.value as u64)
        };
        let mut out: Vec<AlertFigures> = of(names::ALERT_FIRING.name)
            .map(|f| {
                let alert = label(f, "alert").to_string();
                let labels = watched_labels(f);
                let limit = of(names::ALERT_LIMIT.name)
                    .find(|l| label(l, "alert") == alert && watched_labels(l) == labels)
                    .map(|l| l.value);
                AlertFigures {
                    fired: transitions(&alert, "fired"),
                    resolved: transitions(&alert, "resolved"),
                    severity: label(f, "severity").to_string(),
                    figure: label(f, "figure").to_string(),
                    firing: f.value >= 1.0,
                    limit,
                    labels,
                    alert,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.alert, &a.labels).cmp(&(&b.alert, &b.labels)));
        out
    }
}
