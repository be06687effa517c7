//! [`InstrumentedSqlxPool`] over `sqlx::Pool`: its acquires are frames, and it is an
//! `Executor` and an `Acquire` like `&Pool`, so queries run on it as on the pool.
//!
//! sqlx counts no waits nor timeouts of its own (its `sqlx::pool::acquire` event, on slow
//! acquires only, names no pool): the wrapper counts them around each acquire. In use, idle
//! and the maximum are the pool's, read at snapshot time. sqlx does not count connections
//! opened and closed, so this pool has no [`CONNECTIONS_CREATED_TOTAL`] figures.
//!
//! sqlx's statement events say nothing of errors, so a statement run on the pool (as an
//! executor) that ends with an error after its connection was acquired is reported to the
//! query layer by a TRACE event of target [`ERROR_TARGET`] (`perfscope_query_errors_total`);
//! an acquire that fails is the pool's (a timeout), not a statement's.
//!
//! [`CONNECTIONS_CREATED_TOTAL`]: super::CONNECTIONS_CREATED_TOTAL
//! [`ERROR_TARGET`]: crate::queries::ERROR_TARGET

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};

use futures_core::Stream;
use perfscope_core::figures::Registration;
use perfscope_core::{Callsite, Kind, instrument};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Describe, Either, Error, Execute, Executor, Pool, Transaction};

use super::stats::{self, Counters, PoolStats, Reading, Sizes, Waiting};
use crate::callsites::callsite;
use crate::queries::ERROR_TARGET;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// A [`sqlx::Pool`] measured by perfscope (see the [module](crate::pool) documentation).
/// Clones share the pool. Give each pool its own name.
///
/// `&InstrumentedSqlxPool` runs queries as `&Pool` does (each one on a connection acquired
/// through the measured [`acquire`](Self::acquire)); [`begin`](Self::begin) starts a
/// transaction. [`pool`](Self::pool) reaches the sqlx pool itself.
///
/// ```
/// # #[cfg(feature = "sqlx")] {
/// use perfscope_instrument::pool::InstrumentedSqlxPool;
/// use sqlx::sqlite::SqlitePoolOptions;
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// rt.block_on(async {
///     let pool = SqlitePoolOptions::new().max_connections(2).connect("sqlite::memory:").await?;
///     let pool = InstrumentedSqlxPool::new("store", pool);
///     let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
///     assert_eq!(one, 1);
///     assert_eq!(pool.stats().acquires, 1);
///     Ok::<_, sqlx::Error>(())
/// })
/// .unwrap();
/// # }
/// ```
pub struct InstrumentedSqlxPool<DB: Database> {
    inner: Arc<Inner<DB>>,
}

struct Inner<DB: Database> {
    pool: Pool<DB>,
    name: String,
    /// All but `in_use` (the pool's own size minus its idle connections).
    counters: Counters,
    acquire: &'static Callsite,
    _registration: Registration,
}

impl<DB: Database> Inner<DB> {
    fn sizes(&self) -> Sizes {
        Sizes {
            max: u64::from(self.pool.options().get_max_connections()),
            size: u64::from(self.pool.size()),
            idle: self.pool.num_idle() as u64,
        }
    }

    fn reading(&self) -> Reading {
        let sizes = self.sizes();
        let mut stats = self.counters.read();
        stats.in_use = sizes.size.saturating_sub(sizes.idle);
        stats.starved = sizes.starved(stats.pending);
        Reading { stats, sizes, lifecycle: None }
    }

    /// sqlx's `acquire`, a frame on the caller's stack; an acquire that finds no idle
    /// connection is counted waiting until it ends.
    fn acquire(&self) -> impl Future<Output = Result<PoolConnection<DB>, Error>> + Send + '_ {
        instrument(self.acquire, async move {
            let waiting = (self.pool.num_idle() == 0).then(|| Waiting::start(&self.counters));
            let acquired = self.pool.acquire().await;
            drop(waiting);
            match &acquired {
                Ok(_) => {
                    self.counters.acquires.fetch_add(1, Relaxed);
                    // Read, not counted: sqlx hands out a `PoolConnection` of its own.
                    let in_use =
                        u64::from(self.pool.size()).saturating_sub(self.pool.num_idle() as u64);
                    self.counters.high(in_use);
                }
                Err(Error::PoolTimedOut) => {
                    self.counters.timeouts.fetch_add(1, Relaxed);
                }
                Err(_) => {}
            }
            acquired
        })
    }
}

