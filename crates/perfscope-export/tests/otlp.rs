//! The OTLP exporter against a small OTLP/HTTP receiver running in this process: a real HTTP
//! server (tiny_http) accepting `POST /v1/metrics` and decoding the protobuf body with
//! `opentelemetry-proto`.

mod common;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use perfscope_export::families::{self, FAMILIES, LATENCY_BUCKETS};
use perfscope_export::{ExportError, otlp};

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();
use prost::Message;

/// An OTLP/HTTP receiver: every request is answered, and reported as decoded (or as an error).
struct Receiver {
    address: SocketAddr,
    requests: mpsc::Receiver<Result<ExportMetricsServiceRequest, String>>,
}

impl Receiver {
    fn start() -> Receiver {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("the receiver binds");
        let address = server.server_addr().to_ip().expect("a TCP address");
        let (send, requests) = mpsc::channel();
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = Vec::new();
                let read = request.as_reader().read_to_end(&mut body);
                let content_type = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Content-Type"))
                    .map(|h| h.value.to_string());
                let decoded = if *request.method() != tiny_http::Method::Post
                    || request.url() != "/v1/metrics"
                {
                    Err(format!("unexpected {} {}", request.method(), request.url()))
                } else if content_type.as_deref() != Some("application/x-protobuf") {
                    Err(format!("unexpected content type {content_type:?}"))
                } else {
                    read.map_err(|e| e.to_string()).and_then(|_| {
                        ExportMetricsServiceRequest::decode(&body[..]).map_err(|e| e.to_string())
                    })
                };
                let status = if decoded.is_ok() { 200 } else { 400 };
                let _ = request.respond(tiny_http::Response::empty(status));
                if send.send(decoded).is_err() {
                    return;
                }
            }
        });
        Receiver { address, requests }
    }

    fn next(&self) -> ExportMetricsServiceRequest {
        self.requests
            .recv_timeout(Duration::from_secs(30))
            .expect("the exporter pushed within 30 s")
            .expect("a valid OTLP/HTTP metrics request")
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn metrics(request: &ExportMetricsServiceRequest) -> Vec<&Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect()
}

#[perfscope::measure]
fn encode_order(id: u32) -> u32 {
    id.wrapping_mul(2_654_435_761)
}

#[test]
fn pushes_every_family_with_exact_counts() {
    let receiver = Receiver::start();
    let exporter = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", receiver.address))
        .with_service_name("perfscope-test")
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    for id in 0..42 {
        std::hint::black_box(encode_order(id));
    }
    exporter.flush().expect("the push succeeds");
    let request = receiver.next();

    let resource = request.resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(attribute(&resource.attributes, "service.name"), Some("perfscope-test"));
    let metrics = metrics(&request);
    for family in FAMILIES {
        let metric = metrics.iter().find(|m| m.name == family.name);
        let metric = metric.unwrap_or_else(|| panic!("{} not pushed", family.name));
        assert_eq!(metric.unit, family.unit.otel_unit());
        assert_eq!(metric.description, family.help);
    }
    let ours = |attributes: &[KeyValue]| {
        attribute(attributes, "function") == Some("otlp::encode_order")
            && attribute(attributes, "module") == Some("otlp")
    };
    let calls = metrics.iter().find(|m| m.name == families::CALLS).unwrap();
    let Some(metric::Data::Sum(sum)) = &calls.data else { panic!("calls is not a sum: {calls:?}") };
    assert!(sum.is_monotonic);
    let point = sum.data_points.iter().find(|p| ours(&p.attributes)).expect("our function");
    assert_eq!(point.value, Some(number_data_point::Value::AsInt(42)));

    let duration = metrics.iter().find(|m| m.name == families::DURATION).unwrap();
    let Some(metric::Data::Histogram(histogram)) = &duration.data else {
        panic!("duration is not a histogram: {duration:?}")
    };
    let point = histogram.data_points.iter().find(|p| ours(&p.attributes)).unwrap();
    assert_eq!(point.count, 42);
    assert_eq!(point.explicit_bounds, LATENCY_BUCKETS);
    assert_eq!(point.bucket_counts.iter().sum::<u64>(), 42);
    assert!(point.sum.unwrap() > 0.0);

    // Figures that are not functions arrive through the same snapshot: the process's threads.
    let threads = metrics.iter().find(|m| m.name == families::PROCESS_THREADS);
    let threads = threads.unwrap_or_else(|| panic!("process_threads not pushed: {metrics:?}"));
    let Some(metric::Data::Gauge(gauge)) = &threads.data else {
        panic!("not a gauge: {threads:?}")
    };
    let value = match gauge.data_points[0].value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        other => panic!("not a double: {other:?}"),
    };
    assert!(value >= 2.0, "{value} threads");

    exporter.shutdown().unwrap();
}

