//! perfscope's report: a [`Report`] is a snapshot shaped for people and tools. It has a
//! versioned JSON schema (`docs/report-schema.md`; older schemas still read), typed readers
//! of its cache, pool and query sections ([`Report::caches`], [`Report::pools`],
//! [`Report::queries`]), and every view: the terminal table (`Display`, [`Report::table`],
//! fitted to a terminal's width with [`TableView::fit_terminal`]),
//! a self-contained HTML page ([`Report::to_html`]), folded stacks ([`Report::folded`]) and a
//! flame graph ([`Report::flamegraph_svg`], cargo feature `flamegraph`). [`bench`](mod@bench) is the
//! bench file format `perfscope diff` compares.
//!
//! Every view is built from the report alone, so it works as well on a report read back from
//! a file as on a live one. This crate depends on `perfscope-core` only: the `perfscope`
//! command reads and renders saved reports without the proc macro or the tracing layer.
//!
//! ```
//! use perfscope_report::{FunctionStats, Report};
//!
//! let json = r#"{"schema": 2, "elapsed_ns": 2000000, "clock": "os", "functions": [
//!     {"name": "app::parse", "module": "app", "file": "src/main.rs", "line": 3,
//!      "kind": "sync", "calls": 4, "panics": 0, "cancelled": 0, "total_ns": 1200000,
//!      "self_ns": 1000000, "busy_ns": 1200000, "mean_ns": 300000, "p50_ns": 290000,
//!      "p90_ns": 310000, "p99_ns": 320000, "max_ns": 320000, "children": []}]}"#;
//! let report = Report::from_json(json).unwrap();
//! let parse: &FunctionStats = report.function("app::parse").unwrap();
//! assert_eq!(parse.calls, 4);
//! assert!(report.to_string().contains("app::parse")); // the hotspot table
//! assert!(report.to_html().starts_with("<!DOCTYPE html>"));
//! assert_eq!(report.folded(), "app::parse 1000000\n");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench;
mod figures;
#[cfg(feature = "flamegraph")]
mod flamegraph;
mod folded;
mod format;
mod functions;
mod html;
mod readers;
mod report;
mod save;
mod table;
mod trends;

#[cfg(feature = "flamegraph")]
pub use flamegraph::FlameError;
pub use format::{
    figure_label, human_bytes, human_duration, human_figure, human_ns, human_value, printable,
    series_label, utc_time,
};
pub use readers::{
    AlertFigures, CacheFigures, CpuFigures, DatabaseFigures, HttpConnections, HttpRoute,
    HttpTarget, IndexHintEvent, IndexUsage, MemoryFigures, NetworkFigures, PoolFigures,
    QueryFigures, SlowQueryEvent, SystemFigures,
};
pub use report::{
    CallEdge, EventKind, EventStats, FigureKind, FigureStats, FigureUnit, FunctionKind,
    FunctionStats, OLDEST_SCHEMA_READ, ProcessFigures, Report, ReportError, SCHEMA_VERSION,
    SeriesStats,
};
pub use save::save;
pub use table::{DEFAULT_TOP, TABLE_ENV, TABLE_EVENTS, TableView};
pub use trends::{MAX_TRENDS, TREND_SECTIONS, TrendDirection, TrendLimit, TrendStats};
