//! The main job: an instrumented market scanner.
//!
//! A deterministic simulated price feed for N symbols is fetched over HTTP (an in-process axum
//! quote server on a free loopback port, gzip-compressed, or `--quote-server URL`; many
//! symbols per request through a batcher; `quote_server.rs`, `quote_feed.rs`), into buffers
//! from an instrumented pool, and scanned by indicator
//! functions — moving averages, RSI, volatility breakouts, a long-window volatility kept in an
//! instrumented cache (L2 Redis with `--redis-url`) — on a multi-threaded tokio runtime. Every
//! stage is measured with `#[perfscope::measure]`, spawned tasks and the signal ranking are
//! tracing spans aggregated by `perfscope::layer()`, `perfscope::CountingAlloc` attributes
//! allocations, the system monitor samples the host, process and runtime, and `/metrics`
//! serves it all. SIGINT or SIGTERM end the run early with the full report.
//!
//! Each round's quotes and signals go to an embedded SQLite store through sqlx (one
//! transaction per round, then one query: a symbol's signal count). The events sqlx emits
//! feed `perfscope_instrument::queries` (its layer beside `perfscope::layer()` in the global
//! subscriber): the report has the `query` figures per statement fingerprint, and at the end
//! the collector's `EXPLAIN QUERY PLAN` index hints are printed after the report and are in
//! it as `query` recommendations (the `signals` table has no index on `symbol`, on purpose), as
//! is the index usage: `quotes_round`, which no statement reads through, is never used.
//! The store's connection comes from an instrumented sqlx pool (`pool::store::acquire`).
//!
//! ```text
//! --symbols N            symbols per round (48)
//! --duration 10s|2m|0    how long to scan (10 s; 0: until SIGINT or SIGTERM); or --rounds N
//! --metrics-addr ADDR    where /metrics is served (127.0.0.1:9464; `none` disables it)
//! --report table|json|html, --out PATH
//! --redis-url URL        Redis for the indicator cache's second level
//! --quote-server URL     an external quote server instead of the in-process one
//! --db PATH|URL          the SQLite store of quotes and signals (a file, created if missing,
//!                        or a `sqlite:` URL; default: an in-memory database)
//! --prometheus-rules     print the Prometheus rules of the scanner's thresholds and exit
//! --bench --warmup W --iterations N [--rounds R] [--out base.bench.json]
//!                        benchmark mode: a bench file for `perfscope diff`, and the
//!                        measured iterations' rounds/s and CPU per round on standard error
//! --cpu-bound            ticks simulated in process, no HTTP: the scan keeps the cores busy
//! --no-layer, --no-query-layer, --no-monitor
//!                        leave out perfscope's tracing layer, the query collector's layer,
//!                        the system monitor (feature `system-allocator`: no CountingAlloc)
//! ```
//!
//! ```text
//! cargo run --release --example market_scanner                      # 10 s, table on stdout
//! cargo run --release --example market_scanner -- --duration 0      # until Ctrl-C / SIGTERM
//! cargo run --release --example market_scanner -- --db scan.sqlite  # keep quotes and signals
//! cargo run --release --example market_scanner -- --report json --out run.json
//! cargo run --release --example market_scanner -- --bench --warmup 3 --iterations 15 --out base.bench.json
//! cargo run --release --example market_scanner -- --help
//! ```

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod alerts;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use perfscope::measure;
use perfscope_instrument::cache::{AsyncMultiLevelCache, AsyncRedisL2, InstrumentedCache};
use perfscope_instrument::channel;
use perfscope_instrument::pool::{InstrumentedManagedPool, InstrumentedSqlxPool};
use perfscope_instrument::queries::{self, IndexAdvice};
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqlitePoolOptions};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

mod buffers;
mod quote_feed;
mod quote_server;

/// perfscope's counting allocator, unless the `system-allocator` feature leaves the global
/// allocator at the system's (what the whole-program overhead figures compare against).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