#[perfscope::measure]
fn lost_order() {}

#[test]
fn an_unreachable_collector_is_an_error_not_a_panic() {
    let port = common::free_port();
    let exporter = otlp()
        .with_endpoint(format!("http://127.0.0.1:{port}/v1/metrics"))
        .with_timeout(Duration::from_secs(2))
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    lost_order();
    let error = exporter.flush().unwrap_err();
    assert!(matches!(error, ExportError::Otlp(_)), "{error:?}");
}

#[test]
fn a_bad_endpoint_is_an_error() {
    let error = otlp().with_endpoint("not a url").install().unwrap_err();
    assert!(matches!(error, ExportError::Otlp(_)), "{error:?}");
}

/// A number data point's value as f64.
fn number(point: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint) -> f64 {
    match point.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => f64::NAN,
    }
}

/// Known latencies, time (a parent's self time apart from its busy time), allocations and
/// panics read exactly over OTLP, and a second push carries the running totals (cumulative
/// temporality), not only what is new.
#[test]
fn known_work_reads_right_and_pushes_stay_cumulative() {
    use common::known::{self, BYTES_PER_CALL, Known, within};
    let receiver = Receiver::start();
    let exporter = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", receiver.address))
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    let (spin, fail) = (known::spin_name(), known::fail_name());
    let mut k = Known::default();
    for round in 1..=2 {
        known::run(10, &mut k);
        exporter.flush().expect("the push succeeds");
        let request = receiver.next();
        let metrics = metrics(&request);
        let of = |name: &str| *metrics.iter().find(|m| m.name == name).unwrap();
        let sum_of = |name: &str, function: &str| {
            let Some(metric::Data::Sum(sum)) = &of(name).data else { panic!("{name} is no sum") };
            assert!(sum.is_monotonic);
            assert_eq!(sum.aggregation_temporality, 2, "{name}: cumulative");
            let point = sum
                .data_points
                .iter()
                .find(|p| attribute(&p.attributes, "function") == Some(function));
            number(point.unwrap_or_else(|| panic!("no {name} for {function}")))
        };
        let n = k.calls as f64;
        let Some(metric::Data::Histogram(h)) = &of(families::DURATION).data else { panic!() };
        let point = h
            .data_points
            .iter()
            .find(|p| attribute(&p.attributes, "function") == Some(&spin))
            .unwrap();
        assert_eq!(point.count, k.calls, "round {round}: cumulative count");
        let index = |bound: f64| LATENCY_BUCKETS.iter().position(|b| *b == bound).unwrap();
        let cumulative = |bound: f64| point.bucket_counts[..=index(bound)].iter().sum::<u64>();
        assert_eq!(cumulative(0.0025), 0, "3 ms calls below 2.5 ms: {point:?}");
        let in_5ms = cumulative(0.005);
        assert!(
            in_5ms <= k.calls && in_5ms >= k.calls - k.slow,
            "{in_5ms} of {n} ({} slow)",
            k.slow
        );
        let sum = point.sum.unwrap();
        let spin_bounds = k.spin_bounds();
        assert!(within(sum, spin_bounds, 0.01), "round {round}: sum {sum} s, {spin_bounds:?}");
        for family in [families::SELF_SECONDS, families::BUSY_SECONDS] {
            let seconds = sum_of(family, &spin);
            assert!(within(seconds, spin_bounds, 0.01), "{family} {seconds}, {spin_bounds:?}");
        }
        // A parent's self time is its own 2 ms a call, without its child's: not its busy time.
        let (parent, child) = known::parent_and_child_names();
        let (own, parent_self) = (k.parent_self_bounds(), sum_of(families::SELF_SECONDS, &parent));
        assert!(
            within(parent_self, own, 0.01),
            "round {round}: parent self {parent_self}, {own:?}"
        );
        let (bounds, busy) = (k.parent_busy_bounds(), sum_of(families::BUSY_SECONDS, &parent));
        assert!(within(busy, bounds, 0.01), "round {round}: parent busy {busy}, {bounds:?}");
        for family in [families::SELF_SECONDS, families::BUSY_SECONDS] {
            let (value, bounds) = (sum_of(family, &child), k.child_bounds());
            assert!(
                within(value, bounds, 0.01),
                "round {round}: child {family} {value}, {bounds:?}"
            );
        }
        assert_eq!(sum_of(families::CALLS, &spin), n);
        assert_eq!(sum_of(families::ALLOC_BYTES, &spin), n * BYTES_PER_CALL as f64);
        assert_eq!(sum_of(families::ALLOCATIONS, &spin), n);
        assert_eq!(sum_of(families::CALLS, &fail), k.fail_calls as f64);
        assert_eq!(sum_of(families::PANICS, &fail), k.panics as f64);
    }
    assert_eq!((k.calls, k.panics), (20, 4));
    exporter.shutdown().unwrap();
}

