//! [`InstrumentedPool`] over `deadpool::unmanaged::Pool`, and [`Pooled`], what it hands out.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;

use deadpool::Status;
use deadpool::unmanaged::{Object, Pool, PoolError};
use perfscope_core::figures::Registration;
use perfscope_core::{Callsite, Kind, instrument};

use super::stats::{self, Counters, PoolStats, Reading, Sizes, Waiting};
use crate::callsites::callsite;

/// A [`deadpool::unmanaged::Pool`] measured by perfscope (see the [module](crate::pool)
/// documentation). Clones share the pool. Give each pool its own name.
pub struct InstrumentedPool<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    pool: Pool<T>,
    name: String,
    counters: Arc<Counters>,
    acquire: &'static Callsite,
    _registration: Registration,
}

impl<T> Inner<T> {
    fn reading(&self) -> Reading {
        let status = self.pool.status();
        let sizes = Sizes {
            max: status.max_size as u64,
            size: status.size as u64,
            idle: status.available as u64,
        };
        let mut stats = self.counters.read();
        stats.starved = sizes.starved(stats.pending);
        Reading { stats, sizes, lifecycle: None }
    }
}

impl<T> Clone for InstrumentedPool<T> {
    fn clone(&self) -> Self {
        InstrumentedPool { inner: self.inner.clone() }
    }
}

impl<T> std::fmt::Debug for InstrumentedPool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedPool")
            .field("name", &self.inner.name)
            .field("status", &self.inner.pool.status())
            .finish()
    }
}

impl<T: Send + 'static> InstrumentedPool<T> {
    /// Measures `pool` under `name` (the frame `pool::<name>::acquire`, the figures' `pool`
    /// label) from now on, while this value or a clone lives.
    pub fn new(name: impl Into<String>, pool: Pool<T>) -> Self {
        let name = name.into();
        let counters = Arc::new(Counters::default());
        let acquire = callsite(format!("pool::{name}::acquire"), Kind::Async, module_path!());
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<T>>| {
            let _registration = stats::register(&name, weak.clone(), Inner::reading);
            Inner { pool, name, counters, acquire, _registration }
        });
        InstrumentedPool { inner }
    }

    /// deadpool's `get`: an object, waiting for one (up to the pool's configured timeout, if
    /// any) when none is idle.
    pub fn get(&self) -> impl Future<Output = Result<Pooled<T>, PoolError>> + '_ {
        self.acquire(None)
    }

    /// deadpool's `timeout_get`: like [`get`](Self::get), waiting at most `timeout` (`None`:
    /// for ever). A timeout needs a runtime in the pool's `PoolConfig`.
    pub fn timeout_get(
        &self,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Pooled<T>, PoolError>> + '_ {
        self.acquire(Some(timeout))
    }

    /// `timeout`: `None` for the configured one, `Some(t)` for `timeout_get(t)`.
    fn acquire(
        &self,
        timeout: Option<Option<Duration>>,
    ) -> impl Future<Output = Result<Pooled<T>, PoolError>> + '_ {
        let inner = &*self.inner;
        instrument(inner.acquire, async move {
            let object = match inner.pool.try_get() {
                Ok(object) => object,
                Err(PoolError::Timeout) => {
                    let _waiting = Waiting::start(&inner.counters);
                    let waited = match timeout {
                        None => inner.pool.get().await,
                        Some(timeout) => inner.pool.timeout_get(timeout).await,
                    };
                    if let Err(PoolError::Timeout) = waited {
                        inner.counters.timeouts.fetch_add(1, Relaxed);
                    }
                    waited?
                }
                Err(error) => return Err(error),
            };
            inner.counters.acquired();
            Ok(Pooled { object: ManuallyDrop::new(object), counters: inner.counters.clone() })
        })
    }

    /// The name the pool is measured under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The counts so far.
    pub fn stats(&self) -> PoolStats {
        self.inner.reading().stats
    }

    /// deadpool's status (size, idle objects).
    pub fn status(&self) -> Status {
        self.inner.pool.status()
    }

    /// The deadpool pool itself (to add or remove objects; acquires through it are not
    /// measured).
    pub fn pool(&self) -> &Pool<T> {
        &self.inner.pool
    }
}

/// An object from an [`InstrumentedPool`]: derefs to `T`, counted in use until dropped
/// (back to the pool) or [`take`](Self::take)n out of it.
#[must_use]
pub struct Pooled<T> {
    object: ManuallyDrop<Object<T>>,
    counters: Arc<Counters>,
}

impl<T> Pooled<T> {
    /// Takes the object out of the pool for good (deadpool's `Object::take`).
    pub fn take(this: Self) -> T {
        let mut this = ManuallyDrop::new(this);
        this.counters.released();
        // SAFETY: `this` is never dropped nor used again, so each field is moved out once.
        let (object, counters) =
            unsafe { (ManuallyDrop::take(&mut this.object), std::ptr::read(&this.counters)) };
        drop(counters);
        Object::take(object)
    }
}

impl<T> Drop for Pooled<T> {
    fn drop(&mut self) {
        // Out of use before the object is back: the high-water never counts it twice.
        self.counters.released();
        // SAFETY: dropped once, here; `self.object` is not used after.
        unsafe { ManuallyDrop::drop(&mut self.object) }
    }
}

impl<T> Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.object
    }
}

impl<T> DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.object
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Pooled<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pooled").field(&**self).finish()
    }
}
