//! A broadcast channel: [`broadcast`](fn@broadcast), its [`BroadcastSender`] and
//! [`BroadcastReceiver`]. Every receiver counts its own receives and the items it missed by
//! falling behind (lagged); the depth is the most any live receiver has yet to read.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError, error::SendError, error::TryRecvError};

use super::stats::{RecvSide, Shared, Stamped};

/// A broadcast channel of `capacity` items measured under `name` (tokio's
/// `broadcast::channel`): every receiver gets every item sent after it subscribed, unless it
/// falls more than `capacity` behind (then it misses the oldest, counted lagged).
///
/// # Panics
/// As tokio's: if `capacity` is 0 or too large.
pub fn broadcast<T: Clone>(
    name: impl Into<String>,
    capacity: usize,
) -> (BroadcastSender<T>, BroadcastReceiver<T>) {
    let (tx, rx) = broadcast::channel(capacity);
    let shared = Shared::new(name.into(), Some(capacity), true);
    let rx = BroadcastReceiver::new(rx, shared.clone());
    (BroadcastSender { tx, shared }, rx)
}

/// The sending half of an instrumented broadcast channel: tokio's `broadcast::Sender`
/// methods. Clones send into the same channel.
#[derive(Debug)]
pub struct BroadcastSender<T> {
    tx: broadcast::Sender<Stamped<T>>,
    shared: Arc<Shared>,
}

impl<T> Clone for BroadcastSender<T> {
    fn clone(&self) -> Self {
        BroadcastSender { tx: self.tx.clone(), shared: self.shared.clone() }
    }
}

impl<T> BroadcastSender<T> {
    /// Sends `value` to every receiver (never waits): how many receivers will see it, or the
    /// value back when there is none (counted as closed).
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        match self.tx.send(Stamped::now(value)) {
            Ok(receivers) => {
                self.shared.sent();
                Ok(receivers)
            }
            Err(SendError(item)) => {
                self.shared.refused();
                Err(SendError(item.value))
            }
        }
    }

    /// A new receiver, of the items sent from now on.
    pub fn subscribe(&self) -> BroadcastReceiver<T> {
        BroadcastReceiver::new(self.tx.subscribe(), self.shared.clone())
    }

    /// Items not yet read by every receiver.
    pub fn len(&self) -> usize {
        self.tx.len()
    }

    /// Whether every receiver has read every item.
    pub fn is_empty(&self) -> bool {
        self.tx.is_empty()
    }

    /// Receivers alive.
    pub fn receiver_count(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Whether `other` sends into the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// The name the channel is measured under.
    pub fn name(&self) -> &str {
        self.shared.name()
    }

    /// The channel's counts so far.
    pub fn stats(&self) -> super::ChannelStats {
        self.shared.read().0
    }
}

/// A receiving half of an instrumented broadcast channel: tokio's `broadcast::Receiver`
/// methods.
#[derive(Debug)]
pub struct BroadcastReceiver<T> {
    rx: broadcast::Receiver<Stamped<T>>,
    shared: Arc<Shared>,
    side: Arc<RecvSide>,
}

impl<T> BroadcastReceiver<T> {
    fn new(rx: broadcast::Receiver<Stamped<T>>, shared: Arc<Shared>) -> Self {
        let side = shared.receiver();
        BroadcastReceiver { rx, shared, side }
    }

    /// Items this receiver has yet to read.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether this receiver has read every item.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.rx.same_channel(&other.rx)
    }

    /// The name the channel is measured under.
    pub fn name(&self) -> &str {
        self.shared.name()
    }

    /// The channel's counts so far.
    pub fn stats(&self) -> super::ChannelStats {
        self.shared.read().0
    }

    #[inline(always)]
    fn counted<E>(
        &self,
        got: Result<Stamped<T>, E>,
        lagged: impl Fn(&E) -> Option<u64>,
    ) -> Result<T, E> {
        match got {
            Ok(item) => Ok(self.shared.received(&self.side, item)),
            Err(error) => {
                if let Some(n) = lagged(&error) {
                    self.shared.lagged(&self.side, n);
                }
                Err(error)
            }
        }
    }
}

fn recv_lagged(error: &RecvError) -> Option<u64> {
    match error {
        RecvError::Lagged(n) => Some(*n),
        RecvError::Closed => None,
    }
}

fn try_recv_lagged(error: &TryRecvError) -> Option<u64> {
    match error {
        TryRecvError::Lagged(n) => Some(*n),
        _ => None,
    }
}

impl<T: Clone> BroadcastReceiver<T> {
    /// The next item, waiting for one; `Lagged(n)` when this receiver fell behind and missed
    /// `n` items (counted), `Closed` once every sender is gone and it read everything.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        let got = self.rx.recv().await;
        self.counted(got, recv_lagged)
    }

    /// The next item if one is there now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let got = self.rx.try_recv();
        self.counted(got, try_recv_lagged)
    }

    /// The next item, blocking the thread (outside a runtime; like tokio's, panics inside an
    /// async context).
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        let got = self.rx.blocking_recv();
        self.counted(got, recv_lagged)
    }

    /// A new receiver of the same channel, of the items sent from now on.
    pub fn resubscribe(&self) -> Self {
        BroadcastReceiver::new(self.rx.resubscribe(), self.shared.clone())
    }
}

impl<T> Drop for BroadcastReceiver<T> {
    fn drop(&mut self) {
        self.shared.retire(&self.side);
    }
}
