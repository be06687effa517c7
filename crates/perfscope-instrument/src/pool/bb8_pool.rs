//! [`InstrumentedBb8Pool`] over `bb8::Pool`, and [`Bb8Pooled`], what it hands out.
//!
//! bb8 counts for itself (waits, wait time, timeouts, connections created and closed by
//! cause, in its `Statistics`): the figures read those at snapshot time. The acquire adds only
//! its frame and the in-use count behind the high-water.

use std::borrow::Cow;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Weak};

use bb8::{ManageConnection, Pool, PooledConnection, RunError, State};
use perfscope_core::figures::Registration;
use perfscope_core::{Callsite, Kind, instrument};

use super::stats::{self, Counters, Lifecycle, PoolStats, Reading, Sizes};
use crate::callsites::callsite;

/// A [`bb8::Pool`] measured by perfscope (see the [module](crate::pool) documentation).
/// Clones share the pool. Give each pool its own name.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use bb8_postgres::PostgresConnectionManager;
/// use bb8_postgres::tokio_postgres::NoTls;
/// use perfscope_instrument::pool::InstrumentedBb8Pool;
///
/// let manager = PostgresConnectionManager::new_from_stringlike("host=localhost user=app", NoTls)?;
/// let pool = bb8::Pool::builder().max_size(8).build(manager).await?;
/// let pool = InstrumentedBb8Pool::new("db", pool);
/// // A frame `pool::db::acquire` on the caller's stack; its wait is bb8's.
/// let connection = pool.get().await?;
/// let one: i32 = connection.query_one("SELECT 1", &[]).await?.get(0);
/// # Ok(()) }
/// ```
pub struct InstrumentedBb8Pool<M: ManageConnection> {
    inner: Arc<Inner<M>>,
}

struct Inner<M: ManageConnection> {
    pool: Pool<M>,
    name: String,
    /// bb8's `max_size` (fixed when the pool is built).
    max: u32,
    /// Only `in_use` and `high_water`: bb8 counts the rest.
    counters: Arc<Counters>,
    acquire: &'static Callsite,
    _registration: Registration,
}

impl<M: ManageConnection> Inner<M> {
    fn reading(&self) -> Reading {
        let State { connections, idle_connections, statistics: s, .. } = self.pool.state();
        let sizes = Sizes {
            max: u64::from(self.max),
            size: u64::from(connections),
            idle: u64::from(idle_connections),
        };
        // bb8's own `pending_gets` subtracts without saturating: its counters are read one by
        // one while gets go on.
        let completed = s.get_direct + s.get_waited + s.get_timed_out;
        let pending = s.get_started.saturating_sub(completed);
        let stats = PoolStats {
            acquires: s.get_direct + s.get_waited,
            waits: s.get_waited + s.get_timed_out,
            wait_ns: u64::try_from(s.get_wait_time.as_nanos()).unwrap_or(u64::MAX),
            timeouts: s.get_timed_out,
            in_use: sizes.size.saturating_sub(sizes.idle),
            high_water: self.counters.read().high_water,
            pending,
            starved: sizes.starved(pending),
        };
        let lifecycle = Lifecycle {
            created: s.connections_created,
            recycled: None,
            closed: vec![
                ("broken", s.connections_closed_broken),
                ("invalid", s.connections_closed_invalid),
                ("max_lifetime", s.connections_closed_max_lifetime),
                ("idle_timeout", s.connections_closed_idle_timeout),
            ],
        };
        Reading { stats, sizes, lifecycle: Some(lifecycle) }
    }
}

impl<M: ManageConnection> Clone for InstrumentedBb8Pool<M> {
    fn clone(&self) -> Self {
        InstrumentedBb8Pool { inner: self.inner.clone() }
    }
}

impl<M: ManageConnection> std::fmt::Debug for InstrumentedBb8Pool<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedBb8Pool")
            .field("name", &self.inner.name)
            .field("pool", &self.inner.pool)
            .finish()
    }
}

impl<M: ManageConnection> InstrumentedBb8Pool<M> {
    /// Measures `pool` under `name` (the frame `pool::<name>::acquire`, the figures' `pool`
    /// label) from now on, while this value or a clone lives. bb8's statistics count from
    /// the pool's start.
    pub fn new(name: impl Into<String>, pool: Pool<M>) -> Self {
        let name = name.into();
        let max = pool.config().max_size;
        let counters = Arc::new(Counters::default());
        let acquire = callsite(format!("pool::{name}::acquire"), Kind::Async, module_path!());
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<M>>| {
            let _registration = stats::register(&name, weak.clone(), Inner::reading);
            Inner { pool, name, max, counters, acquire, _registration }
        });
        InstrumentedBb8Pool { inner }
    }

    /// bb8's `get`: a connection, waiting for one (up to the pool's `connection_timeout`)
    /// when none is idle.
    pub fn get(&self) -> impl Future<Output = Result<Bb8Pooled<'_, M>, RunError<M::Error>>> + '_ {
        let inner = &*self.inner;
        instrument(inner.acquire, async move {
            let connection = inner.pool.get().await?;
            inner.counters.held();
            Ok(Bb8Pooled { connection, counters: Cow::Borrowed(&inner.counters) })
        })
    }

    /// bb8's `get_owned`: like [`get`](Self::get), a connection that does not borrow the
    /// pool (to move into a spawned task).
    pub fn get_owned(
        &self,
    ) -> impl Future<Output = Result<Bb8Pooled<'static, M>, RunError<M::Error>>> + '_ {
        let inner = &*self.inner;
        instrument(inner.acquire, async move {
            let connection = inner.pool.get_owned().await?;
            inner.counters.held();
            Ok(Bb8Pooled { connection, counters: Cow::Owned(inner.counters.clone()) })
        })
    }

    /// The name the pool is measured under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The counts now (bb8's statistics, and the high-water of what this wrapper handed out).
    pub fn stats(&self) -> PoolStats {
        self.inner.reading().stats
    }

    /// bb8's state: connections, idle connections and its statistics.
    pub fn state(&self) -> State {
        self.inner.pool.state()
    }

    /// The bb8 pool itself (acquires through it are not frames, but bb8 counts them in the
    /// figures).
    pub fn pool(&self) -> &Pool<M> {
        &self.inner.pool
    }
}

/// A connection from an [`InstrumentedBb8Pool`]: derefs to the connection, counted in use
/// until dropped (back to the pool).
#[must_use]
pub struct Bb8Pooled<'a, M: ManageConnection> {
    connection: PooledConnection<'a, M>,
    counters: Cow<'a, Arc<Counters>>,
}

impl<M: ManageConnection> Drop for Bb8Pooled<'_, M> {
    fn drop(&mut self) {
        // Out of use before the connection is back (dropped after this): the high-water
        // never counts it twice.
        self.counters.released();
    }
}

impl<M: ManageConnection> Deref for Bb8Pooled<'_, M> {
    type Target = M::Connection;
    fn deref(&self) -> &M::Connection {
        &self.connection
    }
}

impl<M: ManageConnection> DerefMut for Bb8Pooled<'_, M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        &mut self.connection
    }
}

impl<M: ManageConnection> std::fmt::Debug for Bb8Pooled<'_, M>
where
    M::Connection: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Bb8Pooled").field(&**self).finish()
    }
}
