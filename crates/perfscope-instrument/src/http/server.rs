//! The server side: [`HttpServerLayer`], a tower [`Layer`] for axum routers. Each request is a
//! frame on the task that handles it, named `http::server::<METHOD> <route template>`, so the
//! handler's `#[measure]` functions, pool acquires, cache calls and queries are its children;
//! its figures go to the series of its route template, method and status class.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::MatchedPath;
use http::{Method, Request, Response, Uri};
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use perfscope_core::{Callsite, Instrumented, Kind, instrument};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::body::{CountedBody, Tally};
use super::labels::{METHODS, class_index, method_index};
use super::table::Table;
use crate::callsites::callsite;

/// Route templates with series (and frames) of their own; requests of later templates are
/// counted under `http_route="<other>"` (frame `http::server::<METHOD> <other>`), and a
/// warning event is published once.
pub const MAX_ROUTES: usize = 256;

/// The route label of a request no route matched and the layer's template function (if any)
/// did not name: never the raw path, whose values are unbounded.
pub const UNMATCHED: &str = "<unmatched>";

/// The route templates seen, each with its series per method.
pub(crate) static ROUTES: Table<Route> =
    Table::new("perfscope_instrument::http::MAX_ROUTES", MAX_ROUTES, |max| {
        format!(
            "More than {max} HTTP route templates: the requests of later ones are counted under \
             http_route=\"<other>\". The cap is fixed; give the layer route templates \
             (axum's MatchedPath or with_route_template), never raw paths."
        )
    });

/// A route template and its series, one per method, made on the method's first request.
pub(crate) struct Route {
    pub(crate) route: Box<str>,
    pub(crate) methods: [OnceLock<&'static ServerSeries>; METHODS.len()],
}

/// What the layer counts for one route and method (relaxed atomics).
pub(crate) struct ServerSeries {
    callsite: &'static Callsite,
    /// Responses by status class (`labels::CLASSES`).
    pub(crate) by_class: [AtomicU64; 6],
    pub(crate) active: AtomicU64,
    pub(crate) request_bytes: AtomicU64,
    pub(crate) response_bytes: AtomicU64,
    pub(crate) request_body_errors: AtomicU64,
    pub(crate) response_body_errors: AtomicU64,
    pub(crate) panics: AtomicU64,
    pub(crate) service_errors: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

impl Route {
    fn new(route: &str, _: &str) -> Route {
        super::figures::register();
        Route { route: route.into(), methods: Default::default() }
    }

    #[inline]
    fn series(&self, method: usize) -> &'static ServerSeries {
        self.methods[method].get_or_init(|| {
            let name = format!("http::server::{} {}", METHODS[method], self.route);
            let callsite = callsite(name, Kind::Async, module_path!());
            Box::leak(Box::new(ServerSeries {
                callsite,
                by_class: Default::default(),
                active: AtomicU64::new(0),
                request_bytes: AtomicU64::new(0),
                response_bytes: AtomicU64::new(0),
                request_body_errors: AtomicU64::new(0),
                response_body_errors: AtomicU64::new(0),
                panics: AtomicU64::new(0),
                service_errors: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }))
        })
    }
}

/// A request body type the layer counts: it wraps a [`CountedBody`] of itself back into its
/// own type (so the inner service gets the type it takes). axum's [`Body`] (an axum router's
/// routes), and the boxed bodies of `http-body-util` (`BoxBody`, `UnsyncBoxBody`: a hyper or
/// tonic service whose requests are boxed) are.
pub trait RequestBody: http_body::Body + Sized {
    /// `body`, counted, as this type.
    fn counted(body: CountedBody<Self>) -> Self;
}

impl RequestBody for Body {
    fn counted(body: CountedBody<Body>) -> Body {
        Body::new(body)
    }
}

impl<D: bytes::Buf + 'static, E: 'static> RequestBody for BoxBody<D, E> {
    fn counted(body: CountedBody<Self>) -> Self {
        BoxBody::new(body)
    }
}

impl<D: bytes::Buf + 'static, E: 'static> RequestBody for UnsyncBoxBody<D, E> {
    fn counted(body: CountedBody<Self>) -> Self {
        UnsyncBoxBody::new(body)
    }
}

/// Names the route template of a request no axum route matched (see
/// [`HttpServerLayer::with_route_template`]).
pub type RouteTemplate = dyn Fn(&Method, &Uri) -> Option<Cow<'static, str>> + Send + Sync;

/// A tower [`Layer`] measuring the requests an axum router serves: add it with
/// `Router::layer` (after the routes, so axum's `MatchedPath` names each request's route).
/// Any tower service of `http` requests whose body is a [`RequestBody`] works too (a hyper
/// or tonic service), its routes named by
/// [`with_route_template`](HttpServerLayer::with_route_template).
///
/// Per route template, method and status class it counts requests
/// (`perfscope_http_server_requests_total`), requests in flight, request and response body
/// bytes, errors (5xx, handler panics, body errors) and requests dropped before their response
/// was ready; each request is a frame `http::server::<METHOD> <route>`, whose latency
/// histogram is the function histogram. See the [module](crate::http) documentation.
#[derive(Clone, Default)]
pub struct HttpServerLayer {
    template: Option<Arc<RouteTemplate>>,
}

impl std::fmt::Debug for HttpServerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServerLayer").field("template", &self.template.is_some()).finish()
    }
}

