//! Memory as a function of the number of calls, perfscope vs hotpath, in one process:
//! `cargo bench --bench memory [-- CALLS]` (default 25,000,000 calls each). Prints resident
//! set size before and after; perfscope's stores are fixed-size per (thread, function), so its
//! growth must not depend on the number of calls.

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

fn run(label: &str, calls: u64, f: impl Fn(u64) -> u64) {
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
}

fn main() {
    let calls = std::env::args().skip(1).find_map(|a| a.parse::<u64>().ok()).unwrap_or(25_000_000);
    run("perfscope", calls, measured_by_perfscope);
    let calls_seen =
        perfscope::report().function_by_suffix("::measured_by_perfscope").map_or(0, |f| f.calls);
    assert_eq!(calls_seen, calls + 1, "perfscope counted every call");
    let _hotpath = hotpath::HotpathGuardBuilder::new("memory-bench").build();
    run("hotpath", calls, measured_by_hotpath);
}
