//! The single-writer side of a thread's store: one [`Slot`] per callsite the thread has called,
//! holding its counters, allocation figures, child edges and latency histogram. Only the owning
//! thread writes a slot (relaxed `load + store` through [`add`], no locked instruction); any
//! thread may read it for a snapshot.

use std::sync::atomic::Ordering::*;

use crate::alloc::AllocCounts;
use crate::histogram::AtomicHistogram;
use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, publish};

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
/// The child edges of one slot, allocated with its first measured child.
struct Edges([Edge; EDGES]);

/// The figures of a slot that most callsites never need, allocated on first use: panics,
/// cancellations, calls past the edge table, and allocation counts (which only callsites that
/// allocate, with [`CountingAlloc`](crate::alloc::CountingAlloc) installed, have).
#[derive(Default)]
struct Rare {
    panics: AtomicU64,
    cancelled: AtomicU64,
    other_children: AtomicU64,
    /// Allocations made by the callsite itself.
    alloc_self: AllocSlot,
    /// Allocations made by the callsite and its measured children.
    alloc_total: AllocSlot,
}

/// The statistics of one callsite on one thread: two cache lines, the counters every call
/// writes and the latency histogram's inline part; edges and rare figures live apart,
/// allocated on first use. Durations are in clock ticks. Calls are not counted apart: each
/// completed call is one value of the latency histogram.
#[derive(Default)]
#[repr(C, align(64))]
pub(crate) struct Slot {
    /// Inclusive time running on a thread (sync calls; async polls).
    pub busy: AtomicU64,
    /// `busy` minus the busy time of measured children.
    pub self_: AtomicU64,
    /// Longest call latency.
    pub max: AtomicU64,
    pub polls: AtomicU64,
    /// First poll to completion, summed over completed async calls.
    pub total: AtomicU64,
    edges: AtomicPtr<Edges>,
    rare: AtomicPtr<Rare>,
    /// Call latency (sync: duration; async: first poll to completion).
    pub latency: AtomicHistogram,
}

impl Slot {
    /// Records one completed call's latency (owning thread only).
    #[inline(always)]
    pub fn record_latency(&self, latency: u64) {
        if latency > self.max.load(Relaxed) {
            self.max.store(latency, Relaxed);
        }
        self.latency.record(latency);
    }

    /// Adds `calls` calls of `child` made from this callsite, which ran `busy` ticks (owning
    /// thread only).
    #[inline(always)]
    pub fn record_edge(&self, child: u32, calls: u64, busy: u64) {
        if let Some(edges) = self.edges_if_any() {
            let edge = &edges.0[child as usize % EDGES];
            if edge.child.load(Relaxed) == child {
                return edge.add(calls, busy);
            }
        }
        self.record_edge_probing(child, calls, busy);
    }

    /// The rest of [`Slot::record_edge`]: the table's allocation, and linear probing from the
    /// child's home entry.
    #[cold]
    #[inline(never)]
    fn record_edge_probing(&self, child: u32, calls: u64, busy: u64) {
        if let Some(edge) = self.edge_entry(child) {
            edge.add(calls, busy);
        } else {
            add(&self.rare().other_children, calls);
        }
    }

