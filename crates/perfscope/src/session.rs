//! [`Session`]: a report of just one window of time, without resetting anything.

use std::time::Duration;

use crate::{Report, Snapshot};

/// Starts a session now; see [`Session`].
pub fn session() -> Session {
    Session { start: perfscope_core::Session::start() }
}

/// A report of just one window of time — a phase, a request, a benchmark iteration — without
/// resetting anything.
///
/// ```
/// #[perfscope::measure]
/// fn step(n: u64) -> u64 {
///     (0..n).sum()
/// }
///
/// # fn main() {
/// step(1_000); // before the session: not in its report
/// let session = perfscope::session();
/// for n in 0..3 {
///     step(n);
/// }
/// let report = session.report();
/// # if cfg!(feature = "off") { return; } // nothing is measured
/// assert_eq!(report.function_by_suffix("::step").unwrap().calls, 3);
/// // The process-wide report still has everything.
/// assert_eq!(perfscope::report().function_by_suffix("::step").unwrap().calls, 4);
/// # }
/// ```
///
/// A session's figures are the difference of two readings of every thread's figures (live
/// and exited), taken when it starts and when it reports: calls, panics, self, busy and total
/// time, allocations, call edges and latency histograms (so its quantiles are the window's)
/// subtract; gauges (memory, threads, pool sizes) are read at the end; figure sources'
/// counters subtract; events and history points are those from the start on. Nothing is
/// reset: sessions nest and overlap freely, on any threads, and [`report()`](crate::report)
/// still covers the whole run. A session sees the whole process over its window, not only its
/// own thread's work. See [`perfscope_core::Session`] for what a window cannot tell exactly
/// (the max of a window whose longest call is not the longest so far is its top latency
/// bucket's, within 1%; a `reset()` during a session starts its window again there).
///
/// The start of a window of time; [`report`](Self::report) gives what happened since. Cheap
/// to keep (the figures at the start, about the size of one snapshot); `Send` and `Sync`, so
/// it may be started on one thread and read on another.
#[derive(Debug, Clone)]
pub struct Session {
    start: perfscope_core::Session,
}

impl Session {
    /// The report of what happened since the session started, on every thread; may be taken
    /// any number of times, each from the start to now. Carries the figure sources' history
    /// points of the window (the report's charts).
    pub fn report(&self) -> Report {
        Report::from_snapshot(&self.start.snapshot_with_history())
    }

    /// The snapshot of what happened since the session started (what [`report`](Self::report)
    /// is built from, without the sources' history).
    pub fn snapshot(&self) -> Snapshot {
        self.start.snapshot()
    }

    /// Time since the session started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}
