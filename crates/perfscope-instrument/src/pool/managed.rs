//! [`InstrumentedManagedPool`] over `deadpool::managed::Pool`, and [`ManagedPooled`], what it
//! hands out.
//!
//! The pool's [`Manager`] is its factory: an acquire takes an idle object, checked by the
//! manager's `recycle` first, or has the manager create one while the pool holds fewer than
//! its `max_size`; only a full pool makes callers wait. An object that fails its recycle is
//! dropped and the acquire goes on (the next idle object, or a new one). The manager is
//! wrapped to count what it did: [`ObjectCounts`], read at snapshot time.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::Duration;

use deadpool::Runtime;
use deadpool::Status;
use deadpool::managed::{
    BuildError, Manager, Metrics, Object, Pool, PoolConfig, PoolError, RecycleResult, TimeoutType,
    Timeouts,
};
use perfscope_core::figures::Registration;
use perfscope_core::{Callsite, Kind, instrument};

use super::stats::{self, Counters, Lifecycle, PoolStats, Reading, Sizes, Waiting};
use crate::callsites::callsite;

/// What a managed pool's manager did since the pool was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectCounts {
    /// Objects the manager created (its `create` succeeded).
    pub created: u64,
    /// Idle objects that passed the manager's `recycle` and were handed out again.
    pub recycled: u64,
    /// Objects dropped because their recycle failed (or did not finish: its timeout, or the
    /// acquire given up meanwhile); `cause="invalid"` in the figures.
    pub dropped: u64,
}

/// The counts behind [`ObjectCounts`].
#[derive(Debug, Default)]
struct Objects {
    created: AtomicU64,
    recycled: AtomicU64,
    dropped: AtomicU64,
}

/// The program's manager, counting what it does for the pool.
struct Counting<M> {
    manager: M,
    objects: Arc<Objects>,
}

/// Counts one dropped object when dropped armed: a recycle that failed or never finished.
struct DroppedUnlessRecycled<'a>(&'a AtomicU64, bool);

impl Drop for DroppedUnlessRecycled<'_> {
    fn drop(&mut self) {
        if self.1 {
            self.0.fetch_add(1, Relaxed);
        }
    }
}

impl<M: Manager> Manager for Counting<M> {
    type Type = M::Type;
    type Error = M::Error;

    fn create(&self) -> impl Future<Output = Result<M::Type, M::Error>> + Send {
        let (created, create) = (&self.objects.created, self.manager.create());
        async move {
            let object = create.await;
            if object.is_ok() {
                created.fetch_add(1, Relaxed);
            }
            object
        }
    }

    fn recycle(
        &self,
        object: &mut M::Type,
        metrics: &Metrics,
    ) -> impl Future<Output = RecycleResult<M::Error>> + Send {
        let objects = &*self.objects;
        let recycle = self.manager.recycle(object, metrics);
        async move {
            // deadpool drops the object unless this returns `Ok`; a timeout or a cancelled
            // acquire drops this future, and the object with it.
            let mut dropped = DroppedUnlessRecycled(&objects.dropped, true);
            let result = recycle.await;
            if result.is_ok() {
                dropped.1 = false;
                objects.recycled.fetch_add(1, Relaxed);
            }
            result
        }
    }

    fn detach(&self, object: &mut M::Type) {
        self.manager.detach(object);
    }
}

