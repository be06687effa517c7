//! The typed `cache`, `pool` and `query` views of a report's figures, from a source giving
//! figures under the names `perfscope-instrument` exports.

use std::sync::Arc;
use std::time::Duration;

use perfscope_core::figures::{self, Figure, FigureSource, FigureUnit};

#[derive(Debug)]
struct Instrumented;

impl FigureSource for Instrumented {
    fn read(&self, out: &mut Vec<Figure>) {
        let cache = |f: Figure| f.with_label("cache", "quotes").with_label("level", "l1");
        let c =
            |name: &'static str, v: f64| Figure::counter("cache", name, "", FigureUnit::Count, v);
        out.push(cache(c("perfscope_cache_requests_total", 9.0)).with_label("result", "hit"));
        out.push(cache(c("perfscope_cache_requests_total", 3.0)).with_label("result", "miss"));
        out.push(cache(Figure::gauge(
            "cache",
            "perfscope_cache_hit_ratio",
            "",
            FigureUnit::Ratio,
            0.75,
        )));
        out.push(cache(c("perfscope_cache_evictions_total", 2.0)).with_label("cause", "size"));
        out.push(cache(c("perfscope_cache_evictions_total", 1.0)).with_label("cause", "expired"));
        let pool = |f: Figure| f.with_label("pool", "db");
        let g = |name: &'static str, v: f64| Figure::gauge("pool", name, "", FigureUnit::Count, v);
        out.push(pool(g("perfscope_pool_connections", 2.0)).with_label("state", "used"));
        out.push(pool(g("perfscope_pool_connections", 6.0)).with_label("state", "idle"));
        out.push(pool(g("perfscope_pool_connections_max", 8.0)));
        out.push(pool(g("perfscope_pool_connections_used_high_water", 5.0)));
        out.push(pool(Figure::counter(
            "pool",
            "perfscope_pool_waits_total",
            "",
            FigureUnit::Count,
            4.0,
        )));
        let wait = Figure::counter(
            "pool",
            "perfscope_pool_wait_seconds_total",
            "",
            FigureUnit::Seconds,
            0.25,
        );
        out.push(pool(wait));
        for (fingerprint, calls, seconds) in [("a1 SELECT ?", 10.0, 0.5), ("b2 INSERT ?", 3.0, 1.5)]
        {
            let q = |f: Figure| f.with_label("fingerprint", fingerprint);
            out.push(q(Figure::counter(
                "query",
                "perfscope_query_calls_total",
                "",
                FigureUnit::Count,
                calls,
            )));
            let total = Figure::counter(
                "query",
                "perfscope_query_duration_seconds_total",
                "",
                FigureUnit::Seconds,
                seconds,
            );
            out.push(q(total));
            out.push(
                q(Figure::counter(
                    "query",
                    "perfscope_query_rows_total",
                    "",
                    FigureUnit::Count,
                    7.0,
                ))
                .with_label("rows", "returned"),
            );
            out.push(
                q(Figure::counter(
                    "query",
                    "perfscope_query_rows_total",
                    "",
                    FigureUnit::Count,
                    1.0,
                ))
                .with_label("rows", "affected"),
            );
        }
    }
}

#[test]
fn caches_pools_and_queries_read_typed() {
    let _registration = figures::register(Arc::new(Instrumented));
    let report = perfscope_report::Report::from_snapshot(&perfscope_core::snapshot_with_history());

    let caches = report.caches();
    let quotes = caches.iter().find(|c| c.cache == "quotes").expect("the cache");
    assert_eq!((quotes.level.as_str(), quotes.hits, quotes.misses), ("l1", 9, 3));
    assert_eq!((quotes.hit_ratio, quotes.entries, quotes.evictions), (Some(0.75), None, 3));

    let pools = report.pools();
    let db = pools.iter().find(|p| p.pool == "db").expect("the pool");
    assert_eq!((db.in_use, db.idle, db.max, db.high_water), (2, 6, Some(8), Some(5)));
    assert_eq!((db.waits, db.wait_time, db.timeouts), (4, Some(Duration::from_millis(250)), 0));

    let queries = report.queries();
    let ours: Vec<_> = queries.iter().filter(|q| q.fingerprint.contains(' ')).collect();
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[0].fingerprint, "b2 INSERT ?", "most time first");
    assert_eq!(
        (ours[0].calls, ours[0].total_time, ours[0].rows),
        (3, Some(Duration::from_millis(1500)), 8)
    );
    assert_eq!(ours[1].p99, None);
}
