//! The client side: [`HttpClientMiddleware`], a `reqwest-middleware` middleware. Each call is
//! a frame on the caller's stack, named `http::client::<host> <METHOD> <URL template>`: the
//! caller's self time excludes the wait (the frame's idle time), and the call tree says which
//! function called which host. The caller names the template ([`RequestBuilderExt::template`]);
//! the URL's path never becomes a label.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use http::Extensions;
use perfscope_core::{Callsite, Kind, instrument};
use reqwest::{Request, Response, ResponseBuilderExt};
use reqwest_middleware::{Middleware, Next};

use super::body::{CountedBody, Tally};
use super::labels::{METHODS, class_index, method_index};
use super::table::Table;
use crate::callsites::callsite;

/// Hosts and URL templates (pairs) with series (and frames) of their own; calls to later
/// pairs count under `server_address="<other>", url_template="<other>"`, and a warning event
/// is published once.
pub const MAX_TARGETS: usize = 256;

/// The `url_template` label of a call whose caller named no template: never the raw path.
pub const UNTEMPLATED: &str = "<untemplated>";

/// The `error_type` label values of the client's errors, in the order of their counters.
pub(crate) const ERROR_KINDS: [&str; 5] = ["connect", "timeout", "request", "body", "middleware"];
const CONNECT: usize = 0;
const TIMEOUT: usize = 1;
pub(crate) const REQUEST: usize = 2;
pub(crate) const BODY: usize = 3;
const MIDDLEWARE: usize = 4;

/// The URL template of a call (a request extension; see [`RequestBuilderExt::template`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(pub Cow<'static, str>);

/// Names a call's URL template on a `reqwest_middleware::RequestBuilder`.
pub trait RequestBuilderExt {
    /// The call's URL template, e.g. `"/quotes/{symbol}"` for `/quotes/ACME` (the label
    /// `url_template` and the end of the frame's name).
    fn template(self, template: impl Into<Cow<'static, str>>) -> Self;
}

impl RequestBuilderExt for reqwest_middleware::RequestBuilder {
    fn template(self, template: impl Into<Cow<'static, str>>) -> Self {
        self.with_extension(UrlTemplate(template.into()))
    }
}

pub(crate) static TARGETS: Table<Target> =
    Table::new("perfscope_instrument::http::MAX_TARGETS", MAX_TARGETS, |max| {
        format!(
            "More than {max} HTTP client hosts and URL templates: later calls are counted under \
             server_address=\"<other>\", url_template=\"<other>\". The cap is fixed; name URL \
             templates (.template(\"/quotes/{{symbol}}\")), never raw paths."
        )
    });

/// A host and a URL template, with its series, one per method, made on the method's first
/// call.
pub(crate) struct Target {
    pub(crate) host: Box<str>,
    pub(crate) template: Box<str>,
    pub(crate) methods: [OnceLock<&'static ClientSeries>; METHODS.len()],
}

/// What the middleware counts for one host, URL template and method (relaxed atomics).
pub(crate) struct ClientSeries {
    pub(crate) callsite: &'static Callsite,
    /// Responses by status class (`labels::CLASSES`).
    pub(crate) by_class: [AtomicU64; 6],
    pub(crate) active: AtomicU64,
    pub(crate) request_bytes: AtomicU64,
    pub(crate) response_bytes: AtomicU64,
    /// Errors by kind ([`ERROR_KINDS`]).
    pub(crate) errors: [AtomicU64; ERROR_KINDS.len()],
    /// Connections opened for calls of this series (by [`super::CountConnections`]).
    pub(crate) opened: AtomicU64,
    /// Answered calls that opened no connection (with [`super::CountConnections`] only).
    pub(crate) reused: AtomicU64,
}

impl Target {
    fn new(host: &str, template: &str) -> Target {
        super::figures::register();
        Target { host: host.into(), template: template.into(), methods: Default::default() }
    }

    #[inline]
    fn series(&self, method: usize) -> &'static ClientSeries {
        self.methods[method].get_or_init(|| {
            let name = format!("http::client::{} {} {}", self.host, METHODS[method], self.template);
            Box::leak(Box::new(ClientSeries {
                callsite: callsite(name, Kind::Async, module_path!()),
                by_class: Default::default(),
                active: AtomicU64::new(0),
                request_bytes: AtomicU64::new(0),
                response_bytes: AtomicU64::new(0),
                errors: Default::default(),
                opened: AtomicU64::new(0),
                reused: AtomicU64::new(0),
            }))
        })
    }
}

/// The series of calls to `host` with the URL template `template` and `method`.
#[inline]
pub(crate) fn series(host: &str, template: &str, method: &http::Method) -> &'static ClientSeries {
    TARGETS.get(host, template, Target::new).series(method_index(method))
}

