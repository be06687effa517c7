//! The terminal table: `Display` for [`Report`]: the hotspots, then the cache, pool and query
//! sections (`sections.rs`), the other figures one line per section, and the events.

mod caches;
mod network;
mod pools;
mod queries;

use std::fmt;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::format::{
    escape_controls, figure_label, human_bytes, human_figure, human_ns, series_label, utc_time,
};
use crate::readers::{is_index_hint, is_slow_query, is_typed, sections_of};
use crate::report::{EventStats, FigureStats, FunctionKind, Report};

/// Events shown by the table's alerts / anomalies / recommendations block (the most recent).
pub const TABLE_EVENTS: usize = 10;

/// Rows shown by `Display` for [`Report`]; use [`Report::table`] for another count.
pub const DEFAULT_TOP: usize = 25;

/// The top `rows` functions of a report as a table; see [`Report::table`].
#[derive(Debug)]
pub struct TableView<'a> {
    report: &'a Report,
    rows: usize,
}

impl Report {
    /// The `rows` functions with the most self time, as a terminal table.
    pub fn table(&self, rows: usize) -> TableView<'_> {
        TableView { report: self, rows }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table(DEFAULT_TOP).fmt(f)
    }
}

impl fmt::Display for TableView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        write!(Printable(f), "{}", Unescaped(self))
    }
}

/// Writes text for a terminal: control characters but line breaks as Rust escapes (`\u{1b}`),
/// so a function, span or cache name carrying escape sequences is shown, not obeyed by the
/// terminal (names come from programs and from report files anyone may hand over).
struct Printable<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Printable<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        escape_controls(text, self.0)
    }
}

/// The table as built, before [`Printable`].
struct Unescaped<'a, 'b>(&'a TableView<'b>);

impl fmt::Display for Unescaped<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (report, rows) = (self.0.report, self.0.rows);
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        let mut header = vec![
            "function", "calls", "self", "self %", "total", "mean", "p50", "p90", "p99", "max",
        ];
        if report.alloc_tracking {
            header.extend(["allocs", "alloc bytes", "net bytes"]);
        }
        header.push("notes");
        let right_aligned = header.len() - 1;
        table.set_header(header);
        for func in report.functions.iter().take(rows) {
            let share = if report.elapsed_ns > 0 {
                format!("{:.1}%", 100.0 * func.self_ns as f64 / report.elapsed_ns as f64)
            } else {
                "-".into()
            };
            let mut notes = Vec::new();
            if func.kind == FunctionKind::Async {
                notes.push(format!("async, idle {}", human_ns(func.idle_ns.unwrap_or(0))));
            }
            if func.panics > 0 {
                notes.push(format!("{} panics", func.panics));
            }
            if func.cancelled > 0 {
                notes.push(format!("{} cancelled", func.cancelled));
            }
            if func.kind == FunctionKind::Span {
                notes.push(format!("span, idle {}", human_ns(func.idle_ns.unwrap_or(0))));
            }
            let mut row = vec![
                func.name.clone(),
                func.calls.to_string(),
                human_ns(func.self_ns),
                share,
                human_ns(func.total_ns),
                human_ns(func.mean_ns),
                human_ns(func.p50_ns),
                human_ns(func.p90_ns),
                human_ns(func.p99_ns),
                human_ns(func.max_ns),
            ];
            if report.alloc_tracking {
                let net = func.alloc_bytes as i128 - func.freed_bytes as i128;
                row.extend([
                    func.allocations.to_string(),
                    human_bytes(func.alloc_bytes),
                    format!(
                        "{}{}",
                        if net < 0 { "-" } else { "" },
                        human_bytes(net.unsigned_abs() as u64)
                    ),
                ]);
            }
            row.push(notes.join("; "));
            table.add_row(row);
        }
        for col in 1..right_aligned {
            if let Some(column) = table.column_mut(col) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        writeln!(
            f,
            "perfscope hotspots: {} functions, {} wall, clock {}{}",
            report.functions.len(),
            human_ns(report.elapsed_ns),
            report.clock,
            if report.functions.len() > rows {
                format!(" (top {} by self time)", rows)
            } else {
                String::new()
            }
        )?;
        write!(f, "{table}")?;
        match report.process().heap_in_use_bytes {
            Some(heap) if report.alloc_tracking => write!(
                f,
                "\nallocations: self figures per function (children excluded); heap in use {}",
                human_bytes(heap)
            )?,
            _ => write!(
                f,
                "\nallocations: not tracked (install perfscope::CountingAlloc as the global \
                 allocator)"
            )?,
        }
        caches::caches(report, f)?;
        pools::pools(report, f)?;
        queries::queries(report, f)?;
        network::network(report, f)?;
        // The heap in use is on the allocations line already; caches, pools and queries have
        // their tables (a source's other figures in their sections are listed here).
        let shown =
            |x: &&FigureStats| x.name != perfscope_core::figures::HEAP_IN_USE_BYTES && !is_typed(x);
        let sections = sections_of(report.figures.iter().filter(shown));
        for section in sections {
            let figures = report.figures.iter().filter(shown).filter(|x| x.section == section);
            let figures: Vec<String> =
                figures.map(|x| format!("{} {}", figure_label(x), human_figure(x))).collect();
            // A terminal line, not a dump: the JSON and HTML views have every figure.
            let more = figures.len().saturating_sub(FIGURES_PER_LINE);
            let shown = figures[..figures.len().min(FIGURES_PER_LINE)].join(", ");
            match more {
                0 => write!(f, "\n{section}: {shown}")?,
                n => write!(f, "\n{section}: {shown} (+{n} more in the JSON and HTML views)")?,
            }
        }
        events_block(report, f)?;
        if report.overflowed_callsites > 0 {
            write!(
                f,
                "\nwarning: {} callsites found perfscope's callsite table full and were counted \
                 under <callsite overflow>",
                report.overflowed_callsites
            )?;
        }
        if report.overflowed_spans > 0 {
            write!(
                f,
                "\nwarning: {} spans past the span-name cap were counted under {}",
                report.overflowed_spans,
                perfscope_core::names::OVERFLOW
            )?;
        }
        Ok(())
    }
}

