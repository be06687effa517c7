//! A log-linear (HDR-style) histogram of durations in clock ticks: fixed memory, mergeable,
//! quantiles within 1% relative error.
//!
//! Values below 128 have a bucket each (exact). Above, every power of two is split into 64
//! equal buckets, so a bucket spans less than 1/64 of its lower bound and its midpoint is
//! within 1/128 (0.78%) of any value in it. Values from 2^48 ticks (about a day at 3 GHz) up
//! share the last bucket; the exact maximum is kept beside the histogram.
//!
//! Why not the `hdrhistogram` crate: the hot path needs a histogram its owning thread updates
//! with plain relaxed stores while another thread reads it for a snapshot, with no `&mut` and no
//! lock. [`AtomicHistogram`] is that writer side (one bucket index computation and one
//! load+store); [`Histogram`] is the plain, mergeable reader side.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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
    let exp = 63 - value.leading_zeros(); // >= 7
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
    let exp = (index - LINEAR) / SUB + 7;
    let sub = (index - LINEAR) % SUB;
    let width = 1u64 << (exp - SUB_BITS as u64);
    ((SUB + sub) * width, width)
}

/// The value reported for bucket `index`: exact below 128, the midpoint above.
pub fn bucket_value(index: usize) -> u64 {
    let (low, width) = bucket_range(index);
    low + width / 2
}

/// The writer side: updated by its owning thread only, readable from any thread.
pub struct AtomicHistogram {
    buckets: [AtomicU64; BUCKETS],
}

impl AtomicHistogram {
    /// Counts one value. Only the owning thread may call this (single writer).
    #[inline(always)]
    pub fn record(&self, value: u64) {
        // `bucket_of` is always below BUCKETS; `min` lets the compiler drop the bounds check.
        let bucket = &self.buckets[bucket_of(value).min(BUCKETS - 1)];
        bucket.store(bucket.load(Relaxed) + 1, Relaxed);
    }

    /// Adds the counts into `into`.
    pub fn add_to(&self, into: &mut Histogram) {
        self.add_to_up_to(into, u64::MAX);
    }

    /// Adds the counts of buckets up to the one holding `max` (the largest value recorded, so
    /// the rest are empty) into `into`: snapshots then read a few hundred buckets, not all.
    pub fn add_to_up_to(&self, into: &mut Histogram, max: u64) {
        let last = bucket_of(max).min(BUCKETS - 1);
        for (i, b) in self.buckets[..=last].iter().enumerate() {
            let n = b.load(Relaxed);
            if n != 0 {
                into.add(i, n);
            }
        }
    }

    /// Zeroes all counts (owning thread only).
    pub fn clear(&self) {
        for b in &self.buckets {
            b.store(0, Relaxed);
        }
    }
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

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
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

    #[test]
    fn holds_buckets_only_up_to_the_highest_value() {
        assert_eq!(from(&[5, 3]).counts.len(), 6);
        let atomic = AtomicHistogram { buckets: [const { AtomicU64::new(0) }; BUCKETS] };
        atomic.record(1_000);
        let mut merged = Histogram::new();
        atomic.add_to_up_to(&mut merged, 1_000);
        assert_eq!(merged.counts.len(), bucket_of(1_000) + 1);
        assert_eq!(merged, from(&[1_000]));
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
