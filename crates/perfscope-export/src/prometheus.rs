//! [`prometheus()`]: serves perfscope's figures at `http://127.0.0.1:9464/metrics` through
//! `metrics-exporter-prometheus`, synced every second by a [`Bridge`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use metrics_exporter_prometheus::{
    BuildError, ExporterFuture, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::ExportError;
use crate::background::DEFAULT_SYNC_INTERVAL;
use crate::bridge::{Bridge, SharedRecorder, bridge};
use crate::families::{self, DEFAULT_MAX_FUNCTIONS, LATENCY_BUCKETS};

/// Where the exporter listens unless told otherwise: 9464, the port OpenTelemetry's
/// Prometheus exporters use, on the loopback interface only.
pub const DEFAULT_ADDRESS: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9464));

/// Starts configuring the Prometheus exporter.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let exporter = perfscope_export::prometheus()
///     .listen("127.0.0.1:9464".parse()?)
///     .allow("127.0.0.1")
///     .install()?;
/// // `curl 127.0.0.1:9464/metrics` now shows perfscope_function_calls_total, ...
/// # drop(exporter);
/// # Ok(())
/// # }
/// ```
pub fn prometheus() -> PrometheusExporterBuilder {
    PrometheusExporterBuilder {
        builder: None,
        listen: None,
        allow: Vec::new(),
        buckets: LATENCY_BUCKETS.to_vec(),
        max_functions: DEFAULT_MAX_FUNCTIONS,
        sync_every: DEFAULT_SYNC_INTERVAL,
    }
}

/// Configures the Prometheus exporter; made by [`prometheus()`].
#[derive(Debug)]
#[must_use = "a builder does nothing until .install() or .start()"]
pub struct PrometheusExporterBuilder {
    builder: Option<PrometheusBuilder>,
    listen: Option<SocketAddr>,
    allow: Vec<String>,
    buckets: Vec<f64>,
    max_functions: usize,
    sync_every: Duration,
}

