//! The series of routes (server) and of hosts and URL templates (client): a map read without
//! a lock on every request (an [`ArcSwap`] of an immutable map) and copied under a lock when a
//! new key arrives, which happens at most the cap's number of times. Past the cap, every new
//! key shares the entry `(<other>, <other>)` and the cap's warning is published once
//! (`perfscope_core::caps`). Entries are leaked: they live as long as the process, as the
//! callsites of their frames do, and there are at most the cap's number plus one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex};

use arc_swap::ArcSwap;
use foldhash::fast::RandomState;
use perfscope_core::caps::CapWarning;
use perfscope_core::names::OVERFLOW;
use perfscope_core::sync::lock;

/// foldhash: seeded per process, several times faster than SipHash on short keys, and the
/// maps hold at most the cap's keys (no flooding to fear).
type Map<V> = HashMap<Box<str>, HashMap<Box<str>, &'static V, RandomState>, RandomState>;

/// Entries keyed by two strings (a route and `""`; a host and a URL template).
pub(crate) struct Table<V: 'static> {
    map: LazyLock<ArcSwap<Map<V>>>,
    /// Keys with entries of their own (the overflow entry not counted).
    len: AtomicUsize,
    insert: Mutex<()>,
    max: usize,
    warning: CapWarning,
    message: fn(usize) -> String,
}

impl<V: Sync + 'static> Table<V> {
    /// A table of at most `max` keys; `cap` names the cap in its warning, `message` says what
    /// was capped (given the cap).
    pub(crate) const fn new(cap: &'static str, max: usize, message: fn(usize) -> String) -> Self {
        Table {
            map: LazyLock::new(|| ArcSwap::from_pointee(HashMap::default())),
            len: AtomicUsize::new(0),
            insert: Mutex::new(()),
            max,
            warning: CapWarning::new(perfscope_core::names::section::HTTP, cap),
            message,
        }
    }

    /// The entry of `(outer, inner)`, made by `make(outer, inner)` (the labels it gets: the
    /// keys, or `<other>` for both past the cap) the first time.
    #[inline]
    pub(crate) fn get(&self, outer: &str, inner: &str, make: fn(&str, &str) -> V) -> &'static V {
        if let Some(entry) = self.find(outer, inner) {
            return entry;
        }
        if self.len.load(Relaxed) >= self.max
            && let Some(entry) = self.find(OVERFLOW, OVERFLOW)
        {
            return entry;
        }
        self.insert(outer, inner, make)
    }

    #[inline]
    fn find(&self, outer: &str, inner: &str) -> Option<&'static V> {
        self.map.load().get(outer).and_then(|m| m.get(inner)).copied()
    }

    #[cold]
    fn insert(&self, outer: &str, inner: &str, make: fn(&str, &str) -> V) -> &'static V {
        let _own = perfscope_core::alloc::suspend();
        let _insert = lock(&self.insert);
        let (outer, inner) = if self.len.load(Relaxed) >= self.max {
            let (max, message) = (self.max, self.message);
            self.warning.reached(max, || message(max));
            (OVERFLOW, OVERFLOW)
        } else {
            (outer, inner)
        };
        if let Some(entry) = self.find(outer, inner) {
            return entry;
        }
        let entry: &'static V = Box::leak(Box::new(make(outer, inner)));
        let mut map = Map::clone(&self.map.load());
        map.entry(outer.into()).or_default().insert(inner.into(), entry);
        self.map.store(Arc::new(map));
        if outer != OVERFLOW || inner != OVERFLOW {
            self.len.fetch_add(1, Relaxed);
        }
        entry
    }

    /// Calls `f` with every entry.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&'static V)) {
        for inner in self.map.load().values() {
            inner.values().for_each(|entry| f(entry));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_cap_new_keys_share_the_overflow_entry() {
        static TABLE: Table<(String, String)> =
            Table::new("test::MAX", 3, |max| format!("more than {max}"));
        let make = |a: &str, b: &str| (a.to_string(), b.to_string());
        let first = TABLE.get("a", "1", make);
        assert!(std::ptr::eq(first, TABLE.get("a", "1", make)));
        assert_eq!(TABLE.get("a", "2", make).1, "2");
        assert_eq!(TABLE.get("b", "1", make).0, "b");
        let past = TABLE.get("c", "1", make);
        assert_eq!(past, &(OVERFLOW.to_string(), OVERFLOW.to_string()));
        assert!(std::ptr::eq(past, TABLE.get("d", "9", make)));
        assert!(std::ptr::eq(first, TABLE.get("a", "1", make)), "admitted keys keep theirs");
        let mut n = 0;
        TABLE.for_each(|_| n += 1);
        assert_eq!(n, 4);
        assert!(TABLE.warning.is_published());
    }
}
