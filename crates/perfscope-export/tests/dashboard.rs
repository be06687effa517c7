//! `dashboards/perfscope.json` is what `perfscope-dashboard` prints, and its queries use only
//! the families perfscope exports. (That every query parses is checked against a real
//! Prometheus in `prometheus_server.rs`.)

mod common;

use perfscope_export::dashboard::{
    annotation_exprs, dashboard, dashboard_json, panel_exprs, variable_queries,
};
use perfscope_export::families::sample_names;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dashboards/perfscope.json");

#[test]
fn the_committed_dashboard_is_up_to_date() {
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == dashboard_json(),
        "dashboards/perfscope.json is stale: regenerate it with\n  \
         cargo run -p perfscope-export --bin perfscope-dashboard > dashboards/perfscope.json"
    );
}

#[test]
fn queries_use_only_exported_families() {
    let board = dashboard();
    let exported = sample_names();
    let mut used = Vec::new();
    let variables =
        variable_queries(&board).into_iter().map(|q| common::label_values_as_promql(&q));
    let annotations = annotation_exprs(&board);
    assert!(annotations.len() >= 3, "{annotations:?}");
    for query in panel_exprs(&board).into_iter().chain(annotations).chain(variables) {
        let names = common::metric_names(&query);
        assert!(!names.is_empty(), "no metric in {query}");
        for name in names {
            assert!(exported.contains(&name), "{query} uses {name}, which is not exported");
            used.push(name);
        }
    }
    // The panels the issue asks for read these families.
    for family in [
        "self_seconds_total",
        "duration_seconds_bucket",
        "calls_total",
        "alloc_bytes_total",
        "panics_total",
        // The alerts' timeline and annotations, the memory trend.
        "alert_firing",
        "alert_transitions_total",
        "anomalies_total",
        "recommendations_total",
        "heap_in_use_bytes",
        "mem_available_bytes",
    ] {
        assert!(used.iter().any(|n| n.ends_with(family)), "no panel reads *{family}");
    }
}

#[test]
fn the_sample_scrape_config_is_valid_and_scrapes_the_default_address() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dashboards/prometheus.yml");
    let config = std::fs::read_to_string(path).expect("dashboards/prometheus.yml");
    assert!(config.contains(&format!("\"{}\"", perfscope_export::DEFAULT_ADDRESS)), "{config}");
    let out = std::process::Command::new(common::require_binary("promtool"))
        .args(["check", "config", path])
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool check config failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
