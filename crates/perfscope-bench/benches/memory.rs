//! Memory as a function of the number of calls, perfscope vs hotpath, in one process:
//! `cargo bench -p perfscope-bench --bench memory [-- CALLS]` (default 25,000,000 calls each). Prints resident
//! set size before and after; perfscope's stores are fixed-size per (thread, function), so its
//! growth must not depend on the number of calls: the bench fails if perfscope's RSS grows by
//! more than [`PERFSCOPE_MAX_GROWTH_MIB`] over all its calls, or at all over the second half.

use std::hint::black_box;

#[perfscope::measure]
#[inline(never)]
fn measured_by_perfscope(x: u64) -> u64 {
    black_box(x)
}

#[hotpath::measure]
#[inline(never)]
fn measured_by_hotpath(x: u64) -> u64 {
    black_box(x)
}

/// Resident set size in MiB, from /proc (Linux).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// What perfscope's resident set may grow by over all calls: its one slot (128 bytes) and the
/// histogram octaves the latencies reach (256 bytes each, at most 43) fit many times over; a
/// few bytes kept per call would not (25,000,000 calls: hundreds of MiB).
const PERFSCOPE_MAX_GROWTH_MIB: f64 = 1.0;

/// Makes `calls` calls of `f`, printing and returning the resident set size before and after.
fn run(label: &str, calls: u64, f: impl Fn(u64) -> u64) -> (f64, f64) {
    f(0);
    let before = rss_mib();
    let start = std::time::Instant::now();
    for i in 0..calls {
        f(i);
    }
    let elapsed = start.elapsed();
    let after = rss_mib();
    println!(
        "{label:<10} {calls} calls in {:.2} s ({:.1} ns/call): RSS {before:.1} MiB -> {after:.1} MiB (+{:.1} MiB)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / calls as f64,
        after - before
    );
    (before, after)
}

fn main() {
    let calls = std::env::args().skip(1).find_map(|a| a.parse::<u64>().ok()).unwrap_or(25_000_000);
    let half = calls / 2;
    let (before, middle) = run("perfscope", half, measured_by_perfscope);
    let (_, after) = run("perfscope", calls - half, measured_by_perfscope);
    let calls_seen =
        perfscope::report().function_by_suffix("::measured_by_perfscope").map_or(0, |f| f.calls);
    assert_eq!(calls_seen, calls + 2, "perfscope counted every call");
    assert!(
        after - before <= PERFSCOPE_MAX_GROWTH_MIB,
        "perfscope's RSS grew by {:.1} MiB over {calls} calls",
        after - before
    );
    assert!(
        after - middle <= PERFSCOPE_MAX_GROWTH_MIB / 4.0,
        "perfscope's RSS still grew by {:.2} MiB over the last {} calls",
        after - middle,
        calls - half
    );
    println!(
        "perfscope: RSS bound held (+{:.2} MiB, at most {PERFSCOPE_MAX_GROWTH_MIB} MiB)",
        after - before
    );
    let _hotpath = hotpath::HotpathGuardBuilder::new("memory-bench").build();
    run("hotpath", calls, measured_by_hotpath);
}
