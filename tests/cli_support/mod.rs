//! What the tests of the `perfscope` command on reports of measured programs share: running
//! the command, and known work.
//!
//! They are here, not in perfscope-cli, because a measured program needs `#[measure]` and the
//! command does not: perfscope-cli depends on perfscope-report alone.

use std::time::Duration;

use clap::Parser;

/// What one run of the command gave: its exit status, its output, its error line.
pub struct Run {
    /// The process exit status `perfscope` would exit with.
    pub code: i32,
    /// What it wrote (to the `-o` file it is given here).
    pub out: String,
    /// The error line `perfscope` would print, empty on success.
    pub err: String,
}

/// Runs `perfscope ARGS -o FILE` through its library entry (the binary's `main` is only this)
/// and reads back what it wrote.
pub fn perfscope(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out_path = dir.path().join("out");
    let mut argv = vec!["perfscope"];
    argv.extend_from_slice(args);
    argv.extend(["-o", out_path.to_str().expect("a UTF-8 temp path")]);
    let cli = perfscope_cli::Cli::try_parse_from(argv).expect("a valid command line");
    let out = || std::fs::read_to_string(&out_path).unwrap_or_default();
    match perfscope_cli::run(&cli) {
        Ok(outcome) => Run { code: i32::from(outcome.exit_code()), out: out(), err: String::new() },
        Err(err) => Run {
            code: i32::from(perfscope_cli::EXIT_ERROR),
            out: out(),
            err: format!("perfscope: error: {}", perfscope_cli::error::one_line(&err.to_string())),
        },
    }
}

#[allow(dead_code)] // Not every test file that shares this module uses it.
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
