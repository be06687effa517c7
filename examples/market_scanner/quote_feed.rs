//! The scanner's quote feed: each symbol's ticks fetched over HTTP through reqwest behind
//! perfscope's client middleware, many symbols per request. A `Batcher` gathers the scan
//! tasks' requests into batches of at most `BATCH_SIZE` symbols, flushed full or `BATCH_WAIT`
//! after the first; each batch is one call (`http::client::<host> GET /quotes`) under
//! `fetch_batch`. Its figures: batches by flush cause, symbols batched, and the client's
//! calls, bytes (decoded: the server's response bytes are the compressed ones) and
//! connections.

use std::time::Duration;

use anyhow::Context;
use perfscope::measure;
use perfscope_instrument::http::{Batcher, RequestBuilderExt};
use reqwest_middleware::ClientWithMiddleware;

/// Symbols per request at most: as many as the scan tasks can wait on at once (each holds one
/// of the 8 receive buffers while it fetches); with more, every batch would wait for its
/// deadline (the batcher's advice says so).
const BATCH_SIZE: usize = 8;
/// How long a batch waits for more symbols after its first.
const BATCH_WAIT: Duration = Duration::from_millis(2);

/// A symbol's ticks, or why there are none.
type Answer = Result<Vec<f64>, String>;

/// Ticks by symbol, fetched in batches from a quote server.
pub struct QuoteFeed {
    batcher: Batcher<String, Answer>,
}

impl QuoteFeed {
    /// The feed of `ticks` ticks per symbol from the quote server at `base` (e.g.
    /// `http://127.0.0.1:8080`), started on the current tokio runtime.
    pub fn start(base: String, ticks: usize) -> anyhow::Result<QuoteFeed> {
        let client = perfscope_instrument::http::client(
            reqwest::Client::builder().timeout(Duration::from_secs(10)),
        )
        .context("cannot build the quote client")?;
        let batcher = Batcher::spawn("quotes", BATCH_SIZE, BATCH_WAIT, move |symbols| {
            let (client, base) = (client.clone(), base.clone());
            async move { fetch_batch(&client, &base, symbols, ticks).await }
        });
        Ok(QuoteFeed { batcher })
    }

    /// The next ticks of `symbol`.
    pub async fn ticks(&self, symbol: &str) -> anyhow::Result<Vec<f64>> {
        let answer = self.batcher.call(symbol.to_string()).await?;
        answer.map_err(|why| anyhow::anyhow!("no quotes for {symbol}: {why}"))
    }
}

/// One request for `symbols`: an answer per symbol, in their order.
#[measure]
async fn fetch_batch(
    client: &ClientWithMiddleware,
    base: &str,
    symbols: Vec<String>,
    ticks: usize,
) -> Vec<Answer> {
    let url = format!("{base}/quotes?symbols={}&ticks={ticks}", symbols.join(","));
    let body = match client.get(url).template("/quotes").send().await {
        Ok(response) => match response.error_for_status() {
            Ok(response) => response.text().await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        },
        Err(error) => Err(error.to_string()),
    };
    let body = match body {
        Ok(body) => body,
        Err(why) => return symbols.iter().map(|_| Err(why.clone())).collect(),
    };
    let mut lines: std::collections::HashMap<&str, &str> =
        body.lines().filter_map(|line| line.split_once(' ')).collect();
    symbols
        .iter()
        .map(|symbol| {
            let prices = lines.remove(symbol.as_str()).ok_or("not served")?;
            let prices: Result<Vec<f64>, _> = prices.split(' ').map(str::parse).collect();
            prices.map_err(|e| format!("a bad price: {e}"))
        })
        .collect()
}
