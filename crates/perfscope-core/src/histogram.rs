//! A log-linear (HDR-style) histogram of durations in clock ticks: bounded memory, mergeable,
//! quantiles within 1% relative error.
//!
//! Values below 128 have a bucket each (exact). Above, every power of two is split into 64
//! equal buckets, so a bucket spans less than 1/64 of its lower bound and its midpoint is
//! within 1/128 (0.78%) of any value in it. Values from 2^48 ticks (about a day at 3 GHz) up
//! share the last bucket; the exact maximum is kept beside the histogram.
//!
//! Why not the `hdrhistogram` crate: the hot path needs a histogram its owning thread updates
//! with plain relaxed stores while another thread reads it for a snapshot, with no `&mut` and no
//! lock. [`AtomicHistogram`] is that writer side (a bucket index computation, a pointer load
//! for the value's octave, and one load+store; octaves are allocated on first use);
//! [`Histogram`] is the plain, mergeable reader side.

use std::ptr;
use std::sync::atomic::Ordering::*;

use crate::sync::{AtomicPtr, AtomicU64};

const LINEAR: u64 = 128;
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const MAX_EXP: u32 = 48;
/// Number of buckets.
pub const BUCKETS: usize = (LINEAR + (MAX_EXP as u64 - 7) * SUB) as usize;

/// The bucket `value` falls in.
#[inline(always)]
pub fn bucket_of(value: u64) -> usize {
    if value < LINEAR {
        return value as usize;
    }
    let exp = value.ilog2(); // >= 7
    if exp >= MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = (value >> (exp - SUB_BITS)) - SUB;
    (LINEAR + (exp as u64 - 7) * SUB + sub) as usize
}

/// The smallest value and the width of bucket `index`.
pub fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < LINEAR {
        return (index, 1);
    }
    let above = index - LINEAR;
    let (exp, sub) = (above / SUB + 7, above % SUB);
    let width = 1u64 << (exp - SUB_BITS as u64);
    ((SUB + sub) * width, width)
}

/// The value reported for bucket `index`: exact below 128, the midpoint above.
pub fn bucket_value(index: usize) -> u64 {
    let (low, width) = bucket_range(index);
    low + width / 2
}

/// Octaves above the linear range: 2^7 up to 2^MAX_EXP.
const OCTAVES: usize = (MAX_EXP - 7) as usize;

/// The 64 buckets of one octave.
struct Octave([AtomicU64; SUB as usize]);

