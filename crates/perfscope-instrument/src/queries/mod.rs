//! Database queries, measured from the events `sqlx` already emits (feature `sqlx`).
//!
//! sqlx logs every statement it runs as a `tracing` event with target `sqlx::query` (fields
//! `summary`, `db.statement`, `rows_affected`, `rows_returned`, `elapsed`, `elapsed_secs`),
//! at DEBUG (WARN for statements slower than its slow threshold), **only when that target is
//! enabled**. [`layer()`] is a `tracing_subscriber` layer with its own per-layer filter that
//! enables exactly that target for itself: sqlx emits the events, the query layer counts them,
//! and the program's other layers (a `fmt` layer with its own filter) do not start printing
//! them. A filter applied to the whole subscriber (an `EnvFilter` added with `.with(filter)`
//! rather than `layer.with_filter(filter)`) decides for every layer: it must let
//! `sqlx::query=debug` through, or give it to the other layers as per-layer filters. sqlx runs
//! SQLite statements on the connection's worker thread, so the subscriber must be the global
//! default (`.init()`), not a thread's.
//!
//! Per statement **fingerprint** ([`Fingerprint`]: literals, parameters and IN-lists
//! replaced, comments and whitespace normalized, by `sqlparser`'s tokenizer) the collector
//! keeps calls, total time, a latency histogram (p50, p99) and rows; a bounded log of the
//! slowest statements ([`QueryCollector::slow_queries`]); and, for SQLite,
//! [`QueryCollector::index_hints`] runs `EXPLAIN QUERY PLAN` on the slowest fingerprints and
//! says which index would turn a full scan into a search; with feature `postgres`,
#![cfg_attr(feature = "postgres", doc = "[`QueryCollector::index_hints_postgres`]")]
#![cfg_attr(not(feature = "postgres"), doc = "`QueryCollector::index_hints_postgres`")]
//! does the same from PostgreSQL's generic plans
//! (`EXPLAIN (FORMAT JSON)`, `plan_cache_mode = force_generic_plan`, parameters NULL). Both
//! also report **index usage** ([`IndexUsage`]): every index of the tables the recorded
//! statements touch, used by which fingerprints' plans (every fingerprint that reads or
//! writes is explained), or never used (on PostgreSQL, `pg_stat_user_indexes` counts its
//! scans too).
//!
//! Figures (section `query`, label `fingerprint` = short hash + normalized text cut to 120
//! characters; at most [`MAX_FINGERPRINTS`] of them, later ones count under `<other>`):
//! [`CALLS_TOTAL`], [`ERRORS_TOTAL`], [`DURATION_SECONDS_TOTAL`], [`ROWS_TOTAL`] (label
//! `rows` = `returned`|`affected`), [`DURATION_P99_SECONDS`]; and per index of the last
//! index usage (labels `table` and `index`; at most [`MAX_INDEXES`], the rest as one
//! `<other>`), [`INDEX_USED`]: 1 used, 0 never used.
//!
//! **Events** (section `query`, every snapshot carries them, so the report has them): a
//! statement slower than the slow threshold (100 ms by default) is an `Anomaly` with labels
//! `fingerprint` and `statement` (the statement as run, cut to 2 KiB), its seconds as the value;
//! each index hint [`index_hints`](QueryCollector::index_hints) finds is a `Recommendation` with
//! labels `fingerprint`, `table` and `index` (the suggested `CREATE INDEX`), the plan's evidence
//! as the message (the hints of a statement explained again replace its earlier ones); each
//! index never used that does not enforce uniqueness is a `Recommendation` with subject
//! [`INDEX_USED`] and labels `table` and `index` (its name), the evidence (plans read, scans,
//! the statements writing its table) as the message. All are bounded: the 32 most recent of
//! each kind.
//!
//! **Errors.** sqlx's statement event carries no error: sqlx logs a statement when its logger
//! is dropped, however the statement ended, so a statement that failed on its connection (a
//! database error, the connection cut mid-flight) is a call like any other, and one that never
//! had a connection (the pool timed out) is no call at all (the pool's figures count it). The
//! error is only seen by the caller: statements run through an
//! [`InstrumentedSqlxPool`](crate::pool::InstrumentedSqlxPool) (`fetch_one(&pool)`, ...) that
//! end with an error after their connection was acquired are reported to the layer (target
//! [`ERROR_TARGET`], TRACE) and counted in [`ERRORS_TOTAL`], which is part of
//! [`CALLS_TOTAL`]; statements run on a connection or a transaction directly are not.
//!
//! **Attribution to functions.** sqlx 0.8 opens no span around a query: it emits one event
//! when the query is done, with its elapsed time, from wherever the statement ran (for SQLite,
//! the connection's worker thread). A frame cannot be pushed after the fact, so a query is not
//! a frame of its own: the awaiting function's `#[perfscope::measure]` frame includes the
//! query's time (as idle time of an async function, since it waits for the worker), and the
//! time per statement shape is in the figures per fingerprint.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use perfscope_instrument::queries::QueryCollector;
//!
//! let queries = QueryCollector::new();
//! let subscriber = tracing_subscriber::registry().with(queries.layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     // What sqlx emits after each statement:
//!     for id in [1, 2] {
//!         let summary = format!("SELECT * FROM users WHERE id = {id}");
//!         tracing::debug!(target: "sqlx::query", summary, db.statement = "",
//!             rows_affected = 0_u64, rows_returned = 1_u64, elapsed_secs = 0.002);
//!     }
//! });
//! let stats = queries.fingerprints();
//! assert_eq!(stats.len(), 1);
//! assert_eq!(stats[0].normalized, "SELECT * FROM users WHERE id = ?");
//! assert_eq!((stats[0].calls, stats[0].rows_returned), (2, 2));
//! ```

