//! The query collector's slow-statement events: the statement as run reaches every snapshot
//! and the report (label `statement`, cut to 2 KiB on a character boundary with `…`), not only
//! the first 200 characters the message quotes.

use std::time::Duration;

use perfscope_core::figures::{Event, EventKind};
use perfscope_instrument::queries::{Config, QueryCollector, QueryRecord};

fn label<'a>(event: &'a Event, key: &str) -> Option<&'a str> {
    event.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn a_slow_statement_s_event_carries_the_statement_cut_to_2_kib() {
    let queries =
        QueryCollector::with_config(Config { slow_threshold: Duration::ZERO, slow_log_len: 4 });
    // 3,000 two-byte characters in a literal: 6 KiB of statement.
    let statement = format!("SELECT id FROM slow_events WHERE note = '{}'", "é".repeat(3000));
    let short = "SELECT id FROM slow_events_short WHERE id = 1";
    for statement in [statement.as_str(), short] {
        let record = QueryRecord {
            statement,
            elapsed: Duration::from_millis(250),
            rows_returned: 1,
            rows_affected: 0,
        };
        queries.record(&record);
    }

    let events: Vec<Event> = perfscope_core::snapshot()
        .events
        .into_iter()
        .filter(|e| e.section == "query" && e.kind == EventKind::Anomaly)
        .filter(|e| label(e, "statement").is_some_and(|s| s.contains("slow_events")))
        .collect();
    assert_eq!(events.len(), 2, "{events:#?}");
    let long = label(&events[0], "statement").expect("the statement");
    assert!(long.len() <= 2048 && long.len() > 2040, "{} bytes", long.len());
    let kept = long.strip_suffix('…').expect("marked as cut");
    assert!(statement.starts_with(kept));
    assert_eq!(label(&events[1], "statement"), Some(short), "a short one whole");
    let fingerprints = queries.fingerprints();
    assert_eq!(label(&events[0], "fingerprint"), Some(fingerprints[0].label.as_str()));
    assert_eq!(events[0].value, Some(0.25));
    // The message stays a sentence: the statement's first 200 characters.
    let quoted = events[0].message.split_once(" affected: ").expect("the message's statement").1;
    assert_eq!(quoted.chars().count(), 201, "200 characters and the mark");

    // The report's view reads the statement.
    let report = perfscope::report();
    let slow = report.slow_queries();
    let viewed = slow.iter().find(|q| q.statement.contains("slow_events_short"));
    assert_eq!(viewed.map(|q| q.statement.as_str()), Some(short));
    let viewed = slow.iter().find(|q| q.statement.starts_with(kept));
    assert_eq!(viewed.map(|q| q.statement.len()), Some(long.len()));
}
