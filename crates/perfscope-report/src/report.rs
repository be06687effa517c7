//! [`Report`]: a snapshot shaped for people and tools (serde, versioned schema; see
//! `docs/report-schema.md`).

use std::collections::BTreeMap;

use perfscope_core::{Kind, Snapshot, clock::ClockSource, figures};
use serde::{Deserialize, Serialize};

/// Version of the JSON schema [`Report`] serialises to. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Spans created after the span-name cap was reached, counted under `<overflow>` (since
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
}

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

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A threshold's condition held long enough.
    AlertFired,
    /// The figure came back past the threshold: the alert resolved.
    AlertResolved,
    /// A figure or function departed from its recent past.
    Anomaly,
    /// Advice joining several figures.
    Recommendation,
}

impl EventKind {
    /// The name the JSON uses: `alert_fired`, `alert_resolved`, `anomaly`, `recommendation`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AlertFired => "alert_fired",
            EventKind::AlertResolved => "alert_resolved",
            EventKind::Anomaly => "anomaly",
            EventKind::Recommendation => "recommendation",
        }
    }
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

/// Whether a figure can go down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureKind {
    /// A value at one moment.
    Gauge,
    /// A running total.
    Counter,
}

/// A figure's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureUnit {
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
    /// A number of things.
    Count,
    /// A fraction, 0 to 1.
    Ratio,
}

impl From<figures::Unit> for FigureUnit {
    fn from(unit: figures::Unit) -> Self {
        match unit {
            figures::Unit::Seconds => FigureUnit::Seconds,
            figures::Unit::Bytes => FigureUnit::Bytes,
            figures::Unit::Count => FigureUnit::Count,
            figures::Unit::Ratio => FigureUnit::Ratio,
        }
    }
}

/// Labels as the report keeps them: a sorted map.
fn label_map(labels: &[(std::borrow::Cow<'static, str>, String)]) -> BTreeMap<String, String> {
    labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

impl From<&figures::Event> for EventStats {
    fn from(e: &figures::Event) -> Self {
        EventStats {
            section: e.section.into(),
            kind: match e.kind {
                figures::EventKind::AlertFired => EventKind::AlertFired,
                figures::EventKind::AlertResolved => EventKind::AlertResolved,
                figures::EventKind::Anomaly => EventKind::Anomaly,
                figures::EventKind::Recommendation => EventKind::Recommendation,
            },
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
            unit: s.unit.into(),
            points: s.points.iter().filter(|(_, v)| v.is_finite()).copied().collect(),
        }
    }
}

impl From<&figures::Figure> for FigureStats {
    fn from(f: &figures::Figure) -> Self {
        FigureStats {
            section: f.section.into(),
            name: f.name.to_string(),
            kind: match f.kind {
                figures::FigureKind::Gauge => FigureKind::Gauge,
                figures::FigureKind::Counter => FigureKind::Counter,
            },
            unit: f.unit.into(),
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
}

/// What a function entry measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// A sync function measured per call.
    #[default]
    Sync,
    /// An async function (or future) measured per poll and per completion.
    Async,
    /// A tracing span.
    Span,
}

/// One function's figures. Times in nanoseconds. `Default` is a sync function never called.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionStats {
    /// Full path, e.g. `my_crate::scan::rsi`, or the `name = ".."` given to `#[measure]`.
    pub name: String,
    /// `module_path!()` of the definition.
    pub module: String,
    /// Source file and line of the definition.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Sync, async or span.
    pub kind: FunctionKind,
    /// Completed calls, including panicked ones.
    pub calls: u64,
    /// Calls that ended by unwinding.
    #[serde(alias = "panicked")]
    pub panics: u64,
    /// Futures dropped before completing (async only; 0 otherwise).
    pub cancelled: u64,
    /// Inclusive latency summed over calls: sync call time, or async first poll to completion.
    pub total_ns: u64,
    /// Time running on a thread in this function, minus time in measured children.
    pub self_ns: u64,
    /// Inclusive time running on a thread (equals `total_ns` for sync functions).
    pub busy_ns: u64,
    /// Async and spans only: `total_ns - busy_ns`, time spent not running (between polls, or
    /// while a span was not entered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_ns: Option<u64>,
    /// Async only: number of polls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polls: Option<u64>,
    /// `total_ns / calls`.
    pub mean_ns: u64,
    /// Median latency (1% relative error).
    pub p50_ns: u64,
    /// 90th percentile latency.
    pub p90_ns: u64,
    /// 99th percentile latency.
    pub p99_ns: u64,
    /// Longest call.
    pub max_ns: u64,
    /// Allocations made in this function itself (not in measured children).
    #[serde(default)]
    #[serde(alias = "alloc_count")]
    pub allocations: u64,
    /// Bytes allocated in this function itself (a `realloc` counts its new size here and its
    /// old size in `freed_bytes`).
    #[serde(default)]
    pub alloc_bytes: u64,
    /// Deallocations made in this function itself.
    #[serde(default)]
    #[serde(alias = "dealloc_count")]
    pub frees: u64,
    /// Bytes freed in this function itself.
    #[serde(default)]
    #[serde(alias = "dealloc_bytes")]
    pub freed_bytes: u64,
    /// Reallocations made in this function itself (each is also one allocation and one
    /// deallocation above).
    #[serde(default)]
    #[serde(alias = "realloc_count")]
    pub reallocs: u64,
    /// `allocations` including measured children.
    #[serde(default)]
    #[serde(alias = "total_alloc_count")]
    pub total_allocations: u64,
    /// `alloc_bytes` including measured children.
    #[serde(default)]
    pub total_alloc_bytes: u64,
    /// `frees` including measured children.
    #[serde(default)]
    #[serde(alias = "total_dealloc_count")]
    pub total_frees: u64,
    /// `freed_bytes` including measured children.
    #[serde(default)]
    #[serde(alias = "total_dealloc_bytes")]
    pub total_freed_bytes: u64,
    /// Measured functions called from this one, by descending calls.
    pub children: Vec<CallEdge>,
}

/// A call edge: how often a child was called from the function holding this entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEdge {
    /// The child's [`FunctionStats::name`] (`<other>` sums children past the edge table).
    pub name: String,
    /// Calls.
    pub calls: u64,
    /// Time running in the child (inclusive of its own children) when called from here.
    #[serde(default)]
    pub busy_ns: u64,
    /// Bytes the child allocated (inclusive) when called from here.
    #[serde(default)]
    pub alloc_bytes: u64,
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
        }
    }
}