/// The call being made on this task, for the connector layer ([`super::CountConnections`]).
pub(crate) struct Call {
    pub(crate) series: &'static ClientSeries,
    /// A connection was opened for this call.
    pub(crate) opened: Cell<bool>,
}

tokio::task_local! {
    pub(crate) static CALL: Call;
}

/// A `reqwest-middleware` middleware measuring every call of the client: per host, URL
/// template ([`RequestBuilderExt::template`]), method and status class, calls
/// (`perfscope_http_client_requests_total`), calls in flight, body bytes sent and read,
/// errors by kind; each call is a frame `http::client::<host> <METHOD> <template>` on the
/// caller's stack. With [`counting_connections`](Self::counting_connections) and the
/// client's connector layer [`super::CountConnections`], connections opened and reused too
/// ([`super::client`] sets both up).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpClientMiddleware {
    connections: bool,
}

impl HttpClientMiddleware {
    /// The middleware (connections not counted).
    pub fn new() -> Self {
        HttpClientMiddleware::default()
    }

    /// Counts connections opened and reused: the client was built with
    /// `.connector_layer(CountConnections)` (without it, every answered call would read as
    /// reused).
    pub fn counting_connections(mut self) -> Self {
        self.connections = true;
        self
    }
}

/// The host label of `url`: `host[:port]`, never its user or password.
fn host(url: &reqwest::Url) -> Cow<'_, str> {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        None => Cow::Borrowed(host),
        Some(_) if url.username().is_empty() && url.password().is_none() => {
            Cow::Borrowed(url.authority())
        }
        Some(port) => Cow::Owned(format!("{host}:{port}")),
    }
}

fn request_bytes(request: &Request) -> u64 {
    if let Some(bytes) = request.body().and_then(reqwest::Body::as_bytes) {
        return bytes.len() as u64;
    }
    let length = request.headers().get(http::header::CONTENT_LENGTH);
    length.and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0)
}

fn error_kind(error: &reqwest_middleware::Error) -> usize {
    match error {
        reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => TIMEOUT,
        reqwest_middleware::Error::Reqwest(e) if e.is_connect() => CONNECT,
        reqwest_middleware::Error::Reqwest(e) if e.is_body() || e.is_decode() => BODY,
        reqwest_middleware::Error::Reqwest(_) => REQUEST,
        reqwest_middleware::Error::Middleware(_) => MIDDLEWARE,
    }
}

/// Counts the call in flight while it lives (the caller may drop the call's future).
struct Active(&'static ClientSeries);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Relaxed);
    }
}

/// The response, its body counted as the caller reads it.
fn counted(response: Response, series: &'static ClientSeries) -> Response {
    let url = response.url().clone();
    let response: http::Response<reqwest::Body> = response.into();
    let tally = Tally { bytes: &series.response_bytes, errors: &series.errors[BODY] };
    let (mut parts, body) = response.into_parts();
    let body = reqwest::Body::wrap(CountedBody::new(body, tally));
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    Response::from(http::Response::from_parts(parts, body))
}

#[async_trait::async_trait]
impl Middleware for HttpClientMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let template = extensions.get::<UrlTemplate>().map_or(UNTEMPLATED, |t| &*t.0);
        let series = series(&host(request.url()), template, request.method());
        let sent = request_bytes(&request);
        if sent > 0 {
            series.request_bytes.fetch_add(sent, Relaxed);
        }
        series.active.fetch_add(1, Relaxed);
        let active = Active(series);
        let call = Call { series, opened: Cell::new(false) };
        let (result, opened) = instrument(
            series.callsite,
            CALL.scope(call, async move {
                let result = next.run(request, extensions).await;
                (result, CALL.with(|call| call.opened.get()))
            }),
        )
        .await;
        drop(active);
        match result {
            Ok(response) => {
                series.by_class[class_index(response.status())].fetch_add(1, Relaxed);
                if self.connections && !opened {
                    series.reused.fetch_add(1, Relaxed);
                }
                Ok(counted(response, series))
            }
            Err(error) => {
                series.errors[error_kind(&error)].fetch_add(1, Relaxed);
                Err(error)
            }
        }
    }
}
