//! Per-interval figures of measured functions, from two `perfscope_core::snapshot()`s: calls,
//! times and bytes are differences of the snapshots' totals, latency quantiles come from the
//! difference of the latency histograms (bucket by bucket, in clock ticks).

use std::collections::HashMap;

use perfscope_core::Kind;
use perfscope_core::histogram::{bucket_of, bucket_value};
use perfscope_core::{CallsiteSnapshot, Snapshot};

/// Most functions followed from interval to interval (by calls and polls), besides the ones
/// named for traffic.
pub const MAX_FUNCTIONS: usize = 200;

/// A histogram's non-empty buckets as `(index, count)`, by index.
type Buckets = Vec<(u32, u64)>;

/// One function's totals at the previous snapshot.
#[derive(Debug, Clone, Default)]
struct Totals {
    calls: u64,
    polls: u64,
    busy_ns: u64,
    self_ns: u64,
    total_ns: u64,
    alloc_bytes: u64,
    latency: Buckets,
}

impl Totals {
    fn of(c: &CallsiteSnapshot) -> Totals {
        let latency = c.latency.buckets().map(|(low, _, n)| (bucket_of(low) as u32, n)).collect();
        Totals {
            calls: c.calls,
            polls: c.polls,
            busy_ns: c.busy_ns,
            self_ns: c.self_ns,
            total_ns: c.total_ns,
            alloc_bytes: c.alloc_self.alloc_bytes,
            latency,
        }
    }
}

/// What one function did during one interval.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Interval {
    pub(crate) id: u32,
    pub(crate) name: Box<str>,
    pub(crate) kind: Kind,
    pub(crate) calls: u64,
    pub(crate) polls: u64,
    pub(crate) busy_ns: u64,
    pub(crate) self_ns: u64,
    /// Latency summed over the completed calls (async: first poll to completion).
    pub(crate) total_ns: u64,
    pub(crate) alloc_bytes: u64,
    latency: Buckets,
    nanos_per_tick: f64,
}

/// Nearest-rank `q`-quantile of `buckets`, in seconds.
fn quantile(buckets: &[(u32, u64)], q: f64, nanos_per_tick: f64) -> Option<f64> {
    let n: u64 = buckets.iter().map(|b| b.1).sum();
    let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for &(index, count) in buckets {
        seen += count;
        if seen >= rank {
            return Some(bucket_value(index as usize) as f64 * nanos_per_tick * 1e-9);
        }
    }
    None
}

/// `now - before`, bucket by bucket (both sorted by index; a bucket that shrank counts 0).
fn difference(now: &[(u32, u64)], before: &[(u32, u64)]) -> Buckets {
    let mut before = before.iter().peekable();
    let mut out = Vec::new();
    for &(index, count) in now {
        while before.next_if(|b| b.0 < index).is_some() {}
        let old = before.next_if(|b| b.0 == index).map_or(0, |b| b.1);
        if count > old {
            out.push((index, count - old));
        }
    }
    out
}

/// Sums `b` into `a` (both sorted by index).
pub(crate) fn merge(a: &[(u32, u64)], b: &[(u32, u64)]) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = a.iter().chain(b).copied().collect();
    out.sort_unstable_by_key(|p| p.0);
    out.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    out
}

impl Interval {
    /// The `q`-quantile of the latency of the calls completed in the interval, in seconds.
    pub(crate) fn quantile_seconds(&self, q: f64) -> Option<f64> {
        quantile(&self.latency, q, self.nanos_per_tick)
    }

    /// The latency buckets of the interval's calls, for merging functions of one name.
    pub(crate) fn latency(&self) -> &[(u32, u64)] {
        &self.latency
    }

    /// The quantile of merged buckets (see [`latency`](Self::latency)).
    pub(crate) fn quantile_of(buckets: &[(u32, u64)], q: f64, nanos_per_tick: f64) -> Option<f64> {
        quantile(buckets, q, nanos_per_tick)
    }

    pub(crate) fn nanos_per_tick(&self) -> f64 {
        self.nanos_per_tick
    }
}

/// The previous snapshot's totals of the functions followed.
#[derive(Debug, Default)]
pub(crate) struct Deltas {
    before: HashMap<u32, Totals>,
    resets: u64,
}

impl Deltas {
    /// The interval since the previous call, for the [`MAX_FUNCTIONS`] functions with the most
    /// calls and polls and those `always` keeps. A function followed for the first time has
    /// no interval yet; after a `perfscope_core::reset()` every total starts again from zero.
    pub(crate) fn update(
        &mut self,
        snapshot: &Snapshot,
        always: impl Fn(&str) -> bool,
    ) -> Vec<Interval> {
        if snapshot.resets != self.resets {
            self.resets = snapshot.resets;
            self.before.values_mut().for_each(|t| *t = Totals::default());
        }
        let mut order: Vec<&CallsiteSnapshot> = snapshot.callsites.iter().collect();
        order.sort_unstable_by_key(|c| std::cmp::Reverse(c.calls.saturating_add(c.polls)));
        let chosen = order
            .iter()
            .enumerate()
            .filter(|(rank, c)| *rank < MAX_FUNCTIONS || always(&c.info.name))
            .map(|(_, c)| *c);
        let mut before = HashMap::with_capacity(self.before.len());
        let mut out = Vec::new();
        for c in chosen {
            let now = Totals::of(c);
            if let Some(old) = self.before.get(&c.id) {
                let grown = |a: u64, b: u64| a.saturating_sub(b);
                out.push(Interval {
                    id: c.id,
                    name: c.info.name.clone(),
                    kind: c.info.kind,
                    calls: grown(now.calls, old.calls),
                    polls: grown(now.polls, old.polls),
                    busy_ns: grown(now.busy_ns, old.busy_ns),
                    self_ns: grown(now.self_ns, old.self_ns),
                    total_ns: grown(now.total_ns, old.total_ns),
                    alloc_bytes: grown(now.alloc_bytes, old.alloc_bytes),
                    latency: difference(&now.latency, &old.latency),
                    nanos_per_tick: c.nanos_per_tick(),
                });
            }
            before.insert(c.id, now);
        }
        self.before = before;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_differences_and_quantiles() {
        let now = [(3, 5), (10, 7), (200, 1)];
        let before = [(1, 2), (3, 5), (10, 2)];
        assert_eq!(difference(&now, &before), vec![(10, 5), (200, 1)]);
        // Below 128 ticks a bucket is its own value; 1 ns per tick.
        let q = |q| quantile(&[(10, 99), (100, 1)], q, 1.0).map(|s| (s * 1e9).round());
        assert_eq!(q(0.5), Some(10.0));
        assert_eq!(q(0.99), Some(10.0));
        assert_eq!(q(1.0), Some(100.0));
        assert_eq!(quantile(&[], 0.5, 1.0), None);
        assert_eq!(merge(&[(1, 1), (5, 2)], &[(5, 3), (7, 1)]), vec![(1, 1), (5, 5), (7, 1)]);
    }
}
