//! [`Mutex`] and [`RwLock`] over `parking_lot`'s (feature `locks-parking-lot`), and their
//! guards: the same names and methods, so a `use` is the only change.

use std::sync::Arc;
use std::time::Duration;

use perfscope_core::{Callsite, Kind, enter};

use super::stats::{LockStats, Shape, Site, now, since};

/// Waits for `lock` under `frame`: what it gave, and the ticks waited.
#[cold]
#[inline(never)]
fn waited<G>(frame: &'static Callsite, lock: impl FnOnce() -> G) -> (G, Option<u64>) {
    let start = now();
    let guard = enter(frame);
    let taken = lock();
    guard.finish();
    (taken, Some(since(start)))
}

/// A `parking_lot::Mutex` measured by perfscope (see the [module](crate::lock)
/// documentation): the same methods.
pub struct Mutex<T: ?Sized> {
    site: Arc<Site>,
    inner: ::parking_lot::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`, measured under `name` (its wait frame `lock::<name>::lock`).
    pub fn new(name: impl Into<String>, value: T) -> Self {
        let site = Site::new(name.into(), Shape::Mutex, Kind::Sync);
        Mutex { site, inner: ::parking_lot::Mutex::new(value) }
    }

    /// The value, the mutex consumed.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the lock, blocking while another thread holds it (the wait a frame
    /// `lock::<name>::lock` on this thread's stack).
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let (inner, waited) = match self.inner.try_lock() {
            Some(guard) => (guard, None),
            None => waited(self.site.exclusive_frame, || self.inner.lock()),
        };
        self.guard(inner, waited)
    }

    #[inline(always)]
    fn guard<'a>(
        &'a self,
        inner: ::parking_lot::MutexGuard<'a, T>,
        waited: Option<u64>,
    ) -> MutexGuard<'a, T> {
        self.site.exclusive.acquired_exclusive(waited);
        MutexGuard { inner, site: &self.site, since: now() }
    }

    /// Takes the lock if no one holds it (never a wait, never a frame).
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.try_lock().map(|inner| self.guard(inner, None))
    }

    /// Takes the lock, waiting at most `timeout` (the wait a frame).
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        let (inner, waited) = match self.inner.try_lock() {
            Some(guard) => (Some(guard), None),
            None => waited(self.site.exclusive_frame, || self.inner.try_lock_for(timeout)),
        };
        inner.map(|inner| self.guard(inner, waited))
    }

    /// Whether someone holds the lock now.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
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

/// The lock of a [`Mutex`], held until dropped: derefs to `T`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    inner: ::parking_lot::MutexGuard<'a, T>,
    site: &'a Site,
    since: u64,
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.site.exclusive.released_exclusive(since(self.since));
    }
}

/// A `parking_lot::RwLock` measured by perfscope (see the [module](crate::lock)
/// documentation). Reads count in mode `shared`, writes in `exclusive`.
pub struct RwLock<T: ?Sized> {
    site: Arc<Site>,
    inner: ::parking_lot::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A lock holding `value`, measured under `name` (wait frames `lock::<name>::read` and
    /// `lock::<name>::write`).
    pub fn new(name: impl Into<String>, value: T) -> Self {
        let site = Site::new(name.into(), Shape::RwLock, Kind::Sync);
        RwLock { site, inner: ::parking_lot::RwLock::new(value) }
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes the lock shared, blocking while a writer holds it (the wait a frame
    /// `lock::<name>::read`).
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let (inner, waited) = match self.inner.try_read() {
            Some(guard) => (guard, None),
            None => waited(self.site.shared_frame, || self.inner.read()),
        };
        self.site.shared.acquired_shared(waited);
        RwLockReadGuard { inner, site: &self.site, since: now() }
    }

    /// Takes the lock exclusively, blocking while others hold it (the wait a frame
    /// `lock::<name>::write`).
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let (inner, waited) = match self.inner.try_write() {
            Some(guard) => (guard, None),
            None => waited(self.site.exclusive_frame, || self.inner.write()),
        };
        self.site.exclusive.acquired_exclusive(waited);
        RwLockWriteGuard { inner, site: &self.site, since: now() }
    }

    /// Takes the lock shared if no writer holds it (never a wait).
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let inner = self.inner.try_read()?;
        self.site.shared.acquired_shared(None);
        Some(RwLockReadGuard { inner, site: &self.site, since: now() })
    }

    /// Takes the lock exclusively if no one holds it (never a wait).
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let inner = self.inner.try_write()?;
        self.site.exclusive.acquired_exclusive(None);
        Some(RwLockWriteGuard { inner, site: &self.site, since: now() })
    }

    /// Whether someone holds the lock now.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
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
    inner: ::parking_lot::RwLockReadGuard<'a, T>,
    site: &'a Site,
    since: u64,
}

/// An exclusive hold of a [`RwLock`]: derefs to `T`, mutably.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: ::parking_lot::RwLockWriteGuard<'a, T>,
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
