//! The statistics behind a bench diff, each a few lines: medians, the Mann–Whitney U test
//! (two-sided, normal approximation with tie correction), and a bootstrap confidence interval
//! of the ratio of two medians. No statistics crate for this much.

/// The median of `xs` (mean of the two middle values for an even count); NaN when empty.
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}

/// How much one run's iterations spread, relative to their median: twice the median absolute
/// deviation over the median. For normal data that is about the interquartile range, but a
/// minority of outliers (iterations preempted on a loaded machine) barely moves it. NaN when
/// empty or the median is 0.
pub fn relative_spread(xs: &[f64]) -> f64 {
    let m = median(xs);
    if xs.is_empty() || m == 0.0 {
        return f64::NAN;
    }
    let deviations: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
    2.0 * median(&deviations) / m.abs()
}

/// Two-sided p-value of the Mann–Whitney U test that `a` and `b` come from one distribution:
/// normal approximation with tie and continuity corrections (fine from ~5 values a side).
/// 1 when either side is empty or every value is tied.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut pooled: Vec<(f64, bool)> =
        a.iter().map(|&x| (x, true)).chain(b.iter().map(|&x| (x, false))).collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = pooled.len();
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0; // average rank of the tied run, 1-based
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_sum_a += rank * pooled[i..=j].iter().filter(|p| p.1).count() as f64;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let nn = n as f64;
    let variance = n1 * n2 / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * (1.0 - normal_cdf(z))).clamp(0.0, 1.0)
}

/// Φ(z), from the error function (Abramowitz & Stegun 7.1.26, error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    0.5 * (1.0 + if x >= 0.0 { erf } else { -erf })
}

/// The ratio `median(b) / median(a)`: 1 when both are 0, infinite when only `a`'s is.
pub fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (median(a), median(b));
    match (ma == 0.0, mb == 0.0) {
        (true, true) => 1.0,
        (true, false) => f64::INFINITY,
        _ => mb / ma,
    }
}

