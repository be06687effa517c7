//! The table's channel and lock sections: a row per channel (sends, depth, queue wait,
//! senders' waits, lagged), and the most contended locks (a row per lock and mode), each only
//! when the report has such figures; their wait frames are hotspot rows already.

use std::fmt;

use super::fit::{Grid, MIN_NAME_CHARS, Shorten, Step};
use super::{Layout, NAME_CHARS};
use crate::format::{ABSENT, clip, count, human_duration, percent};
use crate::report::Report;

/// Locks shown by the table (the most contended).
pub(super) const TABLE_LOCKS: usize = 10;

/// Both sections.
pub(super) fn sections(
    report: &Report,
    layout: &mut Layout,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    channels(report, layout, f)?;
    locks(report, layout, f)
}

fn duration(d: Option<std::time::Duration>) -> String {
    d.map_or_else(|| ABSENT.into(), human_duration)
}

/// The channels, with `BACKED UP` where senders waited or receivers missed items.
fn channels(report: &Report, layout: &mut Layout, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let channels = report.channels();
    if channels.is_empty() {
        return Ok(());
    }
    let header = vec![
        "channel",
        "sends",
        "receives",
        "depth",
        "peak",
        "capacity",
        "mean wait",
        "p99 wait",
        "send waits",
        "send waited",
        "closed",
        "lagged",
        "status",
    ];
    let body = channels
        .iter()
        .map(|c| {
            vec![
                clip(&c.channel, NAME_CHARS),
                c.sends.to_string(),
                c.receives.to_string(),
                c.depth.to_string(),
                c.high_water.to_string(),
                count(c.capacity),
                duration(c.mean_wait()),
                duration(c.wait_p99),
                count(c.send_waits),
                duration(c.send_wait_time),
                c.closed.to_string(),
                count(c.lagged),
                if c.backed_up() { "BACKED UP" } else { "ok" }.into(),
            ]
        })
        .collect();
    let grid = Grid::new(header, body, 1).left("status").names("channel", Shorten::End);
    let table = layout.table("channels", &grid.steps(&CHANNEL_STEPS));
    let title = "channels (wait = time an item spent in the queue, send waits = sends that \
                 found it full; peak = most items queued at once):";
    write!(f, "\n{}\n{table}", layout.fit.prose(title, "  "))
}

/// How the channel table narrows: the counts the others imply go first; the channel, its
/// depth, senders' waits and status stay to the last.
const CHANNEL_STEPS: [Step; 11] = [
    Step::Drop("closed"),
    Step::Drop("receives"),
    Step::Drop("capacity"),
    Step::Drop("send waited"),
    Step::Names(20),
    Step::Drop("lagged"),
    Step::Drop("peak"),
    Step::Drop("mean wait"),
    Step::Names(MIN_NAME_CHARS),
    Step::Drop("sends"),
    Step::Drop("p99 wait"),
];

/// The most contended locks: a row per lock and mode, by time waited.
fn locks(report: &Report, layout: &mut Layout, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let locks = report.locks();
    if locks.is_empty() {
        return Ok(());
    }
    let header = vec![
        "lock",
        "mode",
        "acquired",
        "contended",
        "waited",
        "mean wait",
        "held",
        "mean hold",
        "max hold",
    ];
    let shown = &locks[..locks.len().min(TABLE_LOCKS)];
    let body = shown
        .iter()
        .map(|l| {
            let contended = match l.contention_share() {
                Some(share) if l.contentions > 0 => {
                    format!("{} ({})", l.contentions, percent(Some(share)))
                }
                _ => l.contentions.to_string(),
            };
            vec![
                clip(&l.lock, NAME_CHARS),
                l.mode.clone(),
                l.acquisitions.to_string(),
                contended,
                duration(l.wait_time),
                duration(l.mean_wait()),
                duration(l.hold_time),
                duration(l.mean_hold()),
                duration(l.hold_max),
            ]
        })
        .collect();
    let grid = Grid::new(header, body, 2).names("lock", Shorten::End);
    let table = layout.table("locks", &grid.steps(&LOCK_STEPS));
    let more = match locks.len() - shown.len() {
        0 => String::new(),
        n => format!(", {n} more in the JSON and HTML views"),
    };
    let title = format!("locks, the most contended first (waited = time callers waited{more}):");
    write!(f, "\n{}\n{table}", layout.fit.prose(&title, "  "))
}

/// How the lock table narrows: the hold figures, then the means; the lock, its contention and
/// wait stay to the last.
const LOCK_STEPS: [Step; 7] = [
    Step::Drop("held"),
    Step::Drop("mean hold"),
    Step::Names(20),
    Step::Drop("acquired"),
    Step::Drop("mean wait"),
    Step::Drop("max hold"),
    Step::Names(MIN_NAME_CHARS),
];
