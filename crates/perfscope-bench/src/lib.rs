//! perfscope's overhead benchmarks, each beside its alternatives in the same run; figures,
//! machine and commands in `BENCHMARKS.md`. This crate holds no code: its `benches/` are
//!
//! - `overhead`: `#[measure]` against two bare clock reads, `#[instrument]` + `Registry`,
//!   hotpath; perfscope's tracing layer against tracing-timing and tracing-flame;
//!   `CountingAlloc` against the system allocator;
//! - `clock`: the clock perfscope reads against `Instant`, minstant and quanta;
//! - `memory`: resident memory against the number of calls, perfscope against hotpath.
//!
//! ```text
//! cargo bench -p perfscope-bench --bench overhead
//! ```
//!
//! The peers are this crate's dev-dependencies only, so the examples and the tests of the
//! rest of the workspace never build them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
