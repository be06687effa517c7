//! The report fits where it is read. In a real terminal (tmux) 80, 100 and 120 columns wide,
//! the main job's report and `perfscope report` have no line longer than the terminal, keep
//! the hotspot columns that matter most and name the ones they left out; not on a terminal,
//! the table has every column. In a browser window 1280 px wide (headless Chromium) the main
//! job's HTML page does not overflow sideways, and a CPU near 100% is drawn on a 0–100% axis
//! (zoomed to its own range when the reader asks).

// Shared with live_top.rs, which uses the live tmux helpers.
#[allow(dead_code)]
mod screens;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use perfscope::{FigureUnit, Report, SeriesStats};
use screens::{Tmux, built, chromium_probe};
use unicode_width::UnicodeWidthStr;

const WIDTHS: [u16; 3] = [80, 100, 120];
/// The hotspot columns every fitted table keeps.
const KEPT: [&str; 6] = ["function", "calls", "self", "self %", "total", "p99"];

fn scanner() -> std::path::PathBuf {
    built("examples/market_scanner", &["examples/market_scanner", "crates/perfscope-report/src"])
}

fn perfscope_command() -> std::path::PathBuf {
    built("perfscope", &["crates/perfscope-cli/src", "crates/perfscope-report/src"])
}

/// A shell word.
fn quoted(path: &std::path::Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The report's lines in `screen`: from its first line (`perfscope hotspots: ...`) on, up to
/// the first line that is not the report's.
fn report_lines(screen: &str) -> Vec<&str> {
    let start =
        screen.find("perfscope hotspots:").unwrap_or_else(|| panic!("no report:\n{screen}"));
    let lines = screen[start..].lines().map(str::trim_end);
    // The scanner's index hints follow its report; a test's harness, its verdict.
    let theirs = |line: &&str| line.starts_with("index hint") || *line == "ok";
    lines.take_while(|line| !theirs(line)).filter(|l| !l.is_empty()).collect()
}

/// Checks one fitted report `columns` wide, as a terminal showed it.
fn assert_fits(screen: &str, columns: u16, how_to_widen: &str) {
    let lines = report_lines(screen);
    for line in &lines {
        assert!(line.width() <= usize::from(columns), "longer than {columns}: {line:?}\n{screen}");
    }
    let header: Vec<&str> = lines[2].split(['│', '┆']).map(str::trim).collect();
    for kept in KEPT {
        assert!(header.contains(&kept), "{columns} columns: no `{kept}` column in {header:?}");
    }
    // The scanner's notes (async idle times) make the full table ~270 columns wide: some
    // columns are left out at every width here, and named.
    let note =
        lines.iter().position(|l| l.starts_with(&format!("left out to fit {columns} columns:")));
    let note = lines[note.unwrap_or_else(|| panic!("no left-out line:\n{screen}"))..].join(" ");
    let note = note.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(note.contains("notes") && !header.contains(&"notes"), "{note}");
    assert!(note.contains(how_to_widen), "{note}");
}

#[test]
fn the_main_jobs_report_fits_80_100_and_120_columns() {
    let scanner = quoted(&scanner());
    let tmux = Tmux::new("scanner");
    let command = format!("env -u PERFSCOPE_TABLE {scanner} --duration 2s --metrics-addr none");
    for columns in WIDTHS {
        tmux.run(&format!("w{columns}"), columns, &command);
    }
    for columns in WIDTHS {
        let screen = tmux.output(&format!("w{columns}"), Duration::from_secs(180));
        assert_fits(&screen, columns, "PERFSCOPE_TABLE=wide");
    }
}

#[test]
fn perfscope_report_fits_80_100_and_120_columns_and_wide_has_every_column() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("run.json");
    let status = Command::new(scanner())
        .args(["--duration", "1s", "--metrics-addr", "none", "--report", "json", "--out"])
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the scanner runs");
    assert!(status.success());
    let (command, json) = (quoted(&perfscope_command()), quoted(&json));
    let tmux = Tmux::new("cli");
    for columns in WIDTHS {
        let line = format!("env -u PERFSCOPE_TABLE {command} report {json}");
        tmux.run(&format!("w{columns}"), columns, &line);
    }
    tmux.run("wide", 100, &format!("{command} report --wide {json}"));
    tmux.run("env", 100, &format!("PERFSCOPE_TABLE=wide {command} report {json}"));
    for columns in WIDTHS {
        let screen = tmux.output(&format!("w{columns}"), Duration::from_secs(60));
        assert_fits(&screen, columns, "`perfscope report --wide`");
    }
    // Asked for every column: the same table as in a file, lines as long as they are.
    let in_a_file = Command::new(perfscope_command())
        .args(["report"])
        .arg(dir.path().join("run.json"))
        .output();
    let in_a_file = String::from_utf8(in_a_file.expect("perfscope runs").stdout).expect("UTF-8");
    assert!(in_a_file.contains("┆ notes") && !in_a_file.contains("left out"), "{in_a_file}");
    for session in ["wide", "env"] {
        let screen = tmux.output(session, Duration::from_secs(60));
        let shown: Vec<&str> = report_lines(&screen);
        let expected: Vec<&str> =
            in_a_file.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
        assert_eq!(shown, expected, "{session}");
    }
}