impl<DB: Database> Clone for InstrumentedSqlxPool<DB> {
    fn clone(&self) -> Self {
        InstrumentedSqlxPool { inner: self.inner.clone() }
    }
}

impl<DB: Database> std::fmt::Debug for InstrumentedSqlxPool<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedSqlxPool")
            .field("name", &self.inner.name)
            .field("pool", &self.inner.pool)
            .finish()
    }
}

impl<DB: Database> InstrumentedSqlxPool<DB> {
    /// Measures `pool` under `name` (the frame `pool::<name>::acquire`, the figures' `pool`
    /// label) from now on, while this value or a clone lives.
    pub fn new(name: impl Into<String>, pool: Pool<DB>) -> Self {
        let name = name.into();
        let acquire = callsite(format!("pool::{name}::acquire"), Kind::Async, module_path!());
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<DB>>| {
            let _registration = stats::register(&name, weak.clone(), Inner::reading);
            Inner { pool, name, counters: Counters::default(), acquire, _registration }
        });
        InstrumentedSqlxPool { inner }
    }

    /// sqlx's `acquire`: a connection, waiting for one (up to the pool's `acquire_timeout`)
    /// when none is idle.
    pub fn acquire(&self) -> impl Future<Output = Result<PoolConnection<DB>, Error>> + Send + '_ {
        self.inner.acquire()
    }

    /// sqlx's `begin`: a transaction on a connection from [`acquire`](Self::acquire).
    pub async fn begin(&self) -> Result<Transaction<'static, DB>, Error> {
        let connection = self.acquire().await?;
        // What `Pool::begin` does with the connection it acquires.
        Transaction::begin(connection, None).await
    }

    /// The name the pool is measured under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The counts now.
    pub fn stats(&self) -> PoolStats {
        self.inner.reading().stats
    }

    /// The sqlx pool itself (for what takes a `&Pool`, and to close it; acquires through it
    /// are not measured).
    pub fn pool(&self) -> &Pool<DB> {
        &self.inner.pool
    }

    /// Closes the pool (sqlx's `close`: waits for the connections in use to come back).
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }
}

impl<'p, DB: Database> sqlx::Acquire<'p> for &'p InstrumentedSqlxPool<DB> {
    type Database = DB;
    type Connection = PoolConnection<DB>;

    fn acquire(self) -> BoxFuture<'p, Result<PoolConnection<DB>, Error>> {
        Box::pin(InstrumentedSqlxPool::acquire(self))
    }

    fn begin(self) -> BoxFuture<'p, Result<Transaction<'p, DB>, Error>> {
        Box::pin(async move {
            let connection = InstrumentedSqlxPool::acquire(self).await?;
            Transaction::begin(connection, None).await
        })
    }
}

impl<'p, DB: Database> Executor<'p> for &'p InstrumentedSqlxPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let sql = query.sql();
        Box::pin(async_stream::try_stream! {
            let mut connection = self.acquire().await?;
            for await result in connection.fetch_many(query) {
                yield reported(sql, result)?;
            }
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let sql = query.sql();
        Box::pin(async move {
            let mut connection = self.acquire().await?;
            reported(sql, connection.fetch_optional(query).await)
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement<'q>, Error>>
    where
        'p: 'e,
    {
        Box::pin(async move { self.acquire().await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<DB>, Error>>
    where
        'p: 'e,
    {
        Box::pin(async move { self.acquire().await?.describe(sql).await })
    }
}

/// `result` of the statement `sql`; an error is reported to the query layer (target
/// [`ERROR_TARGET`]), which counts it for the statement's fingerprint.
fn reported<T>(sql: &str, result: Result<T, Error>) -> Result<T, Error> {
    if let Err(error) = &result {
        tracing::event!(
            target: ERROR_TARGET,
            tracing::Level::TRACE,
            db.statement = sql,
            error = %error,
            "statement failed"
        );
    }
    result
}
