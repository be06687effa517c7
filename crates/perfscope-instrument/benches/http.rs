//! What measuring HTTP costs, beside the bare stack in the same run:
//!
//! - `http_server_in_process`: one request through an axum router (`oneshot`, no network:
//!   routing, the handler, the response body read), bare, with perfscope's
//!   [`HttpServerLayer`], with `axum-prometheus`, and with tower-http's `TraceLayer` recording
//!   a `metrics` counter (by status) and latency histogram on each response (no tracing
//!   subscriber: its spans are off, the peer's cheapest form);
//! - `http_server_loopback`: the same four servers on loopback, each under a load of
//!   [`CONNECTIONS`] keep-alive connections from a reqwest load generator in the process: the
//!   time of a batch of [`BATCH`] requests (criterion's throughput is requests per second);
//! - `http_client_loopback`: one call over a keep-alive connection to a bare axum server on
//!   loopback, from bare reqwest, from `reqwest-middleware` with no middleware, and from
//!   perfscope's [`client`] (its middleware and connection counting).
//!
//! `cargo bench -p perfscope-instrument --bench http`

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::BodyExt;
use perfscope_instrument::http::{HttpServerLayer, RequestBuilderExt, client};
use tower::ServiceExt;

/// Keep-alive connections of the loopback load.
const CONNECTIONS: usize = 16;
/// Requests per measured batch of the loopback load.
const BATCH: usize = 1_600;

async fn quote(Path(symbol): Path<String>) -> String {
    format!("{symbol} 101.25 101.50 12000")
}

fn bare() -> Router {
    Router::new().route("/quotes/{symbol}", get(quote))
}

/// axum-prometheus's layer: made once (it installs the process's `metrics` recorder), on a
/// runtime of its own that runs its upkeep task for the rest of the run.
static PROMETHEUS: LazyLock<axum_prometheus::PrometheusMetricLayer<'static>> =
    LazyLock::new(|| {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        let runtime = runtime.worker_threads(1).enable_all().build().expect("a runtime");
        let runtime: &'static tokio::runtime::Runtime = Box::leak(Box::new(runtime));
        let _entered = runtime.enter();
        let (layer, handle) = axum_prometheus::PrometheusMetricLayer::pair();
        // The handle renders the exposition; kept for the run, as a server would keep it.
        Box::leak(Box::new(handle));
        layer
    });

/// The four servers of the comparison, by name.
fn apps() -> Vec<(&'static str, Router)> {
    let prometheus = PROMETHEUS.clone();
    let trace = tower_http::trace::TraceLayer::new_for_http().on_response(
        |response: &http::Response<Body>, latency: Duration, _: &tracing::Span| {
            let class = match response.status().as_u16() / 100 {
                2 => "2xx",
                4 => "4xx",
                5 => "5xx",
                _ => "other",
            };
            metrics::counter!("http_requests_total", "status" => class).increment(1);
            metrics::histogram!("http_request_duration_seconds").record(latency.as_secs_f64());
        },
    );
    vec![
        ("bare axum", bare()),
        ("perfscope HttpServerLayer", bare().layer(HttpServerLayer::new())),
        ("axum-prometheus", bare().layer(prometheus)),
        ("tower-http TraceLayer + metrics", bare().layer(trace)),
    ]
}

fn request() -> http::Request<Body> {
    http::Request::get("/quotes/ACME").body(Body::empty()).expect("a request")
}

fn server_in_process(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let mut group = c.benchmark_group("http_server_in_process");
    for (name, app) in apps() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let response = app.clone().oneshot(request()).await.expect("served");
                        let body = response.into_body().collect().await.expect("a body");
                        black_box(body.to_bytes());
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

/// Serves `app` on loopback on `runtime`.
fn serve(runtime: &tokio::runtime::Runtime, app: Router) -> SocketAddr {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });
        address
    })
}

fn server_loopback(c: &mut Criterion) {
    let servers = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let servers = servers.expect("the servers' runtime");
    let load = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let load = load.expect("the load's runtime");
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build();
    let client = client.expect("a client");
    let mut group = c.benchmark_group("http_server_loopback");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for (name, app) in apps() {
        let url = format!("http://{}/quotes/ACME", serve(&servers, app));
        group.bench_function(name, |b| {
            b.iter(|| {
                load.block_on(async {
                    let tasks: Vec<_> = (0..CONNECTIONS)
                        .map(|_| {
                            let (client, url) = (client.clone(), url.clone());
                            tokio::spawn(async move {
                                for _ in 0..BATCH / CONNECTIONS {
                                    let response = client.get(&url).send().await.expect("served");
                                    black_box(response.bytes().await.expect("a body"));
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("the load task");
                    }
                })
            })
        });
    }
    group.finish();
}

fn client_loopback(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let runtime = runtime.expect("a runtime");
    let url = format!("http://{}/quotes/ACME", serve(&runtime, bare()));
    let plain = reqwest::Client::new();
    let middleware = reqwest_middleware::ClientBuilder::new(reqwest::Client::new()).build();
    let measured = client(reqwest::Client::builder()).expect("a client");
    let mut group = c.benchmark_group("http_client_loopback");
    group.bench_function("reqwest", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = plain.get(&url).send().await.expect("an answer");
                black_box(response.bytes().await.expect("a body"))
            })
        })
    });
    group.bench_function("reqwest-middleware, no middleware", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = middleware.get(&url).send().await.expect("an answer");
                black_box(response.bytes().await.expect("a body"))
            })
        })
    });
    group.bench_function("perfscope client (middleware + connections)", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let call = measured.get(&url).template("/quotes/{symbol}");
                let response = call.send().await.expect("an answer");
                black_box(response.bytes().await.expect("a body"))
            })
        })
    });
    group.finish();
}

criterion_group!(benches, server_in_process, server_loopback, client_loopback);
criterion_main!(benches);
