//! `perfscope::layer().with_max_span_names(n)`: the cap on distinct span names is
//! process-wide, so this file is its own test binary and its one test sees every name.

use perfscope::{FunctionKind, report};
use perfscope_core::names::OVERFLOW;
use tracing_subscriber::prelude::*;

fn spans_named_a_to_e() {
    for _ in 0..2 {
        tracing::info_span!("capped_a").in_scope(|| {});
        tracing::info_span!("capped_b").in_scope(|| {});
        tracing::info_span!("capped_c").in_scope(|| {});
        tracing::info_span!("capped_d").in_scope(|| {});
        tracing::info_span!("capped_e").in_scope(|| {});
    }
}

fn calls(report: &perfscope::Report, suffix: &str) -> Option<u64> {
    report.function_by_suffix(suffix).map(|f| f.calls)
}

#[test]
fn names_past_the_cap_share_one_overflow_row_and_are_counted() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer().with_max_span_names(3));
    tracing::subscriber::with_default(subscriber, spans_named_a_to_e);
    let r = report();
    // The first three names seen get rows; the other two share `<other>` (`OVERFLOW`).
    for name in ["::capped_a", "::capped_b", "::capped_c"] {
        assert_eq!(calls(&r, name), Some(2), "{name}:\n{r}");
    }
    assert_eq!((calls(&r, "::capped_d"), calls(&r, "::capped_e")), (None, None), "{r}");
    let overflow = r.function(OVERFLOW).expect("an <other> row");
    assert_eq!((overflow.calls, overflow.kind), (4, FunctionKind::Span));
    assert_eq!(r.overflowed_spans, 4);
    // Overflowed four times: the cap's warning, once, in the snapshot's events.
    let warnings = perfscope_core::snapshot()
        .events
        .into_iter()
        .filter(|e| e.subject == "perfscope_layer::max_span_names")
        .count();
    assert_eq!(warnings, 1);
    assert!(
        r.to_string()
            .contains("warning: 4 spans past the span-name cap were counted under <other>"),
        "{r}"
    );

    // Names already tracked keep their rows under a capped layer; a layer with a higher cap
    // tracks new names again (the names table is shared, the cap is the layer's).
    let subscriber = tracing_subscriber::registry().with(perfscope::layer().with_max_span_names(4));
    tracing::subscriber::with_default(subscriber, spans_named_a_to_e);
    let r = report();
    assert_eq!(calls(&r, "::capped_a"), Some(4));
    assert_eq!(calls(&r, "::capped_d"), Some(2), "the fourth name fits under a cap of 4:\n{r}");
    assert_eq!(calls(&r, "::capped_e"), None);
    assert_eq!((r.function(OVERFLOW).map(|f| f.calls), r.overflowed_spans), (Some(6), 6));
}
