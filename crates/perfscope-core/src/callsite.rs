//! Callsites: the static identity of a measured function or a tracing span, each given a dense
//! integer id on first use from a global append-only table.
//!
//! After the first call the hot path only does one relaxed load of the id: no lock, no hashing.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

/// The most callsites one process can register; later ones share [`OVERFLOW_ID`].
pub const MAX_CALLSITES: usize = 1 << 16;

/// The id every callsite past [`MAX_CALLSITES`] is counted under (shown as
/// `<callsite overflow>`; see [`refused_callsites`]).
pub const OVERFLOW_ID: u32 = 1;

/// How a callsite's name is known.
#[derive(Debug, Clone, Copy)]
pub enum CallsiteName {
    /// A fixed name, e.g. from `#[measure(name = "...")]`.
    Static(&'static str),
    /// A function returning `std::any::type_name` of a marker item nested in the measured
    /// function; the last `::segment` (the marker) is stripped at registration.
    TypePath(fn() -> &'static str),
}

/// What kind of code a callsite measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A synchronous function: one frame per call.
    Sync,
    /// A future: one frame per poll, one call per completion.
    Async,
    /// A tracing span: one frame per enter/exit, one call per close.
    Span,
}

/// The static callsite of one measured function. `#[measure]` puts one in a `static`.
#[derive(Debug)]
pub struct Callsite {
    id: AtomicU32,
    name: CallsiteName,
    kind: Kind,
    module_path: &'static str,
    file: &'static str,
    line: u32,
}

impl Callsite {
    /// A callsite, registered lazily on first use.
    pub const fn new(
        name: CallsiteName,
        kind: Kind,
        module_path: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Callsite { id: AtomicU32::new(0), name, kind, module_path, file, line }
    }

    /// The callsite's dense id, registering it on first use.
    #[inline(always)]
    pub fn id(&'static self) -> u32 {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 { id } else { self.register() }
    }

    /// What kind of code the callsite measures.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> u32 {
        let _own = crate::alloc::suspend();
        let _lock = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 {
            return id;
        }
        let name: &'static str = match self.name {
            CallsiteName::Static(name) => name,
            CallsiteName::TypePath(f) => strip_marker(f()),
        };
        let id = push(CallsiteInfo {
            name: name.into(),
            module_path: self.module_path.into(),
            file: self.file.into(),
            line: self.line,
            kind: self.kind,
        });
        self.id.store(id, Ordering::Relaxed);
        id
    }
}

/// A callsite as readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallsiteInfo {
    /// Full name, e.g. `my_crate::scan::rsi` or `<my_crate::Feed as my_crate::Source>::next`.
    pub name: Box<str>,
    /// `module_path!()` where the callsite is defined.
    pub module_path: Box<str>,
    /// Source file.
    pub file: Box<str>,
    /// Source line.
    pub line: u32,
    /// What the callsite measures.
    pub kind: Kind,
}

static REGISTER: Mutex<()> = Mutex::new(());
static TABLE: OnceLock<RwLock<Vec<CallsiteInfo>>> = OnceLock::new();

fn table() -> &'static RwLock<Vec<CallsiteInfo>> {
    TABLE.get_or_init(|| {
        let reserved = |name: &str| CallsiteInfo {
            name: name.into(),
            module_path: "perfscope".into(),
            file: "".into(),
            line: 0,
            kind: Kind::Sync,
        };
        // Id 0 means "not registered yet"; id 1 is the overflow bucket.
        RwLock::new(vec![reserved("<unregistered>"), reserved("<callsite overflow>")])
    })
}

/// Registers a callsite that has no `static` (e.g. a tracing span's), returning its id.
/// Callers are expected to cache the id; past [`MAX_CALLSITES`] this returns [`OVERFLOW_ID`].
pub fn register_dynamic(info: CallsiteInfo) -> u32 {
    let _own = crate::alloc::suspend();
    let _lock = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
    push(info)
}

fn push(info: CallsiteInfo) -> u32 {
    let mut table = table().write().unwrap_or_else(|e| e.into_inner());
    if table.len() >= MAX_CALLSITES {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        static CAP: crate::caps::CapWarning = crate::caps::CapWarning::new(
            crate::names::section::FUNCTION,
            "perfscope_core::MAX_CALLSITES",
        );
        CAP.reached(MAX_CALLSITES, || {
            format!(
                "More than {MAX_CALLSITES} callsites (measured functions and span names): later \
                 ones are counted under `<callsite overflow>`. The table's size is fixed; \
                 measure fewer distinct names (e.g. span names built at run time)."
            )
        });
        return OVERFLOW_ID;
    }
    table.push(info);
    (table.len() - 1) as u32
}

static OVERFLOWED: AtomicU64 = AtomicU64::new(0);
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Callsites (measured functions, span names) that found the callsite table full and are
/// counted under [`OVERFLOW_ID`] since start-up (the table never empties, so `reset` keeps it).
pub fn refused_callsites() -> u64 {
    REFUSED.load(Ordering::Relaxed)
}

/// Counts one call (e.g. a tracing span) sent to [`OVERFLOW_ID`] because a cardinality cap was
/// reached; reports show the total as a warning.
pub fn count_overflow() {
    if crate::OFF {
        return;
    }
    OVERFLOWED.fetch_add(1, Ordering::Relaxed);
}

/// Calls counted by [`count_overflow`] since start-up or the last [`crate::reset`].
pub fn overflowed() -> u64 {
    OVERFLOWED.load(Ordering::Relaxed)
}

/// Zeroes [`overflowed`] (by [`crate::reset`], with the `<other>` row it counts).
pub(crate) fn reset_overflowed() {
    OVERFLOWED.store(0, Ordering::Relaxed);
}

/// Information on the callsite with id `id`, if registered.
pub fn info(id: u32) -> Option<CallsiteInfo> {
    table().read().unwrap_or_else(|e| e.into_inner()).get(id as usize).cloned()
}

/// Calls `f` with the whole callsite table (index = id).
pub fn with_table<R>(f: impl FnOnce(&[CallsiteInfo]) -> R) -> R {
    f(&table().read().unwrap_or_else(|e| e.into_inner()))
}

/// `std::any::type_name` of a value's type; `#[measure]` uses it to name a callsite.
pub fn type_name_of<T>(_: T) -> &'static str {
    std::any::type_name::<T>()
}

fn strip_marker(path: &'static str) -> &'static str {
    let path = path.rsplit_once("::").map_or(path, |(head, _)| head);
    path.strip_suffix("::{{closure}}").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_path_names_drop_the_marker() {
        fn marker() -> &'static str {
            type_name_of(marker)
        }
        static CS: Callsite =
            Callsite::new(CallsiteName::TypePath(marker), Kind::Sync, module_path!(), file!(), 1);
        let id = CS.id();
        assert_eq!(id, CS.id());
        let info = info(id).unwrap();
        assert_eq!(&*info.name, "perfscope_core::callsite::tests::type_path_names_drop_the_marker");
    }

    #[test]
    fn ids_are_dense_and_stable() {
        static A: Callsite =
            Callsite::new(CallsiteName::Static("a"), Kind::Sync, module_path!(), file!(), 1);
        static B: Callsite =
            Callsite::new(CallsiteName::Static("b"), Kind::Async, module_path!(), file!(), 2);
        let (a, b) = (A.id(), B.id());
        assert_ne!(a, b);
        assert!(a > OVERFLOW_ID && b > OVERFLOW_ID);
        assert_eq!(&*info(b).unwrap().name, "b");
        assert_eq!(info(b).unwrap().kind, Kind::Async);
    }
}
