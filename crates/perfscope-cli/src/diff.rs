//! Comparing two reports function by function, on one per-call metric.

use std::collections::BTreeMap;

use clap::ValueEnum;
use perfscope_report::Report;
use serde::Serialize;

/// The figure a diff compares, always per call so that call counts do not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
pub enum Metric {
    /// `self_ns / calls`: time in the function itself per call.
    #[value(name = "self")]
    #[serde(rename = "self")]
    SelfTime,
    /// `total_ns / calls`: inclusive time per call.
    #[value(name = "total")]
    #[serde(rename = "total")]
    Total,
    /// `mean_ns`: mean latency.
    #[value(name = "mean")]
    #[serde(rename = "mean")]
    Mean,
    /// `p99_ns`: 99th percentile latency.
    #[value(name = "p99")]
    #[serde(rename = "p99")]
    P99,
    /// `alloc_bytes / calls`: bytes allocated in the function itself per call.
    #[value(name = "alloc_bytes", alias = "alloc-bytes")]
    #[serde(rename = "alloc_bytes")]
    AllocBytes,
}

/// The unit of a [`Metric`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Nanoseconds.
    Ns,
    /// Bytes.
    Bytes,
}

impl Metric {
    /// What the metric measures, for people: `self time per call`.
    pub fn describe(self) -> &'static str {
        match self {
            Metric::SelfTime => "self time per call",
            Metric::Total => "total time per call",
            Metric::Mean => "mean latency",
            Metric::P99 => "p99 latency",
            Metric::AllocBytes => "bytes allocated per call",
        }
    }

    /// Nanoseconds or bytes.
    pub fn unit(self) -> Unit {
        match self {
            Metric::AllocBytes => Unit::Bytes,
            _ => Unit::Ns,
        }
    }

    /// The metric for one function, or `None` if it completed no call.
    pub(crate) fn value(self, f: &Figures) -> Option<f64> {
        if f.calls == 0 {
            return None;
        }
        let per_call = |sum: u64| sum as f64 / f.calls as f64;
        Some(match self {
            Metric::SelfTime => per_call(f.self_ns),
            Metric::Total | Metric::Mean => per_call(f.total_ns),
            Metric::P99 => f.p99_ns as f64,
            Metric::AllocBytes => per_call(f.alloc_bytes),
        })
    }
}

/// When a change counts as a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffOptions {
    /// The figure compared.
    pub metric: Metric,
    /// A function fails when its figure grew by more than this percentage...
    pub fail_above_pct: f64,
    /// ...and by at least this much, in the metric's unit (the noise floor).
    pub min_change: u64,
}

/// How one function changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Worse beyond the threshold and the noise floor: fails the diff.
    Regressed,
    /// Worse, within the threshold or under the noise floor.
    Worse,
    /// Better.
    Better,
    /// Unchanged.
    Same,
    /// Only in the new report (or no completed call in the baseline).
    Added,
    /// Only in the baseline (or no completed call in the new report).
    Removed,
}

/// One function's row of a diff. Figures are in the metric's unit, per call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffRow {
    /// The function's name.
    pub name: String,
    /// Its figure in the baseline.
    pub base: Option<f64>,
    /// Its figure in the new report.
    pub new: Option<f64>,
    /// The verdict for this function.
    pub status: Status,
}

impl DiffRow {
    /// `new − base`, when the function is in both reports.
    pub fn delta(&self) -> Option<f64> {
        Some(self.new? - self.base?)
    }

    /// The change in percent of the baseline; infinite when the baseline is 0 and the new
    /// figure is not.
    pub fn delta_pct(&self) -> Option<f64> {
        let (base, delta) = (self.base?, self.delta()?);
        Some(if base > 0.0 {
            100.0 * delta / base
        } else if delta > 0.0 {
            f64::INFINITY
        } else {
            0.0
        })
    }
}

/// The comparison of two reports: one row per function, regressions first, then by
/// decreasing relative change, then functions added and removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// The rule the rows were judged by.
    pub options: DiffOptions,
    /// The rows.
    pub rows: Vec<DiffRow>,
}

