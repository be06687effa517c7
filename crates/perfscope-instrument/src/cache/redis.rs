//! [`RedisL2`]: Redis as the second level of a [`MultiLevelCache`](super::MultiLevelCache),
//! over the `redis` crate's sync connection, with every wait bounded.
//!
//! One connection serves the cache's L2 requests, one request at a time (the L1 and its
//! single flight keep them few). What can block is bounded:
//!
//! - opening a connection: the **connect timeout** (connect and handshake);
//! - a request: the **response timeout** (the socket's read and write timeouts);
//! - waiting for the connection another request holds: the response timeout too, after which
//!   the waiter gives up with an error instead of queueing on;
//! - after a request or a connect fails at the connection level (refused, dropped, timed out),
//!   the connection is closed (a response cut off by a timeout leaves the stream out of step,
//!   so it is never reused), and for the **reconnect backoff** every request fails at once;
//!   then one request tries a new connection.
//!
//! So a caller's worst case is about connect timeout + 2 × response timeout, however many
//! callers there are: a server that stops answering costs one request a response timeout,
//! and the others queued behind it fail as soon as it does.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::{Client, Connection, ConnectionLike, RedisError, RedisResult};

use super::multi::L2;

/// A Redis server as a second cache level: `GET`, `SET` (with `PX` when a time to live is
/// set) and `DEL` of `prefix + key`, on one sync connection, opened again after a failure.
/// Every wait is bounded (see the module documentation): connect
/// [`DEFAULT_CONNECT_TIMEOUT`](RedisL2::DEFAULT_CONNECT_TIMEOUT) (500 ms), response
/// [`DEFAULT_RESPONSE_TIMEOUT`](RedisL2::DEFAULT_RESPONSE_TIMEOUT) (500 ms), and after a
/// connection failure requests fail at once for
/// [`DEFAULT_RECONNECT_BACKOFF`](RedisL2::DEFAULT_RECONNECT_BACKOFF) (250 ms); each is
/// configurable.
/// Every failure is a [`RedisError`], which the cache counts as an L2 error.
pub struct RedisL2 {
    client: Client,
    state: Mutex<State>,
    /// Signalled when the connection is handed back.
    free: Condvar,
    prefix: String,
    ttl: Option<Duration>,
    connect_timeout: Duration,
    response_timeout: Duration,
    reconnect_backoff: Duration,
}

/// The connection and who holds it.
struct State {
    /// A request holds the connection (taken out of `connection`).
    busy: bool,
    connection: Option<Connection>,
    /// No connection is opened before this instant (set by a connection failure).
    retry_at: Option<Instant>,
}

impl std::fmt::Debug for RedisL2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisL2")
            .field("server", &self.client.get_connection_info().addr())
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("reconnect_backoff", &self.reconnect_backoff)
            .finish()
    }
}

impl RedisL2 {
    /// How long opening a connection may take, unless
    /// [`with_connect_timeout`](RedisL2::with_connect_timeout) says.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
    /// How long a request may wait for its response, unless
    /// [`with_response_timeout`](RedisL2::with_response_timeout) says.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
    /// How long requests fail at once after a connection failure, unless
    /// [`with_reconnect_backoff`](RedisL2::with_reconnect_backoff) says.
    pub const DEFAULT_RECONNECT_BACKOFF: Duration = Duration::from_millis(250);

    /// The server at `url` (e.g. `redis://127.0.0.1:6379/`); connects now, within
    /// [`DEFAULT_CONNECT_TIMEOUT`](RedisL2::DEFAULT_CONNECT_TIMEOUT), so a wrong address is
    /// an error here rather than at the first request.
    pub fn open(url: &str) -> Result<RedisL2, RedisError> {
        Self::open_with_timeout(url, Self::DEFAULT_CONNECT_TIMEOUT)
    }

    /// Like [`open`](RedisL2::open), connecting within `connect_timeout` (a slow or distant
    /// server), which later connections use too. Zero means the default.
    pub fn open_with_timeout(url: &str, connect_timeout: Duration) -> Result<RedisL2, RedisError> {
        let connect_timeout = nonzero_or(connect_timeout, Self::DEFAULT_CONNECT_TIMEOUT);
        let client = Client::open(url)?;
        let connection = client.get_connection_with_timeout(connect_timeout)?;
        set_timeouts(&connection, Self::DEFAULT_RESPONSE_TIMEOUT)?;
        Ok(RedisL2 {
            client,
            state: Mutex::new(State { busy: false, connection: Some(connection), retry_at: None }),
            free: Condvar::new(),
            prefix: String::new(),
            ttl: None,
            connect_timeout,
            response_timeout: Self::DEFAULT_RESPONSE_TIMEOUT,
            reconnect_backoff: Self::DEFAULT_RECONNECT_BACKOFF,
        })
    }

