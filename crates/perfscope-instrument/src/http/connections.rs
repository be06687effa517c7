//! [`CountConnections`]: a connector layer for `reqwest::ClientBuilder::connector_layer` that
//! counts the connections the client opens, each for the call that asked for it (the call
//! [`HttpClientMiddleware`](super::HttpClientMiddleware) is measuring on the same task). A
//! call answered without opening one reused a connection from the client's pool.
//!
//! hyper's pool polls a new connection's connect inside the call that needs it; if an idle
//! connection comes back first, the connect goes on in the background and its connection
//! joins the pool: it is still counted opened, for the call that started it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::client::{CALL, ClientSeries};

/// Counts the connections a reqwest client opens, each for the call that asked for it:
/// `reqwest::Client::builder().connector_layer(CountConnections)`, with
/// [`HttpClientMiddleware::counting_connections`](super::HttpClientMiddleware::counting_connections)
/// (or [`client`](super::client), which sets up both). A call answered without opening a
/// connection reused one from the client's pool. When an idle connection comes back before
/// the one a call started to open, hyper finishes opening it in the background and pools it:
/// it still counts as opened, and the call as reused.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountConnections;

impl<S> Layer<S> for CountConnections {
    type Service = CountedConnector<S>;

    fn layer(&self, inner: S) -> CountedConnector<S> {
        CountedConnector { inner }
    }
}

/// The connector [`CountConnections`] wraps.
#[derive(Debug, Clone)]
pub struct CountedConnector<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for CountedConnector<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = Connecting<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Connecting<S::Future> {
        let series = CALL.try_with(|call| call.series).ok();
        Connecting { inner: self.inner.call(request), series }
    }
}

pin_project! {
    /// A connection being opened, for the call that asked for it.
    pub struct Connecting<F> {
        #[pin]
        inner: F,
        series: Option<&'static ClientSeries>,
    }
}

impl<F> std::fmt::Debug for Connecting<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connecting").finish_non_exhaustive()
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> Future for Connecting<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = this.inner.poll(cx);
        if let (Poll::Ready(Ok(_)), Some(series)) = (&polled, *this.series) {
            series.opened.fetch_add(1, Relaxed);
            let _ = CALL.try_with(|call| {
                if std::ptr::eq(call.series, series) {
                    call.opened.set(true);
                }
            });
        }
        polled
    }
}
