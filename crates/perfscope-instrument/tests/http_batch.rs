//! Request batching over a real HTTP call: quotes for many symbols in one request to an axum
//! server on loopback. Batches flush full or at their deadline, every caller gets its own
//! answer, the figures count batches by cause and the requests batched, and when most batches
//! wait for their deadline the snapshot carries a recommendation saying so.

mod support;

use std::time::Duration;

use axum::Router;
use axum::extract::RawQuery;
use axum::routing::get;
use perfscope_instrument::http::{
    Batcher, HttpServerLayer, MIN_BATCHES_FOR_ADVICE, RequestBuilderExt,
};
use reqwest_middleware::ClientWithMiddleware;
use support::figure;
use support::http::serve;

/// One line per symbol asked (`?symbols=A,B`): `SYMBOL PRICE`.
async fn quotes(RawQuery(query): RawQuery) -> String {
    let query = query.unwrap_or_default();
    let symbols = query.strip_prefix("symbols=").unwrap_or_default();
    symbols.split(',').map(|s| format!("{s} {}.5\n", s.len())).collect()
}

fn batcher(
    name: &str,
    client: ClientWithMiddleware,
    base: String,
    size: usize,
    wait: Duration,
) -> Batcher<String, Option<String>> {
    Batcher::spawn(name, size, wait, move |symbols: Vec<String>| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let call = client.get(format!("{base}/quotes?symbols={}", symbols.join(",")));
            let text = match call.template("/quotes").send().await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let lines: Vec<&str> = text.lines().collect();
            symbols
                .iter()
                .map(|s| {
                    lines.iter().find(|l| l.starts_with(&format!("{s} "))).map(|l| l.to_string())
                })
                .collect()
        }
    })
}

fn batches(name: &str, cause: &str) -> Option<f64> {
    let snap = perfscope_core::snapshot();
    figure(
        &snap.figures,
        "perfscope_http_client_batches_total",
        &[("batcher", name), ("cause", cause)],
    )
}

#[test]
fn full_batches_and_deadline_batches_each_answer_every_caller() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let app = Router::new().route("/quotes", get(quotes)).layer(HttpServerLayer::new());
        let base = format!("http://{}", serve(app).await);
        let client =
            perfscope_instrument::http::client(reqwest::Client::builder()).expect("a client");
        // 40 callers at once, batches of 8 and a long deadline: 5 full batches.
        let full = batcher("full", client.clone(), base.clone(), 8, Duration::from_secs(10));
        let callers: Vec<_> = (0..40)
            .map(|i| {
                let full = full.clone();
                tokio::spawn(async move { full.call(format!("S{i}")).await })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            let answer = caller.await.unwrap().unwrap();
            assert_eq!(answer, Some(format!("S{i} {}.5", format!("S{i}").len())));
        }
        assert_eq!(full.flushes(), (5, 0, 0));
        assert_eq!(full.items(), 40);
        assert_eq!(batches("full", "full"), Some(5.0));
        let items = figure(
            &perfscope_core::snapshot().figures,
            "perfscope_http_client_batch_items_total",
            &[("batcher", "full")],
        );
        assert_eq!(items, Some(40.0));

        // One caller at a time, batches of 8 and a 5 ms deadline: every batch waits for its
        // deadline, and the advice says so.
        let sparse = batcher("sparse", client.clone(), base.clone(), 8, Duration::from_millis(5));
        for i in 0..MIN_BATCHES_FOR_ADVICE {
            assert!(sparse.call(format!("T{i}")).await.unwrap().is_some());
        }
        assert_eq!(sparse.flushes(), (0, MIN_BATCHES_FOR_ADVICE, 0));
        let snap = perfscope_core::snapshot();
        let advice = snap
            .events
            .iter()
            .find(|e| e.labels.iter().any(|(k, v)| k == "batcher" && v == "sparse"));
        let advice = advice.expect("the deadline advice");
        assert!(advice.message.contains("flushed by the deadline"), "{}", advice.message);
        assert_eq!(advice.value, Some(1.0));
        assert!(
            !snap
                .events
                .iter()
                .any(|e| e.labels.iter().any(|(k, v)| k == "batcher" && v == "full"))
        );
        // Each batch was one HTTP call.
        let host = base.trim_start_matches("http://");
        let calls = figure(
            &snap.figures,
            "perfscope_http_client_requests_total",
            &[
                ("server_address", host),
                ("url_template", "/quotes"),
                ("http_response_status_class", "2xx"),
            ],
        );
        assert_eq!(calls, Some(5.0 + MIN_BATCHES_FOR_ADVICE as f64));
    });
}
