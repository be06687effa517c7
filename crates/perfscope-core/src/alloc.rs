//! [`CountingAlloc`]: a global allocator wrapper that counts every allocation, deallocation and
//! reallocation, so frames can attribute them to the function or span that made them.
//!
//! Two sets of counters, neither of which allocates, locks or recurses:
//! - per thread, plain `Cell`s in a const-initialised thread-local with no destructor
//!   (always reachable, even during thread exit): frames read them at entry and exit;
//! - per shard, for the process-wide heap in use: a thread claims one of [`SHARDS`] cache-line
//!   sized shards on its first allocation and is its only writer until it exits (relaxed
//!   `load + store`, no locked instruction). Threads past the shard count, and allocations made
//!   while a thread is exiting, go to one shared overflow shard with atomic adds.
//!
//! perfscope's own allocations (first-use registration, store pages) are counted in the heap
//! figures but attributed to no frame: they run inside [`suspend`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};

/// Shards of the process-wide heap counters (threads alive at once that get their own).
pub const SHARDS: usize = 256;

/// A global allocator that counts allocations for perfscope, then calls `A`.
///
/// ```no_run
/// #[global_allocator]
/// static ALLOC: perfscope_core::CountingAlloc = perfscope_core::CountingAlloc::system();
/// ```
///
/// Wrap another allocator with [`CountingAlloc::new`], e.g.
/// `CountingAlloc::new(mimalloc::MiMalloc)`.
///
/// Only the outermost allocator call on a thread is counted: an inner allocator that
/// allocates through the global allocator for its own bookkeeping (dhat does) re-enters this
/// one, and those nested calls are neither attributed nor counted in the heap figures. The
/// guard costs a thread-local update per call; [`system`](Self::system) needs none (the system
/// allocator never re-enters), and [`trusting_inner`](Self::trusting_inner) drops it for an
/// inner allocator known never to allocate through the global allocator.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc<A = System> {
    inner: A,
    /// `inner` never allocates through the global allocator: no re-entrancy guard.
    trust_inner: bool,
}

impl CountingAlloc<System> {
    /// Counts and forwards to the system allocator.
    pub const fn system() -> Self {
        CountingAlloc { inner: System, trust_inner: true }
    }
}

impl<A> CountingAlloc<A> {
    /// Counts and forwards to `inner`, guarding against `inner` re-entering the global
    /// allocator.
    pub const fn new(inner: A) -> Self {
        CountingAlloc { inner, trust_inner: false }
    }

    /// Drops the re-entrancy guard: for an inner allocator that never allocates through the
    /// global allocator (e.g. mimalloc, jemalloc). If it does, its own allocations are counted
    /// as the calling function's.
    pub const fn trusting_inner(mut self) -> Self {
        self.trust_inner = true;
        self
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns its
// result; the counting never allocates, never panics and never touches the returned memory.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if crate::OFF {
            // SAFETY: the caller upholds the method's contract.
            return unsafe { self.inner.alloc(layout) };
        }
        let outermost = self.trust_inner || enter();
        // SAFETY: the caller upholds `alloc`'s contract.
        let ptr = unsafe { self.inner.alloc(layout) };
        on_alloc(self.trust_inner, outermost, !ptr.is_null(), layout.size() as u64);
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if crate::OFF {
            // SAFETY: the caller upholds the method's contract.
            return unsafe { self.inner.alloc_zeroed(layout) };
        }
        let outermost = self.trust_inner || enter();
        // SAFETY: as above.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        on_alloc(self.trust_inner, outermost, !ptr.is_null(), layout.size() as u64);
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if crate::OFF {
            // SAFETY: the caller upholds the method's contract.
            return unsafe { self.inner.dealloc(ptr, layout) };
        }
        let outermost = self.trust_inner || enter();
        // SAFETY: as above.
        unsafe { self.inner.dealloc(ptr, layout) };
        on_dealloc(self.trust_inner, outermost, layout.size() as u64);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if crate::OFF {
            // SAFETY: the caller upholds the method's contract.
            return unsafe { self.inner.realloc(ptr, layout, new_size) };
        }
        let outermost = self.trust_inner || enter();
        // SAFETY: as above.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        let (old, trusted) = (layout.size() as u64, self.trust_inner);
        on_realloc(trusted, outermost, !new.is_null(), old, new_size as u64);
        new
    }
}

