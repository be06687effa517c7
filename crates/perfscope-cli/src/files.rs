//! Reading reports and writing outputs.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use perfscope_report::Report;
use perfscope_report::bench::BenchRun;

use crate::error::CliError;

/// Reads and checks a report; `-` reads standard input.
pub fn read_report(path: &Path) -> Result<Report, CliError> {
    let text = read_text(path)?;
    parse_report(path, &text)
}

/// Reads a file's text; `-` reads standard input.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let read_error = |source| CliError::Read { path: path.to_path_buf(), source };
    if path == Path::new("-") {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(read_error)?;
        Ok(text)
    } else {
        fs::read_to_string(path).map_err(read_error)
    }
}

/// Checks and reads a report from its text.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, CliError> {
    Report::from_json(text).map_err(|source| CliError::Report { path: path.to_path_buf(), source })
}

/// Checks and reads a bench file from its text: one of a complete run
/// ([`CliError::TimedOutBench`] for one stopped by its timeout).
pub fn parse_bench(path: &Path, text: &str) -> Result<BenchRun, CliError> {
    let run = BenchRun::from_json(text)
        .map_err(|source| CliError::Bench { path: path.to_path_buf(), source })?;
    match run.timed_out {
        Some(timed_out) => Err(CliError::TimedOutBench {
            path: path.to_path_buf(),
            timed_out,
            kept: run.iterations.len(),
        }),
        None => Ok(run),
    }
}

/// Writes `text` to `path`, or to standard output when there is none. A closed pipe on
/// standard output (`perfscope report run.json | head`) is not an error.
///
/// A file is written whole or not at all: the text goes to a temporary file beside it, which
/// then replaces it, so a full disk leaves the previous file as it was and no partial one
/// (see [`perfscope_report::save`]).
pub fn write_output(path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(path) => perfscope_report::save(path, text.as_bytes())
            .map_err(|source| CliError::Write { path: path.to_path_buf(), source }),
        None => {
            let mut stdout = io::stdout().lock();
            match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(CliError::Write { path: PathBuf::from("-"), source: e })
                }
                _ => Ok(()),
            }
        }
    }
}
