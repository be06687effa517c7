//! perfscope's exporters: the figures of `#[perfscope::measure]`d functions as Prometheus
//! metrics (feature `prometheus`, on by default) or OTLP metrics (feature `otlp`), and a
//! Grafana dashboard that reads them.
//!
//! Programs call one of these near the start of `main`; perfscope keeps measuring into its own
//! store, and exporters read it through snapshots:
//!
//! - [`prometheus()`]`.install()` serves `http://127.0.0.1:9464/metrics`: every scrape reads a
//!   fresh snapshot into a `prometheus` crate registry (float counters), and installs
//!   `metrics-prometheus` as the global `metrics` recorder, so other code's `metrics::counter!`
//!   etc. are on the same page;
//! - [`bridge()`]`.install()` copies what is new into whatever `metrics` recorder the program
//!   installed, every second;
//! - `otlp().install()` (feature `otlp`) pushes to an OpenTelemetry collector over OTLP/HTTP.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #[perfscope::measure]
//! fn parse(line: &str) -> usize {
//!     line.split(',').count()
//! }
//!
//! // `.install()` in a program; `.start()` keeps the recorder local, as a test wants.
//! let exporter = perfscope_export::prometheus().with_address("127.0.0.1:0".parse()?).start()?;
//! parse("a,b,c");
//! let text = exporter.render(); // what GET /metrics on exporter.address() returns
//! let calls = text.lines().find(|l| l.starts_with("perfscope_function_calls_total{"));
//! assert!(calls.is_some_and(|l| l.contains("::parse\"") && l.ends_with(" 1")), "{text}");
//! exporter.shutdown();
//! # Ok(())
//! # }
//! ```
//!
//! # Metric families
//!
//! Every family has the labels `function` and `module`; see [`families::FAMILIES`]:
//! `perfscope_function_calls_total`, `perfscope_function_duration_seconds` (histogram, 1 µs to
//! 10 s), `perfscope_function_self_seconds_total`, `perfscope_function_busy_seconds_total`,
//! `perfscope_function_alloc_bytes_total`, `perfscope_function_allocations_total`,
//! `perfscope_function_panics_total`.
//!
//! - **Cardinality** is bounded: the first 1000 functions (configurable) get their own series,
//!   later ones are summed under `function="<other>", module="<other>"`.
//! - **Resets**: `perfscope::reset()` zeroes perfscope's figures, never the exported counters,
//!   which go on from where they were.
//! - **Time counters** are float seconds, exact to the nanosecond, over [`prometheus()`] and
//!   OTLP. Over a [`bridge()`] into a `metrics` recorder (whose counters are integers)
//!   `*_seconds_total` advance by whole seconds (the remainder carries over, so no time is
//!   lost, but a rate over a short window is coarse).
//! - **Latency** buckets count each call in the bucket of its latency as perfscope's own
//!   histogram holds it (within 0.8% of the real value); the histogram's `_sum` is the exact
//!   sum of latencies over [`prometheus()`].
//!
//! # Exposition formats
//!
//! The listener answers `GET /metrics` in the Prometheus text format (0.0.4), and in the
//! Prometheus protobuf format when the scrape asks for it (cheaper to render for many
//! functions, see `BENCHMARKS.md`). Prometheus asks for it when started with
//! `--enable-feature=native-histograms` (2.40 and later) or given
//! `scrape_protocols: [PrometheusProto, ...]` (2.49 and later).
//!
//! # Adding families of your own
//!
//! Other code's `metrics` macros land in the same exposition with an installed exporter
//! (names must be valid Prometheus names: `metrics-prometheus` turns a metric the registry
//! refuses into a no-op rather than a panic):
//!
//! ```
//! metrics::describe_gauge!("app_jobs_queued", "Jobs waiting in the queue, per queue.");
//! metrics::gauge!("app_jobs_queued", "queue" => "mail").set(12.0);
//! ```
//!
//! # Grafana
//!
//! [`dashboard::dashboard_json`] builds `dashboards/perfscope.json`; regenerate it with
//! `cargo run -p perfscope-export --bin perfscope-dashboard > dashboards/perfscope.json`.
// One `madvise` call (`prometheus/page.rs`) is the only unsafe code.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod background;
mod bridge;
pub mod dashboard;
mod error;
pub mod families;
mod options;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "prometheus")]
mod prometheus;
mod source;
mod tracker;

pub use background::DEFAULT_SYNC_INTERVAL;
pub use bridge::{Bridge, BridgeBuilder, bridge};
pub use error::ExportError;
#[cfg(feature = "otlp")]
pub use otlp::{OtlpExporter, OtlpExporterBuilder, otlp};
#[cfg(feature = "prometheus")]
pub use prometheus::{
    DEBUG_PATH, DEFAULT_ADDRESS, DEFAULT_DEBUG_SECONDS, MAX_DEBUG_SECONDS, PROTOBUF_FORMAT,
    PrometheusExporter, PrometheusExporterBuilder, encode_protobuf, encode_text, encode_text_into,
    prometheus,
};

/// The `prometheus` crate, for [`PrometheusExporterBuilder::with_registry`] and
/// [`PrometheusExporter::registry`].
#[cfg(feature = "prometheus")]
pub use ::prometheus as prometheus_crate;