/// A [`deadpool::managed::Pool`] measured by perfscope (see the [module](crate::pool)
/// documentation): the same figures and acquire frames as [`InstrumentedPool`], and the
/// objects its manager created, recycled and dropped ([`ObjectCounts`]). Clones share the
/// pool. Give each pool its own name.
///
/// Pick it over [`InstrumentedPool`] when objects can be made on demand: it creates them up
/// to `max_size` as callers need them, checks each idle one before handing it out again, and
/// drops what fails that check. An unmanaged pool only lends out what the program put in.
///
/// ```
/// use deadpool::managed::{Manager, Metrics, PoolConfig, RecycleResult};
/// use perfscope_instrument::pool::InstrumentedManagedPool;
///
/// /// Buffers, made on demand and cleared before each reuse.
/// struct Buffers;
///
/// impl Manager for Buffers {
///     type Type = Vec<u8>;
///     type Error = std::convert::Infallible;
///     async fn create(&self) -> Result<Vec<u8>, Self::Error> {
///         Ok(Vec::with_capacity(4096))
///     }
///     async fn recycle(&self, buffer: &mut Vec<u8>, _: &Metrics) -> RecycleResult<Self::Error> {
///         buffer.clear();
///         Ok(())
///     }
/// }
///
/// let pool = InstrumentedManagedPool::new("buffers", Buffers, PoolConfig::new(4)).unwrap();
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// rt.block_on(async {
///     let mut buffer = pool.get().await.unwrap(); // a frame `pool::buffers::acquire`
///     buffer.extend_from_slice(b"tick");
///     drop(buffer);
///     assert!(pool.get().await.unwrap().is_empty(), "the same buffer, recycled");
/// });
/// let objects = pool.objects();
/// assert_eq!((objects.created, objects.recycled, objects.dropped), (1, 1, 0));
/// ```
///
/// [`InstrumentedPool`]: crate::pool::InstrumentedPool
pub struct InstrumentedManagedPool<M: Manager> {
    inner: Arc<Inner<M>>,
}

struct Inner<M: Manager> {
    pool: Pool<Counting<M>>,
    name: String,
    counters: Arc<Counters>,
    objects: Arc<Objects>,
    acquire: &'static Callsite,
    _registration: Registration,
}

impl<M: Manager> Inner<M> {
    fn reading(&self) -> Reading {
        let status = self.pool.status();
        let sizes = Sizes {
            max: status.max_size as u64,
            size: status.size as u64,
            idle: status.available as u64,
        };
        let mut stats = self.counters.read();
        stats.starved = sizes.starved(stats.pending);
        let objects = self.objects();
        let lifecycle = Lifecycle {
            created: objects.created,
            recycled: Some(objects.recycled),
            closed: vec![("invalid", objects.dropped)],
        };
        Reading { stats, sizes, lifecycle: Some(lifecycle) }
    }

    fn objects(&self) -> ObjectCounts {
        ObjectCounts {
            created: self.objects.created.load(Relaxed),
            recycled: self.objects.recycled.load(Relaxed),
            dropped: self.objects.dropped.load(Relaxed),
        }
    }
}

impl<M: Manager> Clone for InstrumentedManagedPool<M> {
    fn clone(&self) -> Self {
        InstrumentedManagedPool { inner: self.inner.clone() }
    }
}

impl<M: Manager> std::fmt::Debug for InstrumentedManagedPool<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedManagedPool")
            .field("name", &self.inner.name)
            .field("status", &self.inner.pool.status())
            .field("objects", &self.inner.objects())
            .finish()
    }
}

