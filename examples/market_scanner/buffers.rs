//! The scan tasks' receive buffers: a managed pool makes them on demand (none up front, at most
//! [`MAX_BUFFERS`], fewer than the symbols, so tasks wait for one and the report shows where),
//! clears each before it is lent again, and drops one that grew past [`MAX_CAPACITY`] rather
//! than keep its memory; the pool counts what it created, recycled and dropped.

use deadpool::managed::{Manager, Metrics, PoolConfig, RecycleError, RecycleResult};
use perfscope_instrument::pool::InstrumentedManagedPool;

/// Buffers the pool holds at most.
pub const MAX_BUFFERS: usize = 8;
/// Ticks a new buffer has room for (one fetch's batch).
const CAPACITY: usize = 64;
/// A buffer whose capacity grew past this is dropped instead of reused.
const MAX_CAPACITY: usize = 16 * CAPACITY;

/// The pool's factory of receive buffers.
#[derive(Debug)]
pub struct ReceiveBuffers;

impl Manager for ReceiveBuffers {
    type Type = Vec<f64>;
    type Error = std::convert::Infallible;

    async fn create(&self) -> Result<Vec<f64>, Self::Error> {
        Ok(Vec::with_capacity(CAPACITY))
    }

    async fn recycle(&self, buffer: &mut Vec<f64>, _: &Metrics) -> RecycleResult<Self::Error> {
        if buffer.capacity() > MAX_CAPACITY {
            return Err(RecycleError::message("a receive buffer grew too large to keep"));
        }
        buffer.clear();
        Ok(())
    }
}

/// The instrumented pool of receive buffers (`pool::receive_buffers::acquire` frames).
pub fn pool() -> anyhow::Result<InstrumentedManagedPool<ReceiveBuffers>> {
    let config = PoolConfig::new(MAX_BUFFERS);
    Ok(InstrumentedManagedPool::new("receive_buffers", ReceiveBuffers, config)?)
}