mod events;
mod fingerprint;
mod layer;
#[cfg(feature = "postgres")]
mod postgres;
mod records;
mod sqlite;
mod state;
mod usage;

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use perfscope_core::figures::{self, Event, Registration};
use perfscope_core::names;
use perfscope_core::sync::lock;
use tracing_core::{Level, Subscriber};
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::Layer;

pub use fingerprint::{Fingerprint, normalize};
pub use layer::QueryLayer;
pub use records::{Config, FingerprintStats, QueryRecord, SlowQuery};
pub use sqlite::{IndexAdvice, IndexHint, Skipped};
use state::{Counts, Inner, State};
pub use usage::{IndexUsage, MAX_INDEXES};

/// [`names::QUERY_CALLS_TOTAL`]'s name: statements run, failed ones included.
pub const CALLS_TOTAL: &str = names::QUERY_CALLS_TOTAL.name;
/// [`names::QUERY_ERRORS_TOTAL`]'s name: statements that ran and ended with an error (part
/// of [`CALLS_TOTAL`]; those run through an `InstrumentedSqlxPool`, see the module
/// documentation).
pub const ERRORS_TOTAL: &str = names::QUERY_ERRORS_TOTAL.name;
/// [`names::QUERY_DURATION_SECONDS_TOTAL`]'s name: time spent in statements.
pub const DURATION_SECONDS_TOTAL: &str = names::QUERY_DURATION_SECONDS_TOTAL.name;
/// [`names::QUERY_ROWS_TOTAL`]'s name: rows returned or affected (label `rows`).
pub const ROWS_TOTAL: &str = names::QUERY_ROWS_TOTAL.name;
/// [`names::QUERY_DURATION_P99_SECONDS`]'s name: a fingerprint's p99 statement time.
pub const DURATION_P99_SECONDS: &str = names::QUERY_DURATION_P99_SECONDS.name;
/// [`names::QUERY_INDEX_USED`]'s name: whether an index is used (1) or never (0), labels
/// `table` and `index` (see [`IndexUsage`]).
pub const INDEX_USED: &str = names::QUERY_INDEX_USED.name;
/// Fingerprints followed one by one; statements of later ones count under [`OTHER`].
pub const MAX_FINGERPRINTS: usize = 200;
/// The fingerprint label of statements beyond [`MAX_FINGERPRINTS`].
pub const OTHER: &str = names::OVERFLOW;
/// The target sqlx logs statements under.
pub const SQLX_TARGET: &str = "sqlx::query";
/// The target of the TRACE event an `InstrumentedSqlxPool` emits when a statement that ran on
/// one of its connections ends with an error (field `db.statement`: the statement; `error`:
/// sqlx's error, for people); the query layer counts it in [`ERRORS_TOTAL`].
pub const ERROR_TARGET: &str = "perfscope_instrument::queries::error";

const SECTION: &str = names::section::QUERY;
const LABEL_CHARS: usize = 120;
/// Distinct statement strings whose fingerprint is remembered (then the cache starts over).
const STATEMENT_CACHE: usize = 4096;
/// Characters of a statement kept in the slow log and as a fingerprint's example.
const STATEMENT_CHARS: usize = 2000;

/// Counts statements per fingerprint; see the module documentation. Clones share the counts;
/// the figures stay registered while any clone (or a [`layer`](Self::layer)) lives.
#[derive(Clone)]
pub struct QueryCollector {
    inner: Arc<Inner>,
    _registration: Arc<Registration>,
}

impl fmt::Debug for QueryCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryCollector").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl Default for QueryCollector {
    fn default() -> Self {
        QueryCollector::new()
    }
}

impl QueryCollector {
    /// A collector with the default [`Config`], its figures registered.
    pub fn new() -> QueryCollector {
        QueryCollector::with_config(Config::default())
    }

