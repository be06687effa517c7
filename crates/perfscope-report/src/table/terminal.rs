//! The terminal a table view is printed on: its width, unless the user asked for every column
//! with [`TABLE_ENV`]` = wide`.

use std::io::IsTerminal;

/// The environment variable that, set to `wide`, prints the full table on a terminal too
/// (every column, whole names), as [`TableView::fit_terminal`](super::TableView::fit_terminal)
/// reads it.
pub const TABLE_ENV: &str = "PERFSCOPE_TABLE";

/// The width in columns of the terminal `stream` writes to; `None` when it is not a
/// terminal (a file, a pipe, CI logs), when its size cannot be read, or when [`TABLE_ENV`]
/// is `wide`.
pub(super) fn terminal_width(stream: &impl IsTerminal) -> Option<usize> {
    if !stream.is_terminal() || std::env::var_os(TABLE_ENV).is_some_and(|v| v == "wide") {
        return None;
    }
    // The controlling terminal's size: the one `stream` is, when it is a terminal at all.
    let (columns, _rows) = crossterm::terminal::size().ok()?;
    (columns > 0).then_some(usize::from(columns))
}
