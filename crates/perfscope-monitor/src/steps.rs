//! Step detection on a per-interval series (a function's p99 latency, its self time per
//! second): a [`Detector`] decides whether a point is anomalous, and a **step up** is two
//! anomalous points in a row, each at least [`STEP_RATIO`] times the level before. One
//! anomalous point alone (a spike: a preempted call, a page fault) is left out of the
//! baseline and forgotten; the step is reported once, dated by its first point.

use crate::analysis::Detector;

/// A step must at least multiply the level by this.
pub const STEP_RATIO: f64 = 1.5;

/// A confirmed step up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Step {
    /// When the first point of the step was (milliseconds since the Unix epoch).
    pub(crate) at_ms: u64,
    /// The level before (the detector's weighted mean).
    pub(crate) before: f64,
    /// The level now.
    pub(crate) after: f64,
}

/// Watches one series for steps up.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepWatch {
    detector: Detector,
    /// The first anomalous point, waiting for a second: `(at_ms, level before)`.
    pending: Option<(u64, f64)>,
    /// A step was reported and the series has not come back yet.
    flagged: bool,
}

impl StepWatch {
    /// Takes the point `value` at `at_ms`; values under `floor` never count as a step.
    pub(crate) fn observe(&mut self, at_ms: u64, value: f64, floor: f64) -> Option<Step> {
        let before = self.detector.mean();
        let up = self.detector.score(value).is_some_and(|z| z > 0.0)
            && value >= STEP_RATIO * before
            && value >= floor;
        if !up || self.flagged {
            self.pending = None;
            self.flagged &= up;
            self.detector.observe(value);
            return None;
        }
        match self.pending.take() {
            // The first anomalous point stays out of the baseline until it is confirmed.
            None => {
                self.pending = Some((at_ms, before));
                None
            }
            Some((at_ms, before)) => {
                self.flagged = true;
                self.detector.observe(value);
                Some(Step { at_ms, before, after: value })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::noise;

    fn steps(values: impl Iterator<Item = f64>) -> Vec<(u64, Step)> {
        let mut watch = StepWatch::default();
        (0..).zip(values).filter_map(|(i, v)| watch.observe(i, v, 0.0).map(|s| (i, s))).collect()
    }

    #[test]
    fn a_tripling_is_one_step_dated_by_its_first_point() {
        let values = noise(9).take(100).enumerate().map(|(i, e)| {
            let level = if i < 50 { 1.0 } else { 3.0 };
            level * (1.0 + 0.05 * e)
        });
        let found = steps(values);
        assert_eq!(found.len(), 1, "{found:?}");
        let (reported_at, step) = found[0];
        assert_eq!((reported_at, step.at_ms), (51, 50));
        assert!((0.9..1.1).contains(&step.before) && (2.5..3.5).contains(&step.after));
    }

    #[test]
    fn spikes_and_noise_are_not_steps() {
        let values = noise(10).take(300).enumerate().map(|(i, e)| {
            let spike = if i % 37 == 0 { 10.0 } else { 1.0 };
            spike * (1.0 + 0.05 * e)
        });
        assert_eq!(steps(values), []);
    }

    #[test]
    fn a_step_must_multiply_the_level_by_the_ratio() {
        assert_eq!(STEP_RATIO, 1.5);
        // Level 10, noise of 0.5%: 12 is anomalous but only 1.2 times the level; 20 is a step.
        let level = |to: f64| {
            noise(12).take(80).enumerate().map(move |(i, e)| {
                let level = if i < 40 { 10.0 } else { to };
                level * (1.0 + 0.005 * e)
            })
        };
        assert_eq!(steps(level(12.0)), []);
        let found = steps(level(20.0));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0, found[0].1.at_ms), (41, 40));
        assert!((found[0].1.before - 10.0).abs() < 0.1, "{found:?}");
    }

    #[test]
    fn a_series_back_at_its_level_can_step_again() {
        // 1, then 3 (a step), back to 1 long enough to be the level again, then 3 again.
        let values = noise(13).take(240).enumerate().map(|(i, e)| {
            let level = if (60..90).contains(&i) || i >= 200 { 3.0 } else { 1.0 };
            level * (1.0 + 0.02 * e)
        });
        let found: Vec<u64> = steps(values).iter().map(|(_, s)| s.at_ms).collect();
        assert_eq!(found, [60, 200]);
    }

    #[test]
    fn the_floor_ignores_small_levels() {
        let mut watch = StepWatch::default();
        let found = (0..60u64)
            .filter_map(|i| watch.observe(i, if i < 30 { 1e-4 } else { 3e-4 }, 1e-3))
            .count();
        assert_eq!(found, 0);
    }
}