/// The writer side: updated by its owning thread only, readable from any thread.
///
/// The linear buckets are inline; each octave's buckets are allocated the first time a value
/// falls in it, so the histogram of a (thread, function) pair costs ~1.4 KiB plus 512 bytes
/// per octave its calls span (a function's latencies usually span a few), not the 22 KiB of
/// every bucket.
/// All-zero bytes are a valid empty histogram.
pub struct AtomicHistogram {
    linear: [AtomicU64; LINEAR as usize],
    octaves: [AtomicPtr<Octave>; OCTAVES],
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicHistogram {
    /// An empty histogram.
    #[cfg(not(perfscope_loom))]
    pub const fn new() -> Self {
        AtomicHistogram {
            linear: [const { AtomicU64::new(0) }; LINEAR as usize],
            octaves: [const { AtomicPtr::new(ptr::null_mut()) }; OCTAVES],
        }
    }

    /// An empty histogram (loom's atomics have no `const` constructor).
    #[cfg(perfscope_loom)]
    pub fn new() -> Self {
        AtomicHistogram {
            linear: std::array::from_fn(|_| AtomicU64::new(0)),
            octaves: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// Counts one value. Only the owning thread may call this (single writer).
    #[inline(always)]
    pub fn record(&self, value: u64) {
        if value < LINEAR {
            // SAFETY: `value < LINEAR`, the length of `linear`.
            bump(unsafe { self.linear.get_unchecked(value as usize) });
            return;
        }
        let exp = value.ilog2(); // >= 7
        let octave = (exp - 7) as usize;
        if octave < OCTAVES {
            // Acquire: the owning thread published the page itself, but `record` is safe to
            // call from any thread, which must then see the page initialised (a plain load on
            // x86-64).
            // SAFETY: `octave < OCTAVES`; a non-null pointer is a live, published octave.
            let page = unsafe { self.octaves.get_unchecked(octave) }.load(Acquire);
            if let Some(page) = unsafe { page.as_ref() } {
                let sub = ((value >> (exp - SUB_BITS)) - SUB) as usize;
                // SAFETY: `value >> (exp - 6)` is in [64, 128), so `sub < 64`.
                bump(unsafe { page.0.get_unchecked(sub) });
                return;
            }
        }
        self.record_cold(value);
    }

    /// A value in an octave without buckets yet (allocated here), or past the last one.
    #[cold]
    #[inline(never)]
    fn record_cold(&self, value: u64) {
        let above = bucket_of(value) - LINEAR as usize;
        let (octave, sub) = (above / SUB as usize, above % SUB as usize);
        let slot = &self.octaves[octave];
        let mut page = slot.load(Acquire);
        if page.is_null() {
            let _own = crate::alloc::suspend();
            let new = Box::into_raw(Box::new(Octave(std::array::from_fn(|_| AtomicU64::new(0)))));
            // Only the owner publishes, but should another thread (misusing `record`) race
            // it, one page wins and the other is freed: nothing leaks or dangles.
            page = match slot.compare_exchange(ptr::null_mut(), new, AcqRel, Acquire) {
                Ok(_) => new,
                Err(winner) => {
                    // SAFETY: `new` was never published.
                    drop(unsafe { Box::from_raw(new) });
                    winner
                }
            };
        }
        // SAFETY: published above or before, freed only with the histogram.
        bump(unsafe { &(*page).0[sub] });
    }

    /// Adds the counts into `into`.
    pub fn add_to(&self, into: &mut Histogram) {
        self.add_to_up_to(into, u64::MAX);
    }

    /// Adds the counts of buckets up to the one holding `max` (the largest value recorded, so
    /// the rest are empty) into `into`: snapshots then read a few hundred buckets, not all.
    pub fn add_to_up_to(&self, into: &mut Histogram, max: u64) {
        let last = bucket_of(max);
        into.counts.reserve((last + 1).saturating_sub(into.counts.len()));
        for (i, b) in self.linear.iter().enumerate().take(last + 1) {
            let n = b.load(Relaxed);
            if n != 0 {
                into.add(i, n);
            }
        }
        if last < LINEAR as usize {
            return;
        }
        let last_octave = (last - LINEAR as usize) / SUB as usize;
        for (o, page) in self.octaves[..=last_octave].iter().enumerate() {
            // SAFETY: a non-null pointer is a published octave, freed only with the histogram.
            let Some(page) = (unsafe { page.load(Acquire).as_ref() }) else { continue };
            let first = LINEAR as usize + o * SUB as usize;
            for (i, b) in page.0.iter().enumerate() {
                let n = b.load(Relaxed);
                if n != 0 {
                    into.add(first + i, n);
                }
            }
        }
    }

    /// Zeroes all counts (owning thread only). Octaves stay allocated: a reader may be
    /// reading them.
    pub fn clear(&self) {
        for b in &self.linear {
            b.store(0, Relaxed);
        }
        for page in &self.octaves {
            // SAFETY: as in `add_to_up_to`.
            if let Some(page) = unsafe { page.load(Acquire).as_ref() } {
                page.0.iter().for_each(|b| b.store(0, Relaxed));
            }
        }
    }

    /// Bytes this histogram holds, octaves included.
    pub fn heap_bytes(&self) -> usize {
        let octaves = self.octaves.iter().filter(|p| !p.load(Relaxed).is_null()).count();
        std::mem::size_of::<Self>() + octaves * std::mem::size_of::<Octave>()
    }
}

impl Drop for AtomicHistogram {
    fn drop(&mut self) {
        for page in &self.octaves {
            let page = page.load(Acquire);
            if !page.is_null() {
                // SAFETY: allocated by `record_cold` with `Box::into_raw`; `&mut self` means no
                // reader is left.
                drop(unsafe { Box::from_raw(page) });
            }
        }
    }
}

/// Adds one to a counter only its owning thread writes.
#[inline(always)]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed) + 1, Relaxed);
}

impl std::fmt::Debug for AtomicHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut h = Histogram::new();
        self.add_to(&mut h);
        h.fmt(f)
    }
}