impl HttpServerLayer {
    /// The layer, naming routes by axum's `MatchedPath` (requests no route matched count under
    /// [`UNMATCHED`]).
    pub fn new() -> Self {
        HttpServerLayer::default()
    }

    /// Names the route template of requests without a `MatchedPath` (a fallback, or a
    /// service that is not an axum router) with `template`, e.g. `"/quotes/{symbol}"` for
    /// `/quotes/ACME`; `None` counts them under [`UNMATCHED`]. Past [`MAX_ROUTES`] templates,
    /// new ones count under `<other>`, so a function returning raw paths costs series up to
    /// the cap, never more.
    pub fn with_route_template(
        mut self,
        template: impl Fn(&Method, &Uri) -> Option<Cow<'static, str>> + Send + Sync + 'static,
    ) -> Self {
        self.template = Some(Arc::new(template));
        self
    }
}

impl<S> Layer<S> for HttpServerLayer {
    type Service = HttpServerService<S>;

    fn layer(&self, inner: S) -> HttpServerService<S> {
        HttpServerService { inner, template: self.template.clone() }
    }
}

/// The service [`HttpServerLayer`] wraps around each route.
#[derive(Clone)]
pub struct HttpServerService<S> {
    inner: S,
    template: Option<Arc<RouteTemplate>>,
}

impl<S> std::fmt::Debug for HttpServerService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServerService").finish_non_exhaustive()
    }
}

impl<S> HttpServerService<S> {
    #[inline]
    fn series<B>(&self, request: &Request<B>) -> &'static ServerSeries {
        let method = method_index(request.method());
        let route = ROUTES.get(&self.route(request), "", Route::new);
        route.series(method)
    }

    #[inline]
    fn route<'a, B>(&self, request: &'a Request<B>) -> Cow<'a, str> {
        if let Some(matched) = request.extensions().get::<MatchedPath>() {
            return Cow::Borrowed(matched.as_str());
        }
        let named = self.template.as_ref().and_then(|t| t(request.method(), request.uri()));
        named.unwrap_or(Cow::Borrowed(UNMATCHED))
    }
}

impl<S, R, B> Service<Request<R>> for HttpServerService<S>
where
    S: Service<Request<R>, Response = Response<B>>,
    R: RequestBody,
{
    type Response = Response<CountedBody<B>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<R>) -> ResponseFuture<S::Future> {
        let series = self.series(&request);
        series.active.fetch_add(1, Relaxed);
        let request = if request.body().is_end_stream() {
            request
        } else {
            let tally = Tally { bytes: &series.request_bytes, errors: &series.request_body_errors };
            request.map(|body| R::counted(CountedBody::new(body, tally)))
        };
        let inner = instrument(series.callsite, self.inner.call(request));
        ResponseFuture { inner, series, done: false, panicked: false }
    }
}

pin_project! {
    /// The response of a request measured by [`HttpServerLayer`]: the inner service's, its
    /// body counted.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        series: &'static ServerSeries,
        done: bool,
        panicked: bool,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                this.series.active.fetch_sub(1, Relaxed);
                let ended = if *this.panicked { &this.series.panics } else { &this.series.dropped };
                ended.fetch_add(1, Relaxed);
            }
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").field("done", &self.done).finish_non_exhaustive()
    }
}

/// Marks the request panicked if the inner poll unwinds.
struct Unwind<'a>(&'a mut bool);

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            *self.0 = true;
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<CountedBody<B>>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let unwind = Unwind(this.panicked);
        let polled = this.inner.poll(cx);
        std::mem::forget(unwind);
        let Poll::Ready(result) = polled else { return Poll::Pending };
        *this.done = true;
        let series: &'static ServerSeries = this.series;
        series.active.fetch_sub(1, Relaxed);
        Poll::Ready(match result {
            Ok(response) => {
                series.by_class[class_index(response.status())].fetch_add(1, Relaxed);
                let tally =
                    Tally { bytes: &series.response_bytes, errors: &series.response_body_errors };
                Ok(response.map(|body| CountedBody::new(body, tally)))
            }
            Err(error) => {
                series.service_errors.fetch_add(1, Relaxed);
                Err(error)
            }
        })
    }
}
