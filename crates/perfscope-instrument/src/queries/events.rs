//! The collector's events (section `query`): a slow statement (`Anomaly`), an index hint and
//! an index never used (`Recommendation`), with what the report's views read as labels.

use std::borrow::Cow;

use perfscope_core::figures::{Event, EventKind};

use super::{
    Config, DURATION_SECONDS_TOTAL, INDEX_USED, IndexHint, IndexUsage, QueryRecord, SECTION,
    fingerprint,
};

/// Events of each kind kept, the most recent.
pub(super) const MAX_EVENTS: usize = 32;
/// Bytes of a statement a slow-statement event carries (label `statement`).
pub(super) const STATEMENT_BYTES: usize = 2048;
/// Characters of the statement in a slow-statement event's message.
const MESSAGE_STATEMENT_CHARS: usize = 200;

/// `s` cut to at most `max` bytes on a character boundary, `…` (3 bytes) included when cut.
pub(super) fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut at = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    format!("{}…", &s[..at])
}

/// A statement slower than the threshold: labels `fingerprint` and `statement` (as run, cut
/// to [`STATEMENT_BYTES`]), its seconds as the value.
pub(super) fn slow(config: &Config, fingerprint: &str, query: &QueryRecord<'_>) -> Event {
    let message = format!(
        "slow query: {:.1} ms (threshold {:.1} ms), {} rows returned, {} affected: {}",
        query.elapsed.as_secs_f64() * 1e3,
        config.slow_threshold.as_secs_f64() * 1e3,
        query.rows_returned,
        query.rows_affected,
        fingerprint::truncate_chars(query.statement, MESSAGE_STATEMENT_CHARS),
    );
    Event {
        section: SECTION,
        kind: EventKind::Anomaly,
        at_unix_ms: perfscope_core::time::unix_ms_now(),
        subject: DURATION_SECONDS_TOTAL.into(),
        labels: vec![
            (Cow::Borrowed("fingerprint"), fingerprint.to_string()),
            (Cow::Borrowed("statement"), truncate_bytes(query.statement, STATEMENT_BYTES)),
        ],
        message,
        value: Some(query.elapsed.as_secs_f64()),
    }
}

/// An index hint: labels `fingerprint`, `table` and `index` (the suggested `CREATE INDEX`),
/// the evidence as the message.
pub(super) fn hint(hint: &IndexHint) -> Event {
    Event {
        section: SECTION,
        kind: EventKind::Recommendation,
        at_unix_ms: perfscope_core::time::unix_ms_now(),
        subject: DURATION_SECONDS_TOTAL.into(),
        labels: vec![
            (Cow::Borrowed("fingerprint"), hint.fingerprint.clone()),
            (Cow::Borrowed("table"), hint.table.clone()),
            (Cow::Borrowed("index"), hint.suggestion.clone()),
        ],
        message: hint.evidence.clone(),
        value: None,
    }
}

/// An index never used: subject [`INDEX_USED`], labels `table` and `index` (as its figure's),
/// the evidence and what to do as the message.
pub(super) fn unused_index(usage: &IndexUsage) -> Event {
    Event {
        section: SECTION,
        kind: EventKind::Recommendation,
        at_unix_ms: perfscope_core::time::unix_ms_now(),
        subject: INDEX_USED.into(),
        labels: vec![
            (Cow::Borrowed("table"), usage.table.clone()),
            (Cow::Borrowed("index"), usage.index.clone()),
        ],
        message: format!(
            "index {} on {} is never used: {}. Drop it unless statements not seen here need it.",
            usage.index, usage.table, usage.evidence
        ),
        value: None,
    }
}

/// Adds `event`, dropping the oldest past [`MAX_EVENTS`].
pub(super) fn push_bounded(events: &mut Vec<Event>, event: Event) {
    if events.len() >= MAX_EVENTS {
        events.remove(0);
    }
    events.push(event);
}

/// Adds a hint's `event`, replacing the same hint (same labels) given earlier.
pub(super) fn push_hint(events: &mut Vec<Event>, event: Event) {
    events.retain(|e| e.labels != event.labels);
    push_bounded(events, event);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_hint(table: &str, column: &str) -> Event {
        hint(&IndexHint {
            fingerprint: format!("0123abcd SELECT * FROM {table} WHERE {column} = ?"),
            statement: format!("SELECT * FROM {table} WHERE {column} = 1"),
            table: table.to_owned(),
            columns: vec![column.to_owned()],
            suggestion: format!("CREATE INDEX ON {table}({column})"),
            evidence: "SCAN".to_owned(),
        })
    }

    #[test]
    fn a_hint_given_again_replaces_itself_and_keeps_the_others() {
        let mut events = Vec::new();
        push_hint(&mut events, index_hint("orders", "customer"));
        push_hint(&mut events, index_hint("quotes", "symbol"));
        push_hint(&mut events, index_hint("orders", "customer"));
        let tables: Vec<_> = events.iter().map(|e| e.labels[1].1.clone()).collect();
        assert_eq!(tables, ["quotes", "orders"]);
        // Past MAX_EVENTS the oldest goes.
        for i in 0..MAX_EVENTS {
            push_hint(&mut events, index_hint("t", &format!("c{i}")));
        }
        assert_eq!(events.len(), MAX_EVENTS);
        assert_eq!(events[0].labels[2].1, "CREATE INDEX ON t(c0)");
    }

    #[test]
    fn statements_are_cut_on_a_character_boundary_within_the_bound() {
        assert_eq!(truncate_bytes("SELECT 1", 8), "SELECT 1");
        assert_eq!(truncate_bytes("SELECT 12", 8), "SELEC…");
        // 'é' is 2 bytes: 4 bytes of room before the mark hold two of them.
        assert_eq!(truncate_bytes("éééééé", 7), "éé…");
        assert_eq!(truncate_bytes("ééééé", 8), "éé…");
        for max in 0..40 {
            let cut = truncate_bytes("a€b€c€d€e€f€g€h€", max);
            assert!(cut.len() <= max.max(3), "{max}: {cut:?}");
        }
    }
}
