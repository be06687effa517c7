//! [`RwLock`] over `std::sync::RwLock`, and its guards.

use std::sync::{self, Arc, LockResult, PoisonError, TryLockError, TryLockResult};

use perfscope_core::{Kind, enter};

use super::stats::{LockStats, Shape, Site, now, since};

/// A `std::sync::RwLock` measured by perfscope (see the [module](crate::lock) documentation):
/// the same methods, poisoning included. Reads count in mode `shared`, writes in `exclusive`.
pub struct RwLock<T: ?Sized> {
    site: Arc<Site>,
    inner: sync::RwLock<T>,
}

/// Waits for `lock` under `frame`, in ticks.
#[inline(always)]
fn waited<G>(frame: &'static perfscope_core::Callsite, lock: impl FnOnce() -> G) -> (G, u64) {
    let start = now();
    let guard = enter(frame);
    let taken = lock();
    guard.finish();
    (taken, since(start))
}

impl<T> RwLock<T> {
    /// A lock holding `value`, measured under `name` (wait frames `lock::<name>::read` and
    /// `lock::<name>::write`, the figures' `lock` label).
    pub fn new(name: impl Into<String>, value: T) -> Self {
        let site = Site::new(name.into(), Shape::RwLock, Kind::Sync);
        RwLock { site, inner: sync::RwLock::new(value) }
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes the lock shared, blocking while a writer holds it (the wait a frame
    /// `lock::<name>::read`).
    #[inline]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let (taken, waited) = match self.inner.try_read() {
            Ok(guard) => (Ok(guard), None),
            Err(TryLockError::Poisoned(poisoned)) => (Err(poisoned), None),
            Err(TryLockError::WouldBlock) => self.wait_read(),
        };
        self.site.shared.acquired_shared(waited);
        let (site, since) = (&*self.site, now());
        match taken {
            Ok(inner) => Ok(RwLockReadGuard { inner, site, since }),
            Err(p) => Err(PoisonError::new(RwLockReadGuard { inner: p.into_inner(), site, since })),
        }
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::type_complexity)]
    fn wait_read(&self) -> (LockResult<sync::RwLockReadGuard<'_, T>>, Option<u64>) {
        let (taken, ticks) = waited(self.site.shared_frame, || self.inner.read());
        (taken, Some(ticks))
    }

    /// Takes the lock exclusively, blocking while others hold it (the wait a frame
    /// `lock::<name>::write`).
    #[inline]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let (taken, waited) = match self.inner.try_write() {
            Ok(guard) => (Ok(guard), None),
            Err(TryLockError::Poisoned(poisoned)) => (Err(poisoned), None),
            Err(TryLockError::WouldBlock) => self.wait_write(),
        };
        self.site.exclusive.acquired_exclusive(waited);
        let (site, since) = (&*self.site, now());
        match taken {
            Ok(inner) => Ok(RwLockWriteGuard { inner, site, since }),
            Err(p) => {
                Err(PoisonError::new(RwLockWriteGuard { inner: p.into_inner(), site, since }))
            }
        }
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::type_complexity)]
    fn wait_write(&self) -> (LockResult<sync::RwLockWriteGuard<'_, T>>, Option<u64>) {
        let (taken, ticks) = waited(self.site.exclusive_frame, || self.inner.write());
        (taken, Some(ticks))
    }

    /// Takes the lock shared if no writer holds it (never a wait, never a frame).
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let site = &*self.site;
        let guard = |inner| {
            site.shared.acquired_shared(None);
            RwLockReadGuard { inner, site, since: now() }
        };
        match self.inner.try_read() {
            Ok(inner) => Ok(guard(inner)),
            Err(TryLockError::Poisoned(p)) => {
                Err(TryLockError::Poisoned(PoisonError::new(guard(p.into_inner()))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    /// Takes the lock exclusively if no one holds it (never a wait, never a frame).
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let site = &*self.site;
        let guard = |inner| {
            site.exclusive.acquired_exclusive(None);
            RwLockWriteGuard { inner, site, since: now() }
        };
        match self.inner.try_write() {
            Ok(inner) => Ok(guard(inner)),
            Err(TryLockError::Poisoned(p)) => {
                Err(TryLockError::Poisoned(PoisonError::new(guard(p.into_inner()))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a writer panicked (std's `is_poisoned`).
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poison (std's `clear_poison`).
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// The value, through `&mut` (no locking).
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
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

super::guard_traits!(RwLockReadGuard);
super::guard_traits!(RwLockWriteGuard);
super::guard_mut!(RwLockWriteGuard);
super::lock_debug!(RwLock);
