//! [`Session`]: the figures of one window of time, as the difference of two readings of the
//! stores, without resetting anything.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::alloc;
use crate::callsite;
use crate::clock;
use crate::figures::{self, Figure, FigureKind, HistogramFigure, Readings};
use crate::histogram::Histogram;
use crate::snapshot::{Snapshot, Window, build};
use crate::store::{self, Totals};

/// The start of a window of time: the figures of the window are the difference of two
/// readings of the stores, without resetting anything.
///
/// [`Session::start`] reads every thread's totals (live and exited, in clock ticks) and the
/// figure sources' counters; [`Session::snapshot`] reads them again and returns a
/// [`Snapshot`] of what happened in between: calls, panics, cancellations, polls, busy, self
/// and total time, allocations, call edges and latency histograms subtract; gauges are read
/// at the end; counters of figure sources and their histograms subtract; events and history
/// points are those from the start on. Nothing is reset, so sessions nest and overlap freely,
/// on any threads, and the process-wide [`snapshot`](crate::snapshot()) is untouched.
///
/// ```
/// use perfscope_core::{Callsite, CallsiteName, Kind, Session, enter};
///
/// static STEP: Callsite =
///     Callsite::new(CallsiteName::Static("step"), Kind::Sync, module_path!(), file!(), line!());
/// let step = || drop(enter(&STEP));
///
/// step();
/// let session = Session::start();
/// step();
/// step();
/// let window = session.snapshot();
/// let calls = window.callsites.iter().find(|c| &*c.info.name == "step").unwrap().calls;
/// assert_eq!(calls, 2, "the call before the session is not in its window");
/// ```
///
/// Subtraction happens in ticks, before the conversion to nanoseconds, so a window's times do
/// not carry the drift of two conversion factors. What a window cannot tell exactly:
///
/// - **max**: exact when the window's longest call is the longest so far; otherwise the top of
///   the window's highest latency bucket (within 1%, capped at the longest so far);
/// - a **call in flight** at the start (or end) counts in the window it ends in, with its
///   whole time, as in any snapshot;
/// - a **`reset()`** during the session throws the earlier figures away: the window then
///   starts at that reset (its `elapsed_ns` says so).
///
/// A thread that exits during the session keeps its figures: they move to the retired
/// totals, which both readings include. Figure-source counters that went down (the source was
/// replaced) count from zero.
#[derive(Debug, Clone)]
pub struct Session {
    /// Every callsite's totals at the start, in ticks.
    totals: HashMap<u32, Totals>,
    /// The clock reading at the start.
    started: u64,
    /// Wall clock at the start, for events and history points.
    started_unix_ms: u64,
    resets: u64,
    overflowed_spans: u64,
    /// The sources' counters at the start, by series.
    counters: HashMap<SeriesKey, f64>,
    /// The sources' histograms at the start, by series.
    histograms: HashMap<SeriesKey, (Histogram, f64)>,
}

