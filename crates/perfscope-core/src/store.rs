//! Per-thread stores and the global registry that merges them.
//!
//! Each thread owns one [`ThreadStore`]: a two-level directory of [`Slot`]s indexed by callsite
//! id. Only the owning thread writes a slot (relaxed `load + store`, no locked instruction);
//! any thread may read it for a snapshot. Slots are allocated on a callsite's first call on
//! the thread and live as long as the store. When a thread exits, its store is folded into
//! the registry's retired totals under the registry lock, so nothing is lost.

use std::collections::{BTreeMap, HashMap};
use std::ptr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::alloc::{self, AllocCounts};
use crate::callsite::MAX_CALLSITES;
use crate::histogram::{AtomicHistogram, Histogram};

/// Distinct child callsites remembered per callsite and thread; calls to further children
/// are counted in `other_children`.
pub const EDGES: usize = 16;
const PAGE: usize = 256;
const PAGES: usize = MAX_CALLSITES / PAGE;

/// Adds to a counter that only the current thread writes.
#[inline(always)]
pub(crate) fn add(counter: &AtomicU64, value: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(value), Relaxed);
}

/// One child callsite: how often it was called from the slot's callsite, the time it ran and
/// the bytes it allocated there (inclusive of its own children).
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
        add(&self.allocs, c.allocs);
        add(&self.alloc_bytes, c.alloc_bytes);
        add(&self.frees, c.frees);
        add(&self.freed_bytes, c.freed_bytes);
        add(&self.reallocs, c.reallocs);
    }

    fn load(&self) -> AllocCounts {
        AllocCounts {
            allocs: self.allocs.load(Relaxed),
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

/// A child's figures under one parent, summed over threads. Times in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeTotals {
    /// Calls of the child from the parent.
    pub calls: u64,
    /// The child's inclusive on-thread time under the parent.
    pub busy: u64,
    /// Bytes the child allocated (inclusive) under the parent.
    pub bytes: u64,
}

/// The statistics of one callsite on one thread. Durations are in clock ticks.
#[repr(C, align(128))]
pub(crate) struct Slot {
    pub calls: AtomicU64,
    pub panicked: AtomicU64,
    pub cancelled: AtomicU64,
    pub polls: AtomicU64,
    /// Inclusive time running on a thread (sync calls; async polls).
    pub busy: AtomicU64,
    /// `busy` minus the busy time of measured children.
    pub self_: AtomicU64,
    /// First poll to completion, summed over completed async calls.
    pub wall: AtomicU64,
    /// Longest call latency.
    pub max: AtomicU64,
    pub other_children: AtomicU64,
    /// Allocations made by the callsite itself.
    pub alloc_self: AllocSlot,
    /// Allocations made by the callsite and its measured children.
    pub alloc_total: AllocSlot,
    pub edges: [Edge; EDGES],
    /// Call latency (sync: duration; async: first poll to completion).
    pub hist: AtomicHistogram,
}

impl Slot {
    fn new_boxed() -> Box<Slot> {
        // SAFETY: every field is an atomic integer (or an array of them), valid when zeroed.
        unsafe { Box::<Slot>::new_zeroed().assume_init() }
    }

    /// Records one completed call's latency (owning thread only).
    #[inline(always)]
    pub fn record_latency(&self, latency: u64) {
        add(&self.calls, 1);
        if latency > self.max.load(Relaxed) {
            self.max.store(latency, Relaxed);
        }
        self.hist.record(latency);
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

    fn clear(&self) {
        for c in [
            &self.calls,
            &self.panicked,
            &self.cancelled,
            &self.polls,
            &self.busy,
            &self.self_,
            &self.wall,
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
        self.hist.clear();
    }

    fn add_to(&self, t: &mut Totals) {
        t.calls += self.calls.load(Relaxed);
        t.panicked += self.panicked.load(Relaxed);
        t.cancelled += self.cancelled.load(Relaxed);
        t.polls += self.polls.load(Relaxed);
        t.busy += self.busy.load(Relaxed);
        t.self_ += self.self_.load(Relaxed);
        t.wall += self.wall.load(Relaxed);
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
        self.hist.add_to_up_to(&mut t.hist, self.max.load(Relaxed));
    }
}

/// Plain totals of one callsite: a slot's figures summed over threads. Durations in ticks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Completed calls (sync returns or unwinds; async completions).
    pub calls: u64,
    /// Calls that ended by unwinding.
    pub panicked: u64,
    /// Futures dropped before completion.
    pub cancelled: u64,
    /// Polls of async callsites.
    pub polls: u64,
    /// Inclusive on-thread time.
    pub busy: u64,
    /// On-thread time minus measured children's.
    pub self_: u64,
    /// First poll to completion, summed (async callsites).
    pub wall: u64,
    /// Longest latency.
    pub max: u64,
    /// Calls to children past the per-callsite edge table.
    pub other_children: u64,
    /// Allocations made by the callsite itself.
    pub alloc_self: AllocCounts,
    /// Allocations made by the callsite and its measured children.
    pub alloc_total: AllocCounts,
    /// Figures per child callsite id.
    pub children: BTreeMap<u32, EdgeTotals>,
    /// Latency histogram.
    pub hist: Histogram,
}

struct Page {
    slots: [AtomicPtr<Slot>; PAGE],
}

/// One thread's statistics, indexed by callsite id.
pub(crate) struct ThreadStore {
    /// Set by `reset()`: the slots hold pre-reset figures, which snapshots skip, until the
    /// owning thread zeroes them (at its next call) and clears the flag.
    pub stale: AtomicBool,
    pages: [AtomicPtr<Page>; PAGES],
}

/// A store with no slots that is never stale: what a thread points at before its first call,
/// so the hot path needs no null check.
pub(crate) static EMPTY_STORE: ThreadStore = ThreadStore::new();

impl ThreadStore {
    const fn new() -> Self {
        ThreadStore {
            stale: AtomicBool::new(false),
            pages: [const { AtomicPtr::new(ptr::null_mut()) }; PAGES],
        }
    }

    /// The slot of callsite `id`, if this thread has called it.
    #[inline(always)]
    pub fn slot(&self, id: u32) -> Option<&Slot> {
        let page = self.pages[id as usize / PAGE].load(Acquire);
        if page.is_null() {
            return None;
        }
        // SAFETY: pages and slots, once published, live as long as the store.
        unsafe { (*page).slots[id as usize % PAGE].load(Acquire).as_ref() }
    }

    /// The slot of callsite `id`, allocating it (owning thread only).
    #[cold]
    #[inline(never)]
    pub fn slot_or_insert(&self, id: u32) -> &Slot {
        let _own = alloc::suspend();
        let page_ptr = &self.pages[id as usize / PAGE];
        let mut page = page_ptr.load(Acquire);
        if page.is_null() {
            page = Box::into_raw(Box::new(Page {
                slots: [const { AtomicPtr::new(ptr::null_mut()) }; PAGE],
            }));
            page_ptr.store(page, Release);
        }
        // SAFETY: as in `slot`.
        let slot_ptr = unsafe { &(*page).slots[id as usize % PAGE] };
        let mut slot = slot_ptr.load(Acquire);
        if slot.is_null() {
            slot = Box::into_raw(Slot::new_boxed());
            slot_ptr.store(slot, Release);
        }
        // SAFETY: as in `slot`.
        unsafe { &*slot }
    }

    fn for_each(&self, mut f: impl FnMut(u32, &Slot)) {
        for (p, page) in self.pages.iter().enumerate() {
            // SAFETY: as in `slot`.
            let Some(page) = (unsafe { page.load(Acquire).as_ref() }) else { continue };
            for (s, slot) in page.slots.iter().enumerate() {
                // SAFETY: as in `slot`.
                if let Some(slot) = unsafe { slot.load(Acquire).as_ref() } {
                    f((p * PAGE + s) as u32, slot);
                }
            }
        }
    }

    /// Zeroes every slot and clears `stale` (owning thread only).
    pub fn clear(&self) {
        self.for_each(|_, slot| slot.clear());
        self.stale.store(false, Release);
    }

    fn add_to(&self, totals: &mut HashMap<u32, Totals>) {
        self.for_each(|id, slot| slot.add_to(totals.entry(id).or_default()));
    }
}

impl Drop for ThreadStore {
    fn drop(&mut self) {
        for page in &self.pages {
            let page = page.load(Acquire);
            if page.is_null() {
                continue;
            }
            // SAFETY: the pointers came from Box::into_raw and nobody else holds the store.
            let page = unsafe { Box::from_raw(page) };
            for slot in &page.slots {
                let slot = slot.load(Acquire);
                if !slot.is_null() {
                    // SAFETY: as above.
                    drop(unsafe { Box::from_raw(slot) });
                }
            }
        }
    }
}

struct Registry {
    live: Vec<Arc<ThreadStore>>,
    retired: HashMap<u32, Totals>,
    /// Clock reading at start-up or at the last reset.
    since: u64,
    /// `reset()` calls so far.
    resets: u64,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry { live: Vec::new(), retired: HashMap::new(), since: 0, resets: 0 })
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Creates and registers the calling thread's store.
pub(crate) fn new_thread_store() -> Arc<ThreadStore> {
    let _own = alloc::suspend();
    let mut reg = registry();
    if reg.since == 0 {
        reg.since = crate::clock::now();
    }
    let store = Arc::new(ThreadStore::new());
    reg.live.push(store.clone());
    store
}

/// Folds an exiting thread's store into the retired totals and forgets it.
pub(crate) fn retire(store: &Arc<ThreadStore>) {
    let _own = alloc::suspend();
    let mut reg = registry();
    let reg = &mut *reg;
    if !store.stale.load(Acquire) {
        store.add_to(&mut reg.retired);
    }
    reg.live.retain(|s| !Arc::ptr_eq(s, store));
}

/// Records into the retired totals directly: for calls on a thread whose store is gone.
pub(crate) fn record_orphan(id: u32, f: impl FnOnce(&mut Totals)) {
    let _own = alloc::suspend();
    f(registry().retired.entry(id).or_default());
}

/// What [`collect`] returns.
pub(crate) struct Collected {
    pub totals: HashMap<u32, Totals>,
    /// The clock reading the totals start at.
    pub since: u64,
    /// `reset()` calls so far.
    pub resets: u64,
}

/// All threads' totals (live and exited) at this moment.
pub(crate) fn collect() -> Collected {
    let reg = registry();
    let mut totals = reg.retired.clone();
    for store in &reg.live {
        if !store.stale.load(Acquire) {
            store.add_to(&mut totals);
        }
    }
    Collected { totals, since: reg.since, resets: reg.resets }
}

/// Clears every store (each lazily, by its owner) and the retired totals.
pub(crate) fn reset() {
    let mut reg = registry();
    for store in &reg.live {
        store.stale.store(true, Release);
    }
    reg.retired.clear();
    reg.since = crate::clock::now();
    reg.resets += 1;
}

/// Number of live thread stores (for tests and diagnostics).
pub fn live_threads() -> usize {
    registry().live.len()
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
        assert_eq!(slot.hist.heap_bytes(), std::mem::size_of::<AtomicHistogram>());
        slot.record_latency(5_000);
        assert_eq!(slot.hist.heap_bytes(), std::mem::size_of::<AtomicHistogram>() + 512);
    }
}
