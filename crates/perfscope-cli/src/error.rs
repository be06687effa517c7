//! What can go wrong running a command (all of it exits with status 2).

use std::io;
use std::path::PathBuf;

/// A command that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a perfscope report, or one of an unsupported schema.
    #[error("{}: {source}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        source: perfscope::ReportError,
    },
    /// The file is not a perfscope bench file, or one of an unsupported schema.
    #[error("{}: {source}", path.display())]
    Bench {
        /// The file.
        path: PathBuf,
        /// Why.
        source: perfscope::bench::BenchError,
    },
    /// `diff` was given a bench file and a report: compare like with like.
    #[error(
        "{} is a bench file and {} a report: compare two bench files (perfscope::bench) or two reports",
        bench.display(),
        report.display()
    )]
    MixedInputs {
        /// The bench file.
        bench: PathBuf,
        /// The report.
        report: PathBuf,
    },
    /// The output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file (`-` for standard output).
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The flame graph could not be drawn.
    #[error(transparent)]
    Flame(#[from] perfscope::FlameError),
}