/// Figures that are not functions, whose values the test sets.
#[derive(Debug, Default)]
struct Dials {
    jobs: std::sync::Mutex<f64>,
    held: std::sync::Mutex<f64>,
    /// Statement times (nanoseconds), as the query collector keeps them.
    statements: std::sync::Mutex<perfscope_core::histogram::Histogram>,
    /// Batch sizes (requests per batch), as a batcher keeps them: a count, not a duration.
    sizes: std::sync::Mutex<perfscope_core::histogram::Histogram>,
}

impl perfscope_core::figures::FigureSource for Dials {
    fn read(&self, out: &mut Vec<perfscope_core::figures::Figure>) {
        use perfscope_core::figures::{Figure, FigureUnit};
        let jobs = *self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = *self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let counter =
            Figure::counter("test", "otlp_dials_jobs_total", "Jobs.", FigureUnit::Count, jobs);
        out.push(counter.with_label("queue", "q1"));
        out.push(Figure::gauge("test", "otlp_dials_held_bytes", "Held.", FigureUnit::Bytes, held));
        out.push(Figure::counter(
            "test",
            "otlp_dials_wait_seconds_total",
            "Wait.",
            FigureUnit::Seconds,
            0.5,
        ));
        out.push(Figure::gauge("test", "otlp_dials_share", "Share.", FigureUnit::Ratio, 0.25));
    }

    fn histograms(&self, out: &mut Vec<perfscope_core::figures::HistogramFigure>) {
        use perfscope_core::figures::HistogramFigure;
        let statements = self.statements.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = &perfscope_core::names::QUERY_DURATION_SECONDS;
        let sum = statements.buckets().map(|(low, _, n)| low as f64 * n as f64 / 1e9).sum();
        out.push(
            HistogramFigure::of(name, statements.clone(), sum).with_label("fingerprint", "dials"),
        );
        let sizes = self.sizes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let sum = sizes.buckets().map(|(low, _, n)| low as f64 * n as f64).sum();
        let name = &perfscope_core::names::HTTP_CLIENT_BATCH_SIZE;
        out.push(HistogramFigure::of(name, sizes.clone(), sum).with_label("batcher", "dials"));
    }
}

