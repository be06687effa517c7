//! [`prometheus()`]: serves perfscope's figures at `http://127.0.0.1:9464/metrics`.
//!
//! A scrape reads a fresh snapshot (no background thread, nothing stale): perfscope's
//! families are a [`prometheus::core::Collector`] in a `prometheus::Registry`, whose counters
//! are floats, so time totals are exact to the nanosecond. Other code's `metrics::counter!`s
//! etc. reach the same registry through `metrics-prometheus`. A scrape is encoded by
//! perfscope's own encoders ([`encode_text`], [`encode_protobuf`]: the `prometheus` crate's
//! output byte for byte, 1.6–6× faster), which write perfscope's function families straight
//! from the exported series (the registry gathers placeholders for them), and the listener
//! writes each page into the buffer the previous one used (see `BENCHMARKS.md`, issue 26).

mod collector;
mod debug;
mod direct;
mod http;
mod page;
mod proto;
mod text;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use metrics_prometheus::failure::strategy::NoOp;
use perfscope_core::sync::lock;

use crate::ExportError;
use crate::families::{self, LATENCY_BUCKETS};
use crate::options::{Common, common_setters};
use collector::FunctionCollector;
use http::{Listener, Served};

pub use debug::{DEBUG_PATH, DEFAULT_DEBUG_SECONDS, MAX_DEBUG_SECONDS};
pub use http::PROTOBUF_FORMAT;

/// The Prometheus text exposition (0.0.4) of gathered families (as
/// `prometheus::Registry::gather` returns them): byte for byte what
/// `prometheus::TextEncoder` writes, in a fraction of its time (see `BENCHMARKS.md`). What
/// [`PrometheusExporter::render`] and the listener answer. Families after one without samples
/// or name (which `gather` never returns) are left out, as that encoder does.
pub fn encode_text(families: &[prometheus::proto::MetricFamily]) -> String {
    let mut out = String::new();
    text::encode_text_into(families, &mut out);
    out
}

/// [`encode_text`] appended to `out`, e.g. a buffer kept across scrapes (whose memory is then
/// mapped already). Returns `false` if it stopped at a family without samples or name.
pub fn encode_text_into(families: &[prometheus::proto::MetricFamily], out: &mut String) -> bool {
    text::encode_text_into(families, out)
}

/// The Prometheus protobuf exposition (length-delimited `MetricFamily` messages) of gathered
/// families: byte for byte what `prometheus::ProtobufEncoder` writes, faster. What
/// [`PrometheusExporter::render_protobuf`] and the listener answer. Families after one
/// without samples or name are left out, as that encoder does.
pub fn encode_protobuf(families: &[prometheus::proto::MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    proto::encode_protobuf_into(families, &mut out);
    out
}

/// Where the exporter listens unless told otherwise: 9464, the port OpenTelemetry's
/// Prometheus exporters use, on the loopback interface only.
pub const DEFAULT_ADDRESS: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9464));

/// Starts configuring the Prometheus exporter.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let exporter = perfscope_export::prometheus()
///     .with_address("127.0.0.1:9464".parse()?)
///     .with_allowed("127.0.0.1")
///     .install()?;
/// // `curl 127.0.0.1:9464/metrics` now shows perfscope_function_calls_total, ...
/// # drop(exporter);
/// # Ok(())
/// # }
/// ```
pub fn prometheus() -> PrometheusExporterBuilder {
    PrometheusExporterBuilder {
        registry: None,
        listen: DEFAULT_ADDRESS,
        allow: Vec::new(),
        buckets: LATENCY_BUCKETS.to_vec(),
        debug: false,
        common: Common::default(),
    }
}

/// Configures the Prometheus exporter; made by [`prometheus()`].
#[derive(Debug)]
#[must_use = "a builder does nothing until .install() or .start()"]
pub struct PrometheusExporterBuilder {
    registry: Option<prometheus::Registry>,
    listen: SocketAddr,
    allow: Vec<String>,
    buckets: Vec<f64>,
    debug: bool,
    common: Common,
}

impl PrometheusExporterBuilder {
    /// The address of the HTTP listener (default [`DEFAULT_ADDRESS`], 127.0.0.1:9464). Port 0
    /// picks a free port; [`PrometheusExporter::address`] tells which.
    pub fn with_address(mut self, address: SocketAddr) -> Self {
        self.listen = address;
        self
    }

    /// Answers only clients in `network`: an IP address (`"10.1.2.3"`) or a CIDR range
    /// (`"10.0.0.0/8"`). May be repeated; without it every client is answered. Others get
    /// `403 Forbidden`. A bad address is reported by `install`/`start`.
    pub fn with_allowed(mut self, network: impl Into<String>) -> Self {
        self.allow.push(network.into());
        self
    }

