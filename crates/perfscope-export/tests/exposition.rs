//! The Prometheus exporter over real HTTP: what it serves (checked by `promtool`), and how it
//! behaves with bad input. Exporters here are `start()`ed (not global), each on a free port,
//! and each test measures functions of its own (tests share perfscope's store).

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};

use common::{get, promtool_check, sample};
use perfscope_export::families::{self, FAMILIES, FamilyKind, OTHER};
use perfscope_export::{ExportError, PrometheusExporter, prometheus};

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

fn start() -> PrometheusExporter {
    prometheus().with_address(any_port()).start().expect("exporter starts")
}

#[perfscope::measure]
fn tokenize(line: &str) -> usize {
    line.split(',').count()
}

#[perfscope::measure]
fn may_panic(x: u32) -> u32 {
    assert!(x % 2 == 1, "even input");
    x
}

#[test]
fn serves_every_family_with_help_and_exact_counts() {
    let exporter = start();
    for _ in 0..250 {
        std::hint::black_box(tokenize("a,b,c"));
    }
    // The panic hook runs inside the frame (printing a backtrace if RUST_BACKTRACE asks for
    // one takes a while): the test times the calls around them.
    let start = std::time::Instant::now();
    for x in 1..=4 {
        let _ = std::panic::catch_unwind(|| may_panic(x)); // 2 and 4 panic, as expected
    }
    let timed = start.elapsed().as_secs_f64();

    let response = get(exporter.address().unwrap(), "/metrics").unwrap();
    assert_eq!(response.status, 200);
    let text = response.body;
    for family in FAMILIES {
        let kind = match family.kind {
            FamilyKind::Counter => "counter",
            FamilyKind::Histogram => "histogram",
        };
        assert!(text.contains(&format!("# HELP {} ", family.name)), "no HELP for {}", family.name);
        assert!(text.contains(&format!("# TYPE {} {kind}\n", family.name)), "{}", family.name);
    }
    let tokenize = [("function", "exposition::tokenize"), ("module", "exposition")];
    assert_eq!(sample(&text, families::CALLS, &tokenize), Some(250.0), "{text}");
    let count = format!("{}_count", families::DURATION);
    assert_eq!(sample(&text, &count, &tokenize), Some(250.0));
    let inf = [tokenize[0], ("le", "+Inf")];
    assert_eq!(sample(&text, &format!("{}_bucket", families::DURATION), &inf), Some(250.0));
    let second = [tokenize[0], ("le", "1")];
    assert_eq!(sample(&text, &format!("{}_bucket", families::DURATION), &second), Some(250.0));
    let may_panic = [("function", "exposition::may_panic")];
    assert_eq!(sample(&text, families::CALLS, &may_panic), Some(4.0));
    assert_eq!(sample(&text, families::PANICS, &may_panic), Some(2.0));
    // Time is exported in float seconds: a few calls are a small, non-zero figure, no more
    // than the test timed around them; a leaf's self time is all of its busy time.
    let self_seconds = sample(&text, families::SELF_SECONDS, &may_panic).unwrap();
    let busy_seconds = sample(&text, families::BUSY_SECONDS, &may_panic).unwrap();
    assert!(busy_seconds > 0.0 && busy_seconds <= timed, "busy {busy_seconds} s, timed {timed} s");
    assert!(
        (self_seconds - busy_seconds).abs() <= 1e-9,
        "self {self_seconds}, busy {busy_seconds}"
    );

    promtool_check(&text);
    exporter.shutdown();
}

#[perfscope::measure]
fn decode(frame: &[u8]) -> usize {
    frame.iter().filter(|b| **b == b',').count()
}

