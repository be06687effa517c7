//! The locked cross-thread side: the registry of live thread stores and the retired totals
//! of exited threads, and what goes through its lock (a thread's first call, thread exit,
//! calls after a thread's store is gone, snapshots, resets). The hot path never reaches it.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::Ordering::*;

use crate::alloc;
use crate::sync::{Arc, Mutex, MutexGuard};

use super::thread::ThreadStore;
use super::totals::Totals;

/// The live thread stores and the retired totals, behind one lock. The process has one
/// ([`REGISTRY`], reached through the functions below); the loom models build their own.
pub(crate) struct Registry(Mutex<State>);

struct State {
    live: Vec<Arc<ThreadStore>>,
    retired: HashMap<u32, Totals>,
    /// Clock reading at start-up or at the last reset.
    since: u64,
    /// `reset()` calls so far.
    resets: u64,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

/// What [`Registry::collect`] returns.
pub(crate) struct Collected {
    pub totals: HashMap<u32, Totals>,
    /// The clock reading the totals start at.
    pub since: u64,
    /// `reset()` calls so far.
    pub resets: u64,
    /// Bytes the live stores hold ([`held_bytes`]), summed as they are read.
    pub held: usize,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry(Mutex::new(State {
            live: Vec::new(),
            retired: HashMap::new(),
            since: 0,
            resets: 0,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates and registers a new thread store (the calling thread's).
    pub(crate) fn register(&self) -> Arc<ThreadStore> {
        let _own = alloc::suspend();
        let mut reg = self.lock();
        if reg.since == 0 {
            reg.since = crate::clock::now();
        }
        let store = Arc::new(ThreadStore::new());
        reg.live.push(store.clone());
        store
    }

    /// Folds an exiting thread's store into the retired totals and forgets it.
    pub(crate) fn retire(&self, store: &Arc<ThreadStore>) {
        let _own = alloc::suspend();
        let mut reg = self.lock();
        let reg = &mut *reg;
        if !store.stale.load(Acquire) {
            store.add_to(&mut reg.retired);
        }
        reg.live.retain(|s| !Arc::ptr_eq(s, store));
    }

    /// Records into the retired totals directly: for calls on a thread whose store is gone.
    pub(crate) fn record_orphan(&self, id: u32, f: impl FnOnce(&mut Totals)) {
        let _own = alloc::suspend();
        f(self.lock().retired.entry(id).or_default());
    }

    /// All threads' totals (live and exited) at this moment.
    pub(crate) fn collect(&self) -> Collected {
        let reg = self.lock();
        let mut totals = reg.retired.clone();
        let mut held = 0;
        for store in &reg.live {
            // A stale store still holds its memory until its owner clears it.
            held += if store.stale.load(Acquire) {
                store.heap_bytes()
            } else {
                store.add_to_counting_held(&mut totals)
            };
        }
        Collected { totals, since: reg.since, resets: reg.resets, held }
    }

    /// Clears every store (each lazily, by its owner) and the retired totals.
    pub(crate) fn reset(&self) {
        let mut reg = self.lock();
        for store in &reg.live {
            store.stale.store(true, Release);
        }
        reg.retired.clear();
        reg.since = crate::clock::now();
        reg.resets += 1;
    }

    /// Bytes the live thread stores hold.
    pub(crate) fn held_bytes(&self) -> usize {
        self.lock().live.iter().map(|s| s.heap_bytes()).sum()
    }

    /// Number of live thread stores.
    pub(crate) fn live_threads(&self) -> usize {
        self.lock().live.len()
    }
}

/// Creates and registers the calling thread's store.
pub(crate) fn new_thread_store() -> Arc<ThreadStore> {
    REGISTRY.register()
}

/// Folds an exiting thread's store into the retired totals and forgets it.
pub(crate) fn retire(store: &Arc<ThreadStore>) {
    REGISTRY.retire(store);
}

/// Records into the retired totals directly: for calls on a thread whose store is gone.
pub(crate) fn record_orphan(id: u32, f: impl FnOnce(&mut Totals)) {
    REGISTRY.record_orphan(id, f);
}

/// All threads' totals (live and exited) at this moment.
pub(crate) fn collect() -> Collected {
    REGISTRY.collect()
}

/// Clears every store (each lazily, by its owner) and the retired totals.
pub(crate) fn reset() {
    REGISTRY.reset();
}

/// Number of live thread stores (for tests and diagnostics).
pub fn live_threads() -> usize {
    REGISTRY.live_threads()
}

/// Bytes the live threads' stores hold for their figures (slots, histogram octaves, edge
/// tables; not the retired totals of exited threads): what measuring costs in memory.
pub fn held_bytes() -> usize {
    REGISTRY.held_bytes()
}
