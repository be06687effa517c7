//! The "System monitor" row: the process figures every snapshot carries (threads, heap) and
//! the monitor's host, process, tokio and traffic figures (absent without a monitor).

use perfscope_core::names::*;
use serde_json::Value;

use super::panel::{PanelSpec, per_instance, per_instance_with, row, select, target};

/// The row, collapsed, at `y`, its id `id` (its panels' ids follow).
pub(super) fn system_row(y: u32, id: u32) -> Value {
    let m = per_instance;
    let traffic = |name: &Name| select(name.name);
    let by = |metric: String| format!("sum by (instance) ({metric})");
    // A quantile of the functions the monitor follows for traffic, from the histogram.
    let traffic_quantile = |q: &str| {
        format!(
            "histogram_quantile({q}, sum by (le, function) (rate({}[$__rate_interval]))) and on (function) group by (function) ({})",
            select(&format!("{}_bucket", FUNCTION_DURATION_SECONDS.name)),
            traffic(&TRAFFIC_REQUESTS_PER_SECOND)
        )
    };
    let panels: Vec<PanelSpec> = vec![
        (
            "CPU usage per core",
            format!(
                "Busy fraction of each logical CPU of the host ({} with a cpu label), since the monitor's previous sample.",
                NODE_CPU_USAGE_RATIO.name
            ),
            "percentunit",
            vec![target(
                "A",
                per_instance_with(&NODE_CPU_USAGE_RATIO, r#"cpu!="""#),
                "cpu {{cpu}} {{instance}}",
            )],
        ),
        (
            "Load average",
            "The host's 1, 5 and 15 minute load averages.".into(),
            "short",
            vec![
                target("A", m(&NODE_LOAD1), "1m {{instance}}"),
                target("B", m(&NODE_LOAD5), "5m {{instance}}"),
                target("C", m(&NODE_LOAD15), "15m {{instance}}"),
            ],
        ),
        (
            "Memory available / used",
            "The host's MemAvailable, and MemTotal minus MemAvailable.".into(),
            "bytes",
            vec![
                target("A", m(&NODE_MEMORY_MEMAVAILABLE_BYTES), "available {{instance}}"),
                target(
                    "B",
                    format!(
                        "{} - {}",
                        m(&NODE_MEMORY_MEMTOTAL_BYTES),
                        m(&NODE_MEMORY_MEMAVAILABLE_BYTES)
                    ),
                    "used {{instance}}",
                ),
            ],
        ),
        (
            "Network bytes/s",
            "Bytes received and sent per second by each network interface, over the monitor's interval.".into(),
            "Bps",
            vec![
                target("A", m(&NODE_NETWORK_RECEIVE_BYTES_PER_SECOND), "rx {{device}} {{instance}}"),
                target("B", m(&NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND), "tx {{device}} {{instance}}"),
            ],
        ),
        (
            "Process: resident memory and heap",
            "Resident set size of the measured process, the heap it holds (with perfscope's counting allocator; absent without it), and what perfscope's own per-thread stores hold of it.".into(),
            "bytes",
            vec![
                target("A", m(&PROCESS_RESIDENT_MEMORY_BYTES), "rss {{instance}}"),
                target("B", m(&HEAP_IN_USE_BYTES), "heap {{instance}}"),
                target("C", m(&HELD_BYTES), "perfscope {{instance}}"),
            ],
        ),
        (
            "Process: CPU",
            "CPU time of the measured process per second (100% = one core).".into(),
            "percentunit",
            vec![target(
                "A",
                format!("rate({}[$__rate_interval])", m(&PROCESS_CPU_SECONDS_TOTAL)),
                "cpu {{instance}}",
            )],
        ),
        (
            "Process: threads and open fds",
            "OS threads and open file descriptors of the measured process.".into(),
            "short",
            vec![
                target("A", m(&PROCESS_THREADS), "threads {{instance}}"),
                target("B", m(&PROCESS_OPEN_FDS), "open fds {{instance}}"),
            ],
        ),
        (
            "Tokio: workers busy",
            "Busy fraction of the tokio runtime's workers over the monitor's interval: the mean, and each worker.".into(),
            "percentunit",
            vec![
                target(
                    "A",
                    per_instance_with(&TOKIO_WORKER_BUSY_RATIO, r#"worker="""#),
                    "mean {{instance}}",
                ),
                target(
                    "B",
                    per_instance_with(&TOKIO_WORKER_BUSY_RATIO, r#"worker!="""#),
                    "worker {{worker}} {{instance}}",
                ),
            ],
        ),
        (
            "Tokio: tasks and global queue",
            "Tasks alive in the runtime, and tasks waiting in its global queue.".into(),
            "short",
            vec![
                target("A", by(m(&TOKIO_ALIVE_TASKS)), "alive {{instance}}"),
                target("B", by(m(&TOKIO_GLOBAL_QUEUE_DEPTH)), "queued {{instance}}"),
            ],
        ),
        (
            "Traffic: requests per second",
            "Completed calls per second of the functions the monitor follows for traffic (with_traffic), per interval.".into(),
            "ops",
            vec![target("A", traffic(&TRAFFIC_REQUESTS_PER_SECOND), "{{function}}")],
        ),
        (
            "Traffic: latency p50 / p99",
            format!(
                "Latency quantiles of the traffic functions (those the monitor follows, with_traffic) from the duration histogram ({}), summed over the selected instances before the quantile, so they hold for a fleet.",
                FUNCTION_DURATION_SECONDS.name
            ),
            "s",
            vec![
                target("A", traffic_quantile("0.5"), "p50 {{function}}"),
                target("B", traffic_quantile("0.99"), "p99 {{function}}"),
            ],
        ),
    ];
    row("System monitor", panels, y, id)
}
