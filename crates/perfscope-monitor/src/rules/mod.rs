//! A Prometheus rules file from the same [`Threshold`]s a [`Monitor`](crate::Monitor) arms,
//! so a fleet alerts in Prometheus (and Alertmanager) on what each process alerts on itself.
//!
//! [`PrometheusRules::to_yaml`] writes two groups:
//!
//! - `perfscope_recording`: recording rules for the dashboard's heavy queries, per job —
//!   self time per function (cores, and its share of the job's), p50/p99 latency per function
//!   and p99 per query fingerprint, from the exported histograms, so they add up across
//!   instances;
//! - `perfscope_alerts`: one alerting rule per threshold, named as the threshold
//!   ([`Threshold::name`]), `for:` its duration, labels `severity` and `figure`, annotations
//!   naming the figure and the limit. The expression reads what `/metrics` exports: a plain
//!   figure is its own series with the threshold's label matchers; the traffic and query
//!   quantiles, which the monitor computes over its interval, are `histogram_quantile` over
//!   the function or query histogram, and the traffic rate is the rate of the calls counter
//!   (both over the rate window, one minute by default). Then generic rules: the exported
//!   alert gauge firing (`perfscope_alert_firing == 1`, whatever armed it), the heap growing
//!   towards the host's available memory (`predict_linear`), and for each threshold above a
//!   limit on the heap or resident memory, the figure predicted past that limit within the
//!   horizon (one hour by default) before it gets there.
//!
//! **Hysteresis.** The in-process threshold resolves only once the value is back past the
//! limit by its hysteresis. The generated rule does the same with Prometheus's own `ALERTS`
//! series: `value > limit or (value > limit - hysteresis and <the alert is firing>)`.
//! Prometheus 2.42's `keep_firing_for` is not used: it keeps an alert firing for a *time*
//! after its condition clears, which no in-process threshold does.
//!
//! ```
//! use std::time::Duration;
//! use perfscope_monitor::{Above, names, rules::PrometheusRules, threshold};
//!
//! let rss = threshold(names::PROCESS_RESIDENT_MEMORY_BYTES, Above(2e9))
//!     .named("memory_high")
//!     .for_duration(Duration::from_secs(30));
//! let yaml = PrometheusRules::new(&[rss]).to_yaml().unwrap();
//! assert!(yaml.contains("alert: memory_high"));
//! assert!(yaml.contains("expr: process_resident_memory_bytes > 2000000000"));
//! ```

mod promql;

use std::collections::BTreeMap;
use std::time::Duration;

use perfscope_core::names;
use serde::Serialize;

use crate::threshold::{Condition, Threshold};
use promql::{alert_expr, duration, number, selector, valid_label_name};

/// Why no rules file can be written.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A threshold cannot be written as a rule (a NaN limit, an invalid name or label name).
    #[error("invalid threshold: {0}")]
    InvalidThreshold(String),
    /// A rate or trend window shorter than a millisecond (Prometheus's smallest unit).
    #[error("a window must be 1 ms or more, not {0:?}")]
    InvalidWindow(Duration),
    /// The YAML serializer failed.
    #[error("cannot write the rules as YAML: {0}")]
    Yaml(String),
}

/// The default rate window of the generated expressions.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);
/// The default window `predict_linear` fits its line over.
pub const DEFAULT_TREND_WINDOW: Duration = Duration::from_secs(30 * 60);
/// The default horizon of the trend alerts: how far ahead `predict_linear` looks.
pub const DEFAULT_HORIZON: Duration = Duration::from_secs(3600);

/// Name of the alerting rule on the exported alert gauge.
pub const IN_PROCESS_ALERT: &str = "perfscope_in_process_alert";
/// Name of the alerting rule on the heap's growth.
pub const HEAP_EXHAUSTS_HOST_MEMORY: &str = "perfscope_heap_exhausts_host_memory";

/// A Prometheus rules file from thresholds; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct PrometheusRules {
    thresholds: Vec<Threshold>,
    rate_window: Duration,
    trend_window: Duration,
    horizon: Duration,
}

/// The rules for `thresholds` with the default windows, as YAML.
pub fn prometheus_rules(thresholds: &[Threshold]) -> Result<String, RulesError> {
    PrometheusRules::new(thresholds).to_yaml()
}

