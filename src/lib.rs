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
