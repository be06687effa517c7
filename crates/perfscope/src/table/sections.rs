//! The table's cache, pool and query sections: an aligned table each, after the hotspots,
//! printed only when the report has such figures. The HTML page has every column; the
//! terminal keeps to the telling ones (a pool's acquire frame, for one, is a hotspot row).

use std::collections::BTreeMap;
use std::fmt;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::{human_ns, utc_time};
use crate::report::Report;
use crate::sections::cache_rows;

/// Statement fingerprints shown by the table's query section (the most total time).
pub(crate) const TABLE_QUERIES: usize = 10;
/// Slow-query log entries shown by the table (the slowest).
pub(crate) const TABLE_SLOW_QUERIES: usize = 5;
/// Characters of a cache or pool name shown in a table cell.
const NAME_CHARS: usize = 32;
/// Characters of a fingerprint shown in the query table.
const FINGERPRINT_CHARS: usize = 48;
/// Characters of a fingerprint on a hint or slow-query line.
const LINE_CHARS: usize = 90;
/// What the table shows for a figure the report does not have.
const ABSENT: &str = "-";

/// `s` on one line (control characters as spaces), cut to `max` characters with `…`.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(4 * max));
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// Seconds in human units (`1.52 ms`); `-` for a value that is not a duration (NaN, negative).
pub(crate) fn human_seconds(seconds: f64) -> String {
    if seconds.is_finite() && seconds >= 0.0 {
        human_ns((seconds * 1e9) as u64)
    } else {
        ABSENT.into()
    }
}

/// A share as a percentage with one decimal (`75.0%`); `-` when there is none.
pub(crate) fn percent(share: Option<f64>) -> String {
    match share {
        Some(share) if share.is_finite() => format!("{:.1}%", share * 100.0),
        _ => ABSENT.into(),
    }
}

/// A count the report may not have.
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| ABSENT.into(), |n| n.to_string())
}

/// Counts by cause (`size 10, expired 2`: the causes counted), `0` when none was, `-` when
/// the source does not say (no causes).
pub(crate) fn by_cause(by_cause: &BTreeMap<String, u64>) -> String {
    if by_cause.is_empty() {
        return ABSENT.into();
    }
    let causes: Vec<String> =
        by_cause.iter().filter(|(_, n)| **n > 0).map(|(cause, n)| format!("{cause} {n}")).collect();
    if causes.is_empty() { "0".into() } else { causes.join(", ") }
}