/// Set in the child process of `report_on_exit_fits_the_terminal_of_stderr`: `fit` or `wide`.
const GUARD_CHILD: &str = "PERFSCOPE_REPORT_FIT_CHILD";

#[perfscope::measure]
fn rank_every_signal_of_the_round_by_strength() -> u64 {
    (0..2_000u64).map(std::hint::black_box).sum()
}

#[perfscope::measure]
fn fold_the_ticks_into_one_minute_candles() -> u64 {
    (0..500u64).map(|i| std::hint::black_box(i * 3)).sum::<u64>()
        + rank_every_signal_of_the_round_by_strength()
}

/// `report_on_exit()` prints on standard error: fitted to its terminal, or with every
/// column after `.wide()`. (The test runs itself in tmux, as a child that measures two
/// functions under the guard.)
#[test]
fn report_on_exit_fits_the_terminal_of_stderr() {
    if let Ok(mode) = std::env::var(GUARD_CHILD) {
        let guard = perfscope::report_on_exit();
        let _report = if mode == "wide" { guard.wide() } else { guard };
        for _ in 0..50 {
            fold_the_ticks_into_one_minute_candles();
        }
        return;
    }
    let exe = quoted(&std::env::current_exe().expect("the test's path"));
    let test = "report_on_exit_fits_the_terminal_of_stderr";
    let child = |mode: &str| {
        format!(
            "env -u PERFSCOPE_TABLE {GUARD_CHILD}={mode} {exe} --exact {test} --nocapture --test-threads=1"
        )
    };
    let tmux = Tmux::new("guard");
    tmux.run("fit", 80, &child("fit"));
    tmux.run("wide", 80, &child("wide"));
    let screen = tmux.output("fit", Duration::from_secs(60));
    assert_fits(&screen, 80, "PERFSCOPE_TABLE=wide or report_on_exit().wide()");
    let wide = tmux.output("wide", Duration::from_secs(60));
    let table = report_lines(&wide);
    assert!(table.iter().any(|l| l.width() > 80), "every column, however wide:\n{wide}");
    assert!(table[2].contains("┆ notes") && !wide.contains("left out"), "{wide}");
    assert!(wide.contains("report_fit::fold_the_ticks_into_one_minute_candles"), "{wide}");
}

/// The page's overflow: the document's width against the window's, and each table's box.
const OVERFLOW_PROBE: &str = r#"() => {
    const tables = [...document.querySelectorAll("table")].map(table => {
        const box = table.closest(".ps-scroll") || table;
        const first = table.querySelector("tbody td:first-child");
        return {
            id: table.id,
            right: box.getBoundingClientRect().right,
            scrolls: box !== table && box.scrollWidth > box.clientWidth,
            overflow: box === table ? "" : getComputedStyle(box).overflowX,
            sticky: first ? getComputedStyle(first).position : "",
        };
    });
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, tables };
}"#;

