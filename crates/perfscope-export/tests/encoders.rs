//! perfscope's exposition encoders write byte for byte what the `prometheus` crate's encoders
//! (the reference they replaced) write, on a rich page: perfscope's own families after real
//! calls, other code's counters, gauges and histograms with hostile label values and help
//! texts, a summary, timestamps, and values that format oddly (-0, NaN, infinities, huge and
//! tiny floats).

use perfscope_export::prometheus_crate::proto::{
    self, Bucket, LabelPair, Metric, MetricFamily, MetricType,
};
use perfscope_export::prometheus_crate::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, ProtobufEncoder, Registry,
    TextEncoder,
};
use proptest::prelude::*;

#[perfscope::measure]
fn parse(line: &str) -> usize {
    line.split(',').count()
}

#[perfscope::measure]
fn may_panic(fail: bool) -> Vec<u8> {
    assert!(!fail, "asked to fail");
    vec![1, 2, 3]
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut pair = LabelPair::default();
    pair.set_name(name.into());
    pair.set_value(value.into());
    pair
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut mf = MetricFamily::default();
    mf.set_name(name.into());
    mf.set_help(help.into());
    mf.set_field_type(kind);
    mf.set_metric(metrics);
    mf
}

/// Families no registry of this crate makes, but a user's collector may.
fn odd_families(values: &[f64]) -> Vec<MetricFamily> {
    let gauges = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut m = Metric::from_label(vec![label("i", &i.to_string())]);
            let mut g = proto::Gauge::default();
            g.set_value(*v);
            m.set_gauge(g);
            if i % 3 == 0 {
                m.set_timestamp_ms(1_700_000_000_000 + i as i64);
            }
            if i % 5 == 1 {
                m.set_timestamp_ms(-(i as i64));
            }
            m
        })
        .collect();
    let mut summary = proto::Summary::default();
    summary.set_sample_count(7);
    summary.set_sample_sum(0.125);
    summary.set_quantile(
        [(0.5, 0.01), (0.99, f64::NAN)]
            .iter()
            .map(|(q, v)| {
                let mut quantile = proto::Quantile::default();
                quantile.set_quantile(*q);
                quantile.set_value(*v);
                quantile
            })
            .collect(),
    );
    let mut summary_metric = Metric::default();
    summary_metric.set_summary(summary);
    let mut histogram = proto::Histogram::default();
    histogram.set_sample_count(3);
    histogram.set_sample_sum(-0.0);
    histogram.set_bucket(
        [0.001, 1.0, f64::INFINITY]
            .iter()
            .enumerate()
            .map(|(i, bound)| {
                let mut b = Bucket::default();
                b.set_upper_bound(*bound);
                b.set_cumulative_count(i as u64 + 1);
                b
            })
            .collect(),
    );
    let mut histogram_metric = Metric::from_label(vec![label("path", "/a\"b\\c\nd")]);
    histogram_metric.set_histogram(histogram);
    vec![
        family("app_odd_values", "Values: \\ and\nnewlines \"kept\".", MetricType::GAUGE, gauges),
        family("app_summary", "", MetricType::SUMMARY, vec![summary_metric]),
        family(
            "app_explicit_inf",
            "A histogram with +Inf.",
            MetricType::HISTOGRAM,
            vec![histogram_metric],
        ),
    ]
}

fn reference_text(families: &[MetricFamily]) -> String {
    let mut text = String::new();
    TextEncoder::new().encode_utf8(families, &mut text).expect("encodes");
    text
}

fn reference_protobuf(families: &[MetricFamily]) -> Vec<u8> {
    let mut bytes = Vec::new();
    ProtobufEncoder::new().encode(families, &mut bytes).expect("encodes");
    bytes
}

