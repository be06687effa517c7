//! [`Sender`], the sending half of a bounded channel, and [`Permit`]. A send that finds the
//! channel full waits for capacity in a frame `channel::<name>::send` on the sender's stack.

use std::sync::Arc;
use std::time::Duration;

use perfscope_core::{clock, instrument};
use tokio::sync::mpsc::{self, error::SendError, error::SendTimeoutError, error::TrySendError};

use super::block_on::block_on;
use super::stats::{Shared, Stamped};

/// The sending half of an instrumented bounded channel ([`channel`](super::channel)):
/// tokio's `Sender` methods. Clones send into the same channel.
#[derive(Debug)]
pub struct Sender<T> {
    pub(super) tx: mpsc::Sender<Stamped<T>>,
    pub(super) shared: Arc<Shared>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { tx: self.tx.clone(), shared: self.shared.clone() }
    }
}

/// A wait for capacity: its time counted however it ends (a slot, the channel closing, a
/// timeout, the send dropped).
struct Waiting<'a> {
    shared: &'a Shared,
    since: u64,
}

impl<'a> Waiting<'a> {
    fn start(shared: &'a Shared) -> Self {
        Waiting { shared, since: clock::now() }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.shared.waited(clock::now().saturating_sub(self.since));
    }
}

impl<T> Sender<T> {
    /// The accepted send of `item`, stamped now (after any wait: the queue time starts here).
    #[inline(always)]
    fn send_with(&self, permit: mpsc::Permit<'_, Stamped<T>>, mut item: Stamped<T>) {
        item.sent = clock::now();
        permit.send(item);
        self.shared.sent();
    }

    /// Sends `value`, waiting for capacity when the channel is full (the wait a frame
    /// `channel::<name>::send` under the caller); the value back if the receiver is gone.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.tx.try_send(Stamped::now(value)) {
            Ok(()) => {
                self.shared.sent();
                Ok(())
            }
            Err(TrySendError::Closed(item)) => {
                self.shared.refused();
                Err(SendError(item.value))
            }
            Err(TrySendError::Full(item)) => {
                let waiting = Waiting::start(&self.shared);
                let permit = instrument(self.shared.send_frame, self.tx.reserve()).await;
                drop(waiting);
                match permit {
                    Ok(permit) => {
                        self.send_with(permit, item);
                        Ok(())
                    }
                    Err(_) => {
                        self.shared.refused();
                        Err(SendError(item.value))
                    }
                }
            }
        }
    }

    /// Sends `value` if there is room now (never a wait).
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.tx.try_send(Stamped::now(value)) {
            Ok(()) => {
                self.shared.sent();
                Ok(())
            }
            Err(TrySendError::Full(item)) => Err(TrySendError::Full(item.value)),
            Err(TrySendError::Closed(item)) => {
                self.shared.refused();
                Err(TrySendError::Closed(item.value))
            }
        }
    }

    /// Sends `value`, waiting at most `timeout` for capacity (in a frame, as
    /// [`send`](Self::send)). Needs a tokio runtime with the time driver.
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        let item = match self.tx.try_send(Stamped::now(value)) {
            Ok(()) => {
                self.shared.sent();
                return Ok(());
            }
            Err(TrySendError::Closed(item)) => {
                self.shared.refused();
                return Err(SendTimeoutError::Closed(item.value));
            }
            Err(TrySendError::Full(item)) => item,
        };
        let waiting = Waiting::start(&self.shared);
        let reserve = tokio::time::timeout(timeout, self.tx.reserve());
        let permit = instrument(self.shared.send_frame, reserve).await;
        drop(waiting);
        match permit {
            Ok(Ok(permit)) => {
                self.send_with(permit, item);
                Ok(())
            }
            Ok(Err(_)) => {
                self.shared.refused();
                Err(SendTimeoutError::Closed(item.value))
            }
            Err(_elapsed) => Err(SendTimeoutError::Timeout(item.value)),
        }
    }

    /// Sends `value` from sync code, blocking the thread while the channel is full (the wait
    /// a frame, as [`send`](Self::send)). Like tokio's, panics inside an async context.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        match self.try_send(value) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(value)) => Err(SendError(value)),
            Err(TrySendError::Full(value)) => {
                if tokio::runtime::Handle::try_current().is_ok() {
                    // tokio's own refusal (a panic naming the mistake), as the bare channel.
                    return self
                        .tx
                        .blocking_send(Stamped::now(value))
                        .map_err(|e| SendError(e.0.value));
                }
                block_on(self.send(value))
            }
        }
    }

    /// Waits for a slot (in a frame when the channel is full, as [`send`](Self::send)) and
    /// holds it: the [`Permit`] sends without waiting.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        let permit = match self.tx.try_reserve() {
            Ok(permit) => permit,
            Err(TrySendError::Closed(())) => {
                self.shared.refused();
                return Err(SendError(()));
            }
            Err(TrySendError::Full(())) => {
                let waiting = Waiting::start(&self.shared);
                let permit = instrument(self.shared.send_frame, self.tx.reserve()).await;
                drop(waiting);
                permit.inspect_err(|_| self.shared.refused())?
            }
        };
        Ok(Permit { permit, shared: &self.shared })
    }

    /// A slot if one is free now (never a wait).
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.tx.try_reserve() {
            Ok(permit) => Ok(Permit { permit, shared: &self.shared }),
            Err(error) => {
                if let TrySendError::Closed(()) = error {
                    self.shared.refused();
                }
                Err(error)
            }
        }
    }

    /// Waits until the receiver is gone or closed.
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Free slots now.
    pub fn capacity(&self) -> usize {
        self.tx.capacity()
    }

    /// The channel's capacity.
    pub fn max_capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// Whether `other` sends into the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// Senders alive.
    pub fn strong_count(&self) -> usize {
        self.tx.strong_count()
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

/// A slot held in a bounded channel ([`Sender::reserve`]): [`send`](Self::send) never
/// waits; dropped unused, the slot goes back.
#[derive(Debug)]
pub struct Permit<'a, T> {
    permit: mpsc::Permit<'a, Stamped<T>>,
    shared: &'a Shared,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the held slot.
    pub fn send(self, value: T) {
        self.permit.send(Stamped::now(value));
        self.shared.sent();
    }
}