/// A thread's allocation totals since it started (or their difference between two moments).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocCounts {
    /// Allocations (a reallocation counts as one allocation and one deallocation).
    pub allocations: u64,
    /// Bytes allocated.
    pub alloc_bytes: u64,
    /// Deallocations.
    pub frees: u64,
    /// Bytes freed.
    pub freed_bytes: u64,
    /// Reallocations.
    pub reallocs: u64,
}

impl AllocCounts {
    /// `self - earlier`, counter by counter.
    #[inline(always)]
    pub fn since(self, earlier: AllocCounts) -> AllocCounts {
        AllocCounts {
            allocations: self.allocations.wrapping_sub(earlier.allocations),
            alloc_bytes: self.alloc_bytes.wrapping_sub(earlier.alloc_bytes),
            frees: self.frees.wrapping_sub(earlier.frees),
            freed_bytes: self.freed_bytes.wrapping_sub(earlier.freed_bytes),
            reallocs: self.reallocs.wrapping_sub(earlier.reallocs),
        }
    }

    /// `self + other`, counter by counter.
    #[inline(always)]
    pub fn plus(self, other: AllocCounts) -> AllocCounts {
        AllocCounts {
            allocations: self.allocations.wrapping_add(other.allocations),
            alloc_bytes: self.alloc_bytes.wrapping_add(other.alloc_bytes),
            frees: self.frees.wrapping_add(other.frees),
            freed_bytes: self.freed_bytes.wrapping_add(other.freed_bytes),
            reallocs: self.reallocs.wrapping_add(other.reallocs),
        }
    }
}

#[repr(C, align(128))]
struct Shard {
    claimed: AtomicBool,
    alloc_bytes: AtomicU64,
    freed_bytes: AtomicU64,
}

impl Shard {
    const fn new() -> Self {
        Shard {
            claimed: AtomicBool::new(false),
            alloc_bytes: AtomicU64::new(0),
            freed_bytes: AtomicU64::new(0),
        }
    }
}

static SHARD_TABLE: [Shard; SHARDS] = [const { Shard::new() }; SHARDS];
static OVERFLOW: Shard = Shard::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

const NO_SHARD: u8 = 0;
const OWN_SHARD: u8 = 1;
const SHARED_SHARD: u8 = 2;

struct ThreadCounts {
    allocations: Cell<u64>,
    alloc_bytes: Cell<u64>,
    frees: Cell<u64>,
    freed_bytes: Cell<u64>,
    reallocs: Cell<u64>,
    /// > 0 while perfscope itself runs: allocations are not attributed to frames.
    suspended: Cell<u32>,
    /// Allocator calls in progress on this thread: > 1 while the inner allocator allocates
    /// through the global allocator (its own bookkeeping), which is not counted at all.
    depth: Cell<u32>,
    state: Cell<u8>,
    shard: Cell<&'static Shard>,
}

thread_local! {
    static COUNTS: ThreadCounts = const {
        ThreadCounts {
            allocations: Cell::new(0),
            alloc_bytes: Cell::new(0),
            frees: Cell::new(0),
            freed_bytes: Cell::new(0),
            reallocs: Cell::new(0),
            suspended: Cell::new(0),
            depth: Cell::new(0),
            state: Cell::new(NO_SHARD),
            shard: Cell::new(&OVERFLOW),
        }
    };
    static RELEASE_ON_EXIT: ReleaseOnExit = const { ReleaseOnExit };
}

#[inline(always)]
fn bump(cell: &Cell<u64>, by: u64) {
    cell.set(cell.get().wrapping_add(by));
}

