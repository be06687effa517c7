//! A workload whose figures the test knows: calls spinning 3 ms (between the 2.5 ms and 5 ms
//! latency buckets), each allocating 1,000 bytes once, a function panicking on a known share
//! of its calls, and a parent spinning 2 ms of its own around a child spinning 3 ms (so its
//! self time is not its busy time). The test times every call itself, so bounds come from
//! what happened (a call preempted past 5 ms on a loaded machine is counted as such), not
//! from hopes.

use std::time::{Duration, Instant};

/// How long each call spins.
pub const SPIN: Duration = Duration::from_millis(3);
/// How long [`parent`] spins itself, half before and half after its child's call.
pub const PARENT_OWN: Duration = Duration::from_millis(2);
/// Bytes each call allocates, in one allocation.
pub const BYTES_PER_CALL: usize = 1000;

/// What the test measured of one run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Known {
    /// Calls of [`spin`].
    pub calls: u64,
    /// Their durations, summed, as timed around each call (seconds).
    pub seconds: f64,
    /// Calls that took longer than 4.9 ms (preempted): they may land above the 5 ms bucket.
    pub slow: u64,
    /// Calls of [`fail_on_fifth`], and how many of them panicked.
    pub fail_calls: u64,
    pub panics: u64,
    /// Calls of [`parent`]; their durations summed as timed around each call, and their
    /// child's, as timed around the child's call inside the parent (seconds).
    pub parent_calls: u64,
    pub parent_seconds: f64,
    pub child_seconds: f64,
}

/// Bounds on a figure in seconds, `(at least, at most)`.
pub type Bounds = (f64, f64);

impl Known {
    /// `spin`'s time: at least what its calls spun inside their frames, at most what the test
    /// timed around them (however loaded the machine: a preempted call is longer in both).
    pub fn spin_bounds(&self) -> Bounds {
        (self.calls as f64 * SPIN.as_secs_f64(), self.seconds)
    }

    /// `parent`'s busy time: its own spinning and its child's, at most what the test timed.
    pub fn parent_busy_bounds(&self) -> Bounds {
        let spun = self.parent_calls as f64 * (PARENT_OWN + SPIN).as_secs_f64();
        (spun, self.parent_seconds)
    }

    /// `parent`'s self time: at least its own spinning, at most its calls' time without what
    /// its child spun.
    pub fn parent_self_bounds(&self) -> Bounds {
        let calls = self.parent_calls as f64;
        let child_spun = calls * SPIN.as_secs_f64();
        (calls * PARENT_OWN.as_secs_f64(), self.parent_seconds - child_spun)
    }

    /// `child`'s time: at least what it spun, at most what the parent timed around it.
    pub fn child_bounds(&self) -> Bounds {
        (self.parent_calls as f64 * SPIN.as_secs_f64(), self.child_seconds)
    }
}

/// Whether `value` is within `bounds`, each widened by `precision` (a share: 0.01 covers the
/// latency histogram's buckets and the clock's conversion of ticks to seconds).
pub fn within(value: f64, (low, high): Bounds, precision: f64) -> bool {
    value >= low * (1.0 - precision) && value <= high * (1.0 + precision)
}

fn spin_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// Spins for [`SPIN`] holding one allocation of [`BYTES_PER_CALL`] bytes.
#[perfscope::measure]
pub fn spin() -> usize {
    let buffer = std::hint::black_box(Vec::<u8>::with_capacity(BYTES_PER_CALL));
    spin_for(SPIN);
    buffer.capacity()
}

/// Spins [`PARENT_OWN`] around a call of [`child`]; returns the child's call's duration, timed
/// around it.
#[perfscope::measure]
pub fn parent() -> Duration {
    spin_for(PARENT_OWN / 2);
    let start = Instant::now();
    child();
    let child = start.elapsed();
    spin_for(PARENT_OWN / 2);
    child
}

/// Spins for [`SPIN`], called by [`parent`] only.
#[perfscope::measure]
pub fn child() {
    spin_for(SPIN);
}

/// Panics when `i` is a multiple of 5.
#[perfscope::measure]
pub fn fail_on_fifth(i: u64) -> u64 {
    assert!(!i.is_multiple_of(5), "planned failure");
    i
}

/// `spin`'s exported `function` label.
pub fn spin_name() -> String {
    format!("{}::spin", module_path!())
}

/// `parent`'s and `child`'s exported `function` labels.
pub fn parent_and_child_names() -> (String, String) {
    (format!("{}::parent", module_path!()), format!("{}::child", module_path!()))
}

/// `fail_on_fifth`'s exported `function` label.
pub fn fail_name() -> String {
    format!("{}::fail_on_fifth", module_path!())
}

/// Runs `calls` calls of each function, timing them; adds to `known`.
pub fn run(calls: u64, known: &mut Known) {
    for _ in 0..calls {
        let start = Instant::now();
        std::hint::black_box(spin());
        let took = start.elapsed();
        known.calls += 1;
        known.seconds += took.as_secs_f64();
        known.slow += u64::from(took > Duration::from_micros(4900));
    }
    for _ in 0..calls {
        let i = known.fail_calls;
        known.fail_calls += 1;
        if std::panic::catch_unwind(|| fail_on_fifth(i)).is_err() {
            known.panics += 1;
        }
    }
    for _ in 0..calls {
        let start = Instant::now();
        let child = parent();
        known.parent_seconds += start.elapsed().as_secs_f64();
        known.child_seconds += child.as_secs_f64();
        known.parent_calls += 1;
    }
}