/// A scrape asking for protobuf (as Prometheus does with native histograms enabled, or
/// `scrape_protocols: [PrometheusProto]`) gets the same families and figures as the text.
#[test]
fn a_scrape_asking_for_protobuf_gets_the_same_figures_in_protobuf() {
    use common::metric_family::decode_families;

    let exporter = start();
    for _ in 0..75 {
        std::hint::black_box(decode(b"a,b,c"));
    }
    let address = exporter.address().unwrap();
    let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
                  encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";
    let response = common::get_raw(address, "/metrics", accept).unwrap();
    assert_eq!(response.status, 200);
    assert!(
        response.content_type.starts_with("application/vnd.google.protobuf")
            && response.content_type.contains("proto=io.prometheus.client.MetricFamily"),
        "{}",
        response.content_type
    );
    let families = decode_families(&response.body).expect("length-delimited MetricFamily");
    let text = get(address, "/metrics").unwrap().body;

    for family in FAMILIES {
        let found = families.iter().find(|f| f.name.as_deref() == Some(family.name));
        let found = found.unwrap_or_else(|| panic!("{} missing from {families:?}", family.name));
        assert!(found.help.as_deref().is_some_and(|h| !h.is_empty()), "{}", family.name);
        let kind = match family.kind {
            FamilyKind::Counter => 0,
            FamilyKind::Histogram => 4,
        };
        assert_eq!(found.r#type, Some(kind), "{}", family.name);
    }
    let metric_of = |name: &str| {
        let family = families.iter().find(|f| f.name.as_deref() == Some(name)).unwrap();
        family.metric.iter().find(|m| m.label("function") == Some("exposition::decode")).cloned()
    };
    let calls = metric_of(families::CALLS).expect("a calls series for decode");
    assert_eq!(calls.label("module"), Some("exposition"));
    assert_eq!(calls.counter.and_then(|c| c.value), Some(75.0));
    let histogram = metric_of(families::DURATION).and_then(|m| m.histogram).unwrap();
    assert_eq!(histogram.sample_count, Some(75));
    let bounds: Vec<f64> = histogram.bucket.iter().filter_map(|b| b.upper_bound).collect();
    // `+Inf` is implied by the sample count in this format (as Prometheus' Go client does).
    assert_eq!(bounds, families::LATENCY_BUCKETS, "{bounds:?}");
    let labels = [("function", "exposition::decode")];
    let text_sum = sample(&text, &format!("{}_sum", families::DURATION), &labels).unwrap();
    let sum = histogram.sample_sum.unwrap();
    // The two scrapes read two snapshots; ticks convert to seconds at a rate that is refined
    // as the process runs (`perfscope_core::clock::nanos_per_tick`), so the second may differ
    // from the first in the last nanosecond, never by more than the rate's drift.
    assert!((sum - text_sum).abs() <= 1e-3 * text_sum + 2e-9, "{sum} vs {text_sum}");
    exporter.shutdown();
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let error = prometheus().with_address(address).start().unwrap_err();
    assert!(matches!(error, ExportError::Listen { address: a, .. } if a == address), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&format!("cannot listen on {address}")), "{message}");
}

#[perfscope::measure]
fn fresh_work() {}

#[test]
fn every_scrape_reads_a_fresh_snapshot() {
    let exporter = start();
    let address = exporter.address().unwrap();
    let labels = [("function", "exposition::fresh_work")];
    for round in 1..=3 {
        for _ in 0..7 {
            fresh_work();
        }
        let text = get(address, "/metrics").unwrap().body;
        assert_eq!(sample(&text, families::CALLS, &labels), Some(7.0 * round as f64), "{text}");
    }
    exporter.shutdown();
}

#[test]
fn bad_networks_and_buckets_are_errors() {
    let error =
        prometheus().with_address(any_port()).with_allowed("not-an-address").start().unwrap_err();
    assert!(matches!(error, ExportError::AllowedAddress { .. }), "{error:?}");
    let error =
        prometheus().with_address(any_port()).with_buckets(&[0.1, 0.01]).start().unwrap_err();
    assert!(matches!(error, ExportError::Buckets(_)), "{error:?}");
    let error = prometheus().with_address(any_port()).with_buckets(&[]).start().unwrap_err();
    assert!(matches!(error, ExportError::Buckets(_)), "{error:?}");
}

