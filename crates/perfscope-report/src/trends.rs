//! The trends section: for each history series of the figures people watch over a run —
//! the host's CPU, memory and network, the process, tokio, traffic, and the database side
//! (query times, pool waits and starvation, cache hit ratios) — its summary (min, mean, p95,
//! max), its least-squares slope with direction and significance, and the time until it
//! reaches the limit of an alert armed on it, if one is. Computed from the report's history
//! and figures ([`perfscope_core::analysis`]), carried in the JSON.

use std::collections::BTreeMap;

use perfscope_core::analysis::{self, Direction};
use perfscope_core::names::{self, section};
use serde::{Deserialize, Serialize};

use crate::figures::{FigureStats, FigureUnit, SeriesStats};
use crate::readers::watched_labels;

/// Sections whose history series get a trend.
pub const TREND_SECTIONS: [&str; 7] = [
    section::HOST,
    section::PROCESS,
    section::TOKIO,
    section::TRAFFIC,
    section::POOL,
    section::CACHE,
    section::QUERY,
];

/// Most trends a report keeps (series with an alert's limit first, then by section order).
pub const MAX_TRENDS: usize = 64;

/// Where a series is heading over the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendDirection {
    /// Significantly up, by more than 1% of its level over the run.
    Rising,
    /// Neither.
    Flat,
    /// Significantly down, by more than 1% of its level over the run.
    Falling,
}

impl TrendDirection {
    /// `rising`, `flat` or `falling`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrendDirection::Rising => "rising",
            TrendDirection::Flat => "flat",
            TrendDirection::Falling => "falling",
        }
    }
}

/// An alert's limit on a series, and when the series' line reaches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendLimit {
    /// The alert's name.
    pub alert: String,
    /// The limit, in the series' unit.
    pub limit: f64,
    /// Seconds after the last point until the line reaches the limit; `None` when it does not
    /// head there (flat, heading away, or past it already).
    pub seconds_to_limit: Option<f64>,
}

/// One series' trend over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendStats {
    /// The series' section.
    pub section: String,
    /// The figure's name.
    pub name: String,
    /// Its labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The values' unit.
    pub unit: FigureUnit,
    /// Points in the history.
    pub points: usize,
    /// Smallest value.
    pub min: f64,
    /// Mean value.
    pub mean: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// Largest value.
    pub max: f64,
    /// The newest value.
    pub last: f64,
    /// The least-squares slope, per second.
    pub slope_per_second: f64,
    /// The slope over its standard error (significant from 3 on).
    pub t_statistic: f64,
    /// Rising, flat or falling (flat unless significant and more than 1% of the level).
    pub direction: TrendDirection,
    /// The limit of an alert armed on the series, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<TrendLimit>,
}

