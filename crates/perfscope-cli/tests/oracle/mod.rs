//! What every reader of a saved report must do with any input, whoever wrote it: refuse it with
//! an error, or read it and then render it in every format, re-read its own JSON as itself,
//! and diff it against itself and against another report, without a panic.
//!
//! Shared by the property tests (`tests/hostile_input.rs`, `tests/report_props.rs`) and the
//! fuzz target `report_reader` (`fuzz/`), which includes this file by path: one oracle, so a
//! crash the fuzzer finds is a failing test once its input is kept.
#![allow(dead_code)]

use clap::ValueEnum;
use perfscope_cli::bench_diff::BenchDiff;
use perfscope_cli::diff::{Diff, DiffOptions, Metric};
use perfscope_cli::{render, render_bench};
use perfscope_report::Report;
use perfscope_report::bench::BenchRun;

/// A string a hostile report may carry in its names; it must never reach HTML or SVG output
/// unescaped.
pub const INJECTED_TAG: &str = "<x-inject";

/// Reads `text` as `perfscope report` and `perfscope diff` do, and when it is a report or a
/// bench file, runs every reader over it (see [`check_report`]). `other` is the second report
/// of the diffs.
pub fn check_text(text: &str, other: &Report) {
    if BenchRun::is_bench_json(text) {
        match BenchRun::from_json(text) {
            Ok(run) => check_bench(&run),
            Err(e) => assert_error_message(&e.to_string()),
        }
    }
    match Report::from_json(text) {
        Ok(report) => check_report(&report, other),
        Err(e) => assert_error_message(&e.to_string()),
    }
}

/// An error says something (the command prints it as one bounded line: `error::one_line`).
pub fn assert_error_message(message: &str) {
    assert!(!message.trim().is_empty(), "an empty error message");
}

/// Every view of `report`, its JSON read back, and its diffs with itself and with `other`.
pub fn check_report(report: &Report, other: &Report) {
    let json = report.to_json();
    match Report::from_json(&json) {
        Ok(again) => assert_eq!(&again, report, "the report's own JSON reads back differently"),
        Err(e) => panic!("the report's own JSON does not read back: {e}\n{json}"),
    }
    let _ = report.table(perfscope_report::DEFAULT_TOP).to_string();
    let _ = report.table(0).to_string();
    let html = report.to_html();
    assert!(!html.contains(INJECTED_TAG), "a name reached the HTML unescaped");
    check_folded(&report.folded());
    check_folded(&report.folded_bytes());
    for svg in [report.flamegraph_svg(), report.flamegraph_bytes_svg()] {
        match svg {
            Ok(svg) => assert!(!svg.contains(INJECTED_TAG), "a name reached the SVG unescaped"),
            Err(e) => assert_error_message(&e.to_string()),
        }
    }
    let _ = (report.caches(), report.pools(), report.queries(), report.process());
    for metric in Metric::value_variants() {
        let options = DiffOptions { metric: *metric, fail_above_pct: 10.0, min_change: 1_000 };
        let same = Diff::new(report, report, options);
        assert!(!same.failed(), "a report regressed against itself ({metric:?})");
        for diff in [same, Diff::new(other, report, options), Diff::new(report, other, options)] {
            let _ = render::table(&diff, None);
            let _ = render::markdown(&diff, Some(3));
            let _ = render::verdict(&diff);
            let json = render::json(&diff, None);
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
                panic!("the diff's JSON is not JSON: {e}\n{json}");
            }
        }
    }
}

/// Folded stacks: every line is `frame;frame;... <weight>` with a whole-number weight.
pub fn check_folded(folded: &str) {
    for line in folded.lines() {
        let Some((stack, weight)) = line.rsplit_once(' ') else {
            panic!("a folded line without a weight: {line:?}");
        };
        assert!(weight.parse::<u64>().is_ok(), "a folded weight that is not a count: {line:?}");
        assert!(!stack.is_empty(), "a folded line without frames: {line:?}");
    }
}

/// A bench file's diff with itself, in every format.
pub fn check_bench(run: &BenchRun) {
    for metric in Metric::value_variants() {
        let options = DiffOptions { metric: *metric, fail_above_pct: 10.0, min_change: 1_000 };
        let diff = BenchDiff::new(run, run, options);
        assert!(!diff.failed(), "a bench file regressed against itself ({metric:?})");
        let _ = render_bench::table(&diff, None, false);
        let _ = render_bench::table(&diff, Some(3), true);
        let _ = diff.verdict();
        let json = render_bench::json(&diff, None);
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
            panic!("the bench diff's JSON is not JSON: {e}\n{json}");
        }
    }
}
