//! Scaling: what a `#[measure]` call costs with 1, 2, 4, 8 and 16 threads calling in a tight
//! loop, (a) all the same function and (b) each its own, beside the same bare functions in the
//! same run: `cargo bench -p perfscope-bench --bench scaling [-- ROUNDS [MILLISECONDS]]` (default
//! 7 rounds; each thread of a run calls for about 40 ms of CPU time, the number of calls set
//! per row from a one-thread calibration). Figures and machine in BENCHMARKS.md ("Scaling").
//!
//! A call's cost is the CPU time of the calling threads (each thread's own
//! `CLOCK_THREAD_CPUTIME_ID`) over the calls made: with more threads than cores, threads take
//! turns and wall time says nothing per call, but a thread's CPU time still counts only what it
//! spent running. Wall time (first thread's start to last thread's end) × min(threads, cores) /
//! calls is printed beside it as a check; other processes on the machine inflate it, not the
//! CPU time.
//!
//! If the hot path wrote a cache line that another thread also writes, (a) would cost more than
//! (b) as soon as two threads run at once (two or more threads on two or more cores), and both
//! would grow from 1 thread to 2. Two control rows show the size of that effect on this
//! machine: a bare call that also stores to one counter every thread shares, and one that
//! stores to a counter on the thread's own cache line. Rows are run in rounds, every row once
//! per round, in an order that alternates from round to round; the median over rounds is
//! printed, with its min–max.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Sixteen `#[measure]` functions and sixteen bare twins with the same body, as tables of
/// function pointers (the bare row pays the same indirect call).
macro_rules! functions {
    ($($measured:ident $plain:ident),* $(,)?) => {
        $(
            #[perfscope::measure]
            #[inline(never)]
            fn $measured(x: u64) -> u64 {
                black_box(x)
            }

            #[inline(never)]
            fn $plain(x: u64) -> u64 {
                black_box(x)
            }
        )*
        const MEASURED: [fn(u64) -> u64; 16] = [$($measured),*];
        const PLAIN: [fn(u64) -> u64; 16] = [$($plain),*];
    };
}

functions!(
    measured_00 plain_00, measured_01 plain_01, measured_02 plain_02, measured_03 plain_03,
    measured_04 plain_04, measured_05 plain_05, measured_06 plain_06, measured_07 plain_07,
    measured_08 plain_08, measured_09 plain_09, measured_10 plain_10, measured_11 plain_11,
    measured_12 plain_12, measured_13 plain_13, measured_14 plain_14, measured_15 plain_15,
);

/// Counters on cache lines of their own (128 bytes: adjacent-line prefetch pairs lines).
#[repr(align(128))]
struct Line(AtomicU64);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Line = Line(AtomicU64::new(0));
/// The control rows' counters: `LINES[0]` shared by every thread, `LINES[1 + i]` thread `i`'s.
static LINES: [Line; 17] = [ZERO; 17];

/// A bare call and a relaxed `load + store` (what a single-writer counter does) on `line`.
/// `last` is what this thread stored last; returns 1 when the load finds another thread's
/// store instead (the threads ran at once, or one was switched in for the other), else 0.
#[inline(never)]
fn plain_and_store(line: &AtomicU64, last: &mut u64, x: u64) -> u64 {
    let seen = line.load(Relaxed);
    let other = u64::from(seen != *last);
    *last = seen.wrapping_add(1);
    line.store(*last, Relaxed);
    black_box(x);
    other
}

const THREADS: [usize; 5] = [1, 2, 4, 8, 16];

/// What the threads of a row call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Plain,
    Measured,
    /// Control: a bare call storing to one counter all threads share.
    SharedStore,
    /// Control: a bare call storing to the thread's own counter.
    OwnStore,
}

/// Which function thread `i` of `n` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Same,
    Different,
}

const ROWS: [(Row, &str); 4] = [
    (Row::Plain, "bare fn (baseline)"),
    (Row::Measured, "#[measure] fn"),
    (Row::SharedStore, "control: bare fn + store to a shared line"),
    (Row::OwnStore, "control: bare fn + store to its own line"),
];

/// The calling thread's CPU time, ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a valid pointer to a timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// One run: `threads` threads each make `calls` calls at once. Returns (CPU ns of all the
/// threads, wall ns from the first thread's start to the last one's end, control rows: the
/// calls that found another thread's store on the line).
fn run(row: Row, target: Target, threads: usize, calls: u64) -> (u64, u64, u64) {
    let barrier = Arc::new(Barrier::new(threads));
    let origin = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let barrier = barrier.clone();
            let index = if target == Target::Same { 0 } else { i };
            std::thread::spawn(move || {
                let (measured, plain) = (MEASURED[index], PLAIN[index]);
                let line = if row == Row::OwnStore { &LINES[1 + i].0 } else { &LINES[0].0 };
                let (mut last, others) = (line.load(Relaxed), std::cell::Cell::new(0u64));
                let mut call = |x: u64| match row {
                    Row::Plain => plain(x),
                    Row::Measured => measured(x),
                    Row::SharedStore | Row::OwnStore => {
                        others.set(others.get() + plain_and_store(line, &mut last, x));
                        x
                    }
                };
                // The thread's store and the callsite are registered before the clock starts.
                call(0);
                barrier.wait();
                others.set(0);
                let (started, start) = (origin.elapsed(), thread_cpu_ns());
                let mut sum = 0u64;
                for x in 0..calls {
                    sum = sum.wrapping_add(call(black_box(x)));
                }
                black_box(sum);
                let cpu = thread_cpu_ns() - start;
                (cpu, started, origin.elapsed(), others.get())
            })
        })
        .collect();
    let (mut cpu, mut first, mut last, mut others) = (0, Duration::MAX, Duration::ZERO, 0);
    for handle in handles {
        let (ns, started, ended, seen) = handle.join().expect("a bench thread");
        cpu += ns;
        first = first.min(started);
        last = last.max(ended);
        others += seen;
    }
    (cpu, last.saturating_sub(first).as_nanos() as u64, others)
}

