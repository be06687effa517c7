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
//!   connect timeout + response timeout, whatever the connection manager does;
//! - after a request fails at the connection level (refused, dropped, timed out), for the
//!   **reconnect backoff** every request fails at once, without touching the server (a server
//!   that is down costs its callers no wait, and is not hammered with connection attempts).
//!
//! So a caller's worst case is about connect timeout + response timeout per L2 request
//! (a `get_with` that misses makes two, the lookup and the write), however many callers
//! there are. Every failure is a [`RedisError`], which the cache counts as an L2 error.
//! The connection manager runs on tokio: open and use an `AsyncRedisL2` within a tokio runtime
//! with its timer enabled (`#[tokio::main]`, `Builder::enable_all`).

use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, RedisError, RedisResult};

use super::multi_async::AsyncL2;

/// A Redis server as an async second cache level: `GET`, `SET` (with `PX` when a time to live
/// is set) and `DEL` of `prefix + key`, over a `redis::aio::ConnectionManager` (reconnects by
/// itself). Every wait is bounded (see the module documentation): connect
/// [`DEFAULT_CONNECT_TIMEOUT`](AsyncRedisL2::DEFAULT_CONNECT_TIMEOUT) (500 ms), response
/// [`DEFAULT_RESPONSE_TIMEOUT`](AsyncRedisL2::DEFAULT_RESPONSE_TIMEOUT) (500 ms), both
/// configurable with [`open_with_timeouts`](AsyncRedisL2::open_with_timeouts); after a
/// connection failure requests fail at once for
/// [`DEFAULT_RECONNECT_BACKOFF`](AsyncRedisL2::DEFAULT_RECONNECT_BACKOFF) (250 ms).
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
pub struct AsyncRedisL2 {
    manager: ConnectionManager,
    server: String,
    prefix: String,
    ttl: Option<Duration>,
    connect_timeout: Duration,
    response_timeout: Duration,
    reconnect_backoff: Duration,
    /// Requests fail at once until this instant (set by a connection failure).
    retry_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for AsyncRedisL2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRedisL2")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("reconnect_backoff", &self.reconnect_backoff)
            .finish()
    }
}

impl AsyncRedisL2 {
    /// How long opening a connection may take, unless
    /// [`open_with_timeouts`](AsyncRedisL2::open_with_timeouts) says.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = super::RedisL2::DEFAULT_CONNECT_TIMEOUT;
    /// How long a request may wait for its response, unless
    /// [`open_with_timeouts`](AsyncRedisL2::open_with_timeouts) says.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = super::RedisL2::DEFAULT_RESPONSE_TIMEOUT;
    /// How long requests fail at once after a connection failure, unless
    /// [`with_reconnect_backoff`](AsyncRedisL2::with_reconnect_backoff) says.
    pub const DEFAULT_RECONNECT_BACKOFF: Duration = super::RedisL2::DEFAULT_RECONNECT_BACKOFF;

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
            reconnect_backoff: Self::DEFAULT_RECONNECT_BACKOFF,
            retry_at: Mutex::new(None),
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

    /// After a connection failure, requests fail at once for `backoff` (zero: never) before
    /// one goes to the server again.
    pub fn with_reconnect_backoff(mut self, backoff: Duration) -> AsyncRedisL2 {
        self.reconnect_backoff = backoff;
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

    /// Sends `cmd`, cut off after connect timeout + response timeout; fails at once during a
    /// reconnect backoff.
    async fn request<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        if let Some(retry_at) = *self.retry_at() {
            let now = Instant::now();
            if now < retry_at {
                let message = format!(
                    "no connection after a failure; the next attempt in {:?}",
                    retry_at - now
                );
                return Err(RedisError::from(io::Error::new(io::ErrorKind::NotConnected, message)));
            }
        }
        let mut manager = self.manager.clone();
        let bound = self.connect_timeout + self.response_timeout;
        let result = match tokio::time::timeout(bound, cmd.query_async(&mut manager)).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(format!("no answer within {bound:?}"))),
        };
        match &result {
            Err(error)
                if error.is_io_error()
                    || error.is_timeout()
                    || error.is_connection_dropped()
                    || error.is_connection_refusal()
                    || error.is_unrecoverable_error() =>
            {
                *self.retry_at() = Some(Instant::now() + self.reconnect_backoff);
            }
            Ok(_) => *self.retry_at() = None,
            Err(_) => {}
        }
        result
    }

    fn retry_at(&self) -> MutexGuard<'_, Option<Instant>> {
        self.retry_at.lock().unwrap_or_else(PoisonError::into_inner)
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
        self.request(&super::redis::set_command(&self.key(key), value, self.ttl)).await
    }

    async fn delete(&self, key: &str) -> Result<(), RedisError> {
        self.request(redis::cmd("DEL").arg(self.key(key))).await
    }
}