/// Scans a simulated market, measured by perfscope; prints the hotspot report at the end.
#[derive(Debug, Parser)]
#[command(name = "market_scanner", version, about)]
struct Config {
    /// Symbols scanned each round.
    #[arg(long, default_value_t = 48)]
    symbols: usize,
    /// Stop after this many rounds (instead of --duration).
    #[arg(long, conflicts_with = "duration")]
    rounds: Option<usize>,
    /// Scan for this long: `10s`, `2m`, `500ms`; `0` scans until SIGINT or SIGTERM.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Where `/metrics` is served; `none` disables it.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: String,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    report: ReportFormat,
    /// Write the report (or, with --bench, the bench file) here instead of standard output,
    /// whole or not at all: a failed write leaves an earlier file as it was.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// A Redis server for the indicator cache's second level (e.g. redis://127.0.0.1:6379).
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
    /// The SQLite store of quotes and signals: a file (created if missing) or a `sqlite:` URL;
    /// an in-memory database by default.
    #[arg(long, value_name = "PATH")]
    db: Option<String>,
    /// A quote server to fetch ticks from (e.g. http://127.0.0.1:8080) instead of the
    /// in-process one.
    #[arg(long, value_name = "URL")]
    quote_server: Option<String>,
    /// Benchmark mode: warm-up plus measured iterations of --rounds rounds (default 20) each,
    /// written as a bench file for `perfscope diff`.
    #[arg(long)]
    bench: bool,
    /// Bench mode: iterations run first and thrown away.
    #[arg(long, default_value_t = 3, requires = "bench")]
    warmup: u32,
    /// Bench mode: measured iterations.
    #[arg(long, default_value_t = 10, requires = "bench")]
    iterations: u32,
    /// Makes `relative_strength_index` do 1.5x its work: the injected regression the gate's
    /// acceptance runs look for (BENCHMARKS.md).
    #[arg(long, hide = true)]
    inject_slowdown: bool,
    /// Injects a fault for a while, so an alert fires and resolves: FAULT:DURATION[@START],
    /// e.g. `slow-store:20s@5s` (the store slows down 5 s into the scan, for 20 s: its pool
    /// starves, process_symbol's p99 climbs). May be repeated. Faults: slow-store.
    #[arg(long, value_name = "FAULT:DURATION[@START]")]
    inject: Vec<alerts::Fault>,
    /// Also serve the live report of the next N seconds on the /metrics listener:
    /// /debug/perfscope/report?seconds=N&format=json|html|folded|table.
    #[arg(long)]
    debug_endpoint: bool,
    /// Print the Prometheus rules of the scanner's thresholds (dashboards/perfscope-rules.yml)
    /// and exit.
    #[arg(long)]
    prometheus_rules: bool,
    /// Do not install `perfscope::layer()`: tracing spans (the symbol tasks, the signal
    /// tally, sqlx's) are not measured. For the whole-program overhead figures.
    #[arg(long)]
    no_layer: bool,
    /// Do not install the query collector's layer (`perfscope_instrument::queries`): no
    /// `query` figures, no index hints. With --no-layer too, no tracing subscriber at all.
    #[arg(long)]
    no_query_layer: bool,
    /// Do not start the system monitor (no host, process or runtime figures, no alerts).
    #[arg(long)]
    no_monitor: bool,
    /// CPU-bound: each symbol's ticks simulated in process (the same prices the quote server
    /// would send) instead of fetched over loopback HTTP (no quote server, gzip, batcher or
    /// sockets), so the run keeps the cores busy with the scan itself: the configuration of
    /// the whole-program overhead figures (BENCHMARKS.md).
    #[arg(long, conflicts_with = "quote_server")]
    cpu_bound: bool,
}

/// Set by `--inject-slowdown`.
static SLOWDOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Formats of the final report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
    Html,
}

/// `10s`, `2m`, `500ms`, `1h`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("not a duration: {text:?} (e.g. 10s)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// xorshift64*: a small deterministic generator, so every run scans the same market.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately normal (Irwin–Hall with 4 terms), mean 0, unit variance.
    fn next_normal(&mut self) -> f64 {
        ((0..4).map(|_| self.next_f64()).sum::<f64>() - 2.0) * 3f64.sqrt()
    }
}

/// One symbol's simulated market: a random walk whose volatility switches regimes.
struct Symbol {
    name: String,
    price: f64,
    volatility: f64,
    rng: Rng,
    history: Vec<f64>,
}

