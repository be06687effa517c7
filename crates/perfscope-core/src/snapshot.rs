//! Snapshots: every thread's store (live and exited) merged, in nanoseconds, without stopping
//! any thread. The only door readers (reports, exporters, the CLI) have into the data.

use std::collections::HashMap;

use crate::alloc::{self, AllocCounts};
use crate::callsite::{self, CallsiteInfo, Kind};
use crate::clock::{self, ClockSource};
use crate::figures::{self, Event, Figure, HistogramFigure, Series};
use crate::histogram::Histogram;
use crate::store::{self, Totals};

/// All callsites' merged figures at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Callsites called at least once (or cancelled), in id order.
    pub callsites: Vec<CallsiteSnapshot>,
    /// Time since the first measured call, or since the last [`reset`].
    pub elapsed_ns: u64,
    /// The clock the figures come from.
    pub clock: ClockSource,
    /// Whether [`CountingAlloc`](crate::CountingAlloc) is the global allocator (otherwise all
    /// allocation figures are zero).
    pub alloc_tracking: bool,
    /// Spans sent to the `<other>` callsite by the span-name cap, since start-up or the last
    /// [`reset`].
    pub overflowed_spans: u64,
    /// Callsites that found the callsite table full, counted under one
    /// `<callsite overflow>` row (since start-up).
    pub overflowed_callsites: u64,
    /// [`reset`] calls since start-up: exporters turning totals into deltas compare it with
    /// the previous snapshot's to tell a reset from a counter going down.
    pub resets: u64,
    /// Nanoseconds per clock tick, as measured for this snapshot: the factor its nanosecond
    /// figures were converted with, and the one to apply to its latency buckets (in ticks).
    pub nanos_per_tick: f64,
    /// Figures that are not functions (the process's, and those of registered sources), in
    /// the order read; see [`figures`](crate::figures).
    pub figures: Vec<Figure>,
    /// Histograms of other sources (a query fingerprint's statement time, a batcher's batch
    /// sizes), exported as histograms; see [`HistogramFigure`].
    pub histograms: Vec<HistogramFigure>,
    /// Recent events of the registered sources (alerts, anomalies, recommendations).
    pub events: Vec<Event>,
    /// The sources' recent history: empty unless taken by [`snapshot_with_history`].
    pub history: Vec<Series>,
}

/// A call edge from a callsite to one child callsite, summed over threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSnapshot {
    /// The child's callsite id.
    pub id: u32,
    /// The child's name (readers need no other lookup).
    pub name: Box<str>,
    /// Calls of the child from the parent.
    pub calls: u64,
    /// The child's inclusive on-thread time under the parent, in nanoseconds.
    pub busy_ns: u64,
    /// Bytes the child allocated (inclusive) under the parent.
    pub alloc_bytes: u64,
}

/// One callsite's figures, summed over threads. Times in nanoseconds.
#[derive(Debug, Clone)]
pub struct CallsiteSnapshot {
    /// Dense id (stable for the process's lifetime).
    pub id: u32,
    /// Name, location and kind.
    pub info: CallsiteInfo,
    /// Completed calls (returned, unwound, or — async — completed).
    pub calls: u64,
    /// Calls that ended by unwinding.
    pub panics: u64,
    /// Futures dropped before completing.
    pub cancelled: u64,
    /// Polls (async callsites).
    pub polls: u64,
    /// Inclusive time on a thread: sync call time, or async poll time.
    pub busy_ns: u64,
    /// `busy_ns` minus the busy time of measured children.
    pub self_ns: u64,
    /// Inclusive latency summed over completed calls: equal to `busy_ns` for sync callsites;
    /// first poll to completion for async ones; creation to close for spans.
    pub total_ns: u64,
    /// Longest call latency.
    pub max_ns: u64,
    /// Allocations made by the callsite itself (not by measured children).
    pub alloc_self: AllocCounts,
    /// Allocations made by the callsite and its measured children.
    pub alloc_total: AllocCounts,
    /// Calls made to each child callsite, by child id.
    pub children: Vec<EdgeSnapshot>,
    /// Calls to children past the per-callsite edge table (16 distinct children per thread).
    pub other_children: u64,
    /// Latency histogram, in clock ticks; see [`CallsiteSnapshot::quantile_ns`].
    pub latency: Histogram,
    nanos_per_tick: f64,
}

