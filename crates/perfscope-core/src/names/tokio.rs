//! A tokio runtime's figures (the monitor's `with_runtime`).

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Worker threads of the runtime.
pub const TOKIO_WORKERS: Name = Name {
    name: "perfscope_tokio_workers",
    help: "Worker threads of the tokio runtime.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::TOKIO,
};
/// Tasks alive in the runtime.
pub const TOKIO_ALIVE_TASKS: Name = Name {
    name: "perfscope_tokio_alive_tasks",
    help: "Tasks alive in the tokio runtime.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::TOKIO,
};
/// Tasks waiting in the runtime's global (injection) queue.
pub const TOKIO_GLOBAL_QUEUE_DEPTH: Name = Name {
    name: "perfscope_tokio_global_queue_depth",
    help: "Tasks waiting in the tokio runtime's global queue.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::TOKIO,
};
/// Busy fraction of the workers since the previous sample (0 to 1): without labels for the
/// mean over workers, with a `worker` label (`"0"`, `"1"`, ...) per worker.
pub const TOKIO_WORKER_BUSY_RATIO: Name = Name {
    name: "perfscope_tokio_worker_busy_ratio",
    help: "Busy fraction of tokio workers (mean, or one per worker label).",
    unit: FigureUnit::Ratio,
    kind: MetricType::Gauge,
    section: section::TOKIO,
};
/// Times a worker parked (label `worker`).
pub const TOKIO_WORKER_PARK_TOTAL: Name = Name {
    name: "perfscope_tokio_worker_park_total",
    help: "Times a tokio worker parked.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::TOKIO,
};
