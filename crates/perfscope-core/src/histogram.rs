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
//! for the value's octave, and one load+store; its first values kept as they are, the next
//! ones as (bucket, count) pairs, octaves allocated on first use after that); [`Histogram`] is
//! the plain, mergeable reader side.

use std::ptr;
use std::sync::atomic::Ordering::*;

use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, fence, publish};

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
const GROUP: usize = 9;
/// Groups covering every octave.
const GROUPS: usize = OCTAVES.div_ceil(GROUP);
/// Values kept as they are before any bucket is allocated.
pub const SAMPLES: usize = 2;
/// (bucket, count) pairs of the sparse stage.
const SPARSE: usize = 31;
/// Values the sparse stage takes (past the samples) before every value goes to the octaves:
/// enough for a function called a few hundred times, few enough that a hot one soon takes the
/// one-load path. One in the loom models and under Miri, so that their short runs reach the
/// octaves.
pub const SPARSE_FOR: u32 = if cfg!(any(perfscope_loom, miri)) { 1 } else { 256 };
/// Low bits of a sparse pair holding its count (at most [`SPARSE_FOR`]); the bucket plus one
/// is above them.
const COUNT_BITS: u32 = 20;
const _: () = assert!(BUCKETS < 1 << (32 - COUNT_BITS) && SPARSE_FOR < 1 << COUNT_BITS);

/// The sparse stage: the values recorded after the samples, as up to [`SPARSE`] pairs of a
/// bucket and its count (one 32-bit word each, filled in order; 0: unused), before any octave
/// exists: 128 bytes for a function called a few hundred times, however far apart its values
/// (five octaves would take 1,360 bytes). A value whose bucket has no pair and no pair left,
/// or that comes after the stage has taken [`SPARSE_FOR`] values, goes to its octave; the
/// pairs keep what they counted, and readers add them to the octaves.
struct Sparse {
    pairs: [AtomicU32; SPARSE],
    /// Values taken (the owning thread's count; readers do not need it).
    taken: AtomicU32,
}

/// The 64 buckets of one octave (aligned so that a pointer to it leaves six low bits free).
/// Counts are 32-bit: a bucket at `u32::MAX` carries into its group's [`Carries`].
#[repr(align(64))]
struct Octave([AtomicU32; SUB as usize]);

/// Pointers to eight octaves, each allocated on first use, and their carries.
struct Group {
    octaves: [AtomicPtr<Octave>; GROUP],
    /// Odd while the owning thread moves a full bucket into its carry (a sequence lock: the
    /// hot path never takes it, readers retry around it).
    seq: AtomicU64,
    /// Allocated with the group's first carry (after 2^32 values in one bucket).
    carries: AtomicPtr<Carries>,
}