/// A counter pushed as a cumulative sum of what it grew by (all of it after it went down: its
/// source restarted), a gauge as its value, each with its unit.
#[test]
fn other_figures_push_as_gauges_and_counters_that_survive_a_restart() {
    let dials = std::sync::Arc::new(Dials::default());
    let _registered = perfscope_core::figures::register(dials.clone());
    let receiver = Receiver::start();
    let exporter = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", receiver.address))
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    for (round, (jobs, held, pushed)) in
        [(4.0, 100.0, 4.0), (6.0, 50.0, 6.0), (1.0, 10.0, 7.0)].into_iter().enumerate()
    {
        *dials.jobs.lock().unwrap() = jobs;
        *dials.held.lock().unwrap() = held;
        // Three 2 ms statements and one 40 ms statement more each round.
        for value in [2_000_000, 2_000_000, 2_000_000, 40_000_000] {
            dials.statements.lock().unwrap().record(value);
        }
        // Batches of 4, 4 and 2 requests more each round.
        for size in [4, 4, 2] {
            dials.sizes.lock().unwrap().record(size);
        }
        exporter.flush().expect("the push succeeds");
        let request = receiver.next();
        let metrics = metrics(&request);
        let of = |name: &str| *metrics.iter().find(|m| m.name == name).unwrap();
        let Some(metric::Data::Sum(sum)) = &of("otlp_dials_jobs_total").data else { panic!() };
        assert!(sum.is_monotonic && sum.aggregation_temporality == 2, "{sum:?}");
        assert_eq!(attribute(&sum.data_points[0].attributes, "queue"), Some("q1"));
        assert_eq!(number(&sum.data_points[0]), pushed, "jobs {jobs}");
        let Some(metric::Data::Gauge(gauge)) = &of("otlp_dials_held_bytes").data else { panic!() };
        assert_eq!(number(&gauge.data_points[0]), held);
        let units: Vec<(&str, &str)> = ["jobs_total", "held_bytes", "wait_seconds_total", "share"]
            .iter()
            .map(|n| {
                let metric = of(&format!("otlp_dials_{n}"));
                (metric.unit.as_str(), metric.description.as_str())
            })
            .collect();
        assert_eq!(units, [("1", "Jobs."), ("By", "Held."), ("s", "Wait."), ("1", "Share.")]);
        // The histogram figure: cumulative, what each sync added recorded once.
        let statements = of(perfscope_core::names::QUERY_DURATION_SECONDS.name);
        let Some(metric::Data::Histogram(h)) = &statements.data else { panic!("{statements:?}") };
        let point =
            h.data_points.iter().find(|p| attribute(&p.attributes, "fingerprint") == Some("dials"));
        let point = point.expect("the dials' series");
        let rounds = round as u64 + 1;
        assert_eq!(point.count, 4 * rounds);
        let bounds = &point.explicit_bounds;
        let at = |seconds: f64| bounds.iter().position(|b| *b >= seconds).unwrap();
        assert_eq!(point.bucket_counts[at(0.002)], 3 * rounds, "{point:?}");
        assert_eq!(point.bucket_counts[at(0.040)], rounds, "{point:?}");
        assert_eq!(statements.unit, "s");
        // A histogram of counts: its values as they are, on the count bounds, unit `1`.
        let sizes = of(perfscope_core::names::HTTP_CLIENT_BATCH_SIZE.name);
        let Some(metric::Data::Histogram(h)) = &sizes.data else { panic!("{sizes:?}") };
        let point =
            h.data_points.iter().find(|p| attribute(&p.attributes, "batcher") == Some("dials"));
        let point = point.expect("the dials' batch sizes");
        assert_eq!(point.explicit_bounds, families::COUNT_BUCKETS);
        assert_eq!((point.count, point.sum), (3 * rounds, Some(10.0 * rounds as f64)));
        let at = |size: f64| point.explicit_bounds.iter().position(|b| *b >= size).unwrap();
        assert_eq!(point.bucket_counts[at(2.0)], rounds, "{point:?}");
        assert_eq!(point.bucket_counts[at(4.0)], 2 * rounds, "{point:?}");
        assert_eq!(point.bucket_counts.iter().sum::<u64>(), 3 * rounds, "{point:?}");
        assert_eq!(sizes.unit, "1");
    }
    exporter.shutdown().unwrap();
}