impl PrometheusExporterBuilder {
    /// The address of the HTTP listener (default [`DEFAULT_ADDRESS`], 127.0.0.1:9464). Port 0
    /// picks a free port; [`PrometheusExporter::address`] tells which.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.listen = Some(address);
        self
    }

    /// Answers only clients in `network`: an IP address (`"10.1.2.3"`) or a CIDR range
    /// (`"10.0.0.0/8"`). May be repeated; without it every client is answered. Others get
    /// `403 Forbidden`. A bad address is reported by `install`/`start`.
    pub fn allow(mut self, network: impl Into<String>) -> Self {
        self.allow.push(network.into());
        self
    }

    /// Starts from your own `PrometheusBuilder` (global labels, other buckets, ...). Its
    /// listener address is kept unless [`listen`](Self::listen) is called too; perfscope adds
    /// the latency buckets of `perfscope_function_duration_seconds` and any
    /// [`allow`](Self::allow)ed networks.
    pub fn with_builder(mut self, builder: PrometheusBuilder) -> Self {
        self.builder = Some(builder);
        self
    }

    /// Upper bounds, in seconds, of `perfscope_function_duration_seconds`' buckets (default
    /// [`LATENCY_BUCKETS`]: 1 µs to 10 s).
    pub fn buckets(mut self, bounds: &[f64]) -> Self {
        self.buckets = bounds.to_vec();
        self
    }

    /// How many functions get their own series (default 1000); later ones are summed under
    /// `function="<other>"`.
    pub fn max_functions(mut self, max: usize) -> Self {
        self.max_functions = max;
        self
    }

    /// Time between two syncs of perfscope's figures into the exporter (default 1 s).
    pub fn sync_every(mut self, interval: Duration) -> Self {
        self.sync_every = interval;
        self
    }

    /// Installs the exporter as the global `metrics` recorder, serves it over HTTP and starts
    /// syncing. Other code's `metrics::counter!` etc. land in the same exposition.
    ///
    /// # Errors
    /// [`ExportError::Listen`] if the address cannot be bound (e.g. already in use),
    /// [`ExportError::RecorderAlreadyInstalled`], or a bad [`allow`](Self::allow) network or
    /// [`buckets`](Self::buckets).
    pub fn install(self) -> Result<PrometheusExporter, ExportError> {
        self.launch(Mode::Global { listen: true })
    }

    /// Like [`install`](Self::install) but without the HTTP listener: serve
    /// [`PrometheusExporter::render`] from your own `/metrics` route.
    ///
    /// # Errors
    /// As [`install`](Self::install), without the listener errors.
    pub fn install_recorder(self) -> Result<PrometheusExporter, ExportError> {
        self.launch(Mode::Global { listen: false })
    }

    /// Serves over HTTP and syncs like [`install`](Self::install), but does not make the
    /// recorder global: for tests, or next to another global recorder. Use
    /// [`PrometheusExporter::with_recorder`] to add your own families to it.
    ///
    /// # Errors
    /// As [`install`](Self::install), except that a global recorder may already exist.
    pub fn start(self) -> Result<PrometheusExporter, ExportError> {
        self.launch(Mode::Local)
    }

    fn prepare(
        &mut self,
        listen: bool,
    ) -> Result<(PrometheusBuilder, Option<SocketAddr>), ExportError> {
        families::check_buckets(&self.buckets).map_err(ExportError::Buckets)?;
        let user_builder = self.builder.is_some();
        let mut builder = match self.builder.take() {
            Some(builder) => builder,
            None => PrometheusBuilder::new().with_http_listener(DEFAULT_ADDRESS),
        };
        builder = builder
            .set_buckets_for_metric(Matcher::Full(families::DURATION.into()), &self.buckets)
            .map_err(|e| ExportError::Buckets(e.to_string()))?;
        for network in &self.allow {
            // metrics-exporter-prometheus takes CIDR ranges only: a bare address is a /32 (/128).
            let cidr = match network.trim().parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => format!("{ip}/32"),
                Ok(IpAddr::V6(ip)) => format!("{ip}/128"),
                Err(_) => network.trim().to_string(),
            };
            builder = builder.add_allowed_address(cidr).map_err(|e| {
                ExportError::AllowedAddress { network: network.clone(), reason: e.to_string() }
            })?;
        }
        let mut address = None;
        if listen {
            if let Some(wanted) = self.listen {
                let resolved = resolve_free_port(wanted)?;
                builder = builder.with_http_listener(resolved);
                address = Some(resolved);
            } else if !user_builder {
                address = Some(DEFAULT_ADDRESS);
            }
        }
        Ok((builder, address))
    }

    fn launch(mut self, mode: Mode) -> Result<PrometheusExporter, ExportError> {
        let listen = !matches!(mode, Mode::Global { listen: false });
        let (builder, address) = self.prepare(listen)?;
        let (recorder, listener) = if listen {
            let (recorder, pending) = PendingListener::bind(builder, address)?;
            (recorder, Some(pending))
        } else {
            (builder.build_recorder(), None)
        };
        let handle = recorder.handle();
        let upkeep_handle = handle.clone();
        let bridge = bridge().max_functions(self.max_functions).sync_every(self.sync_every);
        let (bridge, local) = match mode {
            Mode::Global { .. } => {
                if metrics::set_global_recorder(recorder).is_err() {
                    if let Some(pending) = listener {
                        pending.discard();
                    }
                    return Err(ExportError::RecorderAlreadyInstalled);
                }
                (bridge, false)
            }
            Mode::Local => {
                let recorder: SharedRecorder = Arc::new(recorder);
                (bridge.shared_recorder(recorder), true)
            }
        };
        let bridge = bridge.build_with_upkeep(Some(Box::new(move || upkeep_handle.run_upkeep())));
        let listener = listener.map(PendingListener::spawn).transpose()?;
        bridge.start()?;
        Ok(PrometheusExporter {
            bridge,
            handle,
            address: listener.as_ref().and(address),
            listener: Mutex::new(listener),
            global: !local,
        })
    }
}

enum Mode {
    Global { listen: bool },
    Local,
}