    /// A collector with `config`, its figures registered.
    pub fn with_config(config: Config) -> QueryCollector {
        let inner = Arc::new(Inner { config, state: Mutex::new(State::default()) });
        let registration = figures::register(inner.clone());
        QueryCollector { inner, _registration: Arc::new(registration) }
    }

    /// The layer feeding this collector from sqlx's `sqlx::query` events (and the failure
    /// events of [`ERROR_TARGET`]), with its own filter enabling exactly those targets for
    /// itself.
    pub fn layer<S>(&self) -> Filtered<QueryLayer, Targets, S>
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let targets = Targets::new()
            .with_target(SQLX_TARGET, Level::DEBUG)
            .with_target(ERROR_TARGET, Level::TRACE);
        QueryLayer::new(self.clone()).with_filter(targets)
    }

    /// Counts one statement (what the layer does for each event); nothing with
    /// `perfscope/off`.
    pub fn record(&self, query: &QueryRecord<'_>) {
        if perfscope_core::OFF {
            return;
        }
        let nanos = u64::try_from(query.elapsed.as_nanos()).unwrap_or(u64::MAX);
        let mut state = lock(&self.inner.state);
        let state = &mut *state;
        let counts = state.counts_of(query.statement);
        counts.calls += 1;
        counts.nanos = counts.nanos.saturating_add(nanos);
        counts.rows_returned += query.rows_returned;
        counts.rows_affected += query.rows_affected;
        counts.histogram.record(nanos);
        if query.elapsed >= self.inner.config.slow_threshold {
            let label = counts.label.clone();
            state.slow(&self.inner.config, label, query);
        }
    }

    /// Counts one statement that ran and ended with an error, in [`ERRORS_TOTAL`] (what the
    /// layer does for each [`ERROR_TARGET`] event). The statement's call is counted by
    /// [`record`](Self::record), from sqlx's own event.
    pub fn record_error(&self, statement: &str) {
        if perfscope_core::OFF {
            return;
        }
        let mut state = lock(&self.inner.state);
        state.counts_of(statement).errors += 1;
    }

    /// Makes `hints` the collector's hint events for the fingerprints whose plans were read
    /// (`explained`, those with a hint among them): their earlier hints go (a hint the index
    /// now exists for is not repeated), those of fingerprints not explained this time stay.
    /// `indexes` replace the earlier index usage (figures and never-used recommendations).
    fn publish(&self, explained: &[String], hints: &[IndexHint], indexes: &[IndexUsage]) {
        let mut state = lock(&self.inner.state);
        let given: Vec<Event> = state.hint_events.clone();
        state.hint_events.retain(|e| {
            let fingerprint = e.labels.iter().find(|(k, _)| k == "fingerprint");
            !fingerprint.is_some_and(|(_, v)| explained.contains(v))
        });
        for hint in hints {
            let event = events::hint(hint);
            // Counted once, when first made (a hint given again by a later call is the same).
            let same = |e: &Event| (&e.labels, &e.message) == (&event.labels, &event.message);
            if !given.iter().any(same) {
                state.recommended("index_hint", hint.table.clone());
            }
            events::push_hint(&mut state.hint_events, event);
        }
        let before = std::mem::take(&mut state.usage_events);
        for index in indexes.iter().filter(|i| i.droppable()) {
            let event = events::unused_index(index);
            if !before.iter().any(|e| e.labels == event.labels) {
                state.recommended("drop_unused_index", format!("{}.{}", index.table, index.index));
            }
            events::push_bounded(&mut state.usage_events, event);
        }
        state.indexes = indexes.to_vec();
    }

    /// Every fingerprint's counts, the most total time first ([`OTHER`] included if used).
    pub fn fingerprints(&self) -> Vec<FingerprintStats> {
        let state = lock(&self.inner.state);
        let mut all: Vec<_> =
            state.fingerprints.iter().chain(state.other.as_ref()).map(Counts::stats).collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.total));
        all
    }

    /// The slowest statements seen at or above the slow threshold, slowest first (at most
    /// `slow_log_len`).
    pub fn slow_queries(&self) -> Vec<SlowQuery> {
        lock(&self.inner.state).slow.clone()
    }

    /// Forgets every count.
    pub fn reset(&self) {
        *lock(&self.inner.state) = State::default();
    }
}

/// The process-wide collector [`layer()`] feeds (created on first use).
pub fn global() -> &'static QueryCollector {
    static GLOBAL: OnceLock<QueryCollector> = OnceLock::new();
    GLOBAL.get_or_init(QueryCollector::new)
}

/// A layer feeding the [`global()`] collector; see [`QueryCollector::layer`].
pub fn layer<S>() -> Filtered<QueryLayer, Targets, S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    global().layer()
}
