//! Rendering a [`Diff`]: terminal table, Markdown for pull requests, JSON.

use std::fmt::Write;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use perfscope_report::{human_bytes, human_ns};
use serde::Serialize;

use crate::diff::{Diff, DiffRow, Metric, Status, Unit};

/// What `--top` leaves of the rows.
fn shown(diff: &Diff, top: Option<usize>) -> &[DiffRow] {
    let n = top.unwrap_or(diff.rows.len()).min(diff.rows.len());
    &diff.rows[..n]
}

/// A figure in the metric's unit: `12.4 µs`, `3.0 KiB`.
pub(crate) fn figure(unit: Unit, value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) => {
            let v = v.max(0.0).round() as u64;
            match unit {
                Unit::Ns => human_ns(v),
                Unit::Bytes => human_bytes(v),
            }
        }
    }
}

/// A signed change: `+1.2 µs`, `-300 ns`, `0 ns`.
fn signed(unit: Unit, delta: Option<f64>) -> String {
    match delta {
        None => "-".into(),
        Some(d) => {
            let sign = if d > 0.0 {
                "+"
            } else if d < 0.0 {
                "-"
            } else {
                ""
            };
            format!("{sign}{}", figure(unit, Some(d.abs())))
        }
    }
}

/// A signed percentage: `+100.0%`, `-4.8%`, `+∞%`.
fn percent(pct: Option<f64>) -> String {
    match pct {
        None => "-".into(),
        Some(p) if p.is_infinite() => "+∞%".into(),
        Some(0.0) => "0.0%".into(),
        Some(p) => format!("{p:+.1}%"),
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Regressed => "REGRESSED",
        Status::Worse => "worse",
        Status::Better => "better",
        Status::Same => "same",
        Status::Added => "added",
        Status::Removed => "removed",
    }
}

/// The floor in words: `1.0 µs`.
fn floor(diff: &Diff) -> String {
    figure(diff.options.metric.unit(), Some(diff.options.min_change as f64))
}

/// One sentence: which functions failed, or that none did.
pub fn verdict(diff: &Diff) -> String {
    let metric = diff.options.metric.describe();
    let threshold = diff.options.fail_above_pct;
    let failed: Vec<String> =
        diff.regressions().map(|r| format!("{} ({})", r.name, percent(r.delta_pct()))).collect();
    if failed.is_empty() {
        format!(
            "OK: no function regressed by more than {threshold}% in {metric} \
             (changes under {} ignored)",
            floor(diff)
        )
    } else {
        format!(
            "FAIL: {} function{} regressed by more than {threshold}% (and at least {}) in \
             {metric}: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            floor(diff),
            failed.join(", ")
        )
    }
}

