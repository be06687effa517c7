//! Property tests of the report reader (the bounded counterpart of the `report_reader` fuzz
//! target in `fuzz/`): arbitrary bytes, damaged fixtures and reports whose every figure and
//! name is hostile (zero calls, `u64::MAX`, self time above total, call cycles, markup and
//! control characters in names) are refused with an error or read and rendered in every
//! format, diffed, and re-read, never a panic. The checks are `tests/oracle`'s.
//!
//! The seed is fixed so CI runs the same cases every time; `PROPTEST_RNG_SEED=<n>` (and
//! `PROPTEST_CASES`) explores others.

mod oracle;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use perfscope_report::{
    CallEdge, EventKind, EventStats, FigureKind, FigureStats, FigureUnit, FunctionKind,
    FunctionStats, Report, SCHEMA_VERSION, SeriesStats,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

const FIXTURES: [&str; 4] = [
    include_str!("fixtures/base.json"),
    include_str!("fixtures/slow_rsi.json"),
    include_str!("fixtures/schema_99.json"),
    include_str!("fixtures/not_a_report.json"),
];

fn base() -> &'static Report {
    static BASE: OnceLock<Report> = OnceLock::new();
    BASE.get_or_init(|| Report::from_json(FIXTURES[0]).expect("the base fixture is a report"))
}

fn config(cases: u32) -> Config {
    // Config::default() reads PROPTEST_CASES and PROPTEST_RNG_SEED; without them, CI's figures.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(17);
    }
    config
}

/// Names a hostile program or a hand-edited file may carry.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("<other>".to_string()),
        Just(format!("{}>\"'&</script>", oracle::INJECTED_TAG)),
        Just("a;b;c 12".to_string()),
        Just("step 2".to_string()),
        Just("tab\there\nnewline\r\0nul".to_string()),
        Just("\u{202e}rtl \u{feff}bom \u{ff1b}".to_string()),
        "[a-z:;<>&\"' \\\\{}]{1,12}",
        "\\PC{0,24}",
        any::<String>(),
    ]
}

/// Figures at the edges: zero, one, the largest, and anything.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(1), Just(u64::MAX), Just(u64::MAX / 2), 0u64..1_000_000, any::<u64>()]
}

/// Finite floats (JSON has no others) at the edges.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(1e-300),
        -1e6f64..1e6,
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ]
}

fn kind() -> impl Strategy<Value = FunctionKind> {
    prop_oneof![Just(FunctionKind::Sync), Just(FunctionKind::Async), Just(FunctionKind::Span)]
}

fn function(names: Vec<String>) -> impl Strategy<Value = FunctionStats> {
    let edge = (prop::sample::select(names.clone()), count(), count(), count()).prop_map(
        |(name, calls, busy_ns, alloc_bytes)| CallEdge { name, calls, busy_ns, alloc_bytes },
    );
    (
        (prop::sample::select(names), name(), kind(), any::<u32>()),
        prop::collection::vec(count(), 12),
        prop::collection::vec(count(), 9),
        (prop::option::of(count()), prop::option::of(count())),
        prop::collection::vec(edge, 0..4),
    )
        .prop_map(|((name, module, kind, line), t, a, (idle_ns, polls), children)| {
            FunctionStats {
                name,
                module,
                file: "src/lib.rs".into(),
                line,
                kind,
                calls: t[0],
                panics: t[1],
                cancelled: t[2],
                total_ns: t[3],
                self_ns: t[4],
                busy_ns: t[5],
                idle_ns,
                polls,
                mean_ns: t[6],
                p50_ns: t[7],
                p90_ns: t[8],
                p99_ns: t[9],
                max_ns: t[10],
                allocations: t[11],
                alloc_bytes: a[0],
                frees: a[1],
                freed_bytes: a[2],
                reallocs: a[3],
                total_allocations: a[4],
                total_alloc_bytes: a[5],
                total_frees: a[6],
                total_freed_bytes: a[7],
                children,
            }
        })
}

fn section() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("process".to_string()),
        Just("cache".to_string()),
        Just("pool".to_string()),
        Just("query".to_string()),
        Just("host".to_string()),
        Just("function".to_string()),
        name(),
    ]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    let key = prop_oneof![
        Just("cache".to_string()),
        Just("level".to_string()),
        Just("result".to_string()),
        Just("pool".to_string()),
        Just("state".to_string()),
        Just("fingerprint".to_string()),
        Just("cause".to_string()),
        Just("rows".to_string()),
        Just("cpu".to_string()),
        Just("function".to_string()),
        name(),
    ];
    prop::collection::btree_map(key, name(), 0..4)
}

fn unit() -> impl Strategy<Value = FigureUnit> {
    prop_oneof![
        Just(FigureUnit::Seconds),
        Just(FigureUnit::Bytes),
        Just(FigureUnit::Count),
        Just(FigureUnit::Ratio)
    ]
}