#[perfscope::measure]
fn pushed_by_itself() {}

/// Without `flush`: the exporter syncs and pushes on its own schedule, and once more when it
/// shuts down.
#[test]
fn an_exporter_pushes_on_its_schedule_and_at_shutdown() {
    let receiver = Receiver::start();
    let exporter = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", receiver.address))
        .with_export_every(Duration::from_millis(200))
        .with_sync_every(Duration::from_millis(50))
        .install()
        .unwrap();
    assert!(format!("{exporter:?}").starts_with("OtlpExporter { provider: "), "{exporter:?}");
    let calls = |request: &ExportMetricsServiceRequest| {
        let calls = metrics(request).into_iter().find(|m| m.name == families::CALLS)?;
        let Some(metric::Data::Sum(sum)) = &calls.data else { return None };
        let ours = |p: &&opentelemetry_proto::tonic::metrics::v1::NumberDataPoint| {
            attribute(&p.attributes, "function") == Some("otlp::pushed_by_itself")
        };
        sum.data_points.iter().find(ours).map(number)
    };
    for _ in 0..3 {
        pushed_by_itself();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while calls(&receiver.next()) != Some(3.0) {
        assert!(std::time::Instant::now() < deadline, "no push of the 3 calls");
    }
    let idle = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", receiver.address))
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    exporter.shutdown().unwrap();
    drop(exporter);
    pushed_by_itself();
    // The second exporter never pushed on its schedule: its shutdown pushes what it synced.
    idle.shutdown().unwrap();
    let mut last = receiver.next();
    while let Ok(Ok(next)) = receiver.requests.recv_timeout(Duration::from_millis(500)) {
        last = next;
    }
    assert_eq!(calls(&last), Some(4.0), "the push at shutdown");
}

/// A collector that accepts the connection and never answers: the push gives up after the
/// exporter's timeout, not the default 10 s.
#[test]
fn a_push_gives_up_after_its_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let exporter = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", silent.local_addr().unwrap()))
        .with_timeout(Duration::from_millis(300))
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    lost_order();
    let start = std::time::Instant::now();
    let error = exporter.flush().unwrap_err();
    let took = start.elapsed();
    assert!(matches!(error, ExportError::Otlp(_)), "{error:?}");
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "{took:?}");
}

#[perfscope::measure]
fn synced_before_the_drop() {}

/// Dropping the exporter stops its sync thread, and the meter provider, dropped with it,
/// pushes what was synced.
#[test]
fn dropping_the_exporter_pushes_what_it_synced() {
    let receiver = Receiver::start();
    let exporter = otlp()
        .with_endpoint(format!("http://{}/v1/metrics", receiver.address))
        .with_export_every(Duration::from_secs(3600))
        .install()
        .unwrap();
    synced_before_the_drop();
    exporter.sync_now();
    drop(exporter);
    let request = receiver.next();
    let calls = metrics(&request).into_iter().find(|m| m.name == families::CALLS).unwrap();
    let Some(metric::Data::Sum(sum)) = &calls.data else { panic!("{calls:?}") };
    let ours = sum
        .data_points
        .iter()
        .find(|p| attribute(&p.attributes, "function") == Some("otlp::synced_before_the_drop"));
    assert_eq!(ours.map(number), Some(1.0), "{sum:?}");
}
