//! What a figure is: its kind ([`FigureKind`]: can it go down?) and its unit
//! ([`FigureUnit`]). A leaf shared by the figures, their history and the name catalog; the
//! report schema carries both as they are (feature `serde`).

/// Whether a figure can go down (`gauge` or `counter` in a report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum FigureKind {
    /// A value at one moment (memory in use, threads, queue depth).
    Gauge,
    /// A running total that only grows (bytes received, evictions).
    Counter,
}

/// What a figure counts, in base units (as Prometheus names them; `seconds`, `bytes`,
/// `count` or `ratio` in a report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum FigureUnit {
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
    /// A plain number of things.
    Count,
    /// A fraction, 0 to 1.
    Ratio,
}