/// A table in the hotspot table's style whose columns from `first_numeric` on are aligned
/// right.
fn table(header: Vec<&str>, rows: Vec<Vec<String>>, first_numeric: usize) -> Table {
    let columns = header.len();
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for row in rows {
        table.add_row(row);
    }
    for col in first_numeric..columns {
        if let Some(column) = table.column_mut(col) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// The caches: a row per level and a `total` per multi-level cache.
pub(super) fn caches(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let rows = cache_rows(report);
    if rows.is_empty() {
        return Ok(());
    }
    let loads = rows.iter().any(|r| r.figures.loads.is_some());
    let errors = rows.iter().any(|r| r.figures.errors > 0);
    let frames = rows.iter().any(|r| r.frame.is_some());
    let mut header = vec!["cache", "level", "requests", "hits", "misses", "hit ratio"];
    if loads {
        header.push("loads");
    }
    header.extend(["evictions", "entries"]);
    if errors {
        header.push("errors");
    }
    if frames {
        header.extend(["get mean", "get p99"]);
    }
    let body = rows
        .iter()
        .map(|row| {
            let c = &row.figures;
            let mut cells = vec![
                clip(&c.cache, NAME_CHARS),
                clip(&c.level, NAME_CHARS),
                c.requests().to_string(),
                c.hits.to_string(),
                c.misses.to_string(),
                percent(c.hit_ratio),
            ];
            if loads {
                cells.push(match (c.loads, c.load_errors) {
                    (Some(n), Some(failed)) if failed > 0 => format!("{n} ({failed} failed)"),
                    (n, _) => count(n),
                });
            }
            cells.extend([by_cause(&c.evictions_by_cause), count(c.entries)]);
            if errors {
                cells.push(c.errors.to_string());
            }
            if frames {
                match row.frame {
                    Some(frame) => cells.extend([human_ns(frame.mean_ns), human_ns(frame.p99_ns)]),
                    None => cells.extend([ABSENT.into(), ABSENT.into()]),
                }
            }
            cells
        })
        .collect();
    write!(f, "\ncaches (hit ratio = hits / requests):\n{}", table(header, body, 2))
}

/// The pools, with `STARVED` where callers wait and no object is idle.
pub(super) fn pools(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let pools = report.pools();
    if pools.is_empty() {
        return Ok(());
    }
    let mut header = vec![
        "pool",
        "in use",
        "idle",
        "max",
        "peak",
        "acquires",
        "waits",
        "wait time",
        "mean wait",
    ];
    header.extend(["timeouts", "pending"]);
    let lifecycle = pools.iter().any(|p| p.created.is_some() || p.closed().is_some());
    if lifecycle {
        header.extend(["created", "closed"]);
    }
    header.push("status");
    let body = pools
        .iter()
        .map(|p| {
            let waits = match p.wait_share() {
                Some(share) if p.waits > 0 => format!("{} ({})", p.waits, percent(Some(share))),
                _ => p.waits.to_string(),
            };
            let mut cells = vec![
                clip(&p.pool, NAME_CHARS),
                p.in_use.to_string(),
                p.idle.to_string(),
                count(p.max),
                count(p.high_water),
                p.acquires.to_string(),
                waits,
                human_seconds(p.wait_seconds),
                p.mean_wait_seconds().map_or_else(|| ABSENT.into(), human_seconds),
            ];
            cells.extend([p.timeouts.to_string(), p.pending.to_string()]);
            if lifecycle {
                cells.extend([count(p.created), by_cause(&p.closed_by_cause)]);
            }
            cells.push(if p.starved() { "STARVED" } else { "ok" }.into());
            cells
        })
        .collect();
    let mut table = table(header, body, 1);
    if let Some(status) = table.column_iter_mut().last() {
        status.set_cell_alignment(CellAlignment::Left);
    }
    let starved = pools.iter().filter(|p| p.starved()).count();
    let note = match starved {
        0 => String::new(),
        n => format!(", {n} STARVED: callers waiting, none idle, at max size"),
    };
    write!(f, "\npools (peak = most in use at once{note}):\n{table}")
}

/// The statement fingerprints by total time, then the index hints and the slow-query log.
pub(super) fn queries(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let queries = report.queries();
    if !queries.is_empty() {
        let shown = &queries[..queries.len().min(TABLE_QUERIES)];
        let all: f64 = queries.iter().map(|q| q.total_seconds).filter(|s| s.is_finite()).sum();
        // The errors column only when a statement failed (as the pools' lifecycle columns).
        let errors = shown.iter().any(|q| q.errors.is_some_and(|n| n > 0));
        let mut header = vec!["calls"];
        header.extend(errors.then_some("errors"));
        header.extend(["total", "share", "mean", "p99", "rows", "fingerprint"]);
        let body = shown
            .iter()
            .map(|q| {
                let share = (all > 0.0).then(|| q.total_seconds / all);
                let mut cells = vec![q.calls.to_string()];
                cells.extend(errors.then(|| count(q.errors)));
                cells.extend([
                    human_seconds(q.total_seconds),
                    percent(share),
                    q.mean_seconds().map_or_else(|| ABSENT.into(), human_seconds),
                    q.p99_seconds.map_or_else(|| ABSENT.into(), human_seconds),
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
            let elapsed = q.elapsed_seconds.map_or_else(|| ABSENT.into(), human_seconds);
            let what = if q.fingerprint.is_empty() { &q.message } else { &q.fingerprint };
            write!(f, "\n  {} {elapsed:>9}  {}", utc_time(q.at_unix_ms), clip(what, LINE_CHARS))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{clip, human_seconds, percent};

    #[test]
    fn clip_keeps_one_line_and_marks_the_cut() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("a\nb\tc", 10), "a b c");
        assert_eq!(clip("ééé", 2), "éé…");
    }

    #[test]
    fn values_that_are_not_durations_or_shares_show_a_dash() {
        assert_eq!(human_seconds(f64::NAN), "-");
        assert_eq!(human_seconds(-1.0), "-");
        assert_eq!(human_seconds(0.25), "250.00 ms");
        assert_eq!(percent(Some(f64::INFINITY)), "-");
        assert_eq!(percent(Some(0.75)), "75.0%");
        assert_eq!(percent(None), "-");
    }
}