impl Group {
    fn new() -> Self {
        Group {
            octaves: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            seq: AtomicU64::new(0),
            carries: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

/// Multiples of 2^32 per bucket of a group's octaves.
struct Carries([[AtomicU64; SUB as usize]; GROUP]);

/// The low bits of [`AtomicHistogram::hot`] holding the octave's number plus one.
const HOT_TAG: usize = 63;

/// The writer side: updated by its owning thread only, readable from any thread.
///
/// It is small until used: 72 bytes inline, holding the first [`SAMPLES`] values themselves
/// (exact), pointers to the sparse stage and to groups of octave pointers, and the octave the
/// last value fell in. The next 256 values go to the sparse stage (128 bytes of (bucket,
/// count) pairs); past it each octave's 64 buckets (32-bit, 256 bytes) are allocated the first
/// time a value falls in it, and each group (88 bytes) with its first octave. A (thread,
/// function) pair called once or twice costs the inline bytes, one called a few hundred times
/// 128 more, one called often 88 + 256 bytes per octave its calls span (a function's
/// latencies usually span one to three), not the 11 KiB of every bucket. A value in the same
/// octave as the one before takes one pointer load. All-zero bytes are a valid empty
/// histogram.
pub struct AtomicHistogram {
    /// The first values recorded, plus one (0: none yet), in the order they came.
    samples: [AtomicU64; SAMPLES],
    /// The octave the last bucketed value fell in: its address, with its number plus one in
    /// the low bits ([`HOT_TAG`]; the pointer keeps its provenance); null until the first
    /// octave is allocated, never null after.
    hot: AtomicPtr<Octave>,
    /// Allocated with the first value past the samples.
    sparse: AtomicPtr<Sparse>,
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
            hot: AtomicPtr::new(ptr::null_mut()),
            sparse: AtomicPtr::new(ptr::null_mut()),
            groups: [const { AtomicPtr::new(ptr::null_mut()) }; GROUPS],
        }
    }

    /// An empty histogram (loom's atomics have no `const` constructor).
    #[cfg(perfscope_loom)]
    pub fn new() -> Self {
        AtomicHistogram {
            samples: std::array::from_fn(|_| AtomicU64::new(0)),
            hot: AtomicPtr::new(ptr::null_mut()),
            sparse: AtomicPtr::new(ptr::null_mut()),
            groups: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// Counts one value. Only the owning thread may call this (single writer).
    #[inline(always)]
    pub fn record(&self, value: u64) {
        let bucket = bucket_of(value);
        let (octave, sub) = (bucket / SUB as usize, bucket % SUB as usize);
        // Acquire: the owning thread published the octave itself, but `record` is safe to call
        // from any thread, which must then see it initialised (a plain load on x86-64).
        let hot = self.hot.load(Acquire);
        if hot.addr() & HOT_TAG == octave + 1 {
            // SAFETY: untagged, a tagged pointer is a live, published octave, freed only with
            // the histogram; `sub < SUB`, the length of an octave.
            let page = unsafe { &*hot.map_addr(|a| a & !HOT_TAG) };
            if !bump(unsafe { page.0.get_unchecked(sub) }) {
                self.carry(page, octave, sub);
            }
            return;
        }
        self.record_elsewhere(value, octave, sub);
    }

    /// Moves bucket `sub` of `page` (octave `octave`), full at `u32::MAX`, into its carry and
    /// counts the value: the bucket restarts at 0 and the carry gains one 2^32.
    #[cold]
    #[inline(never)]
    fn carry(&self, page: &Octave, octave: usize, sub: usize) {
        // SAFETY: the octave exists, so its group does (published before it, never freed
        // before the histogram).
        let group = unsafe { &*self.groups[octave / GROUP].load(Acquire) };
        let carries = publish(&group.carries, || {
            Carries(std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))))
        });
        let carry = &carries.0[octave % GROUP][sub];
        let seq = group.seq.load(Relaxed);
        group.seq.store(seq + 1, Relaxed);
        fence(Release);
        carry.store(carry.load(Relaxed) + 1, Relaxed);
        page.0[sub].store(0, Relaxed);
        group.seq.store(seq + 2, Release);
    }

    /// One of the first [`SAMPLES`] values, one for the sparse stage, or a value in another
    /// octave than the last one (allocated here if new), which becomes the hot one.
    #[inline(never)]
    fn record_elsewhere(&self, value: u64, octave: usize, sub: usize) {
        let hot = self.hot.load(Relaxed);
        if hot.is_null()
            && let Some(free) = self.samples.iter().find(|s| s.load(Relaxed) == 0)
        {
            free.store(value.saturating_add(1), Release);
            return;
        }
        // SAFETY: a non-null pointer is a published group or octave, freed only with the
        // histogram.
        let page = unsafe {
            self.groups[octave / GROUP]
                .load(Acquire)
                .as_ref()
                .and_then(|group| group.octaves[octave % GROUP].load(Acquire).as_ref())
        };
        let page = match page {
            Some(page) => page,
            None if self.record_sparse(octave * SUB as usize + sub) => return,
            None => {
                let group = publish(&self.groups[octave / GROUP], Group::new);
                publish(&group.octaves[octave % GROUP], || {
                    Octave(std::array::from_fn(|_| AtomicU32::new(0)))
                })
            }
        };
        if !bump(&page.0[sub]) {
            self.carry(page, octave, sub);
        }
        let tagged = ptr::from_ref(page).cast_mut().map_addr(|a| a | (octave + 1));
        self.hot.store(tagged, Release);
    }

