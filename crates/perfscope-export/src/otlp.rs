//! `otlp()` (feature `otlp`): pushes perfscope's figures to an OpenTelemetry collector over
//! OTLP/HTTP (protobuf), with the same family names and labels as the Prometheus exporter.
//!
//! perfscope's increments are added to `opentelemetry` instruments by a sync thread (every
//! second by default), and the SDK's periodic reader exports cumulative sums and histograms
//! (every 10 s by default). Time counters keep full precision here (`f64` seconds).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, MeterProvider as _};
use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use perfscope_core::figures::{Figure, FigureKind, HistogramFigure};
use perfscope_core::sync::lock;

use crate::ExportError;
use crate::background::SyncThread;
use crate::families::{self, FUNCTION_LABEL, FamilyUnit, LATENCY_BUCKETS, MODULE_LABEL};
use crate::options::{Common, common_setters};
use crate::source::Source;
use crate::tracker::{Change, Sink, Tracker};

/// Starts configuring the OTLP exporter.
///
/// ```no_run
/// # fn main() -> Result<(), perfscope_export::ExportError> {
/// let exporter = perfscope_export::otlp()
///     .with_endpoint("http://127.0.0.1:4318/v1/metrics")
///     .with_service_name("market-scanner")
///     .install()?;
/// // ... at the end, push what is left:
/// exporter.shutdown()?;
/// # Ok(())
/// # }
/// ```
pub fn otlp() -> OtlpExporterBuilder {
    OtlpExporterBuilder {
        endpoint: None,
        service_name: None,
        export_every: Duration::from_secs(10),
        timeout: Duration::from_secs(10),
        common: Common::default(),
    }
}

/// Configures the OTLP exporter; made by [`otlp()`].
#[derive(Debug)]
#[must_use = "a builder does nothing until .install()"]
pub struct OtlpExporterBuilder {
    endpoint: Option<String>,
    service_name: Option<String>,
    export_every: Duration,
    timeout: Duration,
    common: Common,
}

