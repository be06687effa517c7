//! What a [`QueryCollector`](super::QueryCollector) is given and gives back: its
//! [`Config`], one statement's [`QueryRecord`], a fingerprint's [`FingerprintStats`] and the
//! slow log's [`SlowQuery`].

use std::time::Duration;

/// How a [`QueryCollector`](super::QueryCollector) is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Statements at least this slow go to the slow log's events (default 100 ms).
    pub slow_threshold: Duration,
    /// How many statements the slow log keeps, the slowest (default 20).
    pub slow_log_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { slow_threshold: Duration::from_millis(100), slow_log_len: 20 }
    }
}

/// One fingerprint's counts (see
/// [`QueryCollector::fingerprints`](super::QueryCollector::fingerprints)).
#[derive(Debug, Clone)]
pub struct FingerprintStats {
    /// The figures' label: short hash and normalized text (or [`OTHER`](super::OTHER)).
    pub label: String,
    /// The normalized statement (empty for [`OTHER`](super::OTHER)).
    pub normalized: String,
    /// The first statement seen with this fingerprint, as run (cut to 2,000 characters).
    pub example: String,
    /// Statements run, failed ones included.
    pub calls: u64,
    /// Statements that ran and ended with an error, as far as the collector sees them (run
    /// through an `InstrumentedSqlxPool`; see the module documentation).
    pub errors: u64,
    /// Their total time.
    pub total: Duration,
    /// Median statement time (histogram bucket precision).
    pub p50: Duration,
    /// 99th percentile statement time.
    pub p99: Duration,
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
}

/// One statement of the slow log (see
/// [`QueryCollector::slow_queries`](super::QueryCollector::slow_queries)).
#[derive(Debug, Clone, PartialEq)]
pub struct SlowQuery {
    /// Its fingerprint's label.
    pub fingerprint: String,
    /// The statement as run, cut to 2,000 characters.
    pub statement: String,
    /// How long it took.
    pub elapsed: Duration,
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
    /// When it finished, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
}

/// What one statement event carried.
#[derive(Debug, Default)]
pub struct QueryRecord<'a> {
    /// The statement as run.
    pub statement: &'a str,
    /// How long it took.
    pub elapsed: Duration,
    /// Rows returned.
    pub rows_returned: u64,
    /// Rows affected.
    pub rows_affected: u64,
}
