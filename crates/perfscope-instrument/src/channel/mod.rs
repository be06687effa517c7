//! Channels: tokio's `mpsc` channels, bounded ([`channel`]: [`Sender`], [`Receiver`]) and
//! unbounded ([`unbounded_channel`]: [`UnboundedSender`], [`UnboundedReceiver`]), and its
//! `broadcast` channel ([`broadcast()`]: [`BroadcastSender`], [`BroadcastReceiver`]), each
//! with the wrapped type's methods (`send`, `try_send`, `send_timeout`, `blocking_send`,
//! `reserve`, `recv`, `recv_many`, `try_recv`, `blocking_recv`, `len`, `capacity`,
//! `subscribe`, ...) and a name given when it is built. The receiver gets the items it was
//! sent: the channel carries each with the clock reading of its send, unwrapped on receipt.
//!
//! **A wait for capacity is a frame.** A send into a full bounded channel waits in a frame
//! named `channel::<name>::send` on the sender's stack (an async frame: its idle time is the
//! wait), so the sending function's self time excludes it and the call edges say which
//! function waited on which channel. A send that finds room is no frame.
//!
//! **Figures** (section `channel`, label `channel=<name>`): [`SENDS_TOTAL`],
//! [`RECEIVES_TOTAL`], [`DEPTH`] and [`DEPTH_HIGH_WATER`] (items in the queue now and at
//! most), [`CAPACITY`] (bounded and broadcast), the time items waited in the queue from send
//! to receive ([`WAIT_SECONDS`], a histogram; [`WAIT_SECONDS_TOTAL`] and
//! [`WAIT_P99_SECONDS`] for reports), the senders' waits for capacity ([`SEND_WAITS_TOTAL`],
//! [`SEND_WAIT_SECONDS_TOTAL`]; bounded mpsc), sends refused because the channel was closed
//! ([`CLOSED_TOTAL`]) and items broadcast receivers missed ([`LAGGED_TOTAL`]). At most
//! [`MAX_CHANNEL_NAMES`] names get series of their own; later ones are summed under
//! `channel="<other>"` and a warning event is published once.
//!
//! Hot path: a send reads the clock and adds one to the senders' count (`fetch_add`, their
//! own cache line); a receive reads the clock, the senders' count (for the depth it found)
//! and writes its own line and wait histogram (`load + store`: one writer). No lock.
//!
//! ```
//! use perfscope_instrument::channel;
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! // The figures are reported while the channel lives.
//! let (tx, mut rx) = channel::channel("quotes", 16);
//! rt.block_on(async {
//!     for price in [101.5, 101.7] {
//!         tx.send(price).await.unwrap();
//!     }
//!     assert_eq!(rx.recv().await, Some(101.5));
//!     assert_eq!(rx.recv().await, Some(101.7));
//!     let stats = rx.stats();
//!     assert_eq!((stats.sends, stats.receives, stats.depth, stats.high_water), (2, 2, 0, 2));
//! });
//! let snap = perfscope_core::snapshot();
//! let sends = snap.figures.iter().find(|f| {
//!     f.name == channel::SENDS_TOTAL && f.labels.iter().any(|(k, v)| k == "channel" && v == "quotes")
//! });
//! assert_eq!(sends.unwrap().value, 2.0);
//! ```

mod block_on;
mod broadcast;
mod receiver;
mod sender;
mod stats;
mod unbounded;

use perfscope_core::names;
use tokio::sync::mpsc;

pub use broadcast::{BroadcastReceiver, BroadcastSender, broadcast};
pub use receiver::{Receiver, UnboundedReceiver};
pub use sender::{Permit, Sender};
pub use stats::{ChannelStats, MAX_CHANNEL_NAMES};
pub use unbounded::UnboundedSender;

use stats::Shared;

/// A bounded mpsc channel of `capacity` items measured under `name` (tokio's
/// `mpsc::channel`).
///
/// # Panics
/// As tokio's: if `capacity` is 0.
pub fn channel<T>(name: impl Into<String>, capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = mpsc::channel(capacity);
    let shared = Shared::new(name.into(), Some(capacity), false);
    (Sender { tx, shared: shared.clone() }, Receiver::new(rx, shared))
}

/// An unbounded mpsc channel measured under `name` (tokio's `mpsc::unbounded_channel`).
pub fn unbounded_channel<T>(name: impl Into<String>) -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Shared::new(name.into(), None, false);
    (UnboundedSender { tx, shared: shared.clone() }, UnboundedReceiver::new(rx, shared))
}

/// [`names::CHANNEL_SENDS_TOTAL`]'s name.
pub const SENDS_TOTAL: &str = names::CHANNEL_SENDS_TOTAL.name;
/// [`names::CHANNEL_RECEIVES_TOTAL`]'s name.
pub const RECEIVES_TOTAL: &str = names::CHANNEL_RECEIVES_TOTAL.name;
/// [`names::CHANNEL_DEPTH`]'s name.
pub const DEPTH: &str = names::CHANNEL_DEPTH.name;
/// [`names::CHANNEL_DEPTH_HIGH_WATER`]'s name.
pub const DEPTH_HIGH_WATER: &str = names::CHANNEL_DEPTH_HIGH_WATER.name;
/// [`names::CHANNEL_CAPACITY`]'s name.
pub const CAPACITY: &str = names::CHANNEL_CAPACITY.name;
/// [`names::CHANNEL_WAIT_SECONDS`]'s name (a histogram).
pub const WAIT_SECONDS: &str = names::CHANNEL_WAIT_SECONDS.name;
/// [`names::CHANNEL_WAIT_SECONDS_TOTAL`]'s name.
pub const WAIT_SECONDS_TOTAL: &str = names::CHANNEL_WAIT_SECONDS_TOTAL.name;
/// [`names::CHANNEL_WAIT_P99_SECONDS`]'s name.
pub const WAIT_P99_SECONDS: &str = names::CHANNEL_WAIT_P99_SECONDS.name;
/// [`names::CHANNEL_SEND_WAITS_TOTAL`]'s name.
pub const SEND_WAITS_TOTAL: &str = names::CHANNEL_SEND_WAITS_TOTAL.name;
/// [`names::CHANNEL_SEND_WAIT_SECONDS_TOTAL`]'s name.
pub const SEND_WAIT_SECONDS_TOTAL: &str = names::CHANNEL_SEND_WAIT_SECONDS_TOTAL.name;
/// [`names::CHANNEL_CLOSED_TOTAL`]'s name.
pub const CLOSED_TOTAL: &str = names::CHANNEL_CLOSED_TOTAL.name;
/// [`names::CHANNEL_LAGGED_TOTAL`]'s name.
pub const LAGGED_TOTAL: &str = names::CHANNEL_LAGGED_TOTAL.name;
