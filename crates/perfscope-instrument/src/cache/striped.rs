//! Counters striped over cache-line-padded stripes, so that threads counting at once write
//! different cache lines: each thread adds to its own stripe, a reader sums the stripes.
//!
//! A thread gets an index the first time it counts (the lowest one no live thread holds; a
//! thread's exit gives its index back), and adds to stripe `index % stripes`. Live threads up
//! to the number of stripes never share one; beyond it, threads share stripes and the counts
//! stay exact, because every add is an atomic `fetch_add` (on a line that, unshared, stays in
//! the adding core's cache). Reads are relaxed: a sum taken while threads count is a moment
//! between two adds of each stripe, and never less than an earlier sum read by the same thread.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock, PoisonError};

/// `N` counters, each the sum of its value in every stripe.
pub(crate) struct Striped<const N: usize> {
    stripes: Box<[Stripe<N>]>,
}

/// One thread's (or, past the stripe count, a few threads') counters, alone on its cache
/// lines (128 bytes: a line and the neighbour the CPU prefetches with it).
#[repr(C, align(128))]
struct Stripe<const N: usize>([AtomicU64; N]);

impl<const N: usize> Default for Striped<N> {
    fn default() -> Self {
        let stripes =
            (0..stripe_count()).map(|_| Stripe(std::array::from_fn(|_| AtomicU64::new(0))));
        Striped { stripes: stripes.collect() }
    }
}

impl<const N: usize> std::fmt::Debug for Striped<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Striped").field("counts", &self.read()).finish()
    }
}

impl<const N: usize> Striped<N> {
    /// Adds `n` to counter `counter` (`< N`) on the calling thread's stripe.
    #[inline(always)]
    pub(crate) fn add(&self, counter: usize, n: u64) {
        // `stripes.len()` is a power of two: the mask keeps the index in bounds.
        let stripe = &self.stripes[thread_index() & (self.stripes.len() - 1)];
        stripe.0[counter].fetch_add(n, Relaxed);
    }

    /// Every counter: the sum of its stripes.
    pub(crate) fn read(&self) -> [u64; N] {
        let mut sums = [0_u64; N];
        for stripe in &*self.stripes {
            for (sum, counter) in sums.iter_mut().zip(&stripe.0) {
                *sum = sum.wrapping_add(counter.load(Relaxed));
            }
        }
        sums
    }
}

/// Stripes per counter set: twice the CPUs (threads outnumber them: blocking pools, runtimes
/// beside the program's own threads), a power of two from 4 to 64 (8 KiB a set at most).
fn stripe_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        (2 * cpus).next_power_of_two().clamp(4, 64)
    })
}

/// Indices of the live threads that have counted, handed out lowest first.
struct Indices {
    /// One more than the highest index handed out so far.
    next: usize,
    /// Indices given back by threads that exited.
    free: BinaryHeap<Reverse<usize>>,
}

impl Indices {
    /// The lowest index no live thread holds.
    fn claim(&mut self) -> usize {
        match self.free.pop() {
            Some(Reverse(index)) => index,
            None => {
                self.next += 1;
                self.next - 1
            }
        }
    }

    /// `index`'s thread exited.
    fn give_back(&mut self, index: usize) {
        self.free.push(Reverse(index));
    }
}

static INDICES: Mutex<Indices> = Mutex::new(Indices { next: 0, free: BinaryHeap::new() });

fn indices() -> std::sync::MutexGuard<'static, Indices> {
    INDICES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The calling thread's index, held until the thread exits.
struct ThreadIndex(usize);

impl Drop for ThreadIndex {
    fn drop(&mut self) {
        indices().give_back(self.0);
    }
}

thread_local! {
    static INDEX: ThreadIndex = ThreadIndex(indices().claim());
}

/// The calling thread's index; 0 while the thread's locals are being destroyed (a count from
/// another local's destructor still lands, on a shared stripe).
#[inline(always)]
fn thread_index() -> usize {
    INDEX.try_with(|index| index.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn counts_stay_exact_with_more_threads_than_stripes() {
        let counts = Arc::new(Striped::<3>::default());
        let threads = 3 * stripe_count();
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (counts, start) = (counts.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..1_000 {
                        counts.add(0, 1);
                        counts.add(2, t as u64);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let expected_2 = 1_000 * (0..threads as u64).sum::<u64>();
        assert_eq!(counts.read(), [1_000 * threads as u64, 0, expected_2]);
    }

    #[test]
    fn live_threads_hold_distinct_indices() {
        let start = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let start = start.clone();
                std::thread::spawn(move || {
                    let index = thread_index();
                    // All four hold their index at once.
                    start.wait();
                    index
                })
            })
            .collect();
        let mut indices: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        indices.sort_unstable();
        indices.dedup();
        assert_eq!(indices.len(), 4, "{indices:?}");
    }

    #[test]
    fn indices_are_handed_out_lowest_first_and_given_back() {
        let mut indices = Indices { next: 0, free: BinaryHeap::new() };
        assert_eq!([indices.claim(), indices.claim(), indices.claim()], [0, 1, 2]);
        indices.give_back(2);
        indices.give_back(0);
        assert_eq!([indices.claim(), indices.claim(), indices.claim()], [0, 2, 3]);
    }
}
