//! Live spans: what the layer remembers about each span between its callbacks (callsite id,
//! creation time, whether it was entered), without allocating per span.
//!
//! A fixed table, owned by one layer, indexed by a hash of the span id with a short probe
//! window; an entry is claimed with one compare-and-swap at span creation and freed at close.
//! When the window is full (thousands of spans alive at once) the span's state goes to the
//! registry's extensions instead, which allocates but never loses it.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};

/// Entries in a layer's table; more spans alive at once spill to extensions.
pub(crate) const SLOTS: usize = 1 << 13;
const PROBES: usize = 8;

/// One live span's state.
#[derive(Debug, Default)]
pub(crate) struct SpanState {
    key: AtomicU64,
    callsite: AtomicU32,
    entered: AtomicBool,
    created: AtomicU64,
}

impl SpanState {
    pub fn new(callsite: u32, created: u64) -> Self {
        SpanState {
            key: AtomicU64::new(0),
            callsite: AtomicU32::new(callsite),
            entered: AtomicBool::new(false),
            created: AtomicU64::new(created),
        }
    }

    #[inline]
    pub fn callsite(&self) -> u32 {
        self.callsite.load(Relaxed)
    }

    #[inline]
    pub fn created(&self) -> u64 {
        self.created.load(Relaxed)
    }

    /// Marks the span entered; `true` the first time, on one thread only: a span entered on
    /// two threads at the very same moment counts one edge call (tests/span_shared_entry.rs
    /// saw 3,001 and 3,002 edge calls for 3,000 spans with a plain load and store). The swap, a
    /// locked instruction, runs only on a span's first entry; later entries are a plain load.
    #[inline]
    pub fn first_entry(&self) -> bool {
        !self.entered.load(Relaxed) && !self.entered.swap(true, Relaxed)
    }
}

/// The table of one layer's live spans, keyed by tracing span id.
#[derive(Debug)]
pub(crate) struct SpanTable {
    slots: Box<[SpanState]>,
}

impl SpanTable {
    pub fn new() -> Self {
        SpanTable { slots: (0..SLOTS).map(|_| SpanState::default()).collect() }
    }

    fn window(&self, key: u64) -> impl Iterator<Item = &SpanState> {
        let home = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize;
        (0..PROBES).map(move |i| &self.slots[(home + i) % SLOTS])
    }

    /// Remembers a new span; `false` when its probe window is full.
    #[inline]
    pub fn insert(&self, key: u64, callsite: u32, created: u64) -> bool {
        for slot in self.window(key) {
            if slot.key.load(Relaxed) == 0
                && slot.key.compare_exchange(0, key, Acquire, Relaxed).is_ok()
            {
                slot.callsite.store(callsite, Relaxed);
                slot.created.store(created, Relaxed);
                slot.entered.store(false, Relaxed);
                return true;
            }
        }
        false
    }

    /// The state of live span `key`, if it is in the table. The span is known to exist (the
    /// caller got its id from tracing), so the entry cannot be freed while it is used.
    #[inline]
    pub fn get(&self, key: u64) -> Option<&SpanState> {
        self.window(key).find(|slot| slot.key.load(Relaxed) == key)
    }

    /// Forgets span `key` (at close).
    #[inline]
    pub fn remove(&self, slot: &SpanState) {
        slot.key.store(0, Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove_and_spill() {
        let table = SpanTable::new();
        assert!(table.insert(7, 3, 100));
        let state = table.get(7).unwrap();
        assert_eq!((state.callsite(), state.created()), (3, 100));
        assert!(state.first_entry());
        assert!(!state.first_entry());
        table.remove(state);
        assert!(table.get(7).is_none());
        // Keys with the same home fill the window, then spill.
        let same_home: Vec<u64> = (1..u64::MAX)
            .filter(|k| {
                ((k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize).is_multiple_of(SLOTS)
            })
            .take(PROBES + 1)
            .collect();
        for &k in &same_home[..PROBES] {
            assert!(table.insert(k, 1, 1));
        }
        assert!(!table.insert(same_home[PROBES], 1, 1));
        assert!(same_home[..PROBES].iter().all(|&k| table.get(k).is_some()));
    }
}
