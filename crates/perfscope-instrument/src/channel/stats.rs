//! What a channel counts and the figures it gives every snapshot (section `channel`, label
//! `channel`).
//!
//! Senders write one line ([`SendSide`]: `fetch_add`, several senders at once); each receiver
//! writes its own ([`RecvSide`]: `load + store`, it has one writer: `recv` takes `&mut self`),
//! and reads the senders' count to know the depth it found. Times are clock ticks, converted
//! when a snapshot reads them. The time an item waited in the queue is a histogram per
//! receiver ([`AtomicHistogram`], single writer), merged at snapshot time.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};

use perfscope_core::figures::{self, Figure, FigureSource, HistogramFigure, Registration};
use perfscope_core::histogram::{AtomicHistogram, Histogram};
use perfscope_core::names::{self, Name};
use perfscope_core::sync::lock;
use perfscope_core::{Callsite, Kind, clock};

use crate::callsites::callsite;
use crate::labels::LabelCap;

const SECTION: &str = names::section::CHANNEL;

/// Channel names with series of their own; the figures of channels built under later names
/// are summed under `channel="<other>"` ([`crate::OTHER`]), and a warning event is published
/// once. Their send frames keep their names (up to [`crate::MAX_NAMES`]).
pub const MAX_CHANNEL_NAMES: usize = 256;

static NAMES: LabelCap =
    LabelCap::new(SECTION, "perfscope_instrument::channel::MAX_CHANNEL_NAMES", MAX_CHANNEL_NAMES);

/// An item with the clock reading of its send: what the wrapped channel carries.
#[derive(Debug, Clone)]
pub(crate) struct Stamped<T> {
    pub(crate) sent: u64,
    pub(crate) value: T,
}

impl<T> Stamped<T> {
    #[inline(always)]
    pub(crate) fn now(value: T) -> Stamped<T> {
        // With `perfscope/off` the clock is not read (nothing is recorded at the receive).
        let sent = if perfscope_core::OFF { 0 } else { clock::now() };
        Stamped { sent, value }
    }
}

/// A channel's counts at one moment (each channel's `stats()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Items sent into the channel.
    pub sends: u64,
    /// Items received (a broadcast item once per receiver that got it).
    pub receives: u64,
    /// Items in the queue now (broadcast: the most any live receiver has yet to read).
    pub depth: u64,
    /// The most items in the queue at once.
    pub high_water: u64,
    /// Time items waited in the queue, summed, in nanoseconds.
    pub wait_ns: u64,
    /// Sends that found the channel full and waited for capacity.
    pub send_waits: u64,
    /// Time senders waited for capacity, summed, in nanoseconds.
    pub send_wait_ns: u64,
    /// Sends refused because the channel was closed (or had no receiver).
    pub closed: u64,
    /// Items broadcast receivers missed because they fell behind.
    pub lagged: u64,
}

/// What senders count: one cache line of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct SendSide {
    sends: AtomicU64,
    closed: AtomicU64,
    send_waits: AtomicU64,
    send_wait_ticks: AtomicU64,
}

/// What one receiver counts (its only writer), on lines of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct RecvSide {
    /// The senders' count when the receiver started (a broadcast receiver sees only what is
    /// sent after it subscribed).
    start: u64,
    receives: AtomicU64,
    lagged: AtomicU64,
    wait_ticks: AtomicU64,
    high_water: AtomicU64,
    waits: AtomicHistogram,
}

/// Adds `n` to a counter with one writer.
#[inline(always)]
fn add_own(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl RecvSide {
    /// Items this receiver has yet to read, by the senders' count `sends`.
    fn backlog(&self, sends: u64) -> u64 {
        let read = self.receives.load(Relaxed) + self.lagged.load(Relaxed);
        sends.saturating_sub(self.start).saturating_sub(read)
    }
}

/// Receivers that came and went (broadcast), summed.
#[derive(Debug, Default)]
struct Retired {
    receives: u64,
    lagged: u64,
    wait_ticks: u64,
    high_water: u64,
    waits: Histogram,
}

/// A channel's name, send frame and counts, shared by its senders and receivers; its figure
/// source holds it weakly.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) tx: SendSide,
    /// The frame of a send that waits for capacity, `channel::<name>::send`.
    pub(crate) send_frame: &'static Callsite,
    name: String,
    capacity: Option<u64>,
    broadcast: bool,
    receivers: Mutex<Vec<Arc<RecvSide>>>,
    retired: Mutex<Retired>,
    _registration: Registration,
}

