//! The real `perfscope` binary on the fixtures in `tests/fixtures`.

use std::path::PathBuf;
use std::process::{Command, Output};

use perfscope_report::Report;

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
fn fixtures_are_schema_1_reports_read_as_current_ones() {
    for name in ["base.json", "slow_rsi.json"] {
        let json = std::fs::read_to_string(fixture(name)).expect("readable");
        assert!(json.contains("\"schema\": 1"), "{name} is a schema-1 file");
        let report = Report::from_json(&json).expect("a valid report");
        assert_eq!(report.schema, perfscope_report::SCHEMA_VERSION, "converted when read");
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

/// Runs the binary with `stdin` as standard input.
fn perfscope_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_perfscope"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("a pipe").write_all(stdin).expect("written");
    child.wait_with_output().expect("it ends")
}

/// A report of one sync function `f` with `calls` calls, `self_ns` and `alloc_bytes` in all
/// (built from JSON, so fields added to `Report` later keep their defaults).
fn one_function(calls: u64, self_ns: u64, alloc_bytes: u64) -> Report {
    let f = perfscope_report::FunctionStats {
        name: "app::f".into(),
        calls,
        total_ns: self_ns,
        self_ns,
        busy_ns: self_ns,
        mean_ns: self_ns / calls,
        allocations: calls,
        alloc_bytes,
        total_allocations: calls,
        total_alloc_bytes: alloc_bytes,
        ..perfscope_report::FunctionStats::default()
    };
    let json = serde_json::json!({
        "schema": perfscope_report::SCHEMA_VERSION,
        "elapsed_ns": 1_000_000_000u64,
        "clock": "os",
        "alloc_tracking": true,
        "functions": [f],
    });
    Report::from_json(&json.to_string()).expect("a report")
}

fn write_report(dir: &std::path::Path, name: &str, report: &Report) -> String {
    let path = dir.join(name);
    std::fs::write(&path, report.to_json()).expect("written");
    path.display().to_string()
}

#[test]
fn diff_on_alloc_bytes_uses_the_byte_floor_only() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // 1,000 B per call in both time and bytes, then 1,500 B per call (+50%, +500 B) in the
    // same time: a regression in bytes only.
    let base = write_report(dir.path(), "base.json", &one_function(100, 100_000_000, 100_000));
    let new = write_report(dir.path(), "new.json", &one_function(200, 200_000_000, 300_000));
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", &base, &new, "--metric", "alloc_bytes", "--format", "json"];
        args.extend(extra);
        perfscope(&args)
    };

    let out = diff(&[]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        (doc["metric"].as_str(), doc["unit"].as_str()),
        (Some("alloc_bytes"), Some("bytes"))
    );
    assert_eq!(doc["min_change"], 64, "the default byte floor");
    let row = &doc["rows"][0];
    assert_eq!((row["name"].as_str(), row["status"].as_str()), (Some("app::f"), Some("regressed")));
    assert_eq!((row["base"].as_f64(), row["new"].as_f64()), (Some(1_000.0), Some(1_500.0)));
    assert_eq!((row["delta"].as_f64(), row["delta_pct"].as_f64()), (Some(500.0), Some(50.0)));

    // The floor is inclusive: a change of exactly --min-bytes fails, one byte more passes.
    assert_eq!(diff(&["--min-bytes", "500"]).status.code(), Some(1));
    let out = diff(&["--min-bytes", "501"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stderr(&out).contains("OK: no function regressed by more than 10% in bytes allocated per call (changes under 501 B ignored)"), "{}", stderr(&out));
    // The time floor does not apply to bytes, nor the byte floor to time.
    assert_eq!(diff(&["--min-ns", "1000000000000"]).status.code(), Some(1));
    let out = perfscope(&["diff", &base, &new, "--min-bytes", "1000000000"]);
    assert_eq!(out.status.code(), Some(0), "same time per call: {}", stdout(&out));
    let slower = write_report(dir.path(), "slower.json", &one_function(100, 200_000_000, 100_000));
    let out = perfscope(&["diff", &base, &slower, "--min-bytes", "1000000000"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn reports_can_come_from_standard_input() {
    let json = std::fs::read(fixture("base.json")).expect("readable");
    let out = perfscope_with_stdin(&["report", "-", "--format", "json"], &json);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let original = Report::from_json(&String::from_utf8_lossy(&json)).expect("a report");
    assert_eq!(Report::from_json(&stdout(&out)).expect("a report"), original);

    let out = perfscope_with_stdin(&["diff", "-", &fx("slow_rsi.json")], &json);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("scanner::rsi (+100.0%)"), "{}", stdout(&out));

    let out = perfscope_with_stdin(&["report", "-"], b"{\"not\": \"a report\"}");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-: not a perfscope report"), "{}", stderr(&out));
}

#[test]
fn diff_to_a_file_puts_the_verdict_on_stderr() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("diff.txt");
    let path_arg = path.display().to_string();
    let out = perfscope(&["diff", &fx("base.json"), &fx("slow_rsi.json"), "-o", &path_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let verdict = "FAIL: 1 function regressed by more than 10% (and at least 1.0 µs) in self time per call: scanner::rsi (+100.0%)";
    assert_eq!(stderr(&out).trim_end(), verdict);
    let written = std::fs::read_to_string(&path).expect("written");
    let rsi = written.lines().find(|l| l.contains("scanner::rsi")).expect("a row");
    for cell in ["50.0 µs", "100.0 µs", "+50.0 µs", "+100.0%", "REGRESSED"] {
        assert!(rsi.contains(cell), "{cell} not in {rsi}");
    }
    let note = perfscope_cli::render::SINGLE_RUN_NOTE;
    assert!(written.trim_end().ends_with(&format!("{verdict}\n{note}")), "{written}");

    let out = perfscope(&["diff", &fx("base.json"), &fx("base.json"), "-o", &path_arg]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).starts_with("OK: no function regressed"), "{}", stderr(&out));
}

#[test]
fn write_errors_exit_2_and_name_the_output() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let missing = dir.path().join("no/such/dir/out.txt").display().to_string();
    let runs: [Vec<&str>; 3] = [
        vec!["report", "BASE", "-o", &missing],
        vec!["diff", "BASE", "BASE", "-o", &missing],
        vec!["flame", "BASE", "-o", &missing],
    ];
    let base = fx("base.json");
    for args in runs {
        let args: Vec<&str> =
            args.iter().map(|a| if *a == "BASE" { base.as_str() } else { a }).collect();
        let out = perfscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with(&format!("perfscope: error: cannot write {missing}: ")), "{err}");
    }
    // A full device on standard output is an error too (a closed pipe is not).
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_perfscope"))
        .args(["report", &base])
        .stdout(full)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot write -"), "{}", stderr(&out));
}

