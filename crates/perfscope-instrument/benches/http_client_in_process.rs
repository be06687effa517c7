//! What [`HttpClientMiddleware`] adds to a call, without the network: a
//! `reqwest_middleware::ClientWithMiddleware` whose innermost middleware answers every call
//! with a canned response (a 200 with a 27-byte body, as the quote server's) and never
//! touches a socket. Each call is built, sent through the middleware chain and its body read
//! (`response.bytes()`), so every part of the middleware's path runs: the template extension,
//! the series lookup, the frame, the task-local of connection counting, the status and byte
//! counters and the counted body.
//!
//! The clients, alternated round by round in one process (the order rotates every round, so
//! none pays the run's warm-up or a noisy minute alone):
//!
//! - bare: `Canned` alone;
//! - perfscope: [`HttpClientMiddleware`] (counting connections, as [`client`] sets it up)
//!   in front of `Canned`, each call naming its URL template;
//! - a `metrics` peer: the middleware a user would write with the `metrics` crate (a counter
//!   by host, method and status and a latency histogram by host and method, recorded into
//!   `metrics-exporter-prometheus`'s recorder, installed by `axum-prometheus`);
//! - to tell the cost's parts apart: bare with each call naming its URL template (the
//!   request extension perfscope reads), and perfscope's middleware without connection
//!   counting (no task-local for the connector).
//!
//! Each round makes [`CALLS`] calls per client; the figure is the difference of the mean call
//! times of a round, per call, over [`ROUNDS`] rounds: median and 10th–90th percentiles.
//! `cargo bench -p perfscope-instrument --bench http_client_in_process`
//!
//! [`HttpClientMiddleware`]: perfscope_instrument::http::HttpClientMiddleware
//! [`client`]: perfscope_instrument::http::client

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use http::Extensions;
use perfscope_instrument::http::{HttpClientMiddleware, RequestBuilderExt};
use reqwest::{Request, Response};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};

#[path = "common/spread.rs"]
mod spread;
use spread::spread;

/// Calls per client per round.
const CALLS: usize = 250;
/// Rounds (each runs every client).
const ROUNDS: usize = 8_001;
/// The canned body: a quote, as the loopback benches' server answers.
const BODY: &str = "ACME 101.25 101.50 12000\r\n";
const URL: &str = "http://127.0.0.1:8080/quotes/ACME";

/// Answers every call with a 200 and [`BODY`]: the network's place, without the network.
struct Canned;

#[async_trait::async_trait]
impl Middleware for Canned {
    async fn handle(
        &self,
        _request: Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let response = http::Response::builder().status(200).body(BODY);
        Ok(Response::from(response.expect("a canned response")))
    }
}

/// The `metrics` peer: a counter by host, method and status, and a latency histogram.
struct MetricsMiddleware;

#[async_trait::async_trait]
impl Middleware for MetricsMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let host = request.url().host_str().unwrap_or("").to_string();
        let method = request.method().as_str().to_string();
        let start = Instant::now();
        let result = next.run(request, extensions).await;
        let status = match &result {
            Ok(response) => response.status().as_str().to_string(),
            Err(_) => "error".to_string(),
        };
        let labels = [("host", host.clone()), ("method", method.clone()), ("status", status)];
        metrics::counter!("http_client_requests_total", &labels).increment(1);
        let labels = [("host", host), ("method", method)];
        metrics::histogram!("http_client_request_duration_seconds", &labels)
            .record(start.elapsed().as_secs_f64());
        result
    }
}

/// Installs `metrics-exporter-prometheus`'s recorder (through `axum-prometheus`, on a
/// runtime of its own that runs its upkeep task for the rest of the run).
fn install_metrics_recorder() {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    let runtime = runtime.worker_threads(1).enable_all().build().expect("a runtime");
    let runtime: &'static tokio::runtime::Runtime = Box::leak(Box::new(runtime));
    let _entered = runtime.enter();
    let (_layer, handle) = axum_prometheus::PrometheusMetricLayer::pair();
    Box::leak(Box::new(handle));
}

fn with(middleware: Option<Arc<dyn Middleware>>) -> ClientWithMiddleware {
    let builder = ClientBuilder::new(reqwest::Client::new());
    let builder = match middleware {
        Some(m) => builder.with_arc(m),
        None => builder,
    };
    builder.with(Canned).build()
}

/// The mean time of [`CALLS`] calls, in ns.
fn calls(runtime: &tokio::runtime::Runtime, client: &ClientWithMiddleware, template: bool) -> f64 {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..CALLS {
            let call = client.get(URL);
            let call = if template { call.template("/quotes/{symbol}") } else { call };
            let response = call.send().await.expect("an answer");
            black_box(response.bytes().await.expect("a body"));
        }
        start.elapsed().as_nanos() as f64 / CALLS as f64
    })
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to read.
    install_metrics_recorder();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let runtime = runtime.expect("a runtime");
    let perfscope = HttpClientMiddleware::new().counting_connections();
    // (name, client, names a template)
    let clients = [
        ("bare", with(None), false),
        ("perfscope HttpClientMiddleware", with(Some(Arc::new(perfscope))), true),
        ("metrics counter + histogram", with(Some(Arc::new(MetricsMiddleware))), false),
        ("bare, each call naming its template", with(None), true),
        (
            "perfscope, connections not counted",
            with(Some(Arc::new(HttpClientMiddleware::new()))),
            true,
        ),
    ];
    for (_, client, template) in &clients {
        calls(&runtime, client, *template); // warm-up: series, allocator, recorder
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); clients.len()];
    for round in 0..ROUNDS {
        let mut round_times = vec![0.0; clients.len()];
        for k in 0..clients.len() {
            let at = (round + k) % clients.len();
            let (_, client, template) = &clients[at];
            round_times[at] = calls(&runtime, client, *template);
        }
        for (all, t) in times.iter_mut().zip(round_times) {
            all.push(t);
        }
    }
    let (bare, _, _) = spread(times[0].clone());
    println!(
        "in process, {ROUNDS} rounds of {CALLS} calls per client (order rotating): \
         bare (canned response) {bare:.0} ns per call (median)"
    );
    for (at, (name, _, _)) in clients.iter().enumerate().skip(1) {
        let added: Vec<f64> = times[at].iter().zip(&times[0]).map(|(m, b)| m - b).collect();
        let (delta, low, high) = spread(added);
        println!(
            "  {name}: {delta:+.0} ns per call (median; 10th–90th percentile {low:+.0} to {high:+.0} ns)"
        );
    }
}