/// The alerts / anomalies / recommendations block: the [`TABLE_EVENTS`] most recent events,
/// oldest first, one line each; nothing when there are none. Slow queries and index hints are
/// in the query section instead.
fn events_block(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let in_queries = |e: &&EventStats| is_slow_query(e) || is_index_hint(e);
    let mut events: Vec<&EventStats> = report.events.iter().filter(|e| !in_queries(e)).collect();
    if events.is_empty() {
        return Ok(());
    }
    events.sort_by_key(|e| e.at_unix_ms);
    let shown = &events[events.len().saturating_sub(TABLE_EVENTS)..];
    write!(f, "\nalerts / anomalies / recommendations")?;
    if shown.len() < events.len() {
        write!(f, " (last {} of {})", shown.len(), events.len())?;
    }
    write!(f, ", UTC:")?;
    for event in shown {
        write!(
            f,
            "\n  {} {} {}: {}",
            utc_time(event.at_unix_ms),
            event.kind.as_str(),
            series_label(&event.subject, &event.labels),
            event.message.replace(['\n', '\r'], " ")
        )?;
    }
    Ok(())
}

/// Figures shown per section line of the table.
const FIGURES_PER_LINE: usize = 8;

/// Statement fingerprints shown by the table's query section (the most total time).
pub(super) const TABLE_QUERIES: usize = 10;
/// Slow-query log entries shown by the table (the slowest).
pub(super) const TABLE_SLOW_QUERIES: usize = 5;
/// Characters of a cache or pool name shown in a table cell.
pub(super) const NAME_CHARS: usize = 32;
/// Characters of a fingerprint shown in the query table.
pub(super) const FINGERPRINT_CHARS: usize = 48;
/// Characters of a fingerprint on a hint or slow-query line.
pub(super) const LINE_CHARS: usize = 90;

/// A table in the hotspot table's style whose columns from `first_numeric` on are aligned
/// right.
pub(super) fn table(header: Vec<&str>, rows: Vec<Vec<String>>, first_numeric: usize) -> Table {
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
