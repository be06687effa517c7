//! The HTML page's "Function latency" section: one heatmap strip per function from the system
//! monitor's `perfscope_function_latency_p50_seconds` / `_p99_seconds` history series, the 20
//! most called functions at most, in order of calls, names escaped, not among the System
//! charts; a step up in a function's latency is a darker stretch of its strip.
//!
//! With `PERFSCOPE_WRITE_HEATMAP_HTML=path` set, `writes_a_heatmap_page_for_a_browser` also
//! writes a page to `path` (to look at it in a browser).

use std::collections::BTreeMap;

use perfscope_report::{FigureUnit, FunctionStats, Report, SeriesStats};
use scraper::{ElementRef, Html, Selector};

/// 2024-03-01 13:05:00 UTC.
const T0: u64 = 1_709_298_300_000;
const P50: &str = "perfscope_function_latency_p50_seconds";
const P99: &str = "perfscope_function_latency_p99_seconds";

fn function(name: &str, calls: u64) -> FunctionStats {
    FunctionStats {
        name: name.into(),
        module: "app".into(),
        file: "src/main.rs".into(),
        line: 3,
        calls,
        total_ns: calls * 1000,
        self_ns: calls * 1000,
        busy_ns: calls * 1000,
        mean_ns: 1000,
        p50_ns: 1000,
        p90_ns: 1000,
        p99_ns: 1000,
        max_ns: 1000,
        ..FunctionStats::default()
    }
}

/// A latency series of `function`: `points` values a second, from `value(i)`.
fn latency(name: &str, function: &str, points: usize, value: impl Fn(usize) -> f64) -> SeriesStats {
    SeriesStats {
        section: "function".into(),
        name: name.into(),
        labels: BTreeMap::from([("function".to_string(), function.to_string())]),
        unit: FigureUnit::Seconds,
        points: (0..points).map(|i| (T0 + i as u64 * 1000, value(i))).collect(),
    }
}

fn empty() -> Report {
    Report::from_json(r#"{"schema": 2, "elapsed_ns": 2000000, "clock": "os", "functions": []}"#)
        .expect("a minimal report")
}

/// `n` functions `app::f00`.. with 1000, 999, .. calls (the first most called), each with a
/// p50 of 1 ms and a p99 of 2 ms over `points` seconds; `app::f01`'s p99 steps up to 40 ms
/// halfway.
fn with_functions(n: usize, points: usize) -> Report {
    let mut report = empty();
    for i in 0..n {
        let name = format!("app::f{i:02}");
        report.functions.push(function(&name, 1000 - i as u64));
        report.history.push(latency(P50, &name, points, |_| 0.001));
        let step = i == 1;
        report.history.push(latency(P99, &name, points, move |t| {
            if step && t >= points / 2 { 0.040 } else { 0.002 }
        }));
    }
    report
}

fn select<'a>(node: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    node.select(&Selector::parse(css).expect("a selector")).collect()
}

fn strips(page: &Html) -> Vec<ElementRef<'_>> {
    select(page.root_element(), "svg.ps-heatmap g.ps-strip")
}

fn function_of<'a>(strip: &ElementRef<'a>) -> &'a str {
    strip.value().attr("data-function").expect("named")
}

fn levels(strip: &ElementRef<'_>) -> Vec<u32> {
    select(*strip, "rect.ps-cell")
        .iter()
        .map(|r| r.value().attr("data-level").expect("a level").parse().expect("a number"))
        .collect()
}

#[test]
fn one_strip_per_function_the_twenty_most_called_in_order() {
    let report = with_functions(25, 60);
    let html = report.to_html();
    let page = Html::parse_document(&html);
    let h2: Vec<String> =
        select(page.root_element(), "h2").iter().map(|h| h.text().collect()).collect();
    assert!(h2.iter().any(|h| h == "Function latency"), "{h2:?}");
    let strips = strips(&page);
    assert_eq!(strips.len(), 20);
    let names: Vec<&str> = strips.iter().map(function_of).collect();
    let expected: Vec<String> = (0..20).map(|i| format!("app::f{i:02}")).collect();
    assert_eq!(names, expected);
    // The latency series are drawn here, not as System charts.
    let charts = select(page.root_element(), "svg.ps-chart");
    assert!(
        charts.iter().all(|c| !c
            .value()
            .attr("data-name")
            .unwrap_or("")
            .contains("function_latency"))
    );
    // A calm function is one run of cells (p99 2× its p50); the stepped one gets darker.
    let calm = levels(&strips[0]);
    assert_eq!(calm.len(), 1, "{calm:?}");
    let stepped = levels(&strips[1]);
    assert_eq!(stepped.len(), 2, "{stepped:?}");
    assert!(stepped[1] > stepped[0] + 3, "{stepped:?}");
    let titles: Vec<String> =
        select(strips[1], "rect.ps-cell title").iter().map(|t| t.text().collect()).collect();
    assert!(titles[1].contains("p99 up to 40.00 ms (40.0× the median p50)"), "{titles:?}");
    assert!(html.contains("p50 1.00 ms · p99 ≤ 40.00 ms"));
}

