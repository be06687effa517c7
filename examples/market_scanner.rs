//! The main job: an instrumented market scanner.
//!
//! A deterministic simulated price feed for N symbols is fetched asynchronously (with
//! simulated network latency) and scanned by indicator functions — moving averages, RSI,
//! volatility breakouts — on a multi-threaded tokio runtime. Every stage is measured with
//! `#[perfscope::measure]`, spawned tasks and the signal ranking are tracing spans aggregated by
//! `perfscope::layer()`, and `perfscope::CountingAlloc` attributes allocations; the hotspot
//! table is printed when the run ends.
//!
//! ```text
//! cargo run --release --example market_scanner -- [--symbols 48] [--rounds 40] [--json report.json]
//! cargo run --release --example market_scanner -- --rounds 0   # until Ctrl-C, for Prometheus/Grafana
//! ```

use std::time::Duration;

use anyhow::{Context, bail};
use perfscope::measure;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

/// Run parameters, from the command line.
struct Config {
    symbols: usize,
    rounds: usize,
    json: Option<String>,
}

fn parse_args() -> anyhow::Result<Config> {
    let mut config = Config { symbols: 48, rounds: 40, json: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--symbols" => config.symbols = value()?.parse().context("--symbols")?,
            "--rounds" => config.rounds = value()?.parse().context("--rounds")?,
            "--json" => config.json = Some(value()?),
            "-h" | "--help" => {
                println!(
                    "market_scanner [--symbols N] [--rounds N (0: until Ctrl-C)] [--json PATH]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(config)
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

/// Fetches the next batch of ticks, after a simulated network round trip.
#[measure]
async fn fetch_ticks(symbol: &mut Symbol, ticks: usize) -> Vec<f64> {
    let latency_us = 200 + (symbol.rng.next_f64() * 800.0) as u64;
    tokio::time::sleep(Duration::from_micros(latency_us)).await;
    symbol.simulate_ticks(ticks)
}

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

/// Price leaving the band mean ± k·σ while short-term volatility jumps over the long-term.
#[measure]
fn volatility_breakout(prices: &[f64]) -> bool {
    let short = volatility(prices, 20);
    let long = volatility(prices, 200);
    let band = simple_moving_average(&prices[prices.len().saturating_sub(50)..], 50);
    let (Some(&mean), Some(&last)) = (band.last(), prices.last()) else { return false };
    short > 1.8 * long && (last - mean).abs() > 2.0 * short * mean
}

#[measure]
fn scan_symbol(prices: &[f64]) -> Vec<Signal> {
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
    if volatility_breakout(prices) {
        signals.push(Signal::VolatilityBreakout);
    }
    signals
}

/// One round for one symbol: fetch new ticks, keep a bounded history, scan it.
#[measure]
async fn process_symbol(mut symbol: Symbol) -> (Symbol, Vec<Signal>) {
    let ticks = fetch_ticks(&mut symbol, 64).await;
    symbol.history.extend(ticks);
    let excess = symbol.history.len().saturating_sub(2_000);
    symbol.history.drain(..excess);
    let signals = scan_symbol(&symbol.history);
    (symbol, signals)
}

/// The symbols after a round, and the signals the round found (symbol name, signal).
type RoundResult = (Vec<Symbol>, Vec<(String, Signal)>);

#[measure]
async fn scan_round(symbols: Vec<Symbol>) -> anyhow::Result<RoundResult> {
    let tasks: Vec<_> = symbols
        .into_iter()
        .map(|s| tokio::spawn(process_symbol(s).instrument(tracing::info_span!("symbol_task"))))
        .collect();
    let mut symbols = Vec::with_capacity(tasks.len());
    let mut signals = Vec::new();
    for task in tasks {
        let (symbol, found) = task.await.context("a scan task failed")?;
        signals.extend(found.into_iter().map(|s| (symbol.name.clone(), s)));
        symbols.push(symbol);
    }
    Ok((symbols, signals))
}

#[measure]
async fn run(
    config: &Config,
) -> anyhow::Result<(usize, std::collections::BTreeMap<Signal, usize>)> {
    let mut symbols: Vec<Symbol> = (0..config.symbols).map(Symbol::new).collect();
    // Warm-up history so every indicator has enough data.
    for symbol in &mut symbols {
        symbol.history = symbol.simulate_ticks(400);
    }
    let mut counts = std::collections::BTreeMap::new();
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let mut rounds = 0;
    while config.rounds == 0 || rounds < config.rounds {
        let (next, signals) = tokio::select! {
            round = scan_round(symbols) => round?,
            _ = &mut interrupted => break,
        };
        rounds += 1;
        symbols = next;
        for (signal, n) in tally_signals(&signals) {
            *counts.entry(signal).or_insert(0) += n;
        }
    }
    Ok((rounds, counts))
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
    let config = parse_args()?;
    // Serve perfscope's figures at http://127.0.0.1:9464/metrics while the scan runs
    // (dashboards/prometheus.yml scrapes it); a busy port only costs the endpoint.
    let _metrics = perfscope_export::prometheus()
        .install()
        .inspect_err(|error| eprintln!("market_scanner: no /metrics endpoint: {error}"));
    tracing_subscriber::registry().with(perfscope::layer()).init();
    let mut guard = perfscope::report_on_exit().top(20);
    if let Some(path) = &config.json {
        guard = guard.json(path);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // The system monitor: host, process, runtime and per-symbol traffic figures each second.
    let monitor = perfscope::monitor::Monitor::builder()
        .with_interval(Duration::from_secs(1))
        .with_runtime(runtime.handle().clone())
        .with_traffic("market_scanner::process_symbol")
        .start()
        .inspect_err(|error| eprintln!("market_scanner: no system monitor: {error}"));
    let (rounds, counts) = runtime.block_on(run(&config))?;
    println!(
        "scanned {} symbols x {} rounds; signals: {}",
        config.symbols,
        rounds,
        counts.iter().map(|(s, n)| format!("{s:?}={n}")).collect::<Vec<_>>().join(", ")
    );
    drop(runtime);
    // A scan shorter than the monitor's first sample (200 ms) would report no host figures.
    if let Ok(monitor) = &monitor {
        monitor.wait_for_samples(1, Duration::from_secs(2));
    }
    drop(guard);
    Ok(())
}
