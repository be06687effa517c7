//! HTTP, measured: servers (feature `http-server`: [`HttpServerLayer`], a tower layer for
//! axum routers, or any tower service whose request bodies are a [`RequestBody`]) and clients
//! (feature `http-client`: [`HttpClientMiddleware`] for `reqwest-middleware`,
//! [`HttpClientLayer`] for tower clients such as hyper-util's, [`CountConnections`] for their
//! connectors).
//!
//! **Frames.** Each request served is a frame on the task that handles it,
//! `http::server::GET /quotes/{symbol}`: the handler's `#[measure]` functions, pool acquires,
//! cache calls and queries nest under it in the call tree and the flame graph. Each call made
//! is a frame on the caller's stack, `http::client::127.0.0.1:8080 GET /quotes/{symbol}`: the
//! caller's self time excludes the wait. Their latency is the frames' (calls, wall time,
//! quantiles; `perfscope_function_duration_seconds` in Prometheus), from the first poll to the
//! response head; a request dropped before its response counts as cancelled.
//!
//! **Figures** (section `http`, names after OpenTelemetry's HTTP semantic conventions under
//! the `perfscope_` prefix, labels after its attributes): per route template, method and
//! status class, `perfscope_http_server_requests_total`, `..._active_requests`,
//! `..._request_body_size_bytes_total`, `..._response_body_size_bytes_total`,
//! `..._errors_total` (`error_type="5xx"|"panic"|"request_body"|"response_body"|"service"`) and
//! `..._dropped_requests_total` (the client went away before the response was ready); per
//! host, URL template, method and status class, `perfscope_http_client_requests_total`,
//! `..._active_requests`, the body bytes, `..._errors_total`
//! (`error_type="connect"|"timeout"|"request"|"body"|"middleware"|"4xx"|"5xx"`); per host,
//! `perfscope_http_client_connections_opened_total` and `..._connections_reused_total`.
//! Counters are relaxed atomics, read at snapshot time. A [`Batcher`] sends many small
//! requests as one, counts its batches by flush cause (`full` or `deadline`) and keeps the
//! distribution of their sizes (`perfscope_http_client_batch_size`, a histogram of counts).
//!
//! **Labels are bounded**: routes are templates (axum's `MatchedPath`, or the layer's
//! template function; [`UNMATCHED`] otherwise), client URLs are the caller's templates
//! ([`UNTEMPLATED`] otherwise); at most [`MAX_ROUTES`] route templates and [`MAX_TARGETS`]
//! host and template pairs get series of their own, later ones share `<other>`.
//!
//! ```
//! # #[cfg(all(feature = "http-server", feature = "http-client"))] {
//! use axum::{Router, routing::get};
//! use perfscope_instrument::http::{HttpServerLayer, RequestBuilderExt};
//!
//! let app: Router = Router::new()
//!     .route("/quotes/{symbol}", get(|| async { "42.0" }))
//!     .layer(HttpServerLayer::new());
//! let client = perfscope_instrument::http::client(reqwest::Client::builder()).unwrap();
//! let call = client.get("http://127.0.0.1:1/quotes/ACME").template("/quotes/{symbol}");
//! # let _ = (app, call);
//! # }
//! ```

// Without one of the features, its items' names in the text above link to this module.
#![cfg_attr(
    not(feature = "http-client"),
    doc = "[`HttpClientMiddleware`]: self\n[`HttpClientLayer`]: self\n\
           [`CountConnections`]: self\n[`Batcher`]: self\n[`UNTEMPLATED`]: self\n\
           [`MAX_TARGETS`]: self"
)]
#![cfg_attr(
    not(feature = "http-server"),
    doc = "[`HttpServerLayer`]: self\n[`RequestBody`]: self\n[`UNMATCHED`]: self\n\
           [`MAX_ROUTES`]: self"
)]

#[cfg(feature = "http-client")]
mod batch;
mod body;
#[cfg(feature = "http-client")]
mod client;
#[cfg(feature = "http-client")]
mod client_layer;
#[cfg(feature = "http-client")]
mod connections;
mod figures;
mod labels;
#[cfg(feature = "http-server")]
mod server;
mod table;

#[cfg(feature = "http-client")]
pub use batch::{Batcher, MAX_BATCHERS, MIN_BATCHES_FOR_ADVICE, NoAnswer};
pub use body::CountedBody;
#[cfg(feature = "http-client")]
pub use client::{HttpClientMiddleware, MAX_TARGETS, RequestBuilderExt, UNTEMPLATED, UrlTemplate};
#[cfg(feature = "http-client")]
pub use client_layer::{CallFuture, HttpClientLayer, HttpClientService};
#[cfg(feature = "http-client")]
pub use connections::{Connecting, CountConnections, CountedConnector};
#[cfg(feature = "http-server")]
pub use server::{
    HttpServerLayer, HttpServerService, MAX_ROUTES, RequestBody, ResponseFuture, RouteTemplate,
    UNMATCHED,
};

/// A reqwest client measured by perfscope: `builder` with [`CountConnections`] as its
/// connector layer, behind [`HttpClientMiddleware`] counting connections.
#[cfg(feature = "http-client")]
pub fn client(
    builder: reqwest::ClientBuilder,
) -> reqwest::Result<reqwest_middleware::ClientWithMiddleware> {
    let client = builder.connector_layer(CountConnections).build()?;
    let middleware = HttpClientMiddleware::new().counting_connections();
    Ok(reqwest_middleware::ClientBuilder::new(client).with(middleware).build())
}
