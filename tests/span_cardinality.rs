//! Hostile span-name cardinality: 100,000 distinct span names stay bounded in memory, land in
//! one `<overflow>` row past the cap, and never panic.

use perfscope::{CountingAlloc, DEFAULT_MAX_SPAN_NAMES, report};
use tracing::{Level, Metadata, Span, callsite::Callsite, field::FieldSet, metadata::Kind};
use tracing_core::{Interest, callsite::Identifier};
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

/// A callsite made at run time, as code generating span names would.
struct DynamicCallsite(std::sync::OnceLock<&'static Metadata<'static>>);

impl Callsite for DynamicCallsite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.0.get().expect("set at creation")
    }
}

fn leaked_metadata(name: String) -> &'static Metadata<'static> {
    let callsite: &'static DynamicCallsite =
        Box::leak(Box::new(DynamicCallsite(std::sync::OnceLock::new())));
    let meta = Box::leak(Box::new(Metadata::new(
        Box::leak(name.into_boxed_str()),
        "span_cardinality",
        Level::INFO,
        Some(file!()),
        Some(line!()),
        Some(module_path!()),
        FieldSet::new(&[], Identifier(callsite)),
        Kind::SPAN,
    )));
    callsite.0.set(meta).ok();
    meta
}

const NAMES: usize = 100_000;

#[test]
fn distinct_span_names_past_the_cap_overflow_into_one_row() {
    let metadata: Vec<_> = (0..NAMES).map(|i| leaked_metadata(format!("generated_{i}"))).collect();
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    let heap_before = report().heap_in_use.unwrap();
    tracing::subscriber::with_default(subscriber, || {
        for meta in &metadata {
            let values = meta.fields().value_set(&[]);
            Span::new(meta, &values).in_scope(|| {});
        }
    });
    let report = report();
    let heap_growth = report.heap_in_use.unwrap().saturating_sub(heap_before);

    let generated = report.functions.iter().filter(|f| f.name.contains("::generated_")).count();
    assert_eq!(generated, DEFAULT_MAX_SPAN_NAMES);
    let overflow = report.function("<overflow>").expect("an <overflow> row");
    assert_eq!(overflow.calls, (NAMES - DEFAULT_MAX_SPAN_NAMES) as u64);
    assert_eq!(report.overflowed_spans, overflow.calls);
    let counted: u64 =
        report.functions.iter().filter(|f| f.name.contains("::generated_")).map(|f| f.calls).sum();
    assert_eq!(counted + overflow.calls, NAMES as u64);
    assert!(report.to_string().contains("<overflow>"));

    // Memory is bounded by the cap, not by the names seen: one slot per tracked name.
    let per_name = heap_growth / (DEFAULT_MAX_SPAN_NAMES as u64 + 1);
    assert!(per_name < 64 * 1024, "{heap_growth} bytes for {DEFAULT_MAX_SPAN_NAMES} names");

    // A reset clears the warning with the row it counts.
    perfscope::reset();
    let after = perfscope::report();
    assert_eq!(after.overflowed_spans, 0);
    assert!(after.function("<overflow>").is_none());
}