#[test]
fn clients_outside_the_allowed_networks_are_refused() {
    let refused = prometheus().with_address(any_port()).with_allowed("10.0.0.0/8").start().unwrap();
    assert_eq!(get(refused.address().unwrap(), "/metrics").unwrap().status, 403);
    refused.shutdown();
    let allowed = prometheus().with_address(any_port()).with_allowed("127.0.0.1").start().unwrap();
    assert_eq!(get(allowed.address().unwrap(), "/metrics").unwrap().status, 200);
    allowed.shutdown();
}

#[perfscope::measure]
fn still_served() {}

#[test]
fn bad_requests_leave_the_exporter_serving() {
    let exporter = start();
    let address = exporter.address().unwrap();
    for garbage in [&b"\x00\xff\x13garbage\r\n\r\n"[..], b"GET", b"POST /metrics HTTP/9.9\r\n\r\n"]
    {
        let mut stream = TcpStream::connect(address).unwrap();
        let _ = stream.write_all(garbage);
        drop(stream);
    }
    still_served();
    let text = get(address, "/metrics").unwrap().body;
    assert_eq!(
        sample(&text, families::CALLS, &[("function", "exposition::still_served")]),
        Some(1.0)
    );
    exporter.shutdown();
}

#[perfscope::measure]
fn capped() {}

#[test]
fn past_the_cap_functions_are_summed_under_other() {
    let exporter = prometheus().with_address(any_port()).with_max_functions(0).start().unwrap();
    for _ in 0..5 {
        capped();
    }
    let text = exporter.render();
    let calls: Vec<&str> = text.lines().filter(|l| l.starts_with(families::CALLS)).collect();
    assert_eq!(calls.len(), 1, "{text}");
    assert!(calls[0].contains(&format!("function=\"{OTHER}\"")), "{text}");
    let other = sample(&text, families::CALLS, &[("function", OTHER)]).unwrap();
    assert!(other >= 5.0, "{text}");
    promtool_check(&text);
    exporter.shutdown();
}

#[test]
fn shutdown_frees_the_port() {
    let exporter = start();
    let address = exporter.address().unwrap();
    assert_eq!(get(address, "/metrics").unwrap().status, 200);
    exporter.shutdown();
    // A test elsewhere in this binary may be forking `promtool` right now: the port must be
    // free even while a child process holds a copy of the listener's descriptor.
    TcpListener::bind(address).expect("the port is free again");
}

#[test]
fn other_families_join_through_the_exporters_recorder() {
    let exporter = start();
    exporter.with_local_recorder(|| {
        metrics::describe_gauge!("perfscope_pool_connections", "Open connections, per pool.");
        metrics::gauge!("perfscope_pool_connections", "pool" => "db").set(12.0);
    });
    let text = exporter.render();
    assert!(text.contains("# HELP perfscope_pool_connections Open connections, per pool."));
    assert_eq!(sample(&text, "perfscope_pool_connections", &[("pool", "db")]), Some(12.0));
    promtool_check(&text);
    exporter.shutdown();
}

#[perfscope::measure]
fn through_your_registry() {}

#[test]
fn your_own_registry_keeps_its_labels_and_metrics() {
    use perfscope_export::prometheus_crate::{IntGauge, Registry};
    let service = [("service".to_string(), "scanner".to_string())].into_iter().collect();
    let registry = Registry::new_custom(None, Some(service)).unwrap();
    let gauge = IntGauge::new("queue_depth", "Items waiting.").unwrap();
    registry.register(Box::new(gauge.clone())).unwrap();
    gauge.set(3);
    let exporter = prometheus().with_address(any_port()).with_registry(registry).start().unwrap();
    through_your_registry();
    let text = get(exporter.address().unwrap(), "/metrics").unwrap().body;
    let labels = [("function", "exposition::through_your_registry"), ("service", "scanner")];
    assert_eq!(sample(&text, families::CALLS, &labels), Some(1.0), "{text}");
    assert_eq!(sample(&text, "queue_depth", &[("service", "scanner")]), Some(3.0), "{text}");
    promtool_check(&text);
    exporter.shutdown();
}

