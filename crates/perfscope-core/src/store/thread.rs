//! A thread's store: a two-level directory of [`Slot`]s indexed by callsite id, written by its
//! thread only. Slots are allocated on a callsite's first call on the thread and live as long
//! as the store; [`EMPTY_STORE`] stands in before a thread's first call.

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
}

/// A store with no slots that is never stale: what a thread points at before its first call,
/// so the hot path needs no null check.
#[cfg(not(perfscope_loom))]
pub(crate) static EMPTY_STORE: ThreadStore = ThreadStore::new();

impl ThreadStore {
    #[cfg(not(perfscope_loom))]
    pub(super) const fn new() -> Self {
        ThreadStore { stale: AtomicBool::new(false), pages: null_ptrs() }
    }

    #[cfg(perfscope_loom)]
    pub(super) fn new() -> Self {
        ThreadStore { stale: AtomicBool::new(false), pages: null_ptrs() }
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

    pub(super) fn add_to(&self, totals: &mut HashMap<u32, Totals>) {
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
