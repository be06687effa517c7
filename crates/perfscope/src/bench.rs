//! Benchmark mode for whole workloads: warm-up, then N measured iterations, each starting
//! from a [`reset`](crate::reset), each leaving one set of figures per function. Where
//! criterion or divan time one small function, this runs a whole program path and keeps the
//! breakdown per function, so `perfscope diff` can compare two runs' distributions and tell a
//! regression from noise.
//!
//! ```
//! #[perfscope::measure]
//! fn parse(line: &str) -> usize {
//!     line.split(',').count()
//! }
//!
//! let run = perfscope::bench::bench("parse a batch")
//!     .with_warmup(2)
//!     .with_iterations(5)
//!     .run(|| {
//!         for _ in 0..100 {
//!             std::hint::black_box(parse("a,b,c"));
//!         }
//!     })
//!     .expect("no iteration timed out");
//! let functions = run.functions();
//! let (_, parse) = functions.iter().find(|(name, _)| name.ends_with("::parse")).unwrap();
//! assert_eq!(parse.calls, [100; 5]);
//! let json = run.to_json();
//! assert_eq!(perfscope::bench::BenchRun::from_json(&json).unwrap(), run);
//! ```
//!
//! `reset()` is process-wide: run benchmarks in a process of their own (a bench binary, or the
//! market scanner's `--bench`), not beside other measured work.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The `schema` value of a bench file.
pub const BENCH_SCHEMA: &str = "perfscope-bench/1";

/// Starts configuring a benchmark of a workload.
pub fn bench(name: impl Into<String>) -> Bench {
    Bench { name: name.into(), warmup: 3, iterations: 10, timeout: None }
}

/// A benchmark's settings; made by [`bench()`].
#[derive(Debug, Clone)]
#[must_use = "a benchmark does nothing until .run()"]
pub struct Bench {
    name: String,
    warmup: u32,
    iterations: u32,
    timeout: Option<Duration>,
}

impl Bench {
    /// Iterations run first and thrown away (default 3): caches, allocators and lazy
    /// initialisation settle.
    pub fn with_warmup(mut self, iterations: u32) -> Self {
        self.warmup = iterations;
        self
    }

    /// Measured iterations (default 10; at least 1). More iterations, tighter verdicts.
    pub fn with_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations.max(1);
        self
    }

    /// The longest one iteration may take. An iteration over it ends the run with
    /// [`BenchError::Timeout`] once it returns: it is not interrupted (nothing can stop code
    /// safely from outside), so a workload that never returns is not caught.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Runs the warm-up and the measured iterations, each after a [`reset`](crate::reset).
    ///
    /// # Errors
    /// [`BenchError::Timeout`] when an iteration took longer than the timeout.
    pub fn run(self, mut workload: impl FnMut()) -> Result<BenchRun, BenchError> {
        let total = self.warmup + self.iterations;
        let mut iterations = Vec::with_capacity(self.iterations as usize);
        for i in 0..total {
            crate::reset();
            let start = Instant::now();
            workload();
            let elapsed = start.elapsed();
            if let Some(timeout) = self.timeout.filter(|t| elapsed > *t) {
                return Err(BenchError::Timeout { iteration: i, elapsed, timeout });
            }
            if i >= self.warmup {
                iterations.push(Iteration::from_report(&crate::report(), elapsed));
            }
        }
        Ok(BenchRun {
            schema: BENCH_SCHEMA.into(),
            name: self.name,
            warmup: self.warmup,
            iterations,
        })
    }
}

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// An iteration took longer than [`Bench::with_timeout`].
    #[error("iteration {iteration} took {elapsed:?}, over the timeout of {timeout:?}")]
    Timeout {
        /// 0-based, warm-up included.
        iteration: u32,
        /// How long it took.
        elapsed: Duration,
        /// The timeout.
        timeout: Duration,
    },
    /// Not a bench file, or of another schema.
    #[error("not a perfscope bench file: {0}")]
    Json(#[from] serde_json::Error),
    /// A bench file of a schema this version does not read.
    #[error("bench schema {0:?} is not supported (this perfscope reads {BENCH_SCHEMA:?})")]
    Schema(String),
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
    /// Wall time of the workload, ns.
    pub wall_ns: u64,
    /// Figures per function name.
    pub functions: BTreeMap<String, IterationFigures>,
}

impl Iteration {
    fn from_report(report: &crate::Report, elapsed: Duration) -> Iteration {
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
        Iteration { wall_ns: u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), functions }
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
    /// another schema.
    pub fn from_json(json: &str) -> Result<BenchRun, BenchError> {
        #[derive(Deserialize)]
        struct Schema {
            schema: String,
        }
        let Schema { schema } = serde_json::from_str(json)?;
        if schema != BENCH_SCHEMA {
            return Err(BenchError::Schema(schema));
        }
        Ok(serde_json::from_str(json)?)
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
