//! The terminal table: `Display` for [`Report`]: the hotspots (`hotspots.rs`), then the cache,
//! pool and query sections, the other figures one line per section, and the events. Fitted
//! to a terminal ([`TableView::fit_terminal`], `fit.rs`), or as wide as its content.

mod caches;
mod fit;
mod hotspots;
mod network;
mod pools;
mod queries;
mod terminal;
mod trends;
pub(crate) use trends::in_time;

use std::fmt;
use std::io::IsTerminal;

use comfy_table::Table;

use crate::format::{
    escape_controls, figure_label, human_bytes, human_figure, human_ns, series_label, utc_time,
};
use crate::readers::{is_index_hint, is_slow_query, is_typed, is_unused_index, sections_of};
use crate::report::{EventStats, FigureStats, Report};
use fit::{Fit, Grid};
pub use terminal::TABLE_ENV;

/// Events shown by the table's alerts / anomalies / recommendations block (the most recent).
pub const TABLE_EVENTS: usize = 10;

/// Rows shown by `Display` for [`Report`]; use [`Report::table`] for another count.
pub const DEFAULT_TOP: usize = 25;

/// What the line naming the columns left out says by default: how to get them all.
const WIDE_HINT: &str = "PERFSCOPE_TABLE=wide";

/// The top `rows` functions of a report as a table; see [`Report::table`]. As wide as its
/// content unless fitted to a terminal ([`TableView::fit_terminal`]) or a width
/// ([`TableView::width`]).
#[derive(Debug, Clone)]
pub struct TableView<'a> {
    report: &'a Report,
    rows: usize,
    width: Option<usize>,
    wide_hint: &'a str,
}

impl Report {
    /// The `rows` functions with the most self time, as a terminal table: every column, the
    /// full names (for a file, a pipe, CI logs). [`TableView::fit_terminal`] fits it to the
    /// terminal it is printed on.
    pub fn table(&self, rows: usize) -> TableView<'_> {
        TableView { report: self, rows, width: None, wide_hint: WIDE_HINT }
    }
}

impl<'a> TableView<'a> {
    /// Fits the table to `columns` terminal columns (1 at the least): no line longer. Each table leaves out
    /// columns by priority (the hotspots keep function, calls, self, self %, total and p99
    /// longest; then mean, p50 and the allocations; notes go first) and shortens names in the
    /// middle, keeping their last path segments (`app::…::scan::rsi`); prose lines wrap. One
    /// line at the end names the columns left out and how to get them.
    ///
    /// ```
    /// # let json = r#"{"schema": 2, "elapsed_ns": 2000000, "clock": "os", "functions": [
    /// #     {"name": "app::ingest::parse_quote_message", "module": "app", "file": "src/main.rs",
    /// #      "line": 3, "kind": "sync", "calls": 4, "panics": 0, "cancelled": 0,
    /// #      "total_ns": 1200000, "self_ns": 1000000, "busy_ns": 1200000, "mean_ns": 300000,
    /// #      "p50_ns": 290000, "p90_ns": 310000, "p99_ns": 320000, "max_ns": 320000,
    /// #      "children": []}]}"#;
    /// let report = perfscope_report::Report::from_json(json).unwrap();
    /// let table = report.table(10).width(80).to_string();
    /// assert!(table.lines().all(|line| line.chars().count() <= 80));
    /// assert!(table.contains("left out to fit 80 columns: "));
    /// ```
    pub fn width(mut self, columns: usize) -> Self {
        self.width = Some(columns.max(1));
        self
    }

    /// Fits the table to the terminal `stream` writes to (`&std::io::stdout()`,
    /// `&std::io::stderr()`), as [`TableView::width`] does; changes nothing when `stream` is
    /// not a terminal (a file, a pipe, CI logs) or when the environment variable
    /// [`TABLE_ENV`] is `wide`.
    pub fn fit_terminal(self, stream: &impl IsTerminal) -> Self {
        match terminal::terminal_width(stream) {
            Some(columns) => self.width(columns),
            None => self,
        }
    }

    /// How the line naming the columns left out says to get them all: `PERFSCOPE_TABLE=wide`
    /// unless told (a command line's `--wide`).
    pub fn wide_hint(mut self, how: &'a str) -> Self {
        self.wide_hint = how;
        self
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
        let Some(width) = self.width else {
            return write!(Printable(f), "{}", Unescaped(self));
        };
        let mut text = String::new();
        write!(Printable(&mut text), "{}", Unescaped(self))?;
        f.write_str(&fit::clip_lines(&text, width))
    }
}

