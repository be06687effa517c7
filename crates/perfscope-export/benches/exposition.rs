//! What one Prometheus scrape costs with 1,000 measured functions: a snapshot, the exported
//! totals, the families and their encoding (goal: ≤ 5 ms), in the text and the protobuf
//! format. Baseline in the same run: the snapshot any exporter must take.
//!
//! ```text
//! cargo bench -p perfscope-export --bench exposition
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use perfscope_core::{Callsite, CallsiteName, Kind, enter};

const FUNCTIONS: usize = 1000;
const CALLS_PER_SCRAPE: usize = 10;

/// 1,000 distinct callsites, as 1,000 `#[measure]`d functions would have.
fn callsites() -> Vec<&'static Callsite> {
    (0..FUNCTIONS)
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

fn exposition(c: &mut Criterion) {
    let callsites = callsites();
    call_all(&callsites, CALLS_PER_SCRAPE);
    let exporter =
        perfscope_export::prometheus().install_recorder().expect("the recorder installs");
    let first = exporter.render();
    let series = first.lines().filter(|l| l.starts_with("perfscope_function_calls_total{")).count();
    assert_eq!(series, FUNCTIONS, "one series per function");

    // A scrape is the whole cost: snapshot, exported totals, families, encoding.
    let mut group = c.benchmark_group("exposition_1000_functions");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("baseline: perfscope_core::snapshot()", |b| {
        b.iter(|| black_box(perfscope_core::snapshot()));
    });
    // Where a text scrape's time goes: building the families (snapshot, totals, protobuf
    // structs, the registry's sort) vs the prometheus crate's encoders on gathered families.
    group.bench_function("part: gather families (snapshot included)", |b| {
        b.iter(|| black_box(exporter.registry().gather()));
    });
    let gathered = exporter.registry().gather();
    group.bench_function("part: encode text only", |b| {
        b.iter(|| {
            let mut text = String::new();
            let encoder = perfscope_export::prometheus_crate::TextEncoder::new();
            encoder.encode_utf8(&gathered, &mut text).expect("encodes");
            black_box(text)
        });
    });
    group.bench_function("part: encode protobuf only", |b| {
        use perfscope_export::prometheus_crate::Encoder as _;
        b.iter(|| {
            let mut bytes = Vec::new();
            let encoder = perfscope_export::prometheus_crate::ProtobufEncoder::new();
            encoder.encode(&gathered, &mut bytes).expect("encodes");
            black_box(bytes)
        });
    });
    group.bench_function("scrape text, nothing new", |b| {
        b.iter(|| black_box(exporter.render()));
    });
    group.bench_function("scrape protobuf, nothing new", |b| {
        b.iter(|| black_box(exporter.render_protobuf()));
    });
    group.bench_function("scrape text, 10 new calls per function", |b| {
        b.iter_batched(
            || call_all(&callsites, CALLS_PER_SCRAPE),
            |()| black_box(exporter.render()),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("scrape protobuf, 10 new calls per function", |b| {
        b.iter_batched(
            || call_all(&callsites, CALLS_PER_SCRAPE),
            |()| black_box(exporter.render_protobuf()),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, exposition);
criterion_main!(benches);
