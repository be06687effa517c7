//! The pools' figures (`perfscope-instrument`; label `pool`), named after OpenTelemetry's
//! `db.client.connection.*` where one applies.

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Objects in the pool by state (`state="idle"|"used"`); OTel `db.client.connection.count`.
/// Not `..._count`: a gauge ending in `_count` reads as a histogram's or a summary's count
/// series (promtool rejects it), so the name is the plural, as Micrometer's
/// `hikaricp_connections` is, and the pool's other connection figures share its prefix.
pub const POOL_CONNECTIONS: Name = Name {
    name: "perfscope_pool_connections",
    help: "Objects in the pool, by state.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::POOL,
};
/// The pool's maximum size; OTel `db.client.connection.max`.
pub const POOL_CONNECTIONS_MAX: Name = Name {
    name: "perfscope_pool_connections_max",
    help: "The pool's maximum size.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::POOL,
};
/// The most objects in use at once since the pool was instrumented.
pub const POOL_CONNECTIONS_USED_HIGH_WATER: Name = Name {
    name: "perfscope_pool_connections_used_high_water",
    help: "The most objects in use at once.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::POOL,
};
/// Acquires waiting now; OTel `db.client.connection.pending_requests`.
pub const POOL_PENDING_REQUESTS: Name = Name {
    name: "perfscope_pool_pending_requests",
    help: "Acquires waiting for an object now.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::POOL,
};
/// Objects handed out.
pub const POOL_ACQUIRES_TOTAL: Name = Name {
    name: "perfscope_pool_acquires_total",
    help: "Objects handed out by the pool.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::POOL,
};
/// Acquires that found no idle object and waited.
pub const POOL_WAITS_TOTAL: Name = Name {
    name: "perfscope_pool_waits_total",
    help: "Acquires that waited for an object.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::POOL,
};
/// Time spent waiting for an object; OTel `db.client.connection.wait_time` (as a sum; the
/// distribution is the `pool::<name>::acquire` frame's).
pub const POOL_WAIT_SECONDS_TOTAL: Name = Name {
    name: "perfscope_pool_wait_seconds_total",
    help: "Time spent waiting for an object.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::POOL,
};
/// Acquires that gave up after their timeout; OTel `db.client.connection.timeouts`.
pub const POOL_TIMEOUTS_TOTAL: Name = Name {
    name: "perfscope_pool_timeouts_total",
    help: "Acquires that timed out.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::POOL,
};
/// 1 while the pool is starved: callers wait, no connection is idle and the pool is at its
/// maximum size (so none can be opened for them); 0 otherwise.
pub const POOL_STARVED: Name = Name {
    name: "perfscope_pool_starved",
    help: "1 while callers wait, no object is idle and the pool is at its maximum size.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::POOL,
};
/// Connections the pool opened, objects it created (pools that make their own: bb8, deadpool's
/// managed pool).
pub const POOL_CONNECTIONS_CREATED_TOTAL: Name = Name {
    name: "perfscope_pool_connections_created_total",
    help: "Connections the pool opened (objects it created).",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::POOL,
};
/// Connections the pool closed, objects it dropped, by `cause`: `broken` (found dead on
/// return), `invalid` (failed the check-out test: bb8's validation, deadpool's recycle),
/// `max_lifetime`, `idle_timeout` (pools that close their own: bb8, deadpool's managed pool).
pub const POOL_CONNECTIONS_CLOSED_TOTAL: Name = Name {
    name: "perfscope_pool_connections_closed_total",
    help: "Connections the pool closed (objects it dropped), by cause.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::POOL,
};
/// Idle objects the pool checked and handed out again (deadpool's managed pool: its manager's
/// `recycle` passed); those that failed are in [`POOL_CONNECTIONS_CLOSED_TOTAL`]
/// (`cause="invalid"`).
pub const POOL_CONNECTIONS_RECYCLED_TOTAL: Name = Name {
    name: "perfscope_pool_connections_recycled_total",
    help: "Idle objects the pool checked and handed out again.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::POOL,
};
