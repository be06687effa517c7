//! A thread's store: a two-level directory of [`Slot`]s indexed by callsite id, written by its
//! thread only. Slots are allocated on a callsite's first call on the thread and live as long
//! as the store; [`EMPTY_STORE`] stands in before a thread's first call.

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::Ordering::*;

use crate::alloc;
use crate::callsite::MAX_CALLSITES;
use crate::sync::{AtomicBool, AtomicPtr};

use super::slot::Slot;
use super::totals::Totals;

const PAGE: usize = 256;
const PAGES: usize = MAX_CALLSITES / PAGE;
/// Slots allocated together: a thread's slots share allocations (no allocator header or
/// alignment padding per slot) and no other thread's data shares their cache lines.
#[cfg(not(perfscope_loom))]
const CHUNK: usize = 32;
#[cfg(perfscope_loom)]
const CHUNK: usize = 2;

/// A block of slots handed out in order, linked to the block before it.
struct Chunk {
    slots: [Slot; CHUNK],
    previous: *mut Chunk,
}

impl Chunk {
    /// A chunk of zeroed slots, built in place on the heap.
    #[cfg(not(perfscope_loom))]
    fn new_boxed(previous: *mut Chunk) -> Box<Chunk> {
        // SAFETY: every field of a slot is an atomic integer or pointer (or an array of them),
        // valid when zeroed (null pointers are parts not allocated yet); `previous` is set
        // right after.
        let mut chunk = unsafe { Box::<Chunk>::new_zeroed().assume_init() };
        chunk.previous = previous;
        chunk
    }

    /// loom's atomics are not plain integers: zeroed bytes are no valid one.
    #[cfg(perfscope_loom)]
    fn new_boxed(previous: *mut Chunk) -> Box<Chunk> {
        Box::new(Chunk { slots: std::array::from_fn(|_| Slot::default()), previous })
    }
}

/// The owning thread's allocation state: the newest chunk and how many of its slots are used.
struct Chunks {
    last: *mut Chunk,
    used: usize,
}

struct Page {
    slots: [AtomicPtr<Slot>; PAGE],
}

impl Page {
    fn new_boxed() -> Box<Page> {
        Box::new(Page { slots: null_ptrs() })
    }
}

/// An array of null pointers (`const` with std's atomics, which the statics need).
#[cfg(not(perfscope_loom))]
const fn null_ptrs<T, const N: usize>() -> [AtomicPtr<T>; N] {
    [const { AtomicPtr::new(ptr::null_mut()) }; N]
}

#[cfg(perfscope_loom)]
fn null_ptrs<T, const N: usize>() -> [AtomicPtr<T>; N] {
    std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut()))
}

/// One thread's statistics, indexed by callsite id.
pub(crate) struct ThreadStore {
    /// Set by `reset()`: the slots hold pre-reset figures, which snapshots skip, until the
    /// owning thread zeroes them (at its next call) and clears the flag.
    pub stale: AtomicBool,
    pages: [AtomicPtr<Page>; PAGES],
    /// Touched by the owning thread only (in `slot_or_insert`), and by `drop`.
    chunks: UnsafeCell<Chunks>,
}

// SAFETY: `chunks` is only used by the owning thread (`slot_or_insert`'s contract) and by
// `drop`, when no other reference is left; everything else is atomics.
unsafe impl Sync for ThreadStore {}
// SAFETY: as above.
unsafe impl Send for ThreadStore {}

/// A store with no slots that is never stale: what a thread points at before its first call,
/// so the hot path needs no null check.
#[cfg(not(perfscope_loom))]
pub(crate) static EMPTY_STORE: ThreadStore = ThreadStore::new();

impl ThreadStore {
    #[cfg(not(perfscope_loom))]
    pub(super) const fn new() -> Self {
        ThreadStore {
            stale: AtomicBool::new(false),
            pages: null_ptrs(),
            chunks: UnsafeCell::new(Chunks { last: ptr::null_mut(), used: CHUNK }),
        }
    }