    /// Counts a value of `bucket` in the sparse stage (allocated with its first value) if the
    /// stage still takes values and has the bucket's pair or a free one.
    fn record_sparse(&self, bucket: usize) -> bool {
        let sparse = publish(&self.sparse, || Sparse {
            pairs: std::array::from_fn(|_| AtomicU32::new(0)),
            taken: AtomicU32::new(0),
        });
        let taken = sparse.taken.load(Relaxed);
        if taken >= SPARSE_FOR {
            return false;
        }
        let key = (bucket as u32 + 1) << COUNT_BITS;
        for pair in &sparse.pairs {
            let now = pair.load(Relaxed);
            if now == 0 {
                // Release: a reader that sees the pair sees the stage initialised before it.
                pair.store(key | 1, Release);
            } else if now >> COUNT_BITS << COUNT_BITS == key {
                pair.store(now + 1, Relaxed);
            } else {
                continue;
            }
            sparse.taken.store(taken + 1, Relaxed);
            return true;
        }
        false
    }

    /// Adds the counts into `into`; returns how many values that is.
    pub fn add_to(&self, into: &mut Histogram) -> u64 {
        self.add_to_up_to(into, u64::MAX)
    }

    /// Adds the counts of buckets up to the one holding `max` (the largest value recorded, so
    /// the rest are empty) into `into`: snapshots then read the octaves in use, not all.
    /// Returns how many values it added.
    pub fn add_to_up_to(&self, into: &mut Histogram, max: u64) -> u64 {
        let mut added = 0;
        for sample in &self.samples {
            match sample.load(Acquire) {
                0 => break,
                // A value recorded after `max` was read: the next snapshot counts it.
                v if v - 1 > max => {}
                v => {
                    into.add(bucket_of(v - 1), 1);
                    added += 1;
                }
            }
        }
        let last = bucket_of(max) / SUB as usize;
        // SAFETY: a non-null pointer is the published sparse stage, freed with the histogram.
        if let Some(sparse) = unsafe { self.sparse.load(Acquire).as_ref() } {
            for pair in &sparse.pairs {
                let (bucket, count) = match pair.load(Acquire) {
                    0 => continue,
                    pair => ((pair >> COUNT_BITS) as usize - 1, pair & ((1 << COUNT_BITS) - 1)),
                };
                // Octaves past the maximum's are not read either (see the samples above).
                if bucket / SUB as usize <= last {
                    into.add(bucket, count.into());
                    added += u64::from(count);
                }
            }
        }
        for (g, group) in self.groups.iter().enumerate().take(last / GROUP + 1) {
            // SAFETY: a non-null pointer is a published group, freed only with the histogram.
            let Some(group) = (unsafe { group.load(Acquire).as_ref() }) else { continue };
            let octaves = (last - g * GROUP + 1).min(GROUP);
            let mut read = [[0u64; SUB as usize]; GROUP];
            read_group(group, octaves, &mut read);
            // An octave not allocated reads as zeros, which add nothing.
            for (o, counts) in read.iter().enumerate().take(octaves) {
                added += into.add_octave((g * GROUP + o) * SUB as usize, counts);
            }
        }
        added
    }

    /// Zeroes all counts (owning thread only). Groups and octaves stay allocated (a reader
    /// may be reading them), and values go to them from now on, not to the samples.
    pub fn clear(&self) {
        for s in &self.samples {
            s.store(0, Relaxed);
        }
        // SAFETY: as in `add_to_up_to`. The pairs restart empty; the stage takes no more values
        // than it would have.
        if let Some(sparse) = unsafe { self.sparse.load(Acquire).as_ref() } {
            sparse.pairs.iter().for_each(|p| p.store(0, Relaxed));
        }
        self.for_each_group(|group| {
            // SAFETY: as in `add_to_up_to`.
            if let Some(carries) = unsafe { group.carries.load(Acquire).as_ref() } {
                carries.0.iter().flatten().for_each(|c| c.store(0, Relaxed));
            }
        });
        self.for_each_octave(|page| page.0.iter().for_each(|b| b.store(0, Relaxed)));
    }

