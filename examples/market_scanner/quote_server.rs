//! The quote server: the simulated market served over HTTP by axum on a free loopback port,
//! gzip-compressed by tower-http, measured by perfscope's `HttpServerLayer` (outside the
//! compression: its response bytes are the bytes on the wire).
//!
//! `GET /quotes?symbols=SYM000,SYM001&ticks=64` answers one line per known symbol,
//! `SYM000 p1 p2 ... p64`: the symbol's next ticks. A symbol's market starts as the scanner's
//! local one did (`Symbol::new`, then the 400 warm-up ticks the scanner simulates itself), so
//! a run scans the same prices over the wire as it did in process.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use perfscope::measure;
use perfscope_instrument::http::HttpServerLayer;
// The market behind an instrumented tokio Mutex (`lock::market::lock` frames when handlers
// contend for it; hold time per lock): the report lists it among the locks.
use perfscope_instrument::lock::tokio::Mutex;
use tower_http::compression::CompressionLayer;

use crate::Symbol;

/// The most symbols and ticks one request may ask for (a hostile query costs no more).
const MAX_SYMBOLS: usize = 1_000;
const MAX_TICKS: usize = 10_000;
/// Ticks the scanner simulates itself before its first fetch.
pub const WARM_UP_TICKS: usize = 400;

/// The market the server simulates: its symbols, behind the `market` lock.
pub type Market = Arc<Mutex<HashMap<usize, Symbol>>>;

/// Serves the market on `127.0.0.1:0` (on the current runtime) and says where; the market
/// is given back too, so its lock's figures outlive the runtime (for the final report).
pub async fn start() -> anyhow::Result<(SocketAddr, Market)> {
    let market: Market = Arc::new(Mutex::new("market", HashMap::new()));
    let app = Router::new()
        .route("/quotes", get(quotes))
        .with_state(market.clone())
        .layer(CompressionLayer::new())
        .layer(HttpServerLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("market_scanner: the quote server stopped: {error}");
        }
    });
    Ok((address, market))
}

/// `symbols=SYM000,SYM001&ticks=64`: the symbols' indexes and the ticks, within bounds.
fn parse(query: &str) -> (Vec<usize>, usize) {
    let (mut symbols, mut ticks) = (Vec::new(), 0);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("symbols", list)) => {
                let indexes =
                    list.split(',').filter_map(|s| s.strip_prefix("SYM")?.parse::<usize>().ok());
                symbols.extend(indexes.take(MAX_SYMBOLS));
            }
            Some(("ticks", n)) => ticks = n.parse().unwrap_or(0).min(MAX_TICKS),
            _ => {}
        }
    }
    (symbols, ticks)
}

/// The next ticks of each symbol asked, one line each.
#[measure]
async fn quotes(State(market): State<Market>, RawQuery(query): RawQuery) -> String {
    let (symbols, ticks) = parse(query.as_deref().unwrap_or(""));
    let mut market = market.lock().await;
    let mut body = String::with_capacity(symbols.len() * ticks * 8);
    for index in symbols {
        let symbol = market.entry(index).or_insert_with(|| {
            let mut symbol = Symbol::new(index);
            symbol.simulate_ticks(WARM_UP_TICKS);
            symbol
        });
        body.push_str(&symbol.name);
        for price in symbol.simulate_ticks(ticks) {
            let _ = write!(body, " {price}");
        }
        body.push('\n');
    }
    body
}
