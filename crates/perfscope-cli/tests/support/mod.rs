//! What the timing tests share.

use std::time::Duration;

/// Works until this thread has spent `cpu` of processor time. A test comparing per-call times
/// needs work, not a wall-clock wait: on a loaded machine a spin on the wall clock lasts its
/// duration plus any preemption whatever its length (1 ms + 20 ms vs 8 ms + 20 ms is no
/// longer 8×), while a fixed amount of work is stretched in proportion to the share of the
/// core the thread gets, so ratios between calls survive the load.
pub fn work(cpu: Duration) {
    let start = thread_cpu();
    while thread_cpu() - start < cpu {
        std::hint::spin_loop();
    }
}

/// This thread's processor time so far.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux knows.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0;
    assert!(!failed, "CLOCK_THREAD_CPUTIME_ID is readable");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
