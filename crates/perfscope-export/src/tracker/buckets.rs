//! The latency histograms' buckets as the tracker compares them between readings: summed over
//! the functions of one series, and the new samples of each bucket since the last reading (a
//! bucket that went down means a reset).

use perfscope_core::histogram::Histogram;

/// One bucket of a latency histogram: its lowest value (the bucket's identity), the value a
/// sample in it is exported as (the midpoint), and how many samples it holds. Clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bucket {
    pub(super) low: u64,
    pub(super) value: u64,
    pub(super) count: u64,
}

/// The non-empty buckets of the sum of `histograms`, by increasing `low`.
pub(super) fn buckets_of(histograms: &[&Histogram]) -> Vec<Bucket> {
    let one = |h: &Histogram| -> Vec<Bucket> {
        h.buckets()
            .map(|(low, width, count)| Bucket { low, value: low + width / 2, count })
            .collect()
    };
    match histograms {
        [] => Vec::new(),
        [h] => one(h),
        [h, rest @ ..] => rest.iter().fold(one(h), |sum, h| merge(&sum, &one(h))),
    }
}

/// Sums two bucket lists (both by increasing `low`).
pub(super) fn merge(a: &[Bucket], b: &[Bucket]) -> Vec<Bucket> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.low == y.low => {
                out.push(Bucket { count: x.count.saturating_add(y.count), ..*x });
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.low < y.low => {
                out.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Pushes `now - then` per bucket into `out`; false if any bucket went down (a reset).
pub(super) fn latency_diff(then: &[Bucket], now: &[Bucket], out: &mut Vec<(u64, u64)>) -> bool {
    let mut old = then.iter().peekable();
    for bucket in now {
        let before = match old.peek() {
            // a bucket that held samples is now empty
            Some(b) if b.low < bucket.low => return false,
            Some(b) if b.low == bucket.low => {
                let count = b.count;
                old.next();
                count
            }
            _ => 0,
        };
        if bucket.count < before {
            return false;
        }
        if bucket.count > before {
            out.push((bucket.value, bucket.count - before));
        }
    }
    old.next().is_none()
}
