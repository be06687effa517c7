//! The terminal table: `Display` for [`Report`].

use std::fmt;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::report::{FunctionKind, Report};

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
        let report = self.report;
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        table.set_header([
            "function", "calls", "self", "self %", "total", "mean", "p50", "p90", "p99", "max",
            "notes",
        ]);
        for func in report.functions.iter().take(self.rows) {
            let share = if report.elapsed_ns > 0 {
                format!("{:.1}%", 100.0 * func.self_ns as f64 / report.elapsed_ns as f64)
            } else {
                "-".into()
            };
            let mut notes = Vec::new();
            if func.kind == FunctionKind::Async {
                notes.push(format!("async, idle {}", human_ns(func.idle_ns.unwrap_or(0))));
            }
            if func.panicked > 0 {
                notes.push(format!("{} panicked", func.panicked));
            }
            if func.cancelled > 0 {
                notes.push(format!("{} cancelled", func.cancelled));
            }
            table.add_row([
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
                notes.join("; "),
            ]);
        }
        for col in 1..10 {
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
            if report.functions.len() > self.rows {
                format!(" (top {} by self time)", self.rows)
            } else {
                String::new()
            }
        )?;
        write!(f, "{table}")
    }
}

#[cfg(test)]
mod tests {
    use super::human_ns;

    #[test]
    fn units_switch_at_each_thousand() {
        assert_eq!(human_ns(999), "999 ns");
        assert_eq!(human_ns(12_400), "12.4 µs");
        assert_eq!(human_ns(3_070_000), "3.07 ms");
        assert_eq!(human_ns(1_520_000_000), "1.52 s");
    }
}
