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

// The workspace's one promtool runner (also used by perfscope-export's and the root tests).
#[path = "../../../tests/promtool/mod.rs"]
mod promtool;

/// The sample `name{labels}` of `exposition` (the text format), e.g.
/// `perfscope_http_client_batch_size_bucket{batcher="sizes",le="4"}`.
fn sample(exposition: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    let line = exposition.lines().find(|l| l.starts_with(&prefix))?;
    line[prefix.len()..].trim().parse().ok()
}

#[test]
fn batch_sizes_are_a_histogram_in_the_snapshot_and_on_a_real_metrics_page() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let batcher = runtime.block_on(async {
        // 10 requests at once, batches of at most 4, a deadline longer than the sends take:
        // two full batches of 4, then one of 2 flushed by the deadline.
        let batcher: Batcher<u32, u32> = Batcher::spawn(
            "sizes",
            4,
            Duration::from_millis(500),
            |requests: Vec<u32>| async move { requests.into_iter().map(|r| r * 2).collect() },
        );
        let callers: Vec<_> = (0..10)
            .map(|i| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.call(i).await })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            assert_eq!(caller.await.unwrap(), Ok(i as u32 * 2));
        }
        batcher
    });
    assert_eq!(batcher.flushes(), (2, 1, 0));
    let expected = [(2, 1), (4, 2)];
    let sizes: Vec<(u64, u64)> = batcher.sizes().buckets().map(|(v, _, n)| (v, n)).collect();
    assert_eq!(sizes, expected);

    // In the snapshot: one histogram of counts, its values the sizes, its sum exact.
    let snap = perfscope_core::snapshot();
    let mut ours = snap.histograms.iter().filter(|h| {
        h.name == "perfscope_http_client_batch_size"
            && h.labels.iter().any(|(k, v)| k == "batcher" && v == "sizes")
    });
    let histogram = ours.next().expect("the batcher's size histogram");
    assert!(ours.next().is_none());
    assert_eq!(histogram.unit, perfscope_core::figures::FigureUnit::Count);
    let buckets: Vec<(u64, u64)> = histogram.histogram.buckets().map(|(v, _, n)| (v, n)).collect();
    assert_eq!(buckets, expected);
    assert_eq!((histogram.histogram.count(), histogram.sum), (3, 10.0));

    // On /metrics, served on loopback and read over HTTP: cumulative buckets on powers of
    // two, the exact sum and count, and promtool has nothing to say.
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .expect("an exporter on a free port");
    let address = exporter.address().expect("the exporter's address");
    let page = runtime.block_on(async {
        let response = reqwest::get(format!("http://{address}/metrics")).await.expect("a page");
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.expect("the exposition")
    });
    exporter.shutdown();
    let name = "perfscope_http_client_batch_size";
    assert!(page.contains(&format!("# TYPE {name} histogram")), "{page}");
    let bucket = |le: &str| {
        sample(&page, &format!("{name}_bucket"), &format!("batcher=\"sizes\",le=\"{le}\""))
    };
    let cumulative: Vec<Option<f64>> = ["1", "2", "4", "8", "65536", "+Inf"].map(bucket).to_vec();
    let want = [0.0, 1.0, 3.0, 3.0, 3.0, 3.0].map(Some).to_vec();
    assert_eq!(cumulative, want, "{page}");
    assert_eq!(sample(&page, &format!("{name}_sum"), "batcher=\"sizes\""), Some(10.0));
    assert_eq!(sample(&page, &format!("{name}_count"), "batcher=\"sizes\""), Some(3.0));
    let (status, said) = promtool::check_metrics(&page);
    assert!(status.success(), "promtool check metrics failed ({status}):\n{said}\n{page}");
}
