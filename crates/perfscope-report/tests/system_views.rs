//! The figure sources' events and history through the report: `perfscope_report::Report::from_snapshot(&perfscope_core::snapshot_with_history())` carries
//! them, the JSON keeps them exactly, the table lists the most recent events, and the HTML
//! draws one SVG line chart per figure with the events marked on it.
//!
//! With `PERFSCOPE_WRITE_HTML=path` set, `writes_a_page_for_a_browser` also writes the page
//! to `path` (to look at it in a browser).

use std::collections::BTreeMap;
use std::sync::Arc;

use perfscope_core::figures::{self, Event, Figure, FigureSource, FigureUnit, Series};
use perfscope_report::{EventKind, EventStats, FunctionStats, Report, SeriesStats};
use scraper::{ElementRef, Html, Selector};

/// 2024-03-01 13:05:00 UTC.
const T0: u64 = 1_709_298_300_000;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect()
}

fn event(
    kind: EventKind,
    at_s: u64,
    subject: &str,
    pairs: &[(&str, &str)],
    msg: &str,
) -> EventStats {
    EventStats {
        section: "host".into(),
        kind,
        at_unix_ms: T0 + at_s * 1000,
        subject: subject.into(),
        labels: labels(pairs),
        message: msg.into(),
        value: None,
    }
}

fn series(name: &str, pairs: &[(&str, &str)], unit: FigureUnit, points: usize) -> SeriesStats {
    let value = |i: usize| match unit {
        // Four decimals, like a sampled ratio.
        FigureUnit::Ratio => (2500.0 + 5000.0 * ((i as f64) / 4.0).sin().abs()).round() / 1e4,
        _ => 1_073_741_824.0 + 4096.0 * (i * i) as f64,
    };
    SeriesStats {
        section: "host".into(),
        name: name.into(),
        labels: labels(pairs),
        unit,
        points: (0..points).map(|i| (T0 + i as u64 * 1000, value(i))).collect(),
    }
}

/// A small report with one function and neither events nor history.
fn plain() -> Report {
    let mut report = Report::from_json(
        r#"{"schema": 2, "elapsed_ns": 2000000, "clock": "os", "functions": []}"#,
    )
    .expect("a minimal report");
    report.functions.push(FunctionStats {
        name: "app::main".into(),
        module: "app".into(),
        file: "src/main.rs".into(),
        line: 3,
        calls: 1,
        total_ns: 1_000_000,
        self_ns: 1_000_000,
        busy_ns: 1_000_000,
        mean_ns: 1_000_000,
        p50_ns: 1_000_000,
        p90_ns: 1_000_000,
        p99_ns: 1_000_000,
        max_ns: 1_000_000,
        ..FunctionStats::default()
    });
    report
}

/// CPU per core (two label sets, 30 points each) and memory (20 points), with an alert fired
/// and resolved on core 0 and an anomaly on memory.
fn with_system() -> Report {
    let mut report = plain();
    let cpu = "perfscope_host_cpu_usage_ratio";
    let memory = "perfscope_host_memory_used_bytes";
    report.history = vec![
        series(cpu, &[("cpu", "0")], FigureUnit::Ratio, 30),
        series(cpu, &[("cpu", "1")], FigureUnit::Ratio, 30),
        series(memory, &[], FigureUnit::Bytes, 20),
    ];
    let mut anomaly = event(EventKind::Anomaly, 5, memory, &[], "memory stepped up by 12%");
    anomaly.value = Some(1_073_741_824.0 + 100_000.0);
    report.events = vec![
        anomaly,
        event(EventKind::AlertFired, 10, cpu, &[("cpu", "0")], "CPU 0 above 70% for 5 s"),
        event(EventKind::AlertResolved, 20, cpu, &[("cpu", "0")], "CPU 0 back under 65%"),
        event(
            EventKind::Recommendation,
            25,
            "app::main",
            &[],
            "app::main holds 50% of self time while CPU is low: it waits",
        ),
    ];
    report
}

fn select<'a>(node: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    node.select(&Selector::parse(css).expect("a selector")).collect()
}

fn text(node: ElementRef<'_>) -> String {
    node.text().collect()
}