fn figure() -> impl Strategy<Value = FigureStats> {
    let figure_name = prop_oneof![
        Just("perfscope_cache_requests_total".to_string()),
        Just("perfscope_cache_hit_ratio".to_string()),
        Just("perfscope_cache_evictions_total".to_string()),
        Just("perfscope_cache_entries".to_string()),
        Just("perfscope_cache_loads_total".to_string()),
        Just("perfscope_pool_connections".to_string()),
        Just("perfscope_pool_connections_max".to_string()),
        // The name older reports have (read as perfscope_pool_connections).
        Just("perfscope_pool_connection_count".to_string()),
        Just("perfscope_pool_waits_total".to_string()),
        Just("perfscope_pool_wait_seconds_total".to_string()),
        Just("perfscope_query_calls_total".to_string()),
        Just("perfscope_query_rows_total".to_string()),
        Just("perfscope_query_duration_seconds_total".to_string()),
        Just("perfscope_heap_in_use_bytes".to_string()),
        Just("process_threads".to_string()),
        name(),
    ];
    let kind = prop_oneof![Just(FigureKind::Gauge), Just(FigureKind::Counter)];
    (section(), figure_name, kind, unit(), name(), labels(), float()).prop_map(
        |(section, name, kind, unit, help, labels, value)| FigureStats {
            section,
            name,
            kind,
            unit,
            help,
            labels,
            value,
        },
    )
}

fn event() -> impl Strategy<Value = EventStats> {
    let kind = prop_oneof![
        Just(EventKind::AlertFired),
        Just(EventKind::AlertResolved),
        Just(EventKind::Anomaly),
        Just(EventKind::Recommendation),
    ];
    (section(), kind, count(), name(), labels(), name(), prop::option::of(float())).prop_map(
        |(section, kind, at_unix_ms, subject, labels, message, value)| EventStats {
            section,
            kind,
            at_unix_ms,
            subject,
            labels,
            message,
            value,
        },
    )
}

/// A history series; the monitor's function latency series (the heatmap's) name one of
/// `functions`.
fn series(functions: Vec<String>) -> impl Strategy<Value = SeriesStats> {
    let series_name = prop_oneof![
        Just("perfscope_function_latency_p50_seconds".to_string()),
        Just("perfscope_function_latency_p99_seconds".to_string()),
        Just("perfscope_node_cpu_usage_ratio".to_string()),
        name(),
    ];
    let function = prop::option::of(prop::sample::select(functions));
    let points = prop::collection::vec((count(), float()), 0..12);
    (section(), series_name, labels(), function, unit(), points).prop_map(
        |(section, name, mut labels, function, unit, points)| {
            if let Some(function) = function {
                labels.insert("function".into(), function);
            }
            SeriesStats { section, name, labels, unit, points }
        },
    )
}

/// A report whose every field is hostile; functions share a small pool of names, so their
/// call edges form cycles and point at missing functions.
fn hostile_report() -> impl Strategy<Value = Report> {
    prop::collection::vec(name(), 1..5)
        .prop_flat_map(|names| {
            (
                prop::collection::vec(function(names.clone()), 0..6),
                prop::collection::vec(figure(), 0..8),
                prop::collection::vec(event(), 0..4),
                prop::collection::vec(series(names), 0..4),
                (count(), name(), any::<bool>(), count(), count()),
            )
        })
        .prop_map(|(functions, figures, events, history, header)| {
            let (elapsed_ns, clock, alloc_tracking, overflowed_spans, overflowed_callsites) =
                header;
            Report {
                schema: SCHEMA_VERSION,
                elapsed_ns,
                clock,
                alloc_tracking,
                overflowed_spans,
                overflowed_callsites,
                functions,
                figures,
                events,
                history,
                trends: Vec::new(),
            }
        })
}

/// A fixture with bytes overwritten, inserted or removed, and possibly cut short.
fn damaged_fixture() -> impl Strategy<Value = Vec<u8>> {
    let edit = (any::<prop::sample::Index>(), any::<u8>(), 0u8..3);
    (
        prop::sample::select(FIXTURES.to_vec()),
        prop::collection::vec(edit, 1..8),
        prop::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(|(fixture, edits, cut)| {
            let mut bytes = fixture.as_bytes().to_vec();
            for (at, byte, op) in edits {
                let i = at.index(bytes.len().max(1)).min(bytes.len());
                match op {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len().max(1)));
            }
            bytes
        })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_are_refused_or_read(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        oracle::check_text(&String::from_utf8_lossy(&bytes), base());
    }

    #[test]
    fn damaged_reports_are_refused_or_read(bytes in damaged_fixture()) {
        oracle::check_text(&String::from_utf8_lossy(&bytes), base());
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn hostile_reports_render_diff_and_read_back(report in hostile_report()) {
        oracle::check_report(&report, base());
        oracle::check_text(&report.to_json(), base());
    }
}
