//! [`ReportGuard`]: print or save the report when `main` ends.

use std::path::PathBuf;

use crate::report;

/// Prints the hotspot table (to stderr) and/or writes the JSON report when dropped.
/// Create it first thing in `main`; see [`report_on_exit`].
#[derive(Debug)]
#[must_use = "the report is produced when the guard is dropped"]
pub struct ReportGuard {
    print_rows: Option<usize>,
    json_path: Option<PathBuf>,
    wide: bool,
}

/// What the table's line naming the columns it left out says to get them all.
const WIDE_HINT: &str = "PERFSCOPE_TABLE=wide or report_on_exit().wide()";

/// A guard that prints the hotspot table to stderr when dropped (at the end of `main`).
///
/// On a terminal the table fits its width ([`TableView::fit_terminal`](crate::TableView::fit_terminal)):
/// the least wanted columns are left out, and named on a line of their own. Redirected to a
/// file or a pipe, or with `PERFSCOPE_TABLE=wide` or [`ReportGuard::wide`], it has every
/// column.
///
/// ```
/// #[perfscope::measure]
/// fn work(n: u64) -> u64 {
///     (0..n).sum()
/// }
///
/// # fn main() {
/// # let dir = std::env::temp_dir().join(format!("perfscope-guard-doctest-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("perfscope-report.json");
/// {
///     // First thing in `main`:
///     let _report = perfscope::report_on_exit().top(10).json(&path);
///     // ... the program; the table is printed and the JSON written when `_report` drops.
///     for n in 0..3 {
///         work(n);
///     }
/// }
/// let saved = perfscope::Report::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
/// assert_eq!(saved.function_by_suffix("::work").unwrap().calls, 3);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # }
/// ```
pub fn report_on_exit() -> ReportGuard {
    ReportGuard { print_rows: Some(crate::DEFAULT_TOP), json_path: None, wide: false }
}

impl ReportGuard {
    /// Print at most `rows` functions.
    pub fn top(mut self, rows: usize) -> Self {
        self.print_rows = Some(rows);
        self
    }

    /// Also write the JSON report to `path`.
    pub fn json(mut self, path: impl Into<PathBuf>) -> Self {
        self.json_path = Some(path.into());
        self
    }

    /// Print every column on a terminal too (as `PERFSCOPE_TABLE=wide` does), however wide
    /// the table.
    pub fn wide(mut self) -> Self {
        self.wide = true;
        self
    }

    /// Do not print the table (only write JSON, if set).
    pub fn quiet(mut self) -> Self {
        self.print_rows = None;
        self
    }
}

impl Drop for ReportGuard {
    fn drop(&mut self) {
        let report = report();
        if let Some(rows) = self.print_rows {
            let table = report.table(rows);
            let stderr = std::io::stderr();
            let table = if self.wide { table } else { table.fit_terminal(&stderr) };
            eprintln!("{}", table.wide_hint(WIDE_HINT));
        }
        if let Some(path) = &self.json_path
            && let Err(err) = crate::save(path, report.to_json().as_bytes())
        {
            eprintln!("perfscope: could not write the report to {}: {err}", path.display());
        }
    }
}
