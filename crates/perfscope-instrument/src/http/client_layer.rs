//! [`HttpClientLayer`]: the client side for tower HTTP clients (hyper-util's `Client`, or any
//! tower service of `http` requests): the same frames and figures as
//! [`HttpClientMiddleware`](super::HttpClientMiddleware), its host from the request's URI,
//! its template from the request's [`UrlTemplate`] extension, and connections counted by
//! [`CountConnections`](super::CountConnections) on the client's connector.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use http::{Request, Response};
use perfscope_core::{Instrumented, instrument};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower_layer::Layer;
use tower_service::Service;

use super::body::{CountedBody, Tally};
use super::client::{BODY, CALL, Call, ClientSeries, REQUEST, UNTEMPLATED, UrlTemplate, series};
use super::labels::class_index;

/// Measures the calls of a tower HTTP client (see the [module](crate::http) documentation):
/// `ServiceBuilder::new().layer(HttpClientLayer::new()).service(client)`. Name a call's URL
/// template with a [`UrlTemplate`] request extension.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpClientLayer {
    connections: bool,
}

impl HttpClientLayer {
    /// The layer (connections not counted).
    pub fn new() -> Self {
        HttpClientLayer::default()
    }

    /// Counts connections opened and reused: the client's connector is wrapped in
    /// [`CountConnections`](super::CountConnections).
    pub fn counting_connections(mut self) -> Self {
        self.connections = true;
        self
    }
}

impl<S> Layer<S> for HttpClientLayer {
    type Service = HttpClientService<S>;

    fn layer(&self, inner: S) -> HttpClientService<S> {
        HttpClientService { inner, connections: self.connections }
    }
}

/// The client [`HttpClientLayer`] wraps.
#[derive(Debug, Clone)]
pub struct HttpClientService<S> {
    inner: S,
    connections: bool,
}

/// The host label of `uri`: its authority without user information.
fn host(uri: &http::Uri) -> &str {
    let authority = uri.authority().map_or("", http::uri::Authority::as_str);
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

impl<S, B, R> Service<Request<B>> for HttpClientService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    B: http_body::Body,
{
    type Response = Response<CountedBody<R>>;
    type Error = S::Error;
    type Future = CallFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> CallFuture<S::Future> {
        let template = request.extensions().get::<UrlTemplate>().map_or(UNTEMPLATED, |t| &*t.0);
        let series = series(host(request.uri()), template, request.method());
        let sent = request.body().size_hint().exact().unwrap_or(0);
        if sent > 0 {
            series.request_bytes.fetch_add(sent, Relaxed);
        }
        series.active.fetch_add(1, Relaxed);
        let call = Call { series, opened: Cell::new(false) };
        let inner = CALL.scope(call, ReadOpened { inner: self.inner.call(request) });
        CallFuture {
            inner: instrument(series.callsite, inner),
            series,
            connections: self.connections,
            done: false,
        }
    }
}

pin_project! {
    /// The inner call, answering with whether it opened a connection.
    struct ReadOpened<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for ReadOpened<F> {
    type Output = (F::Output, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let output = std::task::ready!(self.project().inner.poll(cx));
        Poll::Ready((output, CALL.try_with(|call| call.opened.get()).unwrap_or(false)))
    }
}

pin_project! {
    /// A call measured by [`HttpClientLayer`]: the inner client's response, its body counted.
    pub struct CallFuture<F> {
        #[pin]
        inner: Instrumented<TaskLocalFuture<Call, ReadOpened<F>>>,
        series: &'static ClientSeries,
        connections: bool,
        done: bool,
    }

    impl<F> PinnedDrop for CallFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                this.series.active.fetch_sub(1, Relaxed);
            }
        }
    }
}

impl<F> std::fmt::Debug for CallFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallFuture").field("done", &self.done).finish_non_exhaustive()
    }
}

impl<F, R, E> Future for CallFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<CountedBody<R>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (result, opened) = std::task::ready!(this.inner.poll(cx));
        *this.done = true;
        let series: &'static ClientSeries = this.series;
        series.active.fetch_sub(1, Relaxed);
        Poll::Ready(match result {
            Ok(response) => {
                series.by_class[class_index(response.status())].fetch_add(1, Relaxed);
                if *this.connections && !opened {
                    series.reused.fetch_add(1, Relaxed);
                }
                let tally = Tally { bytes: &series.response_bytes, errors: &series.errors[BODY] };
                Ok(response.map(|body| CountedBody::new(body, tally)))
            }
            Err(error) => {
                // A tower client's error type is its own: counted as a request error.
                series.errors[REQUEST].fetch_add(1, Relaxed);
                Err(error)
            }
        })
    }
}
