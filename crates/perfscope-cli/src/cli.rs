//! The command line, as `clap` parses it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diff::Metric;

/// Reads perfscope reports (the JSON written by `report_on_exit().json(..)` or
/// `Report::to_json`): renders them, draws flame graphs, and compares two runs.
#[derive(Debug, Parser)]
#[command(name = "perfscope", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a saved report: hotspot table, HTML page, JSON or folded stacks.
    Report(ReportArgs),
    /// Draw a report's flame graph as an SVG file.
    Flame(FlameArgs),
    /// Compare two reports, or two bench files, function by function; exit 1 if any
    /// function regressed.
    ///
    /// Bench files (written by `perfscope::bench`, several iterations each) are compared
    /// per function with a 95% bootstrap interval of the ratio of medians and a Mann–Whitney
    /// test: each function is regressed, improved, unchanged or too noisy to tell. Two
    /// single-run reports cannot separate noise from change; they are compared as they are.
    ///
    /// Exit status: 0 when no function got worse beyond the threshold, 1 when at least one
    /// did (the output names them), 2 on usage errors, unreadable files, files that are not
    /// reports of a supported schema, or a bench file of a run its timeout stopped (partial
    /// figures: not compared).
    ///
    /// Figures are compared per call: `self` and `total` divide by the number of calls, and
    /// `mean` and `p99` are per call already, so a run that simply calls a function more often
    /// is not a regression. Functions present in one report only are listed as added or
    /// removed and never fail the comparison.
    Diff(DiffArgs),
    /// Watch a running program live: its hottest functions over the last interval (calls per
    /// second, self time, p99, allocation rate), its system line and alerts, refreshed every
    /// interval from its `/debug/perfscope/report` endpoint
    /// (`perfscope_export::prometheus().with_debug_endpoint()`; the main job's
    /// `--debug-endpoint`). Keys: `s` sort, `p` pause, `q` quit. Not on a terminal (or with
    /// `--once`): plain text, one block per interval.
    #[cfg(feature = "top")]
    Top(TopArgs),
}

/// `perfscope top`.
#[cfg(feature = "top")]
#[derive(Debug, Args)]
pub struct TopArgs {
    /// The program's exporter, e.g. `http://127.0.0.1:9464`.
    pub url: String,
    /// Seconds per window (each refresh is the report of the last window).
    #[arg(long, default_value_t = 1)]
    pub interval: u64,
    /// The sort key.
    #[arg(long, value_enum, default_value_t = crate::top::SortKey::SelfTime)]
    pub sort: crate::top::SortKey,
    /// Functions shown.
    #[arg(long, default_value_t = 20)]
    pub rows: usize,
    /// One window, printed as plain text, then exit.
    #[arg(long)]
    pub once: bool,
}

/// `perfscope report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report (JSON); `-` reads standard input.
    pub report: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Rows of the hotspot table (table format only).
    #[arg(long, default_value_t = perfscope_report::DEFAULT_TOP)]
    pub top: usize,
    /// Every column of the table, however wide (table format only). Without it, a table
    /// printed on a terminal fits its width (the columns left out are named below it); a
    /// table written to a file or a pipe always has every column. `PERFSCOPE_TABLE=wide`
    /// does the same.
    #[arg(long)]
    pub wide: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Formats of `perfscope report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The terminal hotspot table.
    Table,
    /// One self-contained HTML page: summary, sortable table, flame graph, call edges.
    Html,
    /// The report itself, re-serialised (the current schema).
    Json,
    /// Folded stacks weighted by self time in ns (for inferno or flamegraph.pl).
    Folded,
    /// Folded stacks weighted by self allocated bytes.
    FoldedBytes,
}

/// `perfscope flame`.
#[derive(Debug, Args)]
pub struct FlameArgs {
    /// The report (JSON); `-` reads standard input.
    pub report: PathBuf,
    /// The SVG file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Weigh frames by allocated bytes instead of self time.
    #[arg(long)]
    pub bytes: bool,
}

/// `perfscope diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline report (JSON).
    pub base: PathBuf,
    /// The report to compare with the baseline (JSON).
    pub new: PathBuf,
    /// Fail when a function is worse than the baseline by more than this, in percent
    /// (`10%` or `10`).
    #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_percent)]
    pub fail_above: f64,
    /// The figure to compare: self time per call, total (inclusive) time per call, mean
    /// latency, p99 latency, or bytes allocated per call in the function itself.
    #[arg(long, value_enum, default_value_t = Metric::SelfTime)]
    pub metric: Metric,
    /// Output format; `markdown` suits a pull-request comment.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Time changes smaller than this many nanoseconds (per call) never fail: noise floor for
    /// the time metrics.
    #[arg(long, value_name = "NS", default_value_t = 1_000)]
    pub min_ns: u64,
    /// Changes smaller than this many bytes (per call) never fail: noise floor for
    /// `--metric alloc_bytes`.
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub min_bytes: u64,
    /// Show only the first N rows (the verdict still covers every function).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Formats of `perfscope diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A terminal table followed by the verdict.
    Table,
    /// A GitHub-flavoured Markdown table with the verdict on top.
    Markdown,
    /// Machine-readable JSON (the verdict goes to standard error).
    Json,
}

/// Parses `10%`, `10` or `2.5%` into a percentage.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(pct) if pct.is_finite() && pct >= 0.0 => Ok(pct),
        _ => Err(format!("`{text}` is not a percentage (expected e.g. `10%` or `2.5`)")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::{Cli, parse_percent};

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn percentages_with_or_without_sign() {
        assert_eq!(parse_percent("10%"), Ok(10.0));
        assert_eq!(parse_percent("2.5"), Ok(2.5));
        assert!(parse_percent("ten").is_err());
        assert!(parse_percent("-5%").is_err());
        assert!(parse_percent("inf").is_err());
    }
}
