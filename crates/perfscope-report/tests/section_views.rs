//! The cache, pool and query sections of the table and HTML views, on hand-built reports with
//! figures under the names `perfscope-instrument` exports: the rows exactly, the hit ratio,
//! starvation, escaping, long fingerprints, index hints, the slow-query log, and no section
//! when the report has nothing for it.
//!
//! With `PERFSCOPE_WRITE_HTML=path` set, `writes_a_page_for_a_browser` also writes the page
//! to `path` (to look at it in a browser).

use std::collections::BTreeMap;
use std::time::Duration;

use perfscope_report::{
    EventKind, EventStats, FigureKind, FigureStats, FigureUnit, FunctionKind, FunctionStats, Report,
};
use scraper::{ElementRef, Html, Selector};

/// 2024-03-01 13:05:00 UTC.
const T0: u64 = 1_709_298_300_000;

fn figure(section: &str, name: &str, labels: &[(&str, &str)], value: f64) -> FigureStats {
    let unit = if name.ends_with("_seconds") || name.ends_with("_seconds_total") {
        FigureUnit::Seconds
    } else if name.ends_with("_ratio") {
        FigureUnit::Ratio
    } else {
        FigureUnit::Count
    };
    FigureStats {
        section: section.into(),
        name: name.into(),
        kind: if name.ends_with("_total") { FigureKind::Counter } else { FigureKind::Gauge },
        unit,
        help: String::new(),
        labels: labels.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect(),
        value,
    }
}

/// A cache level's figures as `perfscope-instrument` gives them (moka: with evictions).
fn cache_level(cache: &str, level: &str, hits: f64, misses: f64, evicts: bool) -> Vec<FigureStats> {
    let l = |extra: &[(&'static str, &'static str)]| {
        let mut labels = vec![("cache", cache), ("level", level)];
        labels.extend_from_slice(extra);
        labels
    };
    let f = |name: &str, extra: &[(&'static str, &'static str)], v: f64| {
        figure("cache", name, &l(extra), v)
    };
    let mut out = vec![
        f("perfscope_cache_requests_total", &[("result", "hit")], hits),
        f("perfscope_cache_requests_total", &[("result", "miss")], misses),
        f("perfscope_cache_hit_ratio", &[], hits / (hits + misses)),
        f("perfscope_cache_writes_total", &[], misses),
        f("perfscope_cache_errors_total", &[], 0.0),
    ];
    if evicts {
        out.push(f("perfscope_cache_evictions_total", &[("cause", "size")], 10.0));
        out.push(f("perfscope_cache_evictions_total", &[("cause", "expired")], 0.0));
        out.push(f("perfscope_cache_removals_total", &[("cause", "explicit")], 1.0));
        out.push(f("perfscope_cache_entries", &[], 500.0));
    }
    out
}

fn loader(cache: &str, calls: f64, errors: f64) -> Vec<FigureStats> {
    vec![
        figure("cache", "perfscope_cache_loads_total", &[("cache", cache)], calls),
        figure("cache", "perfscope_cache_load_errors_total", &[("cache", cache)], errors),
    ]
}

/// A pool's figures as `perfscope-instrument` gives them.
fn pool(
    name: &str,
    idle: f64,
    used: f64,
    pending: f64,
    waits: f64,
    wait_s: f64,
) -> Vec<FigureStats> {
    let p = |metric: &str, extra: Option<(&str, &str)>, v: f64| {
        let mut labels = vec![("pool", name)];
        labels.extend(extra);
        figure("pool", metric, &labels, v)
    };
    vec![
        p("perfscope_pool_connections", Some(("state", "idle")), idle),
        p("perfscope_pool_connections", Some(("state", "used")), used),
        p("perfscope_pool_connections_max", None, idle + used),
        p("perfscope_pool_connections_used_high_water", None, idle + used),
        p("perfscope_pool_pending_requests", None, pending),
        p("perfscope_pool_acquires_total", None, 200.0),
        p("perfscope_pool_waits_total", None, waits),
        p("perfscope_pool_wait_seconds_total", None, wait_s),
        p("perfscope_pool_timeouts_total", None, 1.0),
    ]
}

