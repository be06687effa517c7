//! Live spans: what the layer remembers about each span between its callbacks (callsite id,
//! creation time, whether it was entered), without allocating per span and, in the common
//! case, without a locked instruction.
//!
//! A fixed table, owned by one layer, of groups of [`LANES`] entries; a span's group is a hash
//! of its id. Each of the first [`OWNED_LANES`] threads that create spans owns one lane
//! (process-wide, for every layer's table, given back when the thread exits): only that thread
//! writes a span id into its lane's entries, so it claims one with a plain load and store. A
//! span is found by comparing the keys of its group, the current thread's lane first. The
//! last [`SHARED_LANES`] lanes of each group belong to no thread: a thread without a lane, or
//! whose own entry of the group holds another live span, claims one of them with a
//! compare-and-swap. When those are full too (thousands of spans alive at once) the span's
//! state goes to the registry's extensions instead, which allocates but never loses it. Any
//! thread frees an entry at the span's close (its key back to 0).
//!
//! The hash leaves out the id's top [`GENERATION_BITS`]: `Registry` ids are `sharded_slab`
//! indices whose top 13 bits are the slot's generation, so a span that reuses a closed span's
//! registry slot (the next call of the same `#[instrument]`ed function, typically) reuses its
//! table entry too, already in the core's cache. Ids of other subscribers hash just as well
//! unless they differ only in those bits (then they share a group, and past it spill: slower,
//! never wrong).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};

/// Entries in a layer's table.
pub(crate) const SLOTS: usize = 1 << 13;
/// Entries per group: the lanes a span can be in.
pub(crate) const LANES: usize = 16;
/// Lanes any thread claims by compare-and-swap (the last ones of each group).
pub(crate) const SHARED_LANES: usize = 4;
/// Lanes owned by one thread each.
pub(crate) const OWNED_LANES: usize = LANES - SHARED_LANES;
const GROUPS: usize = SLOTS / LANES;
/// The top bits of a span id the table's hash leaves out (a `Registry` id's generation).
const GENERATION_BITS: u32 = 13;

/// One live span's state (in the table, or in the registry's extensions when it spilled).
#[derive(Debug, Default)]
pub(crate) struct SpanState {
    created: AtomicU64,
    callsite: AtomicU32,
    entered: AtomicBool,
}

impl SpanState {
    pub fn new(callsite: u32, created: u64) -> Self {
        SpanState {
            created: AtomicU64::new(created),
            callsite: AtomicU32::new(callsite),
            entered: AtomicBool::new(false),
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

    fn set(&self, callsite: u32, created: u64) {
        self.callsite.store(callsite, Relaxed);
        self.created.store(created, Relaxed);
        self.entered.store(false, Relaxed);
    }
}

/// The table of one layer's live spans, keyed by tracing span id (0: a free entry).
#[derive(Debug)]
pub(crate) struct SpanTable {
    keys: Box<[AtomicU64; SLOTS]>,
    states: Box<[SpanState; SLOTS]>,
}

/// A span's entry in the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    key: &'a AtomicU64,
    pub state: &'a SpanState,
}

/// The first entry of span `key`'s group: Fibonacci hashing of the id without its top
/// [`GENERATION_BITS`].
#[inline]
fn group(key: u64) -> usize {
    let hash = (key << GENERATION_BITS).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (hash >> (64 - GROUPS.ilog2())) as usize * LANES
}

impl SpanTable {
    pub fn new() -> Self {
        let keys: Box<[AtomicU64]> = (0..SLOTS).map(|_| AtomicU64::new(0)).collect();
        let states: Box<[SpanState]> = (0..SLOTS).map(|_| SpanState::default()).collect();
        SpanTable {
            keys: keys.try_into().expect("SLOTS keys"),
            states: states.try_into().expect("SLOTS states"),
        }
    }

    fn entry(&self, at: usize) -> Entry<'_> {
        let at = at % SLOTS;
        Entry { key: &self.keys[at], state: &self.states[at] }
    }

    /// Remembers a new span; `false` when its group has no free entry this thread may claim.
    #[inline]
    pub fn insert(&self, key: u64, callsite: u32, created: u64) -> bool {
        let group = group(key);
        if let Some(lane) = lane::owned() {
            let entry = self.entry(group + lane);
            // Only this thread writes a key into its lane; any thread writes 0 back (with
            // `Release`, after its last read of the state), so a 0 read here is final.
            if entry.key.load(Acquire) == 0 {
                entry.state.set(callsite, created);
                entry.key.store(key, Relaxed);
                return true;
            }
        }
        self.insert_shared(group, key, callsite, created)
    }

    #[cold]
    #[inline(never)]
    fn insert_shared(&self, group: usize, key: u64, callsite: u32, created: u64) -> bool {
        for lane in OWNED_LANES..LANES {
            let entry = self.entry(group + lane);
            if entry.key.load(Relaxed) == 0
                && entry.key.compare_exchange(0, key, Acquire, Relaxed).is_ok()
            {
                entry.state.set(callsite, created);
                return true;
            }
        }
        false
    }

    /// The entry of live span `key`, if it is in the table. The span is known to exist (the
    /// caller got its id from tracing), so the entry cannot be freed while it is used; the
    /// span's creation happened before (tracing hands the id over), so its state is visible.
    #[inline]
    pub fn get(&self, key: u64) -> Option<Entry<'_>> {
        let group = group(key);
        let first = lane::current();
        (0..LANES)
            .map(|i| self.entry(group + (first + i) % LANES))
            .find(|entry| entry.key.load(Relaxed) == key)
    }

    /// Forgets a span (at close).
    #[inline]
    pub fn remove(&self, entry: Entry<'_>) {
        entry.key.store(0, Release);
    }
}

