//! The "HTTP" row, over the figures of `perfscope-instrument`'s HTTP server layer and client
//! middleware: requests, latency (the request frames' histogram), in flight, errors, dropped
//! requests, bytes, connections opened vs reused, batches by flush cause.

use perfscope_core::names::*;
use serde_json::Value;

use super::panel::{PanelSpec, per_instance, rate_per_instance as rate, row, target};

/// The server's routes and the client's targets.
pub(super) fn http(y: u32, id: u32) -> Value {
    let frames = |prefix: &str| {
        let bucket = format!(
            r#"{}_bucket{{job=~"$job", instance=~"$instance", function=~"$function", function=~"{prefix}.*"}}"#,
            FUNCTION_DURATION_SECONDS.name
        );
        format!(
            "histogram_quantile(0.99, sum by (le, function) (rate({bucket}[$__rate_interval])))"
        )
    };
    let panels: Vec<PanelSpec> = vec![
        (
            "Requests served per second",
            format!("Requests answered by route template and status class ({}).", HTTP_SERVER_REQUESTS_TOTAL.name),
            "reqps",
            vec![target(
                "A",
                format!(
                    "sum by (http_route, http_response_status_class) ({})",
                    rate(&HTTP_SERVER_REQUESTS_TOTAL)
                ),
                "{{http_route}} {{http_response_status_class}}",
            )],
        ),
        (
            "Request p99 latency (server and client)",
            format!(
                "99th percentile of each route's request frames (http::server::...) and each client call's (http::client::...), from {} summed over the selected instances.",
                FUNCTION_DURATION_SECONDS.name
            ),
            "s",
            vec![
                target("A", frames("http::server::"), "{{function}}"),
                target("B", frames("http::client::"), "{{function}}"),
            ],
        ),
        (
            "In flight",
            "Requests being served and calls being made now.".into(),
            "short",
            vec![
                target(
                    "A",
                    format!("sum by (http_route) ({})", per_instance(&HTTP_SERVER_ACTIVE_REQUESTS)),
                    "served {{http_route}}",
                ),
                target(
                    "B",
                    format!("sum by (server_address) ({})", per_instance(&HTTP_CLIENT_ACTIVE_REQUESTS)),
                    "calling {{server_address}}",
                ),
            ],
        ),
        (
            "Errors and dropped requests per second",
            "Server errors by kind, requests the client dropped before the response, client errors by kind (connect, timeout, body, 4xx, 5xx, ...).".into(),
            "reqps",
            vec![
                target(
                    "A",
                    format!("sum by (error_type) ({})", rate(&HTTP_SERVER_ERRORS_TOTAL)),
                    "server {{error_type}}",
                ),
                target(
                    "B",
                    format!("sum ({})", rate(&HTTP_SERVER_DROPPED_REQUESTS_TOTAL)),
                    "server dropped",
                ),
                target(
                    "C",
                    format!("sum by (error_type) ({})", rate(&HTTP_CLIENT_ERRORS_TOTAL)),
                    "client {{error_type}}",
                ),
            ],
        ),
        (
            "Body bytes per second",
            "Request and response body bytes: the server's responses as sent (compressed when a compression layer is inside it), the client's as decoded.".into(),
            "Bps",
            vec![
                target("A", format!("sum ({})", rate(&HTTP_SERVER_RESPONSE_BODY_SIZE_BYTES_TOTAL)), "server responses"),
                target("B", format!("sum ({})", rate(&HTTP_SERVER_REQUEST_BODY_SIZE_BYTES_TOTAL)), "server requests"),
                target("C", format!("sum ({})", rate(&HTTP_CLIENT_RESPONSE_BODY_SIZE_BYTES_TOTAL)), "client responses"),
                target("D", format!("sum ({})", rate(&HTTP_CLIENT_REQUEST_BODY_SIZE_BYTES_TOTAL)), "client requests"),
            ],
        ),
        (
            "Client connections and batches per second",
            "Connections the client opened vs reused (connection pooling at work), and batches sent by flush cause (full or deadline).".into(),
            "ops",
            vec![
                target("A", format!("sum ({})", rate(&HTTP_CLIENT_CONNECTIONS_OPENED_TOTAL)), "opened"),
                target("B", format!("sum ({})", rate(&HTTP_CLIENT_CONNECTIONS_REUSED_TOTAL)), "reused"),
                target(
                    "C",
                    format!("sum by (cause) ({})", rate(&HTTP_CLIENT_BATCHES_TOTAL)),
                    "batches {{cause}}",
                ),
            ],
        ),
    ];
    row("HTTP", panels, y, id)
}
