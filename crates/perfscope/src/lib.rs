//! perfscope: a per-function profiler for Rust.
//!
//! Put `#[perfscope::measure]` on the functions you care about (sync or async, free functions
//! or methods), run the program, and read a hotspot report: calls, total and **self** time,
//! p50/p90/p99/max latency, async busy vs idle time, and which measured function calls which.
//!
//! The hot path costs two clock reads plus a few thread-local additions: no lock, no
//! allocation, no shared cache-line write (figures in `BENCHMARKS.md`). Build with the `off`
//! feature and `#[measure]` expands to the plain function.
//!
//! ```
//! use perfscope::measure;
//!
//! #[measure]
//! fn parse(input: &str) -> usize {
//!     input.split(',').map(tokenize).sum()
//! }
//!
//! #[measure]
//! fn tokenize(field: &str) -> usize {
//!     field.trim().len()
//! }
//!
//! # fn main() {
//! for _ in 0..100 {
//!     parse("a, bb, ccc");
//! }
//! let report = perfscope::report();
//! let parse = report.functions.iter().find(|f| f.name.ends_with("::parse")).unwrap();
//! assert_eq!(parse.calls, 100);
//! assert_eq!(parse.children[0].calls, 300);
//! println!("{report}"); // the hotspot table
//! # }
//! ```
//!
//! In `main`, [`report_on_exit`] prints the table (and can write JSON) when the program ends.
//!
//! Two optional parts feed the same report:
//! - [`layer()`] (feature `tracing`, on by default) is a `tracing_subscriber::Layer`: every
//!   tracing span (`#[instrument]`, tokio, sqlx, hyper, `info_span!`) becomes a row, nested with
//!   `#[measure]` functions in either order;
//! - [`CountingAlloc`] as the `#[global_allocator]` attributes allocations (count and bytes,
//!   allocated and freed, self and inclusive) to the innermost measured function or span.
//!
//! Blocks, closures and futures are measured like functions with [`measure_block!`],
//! [`scope!`], [`time`] and [`measured`]; `#[measure_all]` measures every function of an
//! `impl` block or a module. A [`session()`] reports one window of time (a phase, a request)
//! without resetting anything.
//!
//! A [`Report`] also renders as folded stacks, a flame graph SVG (feature `flamegraph`) and a
//! self-contained HTML page.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bench;
mod guard;
pub mod scope;
mod session;

pub use guard::{ReportGuard, report_on_exit};
pub use perfscope_core::{CountingAlloc, Snapshot, snapshot};
#[cfg(feature = "tracing")]
pub use perfscope_layer::{DEFAULT_MAX_SPAN_NAMES, PerfscopeLayer};
/// The system monitor (feature `monitor`): host and process figures sampled on a thread,
/// carried by every snapshot, with bounded history, thresholds and analysis. See
/// [`monitor::Monitor`].
#[cfg(feature = "monitor")]
pub use perfscope_monitor as monitor;
pub use scope::{MAX_SCOPE_NAMES, Scope, measured, scope, time};
pub use session::{Session, session};

/// Pools and caches users already run, instrumented (feature `instrument`): every call is a
/// frame on the caller's stack, and their figures reach the report and exporters.
#[cfg(feature = "instrument")]
pub use perfscope_instrument as instrument;

/// The whole setup in `main`, with allocation tracking:
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// #[global_allocator]
/// static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();
///
/// fn main() {
///     tracing_subscriber::registry().with(perfscope::layer()).init();
///     let _report = perfscope::report_on_exit();
///     // ...
/// }
/// ```
#[cfg(feature = "tracing")]
pub use perfscope_layer::layer;
pub use perfscope_macros::{measure, measure_all, skip};
#[cfg(feature = "flamegraph")]
pub use perfscope_report::FlameError;
pub use perfscope_report::{
    AlertFigures, CacheFigures, CallEdge, CpuFigures, DEFAULT_TOP, DatabaseFigures, EventKind,
    EventStats, FigureKind, FigureStats, FigureUnit, FunctionKind, FunctionStats, HttpConnections,
    HttpRoute, HttpTarget, IndexHintEvent, IndexUsage, MemoryFigures, NetworkFigures, PoolFigures,
    ProcessFigures, QueryFigures, Report, ReportError, SCHEMA_VERSION, SeriesStats, SlowQueryEvent,
    SystemFigures, TABLE_ENV, TableView, TrendStats, figure_label, human_bytes, human_figure,
    human_ns, printable, save,
};

/// The report of everything measured so far (all threads, live and exited), with the figure
/// sources' figures, events and history.
pub fn report() -> Report {
    Report::from_snapshot(&perfscope_core::snapshot_with_history())
}

/// The system's figures now — CPU, memory, network, database — as one typed value (the
/// fields a figure source does not give are `None`): [`Report::system`] of the figures of a
/// fresh snapshot, without building the functions' part of a report.
///
/// ```
/// let system = perfscope::system();
/// // Without a monitor, no host figure: absent, not zero.
/// assert_eq!(system.cpu.usage, None);
/// ```
pub fn system() -> SystemFigures {
    let snapshot = perfscope_core::snapshot();
    let figures = snapshot.figures.iter().map(FigureStats::from).collect();
    Report { figures, ..Report::default() }.system()
}

/// Clears every figure; the next report covers only what runs after this call. For a report
/// of one window beside everything else, use a [`session()`] instead: it resets nothing.
pub fn reset() {
    perfscope_core::reset();
}

/// Used by the code `#[measure]` generates. Not a public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use perfscope_core::{
        Callsite, CallsiteName, Instrumented, Kind, SyncGuard, enter, instrument, type_name_of,
    };
}