/// The lane each thread owns in every table.
mod lane {
    use super::*;

    /// Not asked for yet.
    const UNASSIGNED: u8 = u8::MAX;
    /// No lane: every owned lane was taken, or the thread is exiting.
    const NONE: u8 = u8::MAX - 1;

    /// Owned lanes taken, one bit each.
    static TAKEN: AtomicU32 = AtomicU32::new(0);

    thread_local! {
        static LANE: Cell<u8> = const { Cell::new(UNASSIGNED) };
        static GIVE_BACK: GiveBack = const { GiveBack };
    }

    /// The thread's lane, if it owns one (taking one on its first span).
    #[inline]
    pub(super) fn owned() -> Option<usize> {
        match LANE.with(Cell::get) {
            lane if (lane as usize) < OWNED_LANES => Some(lane as usize),
            NONE => None,
            _ => take(),
        }
    }

    /// Where the thread starts looking in a group: its own lane, else the shared ones.
    #[inline]
    pub(super) fn current() -> usize {
        let lane = LANE.with(Cell::get) as usize;
        if lane < OWNED_LANES { lane } else { OWNED_LANES }
    }

    #[cold]
    #[inline(never)]
    fn take() -> Option<usize> {
        // The lane is given back at thread exit; a thread that cannot register that (it is
        // exiting already) takes none.
        if GIVE_BACK.try_with(|_| ()).is_err() {
            LANE.with(|lane| lane.set(NONE));
            return None;
        }
        let taken = TAKEN.fetch_update(Acquire, Relaxed, |taken| {
            let free = (!taken).trailing_zeros() as usize;
            (free < OWNED_LANES).then_some(taken | 1 << free)
        });
        let lane = match taken {
            Ok(before) => (!before).trailing_zeros() as u8,
            Err(_) => NONE,
        };
        LANE.with(|cell| cell.set(lane));
        (lane != NONE).then_some(lane as usize)
    }

    /// Gives the thread's lane back when it exits. Its spans still alive keep their entries
    /// (closed later by other threads); the lane's next owner claims only free entries, and
    /// its `Acquire` on `TAKEN` sees every key this thread wrote.
    struct GiveBack;

    impl Drop for GiveBack {
        fn drop(&mut self) {
            let lane = LANE.with(|cell| cell.replace(NONE));
            if (lane as usize) < OWNED_LANES {
                TAKEN.fetch_and(!(1 << lane), Release);
            }
        }
    }

    #[cfg(test)]
    pub(super) fn taken() -> u32 {
        TAKEN.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove_and_spill() {
        let table = SpanTable::new();
        assert!(table.insert(7, 3, 100));
        let entry = table.get(7).unwrap();
        assert_eq!((entry.state.callsite(), entry.state.created()), (3, 100));
        assert!(entry.state.first_entry());
        assert!(!entry.state.first_entry());
        table.remove(entry);
        assert!(table.get(7).is_none());
        // Keys of one group: this thread's own entry (unless other tests' threads hold every
        // lane), then the shared ones, then spill.
        let room = SHARED_LANES + usize::from(lane::owned().is_some());
        let same_group: Vec<u64> =
            (1..u64::MAX).filter(|&k| group(k) == 0).take(room + 1).collect();
        for (i, &k) in same_group[..room].iter().enumerate() {
            assert!(table.insert(k, i as u32, 1));
        }
        assert!(!table.insert(same_group[room], 1, 1));
        for (i, &k) in same_group[..room].iter().enumerate() {
            assert_eq!(table.get(k).unwrap().state.callsite(), i as u32);
        }
        // Freed entries are claimed again.
        table.remove(table.get(same_group[0]).unwrap());
        assert!(table.insert(same_group[room], 9, 1));
        assert_eq!(table.get(same_group[room]).unwrap().state.callsite(), 9);
    }

    #[test]
    fn a_registry_slot_reused_keeps_its_group() {
        // The same `sharded_slab` index in a later generation.
        let id = 0x0000_0040_0000_0007_u64;
        let next_generation = id + (1 << (64 - GENERATION_BITS));
        assert_eq!(group(id), group(next_generation));
        assert_ne!(group(id), group(id + 1));
        assert!(group(u64::MAX) + LANES <= SLOTS);
    }

    #[test]
    fn spans_made_on_many_threads_are_found_on_any_and_lanes_are_given_back() {
        use std::sync::Arc;
        let table = Arc::new(SpanTable::new());
        // More threads than owned lanes, each inserting spans another thread then finds and
        // frees; the same keys in every group the threads share.
        let threads = OWNED_LANES + 4;
        let made: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let table = &table;
                    s.spawn(move || {
                        let keys: Vec<u64> = (0..16).map(|i| (t << 38) + i + 1).collect();
                        for &k in &keys {
                            assert!(table.insert(k, k as u32, k));
                        }
                        keys
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        std::thread::scope(|s| {
            for keys in made.iter().rev() {
                let table = &table;
                s.spawn(move || {
                    for &k in keys {
                        let entry = table.get(k).expect("found from another thread");
                        assert_eq!((entry.state.callsite(), entry.state.created()), (k as u32, k));
                        table.remove(entry);
                        assert!(table.get(k).is_none());
                    }
                });
            }
        });
        // Every thread above has exited and given its lane back: a new thread gets one (with
        // none given back, the first twelve threads would have kept them all).
        let lane = std::thread::spawn(lane::owned).join().unwrap();
        assert!(lane.is_some(), "lanes taken: {:#b}", lane::taken());
    }
}