#[derive(Serialize)]
struct File {
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    name: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Rule {
    Recording {
        record: String,
        expr: String,
    },
    Alerting {
        alert: String,
        expr: String,
        #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
        for_duration: Option<String>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        labels: BTreeMap<&'static str, String>,
        annotations: BTreeMap<&'static str, String>,
    },
}

impl PrometheusRules {
    /// The rules for `thresholds`, with the default windows.
    pub fn new(thresholds: &[Threshold]) -> PrometheusRules {
        PrometheusRules {
            thresholds: thresholds.to_vec(),
            rate_window: DEFAULT_RATE_WINDOW,
            trend_window: DEFAULT_TREND_WINDOW,
            horizon: DEFAULT_HORIZON,
        }
    }

    /// The window of every `rate()` (default [`DEFAULT_RATE_WINDOW`]; at least four scrape
    /// intervals is Prometheus's advice).
    pub fn with_rate_window(mut self, window: Duration) -> PrometheusRules {
        self.rate_window = window;
        self
    }

    /// The window `predict_linear` fits over (default [`DEFAULT_TREND_WINDOW`]).
    pub fn with_trend_window(mut self, window: Duration) -> PrometheusRules {
        self.trend_window = window;
        self
    }

    /// How far ahead the trend alerts look (default [`DEFAULT_HORIZON`]).
    pub fn with_horizon(mut self, horizon: Duration) -> PrometheusRules {
        self.horizon = horizon;
        self
    }

    /// The rules file: a comment saying where it comes from, then the groups.
    pub fn to_yaml(&self) -> Result<String, RulesError> {
        for t in &self.thresholds {
            check(t)?;
        }
        if let Some(w) =
            [self.rate_window, self.trend_window].into_iter().find(|w| w.as_millis() == 0)
        {
            return Err(RulesError::InvalidWindow(w));
        }
        let file = File {
            groups: vec![
                Group { name: "perfscope_recording", rules: self.recording() },
                Group { name: "perfscope_alerts", rules: self.alerting() },
            ],
        };
        let yaml = serde_norway::to_string(&file).map_err(|e| RulesError::Yaml(e.to_string()))?;
        Ok(format!(
            "# Prometheus rules for perfscope's metrics, generated from the thresholds the \
             process arms\n# (perfscope_monitor::rules). Load with `rule_files:` in \
             prometheus.yml; check with\n# `promtool check rules`.\n{yaml}"
        ))
    }

    fn recording(&self) -> Vec<Rule> {
        let w = duration(self.rate_window);
        let rate = |metric: &str| format!("rate({metric}[{w}])");
        let self_time =
            format!("job_function:{}:rate{w}", seconds(&names::FUNCTION_SELF_SECONDS_TOTAL));
        let histogram = |name: &names::Name, by: &str, q: &str| {
            format!(
                "histogram_quantile({q}, sum by (le, job, {by}) ({}))",
                rate(&format!("{}_bucket", name.name))
            )
        };
        let record = |record: String, expr: String| Rule::Recording { record, expr };
        let function = &names::FUNCTION_DURATION_SECONDS;
        let query = &names::QUERY_DURATION_SECONDS;
        vec![
            record(
                self_time.clone(),
                format!(
                    "sum by (job, function, module) ({})",
                    rate(names::FUNCTION_SELF_SECONDS_TOTAL.name)
                ),
            ),
            record(
                format!("job_function:{}:share{w}", seconds(&names::FUNCTION_SELF_SECONDS_TOTAL)),
                format!(
                    "{self_time} / ignoring (function, module) group_left sum by (job) ({self_time})"
                ),
            ),
            record(
                format!("job_function:{}:p50_{w}", function.name),
                histogram(function, "function", "0.5"),
            ),
            record(
                format!("job_function:{}:p99_{w}", function.name),
                histogram(function, "function", "0.99"),
            ),
            record(
                format!("job_fingerprint:{}:p99_{w}", query.name),
                histogram(query, "fingerprint", "0.99"),
            ),
        ]
    }

    fn alerting(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.thresholds.iter().map(|t| self.threshold_rule(t)).collect();
        rules.push(Rule::Alerting {
            alert: IN_PROCESS_ALERT.into(),
            expr: format!("{} == 1", names::ALERT_FIRING.name),
            for_duration: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::from([
                ("summary", "{{ $labels.alert }} fires in {{ $labels.instance }}".into()),
                (
                    "description",
                    "The process's own threshold {{ $labels.alert }} on {{ $labels.figure }} \
                     fires (perfscope_alert_firing == 1)."
                        .into(),
                ),
            ]),
        });
        let (trend, horizon) = (duration(self.trend_window), duration(self.horizon));
        let heap = names::HEAP_IN_USE_BYTES.name;
        rules.push(Rule::Alerting {
            alert: HEAP_EXHAUSTS_HOST_MEMORY.into(),
            expr: format!(
                "predict_linear({heap}[{trend}], {}) - {heap} > on (job, instance) {}",
                self.horizon.as_secs_f64(),
                names::NODE_MEMORY_MEMAVAILABLE_BYTES.name
            ),
            for_duration: Some("10m".into()),
            labels: BTreeMap::from([("severity", "warning".into())]),
            annotations: BTreeMap::from([
                ("summary", format!("The heap of {{{{ $labels.instance }}}} outgrows the host's available memory within {horizon}")),
                (
                    "description",
                    format!("At the rate of the last {trend}, {heap} grows by more than the host's available memory within {horizon}."),
                ),
            ]),
        });
        for t in &self.thresholds {
            if let Some(rule) = self.predicted_rule(t) {
                rules.push(rule);
            }
        }
        rules
    }

