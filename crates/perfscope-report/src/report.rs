//! [`Report`]: a snapshot shaped for people and tools (serde, versioned schema; see
//! `docs/report-schema.md`).

use std::collections::BTreeMap;

use perfscope_core::{Snapshot, clock::ClockSource, figures};

pub use crate::figures::{
    EventKind, EventStats, FigureKind, FigureStats, FigureUnit, ProcessFigures, SeriesStats,
};
pub use crate::functions::{CallEdge, FunctionKind, FunctionStats};
pub use crate::trends::TrendStats;
use serde::{Deserialize, Serialize};

/// Version of the JSON schema [`Report`] serialises to. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest schema [`Report::from_json`] reads (and converts).
pub const OLDEST_SCHEMA_READ: u32 = 1;

/// Hotspot report: every measured function, sorted by self time (largest first).
/// `Default` is an empty report of this schema (clock `"os"`): a base for building one in
/// tests and tools with struct update syntax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`] of the producer.
    pub schema: u32,
    /// Wall time covered: since the first measured call, or since the last `reset()`.
    pub elapsed_ns: u64,
    /// The clock behind the figures: `"tsc"` or `"os"`.
    pub clock: String,
    /// Whether `perfscope::CountingAlloc` is the global allocator: without it every
    /// allocation field is zero and the heap in use is absent from [`Report::process`].
    #[serde(default)]
    pub alloc_tracking: bool,
    /// Spans created after the span-name cap was reached, counted under `<other>` (since
    /// start-up or the last `reset()`, like that row).
    #[serde(default)]
    pub overflowed_spans: u64,
    /// Callsites (functions, span names) that found perfscope's callsite table full and are
    /// counted under one `<callsite overflow>` row (a warning; since start-up).
    #[serde(default)]
    pub overflowed_callsites: u64,
    /// Per-function figures, by descending `self_ns`.
    pub functions: Vec<FunctionStats>,
    /// Figures that are not functions (the process's; the monitor's, pools', caches' when
    /// their sources are registered), in the order their sources gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<FigureStats>,
    /// Recent events of the figure sources (alerts fired and resolved, anomalies,
    /// recommendations), as the sources gave them (each source's oldest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventStats>,
    /// Recent history of the figure sources' series (the monitor's rings), for charts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<SeriesStats>,
    /// Trends of the watched series over the run (schema 3 on): summary, slope, direction,
    /// time to an alert's limit; see [`TrendStats`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trends: Vec<TrendStats>,
}

/// Errors reading a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not JSON, or not a report.
    #[error("not a perfscope report: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by an incompatible perfscope.
    #[error(
        "report schema {found} is not supported (this perfscope reads schemas {OLDEST_SCHEMA_READ} to {SCHEMA_VERSION})"
    )]
    Schema {
        /// The schema the file declares.
        found: u32,
    },
}

impl Default for Report {
    fn default() -> Report {
        Report {
            schema: SCHEMA_VERSION,
            elapsed_ns: 0,
            clock: "os".into(),
            alloc_tracking: false,
            overflowed_spans: 0,
            overflowed_callsites: 0,
            functions: Vec::new(),
            figures: Vec::new(),
            events: Vec::new(),
            history: Vec::new(),
            trends: Vec::new(),
        }
    }
}

impl Report {
    /// Builds a report from a snapshot.
    pub fn from_snapshot(snapshot: &Snapshot) -> Report {
        let mut functions: Vec<FunctionStats> =
            snapshot.callsites.iter().map(FunctionStats::from_callsite).collect();
        functions.sort_by(|a, b| b.self_ns.cmp(&a.self_ns).then_with(|| a.name.cmp(&b.name)));
        Report {
            schema: SCHEMA_VERSION,
            elapsed_ns: snapshot.elapsed_ns,
            clock: match snapshot.clock {
                ClockSource::Tsc => "tsc",
                ClockSource::Os => "os",
            }
            .into(),
            alloc_tracking: snapshot.alloc_tracking,
            overflowed_spans: snapshot.overflowed_spans,
            overflowed_callsites: snapshot.overflowed_callsites,
            functions,
            figures: snapshot.figures.iter().map(FigureStats::from).collect(),
            events: snapshot.events.iter().map(EventStats::from).collect(),
            history: snapshot.history.iter().map(SeriesStats::from).collect(),
            trends: Vec::new(),
        }
        .with_trends()
    }

    /// The report with its trends computed from its history and figures.
    fn with_trends(mut self) -> Report {
        self.trends = crate::trends::trends(&self.history, &self.figures);
        self
    }

    /// The entry named `name`, if any.
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The value of the first figure named `name` (any labels).
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|f| f.name == name).map(|f| f.value)
    }

    /// The `process` section, typed.
    pub fn process(&self) -> ProcessFigures {
        let whole = |name| self.figure(name).map(|v| v as u64);
        ProcessFigures {
            heap_in_use_bytes: whole(figures::HEAP_IN_USE_BYTES),
            threads: whole(figures::PROCESS_THREADS),
            held_bytes: whole(figures::HELD_BYTES),
        }
    }

    /// The first entry whose name ends with `suffix` (e.g. `"::parse"`), if any.
    pub fn function_by_suffix(&self, suffix: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name.ends_with(suffix))
    }

    /// Pretty-printed JSON (schema in `docs/report-schema.md`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// Reads a report written by [`Report::to_json`], checking the schema version.
    pub fn from_json(json: &str) -> Result<Report, ReportError> {
        #[derive(Deserialize)]
        struct Version {
            schema: u32,
        }
        let Version { schema } = serde_json::from_str(json)?;
        match schema {
            SCHEMA_VERSION => Ok(serde_json::from_str(json)?),
            // Schema 2 is schema 3 without trends: they are computed from its history.
            2 => {
                let report: Report = serde_json::from_str(json)?;
                Ok(Report { schema: SCHEMA_VERSION, ..report }.with_trends())
            }
            1 => Report::from_schema_1(json),
            found => Err(ReportError::Schema { found }),
        }
    }

    /// Reads a schema-1 report: its field names are read through aliases, its `wall_ns` (equal
    /// to `total_ns`) is dropped, and its top-level `heap_in_use` becomes the
    /// `perfscope_heap_in_use_bytes` figure. The result is a current report.
    fn from_schema_1(json: &str) -> Result<Report, ReportError> {
        let mut value: serde_json::Value = serde_json::from_str(json)?;
        let heap = value.get("heap_in_use").and_then(serde_json::Value::as_u64);
        let mut report: Report = serde_json::from_value(value.take())?;
        report.schema = SCHEMA_VERSION;
        if let Some(bytes) = heap {
            report.figures.push(FigureStats {
                section: perfscope_core::names::section::PROCESS.into(),
                name: figures::HEAP_IN_USE_BYTES.into(),
                kind: FigureKind::Gauge,
                unit: FigureUnit::Bytes,
                help: String::new(),
                labels: BTreeMap::new(),
                value: bytes as f64,
            });
        }
        Ok(report)
    }
}
