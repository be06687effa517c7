//! [`RedisL2`]: Redis as the second level of a [`MultiLevelCache`](super::MultiLevelCache),
//! over the `redis` crate's sync connection.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Client, Connection, ConnectionLike, RedisError, RedisResult};

use super::multi::L2;

/// A Redis server as a second cache level: `GET`, `SET` (with `PX` when a time to live is
/// set) and `DEL` of `prefix + key`, on one sync connection opened on first use and opened
/// again after a failure. One connection serialises the L2 requests of one cache; the L1 and
/// its single flight keep them few.
pub struct RedisL2 {
    client: Client,
    connection: Mutex<Option<Connection>>,
    prefix: String,
    ttl: Option<Duration>,
}

impl std::fmt::Debug for RedisL2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisL2")
            .field("server", &self.client.get_connection_info().addr())
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl RedisL2 {
    /// The server at `url` (e.g. `redis://127.0.0.1:6379/`); connects now, so a wrong address
    /// is an error here rather than at the first request.
    pub fn open(url: &str) -> Result<RedisL2, RedisError> {
        let client = Client::open(url)?;
        let connection = client.get_connection()?;
        Ok(RedisL2 {
            client,
            connection: Mutex::new(Some(connection)),
            prefix: String::new(),
            ttl: None,
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

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn with_connection<R>(
        &self,
        request: impl FnOnce(&mut Connection) -> RedisResult<R>,
    ) -> RedisResult<R> {
        let mut slot = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let connection = match &mut *slot {
            Some(connection) => connection,
            None => slot.insert(self.client.get_connection()?),
        };
        let result = request(connection);
        if let Err(error) = &result
            && (error.is_io_error() || error.is_connection_dropped() || !connection.is_open())
        {
            *slot = None;
        }
        result
    }
}

impl L2 for RedisL2 {
    type Error = RedisError;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RedisError> {
        let key = self.key(key);
        self.with_connection(|c| redis::cmd("GET").arg(&key).query(c))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), RedisError> {
        let key = self.key(key);
        let mut set = redis::cmd("SET");
        set.arg(&key).arg(value);
        if let Some(ttl) = self.ttl {
            set.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        self.with_connection(|c| set.query(c))
    }

    fn delete(&self, key: &str) -> Result<(), RedisError> {
        let key = self.key(key);
        self.with_connection(|c| redis::cmd("DEL").arg(&key).query(c))
    }
}
