//! [`AsyncRedisL2`]: Redis as the second level of an
//! [`AsyncMultiLevelCache`](super::AsyncMultiLevelCache), over the `redis` crate's
//! `aio::ConnectionManager` (tokio), with every wait bounded.
//!
//! The connection manager multiplexes the cache's requests over one connection (no request
//! waits for another's turn) and opens a new one in the background when it drops. What can
//! wait is bounded:
//!
//! - opening a connection: the **connect timeout** (connect and handshake), one attempt per
//!   reconnection (no retries: while the server is down, a request fails as soon as the
//!   attempt does, which on a refused port is at once, and the next request tries again);
//! - a request: the **response timeout** for its answer, after waiting for a connection
//!   that is being opened at most the connect timeout; each request is also cut off after
//!   connect timeout + response timeout, whatever the connection manager does.
//!
//! So a caller's worst case is about connect timeout + response timeout per L2 request
//! (a `get_with` that misses makes two, the lookup and the write), however many callers
//! there are. Every failure is a [`RedisError`], which the cache counts as an L2 error.
//! The connection manager runs on tokio: open and use an `AsyncRedisL2` within a tokio runtime
//! with its timer enabled (`#[tokio::main]`, `Builder::enable_all`).

use std::io;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, RedisError, RedisResult};

use super::multi_async::AsyncL2;

/// A Redis server as an async second cache level: `GET`, `SET` (with `PX` when a time to live
/// is set) and `DEL` of `prefix + key`, over a `redis::aio::ConnectionManager` (reconnects by
/// itself). Every wait is bounded (see the module documentation): connect
/// [`DEFAULT_CONNECT_TIMEOUT`](AsyncRedisL2::DEFAULT_CONNECT_TIMEOUT) (500 ms), response
/// [`DEFAULT_RESPONSE_TIMEOUT`](AsyncRedisL2::DEFAULT_RESPONSE_TIMEOUT) (500 ms), both
/// configurable with [`open_with_timeouts`](AsyncRedisL2::open_with_timeouts).
///
/// ```no_run
/// use perfscope_instrument::cache::{AsyncMultiLevelCache, AsyncRedisL2};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let l2 = AsyncRedisL2::open("redis://127.0.0.1:6379/").await?.with_prefix("users:");
/// let users = AsyncMultiLevelCache::new("users", moka::future::Cache::builder().max_capacity(10_000), l2);
/// let name = users.get_with(&7_u64, async { Ok::<_, std::io::Error>("ada".to_string()) }).await?;
/// assert_eq!(name, "ada");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncRedisL2 {
    manager: ConnectionManager,
    server: String,
    prefix: String,
    ttl: Option<Duration>,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl std::fmt::Debug for AsyncRedisL2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRedisL2")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl AsyncRedisL2 {
    /// How long opening a connection may take, unless
    /// [`open_with_timeouts`](AsyncRedisL2::open_with_timeouts) says.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
    /// How long a request may wait for its response, unless
    /// [`open_with_timeouts`](AsyncRedisL2::open_with_timeouts) says.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

    /// The server at `url` (e.g. `redis://127.0.0.1:6379/`); connects now, within
    /// [`DEFAULT_CONNECT_TIMEOUT`](AsyncRedisL2::DEFAULT_CONNECT_TIMEOUT), so a wrong address
    /// is an error here rather than at the first request.
    pub async fn open(url: &str) -> Result<AsyncRedisL2, RedisError> {
        let (connect, response) = (Self::DEFAULT_CONNECT_TIMEOUT, Self::DEFAULT_RESPONSE_TIMEOUT);
        Self::open_with_timeouts(url, connect, response).await
    }

    /// Like [`open`](AsyncRedisL2::open), with the connect timeout (this connection and the
    /// ones opened after a failure) and the response timeout. Zero means the default.
    pub async fn open_with_timeouts(
        url: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<AsyncRedisL2, RedisError> {
        let connect_timeout = nonzero_or(connect_timeout, Self::DEFAULT_CONNECT_TIMEOUT);
        let response_timeout = nonzero_or(response_timeout, Self::DEFAULT_RESPONSE_TIMEOUT);
        let client = Client::open(url)?;
        let server = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(response_timeout))
            .set_number_of_retries(0);
        let manager = ConnectionManager::new_with_config(client, config);
        let manager = match tokio::time::timeout(connect_timeout, manager).await {
            Ok(manager) => manager?,
            Err(_) => return Err(timed_out(format!("no connection within {connect_timeout:?}"))),
        };
        Ok(AsyncRedisL2 {
            manager,
            server,
            prefix: String::new(),
            ttl: None,
            connect_timeout,
            response_timeout,
        })
    }

    /// Keys are stored as `prefix + key` (e.g. `"users:"`), so caches can share a server.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> AsyncRedisL2 {
        self.prefix = prefix.into();
        self
    }

    /// Values expire from Redis after `ttl` (`SET ... PX`).
    pub fn with_ttl(mut self, ttl: Duration) -> AsyncRedisL2 {
        self.ttl = Some(ttl);
        self
    }

    /// The connection manager, for requests of the program's own (not measured, not bounded
    /// by this type's request timeout).
    pub fn connection_manager(&self) -> &ConnectionManager {
        &self.manager
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Sends `cmd`, cut off after connect timeout + response timeout.
    async fn request<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        let mut manager = self.manager.clone();
        let bound = self.connect_timeout + self.response_timeout;
        match tokio::time::timeout(bound, cmd.query_async(&mut manager)).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(format!("no answer within {bound:?}"))),
        }
    }
}

fn nonzero_or(timeout: Duration, default: Duration) -> Duration {
    if timeout.is_zero() { default } else { timeout }
}

fn timed_out(message: String) -> RedisError {
    RedisError::from(io::Error::new(io::ErrorKind::TimedOut, message))
}

impl AsyncL2 for AsyncRedisL2 {
    type Error = RedisError;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RedisError> {
        self.request(redis::cmd("GET").arg(self.key(key))).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), RedisError> {
        let mut set = redis::cmd("SET");
        set.arg(self.key(key)).arg(value);
        if let Some(ttl) = self.ttl {
            set.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        self.request(&set).await
    }

    async fn delete(&self, key: &str) -> Result<(), RedisError> {
        self.request(redis::cmd("DEL").arg(self.key(key))).await
    }
}
