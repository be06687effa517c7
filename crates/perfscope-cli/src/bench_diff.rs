//! Comparing two bench files (`perfscope::bench`): per function, the distributions of a
//! per-call figure across iterations, with a stated test, so a rerun of the same build is not
//! called a regression.
//!
//! For each function present in both runs (iterations that did not call it are left out):
//! - the ratio of medians, head / base, with a 95% bootstrap confidence interval (2,000
//!   resamples, fixed seed);
//! - the two-sided Mann–Whitney U test's p-value;
//! - the function's own spread: the larger of the two runs' [`stats::relative_spread`] (twice
//!   the median absolute deviation over the median), `s`;
//! - a verdict, with `t` = `--fail-above`, `e = max(t, s)` and `α` = 0.05:
//!   - **regressed**: the whole interval is above `1 + e` and `p < α` — a change must exceed
//!     both the threshold and the function's own spread between iterations, because
//!     iterations of one run share its state and understate how much two runs differ (20
//!     same-build pairs of the market scanner flagged a function whose iterations spread by
//!     35% until this rule; see BENCHMARKS.md);
//!   - **improved**: the whole interval is below `1 / (1 + e)` and `p < α`;
//!   - **unchanged**: the whole interval is within `[1 / (1 + t), 1 + t]`; **unchanged (below
//!     floor)** when the medians differ by less than the floor (`--min-ns` / `--min-bytes`
//!     per call), whatever the ratio;
//!   - **too noisy to tell**: otherwise (the interval straddles a bound), or fewer than 3
//!     iterations on a side.

use std::collections::BTreeSet;

use perfscope_report::bench::{BenchRun, FunctionSeries};

use crate::diff::{DiffOptions, Figures, Metric};
use crate::stats;

/// Significance level of the Mann–Whitney test.
pub const ALPHA: f64 = 0.05;
/// Fewest iterations a side needs for a verdict.
pub const MIN_ITERATIONS: usize = 3;
const RESAMPLES: usize = 2_000;

/// A function's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Worse beyond the threshold, with confidence.
    Regressed,
    /// Better beyond the threshold, with confidence.
    Improved,
    /// Within the threshold, with confidence.
    Unchanged,
    /// The medians differ by less than the floor (`--min-ns` / `--min-bytes` per call): too
    /// small to matter, whatever the ratio.
    BelowFloor,
    /// The interval straddles a bound: more iterations, or a quieter machine.
    TooNoisy,
    /// In the base run only.
    Removed,
    /// In the head run only.
    Added,
}

impl Verdict {
    /// How the verdict reads in a table.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::BelowFloor => "unchanged (below floor)",
            Verdict::TooNoisy => "too noisy to tell",
            Verdict::Removed => "removed",
            Verdict::Added => "added",
        }
    }
}

/// One function's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Function name.
    pub name: String,
    /// Median of the per-call figure across the base iterations (ns or bytes).
    pub base_median: f64,
    /// The same in the head run.
    pub head_median: f64,
    /// `head_median / base_median`.
    pub ratio: f64,
    /// 95% bootstrap interval of the ratio.
    pub ci: (f64, f64),
    /// Mann–Whitney p-value.
    pub p: f64,
    /// The function's spread: the larger [`stats::relative_spread`] of the two runs.
    pub spread: f64,
    /// Iterations used, base and head.
    pub n: (usize, usize),
    /// The verdict.
    pub verdict: Verdict,
}

/// The comparison of two bench files.
#[derive(Debug, Clone)]
pub struct BenchDiff {
    /// The figure compared.
    pub metric: Metric,
    /// Rows: regressions first, then by ratio, largest first.
    pub rows: Vec<BenchRow>,
}

impl BenchDiff {
    /// Compares `head` with `base`.
    pub fn new(base: &BenchRun, head: &BenchRun, options: DiffOptions) -> BenchDiff {
        let (base_fns, head_fns) = (base.functions(), head.functions());
        let names: BTreeSet<&String> = base_fns.keys().chain(head_fns.keys()).collect();
        let mut rows: Vec<BenchRow> = names
            .into_iter()
            .map(|name| {
                let a = per_call(base_fns.get(name), options.metric);
                let b = per_call(head_fns.get(name), options.metric);
                row(name, &a, &b, &options)
            })
            .collect();
        let rank = |v: Verdict| match v {
            Verdict::Regressed => 0,
            Verdict::TooNoisy => 1,
            Verdict::Improved => 2,
            Verdict::Unchanged | Verdict::BelowFloor => 3,
            Verdict::Added | Verdict::Removed => 4,
        };
        rows.sort_by(|x, y| {
            rank(x.verdict).cmp(&rank(y.verdict)).then(y.ratio.total_cmp(&x.ratio))
        });
        BenchDiff { metric: options.metric, rows }
    }

