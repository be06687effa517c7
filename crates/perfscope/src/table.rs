//! The terminal table: `Display` for [`Report`]: the hotspots, then the cache, pool and query
//! sections (`sections.rs`), the other figures one line per section, and the events.

pub(crate) mod sections;

use std::fmt;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use std::collections::BTreeMap;

use crate::report::{EventStats, FigureStats, FigureUnit, FunctionKind, Report};
use crate::sections::{is_index_hint, is_slow_query, is_typed};

/// Events shown by the table's alerts / anomalies / recommendations block (the most recent).
pub const TABLE_EVENTS: usize = 10;

/// Rows shown by `Display` for [`Report`]; use [`Report::table`] for another count.
pub const DEFAULT_TOP: usize = 25;

/// A duration in human units: `870 ns`, `12.4 µs`, `3.07 ms`, `1.52 s`.
pub fn human_ns(ns: u64) -> String {
    let ns_f = ns as f64;
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns_f / 1e3),
        1_000_000..1_000_000_000 => format!("{:.2} ms", ns_f / 1e6),
        _ => format!("{:.2} s", ns_f / 1e9),
    }
}

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

/// `text` for a terminal or a log: control characters but line breaks as Rust escapes
/// (`\u{1b}`), as the table view writes names. For text made of names from a report (a diff,
/// a verdict line).
///
/// ```
/// assert_eq!(perfscope::printable("app::\u{1b}[2Jf\n"), "app::\\u{1b}[2Jf\n");
/// ```
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    // Writing to a String cannot fail.
    let _ = escape_controls(text, &mut out);
    std::borrow::Cow::Owned(out)
}

fn escape_controls(text: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let mut rest = text;
    while let Some((at, c)) = rest.char_indices().find(|&(_, c)| c.is_control() && c != '\n') {
        out.write_str(&rest[..at])?;
        write!(out, "{}", c.escape_default())?;
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
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
        sections::caches(report, f)?;
        sections::pools(report, f)?;
        sections::queries(report, f)?;
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
                "\nwarning: {} spans past the span-name cap were counted under <overflow>",
                report.overflowed_spans
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

/// The sections of `figures`, each once, in the order they first appear (a source's figures
/// need not be next to each other: the monitor gives `process` figures too).
pub(crate) fn sections_of<'a>(figures: impl Iterator<Item = &'a FigureStats>) -> Vec<&'a str> {
    let mut sections: Vec<&str> = Vec::new();
    for figure in figures {
        if !sections.contains(&figure.section.as_str()) {
            sections.push(&figure.section);
        }
    }
    sections
}

/// The UTC time of day of a Unix time in milliseconds: `HH:MM:SS`.
pub(crate) fn utc_time(unix_ms: u64) -> String {
    let seconds = unix_ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// Figures shown per section line of the table.
const FIGURES_PER_LINE: usize = 8;

/// A figure's name with its labels, as PromQL writes a series: `pool_connections{pool="db"}`.
pub fn figure_label(figure: &FigureStats) -> String {
    series_label(&figure.name, &figure.labels)
}

/// `name{k="v",...}`, or `name` without labels.
pub(crate) fn series_label(name: &str, labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return name.to_string();
    }
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

/// A figure's value in its unit, for people: `3.07 MiB`, `1.20 ms`, `12`, `42.0%`.
pub fn human_figure(figure: &FigureStats) -> String {
    human_value(figure.unit, figure.value)
}

/// A value in `unit`, for people, as [`human_figure`] writes it.
pub(crate) fn human_value(unit: FigureUnit, value: f64) -> String {
    match unit {
        FigureUnit::Bytes if value >= 0.0 => human_bytes(value as u64),
        FigureUnit::Seconds if value >= 0.0 => human_ns((value * 1e9) as u64),
        FigureUnit::Ratio => format!("{:.1}%", value * 100.0),
        _ if value.fract() == 0.0 => format!("{value}"),
        _ => format!("{value:.3}"),
    }
}

/// A byte count in human units: `512 B`, `12.0 KiB`, `3.07 MiB`, `1.52 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", b / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2} MiB", b / 1_048_576.0),
        _ => format!("{:.2} GiB", b / 1_073_741_824.0),
    }
}

#[cfg(test)]
mod tests {
    use super::{human_bytes, human_ns, utc_time};

    #[test]
    fn utc_time_is_the_time_of_day() {
        assert_eq!(utc_time(0), "00:00:00");
        // 2024-03-01 13:05:09.999 UTC
        assert_eq!(utc_time(1_709_298_309_999), "13:05:09");
    }

    #[test]
    fn byte_units_switch_at_each_kibi() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(12 * 1024), "12.0 KiB");
        assert_eq!(human_bytes(3 * 1_048_576), "3.00 MiB");
    }

    #[test]
    fn units_switch_at_each_thousand() {
        assert_eq!(human_ns(999), "999 ns");
        assert_eq!(human_ns(12_400), "12.4 µs");
        assert_eq!(human_ns(3_070_000), "3.07 ms");
        assert_eq!(human_ns(1_520_000_000), "1.52 s");
    }
}
