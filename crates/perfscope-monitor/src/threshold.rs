//! Thresholds on figures and the alerts they raise.
//!
//! A [`Threshold`] watches every series of one figure name (or those with given labels). It
//! **fires** once the condition has held for `for_duration` (like a Prometheus alert's `for`),
//! and **resolves** once the value is back past the limit by the hysteresis, so a value
//! hovering at the limit does not flap. Firing logs `tracing::warn!`, resolving
//! `tracing::info!`, and both call the `on_alert` callback (on the sampler thread).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use perfscope_core::figures::{Event, EventKind, Figure};
use perfscope_core::names::{self, Name};

use crate::monitor::figure_event;

/// When a threshold is breached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    /// The value is above the limit.
    Above(f64),
    /// The value is below the limit.
    Below(f64),
}

impl Condition {
    fn limit(self) -> f64 {
        match self {
            Condition::Above(x) | Condition::Below(x) => x,
        }
    }

    fn breached(self, value: f64) -> bool {
        match self {
            Condition::Above(x) => value > x,
            Condition::Below(x) => value < x,
        }
    }

    /// Back on the good side by at least `hysteresis`.
    fn cleared(self, value: f64, hysteresis: f64) -> bool {
        match self {
            Condition::Above(x) => value <= x - hysteresis,
            Condition::Below(x) => value >= x + hysteresis,
        }
    }
}

/// How serious an alert is: the `severity` label of its series and of the Prometheus rule
/// generated from it (Alertmanager routes on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// Worth a look.
    Info,
    /// Needs attention soon (the default).
    #[default]
    Warning,
    /// Needs attention now.
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Whether an alert started or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    /// The condition has held for the threshold's duration.
    Fired,
    /// The value is back past the limit by the hysteresis.
    Resolved,
}

/// One alert event.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The threshold's name ([`Threshold::named`]).
    pub name: String,
    /// The threshold's severity.
    pub severity: Severity,
    /// Fired or resolved.
    pub state: AlertState,
    /// The figure's name.
    pub figure: String,
    /// The series' labels.
    pub labels: Vec<(String, String)>,
    /// The value that fired or resolved the alert.
    pub value: f64,
    /// The threshold's condition.
    pub condition: Condition,
    /// When (the sample's time).
    pub at: SystemTime,
}

/// Called with each alert event, on the sampler thread (a panic in it is caught).
pub type AlertCallback = Arc<dyn Fn(&Alert) + Send + Sync>;

/// A threshold on a figure; made by [`threshold()`], given to
/// [`MonitorBuilder::with_threshold`](crate::MonitorBuilder::with_threshold).
#[derive(Clone)]
pub struct Threshold {
    pub(crate) name: Option<String>,
    pub(crate) severity: Severity,
    pub(crate) figure: String,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) condition: Condition,
    pub(crate) for_duration: Duration,
    pub(crate) hysteresis: f64,
    pub(crate) callback: Option<AlertCallback>,
}

impl fmt::Debug for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Threshold")
            .field("name", &self.name())
            .field("severity", &self.severity)
            .field("figure", &self.figure)
            .field("labels", &self.labels)
            .field("condition", &self.condition)
            .field("for_duration", &self.for_duration)
            .field("hysteresis", &self.hysteresis)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

/// A threshold on every series named `figure`: fires at the first sample breaching
/// `condition` unless [`Threshold::for_duration`] says how long it must hold.
pub fn threshold(figure: impl Into<String>, condition: Condition) -> Threshold {
    Threshold {
        name: None,
        severity: Severity::Warning,
        figure: figure.into(),
        labels: Vec::new(),
        condition,
        for_duration: Duration::ZERO,
        hysteresis: 0.0,
        callback: None,
    }
}

impl Threshold {
    /// Names the alert (the `alert` label of its series, the Prometheus rule's `alert:`):
    /// letters, digits and `_`, not starting with a digit. Default: the figure's name and
    /// the side, e.g. `perfscope_pool_starved_above`.
    pub fn named(mut self, name: impl Into<String>) -> Threshold {
        self.name = Some(name.into());
        self
    }

    /// How serious the alert is (default [`Severity::Warning`]).
    pub fn severity(mut self, severity: Severity) -> Threshold {
        self.severity = severity;
        self
    }