impl Symbol {
    fn new(index: usize) -> Self {
        let mut rng =
            Rng(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
        let price = 20.0 + 200.0 * rng.next_f64();
        Symbol { name: format!("SYM{index:03}"), price, volatility: 0.01, rng, history: Vec::new() }
    }

    #[measure]
    fn simulate_ticks(&mut self, ticks: usize) -> Vec<f64> {
        (0..ticks)
            .map(|_| {
                if self.rng.next_f64() < 0.01 {
                    self.volatility = 0.002 + 0.03 * self.rng.next_f64();
                }
                self.price *= 1.0 + self.volatility * self.rng.next_normal();
                self.price = self.price.max(0.01);
                self.price
            })
            .collect()
    }
}

/// What the scan tasks share: receive buffers from a pool (fewer than the symbols, so tasks
/// wait for one: the report shows where) and a cache of the long-window volatility.
struct Shared {
    buffers: InstrumentedManagedPool<buffers::ReceiveBuffers>,
    /// The quote feed; `None` with `--cpu-bound`: ticks simulated in process.
    quotes: Option<quote_feed::QuoteFeed>,
    indicators: IndicatorCache,
    /// The store's pool: symbol tasks read from it while `slow-store` is injected.
    store: InstrumentedSqlxPool<Sqlite>,
    faults: alerts::Faults,
    /// Where the symbol tasks send their results, and where the round takes them.
    results: channel::Sender<Scanned>,
    finished: tokio::sync::Mutex<channel::Receiver<Scanned>>,
    /// Rounds started.
    round: std::sync::atomic::AtomicU64,
}

/// The long-window volatility, cached per symbol and history bucket: in-process (moka), or
/// over Redis too with `--redis-url` (the async multi-level cache: the scan tasks await Redis,
/// no runtime worker blocks on it). Values are kept as text, the form Redis stores.
enum IndicatorCache {
    Local(InstrumentedCache<String, String>),
    Redis(Box<AsyncMultiLevelCache<String, String, AsyncRedisL2>>),
}

impl IndicatorCache {
    async fn new(redis_url: Option<&str>) -> anyhow::Result<IndicatorCache> {
        Ok(match redis_url {
            None => {
                let l1 = moka::sync::Cache::builder().max_capacity(10_000);
                IndicatorCache::Local(InstrumentedCache::new("indicators", l1))
            }
            Some(url) => {
                let l2 = AsyncRedisL2::open(url)
                    .await
                    .with_context(|| format!("cannot use Redis at {url}"))?
                    .with_prefix("market_scanner:")
                    .with_ttl(Duration::from_secs(600));
                let l1 = moka::future::Cache::builder().max_capacity(10_000);
                IndicatorCache::Redis(Box::new(AsyncMultiLevelCache::new("indicators", l1, l2)))
            }
        })
    }

    async fn get_with(&self, key: String, compute: impl FnOnce() -> f64) -> f64 {
        let text = match self {
            IndicatorCache::Local(cache) => cache.get_with(key, || compute().to_string()),
            IndicatorCache::Redis(cache) => {
                let mut compute = Some(compute);
                let load = async {
                    let value = compute.take().map_or(0.0, |f| f());
                    Ok::<_, std::convert::Infallible>(value.to_string())
                };
                let loaded = cache.get_with(&key, load).await;
                match loaded {
                    Ok(text) => text,
                    // Only the loader's error comes back, and it has none (Redis gone is
                    // counted by the cache and answered by the loader).
                    Err(_) => return compute.map_or(f64::NAN, |f| f()),
                }
            }
        };
        text.parse().unwrap_or(f64::NAN)
    }
}

/// Quotes and signals in embedded SQLite, one connection (an in-memory database lives as long
/// as its connection), from an instrumented pool (`pool::store::acquire` frames, pool
/// figures: waits for the one connection show under `store_round`). `signals` has no index on
/// `symbol`, so the per-round count by symbol is a full scan: the index hint the report ends
/// with; `quotes_round` is only written: the index never used it reports.
struct Store {
    pool: InstrumentedSqlxPool<Sqlite>,
}

impl Store {
    async fn open(db: Option<&str>) -> anyhow::Result<Store> {
        let options = match db {
            None => SqliteConnectOptions::from_str("sqlite::memory:")?,
            Some(url) if url.starts_with("sqlite:") => {
                SqliteConnectOptions::from_str(url).with_context(|| format!("--db {url:?}"))?
            }
            Some(path) => SqliteConnectOptions::new().filename(path),
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.create_if_missing(true))
            .await
            .with_context(|| format!("cannot open the store {}", db.unwrap_or("in memory")))?;
        for schema in [
            "CREATE TABLE IF NOT EXISTS quotes (symbol TEXT NOT NULL, round INTEGER NOT NULL, \
             price REAL NOT NULL)",
            "CREATE TABLE IF NOT EXISTS signals (symbol TEXT NOT NULL, kind TEXT NOT NULL, \
             round INTEGER NOT NULL)",
            // No statement reads quotes by round: the index never used the report ends with.
            "CREATE INDEX IF NOT EXISTS quotes_round ON quotes(round)",
        ] {
            sqlx::query(schema).execute(&pool).await.context("cannot create the store's tables")?;
        }
        Ok(Store { pool: InstrumentedSqlxPool::new("store", pool) })
    }

