//! Flame graphs as SVG, drawn by `inferno` from the folded stacks (cargo feature `flamegraph`).

use inferno::flamegraph::{self, Options, Palette, color::BasicPalette};

use crate::folded::{Weight, fold};
use crate::report::Report;

/// Why a flame graph could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum FlameError {
    /// Nothing to draw: no self time (or no allocated bytes) in the report.
    #[error("nothing to draw: the report has no {0} to show in a flame graph")]
    Empty(&'static str),
    /// `inferno` refused the folded stacks.
    #[error("flame graph rendering failed: {0}")]
    Render(#[from] std::io::Error),
    /// The figures add up to more than a flame graph can count (over 2^62: not a real run).
    #[error("the report's figures are too large to draw (corrupt report?)")]
    TooLarge,
    /// `inferno` wrote something that is not UTF-8.
    #[error("flame graph rendering produced invalid UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
}

impl Report {
    /// The flame graph of self time as a standalone SVG (interactive in a browser: click to
    /// zoom, Ctrl-F to search), from [`Report::folded`]. Frame widths are nanoseconds.
    ///
    /// Frames narrower than 0.01% of the total are left out, as `inferno` does by default.
    /// A report without self time gives [`FlameError::Empty`].
    pub fn flamegraph_svg(&self) -> Result<String, FlameError> {
        render(self, Weight::SelfTime)
    }

    /// The flame graph of allocated bytes, from [`Report::folded_bytes`]. A report without
    /// allocation figures gives [`FlameError::Empty`].
    pub fn flamegraph_bytes_svg(&self) -> Result<String, FlameError> {
        render(self, Weight::AllocBytes)
    }
}

/// Draws the flame graph of `report` weighted by `weight`.
pub(crate) fn render(report: &Report, weight: Weight) -> Result<String, FlameError> {
    let folded = fold(report, weight);
    if folded.is_empty() {
        return Err(FlameError::Empty(match weight {
            Weight::SelfTime => "self time",
            Weight::AllocBytes => "allocated bytes",
        }));
    }
    // inferno adds the weights up in a u64: refuse sums no real run reaches.
    let total = folded
        .lines()
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
        .try_fold(0u64, u64::checked_add);
    if total.is_none_or(|t| t > 1 << 62) {
        return Err(FlameError::TooLarge);
    }
    let mut options = Options::default();
    // Colours from a hash of the name: the same function keeps its colour across runs.
    options.hash = true;
    options.name_type = "Function:".into();
    match weight {
        Weight::SelfTime => {
            options.title = "perfscope: self time".into();
            options.count_name = "ns".into();
            options.colors = Palette::Basic(BasicPalette::Hot);
        }
        Weight::AllocBytes => {
            options.title = "perfscope: allocated bytes".into();
            options.count_name = "bytes".into();
            options.colors = Palette::Basic(BasicPalette::Mem);
        }
    }
    options.subtitle = Some(format!(
        "{} functions, {} wall, clock {}; stacks rebuilt from call edges",
        report.functions.len(),
        crate::format::human_ns(report.elapsed_ns),
        report.clock
    ));
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut options, folded.lines(), &mut svg)?;
    Ok(String::from_utf8(svg)?)
}