/// A statement fingerprint's figures as the query collector gives them.
fn query(fingerprint: &str, calls: f64, seconds: f64, p99: Option<f64>) -> Vec<FigureStats> {
    let q = |metric: &str, extra: Option<(&str, &str)>, v: f64| {
        let mut labels = vec![("fingerprint", fingerprint)];
        labels.extend(extra);
        figure("query", metric, &labels, v)
    };
    let mut out = vec![
        q("perfscope_query_calls_total", None, calls),
        q("perfscope_query_duration_seconds_total", None, seconds),
        q("perfscope_query_rows_total", Some(("rows", "returned")), calls * 2.0),
        q("perfscope_query_rows_total", Some(("rows", "affected")), 1.0),
    ];
    out.extend(p99.map(|s| q("perfscope_query_duration_p99_seconds", None, s)));
    out
}

fn function(name: &str, calls: u64, mean_ns: u64, p99_ns: u64) -> FunctionStats {
    FunctionStats {
        name: name.into(),
        module: "perfscope_instrument".into(),
        file: "src/cache/moka.rs".into(),
        line: 1,
        kind: FunctionKind::Sync,
        calls,
        total_ns: calls * mean_ns,
        self_ns: calls * mean_ns,
        busy_ns: calls * mean_ns,
        mean_ns,
        p50_ns: mean_ns,
        p90_ns: p99_ns,
        p99_ns,
        max_ns: p99_ns,
        ..FunctionStats::default()
    }
}

fn query_event(kind: EventKind, at_s: u64, fingerprint: &str, message: &str) -> EventStats {
    EventStats {
        section: "query".into(),
        kind,
        at_unix_ms: T0 + at_s * 1000,
        subject: "perfscope_query_duration_seconds_total".into(),
        labels: BTreeMap::from([("fingerprint".to_string(), fingerprint.to_string())]),
        message: message.into(),
        value: None,
    }
}

fn report(functions: Vec<FunctionStats>, figures: Vec<FigureStats>) -> Report {
    Report { elapsed_ns: 2_000_000_000, functions, figures, ..Report::default() }
}

const LONG_FINGERPRINT: &str = "9f3a1c SELECT symbol, kind, round FROM signals WHERE symbol = ? \
                                AND round > ? ORDER BY round DESC LIMIT ?";
const HINT: &str = "index hint: CREATE INDEX ON signals(symbol) (EXPLAIN QUERY PLAN: `SCAN \
                    signals` (every row of signals read) while the statement filters on symbol)";

/// Caches `quotes` (one level, a loader, frames) and `indicators` (L1 over L2, a loader),
/// pools `db` (starved) and `buffers`, three fingerprints, an index hint, two slow statements.
fn full() -> Report {
    let mut figures = Vec::new();
    figures.extend(cache_level("quotes", "l1", 9.0, 3.0, true));
    figures.extend(loader("quotes", 3.0, 1.0));
    figures.extend(cache_level("indicators", "l1", 60.0, 40.0, true));
    figures.extend(cache_level("indicators", "l2", 30.0, 10.0, false));
    figures.extend(loader("indicators", 10.0, 0.0));
    figures.extend(pool("db", 0.0, 8.0, 3.0, 50.0, 2.5));
    figures.extend(pool("buffers", 4.0, 0.0, 0.0, 0.0, 0.0));
    figures.extend(query(
        "1a2b3c INSERT INTO quotes (symbol, round, price) VALUES ...",
        100.0,
        0.5,
        Some(0.02),
    ));
    figures.extend(query(LONG_FINGERPRINT, 400.0, 1.5, Some(0.009)));
    figures.extend(query("77aa00 BEGIN", 100.0, 0.01, None));
    let functions = vec![
        function("cache::quotes::get", 12, 850, 2_400),
        function("cache::indicators::get_with", 100, 40_000, 2_100_000),
        function("cache::indicators::get", 3, 1_000, 1_000),
        function("cache::indicators::l2::get", 40, 90_000, 1_800_000),
        function("pool::db::acquire", 200, 12_500_000, 250_000_000),
    ];
    let mut report = report(functions, figures);
    report.events = vec![
        query_event(EventKind::Anomaly, 5, LONG_FINGERPRINT, "slow query: 120.0 ms ..."),
        query_event(EventKind::Anomaly, 9, "1a2b3c INSERT", "slow query: 340.0 ms ..."),
        query_event(EventKind::Recommendation, 20, LONG_FINGERPRINT, HINT),
    ];
    report.events[0].value = Some(0.12);
    report.events[1].value = Some(0.34);
    report
}