impl CallsiteSnapshot {
    /// The `q`-quantile of call latency in nanoseconds (1% relative error), capped at the
    /// maximum; 0 when no call completed.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        self.latency
            .quantile(q)
            .map_or(0, |ticks| clock::to_nanos(ticks, self.nanos_per_tick).min(self.max_ns))
    }

    /// [`quantile_ns`](Self::quantile_ns) of each of `qs`, in one pass over the histogram.
    pub fn quantiles_ns<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        self.latency.quantiles(qs).map(|ticks| {
            ticks.map_or(0, |ticks| clock::to_nanos(ticks, self.nanos_per_tick).min(self.max_ns))
        })
    }

    /// Nanoseconds per clock tick: the factor from [`CallsiteSnapshot::latency`]'s buckets
    /// (in ticks) to nanoseconds.
    pub fn nanos_per_tick(&self) -> f64 {
        self.nanos_per_tick
    }

    /// Mean latency in nanoseconds.
    pub fn mean_ns(&self) -> u64 {
        self.total_ns.checked_div(self.calls).unwrap_or(0)
    }
}

/// Takes a snapshot of every thread's figures.
pub fn snapshot() -> Snapshot {
    take(false)
}

/// A [`snapshot`] that also carries the sources' history (for reports with charts; exporters
/// take plain snapshots).
pub fn snapshot_with_history() -> Snapshot {
    take(true)
}

fn take(history: bool) -> Snapshot {
    let store::Collected { totals, since, resets, held } = store::collect();
    let window = Window { totals, since, resets, overflowed_spans: callsite::overflowed() };
    build(window, figures::read_sources(alloc::heap_in_use(), Some(held), history))
}

/// What a snapshot is built from: callsites' totals in ticks over a span of time. The whole
/// run's ([`snapshot`]) or a session's window ([`crate::Session`]).
pub(crate) struct Window {
    pub totals: HashMap<u32, Totals>,
    /// The clock reading the totals start at (0: nothing measured yet).
    pub since: u64,
    /// `reset()` calls so far.
    pub resets: u64,
    /// Spans sent to `<other>` by the span-name cap over the window.
    pub overflowed_spans: u64,
}

/// The snapshot of `window`'s totals (converted to nanoseconds here, once) and the sources'
/// `readings`.
pub(crate) fn build(window: Window, readings: figures::Readings) -> Snapshot {
    let Window { totals, since, resets, overflowed_spans } = window;
    let now = clock::now();
    let nanos_per_tick = clock::nanos_per_tick();
    let ns = |ticks: u64| clock::to_nanos(ticks, nanos_per_tick);
    let mut callsites: Vec<CallsiteSnapshot> = callsite::with_table(|table| {
        totals
            .into_iter()
            .filter(|(_, t)| t.calls + t.cancelled + t.polls + t.busy > 0)
            .filter_map(|(id, t)| {
                let info = table.get(id as usize)?.clone();
                let Totals {
                    calls,
                    panics,
                    cancelled,
                    polls,
                    busy,
                    self_,
                    total,
                    max,
                    alloc_self,
                    alloc_total,
                    ..
                } = t;
                let total = if info.kind == Kind::Sync { busy } else { total };
                Some(CallsiteSnapshot {
                    id,
                    info,
                    calls,
                    panics,
                    cancelled,
                    polls,
                    busy_ns: ns(busy),
                    self_ns: ns(self_),
                    total_ns: ns(total),
                    max_ns: ns(max),
                    alloc_self,
                    alloc_total,
                    // Every edge a store holds was claimed by a call or a span's exit, so
                    // none is empty.
                    children: t
                        .children
                        .into_iter()
                        .map(|(id, e)| EdgeSnapshot {
                            id,
                            name: table.get(id as usize).map_or_else(
                                || format!("<callsite {id}>").into(),
                                |i| i.name.clone(),
                            ),
                            calls: e.calls,
                            busy_ns: ns(e.busy),
                            alloc_bytes: e.bytes,
                        })
                        .collect(),
                    other_children: t.other_children,
                    latency: t.latency,
                    nanos_per_tick,
                })
            })
            .collect()
    });
    callsites.sort_by_key(|c| c.id);
    Snapshot {
        callsites,
        elapsed_ns: if since == 0 { 0 } else { ns(now.saturating_sub(since)) },
        clock: clock::source(),
        alloc_tracking: alloc::is_installed(),
        overflowed_spans,
        overflowed_callsites: callsite::refused_callsites(),
        resets,
        nanos_per_tick,
        figures: readings.figures,
        histograms: readings.histograms,
        events: readings.events,
        history: readings.history,
    }
}

/// Clears all figures: live threads' stores (each at its next call) and exited threads'.
pub fn reset() {
    store::reset();
    callsite::reset_overflowed();
}