/// A plain histogram: merged from thread stores, queried for quantiles. It holds buckets only
/// up to its highest non-empty one (no trailing zeros), so a snapshot of many functions with
/// short calls stays small.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .finish()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram { counts: Vec::new() }
    }

    /// Adds `n` (non-zero) to bucket `index`.
    fn add(&mut self, index: usize, n: u64) {
        if index >= self.counts.len() {
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += n;
    }

    /// Counts one value.
    pub fn record(&mut self, value: u64) {
        self.add(bucket_of(value), 1);
    }

    /// Counts `value` `n` times (e.g. a bucket of another histogram, rescaled).
    pub fn record_n(&mut self, value: u64, n: u64) {
        if n != 0 {
            self.add(bucket_of(value), n);
        }
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        self.counts.resize(self.counts.len().max(other.counts.len()), 0);
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
    }

    /// What was counted since `earlier`, when this histogram continues it (a later reading
    /// of the same running counts): bucket by bucket, these counts minus `earlier`'s; a bucket
    /// with fewer counts than `earlier`'s (the counts restarted) counts its own.
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let mut since = self.clone();
        since.keep_since(earlier);
        since
    }

    /// [`since`](Self::since) in place: these counts become those counted since `earlier`
    /// (all of them, when the counts restarted). No allocation.
    pub fn keep_since(&mut self, earlier: &Histogram) {
        let shared = self.counts.len().min(earlier.counts.len());
        if earlier.counts[shared..].iter().any(|c| *c != 0) {
            return;
        }
        // One branch-free pass (it vectorises); undone if a bucket went down.
        let mut went_down = false;
        for (now, then) in self.counts.iter_mut().zip(&earlier.counts) {
            let (left, under) = now.overflowing_sub(*then);
            *now = left;
            went_down |= under;
        }
        if went_down {
            for (now, then) in self.counts.iter_mut().zip(&earlier.counts) {
                *now = now.wrapping_add(*then);
            }
            return;
        }
        // No trailing zeros: the highest bucket left is non-empty.
        let len = self.counts.iter().rposition(|c| *c != 0).map_or(0, |last| last + 1);
        self.counts.truncate(len);
    }

    /// The top of the highest non-empty bucket: at least the largest value counted, and
    /// within 1/64 above it. `None` when empty.
    pub fn highest(&self) -> Option<u64> {
        let last = self.counts.len().checked_sub(1)?;
        let (low, width) = bucket_range(last);
        Some(low + width - 1)
    }

    /// Number of values counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `q`-quantile (0.0..=1.0) by nearest rank: the value at rank `ceil(q * n)` of the
    /// sorted values, within 1% relative error. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(bucket_value(i));
            }
        }
        None
    }

    /// Several [`quantile`](Self::quantile)s in one pass over the buckets (a report takes
    /// three per function). Each is as `quantile` gives it, whatever the order of `qs`.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [Option<u64>; N] {
        let n = self.count();
        let mut out = [None; N];
        if n == 0 {
            return out;
        }
        let ranks = qs.map(|q| ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1));
        let mut order: [usize; N] = std::array::from_fn(|i| i);
        order.sort_by_key(|&i| ranks[i]);
        let mut next = 0;
        let mut seen = 0;
        for (bucket, &c) in self.counts.iter().enumerate() {
            seen += c;
            while next < N && seen >= ranks[order[next]] {
                out[order[next]] = Some(bucket_value(bucket));
                next += 1;
            }
            if next == N {
                break;
            }
        }
        out
    }

    /// Non-empty buckets as `(lowest value, width, count)`, in increasing order.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, c)| **c != 0).map(|(i, &c)| {
            let (low, width) = bucket_range(i);
            (low, width, c)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn since_gives_what_was_counted_after_an_earlier_reading() {
        let mut earlier = Histogram::new();
        [10, 10, 2_000].iter().for_each(|v| earlier.record(*v));
        let mut later = earlier.clone();
        [10, 5_000_000].iter().for_each(|v| later.record(*v));
        let new = later.since(&earlier);
        assert_eq!(new.count(), 2);
        let buckets: Vec<(u64, u64)> = new.buckets().map(|(low, _, n)| (low, n)).collect();
        assert_eq!(buckets.len(), 2);
        assert_eq!((buckets[0].0, buckets[0].1), (10, 1));
        assert_eq!(new.quantile(1.0), later.quantile(1.0));
        // Counts that went down restarted: all of them are new.
        let mut restarted = Histogram::new();
        restarted.record(10);
        assert_eq!(restarted.since(&earlier), restarted);
        assert_eq!(later.since(&Histogram::new()), later);
    }

    #[test]
    fn buckets_tile_the_range() {
        let mut next = 0;
        for i in 0..BUCKETS {
            let (low, width) = bucket_range(i);
            assert_eq!(low, next, "bucket {i}");
            assert_eq!(bucket_of(low), i);
            assert_eq!(bucket_of(low + width - 1), i);
            next = low + width;
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    /// With every octave allocated, each value still lands in its own octave's bucket (the
    /// fast path indexes octaves by exponent: an index off by any amount hits another page).
    #[test]
    fn values_in_every_octave_land_in_their_own_buckets() {
        let atomic = AtomicHistogram::new();
        let values: Vec<u64> =
            (7..64).flat_map(|e| [1u64 << e, (1u64 << e) + (3u64 << (e - 7))]).collect();
        // Largest first: every octave exists before the small values take the fast path.
        for &v in values.iter().rev().chain(&values) {
            atomic.record(v);
        }
        let mut merged = Histogram::new();
        atomic.add_to(&mut merged);
        let twice: Vec<u64> = values.iter().chain(&values).copied().collect();
        assert_eq!(merged, from(&twice));
    }

    #[test]
    fn buckets_and_debug_show_what_was_counted() {
        let h = from(&[3, 5, 5, 200]);
        let (low, width) = bucket_range(bucket_of(200));
        assert_eq!((low, width), (200, 2));
        let buckets: Vec<_> = h.buckets().collect();
        assert_eq!(buckets, [(3, 1, 1), (5, 1, 2), (200, 2, 1)]);
        let debug = "Histogram { count: 4, p50: Some(5), p99: Some(201) }";
        assert_eq!(format!("{h:?}"), debug);
        let atomic = AtomicHistogram::new();
        [3, 5, 5, 200].into_iter().for_each(|v| atomic.record(v));
        assert_eq!(format!("{atomic:?}"), debug);
    }

    #[test]
    fn holds_buckets_only_up_to_the_highest_value() {
        assert_eq!(from(&[5, 3]).counts.len(), 6);
        let atomic = AtomicHistogram::new();
        atomic.record(1_000);
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 1_000);
        assert_eq!(merged.counts.len(), bucket_of(1_000) + 1);
        assert_eq!(merged, from(&[1_000]));
        // The same below 128 (the linear buckets), the maximum's own bucket included.
        let atomic = AtomicHistogram::new();
        atomic.record(3);
        atomic.record(5);
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 5);
        assert_eq!(merged, from(&[3, 5]));
        // And with the maximum in the first bucket past them (128).
        atomic.record(128);
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 128);
        assert_eq!(merged, from(&[3, 5, 128]));
    }

    #[test]
    fn octaves_are_allocated_on_first_use_and_cleared_in_place() {
        let atomic = AtomicHistogram::new();
        let empty = atomic.heap_bytes();
        assert!(empty < 1500, "{empty} bytes before any octave");
        for v in [0, 127, 128, 129, 200, 255, 256, 1 << 20, (1 << 21) - 1, u64::MAX] {
            atomic.record(v);
        }
        // Octaves of 2^7, 2^8, 2^20 and the last one (which holds everything from 2^47 up).
        assert_eq!(atomic.heap_bytes(), empty + 4 * 64 * 8);
        let mut merged = Histogram::new();
        atomic.add_to(&mut merged);
        assert_eq!(
            merged,
            from(&[0, 127, 128, 129, 200, 255, 256, 1 << 20, (1 << 21) - 1, u64::MAX])
        );
        atomic.clear();
        let mut cleared = Histogram::new();
        atomic.add_to(&mut cleared);
        assert_eq!(cleared.count(), 0);
        assert_eq!(atomic.heap_bytes(), empty + 4 * 64 * 8, "kept for readers");
        atomic.record(300);
        let mut again = Histogram::new();
        atomic.add_to(&mut again);
        assert_eq!(again, from(&[300]));
    }

    proptest! {
        // Under Miri (which checks the octave pages' unsafe code) a few cases, not 256.
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 3 } else { 256 }))]
        #[test]
        fn the_atomic_writer_counts_what_the_plain_histogram_counts(
            values in prop::collection::vec(any::<u64>().prop_map(|r| r >> (r % 64)), 1..500),
        ) {
            let atomic = AtomicHistogram::new();
            values.iter().for_each(|&v| atomic.record(v));
            let mut merged = Histogram::new();
            atomic.add_to_up_to(&mut merged, *values.iter().max().unwrap());
            prop_assert_eq!(merged, from(&values));
        }
    }

    fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    fn from(values: &[u64]) -> Histogram {
        let mut h = Histogram::new();
        values.iter().for_each(|&v| h.record(v));
        h
    }

    fn value() -> impl Strategy<Value = u64> {
        // Log-uniform over the tracked range: small values as often as large ones.
        (0u32..48, any::<u64>()).prop_map(|(bits, r)| r >> (64 - bits.max(1)))
    }

    proptest! {
        #[test]
        #[cfg_attr(miri, ignore = "safe code only: too slow under Miri")]
        fn quantiles_are_within_one_percent(
            values in prop::collection::vec(value(), 1..2000),
            q in 0.0f64..=1.0,
        ) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let exact = exact_quantile(&sorted, q) as f64;
            let approx = from(&values).quantile(q).unwrap() as f64;
            prop_assert!((approx - exact).abs() <= exact * 0.01, "q={q} exact={exact} approx={approx}");
        }

        #[test]
        #[cfg_attr(miri, ignore = "safe code only: too slow under Miri")]
        fn quantiles_in_one_pass_are_each_quantile(
            values in prop::collection::vec(value(), 0..500),
            qs in prop::array::uniform3(0.0f64..=1.0),
        ) {
            let h = from(&values);
            prop_assert_eq!(h.quantiles(qs), qs.map(|q| h.quantile(q)));
        }

        #[test]
        #[cfg_attr(miri, ignore = "safe code only: too slow under Miri")]
        fn keep_since_leaves_what_was_counted_after(
            before in prop::collection::vec(value(), 0..300),
            after in prop::collection::vec(value(), 0..300),
        ) {
            let earlier = from(&before);
            let mut later = earlier.clone();
            later.merge(&from(&after));
            later.keep_since(&earlier);
            prop_assert_eq!(&later, &from(&after));
            prop_assert_eq!(later.highest().is_some(), !after.is_empty());
            if let Some(max) = after.iter().max() {
                let top = later.highest().unwrap();
                prop_assert!(top >= *max && (top - max) as f64 <= *max as f64 / 64.0 + 1.0);
            }
        }

        #[test]
        #[cfg_attr(miri, ignore = "safe code only: too slow under Miri")]
        fn merge_is_associative_and_commutative(
            a in prop::collection::vec(value(), 0..300),
            b in prop::collection::vec(value(), 0..300),
            c in prop::collection::vec(value(), 0..300),
        ) {
            let (ha, hb, hc) = (from(&a), from(&b), from(&c));
            let mut left = ha.clone();
            left.merge(&hb);
            left.merge(&hc);
            let mut bc = hb.clone();
            bc.merge(&hc);
            let mut right = ha.clone();
            right.merge(&bc);
            prop_assert_eq!(&left, &right);
            let mut swapped = hc.clone();
            swapped.merge(&hb);
            swapped.merge(&ha);
            prop_assert_eq!(&left, &swapped);
            let all: Vec<u64> = a.iter().chain(&b).chain(&c).copied().collect();
            prop_assert_eq!(left, from(&all));
        }
    }
}