    /// Empties both tables (each bench iteration starts from the same store).
    async fn clear(&self) -> anyhow::Result<()> {
        for table in ["DELETE FROM quotes", "DELETE FROM signals"] {
            sqlx::query(table).execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// Stores a round: its last quotes (one multi-row INSERT) and its signals in one transaction,
/// then counts one symbol's signals so far (a different symbol each round).
#[measure]
async fn store_round(
    store: &Store,
    round: usize,
    symbols: &[Symbol],
    signals: &[(String, Signal)],
) -> anyhow::Result<i64> {
    let Some(watched) = symbols.get(round % symbols.len().max(1)) else { return Ok(0) };
    let round = i64::try_from(round).unwrap_or(i64::MAX);
    let mut tx = store.pool.begin().await?;
    let mut quotes = sqlx::QueryBuilder::new("INSERT INTO quotes (symbol, round, price) ");
    quotes.push_values(symbols, |mut row, symbol| {
        row.push_bind(symbol.name.clone()).push_bind(round).push_bind(symbol.price);
    });
    quotes.build().execute(&mut *tx).await?;
    for (symbol, signal) in signals {
        sqlx::query("INSERT INTO signals (symbol, kind, round) VALUES (?, ?, ?)")
            .bind(symbol)
            .bind(format!("{signal:?}"))
            .bind(round)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let count = sqlx::query_scalar("SELECT count(*) FROM signals WHERE symbol = ?")
        .bind(&watched.name)
        .fetch_one(&store.pool)
        .await?;
    Ok(count)
}

/// The index hints as lines for people (or why there are none), then each index's usage.
fn hint_lines(advice: &IndexAdvice) -> Vec<String> {
    let mut lines: Vec<String> = advice
        .hints
        .iter()
        .map(|h| format!("index hint: {} ({})", h.suggestion, h.evidence))
        .collect();
    if lines.is_empty() {
        lines.push(format!(
            "index hints: none ({} statements explained, {} skipped)",
            advice.explained,
            advice.skipped.len()
        ));
    }
    lines.extend(advice.indexes.iter().map(|i| {
        let used = if i.used() { "used" } else { "never used" };
        format!("index {used}: {} on {} ({})", i.index, i.table, i.evidence)
    }));
    lines
}

/// Ticks a symbol gets each round.
const TICKS_PER_FETCH: usize = 64;

/// Fetches the symbol's next ticks from the quote feed into a pooled buffer.
#[measure]
async fn fetch_ticks(symbol: &mut Symbol, shared: &Shared) -> anyhow::Result<Vec<f64>> {
    let mut buffer = shared.buffers.get().await.context("no receive buffer")?;
    buffer.clear();
    match &shared.quotes {
        Some(quotes) => buffer.extend(quotes.ticks(&symbol.name).await?),
        // The quote server's market for a symbol starts as the symbol did and has served every
        // tick it simulated since: its next ticks are the symbol's own next ones.
        None => buffer.extend(symbol.simulate_ticks(TICKS_PER_FETCH)),
    }
    Ok(buffer.clone())
}

// `#[inline]`: called with a constant window (50), inlined where it is called it computes two
// windows at once (SIMD); the guard `#[measure]` adds makes it too big to be inlined unasked,
// which made it take twice as long (BENCHMARKS.md, "Whole-program overhead").
#[inline]
#[measure]
fn simple_moving_average(prices: &[f64], window: usize) -> Vec<f64> {
    prices.windows(window).map(|w| w.iter().sum::<f64>() / window as f64).collect()
}

#[measure]
fn exponential_moving_average(prices: &[f64], span: usize) -> Vec<f64> {
    let alpha = 2.0 / (span as f64 + 1.0);
    let mut ema = Vec::with_capacity(prices.len());
    let mut current = prices.first().copied().unwrap_or_default();
    for &p in prices {
        current += alpha * (p - current);
        ema.push(current);
    }
    ema
}

/// Wilder's relative strength index over `period` ticks (last value).
#[measure]
fn relative_strength_index(prices: &[f64], period: usize) -> Option<f64> {
    if prices.len() <= period {
        return None;
    }
    if SLOWDOWN.load(std::sync::atomic::Ordering::Relaxed) {
        // The injected regression: half the work again, thrown away.
        std::hint::black_box(wilder_rsi(&prices[prices.len() / 2..], period));
    }
    wilder_rsi(prices, period)
}

fn wilder_rsi(prices: &[f64], period: usize) -> Option<f64> {
    if prices.len() <= period {
        return None;
    }
    let (mut gain, mut loss) = (0.0, 0.0);
    for (i, pair) in prices.windows(2).enumerate() {
        let change = pair[1] - pair[0];
        let (g, l) = (change.max(0.0), (-change).max(0.0));
        if i < period {
            gain += g / period as f64;
            loss += l / period as f64;
        } else {
            gain = (gain * (period - 1) as f64 + g) / period as f64;
            loss = (loss * (period - 1) as f64 + l) / period as f64;
        }
    }
    Some(if loss == 0.0 { 100.0 } else { 100.0 - 100.0 / (1.0 + gain / loss) })
}

/// Rolling standard deviation of log returns (the last `window` of them).
#[measure]
fn volatility(prices: &[f64], window: usize) -> f64 {
    let returns: Vec<f64> = prices.windows(2).map(|p| (p[1] / p[0]).ln()).collect();
    let tail = &returns[returns.len().saturating_sub(window)..];
    let mean = tail.iter().sum::<f64>() / tail.len().max(1) as f64;
    (tail.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / tail.len().max(1) as f64).sqrt()
}

/// A signal the scanner reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Signal {
    GoldenCross,
    DeathCross,
    Overbought,
    Oversold,
    VolatilityBreakout,
}

/// Price leaving the band mean ± k·σ while short-term volatility jumps over the long-term
/// (the long-term one cached per 256 ticks of history).
#[measure]
async fn volatility_breakout(name: &str, prices: &[f64], shared: &Shared) -> bool {
    let short = volatility(prices, 20);
    let key = format!("{name}:vol200:{}", prices.len() / 256);
    let long = shared.indicators.get_with(key, || volatility(prices, 200)).await;
    let band = simple_moving_average(&prices[prices.len().saturating_sub(50)..], 50);
    let (Some(&mean), Some(&last)) = (band.last(), prices.last()) else { return false };
    short > 1.8 * long && (last - mean).abs() > 2.0 * short * mean
}

#[measure]
async fn scan_symbol(name: &str, prices: &[f64], shared: &Shared) -> Vec<Signal> {
    let mut signals = Vec::new();
    let fast = exponential_moving_average(prices, 12);
    let slow = simple_moving_average(prices, 50);
    if let (Some(f), Some(s)) =
        (fast.get(fast.len().wrapping_sub(2)..), slow.get(slow.len().wrapping_sub(2)..))
    {
        if f[0] <= s[0] && f[1] > s[1] {
            signals.push(Signal::GoldenCross);
        } else if f[0] >= s[0] && f[1] < s[1] {
            signals.push(Signal::DeathCross);
        }
    }
    match relative_strength_index(prices, 14) {
        Some(rsi) if rsi > 70.0 => signals.push(Signal::Overbought),
        Some(rsi) if rsi < 30.0 => signals.push(Signal::Oversold),
        _ => {}
    }
    if volatility_breakout(name, prices, shared).await {
        signals.push(Signal::VolatilityBreakout);
    }
    signals
}

/// While `slow-store` is injected: a symbol's last stored quote, read through the store's one
/// connection with a slow statement beside it (a recursive count standing in for a store
/// under load) and the connection held 10 ms longer (a store that answers slowly whatever
/// the build: debug or release, every round takes half a second or more), so the symbol
/// tasks queue for the connection.
#[measure]
async fn read_last_quote(symbol: &str, shared: &Shared) -> anyhow::Result<Option<f64>> {
    let mut connection = shared.store.acquire().await?;
    tokio::time::sleep(Duration::from_millis(10)).await;
    sqlx::query("WITH RECURSIVE spin(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM spin WHERE x < ?) SELECT count(*) FROM spin")
        .bind(40_000_i64)
        .fetch_one(&mut *connection)
        .await?;
    let last =
        sqlx::query_scalar("SELECT price FROM quotes WHERE symbol = ? ORDER BY round DESC LIMIT 1")
            .bind(symbol)
            .fetch_optional(&mut *connection)
            .await?;
    Ok(last)
}

/// One round for one symbol: fetch new ticks, keep a bounded history, scan it.
#[measure]
async fn process_symbol(
    mut symbol: Symbol,
    shared: Arc<Shared>,
) -> anyhow::Result<(Symbol, Vec<Signal>)> {
    if shared.faults.on(alerts::FaultKind::SlowStore) {
        read_last_quote(&symbol.name, &shared).await?;
    }
    let ticks = fetch_ticks(&mut symbol, &shared).await?;
    symbol.history.extend(ticks);
    let excess = symbol.history.len().saturating_sub(2_000);
    symbol.history.drain(..excess);
    let signals = scan_symbol(&symbol.name, &symbol.history, &shared).await;
    Ok((symbol, signals))
}

/// The symbols after a round, and the signals the round found (symbol name, signal).
type RoundResult = (Vec<Symbol>, Vec<(String, Signal)>);

#[measure]
async fn scan_round(symbols: Vec<Symbol>, shared: &Arc<Shared>) -> anyhow::Result<RoundResult> {
    // Each symbol task sends its result into the instrumented channel as it finishes (queue
    // depth, the time a result waits to be taken, a full channel's send wait as a frame under
    // the task); the round takes them as they come and puts them back in symbol order.
    let mut finished = shared.finished.lock().await;
    let round = shared.round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let count = symbols.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, symbol) in symbols.into_iter().enumerate() {
        let shared = shared.clone();
        let task = async move {
            let result = process_symbol(symbol, shared.clone()).await;
            let _ = shared.results.send((round, i, result)).await;
        };
        tasks.spawn(task.instrument(tracing::info_span!("symbol_task")));
    }
    let mut done = Vec::with_capacity(count);
    while done.len() < count {
        tokio::select! {
            Some((of, i, result)) = finished.recv() => {
                // A result of a round cut short by the deadline is left behind.
                if of == round {
                    done.push((i, result?));
                }
            }
            Some(joined) = tasks.join_next() => joined.context("a scan task failed")?,
        }
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    let mut symbols = Vec::with_capacity(count);
    let mut signals = Vec::new();
    for (_, (symbol, found)) in done {
        signals.extend(found.into_iter().map(|s| (symbol.name.clone(), s)));
        symbols.push(symbol);
    }
    Ok((symbols, signals))
}

/// A symbol task's result: its round, its place in the round, what it found.
type Scanned = (u64, usize, anyhow::Result<(Symbol, Vec<Signal>)>);

/// How a scan ends: after N rounds, at a deadline, or on SIGINT/SIGTERM (whichever first).
#[derive(Debug, Clone, Copy)]
struct Limits {
    rounds: Option<usize>,
    deadline: Option<Instant>,
}

/// Rounds scanned and signals found, per kind.
type Tally = (usize, std::collections::BTreeMap<Signal, usize>);

#[measure]
async fn run(
    symbols: usize,
    limits: Limits,
    shared: Arc<Shared>,
    store: &Store,
    progress: &Progress,
) -> anyhow::Result<Tally> {
    let mut symbols: Vec<Symbol> = (0..symbols).map(Symbol::new).collect();
    // Warm-up history so every indicator has enough data.
    for symbol in &mut symbols {
        symbol.history = symbol.simulate_ticks(quote_server::WARM_UP_TICKS);
    }
    let mut counts = std::collections::BTreeMap::new();
    let mut stop = std::pin::pin!(stop_signal());
    let mut rounds = 0;
    while limits.rounds.is_none_or(|n| rounds < n)
        && limits.deadline.is_none_or(|d| Instant::now() < d)
    {
        let deadline = limits.deadline.map(tokio::time::Instant::from_std);
        let (next, signals) = tokio::select! {
            round = scan_round(symbols, &shared) => round?,
            _ = &mut stop => break,
            _ = sleep_until(deadline) => break,
        };
        store_round(store, rounds, &next, &signals).await.context("cannot store the round")?;
        rounds += 1;
        progress.round(rounds);
        symbols = next;
        for (signal, n) in tally_signals(&signals) {
            *counts.entry(signal).or_insert(0) += n;
        }
    }
    Ok((rounds, counts))
}

/// Resolves at `deadline`, or never.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what systemd, Docker and Kubernetes send).
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Progress: a bar on a terminal for runs of a few seconds or more, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: std::sync::Mutex<Instant>,
    quiet: bool,
}

impl Progress {
    fn new(limits: Limits, quiet: bool) -> Progress {
        use std::io::IsTerminal;
        let long = limits
            .deadline
            .is_none_or(|d| d.saturating_duration_since(Instant::now()) >= Duration::from_secs(3));
        let bar = (!quiet && long && std::io::stderr().is_terminal()).then(|| {
            let bar = match limits.deadline {
                Some(d) => indicatif::ProgressBar::new(
                    d.saturating_duration_since(Instant::now()).as_secs().max(1),
                ),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            last_line: std::sync::Mutex::new(Instant::now()),
            quiet,
        }
    }

    fn round(&self, rounds: usize) {
        let elapsed = self.started.elapsed();
        if let Some(bar) = &self.bar {
            bar.set_position(elapsed.as_secs());
            bar.set_message(format!("{rounds} rounds"));
        } else if !self.quiet {
            let mut last = self.last_line.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.elapsed() >= Duration::from_secs(2) {
                *last = Instant::now();
                eprintln!("market_scanner: {:.1} s, {rounds} rounds", elapsed.as_secs_f64());
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Signals found in one round, per kind: an `#[instrument]`ed function, measured by the layer.
#[tracing::instrument(skip_all, fields(found = signals.len()))]
fn tally_signals(signals: &[(String, Signal)]) -> std::collections::BTreeMap<Signal, usize> {
    let mut tally = std::collections::BTreeMap::new();
    for (_, signal) in signals {
        *tally.entry(*signal).or_insert(0) += 1;
    }
    tally
}

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    if config.prometheus_rules {
        print!("{}", perfscope::monitor::rules::prometheus_rules(&alerts::thresholds())?);
        return Ok(());
    }
    SLOWDOWN.store(config.inject_slowdown, std::sync::atomic::Ordering::Relaxed);
    // Serve perfscope's figures (and everything below) at /metrics while the scan runs
    // (dashboards/prometheus.yml scrapes it); a busy port only costs the endpoint.
    let _metrics = match config.metrics_addr.as_str() {
        "none" => None,
        addr => {
            let addr = addr.parse().with_context(|| format!("--metrics-addr {addr:?}"))?;
            let exporter = perfscope_export::prometheus().with_address(addr);
            let exporter =
                if config.debug_endpoint { exporter.with_debug_endpoint() } else { exporter };
            exporter
                .install()
                .inspect_err(|error| eprintln!("market_scanner: no /metrics endpoint: {error}"))
                .ok()
        }
    };
    // The query collector's layer enables sqlx's statement events for itself; SQLite runs
    // them on its worker thread, so the subscriber is the global one.
    let layer = (!config.no_layer).then(perfscope::layer);
    let query_layer = (!config.no_query_layer).then(queries::layer);
    if layer.is_some() || query_layer.is_some() {
        tracing_subscriber::registry().with(layer).with(query_layer).init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // The system monitor: host, process, runtime and per-symbol traffic figures each second.
    let monitor = (!config.no_monitor).then(|| {
        let monitor = perfscope::monitor::Monitor::builder()
            .with_interval(Duration::from_secs(1))
            .with_runtime(runtime.handle().clone())
            .with_traffic(alerts::PROCESS_SYMBOL);
        alerts::thresholds()
            .into_iter()
            .fold(monitor, |monitor, threshold| monitor.with_threshold(threshold))
            .start()
            .inspect_err(|error| eprintln!("market_scanner: no system monitor: {error}"))
    });
    let store = runtime.block_on(Store::open(config.db.as_deref()))?;
    // The market stays alive until the report is written (its lock's figures with it).
    let (quote_server, _market) = match config.quote_server.clone() {
        _ if config.cpu_bound => (None, None),
        Some(url) => (Some(url), None),
        None => {
            let (address, market) = runtime.block_on(quote_server::start())?;
            (Some(format!("http://{address}")), Some(market))
        }
    };
    let quotes = quote_server.map(|base| {
        runtime.block_on(async { quote_feed::QuoteFeed::start(base, TICKS_PER_FETCH) })
    });
    let (results, finished) = channel::channel("symbol_results", 16);
    let shared = Arc::new(Shared {
        buffers: buffers::pool()?,
        quotes: quotes.transpose()?,
        indicators: runtime.block_on(IndicatorCache::new(config.redis_url.as_deref()))?,
        store: store.pool.clone(),
        faults: alerts::Faults::new(config.inject.clone()),
        results,
        finished: tokio::sync::Mutex::new(finished),
        round: std::sync::atomic::AtomicU64::new(0),
    });

    if config.bench {
        return bench(&config, &runtime, &shared, &store);
    }
    let limits = Limits {
        rounds: config.rounds,
        deadline: (config.rounds.is_none() && !config.duration.is_zero())
            .then(|| Instant::now() + config.duration),
    };
    let progress = Progress::new(limits, false);
    let (rounds, counts) =
        runtime.block_on(run(config.symbols, limits, shared.clone(), &store, &progress))?;
    progress.finish();
    eprintln!(
        "market_scanner: scanned {} symbols x {} rounds; signals: {}",
        config.symbols,
        rounds,
        counts.iter().map(|(s, n)| format!("{s:?}={n}")).collect::<Vec<_>>().join(", ")
    );
    // Index hints for the store's slowest statements: the collector publishes them as `query`
    // events (labels fingerprint, table, index), so the report has them too.
    let advice = runtime.block_on(async {
        let advice = queries::global().index_hints(store.pool.pool()).await;
        store.pool.close().await;
        advice
    });
    drop(runtime);
    // A scan shorter than the monitor's first sample (200 ms) would report no host figures.
    if let Some(Ok(monitor)) = &monitor {
        monitor.wait_for_samples(1, Duration::from_secs(2));
    }
    let report = perfscope::report();
    let text = match config.report {
        ReportFormat::Table => format!("{}\n", report.table(20)),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Html => report.to_html(),
    };
    // On a terminal, the table fits its width (PERFSCOPE_TABLE=wide: every column).
    let on_screen = report.table(20).fit_terminal(&std::io::stdout());
    match &config.out {
        Some(path) => {
            // Whole or not at all: a full disk leaves an earlier report as it was.
            perfscope::save(path, text.as_bytes())
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            println!("{on_screen}");
            eprintln!("market_scanner: report written to {}", path.display());
        }
        None if config.report == ReportFormat::Table => println!("{on_screen}"),
        None => print!("{text}"),
    }
    // After the table on standard output; on standard error when that carries JSON or HTML.
    for line in hint_lines(&advice) {
        if config.out.is_some() || config.report == ReportFormat::Table {
            println!("{line}");
        } else {
            eprintln!("market_scanner: {line}");
        }
    }
    Ok(())
}

/// The process's CPU time (all threads), ns: (user, system); zeros where it cannot be read.
fn process_cpu_ns() -> (u64, u64) {
    #[cfg(unix)]
    {
        // SAFETY: an all-zero rusage is a valid value of the plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: a valid `who` and a pointer to an rusage that lives through the call.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
            return (ns(usage.ru_utime), ns(usage.ru_stime));
        }
    }
    (0, 0)
}

/// `--bench`: warm-up and measured iterations of `--rounds` rounds each, as a bench file.
fn bench(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    shared: &Arc<Shared>,
    store: &Store,
) -> anyhow::Result<()> {
    let limits = Limits { rounds: Some(config.rounds.unwrap_or(20)), deadline: None };
    let quiet = Progress::new(limits, true);
    let failed = std::cell::RefCell::new(None);
    let path = config.out.clone().unwrap_or_else(|| PathBuf::from("market_scanner.bench.json"));
    let save = |run: &perfscope::bench::BenchRun| {
        perfscope::save(&path, run.to_json().as_bytes())
            .with_context(|| format!("cannot write the bench file to {}", path.display()))
    };
    // An iteration past the timeout is dropped there; the iterations before it are saved,
    // marked as timed out (`perfscope diff` refuses such a file).
    let (failed_ref, quiet) = (&failed, &quiet);
    // The process's CPU time over the measured iterations' workloads (every thread's: the
    // runtime's workers, SQLite's, the monitor's), for the throughput line.
    let (started, cpu_ns) = (std::cell::Cell::new(0u32), std::cell::Cell::new((0u64, 0u64)));
    let (started, cpu_ns) = (&started, &cpu_ns);
    let bench = perfscope::bench::bench("market_scanner")
        .with_warmup(config.warmup)
        .with_iterations(config.iterations)
        .with_timeout(Duration::from_secs(120))
        .run_async(move || async move {
            let iteration = async {
                store.clear().await?;
                run(config.symbols, limits, shared.clone(), store, quiet).await
            };
            let (i, cpu_before) = (started.replace(started.get() + 1), process_cpu_ns());
            if let Err(error) = iteration.await {
                failed_ref.borrow_mut().get_or_insert(error);
            }
            if i >= config.warmup {
                let ((user, system), (user_0, system_0)) = (process_cpu_ns(), cpu_before);
                let (sum_user, sum_system) = cpu_ns.get();
                cpu_ns.set((sum_user + user - user_0, sum_system + system - system_0));
            }
        });
    let run = match runtime.block_on(bench) {
        Ok(run) => run,
        Err(error) => {
            let message = error.to_string();
            if let Some(partial) = error.into_partial() {
                save(&partial)?;
            }
            bail!("{message} (partial run in {})", path.display());
        }
    };
    if let Some(error) = failed.into_inner() {
        bail!("a bench iteration failed: {error:#}");
    }
    save(&run)?;
    // The throughput of the measured iterations (the whole-program overhead figures compare
    // it between builds and switches): rounds per second of workload time, snapshots between
    // iterations left out.
    let elapsed_ns: u64 = run.iterations.iter().map(|i| i.elapsed_ns).sum();
    let rounds = limits.rounds.unwrap_or_default() as f64 * run.iterations.len() as f64;
    eprintln!(
        "market_scanner: throughput {:.2} rounds/s ({rounds} rounds in {:.3} s), CPU per round \
         (all threads) {:.1} µs user + {:.1} µs system",
        rounds / (elapsed_ns as f64 / 1e9),
        elapsed_ns as f64 / 1e9,
        cpu_ns.get().0 as f64 / 1e3 / rounds,
        cpu_ns.get().1 as f64 / 1e3 / rounds,
    );
    eprintln!(
        "market_scanner: {} warm-up + {} measured iterations of {} rounds written to {} \
         (compare two with `perfscope diff base.bench.json head.bench.json`)",
        config.warmup,
        config.iterations,
        limits.rounds.unwrap_or_default(),
        path.display()
    );
    Ok(())
}