impl OtlpExporterBuilder {
    /// The collector's full metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`. Default: the
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` environment
    /// variables, else `http://localhost:4318/v1/metrics`.
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The `service.name` resource attribute (default: the SDK's, from `OTEL_SERVICE_NAME`).
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Time between two pushes to the collector (default 10 s).
    pub fn with_export_every(mut self, interval: Duration) -> Self {
        self.export_every = interval;
        self
    }

    /// How long one push may take (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    common_setters!(sync);

    /// Builds the OTLP pipeline and starts syncing and pushing. The meter provider is not
    /// made global; [`OtlpExporter::meter_provider`] gives it to whoever wants it.
    ///
    /// # Errors
    /// [`ExportError::Otlp`] for a bad endpoint, [`ExportError::Thread`] if the sync thread
    /// cannot start.
    pub fn install(self) -> Result<OtlpExporter, ExportError> {
        let mut exporter = MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_timeout(self.timeout);
        if let Some(endpoint) = &self.endpoint {
            exporter = exporter.with_endpoint(endpoint.clone());
        }
        let exporter = exporter.build().map_err(|e| ExportError::Otlp(e.to_string()))?;
        let reader = PeriodicReader::builder(exporter).with_interval(self.export_every).build();
        let mut resource = Resource::builder();
        if let Some(name) = self.service_name {
            resource = resource.with_service_name(name);
        }
        let provider =
            SdkMeterProvider::builder().with_reader(reader).with_resource(resource.build()).build();
        let sink = OtelSink::new(&provider);
        let meter = provider.meter("perfscope");
        let shared = Arc::new(Shared {
            provider,
            state: Mutex::new(State {
                tracker: Tracker::new(self.common.max_functions),
                sink,
                figures: FigureInstruments {
                    meter,
                    gauges: HashMap::new(),
                    counters: HashMap::new(),
                    last: HashMap::new(),
                    histograms: HashMap::new(),
                    last_histograms: HashMap::new(),
                },
            }),
        });
        let syncing = Arc::clone(&shared);
        let thread =
            SyncThread::spawn("perfscope-export-otlp", self.common.sync_every, move || {
                syncing.sync()
            })?;
        Ok(OtlpExporter { shared, thread: Mutex::new(Some(thread)) })
    }
}

/// A running OTLP exporter; see [`otlp()`]. Dropping it stops the sync thread; the meter
/// provider then shuts down, pushing once more, when its last clone is dropped.
pub struct OtlpExporter {
    shared: Arc<Shared>,
    thread: Mutex<Option<SyncThread>>,
}

struct Shared {
    provider: SdkMeterProvider,
    state: Mutex<State>,
}

struct State {
    tracker: Tracker,
    sink: OtelSink,
    figures: FigureInstruments,
}

/// The snapshot's other figures (process, monitor, pools, ...) as OpenTelemetry gauges and
/// counters, one instrument per name; counters get what grew since the previous sync.
struct FigureInstruments {
    meter: opentelemetry::metrics::Meter,
    gauges: HashMap<String, Gauge<f64>>,
    counters: HashMap<String, Counter<f64>>,
    /// Last value of each counter series (name and labels), to add only what is new.
    last: HashMap<(String, Vec<(String, String)>), f64>,
    histograms: HashMap<String, Histogram<f64>>,
    /// Last reading of each histogram series, to record only what is new.
    last_histograms: HashMap<(String, Vec<(String, String)>), perfscope_core::histogram::Histogram>,
}

impl FigureInstruments {
    /// Records what each histogram figure counted since the previous sync: each of
    /// perfscope's buckets (one value each below 128, 1% wide above) as its lowest value, in
    /// the figure's unit; a duration on the functions' bucket bounds (seconds), a count or
    /// bytes on [`families::COUNT_BUCKETS`] or [`families::BYTES_BUCKETS`].
    fn record_histograms(&mut self, histograms: &[HistogramFigure]) {
        for figure in histograms {
            let attributes: Vec<KeyValue> = figure
                .labels
                .iter()
                .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                .collect();
            let key: Vec<(String, String)> =
                figure.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            let name = figure.name.to_string();
            let last = self.last_histograms.entry((name.clone(), key)).or_default();
            let new = figure.histogram.since(last);
            *last = figure.histogram.clone();
            let meter = &self.meter;
            let instrument = self.histograms.entry(name).or_insert_with_key(|name| {
                let bounds = families::histogram_bounds(figure.unit).unwrap_or(&LATENCY_BUCKETS);
                meter
                    .f64_histogram(name.clone())
                    .with_unit(families::otel_unit(figure.unit))
                    .with_description(figure.help)
                    .with_boundaries(bounds.to_vec())
                    .build()
            });
            for (low, _, count) in new.buckets() {
                let value = figure.value_of(low);
                for _ in 0..count {
                    instrument.record(value, &attributes);
                }
            }
        }
    }

    fn record(&mut self, figures: &[Figure]) {
        for figure in figures {
            let attributes: Vec<KeyValue> = figure
                .labels
                .iter()
                .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                .collect();
            let name = figure.name.to_string();
            let unit = families::otel_unit(figure.unit);
            match figure.kind {
                FigureKind::Gauge => {
                    let meter = &self.meter;
                    let gauge = self.gauges.entry(name).or_insert_with_key(|name| {
                        let builder = meter.f64_gauge(name.clone()).with_unit(unit);
                        builder.with_description(figure.help).build()
                    });
                    gauge.record(figure.value, &attributes);
                }
                FigureKind::Counter => {
                    let key: Vec<(String, String)> =
                        figure.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                    let last = self.last.entry((name.clone(), key)).or_insert(0.0);
                    // A total that went down restarted (its source was reset): all of it is new.
                    let delta =
                        if figure.value >= *last { figure.value - *last } else { figure.value };
                    *last = figure.value;
                    let meter = &self.meter;
                    let counter = self.counters.entry(name).or_insert_with_key(|name| {
                        let builder = meter.f64_counter(name.clone()).with_unit(unit);
                        builder.with_description(figure.help).build()
                    });
                    counter.add(delta, &attributes);
                }
            }
        }
    }
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter").field("provider", &self.shared.provider).finish()
    }
}

impl Shared {
    fn sync(&self) {
        let mut state = lock(&self.state);
        let source = Source::read();
        let State { tracker, sink, figures } = &mut *state;
        tracker.update(source.readings(), source.resets(), source.seconds_per_tick(), sink);
        figures.record(source.figures());
        figures.record_histograms(source.histograms());
    }
}

impl OtlpExporter {
    /// Copies perfscope's latest figures into the instruments now (they are pushed at the
    /// next export, or by [`flush`](Self::flush)).
    pub fn sync_now(&self) {
        self.shared.sync();
    }

