//! The host's figures (the monitor), after node_exporter's families under a `perfscope_`
//! prefix.

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Busy fraction of the CPUs since the previous sample (0 to 1): without labels for all CPUs,
/// with a `cpu` label (`"0"`, `"1"`, ...) per logical CPU.
pub const NODE_CPU_USAGE_RATIO: Name = Name {
    name: "perfscope_node_cpu_usage_ratio",
    help: "Busy fraction of the CPUs (all, or one per cpu label).",
    unit: FigureUnit::Ratio,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// One-minute load average.
pub const NODE_LOAD1: Name = Name {
    name: "perfscope_node_load1",
    help: "1m load average.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// Five-minute load average.
pub const NODE_LOAD5: Name = Name {
    name: "perfscope_node_load5",
    help: "5m load average.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// Fifteen-minute load average.
pub const NODE_LOAD15: Name = Name {
    name: "perfscope_node_load15",
    help: "15m load average.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// `MemTotal` of `/proc/meminfo`.
pub const NODE_MEMORY_MEMTOTAL_BYTES: Name = Name {
    name: "perfscope_node_memory_mem_total_bytes",
    help: "The host's MemTotal of /proc/meminfo, in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// `MemAvailable`.
pub const NODE_MEMORY_MEMAVAILABLE_BYTES: Name = Name {
    name: "perfscope_node_memory_mem_available_bytes",
    help: "The host's MemAvailable of /proc/meminfo, in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// `MemFree`.
pub const NODE_MEMORY_MEMFREE_BYTES: Name = Name {
    name: "perfscope_node_memory_mem_free_bytes",
    help: "The host's MemFree of /proc/meminfo, in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// `Cached`, the page cache.
pub const NODE_MEMORY_CACHED_BYTES: Name = Name {
    name: "perfscope_node_memory_cached_bytes",
    help: "The host's Cached of /proc/meminfo, in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// `SwapTotal`.
pub const NODE_MEMORY_SWAPTOTAL_BYTES: Name = Name {
    name: "perfscope_node_memory_swap_total_bytes",
    help: "The host's SwapTotal of /proc/meminfo, in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// `SwapFree`.
pub const NODE_MEMORY_SWAPFREE_BYTES: Name = Name {
    name: "perfscope_node_memory_swap_free_bytes",
    help: "The host's SwapFree of /proc/meminfo, in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// Bytes received by a network interface (label `device`).
pub const NODE_NETWORK_RECEIVE_BYTES_TOTAL: Name = Name {
    name: "perfscope_node_network_receive_bytes_total",
    help: "Network device statistic receive_bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::HOST,
};
/// Bytes sent by a network interface (label `device`).
pub const NODE_NETWORK_TRANSMIT_BYTES_TOTAL: Name = Name {
    name: "perfscope_node_network_transmit_bytes_total",
    help: "Network device statistic transmit_bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Counter,
    section: section::HOST,
};
/// Bytes received per second since the previous sample (label `device`).
pub const NODE_NETWORK_RECEIVE_BYTES_PER_SECOND: Name = Name {
    name: "perfscope_node_network_receive_bytes_per_second",
    help: "Bytes received per second, last interval.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// Bytes sent per second since the previous sample (label `device`).
pub const NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND: Name = Name {
    name: "perfscope_node_network_transmit_bytes_per_second",
    help: "Bytes sent per second, last interval.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::HOST,
};
/// A hardware sensor's temperature in degrees Celsius (label `sensor`); only where the host
/// exposes sensors. [`FigureUnit`] has no Celsius, so its unit is `Count` and the name carries it.
pub const NODE_HWMON_TEMP_CELSIUS: Name = Name {
    name: "perfscope_node_hwmon_temp_celsius",
    help: "Hardware monitor for temperature (input).",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::HOST,
};
