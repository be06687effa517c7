//! [`CountedBody`]: a body that counts the bytes of its data frames as they pass (added to its
//! series' counter when it is dropped: one atomic add per body, not per frame) and the first
//! error it yields.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

/// Where a body's counts go: its series' byte and error counters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) bytes: &'static AtomicU64,
    pub(crate) errors: &'static AtomicU64,
}

pin_project! {
    /// A request or response body measured by perfscope's HTTP layer or middleware: the same
    /// frames as the body it wraps, their data bytes counted.
    pub struct CountedBody<B> {
        #[pin]
        inner: B,
        bytes: u64,
        errored: bool,
        tally: Tally,
    }

    impl<B> PinnedDrop for CountedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.bytes > 0 {
                this.tally.bytes.fetch_add(*this.bytes, Relaxed);
            }
        }
    }
}

impl<B> CountedBody<B> {
    pub(crate) fn new(inner: B, tally: Tally) -> Self {
        CountedBody { inner, bytes: 0, errored: false, tally }
    }
}

impl<B> std::fmt::Debug for CountedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountedBody").field("bytes", &self.bytes).finish_non_exhaustive()
    }
}

impl<B: Body> Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    *this.bytes += data.remaining() as u64;
                }
            }
            Poll::Ready(Some(Err(_))) if !*this.errored => {
                *this.errored = true;
                this.tally.errors.fetch_add(1, Relaxed);
            }
            _ => {}
        }
        polled
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