/// The page's section headings, the flame graph's without what follows its name (it says
/// "(self time)" with the `flamegraph` feature).
fn headings(page: &Html) -> Vec<String> {
    let h2 = select(page.root_element(), "h2").into_iter().map(text);
    h2.map(|h| if h.starts_with("Flame graph") { "Flame graph".into() } else { h }).collect()
}

#[derive(Debug)]
struct Watched;

impl FigureSource for Watched {
    fn read(&self, out: &mut Vec<Figure>) {
        out.push(Figure::gauge("test", "test_sys_load", "A watched load.", FigureUnit::Ratio, 0.5));
    }

    fn events(&self, out: &mut Vec<Event>) {
        out.push(Event {
            section: "test",
            kind: figures::EventKind::AlertFired,
            at_unix_ms: T0 + 2_000,
            subject: "test_sys_load".into(),
            labels: vec![("core".into(), "3".into())],
            message: "load above 0.4 for 2 s".into(),
            value: Some(0.45),
        });
        out.push(Event {
            section: "test",
            kind: figures::EventKind::Recommendation,
            at_unix_ms: T0 + 3_000,
            subject: "test_sys_other".into(),
            labels: Vec::new(),
            message: "no value".into(),
            value: Some(f64::NAN),
        });
    }

    fn history(&self, out: &mut Vec<Series>) {
        let points =
            vec![(T0, 0.125), (T0 + 1_000, 0.3), (T0 + 2_000, f64::NAN), (T0 + 3_000, 0.45)];
        let labels = vec![("core".into(), "3".into())];
        out.push(Series {
            section: "test",
            name: "test_sys_load".into(),
            labels,
            unit: FigureUnit::Ratio,
            points,
        });
    }
}

#[test]
fn events_and_history_reach_the_report_and_its_json() {
    let registration = figures::register(Arc::new(Watched));
    let report = perfscope_report::Report::from_snapshot(&perfscope_core::snapshot_with_history());
    drop(registration);

    let ours: Vec<&EventStats> = report.events.iter().filter(|e| e.section == "test").collect();
    assert_eq!(ours.len(), 2, "{:?}", report.events);
    assert_eq!(
        *ours[0],
        EventStats {
            section: "test".into(),
            kind: EventKind::AlertFired,
            at_unix_ms: T0 + 2_000,
            subject: "test_sys_load".into(),
            labels: labels(&[("core", "3")]),
            message: "load above 0.4 for 2 s".into(),
            value: Some(0.45),
        }
    );
    assert_eq!((ours[1].kind, ours[1].value), (EventKind::Recommendation, None), "NaN: no value");
    let load = report.history.iter().find(|s| s.name == "test_sys_load").expect("the history");
    assert_eq!((load.section.as_str(), load.unit), ("test", FigureUnit::Ratio));
    assert_eq!(load.labels, labels(&[("core", "3")]));
    // The NaN point is left out: JSON has no NaN.
    assert_eq!(load.points, [(T0, 0.125), (T0 + 1_000, 0.3), (T0 + 3_000, 0.45)]);

    let json = report.to_json();
    assert!(json.contains("\"kind\": \"alert_fired\""), "{json}");
    assert!(json.contains("\"kind\": \"recommendation\""), "{json}");
    let back = Report::from_json(&json).expect("the JSON reads back");
    assert_eq!(back, report);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let point = &value["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "test_sys_load")
        .unwrap()["points"][0];
    assert_eq!(point, &serde_json::json!([T0, 0.125]), "a point is [unix ms, value]");
}

#[test]
fn the_json_round_trip_is_exact_for_every_kind_and_unit() {
    let mut report = with_system();
    report.history.push(series("test_seconds", &[("a", "b")], FigureUnit::Seconds, 3));
    report.history.push(series("test_count", &[], FigureUnit::Count, 1));
    let back = Report::from_json(&report.to_json()).expect("reads back");
    assert_eq!(back, report);
    for kind in ["alert_fired", "alert_resolved", "anomaly", "recommendation"] {
        assert!(report.to_json().contains(&format!("\"kind\": \"{kind}\"")), "{kind}");
    }
}

/// Values of every magnitude, as a source computes them (17 significant digits).
#[derive(Debug)]
struct Awkward;

impl FigureSource for Awkward {
    fn read(&self, _out: &mut Vec<Figure>) {}

    fn history(&self, out: &mut Vec<Series>) {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let points = (0..20_000u64)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let magnitude = (x % 40) as i32 - 20;
                let value = (x >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi(magnitude);
                (T0 + i, if i % 2 == 0 { value } else { -value })
            })
            .collect();
        out.push(Series {
            section: "test",
            name: "test_sys_awkward".into(),
            labels: Vec::new(),
            unit: FigureUnit::Seconds,
            points,
        });
    }
}

