//! [`SystemFigures`]: the seed's `PerformanceMetrics` as one typed value — CPU, memory,
//! network and database — computed from the report's figures. A field whose figure the
//! report does not have (no monitor, no pool, no traffic followed) is `None`, never zero.

use std::time::Duration;

use perfscope_core::names;

use super::label;
use crate::report::{FigureStats, Report};

/// The host's CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuFigures {
    /// Busy fraction of all CPUs, 0 to 1 (`perfscope_node_cpu_usage_ratio` without labels).
    pub usage: Option<f64>,
    /// One-minute load average (`perfscope_node_load1`).
    pub load: Option<f64>,
    /// The hottest sensor, °C (the largest `perfscope_node_hwmon_temp_celsius`).
    pub temperature: Option<f64>,
}

/// Memory: the host's, the process's, the heap.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MemoryFigures {
    /// The host's memory in use, bytes: `MemTotal - MemAvailable`
    /// (`perfscope_node_memory_mem_total_bytes` minus `..._mem_available_bytes`).
    pub used: Option<u64>,
    /// The host's memory available to programs, bytes (`..._mem_available_bytes`).
    pub free: Option<u64>,
    /// The host's page cache, bytes (`perfscope_node_memory_cached_bytes`).
    pub cached: Option<u64>,
    /// This process's resident memory, bytes (`process_resident_memory_bytes`).
    pub resident: Option<u64>,
    /// Heap in use, bytes (`perfscope_heap_in_use_bytes`, with `CountingAlloc`).
    pub heap: Option<u64>,
}

/// The network: the traffic of the followed functions and the interfaces' bandwidth.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NetworkFigures {
    /// Calls per second of the functions the monitor follows, summed
    /// (`perfscope_traffic_requests_per_second`).
    pub requests_per_second: Option<f64>,
    /// The largest p99 latency of those functions over the last interval
    /// (`perfscope_traffic_latency_p99_seconds`).
    pub latency_p99: Option<Duration>,
    /// Bytes received per second by the interfaces other than loopback, summed
    /// (`perfscope_node_network_receive_bytes_per_second`).
    pub receive_bytes_per_second: Option<f64>,
    /// Bytes sent per second, likewise (`perfscope_node_network_transmit_bytes_per_second`).
    pub transmit_bytes_per_second: Option<f64>,
}

/// The database side: statements, pools, caches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DatabaseFigures {
    /// Time spent in statements, every fingerprint (`perfscope_query_duration_seconds_total`).
    pub query_time: Option<Duration>,
    /// The largest fingerprint p99 (`perfscope_query_duration_p99_seconds`).
    pub query_p99: Option<Duration>,
    /// Objects handed out by the pools now, summed (`perfscope_pool_connections{state="used"}`).
    pub pool_in_use: Option<u64>,
    /// Acquires that had to wait, every pool (`perfscope_pool_waits_total`).
    pub pool_waits: Option<u64>,
    /// Hits over requests of every cache level (`perfscope_cache_requests_total`).
    pub cache_hit_rate: Option<f64>,
}

/// The system's figures in one value; see [`Report::system`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SystemFigures {
    /// The host's CPU.
    pub cpu: CpuFigures,
    /// Memory.
    pub memory: MemoryFigures,
    /// The network.
    pub network: NetworkFigures,
    /// The database side.
    pub database: DatabaseFigures,
}

/// The figures named `name` (any labels).
fn all<'a>(report: &'a Report, name: &'a str) -> impl Iterator<Item = &'a FigureStats> + 'a {
    report.figures.iter().filter(move |f| f.name == name)
}

/// The sum of the finite values of `figures`; `None` when there are none.
fn sum<'a>(figures: impl Iterator<Item = &'a FigureStats>) -> Option<f64> {
    figures.map(|f| f.value).filter(|v| v.is_finite()).reduce(|a, b| a + b)
}

/// The largest finite value of `figures`.
fn max<'a>(figures: impl Iterator<Item = &'a FigureStats>) -> Option<f64> {
    figures.map(|f| f.value).filter(|v| v.is_finite()).reduce(f64::max)
}

fn bytes(value: Option<f64>) -> Option<u64> {
    value.filter(|v| *v >= 0.0).map(|v| v as u64)
}

fn seconds(value: Option<f64>) -> Option<Duration> {
    value.and_then(|v| Duration::try_from_secs_f64(v).ok())
}