    /// The alert's name: given by [`named`](Self::named), else the figure's and the side.
    pub fn name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => {
                let side = match self.condition {
                    Condition::Above(_) => "above",
                    Condition::Below(_) => "below",
                };
                format!("{}_{side}", self.figure)
            }
        }
    }

    /// The watched figure's name.
    pub fn figure(&self) -> &str {
        &self.figure
    }

    /// The label pairs a watched series must have.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The condition.
    pub fn condition(&self) -> Condition {
        self.condition
    }

    /// How long the condition must hold before the alert fires.
    pub fn duration(&self) -> Duration {
        self.for_duration
    }

    /// The alert's severity.
    pub fn severity_of(&self) -> Severity {
        self.severity
    }

    /// How long the condition must hold before the alert fires (default: zero).
    pub fn for_duration(mut self, duration: Duration) -> Threshold {
        self.for_duration = duration;
        self
    }

    /// How far back past the limit the value must come to resolve (default: zero).
    pub fn hysteresis(mut self, hysteresis: f64) -> Threshold {
        self.hysteresis = hysteresis;
        self
    }

    /// Only the series with this label (may be repeated); as in PromQL, an empty value
    /// matches the series without the label (`.label("cpu", "")`: all CPUs' series only).
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Threshold {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// Calls `callback` with every alert event of this threshold.
    pub fn on_alert(mut self, callback: impl Fn(&Alert) + Send + Sync + 'static) -> Threshold {
        self.callback = Some(Arc::new(callback));
        self
    }

    /// Why the threshold cannot work, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.condition.limit().is_finite() {
            return Err(format!("{}: the limit is not a finite number", self.figure));
        }
        if !(self.hysteresis.is_finite() && self.hysteresis >= 0.0) {
            return Err(format!("{}: hysteresis must be finite and not negative", self.figure));
        }
        let name = self.name();
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if name.is_empty()
            || name.starts_with(|c: char| c.is_ascii_digit())
            || !name.chars().all(valid)
        {
            return Err(format!(
                "{name:?}: an alert's name is letters, digits and _, not starting with a digit"
            ));
        }
        Ok(())
    }

    /// Whether the threshold watches a series with this name and labels.
    pub(crate) fn watches<'a>(
        &self,
        name: &str,
        labels: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> bool {
        name == self.figure
            && self.labels.iter().all(|(k, v)| {
                // As in PromQL, `label=""` matches the series without that label.
                let mut of = labels.clone().filter(|(name, _)| *name == k.as_str());
                match of.next() {
                    Some((_, value)) => value == v.as_str(),
                    None => v.is_empty(),
                }
            })
    }
}

/// The state machine of one threshold on one series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) enum Watch {
    /// Not breached.
    #[default]
    Clear,
    /// Breached since this time (seconds), not for long enough yet.
    Pending(f64),
    /// Fired, not resolved yet.
    Firing,
}

impl Watch {
    /// Takes the value at time `t` (seconds); returns the event it causes, if any.
    pub(crate) fn observe(
        &mut self,
        threshold: &Threshold,
        t: f64,
        value: f64,
    ) -> Option<AlertState> {
        let condition = threshold.condition;
        match *self {
            Watch::Clear | Watch::Pending(_) if !condition.breached(value) => {
                *self = Watch::Clear;
                None
            }
            Watch::Clear | Watch::Pending(_) => {
                let since = if let Watch::Pending(since) = *self { since } else { t };
                if t - since >= threshold.for_duration.as_secs_f64() {
                    *self = Watch::Firing;
                    Some(AlertState::Fired)
                } else {
                    *self = Watch::Pending(since);
                    None
                }
            }
            Watch::Firing if condition.cleared(value, threshold.hysteresis) => {
                *self = Watch::Clear;
                Some(AlertState::Resolved)
            }
            Watch::Firing => None,
        }
    }
}

/// Most series one threshold watches; series past it are not watched (said once, as a
/// warning event and a log line).
pub const MAX_WATCHED_SERIES: usize = 256;

/// One watched series: its labels and its state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watched {
    pub(crate) labels: Vec<(Cow<'static, str>, String)>,
    pub(crate) watch: Watch,
}

/// A threshold, the watch over each series it matched, and its transitions so far.
#[derive(Debug)]
pub(crate) struct Armed {
    pub(crate) threshold: Threshold,
    /// Its name, computed once.
    pub(crate) name: String,
    pub(crate) watches: HashMap<String, Watched>,
    pub(crate) fired: u64,
    pub(crate) resolved: u64,
    /// Whether the series cap was reached (warned once).
    pub(crate) capped: bool,
}

impl Armed {
    pub(crate) fn new(threshold: Threshold) -> Armed {
        let name = threshold.name();
        Armed { threshold, name, watches: HashMap::new(), fired: 0, resolved: 0, capped: false }
    }