    #[cfg(perfscope_loom)]
    pub(super) fn new() -> Self {
        ThreadStore {
            stale: AtomicBool::new(false),
            pages: null_ptrs(),
            chunks: UnsafeCell::new(Chunks { last: ptr::null_mut(), used: CHUNK }),
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
            page = Box::into_raw(Page::new_boxed());
            page_ptr.store(page, Release);
        }
        // SAFETY: as in `slot`.
        let slot_ptr = unsafe { &(*page).slots[id as usize % PAGE] };
        let mut slot = slot_ptr.load(Acquire);
        if slot.is_null() {
            slot = self.new_slot();
            slot_ptr.store(slot, Release);
        }
        // SAFETY: as in `slot`.
        unsafe { &*slot }
    }

    /// The next unused slot of the newest chunk, allocating a chunk when it is full (owning
    /// thread only, allocations suspended).
    fn new_slot(&self) -> *mut Slot {
        // SAFETY: only the owning thread calls this (see `slot_or_insert`), so nothing else
        // borrows `chunks`.
        let chunks = unsafe { &mut *self.chunks.get() };
        if chunks.used == CHUNK {
            chunks.last = Box::into_raw(Chunk::new_boxed(chunks.last));
            chunks.used = 0;
        }
        // SAFETY: `last` is a live chunk (allocated above or before) and `used < CHUNK`.
        let slot = unsafe { ptr::addr_of_mut!((*chunks.last).slots[chunks.used]) };
        chunks.used += 1;
        slot
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

    /// After a `reset()`, zeroes every slot and then clears `stale` (Release: a snapshot that
    /// sees `stale` clear sees the zeroes); whether it did (owning thread only).
    pub fn clear_if_stale(&self) -> bool {
        if !self.stale.load(Relaxed) {
            return false;
        }
        self.for_each(|_, slot| slot.clear());
        self.stale.store(false, Release);
        true
    }

    /// Bytes this store holds: itself, its pages, its chunks and what their slots allocated
    /// (histogram octaves, edge tables, rare figures). Reads pointers the owning thread
    /// publishes; a slot being added meanwhile may be left out.
    pub(super) fn heap_bytes(&self) -> usize {
        let mut slots = 0usize;
        let mut beyond = 0;
        self.for_each(|_, slot| {
            slots += 1;
            beyond += slot.heap_bytes() - std::mem::size_of::<Slot>();
        });
        self.fixed_bytes(slots) + beyond
    }

    pub(super) fn add_to(&self, totals: &mut HashMap<u32, Totals>) {
        self.for_each(|id, slot| slot.add_to(totals.entry(id).or_default()));
    }

    /// [`add_to`](Self::add_to), returning the bytes the store holds (as
    /// [`heap_bytes`](Self::heap_bytes)), counted in the same walk, each slot right after its
    /// figures are read (its lines in cache).
    pub(super) fn add_to_counting_held(&self, totals: &mut HashMap<u32, Totals>) -> usize {
        let mut slots = 0usize;
        let mut beyond = 0;
        self.for_each(|id, slot| {
            slot.add_to(totals.entry(id).or_default());
            slots += 1;
            beyond += slot.heap_bytes() - std::mem::size_of::<Slot>();
        });
        self.fixed_bytes(slots) + beyond
    }

    /// The store itself, its pages, and the chunks holding `slots` slots.
    fn fixed_bytes(&self, slots: usize) -> usize {
        let pages = self.pages.iter().filter(|p| !p.load(Acquire).is_null()).count();
        std::mem::size_of::<Self>()
            + pages * std::mem::size_of::<Page>()
            + slots.div_ceil(CHUNK) * std::mem::size_of::<Chunk>()
    }
}

impl Drop for ThreadStore {
    fn drop(&mut self) {
        for page in &self.pages {
            let page = page.load(Acquire);
            if !page.is_null() {
                // SAFETY: the pointers came from Box::into_raw and nobody else holds the store.
                drop(unsafe { Box::from_raw(page) });
            }
        }
        let mut chunk = self.chunks.get_mut().last;
        while !chunk.is_null() {
            // SAFETY: as above; each chunk links to the one allocated before it.
            let boxed = unsafe { Box::from_raw(chunk) };
            chunk = boxed.previous;
        }
    }
}