/// The cells of a comfy-table body row (`│ a ┆ b │`), trimmed.
fn cells(line: &str) -> Vec<String> {
    line.trim_matches('│').split('┆').map(|c| c.trim().to_string()).collect()
}

/// The body rows of the table printed after the line starting with `heading`.
fn table_rows(text: &str, heading: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.starts_with(heading)).expect(heading);
    let table: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .copied()
        .collect();
    table.iter().filter(|l| l.starts_with('│')).map(|l| cells(l)).collect()
}

/// Rows as `a | b | c` lines, to compare at a glance.
fn joined(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().map(|r| r.join(" | ")).collect()
}

fn select<'a>(node: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    node.select(&Selector::parse(css).expect("a selector")).collect()
}

fn text(node: ElementRef<'_>) -> String {
    node.text().collect::<String>().trim().to_string()
}

/// The cells' text of every body row of the table `#id`.
fn html_rows(page: &Html, id: &str) -> Vec<Vec<String>> {
    select(page.root_element(), &format!("#{id} tbody tr"))
        .into_iter()
        .map(|tr| select(tr, "td").into_iter().map(text).collect())
        .collect()
}

fn headings(page: &Html) -> Vec<String> {
    select(page.root_element(), "h2").into_iter().map(text).collect()
}

#[test]
fn the_table_has_a_row_per_cache_level_and_a_total_per_multi_level_cache() {
    let table = full().to_string();
    let rows = table_rows(&table, "caches (hit ratio = hits / requests):");
    assert_eq!(
        joined(&rows),
        [
            "cache | level | requests | hits | misses | hit ratio | loads | evictions | entries | \
             get mean | get p99",
            "indicators | l1 | 100 | 60 | 40 | 60.0% | - | size 10 | 500 | - | -",
            "indicators | l2 | 40 | 30 | 10 | 75.0% | 10 | - | - | 90.0 µs | 1.80 ms",
            // 100 requests, 10 answered by neither level: 90% overall; the busier lookup frame.
            "indicators | total | 100 | 90 | 10 | 90.0% | 10 | size 10 | - | 40.0 µs | 2.10 ms",
            "quotes | l1 | 12 | 9 | 3 | 75.0% | 3 (1 failed) | size 10 | 500 | 850 ns | 2.4 µs",
        ],
        "{table}"
    );
}

#[test]
fn the_table_flags_a_starved_pool_and_only_that_one() {
    let table = full().to_string();
    let heading =
        "pools (peak = most in use at once, 1 STARVED: callers waiting, none idle, at max size):";
    let rows = table_rows(&table, heading);
    assert_eq!(
        joined(&rows),
        [
            "pool | in use | idle | max | peak | acquires | waits | wait time | mean wait | \
             timeouts | pending | status",
            "buffers | 0 | 4 | 4 | 4 | 200 | 0 | 0 ns | - | 1 | 0 | ok",
            "db | 8 | 0 | 8 | 8 | 200 | 50 (25.0%) | 2.50 s | 50.00 ms | 1 | 3 | STARVED",
        ],
        "{table}"
    );

    // Pending with an idle object is a moment's queue, not starvation.
    let mut report = report(Vec::new(), pool("db", 1.0, 7.0, 3.0, 50.0, 2.5));
    let table = report.to_string();
    let rows = table_rows(&table, "pools (peak = most in use at once):");
    assert_eq!(rows[1].last().map(String::as_str), Some("ok"), "{table}");
    report.figures.retain(|f| f.name != "perfscope_pool_pending_requests");
    assert!(!report.pools()[0].starved());
}

