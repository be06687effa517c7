//! Bounded history: one fixed-size ring of `(time, value)` points per series (a name and its
//! labels), preallocated when the series first appears, never grown.

use std::collections::HashMap;

use perfscope_core::figures::{Figure, FigureKind};
use perfscope_core::history;

use crate::analysis::Detector;

/// Most series a monitor keeps history for (a host with very many network interfaces stops there).
pub const MAX_SERIES: usize = 1024;

/// A fixed-capacity ring of points, oldest overwritten first.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    points: Box<[(f64, f64)]>,
    next: usize,
    len: usize,
}

impl Ring {
    /// A ring of `capacity` points (at least one), allocated now.
    pub(crate) fn new(capacity: usize) -> Ring {
        Ring { points: vec![(0.0, 0.0); capacity.max(1)].into_boxed_slice(), next: 0, len: 0 }
    }

    /// Appends a point, overwriting the oldest when full.
    pub(crate) fn push(&mut self, t: f64, value: f64) {
        self.points[self.next] = (t, value);
        self.next = (self.next + 1) % self.points.len();
        self.len = (self.len + 1).min(self.points.len());
    }

    /// The points, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<(f64, f64)> {
        let start = (self.next + self.points.len() - self.len) % self.points.len();
        (0..self.len).map(|i| self.points[(start + i) % self.points.len()]).collect()
    }

    /// The capacity.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.points.len()
    }
}

/// One series: its ring and, for gauges, its anomaly detector.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) ring: Ring,
    pub(crate) detector: Option<Detector>,
    /// Whether the newest point was anomalous (only the first of a run is reported).
    pub(crate) anomalous: bool,
    /// The figure's section, name, labels and unit (the points left empty).
    meta: history::Series,
}

/// Every series' history, keyed by [`series_key`].
#[derive(Debug)]
pub(crate) struct History {
    series: HashMap<String, Series>,
    ring_len: usize,
}

impl History {
    pub(crate) fn new(ring_len: usize) -> History {
        History { series: HashMap::new(), ring_len }
    }

    /// Records `figure` at `t`; returns its series (`None` past [`MAX_SERIES`]). A gauge's
    /// series gets an anomaly detector.
    pub(crate) fn record(&mut self, key: &str, figure: &Figure, t: f64) -> Option<&mut Series> {
        self.record_with(key, figure, t, figure.kind == FigureKind::Gauge)
    }

    /// Records `figure` at `t` in a series without an anomaly detector (history only).
    pub(crate) fn record_plain(&mut self, key: &str, figure: &Figure, t: f64) {
        self.record_with(key, figure, t, false);
    }

    fn record_with(
        &mut self,
        key: &str,
        figure: &Figure,
        t: f64,
        detect: bool,
    ) -> Option<&mut Series> {
        if !self.series.contains_key(key) {
            if self.series.len() >= MAX_SERIES {
                return None;
            }
            let detector = detect.then(Detector::default);
            let meta = history::Series {
                section: figure.section,
                name: figure.name.clone(),
                labels: figure.labels.clone(),
                unit: figure.unit,
                points: Vec::new(),
            };
            let ring = Ring::new(self.ring_len);
            self.series.insert(key.to_owned(), Series { ring, detector, anomalous: false, meta });
        }
        let series = self.series.get_mut(key)?;
        series.ring.push(t, figure.value);
        Some(series)
    }

    /// Every series with its points (milliseconds since the Unix epoch), for
    /// `FigureSource::history`.
    pub(crate) fn all(&self, out: &mut Vec<history::Series>) {
        out.reserve(self.series.len());
        for series in self.series.values() {
            let points = series.ring.to_vec().into_iter().map(|(t, v)| ((t * 1e3) as u64, v));
            out.push(history::Series { points: points.collect(), ..series.meta.clone() });
        }
    }

    /// The points of one series, oldest first (empty when unknown).
    pub(crate) fn points(&self, key: &str) -> Vec<(f64, f64)> {
        self.series.get(key).map(|s| s.ring.to_vec()).unwrap_or_default()
    }
}

/// The key of a series: its name, then its labels sorted by label name.
pub(crate) fn series_key<'a>(
    name: &str,
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut labels: Vec<(&str, &str)> = labels.into_iter().collect();
    labels.sort_unstable();
    let mut key = String::from(name);
    for (k, v) in labels {
        key.push('\u{1f}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
}

/// The key of `figure`'s series.
pub(crate) fn figure_key(figure: &Figure) -> String {
    series_key(&figure.name, figure.labels.iter().map(|(k, v)| (k.as_ref(), v.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_keeps_the_last_points_in_order_without_growing() {
        let mut ring = Ring::new(3);
        assert!(ring.to_vec().is_empty());
        for i in 0..5 {
            ring.push(f64::from(i), f64::from(i * 10));
        }
        assert_eq!(ring.to_vec(), vec![(2.0, 20.0), (3.0, 30.0), (4.0, 40.0)]);
        assert_eq!(ring.capacity(), 3);
    }

    #[test]
    fn series_keys_ignore_label_order() {
        assert_eq!(
            series_key("a", [("x", "1"), ("y", "2")]),
            series_key("a", [("y", "2"), ("x", "1")])
        );
        assert_ne!(series_key("a", []), series_key("a", [("cpu", "0")]));
    }

    #[test]
    fn the_history_is_bounded_in_series_and_points() {
        let mut history = History::new(2);
        let figure =
            |v| Figure::gauge("t", "t_v", "", perfscope_core::figures::FigureUnit::Count, v);
        for i in 0..(MAX_SERIES + 10) {
            let key = series_key("t_v", [("i", i.to_string().as_str())]);
            history.record(&key, &figure(1.0), 0.0);
        }
        assert_eq!(history.series.len(), MAX_SERIES);
        let key = series_key("t_v", [("i", "0")]);
        for t in 0..5 {
            history.record(&key, &figure(f64::from(t)), f64::from(t));
        }
        assert_eq!(history.points(&key), vec![(3.0, 3.0), (4.0, 4.0)]);
        let mut all = Vec::new();
        history.all(&mut all);
        assert_eq!(all.len(), MAX_SERIES);
        let zero = all.iter().find(|s| s.points.len() == 2).unwrap();
        assert_eq!((&*zero.name, zero.section), ("t_v", "t"));
        assert_eq!(zero.points, vec![(3000, 3.0), (4000, 4.0)]);
    }
}
