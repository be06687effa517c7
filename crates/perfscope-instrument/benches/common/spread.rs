//! The figures of alternating-round benches: a median with the 10th and 90th percentiles.

/// The median and the 10th and 90th percentiles of `values`.
pub fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.1), at(0.9))
}