    /// The edge entry of `child`, claimed if new; `None` when the table is full.
    fn edge_entry(&self, child: u32) -> Option<&Edge> {
        let edges = publish(&self.edges, || Edges(Default::default()));
        for i in 0..EDGES {
            let edge = &edges.0[(child as usize + i) % EDGES];
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
        if bytes == 0 {
            return;
        }
        if let Some(edge) = self.edge_entry(child) {
            add(&edge.bytes, bytes);
        }
    }

    /// The edge table, if the slot has one.
    #[inline(always)]
    fn edges_if_any(&self) -> Option<&Edges> {
        // SAFETY: a non-null pointer is a published edge table, freed only with the slot.
        unsafe { self.edges.load(Acquire).as_ref() }
    }

    /// The rare figures, if the slot has any.
    fn rare_if_any(&self) -> Option<&Rare> {
        // SAFETY: a non-null pointer is published rare figures, freed only with the slot.
        unsafe { self.rare.load(Acquire).as_ref() }
    }

    /// The rare figures, allocated on first use (owning thread only).
    fn rare(&self) -> &Rare {
        publish(&self.rare, Rare::default)
    }

    /// Counts a call that ended by unwinding (owning thread only).
    #[cold]
    pub fn record_panic(&self) {
        add(&self.rare().panics, 1);
    }

    /// Counts a future dropped before completion (owning thread only).
    #[cold]
    pub fn record_cancelled(&self) {
        add(&self.rare().cancelled, 1);
    }

    /// Adds a call's allocations: `inclusive` of its measured children, `own` without them
    /// (owning thread only). Nothing is allocated for a call that allocated nothing.
    #[inline]
    pub fn record_allocs(&self, inclusive: AllocCounts, own: AllocCounts) {
        if inclusive == AllocCounts::default() {
            return;
        }
        let rare = self.rare();
        rare.alloc_total.add(inclusive);
        rare.alloc_self.add(own);
    }

    pub(super) fn clear(&self) {
        for c in [&self.polls, &self.busy, &self.self_, &self.total, &self.max] {
            c.store(0, Relaxed);
        }
        if let Some(edges) = self.edges_if_any() {
            for e in &edges.0 {
                e.child.store(0, Relaxed);
                e.calls.store(0, Relaxed);
                e.busy.store(0, Relaxed);
                e.bytes.store(0, Relaxed);
            }
        }
        if let Some(rare) = self.rare_if_any() {
            for c in [&rare.panics, &rare.cancelled, &rare.other_children] {
                c.store(0, Relaxed);
            }
            rare.alloc_self.clear();
            rare.alloc_total.clear();
        }
        self.latency.clear();
    }

    pub(super) fn add_to(&self, t: &mut Totals) {
        t.polls += self.polls.load(Relaxed);
        t.busy += self.busy.load(Relaxed);
        t.self_ += self.self_.load(Relaxed);
        t.total += self.total.load(Relaxed);
        let max = self.max.load(Relaxed);
        t.max = t.max.max(max);
        if let Some(rare) = self.rare_if_any() {
            t.panics += rare.panics.load(Relaxed);
            t.cancelled += rare.cancelled.load(Relaxed);
            t.other_children += rare.other_children.load(Relaxed);
            t.alloc_self = t.alloc_self.plus(rare.alloc_self.load());
            t.alloc_total = t.alloc_total.plus(rare.alloc_total.load());
        }
        if let Some(edges) = self.edges_if_any() {
            for e in &edges.0 {
                let child = e.child.load(Acquire);
                if child != 0 {
                    let edge = t.children.entry(child).or_default();
                    edge.calls += e.calls.load(Relaxed);
                    edge.busy += e.busy.load(Relaxed);
                    edge.bytes += e.bytes.load(Relaxed);
                }
            }
        }
        // `max` was read before the buckets: a value recorded in between lands at most in a
        // bucket this snapshot skips, to be seen by the next one.
        t.calls += self.latency.add_to_up_to(&mut t.latency, max);
    }

    /// Bytes this slot holds, its edge table, rare figures and histogram included.
    pub fn heap_bytes(&self) -> usize {
        let edges = self.edges_if_any().is_some();
        let rare = self.rare_if_any().is_some();
        std::mem::size_of::<Slot>() - std::mem::size_of::<AtomicHistogram>()
            + self.latency.heap_bytes()
            + usize::from(edges) * std::mem::size_of::<Edges>()
            + usize::from(rare) * std::mem::size_of::<Rare>()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let edges = self.edges.load(Acquire);
        if !edges.is_null() {
            // SAFETY: allocated by `publish`; `&mut self` means no reader is left.
            drop(unsafe { Box::from_raw(edges) });
        }
        let rare = self.rare.load(Acquire);
        if !rare.is_null() {
            // SAFETY: as above.
            drop(unsafe { Box::from_raw(rare) });
        }
    }
}

#[cfg(all(test, not(perfscope_loom)))]
mod tests {
    use super::*;
    use crate::histogram::SPARSE_FOR;

    /// Every (thread, function) pair holds one slot: two cache lines until it needs more.
    #[test]
    fn a_slot_is_two_cache_lines_until_its_calls_need_more() {
        assert_eq!(std::mem::size_of::<Slot>(), 128);
        let slot = Slot::default();
        slot.record_latency(50);
        slot.record_latency(5_000);
        assert_eq!(slot.heap_bytes(), 128, "two calls: their latencies kept inline");
        slot.record_latency(5_000);
        assert_eq!(slot.heap_bytes(), 128 + 128, "the next ones as pairs: the sparse stage");
        for _ in 1..SPARSE_FOR {
            slot.record_latency(5_000);
        }
        assert_eq!(slot.heap_bytes(), 128 + 128);
        slot.record_latency(5_000);
        assert_eq!(slot.heap_bytes(), 128 + 128 + 88 + 256, "then a group and an octave");
        slot.record_latency(5_000_000);
        let octaves = 128 + 128 + 2 * 88 + 2 * 256;
        assert_eq!(slot.heap_bytes(), octaves, "another group and octave");
        let used = slot.heap_bytes();
        slot.record_allocs(AllocCounts::default(), AllocCounts::default());
        assert_eq!(slot.heap_bytes(), used, "nothing allocated: no counters");
        slot.record_edge(7, 1, 10);
        assert_eq!(slot.heap_bytes(), used + 512, "an edge table");
        slot.record_panic();
        let rare = std::mem::size_of::<Rare>();
        assert_eq!(slot.heap_bytes(), used + 512 + rare);
        let mut t = Totals::default();
        slot.add_to(&mut t);
        let calls = u64::from(SPARSE_FOR) + 4;
        assert_eq!((t.calls, t.panics, t.max, t.latency.count()), (calls, 1, 5_000_000, calls));
        assert_eq!(t.children[&7].calls, 1);
        // A snapshot that read `max` before a longer call was recorded counts neither its
        // latency nor its call, and the next one counts both.
        let mut t = Totals::default();
        slot.latency.add_to_up_to(&mut t.latency, 5_000);
        assert_eq!(t.latency.count(), calls - 1);
    }
}
