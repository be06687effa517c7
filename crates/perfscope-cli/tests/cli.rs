//! The real `perfscope` binary on the fixtures in `tests/fixtures`.

use std::path::PathBuf;
use std::process::{Command, Output};

use perfscope::Report;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn perfscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfscope")).args(args).output().expect("the binary runs")
}

fn fx(name: &str) -> String {
    fixture(name).display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn fixtures_are_schema_1_reports() {
    for name in ["base.json", "slow_rsi.json"] {
        let json = std::fs::read_to_string(fixture(name)).expect("readable");
        let report = Report::from_json(&json).expect("a valid report");
        assert_eq!(report.schema, 1);
        assert!(report.function("scanner::rsi").is_some());
    }
}

#[test]
fn diff_of_equal_runs_exits_0() {
    let out = perfscope(&["diff", &fx("base.json"), &fx("base.json")]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("OK: no function regressed"), "{}", stdout(&out));
}

#[test]
fn diff_exits_1_on_a_2x_slowdown_and_names_the_function() {
    let out = perfscope(&["diff", &fx("base.json"), &fx("slow_rsi.json")]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL: 1 function regressed"), "{text}");
    assert!(text.contains("scanner::rsi (+100.0%)"), "{text}");
    // The regression is the first row of the table.
    let first_row = text.lines().find(|l| l.contains("scanner::")).expect("a row");
    assert!(first_row.contains("scanner::rsi") && first_row.contains("REGRESSED"), "{text}");
}

#[test]
fn diff_improvement_and_generous_threshold_pass() {
    let out = perfscope(&["diff", &fx("slow_rsi.json"), &fx("base.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = perfscope(&["diff", &fx("base.json"), &fx("slow_rsi.json"), "--fail-above", "150%"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // rsi's 50 µs per call doubling is under a 100 µs floor.
    let out = perfscope(&["diff", &fx("base.json"), &fx("slow_rsi.json"), "--min-ns", "100000"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn diff_on_total_time_flags_the_callers_too() {
    let out = perfscope(&[
        "diff",
        &fx("base.json"),
        &fx("slow_rsi.json"),
        "--metric",
        "total",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["metric"], "total");
    assert_eq!(doc["failed"], true);
    let regressions: Vec<&str> = doc["regressions"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    // rsi +100%, analyze +29% (its rsi calls), run +20% (one call, all of it inclusive).
    assert_eq!(regressions, ["scanner::rsi", "scanner::analyze", "scanner::run"]);
    assert!(stderr(&out).contains("FAIL"), "the verdict goes to stderr");
}

#[test]
fn diff_markdown_is_a_pr_comment() {
    let out = perfscope(&["diff", &fx("base.json"), &fx("slow_rsi.json"), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(md.starts_with("### perfscope diff: self time per call"), "{md}");
    assert!(md.contains(":x: **1 regression**"), "{md}");
    assert!(md.contains("|---|--:|--:|--:|--:|---|"), "{md}");
    assert!(
        md.contains("| `scanner::rsi` | 50.0 µs | 100.0 µs | +50.0 µs | +100.0% | :x: regressed |"),
        "{md}"
    );
}

#[test]
fn diff_exits_2_on_bad_input() {
    let cases = [
        (fx("not_a_report.json"), "not a perfscope report"),
        (fx("schema_99.json"), "report schema 99 is not supported"),
        (fx("missing.json"), "cannot read"),
    ];
    for (bad, message) in cases {
        let out = perfscope(&["diff", &fx("base.json"), &bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(message) && err.contains(&bad), "{err}");
        assert!(stdout(&out).is_empty());
    }
    // Usage errors too.
    let out = perfscope(&["diff", &fx("base.json")]);
    assert_eq!(out.status.code(), Some(2));
    let out = perfscope(&["diff", &fx("base.json"), &fx("base.json"), "--fail-above", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a percentage"), "{}", stderr(&out));
}

#[test]
fn report_json_round_trips() {
    let out = perfscope(&["report", &fx("base.json"), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let original = std::fs::read_to_string(fixture("base.json")).expect("readable");
    let original = Report::from_json(&original).expect("a report");
    let echoed = Report::from_json(&stdout(&out)).expect("the output is a report");
    assert_eq!(echoed, original);
}

#[test]
fn report_table_and_folded() {
    let out = perfscope(&["report", &fx("base.json"), "--top", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let table = stdout(&out);
    assert!(table.contains("scanner::sma") && table.contains("(top 2 by self time)"), "{table}");
    assert!(!table.contains("scanner::run"), "{table}");

    let out = perfscope(&["report", &fx("base.json"), "--format", "folded"]);
    let folded = stdout(&out);
    assert!(folded.contains("scanner::run;scanner::analyze;scanner::rsi 20000000\n"), "{folded}");
    let total: u64 = folded.lines().filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok()).sum();
    assert_eq!(total, 100_000_000, "Σ self of the fixture");

    let out = perfscope(&["report", &fx("base.json"), "--format", "folded-bytes"]);
    assert!(stdout(&out).contains("scanner::run;scanner::fetch;scanner::parse 800000\n"));
}

#[test]
fn report_html_is_one_self_contained_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("report.html");
    let out = perfscope(&[
        "report",
        &fx("base.json"),
        "--format",
        "html",
        "-o",
        &path.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "everything went to the file");
    let files: Vec<_> = std::fs::read_dir(dir.path()).expect("listable").collect();
    assert_eq!(files.len(), 1, "one file, no side assets");

    let html = std::fs::read_to_string(&path).expect("written");
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let mut elements = 0;
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        elements += 1;
        assert!(
            !matches!(el.name(), "link" | "img" | "iframe" | "object" | "embed" | "image"),
            "<{}> loads a resource",
            el.name()
        );
        for (attr, value) in el.attrs() {
            assert!(
                !matches!(attr, "src" | "href" | "xlink:href" | "srcset" | "data"),
                "<{} {attr}={value}>",
                el.name()
            );
            assert!(!value.contains("://"), "<{} {attr}={value}>", el.name());
        }
    }
    assert!(elements > 100, "a real page: {elements} elements");
    let rows = scraper::Selector::parse("#ps-hotspots tbody tr").expect("a selector");
    assert_eq!(doc.select(&rows).count(), 7);
    let alloc = scraper::Selector::parse("#ps-hotspots th").expect("a selector");
    assert!(doc.select(&alloc).any(|th| th.text().any(|t| t == "alloc total")));
}

#[test]
fn flame_writes_a_valid_svg() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (extra, title) in [(None, "self time"), (Some("--bytes"), "allocated bytes")] {
        let path = dir.path().join("out.svg");
        let path_arg = path.display().to_string();
        let mut args = vec!["flame", "-o", &path_arg];
        let base = fx("base.json");
        args.push(&base);
        args.extend(extra);
        let out = perfscope(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let svg = std::fs::read_to_string(&path).expect("written");
        let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
        let doc = roxmltree::Document::parse_with_options(&svg, options).expect("valid XML");
        assert!(doc.root_element().has_tag_name("svg"));
        assert!(svg.contains(title), "{title}");
        // all, run, analyze, fetch, sma, rsi, parse: 7 frames (analyze itself allocates
        // nothing, but its callees do, so it is a frame in both graphs).
        let groups = doc.descendants().filter(|n| n.has_tag_name("g")).count();
        assert_eq!(groups, 7);
    }
}

#[test]
fn flame_of_an_empty_report_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"schema":1,"elapsed_ns":0,"clock":"os","functions":[]}"#)
        .expect("written");
    let out_path = dir.path().join("out.svg");
    let out =
        perfscope(&["flame", &empty.display().to_string(), "-o", &out_path.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to draw"), "{}", stderr(&out));
    assert!(!out_path.exists());
}