/// Function names come from files anyone may hand over: the text outputs show their control
/// characters escaped instead of sending them to the terminal (JSON escapes them itself).
#[test]
fn names_with_terminal_escapes_are_shown_escaped() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let hostile = "scanner::\\u001b]0;pwned\\u0007\\u001b[2Jrsi";
    let write = |name: &str, fixture_name: &str| {
        let json = std::fs::read_to_string(fixture(fixture_name)).expect("readable");
        let path = dir.path().join(name);
        std::fs::write(&path, json.replace("scanner::rsi", hostile)).expect("written");
        path.display().to_string()
    };
    let (base, slow) = (write("base.json", "base.json"), write("slow.json", "slow_rsi.json"));
    let control = |text: &str| text.chars().any(|c| c.is_control() && c != '\n');
    for format in ["table", "markdown"] {
        let out = perfscope(&["diff", &base, &slow, "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(!control(&stdout(&out)), "{format}: {:?}", stdout(&out));
    }
    let out = perfscope(&["diff", &base, &slow]);
    assert!(stdout(&out).contains(r"scanner::\u{1b}]0;pwned\u{7}\u{1b}[2Jrsi"), "{}", stdout(&out));
    let out = perfscope(&["diff", &base, &slow, "--format", "json"]);
    assert!(!control(&stderr(&out)), "the verdict line: {:?}", stderr(&out));
    let out = perfscope(&["report", &slow]);
    assert!(!control(&stdout(&out)), "{:?}", stdout(&out));
}

#[test]
fn diff_at_exactly_the_threshold_passes_and_just_above_fails() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // 10 µs per call, then 11 µs: +10% and +1,000 ns exactly; then 11.001 µs.
    let base = write_report(dir.path(), "base.json", &one_function(10, 100_000, 0));
    let at = write_report(dir.path(), "at.json", &one_function(10, 110_000, 0));
    let above = write_report(dir.path(), "above.json", &one_function(10, 110_010, 0));
    let code = |new: &str, extra: &[&str]| {
        let mut args = vec!["diff", &base, new, "--format", "json"];
        args.extend(extra);
        perfscope(&args).status.code()
    };
    // "Worse by more than --fail-above" fails: exactly 10% passes, 10.01% fails.
    assert_eq!(code(&at, &["--fail-above", "10%"]), Some(0));
    assert_eq!(code(&above, &["--fail-above", "10%"]), Some(1));
    assert_eq!(code(&at, &["--fail-above", "9.99%"]), Some(1));
    // "Changes smaller than --min-ns never fail": exactly 1,000 ns does.
    assert_eq!(code(&at, &["--fail-above", "5%", "--min-ns", "1000"]), Some(1));
    assert_eq!(code(&at, &["--fail-above", "5%", "--min-ns", "1001"]), Some(0));
}

