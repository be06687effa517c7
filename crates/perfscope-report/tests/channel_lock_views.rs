//! The channel and lock sections of the typed readers, the table and the HTML page, on
//! hand-built reports with figures under the names `perfscope-instrument` exports: the rows
//! exactly, the most contended lock first, a backed-up channel flagged, the table within the
//! terminal's width, names escaped, absent values as `-`, and no section without figures.

use std::time::Duration;

use perfscope_report::{FigureKind, FigureStats, FigureUnit, Report};

fn figure(section: &str, name: &str, labels: &[(&str, &str)], value: f64) -> FigureStats {
    let unit = if name.contains("_seconds") { FigureUnit::Seconds } else { FigureUnit::Count };
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

/// A bounded channel's figures: `waits` sends waited 0.25 s in all.
fn channel(name: &str, sends: f64, depth: f64, waits: f64) -> Vec<FigureStats> {
    let f = |n: &str, v: f64| figure("channel", n, &[("channel", name)], v);
    vec![
        f("perfscope_channel_sends_total", sends),
        f("perfscope_channel_receives_total", sends - depth),
        f("perfscope_channel_depth", depth),
        f("perfscope_channel_depth_high_water", 16.0),
        f("perfscope_channel_capacity", 16.0),
        f("perfscope_channel_wait_seconds_total", 0.5),
        f("perfscope_channel_wait_p99_seconds", 0.004),
        f("perfscope_channel_send_waits_total", waits),
        f("perfscope_channel_send_wait_seconds_total", 0.25),
        f("perfscope_channel_closed_total", 0.0),
    ]
}

fn lock(name: &str, mode: &str, acquired: f64, contended: f64, waited: f64) -> Vec<FigureStats> {
    let f = |n: &str, v: f64| figure("lock", n, &[("lock", name), ("mode", mode)], v);
    vec![
        f("perfscope_lock_acquisitions_total", acquired),
        f("perfscope_lock_contentions_total", contended),
        f("perfscope_lock_wait_seconds_total", waited),
        f("perfscope_lock_hold_seconds_total", acquired * 1e-6),
        f("perfscope_lock_hold_max_seconds", 0.002),
    ]
}

fn report() -> Report {
    let mut figures = channel("quotes", 1000.0, 4.0, 10.0);
    figures.extend(channel("<script>", 10.0, 0.0, 0.0));
    figures.extend(lock("store", "exclusive", 2000.0, 500.0, 1.5));
    figures.extend(lock("store", "shared", 8000.0, 10.0, 0.01));
    figures.extend(lock("config", "exclusive", 5.0, 0.0, 0.0));
    figures.extend(lock("cache_index", "exclusive", 100.0, 20.0, -1.0));
    Report { figures, ..Report::default() }
}

#[test]
fn the_readers_give_each_channel_and_the_most_contended_lock_first() {
    let report = report();
    let channels = report.channels();
    assert_eq!(channels.len(), 2);
    let quotes = channels.iter().find(|c| c.channel == "quotes").unwrap();
    assert_eq!(
        (quotes.sends, quotes.receives, quotes.depth, quotes.high_water),
        (1000, 996, 4, 16)
    );
    assert_eq!((quotes.capacity, quotes.send_waits, quotes.lagged), (Some(16), Some(10), None));
    assert_eq!(quotes.mean_wait(), Some(Duration::from_secs_f64(0.5 / 996.0)));
    assert_eq!(quotes.wait_p99, Some(Duration::from_millis(4)));
    assert_eq!(quotes.peak_fill(), Some(1.0));
    assert!(quotes.backed_up());
    assert!(!channels.iter().find(|c| c.channel == "<script>").unwrap().backed_up());

    let locks = report.locks();
    let order: Vec<(&str, &str)> =
        locks.iter().map(|l| (l.lock.as_str(), l.mode.as_str())).collect();
    // By time waited; a wait that is not a duration reads as absent, last among the waiters.
    assert_eq!(
        order,
        [
            ("store", "exclusive"),
            ("store", "shared"),
            ("cache_index", "exclusive"),
            ("config", "exclusive")
        ]
    );
    let store = &locks[0];
    assert_eq!((store.acquisitions, store.contentions), (2000, 500));
    assert_eq!(store.contention_share(), Some(0.25));
    assert_eq!(store.mean_wait(), Some(Duration::from_millis(3)));
    assert_eq!(store.mean_hold(), Some(Duration::from_micros(1)));
    assert_eq!(locks[2].wait_time, None, "a negative wait is no duration");
    assert_eq!(locks[3].mean_wait(), None, "never waited");
}

#[test]
fn the_table_lists_channels_and_locks_and_fits_the_width() {
    let report = report();
    let wide = report.table(10).to_string();
    assert!(wide.contains("channels (wait = time an item spent in the queue"), "{wide}");
    assert!(wide.contains("locks, the most contended first"), "{wide}");
    let store = wide.lines().find(|l| l.contains("store") && l.contains("exclusive")).unwrap();
    assert!(store.contains("500 (25.0%)") && store.contains("1.50 s"), "{store}");
    let quotes = wide.lines().find(|l| l.contains("quotes")).unwrap();
    assert!(quotes.contains("BACKED UP"), "{quotes}");
    // The lock section comes after the channel section, the most contended lock first.
    let at = |text: &str| wide.find(text).unwrap();
    assert!(at("channels (") < at("locks, the") && at("store") < at("config"));
    // The generic per-section lines do not repeat the typed figures.
    assert!(!wide.lines().any(|l| l.starts_with("channel: ") || l.starts_with("lock: ")), "{wide}");
    for width in [60, 80, 120] {
        let fitted = report.table(10).width(width).to_string();
        assert!(fitted.lines().all(|l| l.chars().count() <= width), "{width}:\n{fitted}");
        assert!(fitted.contains("BACKED UP") && fitted.contains("store"), "{width}:\n{fitted}");
    }
    assert!(!Report::default().to_string().contains("channels ("));
    assert!(!Report::default().to_string().contains("locks, the"));
}

#[test]
fn the_page_has_a_channels_and_a_locks_section_with_names_escaped() {
    let html = report().to_html();
    assert!(html.contains("<h2>Channels</h2>") && html.contains("<h2>Locks</h2>"));
    assert!(html.contains("&lt;script&gt;") && !html.contains("<td class=\"name\"><script>"));
    let locks_at = html.find("id=\"ps-locks\"").unwrap();
    let store = html[locks_at..].find("store").unwrap();
    let config = html[locks_at..].find("config").unwrap();
    assert!(store < config, "the most contended first");
    assert!(html.contains("BACKED UP"));
    let empty = Report::default().to_html();
    assert!(!empty.contains("<h2>Channels</h2>") && !empty.contains("<h2>Locks</h2>"));
    // The figures survive the JSON round trip, and so do the views.
    let back = Report::from_json(&report().to_json()).unwrap();
    assert_eq!(back.locks(), report().locks());
    assert_eq!(back.channels(), report().channels());
}
