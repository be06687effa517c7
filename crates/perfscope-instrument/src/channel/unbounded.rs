//! [`UnboundedSender`], the sending half of an unbounded channel (never a wait).

use std::sync::Arc;

use tokio::sync::mpsc::{self, error::SendError};

use super::stats::{Shared, Stamped};

/// The sending half of an instrumented unbounded channel
/// ([`unbounded_channel`](super::unbounded_channel)): tokio's `UnboundedSender` methods.
#[derive(Debug)]
pub struct UnboundedSender<T> {
    pub(super) tx: mpsc::UnboundedSender<Stamped<T>>,
    pub(super) shared: Arc<Shared>,
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender { tx: self.tx.clone(), shared: self.shared.clone() }
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value` (never waits); the value back if the receiver is gone.
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.tx.send(Stamped::now(value)) {
            Ok(()) => {
                self.shared.sent();
                Ok(())
            }
            Err(SendError(item)) => {
                self.shared.refused();
                Err(SendError(item.value))
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
