//! [`Mutex`] over `std::sync::Mutex`, and [`MutexGuard`].

use std::sync::{self, Arc, LockResult, PoisonError, TryLockError, TryLockResult};

use perfscope_core::{Kind, enter};

use super::stats::{LockStats, Shape, Site, now, since};

/// A `std::sync::Mutex` measured by perfscope (see the [module](crate::lock) documentation):
/// the same methods, poisoning included.
pub struct Mutex<T: ?Sized> {
    site: Arc<Site>,
    inner: sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`, measured under `name` (its wait frame `lock::<name>::lock`,
    /// the figures' `lock` label).
    pub fn new(name: impl Into<String>, value: T) -> Self {
        Mutex {
            site: Site::new(name.into(), Shape::Mutex, Kind::Sync),
            inner: sync::Mutex::new(value),
        }
    }

    /// The value, the mutex consumed (std's `into_inner`).
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the lock, blocking while another thread holds it (the wait a frame
    /// `lock::<name>::lock` on this thread's stack).
    #[inline]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let (taken, waited) = match self.inner.try_lock() {
            Ok(guard) => (Ok(guard), None),
            Err(TryLockError::Poisoned(poisoned)) => (Err(poisoned), None),
            Err(TryLockError::WouldBlock) => self.wait(),
        };
        self.site.exclusive.acquired_exclusive(waited);
        let since = now();
        let site = &*self.site;
        match taken {
            Ok(inner) => Ok(MutexGuard { inner, site, since }),
            Err(p) => Err(PoisonError::new(MutexGuard { inner: p.into_inner(), site, since })),
        }
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::type_complexity)]
    fn wait(&self) -> (LockResult<sync::MutexGuard<'_, T>>, Option<u64>) {
        let start = now();
        let frame = enter(self.site.exclusive_frame);
        let taken = self.inner.lock();
        frame.finish();
        (taken, Some(since(start)))
    }

    /// Takes the lock if no one holds it (std's `try_lock`; never a wait, never a frame).
    #[inline]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let site = &*self.site;
        let guard = |inner| {
            site.exclusive.acquired_exclusive(None);
            MutexGuard { inner, site, since: now() }
        };
        match self.inner.try_lock() {
            Ok(inner) => Ok(guard(inner)),
            Err(TryLockError::Poisoned(p)) => {
                Err(TryLockError::Poisoned(PoisonError::new(guard(p.into_inner()))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a holder panicked (std's `is_poisoned`).
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poison (std's `clear_poison`).
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// The value, through `&mut` (no locking; std's `get_mut`).
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
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

/// The lock of a [`Mutex`], held until dropped: derefs to `T`; its hold time is counted when
/// it is dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    inner: sync::MutexGuard<'a, T>,
    site: &'a Site,
    since: u64,
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Before `inner` unlocks: still the only writer.
        self.site.exclusive.released_exclusive(since(self.since));
    }
}

super::guard_traits!(MutexGuard);
super::guard_mut!(MutexGuard);
super::lock_debug!(Mutex);