/// Port 0 means "any free port": bind one now to learn which (the exporter binds it again
/// right after; another process could grab it in between, which `install` then reports).
fn resolve_free_port(address: SocketAddr) -> Result<SocketAddr, ExportError> {
    if address.port() != 0 {
        return Ok(address);
    }
    TcpListener::bind(address)
        .and_then(|l| l.local_addr())
        .map_err(|e| ExportError::Listen { address, reason: e.to_string() })
}

/// A bound HTTP listener whose serving thread is not started yet.
struct PendingListener {
    runtime: Runtime,
    exporter: ExporterFuture,
}

impl PendingListener {
    fn bind(
        builder: PrometheusBuilder,
        address: Option<SocketAddr>,
    ) -> Result<(PrometheusRecorder, PendingListener), ExportError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ExportError::Thread { what: "HTTP listener", source })?;
        let built = {
            let _entered = runtime.enter();
            builder.build()
        };
        match built {
            Ok((recorder, exporter)) => Ok((recorder, PendingListener { runtime, exporter })),
            Err(error) => {
                runtime.shutdown_background();
                Err(match (error, address) {
                    (BuildError::FailedToCreateHTTPListener(reason), Some(address)) => {
                        ExportError::Listen { address, reason }
                    }
                    // e.g. the listener of a builder given to `with_builder`, address unknown
                    (other, _) => ExportError::Prometheus(Box::new(other)),
                })
            }
        }
    }

    fn discard(self) {
        drop(self.exporter);
        self.runtime.shutdown_background();
    }

    fn spawn(self) -> Result<Listener, ExportError> {
        let (stop, stopped) = oneshot::channel::<()>();
        let PendingListener { runtime, exporter } = self;
        let thread = thread::Builder::new()
            .name("perfscope-export-http".into())
            .spawn(move || {
                runtime.block_on(async {
                    tokio::select! {
                        _ = exporter => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(|source| ExportError::Thread { what: "HTTP listener", source })?;
        Ok(Listener { stop, thread })
    }
}

/// The running HTTP listener.
struct Listener {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// A running Prometheus exporter; see [`prometheus()`].
///
/// It runs until [`shutdown`](Self::shutdown), also after this handle is dropped.
pub struct PrometheusExporter {
    bridge: Bridge,
    handle: PrometheusHandle,
    address: Option<SocketAddr>,
    listener: Mutex<Option<Listener>>,
    global: bool,
}

impl fmt::Debug for PrometheusExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrometheusExporter")
            .field("address", &self.address)
            .field("global", &self.global)
            .field("bridge", &self.bridge)
            .finish()
    }
}

impl PrometheusExporter {
    /// Where the HTTP listener listens (`None` without one, or with your own builder's
    /// listener, whose address perfscope cannot read).
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// Copies perfscope's latest figures into the exporter now, rather than at the next
    /// background sync.
    pub fn sync_now(&self) {
        self.bridge.sync_now();
    }

    /// Syncs, then renders the exposition (Prometheus text format).
    pub fn render(&self) -> String {
        self.sync_now();
        self.handle.render()
    }

    /// Syncs, then renders the exposition in the Prometheus protobuf format (length-delimited
    /// `io.prometheus.client.MetricFamily` messages), as the listener answers a scrape that
    /// asks for it.
    #[cfg(feature = "protobuf")]
    pub fn render_protobuf(&self) -> Vec<u8> {
        self.sync_now();
        self.handle.render_protobuf()
    }

    /// The underlying recorder's handle (renders without syncing).
    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }

    /// The bridge syncing perfscope's figures into this exporter.
    pub fn bridge(&self) -> &Bridge {
        &self.bridge
    }

    /// Runs `f` with this exporter's recorder as the `metrics` macros' recorder, so families
    /// other code records appear in this exposition. Only needed after
    /// [`start`](PrometheusExporterBuilder::start); an installed exporter is global already.
    pub fn with_recorder<T>(&self, f: impl FnOnce() -> T) -> T {
        self.bridge.with_recorder(f)
    }

    /// Stops syncing and the HTTP listener (its port is free when this returns). A global
    /// recorder stays installed: `metrics` cannot uninstall one.
    pub fn shutdown(&self) {
        self.bridge.stop();
        let listener = self.listener.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(Listener { stop, thread }) = listener {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}
