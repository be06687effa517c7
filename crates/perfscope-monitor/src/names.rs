//! The exported names of the monitor's figures.
//!
//! Process figures are named as Prometheus client libraries name them (`process_*`; the
//! thread count, `process_threads`, and the heap in use come from `perfscope-core` already).
//! Host figures follow node_exporter's families under a `perfscope_` prefix. Base units,
//! `_total` on counters.

/// Section of the host's figures.
pub const HOST: &str = "host";
/// Section of this process's figures.
pub const PROCESS: &str = "process";
/// Section of the tokio runtime's figures.
pub const TOKIO: &str = "tokio";
/// Section of the traffic figures of the functions named by `with_traffic`.
pub const TRAFFIC: &str = "traffic";
/// Section of per-function events (anomalies, recommendations).
pub const FUNCTION: &str = "function";

/// Resident set size of this process (gauge, bytes).
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
/// Virtual memory size of this process (gauge, bytes).
pub const PROCESS_VIRTUAL_MEMORY_BYTES: &str = "process_virtual_memory_bytes";
/// User plus system CPU time of this process (counter, seconds).
pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
/// Open file descriptors of this process (gauge).
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";

/// Busy fraction of the CPUs since the previous sample (gauge, 0 to 1): without labels for
/// all CPUs, with a `cpu` label (`"0"`, `"1"`, ...) per logical CPU.
pub const NODE_CPU_USAGE_RATIO: &str = "perfscope_node_cpu_usage_ratio";
/// One-minute load average (gauge).
pub const NODE_LOAD1: &str = "perfscope_node_load1";
/// Five-minute load average (gauge).
pub const NODE_LOAD5: &str = "perfscope_node_load5";
/// Fifteen-minute load average (gauge).
pub const NODE_LOAD15: &str = "perfscope_node_load15";
/// `MemTotal` of `/proc/meminfo` (gauge, bytes).
pub const NODE_MEMORY_MEMTOTAL_BYTES: &str = "perfscope_node_memory_MemTotal_bytes";
/// `MemAvailable` (gauge, bytes).
pub const NODE_MEMORY_MEMAVAILABLE_BYTES: &str = "perfscope_node_memory_MemAvailable_bytes";
/// `MemFree` (gauge, bytes).
pub const NODE_MEMORY_MEMFREE_BYTES: &str = "perfscope_node_memory_MemFree_bytes";
/// `Cached`, the page cache (gauge, bytes).
pub const NODE_MEMORY_CACHED_BYTES: &str = "perfscope_node_memory_Cached_bytes";
/// `SwapTotal` (gauge, bytes).
pub const NODE_MEMORY_SWAPTOTAL_BYTES: &str = "perfscope_node_memory_SwapTotal_bytes";
/// `SwapFree` (gauge, bytes).
pub const NODE_MEMORY_SWAPFREE_BYTES: &str = "perfscope_node_memory_SwapFree_bytes";
/// Bytes received by a network interface (counter, `device` label).
pub const NODE_NETWORK_RECEIVE_BYTES_TOTAL: &str = "perfscope_node_network_receive_bytes_total";
/// Bytes sent by a network interface (counter, `device` label).
pub const NODE_NETWORK_TRANSMIT_BYTES_TOTAL: &str = "perfscope_node_network_transmit_bytes_total";
/// Bytes received per second since the previous sample (gauge, `device` label).
pub const NODE_NETWORK_RECEIVE_BYTES_PER_SECOND: &str =
    "perfscope_node_network_receive_bytes_per_second";
/// Bytes sent per second since the previous sample (gauge, `device` label).
pub const NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND: &str =
    "perfscope_node_network_transmit_bytes_per_second";
/// A hardware sensor's temperature in degrees Celsius (gauge, `sensor` label); only where the
/// host exposes sensors, absent otherwise. `perfscope_core::figures::Unit` has no Celsius, so
/// its unit is `Count` and the name carries the unit.
pub const NODE_HWMON_TEMP_CELSIUS: &str = "perfscope_node_hwmon_temp_celsius";

/// Worker threads of the tokio runtime (gauge).
pub const TOKIO_WORKERS: &str = "perfscope_tokio_workers";
/// Tasks alive in the runtime (gauge).
pub const TOKIO_ALIVE_TASKS: &str = "perfscope_tokio_alive_tasks";
/// Tasks waiting in the runtime's global (injection) queue (gauge).
pub const TOKIO_GLOBAL_QUEUE_DEPTH: &str = "perfscope_tokio_global_queue_depth";
/// Busy fraction of the workers since the previous sample (gauge, 0 to 1): without labels
/// for the mean over workers, with a `worker` label (`"0"`, `"1"`, ...) per worker.
pub const TOKIO_WORKER_BUSY_RATIO: &str = "perfscope_tokio_worker_busy_ratio";
/// Times a worker parked (counter, `worker` label).
pub const TOKIO_WORKER_PARK_TOTAL: &str = "perfscope_tokio_worker_park_total";

/// Completed calls per second of a named function in the last interval (gauge, `function`).
pub const TRAFFIC_REQUESTS_PER_SECOND: &str = "perfscope_traffic_requests_per_second";
/// Median latency of a named function's calls completed in the last interval (gauge,
/// seconds, `function`); absent when no call completed.
pub const TRAFFIC_LATENCY_P50_SECONDS: &str = "perfscope_traffic_latency_p50_seconds";
/// 99th percentile of the same (gauge, seconds, `function`).
pub const TRAFFIC_LATENCY_P99_SECONDS: &str = "perfscope_traffic_latency_p99_seconds";