    /// Whether any function regressed.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    /// One line for logs.
    pub fn verdict(&self) -> String {
        let of = |v: Verdict| self.rows.iter().filter(|r| r.verdict == v).count();
        let unchanged = of(Verdict::Unchanged) + of(Verdict::BelowFloor);
        let regressed: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Regressed)
            .map(|r| r.name.as_str())
            .collect();
        let counts = format!(
            "{unchanged} unchanged, {} improved, {} too noisy to tell",
            of(Verdict::Improved),
            of(Verdict::TooNoisy)
        );
        if regressed.is_empty() {
            format!("perfscope diff: no regression ({counts})")
        } else {
            let n = regressed.len();
            let s = if n == 1 { "" } else { "s" };
            format!("perfscope diff: {n} function{s} regressed: {}; {counts}", regressed.join(", "))
        }
    }
}

/// The metric of each iteration that called the function, per call as a report diff takes it.
fn per_call(series: Option<&FunctionSeries>, metric: Metric) -> Vec<f64> {
    let Some(s) = series else { return Vec::new() };
    (0..s.calls.len())
        .filter_map(|i| {
            metric.value(&Figures {
                calls: s.calls[i],
                self_ns: s.self_ns[i],
                total_ns: s.total_ns[i],
                p99_ns: s.p99_ns[i],
                alloc_bytes: s.alloc_bytes[i],
            })
        })
        .collect()
}