#[test]
fn a_rich_page_encodes_as_the_prometheus_crate_encodes_it() {
    let registry = Registry::new();
    let requests =
        IntCounterVec::new(Opts::new("app_requests_total", "Requests."), &["route", "code"])
            .expect("a counter");
    registry.register(Box::new(requests.clone())).expect("registers");
    let latency = HistogramVec::new(
        HistogramOpts::new("app_latency_seconds", "Latency, with a \\ in help.")
            .buckets(vec![0.005, 0.1, 2.5]),
        &["route"],
    )
    .expect("a histogram");
    registry.register(Box::new(latency.clone())).expect("registers");
    for (route, code) in [("/", "200"), ("/a\"quote", "500"), ("/back\\slash\nline", "200")] {
        requests.with_label_values(&[route, code]).inc_by(3);
        latency.with_label_values(&[route]).observe(0.05);
        latency.with_label_values(&[route]).observe(3.0);
    }
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().expect("an address"))
        .with_registry(registry.clone())
        .start()
        .expect("starts");
    for line in ["a,b", "c", ""] {
        parse(line);
    }
    may_panic(false);
    let _ = std::panic::catch_unwind(|| may_panic(true));

    let mut families = registry.gather();
    assert!(families.iter().any(|f| f.name() == "perfscope_function_duration_seconds"));
    families.extend(odd_families(&[0.0, -0.0, 1.5, 1e-7, 1e21, 3e300, f64::NAN, -f64::INFINITY]));

    let text = perfscope_export::encode_text(&families);
    assert_eq!(text, reference_text(&families));
    assert_eq!(perfscope_export::encode_protobuf(&families), reference_protobuf(&families));
    // And what the exporter serves is that: the same series (a time total may read a
    // nanosecond apart between two snapshots, as the clock ratio converges).
    let series = |text: &str| -> Vec<String> {
        text.lines().map(|l| l.rsplit_once(' ').map_or(l, |(series, _)| series).into()).collect()
    };
    let gathered = registry.gather();
    assert_eq!(series(&exporter.render()), series(&reference_text(&gathered)));
    let protobuf = exporter.render_protobuf();
    assert_eq!(protobuf.len(), reference_protobuf(&gathered).len());
    exporter.shutdown();
}

#[test]
fn a_family_without_samples_ends_the_page_as_in_the_prometheus_crate() {
    let mut families = odd_families(&[1.0]);
    families.insert(1, family("app_empty", "No samples.", MetricType::COUNTER, Vec::new()));
    let mut text = String::new();
    assert!(TextEncoder::new().encode_utf8(&families, &mut text).is_err());
    assert_eq!(perfscope_export::encode_text(&families), text);
    let mut bytes = Vec::new();
    assert!(ProtobufEncoder::new().encode(&families, &mut bytes).is_err());
    assert_eq!(perfscope_export::encode_protobuf(&families), bytes);
}

proptest! {
    #[test]
    fn any_gauge_values_encode_as_the_prometheus_crate_encodes_them(
        values in prop::collection::vec(any::<f64>(), 1..20),
        ints in prop::collection::vec(any::<i64>(), 1..20),
    ) {
        let values: Vec<f64> = values.into_iter().chain(ints.iter().map(|i| *i as f64)).collect();
        let families = odd_families(&values);
        prop_assert_eq!(perfscope_export::encode_text(&families), reference_text(&families));
        prop_assert_eq!(perfscope_export::encode_protobuf(&families), reference_protobuf(&families));
    }
}

#[test]
fn a_registry_with_a_prefix_gets_the_full_families() {
    let registry = Registry::new_custom(Some("app".into()), None).expect("a registry");
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().expect("an address"))
        .with_registry(registry.clone())
        .start()
        .expect("starts");
    parse("x,y");
    let text = exporter.render();
    let gathered = registry.gather();
    let parse_calls = "app_perfscope_function_calls_total{function=\"encoders::parse\"";
    assert!(text.lines().any(|l| l.starts_with(parse_calls)), "{text}");
    assert!(!text.contains("\nperfscope_function_"), "{text}");
    let names = |text: &str| -> Vec<String> {
        text.lines().map(|l| l.split(['{', ' ']).next().unwrap_or("").into()).collect()
    };
    assert_eq!(names(&text), names(&reference_text(&gathered)));
    exporter.shutdown();
}
