//! The table's pool section: a row per pool (waits, timeouts, starvation), only when the
//! report has pool figures; a pool's acquire frame is a hotspot row already.

use std::fmt;

use super::fit::{Grid, MIN_NAME_CHARS, Shorten, Step};
use super::{Layout, NAME_CHARS};
use crate::format::{ABSENT, by_cause, clip, count, human_duration, percent};
use crate::report::Report;

/// The pools, with `STARVED` where callers wait and no object is idle.
pub(super) fn pools(
    report: &Report,
    layout: &mut Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let pools = report.pools();
    if pools.is_empty() {
        return Ok(());
    }
    let mut header = vec![
        "pool",
        "in use",
        "idle",
        "max",
        "peak",
        "acquires",
        "waits",
        "wait time",
        "mean wait",
    ];
    header.extend(["timeouts", "pending"]);
    let lifecycle = pools.iter().any(|p| p.created.is_some() || p.closed().is_some());
    if lifecycle {
        header.extend(["created", "closed"]);
    }
    header.push("status");
    let body = pools
        .iter()
        .map(|p| {
            let waits = match p.wait_share() {
                Some(share) if p.waits > 0 => format!("{} ({})", p.waits, percent(Some(share))),
                _ => p.waits.to_string(),
            };
            let mut cells = vec![
                clip(&p.pool, NAME_CHARS),
                p.in_use.to_string(),
                p.idle.to_string(),
                count(p.max),
                count(p.high_water),
                p.acquires.to_string(),
                waits,
                p.wait_time.map_or_else(|| ABSENT.into(), human_duration),
                p.mean_wait().map_or_else(|| ABSENT.into(), human_duration),
            ];
            cells.extend([p.timeouts.to_string(), p.pending.to_string()]);
            if lifecycle {
                cells.extend([count(p.created), by_cause(&p.closed_by_cause)]);
            }
            cells.push(if p.starved() { "STARVED" } else { "ok" }.into());
            cells
        })
        .collect();
    let grid = Grid::new(header, body, 1).left("status").names("pool", Shorten::End);
    let table = layout.table("pools", &grid.steps(&STEPS));
    let starved = pools.iter().filter(|p| p.starved()).count();
    let note = match starved {
        0 => String::new(),
        n => format!(", {n} STARVED: callers waiting, none idle, at max size"),
    };
    let title = layout.fit.prose(&format!("pools (peak = most in use at once{note}):"), "  ");
    write!(f, "\n{title}\n{table}")
}

/// How the pool table narrows: lifecycle counts, then the figures the others imply; the pool,
/// its waits, wait time, timeouts and status stay to the last.
const STEPS: [Step; 10] = [
    Step::Drop("created"),
    Step::Drop("closed"),
    Step::Drop("peak"),
    Step::Drop("acquires"),
    Step::Names(20),
    Step::Drop("mean wait"),
    Step::Drop("pending"),
    Step::Drop("idle"),
    Step::Drop("max"),
    Step::Names(MIN_NAME_CHARS),
];
