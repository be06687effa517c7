//! The options the exporters share, defined and documented once: every builder holds a
//! [`Common`] and gets its setters from [`common_setters!`].

use std::time::Duration;

use crate::background::DEFAULT_SYNC_INTERVAL;
use crate::families::DEFAULT_MAX_FUNCTIONS;

/// Options shared by [`crate::prometheus()`], [`crate::bridge()`] and `otlp()`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Common {
    /// Functions with a series of their own; later ones are summed under `<other>`.
    pub max_functions: usize,
    /// Time between two syncs (push-based exporters; a Prometheus scrape reads on demand).
    pub sync_every: Duration,
}

impl Default for Common {
    fn default() -> Self {
        Common { max_functions: DEFAULT_MAX_FUNCTIONS, sync_every: DEFAULT_SYNC_INTERVAL }
    }
}

/// `with_max_functions` (and, with `sync`, `with_sync_every`) for a builder with a
/// `common: Common` field.
macro_rules! common_setters {
    () => {
        /// How many functions get their own series (default 1000); the figures of later ones
        /// are summed under `function="<other>"`. Functions keep the series they got first.
        pub fn with_max_functions(mut self, max: usize) -> Self {
            self.common.max_functions = max;
            self
        }
    };
    (sync) => {
        $crate::options::common_setters!();

        /// Time between two syncs of perfscope's figures into the exporter (default 1 s).
        pub fn with_sync_every(mut self, interval: std::time::Duration) -> Self {
            self.common.sync_every = interval;
            self
        }
    };
}

pub(crate) use common_setters;