/// Median latency of one of the most called measured functions' calls completed in an
/// interval (seconds, section `function`, label `function`): history only, for the reports'
/// latency heatmap; not in snapshots' figures, so no exporter sees it. The top
/// [`LATENCY_FUNCTIONS`](crate::LATENCY_FUNCTIONS) functions by calls have one.
pub const FUNCTION_LATENCY_P50_SECONDS: &str = "perfscope_function_latency_p50_seconds";
/// 99th percentile of the same (history only).
pub const FUNCTION_LATENCY_P99_SECONDS: &str = "perfscope_function_latency_p99_seconds";

/// Every figure name the monitor exports (`perfscope-export`'s `families::MONITOR_NAMES` must
/// hold each; a test checks it).
pub const ALL: [&str; 27] = [
    PROCESS_RESIDENT_MEMORY_BYTES,
    PROCESS_VIRTUAL_MEMORY_BYTES,
    PROCESS_CPU_SECONDS_TOTAL,
    PROCESS_OPEN_FDS,
    NODE_CPU_USAGE_RATIO,
    NODE_LOAD1,
    NODE_LOAD5,
    NODE_LOAD15,
    NODE_MEMORY_MEMTOTAL_BYTES,
    NODE_MEMORY_MEMAVAILABLE_BYTES,
    NODE_MEMORY_MEMFREE_BYTES,
    NODE_MEMORY_CACHED_BYTES,
    NODE_MEMORY_SWAPTOTAL_BYTES,
    NODE_MEMORY_SWAPFREE_BYTES,
    NODE_NETWORK_RECEIVE_BYTES_TOTAL,
    NODE_NETWORK_TRANSMIT_BYTES_TOTAL,
    NODE_NETWORK_RECEIVE_BYTES_PER_SECOND,
    NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND,
    NODE_HWMON_TEMP_CELSIUS,
    TOKIO_WORKERS,
    TOKIO_ALIVE_TASKS,
    TOKIO_GLOBAL_QUEUE_DEPTH,
    TOKIO_WORKER_BUSY_RATIO,
    TOKIO_WORKER_PARK_TOTAL,
    TRAFFIC_REQUESTS_PER_SECOND,
    TRAFFIC_LATENCY_P50_SECONDS,
    TRAFFIC_LATENCY_P99_SECONDS,
];

/// The help text of each name (one sentence for `# HELP`).
pub(crate) fn help(name: &str) -> &'static str {
    match name {
        PROCESS_RESIDENT_MEMORY_BYTES => "Resident memory size in bytes.",
        PROCESS_VIRTUAL_MEMORY_BYTES => "Virtual memory size in bytes.",
        PROCESS_CPU_SECONDS_TOTAL => "Total user and system CPU time spent in seconds.",
        PROCESS_OPEN_FDS => "Number of open file descriptors.",
        NODE_CPU_USAGE_RATIO => "Busy fraction of the CPUs (all, or one per cpu label).",
        NODE_LOAD1 => "1m load average.",
        NODE_LOAD5 => "5m load average.",
        NODE_LOAD15 => "15m load average.",
        NODE_MEMORY_MEMTOTAL_BYTES => "Memory information field MemTotal_bytes.",
        NODE_MEMORY_MEMAVAILABLE_BYTES => "Memory information field MemAvailable_bytes.",
        NODE_MEMORY_MEMFREE_BYTES => "Memory information field MemFree_bytes.",
        NODE_MEMORY_CACHED_BYTES => "Memory information field Cached_bytes.",
        NODE_MEMORY_SWAPTOTAL_BYTES => "Memory information field SwapTotal_bytes.",
        NODE_MEMORY_SWAPFREE_BYTES => "Memory information field SwapFree_bytes.",
        NODE_NETWORK_RECEIVE_BYTES_TOTAL => "Network device statistic receive_bytes.",
        NODE_NETWORK_TRANSMIT_BYTES_TOTAL => "Network device statistic transmit_bytes.",
        NODE_NETWORK_RECEIVE_BYTES_PER_SECOND => "Bytes received per second, last interval.",
        NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND => "Bytes sent per second, last interval.",
        NODE_HWMON_TEMP_CELSIUS => "Hardware monitor for temperature (input).",
        TOKIO_WORKERS => "Worker threads of the tokio runtime.",
        TOKIO_ALIVE_TASKS => "Tasks alive in the tokio runtime.",
        TOKIO_GLOBAL_QUEUE_DEPTH => "Tasks waiting in the tokio runtime's global queue.",
        TOKIO_WORKER_BUSY_RATIO => {
            "Busy fraction of tokio workers (mean, or one per worker label)."
        }
        TOKIO_WORKER_PARK_TOTAL => "Times a tokio worker parked.",
        TRAFFIC_REQUESTS_PER_SECOND => "Completed calls per second, last interval.",
        TRAFFIC_LATENCY_P50_SECONDS => "Median call latency in seconds, last interval.",
        TRAFFIC_LATENCY_P99_SECONDS => "99th percentile call latency in seconds, last interval.",
        FUNCTION_LATENCY_P50_SECONDS => "Median call latency in seconds, per interval.",
        FUNCTION_LATENCY_P99_SECONDS => "99th percentile call latency in seconds, per interval.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions_and_have_help() {
        for name in ALL {
            let prefixes =
                ["process_", "perfscope_node_", "perfscope_tokio_", "perfscope_traffic_"];
            assert!(prefixes.iter().any(|p| name.starts_with(p)), "{name}");
            assert!(!help(name).is_empty(), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}");
        }
    }
}