    /// Registers perfscope's families in your own `prometheus::Registry` (made with
    /// `Registry::new_custom` for a prefix or labels on every series, or holding your own
    /// `prometheus` metrics) instead of a new one.
    pub fn with_registry(mut self, registry: prometheus::Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Upper bounds, in seconds, of `perfscope_function_duration_seconds`' buckets (default
    /// [`LATENCY_BUCKETS`]: 1 µs to 10 s).
    pub fn with_buckets(mut self, bounds: &[f64]) -> Self {
        self.buckets = bounds.to_vec();
        self
    }

    /// Also serves `GET /debug/perfscope/report?seconds=N&format=json|html|folded|table`
    /// (off by default; the same allow-list): the report of the next N seconds (default
    /// [`DEFAULT_DEBUG_SECONDS`], at most [`MAX_DEBUG_SECONDS`]), a session of its own — nothing
    /// is reset. One window at a time (`429` meanwhile), `400` for a bad query string;
    /// `/metrics` is answered meanwhile.
    pub fn with_debug_endpoint(mut self) -> Self {
        self.debug = true;
        self
    }

    common_setters!();

    /// Serves over HTTP and installs the global `metrics` recorder, so other code's
    /// `metrics::counter!` etc. land in the same exposition.
    ///
    /// # Errors
    /// [`ExportError::Listen`] if the address cannot be bound (e.g. already in use),
    /// [`ExportError::RecorderAlreadyInstalled`], or a bad [`with_allowed`](Self::with_allowed) network or
    /// [`with_buckets`](Self::with_buckets).
    pub fn install(self) -> Result<PrometheusExporter, ExportError> {
        self.launch(true, true)
    }

    /// Like [`install`](Self::install) but without the HTTP listener: serve
    /// [`PrometheusExporter::render`] from your own `/metrics` route.
    ///
    /// # Errors
    /// As [`install`](Self::install), without the listener errors.
    pub fn install_recorder(self) -> Result<PrometheusExporter, ExportError> {
        self.launch(true, false)
    }

    /// Serves over HTTP like [`install`](Self::install), but does not install the global
    /// recorder: for tests, or next to another global recorder. Use
    /// [`PrometheusExporter::with_local_recorder`] to add your own families to it.
    ///
    /// # Errors
    /// As [`install`](Self::install), except that a global recorder may already exist.
    pub fn start(self) -> Result<PrometheusExporter, ExportError> {
        self.launch(false, true)
    }

    fn launch(self, global: bool, listen: bool) -> Result<PrometheusExporter, ExportError> {
        families::check_buckets(&self.buckets).map_err(ExportError::Buckets)?;
        let allow = self
            .allow
            .iter()
            .map(|network| parse_network(network))
            .collect::<Result<Vec<_>, _>>()?;
        let registry = self.registry.unwrap_or_default();
        let collector = FunctionCollector::new(self.common.max_functions, &self.buckets)
            .map_err(|e| ExportError::Prometheus(Box::new(e)))?;
        let state = collector.state();
        registry.register(Box::new(collector)).map_err(|e| ExportError::Prometheus(Box::new(e)))?;
        // A user's metric whose name or labels the registry refuses becomes a no-op: a
        // recorder must never panic the program.
        let builder = metrics_prometheus::Recorder::builder()
            .with_registry(&registry)
            .with_failure_strategy(NoOp);
        let recorder = if global {
            builder.try_build_and_install().map_err(|_| ExportError::RecorderAlreadyInstalled)?
        } else {
            builder.build()
        };
        let debug = self.debug.then(debug::Debug::new);
        let served = Arc::new(Served {
            registry: registry.clone(),
            state: state.clone(),
            allow,
            debug,
            pages: http::Pages::default(),
        });
        let (listener, address) = if listen {
            let (listener, address) = Listener::start(self.listen, served)?;
            (Some(listener), Some(address))
        } else {
            (None, None)
        };
        Ok(PrometheusExporter {
            registry,
            state,
            recorder,
            address,
            listener: Mutex::new(listener),
            global,
        })
    }
}

/// `"10.1.2.3"` (one address) or `"10.0.0.0/8"`.
fn parse_network(network: &str) -> Result<IpNet, ExportError> {
    let text = network.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|e| ExportError::AllowedAddress { network: network.into(), reason: e.to_string() })
}

/// A running Prometheus exporter; see [`prometheus()`].
///
/// The listener runs until [`shutdown`](Self::shutdown), also after this handle is dropped.
pub struct PrometheusExporter {
    registry: prometheus::Registry,
    state: collector::State,
    recorder: metrics_prometheus::Recorder<NoOp>,
    address: Option<SocketAddr>,
    listener: Mutex<Option<Listener>>,
    global: bool,
}

impl fmt::Debug for PrometheusExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrometheusExporter")
            .field("address", &self.address)
            .field("global", &self.global)
            .finish_non_exhaustive()
    }
}

impl PrometheusExporter {
    /// Where the HTTP listener listens (`None` without one).
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// The exposition in the Prometheus text format (version 0.0.4), as `GET /metrics`
    /// answers it, read from a fresh snapshot.
    pub fn render(&self) -> String {
        http::render_text(&self.registry, &self.state)
    }

    /// [`render`](Self::render) appended to `out`: keep `out` across scrapes to write a big
    /// page into memory mapped already (as the listener does), e.g. from your own route.
    pub fn render_into(&self, out: &mut String) {
        direct::render_text(&self.registry, &self.state, out);
    }

    /// The exposition in the Prometheus protobuf format (length-delimited
    /// `io.prometheus.client.MetricFamily` messages, [`PROTOBUF_FORMAT`]), as the listener
    /// answers a scrape that asks for it.
    pub fn render_protobuf(&self) -> Vec<u8> {
        http::render_protobuf(&self.registry, &self.state)
    }

    /// The registry holding perfscope's families and what other code recorded through
    /// `metrics`; register your own `prometheus` metrics in it.
    pub fn registry(&self) -> &prometheus::Registry {
        &self.registry
    }

    /// Runs `f` with this exporter's recorder as the `metrics` macros' recorder, so families
    /// other code records appear in this exposition. Only needed after
    /// [`start`](PrometheusExporterBuilder::start); an installed exporter is global already.
    pub fn with_local_recorder<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// Stops the HTTP listener (its port is free when this returns). A global recorder stays
    /// installed: `metrics` cannot uninstall one.
    pub fn shutdown(&self) {
        let listener = lock(&self.listener).take();
        if let Some(listener) = listener {
            listener.stop();
        }
    }
}
