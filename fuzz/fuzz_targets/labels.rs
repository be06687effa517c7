//! Span names, modules and field values that become Prometheus labels: arbitrary function
//! names and modules (spans), figure label values, and SQL statements (sqlx's `db.statement`
//! field, whose fingerprints label the query figures), served by a real exporter. The
//! exposition must stay valid and give every name back unchanged (the oracle is
//! perfscope-export's test modules `tests/text_format` and `tests/hostile_labels`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use perfscope_instrument::queries::{QueryCollector, QueryRecord};

#[path = "../../crates/perfscope-export/tests/text_format/mod.rs"]
mod text_format;

#[path = "../../crates/perfscope-export/tests/hostile_labels/mod.rs"]
mod hostile_labels;

#[derive(Debug, Arbitrary)]
struct Input {
    functions: Vec<(String, String)>,
    values: Vec<String>,
    statements: Vec<String>,
}

fuzz_target!(|input: Input| {
    let Input { mut functions, mut values, mut statements } = input;
    functions.truncate(8);
    values.truncate(8);
    statements.truncate(8);
    let queries = QueryCollector::new();
    for statement in &statements {
        queries.record(&QueryRecord { statement, ..Default::default() });
    }
    let (_, samples) = hostile_labels::check(&functions, &values);
    for stats in queries.fingerprints() {
        let found = samples.iter().any(|s| {
            s.name == perfscope_instrument::queries::CALLS_TOTAL
                && s.label("fingerprint") == Some(stats.label.as_str())
        });
        assert!(found, "fingerprint label {:?} not served as it is", stats.label);
    }
});