impl Report {
    /// The system's figures as one typed value (the seed's `PerformanceMetrics`), each field
    /// computed from the figure its documentation names; `None` where the report has none.
    pub fn system(&self) -> SystemFigures {
        let unlabelled =
            |name: &'static str| all(self, name).find(|f| f.labels.is_empty()).map(|f| f.value);
        let not_loopback = |f: &&FigureStats| label(f, "device") != "lo";
        let total = unlabelled(names::NODE_MEMORY_MEMTOTAL_BYTES.name);
        let available = unlabelled(names::NODE_MEMORY_MEMAVAILABLE_BYTES.name);
        let caches = self.caches();
        let requests: u64 = caches.iter().map(|c| c.hits + c.misses).sum();
        let hits: u64 = caches.iter().map(|c| c.hits).sum();
        let used = |f: &&FigureStats| label(f, "state") == "used";
        SystemFigures {
            cpu: CpuFigures {
                usage: unlabelled(names::NODE_CPU_USAGE_RATIO.name),
                load: unlabelled(names::NODE_LOAD1.name),
                temperature: max(all(self, names::NODE_HWMON_TEMP_CELSIUS.name)),
            },
            memory: MemoryFigures {
                used: bytes(total.zip(available).map(|(t, a)| t - a)),
                free: bytes(available),
                cached: bytes(unlabelled(names::NODE_MEMORY_CACHED_BYTES.name)),
                resident: bytes(max(all(self, names::PROCESS_RESIDENT_MEMORY_BYTES.name))),
                heap: bytes(max(all(self, names::HEAP_IN_USE_BYTES.name))),
            },
            network: NetworkFigures {
                requests_per_second: sum(all(self, names::TRAFFIC_REQUESTS_PER_SECOND.name)),
                latency_p99: seconds(max(all(self, names::TRAFFIC_LATENCY_P99_SECONDS.name))),
                receive_bytes_per_second: sum(all(
                    self,
                    names::NODE_NETWORK_RECEIVE_BYTES_PER_SECOND.name,
                )
                .filter(not_loopback)),
                transmit_bytes_per_second: sum(all(
                    self,
                    names::NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND.name,
                )
                .filter(not_loopback)),
            },
            database: DatabaseFigures {
                query_time: seconds(sum(all(self, names::QUERY_DURATION_SECONDS_TOTAL.name))),
                query_p99: seconds(max(all(self, names::QUERY_DURATION_P99_SECONDS.name))),
                pool_in_use: bytes(sum(all(self, names::POOL_CONNECTIONS.name).filter(used))),
                pool_waits: bytes(sum(all(self, names::POOL_WAITS_TOTAL.name))),
                cache_hit_rate: (requests > 0).then(|| hits as f64 / requests as f64),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{FigureKind, FigureUnit};

    fn figure(name: &str, labels: &[(&str, &str)], value: f64) -> FigureStats {
        FigureStats {
            section: "host".into(),
            name: name.into(),
            kind: FigureKind::Gauge,
            unit: FigureUnit::Count,
            help: String::new(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            value,
        }
    }

    #[test]
    fn each_field_comes_from_its_figure_and_absent_is_none() {
        assert_eq!(Report::default().system(), SystemFigures::default());
        let figures = vec![
            figure(names::NODE_CPU_USAGE_RATIO.name, &[], 0.25),
            figure(names::NODE_CPU_USAGE_RATIO.name, &[("cpu", "0")], 0.9),
            figure(names::NODE_MEMORY_MEMTOTAL_BYTES.name, &[], 8e9),
            figure(names::NODE_MEMORY_MEMAVAILABLE_BYTES.name, &[], 6e9),
            figure(names::NODE_HWMON_TEMP_CELSIUS.name, &[("chip", "a")], 41.0),
            figure(names::NODE_HWMON_TEMP_CELSIUS.name, &[("chip", "b")], 55.5),
            figure(names::NODE_NETWORK_RECEIVE_BYTES_PER_SECOND.name, &[("device", "lo")], 1e6),
            figure(names::NODE_NETWORK_RECEIVE_BYTES_PER_SECOND.name, &[("device", "eth0")], 300.0),
            figure(names::NODE_NETWORK_RECEIVE_BYTES_PER_SECOND.name, &[("device", "eth1")], 200.0),
            figure(names::TRAFFIC_LATENCY_P99_SECONDS.name, &[("function", "a")], 0.002),
            figure(names::TRAFFIC_LATENCY_P99_SECONDS.name, &[("function", "b")], 0.004),
            figure(names::POOL_CONNECTIONS.name, &[("pool", "db"), ("state", "used")], 3.0),
            figure(names::POOL_CONNECTIONS.name, &[("pool", "db"), ("state", "idle")], 5.0),
            figure(names::POOL_CONNECTIONS.name, &[("pool", "b"), ("state", "used")], 1.0),
        ];
        let report = Report { figures, ..Report::default() };
        let system = report.system();
        assert_eq!(
            system.cpu,
            CpuFigures { usage: Some(0.25), load: None, temperature: Some(55.5) }
        );
        assert_eq!(
            (system.memory.used, system.memory.free),
            (Some(2_000_000_000), Some(6_000_000_000))
        );
        assert_eq!(system.memory.heap, None);
        assert_eq!(system.network.receive_bytes_per_second, Some(500.0));
        assert_eq!(system.network.transmit_bytes_per_second, None);
        assert_eq!(system.network.latency_p99, Some(Duration::from_millis(4)));
        assert_eq!(system.database.pool_in_use, Some(4));
        assert_eq!((system.database.pool_waits, system.database.cache_hit_rate), (None, None));
    }
}
