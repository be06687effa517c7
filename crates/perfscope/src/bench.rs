//! Benchmark mode for whole workloads: warm-up, then N measured iterations, each one
//! [`session`](crate::session), each leaving one set of figures per function. Where
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
//! An iteration's figures are its session's: nothing is reset, so the process's report keeps
//! everything the benchmark ran. A session sees every thread, though: run benchmarks in a
//! process of their own (a bench binary, or the market scanner's `--bench`), or at least not
//! beside other measured work, which would count in the iterations.
//!
//! **The timeout stops the run.** With [`Bench::with_timeout`], an iteration still running
//! when its time is spent is stopped there: [`Bench::run_async`] drops its future (at its next
//! yield), [`Bench::run`] stops waiting for the worker thread that runs it and returns at the
//! deadline (nothing can stop a thread from outside: the thread is left to finish or hang on
//! its own, and what it still records lands in the process's figures). Either way the result
//! is [`BenchError::Timeout`], whose partial run keeps the iterations measured before and is
//! marked as timed out ([`BenchRun::timed_out`]); `perfscope diff` refuses such a file.
//!
//! ```
//! use std::time::Duration;
//! use perfscope::bench::{BenchError, bench};
//!
//! let mut n = 0;
//! let stopped = bench("hangs on its third iteration")
//!     .with_warmup(0)
//!     .with_iterations(5)
//!     .with_timeout(Duration::from_millis(100))
//!     .run(move || {
//!         n += 1;
//!         if n == 3 {
//!             std::thread::sleep(Duration::from_secs(3600));
//!         }
//!     });
//! let Err(BenchError::Timeout { iteration: 2, run, .. }) = stopped else { panic!() };
//! assert_eq!(run.iterations.len(), 2);
//! assert_eq!(run.timed_out.map(|t| t.iteration), Some(2));
//! ```

mod deadline;