impl Report {
    /// Builds a report from a snapshot.
    pub fn from_snapshot(snapshot: &Snapshot) -> Report {
        let mut functions: Vec<FunctionStats> = snapshot
            .callsites
            .iter()
            .map(|c| {
                let has_wall = c.info.kind != Kind::Sync;
                let mut children: Vec<CallEdge> = c
                    .children
                    .iter()
                    .map(|child| CallEdge {
                        name: child.name.to_string(),
                        calls: child.calls,
                        busy_ns: child.busy_ns,
                        alloc_bytes: child.alloc_bytes,
                    })
                    .collect();
                if c.other_children > 0 {
                    children.push(CallEdge {
                        name: "<other>".into(),
                        calls: c.other_children,
                        busy_ns: 0,
                        alloc_bytes: 0,
                    });
                }
                children.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.name.cmp(&b.name)));
                FunctionStats {
                    name: c.info.name.to_string(),
                    module: c.info.module_path.to_string(),
                    file: c.info.file.to_string(),
                    line: c.info.line,
                    kind: match c.info.kind {
                        Kind::Sync => FunctionKind::Sync,
                        Kind::Async => FunctionKind::Async,
                        Kind::Span => FunctionKind::Span,
                    },
                    calls: c.calls,
                    panics: c.panics,
                    cancelled: c.cancelled,
                    total_ns: c.total_ns,
                    self_ns: c.self_ns,
                    busy_ns: c.busy_ns,
                    idle_ns: has_wall.then_some(c.total_ns.saturating_sub(c.busy_ns)),
                    polls: (c.info.kind == Kind::Async).then_some(c.polls),
                    mean_ns: c.mean_ns(),
                    p50_ns: c.quantile_ns(0.50),
                    p90_ns: c.quantile_ns(0.90),
                    p99_ns: c.quantile_ns(0.99),
                    max_ns: c.max_ns,
                    allocations: c.alloc_self.allocations,
                    alloc_bytes: c.alloc_self.alloc_bytes,
                    frees: c.alloc_self.frees,
                    freed_bytes: c.alloc_self.freed_bytes,
                    reallocs: c.alloc_self.reallocs,
                    total_allocations: c.alloc_total.allocations,
                    total_alloc_bytes: c.alloc_total.alloc_bytes,
                    total_frees: c.alloc_total.frees,
                    total_freed_bytes: c.alloc_total.freed_bytes,
                    children,
                }
            })
            .collect();
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
        }
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
                section: "process".into(),
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
