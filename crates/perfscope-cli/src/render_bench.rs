//! Rendering a [`BenchDiff`]: a terminal or Markdown table with the verdict, or JSON.

use std::fmt::Write;

use serde::Serialize;

use crate::bench_diff::{ALPHA, BenchDiff, BenchRow};
use crate::render::{figure, md_code};

fn shown(diff: &BenchDiff, top: Option<usize>) -> &[BenchRow] {
    &diff.rows[..top.unwrap_or(diff.rows.len()).min(diff.rows.len())]
}

fn ratio(r: f64) -> String {
    if r.is_finite() { format!("{r:.3}×") } else { "-".into() }
}

fn interval(row: &BenchRow) -> String {
    if row.ci.0.is_finite() && row.ci.1.is_finite() {
        format!("{:.3}–{:.3}", row.ci.0, row.ci.1)
    } else {
        "-".into()
    }
}

fn p_value(p: f64) -> String {
    if p.is_nan() {
        "-".into()
    } else if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// A table (terminal, or GitHub Markdown with `markdown`) followed by the verdict and how it
/// was reached.
pub fn table(diff: &BenchDiff, top: Option<usize>, markdown: bool) -> String {
    let unit = diff.metric.unit();
    let header = [
        "function",
        "base median",
        "head median",
        "ratio",
        "95% CI",
        "p",
        "spread",
        "n",
        "verdict",
    ];
    let mut out = String::new();
    if markdown {
        let _ = writeln!(
            out,
            "### perfscope bench diff: {}\n\n**{}**\n",
            diff.metric.describe(),
            diff.verdict()
        );
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    } else {
        let _ = writeln!(out, "perfscope bench diff: {}", diff.metric.describe());
    }
    for row in shown(diff, top) {
        let cells = [
            if markdown { md_code(&row.name) } else { row.name.clone() },
            figure(unit, row.base_median.is_finite().then_some(row.base_median)),
            figure(unit, row.head_median.is_finite().then_some(row.head_median)),
            ratio(row.ratio),
            interval(row),
            p_value(row.p),
            if row.spread.is_finite() { format!("{:.0}%", row.spread * 100.0) } else { "-".into() },
            format!("{}/{}", row.n.0, row.n.1),
            row.verdict.describe().to_string(),
        ];
        if markdown {
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        } else {
            let _ = writeln!(
                out,
                "  {:<48} {:>11} {:>11} {:>8} {:>13} {:>7} {:>6} {:>5}  {}",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                cells[5],
                cells[6],
                cells[7],
                cells[8]
            );
        }
    }
    let method = format!(
        "Per-call medians across iterations; 95% bootstrap interval of the ratio (head / base); \
         two-sided Mann–Whitney U, α = {ALPHA}; spread: twice the median absolute \
         deviation over the median, the larger of the two runs. Regressed: the interval above 1 + max(threshold, spread) and \
         p < α; unchanged: the interval within the threshold; otherwise too noisy to tell."
    );
    if markdown {
        let _ = writeln!(out, "\n{method}");
    } else {
        let _ = writeln!(out, "{method}\n{}", diff.verdict());
    }
    out
}

#[derive(Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    verdict: &'static str,
    base_median: Option<f64>,
    head_median: Option<f64>,
    ratio: Option<f64>,
    ci: Option<[f64; 2]>,
    p: Option<f64>,
    spread: Option<f64>,
    iterations: [usize; 2],
}

/// The comparison as JSON (the verdict goes to standard error).
pub fn json(diff: &BenchDiff, top: Option<usize>) -> String {
    let finite = |v: f64| v.is_finite().then_some(v);
    let rows: Vec<JsonRow<'_>> = shown(diff, top)
        .iter()
        .map(|r| JsonRow {
            name: &r.name,
            verdict: r.verdict.describe(),
            base_median: finite(r.base_median),
            head_median: finite(r.head_median),
            ratio: finite(r.ratio),
            ci: (r.ci.0.is_finite() && r.ci.1.is_finite()).then_some([r.ci.0, r.ci.1]),
            p: finite(r.p),
            spread: finite(r.spread),
            iterations: [r.n.0, r.n.1],
        })
        .collect();
    let doc = serde_json::json!({
        "metric": diff.metric,
        "failed": diff.failed(),
        "alpha": ALPHA,
        "rows": rows,
    });
    format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default())
}
