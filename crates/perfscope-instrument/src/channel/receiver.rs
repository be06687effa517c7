//! [`Receiver`] and [`UnboundedReceiver`], the receiving halves of the mpsc channels: one
//! macro writes both, as tokio's two types have the same methods.

use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::mpsc::{self, error::TryRecvError};

use super::stats::{RecvSide, Shared, Stamped};

macro_rules! receiver {
    ($(#[$doc:meta])* $name:ident, $inner:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T> {
            rx: mpsc::$inner<Stamped<T>>,
            shared: Arc<Shared>,
            side: Arc<RecvSide>,
            /// Items `recv_many` took, before they are unwrapped into the caller's buffer.
            scratch: Vec<Stamped<T>>,
        }

        impl<T> $name<T> {
            pub(super) fn new(rx: mpsc::$inner<Stamped<T>>, shared: Arc<Shared>) -> Self {
                let side = shared.receiver();
                $name { rx, shared, side, scratch: Vec::new() }
            }

            #[inline(always)]
            fn got(&self, item: Stamped<T>) -> T {
                self.shared.received(&self.side, item)
            }

            /// The next item, waiting for one; `None` once every sender is gone and the
            /// queue is empty (or after [`close`](Self::close)).
            pub async fn recv(&mut self) -> Option<T> {
                let item = self.rx.recv().await?;
                Some(self.got(item))
            }

            /// Up to `limit` items appended to `buffer`, waiting for at least one; 0 once the
            /// channel is closed and empty (or `limit` is 0).
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                let mut scratch = std::mem::take(&mut self.scratch);
                let n = self.rx.recv_many(&mut scratch, limit).await;
                buffer.reserve(n);
                for item in scratch.drain(..) {
                    buffer.push(self.got(item));
                }
                self.scratch = scratch;
                n
            }

            /// The next item if one is queued now.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                let item = self.rx.try_recv()?;
                Ok(self.got(item))
            }

            /// The next item, blocking the thread (outside a runtime; like tokio's, panics
            /// inside an async context).
            pub fn blocking_recv(&mut self) -> Option<T> {
                let item = self.rx.blocking_recv()?;
                Some(self.got(item))
            }

            /// Polls for the next item (for hand-written futures and streams).
            pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
                match self.rx.poll_recv(cx) {
                    Poll::Ready(Some(item)) => Poll::Ready(Some(self.got(item))),
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }

            /// Closes the channel: sends fail from now on, queued items can still be
            /// received.
            pub fn close(&mut self) {
                self.rx.close()
            }

            /// Whether the channel is closed.
            pub fn is_closed(&self) -> bool {
                self.rx.is_closed()
            }

            /// Whether no item is queued.
            pub fn is_empty(&self) -> bool {
                self.rx.is_empty()
            }

            /// Items queued now.
            pub fn len(&self) -> usize {
                self.rx.len()
            }

            /// Senders alive.
            pub fn sender_strong_count(&self) -> usize {
                self.rx.sender_strong_count()
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

        impl<T> Drop for $name<T> {
            fn drop(&mut self) {
                self.shared.retire(&self.side);
            }
        }
    };
}

receiver!(
    /// The receiving half of an instrumented bounded channel ([`channel`](super::channel)):
    /// tokio's `Receiver` methods; each item received counts, with the time it waited in the
    /// queue.
    Receiver,
    Receiver
);

receiver!(
    /// The receiving half of an instrumented unbounded channel
    /// ([`unbounded_channel`](super::unbounded_channel)): tokio's `UnboundedReceiver`
    /// methods; each item received counts, with the time it waited in the queue.
    UnboundedReceiver,
    UnboundedReceiver
);

impl<T> Receiver<T> {
    /// Free slots now.
    pub fn capacity(&self) -> usize {
        self.rx.capacity()
    }

    /// The channel's capacity.
    pub fn max_capacity(&self) -> usize {
        self.rx.max_capacity()
    }
}
