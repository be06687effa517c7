//! The bench file format: what `perfscope::bench` writes and `perfscope diff` reads. A
//! [`BenchRun`] holds the measured iterations of one workload, each with one set of figures
//! per function ([`Iteration`]); [`BenchRun::functions`] turns them into one series per figure
//! and function, the samples `perfscope diff` compares.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use perfscope_report::bench::{BENCH_SCHEMA, BenchRun, Iteration, IterationFigures};
//!
//! let iteration = |calls| Iteration {
//!     elapsed_ns: 1_000,
//!     functions: BTreeMap::from([("app::parse".to_string(), IterationFigures { calls, ..Default::default() })]),
//! };
//! let run = BenchRun {
//!     schema: BENCH_SCHEMA.into(),
//!     name: "parse".into(),
//!     warmup: 1,
//!     iterations: vec![iteration(3), iteration(4)],
//!     timed_out: None,
//! };
//! assert_eq!(run.functions()["app::parse"].calls, [3, 4]);
//! assert_eq!(BenchRun::from_json(&run.to_json()).unwrap(), run);
//! # let _ = Duration::ZERO;
//! ```
//!
//! A run stopped by its timeout keeps the iterations measured before and says so
//! ([`BenchRun::timed_out`]); `perfscope diff` refuses it: its figures are not a full run's.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `schema` value of a bench file.
pub const BENCH_SCHEMA: &str = "perfscope-bench/2";

/// The older schema [`BenchRun::from_json`] still reads: `perfscope-bench/1` named an
/// iteration's elapsed time `wall_ns`; it reads as [`Iteration::elapsed_ns`], and the run comes
/// back as one of [`BENCH_SCHEMA`].
pub const BENCH_SCHEMA_1: &str = "perfscope-bench/1";

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// An iteration ran past `perfscope::bench::Bench::with_timeout`: stopped there (or, if it
    /// returned late, once it returned). `run` keeps the iterations measured before it, marked
    /// with [`BenchRun::timed_out`].
    #[error(
        "iteration {iteration} ran past the timeout of {timeout:?} ({elapsed:?}): the run stopped \
         with {} measured iterations",
        .run.iterations.len()
    )]
    Timeout {
        /// 0-based, warm-up included.
        iteration: u32,
        /// How long it had run when it was stopped, or took if it returned late.
        elapsed: Duration,
        /// The timeout.
        timeout: Duration,
        /// The partial run: the measured iterations before this one, marked as timed out.
        run: Box<BenchRun>,
    },
    /// The thread that runs a workload with a timeout could not be started.
    #[error("cannot start the benchmark's worker thread: {0}")]
    Spawn(std::io::Error),
    /// Not a bench file, or of another schema.
    #[error("not a perfscope bench file: {0}")]
    Json(#[from] serde_json::Error),
    /// A bench file of a schema this version does not read.
    #[error(
        "bench schema {0:?} is not supported (this perfscope reads {BENCH_SCHEMA_1:?} and {BENCH_SCHEMA:?})"
    )]
    Schema(String),
}

impl BenchError {
    /// The partial run of a [`BenchError::Timeout`] (to save: it reads back marked as timed
    /// out); `None` for the other errors.
    pub fn into_partial(self) -> Option<BenchRun> {
        match self {
            BenchError::Timeout { run, .. } => Some(*run),
            _ => None,
        }
    }
}

/// Where and how a run was stopped by its timeout ([`BenchRun::timed_out`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedOut {
    /// The iteration that ran past the timeout: 0-based, warm-up included; not in the run.
    pub iteration: u32,
    /// How long it had run when it was stopped (or took, if it returned late), ns.
    pub elapsed_ns: u64,
    /// The timeout, ns.
    pub timeout_ns: u64,
}

/// One function's figures in one iteration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IterationFigures {
    /// Completed calls.
    pub calls: u64,
    /// Self time, ns.
    pub self_ns: u64,
    /// Total (inclusive) time, ns.
    pub total_ns: u64,
    /// 99th percentile latency, ns.
    pub p99_ns: u64,
    /// Allocations made by the function itself.
    pub allocations: u64,
    /// Bytes it allocated itself.
    pub alloc_bytes: u64,
}

