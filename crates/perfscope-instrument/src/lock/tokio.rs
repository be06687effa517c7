//! [`Mutex`] and [`RwLock`] over `tokio::sync`'s (feature `locks-tokio`), and their guards: the
//! same names and methods, so a `use` is the only change. A wait is an async frame: its idle
//! time is the wait, and the waiting task's polls (its self time) exclude it.

use std::future::Future;
use std::sync::Arc;

use ::tokio::sync::{self, TryLockError};
use perfscope_core::{Callsite, Kind, instrument};

use super::stats::{LockStats, Shape, Site, now, since};

/// Waits for `lock` under `frame`: what it gave, and the ticks waited.
async fn waited<G>(frame: &'static Callsite, lock: impl Future<Output = G>) -> (G, Option<u64>) {
    let start = now();
    let taken = instrument(frame, lock).await;
    (taken, Some(since(start)))
}

/// A `tokio::sync::Mutex` measured by perfscope (see the [module](crate::lock)
/// documentation): the same methods.
pub struct Mutex<T: ?Sized> {
    site: Arc<Site>,
    inner: sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`, measured under `name` (its wait frame `lock::<name>::lock`).
    pub fn new(name: impl Into<String>, value: T) -> Self {
        let site = Site::new(name.into(), Shape::Mutex, Kind::Async);
        Mutex { site, inner: sync::Mutex::new(value) }
    }

    /// The value, the mutex consumed.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the lock, waiting while another task holds it (the wait an async frame
    /// `lock::<name>::lock` under the waiting task's frame).
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let (inner, waited) = match self.inner.try_lock() {
            Ok(guard) => (guard, None),
            Err(_) => waited(self.site.exclusive_frame, self.inner.lock()).await,
        };
        self.guard(inner, waited)
    }

    #[inline(always)]
    fn guard<'a>(
        &'a self,
        inner: sync::MutexGuard<'a, T>,
        waited: Option<u64>,
    ) -> MutexGuard<'a, T> {
        self.site.exclusive.acquired_exclusive(waited);
        MutexGuard { inner, site: &self.site, since: now() }
    }

    /// Takes the lock if no one holds it (never a wait, never a frame).
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.inner.try_lock().map(|inner| self.guard(inner, None))
    }

    /// Takes the lock from sync code outside a runtime, blocking the thread (tokio's
    /// `blocking_lock`, and like it, panics inside an async context).
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let (inner, waited) = match self.inner.try_lock() {
            Ok(guard) => (guard, None),
            Err(_) => {
                let start = now();
                let frame = perfscope_core::enter(self.site.exclusive_frame);
                let guard = self.inner.blocking_lock();
                frame.finish();
                (guard, Some(since(start)))
            }
        };
        self.guard(inner, waited)
    }

    /// The value, through `&mut` (no locking).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The name the lock is measured under.
    pub fn name(&self) -> &str {
        self.site.name()
    }

    /// The counts so far.
    pub fn stats(&self) -> LockStats {
        self.site.exclusive_stats()
    }
}

/// The lock of a [`Mutex`], held until dropped (across `.await`s too): derefs to `T`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    inner: sync::MutexGuard<'a, T>,
    site: &'a Site,
    since: u64,
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.site.exclusive.released_exclusive(since(self.since));
    }
}

/// A `tokio::sync::RwLock` measured by perfscope (see the [module](crate::lock)
/// documentation). Reads count in mode `shared`, writes in `exclusive`.
pub struct RwLock<T: ?Sized> {
    site: Arc<Site>,
    inner: sync::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A lock holding `value`, measured under `name` (wait frames `lock::<name>::read` and
    /// `lock::<name>::write`).
    pub fn new(name: impl Into<String>, value: T) -> Self {
        let site = Site::new(name.into(), Shape::RwLock, Kind::Async);
        RwLock { site, inner: sync::RwLock::new(value) }
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes the lock shared, waiting while a writer holds or waits for it (the wait an async
    /// frame `lock::<name>::read`).
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        let (inner, waited) = match self.inner.try_read() {
            Ok(guard) => (guard, None),
            Err(_) => waited(self.site.shared_frame, self.inner.read()).await,
        };
        self.site.shared.acquired_shared(waited);
        RwLockReadGuard { inner, site: &self.site, since: now() }
    }

    /// Takes the lock exclusively, waiting while others hold it (the wait an async frame
    /// `lock::<name>::write`).
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let (inner, waited) = match self.inner.try_write() {
            Ok(guard) => (guard, None),
            Err(_) => waited(self.site.exclusive_frame, self.inner.write()).await,
        };
        self.site.exclusive.acquired_exclusive(waited);
        RwLockWriteGuard { inner, site: &self.site, since: now() }
    }

    /// Takes the lock shared if no writer holds it (never a wait).
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let inner = self.inner.try_read()?;
        self.site.shared.acquired_shared(None);
        Ok(RwLockReadGuard { inner, site: &self.site, since: now() })
    }

    /// Takes the lock exclusively if no one holds it (never a wait).
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let inner = self.inner.try_write()?;
        self.site.exclusive.acquired_exclusive(None);
        Ok(RwLockWriteGuard { inner, site: &self.site, since: now() })
    }

    /// The value, through `&mut` (no locking).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The name the lock is measured under.
    pub fn name(&self) -> &str {
        self.site.name()
    }

    /// The counts of writes so far (mode `exclusive`).
    pub fn write_stats(&self) -> LockStats {
        self.site.exclusive_stats()
    }

    /// The counts of reads so far (mode `shared`).
    pub fn read_stats(&self) -> LockStats {
        self.site.shared_stats()
    }
}

/// A shared hold of a [`RwLock`]: derefs to `T`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    inner: sync::RwLockReadGuard<'a, T>,
    site: &'a Site,
    since: u64,
}

/// An exclusive hold of a [`RwLock`]: derefs to `T`, mutably.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: sync::RwLockWriteGuard<'a, T>,
    site: &'a Site,
    since: u64,
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.site.shared.released_shared(since(self.since));
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.site.exclusive.released_exclusive(since(self.since));
    }
}

super::lock_debug!(Mutex);
super::lock_debug!(RwLock);
super::guard_traits!(MutexGuard);
super::guard_mut!(MutexGuard);
super::guard_traits!(RwLockReadGuard);
super::guard_traits!(RwLockWriteGuard);
super::guard_mut!(RwLockWriteGuard);