/// A pool that opens its own connections (bb8) says when it is starved, and what it opened
/// and closed.
#[test]
fn a_pool_s_own_starvation_flag_and_connection_counts_are_shown() {
    let mut figures = pool("pg", 0.0, 4.0, 2.0, 10.0, 0.5);
    let p = |metric: &str, extra: Option<(&str, &str)>, v: f64| {
        let mut labels = vec![("pool", "pg")];
        labels.extend(extra);
        figure("pool", metric, &labels, v)
    };
    // Callers wait and none is idle, but the pool is below its size: it opens one for them.
    figures.push(p("perfscope_pool_starved", None, 0.0));
    figures.push(p("perfscope_pool_connections_created_total", None, 7.0));
    for (cause, n) in [("broken", 2.0), ("idle_timeout", 1.0), ("invalid", 0.0)] {
        figures.push(p("perfscope_pool_connections_closed_total", Some(("cause", cause)), n));
    }
    let mut r = report(Vec::new(), figures);
    let table = r.to_string();
    let rows = table_rows(&table, "pools (peak = most in use at once):");
    assert_eq!(rows[0][9..], ["timeouts", "pending", "created", "closed", "status"], "{table}");
    assert_eq!(rows[1][9..], ["1", "2", "7", "broken 2, idle_timeout 1", "ok"], "{table}");

    let page = Html::parse_document(&r.to_html());
    let header: Vec<String> =
        select(page.root_element(), "#ps-pools th").into_iter().map(text).collect();
    let closed = ["created", "closed", "closed: broken", "closed: idle_timeout", "closed: invalid"];
    assert_eq!(header[header.len() - 6..header.len() - 1], closed);
    let cells = &html_rows(&page, "ps-pools")[0];
    assert_eq!(cells[cells.len() - 6..], ["7", "3", "2", "1", "0", "ok"]);

    let flag = r.figures.iter_mut().find(|f| f.name == "perfscope_pool_starved");
    flag.expect("the flag").value = 1.0;
    let table = r.to_string();
    assert!(table.contains("1 STARVED"), "{table}");
    assert_eq!(table_rows(&table, "pools (")[1].last().map(String::as_str), Some("STARVED"));
}

/// A report saved before the pool's connection figures were renamed (`..._connection_count`
/// read as a histogram's count series) reads and shows the same as today's.
#[test]
fn a_report_with_the_pool_figures_old_names_reads_the_same() {
    let today = full();
    let mut old = full();
    for f in &mut old.figures {
        if let Some(rest) = f.name.strip_prefix("perfscope_pool_connections") {
            match rest {
                "" => f.name = "perfscope_pool_connection_count".into(),
                "_max" | "_used_high_water" => f.name = format!("perfscope_pool_connection{rest}"),
                _ => {}
            }
        }
    }
    assert!(old.figures.iter().any(|f| f.name == "perfscope_pool_connection_count"));
    let old = Report::from_json(&old.to_json()).expect("the old report reads");
    assert_eq!(old.pools(), today.pools());
    assert_eq!(old.to_string(), today.to_string());
}

#[test]
fn the_table_lists_queries_by_total_time_with_long_fingerprints_cut() {
    let table = full().to_string();
    let rows = table_rows(&table, "queries (statement fingerprints by total time):");
    let cut: String = LONG_FINGERPRINT.chars().take(48).chain(['…']).collect();
    let line: String = LONG_FINGERPRINT.chars().take(90).chain(['…']).collect();
    assert_eq!(
        rows,
        vec![
            cells("│ calls ┆ total ┆ share ┆ mean ┆ p99 ┆ rows ┆ fingerprint │"),
            cells(&format!("│ 400 ┆ 1.50 s ┆ 74.6% ┆ 3.75 ms ┆ 9.00 ms ┆ 801 ┆ {cut} │")),
            cells(
                "│ 100 ┆ 500.00 ms ┆ 24.9% ┆ 5.00 ms ┆ 20.00 ms ┆ 201 ┆ 1a2b3c INSERT INTO quotes \
                 (symbol, round, price)… │"
            ),
            cells("│ 100 ┆ 10.00 ms ┆ 0.5% ┆ 100.0 µs ┆ - ┆ 201 ┆ 77aa00 BEGIN │"),
        ],
        "{table}"
    );
    let after = table.split_once("77aa00 BEGIN").expect("the last row").1;
    let lines: Vec<&str> = after.lines().skip(2).collect();
    assert_eq!(
        lines,
        [
            "INDEX HINT on signals: CREATE INDEX ON signals(symbol)",
            "  why: EXPLAIN QUERY PLAN: `SCAN signals` (every row of signals read) while the \
             statement filters on symbol",
            &format!("  for: {line}"),
            "slow queries (slowest first, UTC):",
            "  13:05:09 340.00 ms  1a2b3c INSERT",
            &format!("  13:05:05 120.00 ms  {line}"),
        ],
        "{table}"
    );
    assert!(!table.contains("alerts / anomalies"), "the hint and slow statements are not repeated");
    assert!(!table.contains("\ncache:") && !table.contains("\nquery:"), "no figure lines as well");
}