    /// Keys are stored as `prefix + key` (e.g. `"users:"`), so caches can share a server.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> RedisL2 {
        self.prefix = prefix.into();
        self
    }

    /// Values expire from Redis after `ttl` (`SET ... PX`).
    pub fn with_ttl(mut self, ttl: Duration) -> RedisL2 {
        self.ttl = Some(ttl);
        self
    }

    /// Connections opened from now on (after a failure) give up after `timeout` (connect and
    /// handshake). The first one was opened by [`open`](RedisL2::open) already; give
    /// [`open_with_timeout`](RedisL2::open_with_timeout) the timeout to have it apply to that
    /// one too. Zero means the default.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> RedisL2 {
        self.connect_timeout = nonzero_or(timeout, Self::DEFAULT_CONNECT_TIMEOUT);
        self
    }

    /// A request gives up after waiting `timeout` for its response, and a request waiting for
    /// the connection another one holds gives up after `timeout` too. Zero means the default.
    pub fn with_response_timeout(mut self, timeout: Duration) -> RedisL2 {
        self.response_timeout = nonzero_or(timeout, Self::DEFAULT_RESPONSE_TIMEOUT);
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(connection) = &state.connection
            && set_timeouts(connection, self.response_timeout).is_err()
        {
            // The next request opens one with the new timeout.
            state.connection = None;
        }
        self
    }

    /// After a connection failure, requests fail at once for `backoff` before one tries a new
    /// connection (a server that is down costs its callers no wait, and is not hammered).
    pub fn with_reconnect_backoff(mut self, backoff: Duration) -> RedisL2 {
        self.reconnect_backoff = backoff;
        self
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn with_connection<R>(
        &self,
        request: impl FnOnce(&mut Connection) -> RedisResult<R>,
    ) -> RedisResult<R> {
        let mut turn = self.take_turn()?;
        let connection = match &mut turn.connection {
            Some(connection) => connection,
            None => match self.connect() {
                Ok(connection) => turn.connection.insert(connection),
                Err(error) => {
                    turn.failed = true;
                    return Err(error);
                }
            },
        };
        let result = request(connection);
        if let Err(error) = &result {
            // Whatever went wrong, the next request gets a fresh connection: a response cut
            // off half-read (a timeout) leaves this one out of step with the server.
            turn.failed = error.is_io_error()
                || error.is_timeout()
                || error.is_connection_dropped()
                || error.is_unrecoverable_error()
                || !connection.is_open();
            turn.connection = None;
        }
        result
    }

    /// Waits (at most the response timeout) for the connection; fails at once during a
    /// reconnect backoff.
    fn take_turn(&self) -> RedisResult<Turn<'_>> {
        let deadline = Instant::now() + self.response_timeout;
        let mut state = self.lock();
        while state.busy {
            let now = Instant::now();
            if now >= deadline {
                return Err(io_error(
                    io::ErrorKind::TimedOut,
                    format!(
                        "another request has held the connection for over {:?}",
                        self.response_timeout
                    ),
                ));
            }
            state = match self.free.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        if state.connection.is_none()
            && let Some(retry_at) = state.retry_at
        {
            let now = Instant::now();
            if now < retry_at {
                return Err(io_error(
                    io::ErrorKind::NotConnected,
                    format!(
                        "no connection after a failure; the next attempt in {:?}",
                        retry_at - now
                    ),
                ));
            }
        }
        state.busy = true;
        Ok(Turn { l2: self, connection: state.connection.take(), failed: false })
    }

    fn connect(&self) -> RedisResult<Connection> {
        let connection = self.client.get_connection_with_timeout(self.connect_timeout)?;
        set_timeouts(&connection, self.response_timeout)?;
        Ok(connection)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One request's hold on the connection; handing it back wakes the waiters.
struct Turn<'a> {
    l2: &'a RedisL2,
    connection: Option<Connection>,
    /// The connection failed: start the reconnect backoff.
    failed: bool,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut state = self.l2.lock();
        state.busy = false;
        state.connection = self.connection.take();
        if self.failed {
            state.retry_at = Some(Instant::now() + self.l2.reconnect_backoff);
            drop(state);
            // Everyone waiting fails at once now, rather than at their own deadlines.
            self.l2.free.notify_all();
        } else {
            if state.connection.is_some() {
                state.retry_at = None;
            }
            drop(state);
            self.l2.free.notify_one();
        }
    }
}

fn set_timeouts(connection: &Connection, timeout: Duration) -> RedisResult<()> {
    connection.set_read_timeout(Some(timeout))?;
    connection.set_write_timeout(Some(timeout))
}

fn nonzero_or(timeout: Duration, default: Duration) -> Duration {
    if timeout.is_zero() { default } else { timeout }
}

fn io_error(kind: io::ErrorKind, message: String) -> RedisError {
    RedisError::from(io::Error::new(kind, message))
}

impl L2 for RedisL2 {
    type Error = RedisError;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RedisError> {
        let key = self.key(key);
        self.with_connection(|c| redis::cmd("GET").arg(&key).query(c))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), RedisError> {
        let set = set_command(&self.key(key), value, self.ttl);
        self.with_connection(|c| set.query(c))
    }

    fn delete(&self, key: &str) -> Result<(), RedisError> {
        let key = self.key(key);
        self.with_connection(|c| redis::cmd("DEL").arg(&key).query(c))
    }
}

/// `SET key value`, with `PX` when values expire (at least 1 ms): the sync and async Redis
/// levels send the same command.
pub(super) fn set_command(key: &str, value: &[u8], ttl: Option<Duration>) -> redis::Cmd {
    let mut set = redis::cmd("SET");
    set.arg(key).arg(value);
    if let Some(ttl) = ttl {
        set.arg("PX").arg(ttl.as_millis().max(1) as u64);
    }
    set
}
