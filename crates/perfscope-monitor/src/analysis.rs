//! Analysis of a series of `(seconds, value)` points (as [`Monitor::history`] returns them):
//! pure functions, no state but the streaming [`Detector`]'s. [`summary`] and [`trend`] are
//! `perfscope_core::analysis`'s (the report's trends section uses them too).
//!
//! - [`summary`]: count, min, mean, max and p95;
//! - [`trend`]: the least-squares line, a rising / flat / falling verdict, and when the line
//!   reaches a level (like Prometheus' `predict_linear`);
//! - [`Detector`]: a streaming anomaly detector (EWMA z-score).
//!
//! ```
//! use perfscope_monitor::analysis::{summary, trend, Direction};
//!
//! let leak: Vec<(f64, f64)> = (0..60).map(|s| (f64::from(s), 1e6 + 2e3 * f64::from(s))).collect();
//! let trend = trend(&leak).unwrap();
//! assert_eq!(trend.direction, Direction::Rising);
//! assert!((trend.slope - 2e3).abs() < 1e-6);
//! // 1.2e6 bytes is reached 41 s after the last point.
//! assert!((trend.time_until(1.2e6).unwrap() - 41.0).abs() < 1e-6);
//! assert_eq!(summary(&leak).unwrap().max, 1e6 + 2e3 * 59.0);
//! ```
//!
//! [`Monitor::history`]: crate::Monitor::history

pub use perfscope_core::analysis::{
    Direction, FLAT_TOLERANCE, SIGNIFICANCE, Summary, Trend, summary, trend,
};

/// A streaming anomaly detector: an exponentially weighted mean and variance (weight
/// `alpha` for the newest point), and a point is anomalous when it is more than `k`
/// standard deviations from the mean of the points before it.
///
/// **False-alarm rate**: with the defaults (`alpha` 0.05, `k` 4, 20 points of warm-up), at
/// most 0.1% of the points of independent Gaussian noise are flagged (the unit test measures
/// 0.031% to 0.037% on three seeded runs of 200 000 points). Real series are heavier-tailed
/// than Gaussian noise, so expect more there. A step of 6 standard deviations is flagged at
/// its first point. The standard deviation is floored at 0.1% of the mean level, so a
/// constant series does not flag rounding noise.
#[derive(Debug, Clone, Copy)]
pub struct Detector {
    alpha: f64,
    k: f64,
    warmup: u32,
    seen: u32,
    mean: f64,
    variance: f64,
}

impl Default for Detector {
    fn default() -> Detector {
        Detector::new(0.05, 4.0, 20)
    }
}

impl Detector {
    /// A detector with weight `alpha` (0 to 1) for the newest point, a threshold of `k`
    /// standard deviations, and no verdict for the first `warmup` points.
    pub fn new(alpha: f64, k: f64, warmup: u32) -> Detector {
        Detector { alpha: alpha.clamp(1e-6, 1.0), k, warmup, seen: 0, mean: 0.0, variance: 0.0 }
    }

    /// Takes the next point; returns its z-score when it is anomalous.
    pub fn observe(&mut self, x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        if self.seen == 0 {
            (self.seen, self.mean, self.variance) = (1, x, 0.0);
            return None;
        }
        let diff = x - self.mean;
        let anomalous = self.score(x);
        // Finch's incremental EWMA mean and variance.
        let step = self.alpha * diff;
        self.mean += step;
        self.variance = (1.0 - self.alpha) * (self.variance + diff * step);
        self.seen = self.seen.saturating_add(1);
        anomalous
    }

    /// The z-score `x` would get from [`observe`](Self::observe) if it is anomalous, without
    /// taking it (the weighted mean and variance stay as they are).
    pub fn score(&self, x: f64) -> Option<f64> {
        if !x.is_finite() || self.seen == 0 {
            return None;
        }
        let sigma = self.variance.sqrt().max(1e-3 * self.mean.abs()).max(f64::MIN_POSITIVE);
        let z = (x - self.mean) / sigma;
        (self.seen > self.warmup && z.abs() > self.k).then_some(z)
    }

    /// The current weighted mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }
}

