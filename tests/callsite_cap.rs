//! The process-wide callsite table (`perfscope_core::MAX_CALLSITES` entries) filled up: later
//! callsites, measured functions and span names alike, are counted under `<callsite overflow>`, and
//! the ones registered before keep their rows. Filling the table affects the whole process,
//! so this file is its own test binary with one test.

use perfscope::{measure, report};
use perfscope_core::names::OVERFLOW;
use perfscope_core::{CallsiteInfo, Kind, MAX_CALLSITES, OVERFLOW_ID, register_dynamic};
use tracing_subscriber::prelude::*;

#[measure]
fn registered_before_the_table_filled() {
    std::hint::black_box(());
}

#[measure]
fn first_called_after_the_table_filled() {
    std::hint::black_box(());
}

fn filler(i: usize) -> CallsiteInfo {
    CallsiteInfo {
        name: format!("filler_{i}").into(),
        module_path: "callsite_cap".into(),
        file: file!().into(),
        line: line!(),
        kind: Kind::Sync,
    }
}

/// Calls in the callsite table's overflow row (the layer's span-name cap has a row of its own,
/// `<other>`, which stays empty here).
fn overflow_calls(report: &perfscope::Report) -> u64 {
    let row = |name: &str| report.function(name).map_or(0, |f| f.calls);
    assert_eq!(row(OVERFLOW), 0, "no span name went past the layer's cap");
    row("<callsite overflow>")
}

#[test]
fn callsites_past_the_table_are_counted_under_overflow() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    let _default = tracing::subscriber::set_default(subscriber);
    registered_before_the_table_filled();
    tracing::info_span!("span_before_the_table_filled").in_scope(|| {});

    let mut registered = 0;
    while register_dynamic(filler(registered)) != OVERFLOW_ID {
        registered += 1;
        assert!(registered <= MAX_CALLSITES, "the table never filled");
    }
    assert!(registered > MAX_CALLSITES - 100, "{registered} fillers");
    assert_eq!(register_dynamic(filler(0)), OVERFLOW_ID, "full stays full");
    // Overflowed twice: the cap's warning, once, in every snapshot's events.
    let warnings = perfscope_core::snapshot()
        .events
        .into_iter()
        .filter(|e| e.subject == "perfscope_core::MAX_CALLSITES")
        .collect::<Vec<_>>();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].value, Some(MAX_CALLSITES as f64));

    for _ in 0..3 {
        first_called_after_the_table_filled();
        registered_before_the_table_filled();
    }
    for _ in 0..2 {
        tracing::info_span!("span_after_the_table_filled").in_scope(|| {});
        tracing::info_span!("span_before_the_table_filled").in_scope(|| {});
    }

    let r = report();
    let calls = |suffix: &str| r.function_by_suffix(suffix).map(|f| f.calls);
    assert_eq!(calls("::registered_before_the_table_filled"), Some(4));
    assert_eq!(calls("::span_before_the_table_filled"), Some(3));
    assert_eq!(calls("::first_called_after_the_table_filled"), None);
    assert_eq!(calls("::span_after_the_table_filled"), None);
    // 3 calls and 2 spans, nothing lost, nothing counted twice.
    assert_eq!(overflow_calls(&r), 5, "{r}");
    // Said, not only counted: the fillers' refusals and the two callsites first seen after.
    assert!(r.overflowed_callsites >= 3, "{}", r.overflowed_callsites);
    let table = r.to_string();
    let warning = format!(
        "warning: {} callsites found perfscope's callsite table full",
        r.overflowed_callsites
    );
    assert!(table.contains(&warning), "{table}");
}