/// The trends of `history`'s series in [`TREND_SECTIONS`] (per-CPU series left out: the
/// all-CPU one stands for them; counters too), with the limits of the alerts in `figures`.
pub(crate) fn trends(history: &[SeriesStats], figures: &[FigureStats]) -> Vec<TrendStats> {
    let limits: Vec<&FigureStats> =
        figures.iter().filter(|f| f.name == names::ALERT_LIMIT.name).collect();
    let mut out: Vec<TrendStats> = history
        .iter()
        // Counters (`_total`) rise by nature: their rate is the figure, not their trend.
        .filter(|s| TREND_SECTIONS.contains(&s.section.as_str()) && !s.name.ends_with("_total"))
        .filter(|s| !s.labels.contains_key("cpu"))
        .filter_map(|series| {
            let points: Vec<(f64, f64)> =
                series.points.iter().map(|(ms, v)| (*ms as f64 / 1e3, *v)).collect();
            let summary = analysis::summary(&points)?;
            let trend = analysis::trend(&points)?;
            let limit = limits
                .iter()
                .filter(|l| {
                    l.labels.get("figure") == Some(&series.name)
                        && watched_labels(l) == series.labels
                })
                .map(|l| TrendLimit {
                    alert: l.labels.get("alert").cloned().unwrap_or_default(),
                    limit: l.value,
                    seconds_to_limit: trend.time_until(l.value),
                })
                .min_by(|a, b| {
                    let key = |l: &TrendLimit| l.seconds_to_limit.unwrap_or(f64::INFINITY);
                    key(a).total_cmp(&key(b))
                });
            Some(TrendStats {
                section: series.section.clone(),
                name: series.name.clone(),
                labels: series.labels.clone(),
                unit: series.unit,
                points: summary.count,
                min: summary.min,
                mean: summary.mean,
                p95: summary.p95,
                max: summary.max,
                last: points.iter().rev().map(|p| p.1).find(|v| v.is_finite()).unwrap_or(f64::NAN),
                slope_per_second: trend.slope,
                t_statistic: trend.t_statistic,
                direction: match trend.direction {
                    Direction::Rising => TrendDirection::Rising,
                    Direction::Flat => TrendDirection::Flat,
                    Direction::Falling => TrendDirection::Falling,
                },
                limit,
            })
        })
        .collect();
    let order = |t: &TrendStats| {
        let section = TREND_SECTIONS.iter().position(|s| *s == t.section).unwrap_or(usize::MAX);
        (t.limit.is_none(), section, t.name.clone(), t.labels.clone())
    };
    out.sort_by_key(order);
    out.truncate(MAX_TRENDS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::FigureKind;

    fn series(name: &str, labels: &[(&str, &str)], points: Vec<(u64, f64)>) -> SeriesStats {
        SeriesStats {
            section: section::PROCESS.into(),
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            unit: FigureUnit::Bytes,
            points,
        }
    }

    fn limit(alert: &str, figure: &str, labels: &[(&str, &str)], value: f64) -> FigureStats {
        let mut all: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        all.insert("alert".into(), alert.into());
        all.insert("figure".into(), figure.into());
        all.insert("severity".into(), "warning".into());
        FigureStats {
            section: section::ALERT.into(),
            name: names::ALERT_LIMIT.name.into(),
            kind: FigureKind::Gauge,
            unit: FigureUnit::Count,
            help: String::new(),
            labels: all,
            value,
        }
    }

    #[test]
    fn a_leak_rises_toward_its_limit_and_a_flat_series_stays_flat() {
        // 1 MB + 2 kB per second for 60 s; the limit 1.2 MB is 41 s after the last point.
        let rss = names::PROCESS_RESIDENT_MEMORY_BYTES.name;
        let leak = series(rss, &[], (0..60).map(|s| (1_000 * s, 1e6 + 2e3 * s as f64)).collect());
        let flat = series("process_open_fds", &[], (0..60).map(|s| (1_000 * s, 12.0)).collect());
        let counter = series(
            "process_cpu_seconds_total",
            &[],
            (0..60).map(|s| (1_000 * s, s as f64)).collect(),
        );
        let per_cpu = series("perfscope_node_cpu_usage_ratio", &[("cpu", "0")], vec![(0, 1.0); 5]);
        let other = limit("other_series", rss, &[("pool", "db")], 5.0);
        let figures = [limit("rss_high", rss, &[], 1.2e6), other];
        let got = trends(&[flat, leak, per_cpu, counter], &figures);
        assert_eq!(got.len(), 2, "{got:#?}");
        let (leak, flat) = (&got[0], &got[1]);
        assert_eq!((leak.name.as_str(), leak.direction), (rss, TrendDirection::Rising));
        assert!((leak.slope_per_second - 2e3).abs() < 1e-6);
        assert!(leak.t_statistic > 1e6, "an exact line: {}", leak.t_statistic);
        assert_eq!((leak.points, leak.min, leak.max), (60, 1e6, 1e6 + 2e3 * 59.0));
        assert_eq!(leak.last, leak.max);
        let to = leak.limit.as_ref().expect("the alert's limit");
        assert_eq!((to.alert.as_str(), to.limit), ("rss_high", 1.2e6));
        assert!((to.seconds_to_limit.unwrap() - 41.0).abs() < 1e-6, "{to:?}");
        assert_eq!((flat.direction, flat.limit.as_ref()), (TrendDirection::Flat, None));
        assert_eq!((flat.mean, flat.p95), (12.0, 12.0));
    }
}