/// One measured iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    /// Elapsed time of the workload, ns (`wall_ns` in files written before it was renamed).
    #[serde(alias = "wall_ns")]
    pub elapsed_ns: u64,
    /// Figures per function name.
    pub functions: BTreeMap<String, IterationFigures>,
}

impl Iteration {
    /// One iteration's figures, from the report taken at its end (after a reset at its start)
    /// and the workload's elapsed time.
    pub fn from_report(report: &crate::Report, elapsed: Duration) -> Iteration {
        let functions = report
            .functions
            .iter()
            .map(|f| {
                let figures = IterationFigures {
                    calls: f.calls,
                    self_ns: f.self_ns,
                    total_ns: f.total_ns,
                    p99_ns: f.p99_ns,
                    allocations: f.allocations,
                    alloc_bytes: f.alloc_bytes,
                };
                (f.name.clone(), figures)
            })
            .collect();
        Iteration { elapsed_ns: u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), functions }
    }
}

/// A benchmark's result: what the bench file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRun {
    /// [`BENCH_SCHEMA`].
    pub schema: String,
    /// The benchmark's name.
    pub name: String,
    /// Warm-up iterations run before the measured ones.
    pub warmup: u32,
    /// The measured iterations, in order.
    pub iterations: Vec<Iteration>,
    /// Set when the run was stopped by its timeout: `iterations` are those measured before
    /// the iteration that ran past it. Absent from the file of a run that finished (and from
    /// files written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timed_out: Option<TimedOut>,
}

/// One function's figures across the iterations (a series per figure, one value per iteration;
/// 0 in an iteration that did not call it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionSeries {
    /// Calls per iteration.
    pub calls: Vec<u64>,
    /// Self time per iteration, ns.
    pub self_ns: Vec<u64>,
    /// Total time per iteration, ns.
    pub total_ns: Vec<u64>,
    /// p99 latency per iteration, ns.
    pub p99_ns: Vec<u64>,
    /// Allocations per iteration.
    pub allocations: Vec<u64>,
    /// Bytes allocated per iteration.
    pub alloc_bytes: Vec<u64>,
}

impl BenchRun {
    /// Every function seen in any iteration, with its per-iteration series.
    pub fn functions(&self) -> BTreeMap<String, FunctionSeries> {
        let mut out: BTreeMap<String, FunctionSeries> = BTreeMap::new();
        for name in self.iterations.iter().flat_map(|i| i.functions.keys()) {
            out.entry(name.clone()).or_default();
        }
        for (name, series) in &mut out {
            for iteration in &self.iterations {
                let f = iteration.functions.get(name).copied().unwrap_or_default();
                series.calls.push(f.calls);
                series.self_ns.push(f.self_ns);
                series.total_ns.push(f.total_ns);
                series.p99_ns.push(f.p99_ns);
                series.allocations.push(f.allocations);
                series.alloc_bytes.push(f.alloc_bytes);
            }
        }
        out
    }

    /// The bench file's JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a bench file.
    ///
    /// # Errors
    /// [`BenchError::Json`] if it is not a bench file, [`BenchError::Schema`] if it is one of
    /// another schema. A file of [`BENCH_SCHEMA_1`] reads as one of [`BENCH_SCHEMA`].
    pub fn from_json(json: &str) -> Result<BenchRun, BenchError> {
        #[derive(Deserialize)]
        struct Schema {
            schema: String,
        }
        let Schema { schema } = serde_json::from_str(json)?;
        if schema != BENCH_SCHEMA && schema != BENCH_SCHEMA_1 {
            return Err(BenchError::Schema(schema));
        }
        let run: BenchRun = serde_json::from_str(json)?;
        Ok(BenchRun { schema: BENCH_SCHEMA.into(), ..run })
    }

    /// Whether `json` looks like a bench file (any schema) rather than a report.
    pub fn is_bench_json(json: &str) -> bool {
        #[derive(Deserialize)]
        struct Schema {
            schema: serde_json::Value,
        }
        serde_json::from_str::<Schema>(json)
            .is_ok_and(|s| s.schema.as_str().is_some_and(|s| s.starts_with("perfscope-bench/")))
    }
}
