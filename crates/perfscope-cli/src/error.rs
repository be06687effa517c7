//! What can go wrong running a command (all of it exits with status 2).

use std::io;
use std::path::PathBuf;

/// Longest error line the command prints, in characters.
pub const MAX_ERROR_CHARS: usize = 400;

/// `message` as one line of at most [`MAX_ERROR_CHARS`] characters (and an ellipsis): line
/// breaks become spaces, and the middle of a longer message is cut, keeping the file's name at
/// the start and the parser's `line L column C` at the end. A parse error quotes the text it
/// choked on, and a hostile file's string may be megabytes long.
pub fn one_line(message: &str) -> String {
    const TAIL: usize = 80;
    let chars: Vec<char> =
        message.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    if chars.len() <= MAX_ERROR_CHARS {
        return chars.into_iter().collect();
    }
    let head = chars[..MAX_ERROR_CHARS - TAIL].iter();
    let tail = chars[chars.len() - TAIL..].iter();
    head.chain(['…'].iter()).chain(tail).collect()
}

/// A command that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `top` could not read the program's `/debug` endpoint.
    #[error("{url}: {reason}")]
    Live {
        /// The program's address.
        url: String,
        /// Why.
        reason: String,
    },
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
        source: perfscope_report::ReportError,
    },
    /// The file is not a perfscope bench file, or one of an unsupported schema.
    #[error("{}: {source}", path.display())]
    Bench {
        /// The file.
        path: PathBuf,
        /// Why.
        source: perfscope_report::bench::BenchError,
    },
    /// `diff` was given a bench file of a run stopped by its timeout: its iterations are
    /// only those before the one that overran, so it is not compared.
    #[error(
        "{}: a timed-out bench run (iteration {} ran past the timeout of {:?}; the run stopped \
         with {kept} measured iterations): its figures are partial, so it is not compared; \
         rerun the benchmark to the end (a longer timeout, or fix what hangs)",
        path.display(),
        timed_out.iteration,
        std::time::Duration::from_nanos(timed_out.timeout_ns)
    )]
    TimedOutBench {
        /// The file.
        path: PathBuf,
        /// Where the run stopped.
        timed_out: perfscope_report::bench::TimedOut,
        /// The measured iterations it kept.
        kept: usize,
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
    Flame(#[from] perfscope_report::FlameError),
}

#[cfg(test)]
mod tests {
    use super::{MAX_ERROR_CHARS, one_line};

    #[test]
    fn errors_print_as_one_bounded_line() {
        assert_eq!(one_line("cannot read a\nb.json: gone"), "cannot read a b.json: gone");
        let huge = format!("a.json: string \"{}\" at line 2 column 9", "é\n".repeat(1_000_000));
        let line = one_line(&huge);
        assert_eq!(line.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(line.starts_with("a.json: string \"é é"), "{line}");
        assert!(line.ends_with("é \" at line 2 column 9") && line.contains('…'), "{line}");
    }
}