#[test]
fn the_json_round_trip_is_exact_for_values_of_any_magnitude() {
    let registration = figures::register(Arc::new(Awkward));
    let report = perfscope_report::Report::from_snapshot(&perfscope_core::snapshot_with_history());
    drop(registration);
    let awkward = report.history.iter().find(|s| s.name == "test_sys_awkward").unwrap();
    assert_eq!(awkward.points.len(), 20_000);
    let back = Report::from_json(&report.to_json()).expect("reads back");
    let back = back.history.iter().find(|s| s.name == "test_sys_awkward").unwrap();
    let differing: Vec<_> =
        awkward.points.iter().zip(&back.points).filter(|(a, b)| a != b).take(8).collect();
    assert!(differing.is_empty(), "{differing:?}");
}

#[test]
fn a_report_without_events_or_history_has_neither_in_its_json() {
    let json = plain().to_json();
    assert!(!json.contains("\"events\"") && !json.contains("\"history\""), "{json}");
    assert_eq!(Report::from_json(&json).unwrap(), plain());
}

#[test]
fn the_table_lists_the_ten_most_recent_events_oldest_first() {
    let mut report = with_system();
    for i in 0..8u64 {
        let mut e = event(EventKind::Anomaly, 30 + i, "app::parse", &[], "p99 doubled\nin 1 s");
        e.section = "function".into();
        report.events.push(e);
    }
    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("alerts / anomalies / recommendations"))
        .expect("the block");
    let cpu = "perfscope_host_cpu_usage_ratio{cpu=\"0\"}";
    let mut expected = vec![
        "alerts / anomalies / recommendations (last 10 of 12), UTC:".to_string(),
        format!("  13:05:20 alert_resolved {cpu}: CPU 0 back under 65%"),
        "  13:05:25 recommendation app::main: app::main holds 50% of self time while CPU is low: \
         it waits"
            .to_string(),
    ];
    for i in 0..8 {
        expected.push(format!("  13:05:{} anomaly app::parse: p99 doubled in 1 s", 30 + i));
    }
    assert_eq!(lines[start..], expected, "{table}");

    report.events.truncate(2);
    let table = report.to_string();
    let block = table.split_once("alerts / anomalies").expect("the block").1;
    assert_eq!(
        block,
        format!(
            " / recommendations, UTC:\n  13:05:05 anomaly perfscope_host_memory_used_bytes: \
             memory stepped up by 12%\n  13:05:10 alert_fired {cpu}: CPU 0 above 70% for 5 s"
        )
    );
}

#[test]
fn a_report_without_events_or_history_renders_as_before() {
    let table = plain().to_string();
    assert_eq!(
        table,
        "perfscope hotspots: 1 functions, 2.00 ms wall, clock os\n\
         ┌───────────┬───────┬─────────┬────────┬─────────┬─────────┬─────────┬─────────┬─────────┬─────────┬───────┐\n\
         │ function  ┆ calls ┆    self ┆ self % ┆   total ┆    mean ┆     p50 ┆     p90 ┆     p99 ┆     max ┆ notes │\n\
         ╞═══════════╪═══════╪═════════╪════════╪═════════╪═════════╪═════════╪═════════╪═════════╪═════════╪═══════╡\n\
         │ app::main ┆     1 ┆ 1.00 ms ┆  50.0% ┆ 1.00 ms ┆ 1.00 ms ┆ 1.00 ms ┆ 1.00 ms ┆ 1.00 ms ┆ 1.00 ms ┆       │\n\
         └───────────┴───────┴─────────┴────────┴─────────┴─────────┴─────────┴─────────┴─────────┴─────────┴───────┘\n\
         allocations: not tracked (install perfscope::CountingAlloc as the global allocator)"
    );
    let html = plain().to_html();
    let page = Html::parse_document(&html);
    assert_eq!(headings(&page), ["Hotspots", "Flame graph", "Call edges"]);
    let root = page.root_element();
    assert!(select(root, "svg.ps-chart, #ps-events").is_empty(), "no empty sections");
    assert_eq!(select(page.root_element(), "table").len(), 2);
}

