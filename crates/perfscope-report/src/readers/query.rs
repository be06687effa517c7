//! [`QueryFigures`]: a statement fingerprint's figures; [`SlowQueryEvent`] and
//! [`IndexHintEvent`]: the `query` events the views show; [`IndexUsage`]: an index used or
//! never used, from its figure and its recommendation.

use perfscope_core::names;
use std::time::Duration;

use super::{by_label, duration, grouped, label, name_of, value, whole};
use crate::report::{EventKind, EventStats, Report};

/// One statement shape's figures (section `query`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryFigures {
    /// The fingerprint label: a short hash and the normalised statement.
    pub fingerprint: String,
    /// Statements run, failed ones included.
    pub calls: u64,
    /// Statements that ran and ended with an error (as far as the source sees them); `None`
    /// for reports from before the source counted them.
    pub errors: Option<u64>,
    /// Time spent in them; `None` when the source does not say or gave a value that is not a
    /// duration.
    pub total_time: Option<Duration>,
    /// Their 99th percentile duration.
    pub p99: Option<Duration>,
    /// Rows returned and affected.
    pub rows: u64,
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
}

impl QueryFigures {
    /// Mean statement time; `None` before the first call.
    pub fn mean(&self) -> Option<Duration> {
        self.total_time.filter(|_| self.calls > 0).map(|t| t.div_f64(self.calls as f64))
    }
}

/// A statement of the slow-query log: a `query` event of kind anomaly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlowQueryEvent {
    /// When it finished, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// Its fingerprint label.
    pub fingerprint: String,
    /// The statement as run (label `statement`, cut to 2 KiB by the source); for reports from
    /// before the label, what the message has of it (its first 200 characters).
    pub statement: String,
    /// How long it took, if the event says.
    pub elapsed: Option<Duration>,
    /// The event's sentence: time, threshold, rows and the start of the statement.
    pub message: String,
}

/// An index hint: a `query` event of kind recommendation (what `perfscope-instrument`'s
/// query collector finds, published as events with labels `fingerprint`, `table` and `index`
/// and the reason as the message). Reports whose hints have no `index` label (saved before the
/// collector published them) are read from a message of the form `index hint: <index>
/// (<reason>)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexHintEvent {
    /// When it was given, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The fingerprint label of the statement explained (empty if the event has none).
    pub fingerprint: String,
    /// The table to index (empty if unknown).
    pub table: String,
    /// The suggested index, e.g. `CREATE INDEX ON signals(symbol)` (empty if unknown).
    pub index: String,
    /// Why: the plan's evidence, or the whole message.
    pub reason: String,
}

/// An index of a table the workload touched (figure `perfscope_query_index_used`, labels
/// `table` and `index`): used by the plans of its statements, or never used, with the
/// recommendation's evidence then.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexUsage {
    /// The table (`<other>` for the indexes past the source's cap).
    pub table: String,
    /// The index's name.
    pub index: String,
    /// Whether a plan uses it (or the database counted scans of it).
    pub used: bool,
    /// For an index never used, the recommendation's message (the evidence and what to do);
    /// empty when there is none (a used index, or one enforcing uniqueness).
    pub reason: String,
}

/// Whether `event` is a statement of the slow-query log.
pub(crate) fn is_slow_query(event: &EventStats) -> bool {
    event.section == names::section::QUERY
        && event.kind == EventKind::Anomaly
        && event.labels.contains_key("fingerprint")
}

/// Whether `event` is an index hint.
pub(crate) fn is_index_hint(event: &EventStats) -> bool {
    event.section == names::section::QUERY
        && event.kind == EventKind::Recommendation
        && !is_unused_index(event)
}

/// Whether `event` is the recommendation about an index never used (its subject is the
/// index's figure).
pub(crate) fn is_unused_index(event: &EventStats) -> bool {
    event.section == names::section::QUERY
        && event.kind == EventKind::Recommendation
        && event.subject == names::QUERY_INDEX_USED.name
}

/// `(index, reason)` from `index hint: <index> (<reason>)`; else no index and the message.
fn parse_hint(message: &str) -> (&str, &str) {
    let body = message.strip_prefix("index hint: ").unwrap_or(message);
    match body.split_once(" (") {
        Some((index, rest)) if index.trim_start().to_ascii_uppercase().starts_with("CREATE") => {
            (index.trim(), rest.strip_suffix(')').unwrap_or(rest))
        }
        _ => ("", body),
    }
}

/// The statement at the end of a slow-statement message (`slow query: ..., N affected:
/// <statement>`), for events without the `statement` label.
fn statement_of(message: &str) -> &str {
    message.split_once(" affected: ").map_or("", |(_, statement)| statement)
}

/// The table of `CREATE [UNIQUE] INDEX [name] ON <table>(<columns>)`.
fn table_of(index: &str) -> &str {
    let Some(at) = index.find(" ON ").or_else(|| index.find(" on ")) else {
        return "";
    };
    index[at + 4..].split('(').next().unwrap_or("").trim()
}

