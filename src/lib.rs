//! Shared helpers for perfscope's examples, integration tests and benchmarks (not published).

use std::time::{Duration, Instant};

/// Busy-waits for `duration` on the calling thread: CPU time a profiler must attribute as
/// busy (unlike a sleep).
pub fn spin_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// The entry of `report` whose name ends with `suffix` (e.g. `"::parse"`); panics with the
/// whole table when there is none.
pub fn stats_in(report: &perfscope::Report, suffix: &str) -> perfscope::FunctionStats {
    report
        .function_by_suffix(suffix)
        .unwrap_or_else(|| panic!("{suffix} not in report:\n{report}"))
        .clone()
}

/// [`stats_in`] of a report taken now.
pub fn stats(suffix: &str) -> perfscope::FunctionStats {
    stats_in(&perfscope::report(), suffix)
}
