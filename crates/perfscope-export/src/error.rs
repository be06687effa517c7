//! [`ExportError`]: everything that can stop an exporter from starting.

use std::net::SocketAddr;

/// Why an exporter could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The HTTP listener's address could not be bound.
    #[error(
        "cannot listen on {address}: {reason} (is another exporter or program using it? choose another address with .with_address(..))"
    )]
    Listen {
        /// The address asked for.
        address: SocketAddr,
        /// What the OS said.
        reason: String,
    },
    /// An [`with_allowed`](crate::PrometheusExporterBuilder::with_allowed) network is not an IP address or
    /// CIDR range.
    #[error(
        "cannot allow {network:?}: {reason} (expected an IP address such as \"10.1.2.3\" or a range such as \"10.0.0.0/8\")"
    )]
    AllowedAddress {
        /// The text given.
        network: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A global `metrics` recorder exists already, and there can be only one.
    #[error(
        "a global `metrics` recorder is installed already: use perfscope_export::bridge() to sync into it, or .start() for an exporter that is not global"
    )]
    RecorderAlreadyInstalled,
    /// Histogram bucket bounds are empty, not finite, or not increasing.
    #[error("invalid latency buckets: {0}")]
    Buckets(String),
    /// A background thread (or the listener's runtime) could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The `prometheus` registry refused perfscope's families (e.g. a registry given to
    /// [`with_registry`](crate::PrometheusExporterBuilder::with_registry) holds those names already).
    #[cfg(feature = "prometheus")]
    #[error("prometheus exporter: {0}")]
    Prometheus(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The OTLP exporter could not be built or flushed.
    #[cfg(feature = "otlp")]
    #[error("OTLP exporter: {0}")]
    Otlp(String),
}
