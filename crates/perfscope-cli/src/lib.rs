//! The `perfscope` command line, as a library: it reads saved reports (the JSON of
//! `perfscope::report().to_json()` or `report_on_exit().json(path)`) and
//!
//! - `perfscope report run.json [--format table|html|json|folded|folded-bytes] [--wide]`
//!   renders one (the table fitted to the terminal unless `--wide`),
//! - `perfscope flame run.json -o out.svg [--bytes]` draws its flame graph,
//! - `perfscope diff base.json new.json [--fail-above 10%] [--metric self|total|mean|p99|alloc_bytes]`
//!   compares two runs per function and exits with status 1 when one regressed, for CI.
//!
//! The binary only parses the command line and calls [`run`]; tests and other tools can use
//! [`diff::Diff`] and [`render`] directly:
//!
//! ```
//! use perfscope_report::Report;
//! use perfscope_cli::diff::{Diff, DiffOptions, Metric};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
//! let read = |name: &str| -> Report {
//!     let json = std::fs::read_to_string(format!("{dir}/{name}")).expect("a fixture");
//!     Report::from_json(&json).expect("a report")
//! };
//! let (base, slow) = (read("base.json"), read("slow_rsi.json"));
//! let options = DiffOptions { metric: Metric::SelfTime, fail_above_pct: 10.0, min_change: 1_000 };
//!
//! let diff = Diff::new(&base, &slow, options);
//! assert!(diff.failed());
//! assert_eq!(diff.rows[0].name, "scanner::rsi");
//! println!("{}", perfscope_cli::render::markdown(&diff, None));
//!
//! assert!(!Diff::new(&base, &base, options).failed());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench_diff;
pub mod cli;
pub mod diff;
pub mod error;
pub mod files;
pub mod render;
pub mod render_bench;
pub mod stats;
#[cfg(feature = "top")]
pub mod top;

pub use cli::Cli;
use cli::{Command, DiffArgs, DiffFormat, FlameArgs, ReportArgs, ReportFormat};
use diff::{Diff, DiffOptions, Unit};
pub use error::CliError;
use perfscope_report::TableView;
use perfscope_report::bench::BenchRun;

/// Exit status when a diff found a regression.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit status on usage, input or output errors (clap uses the same for usage errors).
pub const EXIT_ERROR: u8 = 2;

/// How a command that ran to the end turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; for `diff`, no regression.
    Success,
    /// `diff` found at least one regression.
    Regressed,
}

impl Outcome {
    /// The process exit status: 0 or [`EXIT_REGRESSION`].
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Regressed => EXIT_REGRESSION,
        }
    }
}

/// Runs one command line.
pub fn run(cli: &Cli) -> Result<Outcome, CliError> {
    match &cli.command {
        Command::Report(args) => report(args),
        Command::Flame(args) => flame(args),
        Command::Diff(args) => diff(args),
        #[cfg(feature = "top")]
        Command::Top(args) => top::run(args),
    }
}

fn report(args: &ReportArgs) -> Result<Outcome, CliError> {
    let report = files::read_report(&args.report)?;
    let text = match args.format {
        ReportFormat::Table => format!("{}\n", table(&report, args)),
        ReportFormat::Html => report.to_html(),
        ReportFormat::Json => format!("{}\n", report.to_json()),
        ReportFormat::Folded => report.folded(),
        ReportFormat::FoldedBytes => report.folded_bytes(),
    };
    files::write_output(args.output.as_deref(), &text)?;
    Ok(Outcome::Success)
}

/// The hotspot table: fitted to the terminal when it goes to one and `--wide` is not given.
fn table<'a>(report: &'a perfscope_report::Report, args: &ReportArgs) -> TableView<'a> {
    let table = report.table(args.top).wide_hint("`perfscope report --wide`");
    match (args.wide, &args.output) {
        (false, None) => table.fit_terminal(&std::io::stdout()),
        _ => table,
    }
}

fn flame(args: &FlameArgs) -> Result<Outcome, CliError> {
    let report = files::read_report(&args.report)?;
    let svg = if args.bytes { report.flamegraph_bytes_svg()? } else { report.flamegraph_svg()? };
    files::write_output(Some(&args.output), &svg)?;
    Ok(Outcome::Success)
}

fn diff(args: &DiffArgs) -> Result<Outcome, CliError> {
    let (base_text, new_text) = (files::read_text(&args.base)?, files::read_text(&args.new)?);
    let options = DiffOptions {
        metric: args.metric,
        fail_above_pct: args.fail_above,
        min_change: match args.metric.unit() {
            Unit::Ns => args.min_ns,
            Unit::Bytes => args.min_bytes,
        },
    };
    match (BenchRun::is_bench_json(&base_text), BenchRun::is_bench_json(&new_text)) {
        (true, true) => {
            let base = files::parse_bench(&args.base, &base_text)?;
            let new = files::parse_bench(&args.new, &new_text)?;
            return bench_diff(args, &bench_diff::BenchDiff::new(&base, &new, options));
        }
        (true, false) => {
            return Err(CliError::MixedInputs {
                bench: args.base.clone(),
                report: args.new.clone(),
            });
        }
        (false, true) => {
            return Err(CliError::MixedInputs {
                bench: args.new.clone(),
                report: args.base.clone(),
            });
        }
        (false, false) => {}
    }
    let base = files::parse_report(&args.base, &base_text)?;
    let new = files::parse_report(&args.new, &new_text)?;
    let diff = Diff::new(&base, &new, options);
    // Names come from the files: text outputs show control characters escaped (JSON escapes
    // them itself).
    let text = match args.format {
        DiffFormat::Table => {
            perfscope_report::printable(&render::table(&diff, args.top)).into_owned()
        }
        DiffFormat::Markdown => {
            perfscope_report::printable(&render::markdown(&diff, args.top)).into_owned()
        }
        DiffFormat::Json => render::json(&diff, args.top),
    };
    files::write_output(args.output.as_deref(), &text)?;
    // CI logs always get the verdict, whatever went to the file or to standard output.
    if args.format == DiffFormat::Json || args.output.is_some() {
        eprintln!("{}", perfscope_report::printable(&render::verdict(&diff)));
    }
    Ok(if diff.failed() { Outcome::Regressed } else { Outcome::Success })
}

fn bench_diff(args: &DiffArgs, diff: &bench_diff::BenchDiff) -> Result<Outcome, CliError> {
    let text = match args.format {
        DiffFormat::Table | DiffFormat::Markdown => {
            let markdown = args.format == DiffFormat::Markdown;
            perfscope_report::printable(&render_bench::table(diff, args.top, markdown)).into_owned()
        }
        DiffFormat::Json => render_bench::json(diff, args.top),
    };
    files::write_output(args.output.as_deref(), &text)?;
    if args.format == DiffFormat::Json || args.output.is_some() {
        eprintln!("{}", perfscope_report::printable(&diff.verdict()));
    }
    Ok(if diff.failed() { Outcome::Regressed } else { Outcome::Success })
}