#[test]
fn no_section_without_its_figures() {
    let empty = report(vec![function("app::main", 1, 10, 10)], Vec::new());
    let table = empty.to_string();
    for heading in ["caches", "pools", "queries", "INDEX HINT", "slow queries"] {
        assert!(!table.contains(heading), "{heading} in {table}");
    }
    let page = Html::parse_document(&empty.to_html());
    assert!(!headings(&page).iter().any(|h| ["Caches", "Pools", "Queries"].contains(&h.as_str())));

    // A source's own figure in section `cache`: a figure line, not a cache of no name.
    let other = report(Vec::new(), vec![figure("cache", "my_hit_ratio", &[("level", "l1")], 0.5)]);
    assert!(other.caches().is_empty());
    let table = other.to_string();
    assert!(
        !table.contains("\ncaches") && table.contains("\ncache: my_hit_ratio{level=\"l1\"} 50.0%")
    );

    // Pools only: that section alone.
    let pools = report(Vec::new(), pool("db", 2.0, 0.0, 0.0, 0.0, 0.0));
    let table = pools.to_string();
    assert!(
        table.contains("\npools (") && !table.contains("\ncaches") && !table.contains("\nqueries")
    );
    let page = Html::parse_document(&pools.to_html());
    let h = headings(&page);
    assert!(h.contains(&"Pools".to_string()) && !h.contains(&"Caches".to_string()), "{h:?}");
    assert!(!h.contains(&"Queries".to_string()), "{h:?}");
}

#[test]
fn hostile_names_and_values_are_escaped_and_bounded() {
    let name = "<script>alert(1)</script>\nquotes and more";
    let mut figures = cache_level(name, "l1", 1.0, 1.0, true);
    figures.extend(pool("\"db\" & <b>", 0.0, 1.0, 1.0, 1.0, f64::NAN));
    figures.extend(query(&"x".repeat(100_000), 1.0, f64::INFINITY, Some(f64::NAN)));
    let hostile = report(Vec::new(), figures);

    let table = hostile.to_string();
    let rows = table_rows(&table, "caches (");
    assert_eq!(rows[1][0], "<script>alert(1)</script> quotes…", "one line, cut: {table}");
    let pools = table_rows(&table, "pools (");
    assert_eq!((pools[1][7].as_str(), pools[1][8].as_str()), ("-", "-"), "NaN wait time: {table}");
    assert!(table.lines().all(|l| l.chars().count() < 400), "a 100 kB fingerprint is cut");

    let html = hostile.to_html();
    assert!(!html.contains("<script>alert"), "a cache name is escaped");
    assert!(!html.contains("<b>"), "a pool name is escaped");
    let page = Html::parse_document(&html);
    assert_eq!(html_rows(&page, "ps-caches")[0][0], name);
    assert_eq!(html_rows(&page, "ps-pools")[0][0], "\"db\" & <b>");
    let queries = html_rows(&page, "ps-queries");
    assert_eq!((queries[0][1].as_str(), queries[0][4].as_str()), ("-", "-"), "infinity, NaN");
    for cell in select(page.root_element(), "td[data-v]") {
        let v = cell.value().attr("data-v").unwrap_or("");
        assert!(v.is_empty() || v.parse::<f64>().is_ok_and(f64::is_finite), "data-v {v:?}");
    }
}

