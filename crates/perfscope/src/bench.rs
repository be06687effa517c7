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

use std::time::{Duration, Instant};

pub use perfscope_report::bench::{
    BENCH_SCHEMA, BENCH_SCHEMA_1, BenchError, BenchRun, FunctionSeries, Iteration, IterationFigures,
};

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