#[test]
fn the_html_draws_one_chart_per_figure_with_every_point() {
    let report = with_system();
    let page = Html::parse_document(&report.to_html());
    assert_eq!(headings(&page), ["Hotspots", "Events", "System", "Flame graph", "Call edges"]);
    let charts = select(page.root_element(), "svg.ps-chart");
    let names: Vec<&str> = charts.iter().map(|c| c.value().attr("data-name").unwrap()).collect();
    assert_eq!(names, ["perfscope_host_cpu_usage_ratio", "perfscope_host_memory_used_bytes"]);
    let points = |chart: ElementRef<'_>| -> Vec<usize> {
        select(chart, "polyline")
            .iter()
            .map(|p| p.value().attr("points").unwrap().split_whitespace().count())
            .collect()
    };
    assert_eq!(points(charts[0]), [30, 30], "one line per core");
    assert_eq!(points(charts[1]), [20]);
    let line_titles: Vec<String> =
        select(charts[0], "polyline > title").into_iter().map(text).collect();
    assert_eq!(
        line_titles,
        [
            "perfscope_host_cpu_usage_ratio{cpu=\"0\"}: 30 values, last 66.1%",
            "perfscope_host_cpu_usage_ratio{cpu=\"1\"}: 30 values, last 66.1%",
        ]
    );
    // Axes: the value range and the time span, in the figure's unit.
    let axis =
        |chart: ElementRef<'_>, class: &str| text(select(chart, &format!("text.{class}"))[0]);
    // Bytes from 0; zoomed (the reader's choice, `data-zoomed`), 1 GiB to 1 GiB + 1.41 MiB
    // with decimals enough to tell the labels apart.
    assert_eq!(axis(charts[1], "ps-min"), "0 B");
    assert_eq!(axis(charts[1], "ps-max"), "1.00 GiB");
    let zoomed = |chart: ElementRef<'_>, class: &str| {
        let label = select(chart, &format!("text.{class}"))[0];
        label.value().attr("data-zoomed").unwrap_or_default().to_string()
    };
    assert_eq!(zoomed(charts[1], "ps-min"), "1.0000 GiB");
    assert_eq!(zoomed(charts[1], "ps-mid"), "1.0007 GiB");
    assert_eq!(zoomed(charts[1], "ps-max"), "1.0014 GiB");
    // A ratio on 0–100%.
    assert_eq!(
        (axis(charts[0], "ps-min"), axis(charts[0], "ps-max")),
        ("0.0%".into(), "100.0%".into())
    );
    assert_eq!(axis(charts[0], "ps-start"), "13:05:00 UTC");
    assert_eq!(axis(charts[0], "ps-end"), "13:05:29 UTC");
    assert_eq!(axis(charts[0], "ps-span"), "29 s");
    assert!(axis(charts[0], "ps-max").ends_with('%'));
    // Legend: one entry per core.
    let legend: Vec<String> =
        select(page.root_element(), ".ps-legend li").into_iter().map(text).collect();
    assert_eq!(legend, ["cpu=0 66.1%", "cpu=1 66.1%"]);

    // A series without labels beside labelled ones (all cores and each core) is named so.
    let mut report = with_system();
    let mut total = report.history[0].clone();
    total.labels.clear();
    report.history.push(total);
    let page = Html::parse_document(&report.to_html());
    let legend: Vec<String> =
        select(page.root_element(), ".ps-legend li").into_iter().map(text).collect();
    assert_eq!(legend, ["(no labels) 66.1%", "cpu=0 66.1%", "cpu=1 66.1%"]);
}

