//! What `top` shows, as plain data (shared by the terminal view and the plain text): the rows
//! of the hottest functions, the system line and the alerts line.

use perfscope_report::{Report, human_bytes, human_ns};

/// How the rows are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    /// Self time over the interval.
    #[value(name = "self")]
    SelfTime,
    /// Total (inclusive) time.
    Total,
    /// Calls.
    Calls,
    /// The 99th percentile latency.
    P99,
    /// Bytes allocated.
    Alloc,
}

impl SortKey {
    /// The next key (the `s` key of the terminal view).
    pub fn next(self) -> SortKey {
        match self {
            SortKey::SelfTime => SortKey::Total,
            SortKey::Total => SortKey::Calls,
            SortKey::Calls => SortKey::P99,
            SortKey::P99 => SortKey::Alloc,
            SortKey::Alloc => SortKey::SelfTime,
        }
    }

    /// Its name on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::SelfTime => "self",
            SortKey::Total => "total",
            SortKey::Calls => "calls",
            SortKey::P99 => "p99",
            SortKey::Alloc => "alloc",
        }
    }
}

/// One function over the interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its name.
    pub name: String,
    /// Calls completed in the interval.
    pub calls: u64,
    /// Calls per second.
    pub per_second: f64,
    /// Self time, ns.
    pub self_ns: u64,
    /// Self time as a share of the interval's wall time (1.0: one core busy all the time).
    pub self_share: f64,
    /// Total time, ns.
    pub total_ns: u64,
    /// p99 latency, ns.
    pub p99_ns: u64,
    /// Bytes allocated per second (self).
    pub alloc_per_second: f64,
}

/// The `n` first rows of `report`'s functions by `sort` (functions not called in the interval
/// left out).
pub fn rows(report: &Report, sort: SortKey, n: usize) -> Vec<Row> {
    let seconds = (report.elapsed_ns as f64 / 1e9).max(1e-9);
    let mut rows: Vec<Row> = report
        .functions
        .iter()
        .filter(|f| f.calls > 0)
        .map(|f| Row {
            name: f.name.clone(),
            calls: f.calls,
            per_second: f.calls as f64 / seconds,
            self_ns: f.self_ns,
            self_share: f.self_ns as f64 / 1e9 / seconds,
            total_ns: f.total_ns,
            p99_ns: f.p99_ns,
            alloc_per_second: f.alloc_bytes as f64 / seconds,
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &Row| match sort {
            SortKey::SelfTime => r.self_ns as f64,
            SortKey::Total => r.total_ns as f64,
            SortKey::Calls => r.calls as f64,
            SortKey::P99 => r.p99_ns as f64,
            SortKey::Alloc => r.alloc_per_second,
        };
        key(b).total_cmp(&key(a)).then_with(|| a.name.cmp(&b.name))
    });
    rows.truncate(n);
    rows
}

/// The column titles and a row's cells, as both views print them.
pub(crate) const HEADER: [&str; 7] =
    ["function", "calls/s", "self", "self %", "total", "p99", "alloc/s"];

pub(crate) fn cells(row: &Row) -> [String; 7] {
    [
        row.name.clone(),
        format!("{:.1}", row.per_second),
        human_ns(row.self_ns),
        format!("{:.1}%", row.self_share * 100.0),
        human_ns(row.total_ns),
        human_ns(row.p99_ns),
        format!("{}/s", human_bytes(row.alloc_per_second as u64)),
    ]
}

/// `cpu 45.0%, load 1.20, memory used 3.1 GiB, rss 40 MiB, heap 2 MiB, ...`; only what the
/// program's report has.
pub fn system_line(report: &Report) -> String {
    let s = report.system();
    let mut parts = Vec::new();
    if let Some(cpu) = s.cpu.usage {
        parts.push(format!("cpu {:.1}%", cpu * 100.0));
    }
    if let Some(load) = s.cpu.load {
        parts.push(format!("load {load:.2}"));
    }
    if let Some(used) = s.memory.used {
        parts.push(format!("memory used {}", human_bytes(used)));
    }
    if let Some(rss) = s.memory.resident {
        parts.push(format!("rss {}", human_bytes(rss)));
    }
    if let Some(heap) = s.memory.heap {
        parts.push(format!("heap {}", human_bytes(heap)));
    }
    if let Some(rps) = s.network.requests_per_second {
        parts.push(format!("traffic {rps:.1}/s"));
    }
    if let Some(rate) = s.database.cache_hit_rate {
        parts.push(format!("cache hits {:.1}%", rate * 100.0));
    }
    if parts.is_empty() {
        "system: no monitor in the program".into()
    } else {
        format!("system: {}", parts.join(", "))
    }
}

/// `alerts: none firing (5 armed)` or `alerts FIRING: a (critical), b (warning)`.
pub fn alerts_line(report: &Report) -> String {
    let alerts = report.alerts();
    let firing: Vec<String> = alerts
        .iter()
        .filter(|a| a.firing)
        .map(|a| format!("{} ({})", a.alert, a.severity))
        .collect();
    match (alerts.len(), firing.is_empty()) {
        (0, _) => "alerts: none armed".into(),
        (n, true) => format!("alerts: none firing ({n} armed)"),
        (_, false) => format!("alerts FIRING: {}", firing.join(", ")),
    }
}

/// The plain-text block of one interval.
pub(crate) fn plain(report: &Report, url: &str, sort: SortKey, n: usize) -> String {
    let rows = rows(report, sort, n);
    let mut all: Vec<[String; 7]> = vec![HEADER.map(String::from)];
    all.extend(rows.iter().map(cells));
    let widths: Vec<usize> =
        (0..7).map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = format!(
        "perfscope top {url}: the last {:.1} s, by {}\n{}\n{}\n",
        report.elapsed_ns as f64 / 1e9,
        sort.as_str(),
        system_line(report),
        alerts_line(report)
    );
    for row in &all {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    format!("{c:<w$}", w = widths[0])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no measured function ran in the interval)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfscope_report::FunctionStats;

    fn function(
        name: &str,
        calls: u64,
        self_ns: u64,
        p99_ns: u64,
        alloc_bytes: u64,
    ) -> FunctionStats {
        FunctionStats {
            name: name.into(),
            calls,
            self_ns,
            total_ns: self_ns * 2,
            p99_ns,
            alloc_bytes,
            ..FunctionStats::default()
        }
    }

    #[test]
    fn rows_are_rates_over_the_interval_sorted_by_the_key() {
        let report = Report {
            elapsed_ns: 2_000_000_000,
            functions: vec![
                function("a", 100, 500_000_000, 1_000, 0),
                function("b", 1_000, 100_000_000, 9_000, 4_000_000),
                function("idle", 0, 0, 0, 0),
            ],
            ..Report::default()
        };
        let by_self = rows(&report, SortKey::SelfTime, 10);
        assert_eq!(by_self.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((by_self[0].per_second, by_self[0].self_share), (50.0, 0.25));
        assert_eq!(by_self[1].alloc_per_second, 2_000_000.0);
        let by_p99 = rows(&report, SortKey::P99, 1);
        assert_eq!(by_p99.len(), 1);
        assert_eq!(by_p99[0].name, "b");
        assert_eq!(SortKey::Alloc.next(), SortKey::SelfTime);
        let text = plain(&report, "http://x", SortKey::Calls, 10);
        assert!(text.lines().nth(4).is_some_and(|l| l.starts_with("b ")), "{text}");
        assert!(
            text.contains("system: no monitor") && text.contains("alerts: none armed"),
            "{text}"
        );
    }
}