/// The median, min and max of `values` (not empty).
fn median_min_max(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    (median, values[0], values[n - 1])
}

fn main() {
    let mut numbers = std::env::args().skip(1).filter_map(|a| a.parse::<u64>().ok());
    let rounds = numbers.next().unwrap_or(7).max(1) as usize;
    let target_ns = numbers.next().unwrap_or(40).max(1) * 1_000_000;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // Calls per thread per run, per row: about `target_ns` of CPU time on one thread.
    let calls_of: Vec<(Row, u64)> = ROWS
        .iter()
        .map(|&(row, _)| {
            let probe = 1_000_000;
            let (cpu, _, _) = run(row, Target::Same, 1, probe);
            (row, (target_ns as f64 / (cpu as f64 / probe as f64)) as u64)
        })
        .collect();
    let calls = |row: Row| calls_of.iter().find(|(r, _)| *r == row).map_or(1, |(_, n)| *n);
    println!(
        "scaling: {rounds} rounds, about {} ms of CPU per thread per run ({}), {cores} cores available",
        target_ns / 1_000_000,
        ROWS.iter()
            .map(|&(row, label)| format!("{label}: {} calls", calls(row)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let configs: Vec<(Row, Target, usize)> = ROWS
        .iter()
        .flat_map(|&(row, _)| {
            [Target::Same, Target::Different]
                .into_iter()
                .flat_map(move |target| THREADS.iter().map(move |&n| (row, target, n)))
        })
        // With one thread, "same" and "different" are one configuration; the controls only
        // differ where two threads run.
        .filter(|&(_, target, n)| !(n == 1 && target == Target::Different))
        .filter(|&(row, target, _)| {
            !matches!(row, Row::SharedStore | Row::OwnStore) || target == Target::Same
        })
        .collect();
    // Per configuration: ns per call from CPU time, and from wall × min(threads, cores).
    let mut cpu_per_call = vec![Vec::new(); configs.len()];
    let mut wall_per_call = vec![Vec::new(); configs.len()];
    let mut others_per_call = vec![Vec::new(); configs.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..configs.len()).collect()
        } else {
            (0..configs.len()).rev().collect()
        };
        for i in order {
            let (row, target, threads) = configs[i];
            let (cpu, wall, others) = run(row, target, threads, calls(row));
            let total = (calls(row) * threads as u64) as f64;
            others_per_call[i].push(others as f64 / total);
            cpu_per_call[i].push(cpu as f64 / total);
            wall_per_call[i].push(wall as f64 * threads.min(cores) as f64 / total);
        }
    }
    // Every measured call was counted, on every thread: nothing traded for speed.
    let report = perfscope::report();
    let counted: u64 = report
        .functions
        .iter()
        .filter(|f| f.name.rsplit("::").next().is_some_and(|n| n.starts_with("measured_")))
        .map(|f| f.calls)
        .sum();
    let expected: u64 = configs
        .iter()
        .filter(|(row, ..)| *row == Row::Measured)
        .map(|&(_, _, n)| (calls(Row::Measured) + 1) * n as u64 * rounds as u64)
        .sum::<u64>()
        // The calibration's calls and its warm-up call.
        + 1_000_001;
    assert_eq!(counted, expected, "perfscope counted every measured call");

    println!();
    println!(
        "| row | function | threads | CPU ns/call, median (min–max) | wall × min(threads, cores) ns/call, median | control: calls that found another thread's store, median (max) |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    let mut medians = Vec::with_capacity(configs.len());
    for (i, &(row, target, threads)) in configs.iter().enumerate() {
        let (median, min, max) = median_min_max(&mut cpu_per_call[i]);
        let (wall, _, _) = median_min_max(&mut wall_per_call[i]);
        let (others, _, most) = median_min_max(&mut others_per_call[i]);
        let others = if matches!(row, Row::SharedStore | Row::OwnStore) {
            format!("{:.2}% ({:.2}%)", others * 100.0, most * 100.0)
        } else {
            String::new()
        };
        medians.push(median);
        let label = ROWS.iter().find(|(r, _)| *r == row).map_or("", |(_, l)| l);
        let target = match (target, threads) {
            (_, 1) => "one",
            (Target::Same, _) => "same",
            (Target::Different, _) => "one each",
        };
        println!(
            "| {label} | {target} | {threads} | {median:.2} ({min:.2}–{max:.2}) | {wall:.2} | {others} |"
        );
    }
    // What `#[measure]` adds per call, per thread count: measured minus bare, same targets.
    let median_of = |row: Row, target: Target, threads: usize| {
        let target = if threads == 1 { Target::Same } else { target };
        configs.iter().position(|&c| c == (row, target, threads)).map_or(f64::NAN, |i| medians[i])
    };
    println!();
    println!(
        "| threads | added by #[measure], same fn (ns/call) | added, one fn each (ns/call) | same / one each |"
    );
    println!("|---:|---:|---:|---:|");
    for &n in &THREADS {
        let same =
            median_of(Row::Measured, Target::Same, n) - median_of(Row::Plain, Target::Same, n);
        let each = median_of(Row::Measured, Target::Different, n)
            - median_of(Row::Plain, Target::Different, n);
        println!("| {n} | {same:.2} | {each:.2} | {:.2} |", same / each);
    }
}
