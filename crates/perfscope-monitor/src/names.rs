//! The exported names of the monitor's figures, as `&str`: each is its entry's name in
//! perfscope's one catalog, [`perfscope_core::names`], which also holds its help text, unit
//! and type (see `docs/names.md`).
//!
//! Process figures are named as Prometheus client libraries name them (`process_*`; the
//! thread count and the heap in use come from `perfscope-core` already). Host figures follow
//! node_exporter's families under a `perfscope_` prefix. Base units, `_total` on counters.

use perfscope_core::names::{self as catalog, section};

/// Section of the host's figures.
pub const HOST: &str = section::HOST;
/// Section of this process's figures.
pub const PROCESS: &str = section::PROCESS;
/// Section of the tokio runtime's figures.
pub const TOKIO: &str = section::TOKIO;
/// Section of the traffic of the functions named by `with_traffic`.
pub const TRAFFIC: &str = section::TRAFFIC;
/// Section of per-function events (anomalies, recommendations) and latency history.
pub const FUNCTION: &str = section::FUNCTION;

/// [`catalog::PROCESS_RESIDENT_MEMORY_BYTES`]'s name.
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = catalog::PROCESS_RESIDENT_MEMORY_BYTES.name;
/// [`catalog::PROCESS_VIRTUAL_MEMORY_BYTES`]'s name.
pub const PROCESS_VIRTUAL_MEMORY_BYTES: &str = catalog::PROCESS_VIRTUAL_MEMORY_BYTES.name;
/// [`catalog::PROCESS_CPU_SECONDS_TOTAL`]'s name.
pub const PROCESS_CPU_SECONDS_TOTAL: &str = catalog::PROCESS_CPU_SECONDS_TOTAL.name;
/// [`catalog::PROCESS_OPEN_FDS`]'s name.
pub const PROCESS_OPEN_FDS: &str = catalog::PROCESS_OPEN_FDS.name;
/// [`catalog::NODE_CPU_USAGE_RATIO`]'s name.
pub const NODE_CPU_USAGE_RATIO: &str = catalog::NODE_CPU_USAGE_RATIO.name;
/// [`catalog::NODE_LOAD1`]'s name.
pub const NODE_LOAD1: &str = catalog::NODE_LOAD1.name;
/// [`catalog::NODE_LOAD5`]'s name.
pub const NODE_LOAD5: &str = catalog::NODE_LOAD5.name;
/// [`catalog::NODE_LOAD15`]'s name.
pub const NODE_LOAD15: &str = catalog::NODE_LOAD15.name;
/// [`catalog::NODE_MEMORY_MEMTOTAL_BYTES`]'s name.
pub const NODE_MEMORY_MEMTOTAL_BYTES: &str = catalog::NODE_MEMORY_MEMTOTAL_BYTES.name;
/// [`catalog::NODE_MEMORY_MEMAVAILABLE_BYTES`]'s name.
pub const NODE_MEMORY_MEMAVAILABLE_BYTES: &str = catalog::NODE_MEMORY_MEMAVAILABLE_BYTES.name;
/// [`catalog::NODE_MEMORY_MEMFREE_BYTES`]'s name.
pub const NODE_MEMORY_MEMFREE_BYTES: &str = catalog::NODE_MEMORY_MEMFREE_BYTES.name;
/// [`catalog::NODE_MEMORY_CACHED_BYTES`]'s name.
pub const NODE_MEMORY_CACHED_BYTES: &str = catalog::NODE_MEMORY_CACHED_BYTES.name;
/// [`catalog::NODE_MEMORY_SWAPTOTAL_BYTES`]'s name.
pub const NODE_MEMORY_SWAPTOTAL_BYTES: &str = catalog::NODE_MEMORY_SWAPTOTAL_BYTES.name;
/// [`catalog::NODE_MEMORY_SWAPFREE_BYTES`]'s name.
pub const NODE_MEMORY_SWAPFREE_BYTES: &str = catalog::NODE_MEMORY_SWAPFREE_BYTES.name;
/// [`catalog::NODE_NETWORK_RECEIVE_BYTES_TOTAL`]'s name.
pub const NODE_NETWORK_RECEIVE_BYTES_TOTAL: &str = catalog::NODE_NETWORK_RECEIVE_BYTES_TOTAL.name;
/// [`catalog::NODE_NETWORK_TRANSMIT_BYTES_TOTAL`]'s name.
pub const NODE_NETWORK_TRANSMIT_BYTES_TOTAL: &str = catalog::NODE_NETWORK_TRANSMIT_BYTES_TOTAL.name;
/// [`catalog::NODE_NETWORK_RECEIVE_BYTES_PER_SECOND`]'s name.
pub const NODE_NETWORK_RECEIVE_BYTES_PER_SECOND: &str =
    catalog::NODE_NETWORK_RECEIVE_BYTES_PER_SECOND.name;
/// [`catalog::NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND`]'s name.
pub const NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND: &str =
    catalog::NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND.name;
/// [`catalog::NODE_HWMON_TEMP_CELSIUS`]'s name.
pub const NODE_HWMON_TEMP_CELSIUS: &str = catalog::NODE_HWMON_TEMP_CELSIUS.name;
/// [`catalog::TOKIO_WORKERS`]'s name.
pub const TOKIO_WORKERS: &str = catalog::TOKIO_WORKERS.name;
/// [`catalog::TOKIO_ALIVE_TASKS`]'s name.
pub const TOKIO_ALIVE_TASKS: &str = catalog::TOKIO_ALIVE_TASKS.name;
/// [`catalog::TOKIO_GLOBAL_QUEUE_DEPTH`]'s name.
pub const TOKIO_GLOBAL_QUEUE_DEPTH: &str = catalog::TOKIO_GLOBAL_QUEUE_DEPTH.name;
/// [`catalog::TOKIO_WORKER_BUSY_RATIO`]'s name.
pub const TOKIO_WORKER_BUSY_RATIO: &str = catalog::TOKIO_WORKER_BUSY_RATIO.name;
/// [`catalog::TOKIO_WORKER_PARK_TOTAL`]'s name.
pub const TOKIO_WORKER_PARK_TOTAL: &str = catalog::TOKIO_WORKER_PARK_TOTAL.name;
/// [`catalog::TRAFFIC_REQUESTS_PER_SECOND`]'s name.
pub const TRAFFIC_REQUESTS_PER_SECOND: &str = catalog::TRAFFIC_REQUESTS_PER_SECOND.name;
/// [`catalog::TRAFFIC_LATENCY_P50_SECONDS`]'s name.
pub const TRAFFIC_LATENCY_P50_SECONDS: &str = catalog::TRAFFIC_LATENCY_P50_SECONDS.name;
/// [`catalog::TRAFFIC_LATENCY_P99_SECONDS`]'s name.
pub const TRAFFIC_LATENCY_P99_SECONDS: &str = catalog::TRAFFIC_LATENCY_P99_SECONDS.name;
/// [`catalog::FUNCTION_LATENCY_P50_SECONDS`]'s name. History only (not in snapshots' figures);
/// the top [`LATENCY_FUNCTIONS`](crate::LATENCY_FUNCTIONS) functions by calls have one.
pub const FUNCTION_LATENCY_P50_SECONDS: &str = catalog::FUNCTION_LATENCY_P50_SECONDS.name;
/// [`catalog::FUNCTION_LATENCY_P99_SECONDS`]'s name.
pub const FUNCTION_LATENCY_P99_SECONDS: &str = catalog::FUNCTION_LATENCY_P99_SECONDS.name;
