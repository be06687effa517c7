//! What figure sources know beyond their current values: **events** (an alert firing or
//! resolving, an anomaly, a recommendation) and **history** (a figure's recent points). Both
//! travel the same path as figures: a [`FigureSource`](crate::figures::FigureSource) answers
//! [`events`](crate::figures::FigureSource::events) and
//! [`history`](crate::figures::FigureSource::history), a snapshot carries them, readers take
//! them from there. Events are bounded by their source and ride on every snapshot; history only
//! on [`snapshot_with_history`](crate::snapshot_with_history) (reports, not scrapes).

use std::borrow::Cow;

use crate::kinds::FigureUnit;

/// What kind of thing happened (`alert_fired`, `alert_resolved`, `anomaly` or
/// `recommendation` in a report: [`EventKind::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EventKind {
    /// A threshold's condition held long enough: the alert fired.
    AlertFired,
    /// The figure came back past the threshold by its hysteresis: the alert resolved.
    AlertResolved,
    /// A figure or a function's behaviour departed from its recent past (a step, a spike).
    Anomaly,
    /// Advice joining several figures, naming its evidence.
    Recommendation,
}

impl EventKind {
    /// The name a report's JSON gives it: `alert_fired`, `alert_resolved`, `anomaly`,
    /// `recommendation`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AlertFired => "alert_fired",
            EventKind::AlertResolved => "alert_resolved",
            EventKind::Anomaly => "anomaly",
            EventKind::Recommendation => "recommendation",
        }
    }
}

/// Something a person should see: when, about what, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The source's section (`host`, `process`, `function`, ...).
    pub section: &'static str,
    /// What happened.
    pub kind: EventKind,
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// What it is about: a figure's name, or a function's.
    pub subject: String,
    /// The subject's labels, if it is a labelled figure.
    pub labels: Vec<(Cow<'static, str>, String)>,
    /// One or two sentences for people, naming the evidence.
    pub message: String,
    /// The value that triggered it, if one did.
    pub value: Option<f64>,
}

/// A figure's recent points, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The source's section.
    pub section: &'static str,
    /// The figure's name (as in [`Figure::name`](crate::figures::Figure::name)), or a derived
    /// series' (e.g. a function's p99 per interval).
    pub name: Cow<'static, str>,
    /// Labels telling series of one name apart.
    pub labels: Vec<(Cow<'static, str>, String)>,
    /// The values' unit.
    pub unit: FigureUnit,
    /// `(milliseconds since the Unix epoch, value)`, oldest first.
    pub points: Vec<(u64, f64)>,
}
