//! The table view fitted to a width, on a report of the main job (`fixtures/market_scanner.json`:
//! hotspots with allocations and notes, a cache, two pools, queries, an index hint, the
//! monitor's figures): no line longer than the width at any width, the hotspot columns that
//! matter most kept, the ones left out named once; not on a terminal, the full table.
//! (`tests/report_fit.rs` of the workspace reads it in a real terminal.)

use perfscope_report::{FunctionStats, Report};
use unicode_width::UnicodeWidthStr;

fn scanner() -> Report {
    let json = include_str!("fixtures/market_scanner.json");
    Report::from_json(json).expect("the fixture is a report")
}

/// The cells of the hotspot table's header row.
fn header(text: &str) -> Vec<&str> {
    let row = text.lines().nth(2).expect("a header row");
    row.split(['│', '┆']).map(str::trim).filter(|c| !c.is_empty()).collect()
}

fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(line.width() <= width, "longer than {width}: {line:?}\n{text}");
    }
}

#[test]
fn no_line_is_longer_than_the_width_at_any_width() {
    let report = scanner();
    for width in [1, 8, 20, 40, 60, 79, 80, 100, 120, 160, 200, 300] {
        assert_fits(&report.table(20).width(width).to_string(), width);
    }
}

#[test]
fn the_columns_that_matter_most_stay_and_the_others_are_named() {
    let report = scanner();
    let full = report.table(20).to_string();
    assert_eq!(header(&full).len(), 14, "every column: {:?}", header(&full));
    let mut fewer = 0;
    for width in [80, 100, 120, 160] {
        let text = report.table(20).width(width).to_string();
        let shown = header(&text);
        for kept in ["function", "calls", "self", "self %", "total", "p99"] {
            assert!(shown.contains(&kept), "{width}: no `{kept}` in {shown:?}");
        }
        // The more room, the more columns (never fewer).
        assert!(shown.len() >= fewer, "{width}: {shown:?}");
        fewer = shown.len();
        let start = text.find(&format!("left out to fit {width} columns: ")).expect("named");
        let note = text[start..].replace("\n  ", " ");
        for column in header(&full).iter().filter(|c| !shown.contains(c)) {
            assert!(note.contains(column), "{width}: `{column}` left out but not named: {note}");
        }
        assert!(note.contains("(PERFSCOPE_TABLE=wide shows every column)"), "{note}");
        // Mean and p50 before the allocation columns, those before notes, p90 and max.
        let order = ["mean", "p50", "allocs", "notes"];
        let at = |c: &str| shown.iter().position(|s| *s == c);
        let present: Vec<bool> = order.iter().map(|c| at(c).is_some()).collect();
        assert!(present.windows(2).all(|w| w[0] >= w[1]), "{width}: {shown:?}");
    }
    let said = report.table(20).width(80).wide_hint("`perfscope report --wide`").to_string();
    let said = said.replace("\n  ", " ");
    assert!(said.contains("(`perfscope report --wide` shows every column)"), "{said}");
}

#[test]
fn names_are_shortened_in_the_middle_keeping_their_last_segments() {
    let long = "market_scanner::indicators::momentum::oscillators::relative_strength_index";
    let report = Report {
        elapsed_ns: 1_000_000_000,
        functions: vec![FunctionStats {
            name: long.into(),
            calls: 3,
            self_ns: 600_000_000,
            total_ns: 600_000_000,
            ..FunctionStats::default()
        }],
        ..Report::default()
    };
    let text = report.table(20).width(80).to_string();
    let row = text.lines().nth(4).expect("a row");
    let name = row.split(['│', '┆']).nth(1).expect("a name cell").trim();
    assert!(name.ends_with("::relative_strength_index") && name.contains('…'), "{text}");
    assert!(name.starts_with("market_scanner::…") || name.starts_with('…'), "{name}");
    assert_fits(&text, 80);
}

#[test]
fn not_on_a_terminal_the_table_is_the_full_one() {
    let report = scanner();
    let file = tempfile::tempfile().expect("a temp file");
    let fitted = report.table(20).fit_terminal(&file).to_string();
    assert_eq!(fitted, report.table(20).to_string());
    assert!(!fitted.contains("left out"));
    assert!(header(&fitted).contains(&"notes"));
}

#[test]
fn hostile_and_wide_names_fit_too() {
    let names = ["app::\u{1b}[2J\u{1b}[31mred", "模块::函数::计算指标的非常长的名字", "a\tb\nc"];
    let functions = names
        .iter()
        .map(|name| FunctionStats { name: name.to_string(), calls: 1, ..FunctionStats::default() })
        .collect();
    let report = Report { elapsed_ns: 10, functions, ..Report::default() };
    for width in [30, 60, 80] {
        let text = report.table(20).width(width).to_string();
        assert_fits(&text, width);
        assert!(!text.contains('\u{1b}'), "escape sequences are shown, not sent: {text}");
    }
}
