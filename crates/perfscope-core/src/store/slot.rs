//! The single-writer side of a thread's store: one [`Slot`] per callsite the thread has called,
//! holding its counters, allocation figures, child edges and latency histogram. Only the owning
//! thread writes a slot (relaxed `load + store` through [`add`], no locked instruction); any
//! thread may read it for a snapshot.

use std::sync::atomic::Ordering::*;

use crate::alloc::AllocCounts;
use crate::histogram::AtomicHistogram;
use crate::sync::{AtomicU32, AtomicU64};

use super::totals::Totals;

/// Distinct child callsites remembered per callsite and thread; calls to further children
/// are counted in `other_children`.
pub const EDGES: usize = 16;

/// Adds to a counter that only the current thread writes.
#[inline(always)]
pub(crate) fn add(counter: &AtomicU64, value: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(value), Relaxed);
}

/// One child callsite: how often it was called from the slot's callsite, the time it ran and
/// the bytes it allocated there (inclusive of its own children).
#[derive(Default)]
pub(crate) struct Edge {
    child: AtomicU32,
    calls: AtomicU64,
    busy: AtomicU64,
    bytes: AtomicU64,
}

impl Edge {
    #[inline(always)]
    fn add(&self, calls: u64, busy: u64) {
        add(&self.calls, calls);
        add(&self.busy, busy);
    }
}

/// Allocation counters of one slot (owning thread writes).
#[derive(Default)]
pub(crate) struct AllocSlot {
    allocs: AtomicU64,
    alloc_bytes: AtomicU64,
    frees: AtomicU64,
    freed_bytes: AtomicU64,
    reallocs: AtomicU64,
}

impl AllocSlot {
    #[inline(always)]
    pub fn add(&self, c: AllocCounts) {
        add(&self.allocs, c.allocations);
        add(&self.alloc_bytes, c.alloc_bytes);
        add(&self.frees, c.frees);
        add(&self.freed_bytes, c.freed_bytes);
        add(&self.reallocs, c.reallocs);
    }

    fn load(&self) -> AllocCounts {
        AllocCounts {
            allocations: self.allocs.load(Relaxed),
            alloc_bytes: self.alloc_bytes.load(Relaxed),
            frees: self.frees.load(Relaxed),
            freed_bytes: self.freed_bytes.load(Relaxed),
            reallocs: self.reallocs.load(Relaxed),
        }
    }

    fn clear(&self) {
        for c in [&self.allocs, &self.alloc_bytes, &self.frees, &self.freed_bytes, &self.reallocs] {
            c.store(0, Relaxed);
        }
    }
}
/// The statistics of one callsite on one thread. Durations are in clock ticks.
#[derive(Default)]
#[repr(C, align(128))]
pub(crate) struct Slot {
    pub calls: AtomicU64,
    pub panics: AtomicU64,
    pub cancelled: AtomicU64,
    pub polls: AtomicU64,
    /// Inclusive time running on a thread (sync calls; async polls).
    pub busy: AtomicU64,
    /// `busy` minus the busy time of measured children.
    pub self_: AtomicU64,
    /// First poll to completion, summed over completed async calls.
    pub total: AtomicU64,
    /// Longest call latency.
    pub max: AtomicU64,
    pub other_children: AtomicU64,
    /// Allocations made by the callsite itself.
    pub alloc_self: AllocSlot,
    /// Allocations made by the callsite and its measured children.
    pub alloc_total: AllocSlot,
    pub edges: [Edge; EDGES],
    /// Call latency (sync: duration; async: first poll to completion).
    pub latency: AtomicHistogram,
}

impl Slot {
    /// A zeroed slot, built in place on the heap (it is about 2 KiB).
    #[cfg(not(perfscope_loom))]
    pub(super) fn new_boxed() -> Box<Slot> {
        // SAFETY: every field is an atomic integer or pointer (or an array of them), valid when
        // zeroed (a null octave pointer is an octave not allocated yet).
        unsafe { Box::<Slot>::new_zeroed().assume_init() }
    }

    /// loom's atomics are not plain integers: zeroed bytes are no valid one.
    #[cfg(perfscope_loom)]
    pub(super) fn new_boxed() -> Box<Slot> {
        Box::default()
    }