    fn for_each_group(&self, mut f: impl FnMut(&Group)) {
        for group in &self.groups {
            // SAFETY: as in `add_to_up_to`.
            if let Some(group) = unsafe { group.load(Acquire).as_ref() } {
                f(group);
            }
        }
    }

    fn for_each_octave(&self, mut f: impl FnMut(&Octave)) {
        self.for_each_group(|group| {
            for page in &group.octaves {
                // SAFETY: as in `add_to_up_to`.
                if let Some(page) = unsafe { page.load(Acquire).as_ref() } {
                    f(page);
                }
            }
        });
    }

    /// Bytes this histogram holds, groups and octaves included.
    pub fn heap_bytes(&self) -> usize {
        let (mut groups, mut octaves, mut carries) = (0, 0, 0);
        self.for_each_group(|group| {
            groups += 1;
            carries += usize::from(!group.carries.load(Relaxed).is_null());
        });
        self.for_each_octave(|_| octaves += 1);
        let sparse = usize::from(!self.sparse.load(Relaxed).is_null());
        std::mem::size_of::<Self>()
            + sparse * std::mem::size_of::<Sparse>()
            + groups * std::mem::size_of::<Group>()
            + octaves * std::mem::size_of::<Octave>()
            + carries * std::mem::size_of::<Carries>()
    }
}

/// Reads the first `octaves` octaves of `group` into `read` (carries included), consistent
/// with any carry the owning thread makes meanwhile (an octave not allocated reads as zeros).
fn read_group(group: &Group, octaves: usize, read: &mut [[u64; SUB as usize]; GROUP]) {
    let mut spins = 0u32;
    loop {
        let seq = group.seq.load(Acquire);
        if seq.is_multiple_of(2) {
            // SAFETY: a non-null pointer is published, freed only with the histogram.
            let carries = unsafe { group.carries.load(Acquire).as_ref() };
            for (o, counts) in read.iter_mut().enumerate().take(octaves) {
                // SAFETY: as above.
                let Some(page) = (unsafe { group.octaves[o].load(Acquire).as_ref() }) else {
                    continue;
                };
                for (r, b) in counts.iter_mut().zip(&page.0) {
                    *r = u64::from(b.load(Relaxed));
                }
                if let Some(carries) = carries {
                    for (r, c) in counts.iter_mut().zip(&carries.0[o]) {
                        *r += c.load(Relaxed) << 32;
                    }
                }
            }
            fence(Acquire);
            if group.seq.load(Relaxed) == seq {
                return;
            }
        }
        // A carry is being made: a few instructions, unless its thread was preempted there.
        spins += 1;
        crate::sync::spin(spins);
    }
}

impl Drop for AtomicHistogram {
    fn drop(&mut self) {
        let sparse = self.sparse.load(Acquire);
        if !sparse.is_null() {
            // SAFETY: allocated by `publish` with `Box::into_raw`; `&mut self` means no reader
            // is left.
            drop(unsafe { Box::from_raw(sparse) });
        }
        for group in &self.groups {
            let group = group.load(Acquire);
            if group.is_null() {
                continue;
            }
            // SAFETY: allocated by `publish` with `Box::into_raw`; `&mut self` means no reader
            // is left.
            let group = unsafe { Box::from_raw(group) };
            let carries = group.carries.load(Acquire);
            if !carries.is_null() {
                // SAFETY: as above.
                drop(unsafe { Box::from_raw(carries) });
            }
            for page in &group.octaves {
                let page = page.load(Acquire);
                if !page.is_null() {
                    // SAFETY: as above.
                    drop(unsafe { Box::from_raw(page) });
                }
            }
        }
    }
}