impl<M: Manager + 'static> InstrumentedManagedPool<M> {
    /// A pool whose objects `manager` creates and recycles, sized and timed by `config`
    /// (`PoolConfig::new(max_size)`: no timeouts; a timeout needs a tokio runtime with its
    /// timer enabled), measured under `name` (the frame `pool::<name>::acquire`, the figures'
    /// `pool` label) while this value or a clone lives.
    ///
    /// # Errors
    /// deadpool's [`BuildError`] if it refuses the configuration.
    pub fn new(
        name: impl Into<String>,
        manager: M,
        config: PoolConfig,
    ) -> Result<Self, BuildError> {
        let objects = Arc::new(Objects::default());
        let counting = Counting { manager, objects: objects.clone() };
        let pool = Pool::builder(counting).config(config).runtime(Runtime::Tokio1).build()?;
        let name = name.into();
        let counters = Arc::new(Counters::default());
        let acquire = callsite(format!("pool::{name}::acquire"), Kind::Async, module_path!());
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<M>>| {
            let _registration = stats::register(&name, weak.clone(), Inner::reading);
            Inner { pool, name, counters, objects, acquire, _registration }
        });
        Ok(InstrumentedManagedPool { inner })
    }

    /// deadpool's `get`: an idle object (recycled first) or a new one while the pool is under
    /// its maximum size; otherwise waits for one (up to the configured wait timeout, if any).
    pub fn get(&self) -> impl Future<Output = Result<ManagedPooled<M>, PoolError<M::Error>>> + '_ {
        self.acquire(self.inner.pool.timeouts())
    }

    /// deadpool's `timeout_get`: like [`get`](Self::get) with these timeouts (waiting,
    /// creating, recycling) instead of the configured ones.
    pub fn timeout_get(
        &self,
        timeouts: Timeouts,
    ) -> impl Future<Output = Result<ManagedPooled<M>, PoolError<M::Error>>> + '_ {
        self.acquire(timeouts)
    }

    fn acquire(
        &self,
        timeouts: Timeouts,
    ) -> impl Future<Output = Result<ManagedPooled<M>, PoolError<M::Error>>> + '_ {
        let inner = &*self.inner;
        instrument(inner.acquire, async move {
            // First without waiting (an idle object, or a new one below the maximum size): a
            // caller is counted as waiting only when the pool is full.
            let at_once = Timeouts { wait: Some(Duration::ZERO), ..timeouts };
            let got = match inner.pool.timeout_get(&at_once).await {
                Err(PoolError::Timeout(TimeoutType::Wait)) => {
                    let _waiting = Waiting::start(&inner.counters);
                    inner.pool.timeout_get(&timeouts).await
                }
                got => got,
            };
            if let Err(PoolError::Timeout(_)) = got {
                inner.counters.timeouts.fetch_add(1, Relaxed);
            }
            let object = got?;
            inner.counters.acquired();
            Ok(ManagedPooled {
                object: ManuallyDrop::new(object),
                counters: inner.counters.clone(),
            })
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

    /// Objects created, recycled and dropped so far.
    pub fn objects(&self) -> ObjectCounts {
        self.inner.objects()
    }

    /// deadpool's status (maximum size, size, idle objects, waiting callers).
    pub fn status(&self) -> Status {
        self.inner.pool.status()
    }

    /// The timeouts [`get`](Self::get) applies.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.pool.timeouts()
    }

    /// The manager the pool was built with.
    pub fn manager(&self) -> &M {
        &self.inner.pool.manager().manager
    }
}

/// An object from an [`InstrumentedManagedPool`]: derefs to the manager's type, counted in use
/// until dropped (back to the pool, recycled at its next acquire) or [`take`](Self::take)n out
/// of it.
#[must_use]
pub struct ManagedPooled<M: Manager> {
    object: ManuallyDrop<Object<Counting<M>>>,
    counters: Arc<Counters>,
}

impl<M: Manager> ManagedPooled<M> {
    /// Takes the object out of the pool for good (deadpool's `Object::take`): the pool may
    /// create another in its place. Not counted as dropped.
    pub fn take(this: Self) -> M::Type {
        let mut this = ManuallyDrop::new(this);
        this.counters.released();
        // SAFETY: `this` is never dropped nor used again, so each field is moved out once.
        let (object, counters) =
            unsafe { (ManuallyDrop::take(&mut this.object), std::ptr::read(&this.counters)) };
        drop(counters);
        Object::take(object)
    }
}

impl<M: Manager> Drop for ManagedPooled<M> {
    fn drop(&mut self) {
        // Out of use before the object is back: the high-water never counts it twice.
        self.counters.released();
        // SAFETY: dropped once, here; `self.object` is not used after.
        unsafe { ManuallyDrop::drop(&mut self.object) }
    }
}

impl<M: Manager> Deref for ManagedPooled<M> {
    type Target = M::Type;
    fn deref(&self) -> &M::Type {
        &self.object
    }
}

impl<M: Manager> DerefMut for ManagedPooled<M> {
    fn deref_mut(&mut self) -> &mut M::Type {
        &mut self.object
    }
}

impl<M: Manager> std::fmt::Debug for ManagedPooled<M>
where
    M::Type: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ManagedPooled").field(&**self).finish()
    }
}