/// A terminal table followed by the verdict.
pub fn table(diff: &Diff, top: Option<usize>) -> String {
    let unit = diff.options.metric.unit();
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(["function", "base", "new", "delta", "delta %", "status"]);
    for row in shown(diff, top) {
        table.add_row([
            row.name.clone(),
            figure(unit, row.base),
            figure(unit, row.new),
            signed(unit, row.delta()),
            percent(row.delta_pct()),
            status_word(row.status).to_string(),
        ]);
    }
    for col in 1..5 {
        if let Some(column) = table.column_mut(col) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!(
        "perfscope diff: {} ({} functions)\n{table}\n",
        diff.options.metric.describe(),
        diff.rows.len()
    );
    if shown(diff, top).len() < diff.rows.len() {
        let _ = writeln!(out, "({} more rows not shown)", diff.rows.len() - shown(diff, top).len());
    }
    out.push_str(&verdict(diff));
    out.push('\n');
    out.push_str(SINGLE_RUN_NOTE);
    out.push('\n');
    out
}

/// What a comparison of two single runs cannot say.
pub const SINGLE_RUN_NOTE: &str = "note: two single runs cannot separate noise from change; \
     compare bench files (perfscope::bench, several iterations each) for a verdict with a \
     confidence interval";

/// A function name as a Markdown code span that is safe inside a table cell.
pub(crate) fn md_code(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    if clean.contains('`') { format!("`` {clean} ``") } else { format!("`{clean}`") }
}

/// GitHub-flavoured Markdown for a pull-request comment: heading, verdict, table.
pub fn markdown(diff: &Diff, top: Option<usize>) -> String {
    let unit = diff.options.metric.unit();
    let mut out = format!("### perfscope diff: {}\n\n", diff.options.metric.describe());
    let regressions: Vec<&DiffRow> = diff.regressions().collect();
    if regressions.is_empty() {
        let _ = writeln!(
            out,
            ":white_check_mark: No function regressed by more than {}% (changes under {} \
             ignored).\n",
            diff.options.fail_above_pct,
            floor(diff)
        );
    } else {
        let _ = writeln!(
            out,
            ":x: **{} regression{}** above {}% (and at least {}): {}\n",
            regressions.len(),
            if regressions.len() == 1 { "" } else { "s" },
            diff.options.fail_above_pct,
            floor(diff),
            regressions
                .iter()
                .map(|r| format!("{} {}", md_code(&r.name), percent(r.delta_pct())))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push_str("| function | base | new | delta | delta % | status |\n");
    out.push_str("|---|--:|--:|--:|--:|---|\n");
    for row in shown(diff, top) {
        let status = match row.status {
            Status::Regressed => ":x: regressed",
            other => status_word(other),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md_code(&row.name),
            figure(unit, row.base),
            figure(unit, row.new),
            signed(unit, row.delta()),
            percent(row.delta_pct()),
            status
        );
    }
    let hidden = diff.rows.len() - shown(diff, top).len();
    if hidden > 0 {
        let _ = writeln!(out, "\n_{hidden} more rows not shown._");
    }
    out
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    metric: Metric,
    description: &'static str,
    unit: Unit,
    fail_above_pct: f64,
    min_change: u64,
    failed: bool,
    regressions: Vec<&'a str>,
    rows: Vec<JsonRow<'a>>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    status: Status,
    base: Option<f64>,
    new: Option<f64>,
    delta: Option<f64>,
    /// `null` when not comparable or when the baseline is 0.
    delta_pct: Option<f64>,
}

/// The diff as pretty-printed JSON.
pub fn json(diff: &Diff, top: Option<usize>) -> String {
    let doc = JsonDiff {
        metric: diff.options.metric,
        description: diff.options.metric.describe(),
        unit: diff.options.metric.unit(),
        fail_above_pct: diff.options.fail_above_pct,
        min_change: diff.options.min_change,
        failed: diff.failed(),
        regressions: diff.regressions().map(|r| r.name.as_str()).collect(),
        rows: shown(diff, top)
            .iter()
            .map(|r| JsonRow {
                name: &r.name,
                status: r.status,
                base: r.base,
                new: r.new,
                delta: r.delta(),
                delta_pct: r.delta_pct().filter(|p| p.is_finite()),
            })
            .collect(),
    };
    // Only plain numbers, strings and options: serialisation cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::{md_code, percent, signed};
    use crate::diff::Unit;

    #[test]
    fn markdown_names_cannot_break_the_table() {
        assert_eq!(md_code("a::b"), "`a::b`");
        assert_eq!(md_code("<A as B>::f|g"), "`<A as B>::f\\|g`");
        assert_eq!(md_code("odd`name"), "`` odd`name ``");
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(signed(Unit::Ns, Some(1_500.0)), "+1.5 µs");
        assert_eq!(signed(Unit::Ns, Some(-300.0)), "-300 ns");
        assert_eq!(signed(Unit::Bytes, Some(0.0)), "0 B");
        assert_eq!(percent(Some(100.0)), "+100.0%");
        assert_eq!(percent(Some(f64::INFINITY)), "+∞%");
        assert_eq!(percent(Some(0.0)), "0.0%");
    }
}