fn row(name: &str, a: &[f64], b: &[f64], options: &DiffOptions) -> BenchRow {
    let (base_median, head_median) = (stats::median(a), stats::median(b));
    let ratio = stats::median_ratio(a, b);
    let mut out = BenchRow {
        name: name.to_string(),
        base_median,
        head_median,
        ratio,
        ci: (f64::NAN, f64::NAN),
        p: f64::NAN,
        spread: f64::NAN,
        n: (a.len(), b.len()),
        verdict: Verdict::TooNoisy,
    };
    if a.is_empty() || b.is_empty() {
        out.verdict = if a.is_empty() { Verdict::Added } else { Verdict::Removed };
        return out;
    }
    out.ci = stats::bootstrap_ratio_ci(a, b, RESAMPLES);
    out.p = stats::mann_whitney_p(a, b);
    out.spread = stats::relative_spread(a).max(stats::relative_spread(b));
    if a.len() < MIN_ITERATIONS || b.len() < MIN_ITERATIONS {
        return out;
    }
    let t = options.fail_above_pct / 100.0;
    let (upper, lower) = (1.0 + t, 1.0 / (1.0 + t));
    let effect = if out.spread.is_finite() { t.max(out.spread) } else { t };
    let (lo, hi) = out.ci;
    out.verdict = if (head_median - base_median).abs() < options.min_change as f64 {
        Verdict::BelowFloor
    } else if lo > 1.0 + effect && out.p < ALPHA {
        Verdict::Regressed
    } else if hi < 1.0 / (1.0 + effect) && out.p < ALPHA {
        Verdict::Improved
    } else if lo >= lower && hi <= upper {
        Verdict::Unchanged
    } else {
        Verdict::TooNoisy
    };
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use perfscope_report::bench::{BENCH_SCHEMA, Iteration, IterationFigures};

    use super::*;

    /// A run whose function `f` takes `values[i]` ns per call (10 calls) in iteration `i`.
    fn run(values: &[f64]) -> BenchRun {
        let iterations = values
            .iter()
            .map(|&v| {
                let f = IterationFigures {
                    calls: 10,
                    self_ns: (v * 10.0) as u64,
                    ..Default::default()
                };
                Iteration { elapsed_ns: 0, functions: BTreeMap::from([("app::f".to_string(), f)]) }
            })
            .collect();
        BenchRun {
            schema: BENCH_SCHEMA.into(),
            name: "t".into(),
            warmup: 0,
            iterations,
            timed_out: None,
        }
    }

    /// `n` values around `center` with ±`spread` deterministic noise.
    fn noisy(center: f64, spread: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                center * (1.0 + spread * ((x % 2001) as f64 / 1000.0 - 1.0))
            })
            .collect()
    }

    fn verdict(base: &[f64], head: &[f64]) -> Verdict {
        let options = DiffOptions { metric: Metric::SelfTime, fail_above_pct: 10.0, min_change: 0 };
        BenchDiff::new(&run(base), &run(head), options).rows[0].verdict
    }

    /// A run of 5 iterations: each function `name` takes `ns` per call (10 calls) in every one.
    fn steady(functions: &[(&str, f64)]) -> BenchRun {
        let iteration = || Iteration {
            elapsed_ns: 0,
            functions: functions
                .iter()
                .map(|&(name, ns)| {
                    let f = IterationFigures {
                        calls: 10,
                        self_ns: (ns * 10.0) as u64,
                        ..Default::default()
                    };
                    (name.to_string(), f)
                })
                .collect(),
        };
        BenchRun { iterations: (0..5).map(|_| iteration()).collect(), ..run(&[]) }
    }

    /// The verdict on `f` from `base` to `head` ns per call in each of 5 steady iterations, at
    /// `--fail-above 25%` (so that `1 + t` and `1 / (1 + t)` are exact: 1.25 and 0.8) and a
    /// 1 µs floor.
    fn steady_verdict(base: f64, head: f64) -> Verdict {
        let options =
            DiffOptions { metric: Metric::SelfTime, fail_above_pct: 25.0, min_change: 1_000 };
        let diff = BenchDiff::new(&steady(&[("f", base)]), &steady(&[("f", head)]), options);
        diff.rows[0].verdict
    }

    #[test]
    fn the_bounds_are_exclusive_for_a_change_and_inclusive_for_no_change() {
        // Steady iterations: the interval is the ratio itself, the spread 0, and the two runs'
        // ranks fully separated (p = 0.004 with the tie correction).
        assert_eq!(steady_verdict(100_000.0, 125_000.0), Verdict::Unchanged, "exactly +25%");
        assert_eq!(steady_verdict(100_000.0, 125_001.0), Verdict::Regressed);
        assert_eq!(steady_verdict(125_000.0, 100_000.0), Verdict::Unchanged, "exactly 1 / 1.25");
        assert_eq!(steady_verdict(125_000.0, 99_999.0), Verdict::Improved);
        // The floor is inclusive: a change of exactly 1 µs per call is judged, 1 ns less is not.
        assert_eq!(steady_verdict(100_000.0, 101_000.0), Verdict::Unchanged);
        assert_eq!(steady_verdict(100_000.0, 100_999.0), Verdict::BelowFloor);
        assert_eq!(steady_verdict(100_999.0, 100_000.0), Verdict::BelowFloor);
        assert_eq!(steady_verdict(100_000.0, 200_000.0), Verdict::Regressed);
        assert_eq!(steady_verdict(200_000.0, 100_000.0), Verdict::Improved);
    }

    #[test]
    fn a_row_holds_hand_computed_statistics() {
        // Base: 100 µs in each of 5 iterations; head: 110, 120, 130, 140 and 150 µs.
        let base = run(&[100_000.0; 5]);
        let head = run(&[110_000.0, 120_000.0, 130_000.0, 140_000.0, 150_000.0]);
        let options = DiffOptions { metric: Metric::SelfTime, fail_above_pct: 10.0, min_change: 0 };
        let row = BenchDiff::new(&base, &head, options).rows[0].clone();
        assert_eq!(row.name, "app::f");
        assert_eq!((row.base_median, row.head_median), (100_000.0, 130_000.0));
        assert!((row.ratio - 1.3).abs() < 1e-12, "{}", row.ratio);
        // A resample's head median is 110 µs (or 150 µs) when 3 of its 5 draws are: p = 0.058
        // each, above the 2.5% tails, so the interval is the extremes' ratios.
        assert_eq!(row.ci, (1.1, 1.5));
        // Mann–Whitney: U = 0, 5 ties in the base (Σ t³ − t = 120), variance
        // 25/12 × (11 − 120/90) = 20.139, z = (12.5 − 0.5) / 4.4876 = 2.674, p = 0.0074950.
        assert!((row.p - 0.007_495_0).abs() < 1e-6, "{}", row.p);
        // The head's spread: median 130, deviations 20 10 0 10 20, MAD 10: 2 × 10 / 130.
        assert!((row.spread - 20.0 / 130.0).abs() < 1e-12, "{}", row.spread);
        assert_eq!(row.n, (5, 5));
        // Past +10% but the interval starts at 1.1 < 1 + 0.154 (the spread), so no verdict.
        assert_eq!(row.verdict, Verdict::TooNoisy);
    }

    #[test]
    fn the_functions_own_spread_widens_both_bounds() {
        // Head iterations 120 120 150 180 180 µs: median 150, MAD 30, spread 0.4; the
        // interval (1.2, 1.8) clears +10% but not +40%.
        let spread = [120_000.0, 120_000.0, 150_000.0, 180_000.0, 180_000.0];
        let diff = |base: &[f64], head: &[f64]| {
            let options =
                DiffOptions { metric: Metric::SelfTime, fail_above_pct: 10.0, min_change: 0 };
            BenchDiff::new(&run(base), &run(head), options).rows[0].clone()
        };
        let up = diff(&[100_000.0; 5], &spread);
        assert_eq!((up.ci, up.spread), ((1.2, 1.8), 0.4));
        assert_eq!(up.verdict, Verdict::TooNoisy);
        // The same spread in the base: the interval (0.556, 0.833) is not below 1 / 1.4.
        let down = diff(&spread, &[100_000.0; 5]);
        assert_eq!(down.spread, 0.4);
        assert_eq!(down.verdict, Verdict::TooNoisy);
        // Without the spread, the same medians are a regression and an improvement.
        assert_eq!(diff(&[100_000.0; 5], &[150_000.0; 5]).verdict, Verdict::Regressed);
        assert_eq!(diff(&[150_000.0; 5], &[100_000.0; 5]).verdict, Verdict::Improved);
    }

    #[test]
    fn three_iterations_a_side_are_enough_and_two_are_not() {
        assert_eq!(verdict(&[100_000.0; 3], &[100_000.0; 3]), Verdict::Unchanged);
        assert_eq!(verdict(&[100_000.0; 3], &[100_000.0; 2]), Verdict::TooNoisy);
        assert_eq!(verdict(&[100_000.0; 2], &[100_000.0; 3]), Verdict::TooNoisy);
    }

    #[test]
    fn iterations_that_did_not_call_a_function_are_left_out() {
        // `f` in 5 of 7 iterations: absent from one, called 0 times in another.
        let mut base = run(&[100_000.0; 7]);
        base.iterations[2].functions.clear();
        base.iterations[4].functions.get_mut("app::f").expect("f").calls = 0;
        let options = DiffOptions { metric: Metric::SelfTime, fail_above_pct: 10.0, min_change: 0 };
        let row = BenchDiff::new(&base, &run(&[100_000.0; 5]), options).rows[0].clone();
        assert_eq!(row.n, (5, 5));
        assert_eq!((row.base_median, row.ratio, row.verdict), (100_000.0, 1.0, Verdict::Unchanged));
    }

    #[test]
    fn rows_are_ordered_by_verdict_then_ratio_and_the_verdict_line_counts_them() {
        let base = steady(&[
            ("reg_small", 100_000.0),
            ("reg_big", 100_000.0),
            ("better", 200_000.0),
            ("within", 100_000.0),
            ("floor", 100_000.0),
            ("old", 100_000.0),
        ]);
        let mut head = steady(&[
            ("reg_small", 130_000.0), // ×1.3, regressed
            ("reg_big", 200_000.0),   // ×2
            ("better", 100_000.0),    // ×0.5, improved
            ("within", 102_000.0),    // +2%: unchanged
            ("floor", 100_500.0),     // +500 ns: below the floor
            ("new", 100_000.0),
        ]);
        // `noisy`: steady in the base, 110 to 150 µs in the head (see the hand-computed row).
        for (i, iteration) in head.iterations.iter_mut().enumerate() {
            let ns = 110_000 + 10_000 * i as u64;
            let f = IterationFigures { calls: 10, self_ns: ns * 10, ..Default::default() };
            iteration.functions.insert("noisy".into(), f);
        }
        let mut base = base;
        for iteration in &mut base.iterations {
            let f = IterationFigures { calls: 10, self_ns: 1_000_000, ..Default::default() };
            iteration.functions.insert("noisy".into(), f);
        }
        let options =
            DiffOptions { metric: Metric::SelfTime, fail_above_pct: 25.0, min_change: 1_000 };
        let diff = BenchDiff::new(&base, &head, options);
        let rows: Vec<(&str, Verdict)> =
            diff.rows.iter().map(|r| (r.name.as_str(), r.verdict)).collect();
        assert_eq!(
            rows,
            [
                ("reg_big", Verdict::Regressed),
                ("reg_small", Verdict::Regressed),
                ("noisy", Verdict::TooNoisy),
                ("better", Verdict::Improved),
                ("within", Verdict::Unchanged),
                ("floor", Verdict::BelowFloor),
                ("new", Verdict::Added),
                ("old", Verdict::Removed),
            ]
        );
        assert!(diff.failed());
        assert_eq!(
            diff.verdict(),
            "perfscope diff: 2 functions regressed: reg_big, reg_small; \
             2 unchanged, 1 improved, 1 too noisy to tell"
        );
        // One regression, then none.
        let one =
            BenchDiff::new(&steady(&[("f", 100_000.0)]), &steady(&[("f", 200_000.0)]), options);
        assert_eq!(
            one.verdict(),
            "perfscope diff: 1 function regressed: f; 0 unchanged, 0 improved, 0 too noisy to tell"
        );
        let none = BenchDiff::new(&base, &base, options);
        assert!(!none.failed());
        assert_eq!(
            none.verdict(),
            "perfscope diff: no regression (7 unchanged, 0 improved, 0 too noisy to tell)"
        );
    }

    #[test]
    fn each_verdict_reads_as_documented() {
        let described = [
            Verdict::Regressed,
            Verdict::Improved,
            Verdict::Unchanged,
            Verdict::BelowFloor,
            Verdict::TooNoisy,
            Verdict::Removed,
            Verdict::Added,
        ]
        .map(Verdict::describe);
        let expected = [
            "regressed",
            "improved",
            "unchanged",
            "unchanged (below floor)",
            "too noisy to tell",
            "removed",
            "added",
        ];
        assert_eq!(described, expected);
    }

    #[test]
    fn a_rerun_of_the_same_build_is_unchanged() {
        let base = noisy(100_000.0, 0.03, 15, 1);
        let rerun = noisy(100_000.0, 0.03, 15, 2);
        assert_eq!(verdict(&base, &rerun), Verdict::Unchanged);
    }

    #[test]
    fn a_clear_slowdown_is_a_regression_and_a_speedup_an_improvement() {
        let base = noisy(100_000.0, 0.03, 15, 3);
        assert_eq!(verdict(&base, &noisy(150_000.0, 0.03, 15, 4)), Verdict::Regressed);
        assert_eq!(verdict(&base, &noisy(60_000.0, 0.03, 15, 5)), Verdict::Improved);
    }

    #[test]
    fn a_noisy_or_short_run_is_too_noisy_to_tell() {
        let base = noisy(100_000.0, 0.5, 15, 6);
        assert_eq!(verdict(&base, &noisy(112_000.0, 0.5, 15, 7)), Verdict::TooNoisy);
        assert_eq!(verdict(&[100_000.0, 100_000.0], &[150_000.0, 150_000.0]), Verdict::TooNoisy);
    }

    #[test]
    fn a_change_within_the_functions_own_spread_is_not_a_regression() {
        // Iterations spreading by ~40%: a 30% higher median is not told from noise.
        let base = noisy(100_000.0, 0.4, 15, 8);
        let head = noisy(130_000.0, 0.4, 15, 9);
        assert_ne!(verdict(&base, &head), Verdict::Regressed);
        // A tight function with the same 30% change is.
        assert_eq!(
            verdict(&noisy(100_000.0, 0.02, 15, 10), &noisy(130_000.0, 0.02, 15, 11)),
            Verdict::Regressed
        );
    }

    #[test]
    fn below_the_floor_is_unchanged_and_one_sided_functions_are_listed() {
        let options =
            DiffOptions { metric: Metric::SelfTime, fail_above_pct: 10.0, min_change: 1_000 };
        let diff = BenchDiff::new(&run(&[100.0; 5]), &run(&[300.0; 5]), options);
        assert_eq!(diff.rows[0].verdict, Verdict::BelowFloor, "200 ns < the 1 µs floor");
        let empty = BenchRun { iterations: Vec::new(), ..run(&[]) };
        let diff = BenchDiff::new(&empty, &run(&[100.0; 5]), options);
        assert_eq!(diff.rows[0].verdict, Verdict::Added);
        assert!(!diff.failed());
    }
}