/// A figure's series: section, name and labels.
type SeriesKey = (&'static str, String, Vec<(String, String)>);

fn key(section: &'static str, name: &str, labels: &[(Cow<'static, str>, String)]) -> SeriesKey {
    (section, name.to_owned(), labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

impl Session {
    /// Starts a session now: reads the stores and the sources' counters (a lock held while
    /// the stores are read, as for a snapshot; no thread is stopped).
    pub fn start() -> Session {
        // Only the counters and histograms are kept: no gauge of perfscope's own is read.
        let readings = figures::read_sources(alloc::heap_in_use(), None, false);
        let started = clock::now();
        let store::Collected { totals, resets, .. } = store::collect();
        let counters = readings
            .figures
            .iter()
            .filter(|f| f.kind == FigureKind::Counter)
            .map(|f| (key(f.section, &f.name, &f.labels), f.value))
            .collect();
        let histograms = readings
            .histograms
            .into_iter()
            .map(|h| (key(h.section, &h.name, &h.labels), (h.histogram, h.sum)))
            .collect();
        Session {
            totals,
            started,
            started_unix_ms: crate::time::unix_ms_now(),
            resets,
            overflowed_spans: callsite::overflowed(),
            counters,
            histograms,
        }
    }

    /// What happened since the session started (see [`Session`]). May
    /// be called any number of times, from any thread; each call is a window from the start
    /// to now.
    pub fn snapshot(&self) -> Snapshot {
        self.take(false)
    }

    /// A [`snapshot`](Self::snapshot) with the sources' history points since the start (for
    /// reports with charts).
    pub fn snapshot_with_history(&self) -> Snapshot {
        self.take(true)
    }

    /// Time since the session started.
    pub fn elapsed(&self) -> Duration {
        let ticks = clock::now().saturating_sub(self.started);
        Duration::from_nanos(clock::to_nanos(ticks, clock::nanos_per_tick()))
    }

    fn take(&self, history: bool) -> Snapshot {
        let store::Collected { totals, since, resets, held } = store::collect();
        let overflowed = callsite::overflowed();
        let window = if resets == self.resets {
            Window {
                totals: totals
                    .into_iter()
                    .map(|(id, now)| match self.totals.get(&id) {
                        Some(then) => (id, since_totals(now, then)),
                        None => (id, now),
                    })
                    .collect(),
                since: self.started,
                resets,
                overflowed_spans: overflowed.saturating_sub(self.overflowed_spans),
            }
        } else {
            // A reset threw the earlier figures away: the window starts there.
            Window { totals, since: since.max(self.started), resets, overflowed_spans: overflowed }
        };
        let readings = figures::read_sources(alloc::heap_in_use(), Some(held), history);
        build(window, self.readings_since(readings))
    }

    /// The sources' readings over the window: counters and histograms minus their values at
    /// the start, gauges as read, events and history points from the start on.
    fn readings_since(&self, mut readings: Readings) -> Readings {
        for figure in &mut readings.figures {
            counter_since(figure, &self.counters);
        }
        for histogram in &mut readings.histograms {
            histogram_since(histogram, &self.histograms);
        }
        readings.events.retain(|e| e.at_unix_ms >= self.started_unix_ms);
        for series in &mut readings.history {
            series.points.retain(|(at, _)| *at >= self.started_unix_ms);
        }
        readings.history.retain(|s| !s.points.is_empty());
        readings
    }
}

fn counter_since(figure: &mut Figure, start: &HashMap<SeriesKey, f64>) {
    if figure.kind != FigureKind::Counter {
        return;
    }
    if let Some(&then) = start.get(&key(figure.section, &figure.name, &figure.labels))
        && figure.value >= then
    {
        figure.value -= then;
    }
}

fn histogram_since(figure: &mut HistogramFigure, start: &HashMap<SeriesKey, (Histogram, f64)>) {
    let Some((then, sum)) = start.get(&key(figure.section, &figure.name, &figure.labels)) else {
        return;
    };
    let window = figure.histogram.since(then);
    if window.count() + then.count() == figure.histogram.count() && figure.sum >= *sum {
        figure.histogram = window;
        figure.sum -= sum;
    }
}

/// A callsite's totals over the window: `now` minus `then` (counts that went down, which
/// only a reset can do, are taken as they are).
fn since_totals(now: Totals, then: &Totals) -> Totals {
    let mut latency = now.latency;
    latency.keep_since(&then.latency);
    let max = if now.max > then.max {
        now.max
    } else {
        // The window's longest call is no longer than the longest before it: the top of the
        // window's highest bucket.
        latency.highest().map_or(0, |top| top.min(now.max))
    };
    let children = now
        .children
        .into_iter()
        .filter_map(|(id, edge)| {
            let then = then.children.get(&id).copied().unwrap_or_default();
            let edge = store::EdgeTotals {
                calls: edge.calls.saturating_sub(then.calls),
                busy: edge.busy.saturating_sub(then.busy),
                bytes: edge.bytes.saturating_sub(then.bytes),
            };
            (edge != store::EdgeTotals::default()).then_some((id, edge))
        })
        .collect::<BTreeMap<_, _>>();
    Totals {
        calls: now.calls.saturating_sub(then.calls),
        panics: now.panics.saturating_sub(then.panics),
        cancelled: now.cancelled.saturating_sub(then.cancelled),
        polls: now.polls.saturating_sub(then.polls),
        busy: now.busy.saturating_sub(then.busy),
        self_: now.self_.saturating_sub(then.self_),
        total: now.total.saturating_sub(then.total),
        max,
        other_children: now.other_children.saturating_sub(then.other_children),
        alloc_self: saturating_since(now.alloc_self, then.alloc_self),
        alloc_total: saturating_since(now.alloc_total, then.alloc_total),
        children,
        latency,
    }
}

fn saturating_since(now: alloc::AllocCounts, then: alloc::AllocCounts) -> alloc::AllocCounts {
    alloc::AllocCounts {
        allocations: now.allocations.saturating_sub(then.allocations),
        alloc_bytes: now.alloc_bytes.saturating_sub(then.alloc_bytes),
        frees: now.frees.saturating_sub(then.frees),
        freed_bytes: now.freed_bytes.saturating_sub(then.freed_bytes),
        reallocs: now.reallocs.saturating_sub(then.reallocs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(calls: u64, latencies: &[u64]) -> Totals {
        let mut t = Totals { calls, busy: latencies.iter().sum(), ..Totals::default() };
        t.max = latencies.iter().copied().max().unwrap_or(0);
        latencies.iter().for_each(|&l| t.latency.record(l));
        t
    }

    #[test]
    fn a_window_subtracts_counts_and_histograms() {
        let then = totals(2, &[1_000_000, 1_000_000]);
        let now = totals(5, &[1_000_000, 1_000_000, 10, 20, 30]);
        let window = since_totals(now, &then);
        assert_eq!((window.calls, window.busy), (3, 60));
        assert_eq!(window.latency.count(), 3);
        assert_eq!(window.latency.quantile(1.0), Some(30));
        // The longest call is before the window: the window's max is its highest bucket's.
        assert_eq!(window.max, 30);
    }

    #[test]
    fn a_longer_call_in_the_window_is_its_exact_max() {
        let then = totals(1, &[100]);
        let now = totals(2, &[100, 5_000_003]);
        assert_eq!(since_totals(now, &then).max, 5_000_003);
    }

    #[test]
    fn edges_that_did_not_move_are_left_out() {
        let mut then = totals(1, &[1]);
        then.children.insert(7, store::EdgeTotals { calls: 3, busy: 30, bytes: 0 });
        then.children.insert(8, store::EdgeTotals { calls: 1, busy: 10, bytes: 0 });
        let mut now = then.clone();
        now.children.insert(8, store::EdgeTotals { calls: 4, busy: 50, bytes: 8 });
        let window = since_totals(now, &then);
        assert_eq!(window.children.len(), 1);
        assert_eq!(window.children[&8], store::EdgeTotals { calls: 3, busy: 40, bytes: 8 });
    }

    #[test]
    fn counters_subtract_and_gauges_stay() {
        let mut start = HashMap::new();
        let counter =
            Figure::counter("app", "app_done_total", "Done.", crate::kinds::FigureUnit::Count, 5.0);
        start.insert(key(counter.section, &counter.name, &counter.labels), 5.0);
        let mut later = Figure { value: 12.0, ..counter.clone() };
        counter_since(&mut later, &start);
        assert_eq!(later.value, 7.0);
        let mut restarted = Figure { value: 2.0, ..counter };
        counter_since(&mut restarted, &start);
        assert_eq!(restarted.value, 2.0, "a counter that went down counts from zero");
        let mut gauge =
            Figure::gauge("app", "app_done_total", "Done.", crate::kinds::FigureUnit::Count, 9.0);
        counter_since(&mut gauge, &start);
        assert_eq!(gauge.value, 9.0);
    }
}
