//! Reads perfscope's figures for the tracker from one snapshot: counters, allocation figures
//! and latency histograms per callsite. Exporters read the snapshot; they never reach into the
//! store.

use perfscope_core::Snapshot;

use crate::tracker::{Counters, Reading};

/// One moment of perfscope's figures.
#[derive(Debug)]
pub(crate) struct Source {
    snapshot: Snapshot,
}

impl Source {
    /// Takes a snapshot of every thread's figures.
    pub fn read() -> Source {
        Source { snapshot: perfscope_core::snapshot() }
    }

    /// `perfscope::reset()` calls so far: a change means the figures restarted from zero.
    pub fn resets(&self) -> u64 {
        self.snapshot.resets
    }

    /// Seconds per clock tick, the unit of the latency histograms (the snapshot's own factor,
    /// so latencies and time totals agree).
    pub fn seconds_per_tick(&self) -> f64 {
        self.snapshot.nanos_per_tick / 1e9
    }

    /// Figures that are not functions (process, monitor, pools, ...), as read by the snapshot.
    pub fn figures(&self) -> &[perfscope_core::figures::Figure] {
        &self.snapshot.figures
    }

    /// Latency histograms of other sources (a query fingerprint's statement time).
    pub fn histograms(&self) -> &[perfscope_core::figures::HistogramFigure] {
        &self.snapshot.histograms
    }

    /// Every callsite's figures, in id order (so series are assigned in first-call order).
    /// Callsites sharing a name and module (the tracker sums them) are one function to users.
    pub fn readings(&self) -> impl Iterator<Item = Reading<'_>> {
        self.snapshot.callsites.iter().map(|c| Reading {
            id: Some(c.id),
            function: &c.info.name,
            module: &c.info.module_path,
            counters: Counters {
                calls: c.calls,
                panics: c.panics,
                self_ns: c.self_ns,
                busy_ns: c.busy_ns,
                alloc_bytes: c.alloc_self.alloc_bytes,
                allocations: c.alloc_self.allocations,
                total_ns: c.total_ns,
            },
            latency: &c.latency,
        })
    }
}
