use super::*;
use crate::{Above, Below, Severity, threshold};

fn starved() -> Threshold {
    threshold(names::POOL_STARVED.name, Above(0.0))
        .label("pool", "store")
        .named("store_pool_starved")
        .for_duration(Duration::from_secs(2))
}

#[test]
fn each_threshold_is_an_alerting_rule_of_the_same_name_duration_and_severity() {
    let cold = threshold(names::CACHE_HIT_RATIO.name, Below(0.2))
        .label("cache", "indicators")
        .named("cache_cold")
        .severity(Severity::Info)
        .for_duration(Duration::from_secs(120))
        .hysteresis(0.05);
    let yaml = PrometheusRules::new(&[starved(), cold]).to_yaml().unwrap();
    let expected = r#"  - alert: store_pool_starved
    expr: perfscope_pool_starved{pool="store"} > 0
    for: 2s
    labels:
      figure: perfscope_pool_starved
      severity: warning
    annotations:
      description: perfscope_pool_starved{pool="store"} is {{ $value | humanize }} on {{ $labels.instance }}, above 0 for 2s (the process's own threshold store_pool_starved).
      summary: perfscope_pool_starved above 0 for 2s
  - alert: cache_cold
    expr: perfscope_cache_hit_ratio{cache="indicators"} < 0.2 or (perfscope_cache_hit_ratio{cache="indicators"} < 0.25 and ignoring (alertname, alertstate, severity, figure) ALERTS{alertname="cache_cold", alertstate="firing"})
    for: 2m
    labels:
      figure: perfscope_cache_hit_ratio
      severity: info
"#;
    assert!(yaml.contains(expected), "{yaml}");
    assert!(yaml.starts_with("# Prometheus rules for perfscope's metrics"), "{yaml}");
    assert!(yaml.contains("\ngroups:\n- name: perfscope_recording\n"), "{yaml}");
    assert!(yaml.contains("\n- name: perfscope_alerts\n"), "{yaml}");
}

#[test]
fn the_generic_rules_follow_the_thresholds() {
    let rules = PrometheusRules::new(&[]).to_yaml().unwrap();
    assert!(
        rules.contains(
            "- alert: perfscope_in_process_alert\n    expr: perfscope_alert_firing == 1\n"
        )
    );
    assert!(rules.contains(
        "expr: predict_linear(perfscope_heap_in_use_bytes[30m], 3600) - perfscope_heap_in_use_bytes > on (job, instance) perfscope_node_memory_mem_available_bytes\n"
    ));
    assert!(!rules.contains("_predicted"), "{rules}");
    // A threshold above a memory limit also gets the trend towards it.
    let rss = threshold(names::PROCESS_RESIDENT_MEMORY_BYTES.name, Above(1e9)).named("rss_high");
    let rules = PrometheusRules::new(&[rss, starved()])
        .with_trend_window(Duration::from_secs(600))
        .with_horizon(Duration::from_secs(7200))
        .to_yaml()
        .unwrap();
    assert!(rules.contains(
        "- alert: rss_high_predicted\n    expr: predict_linear(process_resident_memory_bytes[10m], 7200) > 1000000000 and process_resident_memory_bytes <= 1000000000\n    for: 10m\n"
    ), "{rules}");
    assert_eq!(rules.matches("_predicted").count(), 1, "{rules}");
}

#[test]
fn recording_rules_cover_the_dashboards_heavy_queries() {
    let rules =
        PrometheusRules::new(&[]).with_rate_window(Duration::from_secs(30)).to_yaml().unwrap();
    for (record, expr) in [
        (
            "job_function:perfscope_function_self_seconds:rate30s",
            "sum by (job, function, module) (rate(perfscope_function_self_seconds_total[30s]))",
        ),
        (
            "job_function:perfscope_function_self_seconds:share30s",
            "job_function:perfscope_function_self_seconds:rate30s / ignoring (function, module) group_left sum by (job) (job_function:perfscope_function_self_seconds:rate30s)",
        ),
        (
            "job_function:perfscope_function_duration_seconds:p99_30s",
            "histogram_quantile(0.99, sum by (le, job, function) (rate(perfscope_function_duration_seconds_bucket[30s])))",
        ),
        (
            "job_fingerprint:perfscope_query_duration_seconds:p99_30s",
            "histogram_quantile(0.99, sum by (le, job, fingerprint) (rate(perfscope_query_duration_seconds_bucket[30s])))",
        ),
    ] {
        assert!(
            rules.contains(&format!("- record: {record}\n    expr: {expr}\n")),
            "{record}\n{rules}"
        );
    }
}

#[test]
fn hostile_thresholds_are_refused_or_kept_inert() {
    let bad_name = threshold("x", Above(1.0)).named("no spaces");
    assert!(PrometheusRules::new(&[bad_name]).to_yaml().is_err());
    let bad_label = threshold("x", Above(1.0)).label("a-b", "1");
    assert!(PrometheusRules::new(&[bad_label]).to_yaml().is_err());
    let bad_figure = threshold("x{y}", Above(1.0));
    assert!(PrometheusRules::new(&[bad_figure]).to_yaml().is_err());
    assert!(PrometheusRules::new(&[threshold("x", Above(f64::INFINITY))]).to_yaml().is_err());
    let window = PrometheusRules::new(&[]).with_trend_window(Duration::from_micros(10)).to_yaml();
    assert!(matches!(window, Err(RulesError::InvalidWindow(w)) if w == Duration::from_micros(10)));
    // Template syntax in a label value is shown, not run; YAML quotes what it must.
    let t = threshold("x", Above(1.0)).label("path", "{{ .Value }}: '#\n");
    let yaml = PrometheusRules::new(&[t]).to_yaml().unwrap();
    assert!(yaml.contains(r#"{{ "{{" }} .Value {{ "}}" }}"#), "{yaml}");
    assert_eq!(template_text("a}}b{{"), r#"a{{ "}}" }}b{{ "{{" }}"#);
}