#[test]
fn events_are_marked_on_their_charts_and_listed() {
    let report = with_system();
    let html = report.to_html();
    let page = Html::parse_document(&html);
    let charts = select(page.root_element(), "svg.ps-chart");
    let titles = |chart: ElementRef<'_>, css: &str| -> Vec<String> {
        select(chart, &format!("{css} > title")).into_iter().map(text).collect()
    };
    let cpu = "perfscope_host_cpu_usage_ratio{cpu=\"0\"}";
    assert_eq!(
        titles(charts[0], "line.ps-fired"),
        [format!("13:05:10 UTC alert_fired {cpu}: CPU 0 above 70% for 5 s")]
    );
    assert_eq!(
        titles(charts[0], "line.ps-resolved"),
        [format!("13:05:20 UTC alert_resolved {cpu}: CPU 0 back under 65%")]
    );
    assert!(titles(charts[0], "circle.ps-anomaly").is_empty());
    assert_eq!(
        titles(charts[1], "circle.ps-anomaly"),
        [
            "13:05:05 UTC anomaly perfscope_host_memory_used_bytes: memory stepped up by 12% (value 1.00 GiB)"
        ]
    );
    assert!(select(charts[1], ".ps-fired, .ps-resolved").is_empty());
    // Titles are escaped in the markup.
    assert!(
        html.contains("alert_fired perfscope_host_cpu_usage_ratio{cpu=&quot;0&quot;}"),
        "{html}"
    );
    // The events table: most recent first, every event (the recommendation has no chart).
    let rows: Vec<Vec<String>> = select(page.root_element(), "#ps-events tbody tr")
        .into_iter()
        .map(|row| select(row, "td").into_iter().map(text).collect())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][..3], ["13:05:25", "recommendation", "app::main"]);
    assert_eq!(rows[1], ["13:05:20", "alert resolved", cpu, "CPU 0 back under 65%"]);
    assert_eq!(rows[3][1], "anomaly");
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";
    let mut report = with_system();
    for s in &mut report.history {
        s.name = format!("{}{evil}", s.name);
        s.section = evil.into();
        s.labels.insert(evil.into(), evil.into());
    }
    for e in &mut report.events {
        e.subject = format!("{}{evil}", e.subject);
        e.message = evil.into();
        e.labels.insert(evil.into(), evil.into());
    }
    let scripts =
        select(Html::parse_document(&with_system().to_html()).root_element(), "script").len();
    let html = report.to_html();
    let page = Html::parse_document(&html);
    assert_eq!(select(page.root_element(), "script").len(), scripts, "only the page's own scripts");
    assert!(select(page.root_element(), "img").is_empty());
    assert!(!html.contains("<script>alert") && !html.contains("<img"));
    assert_eq!(select(page.root_element(), "svg.ps-chart").len(), 2);
    // The markers still find their charts, and their titles read back as written.
    let fired = select(page.root_element(), "line.ps-fired > title");
    assert_eq!(fired.len(), 1);
    assert!(text(fired[0]).ends_with(&format!(": {evil}")), "{}", text(fired[0]));
    let chart = select(page.root_element(), "svg.ps-chart")[0];
    assert!(chart.value().attr("data-name").unwrap().ends_with(evil));
}

#[test]
fn writes_a_page_for_a_browser() {
    let Some(path) = std::env::var_os("PERFSCOPE_WRITE_HTML") else {
        return;
    };
    let mut report = with_system();
    // A longer run: five minutes of four cores and memory, a flat figure, a single point.
    let cpu = "perfscope_host_cpu_usage_ratio";
    report.history = (0..4)
        .map(|core| {
            let mut s = series(cpu, &[("cpu", &core.to_string())], FigureUnit::Ratio, 300);
            for (i, p) in s.points.iter_mut().enumerate() {
                p.1 = (0.2 + 0.15 * core as f64 + 0.1 * ((i + 7 * core) as f64 / 9.0).sin())
                    .clamp(0.0, 1.0);
                if (100..160).contains(&i) && core == 0 {
                    p.1 = 0.93;
                }
            }
            s
        })
        .collect();
    report.history.push(series("perfscope_host_memory_used_bytes", &[], FigureUnit::Bytes, 300));
    let mut threads = series("process_threads", &[], FigureUnit::Count, 300);
    threads.points.iter_mut().for_each(|p| p.1 = 12.0);
    report.history.push(threads);
    report.history.push(series("test_single_point", &[], FigureUnit::Count, 1));
    report.events = vec![
        event(EventKind::AlertFired, 105, cpu, &[("cpu", "0")], "CPU 0 above 90% for 5 s"),
        event(EventKind::AlertResolved, 165, cpu, &[("cpu", "0")], "CPU 0 back under 85%"),
        EventStats {
            value: Some(1_073_741_824.0 + 4096.0 * 200.0 * 200.0),
            ..event(
                EventKind::Anomaly,
                200,
                "perfscope_host_memory_used_bytes",
                &[],
                "memory grew <fast> & \"steadily\"",
            )
        },
        event(
            EventKind::Recommendation,
            250,
            cpu,
            &[],
            "CPU 0 busy while others idle: spread the work",
        ),
    ];
    std::fs::write(&path, report.to_html()).expect("writes the page");
    std::fs::write(std::path::Path::new(&path).with_extension("txt"), report.to_string()).unwrap();
}