#[test]
fn the_html_has_sortable_sections_the_hint_callout_and_the_full_fingerprints() {
    let html = full().to_html();
    let page = Html::parse_document(&html);
    let h = headings(&page);
    let at = |name: &str| h.iter().position(|x| x == name).expect(name);
    assert!(
        at("Hotspots") < at("Caches") && at("Caches") < at("Pools") && at("Pools") < at("Queries")
    );
    for id in ["ps-caches", "ps-pools", "ps-queries", "ps-slow-queries"] {
        assert_eq!(
            select(page.root_element(), &format!("table.ps-sortable#{id}")).len(),
            1,
            "{id}"
        );
    }

    let caches = html_rows(&page, "ps-caches");
    let header: Vec<String> =
        select(page.root_element(), "#ps-caches th").into_iter().map(text).collect();
    assert_eq!(
        joined(&[header, caches[2].clone()]),
        [
            "cache | level | requests | hits | misses | hit ratio | writes | loads | load errors | \
             evicted: expired | evicted: size | removals | entries | errors | \
             get mean | get p99",
            "indicators | total | 100 | 90 | 10 | 90.0% | 50 | 10 | 0 | 0 | 10 | explicit 1 | - \
             | 0 | 40.0 µs | 2.10 ms",
        ]
    );
    let total = select(page.root_element(), "#ps-caches tr.ps-total");
    assert_eq!(total.len(), 1);

    let pools = html_rows(&page, "ps-pools");
    assert_eq!(pools[1][0], "db");
    assert_eq!(pools[1].last().map(String::as_str), Some("STARVED"));
    assert_eq!(pools[0].last().map(String::as_str), Some("ok"));
    assert_eq!(select(page.root_element(), "#ps-pools tr.ps-starved .ps-badge").len(), 1);

    let callout = select(page.root_element(), ".ps-callout li");
    assert_eq!(callout.len(), 1);
    assert_eq!(text(select(callout[0], "strong")[0]), "signals");
    assert_eq!(text(select(callout[0], "code.ps-index")[0]), "CREATE INDEX ON signals(symbol)");
    assert!(text(callout[0]).contains("`SCAN signals` (every row of signals read)"));

    let code = select(page.root_element(), "#ps-queries td.ps-sql code");
    assert_eq!(text(code[0]), LONG_FINGERPRINT, "the full fingerprint");
    assert_eq!(code[0].value().attr("title"), Some(LONG_FINGERPRINT));
    let slow = html_rows(&page, "ps-slow-queries");
    assert_eq!(slow[0][..3], ["13:05:09", "340.00 ms", "1a2b3c INSERT"]);

    let summary: Vec<String> =
        select(page.root_element(), "dl.ps-summary dd").into_iter().map(text).collect();
    assert!(summary.contains(&"db, in the Pools section".to_string()), "{summary:?}");
    assert!(summary.contains(&"1, in the Queries section".to_string()), "{summary:?}");
}

#[test]
fn labelled_hints_and_loaders_read_typed() {
    let mut r = full();
    let mut hint = query_event(EventKind::Recommendation, 30, "ab SELECT", "a full scan of t");
    hint.labels.insert("table".into(), "orders".into());
    hint.labels.insert("index".into(), "CREATE INDEX ON orders(customer_id)".into());
    r.events.push(hint);
    let hints = r.index_hints();
    assert_eq!(hints.len(), 2);
    assert_eq!(
        (hints[1].table.as_str(), hints[1].index.as_str(), hints[1].reason.as_str()),
        ("orders", "CREATE INDEX ON orders(customer_id)", "a full scan of t")
    );
    let caches = r.caches();
    let levels: Vec<(&str, &str, Option<u64>)> =
        caches.iter().map(|c| (c.cache.as_str(), c.level.as_str(), c.loads)).collect();
    assert_eq!(
        levels,
        [("indicators", "l1", None), ("indicators", "l2", Some(10)), ("quotes", "l1", Some(3))],
        "the loader's figures (no level label) are on the last level, not a level of their own"
    );
    let quotes = &caches[2];
    assert_eq!(
        (quotes.requests(), quotes.hit_ratio, quotes.load_errors),
        (12, Some(0.75), Some(1))
    );
    assert_eq!(
        quotes.evictions_by_cause,
        BTreeMap::from([("expired".into(), 0), ("size".into(), 10)])
    );
    let db = r.pools().into_iter().find(|p| p.pool == "db").expect("db");
    assert_eq!((db.wait_share(), db.mean_wait()), (Some(0.25), Some(Duration::from_millis(50))));
    let q = &r.queries()[0];
    assert_eq!(
        (q.rows_returned, q.rows_affected, q.mean()),
        (800, 1, Some(Duration::from_micros(3750)))
    );
}