    /// Takes `figure` (series `key`) sampled at `t` (seconds; `at`): the alert and the event
    /// it causes, if the threshold watches it and its state changes.
    pub(crate) fn observe(
        &mut self,
        figure: &Figure,
        key: &str,
        t: f64,
        at: SystemTime,
    ) -> Option<(Alert, Event)> {
        let labels = || figure.labels.iter().map(|(k, v)| (k.as_ref(), v.as_str()));
        if !self.threshold.watches(&figure.name, labels()) {
            return None;
        }
        if !self.watches.contains_key(key) && self.watches.len() >= MAX_WATCHED_SERIES {
            if !std::mem::replace(&mut self.capped, true) {
                tracing::warn!(alert = %self.name, max = MAX_WATCHED_SERIES, "perfscope monitor: the alert watches its most series; more series are not watched");
            }
            return None;
        }
        let watched = self
            .watches
            .entry(key.to_string())
            .or_insert_with(|| Watched { labels: figure.labels.clone(), watch: Watch::Clear });
        let change = watched.watch.observe(&self.threshold, t, figure.value)?;
        let (kind, count) = match change {
            AlertState::Fired => (EventKind::AlertFired, &mut self.fired),
            AlertState::Resolved => (EventKind::AlertResolved, &mut self.resolved),
        };
        *count += 1;
        let condition = self.threshold.condition;
        let message = alert_message(&self.name, change, condition, figure.value);
        let event = figure_event(figure, kind, at, message);
        let alert = Alert {
            name: self.name.clone(),
            severity: self.threshold.severity,
            state: change,
            figure: figure.name.to_string(),
            labels: figure.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            value: figure.value,
            condition,
            at,
        };
        Some((alert, event))
    }

    /// The alert's series: [`names::ALERT_FIRING`] per watched series, 1 while firing, its
    /// [`names::ALERT_LIMIT`], and
    /// [`names::ALERT_TRANSITIONS_TOTAL`] per state.
    pub(crate) fn figures(&self, out: &mut Vec<Figure>) {
        let severity = self.threshold.severity.as_str();
        let alert = |name: &Name, value: f64| {
            Figure::of(name, value)
                .with_label("alert", self.name.clone())
                .with_label("severity", severity)
        };
        let limit = self.threshold.condition.limit();
        for watched in self.watches.values() {
            let firing = if watched.watch == Watch::Firing { 1.0 } else { 0.0 };
            for (name, value) in [(&names::ALERT_FIRING, firing), (&names::ALERT_LIMIT, limit)] {
                let mut figure =
                    alert(name, value).with_label("figure", self.threshold.figure.clone());
                for (k, v) in &watched.labels {
                    // The watched series' labels, renamed where they would hide the alert's own.
                    let k = match k.as_ref() {
                        "alert" | "severity" | "figure" => Cow::Owned(format!("series_{k}")),
                        _ => k.clone(),
                    };
                    figure = figure.with_label(k, v.clone());
                }
                out.push(figure);
            }
        }
        for (state, n) in [("fired", self.fired), ("resolved", self.resolved)] {
            out.push(alert(&names::ALERT_TRANSITIONS_TOTAL, n as f64).with_label("state", state));
        }
    }
}

fn alert_message(name: &str, state: AlertState, condition: Condition, value: f64) -> String {
    let (verb, side, limit) = match (state, condition) {
        (AlertState::Fired, Condition::Above(x)) => ("fired", "above", x),
        (AlertState::Fired, Condition::Below(x)) => ("fired", "below", x),
        (AlertState::Resolved, Condition::Above(x)) => ("resolved", "back under", x),
        (AlertState::Resolved, Condition::Below(x)) => ("resolved", "back over", x),
    };
    format!("alert {name} {verb}: {} is {side} {}", short(value), short(limit))
}

