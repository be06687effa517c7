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

/// Octaves of 64 buckets each: the linear range is two of them (values 0–63 and 64–127, a
/// bucket per value), then one per power of two from 2^7 up to 2^MAX_EXP. Bucket `i` is
/// bucket `i % 64` of octave `i / 64`.
const OCTAVES: usize = BUCKETS / SUB as usize;
/// Octaves per group: the histogram points at groups, a group at octaves.
const GROUP: usize = 8;
/// Groups covering every octave.
const GROUPS: usize = OCTAVES.div_ceil(GROUP);
/// Values kept as they are before any bucket is allocated.
pub const SAMPLES: usize = 2;

/// The 64 buckets of one octave.
struct Octave([AtomicU64; SUB as usize]);

/// Pointers to eight octaves, each allocated on first use.
struct Group([AtomicPtr<Octave>; GROUP]);

/// The writer side: updated by its owning thread only, readable from any thread.
///
/// It is small until used: 64 bytes inline, holding the first [`SAMPLES`] values themselves
/// (exact) and pointers to groups of octave pointers; past those values each octave's 64
/// buckets (512 bytes) are allocated the first time a value falls in it, and each group (64
/// bytes) with its first octave. A (thread, function) pair called once or twice costs the 64
/// inline bytes; one called often costs 64 + 64 + 512 bytes per octave its calls span (a
/// function's latencies usually span one to three), not the 22 KiB of every bucket.
/// All-zero bytes are a valid empty histogram.
pub struct AtomicHistogram {
    /// The first values recorded, plus one (0: none yet), in the order they came.
    samples: [AtomicU64; SAMPLES],
    groups: [AtomicPtr<Group>; GROUPS],
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
            samples: [const { AtomicU64::new(0) }; SAMPLES],
            groups: [const { AtomicPtr::new(ptr::null_mut()) }; GROUPS],
        }
    }

    /// An empty histogram (loom's atomics have no `const` constructor).
    #[cfg(perfscope_loom)]
    pub fn new() -> Self {
        AtomicHistogram {
            samples: std::array::from_fn(|_| AtomicU64::new(0)),
            groups: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// Counts one value. Only the owning thread may call this (single writer).
    #[inline(always)]
    pub fn record(&self, value: u64) {
        if self.samples[SAMPLES - 1].load(Relaxed) != 0 {
            let bucket = bucket_of(value);
            let (octave, sub) = (bucket / SUB as usize, bucket % SUB as usize);
            // Acquire: the owning thread published the pointers itself, but `record` is safe
            // to call from any thread, which must then see them initialised (a plain load on
            // x86-64).
            // SAFETY: `bucket < BUCKETS`, so `octave / GROUP < GROUPS`; a non-null pointer is
            // a live, published group or octave, freed only with the histogram.
            let group = unsafe { self.groups.get_unchecked(octave / GROUP) }.load(Acquire);
            if let Some(group) = unsafe { group.as_ref() } {
                let page = unsafe { group.0.get_unchecked(octave % GROUP) }.load(Acquire);
                if let Some(page) = unsafe { page.as_ref() } {
                    // SAFETY: `sub < SUB`, the length of an octave.
                    bump(unsafe { page.0.get_unchecked(sub) });
                    return;
                }
            }
        }
        self.record_cold(value);
    }

    /// One of the first [`SAMPLES`] values, or a value in an octave without buckets yet
    /// (allocated here).
    #[cold]
    #[inline(never)]
    fn record_cold(&self, value: u64) {
        if let Some(free) = self.samples.iter().find(|s| s.load(Relaxed) == 0) {
            free.store(value.saturating_add(1), Release);
            return;
        }
        let bucket = bucket_of(value);
        let (octave, sub) = (bucket / SUB as usize, bucket % SUB as usize);
        let group = publish(&self.groups[octave / GROUP], || {
            Group(std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())))
        });
        let page = publish(&group.0[octave % GROUP], || {
            Octave(std::array::from_fn(|_| AtomicU64::new(0)))
        });
        bump(&page.0[sub]);
    }

    /// Adds the counts into `into`.
    pub fn add_to(&self, into: &mut Histogram) {
        self.add_to_up_to(into, u64::MAX);
    }

    /// Adds the counts of buckets up to the one holding `max` (the largest value recorded, so
    /// the rest are empty) into `into`: snapshots then read the octaves in use, not all.
    pub fn add_to_up_to(&self, into: &mut Histogram, max: u64) {
        for sample in &self.samples {
            match sample.load(Acquire) {
                0 => break,
                // A value recorded after `max` was read: the next snapshot counts it.
                v if v - 1 > max => {}
                v => into.add(bucket_of(v - 1), 1),
            }
        }
        let last = bucket_of(max) / SUB as usize;
        for (g, group) in self.groups.iter().enumerate().take(last / GROUP + 1) {
            // SAFETY: a non-null pointer is a published group, freed only with the histogram.
            let Some(group) = (unsafe { group.load(Acquire).as_ref() }) else { continue };
            for (o, page) in group.0.iter().enumerate() {
                let octave = g * GROUP + o;
                if octave > last {
                    break;
                }
                // SAFETY: as above.
                let Some(page) = (unsafe { page.load(Acquire).as_ref() }) else { continue };
                into.add_octave(octave * SUB as usize, &page.0);
            }
        }
    }

    /// Zeroes all counts (owning thread only). Groups and octaves stay allocated: a reader
    /// may be reading them.
    pub fn clear(&self) {
        for s in &self.samples {
            s.store(0, Relaxed);
        }
        self.for_each_octave(|page| page.0.iter().for_each(|b| b.store(0, Relaxed)));
    }

    fn for_each_octave(&self, mut f: impl FnMut(&Octave)) {
        for group in &self.groups {
            // SAFETY: as in `add_to_up_to`.
            let Some(group) = (unsafe { group.load(Acquire).as_ref() }) else { continue };
            for page in &group.0 {
                // SAFETY: as in `add_to_up_to`.
                if let Some(page) = unsafe { page.load(Acquire).as_ref() } {
                    f(page);
                }
            }
        }
    }

    /// Bytes this histogram holds, groups and octaves included.
    pub fn heap_bytes(&self) -> usize {
        let groups = self.groups.iter().filter(|p| !p.load(Relaxed).is_null()).count();
        let mut octaves = 0;
        self.for_each_octave(|_| octaves += 1);
        std::mem::size_of::<Self>()
            + groups * std::mem::size_of::<Group>()
            + octaves * std::mem::size_of::<Octave>()
    }
}

