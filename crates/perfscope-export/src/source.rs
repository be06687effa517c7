//! Reads perfscope's figures for the tracker: one snapshot, seen through the report for the
//! counters (allocation figures included) and through the raw callsites for the latency
//! histograms. Exporters read the snapshot; they never reach into the store.

use perfscope::{Report, Snapshot};

use crate::tracker::{Bucket, Counters, Reading};

/// One moment of perfscope's figures.
#[derive(Debug)]
pub(crate) struct Source {
    snapshot: Snapshot,
    report: Report,
    seconds_per_tick: f64,
}

impl Source {
    /// Takes a snapshot of every thread's figures.
    pub fn read() -> Source {
        let snapshot = perfscope::snapshot();
        let report = Report::from_snapshot(&snapshot);
        let seconds_per_tick = perfscope_core::clock::nanos_per_tick() / 1e9;
        Source { snapshot, report, seconds_per_tick }
    }

    /// Time since the first measured call or the last reset.
    pub fn elapsed_ns(&self) -> u64 {
        self.snapshot.elapsed_ns
    }

    /// Seconds per clock tick, the unit of the latency histograms.
    pub fn seconds_per_tick(&self) -> f64 {
        self.seconds_per_tick
    }

    /// The figures of every function, as two readings each: the callsite's latency histogram
    /// (in callsite id order, so series are assigned in first-call order) and the report's
    /// counters. The tracker sums readings of the same function.
    pub fn readings(&self) -> impl Iterator<Item = Reading<'_>> {
        let latency = self.snapshot.callsites.iter().map(|c| Reading {
            function: &c.info.name,
            module: &c.info.module_path,
            counters: Counters::default(),
            latency: c
                .latency
                .buckets()
                .map(|(low, width, count)| Bucket { low, value: low + width / 2, count })
                .collect(),
        });
        let counters = self.report.functions.iter().map(|f| Reading {
            function: &f.name,
            module: &f.module,
            counters: Counters {
                calls: f.calls,
                panics: f.panicked,
                self_ns: f.self_ns,
                busy_ns: f.busy_ns,
                alloc_bytes: f.alloc_bytes,
                allocations: f.alloc_count,
            },
            latency: Vec::new(),
        });
        latency.chain(counters)
    }
}
