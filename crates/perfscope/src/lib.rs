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
#![deny(missing_docs)]

mod guard;
mod report;
mod table;
mod views;

pub use guard::{ReportGuard, report_on_exit};
pub use perfscope_core::{CountingAlloc, Snapshot, snapshot};
#[cfg(feature = "tracing")]
pub use perfscope_layer::{DEFAULT_MAX_SPAN_NAMES, PerfscopeLayer, layer};
pub use perfscope_macros::measure;
pub use report::{ChildCalls, FunctionKind, FunctionStats, Report, ReportError, SCHEMA_VERSION};
pub use table::{DEFAULT_TOP, TableView, human_bytes, human_ns};
#[cfg(feature = "flamegraph")]
pub use views::FlameError;

/// The report of everything measured so far (all threads, live and exited).
pub fn report() -> Report {
    Report::from_snapshot(&snapshot())
}

/// Clears every figure; the next report covers only what runs after this call.
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
