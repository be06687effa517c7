//! The server layer on a real axum server, called by a real reqwest client on loopback:
//! exact counts per route, method and status class; body bytes exact against what was sent;
//! latency between the handler's own timing and the client's round trip; a `#[measure]`
//! function under the route's frame; 10,000 paths of one route are one series; a request the
//! client gives up on counts as dropped; a handler that panics counts as a panic.

mod support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use perfscope_core::figures::Figure;
use perfscope_instrument::http::HttpServerLayer;
use support::figure;
use support::http::{eventually, serve};
use tokio::io::AsyncWriteExt;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn figures() -> Vec<Figure> {
    perfscope_core::snapshot().figures
}

fn server(name: &str, route: &str, method: &str, extra: &[(&str, &str)]) -> Option<f64> {
    let mut labels = vec![("http_route", route), ("http_request_method", method)];
    labels.extend_from_slice(extra);
    figure(&figures(), name, &labels)
}

async fn quote(Path(symbol): Path<String>) -> Result<String, StatusCode> {
    match symbol.as_str() {
        "NONE" => Err(StatusCode::NOT_FOUND),
        _ => Ok(format!("{symbol} 42.00")),
    }
}

#[test]
fn exact_counts_per_route_method_and_status_and_exact_body_bytes() {
    runtime().block_on(async {
        let app = Router::new()
            .route("/counts/quotes/{symbol}", get(quote))
            .route("/counts/orders", post(|body: String| async move { body.repeat(2) }))
            .route("/counts/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
            .layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let client = reqwest::Client::new();
        let (mut sent, mut received) = (0, 0);
        for symbol in ["ACME", "INIT", "ACME", "ZETA", "BETA", "GAMMA", "ACME"] {
            let response = client.get(format!("{base}/counts/quotes/{symbol}")).send().await;
            let body = response.unwrap().bytes().await.unwrap();
            assert_eq!(body.len(), symbol.len() + 6);
        }
        for _ in 0..3 {
            let response = client.get(format!("{base}/counts/quotes/NONE")).send().await;
            assert_eq!(response.unwrap().status(), StatusCode::NOT_FOUND);
        }
        for size in [1000, 234] {
            let body = "x".repeat(size);
            sent += body.len();
            let response = client.post(format!("{base}/counts/orders")).body(body).send().await;
            received += response.unwrap().bytes().await.unwrap().len();
        }
        for _ in 0..4 {
            let response = client.get(format!("{base}/counts/down")).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        }
        assert_eq!(received, 2 * sent);

        let requests = "perfscope_http_server_requests_total";
        let class = |c| [("http_response_status_class", c)];
        let quotes = "/counts/quotes/{symbol}";
        assert_eq!(server(requests, quotes, "GET", &class("2xx")), Some(7.0));
        assert_eq!(server(requests, quotes, "GET", &class("4xx")), Some(3.0));
        assert_eq!(server(requests, "/counts/orders", "POST", &class("2xx")), Some(2.0));
        assert_eq!(server(requests, "/counts/down", "GET", &class("5xx")), Some(4.0));
        assert_eq!(server(requests, "/counts/down", "GET", &class("2xx")), None, "never seen");
        let errors = "perfscope_http_server_errors_total";
        let kind = |k| [("error_type", k)];
        assert_eq!(server(errors, "/counts/down", "GET", &kind("5xx")), Some(4.0));
        assert_eq!(server(errors, quotes, "GET", &kind("5xx")), Some(0.0));
        let orders = |name| server(name, "/counts/orders", "POST", &[]);
        let request_bytes = orders("perfscope_http_server_request_body_size_bytes_total");
        assert_eq!(request_bytes, Some(sent as f64));
        let response_bytes = orders("perfscope_http_server_response_body_size_bytes_total");
        assert_eq!(response_bytes, Some(received as f64));
        let quote_bytes =
            server("perfscope_http_server_response_body_size_bytes_total", quotes, "GET", &[]);
        assert_eq!(quote_bytes, Some((4 + 4 + 4 + 4 + 4 + 5 + 4 + 7 * 6) as f64));
        assert_eq!(server("perfscope_http_server_active_requests", quotes, "GET", &[]), Some(0.0));
        // Each request is a frame named after its route template.
        let report = perfscope::report();
        let frame = report.function("http::server::GET /counts/quotes/{symbol}").unwrap();
        assert_eq!(frame.calls, 10);
        assert_eq!(report.function("http::server::POST /counts/orders").unwrap().calls, 2);
        // The report's typed view of the route (its "network" section's row).
        let routes = report.http_routes();
        let quotes_row = routes.iter().find(|r| r.route == quotes).unwrap();
        assert_eq!(quotes_row.requests(), 10);
        assert_eq!(quotes_row.requests_by_class.get("4xx"), Some(&3));
        assert_eq!(quotes_row.p99_ns, Some(frame.p99_ns));
        let orders_row = routes.iter().find(|r| r.route == "/counts/orders").unwrap();
        assert_eq!(
            (orders_row.request_bytes, orders_row.response_bytes),
            (sent as u64, received as u64)
        );
        let down_row = routes.iter().find(|r| r.route == "/counts/down").unwrap();
        assert_eq!(down_row.errors_by_type.get("5xx"), Some(&4));
        // The table's and the page's network sections show the routes.
        let table = report.table(50).to_string();
        let after = table.split("HTTP served").nth(1).expect("the network section");
        let line = after.lines().find(|l| l.contains("/counts/down")).expect("a row");
        let cells: Vec<&str> = line.split(['│', '┆']).map(str::trim).collect();
        assert_eq!(cells[1..3], ["/counts/down", "4"], "{line}");
        assert_eq!(cells[6], "4", "4 errors: {line}");
        let html = report.to_html();
        assert!(html.contains("id=\"ps-network\"") && html.contains("/counts/orders"));
    });
}

const HANDLER_WORK: Duration = Duration::from_millis(20);

#[perfscope::measure]
async fn price_book(symbol: &str) -> String {
    tokio::time::sleep(HANDLER_WORK).await;
    format!("{symbol} book")
}

#[test]
fn handler_functions_nest_under_the_route_and_latency_is_inside_the_round_trip() {
    runtime().block_on(async {
        let app = Router::new()
            .route(
                "/nest/books/{symbol}",
                get(|Path(s): Path<String>| async move { price_book(&s).await }),
            )
            .layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let client = reqwest::Client::new();
        let mut round_trips = Duration::ZERO;
        for _ in 0..5 {
            let start = Instant::now();
            let body = client.get(format!("{base}/nest/books/ACME")).send().await.unwrap();
            assert_eq!(body.text().await.unwrap(), "ACME book");
            round_trips += start.elapsed();
        }
        let report = perfscope::report();
        let route = report.function("http::server::GET /nest/books/{symbol}").unwrap();
        let handler = report.function_by_suffix("::price_book").unwrap();
        assert_eq!((route.calls, handler.calls), (5, 5));
        let edge = route.children.iter().find(|e| e.name == handler.name);
        assert_eq!(edge.map(|e| e.calls), Some(5), "the handler's function under the route");
        // The handler's own timing <= the route's frame <= the client's round trips.
        assert!(handler.total_ns >= 5 * HANDLER_WORK.as_nanos() as u64);
        assert!(route.total_ns >= handler.total_ns, "{} < {}", route.total_ns, handler.total_ns);
        assert!(
            route.total_ns <= round_trips.as_nanos() as u64,
            "{} > {round_trips:?}",
            route.total_ns
        );
        // The wait is the handler's, not the route's own time.
        assert!(route.self_ns < handler.total_ns / 10, "route self {} ns", route.self_ns);
    });
}

#[test]
fn ten_thousand_paths_of_one_route_are_one_series() {
    runtime().block_on(async {
        let app = Router::new()
            .route("/many/items/{id}", get(|Path(id): Path<u32>| async move { id.to_string() }))
            .layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let client = reqwest::Client::new();
        let tasks: Vec<_> = (0..8_u32)
            .map(|task| {
                let (client, base) = (client.clone(), base.clone());
                tokio::spawn(async move {
                    for id in (task..10_000).step_by(8) {
                        let response = client.get(format!("{base}/many/items/{id}")).send().await;
                        assert!(response.unwrap().status().is_success());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let figures = figures();
        let routes: std::collections::BTreeSet<&str> = figures
            .iter()
            .filter(|f| f.name == "perfscope_http_server_requests_total")
            .flat_map(|f| f.labels.iter().filter(|(k, _)| k == "http_route"))
            .map(|(_, v)| v.as_str())
            .filter(|route| route.starts_with("/many/"))
            .collect();
        assert_eq!(routes.into_iter().collect::<Vec<_>>(), ["/many/items/{id}"]);
        let requests = figure(
            &figures,
            "perfscope_http_server_requests_total",
            &[("http_route", "/many/items/{id}"), ("http_response_status_class", "2xx")],
        );
        assert_eq!(requests, Some(10_000.0));
    });
}

#[test]
fn a_request_the_client_gives_up_on_counts_as_dropped() {
    runtime().block_on(async {
        let app = Router::new()
            .route(
                "/gone/slow",
                get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }),
            )
            .layer(HttpServerLayer::new());
        let address = serve(app).await;
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET /gone/slow HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
        let active = || server("perfscope_http_server_active_requests", "/gone/slow", "GET", &[]);
        eventually("the request is in flight", || active() == Some(1.0)).await;
        drop(stream);
        let dropped =
            || server("perfscope_http_server_dropped_requests_total", "/gone/slow", "GET", &[]);
        eventually("the request is dropped", || dropped() == Some(1.0)).await;
        assert_eq!(active(), Some(0.0));
        let requests = figures()
            .iter()
            .filter(|f| {
                f.name == "perfscope_http_server_requests_total"
                    && f.labels.iter().any(|(k, v)| k == "http_route" && v == "/gone/slow")
            })
            .count();
        assert_eq!(requests, 0, "never answered");
        let frame = perfscope::report();
        let frame = frame.function("http::server::GET /gone/slow").unwrap();
        assert_eq!((frame.calls, frame.cancelled), (0, 1), "cancelled, not a call");
    });
}

#[test]
fn a_handler_that_panics_counts_as_a_panic() {
    runtime().block_on(async {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("the handler fails")
                    }
                }),
            )
            .layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let response = reqwest::Client::new().get(format!("{base}/boom")).send().await;
        assert!(response.is_err(), "the connection closes without a response");
        let panics = || {
            server("perfscope_http_server_errors_total", "/boom", "GET", &[("error_type", "panic")])
        };
        eventually("the panic is counted", || panics() == Some(1.0)).await;
        let dropped = server("perfscope_http_server_dropped_requests_total", "/boom", "GET", &[]);
        assert_eq!(dropped, Some(0.0));
        let report = perfscope::report();
        assert_eq!(report.function("http::server::GET /boom").unwrap().panics, 1);
    });
}

