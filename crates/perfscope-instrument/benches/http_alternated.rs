//! The loopback figures of `benches/http.rs`, with the variants alternated round by round in
//! one process, so that neither pays the run's warm-up or a noisy minute alone:
//!
//! - server throughput: a bare axum server and the same one behind [`HttpServerLayer`], each
//!   loaded in turn by [`CONNECTIONS`] keep-alive reqwest connections for a batch of [`BATCH`]
//!   requests (the order flips every round); the ratio of the two batches' times per round;
//! - client: [`CALLS`] calls from bare reqwest and [`CALLS`] from perfscope's [`client`] to one
//!   bare server, in turn (the order flips every round); the difference of their mean call
//!   times per round.
//!
//! It prints the median over [`ROUNDS`] rounds and the 10th–90th percentiles.
//! `cargo bench -p perfscope-instrument --bench http_alternated`

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use perfscope_instrument::http::{HttpServerLayer, RequestBuilderExt, client};

#[path = "common/spread.rs"]
mod spread;
use spread::spread;

/// Keep-alive connections of the loopback load.
const CONNECTIONS: usize = 16;
/// Requests per batch of the load.
const BATCH: usize = 1_600;
/// Calls per client per round.
const CALLS: usize = 200;
/// Rounds (each runs both variants).
const ROUNDS: usize = 41;

async fn quote(Path(symbol): Path<String>) -> String {
    format!("{symbol} 101.25 101.50 12000")
}

fn bare() -> Router {
    Router::new().route("/quotes/{symbol}", get(quote))
}

fn serve(runtime: &tokio::runtime::Runtime, app: Router) -> SocketAddr {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serving") });
        address
    })
}

fn batch(load: &tokio::runtime::Runtime, client: &reqwest::Client, url: &str) -> Duration {
    load.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                let (client, url) = (client.clone(), url.to_string());
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
        start.elapsed()
    })
}

fn throughput() {
    let servers = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let servers = servers.expect("the servers' runtime");
    let load = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let load = load.expect("the load's runtime");
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build();
    let client = client.expect("a client");
    let bare_url = format!("http://{}/quotes/ACME", serve(&servers, bare()));
    let layer = bare().layer(HttpServerLayer::new());
    let measured_url = format!("http://{}/quotes/ACME", serve(&servers, layer));
    for url in [&bare_url, &measured_url] {
        batch(&load, &client, url); // warm-up: connections, allocator, runtime threads
    }
    let (mut ratios, mut bare_rates) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (b, m) = if round % 2 == 0 {
            let b = batch(&load, &client, &bare_url);
            (b, batch(&load, &client, &measured_url))
        } else {
            let m = batch(&load, &client, &measured_url);
            (batch(&load, &client, &bare_url), m)
        };
        ratios.push(m.as_secs_f64() / b.as_secs_f64());
        bare_rates.push(BATCH as f64 / b.as_secs_f64());
    }
    let (ratio, low, high) = spread(ratios);
    let (rate, _, _) = spread(bare_rates);
    println!(
        "server on loopback, {ROUNDS} alternated rounds of {BATCH} requests: bare axum {:.1} k requests/s (median); \
         with HttpServerLayer the batch takes {:.2}% longer (median; 10th–90th percentile {:+.2}% to {:+.2}%)",
        rate / 1e3,
        (ratio - 1.0) * 100.0,
        (low - 1.0) * 100.0,
        (high - 1.0) * 100.0
    );
}

fn calls() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let runtime = runtime.expect("a runtime");
    let url = format!("http://{}/quotes/ACME", serve(&runtime, bare()));
    let plain = reqwest::Client::new();
    let measured = client(reqwest::Client::builder()).expect("a client");
    let plain_calls = || {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..CALLS {
                let response = plain.get(&url).send().await.expect("an answer");
                black_box(response.bytes().await.expect("a body"));
            }
            start.elapsed().as_secs_f64() / CALLS as f64
        })
    };
    let measured_calls = || {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..CALLS {
                let call = measured.get(&url).template("/quotes/{symbol}");
                let response = call.send().await.expect("an answer");
                black_box(response.bytes().await.expect("a body"));
            }
            start.elapsed().as_secs_f64() / CALLS as f64
        })
    };
    plain_calls();
    measured_calls();
    let (mut added, mut bare_means) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (p, m) = if round % 2 == 0 {
            let p = plain_calls();
            (p, measured_calls())
        } else {
            let m = measured_calls();
            (plain_calls(), m)
        };
        added.push((m - p) * 1e6);
        bare_means.push(p * 1e6);
    }
    let (delta, low, high) = spread(added);
    let (mean, _, _) = spread(bare_means);
    println!(
        "client on loopback, {ROUNDS} alternated rounds of {CALLS} calls: bare reqwest {mean:.1} µs per call (median); \
         perfscope's client adds {delta:+.2} µs (median; 10th–90th percentile {low:+.2} to {high:+.2} µs)"
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to read.
    throughput();
    calls();
}
