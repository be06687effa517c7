//! Figures that are not functions, through the report: the process's own (threads; heap in
//! use needs `CountingAlloc`), and a registered source's, in the JSON, the table and the HTML.

use std::sync::Arc;

use perfscope::{FigureKind, FigureUnit, Report};
use perfscope_core::figures::{self, Figure, FigureSource, Unit};

#[derive(Debug)]
struct Cache;

impl FigureSource for Cache {
    fn read(&self, out: &mut Vec<Figure>) {
        let help = "Share of lookups answered by the cache.";
        out.push(
            Figure::gauge("cache", "test_cache_hit_ratio", help, Unit::Ratio, 0.875)
                .with_label("level", "l1"),
        );
    }
}

#[test]
fn figures_reach_the_report_its_json_and_its_views() {
    let registration = figures::register(Arc::new(Cache));
    let report = perfscope::report();
    drop(registration);

    let threads = report.process().threads.expect("Linux: a thread count");
    assert!(threads >= 1, "{threads}");
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
    assert!(table.contains(&format!("\nprocess: process_threads {threads}")), "{table}");
    let html = report.to_html();
    assert!(
        html.contains("<dt>test_cache_hit_ratio{level=&quot;l1&quot;}</dt><dd>87.5%</dd>"),
        "{html}"
    );
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