/// The value `slot` points at, allocated by `new` and published first if it is null (owning
/// thread only; should another thread misuse `record` and race it, one value wins and the
/// other is freed: nothing leaks or dangles).
fn publish<T>(slot: &AtomicPtr<T>, new: impl FnOnce() -> T) -> &T {
    let mut page = slot.load(Acquire);
    if page.is_null() {
        let _own = crate::alloc::suspend();
        let fresh = Box::into_raw(Box::new(new()));
        page = match slot.compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire) {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` was never published.
                drop(unsafe { Box::from_raw(fresh) });
                winner
            }
        };
    }
    // SAFETY: published above or before, freed only with its owner.
    unsafe { &*page }
}

impl Drop for AtomicHistogram {
    fn drop(&mut self) {
        for group in &self.groups {
            let group = group.load(Acquire);
            if group.is_null() {
                continue;
            }
            // SAFETY: allocated by `publish` with `Box::into_raw`; `&mut self` means no reader
            // is left.
            let group = unsafe { Box::from_raw(group) };
            for page in &group.0 {
                let page = page.load(Acquire);
                if !page.is_null() {
                    // SAFETY: as above.
                    drop(unsafe { Box::from_raw(page) });
                }
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

/// A plain histogram: merged from thread stores, queried for quantiles. It holds the buckets
/// from its lowest non-empty one to its highest (no leading or trailing zeros), so a snapshot
/// of many functions whose calls take milliseconds stays small and quick to merge.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Index of `counts[0]`'s bucket (0 when empty).
    first: usize,
    /// Counts of buckets `first..first + counts.len()`; empty, or non-zero at both ends.
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
        Histogram { first: 0, counts: Vec::new() }
    }

    /// Widens the window to hold buckets `low..=high` (`low <= high`).
    fn cover(&mut self, low: usize, high: usize) {
        if self.counts.is_empty() {
            self.first = low;
            self.counts.resize(high - low + 1, 0);
            return;
        }
        if low < self.first {
            let grow = self.first - low;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = low;
        }
        let end = self.first + self.counts.len();
        if high >= end {
            self.counts.resize(high + 1 - self.first, 0);
        }
    }

    /// Adds `n` (non-zero) to bucket `index`.
    fn add(&mut self, index: usize, n: u64) {
        self.cover(index, index);
        self.counts[index - self.first] += n;
    }

    /// Adds the non-zero counts of one octave's buckets, which start at bucket `first`.
    fn add_octave(&mut self, first: usize, buckets: &[AtomicU64]) {
        let mut read = [0u64; SUB as usize];
        let (mut low, mut high) = (usize::MAX, 0);
        for (i, (b, r)) in buckets.iter().zip(read.iter_mut()).enumerate() {
            *r = b.load(Relaxed);
            if *r != 0 {
                low = low.min(i);
                high = i;
            }
        }
        if low == usize::MAX {
            return;
        }
        self.cover(first + low, first + high);
        let at = first + low - self.first;
        for (c, r) in self.counts[at..].iter_mut().zip(&read[low..=high]) {
            *c += *r;
        }
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
        if other.counts.is_empty() {
            return;
        }
        self.cover(other.first, other.first + other.counts.len() - 1);
        let at = other.first - self.first;
        for (a, b) in self.counts[at..].iter_mut().zip(other.counts.iter()) {
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
        if earlier.counts.is_empty() {
            return;
        }
        let (end, earlier_end) =
            (self.first + self.counts.len(), earlier.first + earlier.counts.len());
        // A bucket of `earlier` outside this window went down to zero: the counts restarted.
        if self.counts.is_empty() || earlier.first < self.first || earlier_end > end {
            return;
        }
        let now = &mut self.counts[earlier.first - self.first..earlier_end - self.first];
        // One branch-free pass (it vectorises); undone if a bucket went down.
        let mut went_down = false;
        for (now, then) in now.iter_mut().zip(&earlier.counts) {
            let (left, under) = now.overflowing_sub(*then);
            *now = left;
            went_down |= under;
        }
        if went_down {
            for (now, then) in now.iter_mut().zip(&earlier.counts) {
                *now = now.wrapping_add(*then);
            }
            return;
        }
        self.trim();
    }

    /// Drops zeros at both ends of the window.
    fn trim(&mut self) {
        let Some(low) = self.counts.iter().position(|c| *c != 0) else {
            *self = Histogram::new();
            return;
        };
        let high = self.counts.iter().rposition(|c| *c != 0).unwrap_or(low);
        self.counts.truncate(high + 1);
        self.counts.drain(..low);
        self.first += low;
    }

    /// Counts with their bucket indexes, in increasing order (zeros included).
    fn indexed(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter().enumerate().map(|(i, &c)| (self.first + i, c))
    }

    /// The top of the highest non-empty bucket: at least the largest value counted, and
    /// within 1/64 above it. `None` when empty.
    pub fn highest(&self) -> Option<u64> {
        let last = self.first + self.counts.len().checked_sub(1)?;
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
        for (i, c) in self.indexed() {
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
        for (bucket, c) in self.indexed() {
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
        self.indexed().filter(|(_, c)| *c != 0).map(|(i, c)| {
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
    fn holds_buckets_only_from_the_lowest_value_to_the_highest() {
        let h = from(&[5, 3]);
        assert_eq!((h.first, h.counts.len()), (3, 3));
        let atomic = AtomicHistogram::new();
        // Past the samples, into the buckets.
        for _ in 0..3 {
            atomic.record(1_000);
        }
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 1_000);
        assert_eq!((merged.first, merged.counts.len()), (bucket_of(1_000), 1));
        assert_eq!(merged, from(&[1_000, 1_000, 1_000]));
        // Merging lower and higher values widens the window both ways.
        merged.merge(&from(&[2, 1 << 40]));
        assert_eq!((merged.first, merged.counts.len()), (2, bucket_of(1 << 40) - 1));
        assert_eq!(merged, from(&[1_000, 1_000, 1_000, 2, 1 << 40]));
        // Taking the earlier reading away trims the zeros at both ends.
        assert_eq!(merged.since(&from(&[2, 1 << 40])), from(&[1_000, 1_000, 1_000]));
        // The same below 128 (the linear buckets), the maximum's own bucket included.
        let atomic = AtomicHistogram::new();
        [3, 5, 3, 5].into_iter().for_each(|v| atomic.record(v));
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 5);
        assert_eq!(merged, from(&[3, 5, 3, 5]));
        // And with the maximum in the first bucket past them (128).
        atomic.record(128);
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 128);
        assert_eq!(merged, from(&[3, 5, 3, 5, 128]));
        // A value above the maximum read (recorded after it) waits for the next reading,
        // whether it is a sample or in a bucket.
        let atomic = AtomicHistogram::new();
        [7, 9_000, 8, 9_000].into_iter().for_each(|v| atomic.record(v));
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 8);
        assert_eq!(merged, from(&[7, 8]));
    }

    #[test]
    fn samples_first_then_octaves_allocated_on_first_use_and_cleared_in_place() {
        let atomic = AtomicHistogram::new();
        let empty = atomic.heap_bytes();
        assert_eq!(empty, 64, "inline: the samples and the group pointers");
        // The first values are kept as they are: nothing allocated.
        atomic.record(1 << 30);
        atomic.record(5);
        assert_eq!(atomic.heap_bytes(), empty);
        let values = [0, 63, 64, 127, 128, 129, 200, 255, 256, 1 << 20, (1 << 21) - 1, u64::MAX];
        for v in values {
            atomic.record(v);
        }
        // Octaves 0 (0-63), 1 (64-127), of 2^7, 2^8, 2^20 and the last one (everything from
        // 2^47 up); groups 0 (octaves 0-7), 2 (octave 15 = 2^20) and 5 (the last one).
        let octave = 64 * 8;
        let group = 8 * 8;
        assert_eq!(atomic.heap_bytes(), empty + 3 * group + 6 * octave);
        let mut merged = Histogram::new();
        atomic.add_to(&mut merged);
        let all: Vec<u64> = [1 << 30, 5].into_iter().chain(values).collect();
        assert_eq!(merged, from(&all));
        atomic.clear();
        let mut cleared = Histogram::new();
        atomic.add_to(&mut cleared);
        assert_eq!(cleared.count(), 0);
        assert_eq!(atomic.heap_bytes(), empty + 3 * group + 6 * octave, "kept for readers");
        [300, 301, 300].into_iter().for_each(|v| atomic.record(v));
        let mut again = Histogram::new();
        atomic.add_to(&mut again);
        assert_eq!(again, from(&[300, 301, 300]));
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
