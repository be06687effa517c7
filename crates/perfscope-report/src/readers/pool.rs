//! [`PoolFigures`]: a pool's figures.

use perfscope_core::names;
use std::collections::BTreeMap;
use std::time::Duration;

use super::{by_label, duration, grouped, value, whole};
use crate::report::{FunctionStats, Report};

/// One pool's figures (section `pool`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolFigures {
    /// The pool's name.
    pub pool: String,
    /// Objects handed out now.
    pub in_use: u64,
    /// Objects waiting in the pool now.
    pub idle: u64,
    /// The pool's size.
    pub max: Option<u64>,
    /// The most objects in use at once.
    pub high_water: Option<u64>,
    /// Acquires that had to wait.
    pub waits: u64,
    /// Time callers spent waiting; `None` when the source does not say or gave a value that
    /// is not a duration.
    pub wait_time: Option<Duration>,
    /// Acquires that timed out.
    pub timeouts: u64,
    /// Objects handed out.
    pub acquires: u64,
    /// Acquires waiting now.
    pub pending: u64,
    /// The source's own starvation flag (`perfscope_pool_starved`), if it gives one.
    pub starved_now: Option<bool>,
    /// Connections the pool opened (objects it created), for pools that make their own (bb8,
    /// deadpool's managed pool).
    pub created: Option<u64>,
    /// Connections the pool closed, by cause (`broken`, `invalid`, `max_lifetime`,
    /// `idle_timeout`); empty for pools that do not say.
    pub closed_by_cause: BTreeMap<String, u64>,
}

impl PoolFigures {
    /// Callers wait, no object is idle and the pool is at its maximum size (none can be
    /// opened for them): the pool is too small for its load, or objects are held too long.
    /// The source's flag when it gives one; otherwise from the counts (a pool of unknown
    /// size counts as full).
    pub fn starved(&self) -> bool {
        self.starved_now.unwrap_or_else(|| {
            let full = self.max.is_none_or(|max| self.in_use.saturating_add(self.idle) >= max);
            self.pending > 0 && self.idle == 0 && full
        })
    }

    /// Connections the pool closed, every cause; `None` for pools that do not say.
    pub fn closed(&self) -> Option<u64> {
        let all = self.closed_by_cause.values().fold(0, |a: u64, n| a.saturating_add(*n));
        (!self.closed_by_cause.is_empty()).then_some(all)
    }

    /// The share of acquires that had to wait; `None` before the first acquire.
    pub fn wait_share(&self) -> Option<f64> {
        (self.acquires > 0).then(|| self.waits as f64 / self.acquires as f64)
    }

    /// Mean wait of the acquires that waited; `None` when none waited.
    pub fn mean_wait(&self) -> Option<Duration> {
        self.wait_time.filter(|_| self.waits > 0).map(|t| t.div_f64(self.waits as f64))
    }
}

impl Report {
    /// Every pool in the report, by name.
    pub fn pools(&self) -> Vec<PoolFigures> {
        grouped(self, names::section::POOL, &["pool"])
            .into_iter()
            .map(|(key, figures)| {
                let count = names::POOL_CONNECTIONS.name;
                let opt = |name| value(&figures, name, None).map(|v| v as u64);
                PoolFigures {
                    pool: key[0].clone(),
                    in_use: whole(value(&figures, count, Some(("state", "used")))),
                    idle: whole(value(&figures, count, Some(("state", "idle")))),
                    max: opt(names::POOL_CONNECTIONS_MAX.name),
                    high_water: opt(names::POOL_CONNECTIONS_USED_HIGH_WATER.name),
                    waits: whole(value(&figures, names::POOL_WAITS_TOTAL.name, None)),
                    wait_time: duration(value(&figures, names::POOL_WAIT_SECONDS_TOTAL.name, None)),
                    timeouts: whole(value(&figures, names::POOL_TIMEOUTS_TOTAL.name, None)),
                    acquires: whole(value(&figures, names::POOL_ACQUIRES_TOTAL.name, None)),
                    pending: whole(value(&figures, names::POOL_PENDING_REQUESTS.name, None)),
                    starved_now: value(&figures, names::POOL_STARVED.name, None).map(|v| v > 0.0),
                    created: opt(names::POOL_CONNECTIONS_CREATED_TOTAL.name),
                    closed_by_cause: by_label(
                        &figures,
                        names::POOL_CONNECTIONS_CLOSED_TOTAL.name,
                        "cause",
                    ),
                }
            })
            .collect()
    }
}

/// The frame of a pool's acquires, `pool::<name>::acquire`, if the report has it.
pub(crate) fn acquire_frame<'a>(
    report: &'a Report,
    pool: &PoolFigures,
) -> Option<&'a FunctionStats> {
    report.function(&format!("pool::{}::acquire", pool.pool))
}
