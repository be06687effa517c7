//! Callsites named at run time: what `perfscope::scope(name)`, `perfscope::time(name, ..)` and
//! `perfscope::measured(name, ..)` measure under, when the name is not a literal the macros
//! can put in a `static`.
//!
//! Each distinct (name, kind) gets one callsite, leaked once ([`Box::leak`]) and kept for the
//! process's life; at most [`MAX_SCOPE_NAMES`] of them, later names share one `<other>`
//! callsite of their kind (and a cap warning is published once). Finding the callsite of a
//! name costs, on the calling thread, one probe of a 64-entry thread-local table indexed by
//! the name's address and checked by comparing the name's bytes: no lock, no hashing of the
//! name. When that misses (a name made anew at another address each time), a second
//! thread-local table indexed by a hash of the name's bytes is probed; a name found in
//! neither (the first time on a thread, or evicted) takes the global table's lock.
//!
//! ```
//! use perfscope_core::{Kind, enter, named};
//!
//! for shard in ["eu", "us", "eu"] {
//!     let name = format!("load::{shard}");
//!     let _guard = enter(named(&name, Kind::Sync, std::panic::Location::caller()));
//! }
//! let snap = perfscope_core::snapshot();
//! let eu = snap.callsites.iter().find(|c| &*c.info.name == "load::eu").unwrap();
//! assert_eq!(eu.calls, 2);
//! ```

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::{LazyLock, Mutex};

use crate::callsite::{Callsite, CallsiteName, Kind};
use crate::caps::CapWarning;
use crate::names::{OVERFLOW, section};
use crate::sync::lock;

/// The most distinct run-time names (of each kind together) that get a callsite of their
/// own; later ones are counted under `<other>`.
pub const MAX_SCOPE_NAMES: usize = 4096;

const CACHE: usize = 64;

type Cached = Option<(&'static str, Kind, &'static Callsite)>;

thread_local! {
    /// Name address → callsite; entries are `Copy`, so the table needs no destructor and is
    /// reachable even while the thread exits.
    static RECENT: [Cell<Cached>; CACHE] = const { [const { Cell::new(None) }; CACHE] };
    /// Name bytes (hashed) → callsite: the second look, for a name made anew at another
    /// address each time (`&format!(..)` in a loop), before the global table's lock.
    static BY_BYTES: [Cell<Cached>; CACHE] = const { [const { Cell::new(None) }; CACHE] };
}

static OTHER_SYNC: Callsite =
    Callsite::new(CallsiteName::Static(OVERFLOW), Kind::Sync, "perfscope", "", 0);
static OTHER_ASYNC: Callsite =
    Callsite::new(CallsiteName::Static(OVERFLOW), Kind::Async, "perfscope", "", 0);

/// Every run-time name's callsites (sync, async), and how many callsites that is.
#[derive(Default)]
struct Table {
    by_name: HashMap<&'static str, [Option<&'static Callsite>; 2]>,
    callsites: usize,
}
static TABLE: LazyLock<Mutex<Table>> = LazyLock::new(|| Mutex::new(Table::default()));

#[inline(always)]
fn entry_of(name: &str) -> usize {
    // Fibonacci hashing of the address (names made at run time are at least 1-aligned).
    ((name.as_ptr() as usize).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % CACHE
}

/// The callsite of run-time name `name` and `kind` (a `Sync` block or an `Async` future),
/// registered on first use with `location` (the first caller's file and line).
#[inline]
pub fn named(name: &str, kind: Kind, location: &'static Location<'static>) -> &'static Callsite {
    let at = entry_of(name);
    let hit = RECENT.with(|recent| match recent[at].get() {
        Some((known, k, site)) if k == kind && known == name => Some(site),
        _ => None,
    });
    match hit {
        Some(site) => site,
        None => named_cold(name, kind, location, at),
    }
}

/// FNV-1a of the name's bytes, folded to a table entry.
fn entry_of_bytes(name: &str) -> usize {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash >> 32) as usize % CACHE
}