/// Statements that failed: an errors column in the table (only when one did) and the page;
/// a slow statement's full text (label `statement`) in the page, and what an older report's
/// message has of it.
#[test]
fn query_errors_and_slow_statements_read_typed_and_show() {
    let mut r = full();
    let errors = [("fingerprint", LONG_FINGERPRINT)];
    r.figures.push(figure("query", "perfscope_query_errors_total", &errors, 3.0));
    let statement =
        format!("SELECT symbol FROM signals WHERE symbol = 'SYM001' {}", "x".repeat(300));
    r.events[0].labels.insert("statement".into(), statement.clone());
    r.events[1].message = "slow query: 340.0 ms (threshold 100.0 ms), 0 rows returned, 1 \
                           affected: INSERT INTO quotes VALUES (1)"
        .into();

    let queries = r.queries();
    let errors: Vec<Option<u64>> = queries.iter().map(|q| q.errors).collect();
    assert_eq!(errors, [Some(3), None, None]);
    let slow = r.slow_queries();
    assert_eq!(slow[1].statement, statement, "the label, whole");
    assert_eq!(slow[0].statement, "INSERT INTO quotes VALUES (1)", "from an older message");

    let table = r.to_string();
    let rows = table_rows(&table, "queries (statement fingerprints by total time):");
    assert_eq!(rows[0][..3], ["calls", "errors", "total"], "{table}");
    assert_eq!(rows[1][..3], ["400", "3", "1.50 s"], "{table}");
    assert_eq!(rows[2][..2], ["100", "-"], "{table}");
    assert!(!full().to_string().contains("┆ errors ┆"), "no column when nothing failed");

    let page = Html::parse_document(&r.to_html());
    let header: Vec<String> =
        select(page.root_element(), "#ps-queries th").into_iter().map(text).collect();
    assert_eq!(header[..3], ["calls", "errors", "total"]);
    assert_eq!(html_rows(&page, "ps-queries")[0][..2], ["400", "3"]);
    let header: Vec<String> =
        select(page.root_element(), "#ps-slow-queries th").into_iter().map(text).collect();
    assert_eq!(header, ["when", "elapsed", "fingerprint", "statement", "what happened"]);
    let rows = html_rows(&page, "ps-slow-queries");
    assert_eq!(rows[1][3], statement);
    assert_eq!(rows[0][3], "INSERT INTO quotes VALUES (1)");
}

#[test]
fn writes_a_page_for_a_browser() {
    let html = full().to_html();
    if let Some(path) = std::env::var_os("PERFSCOPE_WRITE_HTML") {
        std::fs::write(&path, &html).expect("the page is written");
        std::fs::write(std::path::Path::new(&path).with_extension("txt"), full().to_string())
            .expect("the table is written");
    }
    assert!(html.contains("id=\"ps-caches\""));
}

/// A section whose figures are not next to each other (the process's own, then the
/// monitor's) is one line, not one per run of figures.
#[test]
fn each_figure_section_is_listed_once() {
    let figures = vec![
        figure("process", "process_threads", &[], 2.0),
        figure("host", "perfscope_node_load1", &[], 0.5),
        figure("process", "process_open_fds", &[], 13.0),
    ];
    let r = report(Vec::new(), figures);
    let table = r.to_string();
    let lines: Vec<&str> = table.lines().filter(|l| !l.starts_with(['┌', '│', '╞', '└'])).collect();
    assert_eq!(
        lines[2..],
        ["process: process_threads 2, process_open_fds 13", "host: perfscope_node_load1 0.500"],
        "{table}"
    );
    let html = r.to_html();
    assert!(html.contains("<dd>1 (host), in the Figures section</dd>"), "{html}");
}