impl Diff {
    /// Compares `new` with `base`.
    pub fn new(base: &Report, new: &Report, options: DiffOptions) -> Diff {
        let (base, new) = (Figures::by_name(base), Figures::by_name(new));
        let mut names: Vec<&str> = base.keys().chain(new.keys()).copied().collect();
        names.sort_unstable();
        names.dedup();
        let mut rows: Vec<DiffRow> = names
            .into_iter()
            .filter_map(|name| {
                let b = base.get(name).and_then(|f| options.metric.value(f));
                let n = new.get(name).and_then(|f| options.metric.value(f));
                let status = match (b, n) {
                    (None, None) => return None,
                    (None, Some(_)) => Status::Added,
                    (Some(_), None) => Status::Removed,
                    (Some(b), Some(n)) => judge(b, n, &options),
                };
                Some(DiffRow { name: name.to_string(), base: b, new: n, status })
            })
            .collect();
        rows.sort_by(|x, y| {
            let group = |r: &DiffRow| match r.status {
                Status::Regressed => 0,
                Status::Added => 2,
                Status::Removed => 3,
                _ => 1,
            };
            let pct = |r: &DiffRow| r.delta_pct().unwrap_or(0.0);
            let delta = |r: &DiffRow| r.delta().unwrap_or(0.0);
            group(x)
                .cmp(&group(y))
                .then_with(|| pct(y).total_cmp(&pct(x)))
                .then_with(|| delta(y).total_cmp(&delta(x)))
                .then_with(|| x.name.cmp(&y.name))
        });
        Diff { options, rows }
    }

    /// The rows that fail the diff.
    pub fn regressions(&self) -> impl Iterator<Item = &DiffRow> {
        self.rows.iter().filter(|r| r.status == Status::Regressed)
    }

    /// Whether any function regressed.
    pub fn failed(&self) -> bool {
        self.regressions().next().is_some()
    }
}

fn judge(base: f64, new: f64, options: &DiffOptions) -> Status {
    let delta = new - base;
    if delta > 0.0 {
        let pct = if base > 0.0 { 100.0 * delta / base } else { f64::INFINITY };
        if pct > options.fail_above_pct && delta >= options.min_change as f64 {
            Status::Regressed
        } else {
            Status::Worse
        }
    } else if delta < 0.0 {
        Status::Better
    } else {
        Status::Same
    }
}

/// The figures a diff needs, merged over entries of the same name.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub calls: u64,
    pub self_ns: u64,
    pub total_ns: u64,
    pub p99_ns: u64,
    pub alloc_bytes: u64,
}