#[test]
fn the_strips_stay_bounded_over_a_long_history() {
    // Ten minutes at 200 ms: 3,000 points a series; noisy p99s.
    let mut report = empty();
    for i in 0..3 {
        let name = format!("app::g{i}");
        report.functions.push(function(&name, 100));
        report.history.push(latency(P50, &name, 3000, |_| 0.001));
        report
            .history
            .push(latency(P99, &name, 3000, move |t| 0.001 * (1 + (t * 7 + i) % 50) as f64));
    }
    let page = Html::parse_document(&report.to_html());
    for strip in strips(&page) {
        let cells = levels(&strip).len();
        assert!((1..=120).contains(&cells), "{cells}");
    }
}

#[test]
fn jittered_samples_leave_no_holes_and_a_real_gap_shows() {
    let mut report = empty();
    for (name, calls) in [("app::jitter", 2), ("app::gap", 1)] {
        report.functions.push(function(name, calls));
        let mut p99 = latency(P99, name, 60, |_| 0.002);
        // Samples 200 ms apart, give or take 30 ms.
        for (i, p) in p99.points.iter_mut().enumerate() {
            p.0 = T0 + i as u64 * 200 + [0, 30, 0, 0, 25, 0, 0, 0, 28][i % 9];
        }
        if name == "app::gap" {
            p99.points.drain(20..35);
        }
        report.history.push(latency(P50, name, 1, |_| 0.001));
        report.history.push(p99);
    }
    let page = Html::parse_document(&report.to_html());
    let strips = strips(&page);
    // One run of one colour end to end: no hole between jittered samples.
    assert_eq!(levels(&strips[0]).len(), 1);
    // The gap of 3 s (15 samples) splits the strip.
    assert_eq!(levels(&strips[1]).len(), 2);
}

#[test]
fn function_names_are_escaped() {
    let evil = "app::<script>alert(\"x\")</script>&'";
    let mut report = empty();
    report.functions.push(function(evil, 10));
    report.history.push(latency(P50, evil, 10, |_| 0.001));
    report.history.push(latency(P99, evil, 10, |_| 0.003));
    let html = report.to_html();
    assert!(!html.contains("<script>alert"), "raw name in the page");
    let page = Html::parse_document(&html);
    let strips = strips(&page);
    assert_eq!(strips.len(), 1);
    assert_eq!(function_of(&strips[0]), evil);
    let shown: String = select(strips[0], "text.ps-fn")[0].text().collect();
    assert_eq!(shown, evil);
}

#[test]
fn no_section_without_function_latency_series() {
    let mut report = empty();
    report.functions.push(function("app::main", 1));
    let html = report.to_html();
    assert!(!html.contains("Function latency"));
    assert!(!html.contains("ps-heatmap\""));
    // A function with p50 only has no strip either (the colour is its p99).
    report.history.push(latency(P50, "app::main", 5, |_| 0.001));
    assert!(!report.to_html().contains("<svg class=\"ps-heatmap\""));
}

#[test]
fn writes_a_heatmap_page_for_a_browser() {
    let Some(path) = std::env::var_os("PERFSCOPE_WRITE_HEATMAP_HTML") else {
        return;
    };
    // Five minutes at 1 s of 22 functions: steps, tails, gaps, a long name.
    let mut report = empty();
    for i in 0..22 {
        let name = match i {
            3 => "market_scanner::pipeline::stages::normalise::<impl Normaliser for OrderBook>::apply".to_string(),
            _ => format!("market_scanner::f{i:02}"),
        };
        report.functions.push(function(&name, 5000 - 100 * i as u64));
        let base = 1e-5 * (1.0 + i as f64);
        report.history.push(latency(P50, &name, 300, move |_| base));
        let mut p99 = latency(P99, &name, 300, move |t| {
            let noise = 1.5 + ((t * 13 + i * 7) % 10) as f64 / 10.0;
            let factor = match i {
                1 if t >= 150 => 12.0,
                2 if (100..130).contains(&t) => 70.0,
                5 if t % 40 == 0 => 30.0,
                _ => 1.0,
            };
            base * noise * factor
        });
        if i == 4 {
            p99.points.retain(|p| !(T0 + 60_000..T0 + 120_000).contains(&p.0));
        }
        report.history.push(p99);
    }
    std::fs::write(path, report.to_html()).expect("the page is written");
}