/// Adds to a shard: a plain `load + store` on the thread's own shard, an atomic add on the
/// shared overflow shard.
#[inline(always)]
fn shard_add(counts: &ThreadCounts, field: fn(&Shard) -> &AtomicU64, by: u64) {
    let counter = field(counts.shard.get());
    if counts.state.get() == OWN_SHARD {
        counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
    } else {
        if counts.state.get() == NO_SHARD {
            claim_shard(counts);
            return shard_add(counts, field, by);
        }
        counter.fetch_add(by, Relaxed);
    }
}

/// Marks a guarded allocator call as ended (see [`enter`]).
#[inline(always)]
fn leave(c: &ThreadCounts, trusted: bool) {
    if !trusted {
        c.depth.set(c.depth.get().wrapping_sub(1));
    }
}

/// Marks a guarded allocator call as begun on this thread; whether it is the outermost one.
#[inline(always)]
fn enter() -> bool {
    COUNTS.with(|c| {
        let depth = c.depth.get();
        c.depth.set(depth + 1);
        depth == 0
    })
}

#[inline(always)]
fn on_alloc(trusted: bool, outermost: bool, done: bool, size: u64) {
    COUNTS.with(|c| {
        leave(c, trusted);
        if !outermost || !done {
            return;
        }
        if c.suspended.get() == 0 {
            bump(&c.allocations, 1);
            bump(&c.alloc_bytes, size);
        }
        shard_add(c, |s| &s.alloc_bytes, size);
    });
}

#[inline(always)]
fn on_dealloc(trusted: bool, outermost: bool, size: u64) {
    COUNTS.with(|c| {
        leave(c, trusted);
        if !outermost {
            return;
        }
        if c.suspended.get() == 0 {
            bump(&c.frees, 1);
            bump(&c.freed_bytes, size);
        }
        shard_add(c, |s| &s.freed_bytes, size);
    });
}

#[inline(always)]
fn on_realloc(trusted: bool, outermost: bool, done: bool, old: u64, new: u64) {
    COUNTS.with(|c| {
        leave(c, trusted);
        if !outermost || !done {
            return;
        }
        if c.suspended.get() == 0 {
            bump(&c.reallocs, 1);
            bump(&c.allocations, 1);
            bump(&c.alloc_bytes, new);
            bump(&c.frees, 1);
            bump(&c.freed_bytes, old);
        }
        shard_add(c, |s| &s.alloc_bytes, new);
        shard_add(c, |s| &s.freed_bytes, old);
    });
}

/// First allocation on a thread: claim a free shard (or fall back to the shared one) and
/// arrange to release it when the thread exits.
#[cold]
#[inline(never)]
fn claim_shard(counts: &ThreadCounts) {
    if !INSTALLED.load(Relaxed) {
        INSTALLED.store(true, Relaxed);
    }
    counts.state.set(SHARED_SHARD);
    for shard in &SHARD_TABLE {
        if !shard.claimed.load(Relaxed)
            && shard.claimed.compare_exchange(false, true, Acquire, Relaxed).is_ok()
        {
            counts.shard.set(shard);
            counts.state.set(OWN_SHARD);
            break;
        }
    }
    if counts.state.get() == OWN_SHARD {
        // Registering the destructor may allocate; that allocation re-enters with the state
        // already set, so it is counted and does not recurse here. If the thread is already
        // tearing down, give the shard back at once.
        if RELEASE_ON_EXIT.try_with(|_| ()).is_err() {
            release_shard(counts);
        }
    }
}

fn release_shard(counts: &ThreadCounts) {
    let shard = counts.shard.get();
    counts.state.set(SHARED_SHARD);
    counts.shard.set(&OVERFLOW);
    shard.claimed.store(false, Release);
}

struct ReleaseOnExit;

impl Drop for ReleaseOnExit {
    fn drop(&mut self) {
        COUNTS.with(|c| {
            if c.state.get() == OWN_SHARD {
                release_shard(c);
            }
        });
    }
}

/// This thread's allocation totals so far (excluding perfscope's own).
#[inline(always)]
pub fn thread_counts() -> AllocCounts {
    COUNTS.with(|c| AllocCounts {
        allocations: c.allocations.get(),
        alloc_bytes: c.alloc_bytes.get(),
        frees: c.frees.get(),
        freed_bytes: c.freed_bytes.get(),
        reallocs: c.reallocs.get(),
    })
}

