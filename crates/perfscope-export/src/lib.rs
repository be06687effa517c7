//! perfscope's exporters: the figures of `#[perfscope::measure]`d functions as Prometheus
//! metrics (feature `prometheus`, on by default) or OTLP metrics (feature `otlp`), and a
//! Grafana dashboard that reads them.
//!
//! Programs call one of these near the start of `main`; perfscope keeps measuring into its own
//! store, and a background thread copies what is new into the exporter every second:
//!
//! - [`prometheus()`]`.install()` serves `http://127.0.0.1:9464/metrics` through
//!   `metrics-exporter-prometheus`, and makes it the global `metrics` recorder;
//! - [`bridge()`]`.install()` syncs into whatever `metrics` recorder the program installed;
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
//! let exporter = perfscope_export::prometheus().listen("127.0.0.1:0".parse()?).start()?;
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
//! - **Time counters** go through `metrics`, whose counters are integers: over a `metrics`
//!   recorder, `*_seconds_total` advance by whole seconds (the remainder carries over, so no
//!   time is lost). The histogram's `_sum` and the OTLP exporter have full precision.
//! - **Latency** samples are recorded at the midpoint of perfscope's histogram bucket (within
//!   0.8% of the real value), and cost the exporter thread a few tens of nanoseconds per call.
//!
//! # Exposition formats
//!
//! The listener answers in the Prometheus text format. With the feature `protobuf` (building it
//! needs `protoc`), it answers scrapes that ask for the protobuf format in that format, which
//! costs a third of the text format to render (1,000 functions: ~7 ms instead of ~19 ms, see
//! `BENCHMARKS.md`). Prometheus asks for it when started with
//! `--enable-feature=native-histograms` (2.40 and later) or given
//! `scrape_protocols: [PrometheusProto, ...]` (2.49 and later).
//!
//! # Adding families of your own
//!
//! Crates measuring other things (system monitor, pools, caches, queries) use the `metrics`
//! macros; with an installed exporter, their series land in the same exposition:
//!
//! ```
//! metrics::describe_gauge!("perfscope_pool_connections", "Open connections, per pool.");
//! metrics::gauge!("perfscope_pool_connections", "pool" => "db").set(12.0);
//! ```
//!
//! # Grafana
//!
//! [`dashboard::dashboard_json`] builds `dashboards/perfscope.json`; regenerate it with
//! `cargo run -p perfscope-export --bin perfscope-dashboard > dashboards/perfscope.json`.
#![deny(missing_docs)]

mod background;
mod bridge;
pub mod dashboard;
mod error;
pub mod families;
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
    DEFAULT_ADDRESS, PROTOBUF_FORMAT, PrometheusExporter, PrometheusExporterBuilder, prometheus,
};

/// The `prometheus` crate, for [`PrometheusExporterBuilder::registry`] and
/// [`PrometheusExporter::registry`].
#[cfg(feature = "prometheus")]
pub use ::prometheus as prometheus_crate;