/// An alert armed on a series: its limit is a dashed line at the limit's height, the time it
/// fired (fired at 5 s, resolved at 12 s; fired again at 20 s, still firing at the end) is
/// shaded, and the Alerts and Trends sections name it.
#[test]
fn a_chart_draws_its_alerts_limit_and_shades_the_time_they_fired() {
    let mut report = plain();
    let pool = [("pool", "db")];
    let mut starved = series("perfscope_pool_waits", &pool, FigureUnit::Count, 30);
    starved.section = "pool".into();
    starved.points =
        (0..30).map(|i| (T0 + i * 1000, if (5..12).contains(&i) { 4.0 } else { 0.0 })).collect();
    report.history.push(starved);
    let alert = |name: &str, value: f64| perfscope_report::FigureStats {
        section: "alert".into(),
        name: name.into(),
        kind: perfscope_report::FigureKind::Gauge,
        unit: FigureUnit::Count,
        help: String::new(),
        labels: labels(&[
            ("alert", "db_waits"),
            ("severity", "warning"),
            ("figure", "perfscope_pool_waits"),
            ("pool", "db"),
        ]),
        value,
    };
    report.figures.push(alert(perfscope_core::names::ALERT_LIMIT.name, 2.0));
    report.figures.push(alert(perfscope_core::names::ALERT_FIRING.name, 1.0));
    let message = "alert db_waits fired: 4 is above 2";
    report.events.push(event(EventKind::AlertFired, 5, "perfscope_pool_waits", &pool, message));
    report.events.push(event(
        EventKind::AlertResolved,
        12,
        "perfscope_pool_waits",
        &pool,
        "alert db_waits resolved: 0 is back under 2",
    ));
    report.events.push(event(EventKind::AlertFired, 20, "perfscope_pool_waits", &pool, message));
    let page = Html::parse_document(&report.to_html());
    let chart = Selector::parse("svg[data-name=\"perfscope_pool_waits\"]").unwrap();
    let svg = page.select(&chart).next().expect("the chart");
    let attr =
        |e: ElementRef<'_>, name: &str| e.value().attr(name).unwrap().parse::<f64>().unwrap();
    let limit = svg.select(&Selector::parse("line.ps-threshold").unwrap()).collect::<Vec<_>>();
    assert_eq!(limit.len(), 1);
    // The axis runs from 0 to 4 (the highest point): the limit 2 is half-way up the plot.
    let plot = svg.select(&Selector::parse("rect.ps-plot").unwrap()).next().unwrap();
    let (top, height) = (attr(plot, "y"), attr(plot, "height"));
    assert!((attr(limit[0], "y1") - (top + height / 2.0)).abs() < 0.1);
    let windows: Vec<(f64, f64)> = svg
        .select(&Selector::parse("rect.ps-alert-window").unwrap())
        .map(|r| (attr(r, "x"), attr(r, "width")))
        .collect();
    assert_eq!(windows.len(), 2, "{windows:?}");
    let (left, width) = (attr(plot, "x"), attr(plot, "width"));
    let x = |s: f64| left + width * s / 29.0;
    assert!((windows[0].0 - x(5.0)).abs() < 0.1 && (windows[0].1 - (x(12.0) - x(5.0))).abs() < 0.2);
    assert!(
        (windows[1].0 - x(20.0)).abs() < 0.1 && (windows[1].0 + windows[1].1 - x(29.0)).abs() < 0.2
    );
    let text = page.root_element().text().collect::<String>();
    assert!(text.contains("db_waits") && text.contains("FIRING"), "the Alerts section");
}
