//! What one Prometheus scrape costs with 1,000 and 10,000 measured functions (issue 26's goal:
//! ≤ 3 ms text and ≤ 2 ms protobuf for 1,000, ≤ 25 ms for 10,000): a snapshot, the exported
//! totals, the families and their encoding, in the text and the protobuf format. Baselines in
//! the same run: the snapshot any exporter must take, and the `prometheus` crate's own
//! encoders on the same gathered families (what perfscope's encoders replaced).
//!
//! ```text
//! cargo bench -p perfscope-export --bench exposition
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use perfscope_core::{Callsite, CallsiteName, Kind, enter};
use perfscope_export::PrometheusExporter;
use perfscope_export::prometheus_crate::proto::Metric;

const CALLS_PER_SCRAPE: usize = 10;

/// `count` distinct callsites numbered from `from`, as `count` `#[measure]`d functions would
/// have.
fn callsites(from: usize, count: usize) -> Vec<&'static Callsite> {
    (from..from + count)
        .map(|i| {
            let name: &'static str =
                Box::leak(format!("bench::module{}::function{i}", i / 50).into());
            let module: &'static str = Box::leak(format!("bench::module{}", i / 50).into());
            &*Box::leak(Box::new(Callsite::new(
                CallsiteName::Static(name),
                Kind::Sync,
                module,
                file!(),
                i as u32,
            )))
        })
        .collect()
}

/// Calls every function `calls` times.
fn call_all(callsites: &[&'static Callsite], calls: usize) {
    for _ in 0..calls {
        for callsite in callsites {
            let _guard = enter(callsite);
            black_box(callsite);
        }
    }
}

/// An exporter with a series for each of `functions` functions (no listener is used), and the
/// length of its text page.
fn exporter(functions: usize) -> (PrometheusExporter, usize) {
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().expect("an address"))
        .with_max_functions(functions)
        .start()
        .expect("the exporter starts");
    let first = exporter.render();
    let series = first.lines().filter(|l| l.starts_with("perfscope_function_calls_total{")).count();
    assert_eq!(series, functions, "one series per function");
    (exporter, first.len())
}

/// Every part of a scrape of `callsites.len()` functions, and whole scrapes.
fn scrapes(c: &mut Criterion, callsites: &[&'static Callsite], samples: usize) {
    let functions = callsites.len();
    let (exporter, page) = exporter(functions);
    let mut group = c.benchmark_group(format!("exposition_{functions}_functions"));
    group.sample_size(samples).measurement_time(Duration::from_secs(8));
    group.bench_function("baseline: perfscope_core::snapshot()", |b| {
        b.iter(|| black_box(perfscope_core::snapshot()));
    });
    // Where a scrape's time goes: the families (snapshot, totals, protobuf structs, the
    // registry's sort), then an encoder on gathered families.
    group.bench_function("part: gather families (snapshot included)", |b| {
        b.iter(|| black_box(exporter.registry().gather()));
    });
    let gathered = exporter.registry().gather();
    group.bench_function("part: encode text, prometheus crate (baseline)", |b| {
        b.iter(|| {
            let mut text = String::new();
            let encoder = perfscope_export::prometheus_crate::TextEncoder::new();
            encoder.encode_utf8(&gathered, &mut text).expect("encodes");
            black_box(text)
        });
    });
    group.bench_function("part: encode text, perfscope", |b| {
        b.iter(|| black_box(perfscope_export::encode_text(&gathered)));
    });
    // What a fresh page costs: the same encoder into a buffer kept across iterations (its
    // memory mapped already) against a new `String` each time (above).
    let mut kept = String::new();
    group.bench_function("part: encode text, perfscope, into a kept buffer", |b| {
        b.iter(|| {
            kept.clear();
            perfscope_export::encode_text_into(&gathered, &mut kept);
            black_box(kept.len())
        });
    });
    group.bench_function("part: encode protobuf, prometheus crate (baseline)", |b| {
        use perfscope_export::prometheus_crate::Encoder as _;
        b.iter(|| {
            let mut bytes = Vec::new();
            let encoder = perfscope_export::prometheus_crate::ProtobufEncoder::new();
            encoder.encode(&gathered, &mut bytes).expect("encodes");
            black_box(bytes)
        });
    });
    group.bench_function("part: encode protobuf, perfscope", |b| {
        b.iter(|| black_box(perfscope_export::encode_protobuf(&gathered)));
    });
    // What handing the registry its samples sorted saves: `Registry::gather` sorts every
    // family's samples by label values; samples in first-call order (by callsite id) against
    // samples already sorted (which the collector now returns).
    let calls = gathered
        .iter()
        .find(|f| f.name() == "perfscope_function_calls_total")
        .expect("the calls family");
    let sorted = calls.get_metric().to_vec();
    let number = |m: &Metric| -> usize {
        let function = m.get_label()[0].value();
        function.rsplit("function").next().and_then(|n| n.parse().ok()).unwrap_or(usize::MAX)
    };
    let mut first_call_order = sorted.clone();
    first_call_order.sort_by_key(number);
    for (case, metrics) in [("first-call order (baseline)", &first_call_order), ("sorted", &sorted)]
    {
        group.bench_function(format!("part: the registry's sort of one family, {case}"), |b| {
            b.iter_batched(
                || metrics.clone(),
                |mut metrics| {
                    // The registry's comparison: label values in order.
                    metrics.sort_by(|a, b| {
                        let (a, b) = (a.get_label(), b.get_label());
                        a.iter().map(|l| l.value()).cmp(b.iter().map(|l| l.value()))
                    });
                    black_box(metrics)
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.bench_function("scrape text, nothing new", |b| {
        b.iter(|| black_box(exporter.render()));
    });
    // `render()` before its new page was asked for huge pages: a plain `String` of the last
    // page's size (and an eighth), the page written into it.
    group.bench_function("scrape text, nothing new, into a plain new String (baseline)", |b| {
        b.iter(|| {
            let mut text = String::with_capacity(page + page / 8);
            exporter.render_into(&mut text);
            black_box(text)
        });
    });
    group.bench_function("scrape protobuf, nothing new", |b| {
        b.iter(|| black_box(exporter.render_protobuf()));
    });
    group.bench_function("scrape text, 10 new calls per function", |b| {
        b.iter_batched(
            || call_all(callsites, CALLS_PER_SCRAPE),
            |()| black_box(exporter.render()),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("scrape protobuf, 10 new calls per function", |b| {
        b.iter_batched(
            || call_all(callsites, CALLS_PER_SCRAPE),
            |()| black_box(exporter.render_protobuf()),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn exposition(c: &mut Criterion) {
    // 1,000 functions first (the snapshot holds only them), then 9,000 more.
    let mut all = callsites(0, 1000);
    call_all(&all, CALLS_PER_SCRAPE);
    scrapes(c, &all, 20);
    let more = callsites(1000, 9000);
    call_all(&more, CALLS_PER_SCRAPE);
    all.extend(more);
    scrapes(c, &all, 10);
}

criterion_group!(benches, exposition);
criterion_main!(benches);
