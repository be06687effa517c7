//! This process's figures: the thread count, heap and perfscope's own memory every snapshot
//! carries (from `perfscope-core`), and the monitor's memory, CPU and file descriptors, named as Prometheus
//! client libraries name them (`process_*`).

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// OS threads of the process (Linux).
pub const PROCESS_THREADS: Name = Name {
    name: "process_threads",
    help: "Number of OS threads in the process.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::PROCESS,
};
/// Heap in use, process-wide (with perfscope's counting allocator only).
pub const HEAP_IN_USE_BYTES: Name = Name {
    name: "perfscope_heap_in_use_bytes",
    help: "Bytes allocated and not freed, process-wide (perfscope's counting allocator).",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::PROCESS,
};
/// Bytes perfscope's live thread stores hold (every snapshot): [`crate::held_bytes`].
pub const HELD_BYTES: Name = Name {
    name: "perfscope_held_bytes",
    help: "Bytes perfscope's live thread stores hold for their figures (slots, histogram octaves, edge tables): what measuring costs in memory.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::PROCESS,
};
/// Resident set size of this process (monitor).
pub const PROCESS_RESIDENT_MEMORY_BYTES: Name = Name {
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::PROCESS,
};
/// Virtual memory size of this process (monitor).
pub const PROCESS_VIRTUAL_MEMORY_BYTES: Name = Name {
    name: "process_virtual_memory_bytes",
    help: "Virtual memory size in bytes.",
    unit: FigureUnit::Bytes,
    kind: MetricType::Gauge,
    section: section::PROCESS,
};
/// User plus system CPU time of this process (monitor).
pub const PROCESS_CPU_SECONDS_TOTAL: Name = Name {
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::PROCESS,
};
/// Open file descriptors of this process (monitor).
pub const PROCESS_OPEN_FDS: Name = Name {
    name: "process_open_fds",
    help: "Number of open file descriptors.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::PROCESS,
};
