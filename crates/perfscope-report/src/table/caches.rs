//! The table's cache section: a row per level and a `total` per multi-level cache, after the
//! hotspots, only when the report has cache figures.

use std::fmt;

use super::fit::{Grid, Shorten, Step};
use super::{Layout, NAME_CHARS};
use crate::format::{ABSENT, by_cause, clip, count, human_ns, percent};
use crate::readers::cache_rows;
use crate::report::Report;

/// The caches: a row per level and a `total` per multi-level cache.
pub(super) fn caches(
    report: &Report,
    layout: &mut Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let rows = cache_rows(report);
    if rows.is_empty() {
        return Ok(());
    }
    let loads = rows.iter().any(|r| r.figures.loads.is_some());
    let errors = rows.iter().any(|r| r.figures.errors > 0);
    let frames = rows.iter().any(|r| r.frame.is_some());
    let mut header = vec!["cache", "level", "requests", "hits", "misses", "hit ratio"];
    if loads {
        header.push("loads");
    }
    header.extend(["evictions", "entries"]);
    if errors {
        header.push("errors");
    }
    if frames {
        header.extend(["get mean", "get p99"]);
    }
    let body = rows
        .iter()
        .map(|row| {
            let c = &row.figures;
            let mut cells = vec![
                clip(&c.cache, NAME_CHARS),
                clip(&c.level, NAME_CHARS),
                c.requests().to_string(),
                c.hits.to_string(),
                c.misses.to_string(),
                percent(c.hit_ratio),
            ];
            if loads {
                cells.push(match (c.loads, c.load_errors) {
                    (Some(n), Some(failed)) if failed > 0 => format!("{n} ({failed} failed)"),
                    (n, _) => count(n),
                });
            }
            cells.extend([by_cause(&c.evictions_by_cause), count(c.entries)]);
            if errors {
                cells.push(c.errors.to_string());
            }
            if frames {
                match row.frame {
                    Some(frame) => cells.extend([human_ns(frame.mean_ns), human_ns(frame.p99_ns)]),
                    None => cells.extend([ABSENT.into(), ABSENT.into()]),
                }
            }
            cells
        })
        .collect();
    let grid = Grid::new(header, body, 2).names("cache", Shorten::End).steps(&STEPS);
    let table = layout.table("caches", &grid);
    let title = layout.fit.prose("caches (hit ratio = hits / requests):", "  ");
    write!(f, "\n{title}\n{table}")
}

/// How the cache table narrows: the latency columns, evictions by cause, loads and errors
/// go before requests, hits, misses and the hit ratio.
const STEPS: [Step; 9] = [
    Step::Drop("get mean"),
    Step::Drop("evictions"),
    Step::Drop("loads"),
    Step::Names(20),
    Step::Drop("entries"),
    Step::Drop("get p99"),
    Step::Drop("errors"),
    Step::Drop("misses"),
    Step::Names(super::fit::MIN_NAME_CHARS),
];
