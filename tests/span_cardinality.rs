//! Hostile span-name cardinality: 100,000 distinct span names stay bounded in memory, land in
//! one `<other>` row (`perfscope_core::names::OVERFLOW`) past the cap, and never panic.

use perfscope::{CountingAlloc, DEFAULT_MAX_SPAN_NAMES, report};
use perfscope_core::names::OVERFLOW;
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

/// Bytes allocated and not freed, process-wide (read directly: a report would count itself).
fn heap() -> u64 {
    perfscope_core::alloc::heap_in_use().expect("CountingAlloc is the global allocator")
}

#[test]
fn distinct_span_names_past_the_cap_overflow_into_one_row() {
    let metadata: Vec<_> = (0..NAMES).map(|i| leaked_metadata(format!("generated_{i}"))).collect();
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    // Past the cap, and far enough for the registry's span slab to have its pages.
    let settled = DEFAULT_MAX_SPAN_NAMES + 1_000;
    let (before, mut at_cap, mut after) = (heap(), 0, 0);
    tracing::subscriber::with_default(subscriber, || {
        for (i, meta) in metadata.iter().enumerate() {
            if i == settled {
                at_cap = heap();
            }
            let values = meta.fields().value_set(&[]);
            Span::new(meta, &values).in_scope(|| {});
        }
        after = heap();
    });
    let report = report();

    let generated = report.functions.iter().filter(|f| f.name.contains("::generated_")).count();
    assert_eq!(generated, DEFAULT_MAX_SPAN_NAMES);
    let overflow = report.function(OVERFLOW).expect("an <other> row");
    assert_eq!(overflow.calls, (NAMES - DEFAULT_MAX_SPAN_NAMES) as u64);
    assert_eq!(report.overflowed_spans, overflow.calls);
    let counted: u64 =
        report.functions.iter().filter(|f| f.name.contains("::generated_")).map(|f| f.calls).sum();
    assert_eq!(counted + overflow.calls, NAMES as u64);
    assert!(report.to_string().contains(OVERFLOW));

    // Memory is bounded by the cap, not by the names seen: each tracked name costs its slot
    // in this thread's store (128 bytes: one call's latency is kept inline, no octave) plus its
    // callsite and name entries, about 410 bytes in all (2.8 KiB before the compact store).
    let per_name = at_cap.saturating_sub(before) / (DEFAULT_MAX_SPAN_NAMES as u64 + 1);
    assert!(
        (256..1024).contains(&per_name),
        "{per_name} bytes per tracked span name (expected about 410)"
    );
    // A span past the cap costs nothing that stays: 95,000 of them, not even a byte each.
    let overflow_growth = after.saturating_sub(at_cap);
    assert!(
        overflow_growth < 64 * 1024,
        "{overflow_growth} bytes kept for {} spans past the cap",
        NAMES - settled
    );

    // A reset clears the warning with the row it counts.
    perfscope::reset();
    let after = perfscope::report();
    assert_eq!(after.overflowed_spans, 0);
    assert!(after.function(OVERFLOW).is_none());
}