/// `1.2084714099` → `1.208`, `2147483648` → `2147483648`: four significant digits at most
/// after the point, whole numbers as they are.
fn short(value: f64) -> String {
    if value.fract() == 0.0 || !value.is_finite() || value.abs() >= 1e4 {
        return format!("{value:.0}");
    }
    let digits = (3 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{value:.digits$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::noise;

    fn events(
        threshold: &Threshold,
        values: impl Iterator<Item = f64>,
    ) -> Vec<(usize, AlertState)> {
        let mut watch = Watch::default();
        values
            .enumerate()
            .filter_map(|(i, v)| watch.observe(threshold, i as f64, v).map(|e| (i, e)))
            .collect()
    }

    #[test]
    fn a_noisy_crossing_fires_once_and_resolves_once() {
        // Up from 50 to 150 and back over 400 one-second samples, noise of sd 3 on top:
        // the value crosses 100 many times each way, yet the alert fires once (near 100 s) and
        // resolves once, when it is back under 80 (near 340 s).
        let shape = |i: usize| 150.0 - (i as f64 - 200.0).abs() / 2.0;
        let values: Vec<f64> =
            noise(5).take(400).enumerate().map(|(i, e)| shape(i) + 3.0 * e).collect();
        let above = threshold("x", Condition::Above(100.0))
            .for_duration(Duration::from_secs(5))
            .hysteresis(20.0);
        let got = events(&above, values.iter().copied());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].1, got[1].1), (AlertState::Fired, AlertState::Resolved));
        assert!((100..=115).contains(&got[0].0), "fired at {}", got[0].0);
        assert!((315..=345).contains(&got[1].0), "resolved at {}", got[1].0);
        // Without hysteresis and duration, the same series flaps.
        assert!(events(&threshold("x", Condition::Above(100.0)), values.into_iter()).len() > 2);
    }

    #[test]
    fn the_condition_must_hold_for_the_duration() {
        let below = threshold("x", Condition::Below(10.0)).for_duration(Duration::from_secs(3));
        let blips = [20.0, 5.0, 5.0, 20.0, 5.0, 5.0, 5.0, 5.0, 20.0];
        assert_eq!(
            events(&below, blips.into_iter()),
            vec![(7, AlertState::Fired), (8, AlertState::Resolved)]
        );
    }

    #[test]
    fn below_fires_under_the_limit_and_resolves_only_past_limit_plus_hysteresis() {
        // Below 10 with a hysteresis of 5: fires under 10 (not at 10), keeps firing while the
        // value is back over 10 but under 15, resolves at 15.
        let below = threshold("x", Condition::Below(10.0)).hysteresis(5.0);
        let values = [12.0, 10.0, 9.5, 11.0, 14.9, 9.0, 15.0, 14.0, 9.9];
        assert_eq!(
            events(&below, values.into_iter()),
            vec![(2, AlertState::Fired), (6, AlertState::Resolved), (8, AlertState::Fired)]
        );
        // The same for Above, mirrored: fires over 10, resolves at 5.
        let above = threshold("x", Condition::Above(10.0)).hysteresis(5.0);
        let values = [8.0, 10.0, 10.5, 9.0, 5.1, 11.0, 5.0, 6.0, 10.1];
        assert_eq!(
            events(&above, values.into_iter()),
            vec![(2, AlertState::Fired), (6, AlertState::Resolved), (8, AlertState::Fired)]
        );
    }

    #[test]
    fn pending_keeps_the_first_breach_time() {
        // Breached from t = 1 on: with a 2 s duration it fires at t = 3, not later.
        let above = threshold("x", Condition::Above(1.0)).for_duration(Duration::from_secs(2));
        assert_eq!(
            events(&above, [0.0, 2.0, 2.0, 2.0, 2.0].into_iter()),
            vec![(3, AlertState::Fired)]
        );
    }

    #[test]
    fn debug_shows_the_settings_and_whether_there_is_a_callback() {
        let t = threshold("x", Condition::Below(2.0))
            .label("cpu", "1")
            .for_duration(Duration::from_secs(3))
            .hysteresis(0.5)
            .on_alert(|_| {});
        assert_eq!(
            format!("{t:?}"),
            "Threshold { name: \"x_below\", severity: Warning, figure: \"x\", labels: [(\"cpu\", \"1\")], condition: Below(2.0), \
             for_duration: 3s, hysteresis: 0.5, callback: true }"
        );
        assert!(threshold("x", Condition::Above(1.0)).hysteresis(0.0).check().is_ok());
    }

    #[test]
    fn messages_show_values_briefly() {
        let above = Condition::Above(0.05);
        let fired = alert_message("slow", AlertState::Fired, above, 1.2084714099489242);
        assert_eq!(fired, "alert slow fired: 1.208 is above 0.05");
        let below = Condition::Below(2147483648.0);
        let resolved = alert_message("low", AlertState::Resolved, below, 0.000123456);
        assert_eq!(resolved, "alert low resolved: 0.0001235 is back over 2147483648");
    }

    #[test]
    fn label_filters_and_checks() {
        let t = threshold("cpu", Condition::Above(0.9)).label("cpu", "1");
        assert!(t.watches("cpu", [("cpu", "1")].into_iter()));
        assert!(!t.watches("cpu", [("cpu", "0")].into_iter()));
        assert!(!t.watches("cpu", std::iter::empty()));
        let all = threshold("cpu", Condition::Above(0.9)).label("cpu", "");
        assert!(all.watches("cpu", std::iter::empty()));
        assert!(!all.watches("cpu", [("cpu", "1")].into_iter()));
        assert!(all.watches("cpu", [("mode", "user")].into_iter()));
        assert!(threshold("any", Condition::Above(1.0)).watches("any", [("a", "b")].into_iter()));
        assert!(threshold("x", Condition::Above(f64::NAN)).check().is_err());
        assert!(threshold("x", Condition::Above(1.0)).hysteresis(-1.0).check().is_err());
    }
}