/// Whether a [`CountingAlloc`] has served an allocation in this process.
#[inline(always)]
pub fn is_installed() -> bool {
    INSTALLED.load(Relaxed)
}

/// Bytes allocated through [`CountingAlloc`] and not yet freed, process-wide; `None` when it
/// is not the global allocator.
pub fn heap_in_use() -> Option<u64> {
    if !is_installed() {
        return None;
    }
    let (mut allocated, mut freed) = (0u64, 0u64);
    for shard in SHARD_TABLE.iter().chain([&OVERFLOW]) {
        allocated = allocated.wrapping_add(shard.alloc_bytes.load(Relaxed));
        freed = freed.wrapping_add(shard.freed_bytes.load(Relaxed));
    }
    // Memory allocated before counting began and freed after reads as negative: clamp.
    Some(allocated.saturating_sub(freed))
}

/// While the returned guard lives, this thread's allocations are not attributed to frames
/// (they still count towards the heap in use). perfscope wraps its own bookkeeping in it.
pub fn suspend() -> Suspended {
    COUNTS.with(|c| c.suspended.set(c.suspended.get() + 1));
    Suspended(std::marker::PhantomData)
}

/// Guard returned by [`suspend`].
#[derive(Debug)]
pub struct Suspended(std::marker::PhantomData<*const ()>);

impl Drop for Suspended {
    fn drop(&mut self) {
        COUNTS.with(|c| c.suspended.set(c.suspended.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static COUNTING: CountingAlloc = CountingAlloc::system();

    #[test]
    fn direct_calls_count_on_this_thread() {
        let layout = Layout::from_size_align(1000, 8).unwrap();
        let before = thread_counts();
        // SAFETY: a valid layout; the pointers are freed with the allocator that made them.
        unsafe {
            let p = COUNTING.alloc(layout);
            let p = COUNTING.realloc(p, layout, 3000);
            COUNTING.dealloc(p, Layout::from_size_align(3000, 8).unwrap());
        }
        let d = thread_counts().since(before);
        assert_eq!(
            d,
            AllocCounts {
                allocations: 2,
                alloc_bytes: 4000,
                frees: 2,
                freed_bytes: 4000,
                reallocs: 1
            }
        );
        assert!(is_installed());
        assert!(heap_in_use().is_some());
    }

    /// Another allocator to wrap, as `mimalloc::MiMalloc` would be: counts what reaches it.
    struct Inner(std::sync::atomic::AtomicUsize);

    // SAFETY: forwards to `System` unchanged.
    unsafe impl GlobalAlloc for Inner {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.0.fetch_add(1, Relaxed);
            // SAFETY: the caller upholds `alloc`'s contract.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as above.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[test]
    fn wraps_another_allocator() {
        static WRAPPED: CountingAlloc<Inner> =
            CountingAlloc::new(Inner(std::sync::atomic::AtomicUsize::new(0)));
        let layout = Layout::from_size_align(256, 16).unwrap();
        let before = thread_counts();
        // SAFETY: as above; `realloc`'s default goes through the inner `alloc`/`dealloc`.
        unsafe {
            let p = WRAPPED.alloc_zeroed(layout);
            let p = WRAPPED.realloc(p, layout, 512);
            WRAPPED.dealloc(p, Layout::from_size_align(512, 16).unwrap());
        }
        assert_eq!(WRAPPED.inner.0.load(Relaxed), 2, "zeroed alloc and realloc reached the inner");
        let d = thread_counts().since(before);
        assert_eq!((d.allocations, d.alloc_bytes, d.frees, d.freed_bytes), (2, 768, 2, 768));
    }

    #[test]
    fn suspended_allocations_are_not_attributed() {
        let layout = Layout::from_size_align(64, 8).unwrap();
        let before = thread_counts();
        {
            let _s = suspend();
            // SAFETY: as above.
            unsafe { COUNTING.dealloc(COUNTING.alloc(layout), layout) };
        }
        assert_eq!(thread_counts(), before);
    }
}