use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use perfscope_report::bench::{
    BENCH_SCHEMA, BENCH_SCHEMA_1, BenchError, BenchRun, FunctionSeries, Iteration,
    IterationFigures, TimedOut,
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

    /// The longest one iteration (warm-up ones too) may take. An iteration still running
    /// when it is spent stops the run with [`BenchError::Timeout`] (see the
    /// [module](self) documentation); so does one that returned past it.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Runs the warm-up and the measured iterations of a synchronous workload, each a
    /// [`session`](crate::session). Without a timeout the iterations run on the calling thread;
    /// with one, on a worker thread of the run's own (the same for every iteration), which is
    /// left behind if an iteration overruns: the run returns at the deadline.
    ///
    /// # Errors
    /// [`BenchError::Timeout`] when an iteration ran past the timeout (its partial run kept);
    /// [`BenchError::Spawn`] when the worker thread could not be started.
    ///
    /// # Panics
    /// When the workload panics (the panic goes on from here).
    pub fn run(self, mut workload: impl FnMut() + Send + 'static) -> Result<BenchRun, BenchError> {
        let Some(timeout) = self.timeout else {
            return self.iterate(|| {
                let start = Instant::now();
                workload();
                Some(start.elapsed())
            });
        };
        let (go, iterations) = mpsc::channel::<()>();
        let (done, finished) = mpsc::channel::<Duration>();
        let worker = std::thread::Builder::new()
            .name("perfscope-bench".into())
            .spawn(move || {
                while iterations.recv().is_ok() {
                    let start = Instant::now();
                    workload();
                    if done.send(start.elapsed()).is_err() {
                        return;
                    }
                }
            })
            .map_err(BenchError::Spawn)?;
        let mut worker = Some(worker);
        let result = self.iterate(|| {
            if go.send(()).is_ok() {
                match finished.recv_timeout(timeout) {
                    Ok(elapsed) => return Some(elapsed),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // Overran: left behind, it ends when (if ever) the iteration returns
                        // and finds the run gone.
                        worker = None;
                        return None;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {}
                }
            }
            // The worker is gone: the workload panicked.
            match worker.take().map(std::thread::JoinHandle::join) {
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                _ => unreachable!("the worker only ends when the run ends or the workload panics"),
            }
        });
        drop(go);
        if let Some(worker) = worker
            && let Err(panic) = worker.join()
        {
            std::panic::resume_unwind(panic);
        }
        result
    }

    /// [`run`](Self::run) for an asynchronous workload: `workload()` makes each iteration's
    /// future, awaited here (inside the caller's runtime, so its tasks, timers and I/O are
    /// there). With a timeout, an iteration's future still pending at the deadline is dropped
    /// (at its next yield: a future that blocks its thread without yielding is stopped only
    /// when it yields or returns) and the run ends with [`BenchError::Timeout`].
    ///
    /// # Errors
    /// [`BenchError::Timeout`] when an iteration ran past the timeout (its partial run kept);
    /// [`BenchError::Spawn`] when the timer thread could not be started.
    pub async fn run_async<F, Fut>(self, mut workload: F) -> Result<BenchRun, BenchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ()>,
    {
        let timer = match self.timeout {
            Some(timeout) => Some((deadline::Timer::start().map_err(BenchError::Spawn)?, timeout)),
            None => None,
        };
        let total = self.warmup + self.iterations;
        let mut iterations = Vec::with_capacity(self.iterations as usize);
        for i in 0..total {
            let session = crate::session();
            let start = Instant::now();
            let finished = match &timer {
                None => {
                    workload().await;
                    true
                }
                Some((timer, timeout)) => timer.run(start + *timeout, workload()).await,
            };
            let elapsed = start.elapsed();
            let elapsed = finished.then_some(elapsed).ok_or(elapsed);
            self.record(i, elapsed, &session, &mut iterations)?;
        }
        Ok(self.finish(iterations, None))
    }

    /// The loop of [`run`](Self::run): `iteration()` runs one and says how long it took, or
    /// `None` when it was stopped at the timeout.
    fn iterate(
        &self,
        mut iteration: impl FnMut() -> Option<Duration>,
    ) -> Result<BenchRun, BenchError> {
        let total = self.warmup + self.iterations;
        let mut iterations = Vec::with_capacity(self.iterations as usize);
        for i in 0..total {
            let session = crate::session();
            let start = Instant::now();
            let elapsed = iteration().ok_or_else(|| start.elapsed());
            self.record(i, elapsed, &session, &mut iterations)?;
        }
        Ok(self.finish(iterations, None))
    }

    /// Keeps iteration `i` (once past the warm-up; its figures those of `session`) if it
    /// finished (`Ok`, how long it took) within the timeout; otherwise (`Err`: stopped after so long, or over the timeout)
    /// ends the run with the iterations kept so far.
    fn record(
        &self,
        i: u32,
        elapsed: Result<Duration, Duration>,
        session: &crate::Session,
        iterations: &mut Vec<Iteration>,
    ) -> Result<(), BenchError> {
        let (Ok(took) | Err(took)) = elapsed;
        if let Some(timeout) = self.timeout.filter(|t| elapsed.is_err() || took > *t) {
            let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            let timed_out =
                TimedOut { iteration: i, elapsed_ns: nanos(took), timeout_ns: nanos(timeout) };
            let run = self.finish(std::mem::take(iterations), Some(timed_out));
            return Err(BenchError::Timeout {
                iteration: i,
                elapsed: took,
                timeout,
                run: Box::new(run),
            });
        }
        if i >= self.warmup {
            let report = crate::Report::from_snapshot(&session.snapshot());
            iterations.push(Iteration::from_report(&report, took));
        }
        Ok(())
    }

    fn finish(&self, iterations: Vec<Iteration>, timed_out: Option<TimedOut>) -> BenchRun {
        BenchRun {
            schema: BENCH_SCHEMA.into(),
            name: self.name.clone(),
            warmup: self.warmup,
            iterations,
            timed_out,
        }
    }
}
