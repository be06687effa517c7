//! The report's figures that are not functions: the figure sources' gauges and counters
//! ([`FigureStats`]), their events ([`EventStats`]) and history ([`SeriesStats`]), converted
//! from the snapshot's, and typed access to the `process` section.

use std::collections::BTreeMap;

use perfscope_core::figures;
pub use perfscope_core::figures::{EventKind, FigureKind, FigureUnit};
use serde::{Deserialize, Serialize};

/// Something a figure source saw happen (see `perfscope_core::history::Event`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventStats {
    /// The source's section: `host`, `process`, `function`, ...
    pub section: String,
    /// What happened.
    pub kind: EventKind,
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// What it is about: a figure's name, or a function's.
    pub subject: String,
    /// The subject's labels, if it is a labelled figure.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// One or two sentences for people, naming the evidence.
    pub message: String,
    /// The value that triggered it, if one did (and it was a finite number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// A series' recent points (see `perfscope_core::history::Series`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesStats {
    /// The source's section.
    pub section: String,
    /// The figure's name, or a derived series' name.
    pub name: String,
    /// Labels telling series of one name apart.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The values' unit.
    pub unit: FigureUnit,
    /// `[milliseconds since the Unix epoch, value]`, oldest first; points whose value is not
    /// a finite number are left out.
    pub points: Vec<(u64, f64)>,
}

/// One figure that is not a function: a gauge or counter with labels (see
/// `perfscope_core::figures`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureStats {
    /// The source's section: `process`, `host`, `pool`, ...
    pub section: String,
    /// The exported name (`process_threads`, `perfscope_heap_in_use_bytes`).
    pub name: String,
    /// `gauge` or `counter`.
    pub kind: FigureKind,
    /// `seconds`, `bytes`, `count` or `ratio`.
    pub unit: FigureUnit,
    /// What it is, in one sentence.
    #[serde(default)]
    pub help: String,
    /// Label pairs telling series of one name apart.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// Labels as the report keeps them: a sorted map.
fn label_map(labels: &[(std::borrow::Cow<'static, str>, String)]) -> BTreeMap<String, String> {
    labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

impl From<&figures::Event> for EventStats {
    fn from(e: &figures::Event) -> Self {
        EventStats {
            section: e.section.into(),
            kind: e.kind,
            at_unix_ms: e.at_unix_ms,
            subject: e.subject.clone(),
            labels: label_map(&e.labels),
            message: e.message.clone(),
            // JSON has no NaN or infinity.
            value: e.value.filter(|v| v.is_finite()),
        }
    }
}

impl From<&figures::Series> for SeriesStats {
    fn from(s: &figures::Series) -> Self {
        SeriesStats {
            section: s.section.into(),
            name: s.name.to_string(),
            labels: label_map(&s.labels),
            unit: s.unit,
            points: s.points.iter().filter(|(_, v)| v.is_finite()).copied().collect(),
        }
    }
}

impl From<&figures::Figure> for FigureStats {
    fn from(f: &figures::Figure) -> Self {
        FigureStats {
            section: f.section.into(),
            name: f.name.to_string(),
            kind: f.kind,
            unit: f.unit,
            help: f.help.into(),
            labels: label_map(&f.labels),
            value: f.value,
        }
    }
}

/// The process figures every report can carry: typed access to the `process` section.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessFigures {
    /// Bytes allocated and not freed (with `CountingAlloc`).
    pub heap_in_use_bytes: Option<u64>,
    /// OS threads of the process (Linux).
    pub threads: Option<u64>,
    /// Bytes perfscope's live thread stores hold (`perfscope_held_bytes`): what measuring
    /// costs in memory (`None` in reports written before it was a figure).
    pub held_bytes: Option<u64>,
}
