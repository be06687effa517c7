//! Summary and trend of a series of `(seconds, value)` points (a history series, a
//! monitor's ring): pure functions, shared by the system monitor (its `trend`/`summary`, its
//! recommendations) and the report's trends section.
//!
//! - [`summary`]: count, min, mean, max and p95;
//! - [`trend`]: the least-squares line, a rising / flat / falling verdict, and when the line
//!   reaches a level (like Prometheus' `predict_linear`).
//!
//! ```
//! use perfscope_core::analysis::{summary, trend, Direction};
//!
//! let leak: Vec<(f64, f64)> = (0..60).map(|s| (f64::from(s), 1e6 + 2e3 * f64::from(s))).collect();
//! let trend = trend(&leak).unwrap();
//! assert_eq!(trend.direction, Direction::Rising);
//! assert!((trend.slope - 2e3).abs() < 1e-6);
//! // 1.2e6 bytes is reached 41 s after the last point.
//! assert!((trend.time_until(1.2e6).unwrap() - 41.0).abs() < 1e-6);
//! assert_eq!(summary(&leak).unwrap().max, 1e6 + 2e3 * 59.0);
//! ```

/// Count, min, mean, max and 95th percentile of a series' values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of points.
    pub count: usize,
    /// Smallest value.
    pub min: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Largest value.
    pub max: f64,
    /// 95th percentile, nearest rank: the smallest value with at least 95% of the points at
    /// or below it.
    pub p95: f64,
}

/// The summary of `points`' values; `None` when there are none (NaNs are left out).
pub fn summary(points: &[(f64, f64)]) -> Option<Summary> {
    let mut values: Vec<f64> = points.iter().map(|p| p.1).filter(|v| !v.is_nan()).collect();
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let count = values.len();
    let rank = (0.95 * count as f64).ceil() as usize;
    Some(Summary {
        count,
        min: values[0],
        mean: values.iter().sum::<f64>() / count as f64,
        max: values[count - 1],
        p95: values[rank.clamp(1, count) - 1],
    })
}

/// Where a series is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The slope is significant and moves the value by more than [`FLAT_TOLERANCE`].
    Rising,
    /// Otherwise.
    Flat,
    /// Like rising, downwards.
    Falling,
}

/// Below this fraction of the series' mean level, a change over the whole window is flat.
pub const FLAT_TOLERANCE: f64 = 0.01;
/// Below this t-statistic (slope over its standard error), the slope is noise: flat.
pub const SIGNIFICANCE: f64 = 3.0;

/// The least-squares line through a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Change per second.
    pub slope: f64,
    /// The line's value at the last point's time.
    pub now: f64,
    /// The last point's time (seconds).
    pub at: f64,
    /// Rising, flat or falling.
    pub direction: Direction,
    /// The slope over its standard error: how far from noise it is (from [`SIGNIFICANCE`]
    /// on, it is significant). Infinite for an exact line.
    pub t_statistic: f64,
}

impl Trend {
    /// The line's value `seconds` after the last point (Prometheus' `predict_linear`).
    pub fn predict(&self, seconds: f64) -> f64 {
        self.now + self.slope * seconds
    }

    /// Seconds after the last point until the line reaches `level`; `None` when it never
    /// does going forward (flat, heading away, or past it already).
    pub fn time_until(&self, level: f64) -> Option<f64> {
        if self.direction == Direction::Flat || self.slope == 0.0 {
            return None;
        }
        let seconds = (level - self.now) / self.slope;
        (seconds >= 0.0 && seconds.is_finite()).then_some(seconds)
    }
}

/// The least-squares line through `points` (at least 3, with distinct times; NaNs left out).
pub fn trend(points: &[(f64, f64)]) -> Option<Trend> {
    let points: Vec<(f64, f64)> =
        points.iter().copied().filter(|(t, v)| t.is_finite() && v.is_finite()).collect();
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    // Centre times and values first: epoch seconds squared would lose the precision.
    let (mt, mv) = points.iter().fold((0.0, 0.0), |(a, b), (t, v)| (a + t / n, b + v / n));
    let (sxx, sxy) = points
        .iter()
        .fold((0.0, 0.0), |(xx, xy), (t, v)| (xx + (t - mt) * (t - mt), xy + (t - mt) * (v - mv)));
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let residuals: f64 = points.iter().map(|(t, v)| (v - mv - slope * (t - mt)).powi(2)).sum();
    let standard_error = (residuals / (n - 2.0) / sxx).sqrt();
    let at = points.iter().map(|p| p.0).fold(f64::MIN, f64::max);
    let first = points.iter().map(|p| p.0).fold(f64::MAX, f64::min);
    let change = slope * (at - first);
    let significant = slope != 0.0 && slope.abs() >= SIGNIFICANCE * standard_error;
    let direction = if !significant || change.abs() < FLAT_TOLERANCE * mv.abs() {
        Direction::Flat
    } else if slope > 0.0 {
        Direction::Rising
    } else {
        Direction::Falling
    };
    let t_statistic = if standard_error > 0.0 {
        slope / standard_error
    } else if slope == 0.0 {
        0.0
    } else {
        f64::INFINITY.copysign(slope)
    };
    Some(Trend { slope, now: mv + slope * (at - mt), at, direction, t_statistic })
}
