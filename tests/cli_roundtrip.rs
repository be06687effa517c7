//! Reports written by a measured program (`report_on_exit().json(..)`), read back by the
//! `perfscope report` and `perfscope diff` commands: the CLI's own fixtures are hand-written, these
//! are not. One test, since it resets perfscope between its two runs.

mod cli_support;

use std::path::Path;
use std::time::Duration;

use cli_support::{perfscope, work};
use perfscope::Report;

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

#[perfscope::measure]
fn steady() {
    work(Duration::from_millis(1));
}

/// `factor` ms of work and `factor` KiB allocated per call.
#[perfscope::measure]
fn slowed(factor: u32) {
    std::hint::black_box(Vec::<u8>::with_capacity(factor as usize * 1024));
    work(Duration::from_millis(u64::from(factor)));
}

#[perfscope::measure]
fn run(factor: u32) {
    for _ in 0..20 {
        steady();
        slowed(factor);
    }
}

/// One "program run" writing its report to `path` on exit.
fn program(path: &Path, factor: u32) {
    perfscope::reset();
    let _report = perfscope::report_on_exit().quiet().json(path);
    run(factor);
}

#[test]
fn reports_saved_on_exit_are_read_back_by_report_and_diff() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (base_path, slow_path) = (dir.path().join("base.json"), dir.path().join("slow.json"));
    program(&base_path, 1);
    program(&slow_path, 8);
    let (base, slow) = (base_path.display().to_string(), slow_path.display().to_string());

    let saved =
        Report::from_json(&std::fs::read_to_string(&base_path).expect("saved")).expect("a report");
    let slowed = saved.function_by_suffix("::slowed").expect("measured");
    assert_eq!((slowed.calls, slowed.alloc_bytes), (20, 20 * 1024));
    assert_eq!(saved.function_by_suffix("::run").expect("measured").children.len(), 2);

    // `report --format json` gives back the same report.
    let out = perfscope(&["report", &base, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(Report::from_json(&out.out).expect("a report"), saved);
    // The table names the functions with their call counts.
    let out = perfscope(&["report", &base]);
    let table = out.out;
    let row = table.lines().find(|l| l.contains("cli_roundtrip::slowed")).expect("a slowed row");
    assert!(row.contains(" 20 "), "{row}");
    // Folded stacks nest the real call tree.
    let out = perfscope(&["report", &base, "--format", "folded"]);
    assert!(out.out.contains("cli_roundtrip::run;cli_roundtrip::slowed "), "{}", out.out);

    // A run against itself passes; 8x the work per call fails and names the function (a loaded
    // machine stretches both runs' calls alike: see `support::work`).
    assert_eq!(perfscope(&["diff", &base, &base]).code, 0);
    let out = perfscope(&["diff", &base, &slow, "--fail-above", "100%", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.out);
    let doc: serde_json::Value = serde_json::from_str(&out.out).expect("JSON");
    let regressions: Vec<&str> =
        doc["regressions"].as_array().expect("a list").iter().filter_map(|v| v.as_str()).collect();
    assert!(regressions.contains(&"cli_roundtrip::slowed"), "{regressions:?}");
    // In bytes the figures are exact: 1 KiB then 8 KiB per call.
    let out = perfscope(&["diff", &base, &slow, "--metric", "alloc_bytes", "--format", "json"]);
    assert_eq!(out.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out.out).expect("JSON");
    let row =
        doc["rows"].as_array().expect("rows").iter().find(|r| r["name"] == "cli_roundtrip::slowed");
    let row = row.expect("a slowed row");
    assert_eq!((row["base"].as_f64(), row["new"].as_f64()), (Some(1024.0), Some(8192.0)));
    assert_eq!(row["status"], "regressed");
}