/// A source of figures that are not functions (as the monitor, pools and caches will be).
#[derive(Debug)]
struct Pool;

impl perfscope_core::figures::FigureSource for Pool {
    fn read(&self, out: &mut Vec<perfscope_core::figures::Figure>) {
        use perfscope_core::figures::{Figure, FigureUnit};
        let waits = "Connection waits so far.";
        out.push(
            Figure::counter("pool", "test_pool_waits_total", waits, FigureUnit::Count, 4.0)
                .with_label("pool", "db"),
        );
        let idle = "Idle connections.";
        out.push(
            Figure::gauge("pool", "test_pool_idle", idle, FigureUnit::Count, 2.0)
                .with_label("pool", "db"),
        );
    }
}

/// Figures that are not functions reach `/metrics` through the snapshot: the process's own
/// (threads, perfscope's held bytes) and a registered source's, typed as the source says.
#[test]
fn figures_that_are_not_functions_are_served_from_the_snapshot() {
    static HELD: perfscope_core::Callsite = perfscope_core::Callsite::new(
        perfscope_core::CallsiteName::Static("exposition::held"),
        perfscope_core::Kind::Sync,
        module_path!(),
        file!(),
        line!(),
    );
    drop(perfscope_core::enter(&HELD));
    let _pool = perfscope_core::figures::register(std::sync::Arc::new(Pool));
    let exporter = start();
    let text = get(exporter.address().unwrap(), "/metrics").unwrap().body;
    assert!(text.contains("# TYPE test_pool_waits_total counter\n"), "{text}");
    assert!(text.contains("# TYPE test_pool_idle gauge\n"), "{text}");
    assert_eq!(sample(&text, "test_pool_waits_total", &[("pool", "db")]), Some(4.0));
    assert_eq!(sample(&text, "test_pool_idle", &[("pool", "db")]), Some(2.0));
    let threads = sample(&text, families::PROCESS_THREADS, &[]).expect("process_threads");
    assert!(threads >= 2.0, "{text}"); // this test's thread and the listener's at least
    // perfscope's own memory: this thread measured a call, so its store holds a slot at least.
    assert!(text.contains("# TYPE perfscope_held_bytes gauge\n"), "{text}");
    let held = sample(&text, families::HELD_BYTES, &[]).expect("perfscope_held_bytes");
    assert!(held >= 64.0, "{held}");
    promtool_check(&text);
    exporter.shutdown();
}

