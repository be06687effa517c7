//! Counts of what the monitor found — anomalies by section, subject and kind, recommendations
//! by kind and subject — exported as counters ([`names::ANOMALIES_TOTAL`],
//! [`names::RECOMMENDATIONS_TOTAL`]) beside the alerts' series, so Prometheus and Grafana see
//! them (annotations from their increases). Label values are names, never message text, and
//! their number is capped: subjects past [`MAX_SUBJECTS`] are counted under
//! [`names::OVERFLOW`].

use std::collections::BTreeMap;

use perfscope_core::figures::Figure;
use perfscope_core::names;

/// Most (section, subject, kind) series of anomalies, and of (kind, subject) series of
/// recommendations; the rest are counted under subject [`names::OVERFLOW`].
pub const MAX_SUBJECTS: usize = 512;

/// The running counts.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    anomalies: BTreeMap<(&'static str, String, &'static str), u64>,
    recommendations: BTreeMap<(&'static str, String), u64>,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, overflow: impl FnOnce() -> K) {
    let key = if map.len() >= MAX_SUBJECTS && !map.contains_key(&key) { overflow() } else { key };
    *map.entry(key).or_default() += 1;
}

impl Tally {
    /// One anomaly of `subject` (a figure's or a function's name) in `section`.
    pub(crate) fn anomaly(&mut self, section: &'static str, subject: &str, kind: &'static str) {
        let key = (section, subject.to_string(), kind);
        bump(&mut self.anomalies, key, || (section, names::OVERFLOW.to_string(), kind));
    }

    /// One recommendation of `kind` about `subject`.
    pub(crate) fn recommendation(&mut self, kind: &'static str, subject: &str) {
        let key = (kind, subject.to_string());
        bump(&mut self.recommendations, key, || (kind, names::OVERFLOW.to_string()));
    }

    /// The counters, one per series counted so far.
    pub(crate) fn figures(&self, out: &mut Vec<Figure>) {
        for ((section, subject, kind), n) in &self.anomalies {
            out.push(
                Figure::of(&names::ANOMALIES_TOTAL, *n as f64)
                    .with_label("section", *section)
                    .with_label("subject", subject.clone())
                    .with_label("kind", *kind),
            );
        }
        for ((kind, subject), n) in &self.recommendations {
            out.push(
                Figure::of(&names::RECOMMENDATIONS_TOTAL, *n as f64)
                    .with_label("kind", *kind)
                    .with_label("subject", subject.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(figures: &[Figure], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        figures
            .iter()
            .find(|f| {
                f.name == name
                    && labels.iter().all(|(k, v)| f.labels.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|f| f.value)
    }

    #[test]
    fn counts_by_labels_and_caps_subjects() {
        let mut tally = Tally::default();
        tally.anomaly("host", "perfscope_node_cpu_usage_ratio", "figure");
        tally.anomaly("host", "perfscope_node_cpu_usage_ratio", "figure");
        tally.anomaly("function", "scan", "p99_latency");
        tally.recommendation("reuse_buffers", "scan");
        let mut out = Vec::new();
        tally.figures(&mut out);
        let anomalies = names::ANOMALIES_TOTAL.name;
        let cpu = [("subject", "perfscope_node_cpu_usage_ratio"), ("kind", "figure")];
        assert_eq!(value(&out, anomalies, &cpu), Some(2.0));
        assert_eq!(
            value(&out, anomalies, &[("subject", "scan"), ("kind", "p99_latency")]),
            Some(1.0)
        );
        let recs = names::RECOMMENDATIONS_TOTAL.name;
        assert_eq!(value(&out, recs, &[("kind", "reuse_buffers"), ("subject", "scan")]), Some(1.0));
        assert_eq!(out.len(), 3);

        for i in 0..MAX_SUBJECTS + 10 {
            tally.recommendation("io_bound", &format!("f{i}"));
        }
        let mut out = Vec::new();
        tally.figures(&mut out);
        let recs_series = out.iter().filter(|f| f.name == recs).count();
        assert_eq!(recs_series, MAX_SUBJECTS + 1, "the cap and one overflow series");
        let other = value(&out, recs, &[("kind", "io_bound"), ("subject", names::OVERFLOW)]);
        // 1 + 10 + 1 already present before the cap: every count kept.
        let total: f64 = out.iter().filter(|f| f.name == recs).map(|f| f.value).sum();
        assert_eq!(total, (MAX_SUBJECTS + 11) as f64);
        assert_eq!(other, Some(11.0));
    }
}