/// A 95% percentile-bootstrap confidence interval of [`median_ratio`]`(a, b)`: `resamples`
/// resamples of each side with replacement, from a fixed seed (the same files give the same
/// interval).
pub fn bootstrap_ratio_ci(a: &[f64], b: &[f64], resamples: usize) -> (f64, f64) {
    if a.is_empty() || b.is_empty() || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut resample = |xs: &[f64], out: &mut Vec<f64>| {
        out.clear();
        out.extend((0..xs.len()).map(|_| xs[rng.below(xs.len())]));
    };
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    let mut ratios: Vec<f64> = (0..resamples)
        .map(|_| {
            resample(a, &mut ra);
            resample(b, &mut rb);
            median_ratio(&ra, &rb)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (ratios[rank(0.025, resamples)], ratios[rank(0.975, resamples)])
}

/// The index of the `q`-quantile (0 to 1) of `n` sorted values: `q × (n − 1)`, rounded.
fn rank(q: f64, n: usize) -> usize {
    (q * (n - 1) as f64).round() as usize
}

/// xorshift64*: a small deterministic generator, enough for resampling.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_s_ranks_are_the_quantiles_of_the_sorted_resamples() {
        // 2,000 resamples: 0.025 × 1,999 = 49.975 and 0.975 × 1,999 = 1,949.025.
        assert_eq!((rank(0.025, 2000), rank(0.975, 2000)), (50, 1949));
        assert_eq!((rank(0.0, 5), rank(0.5, 5), rank(1.0, 5)), (0, 2, 4));
        assert_eq!(rank(0.975, 1), 0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn relative_spreads() {
        // median 4.5, deviations 0.5 0.5 1.5 1.5 2.5 2.5 3.5 3.5: MAD 2
        let xs: Vec<f64> = (1..=8).map(f64::from).collect();
        assert!((relative_spread(&xs) - 4.0 / 4.5).abs() < 1e-12);
        assert_eq!(relative_spread(&[5.0; 4]), 0.0);
        assert!(relative_spread(&[]).is_nan());
        // 4 of 10 iterations preempted 3x: the spread stays that of the other 6.
        let mut preempted = vec![100.0, 101.0, 99.0, 100.0, 102.0, 98.0];
        preempted.extend([300.0, 310.0, 290.0, 305.0]);
        assert!(relative_spread(&preempted) < 0.1, "{}", relative_spread(&preempted));
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_7), (1.96, 0.975_002_1), (-2.0, 0.022_750_1)] {
            assert!((normal_cdf(z) - p).abs() < 1e-6, "Φ({z}) = {} not {p}", normal_cdf(z));
        }
    }

    #[test]
    fn mann_whitney_against_a_worked_example() {
        // Fully separated samples of 10: U = 0, z = (50 - 0.5) / sqrt(175) = 3.742, p = 0.00018.
        let a: Vec<f64> = (1..=10).map(f64::from).collect();
        let b: Vec<f64> = (11..=20).map(f64::from).collect();
        let p = mann_whitney_p(&a, &b);
        assert!((p - 0.000_182_6).abs() < 2e-6, "{p}");
        // Interleaved samples: no evidence at all.
        let odd: Vec<f64> = (0..10).map(|i| f64::from(2 * i + 1)).collect();
        let even: Vec<f64> = (0..10).map(|i| f64::from(2 * i + 2)).collect();
        assert!(mann_whitney_p(&odd, &even) > 0.7);
        assert_eq!(mann_whitney_p(&[1.0, 1.0], &[1.0, 1.0]), 1.0, "all tied");
    }

    #[test]
    fn mann_whitney_with_ties_against_a_worked_example() {
        // a = 1 2 2 3, b = 2 3 4 5. Pooled ranks: 1 → 1, the three 2s → 3, the two 3s → 5.5,
        // 4 → 7, 5 → 8. Rank sum of a = 1 + 3 + 3 + 5.5 = 12.5, U = 12.5 − 4 × 5 / 2 = 2.5.
        // Ties: (27 − 3) + (8 − 2) = 30; variance = 16/12 × (9 − 30/56) = 11.2857;
        // z = (|2.5 − 8| − 0.5) / 3.3594 = 1.48835; p = 2 (1 − Φ(z)) = 0.136658.
        let (a, b) = ([1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0]);
        let p = mann_whitney_p(&a, &b);
        assert!((p - 0.136_658).abs() < 2e-6, "{p}");
        assert_eq!(mann_whitney_p(&b, &a), p, "two-sided: the order does not matter");
        // U at its mean (z = 0 after the continuity correction): no evidence, p = 1.
        let p = mann_whitney_p(&[1.0, 4.0], &[2.0, 3.0]);
        assert!((p - 1.0).abs() < 1e-6, "{p}");
        assert_eq!(mann_whitney_p(&[], &b), 1.0);
        assert_eq!(mann_whitney_p(&a, &[]), 1.0);
    }

    #[test]
    fn the_bootstrap_interval_of_a_small_sample_is_its_extremes() {
        // A resample of 110 120 130 has median 110 when 2 of its 3 draws are 110: p = 7/27,
        // far above the 2.5% tail (and likewise 130): the interval is (1.1, 1.3) exactly.
        let (a, b) = ([100.0; 5], [110.0, 120.0, 130.0]);
        assert_eq!(bootstrap_ratio_ci(&a, &b, 2_000), (1.1, 1.3));
        assert_eq!(bootstrap_ratio_ci(&b, &a, 2_000), (100.0 / 130.0, 100.0 / 110.0));
        assert_eq!(bootstrap_ratio_ci(&a, &a, 1), (1.0, 1.0));
        let nan = |(lo, hi): (f64, f64)| lo.is_nan() && hi.is_nan();
        assert!(nan(bootstrap_ratio_ci(&a, &b, 0)));
        assert!(nan(bootstrap_ratio_ci(&[0.0], &[], 100)));
        assert!(nan(bootstrap_ratio_ci(&[], &[0.0], 100)));
    }

    #[test]
    fn the_resampler_is_xorshift64_star_from_its_seed() {
        // xorshift64* (Vigna: x ^= x >> 12, x ^= x << 25, x ^= x >> 27, times
        // 0x2545F4914F6CDD1D), top 31 bits: the first draws from the seed, computed apart from
        // the published algorithm.
        let draws = |n: usize| {
            let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
            (0..6).map(|_| rng.below(n)).collect::<Vec<_>>()
        };
        let top =
            [1_454_299_909, 1_601_010_478, 84_930_582, 1_266_907_686, 2_130_305_516, 604_975_718];
        assert_eq!(draws(1 << 31), top);
        assert_eq!(draws(1_000), [909, 478, 582, 686, 516, 718]);
    }

    #[test]
    fn spreads_and_ratios_at_zero() {
        // Median 0: no relative spread, even though the values do spread (MAD 1).
        assert!(relative_spread(&[-1.0, 0.0, 5.0]).is_nan());
        // Median −2, deviations 1 0 1, MAD 1: the spread is relative to |median|.
        assert_eq!(relative_spread(&[-1.0, -2.0, -3.0]), 1.0);
        assert_eq!(relative_spread(&[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(median_ratio(&[2.0, 4.0], &[3.0]), 1.0);
        assert_eq!(median_ratio(&[4.0], &[0.0]), 0.0);
        assert_eq!(median(&[5.0]), 5.0);
    }

    #[test]
    fn the_bootstrap_interval_holds_the_true_ratio_and_is_repeatable() {
        let a: Vec<f64> = (0..20).map(|i| 100.0 + f64::from(i % 7) - 3.0).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.5).collect();
        let (lo, hi) = bootstrap_ratio_ci(&a, &b, 2000);
        assert!(lo <= 1.5 && 1.5 <= hi && hi - lo < 0.15, "({lo}, {hi})");
        assert_eq!(bootstrap_ratio_ci(&a, &b, 2000), (lo, hi));
        assert_eq!(median_ratio(&[0.0], &[0.0]), 1.0);
        assert!(median_ratio(&[0.0], &[1.0]).is_infinite());
    }
}
