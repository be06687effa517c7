//! The table's query section: the statement fingerprints with the most total time, the index
//! hints, the indexes used and never used, and the slowest statements, only when the report
//! has query figures.

use std::fmt;

use super::fit::{Grid, MIN_NAME_CHARS, Shorten, Step};
use super::{FINGERPRINT_CHARS, LINE_CHARS, Layout, TABLE_QUERIES, TABLE_SLOW_QUERIES};
use crate::format::{ABSENT, clip, count, human_duration, percent, utc_time};
use crate::report::Report;

/// The statement fingerprints by total time, then the index hints, the index usage and the
/// slow-query log.
pub(super) fn queries(
    report: &Report,
    layout: &mut Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let queries = report.queries();
    if !queries.is_empty() {
        let shown = &queries[..queries.len().min(TABLE_QUERIES)];
        let all: f64 = queries.iter().filter_map(|q| q.total_time).map(|t| t.as_secs_f64()).sum();
        // The errors column only when a statement failed (as the pools' lifecycle columns).
        let errors = shown.iter().any(|q| q.errors.is_some_and(|n| n > 0));
        let mut header = vec!["calls"];
        header.extend(errors.then_some("errors"));
        header.extend(["total", "share", "mean", "p99", "rows", "fingerprint"]);
        let body = shown
            .iter()
            .map(|q| {
                let share = q.total_time.filter(|_| all > 0.0).map(|t| t.as_secs_f64() / all);
                let mut cells = vec![q.calls.to_string()];
                cells.extend(errors.then(|| count(q.errors)));
                cells.extend([
                    q.total_time.map_or_else(|| ABSENT.into(), human_duration),
                    percent(share),
                    q.mean().map_or_else(|| ABSENT.into(), human_duration),
                    q.p99.map_or_else(|| ABSENT.into(), human_duration),
                    q.rows.to_string(),
                    clip(&q.fingerprint, FINGERPRINT_CHARS),
                ]);
                cells
            })
            .collect();
        let grid = Grid::new(header, body, 0).left("fingerprint");
        let table = layout.table("queries", &grid.names("fingerprint", Shorten::End).steps(&STEPS));
        let mut title = "queries (statement fingerprints by total time".to_string();
        if shown.len() < queries.len() {
            title.push_str(&format!(", top {} of {}", shown.len(), queries.len()));
        }
        write!(f, "\n{}:\n{table}", layout.fit.prose(&format!("{title})"), "  "))?;
    }
    for hint in report.index_hints() {
        let table =
            if hint.table.is_empty() { String::new() } else { format!(" on {}", hint.table) };
        let index = if hint.index.is_empty() { "add an index" } else { hint.index.as_str() };
        let what = format!("INDEX HINT{}: {}", clip(&table, LINE_CHARS), clip(index, LINE_CHARS));
        write!(f, "\n{}", layout.fit.prose(&what, "  "))?;
        let why = clip(&hint.reason, 4 * LINE_CHARS);
        write!(f, "\n{}", layout.fit.item("  why: ", &why, "    "))?;
        if !hint.fingerprint.is_empty() {
            let statement = clip(&hint.fingerprint, LINE_CHARS);
            write!(f, "\n{}", layout.fit.item("  for: ", &statement, "    "))?;
        }
    }
    indexes(report, layout, f)?;
    let slow = report.slow_queries();
    if !slow.is_empty() {
        let shown = &slow[..slow.len().min(TABLE_SLOW_QUERIES)];
        write!(f, "\nslow queries (")?;
        if shown.len() < slow.len() {
            write!(f, "{} slowest of {}", shown.len(), slow.len())?;
        } else {
            write!(f, "slowest first")?;
        }
        write!(f, ", UTC):")?;
        for q in shown {
            let elapsed = q.elapsed.map_or_else(|| ABSENT.into(), human_duration);
            let what = if q.fingerprint.is_empty() { &q.message } else { &q.fingerprint };
            let line =
                format!("{} {elapsed:>9}  {}", utc_time(q.at_unix_ms), clip(what, LINE_CHARS));
            write!(f, "\n{}", layout.fit.item("  ", &line, "    "))?;
        }
    }
    Ok(())
}

/// `indexes: used N (table.index, ...) / never used M (...)` (no list when none), then each
/// never-used index's recommendation.
fn indexes(report: &Report, layout: &Layout, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let indexes = report.index_usage();
    if indexes.is_empty() {
        return Ok(());
    }
    let (used, never): (Vec<_>, Vec<_>) = indexes.iter().partition(|i| i.used);
    let list = |of: &[&crate::IndexUsage]| {
        let names: Vec<String> = of.iter().map(|i| format!("{}.{}", i.table, i.index)).collect();
        if names.is_empty() {
            "0".to_string()
        } else {
            format!("{} ({})", of.len(), names.join(", "))
        }
    };
    let line = format!("indexes: used {} / never used {}", list(&used), list(&never));
    write!(f, "\n{}", layout.fit.prose(&clip(&line, 4 * LINE_CHARS), "  "))?;
    for index in never.iter().filter(|i| !i.reason.is_empty()) {
        let what = format!(
            "UNUSED INDEX on {}: {}",
            clip(&index.table, LINE_CHARS),
            clip(&index.index, LINE_CHARS)
        );
        write!(f, "\n{}", layout.fit.prose(&what, "  "))?;
        let why = clip(&index.reason, 4 * LINE_CHARS);
        write!(f, "\n{}", layout.fit.item("  why: ", &why, "    "))?;
    }
    Ok(())
}

/// How the query table narrows: the fingerprint gets shorter first (it is the widest), then
/// rows, errors, share and mean go; calls, total, p99 and the fingerprint stay to the last.
const STEPS: [Step; 7] = [
    Step::Names(36),
    Step::Drop("rows"),
    Step::Drop("errors"),
    Step::Names(24),
    Step::Drop("share"),
    Step::Drop("mean"),
    Step::Names(MIN_NAME_CHARS),
];