impl Report {
    /// Every statement fingerprint in the report, most time first.
    pub fn queries(&self) -> Vec<QueryFigures> {
        let mut out: Vec<QueryFigures> = grouped(self, names::section::QUERY, &["fingerprint"])
            .into_iter()
            .filter_map(|(key, mut figures)| {
                figures.retain(|f| name_of(f) != names::QUERY_INDEX_USED.name);
                (!figures.is_empty()).then_some((key, figures))
            })
            .map(|(key, figures)| {
                let rows = by_label(&figures, names::QUERY_ROWS_TOTAL.name, "rows");
                let rows_of = |kind: &str| rows.get(kind).copied().unwrap_or(0);
                QueryFigures {
                    fingerprint: key[0].clone(),
                    calls: whole(value(&figures, names::QUERY_CALLS_TOTAL.name, None)),
                    errors: value(&figures, names::QUERY_ERRORS_TOTAL.name, None).map(|v| v as u64),
                    total_time: duration(value(
                        &figures,
                        names::QUERY_DURATION_SECONDS_TOTAL.name,
                        None,
                    )),
                    p99: duration(value(&figures, names::QUERY_DURATION_P99_SECONDS.name, None)),
                    rows: rows.values().fold(0, |a, n| a.saturating_add(*n)),
                    rows_returned: rows_of("returned"),
                    rows_affected: rows_of("affected"),
                }
            })
            .collect();
        out.sort_by_key(|q| std::cmp::Reverse(q.total_time));
        out
    }

    /// The slow-query log's statements in the report's events, slowest first.
    pub fn slow_queries(&self) -> Vec<SlowQueryEvent> {
        let mut out: Vec<SlowQueryEvent> = self
            .events
            .iter()
            .filter(|e| is_slow_query(e))
            .map(|e| SlowQueryEvent {
                at_unix_ms: e.at_unix_ms,
                fingerprint: e.labels.get("fingerprint").cloned().unwrap_or_default(),
                statement: e
                    .labels
                    .get("statement")
                    .cloned()
                    .unwrap_or_else(|| statement_of(&e.message).to_string()),
                elapsed: duration(e.value),
                message: e.message.clone(),
            })
            .collect();
        out.sort_by_key(|q| std::cmp::Reverse(q.elapsed));
        out
    }

    /// The indexes of the tables the workload touched, by table and name: used, or never
    /// used with the recommendation's evidence.
    pub fn index_usage(&self) -> Vec<IndexUsage> {
        let mut out: Vec<IndexUsage> = self
            .figures
            .iter()
            .filter(|f| f.section == names::section::QUERY)
            .filter(|f| name_of(f) == names::QUERY_INDEX_USED.name)
            .map(|f| {
                let (table, index) = (label(f, "table"), label(f, "index"));
                let advice = self.events.iter().filter(|e| is_unused_index(e)).find(|e| {
                    let of = |key: &str| e.labels.get(key).map(String::as_str);
                    of("table") == Some(table) && of("index") == Some(index)
                });
                IndexUsage {
                    table: table.to_string(),
                    index: index.to_string(),
                    used: f.value > 0.0,
                    reason: advice.map(|e| e.message.clone()).unwrap_or_default(),
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.table, &a.index).cmp(&(&b.table, &b.index)));
        out
    }

    /// The index hints in the report's events, in their order.
    pub fn index_hints(&self) -> Vec<IndexHintEvent> {
        self.events
            .iter()
            .filter(|e| is_index_hint(e))
            .map(|e| {
                let labelled = |key: &str| e.labels.get(key).map(String::as_str);
                let (index, reason) = match labelled("index") {
                    Some(index) => (index, e.message.as_str()),
                    None => parse_hint(&e.message),
                };
                IndexHintEvent {
                    at_unix_ms: e.at_unix_ms,
                    fingerprint: labelled("fingerprint").unwrap_or("").to_string(),
                    table: labelled("table").unwrap_or_else(|| table_of(index)).to_string(),
                    index: index.to_string(),
                    reason: reason.to_string(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_hint, statement_of, table_of};

    #[test]
    fn a_hint_message_gives_its_index_reason_and_table() {
        let message = "index hint: CREATE INDEX ON signals(symbol, kind) (EXPLAIN QUERY PLAN: \
                       `SCAN signals` (every row of signals read) while ...)";
        let (index, reason) = parse_hint(message);
        assert_eq!(index, "CREATE INDEX ON signals(symbol, kind)");
        assert_eq!(
            reason,
            "EXPLAIN QUERY PLAN: `SCAN signals` (every row of signals read) while ..."
        );
        assert_eq!(table_of(index), "signals");
        assert_eq!(table_of("CREATE UNIQUE INDEX ix ON \"t 1\" (a)"), "\"t 1\"");
        assert_eq!(parse_hint("add an index (somewhere)"), ("", "add an index (somewhere)"));
        assert_eq!(table_of(""), "");
    }

    #[test]
    fn an_older_slow_statement_message_gives_the_start_of_its_statement() {
        let message = "slow query: 120.0 ms (threshold 100.0 ms), 3 rows returned, 0 affected: \
                       SELECT * FROM t WHERE a = 'x: 0 affected: y'";
        assert_eq!(statement_of(message), "SELECT * FROM t WHERE a = 'x: 0 affected: y'");
        assert_eq!(statement_of("a slow statement"), "");
    }
}
