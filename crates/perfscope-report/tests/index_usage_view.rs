//! Index usage in the report, on a hand-built report with the figures and events
//! `perfscope-instrument`'s query collector gives: `perfscope_query_index_used` per index (1
//! used, 0 never) and a recommendation per index never used (subject the figure, labels
//! `table` and `index`). The typed reader, the table's and the page's query sections show them
//! (hostile names escaped), and neither the fingerprints nor the index hints take them in.

use perfscope_report::{
    EventKind, EventStats, FigureKind, FigureStats, FigureUnit, IndexUsage, Report,
};
use scraper::{Html, Selector};

const USED: &str = "perfscope_query_index_used";
/// A name with quotes, markup and a newline, as a database may hold.
const HOSTILE: &str = "idx \"q\" <b>bold</b>\nnext";

fn figure(name: &str, labels: &[(&str, &str)], value: f64) -> FigureStats {
    FigureStats {
        section: "query".into(),
        name: name.into(),
        kind: if name.ends_with("_total") { FigureKind::Counter } else { FigureKind::Gauge },
        unit: FigureUnit::Count,
        help: String::new(),
        labels: labels.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect(),
        value,
    }
}

fn recommendation(subject: &str, labels: &[(&str, &str)], message: &str) -> EventStats {
    EventStats {
        section: "query".into(),
        kind: EventKind::Recommendation,
        at_unix_ms: 1_709_298_300_000,
        subject: subject.into(),
        labels: labels.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect(),
        message: message.into(),
        value: None,
    }
}

/// One fingerprint, an index hint, two indexes of `orders` (one used, one never) and the
/// never-used one's recommendation.
fn report() -> Report {
    let fingerprint = [("fingerprint", "ab12 SELECT * FROM orders WHERE customer_id = ?")];
    let figures = vec![
        figure("perfscope_query_calls_total", &fingerprint, 20.0),
        figure(USED, &[("table", "orders"), ("index", "orders_customer")], 1.0),
        figure(USED, &[("table", "orders"), ("index", HOSTILE)], 0.0),
    ];
    let hint = recommendation(
        "perfscope_query_duration_seconds_total",
        &[("table", "orders"), ("index", "CREATE INDEX ON orders(status)"), fingerprint[0]],
        "a full scan of orders",
    );
    let unused = recommendation(
        USED,
        &[("table", "orders"), ("index", HOSTILE)],
        "index is never used: no plan uses it <i>at all</i>",
    );
    Report { figures, events: vec![hint, unused], ..Report::default() }
}

#[test]
fn the_reader_gives_each_index_used_or_never_with_its_recommendation() {
    let report = report();
    let usage = report.index_usage();
    let want = [
        IndexUsage {
            table: "orders".into(),
            index: HOSTILE.into(),
            used: false,
            reason: "index is never used: no plan uses it <i>at all</i>".into(),
        },
        IndexUsage {
            table: "orders".into(),
            index: "orders_customer".into(),
            used: true,
            reason: String::new(),
        },
    ];
    assert_eq!(usage, want);
    // The index figures are no fingerprint, and the recommendation is no index hint.
    let fingerprints: Vec<String> = report.queries().into_iter().map(|q| q.fingerprint).collect();
    assert_eq!(fingerprints, ["ab12 SELECT * FROM orders WHERE customer_id = ?"]);
    let hints: Vec<String> = report.index_hints().into_iter().map(|h| h.index).collect();
    assert_eq!(hints, ["CREATE INDEX ON orders(status)"]);
    // A report without them reads none.
    assert!(Report::default().index_usage().is_empty());
}

#[test]
fn the_table_says_used_and_never_used_once_on_one_line_each() {
    let text = report().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let summary: Vec<&&str> = lines.iter().filter(|l| l.starts_with("indexes: ")).collect();
    assert_eq!(
        summary,
        [&"indexes: used 1 (orders.orders_customer) / never used 1 (orders.idx \"q\" \
             <b>bold</b> next)"],
        "{text}"
    );
    let unused = lines.iter().position(|l| l.starts_with("UNUSED INDEX on orders: ")).expect(&text);
    assert_eq!(lines[unused], "UNUSED INDEX on orders: idx \"q\" <b>bold</b> next");
    assert_eq!(lines[unused + 1], "  why: index is never used: no plan uses it <i>at all</i>");
    // Shown in the query section only, not again among the other events.
    assert_eq!(text.matches("no plan uses it").count(), 1, "{text}");
}

#[test]
fn the_page_lists_the_indexes_escaped() {
    let html = report().to_html();
    assert!(!html.contains("<b>bold</b>") && !html.contains("<i>at all</i>"), "escaped");
    let page = Html::parse_document(&html);
    let css = |s: &str| Selector::parse(s).unwrap();
    let (code, why, strong) = (css("code.ps-index"), css(".ps-why"), css("strong"));
    let text = |e: scraper::ElementRef<'_>| e.text().collect::<String>();
    let items: Vec<Vec<String>> = page
        .select(&css("#ps-indexes li"))
        .map(|li| {
            let mut cells: Vec<String> = li.select(&strong).map(text).collect();
            cells.extend(li.select(&code).map(text));
            cells.extend(li.select(&why).map(text));
            cells
        })
        .collect();
    assert_eq!(
        items,
        [
            vec![
                "orders",
                "never used",
                HOSTILE,
                "index is never used: no plan uses it <i>at all</i>"
            ],
            vec!["orders", "orders_customer"],
        ]
    );
}