#[cfg(test)]
pub(crate) mod testing {
    /// Seeded standard normal noise (splitmix64 and Box-Muller): the same on every run.
    pub(crate) fn noise(seed: u64) -> impl Iterator<Item = f64> {
        let mut state = seed;
        let mut uniform = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        std::iter::from_fn(move || {
            let (u1, u2) = (uniform().max(f64::MIN_POSITIVE), uniform());
            Some((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::noise;
    use super::*;

    #[test]
    fn summary_of_one_to_a_hundred() {
        let points: Vec<(f64, f64)> = (1..=100).map(|i| (f64::from(i), f64::from(i))).collect();
        let s = summary(&points).unwrap();
        assert_eq!((s.count, s.min, s.mean, s.max, s.p95), (100, 1.0, 50.5, 100.0, 95.0));
        assert_eq!(summary(&[]), None);
        assert_eq!(summary(&[(0.0, 7.0)]).unwrap().p95, 7.0);
    }

    #[test]
    fn a_noisy_ramp_slope_is_found_within_one_percent() {
        // Epoch-sized times: the fit must not lose precision to them.
        let start = 1.75e9;
        let points: Vec<(f64, f64)> = noise(7)
            .take(120)
            .enumerate()
            .map(|(i, e)| (start + i as f64, 500.0 + 2.5 * i as f64 + 2.0 * e))
            .collect();
        let t = trend(&points).unwrap();
        assert!((t.slope - 2.5).abs() < 0.025, "slope {}", t.slope);
        assert_eq!(t.direction, Direction::Rising);
        let level = t.predict(100.0);
        assert!((t.time_until(level).unwrap() - 100.0).abs() < 1e-6);
        assert_eq!(t.time_until(0.0), None, "behind the line");
    }

    #[test]
    fn an_exact_line_at_epoch_times_has_its_exact_slope() {
        // A leak of 2 kB/s at epoch-sized times and a level of 1e9: centring keeps the
        // products small, so the slope comes out exact to a few parts in 1e12.
        let points: Vec<(f64, f64)> =
            (0..600).map(|i| (1.75e9 + f64::from(i) * 0.2, 1e9 + 400.0 * f64::from(i))).collect();
        let t = trend(&points).unwrap();
        assert!((t.slope - 2000.0).abs() < 1e-6, "slope {}", t.slope);
        assert!((t.now - (1e9 + 400.0 * 599.0)).abs() < 1e-2, "now {}", t.now);
    }

    #[test]
    fn noise_is_flat_and_a_fall_is_falling() {
        let flat: Vec<(f64, f64)> =
            noise(11).take(300).enumerate().map(|(i, e)| (i as f64, 40.0 + e)).collect();
        assert_eq!(trend(&flat).unwrap().direction, Direction::Flat);
        assert_eq!(trend(&flat).unwrap().time_until(100.0), None);
        let fall: Vec<(f64, f64)> = (0..30).map(|i| (f64::from(i), 90.0 - f64::from(i))).collect();
        let t = trend(&fall).unwrap();
        assert_eq!(t.direction, Direction::Falling);
        assert!((t.time_until(0.0).unwrap() - 61.0).abs() < 1e-9);
        assert_eq!(trend(&fall[..2]), None);
    }

    #[test]
    fn nans_are_left_out_of_summaries_and_trends() {
        let with_nan = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 5.0), (f64::NAN, 9.0)];
        let s = summary(&with_nan[..4]).unwrap();
        assert_eq!((s.count, s.min, s.mean, s.max, s.p95), (3, 1.0, 3.0, 5.0, 5.0));
        assert_eq!(summary(&[(0.0, f64::NAN)]), None);
        let t = trend(&with_nan).unwrap();
        // The line through (0, 1), (2, 3), (3, 5): slope 9/7, at t = 3 it is 33/7.
        assert!((t.slope - 9.0 / 7.0).abs() < 1e-12 && (t.now - 33.0 / 7.0).abs() < 1e-12, "{t:?}");
        assert_eq!(t.at, 3.0);
        // Three points are enough for a line.
        assert_eq!(trend(&[(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]).unwrap().slope, 1.0);
        assert_eq!(trend(&[(0.0, 1.0), (0.0, 2.0), (0.0, 3.0)]), None, "one time only");
    }

    /// Eight points on `10 + slope * t` plus residuals of +-1 (orthogonal to the line, so the
    /// fit finds `slope` exactly): the slope's standard error is sqrt(8 / 6 / 42).
    fn with_t_statistic(t_statistic: f64) -> Vec<(f64, f64)> {
        let standard_error = (8.0_f64 / 6.0 / 42.0).sqrt();
        let slope = t_statistic * standard_error;
        let residuals = [1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0];
        (0..8)
            .map(|i| (f64::from(i), 10.0 + slope * f64::from(i) + residuals[i as usize]))
            .collect()
    }

    #[test]
    fn a_slope_is_significant_from_three_standard_errors() {
        let rising = trend(&with_t_statistic(3.3)).unwrap();
        assert!((rising.slope - 3.3 * (8.0_f64 / 6.0 / 42.0).sqrt()).abs() < 1e-12);
        assert_eq!(rising.direction, Direction::Rising);
        assert_eq!(trend(&with_t_statistic(2.7)).unwrap().direction, Direction::Flat);
        let falling: Vec<(f64, f64)> =
            with_t_statistic(3.3).into_iter().map(|(t, v)| (t, 30.0 - v)).collect();
        assert_eq!(trend(&falling).unwrap().direction, Direction::Falling);
        assert_eq!(trend(&with_t_statistic(-2.7)).unwrap().direction, Direction::Flat);
    }

    #[test]
    fn a_change_under_one_percent_of_the_level_is_flat() {
        // Exact lines (no noise: every slope is significant) around 1000 over 10 s, from 100 s.
        let line = |slope: f64| -> Vec<(f64, f64)> {
            (0..=10).map(|i| (100.0 + f64::from(i), 1000.0 + slope * f64::from(i))).collect()
        };
        assert_eq!(trend(&line(0.9)).unwrap().direction, Direction::Flat);
        assert_eq!(trend(&line(1.1)).unwrap().direction, Direction::Rising);
        assert_eq!(trend(&line(-1.1)).unwrap().direction, Direction::Falling);
        assert_eq!(trend(&line(0.0)).unwrap().direction, Direction::Flat);
        // Exactly 1%: 7 over a mean of 700, every figure exact in binary (eight points).
        let exact: Vec<(f64, f64)> =
            (0..8).map(|i| (100.0 + f64::from(i), 696.5 + f64::from(i))).collect();
        let t = trend(&exact).unwrap();
        assert_eq!((t.slope, t.now, FLAT_TOLERANCE * 700.0), (1.0, 703.5, 7.0));
        assert_eq!(t.direction, Direction::Rising, "not below 1%");
    }

    #[test]
    fn time_until_needs_a_direction_and_a_level_ahead() {
        let flat =
            Trend { slope: 1.0, now: 0.0, at: 0.0, direction: Direction::Flat, t_statistic: 0.0 };
        assert_eq!(flat.time_until(10.0), None);
        let rising = Trend { direction: Direction::Rising, ..flat };
        assert_eq!(rising.time_until(10.0), Some(10.0));
        assert_eq!(rising.time_until(-10.0), None);
        assert_eq!(rising.predict(4.0), 4.0);
        let level = Trend { slope: 0.0, ..rising };
        assert_eq!(level.time_until(10.0), None);
    }

    #[test]
    fn the_first_verdict_follows_the_warm_up() {
        // Warm-up 3: the first point sets the mean, then three more without a verdict.
        let mut detector = Detector::new(0.05, 4.0, 3);
        for _ in 0..4 {
            assert_eq!(detector.observe(1.0), None);
        }
        assert_eq!(detector.mean(), 1.0);
        assert!(detector.observe(100.0).is_some());
        let mut detector = Detector::new(0.05, 4.0, 3);
        assert_eq!(detector.score(1.0), None, "nothing seen");
        for _ in 0..3 {
            detector.observe(1.0);
        }
        assert_eq!(detector.score(100.0), None, "still warming up");
    }

    #[test]
    fn the_floor_is_a_thousandth_of_the_level_and_k_is_strict() {
        let mut detector = Detector::default();
        for _ in 0..30 {
            detector.observe(5.0);
        }
        // sigma is floored at 0.005: 3.5 sd is not anomalous, 4.5 sd is.
        assert_eq!(detector.score(5.0 + 3.5 * 0.005), None);
        let z = detector.score(5.0 - 4.5 * 0.005).expect("4.5 sd below");
        assert!((z + 4.5).abs() < 1e-9, "{z}");
        assert_eq!(detector.score(f64::INFINITY), None);
        assert_eq!(detector.score(f64::NAN), None);
        // Exactly k standard deviations is not more than k.
        let k = (6.0 - 5.0) / (1e-3 * 5.0);
        let mut detector = Detector::new(1.0, k, 0);
        detector.observe(5.0);
        detector.observe(5.0);
        assert_eq!(detector.score(6.0), None);
        assert!(detector.score(6.0 + 1e-9).is_some());
    }

    #[test]
    fn the_weighted_mean_and_variance_follow_finch() {
        // alpha 0.5 from 0: the mean halves the distance, the variance is Finch's.
        let mut detector = Detector::new(0.5, 4.0, 0);
        detector.observe(0.0);
        detector.observe(4.0);
        assert_eq!(detector.mean(), 2.0);
        // variance = (1 - 0.5) * (0 + 4 * 2) = 4: sigma 2, so 8 is 3 sd from 2 and 12 is 5.
        assert_eq!(detector.score(8.0), None);
        assert_eq!(detector.score(12.0), Some(5.0));
        detector.observe(2.0);
        assert_eq!(detector.mean(), 2.0);
    }

    #[test]
    fn a_step_is_flagged_within_three_samples() {
        let mut detector = Detector::default();
        for e in noise(3).take(200) {
            detector.observe(10.0 + e);
        }
        let flagged = noise(4).take(3).position(|e| detector.observe(16.0 + e).is_some());
        assert!(flagged.is_some(), "a 6-sigma step is flagged");
    }

    #[test]
    fn gaussian_noise_stays_under_the_documented_false_alarm_rate() {
        for seed in [1, 2, 3] {
            let mut detector = Detector::default();
            let points = 200_000;
            let alarms =
                noise(seed).take(points).filter(|e| detector.observe(5.0 + e).is_some()).count();
            let rate = alarms as f64 / points as f64;
            eprintln!(
                "seed {seed}: {alarms} false alarms in {points} points ({:.4}%)",
                rate * 100.0
            );
            assert!(rate < 0.001, "seed {seed}: {alarms} alarms, rate {rate}");
        }
    }

    #[test]
    fn a_constant_series_flags_a_real_change_but_not_rounding() {
        let mut detector = Detector::default();
        for _ in 0..50 {
            assert_eq!(detector.observe(5.0), None);
        }
        assert_eq!(detector.observe(5.000_001), None);
        assert!(detector.observe(6.0).is_some());
    }
}