#[test]
fn requests_no_route_matched_count_under_unmatched_never_their_paths() {
    runtime().block_on(async {
        let app = Router::new()
            .route("/matched/here", get(|| async { "here" }))
            .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
            .layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let client = reqwest::Client::new();
        for path in ["/nowhere", "/elsewhere/1", "/elsewhere/2"] {
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
        }
        let unmatched = server(
            "perfscope_http_server_requests_total",
            perfscope_instrument::http::UNMATCHED,
            "GET",
            &[("http_response_status_class", "4xx")],
        );
        assert_eq!(unmatched, Some(3.0));
        let raw = figures()
            .into_iter()
            .any(|f| f.labels.iter().any(|(k, v)| k == "http_route" && v.contains("where")));
        assert!(!raw, "no raw path is a label");
    });
}

#[test]
fn a_response_body_that_fails_midway_counts_as_a_body_error() {
    runtime().block_on(async {
        let failing = || async {
            let chunks: Vec<Result<&'static str, std::io::Error>> =
                vec![Ok("first chunk, "), Err(std::io::Error::other("the source failed"))];
            axum::body::Body::from_stream(futures::stream::iter(chunks))
        };
        let app = Router::new().route("/broken/stream", get(failing)).layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let response = reqwest::Client::new().get(format!("{base}/broken/stream")).send().await;
        // hyper may not have flushed the head before the body failed: the call fails either way.
        let broke = match response {
            Ok(response) => response.bytes().await.is_err(),
            Err(_) => true,
        };
        assert!(broke, "the body breaks off");
        let errors = || {
            let kind = [("error_type", "response_body")];
            server("perfscope_http_server_errors_total", "/broken/stream", "GET", &kind)
        };
        eventually("the body error is counted", || errors() == Some(1.0)).await;
        let sent = || {
            server(
                "perfscope_http_server_response_body_size_bytes_total",
                "/broken/stream",
                "GET",
                &[],
            )
        };
        eventually("the bytes passed before it are counted", || sent() == Some(13.0)).await;
        let requests = server(
            "perfscope_http_server_requests_total",
            "/broken/stream",
            "GET",
            &[("http_response_status_class", "2xx")],
        );
        assert_eq!(requests, Some(1.0), "answered (the head went out) before the body broke");
    });
}
