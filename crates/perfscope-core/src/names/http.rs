//! The HTTP figures (`perfscope-instrument`, features `http-server` and `http-client`): the
//! server's routes and the client's targets, named after OpenTelemetry's HTTP semantic
//! conventions (`http.server.*`, `http.client.*`) mapped to Prometheus under the `perfscope_`
//! prefix; the labels are the conventions' attributes with `_` for `.`: `http_route`,
//! `http_request_method`, `server_address`, `url_template`, `error_type`, and
//! `http_response_status_class` (`1xx` ... `5xx`: the class, not the code, bounds the series).
//!
//! Latency has no figure here: every request served and every call made is a frame
//! (`http::server::GET /quotes/{symbol}`, `http::client::<host> GET /quotes/{symbol}`), so
//! its distribution is the function histogram ([`FUNCTION_DURATION_SECONDS`], OTel's
//! `http.server.request.duration` and `http.client.request.duration`).
//!
//! [`FUNCTION_DURATION_SECONDS`]: super::FUNCTION_DURATION_SECONDS

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Requests answered, by route template, method and status class (`http_route`,
/// `http_request_method`, `http_response_status_class`); the count of OTel's
/// `http.server.request.duration`.
pub const HTTP_SERVER_REQUESTS_TOTAL: Name = Name {
    name: "perfscope_http_server_requests_total",
    help: "HTTP requests answered by the server, by route, method and status class.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Requests being handled now (until their response head), by route and method; OTel
/// `http.server.active_requests`.
pub const HTTP_SERVER_ACTIVE_REQUESTS: Name = Name {
    name: "perfscope_http_server_active_requests",
    help: "HTTP requests the server is handling now, by route and method.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::HTTP,
};
/// Request body bytes the handlers read, by route and method; the sum of OTel's
/// `http.server.request.body.size`.
pub const HTTP_SERVER_REQUEST_BODY_SIZE_BYTES_TOTAL: Name = Name {
    name: "perfscope_http_server_request_body_size_bytes_total",
    help: "Request body bytes read by the server's handlers, by route and method.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Response body bytes sent, by route and method (as the layer sees them: compressed when a
/// compression layer runs inside it); the sum of OTel's `http.server.response.body.size`.
pub const HTTP_SERVER_RESPONSE_BODY_SIZE_BYTES_TOTAL: Name = Name {
    name: "perfscope_http_server_response_body_size_bytes_total",
    help: "Response body bytes sent by the server, by route and method.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Requests that failed on the server's side, by route, method and `error_type`: `5xx` (a
/// response with a server error status), `panic` (the handler panicked), `body` (the response
/// body failed while streaming).
pub const HTTP_SERVER_ERRORS_TOTAL: Name = Name {
    name: "perfscope_http_server_errors_total",
    help: "HTTP requests that failed on the server, by route, method and error type.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Requests the client gave up on before the response was ready (the connection closed and
/// the server dropped the handler's future), by route and method.
pub const HTTP_SERVER_DROPPED_REQUESTS_TOTAL: Name = Name {
    name: "perfscope_http_server_dropped_requests_total",
    help: "HTTP requests dropped before their response was ready, by route and method.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Calls answered, by host, URL template, method and status class (`server_address`,
/// `url_template`, `http_request_method`, `http_response_status_class`); the count of OTel's
/// `http.client.request.duration` for calls with a response.
pub const HTTP_CLIENT_REQUESTS_TOTAL: Name = Name {
    name: "perfscope_http_client_requests_total",
    help: "HTTP calls answered, by host, URL template, method and status class.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Calls in flight now (until their response head), by host, URL template and method; OTel
/// `http.client.active_requests`.
pub const HTTP_CLIENT_ACTIVE_REQUESTS: Name = Name {
    name: "perfscope_http_client_active_requests",
    help: "HTTP calls in flight now, by host, URL template and method.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::HTTP,
};
/// Request body bytes sent, by host, URL template and method; the sum of OTel's
/// `http.client.request.body.size`.
pub const HTTP_CLIENT_REQUEST_BODY_SIZE_BYTES_TOTAL: Name = Name {
    name: "perfscope_http_client_request_body_size_bytes_total",
    help: "Request body bytes sent by the client, by host, URL template and method.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Response body bytes the caller read (decoded, when the client decompresses), by host, URL
/// template and method; the sum of OTel's `http.client.response.body.size`.
pub const HTTP_CLIENT_RESPONSE_BODY_SIZE_BYTES_TOTAL: Name = Name {
    name: "perfscope_http_client_response_body_size_bytes_total",
    help: "Response body bytes read by the client's callers, by host, URL template and method.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Calls that failed, by host, URL template, method and `error_type`: `connect`, `timeout`,
/// `request` (sending failed otherwise), `body` (reading the response body failed),
/// `middleware`, and `4xx` / `5xx` (answered with an error status, as OTel counts them).
pub const HTTP_CLIENT_ERRORS_TOTAL: Name = Name {
    name: "perfscope_http_client_errors_total",
    help: "HTTP calls that failed, by host, URL template, method and error type.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Connections the client opened for its calls, by host (`server_address`).
pub const HTTP_CLIENT_CONNECTIONS_OPENED_TOTAL: Name = Name {
    name: "perfscope_http_client_connections_opened_total",
    help: "Connections the HTTP client opened, by host.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Calls sent on a connection that was already open (kept alive in the client's pool), by
/// host.
pub const HTTP_CLIENT_CONNECTIONS_REUSED_TOTAL: Name = Name {
    name: "perfscope_http_client_connections_reused_total",
    help: "HTTP calls sent on a connection already open (reused from the pool), by host.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Batches a request batcher flushed, by batcher and cause (`batcher`,
/// `cause="full"|"deadline"|"closed"`).
pub const HTTP_CLIENT_BATCHES_TOTAL: Name = Name {
    name: "perfscope_http_client_batches_total",
    help: "Request batches flushed, by batcher and cause.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Requests sent in batches, by batcher (divided by the batches: the mean batch size).
pub const HTTP_CLIENT_BATCH_ITEMS_TOTAL: Name = Name {
    name: "perfscope_http_client_batch_items_total",
    help: "Requests sent in batches, by batcher.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::HTTP,
};
/// Requests per flushed batch, by batcher (`batcher`): a histogram of sizes (a count, not a
/// duration), whose `_sum` is the requests batched and `_count` the batches flushed.
pub const HTTP_CLIENT_BATCH_SIZE: Name = Name {
    name: "perfscope_http_client_batch_size",
    help: "Requests per flushed batch, by batcher.",
    unit: FigureUnit::Count,
    kind: MetricType::Histogram,
    section: section::HTTP,
};
