//! Figures that are not functions, through the report: the process's own (threads, the bytes
//! perfscope's stores hold; heap in use needs `CountingAlloc`), and a registered source's, in the JSON, the table and the HTML.

use std::sync::Arc;

use perfscope::{FigureKind, FigureUnit, Report};
use perfscope_core::figures::{self, Figure, FigureSource};

#[derive(Debug)]
struct Cache;

impl FigureSource for Cache {
    fn read(&self, out: &mut Vec<Figure>) {
        let help = "Share of lookups answered by the cache.";
        out.push(
            Figure::gauge("cache", "test_cache_hit_ratio", help, FigureUnit::Ratio, 0.875)
                .with_label("level", "l1"),
        );
    }
}

#[test]
fn figures_reach_the_report_its_json_and_its_views() {
    perfscope::measure_block!("figures::held", {});
    let registration = figures::register(Arc::new(Cache));
    let report = perfscope::report();
    drop(registration);

    let threads = report.process().threads.expect("Linux: a thread count");
    assert!(threads >= 1, "{threads}");
    // This thread measured a call: its store holds a slot at least.
    let held = report.process().held_bytes.expect("perfscope's held bytes");
    assert!(held >= 64, "{held}");
    let figure = report.figures.iter().find(|f| f.name == figures::HELD_BYTES).expect("a figure");
    assert_eq!(
        (figure.section.as_str(), figure.kind, figure.unit),
        ("process", FigureKind::Gauge, FigureUnit::Bytes)
    );
    assert_eq!(report.process().heap_in_use_bytes, None, "no CountingAlloc in this binary");
    let hit = report
        .figures
        .iter()
        .find(|f| f.name == "test_cache_hit_ratio")
        .expect("the source's figure");
    assert_eq!(
        (hit.section.as_str(), hit.kind, hit.unit),
        ("cache", FigureKind::Gauge, FigureUnit::Ratio)
    );
    assert_eq!(hit.labels.get("level").map(String::as_str), Some("l1"));
    assert_eq!(hit.value, 0.875);

    let back = Report::from_json(&report.to_json()).expect("the JSON reads back");
    assert_eq!(back.figures, report.figures);

    let table = report.to_string();
    assert!(table.contains("\ncache: test_cache_hit_ratio{level=\"l1\"} 87.5%"), "{table}");
    let process = format!(
        "\nprocess: process_threads {threads}, perfscope_held_bytes {}",
        perfscope::human_bytes(held)
    );
    assert!(table.contains(&process), "{table}");
    let html = report.to_html();
    // The summary keeps to the process's figures and counts the others...
    assert!(html.contains(&format!("<dt>process_threads</dt><dd>{threads}</dd>")), "{html}");
    let held_row =
        format!("<dt>perfscope_held_bytes</dt><dd>{}</dd>", perfscope::human_bytes(held));
    assert!(html.contains(&held_row), "{html}");
    assert!(html.contains("<dt>other figures</dt><dd>"), "{html}");
    // ...which the Figures table lists, value sortable by number.
    let row = "<tr><td>cache</td><td class=\"name\">test_cache_hit_ratio{level=&quot;l1&quot;}</td>\
               <td class=\"num\" data-v=\"0.875\">87.5%</td>\
               <td>Share of lookups answered by the cache.</td></tr>";
    assert!(html.contains(row), "{html}");
}

#[test]
fn a_report_without_figures_reads_as_before() {
    let json = perfscope::report().to_json();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value.as_object_mut().unwrap().remove("figures");
    let report = Report::from_json(&value.to_string()).expect("an older report reads");
    assert!(report.figures.is_empty());
    assert_eq!(report.process().threads, None);
}

/// A schema-1 report (old field names, `wall_ns`, a top-level `heap_in_use`) reads as a
/// current one: the names through aliases, the heap as the process figure.
#[test]
fn a_schema_1_report_reads_with_its_old_names() {
    let old = r#"{
      "schema": 1, "elapsed_ns": 1000, "clock": "tsc", "alloc_tracking": true,
      "heap_in_use": 4096, "overflowed_spans": 0,
      "functions": [{
        "name": "app::f", "module": "app", "file": "src/main.rs", "line": 3, "kind": "async",
        "calls": 4, "panicked": 1, "cancelled": 0, "total_ns": 800, "self_ns": 300,
        "busy_ns": 500, "wall_ns": 800, "idle_ns": 300, "polls": 9, "mean_ns": 200,
        "p50_ns": 190, "p90_ns": 250, "p99_ns": 260, "max_ns": 270,
        "alloc_count": 5, "alloc_bytes": 640, "dealloc_count": 4, "dealloc_bytes": 512,
        "realloc_count": 1, "total_alloc_count": 7, "total_alloc_bytes": 900,
        "total_dealloc_count": 6, "total_dealloc_bytes": 700,
        "children": [{ "name": "app::g", "calls": 2, "busy_ns": 200, "alloc_bytes": 260 }]
      }]
    }"#;
    let report = Report::from_json(old).expect("schema 1 reads");
    assert_eq!(report.schema, perfscope::SCHEMA_VERSION);
    let f = report.function("app::f").unwrap();
    assert_eq!((f.calls, f.panics, f.total_ns, f.idle_ns), (4, 1, 800, Some(300)));
    assert_eq!((f.allocations, f.frees, f.freed_bytes, f.reallocs), (5, 4, 512, 1));
    assert_eq!((f.total_allocations, f.total_frees, f.total_freed_bytes), (7, 6, 700));
    assert_eq!(f.children[0].name, "app::g");
    assert_eq!(report.process().heap_in_use_bytes, Some(4096));
    // Written back, it is a current report.
    let json = report.to_json();
    assert!(json.contains("\"schema\": 3") && json.contains("\"panics\": 1"), "{json}");
    assert!(!json.contains("wall_ns") && !json.contains("alloc_count"), "{json}");
    let future = old.replace("\"schema\": 1", "\"schema\": 99");
    let error = Report::from_json(&future).unwrap_err().to_string();
    assert!(error.contains("schema 99") && error.contains("schemas 1 to 3"), "{error}");
}