    /// Records one completed call's latency (owning thread only).
    #[inline(always)]
    pub fn record_latency(&self, latency: u64) {
        add(&self.calls, 1);
        if latency > self.max.load(Relaxed) {
            self.max.store(latency, Relaxed);
        }
        self.latency.record(latency);
    }

    /// Adds `calls` calls of `child` made from this callsite, which ran `busy` ticks (owning
    /// thread only).
    #[inline(always)]
    pub fn record_edge(&self, child: u32, calls: u64, busy: u64) {
        let edge = &self.edges[child as usize % EDGES];
        if edge.child.load(Relaxed) == child {
            edge.add(calls, busy);
        } else {
            self.record_edge_probing(child, calls, busy);
        }
    }

    /// The rest of [`Slot::record_edge`]: linear probing from the child's home entry.
    #[cold]
    #[inline(never)]
    fn record_edge_probing(&self, child: u32, calls: u64, busy: u64) {
        if let Some(edge) = self.edge_entry(child) {
            edge.add(calls, busy);
        } else {
            add(&self.other_children, calls);
        }
    }

    /// The edge entry of `child`, claimed if new; `None` when the table is full.
    fn edge_entry(&self, child: u32) -> Option<&Edge> {
        for i in 0..EDGES {
            let edge = &self.edges[(child as usize + i) % EDGES];
            let id = edge.child.load(Relaxed);
            if id == child {
                return Some(edge);
            }
            if id == 0 {
                edge.child.store(child, Release);
                return Some(edge);
            }
        }
        None
    }

    /// Adds the bytes `child` allocated (inclusive) under this callsite (owning thread only).
    pub fn record_edge_bytes(&self, child: u32, bytes: u64) {
        if let Some(edge) = self.edge_entry(child) {
            add(&edge.bytes, bytes);
        }
    }

    pub(super) fn clear(&self) {
        for c in [
            &self.calls,
            &self.panics,
            &self.cancelled,
            &self.polls,
            &self.busy,
            &self.self_,
            &self.total,
            &self.max,
            &self.other_children,
        ] {
            c.store(0, Relaxed);
        }
        for e in &self.edges {
            e.child.store(0, Relaxed);
            e.calls.store(0, Relaxed);
            e.busy.store(0, Relaxed);
            e.bytes.store(0, Relaxed);
        }
        self.alloc_self.clear();
        self.alloc_total.clear();
        self.latency.clear();
    }

    pub(super) fn add_to(&self, t: &mut Totals) {
        t.calls += self.calls.load(Relaxed);
        t.panics += self.panics.load(Relaxed);
        t.cancelled += self.cancelled.load(Relaxed);
        t.polls += self.polls.load(Relaxed);
        t.busy += self.busy.load(Relaxed);
        t.self_ += self.self_.load(Relaxed);
        t.total += self.total.load(Relaxed);
        t.max = t.max.max(self.max.load(Relaxed));
        t.other_children += self.other_children.load(Relaxed);
        t.alloc_self = t.alloc_self.plus(self.alloc_self.load());
        t.alloc_total = t.alloc_total.plus(self.alloc_total.load());
        for e in &self.edges {
            let child = e.child.load(Acquire);
            if child != 0 {
                let edge = t.children.entry(child).or_default();
                edge.calls += e.calls.load(Relaxed);
                edge.busy += e.busy.load(Relaxed);
                edge.bytes += e.bytes.load(Relaxed);
            }
        }
        // Read `max` before the buckets: a value recorded in between lands at most in a bucket
        // this snapshot skips, to be seen by the next one.
        self.latency.add_to_up_to(&mut t.latency, self.max.load(Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (thread, function) pair holds one slot: it must stay small (its histogram's
    /// octaves are allocated apart, on first use).
    #[test]
    fn a_slot_is_about_two_kibibytes() {
        let size = std::mem::size_of::<Slot>();
        assert!(size <= 2100, "a slot is {size} bytes");
        let slot = Slot::new_boxed();
        slot.record_latency(50);
        assert_eq!(slot.latency.heap_bytes(), std::mem::size_of::<AtomicHistogram>());
        slot.record_latency(5_000);
        assert_eq!(slot.latency.heap_bytes(), std::mem::size_of::<AtomicHistogram>() + 512);
    }
}