impl Figures {
    fn by_name(report: &Report) -> BTreeMap<&str, Figures> {
        let mut out: BTreeMap<&str, Figures> = BTreeMap::new();
        for f in &report.functions {
            let e = out.entry(f.name.as_str()).or_default();
            e.calls = e.calls.saturating_add(f.calls);
            e.self_ns = e.self_ns.saturating_add(f.self_ns);
            e.total_ns = e.total_ns.saturating_add(f.total_ns);
            e.p99_ns = e.p99_ns.max(f.p99_ns);
            e.alloc_bytes = e.alloc_bytes.saturating_add(f.alloc_bytes);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use perfscope_report::{FunctionKind, FunctionStats, Report};

    use super::{Diff, DiffOptions, Metric, Status};

    fn func(name: &str, calls: u64, self_ns: u64, p99_ns: u64) -> FunctionStats {
        FunctionStats {
            name: name.into(),
            module: "m".into(),
            file: "f.rs".into(),
            line: 1,
            kind: FunctionKind::Sync,
            calls,
            total_ns: self_ns,
            self_ns,
            busy_ns: self_ns,
            mean_ns: self_ns.checked_div(calls).unwrap_or(0),
            p50_ns: p99_ns,
            p90_ns: p99_ns,
            p99_ns,
            max_ns: p99_ns,
            alloc_bytes: calls * 100,
            ..FunctionStats::default()
        }
    }

    fn report(functions: Vec<FunctionStats>) -> Report {
        Report { elapsed_ns: 1, alloc_tracking: true, functions, ..Report::default() }
    }

    fn options(metric: Metric) -> DiffOptions {
        DiffOptions { metric, fail_above_pct: 10.0, min_change: 1_000 }
    }

    fn status(diff: &Diff, name: &str) -> Status {
        diff.rows.iter().find(|r| r.name == name).map(|r| r.status).expect("a row")
    }

    #[test]
    fn per_call_figures_ignore_call_counts() {
        let base = report(vec![func("a", 100, 1_000_000, 20_000)]);
        // Twice the calls, twice the time: the same per call.
        let new = report(vec![func("a", 200, 2_000_000, 20_000)]);
        let diff = Diff::new(&base, &new, options(Metric::SelfTime));
        assert_eq!(status(&diff, "a"), Status::Same);
        assert!(!diff.failed());
    }

    #[test]
    fn a_slowdown_beyond_threshold_and_floor_fails() {
        let base = report(vec![
            func("slow", 100, 1_000_000, 20_000),
            func("tiny", 100, 10_000, 200),
            func("bit", 100, 1_050_000, 20_000),
            func("fast", 100, 1_000_000, 20_000),
        ]);
        let new = report(vec![
            func("slow", 100, 2_000_000, 40_000), // +10 µs per call, +100%
            func("tiny", 100, 20_000, 400),       // +100 ns per call: under the floor
            func("bit", 100, 1_100_000, 20_000),  // +4.8%: within the threshold
            func("fast", 100, 500_000, 10_000),
        ]);
        let diff = Diff::new(&base, &new, options(Metric::SelfTime));
        assert_eq!(status(&diff, "slow"), Status::Regressed);
        assert_eq!(status(&diff, "tiny"), Status::Worse);
        assert_eq!(status(&diff, "bit"), Status::Worse);
        assert_eq!(status(&diff, "fast"), Status::Better);
        assert!(diff.failed());
        assert_eq!(diff.rows[0].name, "slow", "regressions first");
        assert_eq!(diff.rows[0].delta_pct(), Some(100.0));
        let p99 = Diff::new(&base, &new, options(Metric::P99));
        assert_eq!(status(&p99, "slow"), Status::Regressed);
        assert_eq!(status(&p99, "tiny"), Status::Worse);
    }

    #[test]
    fn functions_in_one_report_only_never_fail() {
        let base = report(vec![func("gone", 1, 1_000, 1_000), func("idle", 0, 0, 0)]);
        let new = report(vec![
            func("fresh", 1, 1_000_000, 1_000_000),
            func("idle", 3, 9_000_000, 3_000_000),
        ]);
        let diff = Diff::new(&base, &new, options(Metric::Mean));
        assert_eq!(status(&diff, "gone"), Status::Removed);
        assert_eq!(status(&diff, "fresh"), Status::Added);
        assert_eq!(status(&diff, "idle"), Status::Added, "no calls in the baseline");
        assert!(!diff.failed());
        let names: Vec<&str> = diff.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["fresh", "idle", "gone"]);
    }

    /// The status of `f` going from `base` to `new` ns of self time in its one call, at
    /// `--fail-above 10% --min-ns 1000`.
    fn judged(base: u64, new: u64) -> Status {
        let (base, new) = (report(vec![func("f", 1, base, 0)]), report(vec![func("f", 1, new, 0)]));
        status(&Diff::new(&base, &new, options(Metric::SelfTime)), "f")
    }

    #[test]
    fn the_threshold_is_exclusive_and_the_floor_inclusive() {
        // "Worse by more than 10%": +10% exactly (10 µs to 11 µs, +1,000 ns) passes...
        assert_eq!(judged(10_000, 11_000), Status::Worse);
        // ...and 1 ns more fails.
        assert_eq!(judged(10_000, 11_001), Status::Regressed);
        // "Changes smaller than --min-ns never fail": +1,000 ns (+100%) fails, +999 ns does not.
        assert_eq!(judged(1_000, 2_000), Status::Regressed);
        assert_eq!(judged(1_000, 1_999), Status::Worse);
        // Equal is the same, 1 ns less is better, whatever the threshold.
        assert_eq!(judged(10_000, 10_000), Status::Same);
        assert_eq!(judged(10_000, 9_999), Status::Better);
        let strict =
            DiffOptions { fail_above_pct: 0.0, min_change: 0, ..options(Metric::SelfTime) };
        let once = |ns| report(vec![func("f", 1, ns, 0)]);
        assert_eq!(status(&Diff::new(&once(7), &once(7), strict), "f"), Status::Same);
        assert_eq!(status(&Diff::new(&once(7), &once(8), strict), "f"), Status::Regressed);
        assert_eq!(status(&Diff::new(&once(0), &once(1), strict), "f"), Status::Regressed);
        assert_eq!(status(&Diff::new(&once(0), &once(0), strict), "f"), Status::Same);
    }

    #[test]
    fn rows_carry_the_figures_and_their_change() {
        let base = report(vec![func("f", 1, 10_000, 0), func("zero", 1, 0, 0)]);
        let new = report(vec![func("f", 1, 11_000, 0), func("zero", 1, 0, 0)]);
        let diff = Diff::new(&base, &new, options(Metric::SelfTime));
        let row = |name: &str| diff.rows.iter().find(|r| r.name == name).expect("a row");
        let f = row("f");
        assert_eq!((f.base, f.new), (Some(10_000.0), Some(11_000.0)));
        assert_eq!((f.delta(), f.delta_pct()), (Some(1_000.0), Some(10.0)));
        // 0 to 0 is no change (not 0/0); 0 to more is an infinite one.
        assert_eq!((row("zero").delta(), row("zero").delta_pct()), (Some(0.0), Some(0.0)));
        let grown =
            Diff::new(&base, &report(vec![func("zero", 1, 5, 0)]), options(Metric::SelfTime));
        assert_eq!(grown.rows[0].delta_pct(), Some(f64::INFINITY));
        // A function in one report only has no change.
        let gone = grown.rows.iter().find(|r| r.name == "f").expect("a row");
        assert_eq!((gone.status, gone.delta(), gone.delta_pct()), (Status::Removed, None, None));
    }

    #[test]
    fn each_metric_reads_its_own_figure_per_call() {
        // 4 calls: 4 µs of self time, 8 µs in all, p99 3 µs, 400 bytes (`func` sets 100 a call).
        let mut f = func("f", 4, 4_000, 3_000);
        f.total_ns = 8_000;
        let base = report(vec![f]);
        let figure = |metric| Diff::new(&base, &base, options(metric)).rows[0].base;
        assert_eq!(figure(Metric::SelfTime), Some(1_000.0));
        assert_eq!(figure(Metric::Total), Some(2_000.0));
        assert_eq!(figure(Metric::Mean), Some(2_000.0));
        assert_eq!(figure(Metric::P99), Some(3_000.0));
        assert_eq!(figure(Metric::AllocBytes), Some(100.0));
        assert_eq!(Metric::AllocBytes.unit(), super::Unit::Bytes);
        assert_eq!(Metric::P99.unit(), super::Unit::Ns);
        assert_eq!(Metric::SelfTime.describe(), "self time per call");
        assert_eq!(Metric::Total.describe(), "total time per call");
        assert_eq!(Metric::Mean.describe(), "mean latency");
        assert_eq!(Metric::P99.describe(), "p99 latency");
        assert_eq!(Metric::AllocBytes.describe(), "bytes allocated per call");
    }

    #[test]
    fn entries_of_one_name_are_merged() {
        // Two entries of `f` (say two threads' callsites of one name): 1 + 3 calls, 1 + 5 µs
        // of self time, p99s 5 µs and 2 µs, 100 bytes a call.
        let base = report(vec![func("f", 1, 1_000, 5_000), func("f", 3, 5_000, 2_000)]);
        let row = |metric| Diff::new(&base, &base, options(metric)).rows[0].clone();
        assert_eq!(row(Metric::SelfTime).base, Some(1_500.0), "6 µs over 4 calls");
        assert_eq!(row(Metric::P99).base, Some(5_000.0), "the larger p99");
        assert_eq!(row(Metric::AllocBytes).base, Some(100.0));
        assert_eq!(Diff::new(&base, &base, options(Metric::SelfTime)).rows.len(), 1);
    }

    #[test]
    fn rows_are_ordered_regressions_first_then_by_relative_then_absolute_change() {
        let pair =
            |name: &str, base: u64, new: u64| (func(name, 1, base, 0), func(name, 1, new, 0));
        let (base, new): (Vec<_>, Vec<_>) = [
            pair("r1", 10_000, 15_000), // +50%: regressed
            pair("r2", 10_000, 20_000), // +100%: regressed
            pair("tiny", 100, 500),     // +400% but +400 ns: worse, under the floor
            pair("d1", 10_000, 10_500), // +5%, +500 ns
            pair("d2", 20_000, 21_000), // +5%, +1,000 ns
            pair("s2", 10_000, 10_000), // same...
            pair("s", 10_000, 10_000),  // ...by name
            pair("b", 10_000, 5_000),   // -50%
        ]
        .into_iter()
        .unzip();
        let mut new = new;
        new.push(func("a", 1, 1_000, 0)); // added
        let mut base = base;
        base.extend([func("z", 1, 1_000, 0), func("y", 1, 1_000, 0)]); // removed
        let diff = Diff::new(&report(base), &report(new), options(Metric::SelfTime));
        let names: Vec<&str> = diff.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["r2", "r1", "tiny", "d2", "d1", "s", "s2", "b", "a", "y", "z"]);
        let regressed: Vec<&str> = diff.regressions().map(|r| r.name.as_str()).collect();
        assert_eq!(regressed, ["r2", "r1"]);
        assert!(diff.failed());
    }

    #[test]
    fn allocation_growth_from_zero_is_infinite() {
        let mut base = report(vec![func("a", 10, 1_000, 100)]);
        base.functions[0].alloc_bytes = 0;
        let new = report(vec![func("a", 10, 1_000, 100)]);
        let diff =
            Diff::new(&base, &new, DiffOptions { min_change: 64, ..options(Metric::AllocBytes) });
        assert_eq!(status(&diff, "a"), Status::Regressed);
        assert_eq!(diff.rows[0].delta_pct(), Some(f64::INFINITY));
    }
}
