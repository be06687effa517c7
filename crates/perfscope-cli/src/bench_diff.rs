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

use perfscope::bench::{BenchRun, FunctionSeries};

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

    use perfscope::bench::{BENCH_SCHEMA, Iteration, IterationFigures};

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
                Iteration { wall_ns: 0, functions: BTreeMap::from([("app::f".to_string(), f)]) }
            })
            .collect();
        BenchRun { schema: BENCH_SCHEMA.into(), name: "t".into(), warmup: 0, iterations }
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