impl Shared {
    /// The shared state of a channel named `name` (`capacity`: `None` if unbounded), its
    /// figures registered.
    pub(crate) fn new(name: String, capacity: Option<usize>, broadcast: bool) -> Arc<Shared> {
        let send_frame = callsite(format!("channel::{name}::send"), Kind::Async, module_path!());
        let label = if NAMES.admit(&name) { name.clone() } else { crate::OTHER.to_string() };
        Arc::new_cyclic(|weak: &Weak<Shared>| {
            let source = ChannelSource { label, shared: weak.clone() };
            Shared {
                tx: SendSide::default(),
                send_frame,
                name,
                capacity: capacity.map(|c| c as u64),
                broadcast,
                receivers: Mutex::new(Vec::new()),
                retired: Mutex::new(Retired::default()),
                _registration: figures::register(Arc::new(source)),
            }
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// A new receiver's counts, from the senders' count now.
    pub(crate) fn receiver(&self) -> Arc<RecvSide> {
        let start = if self.broadcast { self.tx.sends.load(Relaxed) } else { 0 };
        let side = Arc::new(RecvSide { start, ..RecvSide::default() });
        lock(&self.receivers).push(side.clone());
        side
    }

    /// A broadcast receiver dropped: its counts join the retired ones.
    pub(crate) fn retire(&self, side: &Arc<RecvSide>) {
        let mut receivers = lock(&self.receivers);
        receivers.retain(|r| !Arc::ptr_eq(r, side));
        let mut retired = lock(&self.retired);
        retired.receives += side.receives.load(Relaxed);
        retired.lagged += side.lagged.load(Relaxed);
        retired.wait_ticks += side.wait_ticks.load(Relaxed);
        retired.high_water = retired.high_water.max(side.high_water.load(Relaxed));
        side.waits.add_to(&mut retired.waits);
    }

    /// One item accepted by the channel.
    #[inline(always)]
    pub(crate) fn sent(&self) {
        if perfscope_core::OFF {
            return;
        }
        self.tx.sends.fetch_add(1, Relaxed);
    }

    /// One send refused: the channel is closed.
    #[cold]
    pub(crate) fn refused(&self) {
        if perfscope_core::OFF {
            return;
        }
        self.tx.closed.fetch_add(1, Relaxed);
    }

    /// One send waited `ticks` for capacity.
    #[cold]
    pub(crate) fn waited(&self, ticks: u64) {
        if perfscope_core::OFF {
            return;
        }
        self.tx.send_waits.fetch_add(1, Relaxed);
        self.tx.send_wait_ticks.fetch_add(ticks, Relaxed);
    }

    /// `item` received by the receiver counting into `side` (its only writer): its value.
    #[inline(always)]
    pub(crate) fn received<T>(&self, side: &RecvSide, item: Stamped<T>) -> T {
        if perfscope_core::OFF {
            return item.value;
        }
        let waited = clock::now().saturating_sub(item.sent);
        // The queue held this item and what was sent after it: its depth before this receive.
        let depth = side.backlog(self.tx.sends.load(Relaxed));
        if depth > side.high_water.load(Relaxed) {
            side.high_water.store(depth, Relaxed);
        }
        add_own(&side.receives, 1);
        add_own(&side.wait_ticks, waited);
        side.waits.record(waited);
        item.value
    }

    /// The receiver counting into `side` missed `n` items (broadcast).
    #[cold]
    pub(crate) fn lagged(&self, side: &RecvSide, n: u64) {
        if perfscope_core::OFF {
            return;
        }
        add_own(&side.lagged, n);
    }

    /// The counts now, and the wait histogram in clock ticks.
    pub(crate) fn read(&self) -> (ChannelStats, Histogram) {
        let nanos_per_tick = clock::nanos_per_tick();
        let ns = |ticks: u64| clock::to_nanos(ticks, nanos_per_tick);
        let sends = self.tx.sends.load(Relaxed);
        // In `retire`'s order: a receiver leaving is counted live or retired, never neither.
        let receivers = lock(&self.receivers);
        let retired = lock(&self.retired);
        let mut waits = retired.waits.clone();
        let mut s = ChannelStats {
            sends,
            receives: retired.receives,
            high_water: retired.high_water,
            closed: self.tx.closed.load(Relaxed),
            lagged: retired.lagged,
            send_waits: self.tx.send_waits.load(Relaxed),
            send_wait_ns: ns(self.tx.send_wait_ticks.load(Relaxed)),
            ..ChannelStats::default()
        };
        let mut wait_ticks = retired.wait_ticks;
        drop(retired);
        for side in receivers.iter() {
            s.receives += side.receives.load(Relaxed);
            s.lagged += side.lagged.load(Relaxed);
            wait_ticks += side.wait_ticks.load(Relaxed);
            s.high_water = s.high_water.max(side.high_water.load(Relaxed));
            s.depth = s.depth.max(side.backlog(sends));
            side.waits.add_to(&mut waits);
        }
        if let Some(cap) = self.capacity {
            // A queue holds at most its capacity (a broadcast one overwrites its oldest
            // items); the count a receive reads may already have the send its own receive
            // made room for.
            s.depth = s.depth.min(cap);
            s.high_water = s.high_water.min(cap);
        }
        s.high_water = s.high_water.max(s.depth);
        s.wait_ns = ns(wait_ticks);
        (s, waits)
    }
}

/// `ticks` (a histogram of clock ticks) in nanoseconds: each bucket's middle, converted.
fn to_nanos(ticks: &Histogram, nanos_per_tick: f64) -> Histogram {
    let mut out = Histogram::new();
    for (low, width, n) in ticks.buckets() {
        out.record_n(clock::to_nanos(low + width / 2, nanos_per_tick), n);
    }
    out
}

/// The figure source of one channel.
#[derive(Debug)]
struct ChannelSource {
    /// The `channel` label: the channel's name, or `<other>`.
    label: String,
    shared: Weak<Shared>,
}

impl FigureSource for ChannelSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let Some(shared) = self.shared.upgrade() else { return };
        let (s, waits) = shared.read();
        let of = |name: &Name, value: f64| {
            Figure::of(name, value).with_label("channel", self.label.clone())
        };
        out.push(of(&names::CHANNEL_SENDS_TOTAL, s.sends as f64));
        out.push(of(&names::CHANNEL_RECEIVES_TOTAL, s.receives as f64));
        out.push(of(&names::CHANNEL_DEPTH, s.depth as f64));
        out.push(of(&names::CHANNEL_DEPTH_HIGH_WATER, s.high_water as f64));
        if let Some(capacity) = shared.capacity {
            out.push(of(&names::CHANNEL_CAPACITY, capacity as f64));
        }
        out.push(of(&names::CHANNEL_WAIT_SECONDS_TOTAL, s.wait_ns as f64 / 1e9));
        if let Some(p99) = waits.quantile(0.99) {
            let p99 = clock::to_nanos(p99, clock::nanos_per_tick());
            out.push(of(&names::CHANNEL_WAIT_P99_SECONDS, p99 as f64 / 1e9));
        }
        if shared.capacity.is_some() && !shared.broadcast {
            out.push(of(&names::CHANNEL_SEND_WAITS_TOTAL, s.send_waits as f64));
            out.push(of(&names::CHANNEL_SEND_WAIT_SECONDS_TOTAL, s.send_wait_ns as f64 / 1e9));
        }
        out.push(of(&names::CHANNEL_CLOSED_TOTAL, s.closed as f64));
        if shared.broadcast {
            out.push(of(&names::CHANNEL_LAGGED_TOTAL, s.lagged as f64));
        }
    }

    fn histograms(&self, out: &mut Vec<HistogramFigure>) {
        let Some(shared) = self.shared.upgrade() else { return };
        let (s, waits) = shared.read();
        let waits = to_nanos(&waits, clock::nanos_per_tick());
        let figure =
            HistogramFigure::of(&names::CHANNEL_WAIT_SECONDS, waits, s.wait_ns as f64 / 1e9);
        out.push(figure.with_label("channel", self.label.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_histograms_convert_to_nanoseconds_keeping_counts_and_quantiles() {
        let mut ticks = Histogram::new();
        for v in [10_u64, 500, 500, 90_000, 3_000_000] {
            ticks.record(v);
        }
        // One tick is 0.4 ns (a 2.5 GHz TSC).
        let ns = to_nanos(&ticks, 0.4);
        assert_eq!(ns.count(), 5);
        for q in [0.2, 0.5, 0.8, 1.0] {
            let (t, n) = (ticks.quantile(q).unwrap() as f64 * 0.4, ns.quantile(q).unwrap() as f64);
            assert!((n - t).abs() <= 0.02 * t + 1.0, "q{q}: {n} vs {t}");
        }
        // The OS clock counts nanoseconds: nothing moves.
        assert_eq!(to_nanos(&ticks, 1.0), ticks);
    }

    #[test]
    fn the_depth_a_receiver_finds_is_what_was_sent_since_it_started_less_what_it_read() {
        let side = RecvSide { start: 3, ..RecvSide::default() };
        assert_eq!(side.backlog(10), 7);
        side.receives.store(4, Relaxed);
        side.lagged.store(2, Relaxed);
        assert_eq!(side.backlog(10), 1);
        assert_eq!(side.backlog(2), 0, "a count read before the send is counted is no underflow");
    }
}
