//! `perfscope top URL`: a live view of a running program, refreshed every interval from its
//! `/debug/perfscope/report` endpoint (`perfscope_export::prometheus().with_debug_endpoint()`):
//! the hottest functions by self time over the last interval, their calls per second, p99 and
//! allocation rate, the system line and the alerts firing. On a terminal, a ratatui view with
//! keys (`s` sort, `p` pause, `q` quit); otherwise (a pipe, a file, `--once`) plain text, one
//! block per interval.

mod fetch;
mod tui;
mod view;

use std::io::IsTerminal;
use std::time::Duration;

use crate::Outcome;
use crate::cli::TopArgs;
use crate::error::CliError;

pub use view::{Row, SortKey, rows};

/// Runs `perfscope top`.
pub(crate) fn run(args: &TopArgs) -> Result<Outcome, CliError> {
    let source = fetch::Source::new(&args.url, Duration::from_secs(args.interval))?;
    if args.once || !std::io::stdout().is_terminal() {
        return plain(&source, args);
    }
    tui::run(source, args)
}

/// Plain text: one block per interval (`--once`: one block), until the endpoint fails.
fn plain(source: &fetch::Source, args: &TopArgs) -> Result<Outcome, CliError> {
    loop {
        let report = source.window()?;
        println!("{}", view::plain(&report, &source.url, args.sort, args.rows));
        if args.once {
            return Ok(Outcome::Success);
        }
    }
}