    /// Syncs and pushes to the collector now, waiting for the answer.
    ///
    /// # Errors
    /// [`ExportError::Otlp`] if the push failed (collector unreachable, refused, timeout).
    pub fn flush(&self) -> Result<(), ExportError> {
        self.sync_now();
        self.shared.provider.force_flush().map_err(|e| ExportError::Otlp(e.to_string()))
    }

    /// The SDK meter provider (e.g. for `opentelemetry::global::set_meter_provider`).
    pub fn meter_provider(&self) -> &SdkMeterProvider {
        &self.shared.provider
    }

    /// Stops syncing, pushes what is left and shuts the pipeline down.
    ///
    /// # Errors
    /// [`ExportError::Otlp`] if the last push failed.
    pub fn shutdown(&self) -> Result<(), ExportError> {
        self.stop_thread();
        self.sync_now();
        self.shared.provider.shutdown().map_err(|e| ExportError::Otlp(e.to_string()))
    }

    fn stop_thread(&self) {
        if let Some(thread) = lock(&self.thread).take() {
            thread.stop();
        }
    }
}

impl Drop for OtlpExporter {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// OpenTelemetry instruments, one per family.
struct OtelSink {
    calls: Counter<u64>,
    panics: Counter<u64>,
    self_seconds: Counter<f64>,
    busy_seconds: Counter<f64>,
    alloc_bytes: Counter<u64>,
    allocations: Counter<u64>,
    duration: Histogram<f64>,
    attributes: Vec<Vec<KeyValue>>,
}

impl OtelSink {
    fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("perfscope");
        let family = |name: &str| {
            families::FAMILIES
                .iter()
                .find(|f| f.name == name)
                .copied()
                .unwrap_or(families::FAMILIES[0])
        };
        let u64_counter = |name: &'static str| {
            let f = family(name);
            meter.u64_counter(name).with_unit(f.unit.otel_unit()).with_description(f.help).build()
        };
        let f64_counter = |name: &'static str| {
            let f = family(name);
            meter.f64_counter(name).with_unit(f.unit.otel_unit()).with_description(f.help).build()
        };
        let duration = family(families::DURATION);
        OtelSink {
            calls: u64_counter(families::CALLS),
            panics: u64_counter(families::PANICS),
            self_seconds: f64_counter(families::SELF_SECONDS),
            busy_seconds: f64_counter(families::BUSY_SECONDS),
            alloc_bytes: u64_counter(families::ALLOC_BYTES),
            allocations: u64_counter(families::ALLOCATIONS),
            duration: meter
                .f64_histogram(families::DURATION)
                .with_unit(FamilyUnit::Seconds.otel_unit())
                .with_description(duration.help)
                .with_boundaries(LATENCY_BUCKETS.to_vec())
                .build(),
            attributes: Vec::new(),
        }
    }
}

impl Sink for OtelSink {
    fn apply(&mut self, change: &Change<'_>) {
        if self.attributes.len() <= change.index {
            self.attributes.resize_with(change.index + 1, Vec::new);
        }
        let attributes = &mut self.attributes[change.index];
        if attributes.is_empty() {
            *attributes = vec![
                KeyValue::new(FUNCTION_LABEL, change.labels.function.clone()),
                KeyValue::new(MODULE_LABEL, change.labels.module.clone()),
            ];
        }
        let (a, b) = (&change.after, &change.before);
        let seconds = |after: u64, before: u64| after.saturating_sub(before) as f64 / 1e9;
        // Adding 0 still creates the series, so every family shows every function.
        self.calls.add(a.calls.saturating_sub(b.calls), attributes);
        self.panics.add(a.panics.saturating_sub(b.panics), attributes);
        self.self_seconds.add(seconds(a.self_ns, b.self_ns), attributes);
        self.busy_seconds.add(seconds(a.busy_ns, b.busy_ns), attributes);
        self.alloc_bytes.add(a.alloc_bytes.saturating_sub(b.alloc_bytes), attributes);
        self.allocations.add(a.allocations.saturating_sub(b.allocations), attributes);
        for &(ticks, count) in change.latency {
            let value = ticks as f64 * change.seconds_per_tick;
            for _ in 0..count {
                self.duration.record(value, attributes);
            }
        }
    }
}