/// Known latencies, time, allocations and panics read exactly over Prometheus: a histogram
/// off by a unit or a bucket, time over- or under-reported, or a parent's self time read from
/// its busy time, fails here.
#[test]
fn known_work_reads_right_in_every_family() {
    use common::known::{self, BYTES_PER_CALL, Known, within};
    let exporter = start();
    let mut k = Known::default();
    known::run(20, &mut k);
    let text = get(exporter.address().unwrap(), "/metrics").unwrap().body;
    let spin = known::spin_name();
    let f = [("function", spin.as_str())];
    let bucket = |le: &str| {
        let name = format!("{}_bucket", families::DURATION);
        sample(&text, &name, &[f[0], ("le", le)]).unwrap_or_else(|| panic!("no le={le}:\n{text}"))
    };
    let n = k.calls as f64;
    assert_eq!(bucket("0.0025"), 0.0, "3 ms calls below 2.5 ms:\n{text}");
    let in_5ms = bucket("0.005");
    assert!(in_5ms <= n && in_5ms >= n - k.slow as f64, "{in_5ms} of {n} ({} slow)", k.slow);
    assert_eq!(bucket("+Inf"), n);
    let count = sample(&text, &format!("{}_count", families::DURATION), &f);
    assert_eq!(count, Some(n));
    let sum = sample(&text, &format!("{}_sum", families::DURATION), &f).unwrap();
    let spin_bounds = k.spin_bounds();
    assert!(within(sum, spin_bounds, 0.01), "_sum {sum} s, bounds {spin_bounds:?}");
    for family in [families::SELF_SECONDS, families::BUSY_SECONDS] {
        let seconds = sample(&text, family, &f).unwrap();
        assert!(within(seconds, spin_bounds, 0.01), "{family} {seconds} s, {spin_bounds:?}");
    }
    // A parent's self time is its own 2 ms a call, without its child's 3 ms: not its busy time.
    let (parent, child) = known::parent_and_child_names();
    let seconds = |family: &str, function: &str| {
        sample(&text, family, &[("function", function)])
            .unwrap_or_else(|| panic!("no {family} for {function}:\n{text}"))
    };
    let (own, busy) = (k.parent_self_bounds(), k.parent_busy_bounds());
    let parent_self = seconds(families::SELF_SECONDS, &parent);
    assert!(within(parent_self, own, 0.01), "parent self {parent_self} s, bounds {own:?}");
    let parent_busy = seconds(families::BUSY_SECONDS, &parent);
    assert!(within(parent_busy, busy, 0.01), "parent busy {parent_busy} s, bounds {busy:?}");
    for family in [families::SELF_SECONDS, families::BUSY_SECONDS] {
        let (value, bounds) = (seconds(family, &child), k.child_bounds());
        assert!(within(value, bounds, 0.01), "child {family} {value} s, bounds {bounds:?}");
    }
    let bytes = sample(&text, families::ALLOC_BYTES, &f);
    assert_eq!(bytes, Some(n * BYTES_PER_CALL as f64), "{text}");
    assert_eq!(sample(&text, families::ALLOCATIONS, &f), Some(n), "{text}");
    let fail = known::fail_name();
    let fail = [("function", fail.as_str())];
    assert_eq!(sample(&text, families::CALLS, &fail), Some(k.fail_calls as f64));
    assert_eq!(sample(&text, families::PANICS, &fail), Some(k.panics as f64));
    assert_eq!(k.panics, 4);
    exporter.shutdown();
}

/// perfscope's families are described to the registry: a metric of yours under one of their
/// names is refused when the exporter starts, not served twice.
#[test]
fn a_registry_already_holding_one_of_perfscope_s_names_is_an_error() {
    use perfscope_export::prometheus_crate::{IntCounter, Registry};
    let registry = Registry::new();
    let mine = IntCounter::new(families::CALLS, "Calls of my own.").unwrap();
    registry.register(Box::new(mine)).unwrap();
    let error = prometheus().with_address(any_port()).with_registry(registry).start().unwrap_err();
    assert!(matches!(error, ExportError::Prometheus(_)), "{error:?}");
}

#[perfscope::measure]
fn kept_page() {}

/// The listener writes each page into the buffer the previous scrape used, whatever its
/// format: every page is whole and as fresh as its snapshot.
#[test]
fn pages_written_into_the_previous_scrape_s_buffer_are_whole() {
    use common::metric_family::decode_families;

    let exporter = start();
    let address = exporter.address().unwrap();
    let protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
                    encoding=delimited";
    let labels = [("function", "exposition::kept_page")];
    for round in 1..=3u32 {
        kept_page();
        let text = get(address, "/metrics").unwrap().body;
        assert_eq!(sample(&text, families::CALLS, &labels), Some(f64::from(round)), "{text}");
        assert!(
            text.ends_with('\n') && text.matches("# TYPE ").count() >= families::FAMILIES.len()
        );
        let bytes = common::get_raw(address, "/metrics", protobuf).unwrap().body;
        let decoded = decode_families(&bytes).expect("whole messages");
        let names: Vec<String> = decoded.iter().map(|f| f.name().to_string()).collect();
        assert!(families::FAMILIES.iter().all(|f| names.iter().any(|n| n == f.name)), "{names:?}");
    }
    promtool_check(&get(address, "/metrics").unwrap().body);
    exporter.shutdown();
}