/// A bench file of `n` iterations, each with one call of `app::f` taking 1 ms; stopped by its
/// timeout at iteration `n` when `timed_out`.
fn bench_file(dir: &std::path::Path, name: &str, n: usize, timed_out: bool) -> String {
    use perfscope_report::bench::{BENCH_SCHEMA, BenchRun, Iteration, IterationFigures, TimedOut};
    let f = IterationFigures {
        calls: 1,
        self_ns: 1_000_000,
        total_ns: 1_000_000,
        ..Default::default()
    };
    let iteration =
        Iteration { elapsed_ns: 1_000_000, functions: [("app::f".to_string(), f)].into() };
    let run = BenchRun {
        schema: BENCH_SCHEMA.into(),
        name: name.into(),
        warmup: 0,
        iterations: vec![iteration; n],
        timed_out: timed_out.then_some(TimedOut {
            iteration: n as u32,
            elapsed_ns: 2_000_000_000,
            timeout_ns: 2_000_000_000,
        }),
    };
    let path = dir.join(name);
    std::fs::write(&path, run.to_json()).expect("a temp file");
    path.display().to_string()
}

#[test]
fn diff_refuses_a_timed_out_bench_file_with_exit_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let base = bench_file(dir.path(), "base.bench.json", 5, false);
    let stopped = bench_file(dir.path(), "stopped.bench.json", 2, true);
    let head = bench_file(dir.path(), "head.bench.json", 5, false);
    let ok = perfscope(&["diff", &base, &head]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));

    // Either side: refused, before anything is compared.
    for (a, b) in [(&base, &stopped), (&stopped, &base)] {
        let out = perfscope(&["diff", a, b]);
        assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
        assert_eq!(stdout(&out), "", "nothing compared");
        let err = stderr(&out);
        assert_eq!(
            err.trim_end(),
            format!(
                "perfscope: error: {stopped}: a timed-out bench run (iteration 2 ran past the \
                 timeout of 2s; the run stopped with 2 measured iterations): its figures are \
                 partial, so it is not compared; rerun the benchmark to the end (a longer \
                 timeout, or fix what hangs)"
            ),
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