    fn threshold_rule(&self, t: &Threshold) -> Rule {
        let name = t.name();
        let (side, limit) = side(t.condition());
        let series = template_text(&selector(t.figure(), t.labels()));
        let held = match t.duration() {
            d if d.is_zero() => String::new(),
            d => format!(" for {}", duration(d)),
        };
        let hysteresis = if t.hysteresis > 0.0 {
            format!("; resolves once back past {limit} by {}", number(t.hysteresis))
        } else {
            String::new()
        };
        Rule::Alerting {
            alert: name.clone(),
            expr: alert_expr(t, self.rate_window),
            for_duration: (!t.duration().is_zero()).then(|| duration(t.duration())),
            labels: BTreeMap::from([
                ("severity", t.severity_of().as_str().into()),
                ("figure", t.figure().into()),
            ]),
            annotations: BTreeMap::from([
                ("summary", format!("{} {side} {limit}{held}", template_text(t.figure()))),
                (
                    "description",
                    format!(
                        "{series} is {{{{ $value | humanize }}}} on {{{{ $labels.instance }}}}, {side} {limit}{held}{hysteresis} (the process's own threshold {name})."
                    ),
                ),
            ]),
        }
    }

    /// `<name>_predicted` for a threshold above a limit on the heap or resident memory.
    fn predicted_rule(&self, t: &Threshold) -> Option<Rule> {
        let memory = [names::HEAP_IN_USE_BYTES.name, names::PROCESS_RESIDENT_MEMORY_BYTES.name];
        let Condition::Above(limit) = t.condition() else { return None };
        if !memory.contains(&t.figure()) {
            return None;
        }
        let series = selector(t.figure(), t.labels());
        let (trend, horizon) = (duration(self.trend_window), duration(self.horizon));
        let limit = number(limit);
        Some(Rule::Alerting {
            alert: format!("{}_predicted", t.name()),
            expr: format!(
                "predict_linear({series}[{trend}], {}) > {limit} and {series} <= {limit}",
                self.horizon.as_secs_f64()
            ),
            for_duration: Some("10m".into()),
            labels: BTreeMap::from([
                ("severity", t.severity_of().as_str().into()),
                ("figure", t.figure().into()),
            ]),
            annotations: BTreeMap::from([
                (
                    "summary",
                    format!("{} reaches {limit} within {horizon}", template_text(t.figure())),
                ),
                (
                    "description",
                    format!(
                        "At the rate of the last {trend}, {} on {{{{ $labels.instance }}}} passes {limit} within {horizon} (the limit of the threshold {}).",
                        template_text(&series),
                        t.name()
                    ),
                ),
            ]),
        })
    }
}

fn seconds(name: &names::Name) -> &str {
    name.name.strip_suffix("_total").unwrap_or(name.name)
}

fn side(condition: Condition) -> (&'static str, String) {
    match condition {
        Condition::Above(x) => ("above", number(x)),
        Condition::Below(x) => ("below", number(x)),
    }
}

/// Text for an annotation (a Go template): `{{` and `}}` written as template strings, so a
/// label value is shown as it is, never run.
fn template_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("{{") {
            out.push_str(r#"{{ "{{" }}"#);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("}}") {
            out.push_str(r#"{{ "}}" }}"#);
            rest = after;
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Why a threshold cannot be a rule, if it cannot.
fn check(t: &Threshold) -> Result<(), RulesError> {
    t.check().map_err(RulesError::InvalidThreshold)?;
    if let Some((k, _)) = t.labels().iter().find(|(k, _)| !valid_label_name(k)) {
        return Err(RulesError::InvalidThreshold(format!("{k:?} is not a label name")));
    }
    if !valid_metric_name(t.figure()) {
        return Err(RulesError::InvalidThreshold(format!("{:?} is not a metric name", t.figure())));
    }
    Ok(())
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests;