/// Adds one to a bucket only its owning thread writes; `false` (and nothing changed) when the
/// bucket is full, to be carried.
#[inline(always)]
fn bump(counter: &AtomicU32) -> bool {
    let n = counter.load(Relaxed);
    if n == u32::MAX {
        return false;
    }
    counter.store(n + 1, Relaxed);
    true
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

    /// Adds the non-zero counts of one octave's buckets, which start at bucket `first`;
    /// returns their sum.
    fn add_octave(&mut self, first: usize, read: &[u64; SUB as usize]) -> u64 {
        let (mut low, mut high, mut sum) = (usize::MAX, 0, 0);
        for (i, r) in read.iter().enumerate() {
            sum += *r;
            if *r != 0 {
                low = low.min(i);
                high = i;
            }
        }
        if low == usize::MAX {
            return 0;
        }
        self.cover(first + low, first + high);
        let at = first + low - self.first;
        for (c, r) in self.counts[at..].iter_mut().zip(&read[low..=high]) {
            *c += *r;
        }
        sum
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

/// Values that fill the samples and the sparse stage when they share a bucket: the next one
/// goes to an octave.
#[cfg(test)]
const PAST_SPARSE: usize = SAMPLES + SPARSE_FOR as usize;

/// loom: a reader racing the owning thread's carry never sees a count off by 2^32; a reader
/// racing the stages' publication sees each value once or not yet.
#[cfg(all(test, perfscope_loom))]
mod loom_model {
    use super::*;
    use crate::sync::Arc;

    /// The owner records one value in each stage (two samples, the sparse stage, an octave:
    /// the last two allocated and published then) while another thread reads: the reader sees
    /// some of the values, each once and in its own bucket, never a stage before its
    /// initialisation.
    #[test]
    fn loom_stages_vs_reader() {
        let values = [3u64, 40, 1_000, 70_000];
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = runs.clone();
        loom::model(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let atomic = Arc::new(AtomicHistogram::new());
            let reader = atomic.clone();
            let snapshot = loom::thread::spawn(move || {
                let mut read = Histogram::new();
                let seen = reader.add_to(&mut read);
                // Stages are read one after the other while the owner fills them: any subset
                // of the values, each once, in its own bucket (none seen half-initialised).
                assert_eq!(seen, read.count());
                for (low, _, count) in read.buckets() {
                    let recorded = values.iter().any(|v| bucket_of(*v) == bucket_of(low));
                    assert!(recorded && count == 1, "read {count} in the bucket of {low}");
                }
            });
            for v in values {
                atomic.record(v);
            }
            snapshot.join().expect("the reading thread");
            let mut after = Histogram::new();
            assert_eq!(atomic.add_to(&mut after), 4);
            assert!(!atomic.sparse.load(Relaxed).is_null() && !atomic.hot.load(Relaxed).is_null());
        });
        let runs = runs.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("loom model stages_vs_reader: {runs} executions");
        assert!(runs > 10, "the model explored {runs} interleavings");
    }

    #[test]
    fn loom_carry_vs_reader() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.max_branches = 100_000;
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = runs.clone();
        builder.check(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let atomic = Arc::new(AtomicHistogram::new());
            // The samples, the sparse stage and one value in the octave; then the octave's
            // bucket is set one short of full.
            for _ in 0..=PAST_SPARSE {
                atomic.record(1_000);
            }
            let octave = bucket_of(1_000) / SUB as usize;
            let sub = bucket_of(1_000) % SUB as usize;
            // SAFETY: the group and the octave exist (values were recorded in them).
            let page = unsafe {
                let group = &*atomic.groups[octave / GROUP].load(Acquire);
                &*group.octaves[octave % GROUP].load(Acquire)
            };
            page.0[sub].store(u32::MAX - 1, Relaxed);
            let start = PAST_SPARSE as u64 + u64::from(u32::MAX) - 1;
            let reader = atomic.clone();
            let snapshot = loom::thread::spawn(move || {
                let mut read = Histogram::new();
                let seen = reader.add_to(&mut read);
                assert!((start..=start + 2).contains(&seen), "read {seen}, from {start}");
            });
            // The second of these carries.
            atomic.record(1_000);
            atomic.record(1_000);
            snapshot.join().expect("the reading thread");
            let mut after = Histogram::new();
            assert_eq!(atomic.add_to(&mut after), start + 2);
        });
        let runs = runs.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("loom model carry_vs_reader: {runs} executions");
        assert!(runs > 10, "the model explored {runs} interleavings");
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
        // The same past the sparse stage, in octaves of the first group (0-8: up to 2^15) and
        // of the second (9-17), the maximum's (70,000: octave 11) and one above it in the same
        // group (2^20: octave 15), left for the next reading.
        let atomic = AtomicHistogram::new();
        (0..PAST_SPARSE).for_each(|_| atomic.record(7));
        [300, 9_000, 1 << 20, 70_000, 310].into_iter().for_each(|v| atomic.record(v));
        let mut merged = Histogram::new();
        assert_eq!(atomic.add_to_up_to(&mut merged, 70_000), PAST_SPARSE as u64 + 4);
        let mut expected = from(&[300, 9_000, 70_000, 310]);
        expected.record_n(7, PAST_SPARSE as u64);
        assert_eq!(merged, expected);
    }

    #[test]
    #[cfg_attr(miri, ignore = "under Miri the sparse stage takes one value (SPARSE_FOR)")]
    fn samples_then_sparse_pairs_then_octaves_allocated_on_first_use_and_cleared_in_place() {
        let atomic = AtomicHistogram::new();
        let empty = atomic.heap_bytes();
        assert_eq!(empty, 72, "inline: the samples, the stage, the hot octave, the groups");
        // The first values are kept as they are: nothing allocated.
        atomic.record(1 << 30);
        atomic.record(5);
        assert_eq!(atomic.heap_bytes(), empty);
        // The next ones as (bucket, count) pairs, however far apart: one sparse stage.
        let values = [0, 63, 64, 127, 128, 129, 200, 255, 256, 1 << 20, (1 << 21) - 1, u64::MAX];
        for v in values {
            atomic.record(v);
        }
        let sparse = std::mem::size_of::<Sparse>();
        assert_eq!(sparse, 128);
        assert_eq!(atomic.heap_bytes(), empty + sparse);
        let mut merged = Histogram::new();
        atomic.add_to(&mut merged);
        let mut all: Vec<u64> = [1 << 30, 5].into_iter().chain(values).collect();
        assert_eq!(merged, from(&all));
        // Until the stage has taken its share of values.
        let rest = SPARSE_FOR as usize - values.len();
        (0..rest).for_each(|_| atomic.record(200));
        all.extend(std::iter::repeat_n(200, rest));
        assert_eq!(atomic.heap_bytes(), empty + sparse);
        // Then octaves 0 (0-63), 1 (64-127), of 2^7, 2^8, 2^20 and the last one (everything
        // from 2^47 up); groups 0 (octaves 0-8), 1 (octave 15 = 2^20) and 4 (the last one).
        for v in values {
            atomic.record(v);
            all.push(v);
        }
        let octave = 64 * 4;
        let group = std::mem::size_of::<Group>();
        assert_eq!(group, 88);
        let used = empty + sparse + 3 * group + 6 * octave;
        assert_eq!(atomic.heap_bytes(), used);
        let mut merged = Histogram::new();
        atomic.add_to(&mut merged);
        assert_eq!(merged, from(&all));
        atomic.clear();
        let mut cleared = Histogram::new();
        atomic.add_to(&mut cleared);
        assert_eq!(cleared.count(), 0);
        assert_eq!(atomic.heap_bytes(), used, "kept for readers");
        [300, 301, 300].into_iter().for_each(|v| atomic.record(v));
        let mut again = Histogram::new();
        atomic.add_to(&mut again);
        assert_eq!(again, from(&[300, 301, 300]));
    }

    /// The hot octave is the one the last bucketed value fell in: its address, its number
    /// plus one in the low bits (a wrong tag would send every value down the slow path).
    #[test]
    fn the_hot_octave_is_the_last_one_used_tagged_with_its_number() {
        let atomic = AtomicHistogram::new();
        (0..PAST_SPARSE).for_each(|_| atomic.record(1_000));
        assert!(atomic.hot.load(Relaxed).is_null(), "samples and pairs only");
        for v in [1_000, 1 << 20, 1_001] {
            atomic.record(v);
            let octave = bucket_of(v) / SUB as usize;
            // SAFETY: test only; the group and the octave exist (a value was recorded there).
            let page = unsafe { &*atomic.groups[octave / GROUP].load(Acquire) }.octaves
                [octave % GROUP]
                .load(Acquire);
            let hot = atomic.hot.load(Relaxed);
            assert_eq!(hot.addr() & HOT_TAG, octave + 1, "the tag of {v}'s octave");
            assert_eq!(hot.map_addr(|a| a & !HOT_TAG), page, "the address of {v}'s octave");
        }
    }

    /// A value whose bucket finds no free pair goes to its octave while the stage still takes
    /// the values of the buckets it holds; readers add both.
    #[test]
    fn a_full_sparse_stage_sends_new_buckets_to_their_octaves() {
        let atomic = AtomicHistogram::new();
        // Two samples, then 40 buckets for 31 pairs.
        let values: Vec<u64> = (0..42).map(|i| 1_000 + 16 * i).collect();
        values.iter().for_each(|&v| atomic.record(v));
        let full = atomic.heap_bytes();
        assert!(full > 72 + 128, "the last nine buckets are in octaves");
        // A bucket with a pair counts there (nothing allocated); the octave's stay there.
        atomic.record(values[2]);
        atomic.record(values[41]);
        assert_eq!(atomic.heap_bytes(), full);
        let mut merged = Histogram::new();
        atomic.add_to(&mut merged);
        let all: Vec<u64> = values.iter().copied().chain([values[2], values[41]]).collect();
        assert_eq!(merged, from(&all));
    }

    /// A bucket past `u32::MAX` values carries into its group's carries: the count goes on
    /// exactly, and readers see it whole.
    #[test]
    fn a_full_bucket_carries_and_counts_on_exactly() {
        let atomic = AtomicHistogram::new();
        for _ in 0..PAST_SPARSE {
            atomic.record(1_000);
        }
        for v in [1_000, 1_001] {
            atomic.record(v);
        }
        let octave = bucket_of(1_000) / SUB as usize;
        let sub = bucket_of(1_000) % SUB as usize;
        // SAFETY: test only; the group and the octave exist (values were recorded in them).
        let page = unsafe {
            let group = &*atomic.groups[octave / GROUP].load(Acquire);
            &*group.octaves[octave % GROUP].load(Acquire)
        };
        // The samples and the sparse stage, then two in the bucket (1,000 and 1,001 share it).
        assert_eq!(page.0[sub].load(Relaxed), 2);
        page.0[sub].store(u32::MAX - 1, Relaxed);
        let before = atomic.heap_bytes();
        for _ in 0..3 {
            atomic.record(1_000);
        }
        assert_eq!(page.0[sub].load(Relaxed), 1, "carried once, then one more");
        assert_eq!(atomic.heap_bytes(), before + std::mem::size_of::<Carries>());
        let mut merged = Histogram::new();
        let added = atomic.add_to(&mut merged);
        let expected = PAST_SPARSE as u64 + (u64::from(u32::MAX) - 1) + 3;
        assert_eq!((added, merged.count()), (expected, expected));
        assert_eq!(merged.quantile(0.5), from(&[1_000]).quantile(0.5));
        atomic.clear();
        let mut cleared = Histogram::new();
        assert_eq!(atomic.add_to(&mut cleared), 0, "carries cleared too");
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