#[cold]
#[inline(never)]
fn named_cold(
    name: &str,
    kind: Kind,
    location: &'static Location<'static>,
    at: usize,
) -> &'static Callsite {
    let by_bytes = entry_of_bytes(name);
    let seen = BY_BYTES.with(|table| match table[by_bytes].get() {
        Some(entry @ (known, k, _)) if k == kind && known == name => Some(entry),
        _ => None,
    });
    if let Some(entry @ (_, _, site)) = seen {
        RECENT.with(|recent| recent[at].set(Some(entry)));
        return site;
    }
    let _own = crate::alloc::suspend();
    #[cfg(test)]
    tests::LOCKED.with(|n| n.set(n.get() + 1));
    let mut table = lock(&TABLE);
    let which = usize::from(kind == Kind::Async);
    let known = table.by_name.get_key_value(name).map(|(&known, sites)| (known, sites[which]));
    let (known, site) = match known {
        Some((known, Some(site))) => (known, site),
        known if table.callsites < MAX_SCOPE_NAMES => {
            let known: &'static str = match known {
                Some((known, None)) => known,
                _ => Box::leak(name.into()),
            };
            let module = known.rsplit_once("::").map_or("", |(module, _)| module);
            let site: &'static Callsite = Box::leak(Box::new(Callsite::new(
                CallsiteName::Static(known),
                kind,
                module,
                location.file(),
                location.line(),
            )));
            table.by_name.entry(known).or_default()[which] = Some(site);
            table.callsites += 1;
            (known, site)
        }
        _ => {
            static CAP: CapWarning =
                CapWarning::new(section::FUNCTION, "perfscope_core::MAX_SCOPE_NAMES");
            CAP.reached(MAX_SCOPE_NAMES, || {
                format!(
                    "More than {MAX_SCOPE_NAMES} distinct names given at run time to \
                     `perfscope::scope`, `time` or `measured`: later ones are counted under \
                     `{OVERFLOW}`. The cap is fixed; name blocks from a small set (values \
                     belong in fields, not names)."
                )
            });
            // Not cached: the table entry keeps serving the name it holds.
            return match kind {
                Kind::Async => &OTHER_ASYNC,
                _ => &OTHER_SYNC,
            };
        }
    };
    drop(table);
    RECENT.with(|recent| recent[at].set(Some((known, kind, site))));
    BY_BYTES.with(|table| table[by_bytes].set(Some((known, kind, site))));
    site
}

/// Callsites registered for run-time names so far, of both kinds (for tests and
/// diagnostics).
pub fn scope_names() -> usize {
    lock(&TABLE).callsites
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Times this thread took the global table's lock.
        pub(super) static LOCKED: Cell<usize> = const { Cell::new(0) };
    }

    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn one_callsite_per_name_and_kind_whatever_the_address() {
        let a = named("named::tests::a", Kind::Sync, here());
        let copy = String::from("named::tests::a");
        assert!(std::ptr::eq(a, named(&copy, Kind::Sync, here())));
        assert!(!std::ptr::eq(a, named("named::tests::a", Kind::Async, here())));
        let info = crate::callsite_info(a.id()).expect("registered");
        assert_eq!((&*info.name, &*info.module_path), ("named::tests::a", "named::tests"));
        assert_eq!(info.file.as_ref(), file!());
    }

    #[test]
    fn a_name_at_a_new_address_each_time_is_found_without_the_global_table() {
        let first = named("named::tests::moving", Kind::Sync, here());
        let names: Vec<String> = (0..100).map(|_| "named::tests::moving".to_owned()).collect();
        // All alive at once: 100 addresses. The bytes' table serves them, without the lock.
        let locked = LOCKED.with(Cell::get);
        for name in &names {
            assert!(std::ptr::eq(named(name, Kind::Sync, here()), first));
        }
        assert_eq!(LOCKED.with(Cell::get), locked, "the global table was not consulted");
    }

    #[test]
    fn a_reused_address_with_other_bytes_is_another_name() {
        // One buffer, two contents: the table entry's address matches, its bytes do not.
        let mut buffer = String::from("named::tests::x1");
        let first = named(&buffer, Kind::Sync, here());
        buffer.replace_range(15.., "2");
        let second = named(&buffer, Kind::Sync, here());
        assert!(!std::ptr::eq(first, second));
        let name = |site: &'static Callsite| crate::callsite_info(site.id()).unwrap().name;
        assert_eq!((&*name(first), &*name(second)), ("named::tests::x1", "named::tests::x2"));
    }
}