#[test]
fn the_main_jobs_html_page_does_not_overflow_1280_px() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let html = dir.path().join("run.html");
    let status = Command::new(scanner())
        .args(["--duration", "1s", "--metrics-addr", "none", "--report", "html", "--out"])
        .arg(&html)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the scanner runs");
    assert!(status.success());
    let page = std::fs::read_to_string(&html).expect("the page");
    let probe = chromium_probe(&page, 1280, OVERFLOW_PROBE);
    let probe: serde_json::Value = serde_json::from_str(&probe).expect("the probe's JSON");
    let (scroll, inner) = (probe["scrollWidth"].as_f64(), probe["innerWidth"].as_f64());
    assert_eq!(inner, Some(1280.0), "{probe}");
    assert!(scroll.is_some_and(|s| s <= 1280.0), "the page overflows sideways: {probe}");
    let tables = probe["tables"].as_array().expect("tables");
    assert!(tables.iter().any(|t| t["id"] == "ps-hotspots"), "{probe}");
    for table in tables {
        assert!(
            table["right"].as_f64().is_some_and(|r| r <= 1280.0),
            "wider than the page: {table}"
        );
        if table["scrolls"] == true {
            // Scrolling sideways in its own box, the first column in view.
            assert_eq!(table["overflow"], "auto", "{table}");
            assert_eq!(table["sticky"], "sticky", "{table}");
        }
    }
}

/// Where the CPU line is drawn in its plot and what the value axis says, on the page as it
/// loads and after the reader ticks the System section's zoom.
const CHART_PROBE: &str = r#"() => {
    const svg = document.querySelector('svg.ps-chart[data-name="perfscope_node_cpu_usage_ratio"]');
    const seen = () => {
        const plot = svg.querySelector("rect.ps-plot").getBoundingClientRect();
        const line = svg.querySelector("polyline.ps-line").getBoundingClientRect();
        const text = selector => svg.querySelector(selector).textContent;
        return {
            plot: [plot.top, plot.bottom], line: [line.top, line.bottom],
            max: text(".ps-max"), min: text(".ps-min"), unit: text(".ps-unit"),
        };
    };
    const honest = seen();
    document.getElementById("ps-zoom").click();
    const zoomed = seen();
    document.getElementById("ps-zoom").click();
    return { honest, zoomed, again: seen() };
}"#;

#[test]
fn a_cpu_between_99_and_100_percent_is_drawn_on_a_0_to_100_percent_axis() {
    let points =
        (0..60).map(|i| (1_700_000_000_000 + i * 1000, 0.99 + 0.01 * ((i % 7) as f64 / 6.0)));
    let report = Report {
        history: vec![SeriesStats {
            section: "host".into(),
            name: "perfscope_node_cpu_usage_ratio".into(),
            labels: BTreeMap::new(),
            unit: FigureUnit::Ratio,
            points: points.collect(),
        }],
        ..Report::default()
    };
    let probe = chromium_probe(&report.to_html(), 1280, CHART_PROBE);
    let probe: serde_json::Value = serde_json::from_str(&probe).expect("the probe's JSON");
    let honest = &probe["honest"];
    assert_eq!((honest["max"].as_str(), honest["min"].as_str()), (Some("100.0%"), Some("0.0%")));
    assert_eq!(honest["unit"], "percent");
    let at =
        |seen: &serde_json::Value, key: &str, i: usize| seen[key][i].as_f64().expect("a number");
    let height = at(honest, "plot", 1) - at(honest, "plot", 0);
    let spans = |seen: &serde_json::Value| at(seen, "line", 1) - at(seen, "line", 0);
    // From 99% to 100%: a band at the top a hundredth of the plot high (and the stroke).
    assert!(
        spans(honest) <= 0.01 * height + 3.0,
        "the line spans {} px of {height}: {probe}",
        spans(honest)
    );
    assert!(at(honest, "line", 0) <= at(honest, "plot", 0) + 2.0, "{probe}");
    // Zoomed by the reader: the line fills the plot, the labels say 99% to 100%.
    let zoomed = &probe["zoomed"];
    assert!(spans(zoomed) >= 0.95 * height, "zoomed, the line spans {} px: {probe}", spans(zoomed));
    assert_eq!((zoomed["max"].as_str(), zoomed["min"].as_str()), (Some("100.0%"), Some("99.0%")));
    // And back.
    assert_eq!(probe["again"], probe["honest"]);
}
