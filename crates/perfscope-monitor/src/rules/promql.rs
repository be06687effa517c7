//! PromQL for a threshold: the expression that computes, from what `/metrics` exports, the
//! figure the threshold watches in process, and the comparison with its limit.

use std::time::Duration;

use perfscope_core::names;

use crate::threshold::{Condition, Threshold};

/// A PromQL string literal: `"` and `\` escaped, control characters as Go escapes.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `name` is a valid Prometheus label name.
pub(crate) fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `metric{k="v", ...}`, or `metric` without matchers.
pub(crate) fn selector(metric: &str, labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return metric.to_string();
    }
    let matchers: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect();
    format!("{metric}{{{}}}", matchers.join(", "))
}

/// A duration as Prometheus writes one: `1h30m`, `2s`, `1s500ms` (`0s` for zero).
pub(crate) fn duration(d: Duration) -> String {
    let mut ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// A finite number as PromQL reads it: 15 significant digits (so `0.95 - 0.05` reads `0.9`),
/// in Rust's shortest form, never an exponent.
pub(crate) fn number(x: f64) -> String {
    let rounded: f64 = format!("{x:.14e}").parse().unwrap_or(x);
    format!("{rounded}")
}

/// The labels a fleet view keeps besides the figure's own: which job and instance.
const TARGET: [&str; 2] = ["job", "instance"];

/// `by (...)` labels: `first`, the target's, `natural` (the figure's own labels) and any
/// label the threshold matches on, each once.
fn grouping(first: &[&str], natural: &str, labels: &[(String, String)]) -> String {
    let mut by: Vec<&str> = first.iter().chain(&TARGET).copied().collect();
    for name in std::iter::once(natural).chain(labels.iter().map(|(k, _)| k.as_str())) {
        if !by.contains(&name) {
            by.push(name);
        }
    }
    by.join(", ")
}

/// How the figure a threshold watches is computed in PromQL: the traffic and query quantiles
/// (gauges over the monitor's interval in process) from the exported histograms, the traffic
/// rate from the calls counter, any other figure as its own series.
pub(crate) fn figure_expr(threshold: &Threshold, window: Duration) -> String {
    let labels = threshold.labels();
    let window = duration(window);
    let quantile = |q: &str, histogram: &str, natural: &str| {
        format!(
            "histogram_quantile({q}, sum by ({}) (rate({}[{window}])))",
            grouping(&["le"], natural, labels),
            selector(&format!("{histogram}_bucket"), labels)
        )
    };
    let function = names::FUNCTION_DURATION_SECONDS.name;
    match threshold.figure() {
        f if f == names::TRAFFIC_LATENCY_P99_SECONDS.name => quantile("0.99", function, "function"),
        f if f == names::TRAFFIC_LATENCY_P50_SECONDS.name => quantile("0.5", function, "function"),
        f if f == names::QUERY_DURATION_P99_SECONDS.name => {
            quantile("0.99", names::QUERY_DURATION_SECONDS.name, "fingerprint")
        }
        f if f == names::TRAFFIC_REQUESTS_PER_SECOND.name => format!(
            "sum by ({}) (rate({}[{window}]))",
            grouping(&[], "function", labels),
            selector(names::FUNCTION_CALLS_TOTAL.name, labels)
        ),
        f => selector(f, labels),
    }
}

/// The alerting expression: the figure past the limit; with a hysteresis, also past the limit
/// less the hysteresis while the alert is already firing (Prometheus's own `ALERTS` series),
/// which is how the in-process threshold resolves.
pub(crate) fn alert_expr(threshold: &Threshold, window: Duration) -> String {
    let value = figure_expr(threshold, window);
    let (op, limit, back) = match threshold.condition() {
        Condition::Above(x) => (">", x, x - threshold.hysteresis),
        Condition::Below(x) => ("<", x, x + threshold.hysteresis),
    };
    let breached = format!("{value} {op} {}", number(limit));
    if threshold.hysteresis == 0.0 {
        return breached;
    }
    let firing = format!("ALERTS{{alertname={}, alertstate=\"firing\"}}", quote(&threshold.name()));
    format!(
        "{breached} or ({value} {op} {} and ignoring (alertname, alertstate, severity, figure) {firing})",
        number(back)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Above, Below, threshold};

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn plain_gauges_are_their_series_with_the_thresholds_matchers() {
        let starved = threshold("perfscope_pool_starved", Above(0.0)).label("pool", "store");
        assert_eq!(alert_expr(&starved, MINUTE), r#"perfscope_pool_starved{pool="store"} > 0"#);
        let cpu = threshold("perfscope_node_cpu_usage_ratio", Above(0.95)).label("cpu", "");
        assert_eq!(alert_expr(&cpu, MINUTE), r#"perfscope_node_cpu_usage_ratio{cpu=""} > 0.95"#);
        let rss = threshold("process_resident_memory_bytes", Above(2147483648.0));
        assert_eq!(alert_expr(&rss, MINUTE), "process_resident_memory_bytes > 2147483648");
    }

    #[test]
    fn traffic_and_query_quantiles_come_from_the_histograms() {
        let p99 = threshold(names::TRAFFIC_LATENCY_P99_SECONDS.name, Above(0.05))
            .label("function", "app::handle");
        assert_eq!(
            figure_expr(&p99, MINUTE),
            "histogram_quantile(0.99, sum by (le, job, instance, function) \
             (rate(perfscope_function_duration_seconds_bucket{function=\"app::handle\"}[1m])))"
        );
        let p50 = threshold(names::TRAFFIC_LATENCY_P50_SECONDS.name, Above(0.05));
        assert_eq!(
            figure_expr(&p50, Duration::from_secs(5)),
            "histogram_quantile(0.5, sum by (le, job, instance, function) \
             (rate(perfscope_function_duration_seconds_bucket[5s])))"
        );
        let query = threshold(names::QUERY_DURATION_P99_SECONDS.name, Above(0.1))
            .label("fingerprint", "SELECT ?")
            .label("db", "main");
        assert_eq!(
            figure_expr(&query, MINUTE),
            "histogram_quantile(0.99, sum by (le, job, instance, fingerprint, db) \
             (rate(perfscope_query_duration_seconds_bucket{fingerprint=\"SELECT ?\", db=\"main\"}[1m])))"
        );
        let calls = threshold(names::TRAFFIC_REQUESTS_PER_SECOND.name, Below(10.0))
            .label("function", "app::handle");
        assert_eq!(
            alert_expr(&calls, Duration::from_secs(90)),
            "sum by (job, instance, function) \
             (rate(perfscope_function_calls_total{function=\"app::handle\"}[1m30s])) < 10"
        );
    }

    #[test]
    fn hysteresis_keeps_a_firing_alert_until_the_value_is_back_past_it() {
        let cold = threshold("perfscope_cache_hit_ratio", Below(0.2))
            .label("cache", "indicators")
            .named("cold")
            .hysteresis(0.05);
        assert_eq!(
            alert_expr(&cold, MINUTE),
            "perfscope_cache_hit_ratio{cache=\"indicators\"} < 0.2 or \
             (perfscope_cache_hit_ratio{cache=\"indicators\"} < 0.25 and ignoring \
             (alertname, alertstate, severity, figure) ALERTS{alertname=\"cold\", alertstate=\"firing\"})"
        );
    }

    #[test]
    fn hostile_label_values_stay_inside_their_string() {
        let t = threshold("x", Above(1.0)).label("path", "a\"} or vector(1) #\\\n");
        assert_eq!(alert_expr(&t, MINUTE), r#"x{path="a\"} or vector(1) #\\\n"} > 1"#);
        assert_eq!(quote("\u{7}"), r#""\u0007""#);
        assert!(valid_label_name("_a1") && !valid_label_name("1a") && !valid_label_name("a-b"));
        assert!(!valid_label_name(""));
    }

    #[test]
    fn durations_read_as_prometheus_writes_them() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(2), "2s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(3600 + 60), "1h1m"),
            (Duration::from_millis(1500), "1s500ms"),
            (Duration::from_micros(1), "1ms"),
        ];
        for (d, text) in cases {
            assert_eq!(duration(d), text, "{d:?}");
        }
        assert_eq!(number(2.0 * 1024.0 * 1024.0 * 1024.0), "2147483648");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(0.95 - 0.05), "0.9");
        assert_eq!(number(-3.5), "-3.5");
    }
}