/// Writes text for a terminal: control characters but line breaks as Rust escapes (`\u{1b}`),
/// so a function, span or cache name carrying escape sequences is shown, not obeyed by the
/// terminal (names come from programs and from report files anyone may hand over).
struct Printable<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Printable<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        escape_controls(text, self.0)
    }
}

/// The table as built, before [`Printable`].
struct Unescaped<'a, 'b>(&'a TableView<'b>);

/// What the view's tables need while they are written: the width, and the columns they left
/// out (for the closing line).
struct Layout {
    fit: Fit,
    left_out: Vec<String>,
}

impl Layout {
    /// `grid` fitted to the width; `title` names it on the left-out line (none for the
    /// hotspots).
    fn table(&mut self, title: &str, grid: &Grid) -> Table {
        let (table, left_out) = grid.fit(self.fit.width);
        if !left_out.is_empty() {
            let columns = left_out.join(", ");
            self.left_out.push(match title {
                "" => columns,
                title => format!("{title}: {columns}"),
            });
        }
        table
    }
}

impl fmt::Display for Unescaped<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let view = self.0;
        let (report, rows) = (view.report, view.rows);
        let mut layout = Layout { fit: Fit { width: view.width }, left_out: Vec::new() };
        let title = format!(
            "perfscope hotspots: {} functions, {} wall, clock {}{}",
            report.functions.len(),
            human_ns(report.elapsed_ns),
            report.clock,
            if report.functions.len() > rows {
                format!(" (top {} by self time)", rows)
            } else {
                String::new()
            }
        );
        writeln!(f, "{}", layout.fit.prose(&title, "  "))?;
        let table = layout.table("", &hotspots::grid(report, rows));
        write!(f, "{table}")?;
        let allocations = match report.process().heap_in_use_bytes {
            Some(heap) if report.alloc_tracking => format!(
                "allocations: self figures per function (children excluded); heap in use {}",
                human_bytes(heap)
            ),
            _ => "allocations: not tracked (install perfscope::CountingAlloc as the global \
                  allocator)"
                .to_string(),
        };
        write!(f, "\n{}", layout.fit.prose(&allocations, "  "))?;
        caches::caches(report, &mut layout, f)?;
        pools::pools(report, &mut layout, f)?;
        queries::queries(report, &mut layout, f)?;
        network::network(report, &mut layout, f)?;
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
            let line = match more {
                0 => format!("{section}: {shown}"),
                n => format!("{section}: {shown} (+{n} more in the JSON and HTML views)"),
            };
            write!(f, "\n{}", layout.fit.list(&line, "  "))?;
        }
        trends::alerts_line(report, &layout, f)?;
        trends::trends_block(report, &layout, f)?;
        events_block(report, &layout, f)?;
        let mut warnings = Vec::new();
        if report.overflowed_callsites > 0 {
            warnings.push(format!(
                "warning: {} callsites found perfscope's callsite table full and were counted \
                 under <callsite overflow>",
                report.overflowed_callsites
            ));
        }
        if report.overflowed_spans > 0 {
            warnings.push(format!(
                "warning: {} spans past the span-name cap were counted under {}",
                report.overflowed_spans,
                perfscope_core::names::OVERFLOW
            ));
        }
        for warning in warnings {
            write!(f, "\n{}", layout.fit.prose(&warning, "  "))?;
        }
        if let (Some(width), false) = (view.width, layout.left_out.is_empty()) {
            let line = format!(
                "left out to fit {width} columns: {} ({} shows every column)",
                layout.left_out.join("; "),
                view.wide_hint
            );
            write!(f, "\n{}", layout.fit.prose(&line, "  "))?;
        }
        Ok(())
    }
}

/// The alerts / anomalies / recommendations block: the [`TABLE_EVENTS`] most recent events,
/// oldest first, one line each; nothing when there are none. Slow queries, index hints and
/// indexes never used are in the query section instead.
fn events_block(report: &Report, layout: &Layout, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let in_queries = |e: &&EventStats| is_slow_query(e) || is_index_hint(e) || is_unused_index(e);
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
        let line = format!(
            "{} {} {}: {}",
            utc_time(event.at_unix_ms),
            event.kind.as_str(),
            series_label(&event.subject, &event.labels),
            event.message.replace(['\n', '\r'], " ")
        );
        write!(f, "\n{}", layout.fit.item("  ", &line, "    "))?;
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
