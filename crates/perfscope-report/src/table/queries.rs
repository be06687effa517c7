//! The table's query section: the statement fingerprints with the most total time, the index
//! hints, the indexes used and never used, and the slowest statements, only when the report
//! has query figures.

use std::fmt;

use comfy_table::CellAlignment;

use super::{FINGERPRINT_CHARS, LINE_CHARS, TABLE_QUERIES, TABLE_SLOW_QUERIES, table};
use crate::format::{ABSENT, clip, count, human_duration, percent, utc_time};
use crate::report::Report;

/// The statement fingerprints by total time, then the index hints, the index usage and the
/// slow-query log.
pub(super) fn queries(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        let mut table = table(header, body, 0);
        if let Some(column) = table.column_iter_mut().last() {
            column.set_cell_alignment(CellAlignment::Left);
        }
        write!(f, "\nqueries (statement fingerprints by total time")?;
        if shown.len() < queries.len() {
            write!(f, ", top {} of {}", shown.len(), queries.len())?;
        }
        write!(f, "):\n{table}")?;
    }
    for hint in report.index_hints() {
        let table =
            if hint.table.is_empty() { String::new() } else { format!(" on {}", hint.table) };
        let index = if hint.index.is_empty() { "add an index" } else { hint.index.as_str() };
        write!(f, "\nINDEX HINT{}: {}", clip(&table, LINE_CHARS), clip(index, LINE_CHARS))?;
        write!(f, "\n  why: {}", clip(&hint.reason, 4 * LINE_CHARS))?;
        if !hint.fingerprint.is_empty() {
            write!(f, "\n  for: {}", clip(&hint.fingerprint, LINE_CHARS))?;
        }
    }
    indexes(report, f)?;
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
            write!(f, "\n  {} {elapsed:>9}  {}", utc_time(q.at_unix_ms), clip(what, LINE_CHARS))?;
        }
    }
    Ok(())
}

/// `indexes: used N (table.index, ...) / never used M (...)` (no list when none), then each
/// never-used index's recommendation.
fn indexes(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    write!(f, "\n{}", clip(&line, LINE_CHARS))?;
    for index in never.iter().filter(|i| !i.reason.is_empty()) {
        write!(
            f,
            "\nUNUSED INDEX on {}: {}",
            clip(&index.table, LINE_CHARS),
            clip(&index.index, LINE_CHARS)
        )?;
        write!(f, "\n  why: {}", clip(&index.reason, 4 * LINE_CHARS))?;
    }
    Ok(())
}
